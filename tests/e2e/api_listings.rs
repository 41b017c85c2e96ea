//! CRUD of organisations and listings over HTTP, and read-your-writes search.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn health_answers() {
    let app = spawn_app().await;
    let (s, b) = app.get("/healthz").await;
    assert_eq!((s, b["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn result_lifecycle_with_organization_and_search() {
    let app = spawn_app().await;
    let (s, org) = app
        .post(
            "/api/v1/organizations",
            &json!({"name": "大连理工大学", "kind": "university", "city": "大连"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    assert_eq!(org["zones"], json!(["coastal_belt"]));
    let org_id = org["id"].as_i64().unwrap();

    let (s, r) = app
        .post(
            "/api/v1/results",
            &json!({
                "title": "稀土金属催化剂低温制氢技术", "summary": "以稀土金属催化剂在 200℃ 以下分解氨制氢，适用于加氢站。",
                "keywords": ["制氢", "稀土"], "industry": "氢能", "trl": 6, "transfer_modes": ["许可", "合作开发"],
                "price_min": 500000, "price_max": 3000000, "organization_id": org_id,
                "contact": {"name": "张伟", "email": "zw@dlut.edu.cn"}, "external_id": "DLUT-001"
            }),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_i64().unwrap();
    assert_eq!(
        r["industry"], "new_energy",
        "industries resolve from Chinese labels"
    );
    assert_eq!(r["maturity"], "pilot", "TRL 6 means pilot");
    assert_eq!(r["organization"]["name"], "大连理工大学");
    assert!(
        r.get("contact").is_some(),
        "contact details are shown to signed-in callers"
    );
    let anon: serde_json::Value = app
        .anon
        .get(app.url(&format!("/api/v1/results/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anon["title"], r["title"]);
    assert!(
        anon.get("contact").is_none(),
        "contact details are not shown to anonymous readers"
    );

    // searchable as soon as the write is acknowledged
    let (s, found) = app.get("/api/v1/search?q=低温制氢&kind=results").await;
    assert_eq!(s, 200);
    assert_eq!(found["total"], 1);
    assert_eq!(found["hits"][0]["id"], id);
    assert!(
        found["hits"][0]["highlights"]["title"]
            .as_str()
            .unwrap()
            .contains("<mark>"),
        "{found}"
    );

    // patch one field; the rest is kept
    let (s, p) = app
        .patch(
            &format!("/api/v1/results/{id}"),
            &json!({"title": "稀土催化氨分解制氢", "price_max": null}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["title"], "稀土催化氨分解制氢");
    assert_eq!(p["keywords"], json!(["制氢", "稀土"]));
    assert!(p["price_max"].is_null());
    let (_, found) = app.get("/api/v1/search?q=低温制氢&kind=results").await;
    assert_eq!(
        found["hits"][0]["title"], "稀土催化氨分解制氢",
        "the index follows updates"
    );

    // invalid patch changes nothing
    let (s, e) = app
        .patch(
            &format!("/api/v1/results/{id}"),
            &json!({"maturity": "量产"}),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (422, "validation_failed"));
    let (_, again) = app.get(&format!("/api/v1/results/{id}")).await;
    assert_eq!(again["maturity"], "pilot");

    // list with filters
    let (_, list) = app
        .get("/api/v1/results?industry=new_energy&city=大连&limit=5")
        .await;
    assert_eq!(
        (list["total"].as_i64(), list["limit"].as_i64()),
        (Some(1), Some(5))
    );
    let (_, list) = app.get("/api/v1/results?external_id=DLUT-001").await;
    assert_eq!(list["items"][0]["id"], id);

    // the organisation cannot be deleted while it owns a listing
    assert_eq!(
        app.delete(&format!("/api/v1/organizations/{org_id}")).await,
        409
    );
    assert_eq!(app.delete(&format!("/api/v1/results/{id}")).await, 204);
    let (s, e) = app.get(&format!("/api/v1/results/{id}")).await;
    assert_eq!((s, error_code(&e).as_str()), (404, "not_found"));
    let (_, found) = app.get("/api/v1/search?q=制氢").await;
    assert_eq!(found["total"], 0, "deleted listings leave the index");
    // nor while an account belongs to it (a 409 that names the accounts, never a 500)
    let (s, u) = app
        .post(
            "/api/v1/users",
            &json!({"email": "member@test.example", "role": "researcher", "organization_id": org_id}),
        )
        .await;
    assert_eq!(s, 201, "{u}");
    let (s, e) = app
        .delete_json(&format!("/api/v1/organizations/{org_id}"))
        .await;
    assert_eq!((s, error_code(&e).as_str()), (409, "organization_in_use"));
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("账户"),
        "{e}"
    );
    let (s, _) = app
        .patch(
            &format!("/api/v1/users/{}", u["id"]),
            &json!({"organization_id": null}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        app.delete(&format!("/api/v1/organizations/{org_id}")).await,
        204
    );
}

#[tokio::test]
async fn needs_and_experts_round_trip() {
    let app = spawn_app().await;
    let (s, n) = app
        .post(
            "/api/v1/needs",
            &json!({"title": "高炉煤气余热回收效率低", "description": "希望引进余热梯级利用技术。", "organization": "鞍钢集团",
                    "cooperation_modes": "合作开发;技术服务", "budget_min": 1000000, "deadline": "2027-06-30", "required_maturity": "pilot"}),
        )
        .await;
    assert_eq!(s, 201, "{n}");
    assert_eq!(
        n["organization"]["kind"], "enterprise",
        "an organisation named by a need is created as an enterprise"
    );
    assert_eq!(
        n["cooperation_modes"],
        json!(["joint_development", "technical_service"])
    );
    let (s, e) = app
        .post("/api/v1/experts", &json!({"name": "王磊", "title": "教授", "research_areas": ["冶金热能工程"], "summary": "长期从事钢铁余热回收研究。", "organization": "东北大学"}))
        .await;
    assert_eq!(s, 201, "{e}");
    let (_, hits) = app.get("/api/v1/search?q=余热&kind=experts").await;
    assert_eq!(hits["total"], 1);
    assert_eq!(hits["hits"][0]["kind"], "expert");
    let (_, orgs) = app.get("/api/v1/organizations?kind=enterprise").await;
    assert_eq!(orgs["total"], 1);
}

/// A page carries the number of all matches whichever page it is: the first, a middle one,
/// the last, one past the end, and a filter that matches nothing.
async fn pages_carry_the_total(app: &TestApp) {
    let (s, org) = app
        .post(
            "/api/v1/organizations",
            &json!({"name": "沈阳工业大学", "kind": "university", "city": "沈阳"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let org_id = org["id"].as_i64().unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let (s, r) = app
            .post(
                "/api/v1/results",
                &json!({
                    "title": format!("高温合金叶片精密铸造工艺{i}"),
                    "summary": "定向凝固与单晶铸造，用于燃气轮机叶片。",
                    "industry": if i % 2 == 0 { "高端装备" } else { "新材料" },
                    "organization_id": org_id
                }),
            )
            .await;
        assert_eq!(s, 201, "{r}");
        ids.push(r["id"].as_i64().unwrap());
    }
    let page = |q: &'static str| async move {
        let (s, v) = app.get(&format!("/api/v1/results?{q}")).await;
        assert_eq!(s, 200, "{q}: {v}");
        let items: Vec<i64> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_i64().unwrap())
            .collect();
        (v["total"].as_i64().unwrap(), items)
    };
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();
    assert_eq!(page("limit=2").await, (5, newest_first[..2].to_vec()));
    assert_eq!(
        page("limit=2&offset=2").await,
        (5, newest_first[2..4].to_vec())
    );
    assert_eq!(
        page("limit=2&offset=4").await,
        (5, newest_first[4..].to_vec())
    );
    assert_eq!(page("limit=2&offset=7").await, (5, vec![]), "past the end");
    assert_eq!(
        page("industry=new_materials&limit=1&offset=1").await.0,
        2,
        "a filtered page counts the filtered matches"
    );
    assert_eq!(page("city=大连").await, (0, vec![]), "nothing matches");
    assert_eq!(page("city=大连&offset=3").await, (0, vec![]));
}

#[tokio::test]
async fn pages_carry_the_total_on_sqlite() {
    let app = spawn_app().await;
    pages_carry_the_total(&app).await;
}

#[tokio::test]
async fn pages_carry_the_total_on_postgresql() {
    let Some(db) = crate::replicas::fresh_database("listing pages on PostgreSQL").await else {
        return;
    };
    let app = spawn_with(|s| s.database.url = db.clone()).await;
    pages_carry_the_total(&app).await;
}

/// Anonymous visitors' pages are kept between requests (one store round trip saved per
/// page), so they must still show every write: at once for a write through this server,
/// and once the index has followed the change log for a write by another process.
#[tokio::test]
async fn anonymous_list_pages_show_every_write() {
    let app = spawn_app().await;
    let (s, org) = app
        .post(
            "/api/v1/organizations",
            &json!({"name": "东北大学", "kind": "university", "city": "沈阳"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let org_id = org["id"].as_i64().unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let (s, r) = app
            .post(
                "/api/v1/results",
                &json!({
                    "title": format!("钢铁轧制过程智能控制系统{i}"),
                    "summary": "基于机理与数据融合的热连轧厚度控制。",
                    "industry": "高端装备", "organization_id": org_id,
                    "contact": {"name": "李明", "email": "lm@neu.edu.cn"}
                }),
            )
            .await;
        assert_eq!(s, 201, "{r}");
        ids.push(r["id"].as_i64().unwrap());
    }
    let anon_page = |q: &'static str| {
        let url = app.url(&format!("/api/v1/results?{q}"));
        let client = app.anon.clone();
        async move {
            let r = client.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let titles = |v: &serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["title"].as_str().unwrap().to_string())
            .collect()
    };
    let first = anon_page("limit=2").await;
    assert_eq!(first["total"], 3);
    assert_eq!(
        titles(&first),
        ["钢铁轧制过程智能控制系统2", "钢铁轧制过程智能控制系统1"]
    );
    for item in first["items"].as_array().unwrap() {
        assert!(item.get("contact").is_none(), "{item}");
    }
    assert_eq!(anon_page("limit=2").await, first, "the same page again");
    // the administrator sees contacts on the same page: not the anonymous visitors' copy
    let (s, admin) = app.get("/api/v1/results?limit=2").await;
    assert_eq!(s, 200);
    assert!(admin["items"][0].get("contact").is_some(), "{admin}");

    // writes through this server show at once: an edit, a deletion, a new listing, an
    // organisation's new name
    let (s, v) = app
        .patch(
            &format!("/api/v1/results/{}", ids[2]),
            &json!({"title": "热连轧厚度智能控制系统"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        titles(&anon_page("limit=2").await)[0],
        "热连轧厚度智能控制系统"
    );
    assert_eq!(
        app.delete(&format!("/api/v1/results/{}", ids[1])).await,
        204
    );
    let after_delete = anon_page("limit=2").await;
    assert_eq!(after_delete["total"], 2);
    assert_eq!(
        titles(&after_delete),
        ["热连轧厚度智能控制系统", "钢铁轧制过程智能控制系统0"]
    );
    let (s, v) = app
        .patch(
            &format!("/api/v1/organizations/{org_id}"),
            &json!({"name": "东北大学（沈阳）"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        anon_page("limit=2").await["items"][0]["organization"]["name"],
        "东北大学（沈阳）"
    );

    // a write by another process (here a second handle on the same data directory, as the
    // command line opens it) shows once this server's index has followed the change log
    let other = duijie_app::App::open((*app.ctx.settings).clone(), duijie_app::IndexMode::ReadOnly)
        .await
        .expect("a second handle opens");
    let mut rec = serde_json::Map::new();
    rec.insert("title".into(), json!("冷轧板形在线检测装置"));
    rec.insert("summary".into(), json!("激光测量冷轧带钢板形。"));
    rec.insert("organization_id".into(), json!(org_id));
    duijie_app::listings::create(
        &other,
        &duijie_app::Caller::local("test"),
        duijie_app::listings::Entity::Listing(duijie_domain::ListingKind::Result),
        rec,
    )
    .await
    .map_err(|e| e.to_string())
    .expect("the other process writes");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let page = anon_page("limit=2").await;
        if page["total"] == 3 {
            assert_eq!(titles(&page)[0], "冷轧板形在线检测装置");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "another process's listing never showed: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
