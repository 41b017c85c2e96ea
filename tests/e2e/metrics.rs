//! `/metrics`: what an operator's Prometheus sees after some traffic.

use crate::helpers::*;
use serde_json::json;

/// The value of the sample line that starts with `series` (labels included).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_runs_and_index_documents() {
    let app = spawn_app().await;
    let mut body = String::new();
    for (id, title) in [
        ("M-1", "电解水制氢电堆"),
        ("M-2", "固态储氢罐"),
        ("M-3", "稀土永磁电机"),
    ] {
        body.push_str(&json!({"external_id": id, "title": title, "summary": "示例"}).to_string());
        body.push('\n');
    }
    body.push_str("{broken\n");
    let (s, r) = app
        .post_raw(
            "/api/v1/import?kind=results",
            "application/x-ndjson",
            body.into_bytes(),
        )
        .await;
    assert_eq!((s, r["imported"].as_i64()), (422, Some(3)), "{r}");
    for _ in 0..3 {
        let (s, _) = app.get("/api/v1/search?q=制氢").await;
        assert_eq!(s, 200);
    }
    let (s, _) = app.get("/api/v1/results/987654").await;
    assert_eq!(s, 404);

    let r = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(
        r.status().as_u16(),
        200,
        "an administrator reads the metrics"
    );
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = r.text().await.unwrap();

    assert_eq!(
        sample(
            &text,
            "duijie_http_requests_total{method=\"GET\",route=\"/api/v1/search\",status=\"200\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "duijie_http_requests_total{method=\"GET\",route=\"/api/v1/results/{id}\",status=\"404\"}"
        ),
        Some(1.0),
        "counted under the route template: {text}"
    );
    assert!(!text.contains("987654"), "raw paths never become labels");
    assert_eq!(
        sample(
            &text,
            "duijie_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/search\",status=\"200\"}"
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(&text, "duijie_import_runs_total{outcome=\"ok\"}"),
        Some(1.0)
    );
    assert_eq!(sample(&text, "duijie_import_records_total"), Some(4.0));
    assert_eq!(
        sample(&text, "duijie_index_documents{kind=\"results\"}"),
        Some(3.0)
    );
    assert_eq!(sample(&text, "duijie_index_lag_changes"), Some(0.0));
    assert!(sample(&text, "duijie_index_size_bytes").unwrap() > 0.0);
    assert!(sample(&text, "process_resident_memory_bytes").unwrap() > 1e6);
    assert_eq!(
        sample(&text, "duijie_pairing_runs_total{outcome=\"ok\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &text,
            "duijie_webhook_deliveries_total{outcome=\"delivered\"}"
        ),
        Some(0.0)
    );
    // every sample line belongs to a declared family
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap();
        let family = name
            .trim_end_matches("_bucket")
            .trim_end_matches("_sum")
            .trim_end_matches("_count");
        assert!(
            text.contains(&format!("# TYPE {family} "))
                || text.contains(&format!("# TYPE {name} ")),
            "{line}"
        );
    }
}

#[tokio::test]
async fn metrics_are_not_public_but_reach_administrators_the_scraper_token_and_their_own_listener()
{
    let token = "scraper-token-0123456789";
    let app = spawn_with(|s| {
        s.metrics.token = token.into();
        s.metrics.listen = "127.0.0.1:0".into();
    })
    .await;
    let r = app.anon.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "anonymous callers get no metrics");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "unauthenticated");
    let member =
        client_with(&user_token(&app.ctx, "m@test.example", "enterprise", Some("某企业")).await);
    let r = member.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403, "a member is not an operator");
    let scrape = |auth: &str| {
        app.anon
            .get(app.url("/metrics"))
            .header("authorization", format!("Bearer {auth}"))
            .send()
    };
    let r = scrape(token).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("duijie_http_requests_total")
    );
    let r = scrape("scraper-token-0123456780").await.unwrap();
    assert_eq!(r.status().as_u16(), 401, "a wrong token is refused");
    // the scraper's token is good for /metrics only
    let r = app
        .anon
        .get(app.url("/api/v1/me"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // the metrics-only listener needs nothing, and serves nothing else
    let m = app.metrics_base.clone().expect("metrics listener");
    let r = app.anon.get(format!("{m}/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = app
        .anon
        .get(format!("{m}/api/v1/results"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
