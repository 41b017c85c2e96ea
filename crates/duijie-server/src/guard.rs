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
use serde_json::Value;

/// Guards every write (any method but GET and HEAD) of a router with one action, and
/// audits each successful one in the transaction that makes it: the entry names the method
/// and path, holds the event as it was before (event routes) and the JSON the caller sent
/// (what it asked to change).
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
    let before = match (entity, id) {
        ("event", Some(id)) => duijie_app::events::load(&ctx, id)
            .await
            .ok()
            .map(|e| serde_json::json!(e)),
        _ => None,
    };
    let (req, asked) = match json_body(req, ctx.settings.server.max_json_bytes).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let entry = Entry {
        what: &what,
        entity,
        id,
        before: before.as_ref(),
        asked: asked.as_ref(),
    };
    run_audited(&ctx, &caller, entry, req, next, |s| s.is_success()).await
}

/// What an audited write records besides its caller.
pub(crate) struct Entry<'a> {
    /// Method and path.
    pub what: &'a str,
    /// The kind of record.
    pub entity: &'a str,
    /// Which record, when the path names one.
    pub id: Option<i64>,
    /// The record before.
    pub before: Option<&'a Value>,
    /// What the caller asked.
    pub asked: Option<&'a Value>,
}

/// Runs the handler with its audit entry pending, so the entry commits in the handler's
/// write transaction; `succeeded` tells from the status whether the write was made.
pub(crate) async fn run_audited(
    ctx: &App,
    caller: &duijie_app::Caller,
    e: Entry<'_>,
    req: Request,
    next: Next,
    succeeded: fn(axum::http::StatusCode) -> bool,
) -> Response {
    let out = duijie_app::audit::within(
        ctx,
        caller,
        e.what,
        e.entity,
        e.id,
        e.before,
        e.asked,
        async {
            let resp = next.run(req).await;
            if succeeded(resp.status()) {
                Ok(resp)
            } else {
                Err(resp)
            }
        },
    )
    .await;
    match out {
        Ok(r) | Err(r) => r,
    }
}

/// A JSON request's body, read (within the JSON limit) so the audit entry can hold it, and
/// the request rebuilt around it; other bodies (uploads, imports) are left streaming.
async fn json_body(req: Request, limit: usize) -> Result<(Request, Option<Value>), Response> {
    let json = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !json {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        ApiError::bad_request(
            duijie_app::Code::BODY_TOO_LARGE,
            format!("请求体过大或无法读取：{e}"),
            format!("the request body is too large or cannot be read: {e}"),
        )
        .into_response()
    })?;
    let asked = serde_json::from_slice::<Value>(&bytes).ok();
    Ok((
        Request::from_parts(parts, axum::body::Body::from(bytes)),
        asked,
    ))
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
