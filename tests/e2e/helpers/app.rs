//! The in-process launcher: `spawn_app()` gives each test its own server (port 0), data
//! directory and index, with an administrator's token, and typed request helpers.

use super::http::send;
use duijie_app::settings::Settings;
use duijie_server::startup::Application;
use serde_json::Value;

pub struct TestApp {
    pub base: String,
    /// The metrics-only listener, when the settings ask for one.
    pub metrics_base: Option<String>,
    /// Sends an administrator's API token with every request.
    pub client: reqwest::Client,
    /// Sends no credentials.
    pub anon: reqwest::Client,
    /// The administrator's token.
    pub admin_token: String,
    pub ctx: duijie_app::App,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
    }
}

pub fn test_settings(dir: &std::path::Path) -> Settings {
    let mut s = Settings::defaults();
    s.data.dir = dir.to_path_buf();
    s.server.bind = "127.0.0.1:0".into();
    s.demo.load = false;
    s.index.writer_threads = 1;
    s.index.writer_memory_mb = 32;
    s.import.batch_size = 200;
    s
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = test_settings(dir.path());
    adjust(&mut s);
    let app = Application::build(s).await.expect("application builds");
    let base = format!("http://{}", app.addr());
    let metrics_base = app.metrics_addr().map(|a| format!("http://{a}"));
    let ctx = app.context().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    let admin_token = user_token(&ctx, "admin@test.example", "admin", None).await;
    TestApp {
        base,
        metrics_base,
        client: client_with(&admin_token),
        anon: reqwest::Client::new(),
        admin_token,
        ctx,
        _dir: dir,
        shutdown: Some(tx),
    }
}

/// A client that sends `token` as a bearer token.
pub fn client_with(token: &str) -> reqwest::Client {
    // reqwest's rustls needs the process-wide provider before any client is built
    duijie_app::alerts::install_tls_provider();
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header value"),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .expect("client")
}

/// Creates a user with a role (in an organisation, by name) and returns an API token.
pub async fn user_token(
    ctx: &duijie_app::App,
    email: &str,
    role: &str,
    org: Option<&str>,
) -> String {
    let cli = duijie_app::Caller::local("test");
    let user = duijie_app::accounts::register(
        ctx,
        &cli,
        duijie_app::accounts::NewAccount {
            email: email.into(),
            name: None,
            role: role.into(),
            organization: match org {
                Some(o) => duijie_app::accounts::OrgChoice::Name(o.into()),
                None => duijie_app::accounts::OrgChoice::None,
            },
            password: Some("correct horse battery".into()),
        },
    )
    .await
    .map_err(|e| e.to_string())
    .expect("user registers");
    duijie_app::accounts::token_for(ctx, &cli, user.id, "test")
        .await
        .map_err(|e| e.to_string())
        .expect("token")
        .0
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        send(&self.client, "GET", self.url(path), None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        send(&self.client, "POST", self.url(path), Some(body.clone())).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> (u16, Value) {
        send(&self.client, "PATCH", self.url(path), Some(body.clone())).await
    }

    pub async fn delete(&self, path: &str) -> u16 {
        self.delete_json(path).await.0
    }

    /// DELETEs and returns the status and the body (an error's JSON; null for 204).
    pub async fn delete_json(&self, path: &str) -> (u16, Value) {
        send(&self.client, "DELETE", self.url(path), None).await
    }

    /// POSTs raw bytes with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn import_jsonl(&self, kind: &str, lines: &[Value]) -> (u16, Value) {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        self.post_raw(
            &format!("/api/v1/import?kind={kind}"),
            "application/x-ndjson",
            body.into_bytes(),
        )
        .await
    }
}
