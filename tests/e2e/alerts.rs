//! Match alerts: a webhook receiver started by the test on 127.0.0.1 (port 0) checks the
//! HMAC signature over the raw body; retries with backoff end in exactly one successful
//! delivery; the write that triggers an alert never waits for it; a pending delivery
//! survives a restart; "send test", in-app notifications, ownership and validation.

use crate::helpers::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use duijie_app::settings::Settings;
use duijie_server::startup::Application;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    body: Vec<u8>,
    signature: String,
    delivery: String,
    event: String,
}

/// A webhook receiver answering the planned statuses in order, then 200. Requests wait for
/// a permit of `gate` before they are answered (the test holds the first one back).
#[derive(Clone)]
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    gate: Arc<Semaphore>,
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

async fn receiver(plan: Vec<u16>, open: bool) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    receiver_on(listener, plan, open)
}

fn receiver_on(listener: tokio::net::TcpListener, plan: Vec<u16>, open: bool) -> Receiver {
    let addr = listener.local_addr().unwrap();
    assert!(addr.ip().is_loopback());
    let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
    let gate = Arc::new(Semaphore::new(if open { 10_000 } else { 0 }));
    let plan = Arc::new(Mutex::new(plan.into_iter()));
    let (h, g) = (hits.clone(), gate.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let (h, g, plan) = (h.clone(), g.clone(), plan.clone());
            async move {
                let header = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                h.lock().unwrap().push(Hit {
                    body: body.to_vec(),
                    signature: header("x-duijie-signature"),
                    delivery: header("x-duijie-delivery"),
                    event: header("x-duijie-event"),
                });
                let _permit = g.acquire().await;
                let code = plan.lock().unwrap().next().unwrap_or(200);
                StatusCode::from_u16(code).unwrap()
            }
        }),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    Receiver {
        url: format!("http://{addr}/hook"),
        hits,
        gate,
        _stop: Arc::new(tx),
    }
}

/// HMAC-SHA256 computed here, independently of the server's code.
fn expected_signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn fast(s: &mut Settings) {
    s.alerts.poll_interval_ms = 50;
    s.alerts.retry_base_ms = 50;
    s.alerts.retry_max_ms = 200;
    s.alerts.max_attempts = 5;
    s.alerts.request_timeout_ms = 5000;
    s.alerts.allow_private_targets = true; // the receiver is on 127.0.0.1
}

/// Waits until `f` gives `Some`, at most 30 s.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const NEED: &str = "高炉煤气余热回收发电技术";
const NEED_TEXT: &str =
    "钢铁企业高炉煤气余热回收利用，希望引进低温余热发电技术，提高能源利用效率，降低能耗。";

fn need_body() -> Value {
    json!({"title": NEED, "description": NEED_TEXT, "keywords": ["余热回收", "余热发电", "高炉煤气"],
           "industry": "metallurgy", "status": "published"})
}

fn result_body() -> Value {
    json!({"title": "高炉煤气低温余热发电技术", "summary": "面向钢铁企业的高炉煤气余热回收与低温余热发电技术，提高能源利用效率、降低能耗。",
           "keywords": ["余热发电", "余热回收", "高炉煤气"], "industry": "metallurgy", "status": "published"})
}

#[tokio::test]
async fn a_matching_result_is_delivered_once_after_retries_with_a_valid_signature() {
    let app = spawn_with(fast).await;
    let ent = client_with(
        &user_token(&app.ctx, "ent@test.example", "enterprise", Some("鞍钢集团")).await,
    );
    let res = client_with(
        &user_token(&app.ctx, "res@test.example", "researcher", Some("东北大学")).await,
    );
    let (s, need) = send(&ent, "POST", app.url("/api/v1/needs"), Some(need_body())).await;
    assert_eq!(s, 201, "{need}");
    let need_id = need["id"].as_i64().unwrap();

    let hook = receiver(vec![500, 500], false).await;
    let (s, sub) = send(
        &ent,
        "POST",
        app.url("/api/v1/alerts"),
        Some(json!({"kind": "need_matches", "need_id": need_id, "min_score": 0.6, "webhook_url": hook.url})),
    )
    .await;
    assert_eq!(s, 201, "{sub}");
    let secret = sub["secret"]
        .as_str()
        .expect("secret shown at creation")
        .to_string();
    let sub_id = sub["id"].as_i64().unwrap();
    let (_, listed) = send(&ent, "GET", app.url("/api/v1/alerts"), None).await;
    assert_eq!(listed["total"], 1);
    assert!(
        listed["items"][0].get("secret").is_none(),
        "the secret is shown once only"
    );

    // the receiver holds every request until released: a write that waited for delivery
    // would never be answered
    let (s, result) = tokio::time::timeout(
        Duration::from_secs(30),
        send(
            &res,
            "POST",
            app.url("/api/v1/results"),
            Some(result_body()),
        ),
    )
    .await
    .expect("the write is answered while the webhook receiver is still blocked");
    assert_eq!(s, 201, "{result}");
    let result_id = result["id"].as_i64().unwrap();
    eventually("the first attempt to reach the receiver", || async {
        (!hook.hits().is_empty()).then_some(())
    })
    .await;
    hook.gate.add_permits(10_000);

    let deliveries = eventually("a successful delivery", || async {
        let (_, d) = send(
            &ent,
            "GET",
            app.url(&format!("/api/v1/alerts/{sub_id}/deliveries")),
            None,
        )
        .await;
        (d["items"][0]["status"] == "delivered").then_some(d)
    })
    .await;
    let items = deliveries["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "exactly one delivery: {deliveries}");
    assert_eq!(items[0]["attempts"], 3);
    let codes: Vec<i64> = items[0]["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(codes, vec![500, 500, 200], "{deliveries}");

    let hits = hook.hits();
    assert_eq!(hits.len(), 3);
    for h in &hits {
        assert_eq!(
            h.signature,
            expected_signature(&secret, &h.body),
            "signature over the raw body"
        );
        assert_ne!(h.signature, expected_signature("wrong secret", &h.body));
        assert_eq!(
            h.delivery, hits[0].delivery,
            "the delivery id is kept across retries"
        );
        assert_eq!(h.event, "need_match");
    }
    let payload: Value = serde_json::from_slice(&hits[0].body).unwrap();
    assert_eq!(payload["type"], "need_match");
    assert_eq!(payload["need"]["id"], need_id);
    assert_eq!(payload["result"]["id"], result_id);
    assert_eq!(payload["delivery_id"], hits[0].delivery.as_str());
    assert!(payload["score"].as_f64().unwrap() >= 0.6, "{payload}");

    // in-app notification for the subscriber
    let (s, notes) = send(&ent, "GET", app.url("/api/v1/notifications"), None).await;
    assert_eq!(s, 200);
    assert_eq!(
        (notes["total"].as_i64(), notes["unread"].as_i64()),
        (Some(1), Some(1)),
        "{notes}"
    );
    assert!(notes["items"][0]["title"].as_str().unwrap().contains(NEED));
    assert_eq!(notes["items"][0]["link"], format!("/results/{result_id}"));
    let note_id = notes["items"][0]["id"].as_i64().unwrap();
    let (s, _) = send(
        &res,
        "POST",
        app.url(&format!("/api/v1/notifications/{note_id}/read")),
        None,
    )
    .await;
    assert_eq!(
        s, 404,
        "someone else's notification does not exist for them"
    );
    let (s, read) = send(
        &ent,
        "POST",
        app.url(&format!("/api/v1/notifications/{note_id}/read")),
        None,
    )
    .await;
    assert_eq!(s, 200, "{read}");
    assert!(read["read_at"].is_string());
    let (_, notes) = send(
        &ent,
        "GET",
        app.url("/api/v1/notifications?unread=true"),
        None,
    )
    .await;
    assert_eq!(
        (notes["total"].as_i64(), notes["unread"].as_i64()),
        (Some(0), Some(0))
    );

    // a re-edit of the result does not alert again, nor does a result below the score
    let (s, _) = send(
        &res,
        "PATCH",
        app.url(&format!("/api/v1/results/{result_id}")),
        Some(json!({"team": "能源学院"})),
    )
    .await;
    assert_eq!(s, 200);
    let unrelated = json!({"title": "基于深度学习的医学影像辅助诊断系统", "summary": "利用卷积神经网络识别肺部结节，辅助放射科医生阅片。",
                           "keywords": ["深度学习", "医学影像"], "status": "published"});
    let (s, _) = send(&res, "POST", app.url("/api/v1/results"), Some(unrelated)).await;
    assert_eq!(s, 201);
    let target = duijie_app::diagnostics::latest_change(&app.ctx)
        .await
        .unwrap();
    eventually("the alert worker to read the edit", || async {
        (duijie_app::diagnostics::watermark(&app.ctx, "alerts")
            .await
            .unwrap()
            >= target)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, d) = send(
        &ent,
        "GET",
        app.url(&format!("/api/v1/alerts/{sub_id}/deliveries")),
        None,
    )
    .await;
    assert_eq!(d["items"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(hook.hits().len(), 3);
    let (_, notes) = send(&ent, "GET", app.url("/api/v1/notifications"), None).await;
    assert_eq!(notes["total"], 1);
}

#[tokio::test]
async fn a_pending_delivery_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = test_settings(dir.path());
    fast(&mut s);
    s.alerts.max_attempts = 1000; // keeps failing while the receiver is down
    // a port with nothing listening: the receiver is "down"
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");

    let app = Application::build(s.clone()).await.expect("first start");
    let base = format!("http://{}", app.addr());
    let ctx = app.context().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let ent_token = user_token(&ctx, "ent@test.example", "enterprise", Some("鞍钢集团")).await;
    let res_token = user_token(&ctx, "res@test.example", "researcher", Some("东北大学")).await;
    drop(ctx);
    let (ent, res) = (client_with(&ent_token), client_with(&res_token));
    let (st, need) = send(
        &ent,
        "POST",
        format!("{base}/api/v1/needs"),
        Some(need_body()),
    )
    .await;
    assert_eq!(st, 201, "{need}");
    let (st, sub) = send(
        &ent,
        "POST",
        format!("{base}/api/v1/alerts"),
        Some(json!({"kind": "need_matches", "need_id": need["id"], "min_score": 0.2, "webhook_url": url})),
    )
    .await;
    assert_eq!(st, 201, "{sub}");
    let (secret, sub_id) = (
        sub["secret"].as_str().unwrap().to_string(),
        sub["id"].as_i64().unwrap(),
    );
    let (st, _) = send(
        &res,
        "POST",
        format!("{base}/api/v1/results"),
        Some(result_body()),
    )
    .await;
    assert_eq!(st, 201);
    let log = format!("{base}/api/v1/alerts/{sub_id}/deliveries");
    let d = eventually("failed attempts while the receiver is down", || async {
        let (_, d) = send(&ent, "GET", log.clone(), None).await;
        (d["items"][0]["attempts"].as_i64().unwrap_or(0) >= 2).then_some(d)
    })
    .await;
    assert_eq!(d["items"][0]["status"], "pending", "{d}");
    assert!(d["items"][0]["attempt_log"][0]["status_code"].is_null());
    assert!(d["items"][0]["attempt_log"][0]["error"].is_string());

    // stop the server, bring the receiver up, start a new server on the same data
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    drop((ent, res));
    let hook = receiver_on(
        tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("receiver port"),
        vec![],
        true,
    );
    let t = Instant::now();
    let app = loop {
        match Application::build(s.clone()).await {
            Err(duijie_app::app::StartError::Index(duijie_index::IndexError::Locked(_)))
                if t.elapsed() < Duration::from_secs(20) =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => break other.expect("second start"),
        }
    };
    let base = format!("http://{}", app.addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    let ent = client_with(&ent_token);
    let log = format!("{base}/api/v1/alerts/{sub_id}/deliveries");
    let d = eventually("the delivery after the restart", || async {
        let (_, d) = send(&ent, "GET", log.clone(), None).await;
        (d["items"][0]["status"] == "delivered").then_some(d)
    })
    .await;
    assert_eq!(d["items"].as_array().unwrap().len(), 1);
    let attempts = d["items"][0]["attempt_log"].as_array().unwrap();
    assert!(attempts.len() >= 3, "{d}");
    assert_eq!(attempts.last().unwrap()["status_code"], 200);
    let hits = hook.hits();
    assert_eq!(hits.len(), 1, "delivered once");
    assert_eq!(
        hits[0].signature,
        expected_signature(&secret, &hits[0].body)
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn send_test_ownership_validation_and_industry_alerts() {
    let app = spawn_with(fast).await;
    let a_token = user_token(&app.ctx, "a@test.example", "enterprise", Some("鞍钢集团")).await;
    let a = client_with(&a_token);
    let b =
        client_with(&user_token(&app.ctx, "b@test.example", "enterprise", Some("本钢集团")).await);
    let alerts = app.url("/api/v1/alerts");

    // signed-in callers only
    let (s, body) = send(
        &app.anon,
        "POST",
        alerts.clone(),
        Some(json!({"kind": "industry_needs", "industry": "metallurgy"})),
    )
    .await;
    assert_eq!((s, error_code(&body).as_str()), (401, "unauthenticated"));
    let (s, _) = send(&app.anon, "GET", app.url("/api/v1/notifications"), None).await;
    assert_eq!(s, 401);

    // B's draft need is invisible to A; B's published need is fine
    let mut draft = need_body();
    draft["status"] = json!("draft");
    let (_, b_draft) = send(&b, "POST", app.url("/api/v1/needs"), Some(draft)).await;
    let (_, b_pub) = send(&b, "POST", app.url("/api/v1/needs"), Some(need_body())).await;
    let bad = [
        (json!({"kind": "everything"}), "kind"),
        (
            json!({"kind": "need_matches", "need_id": b_pub["id"], "webhook_url": "ftp://127.0.0.1/x"}),
            "webhook_url",
        ),
        (
            json!({"kind": "need_matches", "need_id": b_pub["id"], "webhook_url": "not a url"}),
            "webhook_url",
        ),
        (
            json!({"kind": "need_matches", "need_id": b_pub["id"], "min_score": -0.1}),
            "min_score",
        ),
        (
            json!({"kind": "need_matches", "need_id": b_pub["id"], "min_score": 1.5}),
            "min_score",
        ),
        (json!({"kind": "need_matches"}), "need_id"),
        (
            json!({"kind": "need_matches", "need_id": b_draft["id"]}),
            "need_id",
        ),
        (
            json!({"kind": "need_matches", "need_id": 999_999}),
            "need_id",
        ),
        (
            json!({"kind": "industry_needs", "industry": "basket_weaving"}),
            "industry",
        ),
        (
            json!({"kind": "industry_needs", "industry": "metallurgy", "colour": "red"}),
            "colour",
        ),
    ];
    for (body, field) in bad {
        let (s, e) = send(&a, "POST", alerts.clone(), Some(body.clone())).await;
        assert_eq!(s, 422, "{body} → {e}");
        assert_eq!(error_code(&e), "validation_failed");
        let fields = e["error"]["fields"].as_array().unwrap();
        assert!(fields.iter().any(|f| f["field"] == field), "{body} → {e}");
        assert!(
            fields
                .iter()
                .all(|f| f["message"].as_str().unwrap().contains(" / ")),
            "{e}"
        );
    }
    let (s, e) = send(&a, "POST", alerts.clone(), None).await;
    assert_eq!(s, 400, "{e}");

    // a subscription with a webhook, tested
    let hook = receiver(vec![], true).await;
    let (s, sub) = send(
        &a,
        "POST",
        alerts.clone(),
        Some(json!({"kind": "need_matches", "need_id": b_pub["id"], "webhook_url": hook.url})),
    )
    .await;
    assert_eq!(s, 201, "{sub}");
    assert_eq!(sub["min_score"], 0.5, "the default minimum score");
    let id = sub["id"].as_i64().unwrap();
    let secret = sub["secret"].as_str().unwrap().to_string();
    let (s, d) = send(
        &a,
        "POST",
        app.url(&format!("/api/v1/alerts/{id}/test")),
        None,
    )
    .await;
    assert_eq!(s, 202, "{d}");
    let hit = eventually("the test delivery", || async {
        hook.hits().first().cloned()
    })
    .await;
    assert_eq!(hit.event, "test");
    assert_eq!(hit.signature, expected_signature(&secret, &hit.body));
    let log = eventually("the test delivery to be logged", || async {
        let (_, l) = send(
            &a,
            "GET",
            app.url(&format!("/api/v1/alerts/{id}/deliveries")),
            None,
        )
        .await;
        (l["items"][0]["status"] == "delivered").then_some(l)
    })
    .await;
    assert_eq!(log["items"][0]["payload"]["type"], "test");
    assert_eq!(log["items"][0]["attempt_log"][0]["status_code"], 200);

    // https is spoken: against the plain-HTTP receiver the TLS handshake fails (a build
    // without a TLS backend would refuse the scheme instead)
    let https_url = hook.url.replace("http://", "https://");
    let (s, tls) = send(
        &a,
        "POST",
        alerts.clone(),
        Some(json!({"kind": "need_matches", "need_id": b_pub["id"], "webhook_url": https_url})),
    )
    .await;
    assert_eq!(s, 201, "{tls}");
    let (s, _) = send(
        &a,
        "POST",
        app.url(&format!("/api/v1/alerts/{}/test", tls["id"])),
        None,
    )
    .await;
    assert_eq!(s, 202);
    let tls_log = eventually("the https attempt", || async {
        let (_, l) = send(
            &a,
            "GET",
            app.url(&format!("/api/v1/alerts/{}/deliveries", tls["id"])),
            None,
        )
        .await;
        l["items"][0]["attempt_log"][0]["error"]
            .as_str()
            .map(str::to_string)
    })
    .await;
    assert!(!tls_log.to_lowercase().contains("scheme"), "{tls_log}");
    assert_eq!(hook.hits().len(), 1, "no HTTP request reached the receiver");
    let (s, _) = send(
        &a,
        "DELETE",
        app.url(&format!("/api/v1/alerts/{}", tls["id"])),
        None,
    )
    .await;
    assert_eq!(s, 204);

    // B may neither see nor change A's subscription; unknown ids are 404
    for (method, path) in [
        ("GET", format!("/api/v1/alerts/{id}")),
        ("GET", format!("/api/v1/alerts/{id}/deliveries")),
        ("POST", format!("/api/v1/alerts/{id}/test")),
        ("DELETE", format!("/api/v1/alerts/{id}")),
    ] {
        let (s, e) = send(&b, method, app.url(&path), None).await;
        assert_eq!(
            (s, error_code(&e).as_str()),
            (403, "forbidden"),
            "{method} {path}"
        );
    }
    let (s, _) = send(&b, "GET", app.url("/api/v1/alerts/999999/deliveries"), None).await;
    assert_eq!(s, 404);
    let (_, mine) = send(&b, "GET", alerts.clone(), None).await;
    assert_eq!(mine["total"], 0, "B lists only B's own");
    let (s, _) = send(&b, "GET", app.url("/api/v1/alerts?all=true"), None).await;
    assert_eq!(s, 403);
    let (s, all) = send(&app.client, "GET", app.url("/api/v1/alerts?all=true"), None).await;
    assert_eq!(
        (s, all["total"].as_i64()),
        (200, Some(1)),
        "administrators see all"
    );

    // industry alerts are in-app only without a webhook; "send test" needs one
    let (s, ind) = send(
        &a,
        "POST",
        alerts.clone(),
        Some(json!({"kind": "industry_needs", "industry": "冶金"})),
    )
    .await;
    assert_eq!(s, 201, "{ind}");
    assert_eq!(ind["industry"], "metallurgy", "labels resolve to codes");
    let (s, e) = send(
        &a,
        "POST",
        app.url(&format!("/api/v1/alerts/{}/test", ind["id"])),
        None,
    )
    .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "no_webhook"));
    let mut other = need_body();
    other["title"] = json!("连铸坯表面缺陷在线检测");
    let (_, new_need) = send(&b, "POST", app.url("/api/v1/needs"), Some(other)).await;
    let notes = eventually("the industry notification", || async {
        let (_, n) = send(&a, "GET", app.url("/api/v1/notifications"), None).await;
        (n["total"].as_i64() >= Some(1)).then_some(n)
    })
    .await;
    assert_eq!(notes["total"], 1, "{notes}");
    assert_eq!(
        notes["items"][0]["link"],
        format!("/needs/{}", new_need["id"])
    );
    assert_eq!(notes["items"][0]["subscription_id"], ind["id"]);

    // the web pages: subscribe form with field errors, list, delivery log, notifications
    let page = |p: &str| {
        let c = a.clone();
        let url = app.url(p);
        async move {
            let r = c.get(url).send().await.unwrap();
            (
                r.status().as_u16(),
                r.text().await.unwrap().replace("&#x2f;", "/"),
            )
        }
    };
    let (s, html) = page("/alerts").await;
    assert_eq!(s, 200);
    assert!(html.contains(&format!("href=\"/alerts/{id}\"")), "{html}");
    assert!(html.contains("发送测试"));
    let (s, html) = page(&format!("/alerts/{id}")).await;
    assert_eq!(s, 200);
    assert!(html.contains("已送达"), "{html}");
    let (s, html) = page("/notifications").await;
    assert_eq!(s, 200);
    assert!(html.contains("连铸坯表面缺陷在线检测"), "{html}");
    let form = |fields: &[(&str, &str)]| {
        let c = a.clone();
        let url = app.url("/alerts");
        let body = serde_urlencoded::to_string(fields).unwrap();
        async move {
            let r = c
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, html) = form(&[
        ("kind", "need_matches"),
        ("need_id", "1"),
        ("min_score", "-1"),
        ("industry", ""),
    ])
    .await;
    assert_eq!(s, 422);
    assert!(html.contains("应为 0 到 1 之间的数"), "{html}");
    let (s, html) = form(&[
        ("kind", "industry_needs"),
        ("industry", "metallurgy"),
        ("need_id", ""),
        ("min_score", ""),
    ])
    .await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("whsec_"), "the secret is shown once: {html}");
    let (s, _) = page(&format!("/alerts/{id}")).await;
    assert_eq!(s, 200);
    let (s, html) = {
        let c = b.clone();
        let r = c
            .get(app.url(&format!("/alerts/{id}")))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(s, 403, "{html}");

    // the forms: send a test, mark everything read, delete (redirects, no JavaScript)
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {a_token}").parse().unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .build()
        .unwrap();
    let post_form = |path: String| {
        let c = no_redirect.clone();
        let url = app.url(&path);
        async move {
            let r = c
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("csrf=")
                .send()
                .await
                .unwrap();
            let to = r
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            (r.status().as_u16(), to)
        }
    };
    let before = hook.hits().len();
    assert_eq!(
        post_form(format!("/alerts/{id}/test")).await,
        (303, format!("/alerts/{id}?done=test"))
    );
    eventually("the test sent from the page", || async {
        (hook.hits().len() > before).then_some(())
    })
    .await;
    assert_eq!(
        post_form("/notifications/read-all".into()).await,
        (303, "/notifications".into())
    );
    let (_, n) = send(&a, "GET", app.url("/api/v1/notifications"), None).await;
    assert_eq!(n["unread"], 0, "{n}");
    let (_, all_mine) = send(&a, "GET", alerts.clone(), None).await;
    let web_made = all_mine["items"][0]["id"].as_i64().unwrap();
    assert_ne!(web_made, id);
    assert_eq!(
        post_form(format!("/alerts/{web_made}/delete")).await,
        (303, "/alerts?done=deleted".into())
    );

    // deleting: own only, then gone
    let (s, _) = send(&a, "DELETE", app.url(&format!("/api/v1/alerts/{id}")), None).await;
    assert_eq!(s, 204);
    let (s, _) = send(&a, "GET", app.url(&format!("/api/v1/alerts/{id}")), None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn webhooks_into_the_private_network_are_refused_by_default() {
    let app = spawn_app().await;
    let a =
        client_with(&user_token(&app.ctx, "a@test.example", "enterprise", Some("鞍钢集团")).await);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.0.0.8/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let (s, e) = send(
            &a,
            "POST",
            app.url("/api/v1/alerts"),
            Some(json!({"kind": "industry_needs", "industry": "metallurgy", "webhook_url": url})),
        )
        .await;
        assert_eq!(s, 422, "{url} → {e}");
        assert_eq!(e["error"]["fields"][0]["field"], "webhook_url", "{e}");
        assert!(
            e["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains("内网"),
            "{e}"
        );
    }
    let (s, e) = send(
        &a,
        "POST",
        app.url("/api/v1/alerts"),
        Some(json!({"kind": "industry_needs", "industry": "metallurgy", "webhook_url": "https://hooks.example.com/duijie"})),
    )
    .await;
    assert_eq!(s, 201, "{e}");
}

/// A subscription of a new enterprise member with this webhook; returns its client and id.
async fn subscribed(app: &TestApp, email: &str, url: &str) -> (reqwest::Client, i64) {
    let ent = client_with(&user_token(&app.ctx, email, "enterprise", Some("鞍钢集团")).await);
    let (s, need) = send(&ent, "POST", app.url("/api/v1/needs"), Some(need_body())).await;
    assert_eq!(s, 201, "{need}");
    let (s, sub) = send(
        &ent,
        "POST",
        app.url("/api/v1/alerts"),
        Some(json!({"kind": "need_matches", "need_id": need["id"], "webhook_url": url})),
    )
    .await;
    assert_eq!(
        s, 201,
        "the name looks public when the subscription is made: {sub}"
    );
    (ent, sub["id"].as_i64().unwrap())
}

#[tokio::test]
async fn a_webhook_whose_name_resolves_inside_is_refused_at_delivery_and_never_retried() {
    let hook = receiver(vec![], true).await;
    let port = hook
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let app = spawn_with(|s| {
        fast(s);
        s.alerts.allow_private_targets = false;
        // the test's resolver: this name points at the receiver on 127.0.0.1
        s.alerts
            .resolve
            .insert("hooks.partner.example".into(), "127.0.0.1".into());
    })
    .await;
    let url = format!("http://hooks.partner.example:{port}/hook");
    let (ent, sub) = subscribed(&app, "rebind@test.example", &url).await;
    let (s, d) = send(
        &ent,
        "POST",
        app.url(&format!("/api/v1/alerts/{sub}/test")),
        None,
    )
    .await;
    assert_eq!(s, 202, "{d}");
    let log = app.url(&format!("/api/v1/alerts/{sub}/deliveries"));
    let d = eventually("the refused delivery", || async {
        let (_, d) = send(&ent, "GET", log.clone(), None).await;
        (d["items"][0]["status"] == "failed").then_some(d)
    })
    .await;
    let item = &d["items"][0];
    assert_eq!(item["attempts"], 1, "never retried: {d}");
    let error = item["last_error"].as_str().unwrap_or("");
    assert!(error.contains("resolves to 127.0.0.1"), "{error}");
    // well past the retry delays: still one attempt, and nothing reached the receiver
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, d) = send(&ent, "GET", log, None).await;
    assert_eq!(d["items"][0]["attempts"], 1, "{d}");
    assert!(
        hook.hits().is_empty(),
        "the receiver inside was never called"
    );
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let inside = receiver(vec![], true).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bouncer = format!("http://{}/hook", listener.local_addr().unwrap());
    let target = inside.url.clone();
    let app_router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let target = target.clone();
            async move { (StatusCode::FOUND, [(axum::http::header::LOCATION, target)]) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app_router).await.unwrap() });
    let app = spawn_with(|s| {
        fast(s);
        s.alerts.max_attempts = 1;
    })
    .await;
    let (ent, sub) = subscribed(&app, "bounce@test.example", &bouncer).await;
    let (s, _) = send(
        &ent,
        "POST",
        app.url(&format!("/api/v1/alerts/{sub}/test")),
        None,
    )
    .await;
    assert_eq!(s, 202);
    let log = app.url(&format!("/api/v1/alerts/{sub}/deliveries"));
    let d = eventually("the attempt at the bouncer", || async {
        let (_, d) = send(&ent, "GET", log.clone(), None).await;
        (d["items"][0]["status"] == "failed").then_some(d)
    })
    .await;
    let item = &d["items"][0];
    assert_eq!(item["attempt_log"][0]["status_code"], 302, "{d}");
    assert!(
        item["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("redirects are not followed"),
        "{d}"
    );
    assert!(
        inside.hits().is_empty(),
        "the redirect's target was never called"
    );
}

#[tokio::test]
async fn webhook_secrets_are_sealed_at_rest_and_sealed_again_on_rotation() {
    let hook = receiver(vec![], true).await;
    let app = spawn_with(fast).await;
    let ent = client_with(
        &user_token(
            &app.ctx,
            "seal@test.example",
            "enterprise",
            Some("鞍钢集团"),
        )
        .await,
    );
    let (_, need) = send(&ent, "POST", app.url("/api/v1/needs"), Some(need_body())).await;
    let (s, sub) = send(
        &ent,
        "POST",
        app.url("/api/v1/alerts"),
        Some(json!({"kind": "need_matches", "need_id": need["id"], "webhook_url": hook.url})),
    )
    .await;
    assert_eq!(s, 201, "{sub}");
    let secret = sub["secret"].as_str().unwrap().to_string();
    let dir = app.ctx.settings.data.dir.clone();
    let db = format!("sqlite://{}", dir.join("duijie.db").display());
    let stored = || {
        let db = db.clone();
        async move {
            let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
            let s: String = sqlx::query_scalar("SELECT secret FROM alert_subscriptions")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            s
        }
    };
    let at_rest = stored().await;
    assert!(
        at_rest.starts_with("enc:v1:") && !at_rest.contains(&secret),
        "{at_rest}"
    );
    // deliveries are still signed with the secret the owner was shown
    let id = sub["id"].as_i64().unwrap();
    let (s, _) = send(
        &ent,
        "POST",
        app.url(&format!("/api/v1/alerts/{id}/test")),
        None,
    )
    .await;
    assert_eq!(s, 202);
    let hit = eventually("the test delivery", || async {
        hook.hits().first().cloned()
    })
    .await;
    assert_eq!(hit.signature, expected_signature(&secret, &hit.body));
    // rotation with the command line: a new key, the old one kept to open what it sealed
    // no key was configured: the one made at first start is kept in the database
    let old_key: String = {
        let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
        let k = sqlx::query_scalar("SELECT value FROM server_keys WHERE name = 'webhook_secrets'")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        k
    };
    let new_key = "ab".repeat(32);
    let out = crate::helpers::binary::duijie_command()
        .arg("--data-dir")
        .arg(&dir)
        .args(["admin", "rotate-webhook-secrets"])
        .env("DUIJIE__ALERTS__SECRET_KEY", &new_key)
        .env("DUIJIE__ALERTS__PREVIOUS_SECRET_KEYS", old_key.trim())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("sealed 1 webhook secrets"));
    let rotated = stored().await;
    assert!(
        rotated.starts_with("enc:v1:") && rotated != at_rest,
        "{rotated}"
    );
}
