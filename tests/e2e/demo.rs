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
    assert!(
        results["total"].as_i64().unwrap() >= 400,
        "{}",
        results["total"]
    );
    assert!(
        needs["total"].as_i64().unwrap() >= 250,
        "{}",
        needs["total"]
    );
    assert!(
        experts["total"].as_i64().unwrap() >= 120,
        "{}",
        experts["total"]
    );
    let (s, r) = app.get("/api/v1/search?q=氢能&kind=results").await;
    assert_eq!(s, 200);
    assert!(r["total"].as_i64().unwrap() >= 10, "{r}");
    let marked = r["hits"].as_array().unwrap().iter().filter(|h| {
        let hl = &h["highlights"];
        ["title", "summary", "keywords"]
            .iter()
            .any(|f| hl[*f].as_str().unwrap_or("").contains("<mark>"))
    });
    assert!(marked.count() >= 5, "hydrogen hits are highlighted: {r}");
    // every programme industry has listings
    let (_, all) = app.get("/api/v1/search?q=&kind=results&limit=1").await;
    assert!(
        all["facets"]["industry"].as_object().unwrap().len() >= 18,
        "{}",
        all["facets"]["industry"]
    );
    // the universities named by the programme are there
    let (_, neu) = app
        .get("/api/v1/organizations?city=沈阳&kind=university&limit=100")
        .await;
    let names: Vec<&str> = neu["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"东北大学") && names.contains(&"沈阳药科大学"),
        "{names:?}"
    );
}

/// An organiser's run on the demo data: event, participants from the demo organisations,
/// a "must meet" preference, generation, an edit, and the XLSX read back.
#[tokio::test]
async fn event_on_the_demo_data_is_paired_edited_and_exported() {
    use serde_json::{Value, json};
    use std::collections::BTreeMap;
    let app = spawn_with(|s| s.demo.load = true).await;
    let by_org = |v: &Value| {
        let mut m: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for it in v["items"].as_array().unwrap() {
            if let Some(o) = it["organization"]["id"].as_i64() {
                m.entry(o).or_default().push(it["id"].as_i64().unwrap());
            }
        }
        m
    };
    let (_, needs) = app
        .get("/api/v1/needs?status=published&industry=new_energy&limit=100")
        .await;
    let (_, results) = app
        .get("/api/v1/results?status=published&industry=new_energy&limit=100")
        .await;
    let enterprises = by_org(&needs);
    let universities = by_org(&results);
    assert!(
        enterprises.len() >= 3 && universities.len() >= 3,
        "demo data has hydrogen/energy enterprises and universities"
    );

    let (s, ev) = app
        .post("/api/v1/events", &json!({"name": "新能源与氢能校企成果对接会", "date": "2026-12-10", "format": "fair", "slot_count": 6, "table_count": 8, "max_per_enterprise": 3, "max_per_result": 2}))
        .await;
    assert_eq!(s, 201, "{ev}");
    let base = format!("/api/v1/events/{}", ev["id"]);
    for (org, ids) in enterprises.iter().take(6) {
        let listings: Vec<Value> = ids
            .iter()
            .map(|id| json!({"kind": "need", "id": id}))
            .collect();
        let (s, p) = app
            .post(
                &format!("{base}/participants"),
                &json!({"organization_id": org, "listings": listings}),
            )
            .await;
        assert!(s == 201 || s == 200, "{p}");
    }
    for (org, ids) in universities.iter().take(8) {
        let listings: Vec<Value> = ids
            .iter()
            .map(|id| json!({"kind": "result", "id": id}))
            .collect();
        let (s, p) = app
            .post(
                &format!("{base}/participants"),
                &json!({"organization_id": org, "listings": listings}),
            )
            .await;
        assert!(s == 201 || s == 200, "{p}");
    }
    let (first_need, first_result) = (
        enterprises.values().next().unwrap()[0],
        universities.values().next().unwrap()[0],
    );
    let (s, p) = app.post(&format!("{base}/preferences"), &json!({"need_id": first_need, "result_id": first_result, "side": "enterprise", "preference": "must"})).await;
    assert!(s == 201 || s == 200, "{p}");

    let (s, g) = app
        .post(&format!("{base}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{g}");
    let items = g["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .any(|i| i["partner"]["id"] == first_result && i["forced"] == true),
        "the must-meet pair is placed: {g}"
    );
    // nobody twice in one slot
    let mut busy = std::collections::HashSet::new();
    for i in items {
        assert!(
            busy.insert((
                i["slot"].as_i64(),
                i["enterprise"]["organization_id"].as_i64()
            )),
            "enterprise double-booked"
        );
        assert!(
            busy.insert((i["slot"].as_i64(), i["partner"]["id"].as_i64().map(|x| -x))),
            "result double-booked"
        );
        assert!(i["table"].as_i64().unwrap() < 8);
    }
    // an edit that breaks a constraint is refused with a reason; removing a free pair works
    let forced = items.iter().find(|i| i["forced"] == true).unwrap();
    let r = app
        .client
        .delete(app.url(&format!("{base}/pairings/{}", forced["id"])))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let body: Value = r.json().await.unwrap();
    assert_eq!(error_code(&body), "forced_pair");
    let free = items
        .iter()
        .find(|i| i["forced"] == false)
        .expect("a free pair");
    assert_eq!(
        app.delete(&format!("{base}/pairings/{}", free["id"])).await,
        204
    );

    let r = app
        .client
        .get(app.url(&format!("{base}/export.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let bytes = r.bytes().await.unwrap();
    use calamine::Reader;
    let mut wb =
        calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a readable workbook");
    let list = wb.worksheet_range("对接清单").unwrap();
    assert_eq!(
        list.height(),
        items.len(),
        "header + every meeting but the removed one"
    );
}

#[tokio::test]
async fn demo_mode_comes_with_an_account_per_role() {
    let app = spawn_with(|s| s.demo.load = true).await;
    let file = std::fs::read_to_string(
        app.ctx
            .settings
            .data
            .dir
            .join(duijie_app::demo::DEMO_ACCOUNTS_FILE),
    )
    .expect("demo accounts are written to the data directory");
    for role in ["enterprise", "researcher", "organizer", "broker", "admin"] {
        assert!(file.contains(role), "{file}");
    }
    // the printed enterprise password signs in, as an enterprise member of a demo company
    let line = file
        .lines()
        .find(|l| l.contains("qiye@demo.example"))
        .unwrap();
    let password = line
        .split("password: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap();
    let r = app
        .anon
        .post(app.url("/api/v1/sessions"))
        .json(&serde_json::json!({"email": "qiye@demo.example", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["user"]["role"], "enterprise");
    assert!(body["user"]["organization_id"].as_i64().is_some());
    // its inbox is not empty: one request waits for the demo researcher's organisation, one
    // was accepted with a meeting and opened a ledger entry
    let (_, all) = app.get("/api/v1/connections?box=all").await;
    let statuses: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"pending") && statuses.contains(&"accepted"),
        "{all}"
    );
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["ledger_entry_id"].as_i64().is_some()),
        "{all}"
    );
    // outside demo mode there are none
    let plain = spawn_app().await;
    let (_, users) = plain.get("/api/v1/users").await;
    assert_eq!(users["total"], 1, "only the test's administrator: {users}");
}
