//! Matchmaking events end to end: create an event, add participants (by API and by CSV
//! import) and preferences, generate the pairing, edit it, and export it.

use crate::helpers::*;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

async fn org(app: &TestApp, name: &str, kind: &str, extra: Value) -> i64 {
    let mut body = json!({"name": name, "kind": kind});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (s, o) = app.post("/api/v1/organizations", &body).await;
    assert_eq!(s, 201, "{o}");
    o["id"].as_i64().unwrap()
}

async fn listing(app: &TestApp, plural: &str, body: Value) -> i64 {
    let (s, r) = app.post(&format!("/api/v1/{plural}"), &body).await;
    assert_eq!(s, 201, "{r}");
    r["id"].as_i64().unwrap()
}

/// The world of the main scenario.
struct World {
    e1: i64,
    e2: i64,
    e3: i64,
    u1: i64,
    u2: i64,
    n1: i64,
    n2: i64,
    n3: i64,
    n4: i64,
    r1: i64,
    r2: i64,
    r3: i64,
    r4: i64,
    x1: i64,
    draft: i64,
}

const EVIL: &str = "<script>alert(1)</script>理工大学";

async fn world(app: &TestApp) -> World {
    let e1 = org(app, "鞍钢集团", "enterprise", json!({"city": "鞍山"})).await;
    let e2 = org(
        app,
        "大连化工新材料有限公司",
        "enterprise",
        json!({"city": "大连"}),
    )
    .await;
    let e3 = org(app, "沈阳机床厂", "enterprise", json!({"city": "沈阳"})).await;
    let u1 = org(app, "东北大学", "university", json!({"city": "沈阳"})).await;
    let u2 = org(app, EVIL, "university", json!({})).await;
    org(
        app,
        "大连理工大学",
        "university",
        json!({"external_id": "ORG-DUT"}),
    )
    .await;
    let need = |title: &str, desc: &str, kw: &[&str], o: i64| json!({"title": title, "description": desc, "keywords": kw, "organization_id": o});
    let n1 = listing(
        app,
        "needs",
        need(
            "高炉煤气余热回收利用",
            "回收高炉煤气与烧结余热，用于余热发电，降低吨钢能耗。",
            &["余热", "发电"],
            e1,
        ),
    )
    .await;
    let n2 = listing(
        app,
        "needs",
        need(
            "连铸坯表面缺陷视觉检测",
            "利用机器视觉和深度学习在线检测连铸坯表面裂纹缺陷。",
            &["机器视觉", "缺陷检测"],
            e1,
        ),
    )
    .await;
    let n3 = listing(
        app,
        "needs",
        need(
            "氢燃料电池催化剂国产化",
            "需要低成本燃料电池催化剂，替代进口铂催化剂。",
            &["催化剂", "燃料电池"],
            e2,
        ),
    )
    .await;
    let n4 = listing(
        app,
        "needs",
        need(
            "数控机床热误差补偿",
            "数控机床主轴热变形导致加工误差，需要热误差建模与补偿。",
            &["数控机床", "热误差"],
            e3,
        ),
    )
    .await;
    let result = |title: &str, summary: &str, kw: &[&str], o: i64| json!({"title": title, "summary": summary, "keywords": kw, "organization_id": o});
    let r1 = listing(
        app,
        "results",
        result(
            "低温余热发电技术",
            "有机朗肯循环回收低温余热发电，适用于钢铁企业烧结余热。",
            &["余热", "发电"],
            u1,
        ),
    )
    .await;
    let r2 = listing(
        app,
        "results",
        result(
            "钢材表面缺陷深度学习检测系统",
            "基于机器视觉和深度学习的钢材表面缺陷在线检测。",
            &["机器视觉", "缺陷检测"],
            u1,
        ),
    )
    .await;
    let r3 = listing(
        app,
        "results",
        result(
            "稀土燃料电池催化剂",
            "稀土掺杂低铂燃料电池催化剂，成本降低一半。",
            &["催化剂", "燃料电池"],
            u2,
        ),
    )
    .await;
    let mut r4_body = result(
        "机床主轴热误差补偿方法",
        "基于温度场的数控机床主轴热误差补偿。",
        &["数控机床", "热误差"],
        u2,
    );
    r4_body["external_id"] = "U2-R4".into();
    let r4 = listing(app, "results", r4_body).await;
    let mut dut = result(
        "高炉煤气余热梯级利用",
        "高炉煤气余热梯级回收利用技术。",
        &["余热"],
        0,
    );
    dut["organization_external_id"] = "ORG-DUT".into();
    dut.as_object_mut().unwrap().remove("organization_id");
    dut["external_id"] = "DUT-1".into();
    listing(app, "results", dut).await;
    let x1 = listing(
        app,
        "experts",
        json!({"name": "李教授", "research_areas": ["数控机床", "热误差补偿"], "summary": "长期从事数控机床热误差建模与补偿研究。", "organization_id": u1}),
    )
    .await;
    let mut d = result("未发布的成果", "草稿", &["草稿"], u1);
    d["status"] = "draft".into();
    let draft = listing(app, "results", d).await;
    World {
        e1,
        e2,
        e3,
        u1,
        u2,
        n1,
        n2,
        n3,
        n4,
        r1,
        r2,
        r3,
        r4,
        x1,
        draft,
    }
}

fn fair() -> Value {
    json!({
        "name": "2026 辽宁校企成果对接会", "format": "fair", "date": "2026-04-25", "venue": "沈阳 · 辽宁工业展览馆",
        "themes": ["冶金", "new_energy"], "start_time": "09:00", "slot_minutes": 20, "slot_count": 3,
        "breaks": [{"after_slot": 2, "minutes": 15, "label": "茶歇"}], "table_count": 3, "table_names": ["A 桌"],
        "max_per_enterprise": 2, "max_per_result": 1, "max_per_expert": 1, "min_score": 0.05
    })
}

fn key(m: &Value) -> (i64, String, i64) {
    (
        m["enterprise"]["organization_id"].as_i64().unwrap(),
        m["partner"]["kind"].as_str().unwrap().to_string(),
        m["partner"]["id"].as_i64().unwrap(),
    )
}

/// Capacities, one meeting per participant and slot, one meeting per table and slot, ranges.
fn check_schedule(items: &[Value], slots: i64, tables: i64, cap_e: usize, cap_r: usize) {
    let mut per_e: HashMap<i64, usize> = HashMap::new();
    let mut per_r: HashMap<(String, i64), usize> = HashMap::new();
    let mut busy = BTreeSet::new();
    for m in items {
        let (e, kind, id) = key(m);
        let (slot, table) = (m["slot"].as_i64().unwrap(), m["table"].as_i64().unwrap());
        assert!(
            (0..slots).contains(&slot) && (0..tables).contains(&table),
            "{m}"
        );
        *per_e.entry(e).or_default() += 1;
        *per_r.entry((kind.clone(), id)).or_default() += 1;
        assert!(
            busy.insert(("e".to_string(), e, slot)),
            "enterprise {e} twice in slot {slot}"
        );
        assert!(
            busy.insert((kind, id, slot)),
            "partner {id} twice in slot {slot}"
        );
        assert!(
            busy.insert(("table".to_string(), table, slot)),
            "table {table} twice in slot {slot}"
        );
    }
    assert!(per_e.values().all(|n| *n <= cap_e), "{per_e:?}");
    assert!(per_r.values().all(|n| *n <= cap_r), "{per_r:?}");
}

#[tokio::test]
async fn event_lifecycle_pairing_edits_and_exports() {
    let app = spawn_app().await;
    let w = world(&app).await;

    // --- the event
    let (s, ev) = app.post("/api/v1/events", &fair()).await;
    assert_eq!(s, 201, "{ev}");
    let id = ev["id"].as_i64().unwrap();
    assert_eq!(
        ev["themes"],
        json!(["metallurgy", "new_energy"]),
        "themes resolve from Chinese labels"
    );
    assert_eq!(ev["status"], "draft");
    assert_eq!(
        ev["slots"][2]["start"], "09:55",
        "the break shifts later slots"
    );
    assert_eq!(ev["tables"], json!(["A 桌", "2号桌", "3号桌"]));
    let (s, page) = app.get("/api/v1/events?status=draft&limit=5").await;
    assert_eq!(
        (s, page["total"].as_i64(), page["limit"].as_i64()),
        (200, Some(1), Some(5))
    );
    let (s, ev) = app
        .patch(
            &format!("/api/v1/events/{id}"),
            &json!({"status": "open", "venue": null}),
        )
        .await;
    assert_eq!(
        (s, ev["status"].as_str(), ev["venue"].is_null()),
        (200, Some("open"), true),
        "{ev}"
    );
    let (s, e) = app
        .patch(
            &format!("/api/v1/events/{id}"),
            &json!({"max_per_result": -1}),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (422, "validation_failed"));
    assert_eq!(
        app.get(&format!("/api/v1/events/{id}")).await.1["max_per_result"],
        1,
        "an invalid patch changes nothing"
    );

    // --- participants
    let base = format!("/api/v1/events/{id}");
    let (s, p) = app
        .post(
            &format!("{base}/participants"),
            &json!({"organization_id": w.e1, "listings": [{"kind": "need", "id": w.n1}]}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let (s, p) = app
        .post(
            &format!("{base}/participants"),
            &json!({"organization_id": w.e1, "listings": [{"kind": "need", "id": w.n2}]}),
        )
        .await;
    assert_eq!(
        (s, p["listings"].as_array().map(Vec::len)),
        (200, Some(2)),
        "a second add merges: {p}"
    );
    for (o, listings) in [
        (w.e2, json!([{"kind": "need", "id": w.n3}])),
        (w.e3, json!([{"kind": "need", "id": w.n4}])),
        (
            w.u1,
            json!([{"kind": "result", "id": w.r1}, {"kind": "result", "id": w.r2}, {"kind": "expert", "id": w.x1}]),
        ),
    ] {
        let (s, p) = app
            .post(
                &format!("{base}/participants"),
                &json!({"organization_id": o, "listings": listings}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
    }
    // refused: wrong kind for the organisation, someone else's listing, unpublished, unknown
    for (body, field_code) in [
        (
            json!({"organization_id": w.e2, "listings": [{"kind": "result", "id": w.r1}]}),
            "kind_mismatch",
        ),
        (
            json!({"organization_id": w.u2, "listings": [{"kind": "result", "id": w.r1}]}),
            "wrong_organization",
        ),
        (
            json!({"organization_id": w.u1, "listings": [{"kind": "result", "id": w.draft}]}),
            "not_published",
        ),
        (
            json!({"organization_id": w.u1, "listings": [{"kind": "result", "id": 999_999}]}),
            "not_found",
        ),
        (
            json!({"organization_id": 999_999, "listings": [{"kind": "result", "id": w.r1}]}),
            "not_found",
        ),
        (
            json!({"organization_id": w.u1, "listings": [{"kind": "planet", "id": 1}]}),
            "invalid_choice",
        ),
        (json!({"organization_id": w.u1, "listings": []}), "required"),
    ] {
        let (s, e) = app.post(&format!("{base}/participants"), &body).await;
        assert_eq!(
            (s, error_code(&e).as_str()),
            (422, "validation_failed"),
            "{body}: {e}"
        );
        assert_eq!(e["error"]["fields"][0]["code"], field_code, "{body}: {e}");
    }
    // the second university and a third by CSV import (a BOM, Chinese headers, one bad row)
    let csv =
        format!("\u{feff}单位,项目编号\n{EVIL},U2-R4\n大连理工大学,DUT-1\n不存在的大学,X-1\n");
    let (s, r) = app
        .post_raw(
            &format!("{base}/participants:import"),
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(
        (r["imported"].as_u64(), r["failed"].as_u64()),
        (Some(2), Some(1)),
        "{r}"
    );
    assert_eq!(
        (
            r["errors"][0]["line"].as_u64(),
            r["errors"][0]["code"].as_str()
        ),
        (Some(4), Some("not_found"))
    );
    let (s, p) = app
        .post(
            &format!("{base}/participants"),
            &json!({"organization_id": w.u2, "listings": [{"kind": "result", "id": w.r3}]}),
        )
        .await;
    assert_eq!(
        (s, p["listings"].as_array().map(Vec::len)),
        (200, Some(2)),
        "{p}"
    );
    let (s, r) = app
        .post_raw(
            &format!("{base}/participants:import"),
            "application/x-ndjson",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(
        (s, error_code(&r).as_str()),
        (415, "unsupported_media_type")
    );
    let (_, ps) = app.get(&format!("{base}/participants")).await;
    assert_eq!(ps["total"], 6, "{ps}");

    // --- preferences
    let pref = |body: Value| {
        let app = &app;
        let path = format!("{base}/preferences");
        async move { app.post(&path, &body).await }
    };
    // the organiser forces an unlikely pair, the university declines the best pair of n2,
    // and both sides like n4 × the expert
    let (s, p) = pref(json!({"organization_id": w.e3, "result_id": w.r3, "side": "organizer", "preference": "must"})).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["enterprise_name"], "沈阳机床厂");
    let (s, _) =
        pref(json!({"need_id": w.n2, "result_id": w.r2, "side": "university", "preference": "no"}))
            .await;
    assert_eq!(s, 201);
    let (s, _) = pref(
        json!({"need_id": w.n4, "expert_id": w.x1, "side": "enterprise", "preference": "like"}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, like) = pref(
        json!({"need_id": w.n4, "expert_id": w.x1, "side": "university", "preference": "like"}),
    )
    .await;
    assert_eq!(s, 201);
    let (s, again) = pref(
        json!({"need_id": w.n4, "expert_id": w.x1, "side": "university", "preference": "like"}),
    )
    .await;
    assert_eq!(
        (s, &again["id"]),
        (200, &like["id"]),
        "a side's new word replaces its old one"
    );
    for (body, code) in [
        (
            json!({"need_id": w.n4, "expert_id": w.x1, "side": "university", "preference": "maybe"}),
            "invalid_choice",
        ),
        (
            json!({"need_id": w.n4, "result_id": 999_999, "side": "enterprise", "preference": "like"}),
            "not_participating",
        ),
        (
            json!({"need_id": 999_999, "result_id": w.r1, "side": "enterprise", "preference": "like"}),
            "not_participating",
        ),
        (
            json!({"need_id": w.n4, "side": "enterprise", "preference": "like"}),
            "required",
        ),
        (
            json!({"need_id": w.n4, "result_id": w.r1, "side": "organizer", "preference": "like"}),
            "invalid_choice",
        ),
        (
            json!({"need_id": w.n4, "result_id": w.r1, "side": "enterprise", "preference": "like", "why": 1}),
            "unknown_field",
        ),
    ] {
        let (s, e) = pref(body.clone()).await;
        assert_eq!(
            (s, error_code(&e).as_str()),
            (422, "validation_failed"),
            "{body}: {e}"
        );
        assert_eq!(e["error"]["fields"][0]["code"], code, "{body}: {e}");
    }
    let (s, extra) = pref(json!({"organization_id": w.e2, "result_id": w.r1, "side": "enterprise", "preference": "like"})).await;
    assert_eq!(s, 201, "{extra}");
    assert_eq!(
        app.delete(&format!("{base}/preferences/{}", extra["id"]))
            .await,
        204
    );
    let (_, prefs) = app.get(&format!("{base}/preferences")).await;
    assert_eq!(prefs["total"], 4);
    let must = prefs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["preference"] == "must")
        .unwrap();
    assert_eq!(
        (must["partner_title"].as_str(), must["need_id"].is_null()),
        (Some("稀土燃料电池催化剂"), true),
        "{must}"
    );

    // --- no pairing yet
    let (s, v) = app.get(&format!("{base}/pairings")).await;
    assert_eq!(
        (
            s,
            v["generated"].as_bool(),
            v["items"].as_array().map(Vec::len)
        ),
        (200, Some(false), Some(0))
    );
    let (s, e) = app
        .patch(&format!("{base}/pairings/1"), &json!({"slot": 0}))
        .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "not_generated"));

    // --- generate
    let (s, g) = app
        .post(&format!("{base}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{g}");
    let items = g["items"].as_array().unwrap().clone();
    assert!(!items.is_empty(), "{g}");
    check_schedule(&items, 3, 3, 2, 1);
    let pairs: BTreeSet<(i64, String, i64)> = items.iter().map(key).collect();
    assert!(
        pairs.contains(&(w.e3, "result".into(), w.r3)),
        "the forced pair is placed: {pairs:?}"
    );
    assert!(
        items
            .iter()
            .any(|m| key(m) == (w.e3, "result".into(), w.r3) && m["forced"] == true)
    );
    assert!(
        !pairs.contains(&(w.e1, "result".into(), w.r2)),
        "the declined pair is not: {pairs:?}"
    );
    assert!(
        pairs.contains(&(w.e1, "result".into(), w.r1)),
        "余热 need meets the 余热 result: {pairs:?}"
    );
    assert!(
        pairs.contains(&(w.e2, "result".into(), w.r3))
            || pairs.contains(&(w.e3, "result".into(), w.r3))
    );
    let m = items
        .iter()
        .find(|m| key(m) == (w.e1, "result".into(), w.r1))
        .unwrap();
    assert_eq!(
        (
            m["enterprise"]["need_id"].as_i64(),
            m["enterprise"]["need_title"].as_str()
        ),
        (Some(w.n1), Some("高炉煤气余热回收利用"))
    );
    assert_eq!(m["partner"]["organization_name"], "东北大学");
    assert!(m["start"].as_str().unwrap().contains(':') && m["table_name"].is_string());
    // the forced pair takes the only result the catalyst need matches: that enterprise is
    // told why it has no meeting, and the declined result why it has none
    let unplaced = g["unplaced"].as_array().unwrap();
    let why = |side: &str, pred: &dyn Fn(&Value) -> bool| {
        unplaced
            .iter()
            .find(|u| u["side"] == side && pred(u))
            .map(|u| u["reason_code"].as_str().unwrap().to_string())
    };
    assert_eq!(
        why("enterprise", &|u| u["organization_id"] == w.e2).as_deref(),
        Some("capacity"),
        "{g}"
    );
    assert_eq!(
        why("result", &|u| u["listing_id"] == w.r2).as_deref(),
        Some("conflicts"),
        "{g}"
    );
    assert_eq!(g["enterprises_served"], 2);
    for u in g["unplaced"].as_array().unwrap() {
        assert!(
            ["capacity", "no_candidate", "conflicts"].contains(&u["reason_code"].as_str().unwrap()),
            "{u}"
        );
        assert!(u["reason"].as_str().unwrap().contains(" / "), "{u}");
        assert!(
            u["organization_name"]
                .as_str()
                .is_some_and(|n| !n.is_empty()),
            "{u}"
        );
    }
    assert!(g["elapsed_ms"].as_f64().is_some());
    // deterministic: generating again gives the same pairs in the same places
    let (_, g2) = app
        .post(&format!("{base}/pairings:generate"), &json!({}))
        .await;
    let places = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (key(m), m["slot"].as_i64(), m["table"].as_i64()))
            .collect::<Vec<_>>()
    };
    assert_eq!(places(&g), places(&g2));
    let (_, listed) = app.get(&format!("{base}/pairings")).await;
    assert_eq!(
        (
            listed["generated"].as_bool(),
            listed["stale"].as_bool(),
            listed["version"].as_i64()
        ),
        (Some(true), Some(false), Some(2)),
        "each generation is a new version"
    );
    let items = listed["items"].as_array().unwrap().clone();

    // --- edits
    let a = &items[0];
    let a_id = a["id"].as_i64().unwrap();
    let b = items
        .iter()
        .find(|b| b["slot"] != a["slot"])
        .expect("two slots in use");
    let (s, e) = app
        .patch(
            &format!("{base}/pairings/{a_id}"),
            &json!({"slot": b["slot"], "table": b["table"]}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
    assert!(
        ["busy", "table_occupied"].contains(&error_code(&e).as_str()),
        "{e}"
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains(" / "),
        "{e}"
    );
    // a free cell for `a`: its enterprise and partner free, the table empty
    let (ae, ak, ap) = key(a);
    let free = (0..3i64)
        .flat_map(|s| (0..3i64).map(move |t| (s, t)))
        .find(|&(s, t)| {
            items
                .iter()
                .filter(|m| m["id"] != a["id"] && m["slot"] == s)
                .all(|m| {
                    m["table"] != t && key(m).0 != ae && (key(m).1, key(m).2) != (ak.clone(), ap)
                })
                && (s, t) != (a["slot"].as_i64().unwrap(), a["table"].as_i64().unwrap())
        })
        .expect("a free cell");
    let (s, moved) = app
        .patch(
            &format!("{base}/pairings/{a_id}"),
            &json!({"slot": free.0, "table": free.1}),
        )
        .await;
    assert_eq!(s, 200, "{moved}");
    assert_eq!(
        (moved["slot"].as_i64(), moved["table"].as_i64()),
        (Some(free.0), Some(free.1))
    );
    assert_eq!(moved["id"], a_id);
    let (s, e) = app
        .patch(&format!("{base}/pairings/{a_id}"), &json!({"slot": 7}))
        .await;
    assert_eq!(
        (s, e["error"]["fields"][0]["code"].as_str()),
        (422, Some("slot_out_of_range")),
        "{e}"
    );
    let (s, e) = app
        .patch(&format!("{base}/pairings/{a_id}"), &json!({"slot": -1}))
        .await;
    assert_eq!(s, 422, "{e}");
    let forced = items.iter().find(|m| m["forced"] == true).unwrap();
    let (s, e) = app
        .patch(
            &format!("{base}/pairings/{}", forced["id"]),
            &json!({"remove": true}),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "forced_pair"), "{e}");
    let (s, e) = app
        .post(
            &format!("{base}/pairings"),
            &json!({"need_id": w.n1, "result_id": w.r1, "slot": 2, "table": 2}),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "already_paired"), "{e}");
    let (s, e) = app
        .post(
            &format!("{base}/pairings"),
            &json!({"need_id": w.n2, "result_id": w.r2, "slot": 2, "table": 2}),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "forbidden"), "{e}");
    let (s, e) = app
        .post(
            &format!("{base}/pairings"),
            &json!({"need_id": w.n2, "result_id": 424_242, "slot": 0, "table": 0}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(app.delete(&format!("{base}/pairings/999999")).await, 404);
    // removing a meeting, then adding it back where there is room
    let removable = items
        .iter()
        .find(|m| m["forced"] == false && m["id"] != a["id"])
        .unwrap();
    let (re, rk, rp) = key(removable);
    assert_eq!(
        app.delete(&format!("{base}/pairings/{}", removable["id"]))
            .await,
        204
    );
    let (_, after) = app.get(&format!("{base}/pairings")).await;
    assert_eq!(after["items"].as_array().unwrap().len(), items.len() - 1);
    assert_eq!(after["version"], 4, "every edit bumps the version");
    assert!(
        after["unplaced"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["organization_id"] == re || u["listing_id"] == rp),
        "{after}"
    );
    let left: Vec<Value> = after["items"].as_array().unwrap().clone();
    let spot = (0..3i64)
        .flat_map(|s| (0..3i64).map(move |t| (s, t)))
        .find(|&(s, t)| {
            left.iter().filter(|m| m["slot"] == s).all(|m| {
                m["table"] != t && key(m).0 != re && (key(m).1, key(m).2) != (rk.clone(), rp)
            })
        })
        .expect("room to add the meeting back");
    let partner_field = if rk == "expert" {
        "expert_id"
    } else {
        "result_id"
    };
    let body = json!({"organization_id": re, partner_field: rp, "slot": spot.0, "table": spot.1});
    let (s, added) = app.post(&format!("{base}/pairings"), &body).await;
    assert_eq!(s, 201, "{added}");
    assert_eq!(
        (added["origin"].as_str(), added["slot"].as_i64()),
        (Some("manual"), Some(spot.0))
    );
    let (_, now) = app.get(&format!("{base}/pairings")).await;
    check_schedule(now["items"].as_array().unwrap(), 3, 3, 2, 1);
    // swap two tables in a slot
    let (s, sw) = app
        .post(
            &format!("{base}/pairings:swap-tables"),
            &json!({"slot": 0, "table_a": 0, "table_b": 2}),
        )
        .await;
    assert_eq!(s, 200, "{sw}");
    check_schedule(sw["items"].as_array().unwrap(), 3, 3, 2, 1);
    let (s, e) = app
        .post(
            &format!("{base}/pairings:swap-tables"),
            &json!({"slot": 0, "table_a": 0, "table_b": 9}),
        )
        .await;
    assert_eq!(s, 422, "{e}");

    // --- schedule
    let (s, sch) = app.get(&format!("{base}/schedule")).await;
    assert_eq!(s, 200, "{sch}");
    let grid = sch["grid"].as_array().unwrap();
    assert_eq!(grid.len(), 3);
    assert!(
        grid.iter()
            .all(|r| r["cells"].as_array().unwrap().len() == 3)
    );
    assert_eq!(grid[1]["break_after"]["label"], "茶歇");
    let in_grid: usize = grid
        .iter()
        .flat_map(|r| r["cells"].as_array().unwrap())
        .map(|c| c["meetings"].as_array().unwrap().len())
        .sum();
    let n_meetings = sw["items"].as_array().unwrap().len();
    assert_eq!(in_grid, n_meetings);
    let agendas = sch["agendas"].as_array().unwrap();
    assert_eq!(agendas.len(), 6);
    let e1_agenda = agendas
        .iter()
        .find(|a| a["organization_id"] == w.e1)
        .unwrap();
    assert!(!e1_agenda["items"].as_array().unwrap().is_empty());
    assert_eq!(e1_agenda["items"][0]["own_kind"], "need");

    // --- exports
    let r = app
        .client
        .get(app.url(&format!("{base}/export.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''")
    );
    let bytes = r.bytes().await.unwrap();
    {
        use calamine::Reader;
        let mut wb =
            calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a readable workbook");
        assert_eq!(wb.sheet_names(), vec!["对接清单", "日程", "未安排"]);
        let list = wb.worksheet_range("对接清单").unwrap();
        assert_eq!(list.height(), n_meetings + 1);
        let header: Vec<String> = list
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            &header[..6],
            &["序号", "时段", "开始时间", "结束时间", "桌号", "企业"]
        );
        let names: BTreeSet<String> = list.rows().skip(1).map(|r| r[5].to_string()).collect();
        assert!(
            names.contains("鞍钢集团") && names.contains("沈阳机床厂"),
            "{names:?}"
        );
        let grid = wb.worksheet_range("日程").unwrap();
        assert!(grid.rows().any(|r| {
            r.iter()
                .any(|c| c.to_string().contains("沈阳机床厂 × 稀土燃料电池催化剂"))
        }));
        assert!(wb.worksheet_range("未安排").unwrap().height() >= 1);
    }
    let r = app
        .client
        .get(app.url(&format!("{base}/export.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a byte-order mark for Excel"
    );
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert!(text.starts_with("序号,时段,开始时间"));
    assert_eq!(text.lines().count(), n_meetings + 1);
    assert!(text.contains("鞍钢集团") && text.contains("低温余热发电技术"));
    let r = app
        .client
        .get(app.url(&format!("{base}/agenda.html")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    for name in [
        "鞍钢集团",
        "大连化工新材料有限公司",
        "沈阳机床厂",
        "东北大学",
        "大连理工大学",
    ] {
        assert!(html.contains(name), "{name} has an agenda");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;理工大学"));
    assert!(!html.contains("<script"), "everything is escaped");
    assert_eq!(html.matches("<section class=\"page\">").count(), 6);
    assert!(
        html.contains("page-break-after")
            && !html.contains("http://")
            && !html.contains("https://")
    );

    // --- publishing freezes the pairing; closing freezes everything
    app.patch(&base, &json!({"status": "published"})).await;
    let (s, e) = app
        .post(&format!("{base}/pairings:generate"), &json!({}))
        .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "event_published"));
    app.patch(&base, &json!({"status": "closed"})).await;
    let (s, e) = app
        .post(
            &format!("{base}/participants"),
            &json!({"organization_id": w.e1, "listings": [{"kind": "need", "id": w.n1}]}),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "event_closed"));

    // --- removing a participant and deleting the event
    app.patch(&base, &json!({"status": "open"})).await;
    let (_, ps) = app.get(&format!("{base}/participants")).await;
    let p_e3 = ps["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["organization_id"] == w.e3)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.delete(&format!("{base}/participants/{p_e3}")).await,
        204
    );
    assert_eq!(
        app.delete(&format!("{base}/participants/{p_e3}")).await,
        404
    );
    let (_, after) = app.get(&format!("{base}/pairings")).await;
    assert_eq!(after["stale"], true);
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["enterprise"]["organization_id"] != w.e3)
    );
    assert_eq!(app.delete(&base).await, 204);
    let (s, e) = app.get(&base).await;
    assert_eq!((s, error_code(&e).as_str()), (404, "not_found"));
    assert!(e["error"]["message"].as_str().unwrap().contains("对接会"));
    // the organisations can still be deleted once their listings are gone
    assert_eq!(app.delete(&format!("/api/v1/results/{}", w.r4)).await, 204);
}

#[tokio::test]
async fn bad_event_input_is_a_client_error() {
    let app = spawn_app().await;
    for (body, field, code) in [
        (json!({"date": "2026-04-25"}), "name", "required"),
        (
            json!({"name": "x", "date": "2026-02-30"}),
            "date",
            "invalid_date",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "format": "party"}),
            "format",
            "invalid_choice",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "max_per_enterprise": -2}),
            "max_per_enterprise",
            "out_of_range",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "slot_count": 0}),
            "slot_count",
            "out_of_range",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "table_count": "many"}),
            "table_count",
            "invalid_type",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "min_score": 2.5}),
            "min_score",
            "out_of_range",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "start_time": "25:00"}),
            "start_time",
            "invalid_time",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "start_time": "23:00", "slot_count": 10}),
            "slot_count",
            "past_midnight",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "slot_count": 4, "breaks": [{"after_slot": 4, "minutes": 10}]}),
            "breaks[0]",
            "out_of_range",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "themes": ["火星"]}),
            "themes",
            "invalid_choice",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "table_count": 1, "table_names": ["a", "b"]}),
            "table_names",
            "too_many",
        ),
        (
            json!({"name": "x", "date": "2026-04-25", "colour": "red"}),
            "colour",
            "unknown_field",
        ),
    ] {
        let (s, e) = app.post("/api/v1/events", &body).await;
        assert_eq!(
            (s, error_code(&e).as_str()),
            (422, "validation_failed"),
            "{body}: {e}"
        );
        let fields: Vec<(String, String)> = e["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["field"].as_str().unwrap().into(),
                    f["code"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert!(
            fields.contains(&(field.to_string(), code.to_string())),
            "{body}: {fields:?}"
        );
        assert!(
            e["error"]["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains(" / "),
            "bilingual: {e}"
        );
    }
    let (s, e) = app
        .post_raw("/api/v1/events", "application/json", b"[1]".to_vec())
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_json"));
    for path in [
        "/api/v1/events/999",
        "/api/v1/events/999/pairings",
        "/api/v1/events/999/schedule",
        "/api/v1/events/999/export.xlsx",
        "/api/v1/events/999/participants",
    ] {
        let (s, e) = app.get(path).await;
        assert_eq!((s, error_code(&e).as_str()), (404, "not_found"), "{path}");
    }
    let (s, e) = app.get("/api/v1/events/abc").await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_id"));
    let (s, e) = app.get("/api/v1/events?status=sleeping").await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_parameter"));
    let (s, e) = app
        .post("/api/v1/events/999/pairings:generate", &json!({}))
        .await;
    assert_eq!((s, error_code(&e).as_str()), (404, "not_found"));
    // an event without participants generates an empty pairing, not an error
    let (_, ev) = app
        .post(
            "/api/v1/events",
            &json!({"name": "空场", "date": "2026-05-01"}),
        )
        .await;
    let (s, g) = app
        .post(
            &format!("/api/v1/events/{}/pairings:generate", ev["id"]),
            &json!({}),
        )
        .await;
    assert_eq!((s, g["meetings"].as_u64()), (200, Some(0)), "{g}");
    let (s, e) = app
        .patch(
            &format!("/api/v1/events/{}/pairings/1", ev["id"]),
            &json!({"slot": 0}),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (404, "not_found"), "{e}");
    let (s, e) = app
        .patch(
            &format!("/api/v1/events/{}/pairings/1", ev["id"]),
            &json!({"slot": 0, "remove": true}),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/events/{}/preferences/77", ev["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let e: Value = r.json().await.unwrap();
    assert_eq!(error_code(&e), "not_found");
}

#[tokio::test]
async fn parlour_groups_experts_per_enterprise_visit() {
    let app = spawn_app().await;
    let ent = org(&app, "辽宁盘锦石化有限公司", "enterprise", json!({})).await;
    let ent2 = org(&app, "营口钢铁有限公司", "enterprise", json!({})).await;
    let uni = org(&app, "沈阳化工大学", "university", json!({})).await;
    let need = listing(&app, "needs", json!({"title": "催化裂化催化剂再生", "description": "炼油催化裂化装置的催化剂再生与节能。", "keywords": ["催化裂化", "催化剂"], "organization_id": ent})).await;
    let need2 = listing(&app, "needs", json!({"title": "催化剂废渣处理", "description": "钢铁企业脱硝催化剂废渣的回收处理。", "keywords": ["催化剂", "废渣"], "organization_id": ent2})).await;
    let mut experts = Vec::new();
    for (name, area) in [
        ("张教授", "催化裂化"),
        ("刘研究员", "催化剂再生"),
        ("陈教授", "催化剂回收"),
    ] {
        experts.push(listing(&app, "experts", json!({"name": name, "research_areas": [area, "催化剂"], "summary": format!("从事{area}研究。"), "organization_id": uni})).await);
    }
    let (s, ev) = app
        .post(
            "/api/v1/events",
            &json!({"name": "校企会客厅", "format": "会客厅", "date": "2026-06-01", "slot_count": 2, "table_count": 2, "max_per_enterprise": 3, "max_per_expert": 2}),
        )
        .await;
    assert_eq!((s, ev["format"].as_str()), (201, Some("parlour")), "{ev}");
    let base = format!("/api/v1/events/{}", ev["id"]);
    app.post(
        &format!("{base}/participants"),
        &json!({"organization_id": ent, "listings": [{"kind": "need", "id": need}]}),
    )
    .await;
    app.post(
        &format!("{base}/participants"),
        &json!({"organization_id": ent2, "listings": [{"kind": "need", "id": need2}]}),
    )
    .await;
    let ls: Vec<Value> = experts
        .iter()
        .map(|x| json!({"kind": "expert", "id": x}))
        .collect();
    let (s, _) = app
        .post(
            &format!("{base}/participants"),
            &json!({"organization_id": uni, "listings": ls}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, g) = app
        .post(&format!("{base}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{g}");
    let items = g["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{g}");
    // each enterprise hosts its visitors together: one (slot, table) per enterprise and slot,
    // one host per table and slot, no expert in two visits at once
    let mut host_cell: HashMap<(i64, i64), i64> = HashMap::new();
    let mut cell_host: HashMap<(i64, i64), i64> = HashMap::new();
    let mut expert_slot = BTreeSet::new();
    for m in items {
        let (e, kind, x) = key(m);
        assert_eq!(kind, "expert");
        let (slot, table) = (m["slot"].as_i64().unwrap(), m["table"].as_i64().unwrap());
        assert_eq!(
            *host_cell.entry((e, slot)).or_insert(table),
            table,
            "one table per host and slot"
        );
        assert_eq!(
            *cell_host.entry((slot, table)).or_insert(e),
            e,
            "one host per table and slot"
        );
        assert!(
            expert_slot.insert((x, slot)),
            "expert {x} in two visits in slot {slot}"
        );
    }
    let first_host = items
        .iter()
        .filter(|m| m["enterprise"]["organization_id"] == ent)
        .count();
    assert!(
        first_host >= 2,
        "a group of experts visits the enterprise: {g}"
    );
    let (s, sch) = app.get(&format!("{base}/schedule")).await;
    assert_eq!(s, 200);
    let crowded = sch["grid"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["cells"].as_array().unwrap())
        .any(|c| c["meetings"].as_array().unwrap().len() >= 2);
    assert!(crowded, "several experts share one visit: {sch}");
    // an expert cannot be in two visits at the same time
    let m = items
        .iter()
        .find(|m| m["enterprise"]["organization_id"] == ent)
        .unwrap();
    let other = items
        .iter()
        .find(|o| o["enterprise"]["organization_id"] == ent2 && o["slot"] != m["slot"])
        .expect("the second enterprise's visit is in another slot");
    let x = items
        .iter()
        .find(|o| o["partner"]["id"] == other["partner"]["id"] && o["id"] != other["id"])
        .expect("that visit's expert also meets the first enterprise");
    let (s, e) = app
        .patch(
            &format!("{base}/pairings/{}", x["id"]),
            &json!({"slot": other["slot"], "table": x["table"]}),
        )
        .await;
    assert_eq!(s, 409, "{e}");
}

#[tokio::test]
async fn roundtable_seats_several_parties_per_table() {
    let app = spawn_app().await;
    let uni = org(&app, "辽宁科技大学", "university", json!({})).await;
    let mut results = Vec::new();
    for (t, ind) in [
        ("高强钢轧制工艺", "冶金"),
        ("钢渣资源化利用", "冶金"),
        ("储能电池热管理", "新能源"),
    ] {
        let x = format!("USTL-{}", results.len());
        results.push(listing(&app, "results", json!({"title": t, "summary": format!("{t}，面向钢铁与能源企业。"), "industry": ind, "organization_id": uni, "external_id": x})).await);
    }
    let mut needs = Vec::new();
    for i in 0..3 {
        let e = org(&app, &format!("钢铁企业{i}"), "enterprise", json!({})).await;
        needs.push((e, listing(&app, "needs", json!({"title": format!("高强钢轧制与钢渣利用{i}"), "description": "提高高强钢轧制质量，钢渣资源化利用。", "organization_id": e})).await));
    }
    let (_, ev) = app
        .post(
            "/api/v1/events",
            &json!({"name": "冶金圆桌论坛", "format": "roundtable", "date": "2026-06-02", "themes": ["冶金"], "slot_count": 3, "table_count": 2, "seats_per_table": 2, "max_per_enterprise": 2, "max_per_result": 3}),
        )
        .await;
    let base = format!("/api/v1/events/{}", ev["id"]);
    for (e, n) in &needs {
        app.post(
            &format!("{base}/participants"),
            &json!({"organization_id": e, "listings": [{"kind": "need", "id": n}]}),
        )
        .await;
    }
    // the university comes from an XLSX participant list; a bad row does not stop it
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let rows = [
        ["单位", "项目编号"],
        ["辽宁科技大学", "USTL-0；USTL-1、USTL-2"],
        ["辽宁科技大学", "NOPE-9"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (s, r) = app
        .post_raw(
            &format!("{base}/participants:import"),
            xlsx,
            wb.save_to_buffer().unwrap(),
        )
        .await;
    assert_eq!(
        (s, r["imported"].as_u64(), r["failed"].as_u64()),
        (422, Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(
        (
            r["errors"][0]["line"].as_u64(),
            r["errors"][0]["code"].as_str()
        ),
        (Some(3), Some("not_found")),
        "{r}"
    );
    let (s, r) = app
        .post_raw(
            &format!("{base}/participants:import"),
            xlsx,
            b"not a workbook".to_vec(),
        )
        .await;
    assert_eq!((s, error_code(&r).as_str()), (400, "invalid_xlsx"));
    let (_, ps) = app.get(&format!("{base}/participants")).await;
    let uni_p = ps["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["organization_id"] == uni)
        .unwrap()
        .clone();
    assert_eq!(uni_p["listings"].as_array().unwrap().len(), 3, "{ps}");
    let (s, g) = app
        .post(&format!("{base}/pairings:generate"), &json!({}))
        .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(
        g["tables"][0]["name"], "冶金",
        "the theme names the first table: {g}"
    );
    let items = g["items"].as_array().unwrap();
    assert!(!items.is_empty());
    let mut per_cell: HashMap<(i64, i64), BTreeSet<i64>> = HashMap::new();
    let mut ent_slot: HashMap<(i64, i64), i64> = HashMap::new();
    for m in items {
        let (e, _, r) = key(m);
        let (slot, table) = (m["slot"].as_i64().unwrap(), m["table"].as_i64().unwrap());
        if r != results[2] {
            assert_eq!(table, 0, "metallurgy results sit at the metallurgy table");
        }
        per_cell.entry((slot, table)).or_default().insert(e);
        assert_eq!(
            *ent_slot.entry((e, slot)).or_insert(table),
            table,
            "an enterprise sits at one table per slot"
        );
    }
    assert!(per_cell.values().all(|es| es.len() <= 2), "{per_cell:?}");
    assert!(
        per_cell.values().any(|es| es.len() == 2),
        "several parties share a table: {per_cell:?}"
    );
    // edits follow the roundtable's rules
    let m = items[0].clone();
    let (s, e) = app
        .patch(
            &format!("{base}/pairings/{}", m["id"]),
            &json!({"table": 5}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["fields"][0]["code"].as_str()),
        (422, Some("table_out_of_range")),
        "{e}"
    );
    let (e_org, _, r_id) = key(&m);
    let back = json!({"organization_id": e_org, "result_id": r_id, "slot": m["slot"], "table": m["table"]});
    let (s, e) = app.post(&format!("{base}/pairings"), &back).await;
    assert_eq!((s, error_code(&e).as_str()), (409, "already_paired"), "{e}");
    assert_eq!(
        app.delete(&format!("{base}/pairings/{}", m["id"])).await,
        204
    );
    let (s, added) = app.post(&format!("{base}/pairings"), &back).await;
    assert_eq!(
        (s, added["table"].as_i64()),
        (201, m["table"].as_i64()),
        "{added}"
    );
}

#[tokio::test]
async fn launch_scale_event_is_paired_and_scheduled() {
    // the launch event's scale: about 70 enterprises and 200 results
    let app = spawn_app().await;
    let topics = [
        ("余热回收", "高炉煤气余热发电"),
        ("表面缺陷", "机器视觉在线检测"),
        ("燃料电池", "低铂催化剂"),
        ("热误差", "数控机床主轴补偿"),
        ("钢渣", "资源化综合利用"),
        ("储能", "锂电池热管理"),
        ("中药", "有效成分提取"),
        ("海水养殖", "病害防控"),
        ("轨道交通", "轴承故障诊断"),
        ("精细化工", "连续流合成工艺"),
    ];
    let mut lines = Vec::new();
    for i in 0..70 {
        let (a, b) = topics[i % topics.len()];
        lines.push(json!({"external_id": format!("N-{i}"), "title": format!("{a}{b}需求{i}"), "description": format!("企业需要{a}方面的{b}技术，第{i}号需求。"), "organization": format!("企业{i}")}));
    }
    let (s, r) = app.import_jsonl("needs", &lines).await;
    assert_eq!(s, 200, "{r}");
    let mut lines = Vec::new();
    for j in 0..200 {
        let (a, b) = topics[(j * 7) % topics.len()];
        lines.push(json!({"external_id": format!("R-{j}"), "title": format!("{b}{a}成果{j}"), "summary": format!("本成果实现{a}与{b}，编号{j}。"), "organization": format!("大学{}", j % 25)}));
    }
    let (s, r) = app.import_jsonl("results", &lines).await;
    assert_eq!(s, 200, "{r}");
    let (_, ev) = app
        .post("/api/v1/events", &json!({"name": "启动仪式对接会", "date": "2023-04-25", "slot_count": 8, "table_count": 40, "max_per_enterprise": 4, "max_per_result": 2}))
        .await;
    let base = format!("/api/v1/events/{}", ev["id"]);
    let mut csv = String::from("单位,项目编号\n");
    for i in 0..70 {
        csv.push_str(&format!("企业{i},N-{i}\n"));
    }
    for u in 0..25 {
        let ids: Vec<String> = (0..200)
            .filter(|j| j % 25 == u)
            .map(|j| format!("R-{j}"))
            .collect();
        csv.push_str(&format!("大学{u},{}\n", ids.join(";")));
    }
    let (s, r) = app
        .post_raw(
            &format!("{base}/participants:import"),
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!((s, r["imported"].as_u64()), (200, Some(95)), "{r}");
    let started = std::time::Instant::now();
    let (s, g) = app
        .post(&format!("{base}/pairings:generate"), &json!({}))
        .await;
    let took = started.elapsed();
    assert_eq!(s, 200, "{g}");
    eprintln!(
        "launch scale: {} meetings, {} enterprises served, generate {:?} (server {} ms)",
        g["meetings"], g["enterprises_served"], took, g["elapsed_ms"]
    );
    assert_eq!(
        g["enterprises_served"], 70,
        "every enterprise gets a meeting"
    );
    check_schedule(g["items"].as_array().unwrap(), 8, 40, 4, 2);
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
}
