//! Participants take part in an event themselves, end to end on SQLite and PostgreSQL: two
//! enterprises and two universities register (one waits for approval), browse the
//! catalogue, state wishes within the quotas (a "no" stays private), read their provisional
//! agendas, confirm one meeting and decline another; regenerating keeps the confirmed one
//! where it was and drops the declined pair; publishing mails every agenda with a calendar
//! file; attendance moves the ledger. Also: `mutual_only` and the participant's "why not".

use crate::helpers::http::send;
use crate::helpers::mail;
use crate::helpers::people::{Member, call, listing, member};
use crate::helpers::{TestApp, error_code, spawn_with};
use serde_json::{Value, json};

fn fields(e: &Value) -> String {
    e["error"]["fields"].to_string()
}

struct World {
    e1: Member,
    e2: Member,
    u1: Member,
    u2: Member,
    n1: i64,
    n2: i64,
    r_weld: i64,
    r_heat: i64,
    r_weld2: i64,
    x_weld: i64,
}

async fn world(app: &TestApp) -> World {
    let e1 = member(
        app,
        "wang@zhonggong.example.cn",
        "enterprise",
        "沈阳中工机械有限公司",
    )
    .await;
    let e2 = member(app, "liu@dljc.example.cn", "enterprise", "大连机床集团").await;
    let u1 = member(app, "li@dlut.example.edu.cn", "researcher", "大连理工大学").await;
    let u2 = member(app, "zhao@neu.example.edu.cn", "researcher", "东北大学").await;
    let n1 = listing(app, &e1, "needs", json!({"title": "高强度钢材焊接变形控制", "description": "大型结构件焊接后变形超差，需要焊接顺序优化与残余应力控制方案。", "industry": "advanced_equipment"})).await;
    let n2 = listing(app, &e2, "needs", json!({"title": "数控机床热误差补偿", "description": "主轴热伸长导致加工精度下降，需要热误差建模与实时补偿。", "industry": "advanced_equipment"})).await;
    let r_weld = listing(app, &u1, "results", json!({"title": "焊接残余应力与变形预测控制技术", "summary": "基于热弹塑性有限元的焊接变形预测与焊接顺序优化，控制大型结构件残余应力。", "industry": "advanced_equipment"})).await;
    let r_heat = listing(app, &u1, "results", json!({"title": "机床热误差建模与补偿系统", "summary": "数控机床主轴热伸长的热误差建模与实时补偿，补偿后加工精度提高 60%。", "industry": "advanced_equipment"})).await;
    let r_weld2 = listing(app, &u2, "results", json!({"title": "激光焊接变形在线监测", "summary": "焊接变形与残余应力在线监测，用于大型结构件焊接质量控制。", "industry": "advanced_equipment"})).await;
    let x_weld = listing(app, &u2, "experts", json!({"name": "赵强", "title": "教授", "summary": "焊接力学、残余应力与焊接变形控制。", "industry": "advanced_equipment"})).await;
    World {
        e1,
        e2,
        u1,
        u2,
        n1,
        n2,
        r_weld,
        r_heat,
        r_weld2,
        x_weld,
    }
}

async fn open_event(app: &TestApp, extra: Value) -> i64 {
    let mut body = json!({
        "name": "2026 辽宁高校院所—企业对接会", "date": "2026-12-20", "venue": "沈阳国际展览中心",
        "format": "fair", "start_time": "09:00", "slot_minutes": 20, "slot_count": 3, "table_count": 4,
        "max_per_enterprise": 3, "max_per_result": 2, "max_per_expert": 2, "min_score": 0.0,
        "status": "draft",
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (s, ev) = app.post("/api/v1/events", &body).await;
    assert_eq!(s, 201, "{ev}");
    ev["id"].as_i64().unwrap()
}

/// A published fair of `extra` where the welding need meets the welding result, both
/// registered by their members: its id and API path.
async fn published(app: &TestApp, w: &World, extra: Value) -> (i64, String) {
    let mut body = json!({"status": "open", "registration": "open"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let id = open_event(app, body).await;
    let ev = format!("/api/v1/events/{id}");
    for (m, ids) in [
        (&w.e1, vec![format!("need:{}", w.n1)]),
        (&w.u1, vec![format!("result:{}", w.r_weld)]),
    ] {
        let (s, r) = call(
            app,
            m,
            "POST",
            &format!("{ev}/registrations"),
            Some(json!({"listing_ids": ids})),
        )
        .await;
        assert_eq!(s, 201, "{r}");
    }
    let (s, p) = app
        .post(&format!("{ev}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{p}");
    let (s, p) = app
        .post(&format!("{ev}/schedule:publish"), &json!({}))
        .await;
    assert_eq!(s, 200, "{p}");
    (id, ev)
}

fn meeting<'a>(agenda: &'a Value, partner: &str) -> Option<&'a Value> {
    agenda["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["partner_listing_id"] == partner)
}

async fn self_service(app: &TestApp) {
    let w = world(app).await;
    let outbox = app.ctx.settings.data.dir.join("outbox");
    let id = open_event(
        app,
        json!({"registration": "open", "max_must": 3, "max_like": 10}),
    )
    .await;
    let ev = format!("/api/v1/events/{id}");
    let reg = |w: &Member, ids: Vec<String>| {
        let client = w.client.clone();
        let url = app.url(&format!("{ev}/registrations"));
        async move { send(&client, "POST", url, Some(json!({"listing_ids": ids}))).await }
    };

    // a draft is invisible to members; registering before the event opens is refused
    let (s, _) = reg(&w.e1, vec![format!("need:{}", w.n1)]).await;
    assert_eq!(s, 404);
    let (s, v) = app.patch(&ev, &json!({"status": "open"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["registration"], "open");

    // bad input: someone else's listing, a malformed id, nothing at all
    let (s, e) = reg(&w.e1, vec![format!("result:{}", w.r_weld)]).await;
    assert_eq!(s, 422, "{e}");
    assert!(fields(&e).contains("listing_ids[0]"), "{e}");
    let (s, e) = reg(&w.e1, vec!["need:abc".into()]).await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = send(
        &w.e1.client,
        "POST",
        app.url(&format!("{ev}/registrations")),
        Some(json!({})),
    )
    .await;
    assert_eq!((s, fields(&e).contains("required")), (422, true), "{e}");

    // three register at once under open registration
    for (m, ids) in [
        (&w.e1, vec![format!("need:{}", w.n1)]),
        (&w.e2, vec![format!("need:{}", w.n2)]),
        (
            &w.u1,
            vec![
                format!("result:{}", w.r_weld),
                format!("result:{}", w.r_heat),
            ],
        ),
    ] {
        let (s, r) = reg(m, ids).await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["status"], "approved", "{r}");
    }
    let (s, e) = reg(&w.e1, vec![format!("need:{}", w.n1)]).await;
    assert_eq!(
        (s, error_code(&e).as_str()),
        (409, "already_registered"),
        "{e}"
    );
    let m = mail::wait_for(&outbox, &w.e1.email, "报名成功").await;
    assert!(
        m.text.contains("2026 辽宁高校院所—企业对接会"),
        "{}",
        m.text
    );

    // the fourth needs approval
    let (s, v) = app.patch(&ev, &json!({"registration": "approval"})).await;
    assert_eq!(s, 200, "{v}");
    let (s, r) = reg(
        &w.u2,
        vec![
            format!("result:{}", w.r_weld2),
            format!("expert:{}", w.x_weld),
        ],
    )
    .await;
    assert_eq!((s, r["status"].as_str()), (201, Some("pending")), "{r}");
    let rid = r["id"].as_i64().unwrap();
    mail::wait_for(&outbox, &w.u2.email, "等待审核").await;
    // not yet a participant: no catalogue, no wishes
    let (s, e) = call(app, &w.u2, "GET", &format!("{ev}/catalogue"), None).await;
    assert_eq!(
        (s, error_code(&e).as_str()),
        (403, "not_participant"),
        "{e}"
    );
    // members cannot decide; rejecting needs a reason; the organiser approves
    let (s, _) = call(
        app,
        &w.e1,
        "POST",
        &format!("{ev}/registrations/{rid}/approve"),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (s, e) = app
        .post(&format!("{ev}/registrations/{rid}/reject"), &json!({}))
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, queue) = app.get(&format!("{ev}/registrations?status=pending")).await;
    assert_eq!((s, queue["total"].as_i64()), (200, Some(1)), "{queue}");
    let (s, r) = app
        .post(&format!("{ev}/registrations/{rid}/approve"), &json!({}))
        .await;
    assert_eq!((s, r["status"].as_str()), (200, Some("approved")), "{r}");
    let (s, e) = app
        .post(&format!("{ev}/registrations/{rid}/approve"), &json!({}))
        .await;
    assert_eq!(
        (s, error_code(&e).as_str()),
        (409, "registration_decided"),
        "{e}"
    );
    mail::wait_for(&outbox, &w.u2.email, "报名已通过").await;
    let (s, ps) = app.get(&format!("{ev}/participants")).await;
    assert_eq!((s, ps["total"].as_i64()), (200, Some(4)), "{ps}");
    // a member sees only its own registration
    let (s, mine) = call(app, &w.e2, "GET", &format!("{ev}/registrations"), None).await;
    assert_eq!((s, mine["total"].as_i64()), (200, Some(1)), "{mine}");
    assert_eq!(mine["items"][0]["organization_id"], w.e2.org);

    // the catalogue: the other side, ranked by the match with the enterprise's need
    let (s, cat) = call(app, &w.e1, "GET", &format!("{ev}/catalogue"), None).await;
    assert_eq!(s, 200, "{cat}");
    let items = cat["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        4,
        "two universities' three results and one expert: {cat}"
    );
    assert!(items.iter().all(|i| i["kind"] != "need"), "{cat}");
    assert_ne!(
        items[0]["listing_id"],
        format!("result:{}", w.r_heat),
        "welding first for a welding need: {cat}"
    );
    assert!(items[0]["explanation"]["breakdown"].is_array(), "{cat}");
    assert_eq!(cat["wishes"]["max_must"], 3);
    let (s, e) = call(
        app,
        &w.e1,
        "GET",
        &format!("{ev}/catalogue?industry=no-such-industry"),
        None,
    )
    .await;
    assert_eq!(s, 400, "{e}");

    // wishes: three musts fit, a fourth is over the quota (422, nothing changes)
    let wish = |mine: String, theirs: String, kind: &str| json!({"listing_id": mine, "partner_listing_id": theirs, "kind": kind});
    let n1 = format!("need:{}", w.n1);
    let three = json!([
        wish(n1.clone(), format!("result:{}", w.r_weld), "must"),
        wish(n1.clone(), format!("result:{}", w.r_weld2), "must"),
        wish(n1.clone(), format!("result:{}", w.r_heat), "must"),
    ]);
    let (s, set) = call(
        app,
        &w.e1,
        "PUT",
        &format!("{ev}/wishes"),
        Some(three.clone()),
    )
    .await;
    assert_eq!((s, set["must_used"].as_i64()), (200, Some(3)), "{set}");
    let mut four = three.as_array().unwrap().clone();
    four.push(wish(n1.clone(), format!("expert:{}", w.x_weld), "must"));
    let (s, e) = call(
        app,
        &w.e1,
        "PUT",
        &format!("{ev}/wishes"),
        Some(json!(four)),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert!(
        fields(&e).contains("over_quota") && fields(&e).contains("wishes[3].kind"),
        "{e}"
    );
    let (_, set) = call(app, &w.e1, "GET", &format!("{ev}/wishes"), None).await;
    assert_eq!(
        set["wishes"].as_array().unwrap().len(),
        3,
        "the refused set changed nothing: {set}"
    );
    // the final set: two musts and a private "no" about the expert
    let final_set = json!([
        wish(n1.clone(), format!("result:{}", w.r_weld), "must"),
        wish(n1.clone(), format!("result:{}", w.r_heat), "like"),
        wish(n1.clone(), format!("expert:{}", w.x_weld), "no"),
    ]);
    let (s, set) = call(app, &w.e1, "PUT", &format!("{ev}/wishes"), Some(final_set)).await;
    assert_eq!(
        (s, set["must_used"].as_i64(), set["like_used"].as_i64()),
        (200, Some(1), Some(1)),
        "{set}"
    );
    // wishing a listing that is not the other side's, or one's own: 422
    let (s, e) = call(
        app,
        &w.e1,
        "PUT",
        &format!("{ev}/wishes"),
        Some(json!([wish(n1.clone(), format!("need:{}", w.n2), "like")])),
    )
    .await;
    assert_eq!(
        (s, fields(&e).contains("not_a_partner")),
        (422, true),
        "{e}"
    );
    let (s, e) = call(
        app,
        &w.e2,
        "PUT",
        &format!("{ev}/wishes"),
        Some(json!([wish(
            n1.clone(),
            format!("result:{}", w.r_weld),
            "like"
        )])),
    )
    .await;
    assert_eq!((s, fields(&e).contains("not_yours")), (422, true), "{e}");
    // the university wishes to meet the second enterprise
    let (s, set) = call(
        app,
        &w.u1,
        "PUT",
        &format!("{ev}/wishes"),
        Some(json!([wish(
            format!("result:{}", w.r_heat),
            format!("need:{}", w.n2),
            "must"
        )])),
    )
    .await;
    assert_eq!(s, 200, "{set}");
    // the "no" is invisible to the other side, in the wishes and in the preferences
    for path in [format!("{ev}/wishes"), format!("{ev}/preferences")] {
        let (s, v) = call(app, &w.u2, "GET", &path, None).await;
        assert_eq!(s, 200, "{v}");
        assert!(!v.to_string().contains("\"no\""), "{path}: {v}");
    }
    let (_, all) = app.get(&format!("{ev}/wishes")).await;
    assert_eq!(
        all["wishes"].as_array().unwrap().len(),
        4,
        "organisers see every wish: {all}"
    );

    // generate: provisional agendas
    let (s, p) = app
        .post(&format!("{ev}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{p}");
    let (s, a) = call(app, &w.e1, "GET", &format!("{ev}/my-agenda"), None).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["state"], "provisional");
    let weld = meeting(&a, &format!("result:{}", w.r_weld))
        .unwrap_or_else(|| panic!("the must is scheduled: {a}"))
        .clone();
    assert!(weld["why"].as_str().unwrap().contains("希望"), "{weld}");
    assert!(
        meeting(&a, &format!("expert:{}", w.x_weld)).is_none(),
        "a 'no' is never scheduled: {a}"
    );
    let other = a["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["partner_listing_id"] != format!("result:{}", w.r_weld))
        .unwrap_or_else(|| panic!("a second meeting: {a}"))
        .clone();
    // one participant cannot read another's agenda or wishes
    let (s, _) = call(
        app,
        &w.e2,
        "GET",
        &format!("{ev}/my-agenda?organization_id={}", w.e1.org),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (_, theirs) = call(app, &w.e2, "GET", &format!("{ev}/wishes"), None).await;
    assert_eq!(theirs["wishes"].as_array().unwrap().len(), 0, "{theirs}");
    let outsider = member(app, "qian@other.example.cn", "enterprise", "沈阳其他公司").await;
    let (s, e) = call(app, &outsider, "GET", &format!("{ev}/my-agenda"), None).await;
    assert_eq!(
        (s, error_code(&e).as_str()),
        (403, "not_participant"),
        "{e}"
    );

    // confirm one, decline the other (a reason is required); another org's meeting is refused
    let (wid, oid) = (
        weld["pairing_id"].as_i64().unwrap(),
        other["pairing_id"].as_i64().unwrap(),
    );
    let (s, _) = call(
        app,
        &w.e2,
        "POST",
        &format!("{ev}/my-agenda/{wid}/confirm"),
        None,
    )
    .await;
    assert_eq!(s, 403);
    let (s, a2) = call(
        app,
        &w.e1,
        "POST",
        &format!("{ev}/my-agenda/{wid}/confirm"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{a2}");
    assert_eq!(
        meeting(&a2, &format!("result:{}", w.r_weld)).unwrap()["my_answer"],
        "confirmed"
    );
    let (s, e) = call(
        app,
        &w.e1,
        "POST",
        &format!("{ev}/my-agenda/{oid}/decline"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let (s, _) = call(
        app,
        &w.e1,
        "POST",
        &format!("{ev}/my-agenda/{oid}/decline"),
        Some(json!({"reason": "时间冲突"})),
    )
    .await;
    assert_eq!(s, 200);
    // publishing a pairing made before the decline is refused
    let (s, e) = app
        .post(&format!("{ev}/schedule:publish"), &json!({}))
        .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "pairing_stale"), "{e}");

    // the organisers insist on the declined pair: the solver drops it as declined, and
    // only the organisers and e1 itself may read that reason
    let (kind, pid) = other["partner_listing_id"]
        .as_str()
        .unwrap()
        .split_once(':')
        .unwrap();
    let (s, must) = app
        .post(
            &format!("{ev}/preferences"),
            &json!({"organization_id": w.e1.org, format!("{kind}_id"): pid.parse::<i64>().unwrap(),
                    "side": "organizer", "preference": "must"}),
        )
        .await;
    assert_eq!(s, 201, "{must}");

    // regenerate: the confirmed meeting kept its slot and table; the declined pair is gone
    let (s, p) = app
        .post(&format!("{ev}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{p}");
    let (s, full) = app.get(&format!("{ev}/pairings")).await;
    assert_eq!(s, 200);
    assert!(
        full["ignored_forced"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["reason_code"] == "declined"
                && f["enterprise"]["organization_id"] == w.e1.org),
        "the organisers see why their must was dropped: {full}"
    );
    let (s, own) = call(app, &w.e1, "GET", &format!("{ev}/pairings"), None).await;
    assert_eq!(s, 200);
    assert!(
        own["ignored_forced"].to_string().contains("declined"),
        "{own}"
    );
    let (s, theirs) = call(app, &w.e2, "GET", &format!("{ev}/pairings"), None).await;
    assert_eq!(s, 200, "{theirs}");
    assert_eq!(
        theirs["items"].as_array().unwrap().len(),
        full["items"].as_array().unwrap().len(),
        "participants see every meeting, as the public programme does"
    );
    for list in ["ignored_forced", "unseated"] {
        for f in theirs[list].as_array().unwrap() {
            assert!(
                f["enterprise"]["organization_id"] == w.e2.org
                    || f["partner"]["organization_id"] == w.e2.org,
                "{list}: another participant's entry leaks to e2: {f}"
            );
        }
    }
    for u in theirs["unplaced"].as_array().unwrap() {
        assert_eq!(u["organization_id"], w.e2.org, "{u}");
    }
    assert!(
        !theirs["ignored_forced"].to_string().contains("declined"),
        "{theirs}"
    );
    let (_, a3) = call(app, &w.e1, "GET", &format!("{ev}/my-agenda"), None).await;
    let kept =
        meeting(&a3, &format!("result:{}", w.r_weld)).unwrap_or_else(|| panic!("kept: {a3}"));
    assert_eq!(
        (kept["slot"].clone(), kept["table"].clone()),
        (weld["slot"].clone(), weld["table"].clone()),
        "{a3}"
    );
    assert!(
        meeting(&a3, other["partner_listing_id"].as_str().unwrap()).is_none(),
        "{a3}"
    );
    if other["partner_listing_id"] == format!("result:{}", w.r_heat) {
        let unmet = a3["unmet_wishes"].to_string();
        assert!(
            unmet.contains("declined"),
            "the declined like is explained: {a3}"
        );
    }

    // publish: every member gets its agenda with a calendar file that parses
    let (s, pubd) = app
        .post(&format!("{ev}/schedule:publish"), &json!({}))
        .await;
    assert_eq!(s, 200, "{pubd}");
    assert_eq!(pubd["event"]["status"], "published");
    let m = mail::wait_for(&outbox, &w.e1.email, "对接日程已发布").await;
    assert_eq!(m.calendars.len(), 1, "{:?}", m.headers);
    let ics = &m.calendars[0];
    let n = a3["meetings"].as_array().unwrap().len();
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), n, "{ics}");
    let slot_start = kept["start"].as_str().unwrap().replace(':', "");
    assert!(
        ics.contains(&format!(
            "DTSTART;TZID=Asia/Shanghai:20261220T{slot_start}00"
        )),
        "{ics}"
    );
    let (s, a4) = call(app, &w.e1, "GET", &format!("{ev}/my-agenda"), None).await;
    assert_eq!((s, a4["state"].as_str()), (200, Some("published")));
    let resp =
        w.e1.client
            .get(app.url(&format!("{ev}/my-agenda.ics")))
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
    assert_eq!(
        resp.text().await.unwrap().matches("BEGIN:VEVENT").count(),
        n
    );

    // attendance: a held meeting moves its ledger entry to met; members cannot mark it
    let (s, _) = call(
        app,
        &w.e1,
        "POST",
        &format!("{ev}/pairings/{wid}/attendance"),
        Some(json!({"status": "held"})),
    )
    .await;
    assert_eq!(s, 403);
    let pid = kept["pairing_id"].as_i64().unwrap();
    let (s, e) = app
        .post(
            &format!("{ev}/pairings/{pid}/attendance"),
            &json!({"status": "maybe"}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let (s, r) = app
        .post(
            &format!("{ev}/pairings/{pid}/attendance"),
            &json!({"status": "held"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["ledger_status"], "met", "{r}");
    let (s, l) = app.get(&format!("/api/v1/ledger?event={id}")).await;
    assert_eq!(s, 200, "{l}");
    assert!(
        l["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["status"] == "met"),
        "{l}"
    );
}

#[tokio::test]
async fn participants_register_wish_confirm_and_get_their_agenda_on_sqlite() {
    let app = spawn_with(|s| s.mail.poll_interval_ms = 50).await;
    self_service(&app).await;
}

#[tokio::test]
async fn participants_register_wish_confirm_and_get_their_agenda_on_postgresql() {
    let Some(db) = crate::replicas::fresh_database("event self-service on PostgreSQL").await else {
        return;
    };
    let app = spawn_with(|s| {
        s.mail.poll_interval_ms = 50;
        s.database.url = db;
    })
    .await;
    self_service(&app).await;
}

#[tokio::test]
async fn with_mutual_only_a_one_sided_must_is_not_forced_and_the_participant_is_told_why() {
    let app = spawn_with(|_| {}).await;
    let w = world(&app).await;
    // min_score keeps the unrelated pair out unless it is forced
    let id = open_event(
        &app,
        json!({"status": "open", "registration": "open", "mutual_only": true, "min_score": 0.3}),
    )
    .await;
    let ev = format!("/api/v1/events/{id}");
    for (m, ids) in [
        (&w.e1, vec![format!("need:{}", w.n1)]),
        (&w.u1, vec![format!("result:{}", w.r_heat)]),
    ] {
        let (s, r) = call(
            &app,
            m,
            "POST",
            &format!("{ev}/registrations"),
            Some(json!({"listing_ids": ids})),
        )
        .await;
        assert_eq!(s, 201, "{r}");
    }
    // the welding need insists on the machine-tool result; the university did not wish it
    let (s, v) = call(&app, &w.e1, "PUT", &format!("{ev}/wishes"), Some(json!([{"listing_id": format!("need:{}", w.n1), "partner_listing_id": format!("result:{}", w.r_heat), "kind": "must"}]))).await;
    assert_eq!((s, v["mutual_only"].as_bool()), (200, Some(true)), "{v}");
    let (s, p) = app
        .post(&format!("{ev}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{p}");
    let (_, a) = call(&app, &w.e1, "GET", &format!("{ev}/my-agenda"), None).await;
    assert_eq!(a["meetings"].as_array().unwrap().len(), 0, "{a}");
    assert_eq!(a["unmet_wishes"][0]["reason_code"], "not_mutual", "{a}");
    // once the university wishes it too, the must is honoured
    let (s, _) = call(&app, &w.u1, "PUT", &format!("{ev}/wishes"), Some(json!([{"listing_id": format!("result:{}", w.r_heat), "partner_listing_id": format!("need:{}", w.n1), "kind": "like"}]))).await;
    assert_eq!(s, 200);
    let (s, _) = app
        .post(&format!("{ev}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200);
    let (_, a) = call(&app, &w.e1, "GET", &format!("{ev}/my-agenda"), None).await;
    assert_eq!(a["meetings"].as_array().unwrap().len(), 1, "{a}");
    assert!(
        a["meetings"][0]["why"].as_str().unwrap().contains("双方"),
        "{a}"
    );
}

#[tokio::test]
async fn registration_closed_invite_only_and_deadlines_are_refused_clearly() {
    let app = spawn_with(|_| {}).await;
    let w = world(&app).await;
    let body = |ids: Vec<String>| Some(json!({"listing_ids": ids}));
    // an open event whose registration is closed: organisers add participants
    let id = open_event(&app, json!({"status": "open"})).await;
    let (s, e) = call(
        &app,
        &w.e1,
        "POST",
        &format!("/api/v1/events/{id}/registrations"),
        body(vec![format!("need:{}", w.n1)]),
    )
    .await;
    assert_eq!(
        (s, error_code(&e).as_str()),
        (409, "registration_closed"),
        "{e}"
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains(" / "),
        "bilingual: {e}"
    );
    // past the deadline
    let id = open_event(&app, json!({"status": "open", "registration": "open", "registration_closes_at": "2020-01-01T18:00"})).await;
    let (s, e) = call(
        &app,
        &w.e1,
        "POST",
        &format!("/api/v1/events/{id}/registrations"),
        body(vec![format!("need:{}", w.n1)]),
    )
    .await;
    assert_eq!(
        (s, error_code(&e).as_str()),
        (409, "registration_closed"),
        "{e}"
    );
    // a deadline that is not a time is a field error
    let (s, e) = app
        .patch(
            &format!("/api/v1/events/{id}"),
            &json!({"wishes_close_at": "next friday"}),
        )
        .await;
    assert_eq!(
        (s, fields(&e).contains("wishes_close_at")),
        (422, true),
        "{e}"
    );
    // invite only: an organisation the organisers did not add is refused, an added one may
    // bring more listings
    let id = open_event(&app, json!({"status": "open", "registration": "invite"})).await;
    let (s, e) = call(
        &app,
        &w.u1,
        "POST",
        &format!("/api/v1/events/{id}/registrations"),
        body(vec![format!("result:{}", w.r_weld)]),
    )
    .await;
    assert_eq!((s, error_code(&e).as_str()), (403, "invite_only"), "{e}");
    let (s, v) = app.post(&format!("/api/v1/events/{id}/participants"), &json!({"organization_id": w.u2.org, "listings": [{"kind": "result", "id": w.r_weld2}]})).await;
    assert_eq!(s, 201, "{v}");
    let (s, r) = call(
        &app,
        &w.u2,
        "POST",
        &format!("/api/v1/events/{id}/registrations"),
        body(vec![format!("expert:{}", w.x_weld)]),
    )
    .await;
    assert_eq!((s, r["status"].as_str()), (201, Some("approved")), "{r}");
    let (_, ps) = app.get(&format!("/api/v1/events/{id}/participants")).await;
    assert_eq!(
        ps["items"][0]["listings"].as_array().unwrap().len(),
        2,
        "{ps}"
    );
    // wishes after their deadline
    let id = open_event(
        &app,
        json!({"status": "open", "registration": "open", "wishes_close_at": "2020-01-01T18:00"}),
    )
    .await;
    let (s, _) = call(
        &app,
        &w.e1,
        "POST",
        &format!("/api/v1/events/{id}/registrations"),
        body(vec![format!("need:{}", w.n1)]),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = call(
        &app,
        &w.u1,
        "POST",
        &format!("/api/v1/events/{id}/registrations"),
        body(vec![format!("result:{}", w.r_weld)]),
    )
    .await;
    assert_eq!(s, 201);
    let (s, e) = call(&app, &w.e1, "PUT", &format!("/api/v1/events/{id}/wishes"), Some(json!([{"listing_id": format!("need:{}", w.n1), "partner_listing_id": format!("result:{}", w.r_weld), "kind": "like"}]))).await;
    assert_eq!((s, error_code(&e).as_str()), (409, "wishes_closed"), "{e}");
    // a body that is not a list of wishes
    let (s, e) = call(
        &app,
        &w.e1,
        "PUT",
        &format!("/api/v1/events/{id}/wishes"),
        Some(json!({"x": 1})),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let _ = (&w.e2, &w.n2, &w.r_heat);
}

#[tokio::test]
async fn participants_are_reminded_once_the_day_before_with_their_agenda() {
    let app = spawn_with(|s| {
        s.mail.poll_interval_ms = 50;
        s.connections.sweep_interval_secs = 1;
    })
    .await;
    let w = world(&app).await;
    let outbox = app.ctx.settings.data.dir.join("outbox");
    // tomorrow at 00:00 Beijing time is always less than 24 hours away
    let tomorrow = (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(1))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let (_, _ev) = published(&app, &w, json!({"date": tomorrow, "start_time": "00:00"})).await;
    let m = mail::wait_for(&outbox, &w.e1.email, "明天参会提醒").await;
    assert_eq!(m.calendars.len(), 1);
    assert_eq!(
        m.calendars[0].matches("BEGIN:VEVENT").count(),
        1,
        "{}",
        m.calendars[0]
    );
    assert!(m.text.contains("焊接残余应力"), "{}", m.text);
    // the sweep runs every second: the reminder still goes out once
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let reminders = mail::to(&outbox, &w.e1.email)
        .into_iter()
        .filter(|m| m.subject.contains("明天参会提醒"))
        .count();
    assert_eq!(reminders, 1);
    let _ = (&w.e2, &w.u2, &w.n2, &w.r_heat, &w.r_weld2, &w.x_weld);
}

#[tokio::test]
async fn the_morning_after_each_participant_answers_with_one_tap_and_the_ledger_follows() {
    let app = spawn_with(|s| {
        s.mail.poll_interval_ms = 50;
        s.connections.sweep_interval_secs = 1;
        s.server.public_url = "https://duijie.example.org".into();
    })
    .await;
    let w = world(&app).await;
    let outbox = app.ctx.settings.data.dir.join("outbox");
    // an event held two days ago (Beijing time)
    let day = (chrono::Utc::now() + chrono::Duration::hours(8) - chrono::Duration::days(2))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let (id, ev) = published(&app, &w, json!({"date": day})).await;
    let m = mail::wait_for(&outbox, &w.u1.email, "会谈举行了吗").await;
    let at = m
        .text
        .find("/participate/")
        .unwrap_or_else(|| panic!("{}", m.text));
    let link: String = m.text[at..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(
        link.contains("a=useful"),
        "the first answer offered is 'useful': {link}"
    );
    // opening the link answers nothing: it shows one button
    let r = app.anon.get(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("很有帮助"));
    let (_, l) = app.get(&format!("/api/v1/ledger?event={id}")).await;
    assert_eq!(l["items"][0]["status"], "proposed", "{l}");
    // a forged link changes nothing
    let forged = link.replace("a=useful", "a=no_show");
    let r = app.anon.post(app.url(&forged)).send().await.unwrap();
    assert_eq!(r.status(), 400);
    // the tap: recorded, the meeting is held, the ledger entry met
    let r = app.anon.post(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("已记录"));
    let (_, l) = app.get(&format!("/api/v1/ledger?event={id}")).await;
    assert_eq!(l["items"][0]["status"], "met", "{l}");
    // once per side: the same link again is a 409
    let r = app.anon.post(app.url(&link)).send().await.unwrap();
    assert_eq!(r.status(), 409);
    // the enterprise answers through the API; its answer keeps the organisers' mark
    let (_, a) = call(&app, &w.e1, "GET", &format!("{ev}/my-agenda"), None).await;
    let pid = a["meetings"][0]["pairing_id"].as_i64().unwrap();
    assert_eq!(a["meetings"][0]["attendance"], "held", "{a}");
    let (s, e) = call(
        &app,
        &w.e1,
        "POST",
        &format!("{ev}/my-agenda/{pid}/feedback"),
        Some(json!({"answer": "maybe"})),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    let (s, r) = call(
        &app,
        &w.e1,
        "POST",
        &format!("{ev}/my-agenda/{pid}/feedback"),
        Some(json!({"answer": "not_useful"})),
    )
    .await;
    assert_eq!((s, r["attendance"].as_str()), (200, Some("held")), "{r}");
    let (s, _) = call(
        &app,
        &w.u2,
        "POST",
        &format!("{ev}/my-agenda/{pid}/feedback"),
        Some(json!({"answer": "useful"})),
    )
    .await;
    assert_eq!(
        s, 403,
        "an organisation that does not take part cannot answer"
    );
    let _ = (&w.e2, &w.n2, &w.r_heat, &w.r_weld2, &w.x_weld);
}

#[tokio::test]
async fn a_cap_per_organisation_holds_and_the_report_says_what_it_cost() {
    let app = spawn_with(|_| {}).await;
    let w = world(&app).await;
    // both enterprises, and one university bringing two results that both match
    let id = open_event(&app, json!({"status": "open", "registration": "open"})).await;
    let ev = format!("/api/v1/events/{id}");
    for (m, ids) in [
        (&w.e1, vec![format!("need:{}", w.n1)]),
        (&w.e2, vec![format!("need:{}", w.n2)]),
        (
            &w.u1,
            vec![
                format!("result:{}", w.r_weld),
                format!("result:{}", w.r_heat),
            ],
        ),
    ] {
        let (s, r) = call(
            &app,
            m,
            "POST",
            &format!("{ev}/registrations"),
            Some(json!({"listing_ids": ids})),
        )
        .await;
        assert_eq!(s, 201, "{r}");
    }
    let held_by_u1 = |p: &Value| {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["partner"]["organization_id"] == w.u1.org)
            .count()
    };
    let (s, free) = app
        .post(&format!("{ev}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{free}");
    assert!(
        held_by_u1(&free) >= 2,
        "without a cap the university meets both: {free}"
    );
    assert!(free.get("cap_cost").is_none(), "{free}");
    // at most one meeting per organisation
    let (s, v) = app.patch(&ev, &json!({"max_per_organization": 1})).await;
    assert_eq!(
        (s, v["max_per_organization"].as_i64()),
        (200, Some(1)),
        "{v}"
    );
    let (s, capped) = app
        .post(&format!("{ev}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{capped}");
    assert_eq!(held_by_u1(&capped), 1, "{capped}");
    assert!(capped["cap_cost"].as_f64().unwrap() > 0.0, "{capped}");
    assert!(
        capped["total_score"].as_f64().unwrap() < free["total_score"].as_f64().unwrap(),
        "{capped}"
    );
    let (s, e) = app.patch(&ev, &json!({"max_per_organization": -1})).await;
    assert_eq!(s, 422, "{e}");
    let _ = (&w.u2, &w.r_weld2, &w.x_weld);
}
