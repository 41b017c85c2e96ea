//! Request extractors whose rejections are [`ApiError`]s, so a malformed body or query
//! string gets the same JSON error shape as every other client error.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_domain::input::Record;
use std::collections::BTreeMap;

/// A JSON object body.
pub struct JsonObject(pub Record);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        parse_object(&body_bytes(req, state).await?).map(JsonObject)
    }
}

/// A JSON object body that may be left out (an empty body reads as `{}`).
pub struct MaybeObject(pub Record);

impl<S: Send + Sync> FromRequest<S> for MaybeObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(MaybeObject(Record::new()));
        }
        parse_object(&bytes).map(MaybeObject)
    }
}

/// A JSON body that may be any value (a list, for endpoints that replace a set).
pub struct JsonBody(pub serde_json::Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(
                Code::EMPTY_BODY,
                "请求体为空，应为 JSON",
                "the request body is empty; JSON is expected",
            ));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            ApiError::bad_request(
                Code::INVALID_JSON,
                format!("JSON 格式错误：{e}"),
                format!("invalid JSON: {e}"),
            )
        })
    }
}

/// The whole body, within the router's limit.
async fn body_bytes<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::bad_request(
                    Code::BODY_TOO_LARGE,
                    "请求体过大",
                    "request body is too large",
                )
            } else {
                ApiError::bad_request(
                    Code::INVALID_BODY,
                    format!("无法读取请求体：{e}"),
                    format!("cannot read the request body: {e}"),
                )
            }
        })
}

/// Parses bytes as one JSON object.
pub fn parse_object(bytes: &[u8]) -> Result<Record, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            Code::EMPTY_BODY,
            "请求体为空，应为 JSON 对象",
            "the request body is empty; a JSON object is expected",
        ));
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request(
            Code::INVALID_JSON,
            "请求体应为 JSON 对象",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(
            Code::INVALID_JSON,
            format!("JSON 格式错误：{e}"),
            format!("invalid JSON: {e}"),
        )),
    }
}

/// Query-string parameters, with helpers that validate and remember which were read so
/// unknown parameters (usually typos) can be refused.
pub struct Params {
    map: BTreeMap<String, String>,
    used: std::collections::BTreeSet<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::from_query(parts.uri.query().unwrap_or(""))?)
    }
}

impl Params {
    /// Parses a query string (without the `?`); a parameter given twice is refused.
    pub fn from_query(q: &str) -> Result<Params, AppError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).map_err(|e| {
            AppError::bad_request(
                Code::INVALID_QUERY_STRING,
                format!("查询参数格式错误：{e}"),
                format!("malformed query string: {e}"),
            )
        })?;
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            if map.insert(k.clone(), v).is_some() {
                return Err(AppError::bad_request(
                    Code::DUPLICATE_PARAMETER,
                    format!("参数 {k} 重复"),
                    format!("parameter {k} is given twice"),
                ));
            }
        }
        Ok(Params {
            map,
            used: Default::default(),
        })
    }

    /// A string parameter; empty counts as absent.
    pub fn str(&mut self, name: &str) -> Option<String> {
        self.used.insert(name.to_string());
        self.map
            .get(name)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// An integer in a range, or the default.
    pub fn int(&mut self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, AppError> {
        match self.str(name) {
            None => Ok(default),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(AppError::bad_request(
                    Code::INVALID_PARAMETER,
                    format!("参数 {name} 应为 {min} 到 {max} 之间的整数，收到“{s}”"),
                    format!("parameter {name} must be an integer from {min} to {max}, got '{s}'"),
                )),
            },
        }
    }

    /// One of a closed set of values.
    pub fn choice(&mut self, name: &str, allowed: &[&str]) -> Result<Option<String>, AppError> {
        match self.str(name) {
            None => Ok(None),
            Some(s) if allowed.contains(&s.as_str()) => Ok(Some(s)),
            Some(s) => Err(AppError::bad_request(
                Code::INVALID_PARAMETER,
                format!("参数 {name} 的取值“{s}”无效，可选：{}", allowed.join(", ")),
                format!(
                    "parameter {name} '{s}' is not one of: {}",
                    allowed.join(", ")
                ),
            )),
        }
    }

    /// Refuses parameters nobody read.
    pub fn finish(self) -> Result<(), AppError> {
        if let Some(k) = self.map.keys().find(|k| !self.used.contains(*k)) {
            return Err(AppError::bad_request(
                Code::UNKNOWN_PARAMETER,
                format!("未知参数“{k}”"),
                format!("unknown parameter '{k}'"),
            ));
        }
        Ok(())
    }
}

/// A numeric id from the path.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|e| {
                    ApiError::bad_request(
                        Code::INVALID_PATH,
                        format!("路径无效：{e}"),
                        format!("invalid path: {e}"),
                    )
                })?;
        match raw.parse::<i64>() {
            Ok(n) if n > 0 => Ok(Id(n)),
            _ => Err(ApiError::bad_request(
                Code::INVALID_ID,
                format!("编号“{raw}”无效，应为正整数"),
                format!("id '{raw}' is not a positive integer"),
            )),
        }
    }
}

/// Two numeric ids from the path: the event and a sub-resource.
pub struct Ids(pub i64, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Ids {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path((a, b)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|e| {
                    ApiError::bad_request(
                        Code::INVALID_PATH,
                        format!("路径无效：{e}"),
                        format!("invalid path: {e}"),
                    )
                })?;
        let parse = |raw: &str| match raw.parse::<i64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ApiError::bad_request(
                Code::INVALID_ID,
                format!("编号“{raw}”无效，应为正整数"),
                format!("id '{raw}' is not a positive integer"),
            )),
        };
        Ok(Ids(parse(&a)?, parse(&b)?))
    }
}
