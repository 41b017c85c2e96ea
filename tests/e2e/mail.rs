//! People sign themselves up and hear from duijie by e-mail: sign-up → verification mail →
//! verify → approval → sign-in, wrong credit codes, password resets, invitations,
//! rejections, one-click unsubscribe and digests — through the file transport everywhere,
//! and through a real SMTP server on loopback (python3-aiosmtpd) including a kill -9 with
//! a message in the outbox.

use crate::helpers::http::answer;
use crate::helpers::mail::{self, SmtpSink};
use crate::helpers::{TestApp, client_with, error_code, spawn_with, user_token};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

fn outbox(app: &TestApp) -> PathBuf {
    app.ctx.settings.data.dir.join("outbox")
}

async fn spawn_mail() -> TestApp {
    spawn_with(|s| {
        s.mail.poll_interval_ms = 50;
        s.server.public_url = "https://duijie.example.org".into();
    })
    .await
}

fn sign_up_body(email: &str) -> Value {
    json!({
        "email": email,
        "password": "a long enough password",
        "name": "王工",
        "role": "enterprise",
        "organization": {"name": "沈阳新材料有限公司", "kind": "enterprise", "city": "沈阳", "credit_code": "91350100M000100Y43"},
    })
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> u16 {
    app.anon
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn sign_up_verify_approve_then_sign_in() {
    let app = spawn_mail().await;
    let email = "wang@xincailiao.example.cn";
    let (s, body) = answer(
        app.anon.post(app.url("/api/v1/registrations")),
        Some(sign_up_body(email)),
    )
    .await;
    assert_eq!(s, 202, "{body}");
    assert_eq!(body["status"], "pending_verification");
    // not yet: the account cannot sign in before verification and approval
    assert_eq!(sign_in(&app, email, "a long enough password").await, 401);

    let m = mail::wait_for(&outbox(&app), email, "请确认您的邮箱").await;
    assert!(
        m.header("Message-ID")
            .is_some_and(|id| id.ends_with("@duijie.invalid>"))
    );
    let html = m.html.replace("&#x2f;", "/");
    assert!(
        html.contains("确认邮箱")
            && html.contains("<a href=\"https://duijie.example.org/verify?token="),
        "{html}"
    );
    assert!(
        m.header("List-Unsubscribe").is_none(),
        "account mail cannot be unsubscribed"
    );
    let token = m
        .link_param("https://duijie.example.org/verify?token=")
        .expect("link");
    assert_eq!(token.len(), 64);

    // the page the link opens verifies, once
    let page = app
        .anon
        .get(app.url(&format!("/verify?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("邮箱已确认"));
    let (s, body) = answer(
        app.anon.post(app.url("/api/v1/registrations/verify")),
        Some(json!({"token": token})),
    )
    .await;
    assert_eq!(s, 409, "a used link is refused: {body}");
    assert_eq!(error_code(&body), "link_invalid");
    assert_eq!(
        sign_in(&app, email, "a long enough password").await,
        401,
        "approval still missing"
    );

    // the organisers' queue
    let (s, _) = answer(app.anon.get(app.url("/api/v1/registrations")), None).await;
    assert_eq!(s, 401);
    let researcher = user_token(
        &app.ctx,
        "li@university.example.cn",
        "researcher",
        Some("东北大学"),
    )
    .await;
    let (s, _) = answer(
        client_with(&researcher).get(app.url("/api/v1/registrations")),
        None,
    )
    .await;
    assert_eq!(s, 403, "only organisers and administrators see the queue");
    let (s, queue) = app.get("/api/v1/registrations").await;
    assert_eq!(s, 200);
    assert_eq!(queue["total"], 1, "{queue}");
    let applicant = &queue["items"][0];
    assert_eq!(applicant["user"]["email"], email);
    assert_eq!(applicant["user"]["status"], "pending_approval");
    assert_eq!(
        applicant["application"]["credit_code"],
        "91350100M000100Y43"
    );
    let id = applicant["user"]["id"].as_i64().unwrap();

    let (s, body) = app
        .post(&format!("/api/v1/users/{id}/approve"), &json!({}))
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["user"]["status"], "active");
    assert_eq!(body["user"]["organization_name"], "沈阳新材料有限公司");
    let (s, again) = app
        .post(&format!("/api/v1/users/{id}/approve"), &json!({}))
        .await;
    assert_eq!(s, 409, "{again}");
    assert_eq!(error_code(&again), "not_pending_approval");
    let ok = mail::wait_for(&outbox(&app), email, "注册申请已通过").await;
    assert!(ok.text.contains("沈阳新材料有限公司"), "{}", ok.text);
    assert_eq!(sign_in(&app, email, "a long enough password").await, 200);

    // the organisation was registered with its credit code: a second enterprise naming
    // the code joins it, whatever name it types
    let (s, _) = answer(
        app.anon.post(app.url("/api/v1/registrations")),
        Some(json!({
            "email": "zhao@xincailiao.example.cn", "password": "another long password", "name": "赵工",
            "role": "enterprise",
            "organization": {"name": "新材料公司", "credit_code": "91350100m000100y43"},
        })),
    )
    .await;
    assert_eq!(s, 202);
    let (_, q) = app
        .get("/api/v1/registrations?status=pending_verification")
        .await;
    assert_eq!(
        q["items"][0]["application"]["organization_id"], body["user"]["organization_id"],
        "{q}"
    );

    // signing up again with a taken address: the same answer, a mail to the owner, no account
    let (s, again) = answer(
        app.anon.post(app.url("/api/v1/registrations")),
        Some(sign_up_body(email)),
    )
    .await;
    assert_eq!(s, 202);
    assert_eq!(again["status"], "pending_verification");
    let notice = mail::wait_for(&outbox(&app), email, "有人用您的邮箱申请注册").await;
    assert!(notice.text.contains("/forgot"));
    let (_, q) = app
        .get("/api/v1/registrations?status=pending_verification")
        .await;
    assert_eq!(q["total"], 1, "no second account: {q}");
}

#[tokio::test]
async fn bad_sign_ups_are_refused_field_by_field_and_leave_nothing() {
    let app = spawn_mail().await;
    let mut body = sign_up_body("a@b.example.cn");
    body["organization"]["credit_code"] = json!("91350100M000100Y44");
    let (s, e) = answer(app.anon.post(app.url("/api/v1/registrations")), Some(body)).await;
    assert_eq!(s, 422, "{e}");
    let fields = e["error"]["fields"].as_array().expect("fields");
    let credit = fields
        .iter()
        .find(|f| f["field"] == "organization.credit_code")
        .expect("the credit code is named");
    assert!(
        credit["message"].as_str().unwrap().contains("应为“3”"),
        "the message names the right check character: {credit}"
    );
    let (s, e) = answer(
        app.anon.post(app.url("/api/v1/registrations")),
        Some(json!({"email": "not-an-address", "password": "short", "role": "admin", "extra": 1})),
    )
    .await;
    assert_eq!(s, 422);
    let named: Vec<&str> = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["field"].as_str())
        .collect();
    for f in ["email", "password", "name", "role", "organization", "extra"] {
        assert!(named.contains(&f), "{f} is named: {e}");
    }
    let (_, q) = app
        .get("/api/v1/registrations?status=pending_verification")
        .await;
    assert_eq!(q["total"], 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        mail::read_all(&outbox(&app)).is_empty(),
        "no mail for a refused sign-up"
    );
}

#[tokio::test]
async fn password_reset_link_works_once_and_ends_every_session() {
    let app = spawn_mail().await;
    let email = "reset@test.example.cn";
    user_token(&app.ctx, email, "enterprise", Some("大连重工")).await;
    let jar = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = jar
        .post(app.url("/api/v1/sessions"))
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        jar.get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // an unknown address: the same 202, and nothing is sent
    let (s, unknown) = answer(
        app.anon.post(app.url("/api/v1/password-resets")),
        Some(json!({"email": "nobody@test.example.cn"})),
    )
    .await;
    assert_eq!(s, 202);
    let (s, known) = answer(
        app.anon.post(app.url("/api/v1/password-resets")),
        Some(json!({"email": email})),
    )
    .await;
    assert_eq!(s, 202);
    assert_eq!(
        unknown["status"], known["status"],
        "the answer does not tell"
    );
    let m = mail::wait_for(&outbox(&app), email, "重设密码").await;
    let token = m.link_param("/reset?token=").expect("reset link");
    assert!(mail::to(&outbox(&app), "nobody@test.example.cn").is_empty());

    let confirm = |password: &str| json!({"token": token, "password": password});
    let (s, weak) = answer(
        app.anon.post(app.url("/api/v1/password-resets/confirm")),
        Some(confirm("short")),
    )
    .await;
    assert_eq!(s, 422, "{weak}");
    let (s, body) = answer(
        app.anon.post(app.url("/api/v1/password-resets/confirm")),
        Some(confirm("a brand new passphrase")),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        jar.get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "sessions ended"
    );
    assert_eq!(sign_in(&app, email, "correct horse battery").await, 401);
    assert_eq!(sign_in(&app, email, "a brand new passphrase").await, 200);
    let (s, twice) = answer(
        app.anon.post(app.url("/api/v1/password-resets/confirm")),
        Some(confirm("yet another passphrase")),
    )
    .await;
    assert_eq!(s, 409, "a link works once: {twice}");
    assert_eq!(error_code(&twice), "link_invalid");
    mail::wait_for(&outbox(&app), email, "您的密码已重设").await;
}

#[tokio::test]
async fn a_rejection_gives_its_reason_and_the_account_stays_shut() {
    let app = spawn_mail().await;
    let email = "zhang@example.cn";
    let mut body = sign_up_body(email);
    body["role"] = json!("researcher");
    body["organization"] = json!({"name": "某研究所", "kind": "institute"});
    let (s, _) = answer(app.anon.post(app.url("/api/v1/registrations")), Some(body)).await;
    assert_eq!(s, 202);
    let m = mail::wait_for(&outbox(&app), email, "请确认您的邮箱").await;
    let token = m.link_param("/verify?token=").unwrap();
    let (s, v) = answer(
        app.anon.post(app.url("/api/v1/registrations/verify")),
        Some(json!({"token": token})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["user"]["status"], "pending_approval");
    let id = v["user"]["id"].as_i64().unwrap();
    let (s, e) = app
        .post(&format!("/api/v1/users/{id}/reject"), &json!({}))
        .await;
    assert_eq!(s, 422, "a reason is required: {e}");
    let (s, r) = app
        .post(
            &format!("/api/v1/users/{id}/reject"),
            &json!({"reason": "单位信息无法核实，请补充证明材料"}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["user"]["status"], "rejected");
    let m = mail::wait_for(&outbox(&app), email, "注册申请未通过").await;
    assert!(m.text.contains("单位信息无法核实") && m.html.contains("单位信息无法核实"));
    assert_eq!(sign_in(&app, email, "a long enough password").await, 401);
    let (_, q) = app.get("/api/v1/registrations?status=rejected").await;
    assert_eq!(
        q["items"][0]["application"]["rejected_reason"],
        "单位信息无法核实，请补充证明材料"
    );
}

#[tokio::test]
async fn an_invitation_signs_up_pre_approved_once() {
    let app = spawn_mail().await;
    let (_, org) = app
        .post(
            "/api/v1/organizations",
            &json!({"name": "东北大学", "kind": "university", "city": "沈阳"}),
        )
        .await;
    let org_id = org["id"].as_i64().expect("organisation");
    let email = "invitee@neu.example.cn";
    let (s, sent) = app
        .post(
            "/api/v1/invitations",
            &json!({"email": email, "role": "researcher", "organization": org_id}),
        )
        .await;
    assert_eq!(s, 201, "{sent}");
    let (s, e) = app
        .post(
            "/api/v1/invitations",
            &json!({"email": "admin@test.example", "role": "researcher"}),
        )
        .await;
    assert_eq!(s, 409, "an existing account needs no invitation: {e}");
    let m = mail::wait_for(&outbox(&app), email, "邀请您加入校企对接平台").await;
    assert!(m.text.contains("东北大学"));
    let token = m.link_param("/register?invite=").expect("invitation link");
    // the link opens a pre-filled sign-up
    let page = app
        .anon
        .get(app.url(&format!("/register?invite={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(email) && html.contains("东北大学") && html.contains("接受邀请"),
        "{html}"
    );
    let (s, body) = answer(
        app.anon.post(app.url("/api/v1/registrations")),
        Some(json!({"invite": token, "name": "刘教授", "password": "a long enough password"})),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["user"]["status"], "active");
    assert_eq!(body["user"]["role"], "researcher");
    assert_eq!(body["user"]["organization_id"], org_id);
    assert_eq!(sign_in(&app, email, "a long enough password").await, 200);
    let (s, _) = answer(
        app.anon.post(app.url("/api/v1/registrations")),
        Some(json!({"invite": token, "name": "刘教授", "password": "a long enough password"})),
    )
    .await;
    assert_eq!(s, 409, "an invitation is used once");
    let gone = app
        .anon
        .get(app.url(&format!("/register?invite={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 410);
}

/// A researcher's alert on a need, then a matching result is published.
async fn alert_and_match(app: &TestApp, researcher: &reqwest::Client, title: &str) {
    let (s, r) = answer(
        researcher.post(app.url("/api/v1/results")),
        Some(json!({
            "title": title,
            "summary": "面向钢铁企业的高炉煤气余热回收与低温余热发电技术，提高能源利用效率、降低能耗。",
            "keywords": ["余热发电", "余热回收", "高炉煤气"], "industry": "metallurgy", "status": "published",
        })),
    )
    .await;
    assert_eq!(s, 201, "{r}");
}

#[tokio::test]
async fn one_click_unsubscribe_stops_match_alert_mail_and_digests_collect_the_rest() {
    let app = spawn_with(|s| {
        s.mail.poll_interval_ms = 50;
        s.alerts.poll_interval_ms = 50;
        s.mail.digest_after_hours = 0;
    })
    .await;
    let email = "alerts@steel.example.cn";
    let token = user_token(&app.ctx, email, "enterprise", Some("鞍山钢铁")).await;
    let owner = client_with(&token);
    let researcher = client_with(
        &user_token(
            &app.ctx,
            "heat@neu.example.cn",
            "researcher",
            Some("东北大学"),
        )
        .await,
    );
    let (s, need) = answer(
        owner.post(app.url("/api/v1/needs")),
        Some(json!({
            "title": "高炉煤气余热回收发电技术",
            "description": "寻求高炉煤气余热回收与余热发电技术，提高能源利用效率，降低吨钢能耗。",
            "keywords": ["余热回收", "余热发电", "高炉煤气"], "industry": "metallurgy", "status": "published",
        })),
    )
    .await;
    assert_eq!(s, 201, "{need}");
    let (s, sub) = answer(
        owner.post(app.url("/api/v1/alerts")),
        Some(json!({"kind": "need_matches", "need_id": need["id"], "min_score": 0.2})),
    )
    .await;
    assert_eq!(s, 201, "{sub}");
    let (_, settings) = answer(owner.get(app.url("/api/v1/me/notification-settings")), None).await;
    let on = |v: &Value, c: &str| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["category"] == c)
            .map(|i| i["enabled"].as_bool().unwrap())
            .unwrap()
    };
    assert!(
        on(&settings, "match_alerts") && !on(&settings, "digests"),
        "{settings}"
    );

    alert_and_match(&app, &researcher, "高炉煤气余热回收发电成套技术").await;
    let m = mail::wait_for(&outbox(&app), email, "匹配提醒").await;
    let unsub = m
        .header("List-Unsubscribe")
        .expect("alert mail can be unsubscribed")
        .trim_matches(['<', '>'])
        .to_string();
    assert_eq!(
        m.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let path = &unsub[unsub.find("/unsubscribe").unwrap()..];
    // a forged signature is refused
    let forged = app
        .anon
        .post(app.url(&path.replace("&s=", "&s=00")))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    // RFC 8058: the mail client POSTs to the link, no cookie, no CSRF token
    let r = app
        .anon
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, settings) = answer(owner.get(app.url("/api/v1/me/notification-settings")), None).await;
    assert!(!on(&settings, "match_alerts"), "{settings}");

    // turn digests on; the next match is a notification and goes into a digest, not its own mail
    let (s, set) = answer(
        owner.put(app.url("/api/v1/me/notification-settings")),
        Some(json!({"digests": true})),
    )
    .await;
    assert_eq!(s, 200, "{set}");
    let (s, bad) = answer(
        owner.put(app.url("/api/v1/me/notification-settings")),
        Some(json!({"spam": true})),
    )
    .await;
    assert_eq!(s, 422, "{bad}");
    alert_and_match(&app, &researcher, "高炉煤气余热锅炉发电改造技术").await;
    let digest = mail::wait_for(&outbox(&app), email, "匹配摘要").await;
    assert!(
        digest.text.contains("高炉煤气余热锅炉发电改造技术"),
        "{}",
        digest.text
    );
    assert!(
        digest
            .header("List-Unsubscribe")
            .is_some_and(|u| u.contains("c=digests"))
    );
    let alerts_mail = mail::to(&outbox(&app), email)
        .into_iter()
        .filter(|m| m.subject.starts_with("匹配提醒"))
        .count();
    assert_eq!(alerts_mail, 1, "no per-match mail after unsubscribing");
}

#[tokio::test]
async fn mail_reaches_a_real_smtp_server() {
    let port = mail::free_port();
    let Some(sink) = SmtpSink::start("mail_reaches_a_real_smtp_server", port).await else {
        return;
    };
    let app = spawn_with(|s| {
        s.mail.transport = "smtp".into();
        s.mail.smtp_url = format!("smtp://127.0.0.1:{}", sink.port);
        s.mail.smtp_tls = "none".into();
        s.mail.poll_interval_ms = 50;
    })
    .await;
    let email = "smtp@example.cn";
    let (s, _) = answer(
        app.anon.post(app.url("/api/v1/registrations")),
        Some(sign_up_body(email)),
    )
    .await;
    assert_eq!(s, 202);
    let m = mail::wait_for(&sink.dir, email, "请确认您的邮箱").await;
    assert!(
        !m.html.is_empty() && !m.text.is_empty(),
        "multipart text + HTML"
    );
    let token = m.link_param("/verify?token=").unwrap();
    let (s, v) = answer(
        app.anon.post(app.url("/api/v1/registrations/verify")),
        Some(json!({"token": token})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let id = v["user"]["id"].as_i64().unwrap();
    let (s, _) = app
        .post(&format!("/api/v1/users/{id}/approve"), &json!({}))
        .await;
    assert_eq!(s, 200);
    mail::wait_for(&sink.dir, email, "注册申请已通过").await;
    assert_eq!(sign_in(&app, email, "a long enough password").await, 200);
    let (s, log) = app.get("/api/v1/admin/mail?status=sent").await;
    assert_eq!(s, 200);
    assert_eq!(log["total"], 2, "{log}");
    assert!(
        mail::read_all(&app.ctx.settings.data.dir.join("outbox")).is_empty(),
        "nothing went to files"
    );
}

#[tokio::test]
async fn a_message_queued_before_a_kill_arrives_exactly_once_after_restart() {
    let port = mail::free_port();
    if !mail::smtp_available() {
        // SmtpSink::start says SKIPPED (or fails under CI)
        let _ = SmtpSink::start(
            "a_message_queued_before_a_kill_arrives_exactly_once_after_restart",
            port,
        )
        .await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let env = |c: &mut std::process::Command| {
        c.env("DUIJIE__MAIL__TRANSPORT", "smtp")
            .env("DUIJIE__MAIL__SMTP_URL", format!("smtp://127.0.0.1:{port}"))
            .env("DUIJIE__MAIL__SMTP_TLS", "none")
            .env("DUIJIE__MAIL__POLL_INTERVAL_MS", "50")
            .env("DUIJIE__MAIL__RETRY_BASE_MS", "200")
            .env("DUIJIE__MAIL__RETRY_MAX_MS", "400");
    };
    // nothing listens on the port yet: the message stays in the outbox
    let (mut server, base) = crate::crash::start_configured(dir.path(), env);
    crate::crash::cli_token(dir.path());
    let anon = reqwest::Client::new();
    let (s, _) = answer(
        anon.post(format!("{base}/api/v1/password-resets")),
        Some(json!({"email": "ops@test.example"})),
    )
    .await;
    assert_eq!(s, 202);
    tokio::time::sleep(Duration::from_millis(500)).await; // an attempt or two fail
    server.kill9();
    let sink = SmtpSink::start(
        "a_message_queued_before_a_kill_arrives_exactly_once_after_restart",
        port,
    )
    .await
    .expect("aiosmtpd");
    let (_server, _base) = crate::crash::start_configured(dir.path(), env);
    let m = mail::wait_for(&sink.dir, "ops@test.example", "重设密码").await;
    assert!(m.link_param("/reset?token=").is_some());
    // give a second copy every chance to arrive
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = mail::to(&sink.dir, "ops@test.example");
    assert_eq!(
        all.len(),
        1,
        "exactly once: {:?}",
        all.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert_eq!(all[0].header("Message-ID"), m.header("Message-ID"));
}

/// Signs up, follows the verification link, and returns the applicant's id.
async fn applicant(app: &TestApp, email: &str, organization: Value) -> i64 {
    let (s, b) = answer(
        app.anon.post(app.url("/api/v1/registrations")),
        Some(
            json!({"email": email, "password": "a long enough password", "name": "申请人",
                    "role": "enterprise", "organization": organization}),
        ),
    )
    .await;
    assert_eq!(s, 202, "{b}");
    let m = mail::wait_for(&outbox(app), email, "请确认您的邮箱").await;
    let token = m.link_param("/verify?token=").unwrap();
    let (s, v) = answer(
        app.anon.post(app.url("/api/v1/registrations/verify")),
        Some(json!({"token": token})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["user"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_organisations_first_member_approves_who_joins_it_and_no_one_else() {
    let app = spawn_mail().await;
    let first = applicant(
        &app,
        "first@haiyang.example.cn",
        json!({"name": "大连海洋装备有限公司", "city": "大连", "credit_code": "91210200MA0QC3XX1Q"}),
    )
    .await;
    let (s, a) = app
        .post(&format!("/api/v1/users/{first}/approve"), &json!({}))
        .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        a["user"]["org_admin"], true,
        "the first member administers the organisation"
    );
    let org = a["user"]["organization_id"].as_i64().unwrap();
    // a colleague joins by the credit code; someone else applies to another organisation
    let colleague = applicant(
        &app,
        "second@haiyang.example.cn",
        json!({"credit_code": "91210200MA0QC3XX1Q", "name": "海洋装备"}),
    )
    .await;
    let stranger = applicant(
        &app,
        "x@other.example.cn",
        json!({"name": "别的公司", "credit_code": "91210100MA0Y2B5L8K"}),
    )
    .await;
    let cli = duijie_app::Caller::local("test");
    let token = duijie_app::accounts::token_for(&app.ctx, &cli, first, "t")
        .await
        .map_err(|e| e.to_string())
        .unwrap()
        .0;
    let first_client = client_with(&token);
    let (s, queue) = answer(first_client.get(app.url("/api/v1/registrations")), None).await;
    assert_eq!(s, 200, "{queue}");
    let ids: Vec<i64> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["user"]["id"].as_i64())
        .collect();
    assert_eq!(
        ids,
        vec![colleague],
        "only those asking to join their organisation"
    );
    let (s, e) = answer(
        first_client.post(app.url(&format!("/api/v1/users/{stranger}/approve"))),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 403, "{e}");
    let (s, ok) = answer(
        first_client.post(app.url(&format!("/api/v1/users/{colleague}/approve"))),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 200, "{ok}");
    assert_eq!(ok["user"]["organization_id"], org);
    assert_eq!(
        ok["user"]["org_admin"], false,
        "later members do not administer"
    );
    mail::wait_for(&outbox(&app), "second@haiyang.example.cn", "注册申请已通过").await;
    // a member who does not administer sees no queue
    let token2 = duijie_app::accounts::token_for(&app.ctx, &cli, colleague, "t")
        .await
        .map_err(|e| e.to_string())
        .unwrap()
        .0;
    let (s, _) = answer(
        client_with(&token2).get(app.url("/api/v1/registrations")),
        None,
    )
    .await;
    assert_eq!(s, 403);
}
