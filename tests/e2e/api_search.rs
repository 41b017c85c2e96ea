//! Search: facets, filters, pagination, and real Chinese text (CSL papers).

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn facets_filters_and_pagination() {
    let app = spawn_app().await;
    for (name, city) in [
        ("大连理工大学", "大连"),
        ("东北大学", "沈阳"),
        ("辽宁工程技术大学", "阜新"),
    ] {
        app.post(
            "/api/v1/organizations",
            &json!({"name": name, "kind": "university", "city": city}),
        )
        .await;
    }
    let mut lines = Vec::new();
    for i in 0..30 {
        let org = ["大连理工大学", "东北大学", "辽宁工程技术大学"][i % 3];
        let industry = if i % 2 == 0 {
            "new_energy"
        } else {
            "new_materials"
        };
        lines.push(json!({"external_id": format!("F-{i}"), "title": format!("储能材料研究 {i}"), "summary": "锂离子电池正极材料", "organization": org, "industry": industry, "maturity": "lab"}));
    }
    let (s, _) = app.import_jsonl("results", &lines).await;
    assert_eq!(s, 200);
    let (_, r) = app.get("/api/v1/search?q=储能&limit=7").await;
    assert_eq!(r["total"], 30);
    assert_eq!(r["hits"].as_array().unwrap().len(), 7);
    assert_eq!(r["facets"]["industry"]["new_energy"], 15);
    assert_eq!(r["facets"]["city"]["阜新"], 10);
    assert_eq!(
        r["facets"]["zone"]["western_zone"], 10,
        "阜新 is in the western zone"
    );
    assert_eq!(
        r["facets"]["zone"]["shenyang_metro"], 20,
        "沈阳 and 阜新 are in the Shenyang circle"
    );
    let (_, r) = app
        .get("/api/v1/search?q=储能&zone=western_zone&industry=新材料")
        .await;
    assert_eq!(r["total"], 5);
    let (_, page) = app.get("/api/v1/search?q=储能&offset=28&limit=10").await;
    assert_eq!(page["hits"].as_array().unwrap().len(), 2);
    let (_, r) = app.get("/api/v1/search?q=储能&maturity=pilot").await;
    assert_eq!(r["total"], 0);
}

/// The CSL papers imported through the API: 1,000 results, and every paper's exact title
/// finds that paper first.
#[tokio::test]
async fn csl_papers_are_found_by_exact_title() {
    let Some(path) = csl_file() else { return };
    let app = spawn_app().await;
    let text = std::fs::read_to_string(path).unwrap();
    let mut body = String::new();
    let mut titles = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = format!(
            "CSL-{}",
            v["id"]
                .as_i64()
                .map(|i| i.to_string())
                .unwrap_or_else(|| v["id"].as_str().unwrap_or("").to_string())
        );
        titles.push((id.clone(), v["title"].as_str().unwrap().to_string()));
        body.push_str(&json!({"external_id": id, "title": v["title"], "summary": v["abstract"], "keywords": v["keywords"]}).to_string());
        body.push('\n');
    }
    let (s, r) = app
        .post_raw(
            "/api/v1/import?kind=results",
            "application/x-ndjson",
            body.into_bytes(),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["imported"], 1000);
    // every title, in-process (the same search the endpoint runs)
    let mut misses = Vec::new();
    for (id, title) in &titles {
        let r = duijie_app::search::search(
            &app.ctx,
            duijie_app::search::SearchRequest {
                q: title.clone(),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        if r.hits.first().and_then(|h| h.external_id.as_deref()) != Some(id.as_str()) {
            misses.push(title.clone());
        }
    }
    assert!(
        misses.is_empty(),
        "{} titles did not find their paper first: {:?}",
        misses.len(),
        &misses[..misses.len().min(5)]
    );
    // and a sample through HTTP
    for (id, title) in titles.iter().step_by(97) {
        let qs = serde_urlencoded::to_string([("q", title.as_str()), ("kind", "results")]).unwrap();
        let (_, r) = app.get(&format!("/api/v1/search?{qs}")).await;
        assert_eq!(r["hits"][0]["external_id"], id.as_str());
        assert!(
            r["hits"][0]["highlights"]["title"]
                .as_str()
                .unwrap()
                .contains("<mark>")
        );
    }
}
