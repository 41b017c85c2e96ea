//! The write guard of a router: every write (any method but GET and HEAD) of the routes it
//! wraps needs one action, decided by the application's `authorize`, and each successful
//! one gets an audit entry.

use crate::auth::Who;
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use duijie_app::App;
use duijie_app::authz::{Action, authorize};

/// Guards every write (any method but GET and HEAD) of a router with one action, and
/// writes an audit entry for each successful one.
pub async fn guard_writes(
    State((ctx, action, entity)): State<(App, Action, &'static str)>,
    Who(caller): Who,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return next.run(req).await;
    }
    if let Err(e) = authorize(&ctx, &caller, action).await {
        return ApiError::from(e).into_response();
    }
    let what = format!("{} {}", req.method(), req.uri().path());
    let id = id_after(req.uri().path(), entity);
    let resp = next.run(req).await;
    if resp.status().is_success() {
        duijie_app::audit::record(&ctx, &caller, &what, entity, id, None, None).await;
    }
    resp
}

/// The number following `/{plural}/` in a path (`/api/v1/events/3/pairings` → 3).
fn id_after(path: &str, entity: &str) -> Option<i64> {
    let plural = format!("/{entity}s/");
    let rest = &path[path.find(&plural)? + plural.len()..];
    rest.split(['/', ':', '?']).next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_paths() {
        assert_eq!(
            id_after("/api/v1/events/3/pairings:generate", "event"),
            Some(3)
        );
        assert_eq!(id_after("/events/12:x", "event"), Some(12));
        assert_eq!(id_after("/api/v1/events", "event"), None);
    }
}
