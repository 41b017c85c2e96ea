//! The outcomes ledger and the dashboard end to end: the demo event's pairings are in the
//! ledger, outcomes move them up to a contract, the statistics and the dashboard change,
//! an export re-imported changes nothing, and the five-per-kind rule holds.

use crate::helpers::*;
use serde_json::{Value, json};

async fn html(client: &reqwest::Client, url: &str) -> (u16, String) {
    let r = client.get(url).send().await.expect("request");
    let s = r.status().as_u16();
    (s, r.text().await.unwrap_or_default().replace("&#x2f;", "/"))
}

/// The number shown in a dashboard figure `<span ... id="ID">N</span>`.
fn kpi(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} on the page"))
        + marker.len();
    page[start..].split('<').next().unwrap_or("").to_string()
}

async fn upload(app: &TestApp, bytes: Vec<u8>, content_type: &str) -> (u16, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/ledger/import"))
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .expect("request");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[tokio::test]
async fn demo_event_outcomes_reach_the_dashboard_and_the_ledger_round_trips() {
    let app = spawn_with(|s| s.demo.load = true).await;

    // the demo event's pairings are in the ledger, a few already with outcomes
    let (s, page) = app.get("/api/v1/ledger?kind=pairing&limit=100").await;
    assert_eq!(s, 200, "{page}");
    let total = page["total"].as_i64().unwrap();
    assert!(total >= 10, "the demo event paired enough: {total}");
    let items = page["items"].as_array().unwrap();
    let statuses: Vec<&str> = items.iter().filter_map(|e| e["status"].as_str()).collect();
    assert!(
        statuses.contains(&"contract") && statuses.contains(&"declined"),
        "{statuses:?}"
    );
    let signed = items.iter().find(|e| e["status"] == "contract").unwrap();
    assert_eq!(signed["amount_yuan"], 1_200_000);
    assert_eq!(signed["status_label"], "已签约");
    assert!(signed["title"].as_str().unwrap().contains(" ↔ "));

    let (_, before) = app.get("/api/v1/stats").await;
    let (s, dash_before) = html(&app.anon, &app.url("/dashboard")).await;
    assert_eq!(s, 200, "the dashboard is public");
    assert_eq!(
        kpi(&dash_before, "kpi-contracts"),
        before["contracts"].to_string()
    );
    assert!(dash_before.contains("<svg") && dash_before.contains("class=\"bar-contracts\""));

    // record outcomes on an untouched pair, up to a contract
    let entry = items
        .iter()
        .find(|e| e["status"] == "proposed")
        .expect("an untouched pair");
    let id = entry["id"].as_i64().unwrap();
    let outcomes = format!("/api/v1/ledger/{id}/outcomes");
    let (s, e) = app.post(&outcomes, &json!({"status": "accepted"})).await;
    assert_eq!((s, e["status"].as_str()), (200, Some("accepted")), "{e}");
    let (s, e) = app
        .post(
            &outcomes,
            &json!({"status": "met", "date": "2026-05-20", "expected_status": "accepted"}),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(e["met_on"], "2026-05-20");
    // bad outcomes: clear 4xx, nothing changes
    let (s, err) = app.post(&outcomes, &json!({"status": "contract"})).await;
    assert_eq!(s, 422, "{err}");
    let fields: Vec<&str> = err["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["amount_yuan", "contract_mode"]);
    let (s, err) = app.post(&outcomes, &json!({"status": "accepted"})).await;
    assert_eq!(
        (s, error_code(&err).as_str()),
        (409, "invalid_transition"),
        "{err}"
    );
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("只能向前")
    );
    let (s, err) = app
        .post(
            &outcomes,
            &json!({"status": "intention", "expected_status": "proposed"}),
        )
        .await;
    assert_eq!(
        (s, error_code(&err).as_str()),
        (409, "ledger_changed"),
        "{err}"
    );
    for bad in [
        json!({"status": "won"}),
        json!({"status": "contract", "amount_yuan": -3, "contract_mode": "license"}),
        json!({"status": "contract", "amount_yuan": "很多", "contract_mode": "license"}),
        json!({"status": "intention", "date": "2026-13-01"}),
        json!({"status": "dropped"}),
        json!({"status": "met", "colour": "red"}),
    ] {
        let (s, err) = app.post(&outcomes, &bad).await;
        assert_eq!(s, 422, "{bad}: {err}");
        assert!(err["error"]["message"].as_str().unwrap().contains(" / "));
    }
    let (s, _) = app
        .post("/api/v1/ledger/99999/outcomes", &json!({"status": "met"}))
        .await;
    assert_eq!(s, 404);
    let (s, e) = app
        .post(
            &outcomes,
            &json!({"status": "contract", "amount_yuan": 2_500_000, "contract_mode": "transfer", "contract_date": "2026-06-18"}),
        )
        .await;
    assert_eq!(s, 200, "{e}");
    let (_, detail) = app.get(&format!("/api/v1/ledger/{id}")).await;
    let steps: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["to_status"].as_str())
        .collect();
    assert_eq!(steps, ["proposed", "accepted", "met", "contract"]);
    assert_eq!(detail["history"][3]["actor"], "admin@test.example");

    // the statistics and the dashboard moved
    let (_, after) = app.get("/api/v1/stats").await;
    assert_eq!(
        after["contracts"],
        before["contracts"].as_i64().unwrap() + 1
    );
    assert_eq!(
        after["contract_value_yuan"],
        before["contract_value_yuan"].as_i64().unwrap() + 2_500_000
    );
    let june = after["monthly"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "2026-06")
        .expect("June 2026 in the trend");
    assert!(june["contracts"].as_i64().unwrap() >= 1);
    let (_, dash_after) = html(&app.anon, &app.url("/dashboard")).await;
    assert_eq!(
        kpi(&dash_after, "kpi-contracts"),
        after["contracts"].to_string()
    );
    assert_ne!(
        kpi(&dash_after, "kpi-value"),
        kpi(&dash_before, "kpi-value")
    );
    assert!(
        dash_after.contains("data-month=\"2026-06\""),
        "the trend has the June bar"
    );
    let (s, _) = app.get("/api/v1/stats?year=abc").await;
    assert_eq!(s, 400);

    // export, then re-import the same file: nothing new, nothing changed
    let (_, all) = app.get("/api/v1/ledger?limit=1").await;
    let total_all = all["total"].as_i64().unwrap();
    let r = app
        .client
        .get(app.url("/api/v1/ledger/export?format=xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    {
        use calamine::Reader;
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.clone())).expect("xlsx");
        let sheet = wb.worksheet_range("台账").expect("sheet 台账");
        assert_eq!(
            sheet.height() as i64,
            total_all + 1,
            "a row per entry plus the header"
        );
        let row = sheet
            .rows()
            .find(|r| r[0].to_string() == id.to_string())
            .expect("the entry's row");
        assert_eq!(row[11].to_string(), "已签约");
        assert_eq!(row[12].to_string(), "2500000");
    }
    let (s, report) = upload(&app, bytes.clone(), XLSX).await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(
        (
            report["created"].as_i64(),
            report["updated"].as_i64(),
            report["unchanged"].as_i64()
        ),
        (Some(0), Some(0), Some(total_all)),
        "{report}"
    );
    let (_, again) = app.get(&format!("/api/v1/ledger/{id}")).await;
    assert_eq!(
        again["history"].as_array().unwrap().len(),
        4,
        "no duplicate history"
    );

    // a CSV edited by hand: one status moved, one new inter-university project; twice
    let r = app
        .client
        .get(app.url("/api/v1/ledger/export?format=csv&status=proposed"))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    let mut lines: Vec<String> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(String::from)
        .collect();
    let moved_id: i64 = lines[1].split(',').next().unwrap().parse().unwrap();
    lines[1] = lines[1].replace("已推荐", "已洽谈");
    let (_, unis) = app
        .get("/api/v1/organizations?kind=university&limit=2")
        .await;
    let u1 = unis["items"][0]["name"].as_str().unwrap().to_string();
    let u2 = unis["items"][1]["name"].as_str().unwrap().to_string();
    lines.push(format!(
        ",校校合作,,,{u1},{u2},联合培养,联合培养材料学博士生,,,2026,已推荐,,,,,,,"
    ));
    let csv = lines.join("\n");
    let (s, report) = upload(&app, csv.clone().into_bytes(), "text/csv").await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(
        (report["created"].as_i64(), report["updated"].as_i64()),
        (Some(1), Some(1)),
        "{report}"
    );
    let (_, moved) = app.get(&format!("/api/v1/ledger/{moved_id}")).await;
    assert_eq!(moved["status"], "met");
    let (s, report) = upload(&app, csv.into_bytes(), "text/csv").await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(
        (report["created"].as_i64(), report["updated"].as_i64()),
        (Some(0), Some(0)),
        "{report}"
    );
    let (_, all2) = app.get("/api/v1/ledger?limit=1").await;
    assert_eq!(all2["total"].as_i64().unwrap(), total_all + 1);
    // bad rows are reported by line, good rows kept
    let bad = "编号,状态\n999999,已洽谈\nabc,已洽谈\n".to_string();
    let (s, report) = upload(&app, bad.into_bytes(), "text/csv").await;
    assert_eq!(s, 422, "{report}");
    let lines: Vec<i64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["line"].as_i64())
        .collect();
    assert_eq!(lines, [2, 3]);
    let (s, err) = upload(&app, b"{}".to_vec(), "application/json").await;
    assert_eq!(s, 415, "{err}");

    // who sees what
    let (_, one) = app
        .get("/api/v1/ledger?kind=pairing&status=contract&limit=1")
        .await;
    let ent_name = one["items"][0]["enterprise_name"]
        .as_str()
        .unwrap()
        .to_string();
    let ent_id = one["items"][0]["enterprise_id"].as_i64().unwrap();
    let token = user_token(&app.ctx, "qiye@test.example", "enterprise", Some(&ent_name)).await;
    let member = client_with(&token);
    let r = member
        .get(app.url("/api/v1/ledger?limit=100"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let mine: Value = r.json().await.unwrap();
    assert!(mine["total"].as_i64().unwrap() >= 1);
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["enterprise_id"] == ent_id),
        "an enterprise sees only its own entries"
    );
    let r = member
        .post(app.url(&format!("/api/v1/ledger/{id}/outcomes")))
        .json(&json!({"status": "transferred"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = app
        .anon
        .get(app.url("/api/v1/ledger"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let (s, page) = html(&app.anon, &app.url("/ledger")).await;
    assert!(
        s == 200 && page.contains("登录"),
        "the ledger page asks to sign in"
    );

    // the ledger pages for an organiser
    let (s, list) = html(&app.client, &app.url("/ledger?status=contract")).await;
    assert_eq!(s, 200);
    assert!(
        list.contains(&format!("href=\"/ledger/{id}\"")),
        "the contract is listed"
    );
    let (s, page) = html(&app.client, &app.url(&format!("/ledger/{id}"))).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("250 万元") && page.contains("已洽谈 → 已签约"),
        "{page}"
    );
}

#[tokio::test]
async fn a_university_files_at_most_five_projects_of_a_kind_a_year() {
    let app = spawn_app().await;
    let org = |name: &'static str, kind: &'static str| {
        let app = &app;
        async move {
            let (s, o) = app
                .post(
                    "/api/v1/organizations",
                    &json!({"name": name, "kind": kind, "city": "大连"}),
                )
                .await;
            assert_eq!(s, 201, "{o}");
            o["id"].as_i64().unwrap()
        }
    };
    let dut = org("大连理工大学", "university").await;
    let neu = org("东北大学", "university").await;
    let ent = org("大连船舶重工", "enterprise").await;
    let project = |kind: &str, year: i64| {
        json!({"kind": "inter_university", "university_id": dut, "partner_university_id": neu,
               "project_kind": kind, "title": "联合培养船舶与海洋工程研究生", "year": year})
    };
    for _ in 0..5 {
        let (s, e) = app
            .post("/api/v1/ledger", &project("joint_training", 2026))
            .await;
        assert_eq!(s, 201, "{e}");
        assert_eq!(e["project_kind_label"], "联合培养");
        assert_eq!(e["city"], "大连");
    }
    let (s, err) = app
        .post("/api/v1/ledger", &project("joint_training", 2026))
        .await;
    assert_eq!(
        (s, error_code(&err).as_str()),
        (409, "project_limit"),
        "{err}"
    );
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("大连理工大学") && msg.contains("联合培养") && msg.contains("最多 5 项"),
        "{msg}"
    );
    let (_, listed) = app
        .get(&format!(
            "/api/v1/ledger?organization={dut}&kind=inter_university"
        ))
        .await;
    assert_eq!(listed["total"], 5, "the refused sixth was not filed");
    // another kind, another year, or the partner filing its own: fine
    let (s, _) = app
        .post("/api/v1/ledger", &project("teacher_exchange", 2026))
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .post("/api/v1/ledger", &project("joint_training", 2027))
        .await;
    assert_eq!(s, 201);
    let (s, e) = app
        .post(
            "/api/v1/ledger",
            &json!({"kind": "inter_university", "university_id": neu, "partner_university_id": dut,
                    "project_kind": "联合培养", "title": "联合培养", "year": 2026}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    // a cooperation outside events
    let (s, e) = app
        .post(
            "/api/v1/ledger",
            &json!({"kind": "cooperation", "enterprise_id": ent, "university_id": dut, "title": "LNG 船用低温阀门联合开发", "industry": "advanced_equipment"}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    assert_eq!(e["status"], "proposed");
    // bad input
    for (body, field) in [
        (
            json!({"kind": "inter_university", "university_id": dut, "partner_university_id": neu, "project_kind": "sports", "title": "x"}),
            "project_kind",
        ),
        (
            json!({"kind": "inter_university", "university_id": dut, "partner_university_id": dut, "project_kind": "exchange", "title": "x"}),
            "partner_university_id",
        ),
        (
            json!({"kind": "inter_university", "university_id": ent, "partner_university_id": neu, "project_kind": "exchange", "title": "x"}),
            "university_id",
        ),
        (
            json!({"kind": "inter_university", "university_id": dut, "partner_university_id": neu, "project_kind": "exchange"}),
            "title",
        ),
        (json!({"kind": "pairing", "title": "x"}), "kind"),
        (
            json!({"kind": "cooperation", "university_id": dut, "title": "x"}),
            "enterprise_id",
        ),
        (
            json!({"kind": "cooperation", "enterprise_id": ent, "university_id": 424242, "title": "x"}),
            "university_id",
        ),
        (
            json!({"kind": "cooperation", "enterprise_id": ent, "university_id": dut, "title": "x", "year": 1800}),
            "year",
        ),
        (
            json!({"kind": "cooperation", "enterprise_id": ent, "university_id": dut, "title": "x", "budget": 1}),
            "budget",
        ),
    ] {
        let (s, err) = app.post("/api/v1/ledger", &body).await;
        assert_eq!(s, 422, "{body}: {err}");
        let fields: Vec<&str> = err["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{body}: {fields:?}");
    }
    let r = app
        .client
        .post(app.url("/api/v1/ledger"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // researchers cannot file
    let token = user_token(
        &app.ctx,
        "keyan@test.example",
        "researcher",
        Some("大连理工大学"),
    )
    .await;
    let r = client_with(&token)
        .post(app.url("/api/v1/ledger"))
        .json(&project("exchange", 2026))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let (_, after) = app.get(&format!("/api/v1/ledger?organization={dut}")).await;
    assert_eq!(after["total"], 9, "refused requests filed nothing");
}

/// Posts a form with the organiser's token (a token sends no ambient credentials, so no
/// CSRF field is needed) and returns the final status and page.
async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = app
        .client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .expect("request");
    let s = r.status().as_u16();
    (s, r.text().await.unwrap_or_default().replace("&#x2f;", "/"))
}

#[tokio::test]
async fn the_ledger_pages_file_record_and_import() {
    let app = spawn_app().await;
    for (name, kind) in [
        ("大连理工大学", "university"),
        ("大连船舶重工", "enterprise"),
    ] {
        let (s, o) = app
            .post(
                "/api/v1/organizations",
                &json!({"name": name, "kind": kind, "city": "大连"}),
            )
            .await;
        assert_eq!(s, 201, "{o}");
    }

    // filing a cooperation with an unknown organisation keeps what was typed
    let (s, page) = post_form(
        &app,
        "/ledger/new",
        &[
            ("kind", "cooperation"),
            ("title", "LNG 船用低温阀门联合开发"),
            ("enterprise", "大连船舶重工"),
            ("university", "不存在大学"),
        ],
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("没有名为“不存在大学”的单位"), "{page}");
    assert!(
        page.contains("value=\"LNG 船用低温阀门联合开发\""),
        "the title stays"
    );
    let (_, listed) = app.get("/api/v1/ledger").await;
    assert_eq!(listed["total"], 0, "nothing was filed");

    // with the right names it is filed and shown
    let (s, page) = post_form(
        &app,
        "/ledger/new",
        &[
            ("kind", "cooperation"),
            ("title", "LNG 船用低温阀门联合开发"),
            ("enterprise", "大连船舶重工"),
            ("university", "大连理工大学"),
            ("industry", "advanced_equipment"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("已记录") && page.contains("LNG 船用低温阀门联合开发"));
    let (_, listed) = app.get("/api/v1/ledger").await;
    assert_eq!(listed["total"], 1);
    let id = listed["items"][0]["id"].as_i64().unwrap();
    let path = format!("/ledger/{id}/outcome");

    for status in ["accepted", "met", "intention"] {
        let (s, page) = post_form(&app, &path, &[("status", status), ("date", "2026-06-02")]).await;
        assert_eq!(s, 200, "{status}: {page}");
    }
    // going back is refused with the reason, on the same page
    let (s, page) = post_form(&app, &path, &[("status", "met")]).await;
    assert_eq!(s, 409, "{page}");
    assert!(
        page.contains("id=\"outcome-error\"") && page.contains("状态只能向前推进"),
        "{page}"
    );
    // a contract needs a number for the amount
    let (s, page) = post_form(
        &app,
        &path,
        &[
            ("status", "contract"),
            ("amount_yuan", "很多"),
            ("contract_mode", "license"),
        ],
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("value=\"很多\""), "what was typed stays");
    let (_, e) = app.get(&format!("/api/v1/ledger/{id}")).await;
    assert_eq!(
        e["status"], "intention",
        "the refused contract changed nothing"
    );
    // amounts are typed in 万元
    let (s, page) = post_form(
        &app,
        &path,
        &[
            ("status", "contract"),
            ("amount_yuan", "250"),
            ("contract_mode", "license"),
            ("date", "2026-06-20"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("250 万元") && page.contains("已签约"),
        "{page}"
    );
    let (_, e) = app.get(&format!("/api/v1/ledger/{id}")).await;
    assert_eq!(e["amount_yuan"], 2_500_000);

    // the exported CSV uploaded through the page changes nothing
    let r = app
        .client
        .get(app.url("/api/v1/ledger/export?format=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let csv = r.bytes().await.unwrap().to_vec();
    let upload = |bytes: Vec<u8>, name: &'static str| {
        let app = &app;
        async move {
            let form = reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
            let r = app
                .client
                .post(app.url("/ledger/import"))
                .multipart(form)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, page) = upload(csv, "台账.csv").await;
    assert_eq!(s, 200, "{page}");
    assert!(page.contains("新建 0 条，更新 0 条，未变 1 条"), "{page}");
    let (s, page) = upload(b"{\"a\":1}\n".to_vec(), "台账.jsonl").await;
    assert_eq!(s, 415, "{page}");
    let (_, listed) = app.get("/api/v1/ledger").await;
    assert_eq!(listed["total"], 1, "no duplicates");
}
