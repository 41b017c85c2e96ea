//! The authorisation matrix: every role × every write endpoint × own and someone else's
//! object. A forbidden cell answers 401 (not signed in) or 403 and changes nothing; an
//! allowed one succeeds. Also: sessions, cookies, CSRF, and secrets never stored in clear.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Anonymous,
    Enterprise,
    Researcher,
    Organizer,
    Admin,
}

const ROLES: [Role; 5] = [
    Role::Anonymous,
    Role::Enterprise,
    Role::Researcher,
    Role::Organizer,
    Role::Admin,
];

struct World {
    e1: i64,
    e2: i64,
    u1: i64,
    need1: i64,
    need2: i64,
    result1: i64,
    result2: i64,
    expert1: i64,
    expert2: i64,
    event: i64,
    victim_user: i64,
}

async fn created(app: &TestApp, path: &str, body: Value) -> i64 {
    let (s, v) = app.post(path, &body).await;
    assert_eq!(s, 201, "{path}: {v}");
    v["id"].as_i64().unwrap()
}

async fn world(app: &TestApp) -> World {
    let org = |name: &str, kind: &str| json!({"name": name, "kind": kind, "city": "沈阳"});
    let e1 = created(app, "/api/v1/organizations", org("本企业", "enterprise")).await;
    let e2 = created(app, "/api/v1/organizations", org("别家企业", "enterprise")).await;
    let u1 = created(app, "/api/v1/organizations", org("本大学", "university")).await;
    let u2 = created(app, "/api/v1/organizations", org("别家大学", "university")).await;
    let need =
        |o: i64| json!({"title": "余热回收", "description": "回收烧结余热", "organization_id": o});
    let result =
        |o: i64| json!({"title": "余热发电", "summary": "有机朗肯循环", "organization_id": o});
    let expert = |o: i64| json!({"name": "张教授", "summary": "余热利用", "organization_id": o});
    let need1 = created(app, "/api/v1/needs", need(e1)).await;
    let need2 = created(app, "/api/v1/needs", need(e2)).await;
    let result1 = created(app, "/api/v1/results", result(u1)).await;
    let result2 = created(app, "/api/v1/results", result(u2)).await;
    let expert1 = created(app, "/api/v1/experts", expert(u1)).await;
    let expert2 = created(app, "/api/v1/experts", expert(u2)).await;
    let event = created(
        app,
        "/api/v1/events",
        json!({"name": "矩阵测试对接会", "date": "2026-06-01", "slot_count": 2, "table_count": 2, "min_score": 0.0}),
    )
    .await;
    for body in [
        json!({"organization_id": e1, "listings": [{"kind": "need", "id": need1}]}),
        json!({"organization_id": u1, "listings": [{"kind": "result", "id": result1}]}),
    ] {
        let (s, p) = app
            .post(&format!("/api/v1/events/{event}/participants"), &body)
            .await;
        assert_eq!(s, 201, "{p}");
    }
    let (s, u) = app
        .post(
            "/api/v1/users",
            &json!({"email": "victim@test.example", "role": "enterprise", "organization_id": e2}),
        )
        .await;
    assert_eq!(s, 201, "{u}");
    World {
        e1,
        e2,
        u1,
        need1,
        need2,
        result1,
        result2,
        expert1,
        expert2,
        event,
        victim_user: u["id"].as_i64().unwrap(),
    }
}

/// Everything a forbidden request must leave as it was.
async fn snapshot(app: &TestApp, w: &World) -> Value {
    let (_, index) = app.get("/api/v1/admin/index").await;
    let (_, audit) = app.get("/api/v1/audit?limit=1").await;
    let (_, event) = app.get(&format!("/api/v1/events/{}", w.event)).await;
    let (_, parts) = app
        .get(&format!("/api/v1/events/{}/participants", w.event))
        .await;
    let (_, pairing) = app
        .get(&format!("/api/v1/events/{}/pairings", w.event))
        .await;
    let (_, users) = app.get("/api/v1/users?limit=100").await;
    let (_, events) = app.get("/api/v1/events?limit=1").await;
    let (_, tokens) = app.get("/api/v1/me/tokens").await;
    let (_, ledger) = app.get("/api/v1/ledger?limit=1").await;
    json!({
        "ledger": ledger["total"], "ledger_changed": ledger["items"][0]["updated_at"],
        "seq": index["store_seq"], "audit": audit["total"], "event": event, "participants": parts,
        "pairing_version": pairing["version"], "users": users, "events": events["total"], "tokens": tokens["total"],
    })
}

/// One write endpoint, with who may use it.
struct Cell {
    what: &'static str,
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [Role],
}

const STAFF: &[Role] = &[Role::Organizer, Role::Admin];
const ADMIN: &[Role] = &[Role::Admin];

async fn cells(app: &TestApp, w: &World) -> Vec<Cell> {
    use Role::*;
    // fresh records for the deletes, so an allowed delete does not break later cells
    let need = |o: i64| json!({"title": "待删需求", "description": "临时", "organization_id": o});
    let res = |o: i64| json!({"title": "待删成果", "summary": "临时", "organization_id": o});
    let del_need1 = created(app, "/api/v1/needs", need(w.e1)).await;
    let del_need2 = created(app, "/api/v1/needs", need(w.e2)).await;
    let move_need = created(app, "/api/v1/needs", need(w.e1)).await;
    let del_result1 = created(app, "/api/v1/results", res(w.u1)).await;
    let del_result2 = created(
        app,
        "/api/v1/results",
        json!({"title": "别家成果", "summary": "临时", "organization": "别家大学"}),
    )
    .await;
    let del_org = created(
        app,
        "/api/v1/organizations",
        json!({"name": format!("空单位{del_need1}"), "kind": "other"}),
    )
    .await;
    let del_event = created(
        app,
        "/api/v1/events",
        json!({"name": "待删对接会", "date": "2026-06-02"}),
    )
    .await;
    let entry = created(
        app,
        "/api/v1/ledger",
        json!({"kind": "cooperation", "enterprise_id": w.e1, "university_id": w.u1, "title": "会外合作"}),
    )
    .await;
    let ev = w.event;
    let c = |what, method, path: String, body: Option<Value>, allowed| Cell {
        what,
        method,
        path,
        body,
        allowed,
    };
    vec![
        c(
            "create own need",
            Method::POST,
            "/api/v1/needs".into(),
            Some(json!({"title": "新需求", "description": "描述", "organization_id": w.e1})),
            &[Enterprise, Organizer, Admin],
        ),
        c(
            "create need for another",
            Method::POST,
            "/api/v1/needs".into(),
            Some(json!({"title": "新需求", "description": "描述", "organization_id": w.e2})),
            STAFF,
        ),
        c(
            "patch own need",
            Method::PATCH,
            format!("/api/v1/needs/{}", w.need1),
            Some(json!({"title": "改过的需求"})),
            &[Enterprise, Organizer, Admin],
        ),
        c(
            "patch another's need",
            Method::PATCH,
            format!("/api/v1/needs/{}", w.need2),
            Some(json!({"title": "改过的需求"})),
            STAFF,
        ),
        c(
            "move own need to another org",
            Method::PATCH,
            format!("/api/v1/needs/{move_need}"),
            Some(json!({"organization_id": w.e2})),
            STAFF,
        ),
        c(
            "delete own need",
            Method::DELETE,
            format!("/api/v1/needs/{del_need1}"),
            None,
            &[Enterprise, Organizer, Admin],
        ),
        c(
            "delete another's need",
            Method::DELETE,
            format!("/api/v1/needs/{del_need2}"),
            None,
            STAFF,
        ),
        c(
            "create own result",
            Method::POST,
            "/api/v1/results".into(),
            Some(json!({"title": "新成果", "summary": "简介", "organization_id": w.u1})),
            &[Researcher, Organizer, Admin],
        ),
        c(
            "create result for another",
            Method::POST,
            "/api/v1/results".into(),
            Some(json!({"title": "新成果", "summary": "简介", "organization": "别家大学"})),
            STAFF,
        ),
        c(
            "patch own result",
            Method::PATCH,
            format!("/api/v1/results/{}", w.result1),
            Some(json!({"title": "改过的成果"})),
            &[Researcher, Organizer, Admin],
        ),
        c(
            "patch another's result",
            Method::PATCH,
            format!("/api/v1/results/{}", w.result2),
            Some(json!({"title": "改过的成果"})),
            STAFF,
        ),
        c(
            "delete own result",
            Method::DELETE,
            format!("/api/v1/results/{del_result1}"),
            None,
            &[Researcher, Organizer, Admin],
        ),
        c(
            "delete another's result",
            Method::DELETE,
            format!("/api/v1/results/{del_result2}"),
            None,
            STAFF,
        ),
        c(
            "create own expert",
            Method::POST,
            "/api/v1/experts".into(),
            Some(json!({"name": "李研究员", "organization_id": w.u1})),
            &[Researcher, Organizer, Admin],
        ),
        c(
            "patch own expert",
            Method::PATCH,
            format!("/api/v1/experts/{}", w.expert1),
            Some(json!({"title": "研究员"})),
            &[Researcher, Organizer, Admin],
        ),
        c(
            "patch another's expert",
            Method::PATCH,
            format!("/api/v1/experts/{}", w.expert2),
            Some(json!({"title": "研究员"})),
            STAFF,
        ),
        c(
            "create organization",
            Method::POST,
            "/api/v1/organizations".into(),
            Some(json!({"name": "新单位{role}", "kind": "enterprise"})),
            STAFF,
        ),
        c(
            "patch own organization",
            Method::PATCH,
            format!("/api/v1/organizations/{}", w.e1),
            Some(json!({"description": "本企业简介"})),
            &[Enterprise, Organizer, Admin],
        ),
        c(
            "patch own university",
            Method::PATCH,
            format!("/api/v1/organizations/{}", w.u1),
            Some(json!({"description": "本大学简介"})),
            &[Researcher, Organizer, Admin],
        ),
        c(
            "patch another organization",
            Method::PATCH,
            format!("/api/v1/organizations/{}", w.e2),
            Some(json!({"description": "改别人"})),
            STAFF,
        ),
        c(
            "delete organization",
            Method::DELETE,
            format!("/api/v1/organizations/{del_org}"),
            None,
            STAFF,
        ),
        c(
            "import",
            Method::POST,
            "/api/v1/import?kind=results".into(),
            None,
            STAFF,
        ),
        c(
            "create event",
            Method::POST,
            "/api/v1/events".into(),
            Some(json!({"name": "新对接会", "date": "2026-07-01"})),
            STAFF,
        ),
        c(
            "patch event",
            Method::PATCH,
            format!("/api/v1/events/{ev}"),
            Some(json!({"venue": "沈阳"})),
            STAFF,
        ),
        c(
            "add participant",
            Method::POST,
            format!("/api/v1/events/{ev}/participants"),
            Some(json!({"organization_id": w.e1, "listings": [{"kind": "need", "id": w.need1}]})),
            STAFF,
        ),
        c(
            "generate pairing",
            Method::POST,
            format!("/api/v1/events/{ev}/pairings:generate"),
            Some(json!({})),
            STAFF,
        ),
        c(
            "delete event",
            Method::DELETE,
            format!("/api/v1/events/{del_event}"),
            None,
            STAFF,
        ),
        c(
            "file a cooperation in the ledger",
            Method::POST,
            "/api/v1/ledger".into(),
            Some(
                json!({"kind": "cooperation", "enterprise_id": w.e1, "university_id": w.u1, "title": "合作 {role}"}),
            ),
            STAFF,
        ),
        c(
            "record an outcome",
            Method::POST,
            format!("/api/v1/ledger/{entry}/outcomes"),
            Some(json!({"status": "met"})),
            STAFF,
        ),
        c(
            "rebuild index",
            Method::POST,
            "/api/v1/admin/reindex".into(),
            None,
            ADMIN,
        ),
        c(
            "register enterprise user",
            Method::POST,
            "/api/v1/users".into(),
            Some(
                json!({"email": "new-{role}@test.example", "role": "enterprise", "organization_id": w.e1}),
            ),
            STAFF,
        ),
        c(
            "register administrator",
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({"email": "boss-{role}@test.example", "role": "admin"})),
            ADMIN,
        ),
        c(
            "change a user's role",
            Method::PATCH,
            format!("/api/v1/users/{}", w.victim_user),
            Some(json!({"role": "admin"})),
            ADMIN,
        ),
        c(
            "read the audit log",
            Method::GET,
            "/api/v1/audit".into(),
            None,
            ADMIN,
        ),
    ]
}

#[tokio::test]
async fn every_role_every_write_endpoint_own_and_others() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let tokens = [
        (
            Role::Enterprise,
            user_token(&app.ctx, "ent@test.example", "enterprise", Some("本企业")).await,
        ),
        (
            Role::Researcher,
            user_token(&app.ctx, "res@test.example", "researcher", Some("本大学")).await,
        ),
        (
            Role::Organizer,
            user_token(
                &app.ctx,
                "org@test.example",
                "organizer",
                Some("辽宁省教育厅"),
            )
            .await,
        ),
        (Role::Admin, app.admin_token.clone()),
    ];
    let mut checked = 0;
    for role in ROLES {
        let client = match tokens.iter().find(|(r, _)| *r == role) {
            Some((_, t)) => client_with(t),
            None => app.anon.clone(),
        };
        for cell in cells(&app, &w).await {
            let before = snapshot(&app, &w).await;
            let path = cell
                .path
                .replace("{role}", &format!("{role:?}").to_lowercase());
            let mut req = client.request(cell.method.clone(), app.url(&path));
            if let Some(b) = &cell.body {
                let body = b
                    .to_string()
                    .replace("{role}", &format!("{role:?}").to_lowercase());
                req = req.header("content-type", "application/json").body(body);
            } else if cell.what == "import" {
                req = req
                    .header("content-type", "application/x-ndjson")
                    .body("{\"title\": \"导入的成果\", \"summary\": \"导入\"}\n");
            }
            let r = req.send().await.expect("request");
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let allowed = cell.allowed.contains(&role);
            if allowed {
                assert!(
                    (200..300).contains(&status),
                    "{role:?} may {}: {status} {body}",
                    cell.what
                );
            } else {
                let expected = if role == Role::Anonymous { 401 } else { 403 };
                assert_eq!(status, expected, "{role:?} must not {}: {body}", cell.what);
                assert!(
                    body["error"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(" / ")),
                    "bilingual message: {body}"
                );
                assert_eq!(
                    snapshot(&app, &w).await,
                    before,
                    "{role:?} {} changed something",
                    cell.what
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 5 * 34);
    // reading stays public, contact details only when signed in
    let (s, _) = (
        app.anon
            .get(app.url(&format!("/api/v1/needs/{}", w.need1)))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        (),
    );
    assert_eq!(s, 200);
    // an unpublished listing exists only for its organisation and the organisers
    let draft = created(
        &app,
        "/api/v1/needs",
        json!({"title": "未发布的需求", "description": "草稿", "organization_id": w.e1, "status": "draft"}),
    )
    .await;
    let ent = client_with(&tokens[0].1);
    let res = client_with(&tokens[1].1);
    let get = |c: &reqwest::Client, path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move { c.get(url).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(&app.anon, format!("/api/v1/needs/{draft}")).await, 404);
    assert_eq!(get(&res, format!("/api/v1/needs/{draft}")).await, 404);
    assert_eq!(get(&ent, format!("/api/v1/needs/{draft}")).await, 200);
    assert_eq!(
        get(&app.anon, format!("/needs/{draft}")).await,
        404,
        "the page too"
    );
    // and so do its matches: its own organisation and the organisers get them, anyone else
    // is told there is no such need (not that it exists unpublished)
    let matches = format!("/api/v1/needs/{draft}/matches?kind=results&limit=3");
    assert_eq!(get(&app.anon, matches.clone()).await, 404);
    assert_eq!(get(&res, matches.clone()).await, 404);
    assert_eq!(get(&ent, matches.clone()).await, 200);
    assert_eq!(get(&client_with(&tokens[2].1), matches.clone()).await, 200);
    assert_eq!(
        get(&app.client, matches.clone()).await,
        200,
        "an administrator"
    );
    let (_, hidden) = crate::helpers::http::answer(app.anon.get(app.url(&matches)), None).await;
    assert_eq!(hidden["error"]["code"], "not_found", "{hidden}");
    assert_eq!(
        get(
            &app.anon,
            format!("/api/v1/needs/{}/matches?limit=3", w.need1)
        )
        .await,
        200,
        "a published need's matches stay public"
    );
    assert_eq!(
        get(&app.anon, "/api/v1/needs?status=draft".into()).await,
        403
    );
    let listed: Value = app
        .anon
        .get(app.url("/api/v1/needs?limit=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["status"] == "published"),
        "{listed}"
    );
    let own: Value = ent
        .get(app.url(&format!(
            "/api/v1/needs?organization_id={}&status=draft",
            w.e1
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["total"], 1, "members see their own drafts");
    // the audit log names who changed what, with before and after
    let (_, log) = app.get("/api/v1/audit?entity=need&limit=100").await;
    let own_patch = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["actor"] == "ent@test.example" && e["action"] == "update")
        .unwrap_or_else(|| panic!("the enterprise's edit is audited: {log}"));
    assert_eq!(own_patch["entity_id"], w.need1);
    assert_eq!(own_patch["before"]["title"], "余热回收");
    assert_eq!(own_patch["after"]["title"], "改过的需求");
    let _ = w.u1;
}

#[tokio::test]
async fn tokens_sessions_and_secrets() {
    let app = spawn_app().await;
    let token = user_token(&app.ctx, "li@test.example", "researcher", Some("东北大学")).await;
    let me = client_with(&token);
    // a bad or revoked token is a 401, never anonymous access
    let r = client_with("dj_not_a_token")
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = app
        .anon
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // create, list (no secret in the list), use, revoke
    let r = me
        .post(app.url("/api/v1/me/tokens"))
        .json(&json!({"name": "同步脚本"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let created: Value = r.json().await.unwrap();
    let second = created["token"].as_str().unwrap().to_string();
    let listed: Value = me
        .get(app.url("/api/v1/me/tokens"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 2);
    assert!(
        !listed.to_string().contains(&second),
        "tokens are shown once"
    );
    assert!(!listed.to_string().contains(&token));
    let r = client_with(&second)
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = me
        .delete(app.url(&format!("/api/v1/me/tokens/{}", created["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let r = client_with(&second)
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "revoked");
    // someone else's token cannot be revoked by id
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/me/tokens/{}", created["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // sign in over the API: cookie flags; wrong passwords are rate-limited per account
    let cookie_client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = cookie_client
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"email": "LI@test.example", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    for flag in ["duijie_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: no Secure flag");
    let r = app
        .anon
        .post(app.url("/api/v1/sessions"))
        .header("x-forwarded-proto", "https")
        .json(&json!({"email": "li@test.example", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure"),
        "behind TLS"
    );
    let who: Value = cookie_client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["user"]["email"], "li@test.example");
    assert_eq!(who["via"], "session");
    for i in 0..5 {
        let r = app
            .anon
            .post(app.url("/api/v1/sessions"))
            .json(&json!({"email": "li@test.example", "password": format!("wrong {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let r = app
        .anon
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"email": "li@test.example", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        429,
        "locked after 5 failures, even with the right password"
    );

    // a web form without the session's CSRF token is refused, and changes nothing
    let r = cookie_client
        .post(app.url("/results/new"))
        .form(&[
            ("title", "跨站提交的成果"),
            ("summary", "不应保存"),
            ("action", "publish"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = cookie_client
        .post(app.url("/results/new"))
        .form(&[
            ("title", "跨站提交的成果"),
            ("summary", "不应保存"),
            ("action", "publish"),
            ("csrf", "guess"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let (_, results) = app.get("/api/v1/results").await;
    assert_eq!(results["total"], 0, "nothing was stored");
    // with the token from the page it works
    let html = cookie_client
        .get(app.url("/results/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the form carries a CSRF token")
        .to_string();
    let r = cookie_client
        .post(app.url("/results/new"))
        .form(&[
            ("title", "正常提交的成果"),
            ("summary", "应保存"),
            ("action", "publish"),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let (_, results) = app.get("/api/v1/results").await;
    assert_eq!(results["total"], 1);
    assert_eq!(
        results["items"][0]["organization"]["name"], "东北大学",
        "published for the user's own organisation"
    );

    // changing the password needs the current one; the old one stops working
    let r = me
        .post(app.url("/api/v1/me/password"))
        .json(&json!({"current_password": "wrong", "new_password": "a brand new password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = me
        .post(app.url("/api/v1/me/password"))
        .json(&json!({"current_password": "correct horse battery", "new_password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = me
        .post(app.url("/api/v1/me/password"))
        .json(&json!({"current_password": "correct horse battery", "new_password": "a brand new password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let who = cookie_client
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.status().as_u16(),
        401,
        "other sessions end with a password change"
    );
    // passwords and tokens are nowhere in the database in clear
    let db = std::fs::read(app.ctx.settings.data.dir.join("duijie.db")).unwrap_or_default();
    let mut all = db;
    all.extend(std::fs::read(app.ctx.settings.data.dir.join("duijie.db-wal")).unwrap_or_default());
    let hay = String::from_utf8_lossy(&all);
    assert!(!hay.contains("correct horse battery"), "password in clear");
    assert!(!hay.contains("a brand new password"), "password in clear");
    assert!(
        !hay.contains(&token) && !hay.contains(&second),
        "token in clear"
    );
    assert!(hay.contains("$argon2id$"), "argon2id hashes are stored");
}

/// Event privacy: a draft event exists only for the organisers; participant lists and
/// preferences (conflicts of interest among them) are for the organisers, and each
/// participating organisation sees only its own rows; anonymous callers are asked to sign in.
#[tokio::test]
async fn event_records_are_private_to_organisers_and_participants() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let ent =
        client_with(&user_token(&app.ctx, "ent@test.example", "enterprise", Some("本企业")).await);
    let res =
        client_with(&user_token(&app.ctx, "res@test.example", "researcher", Some("本大学")).await);
    let other = client_with(
        &user_token(
            &app.ctx,
            "other@test.example",
            "enterprise",
            Some("别家企业"),
        )
        .await,
    );
    let org = client_with(
        &user_token(
            &app.ctx,
            "org@test.example",
            "organizer",
            Some("辽宁省教育厅"),
        )
        .await,
    );
    let get = |c: &reqwest::Client, path: String| {
        let c = c.clone();
        let url = app.url(&path);
        async move {
            let r = c.get(url).send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let ev = w.event;
    // a draft: 404 for everyone but the organisers, and left out of every list
    let (_, e) = app.get(&format!("/api/v1/events/{ev}")).await;
    assert_eq!(e["status"], "draft");
    for c in [&app.anon, &ent, &res] {
        for path in [
            format!("/api/v1/events/{ev}"),
            format!("/api/v1/events/{ev}/pairings"),
            format!("/api/v1/events/{ev}/schedule"),
        ] {
            let (s, body) = get(c, path.clone()).await;
            assert_eq!(s, 404, "{path}: {body}");
        }
        let (s, list) = get(c, "/api/v1/events?limit=100".into()).await;
        assert_eq!(s, 200);
        assert!(
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["status"] != "draft"),
            "{list}"
        );
    }
    let (s, list) = get(&org, "/api/v1/events?limit=100".into()).await;
    assert_eq!(s, 200);
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == ev)
    );
    assert_eq!(get(&org, format!("/api/v1/events/{ev}")).await.0, 200);

    // announced: the programme is public, who takes part and their wishes are not
    let (s, e) = app
        .patch(&format!("/api/v1/events/{ev}"), &json!({"status": "open"}))
        .await;
    assert_eq!(s, 200, "{e}");
    let (s, p) = app
        .post(
            &format!("/api/v1/events/{ev}/preferences"),
            &json!({"organization_id": w.e1, "result_id": w.result1, "side": "organizer", "preference": "conflict"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(get(&app.anon, format!("/api/v1/events/{ev}")).await.0, 200);
    for what in ["participants", "preferences"] {
        let path = format!("/api/v1/events/{ev}/{what}");
        let (s, body) = get(&app.anon, path.clone()).await;
        assert_eq!(s, 401, "{path}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(" / "));
        let (_, all) = get(&org, path.clone()).await;
        let (_, mine) = get(&ent, path.clone()).await;
        let (_, theirs) = get(&res, path.clone()).await;
        let (_, none) = get(&other, path.clone()).await;
        let n = |v: &Value| v["items"].as_array().map_or(0, Vec::len);
        match what {
            "participants" => {
                assert_eq!(n(&all), 2, "{all}");
                assert_eq!(n(&mine), 1, "{mine}");
                assert_eq!(mine["items"][0]["organization_id"], w.e1);
                assert_eq!(n(&theirs), 1, "{theirs}");
                assert_eq!(theirs["items"][0]["organization_id"], w.u1);
            }
            _ => {
                // the conflict names the enterprise and the university's result: both see it
                assert_eq!(n(&all), 1, "{all}");
                assert_eq!(n(&mine), 1, "{mine}");
                assert_eq!(n(&theirs), 1, "{theirs}");
                assert_eq!(mine["items"][0]["preference"], "conflict");
            }
        }
        assert_eq!(n(&none), 0, "another organisation sees nothing: {none}");
    }

    // the public programme: when, where and who meets whom, without scores or reasons;
    // the working data (pairings, exports) for the organisers and the participants
    // (the conflict declared above goes, so the two meet)
    let s = app
        .delete(&format!("/api/v1/events/{ev}/preferences/{}", p["id"]))
        .await;
    assert_eq!(s, 204);
    let (s, g) = app
        .post(
            &format!("/api/v1/events/{ev}/pairings:generate"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    let (s, public) = get(&app.anon, format!("/api/v1/events/{ev}/schedule")).await;
    assert_eq!(s, 200, "{public}");
    assert!(
        public["meetings"].is_array() && public["event"]["name"].is_string(),
        "{public}"
    );
    let text = public.to_string();
    assert!(
        !text.contains("\"score\"") && !text.contains("unplaced") && !text.contains("contact"),
        "no scores, reasons or contacts in public: {public}"
    );
    let (_, theirs) = get(&other, format!("/api/v1/events/{ev}/schedule")).await;
    assert!(
        theirs.get("unplaced").is_none(),
        "another organisation gets the public programme"
    );
    let (_, full) = get(&ent, format!("/api/v1/events/{ev}/schedule")).await;
    assert!(
        full.get("unplaced").is_some(),
        "a participant gets the whole schedule: {full}"
    );
    let in_grid: usize = full["grid"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["cells"].as_array().unwrap())
        .map(|c| c["meetings"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(in_grid > 0, "the event has meetings: {full}");
    assert_eq!(
        public["meetings"].as_array().unwrap().len(),
        in_grid,
        "the public programme shows every meeting"
    );
    for path in [
        format!("/api/v1/events/{ev}/pairings"),
        format!("/api/v1/events/{ev}/export.csv"),
    ] {
        assert_eq!(get(&app.anon, path.clone()).await.0, 401, "{path}");
        let (s, body) = get(&other, path.clone()).await;
        assert_eq!(s, 403, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("/schedule")
        );
        let r = ent.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "a participant: {path}");
        let r = org.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "an organiser: {path}");
    }
}
