//! The web interface over plain HTTP: every page renders on the demo data and is linked
//! from the navigation bar, forms validate in Chinese and keep what was typed, the
//! organiser's console works through form posts, and no text field can inject markup.

use crate::helpers::*;
use serde_json::json;

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let r = app.client.get(app.url(path)).send().await.expect("request");
    let status = r.status().as_u16();
    // minijinja escapes `/` in text as `&#x2f;`; browsers read it as `/`
    (
        status,
        r.text().await.unwrap_or_default().replace("&#x2f;", "/"),
    )
}

/// Posts a form without following the redirect: (status, Location, body).
async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
    // an organiser's API token: no CSRF needed without ambient credentials (the browser
    // tests sign in and use the forms' tokens)
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", app.admin_token).parse().unwrap(),
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(h)
        .build()
        .unwrap();
    let r = client
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.text().await.unwrap_or_default().replace("&#x2f;", "/");
    (status, location, body)
}

#[tokio::test]
async fn every_page_renders_on_the_demo_data_and_is_in_the_navigation() {
    let app = spawn_with(|s| s.demo.load = true).await;
    let (s, home) = page(&app, "/").await;
    assert_eq!(s, 200);
    for link in [
        "href=\"/search\"",
        "href=\"/results\"",
        "href=\"/needs\"",
        "href=\"/experts\"",
        "href=\"/organizations\"",
        "href=\"/events\"",
        "href=\"/import\"",
        "href=\"/needs/new\"",
        "href=\"/results/new\"",
    ] {
        assert!(home.contains(link), "navigation lacks {link}");
    }
    assert!(home.contains("项科技成果"), "home shows the counts");
    let (_, needs) = app.get("/api/v1/needs?limit=1").await;
    let (_, results) = app.get("/api/v1/results?limit=1").await;
    let (_, experts) = app.get("/api/v1/experts?limit=1").await;
    let (_, orgs) = app.get("/api/v1/organizations?limit=1").await;
    let need = needs["items"][0]["id"].as_i64().unwrap();
    let result = results["items"][0]["id"].as_i64().unwrap();
    let expert = experts["items"][0]["id"].as_i64().unwrap();
    let org = orgs["items"][0]["id"].as_i64().unwrap();
    for path in [
        "/search?q=氢能".to_string(),
        "/search?q=催化&kind=results&page=2".into(),
        "/results".into(),
        "/needs?page=2".into(),
        "/experts".into(),
        "/organizations?kind=university".into(),
        format!("/needs/{need}"),
        format!("/results/{result}"),
        format!("/experts/{expert}"),
        format!("/organizations/{org}"),
        "/needs/new".into(),
        "/results/new".into(),
        "/events".into(),
        "/import".into(),
    ] {
        let (s, html) = page(&app, &path).await;
        assert_eq!(s, 200, "{path}: {html}");
        assert!(
            html.contains("<nav aria-label=\"主导航\">"),
            "{path} has the navigation"
        );
        assert!(html.contains("lang=\"zh-CN\""), "{path}");
    }
    // a need's page proposes results with a breakdown per component
    let (_, html) = page(&app, &format!("/needs/{need}")).await;
    assert!(
        html.contains("推荐科技成果") && html.contains("推荐专家"),
        "{html}"
    );
    assert!(html.contains("class=\"breakdown\""), "breakdown table");
    assert!(html.contains("内容相关度"), "component labels in Chinese");
    // search shows highlighted snippets and facets as links
    let (_, html) = page(&app, "/search?q=氢能").await;
    assert!(html.contains("<mark>"), "highlights");
    assert!(
        html.contains("/search?q=%E6%B0%A2%E8%83%BD&amp;kind=results")
            || html.contains("kind=results"),
        "kind facet link"
    );
    // unknown pages and bad ids are HTML 404s, not JSON
    for path in [
        "/nowhere",
        "/needs/0",
        "/needs/abc",
        "/needs/99999999",
        "/events/77777",
    ] {
        let (s, html) = page(&app, path).await;
        assert_eq!(s, 404, "{path}");
        assert!(html.contains("<!doctype html>"), "{path}: {html}");
    }
    // a bad filter is explained on the search page
    let (s, html) = page(&app, "/search?q=x&industry=航天").await;
    assert_eq!(s, 400);
    assert!(html.contains("不在行业目录中"), "{html}");
    // assets come from the binary with the right types; pages carry a CSP
    let r = app
        .client
        .get(app.url("/static/app.css"))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let r = app.client.get(app.url("/")).send().await.unwrap();
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
}

#[tokio::test]
async fn need_form_explains_errors_keeps_input_previews_and_publishes() {
    let app = spawn_with(|s| s.demo.load = true).await;
    let fields = [
        ("title", "稀土催化制氢装置国产化"),
        ("description", "需要稀土金属催化剂实现低温制氢，降低能耗。"),
        ("keywords", "稀土, 催化, 制氢"),
        ("industry", "new_energy"),
        ("budget_min", "500000"),
        ("budget_max", "100000"),
        ("contact_email", "zhang-at-example"),
        ("organization", "大连化工新材料有限公司"),
        ("cooperation_modes", "joint_development"),
        ("cooperation_modes", "license"),
    ];
    // preview: matches of the unsaved text, and hints of what publishing would refuse
    let mut preview = fields.to_vec();
    preview.push(("action", "preview"));
    let (s, _, html) = post_form(&app, "/needs/new", &preview).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("发布前预览"), "{html}");
    assert!(html.contains("class=\"match\""), "preview shows matches");
    assert!(
        html.contains("发布前请修改"),
        "preview warns about the bad fields"
    );
    // publish with errors: 422, messages per field in Chinese, values kept, nothing stored
    let mut publish = fields.to_vec();
    publish.push(("action", "publish"));
    let (s, _, html) = post_form(&app, "/needs/new", &publish).await;
    assert_eq!(s, 422, "{html}");
    assert!(html.contains("id=\"error-summary\""));
    assert!(html.contains("id=\"budget_min-error\""), "{html}");
    assert!(html.contains("id=\"contact_email-error\""), "{html}");
    assert!(
        html.contains("value=\"稀土催化制氢装置国产化\""),
        "typed title kept"
    );
    assert!(
        html.contains("value=\"license\" checked"),
        "chosen modes kept"
    );
    let (_, found) = app.get("/api/v1/needs?limit=1&status=published").await;
    let before = found["total"].as_i64().unwrap();
    // fixed: published, redirected to its page, searchable
    let fixed: Vec<(&str, &str)> = publish
        .iter()
        .map(|(k, v)| match *k {
            "budget_max" => (*k, "900000"),
            "contact_email" => (*k, "zhang@example.com"),
            _ => (*k, *v),
        })
        .collect();
    let (s, location, _) = post_form(&app, "/needs/new", &fixed).await;
    assert_eq!(s, 303, "redirect after publishing");
    assert!(
        location.starts_with("/needs/") && location.ends_with("?published=1"),
        "{location}"
    );
    let (s, html) = page(&app, &location).await;
    assert_eq!(s, 200);
    assert!(html.contains("已发布"), "{html}");
    assert!(html.contains("推荐科技成果"));
    let (_, found) = app.get("/api/v1/needs?limit=1&status=published").await;
    assert_eq!(found["total"].as_i64().unwrap(), before + 1);
    let (_, html) = page(&app, "/search?q=稀土催化制氢装置国产化&kind=needs").await;
    let own = format!("href=\"{}\"", location.replace("?published=1", ""));
    assert!(html.contains(&own), "found by search: {own} in {html}");
    // a form post of the wrong type is refused with a page, not a crash
    let r = app
        .client
        .post(app.url("/needs/new"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
}

const EVIL: &str = "<script>alert('x')</script>\"'><img src=x onerror=alert(1)>";

fn assert_escaped(path: &str, html: &str) {
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "{path} renders injected markup"
    );
}

#[tokio::test]
async fn no_text_field_can_inject_markup_into_any_page() {
    let app = spawn_app().await;
    let evil = |tag: &str| format!("{tag}{EVIL}");
    let (s, org) = app
        .post(
            "/api/v1/organizations",
            &json!({"name": evil("单位"), "kind": "university", "city": "沈阳", "description": evil("简介"), "website": "https://x.example/\"'><script>alert('x')</script>"}),
        )
        .await;
    assert_eq!(s, 201, "{org}");
    let org_id = org["id"].as_i64().unwrap();
    let (s, ent) = app
        .post(
            "/api/v1/organizations",
            &json!({"name": evil("企业"), "kind": "enterprise"}),
        )
        .await;
    assert_eq!(s, 201);
    let ent_id = ent["id"].as_i64().unwrap();
    let (s, r) = app
        .post(
            "/api/v1/results",
            &json!({"title": evil("催化剂"), "summary": evil("稀土催化剂 制氢"), "keywords": [evil("稀土")],
                    "team": evil("团队"), "patents": [{"number": "ZL2020", "title": evil("专利")}],
                    "organization_id": org_id, "industry": "new_energy"}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let rid = r["id"].as_i64().unwrap();
    let (s, n) = app
        .post(
            "/api/v1/needs",
            &json!({"title": evil("制氢需求"), "description": evil("需要稀土催化剂 制氢"), "keywords": [evil("催化")],
                    "organization_id": ent_id, "industry": "new_energy"}),
        )
        .await;
    assert_eq!(s, 201, "{n}");
    let nid = n["id"].as_i64().unwrap();
    let (s, x) = app
        .post(
            "/api/v1/experts",
            &json!({"name": evil("专家"), "title": "<script>alert(2)</script>", "summary": evil("稀土催化 制氢"), "research_areas": [evil("催化")], "organization_id": org_id}),
        )
        .await;
    assert_eq!(s, 201, "{x}");
    let xid = x["id"].as_i64().unwrap();
    let (s, ev) = app
        .post(
            "/api/v1/events",
            &json!({"name": evil("对接会"), "date": "2026-05-01", "venue": evil("地点"), "slot_count": 2, "table_count": 2, "min_score": 0.0}),
        )
        .await;
    assert_eq!(s, 201, "{ev}");
    let eid = ev["id"].as_i64().unwrap();
    for body in [
        json!({"organization_id": ent_id, "listings": [{"kind": "need", "id": nid}]}),
        json!({"organization_id": org_id, "listings": [{"kind": "result", "id": rid}, {"kind": "expert", "id": xid}]}),
    ] {
        let (s, p) = app
            .post(&format!("/api/v1/events/{eid}/participants"), &body)
            .await;
        assert!(s == 201 || s == 200, "{p}");
    }
    let (s, g) = app
        .post(
            &format!("/api/v1/events/{eid}/pairings:generate"),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    assert!(g["meetings"].as_u64().unwrap() >= 1, "{g}");
    let (s, _) = app
        .post(
            &format!("/api/v1/events/{eid}/preferences"),
            &json!({"need_id": nid, "result_id": rid, "side": "enterprise", "preference": "like"}),
        )
        .await;
    assert_eq!(s, 201);
    let q = serde_urlencoded::to_string([("q", EVIL)]).unwrap();
    for path in [
        "/".to_string(),
        format!("/search?{q}"),
        "/search?q=稀土".into(),
        format!("/search?{q}&industry={}", urlencode(EVIL)),
        "/results".into(),
        "/needs".into(),
        "/experts".into(),
        "/organizations".into(),
        format!("/results/{rid}"),
        format!("/needs/{nid}"),
        format!("/experts/{xid}"),
        format!("/organizations/{org_id}"),
        format!("/organizations/{ent_id}"),
        "/events".into(),
        format!("/events/{eid}"),
        format!("/events/{eid}?done={}", urlencode(EVIL)),
        format!("/needs/{nid}?published={}", urlencode(EVIL)),
        format!("/{}", urlencode(EVIL)),
    ] {
        let (_, html) = page(&app, &path).await;
        assert_escaped(&path, &html);
    }
    // the printable agenda and every form echo are escaped too
    let (_, html) = page(&app, &format!("/api/v1/events/{eid}/agenda.html")).await;
    assert_escaped("agenda", &html);
    let all: Vec<(&str, &str)> = [
        "title",
        "description",
        "keywords",
        "industry",
        "required_maturity",
        "budget_min",
        "budget_max",
        "deadline",
        "organization",
        "contact_name",
        "contact_phone",
        "contact_email",
        "cooperation_modes",
        "action",
    ]
    .into_iter()
    .map(|k| (k, if k == "action" { "publish" } else { EVIL }))
    .collect();
    let (s, _, html) = post_form(&app, "/needs/new", &all).await;
    assert_eq!(s, 422);
    assert_escaped("need form", &html);
    let mut preview = all.clone();
    preview.retain(|(k, _)| *k != "action");
    preview.push(("action", "preview"));
    let (_, _, html) = post_form(&app, "/needs/new", &preview).await;
    assert_escaped("need preview", &html);
    let result_form: Vec<(&str, &str)> = [
        "title",
        "summary",
        "keywords",
        "industry",
        "maturity",
        "trl",
        "price_min",
        "price_max",
        "team",
        "organization",
        "contact_name",
        "contact_phone",
        "contact_email",
        "transfer_modes",
    ]
    .into_iter()
    .map(|k| (k, EVIL))
    .chain([("action", "publish")])
    .collect();
    let (s, _, html) = post_form(&app, "/results/new", &result_form).await;
    assert_eq!(s, 422);
    assert_escaped("result form", &html);
    let event_form: Vec<(&str, &str)> = [
        "name",
        "format",
        "date",
        "venue",
        "start_time",
        "slot_minutes",
        "slot_count",
        "table_count",
        "themes",
    ]
    .into_iter()
    .map(|k| (k, EVIL))
    .collect();
    let (s, _, html) = post_form(&app, "/events", &event_form).await;
    assert_eq!(s, 422);
    assert_escaped("event form", &html);
    for (path, fields) in [
        (
            format!("/events/{eid}/preferences"),
            vec![
                ("need_id", EVIL),
                ("partner", EVIL),
                ("side", EVIL),
                ("preference", EVIL),
            ],
        ),
        (format!("/events/{eid}/status"), vec![("status", EVIL)]),
        (
            format!("/events/{eid}/participants"),
            vec![("organization_id", EVIL)],
        ),
    ] {
        let (s, _, html) = post_form(&app, &path, &fields).await;
        assert!((400..500).contains(&s), "{path}: {s}");
        assert_escaped(&path, &html);
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

#[tokio::test]
async fn organiser_runs_an_event_from_the_console() {
    let app = spawn_with(|s| s.demo.load = true).await;
    // a bad event form keeps the input and says what is wrong
    let (s, _, html) = post_form(
        &app,
        "/events",
        &[("name", ""), ("date", "2026-02-30"), ("slot_count", "500")],
    )
    .await;
    assert_eq!(s, 422);
    assert!(
        html.contains("id=\"date-error\"") && html.contains("id=\"slot_count-error\""),
        "{html}"
    );
    let (s, location, _) = post_form(
        &app,
        "/events",
        &[
            ("name", "氢能与储能专场对接会"),
            ("date", "2026-12-18"),
            ("format", "fair"),
            ("themes", "new_energy"),
            ("slot_count", "4"),
            ("table_count", "6"),
            ("max_per_enterprise", "2"),
            ("max_per_result", "2"),
            ("max_per_expert", "2"),
        ],
    )
    .await;
    assert_eq!(s, 303);
    let id: i64 = location
        .trim_start_matches("/events/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // invite by theme, then generate
    let (s, loc, _) = post_form(&app, &format!("/events/{id}/invite"), &[]).await;
    assert_eq!(s, 303, "{loc}");
    let (_, ps) = app.get(&format!("/api/v1/events/{id}/participants")).await;
    let n = ps["total"].as_u64().unwrap();
    assert!(n >= 4, "invited {n}");
    let every_listing_in_theme = ps["items"].as_array().unwrap().iter().all(|p| {
        p["listings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["industry"] == "new_energy")
    });
    assert!(every_listing_in_theme, "{ps}");
    let (s, _, _) = post_form(&app, &format!("/events/{id}/generate"), &[]).await;
    assert_eq!(s, 303);
    let (s, html) = page(&app, &format!("/events/{id}?done=generated")).await;
    assert_eq!(s, 200);
    assert!(html.contains("对接安排已生成"));
    assert!(html.contains("id=\"schedule-grid\""), "the grid is shown");
    let (_, pairing) = app.get(&format!("/api/v1/events/{id}/pairings")).await;
    let meetings = pairing["items"].as_array().unwrap();
    assert!(!meetings.is_empty(), "{pairing}");
    // moving a meeting onto a slot where its enterprise is busy is refused with the reason
    let a = &meetings[0];
    let clash = meetings.iter().find(|m| {
        m["enterprise"]["organization_id"] == a["enterprise"]["organization_id"]
            && m["slot"] != a["slot"]
    });
    if let Some(b) = clash {
        let (s, _, html) = post_form(
            &app,
            &format!("/events/{id}/pairings/{}/move", a["id"]),
            &[
                ("slot", &b["slot"].to_string()),
                ("table", &b["table"].to_string()),
            ],
        )
        .await;
        assert_eq!(s, 409, "{html}");
        assert!(html.contains("id=\"refused\""), "{html}");
    }
    // an out-of-range slot is refused too, and nothing changes
    let (s, _, html) = post_form(
        &app,
        &format!("/events/{id}/pairings/{}/move", a["id"]),
        &[("slot", "99"), ("table", "0")],
    )
    .await;
    assert!((400..500).contains(&s), "{s}");
    assert!(html.contains("操作未执行"), "{html}");
    let (_, after) = app.get(&format!("/api/v1/events/{id}/pairings")).await;
    assert_eq!(after["items"], pairing["items"]);
    // removing a meeting works
    let (s, _, _) = post_form(
        &app,
        &format!("/events/{id}/pairings/{}/remove", a["id"]),
        &[],
    )
    .await;
    assert_eq!(s, 303);
    let (_, after) = app.get(&format!("/api/v1/events/{id}/pairings")).await;
    assert_eq!(after["items"].as_array().unwrap().len(), meetings.len() - 1);
    // a participant list upload with a bad row reports the row and keeps the good ones
    let csv = "单位,对接项目编号\n不存在的单位,X-1\n";
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("名单.csv"),
    );
    let r = app
        .client
        .post(app.url(&format!("/events/{id}/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("第 2 行"), "{html}");
}

#[tokio::test]
async fn import_page_reports_rows_and_keeps_the_good_ones() {
    let app = spawn_app().await;
    let csv = "标题,简介,行业\n低温余热发电技术,有机朗肯循环回收余热,new_energy\n,缺少标题的一行,new_energy\n高效电解水制氢,碱性电解槽,航天\n";
    let form = reqwest::multipart::Form::new()
        .text("kind", "results")
        .text("charset", "utf-8")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("成果.csv"),
        );
    let r = app
        .client
        .post(app.url("/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"n-imported\">1<"), "{html}");
    assert!(html.contains("id=\"n-failed\">2<"), "{html}");
    assert!(html.contains("id=\"row-errors\""));
    let (_, results) = app.get("/api/v1/results").await;
    assert_eq!(results["total"], 1);
    // an unsupported file is explained
    let form = reqwest::multipart::Form::new()
        .text("kind", "results")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("notes.txt"),
        );
    let r = app
        .client
        .post(app.url("/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    assert!(r.text().await.unwrap().contains(".csv、.xlsx 或 .jsonl"));
}

#[tokio::test]
async fn sign_up_pages_render_for_visitors_and_refuse_bad_links_plainly() {
    let app = spawn_app().await;
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| {
        let (anon, url) = (anon.clone(), app.url(path));
        async move {
            let r = anon.get(url).send().await.expect("request");
            let status = r.status().as_u16();
            let cookie = r.headers().get("set-cookie").is_some();
            (
                status,
                cookie,
                r.text().await.unwrap_or_default().replace("&#x2f;", "/"),
            )
        }
    };
    let (s, _, home) = get("/").await;
    assert_eq!(s, 200);
    assert!(home.contains("href=\"/register\"") && home.contains("href=\"/login\""));
    // the sign-up form comes with its CSRF cookie, and asks for what the API needs
    let (s, cookie, html) = get("/register").await;
    assert_eq!(s, 200);
    assert!(cookie, "a visitor's form carries a CSRF cookie");
    for field in [
        "name=\"email\"",
        "name=\"password\"",
        "name=\"role\"",
        "name=\"org_name\"",
        "name=\"credit_code\"",
    ] {
        assert!(html.contains(field), "{field}");
    }
    let (s, _, html) = get("/forgot").await;
    assert_eq!(s, 200);
    assert!(html.contains("name=\"email\""));
    let (s, _, login) = get("/login").await;
    assert_eq!(s, 200);
    assert!(login.contains("href=\"/forgot\"") && login.contains("href=\"/register\""));
    // links that are wrong say so in Chinese, with a 4xx
    let (s, _, html) = get("/verify?token=abc123").await;
    assert_eq!(s, 409, "{html}");
    assert!(html.contains("链接无效、已使用或已过期"), "{html}");
    let (s, _, html) = get("/register?invite=00ff").await;
    assert_eq!(s, 410);
    assert!(html.contains("邀请链接已失效"));
    let (s, _, html) = get("/unsubscribe").await;
    assert_eq!(s, 400);
    assert!(html.contains("退订链接不完整"));
    // the approval queue is for organisers: visitors go to the sign-in page
    let (s, _, _) = get("/approvals").await;
    assert_eq!(s, 303);
    let (s, html) = page(&app, "/approvals").await;
    assert_eq!(s, 200);
    assert!(html.contains("没有待审核的申请"), "{html}");
    let (s, html) = page(&app, "/account").await;
    assert_eq!(s, 200);
    assert!(html.contains("id=\"notify-match_alerts\"") && html.contains("每日匹配摘要"));
}
