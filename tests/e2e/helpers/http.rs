//! The one request helper: a method, a URL and an optional JSON body in, the status and the
//! JSON answer (`null` when the body is not JSON) out.

use serde_json::Value;

/// Sends a request with `client` (which carries the caller's credentials).
pub async fn send(
    client: &reqwest::Client,
    method: &str,
    url: String,
    body: Option<Value>,
) -> (u16, Value) {
    let r = match method {
        "POST" => client.post(url),
        "PATCH" => client.patch(url),
        "PUT" => client.put(url),
        "DELETE" => client.delete(url),
        _ => client.get(url),
    };
    answer(r, body).await
}

/// Sends a prepared request (with its own headers or timeout) and reads the answer.
pub async fn answer(mut r: reqwest::RequestBuilder, body: Option<Value>) -> (u16, Value) {
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
