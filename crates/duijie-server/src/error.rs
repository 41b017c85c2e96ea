//! The one place where application errors become HTTP answers: each [`ErrorKind`] has one
//! status, and every error answers `{"error": {"code", "message", "fields"?}}` (message
//! `中文 / English`). Server-side failures are logged with their cause and answered with a
//! generic 500 or 503.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use duijie_app::{AppError, ErrorKind};
use duijie_domain::FieldErrors;

/// An application error on its way to a client.
#[derive(Debug)]
pub struct ApiError(pub AppError);

/// The HTTP status of each kind of error.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::TooMany => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    /// A 400 with a bilingual message.
    pub fn bad_request(
        code: duijie_app::Code,
        zh: impl AsRef<str>,
        en: impl AsRef<str>,
    ) -> ApiError {
        ApiError(AppError::bad_request(code, zh, en))
    }

    /// A 403 with a bilingual message.
    pub fn forbidden(zh: impl AsRef<str>, en: impl AsRef<str>) -> ApiError {
        ApiError(AppError::forbidden(zh, en))
    }

    /// The 401 of a request that must be signed in.
    pub fn unauthenticated() -> ApiError {
        ApiError(AppError::unauthenticated())
    }

    /// A 404 for a kind of record and id.
    pub fn not_found(what_zh: &str, what_en: &str, id: impl std::fmt::Display) -> ApiError {
        ApiError(AppError::not_found(what_zh, what_en, id))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        status_of(self.0.kind())
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        self.0.body()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        ApiError(AppError::Validation(e))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError(e.into())
    }
}

/// The HTTP status of an application error, for pages that render errors themselves.
pub trait HttpStatus {
    /// The status this error answers with.
    fn status(&self) -> StatusCode;
}

impl HttpStatus for AppError {
    fn status(&self) -> StatusCode {
        status_of(self.kind())
    }
}
