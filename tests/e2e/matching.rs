//! Matching endpoints: explained matches for needs, results and unsaved texts.

use crate::helpers::*;
use serde_json::{Value, json};

async fn seed(app: &TestApp) -> (i64, i64, i64) {
    app.post(
        "/api/v1/organizations",
        &json!({"name": "大连理工大学", "kind": "university", "city": "大连"}),
    )
    .await;
    app.post(
        "/api/v1/organizations",
        &json!({"name": "营口氢能装备有限公司", "kind": "enterprise", "city": "营口"}),
    )
    .await;
    let (_, r) = app
        .post(
            "/api/v1/results",
            &json!({"title": "稀土金属催化剂低温制氢技术", "summary": "采用稀土金属催化剂，在低温下实现氨分解制氢，制氢能耗降低30%，适用于加氢站现场制氢。",
                    "keywords": ["稀土", "催化剂", "制氢"], "industry": "new_energy", "maturity": "pilot", "transfer_modes": ["license"],
                    "price_min": 1000000, "price_max": 3000000, "organization": "大连理工大学"}),
        )
        .await;
    let (_, other) = app
        .post(
            "/api/v1/results",
            &json!({"title": "果蔬冷链保鲜包装材料", "summary": "可降解保鲜膜延长果蔬货架期，适用于冷链物流。", "industry": "food_processing", "organization": "大连理工大学"}),
        )
        .await;
    for i in 0..8 {
        app.post("/api/v1/results", &json!({"title": format!("轨道车辆转向架检测 {i}"), "summary": "转向架构架焊缝超声检测与寿命评估。", "industry": "rail_transit"})).await;
    }
    let (_, n) = app
        .post(
            "/api/v1/needs",
            &json!({"title": "寻求稀土催化制氢技术", "description": "我公司计划建设加氢站，希望采用稀土催化制氢降低现场制氢成本。", "industry": "新能源",
                    "cooperation_modes": ["license", "joint_development"], "budget_min": 500000, "budget_max": 2000000, "required_maturity": "pilot",
                    "organization": "营口氢能装备有限公司", "deadline": "2030-12-31"}),
        )
        .await;
    (
        n["id"].as_i64().unwrap(),
        r["id"].as_i64().unwrap(),
        other["id"].as_i64().unwrap(),
    )
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn need_matches_are_ranked_and_explained() {
    let app = spawn_app().await;
    let (need, good, unrelated) = seed(&app).await;
    let (s, m) = app
        .get(&format!(
            "/api/v1/needs/{need}/matches?kind=results&limit=10"
        ))
        .await;
    assert_eq!(s, 200, "{m}");
    let ranked = ids(&m);
    assert_eq!(ranked.first(), Some(&good), "{m}");
    if let Some(pos) = ranked.iter().position(|id| *id == unrelated) {
        assert!(pos > 0);
    }
    let top = &m["items"][0];
    let terms: Vec<&str> = top["matched_terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        terms
            .iter()
            .any(|t| t.contains("制氢") || t.contains("稀土")),
        "{terms:?}"
    );
    // the breakdown adds up to the score and every reason is Chinese
    let breakdown = top["breakdown"].as_array().unwrap();
    let sum: f64 = breakdown
        .iter()
        .map(|c| c["score"].as_f64().unwrap() * c["weight"].as_f64().unwrap())
        .sum();
    assert!((sum - top["score"].as_f64().unwrap()).abs() < 1e-6, "{top}");
    let weights: f64 = breakdown
        .iter()
        .map(|c| c["weight"].as_f64().unwrap())
        .sum();
    assert!((weights - 1.0).abs() < 1e-6);
    for c in breakdown {
        let reason = c["reason"].as_str().unwrap();
        assert!(
            reason
                .chars()
                .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)),
            "reason in Chinese: {reason}"
        );
    }
    assert!(
        top["highlights"]["title"]
            .as_str()
            .unwrap()
            .contains("<mark>"),
        "{top}"
    );

    // the reciprocal view gives the pair the same score
    let (s, back) = app
        .get(&format!("/api/v1/results/{good}/matches?kind=needs"))
        .await;
    assert_eq!(s, 200, "{back}");
    let mine = back["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == need)
        .expect("the need is proposed for the result");
    assert!((mine["score"].as_f64().unwrap() - top["score"].as_f64().unwrap()).abs() < 1e-9);

    // a request may override weights: text only
    let (_, t) = app.get(&format!("/api/v1/needs/{need}/matches?kind=results&weight_industry=0&weight_region=0&weight_maturity=0&weight_modes=0&weight_budget=0&weight_freshness=0")).await;
    assert_eq!(
        t["items"][0]["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["weight"].as_f64().unwrap() > 0.0)
            .count(),
        1
    );
}

#[tokio::test]
async fn unsaved_text_matches_and_withdrawn_listings_are_never_proposed() {
    let app = spawn_app().await;
    let (_, good, _) = seed(&app).await;
    let (s, m) = app
        .post(
            "/api/v1/match",
            &json!({"text": "我们想用稀土催化剂在低温下制氢", "kind": "results", "limit": 5}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(ids(&m).first(), Some(&good));
    let (s, _) = app
        .patch(
            &format!("/api/v1/results/{good}"),
            &json!({"status": "withdrawn"}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, m) = app
        .post(
            "/api/v1/match",
            &json!({"text": "我们想用稀土催化剂在低温下制氢", "kind": "results"}),
        )
        .await;
    assert!(
        !ids(&m).contains(&good),
        "withdrawn results are never proposed: {m}"
    );
}

#[tokio::test]
async fn bad_match_requests_are_client_errors() {
    let app = spawn_app().await;
    let (need, _, _) = seed(&app).await;
    for (body, code) in [
        (
            json!({"text": "制氢", "kind": "patents"}),
            "invalid_parameter",
        ),
        (json!({"text": "", "kind": "results"}), "empty_text"),
        (
            json!({"text": "制氢", "kind": "results", "limit": 0}),
            "invalid_parameter",
        ),
        (
            json!({"text": "制氢", "kind": "results", "limit": 10000}),
            "invalid_parameter",
        ),
        (
            json!({"text": "制氢", "kind": "results", "weights": {"text": -1}}),
            "invalid_weight",
        ),
        (
            json!({"text": "制氢", "kind": "results", "weights": {"text": "heavy"}}),
            "invalid_weight",
        ),
        (
            json!({"text": "制氢", "kind": "results", "weights": {"colour": 1}}),
            "invalid_weights",
        ),
        (
            json!({"text": "制氢", "kind": "results", "filters": {"industry": "航天"}}),
            "invalid_filters",
        ),
        (json!({"text": "制氢"}), "missing_parameter"),
    ] {
        let (s, e) = app.post("/api/v1/match", &body).await;
        assert!((400..500).contains(&s), "{body} → {s} {e}");
        assert_eq!(error_code(&e), code, "{body}");
    }
    let (s, e) = app
        .get(&format!("/api/v1/needs/{need}/matches?kind=needs"))
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_parameter"));
    let (s, e) = app.get("/api/v1/needs/99999/matches").await;
    assert_eq!((s, error_code(&e).as_str()), (404, "not_found"));
    let (s, e) = app
        .get(&format!("/api/v1/needs/{need}/matches?weight_text=abc"))
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_weight"));
}
