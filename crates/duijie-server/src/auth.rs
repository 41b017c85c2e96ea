//! Who is calling, resolved once per request: an API token (`Authorization: Bearer`), a
//! web session (an HttpOnly cookie), or nobody. Handlers take [`Who`] as an extractor and
//! hand the [`Caller`] inside to the application's services, which decide what it may do.

use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use duijie_app::Code;
use duijie_app::{App, AppError};
use std::net::SocketAddr;

pub use duijie_app::auth::{ROLES, SignedIn, random_hex, same_secret, sha256_hex, sign_in};
pub use duijie_app::{Caller, Via};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "duijie_session";
/// Name of the cookie holding the CSRF token of a visitor who is not signed in (the
/// sign-in form).
pub const CSRF_COOKIE: &str = "duijie_csrf";

/// The caller of a request, as an extractor (anonymous when the resolving middleware did
/// not run, as in handler tests).
#[derive(Debug, Clone)]
pub struct Who(pub Caller);

impl std::ops::Deref for Who {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Who {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Who(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(Caller::anonymous)))
    }
}

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Resolves the caller of every request. A bearer token that is malformed, unknown or
/// revoked is a 401 (a script with a bad token should fail loudly, not act anonymously);
/// a stale session cookie just means "not signed in".
pub async fn resolve(State(ctx): State<App>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let secure = match ctx.settings.auth.secure_cookies.as_str() {
        "always" => true,
        "never" => false,
        _ => headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https")),
    };
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut caller = Caller {
        secure,
        peer,
        csrf_cookie: cookie(headers, CSRF_COOKIE),
        ..Caller::anonymous()
    };
    let scraper = req.uri().path() == "/metrics"
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| crate::metrics::is_scraper(&ctx, v));
    if scraper {
        // the scraper's token is not an API token: the metrics handler checks the marker
        req.extensions_mut().insert(caller);
        req.extensions_mut().insert(crate::metrics::ScraperToken);
        return next.run(req).await;
    }
    let headers = req.headers();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return ApiError::from(AppError::Unauthorized {
                code: Code::INVALID_AUTHORIZATION,
                message: "Authorization 头应为 “Bearer <令牌>” / the Authorization header must be 'Bearer <token>'".into(),
            })
            .into_response();
        };
        match duijie_app::auth::user_of_token(&ctx, token).await {
            Ok(Some(user)) => {
                caller.user = Some(user);
                caller.via = Via::Token;
            }
            Ok(None) => {
                return ApiError::from(AppError::Unauthorized {
                    code: Code::INVALID_TOKEN,
                    message: "API 令牌无效或已撤销 / the API token is invalid or revoked".into(),
                })
                .into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else if let Some(sid) = cookie(headers, SESSION_COOKIE) {
        match duijie_app::auth::user_of_session(&ctx, &sid).await {
            Ok(Some((user, id_hash, csrf))) => {
                caller.user = Some(user);
                caller.via = Via::Session { id_hash, csrf };
            }
            Ok(None) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// The `Set-Cookie` value of a session (or of its removal with `max_age` 0).
pub fn session_cookie(value: &str, max_age_secs: u64, secure: bool) -> HeaderValue {
    let s = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value of the pre-session CSRF cookie.
pub fn csrf_cookie(value: &str, secure: bool) -> HeaderValue {
    let s = format!(
        "{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_and_flagged() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; duijie_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        let c = session_cookie("abc", 60, true);
        let c = c.to_str().unwrap();
        for flag in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(c.contains(flag), "{c}");
        }
        assert!(
            !session_cookie("abc", 60, false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }
}
