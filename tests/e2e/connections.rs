//! Connection requests (对接申请) end to end, on SQLite and PostgreSQL: an enterprise asks
//! about a result, the university accepts with a meeting, contacts open up, the calendar
//! file parses, the ledger gets its entry and both sides get mail; decline with a reason,
//! counter-proposal, withdrawal, duplicates, quotas, one's own organisation, outsiders;
//! expiry with its reminder; the one-tap meeting question; the funnel and response rate.

use crate::helpers::http::send;
use crate::helpers::mail;
use crate::helpers::people::{Member as Side, call, listing, member as side};
use crate::helpers::{TestApp, client_with, error_code, spawn_with, user_token};
use serde_json::{Value, json};
use std::path::PathBuf;

fn outbox(app: &TestApp) -> PathBuf {
    app.ctx.settings.data.dir.join("outbox")
}

/// A day `days` ahead in Beijing time: `(YYYY-MM-DD, YYYYMMDD, "Y年M月D日")`.
fn day_ahead(days: i64) -> (String, String, String) {
    let d = (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(days))
        .date_naive();
    (
        d.format("%Y-%m-%d").to_string(),
        d.format("%Y%m%d").to_string(),
        d.format("%Y年%-m月%-d日").to_string(),
    )
}

fn at(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339()
}

struct World {
    ent: Side,
    uni: Side,
    third: Side,
    need: i64,
    need2: i64,
    result: i64,
    result2: i64,
    expert: i64,
    own_result: i64,
}

async fn world(app: &TestApp) -> World {
    let ent = side(
        app,
        "wang@zhonggong.example.cn",
        "enterprise",
        "沈阳中工机械有限公司",
    )
    .await;
    let uni = side(app, "li@dlut.example.edu.cn", "researcher", "大连理工大学").await;
    let third = side(app, "zhao@neu.example.edu.cn", "researcher", "东北大学").await;
    let need = listing(app, &ent, "needs", json!({"title": "高强度钢材焊接变形控制", "description": "大型结构件焊接后变形超差，需要焊接顺序优化与残余应力控制方案。", "industry": "advanced_equipment", "contact": {"name": "王工", "phone": "024-12345678", "email": "wang@zhonggong.example.cn"}})).await;
    let need2 = listing(app, &ent, "needs", json!({"title": "数控机床热误差补偿", "description": "主轴热伸长导致加工精度下降，需要热误差建模与实时补偿。", "industry": "advanced_equipment"})).await;
    let result = listing(app, &uni, "results", json!({"title": "焊接残余应力与变形预测控制技术", "summary": "基于热弹塑性有限元的焊接变形预测与工艺优化，已在多家企业应用。", "industry": "advanced_equipment", "contact": {"name": "李教授", "phone": "0411-84708888", "email": "li@dlut.example.edu.cn"}})).await;
    let result2 = listing(app, &uni, "results", json!({"title": "机床热误差建模与补偿系统", "summary": "多传感器热误差建模，补偿后精度提高 60%。", "industry": "advanced_equipment"})).await;
    let expert = listing(app, &uni, "experts", json!({"name": "李强", "title": "教授", "summary": "焊接力学与结构完整性。", "industry": "advanced_equipment"})).await;
    // a result the enterprise itself owns (registered by the programme office)
    let (s, v) = app
        .post("/api/v1/results", &json!({"title": "企业自有焊接工装", "summary": "自研工装。", "organization_id": ent.org}))
        .await;
    assert_eq!(s, 201, "{v}");
    World {
        need,
        need2,
        result,
        result2,
        expert,
        own_result: v["id"].as_i64().unwrap(),
        ent,
        uni,
        third,
    }
}

async fn connection_loop(app: &TestApp) {
    let w = world(app).await;
    let box_ = outbox(app);

    // before any request: the enterprise does not see the university's contact details
    let (s, r) = call(
        app,
        &w.ent,
        "GET",
        &format!("/api/v1/results/{}", w.result),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(r.get("contact").is_none(), "{r}");
    assert_eq!(r["contact_hidden"], true);

    // the request
    let (s, c) = call(app, &w.ent, "POST", "/api/v1/connections", Some(json!({
        "from_listing_id": format!("need:{}", w.need), "to_listing_id": format!("result:{}", w.result),
        "note": "希望了解贵校技术在大型结构件上的应用案例。",
    }))).await;
    assert_eq!(s, 201, "{c}");
    assert_eq!(c["status"], "pending");
    assert!(c["expires_at"].as_str().unwrap() > at(13 * 24 * 60).as_str());
    let id = c["id"].as_i64().unwrap();

    // one open request per pair, whichever way round
    let again = json!({"from_listing_id": format!("need:{}", w.need), "to_listing_id": format!("result:{}", w.result)});
    let (s, e) = call(app, &w.ent, "POST", "/api/v1/connections", Some(again)).await;
    assert_eq!(
        (s, error_code(&e).as_str()),
        (409, "duplicate_request"),
        "{e}"
    );
    let (s, e) = call(app, &w.uni, "POST", "/api/v1/connections", Some(json!({
        "from_listing_id": format!("result:{}", w.result), "to_listing_id": format!("need:{}", w.need)}))).await;
    assert_eq!(
        (s, error_code(&e).as_str()),
        (409, "duplicate_request"),
        "{e}"
    );
    // to one's own organisation: 422 on the field
    let (s, e) = call(app, &w.ent, "POST", "/api/v1/connections", Some(json!({
        "from_listing_id": format!("need:{}", w.need), "to_listing_id": format!("result:{}", w.own_result)}))).await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["error"]["fields"]
            .to_string()
            .contains("own_organization"),
        "{e}"
    );
    // from a listing that is not one's own, or an impossible pair
    let (s, e) = call(app, &w.ent, "POST", "/api/v1/connections", Some(json!({
        "from_listing_id": format!("result:{}", w.result2), "to_listing_id": format!("need:{}", w.need)}))).await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = call(
        app,
        &w.ent,
        "POST",
        "/api/v1/connections",
        Some(json!({
        "from_listing_id": "need:x", "to_listing_id": format!("result:{}", w.result)})),
    )
    .await;
    assert_eq!(s, 422, "{e}");

    // the researcher's organisation receives it (mail and inbox); an outsider sees nothing
    let m = mail::wait_for(&box_, &w.uni.email, "新的对接申请").await;
    assert!(
        m.text.contains("高强度钢材焊接变形控制") && m.text.contains("希望了解贵校技术"),
        "{}",
        m.text
    );
    let (s, inbox) = call(app, &w.uni, "GET", "/api/v1/connections?box=received", None).await;
    assert_eq!(s, 200);
    assert_eq!(inbox["items"][0]["id"], id);
    assert!(inbox["items"][0]["actions"].to_string().contains("accept"));
    let (s, sent) = call(app, &w.ent, "GET", "/api/v1/connections?box=sent", None).await;
    assert_eq!((s, sent["total"].as_i64()), (200, Some(1)));
    assert!(
        !sent["items"][0]["actions"].to_string().contains("accept"),
        "the sender does not answer its own request"
    );
    for (method, path) in [
        ("GET", format!("/api/v1/connections/{id}")),
        ("POST", format!("/api/v1/connections/{id}/accept")),
    ] {
        let (s, e) = call(app, &w.third, method, &path, Some(json!({}))).await;
        assert_eq!(s, 404, "an outsider: {method} {path} {e}");
    }
    let (s, _) = send(
        &app.anon,
        "GET",
        app.url(&format!("/api/v1/connections/{id}")),
        None,
    )
    .await;
    assert_eq!(s, 401);
    // the sender cannot accept its own request
    let (s, e) = call(
        app,
        &w.ent,
        "POST",
        &format!("/api/v1/connections/{id}/accept"),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "not_your_turn"), "{e}");
    // a meeting in the past is refused on its field
    let (s, e) = call(
        app,
        &w.uni,
        "POST",
        &format!("/api/v1/connections/{id}/accept"),
        Some(json!({
        "meeting": {"start": at(-60 * 24), "end": at(-60 * 23), "place": "x"}})),
    )
    .await;
    assert_eq!(s, 422, "{e}");

    // accepted with a meeting
    let (day, compact, zh_day) = day_ahead(30);
    let (s, a) = call(app, &w.uni, "POST", &format!("/api/v1/connections/{id}/accept"), Some(json!({
        "message": "欢迎来校交流。",
        "meeting": {"start": format!("{day}T14:00"), "end": format!("{day}T15:30"), "place": "大连理工大学 科技园 A 座 301"},
    }))).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["status"], "accepted");
    assert_eq!(a["meeting"]["start"], format!("{day}T14:00:00+08:00"));
    let entry = a["ledger_entry_id"].as_i64().expect("a ledger entry");
    // a second answer is refused
    let (s, e) = call(
        app,
        &w.uni,
        "POST",
        &format!("/api/v1/connections/{id}/decline"),
        Some(json!({"reason": "timing"})),
    )
    .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "request_closed"), "{e}");

    // both now see each other's contacts
    let (_, r) = call(
        app,
        &w.ent,
        "GET",
        &format!("/api/v1/results/{}", w.result),
        None,
    )
    .await;
    assert_eq!(r["contact"]["name"], "李教授", "{r}");
    let (_, n) = call(
        app,
        &w.uni,
        "GET",
        &format!("/api/v1/needs/{}", w.need),
        None,
    )
    .await;
    assert_eq!(n["contact"]["phone"], "024-12345678", "{n}");
    // ... and the outsider still does not
    let (_, r) = call(
        app,
        &w.third,
        "GET",
        &format!("/api/v1/results/{}", w.result),
        None,
    )
    .await;
    assert!(r.get("contact").is_none(), "{r}");

    // the calendar file
    let resp = w
        .ent
        .client
        .get(app.url(&format!("/api/v1/connections/{id}/meeting.ics")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = resp.text().await.unwrap();
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1, "{ics}");
    assert!(
        ics.contains(&format!("DTSTART;TZID=Asia/Shanghai:{compact}T140000\r\n")),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("DTEND;TZID=Asia/Shanghai:{compact}T153000\r\n")),
        "{ics}"
    );
    assert!(
        ics.contains("LOCATION:大连理工大学 科技园 A 座 301"),
        "{ics}"
    );

    // the ledger has the entry, linked to the request
    let (s, e) = app.get(&format!("/api/v1/ledger/{entry}")).await;
    assert_eq!(s, 200, "{e}");
    assert_eq!(
        (e["kind"].as_str(), e["status"].as_str()),
        (Some("cooperation"), Some("accepted")),
        "{e}"
    );
    assert_eq!(e["connection_id"], id);

    // both sides got mail
    let m = mail::wait_for(&box_, &w.ent.email, "对接申请已接受").await;
    assert!(
        m.text.contains(&format!("{zh_day} 14:00–15:30")) && m.text.contains("meeting.ics"),
        "{}",
        m.text
    );

    // decline with a reason
    let (s, c2) = call(app, &w.ent, "POST", "/api/v1/connections", Some(json!({
        "from_listing_id": format!("need:{}", w.need2), "to_listing_id": format!("expert:{}", w.expert)}))).await;
    assert_eq!(s, 201, "{c2}");
    let id2 = c2["id"].as_i64().unwrap();
    let (s, e) = call(
        app,
        &w.uni,
        "POST",
        &format!("/api/v1/connections/{id2}/decline"),
        Some(json!({"reason": "because"})),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let (s, d) = call(
        app,
        &w.uni,
        "POST",
        &format!("/api/v1/connections/{id2}/decline"),
        Some(json!({"reason": "capacity", "note": "本学期实验室排满"})),
    )
    .await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(
        (d["status"].as_str(), d["decline_reason"].as_str()),
        (Some("declined"), Some("capacity"))
    );
    let m = mail::wait_for(&box_, &w.ent.email, "对接申请未被接受").await;
    assert!(
        m.text.contains("精力或产能不足") && m.text.contains("本学期实验室排满"),
        "{}",
        m.text
    );

    // a counter-proposal, accepted by the sender
    let (s, c3) = call(app, &w.ent, "POST", "/api/v1/connections", Some(json!({
        "from_listing_id": format!("need:{}", w.need2), "to_listing_id": format!("result:{}", w.result2)}))).await;
    assert_eq!(s, 201, "{c3}");
    let id3 = c3["id"].as_i64().unwrap();
    let (s, p) = call(app, &w.uni, "POST", &format!("/api/v1/connections/{id3}/propose"), Some(json!({
        "meeting": {"start": format!("{day}T09:00"), "end": format!("{day}T10:00"), "online_url": "https://meeting.example.cn/j/123"}}))).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (p["status"].as_str(), p["turn"].as_str()),
        (Some("proposed"), Some("sender"))
    );
    let (s, e) = call(
        app,
        &w.uni,
        "POST",
        &format!("/api/v1/connections/{id3}/accept"),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "not_your_turn"), "{e}");
    let (s, a3) = call(
        app,
        &w.ent,
        "POST",
        &format!("/api/v1/connections/{id3}/accept"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200, "{a3}");
    assert_eq!(a3["status"], "accepted");
    assert_eq!(
        a3["meeting"]["online_url"],
        "https://meeting.example.cn/j/123"
    );
    let m = mail::wait_for(&box_, &w.ent.email, "对方提议了会谈时间").await;
    assert!(
        m.text.contains("线上 https://meeting.example.cn/j/123"),
        "{}",
        m.text
    );

    // withdrawal: only by the sender
    let (s, c4) = call(app, &w.ent, "POST", "/api/v1/connections", Some(json!({
        "from_listing_id": format!("need:{}", w.need), "to_listing_id": format!("expert:{}", w.expert)}))).await;
    assert_eq!(s, 201, "{c4}");
    let id4 = c4["id"].as_i64().unwrap();
    let (s, _) = call(
        app,
        &w.uni,
        "POST",
        &format!("/api/v1/connections/{id4}/withdraw"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, wd) = call(
        app,
        &w.ent,
        "POST",
        &format!("/api/v1/connections/{id4}/withdraw"),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, wd["status"].as_str()), (200, Some("withdrawn")), "{wd}");

    // outcomes on the entry: a contract with a checked registration number
    let (s, e) = call(app, &w.ent, "POST", &format!("/api/v1/connections/{id}/outcome"), Some(json!({
        "status": "contract", "amount_yuan": 800000, "contract_mode": "license", "contract_date": day,
        "registration_no": format!("{}210102000000", &day[..4])}))).await;
    assert_eq!(s, 422, "a serial of zeros: {e}");
    assert!(
        e["error"]["fields"].to_string().contains("registration_no"),
        "{e}"
    );

    // the funnel and the response rate, counted by hand: 4 requests to the university;
    // 3 answered (accepted, declined, proposed→accepted), 1 withdrawn unanswered; 2 accepted
    let (s, f) = app.get("/api/v1/connections/funnel").await;
    assert_eq!(s, 200, "{f}");
    let counts: Vec<i64> = f["overall"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, vec![4, 2, 0, 0, 0, 0], "{f}");
    assert_eq!(f["overall"]["steps"][1]["conversion"], 0.5);
    let (s, _) = call(app, &w.ent, "GET", "/api/v1/connections/funnel", None).await;
    assert_eq!(s, 403, "members do not see the programme's funnel");
    let (s, r) = send(
        &app.anon,
        "GET",
        app.url(&format!(
            "/api/v1/organizations/{}/responsiveness",
            w.uni.org
        )),
        None,
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["received"].as_i64(), r["answered"].as_i64()),
        (Some(3), Some(3)),
        "{r}"
    );
    assert_eq!(r["response_rate"], 1.0);
    assert_eq!(r["summary"], "通常在 1 天内回复");
}

async fn spawn_connections(db: Option<String>) -> TestApp {
    spawn_with(|s| {
        s.mail.poll_interval_ms = 50;
        s.server.public_url = "https://duijie.example.org".into();
        s.connections.sweep_interval_secs = 1;
        if let Some(db) = db {
            s.database.url = db;
        }
    })
    .await
}

#[tokio::test]
async fn a_request_is_answered_and_followed_to_the_ledger_on_sqlite() {
    let app = spawn_connections(None).await;
    connection_loop(&app).await;
}

#[tokio::test]
async fn a_request_is_answered_and_followed_to_the_ledger_on_postgresql() {
    let Some(db) = crate::replicas::fresh_database("connection requests on PostgreSQL").await
    else {
        return;
    };
    let app = spawn_connections(Some(db)).await;
    connection_loop(&app).await;
}

#[tokio::test]
async fn quotas_refuse_with_429() {
    let app = spawn_with(|s| {
        s.connections.max_per_day = 2;
    })
    .await;
    let w = world(&app).await;
    for to in [
        format!("result:{}", w.result),
        format!("result:{}", w.result2),
    ] {
        let (s, c) = call(
            &app,
            &w.ent,
            "POST",
            "/api/v1/connections",
            Some(json!({"from_listing_id": format!("need:{}", w.need), "to_listing_id": to})),
        )
        .await;
        assert_eq!(s, 201, "{c}");
    }
    let (s, e) = call(&app, &w.ent, "POST", "/api/v1/connections", Some(json!({"from_listing_id": format!("need:{}", w.need), "to_listing_id": format!("expert:{}", w.expert)}))).await;
    assert_eq!(s, 429, "{e}");
    assert_eq!(error_code(&e), "request_quota");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("24 小时内最多发出 2 条"),
        "{e}"
    );
}

#[tokio::test]
async fn unanswered_requests_are_reminded_then_expire() {
    let app = spawn_with(|s| {
        s.mail.poll_interval_ms = 50;
        s.connections.sweep_interval_secs = 1;
        // about four seconds to answer; the reminder (three days before) is due at once
        s.connections.expire_days = 0.00005;
    })
    .await;
    let w = world(&app).await;
    let (s, c) = call(&app, &w.ent, "POST", "/api/v1/connections", Some(json!({"from_listing_id": format!("need:{}", w.need), "to_listing_id": format!("result:{}", w.result)}))).await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_i64().unwrap();
    mail::wait_for(&outbox(&app), &w.uni.email, "即将过期").await;
    mail::wait_for(&outbox(&app), &w.ent.email, "已过期").await;
    let (_, c) = call(
        &app,
        &w.ent,
        "GET",
        &format!("/api/v1/connections/{id}"),
        None,
    )
    .await;
    assert_eq!(c["status"], "expired", "{c}");
    let steps: Vec<&str> = c["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        vec!["sent", "reminded", "expired"],
        "one reminder, then expiry"
    );
    // the pair is free again
    let (s, _) = call(&app, &w.ent, "POST", "/api/v1/connections", Some(json!({"from_listing_id": format!("need:{}", w.need), "to_listing_id": format!("result:{}", w.result)}))).await;
    assert_eq!(s, 201);
}

#[tokio::test]
async fn the_one_tap_question_moves_the_entry_once() {
    let app = spawn_with(|s| {
        s.mail.poll_interval_ms = 50;
        s.connections.sweep_interval_secs = 1;
        s.server.public_url = "https://duijie.example.org".into();
    })
    .await;
    let w = world(&app).await;
    let (_, c) = call(&app, &w.ent, "POST", "/api/v1/connections", Some(json!({"from_listing_id": format!("need:{}", w.need), "to_listing_id": format!("result:{}", w.result)}))).await;
    let id = c["id"].as_i64().unwrap();
    let start = chrono::Utc::now() + chrono::Duration::seconds(1);
    let (s, a) = call(&app, &w.uni, "POST", &format!("/api/v1/connections/{id}/accept"), Some(json!({
        "meeting": {"start": start.to_rfc3339(), "end": (start + chrono::Duration::seconds(1)).to_rfc3339(), "place": "线下"}}))).await;
    assert_eq!(s, 200, "{a}");
    let entry = a["ledger_entry_id"].as_i64().unwrap();
    let m = mail::wait_for(&outbox(&app), &w.ent.email, "会谈举行了吗").await;
    let link = m
        .text
        .lines()
        .find(|l| l.contains("a=useful"))
        .and_then(|l| l.split("https://duijie.example.org").nth(1))
        .expect("a one-tap link")
        .trim()
        .to_string();
    assert!(
        link.starts_with(&format!("/connections/{id}/feedback?u=")),
        "{link}"
    );
    // opening the link answers nothing (mail scanners open links)
    let page = app.anon.get(app.url(&link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("已举行，很有帮助"));
    let (_, e) = app.get(&format!("/api/v1/ledger/{entry}")).await;
    assert_eq!(e["status"], "accepted", "{e}");
    // a forged link changes nothing
    let forged = format!("{}0", &link[..link.len() - 1]).replace("s=", "s=0");
    let r = app.anon.post(app.url(&forged)).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let (_, e) = app.get(&format!("/api/v1/ledger/{entry}")).await;
    assert_eq!(e["status"], "accepted", "{e}");
    // the tap: the entry moves to met
    let r = app.anon.post(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (_, e) = app.get(&format!("/api/v1/ledger/{entry}")).await;
    assert_eq!(e["status"], "met", "{e}");
    // a second tap changes nothing
    let r = app.anon.post(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let (_, c) = call(
        &app,
        &w.ent,
        "GET",
        &format!("/api/v1/connections/{id}"),
        None,
    )
    .await;
    assert_eq!(c["feedback"].as_array().unwrap().len(), 1, "{c}");
    assert_eq!(c["ledger_status"], "met");
    // the other side answers on the site: recorded, the entry stays met
    let (s, _) = call(
        &app,
        &w.uni,
        "POST",
        &format!("/api/v1/connections/{id}/feedback"),
        Some(json!({"answer": "not_useful"})),
    )
    .await;
    assert_eq!(s, 200);
    let (_, e) = app.get(&format!("/api/v1/ledger/{entry}")).await;
    assert_eq!(e["status"], "met");
    let moves = e["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["to_status"] == "met")
        .count();
    assert_eq!(moves, 1, "met once: {e}");
}

#[tokio::test]
async fn brokers_follow_the_requests_and_entries_they_are_given() {
    let app = spawn_with(|_| {}).await;
    let w = world(&app).await;
    let broker_token = user_token(&app.ctx, "zhou@broker.example.cn", "broker", None).await;
    let broker = client_with(&broker_token);
    let (_, me) = send(&broker, "GET", app.url("/api/v1/me"), None).await;
    let broker_id = me["user"]["id"].as_i64().unwrap();
    let (_, c) = call(&app, &w.ent, "POST", "/api/v1/connections", Some(json!({"from_listing_id": format!("need:{}", w.need), "to_listing_id": format!("result:{}", w.result)}))).await;
    let id = c["id"].as_i64().unwrap();
    // before being assigned, the broker sees nothing of it
    let (s, _) = send(
        &broker,
        "GET",
        app.url(&format!("/api/v1/connections/{id}")),
        None,
    )
    .await;
    assert_eq!(s, 404);
    // only organisers assign, and only brokers can be assigned
    let (s, _) = call(
        &app,
        &w.ent,
        "POST",
        &format!("/api/v1/connections/{id}/broker"),
        Some(json!({"broker_id": broker_id})),
    )
    .await;
    assert_eq!(s, 403);
    let (_, ent_me) = call(&app, &w.ent, "GET", "/api/v1/me", None).await;
    let (s, e) = app
        .post(
            &format!("/api/v1/connections/{id}/broker"),
            &json!({"broker_id": ent_me["user"]["id"]}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, b) = app
        .post(
            &format!("/api/v1/connections/{id}/broker"),
            &json!({"broker_id": broker_id}),
        )
        .await;
    assert_eq!((s, b["broker_id"].as_i64()), (200, Some(broker_id)), "{b}");
    let (s, cases) = send(
        &broker,
        "GET",
        app.url("/api/v1/connections?box=broker"),
        None,
    )
    .await;
    assert_eq!((s, cases["total"].as_i64()), (200, Some(1)), "{cases}");
    // accepted: the entry is credited to the broker, who sees it (and no other) in the ledger
    let (_, a) = call(
        &app,
        &w.uni,
        "POST",
        &format!("/api/v1/connections/{id}/accept"),
        Some(json!({})),
    )
    .await;
    let entry = a["ledger_entry_id"].as_i64().unwrap();
    let (s, l) = send(&broker, "GET", app.url("/api/v1/ledger"), None).await;
    assert_eq!(s, 200, "{l}");
    assert_eq!(l["total"], 1, "{l}");
    assert_eq!(l["items"][0]["id"], entry);
    // an organiser can credit an entry directly, or clear the credit
    let (s, e) = app
        .post(
            &format!("/api/v1/ledger/{entry}/broker"),
            &json!({"broker_id": null}),
        )
        .await;
    assert_eq!((s, e["broker_id"].clone()), (200, Value::Null), "{e}");
    let (_, l) = send(&broker, "GET", app.url("/api/v1/ledger"), None).await;
    assert_eq!(l["total"], 0, "{l}");
    let (s, _) = call(
        &app,
        &w.ent,
        "POST",
        &format!("/api/v1/ledger/{entry}/broker"),
        Some(json!({"broker_id": broker_id})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, e) = app
        .post(
            &format!("/api/v1/ledger/{entry}/broker"),
            &json!({"broker_id": broker_id, "x": 1}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = app
        .post(
            &format!("/api/v1/ledger/{entry}/broker"),
            &json!({"broker_id": broker_id}),
        )
        .await;
    assert_eq!(
        (s, e["broker_name"].as_str()),
        (200, Some("zhou@broker.example.cn")),
        "{e}"
    );
    // the dashboard's funnel counts the broker's case
    let (_, f) = app.get("/api/v1/connections/funnel").await;
    assert_eq!(f["by_broker"][0]["cases"], 1, "{f}");
}
