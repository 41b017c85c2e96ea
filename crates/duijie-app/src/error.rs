//! The application's one error type. Every error carries a stable code and, for the
//! client errors, a message `中文 / English`; [`AppError::kind`] says what sort of failure it
//! is, so the server can pick the HTTP status in one place and the command line can print
//! it. Server-side failures keep their cause for the log and show a generic message.

use crate::codes::Code;
use duijie_domain::FieldErrors;
use duijie_index::IndexError;
use duijie_store::StoreError;
use serde_json::json;

/// What sort of failure an error is; the server maps each to one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed (a bad parameter, bad JSON).
    BadRequest,
    /// Well-formed, but some fields are invalid.
    Invalid,
    /// Credentials are missing or wrong.
    Unauthenticated,
    /// Signed in, but not allowed.
    Forbidden,
    /// Too many attempts.
    TooMany,
    /// No such record or endpoint.
    NotFound,
    /// It contradicts what is stored.
    Conflict,
    /// The body's format is not supported.
    UnsupportedMedia,
    /// The storage or database cannot take it now; retry later.
    Unavailable,
    /// A bug or an environment problem.
    Internal,
}

/// An application error.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: malformed request (bad JSON, bad parameter).
    #[error("{code}: {message}")]
    BadRequest {
        /// Its entry in the catalogue.
        code: Code,
        /// `中文 / English`.
        message: String,
    },
    /// 422: well-formed but invalid fields.
    #[error("validation failed: {0}")]
    Validation(FieldErrors),
    /// 401: no valid credentials where they are needed.
    #[error("{code}: {message}")]
    Unauthorized {
        /// Its entry in the catalogue.
        code: Code,
        /// `中文 / English`.
        message: String,
    },
    /// 403: signed in, but not allowed to do this.
    #[error("{code}: {message}")]
    Forbidden {
        /// Its entry in the catalogue.
        code: Code,
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
        /// Its entry in the catalogue.
        code: Code,
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

impl AppError {
    /// A 400 with a bilingual message.
    pub fn bad_request(code: Code, zh: impl AsRef<str>, en: impl AsRef<str>) -> AppError {
        AppError::BadRequest {
            code,
            message: format!("{} / {}", zh.as_ref(), en.as_ref()),
        }
    }

    /// A 403 with a bilingual message.
    pub fn forbidden(zh: impl AsRef<str>, en: impl AsRef<str>) -> AppError {
        AppError::Forbidden {
            code: Code::FORBIDDEN,
            message: format!("{} / {}", zh.as_ref(), en.as_ref()),
        }
    }

    /// The 401 of a request that must be signed in.
    pub fn unauthenticated() -> AppError {
        AppError::Unauthorized {
            code: Code::UNAUTHENTICATED,
            message: "请先登录或提供 API 令牌（Authorization: Bearer …） / sign in or send an API token (Authorization: Bearer ...)".into(),
        }
    }

    /// A 404 for a kind of record and id.
    pub fn not_found(what_zh: &str, what_en: &str, id: impl std::fmt::Display) -> AppError {
        AppError::NotFound(format!("{what_zh} {id} 不存在 / {what_en} {id} not found"))
    }

    /// What sort of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AppError::BadRequest { .. } => ErrorKind::BadRequest,
            AppError::Validation(_) => ErrorKind::Invalid,
            AppError::Unauthorized { .. } => ErrorKind::Unauthenticated,
            AppError::Forbidden { .. } => ErrorKind::Forbidden,
            AppError::TooManyRequests(_) => ErrorKind::TooMany,
            AppError::NotFound(_) => ErrorKind::NotFound,
            // a store refusal whose catalogue entry is a limit (request quotas) is a 429
            AppError::Conflict { code, .. } if code.kind == ErrorKind::TooMany => {
                ErrorKind::TooMany
            }
            AppError::Conflict { .. } => ErrorKind::Conflict,
            AppError::UnsupportedMediaType(_) => ErrorKind::UnsupportedMedia,
            AppError::Unavailable(_) | AppError::Storage(_) | AppError::IndexBehind(_) => {
                ErrorKind::Unavailable
            }
            AppError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// Logs the cause of a server-side failure (clients see only a generic message).
    pub fn log(&self) {
        match self {
            AppError::Internal(cause) => tracing::error!(%cause, "internal error"),
            AppError::Unavailable(cause) => tracing::warn!(%cause, "store unavailable"),
            AppError::IndexBehind(cause) => {
                tracing::error!(%cause, "the index is not following the store")
            }
            AppError::Storage(cause) => {
                tracing::error!(%cause, "write refused by the storage (full or read-only)")
            }
            _ => {}
        }
    }

    /// Its entry in the catalogue.
    pub fn code(&self) -> Code {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Unauthorized { code, .. }
            | AppError::Forbidden { code, .. } => *code,
            AppError::Validation(_) => Code::VALIDATION_FAILED,
            AppError::NotFound(_) => Code::NOT_FOUND,
            AppError::TooManyRequests(_) => Code::TOO_MANY_REQUESTS,
            AppError::UnsupportedMediaType(_) => Code::UNSUPPORTED_MEDIA_TYPE,
            AppError::IndexBehind(_) => Code::INDEX_BEHIND,
            AppError::Storage(_) => Code::STORAGE_UNAVAILABLE,
            AppError::Unavailable(_) => Code::UNAVAILABLE,
            AppError::Internal(_) => Code::INTERNAL,
        }
    }

    /// The message shown to clients: `中文 / English`. Server-side failures show the
    /// catalogue's text of their code, never their cause.
    pub fn message(&self) -> String {
        match self {
            AppError::BadRequest { message, .. }
            | AppError::Conflict { message, .. }
            | AppError::Unauthorized { message, .. }
            | AppError::Forbidden { message, .. } => message.clone(),
            AppError::Validation(f) => {
                format!("输入有误：{} / invalid input: {}", f.0.len(), f.summary())
            }
            AppError::NotFound(m)
            | AppError::TooManyRequests(m)
            | AppError::UnsupportedMediaType(m) => m.clone(),
            AppError::IndexBehind(_) => "已保存，但检索索引未能及时更新（数据目录可能已满），恢复写入后会自动补上 / saved, but the search index could not follow in time (is the data directory full?); it catches up by itself once it can write".into(),
            AppError::Storage(_) => "存储空间已满或数据目录只读，本次写入未保存（已有数据不受影响），请联系管理员 / the storage is full or read-only: this write was not saved (existing data is intact); please tell the administrator".into(),
            AppError::Unavailable(_) | AppError::Internal(_) => {
                let c = self.code();
                format!("{} / {}", c.zh, c.en)
            }
        }
    }

    /// The JSON body: `{"error": {"code", "message", "fields"?}}`.
    pub fn body(&self) -> serde_json::Value {
        let mut error = json!({"code": self.code().code, "message": self.message()});
        if let AppError::Validation(f) = self {
            error["fields"] = json!(f);
        }
        json!({ "error": error })
    }
}

impl From<StoreError> for AppError {
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
                AppError::not_found(zh, entity, id)
            }
            StoreError::Conflict { code, message } => AppError::Conflict {
                code: Code::of(code, ErrorKind::Conflict),
                message,
            },
            StoreError::Invalid(f) => AppError::Validation(f),
            e if e.is_storage_problem() => AppError::Storage(e.to_string()),
            e if e.is_unavailable() => AppError::Unavailable(e.to_string()),
            e => AppError::Internal(e.to_string()),
        }
    }
}

impl From<IndexError> for AppError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Query(m) => AppError::bad_request(
                Code::INVALID_QUERY,
                format!("查询无效：{m}"),
                format!("invalid query: {m}"),
            ),
            e => AppError::Internal(e.to_string()),
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(e: FieldErrors) -> Self {
        AppError::Validation(e)
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("background task failed: {e}"))
    }
}
