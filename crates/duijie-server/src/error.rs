//! The API's one error type. Every client error becomes a 4xx with
//! `{"error": {"code", "message", "fields"?}}` (message `中文 / English`); server-side
//! failures are logged with their cause and answered with a generic 500 or 503.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use duijie_domain::FieldErrors;
use duijie_index::IndexError;
use duijie_store::StoreError;
use serde_json::json;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed request (bad JSON, bad parameter).
    #[error("{code}: {message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// `中文 / English`.
        message: String,
    },
    /// 422: well-formed but invalid fields.
    #[error("validation failed: {0}")]
    Validation(FieldErrors),
    /// 401: no valid credentials where they are needed.
    #[error("{code}: {message}")]
    Unauthorized {
        /// Stable code.
        code: &'static str,
        /// `中文 / English`.
        message: String,
    },
    /// 403: signed in, but not allowed to do this.
    #[error("{code}: {message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// `中文 / English`.
        message: String,
    },
    /// 429: too many attempts.
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// 409.
    #[error("{code}: {message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// `中文 / English`.
        message: String,
    },
    /// 415: body format not supported.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 503: the storage is full, read-only or failing; the write was not made.
    #[error("storage: {0}")]
    Storage(String),
    /// 503: the write was saved, but the search index could not follow in time (a full
    /// disk, typically); it catches up by itself once it can write again.
    #[error("index behind: {0}")]
    IndexBehind(String),
    /// 503: the database is unreachable; the request can be retried.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or an environment problem; logged, not shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 with a bilingual message.
    pub fn bad_request(code: &'static str, zh: impl AsRef<str>, en: impl AsRef<str>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: format!("{} / {}", zh.as_ref(), en.as_ref()),
        }
    }

    /// A 403 with a bilingual message.
    pub fn forbidden(zh: impl AsRef<str>, en: impl AsRef<str>) -> ApiError {
        ApiError::Forbidden {
            code: "forbidden",
            message: format!("{} / {}", zh.as_ref(), en.as_ref()),
        }
    }

    /// The 401 of a request that must be signed in.
    pub fn unauthenticated() -> ApiError {
        ApiError::Unauthorized {
            code: "unauthenticated",
            message: "请先登录或提供 API 令牌（Authorization: Bearer …） / sign in or send an API token (Authorization: Bearer ...)".into(),
        }
    }

    /// A 404 for a kind of record and id.
    pub fn not_found(what_zh: &str, what_en: &str, id: impl std::fmt::Display) -> ApiError {
        ApiError::NotFound(format!("{what_zh} {id} 不存在 / {what_en} {id} not found"))
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) | ApiError::Storage(_) | ApiError::IndexBehind(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        match self {
            ApiError::BadRequest { code, message }
            | ApiError::Conflict { code, message }
            | ApiError::Unauthorized { code, message }
            | ApiError::Forbidden { code, message } => {
                json!({"error": {"code": code, "message": message}})
            }
            ApiError::Validation(f) => json!({"error": {
                "code": "validation_failed",
                "message": format!("输入有误：{} / invalid input: {}", f.0.len(), f.summary()),
                "fields": f,
            }}),
            ApiError::NotFound(m) => json!({"error": {"code": "not_found", "message": m}}),
            ApiError::TooManyRequests(m) => {
                json!({"error": {"code": "too_many_requests", "message": m}})
            }
            ApiError::UnsupportedMediaType(m) => {
                json!({"error": {"code": "unsupported_media_type", "message": m}})
            }
            ApiError::IndexBehind(_) => {
                json!({"error": {"code": "index_behind", "message": "已保存，但检索索引未能及时更新（数据目录可能已满），恢复写入后会自动补上 / saved, but the search index could not follow in time (is the data directory full?); it catches up by itself once it can write"}})
            }
            ApiError::Storage(_) => {
                json!({"error": {"code": "storage_unavailable", "message": "存储空间已满或数据目录只读，本次写入未保存（已有数据不受影响），请联系管理员 / the storage is full or read-only: this write was not saved (existing data is intact); please tell the administrator"}})
            }
            ApiError::Unavailable(_) => {
                json!({"error": {"code": "unavailable", "message": "服务暂时不可用，请稍后重试 / the service is temporarily unavailable, please retry"}})
            }
            ApiError::Internal(_) => {
                json!({"error": {"code": "internal", "message": "服务器内部错误 / internal server error"}})
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "store unavailable"),
            ApiError::IndexBehind(cause) => {
                tracing::error!(%cause, "the index is not following the store")
            }
            ApiError::Storage(cause) => {
                tracing::error!(%cause, "write refused by the storage (full or read-only)")
            }
            _ => {}
        }
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, id } => {
                let zh = match entity {
                    "result" => "科技成果",
                    "need" => "技术需求",
                    "expert" => "专家",
                    "organization" => "单位",
                    "user" => "用户",
                    "token" => "令牌",
                    "event" => "对接会",
                    "ledger entry" => "台账记录",
                    _ => "记录",
                };
                ApiError::not_found(zh, entity, id)
            }
            StoreError::Conflict { code, message } => ApiError::Conflict { code, message },
            StoreError::Invalid(f) => ApiError::Validation(f),
            e if e.is_storage_problem() => ApiError::Storage(e.to_string()),
            e if e.is_unavailable() => ApiError::Unavailable(e.to_string()),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<IndexError> for ApiError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Query(m) => ApiError::bad_request(
                "invalid_query",
                format!("查询无效：{m}"),
                format!("invalid query: {m}"),
            ),
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        ApiError::Validation(e)
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::Internal(format!("background task failed: {e}"))
    }
}
