//! A fresh data directory serves the demo data: the README's first command.

use crate::helpers::*;

#[tokio::test]
async fn fresh_start_serves_demo_data_with_highlighted_hydrogen_results() {
    let app = spawn_with(|s| s.demo.load = true).await;
    let (_, orgs) = app.get("/api/v1/organizations?limit=1").await;
    let (_, results) = app.get("/api/v1/results?limit=1").await;
    let (_, needs) = app.get("/api/v1/needs?limit=1").await;
    let (_, experts) = app.get("/api/v1/experts?limit=1").await;
    assert!(orgs["total"].as_i64().unwrap() >= 60, "{}", orgs["total"]);
    assert!(results["total"].as_i64().unwrap() >= 400, "{}", results["total"]);
    assert!(needs["total"].as_i64().unwrap() >= 250, "{}", needs["total"]);
    assert!(experts["total"].as_i64().unwrap() >= 120, "{}", experts["total"]);
    let (s, r) = app.get("/api/v1/search?q=氢能&kind=results").await;
    assert_eq!(s, 200);
    assert!(r["total"].as_i64().unwrap() >= 10, "{r}");
    let marked = r["hits"].as_array().unwrap().iter().filter(|h| {
        let hl = &h["highlights"];
        ["title", "summary", "keywords"].iter().any(|f| hl[*f].as_str().unwrap_or("").contains("<mark>"))
    });
    assert!(marked.count() >= 5, "hydrogen hits are highlighted: {r}");
    // every programme industry has listings
    let (_, all) = app.get("/api/v1/search?q=&kind=results&limit=1").await;
    assert!(all["facets"]["industry"].as_object().unwrap().len() >= 18, "{}", all["facets"]["industry"]);
    // the universities named by the programme are there
    let (_, neu) = app.get("/api/v1/organizations?city=沈阳&kind=university&limit=100").await;
    let names: Vec<&str> = neu["items"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"东北大学") && names.contains(&"沈阳药科大学"), "{names:?}");
}
