//! Bad input gets a 4xx with `{error: {code, message}}` and changes nothing.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn bad_requests_are_clear_client_errors() {
    let app = spawn_app().await;
    // wrong enum, overlong text, unknown field: field-level 422
    let (s, e) = app
        .post(
            "/api/v1/results",
            &json!({"title": "x".repeat(201), "summary": "s", "industry": "航天", "colour": 1}),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (422, "validation_failed"));
    let fields: Vec<&str> = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["title", "industry", "colour"]);
    assert!(
        e["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("最多 200 字"),
        "{e}"
    );

    // broken JSON, not an object, empty body
    let (s, e) = app
        .post_raw(
            "/api/v1/needs",
            "application/json",
            b"{\"title\": ".to_vec(),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_json"));
    let (s, e) = app
        .post_raw("/api/v1/needs", "application/json", b"[1,2]".to_vec())
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_json"));
    let (s, e) = app
        .post_raw("/api/v1/needs", "application/json", Vec::new())
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "empty_body"));

    // ids, parameters, paths
    let (s, e) = app.get("/api/v1/results/abc").await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_id"));
    let (s, e) = app.get("/api/v1/results/999").await;
    assert_eq!((s, error_code(&e).as_str()), (404, "not_found"));
    let (s, e) = app.get("/api/v1/results?limit=0").await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_parameter"));
    let (s, e) = app.get("/api/v1/results?limit=10000").await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_parameter"));
    let (s, e) = app.get("/api/v1/results?colour=red").await;
    assert_eq!((s, error_code(&e).as_str()), (400, "unknown_parameter"));
    let (s, e) = app.get("/api/v1/search?q=氢能&kind=patents").await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_parameter"));
    let (s, e) = app.get("/api/v1/search?q=氢能&zone=moon").await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_parameter"));
    let (s, e) = app.get("/api/v1/nothing-here").await;
    assert_eq!((s, error_code(&e).as_str()), (404, "not_found"));
    let (s, e) = app
        .post(
            "/api/v1/organizations",
            &json!({"name": "辽宁大学", "website": "ftp://x"}),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (422, "validation_failed"));

    // duplicate organisation name: 409, not 500
    let (s, _) = app
        .post("/api/v1/organizations", &json!({"name": "辽宁大学"}))
        .await;
    assert_eq!(s, 201);
    let (s, e) = app
        .post("/api/v1/organizations", &json!({"name": "辽宁大学"}))
        .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "duplicate_name"));

    // nothing half-written
    let (_, list) = app.get("/api/v1/results").await;
    assert_eq!(list["total"], 0);
    let (_, list) = app.get("/api/v1/needs").await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn injected_html_is_escaped_in_highlights() {
    let app = spawn_app().await;
    let (s, _) = app.post("/api/v1/results", &json!({"title": "<script>alert(1)</script>储能电池", "summary": "\"quoted\" & <b>bold</b> 储能"})).await;
    assert_eq!(s, 201);
    let (_, r) = app.get("/api/v1/search?q=储能").await;
    let h = &r["hits"][0]["highlights"];
    for part in [h["title"].as_str().unwrap(), h["summary"].as_str().unwrap()] {
        assert!(
            !part.contains("<script>") && !part.contains("<b>"),
            "{part}"
        );
    }
    assert!(h["title"].as_str().unwrap().contains("&lt;script&gt;"));
}
