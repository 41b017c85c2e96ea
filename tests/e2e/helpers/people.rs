//! Members of organisations acting over the API with their own tokens: who they are, a
//! request as them, a listing they publish.

use super::http::send;
use super::{TestApp, client_with, user_token};
use serde_json::Value;

/// A signed-in member of an organisation.
pub struct Member {
    /// Sends the member's token.
    pub client: reqwest::Client,
    /// Its address.
    pub email: String,
    /// Its organisation's id.
    pub org: i64,
}

/// A new member of `org` (created by name) with a role, signed in by token.
pub async fn member(app: &TestApp, email: &str, role: &str, org: &str) -> Member {
    let token = user_token(&app.ctx, email, role, Some(org)).await;
    let client = client_with(&token);
    let (s, me) = send(&client, "GET", app.url("/api/v1/me"), None).await;
    assert_eq!(s, 200, "{me}");
    Member {
        client,
        email: email.into(),
        org: me["organization_id"]
            .as_i64()
            .or(me["user"]["organization_id"].as_i64())
            .unwrap_or_else(|| panic!("no organisation in {me}")),
    }
}

/// A request as `who`.
pub async fn call(
    app: &TestApp,
    who: &Member,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    send(&who.client, method, app.url(path), body).await
}

/// A listing `who` publishes (201), by its id.
pub async fn listing(app: &TestApp, who: &Member, kind: &str, body: Value) -> i64 {
    let (s, v) = call(app, who, "POST", &format!("/api/v1/{kind}"), Some(body)).await;
    assert_eq!(s, 201, "{kind}: {v}");
    v["id"].as_i64().unwrap()
}
