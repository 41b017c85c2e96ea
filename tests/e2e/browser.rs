//! The web interface in a real browser: headless Chromium driven through chromedriver
//! (WebDriver) against the server on port 0 with the demo data. Each test saves
//! screenshots under `target/screenshots/`. Without Chromium and chromedriver these
//! tests say they were skipped; under `CI=true` a missing browser is a failure.

use crate::helpers::*;
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A browser session and the chromedriver process behind it.
struct Browser {
    client: Client,
    driver: Child,
    downloads: tempfile::TempDir,
    name: &'static str,
    shots: u32,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() && p.exists() {
            return Some(p.to_path_buf());
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let full = dir.join(c);
                if full.exists() {
                    return Some(full);
                }
            }
        }
    }
    None
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots")
}

/// Starts chromedriver and a headless Chromium session, or `None` (with a message) when
/// they are not installed outside CI.
async fn browser(name: &'static str) -> Option<Browser> {
    let driver = find_program(&["chromedriver", "/usr/bin/chromedriver"]);
    let chromium = find_program(&["chromium", "/usr/bin/chromium", "chromium-browser"]);
    let (Some(driver), Some(chromium)) = (driver, chromium) else {
        assert!(
            !crate::helpers::strict_ci(),
            "CI=true but chromium / chromedriver are not installed (.ci/run installs them)"
        );
        eprintln!(
            "SKIPPED {name}: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        );
        return None;
    };
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().unwrap().port()
    };
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let downloads = tempfile::tempdir().expect("download dir");
    let caps = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--lang=zh-CN", "--hide-scrollbars"],
            "prefs": {
                "download.default_directory": downloads.path(),
                "download.prompt_for_download": false,
                "intl.accept_languages": "zh-CN,zh",
            },
        },
    });
    let caps = caps.as_object().cloned().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let mut last = None;
    for _ in 0..100 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                std::fs::create_dir_all(screenshot_dir()).expect("screenshot dir");
                return Some(Browser {
                    client,
                    driver: child,
                    downloads,
                    name,
                    shots: 0,
                });
            }
            Err(e) => {
                last = Some(e.to_string());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("cannot start a browser session: {last:?}");
}

impl Browser {
    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    async fn css(&self, sel: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(sel))
            .await
            .unwrap_or_else(|e| panic!("no element {sel}: {e}"))
    }

    async fn all(&self, sel: &str) -> Vec<fantoccini::elements::Element> {
        self.client
            .find_all(Locator::Css(sel))
            .await
            .expect("find_all")
    }

    /// The text of an element; retried while the page is still being replaced (a
    /// reference found on the old page goes stale once the new one loads).
    async fn text(&self, sel: &str) -> String {
        let mut last = String::new();
        for _ in 0..50 {
            match self.css(sel).await.text().await {
                Ok(t) => return t,
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("text of {sel}: {last}");
    }

    async fn fill(&self, sel: &str, value: &str) {
        let e = self.css(sel).await;
        e.clear().await.expect("clear");
        e.send_keys(value).await.expect("type");
    }

    /// Sets a value through the DOM (date inputs take typed text in the locale's order).
    async fn set_value(&self, id: &str, value: &str) {
        self.client
            .execute(
                "document.getElementById(arguments[0]).value = arguments[1];",
                vec![serde_json::json!(id), serde_json::json!(value)],
            )
            .await
            .expect("set value");
    }

    async fn click(&self, sel: &str) {
        self.css(sel).await.click().await.expect("click");
    }

    async fn url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    async fn source(&self) -> String {
        self.client.source().await.expect("source")
    }

    /// Waits until the page's address contains `part`.
    async fn wait_url(&self, part: &str) {
        for _ in 0..200 {
            if self.url().await.contains(part) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("address never contained {part}: {}", self.url().await);
    }

    /// Saves a screenshot `target/screenshots/<test>-<n>-<what>.png`.
    async fn shot(&mut self, what: &str) {
        self.shots += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = screenshot_dir().join(format!("{}-{}-{what}.png", self.name, self.shots));
        std::fs::write(&path, png).expect("write screenshot");
    }

    /// Signs in through the sign-in page as a new user of a role (password
    /// `correct horse battery`) and checks the navigation shows it.
    async fn sign_in(&mut self, app: &TestApp, email: &str, role: &str, org: Option<&str>) {
        user_token(&app.ctx, email, role, org).await;
        self.log_in(app, email).await;
    }

    /// Signs in through the sign-in page as an existing user (password `correct horse
    /// battery`).
    async fn log_in(&mut self, app: &TestApp, email: &str) {
        self.goto(&app.url("/login")).await;
        self.fill("#email", email).await;
        self.fill("#password", "correct horse battery").await;
        self.click("#login-button").await;
        assert!(self.text("#me").await.contains(email), "signed in");
    }

    async fn close(mut self) {
        let c = self.client.clone();
        let _ = c.close().await;
        let _ = self.driver.kill();
    }
}

#[tokio::test]
async fn search_and_filter_in_the_browser() {
    let Some(mut b) = browser("search").await else {
        return;
    };
    let app = spawn_with(|s| s.demo.load = true).await;
    b.goto(&app.url("/")).await;
    b.shot("home").await;
    b.fill("#q", "氢能").await;
    b.click(".searchbar button[type=submit]").await;
    b.wait_url("/search").await;
    let total: u64 = b.text("#total").await.parse().unwrap();
    assert!(total >= 10, "{total}");
    assert!(!b.all(".hit mark").await.is_empty(), "highlighted hits");
    b.shot("results").await;
    // filter by kind through the facet, then by an industry
    let facet = b
        .client
        .find(Locator::XPath("//aside//a[contains(., '科技成果')]"))
        .await
        .expect("kind facet");
    facet.click().await.unwrap();
    b.wait_url("kind=results").await;
    let badges = b.all(".hit .badge").await;
    assert!(!badges.is_empty());
    for badge in badges {
        assert_eq!(badge.text().await.unwrap(), "科技成果");
    }
    let filtered: u64 = b.text("#total").await.parse().unwrap();
    assert!(filtered <= total && filtered > 0);
    let industry = b
        .client
        .find(Locator::XPath("//aside//section[h2='行业']//a"))
        .await
        .expect("industry facet");
    industry.click().await.unwrap();
    b.wait_url("industry=").await;
    assert!(
        b.all(".chip").await.len() >= 2,
        "two removable filters shown"
    );
    b.shot("filtered").await;
    // the next page keeps the filters
    if let Ok(next) = b.client.find(Locator::Css("a[rel=next]")).await {
        next.click().await.unwrap();
        b.wait_url("page=2").await;
        assert!(b.url().await.contains("kind=results"));
    }
    // a phone-width window still shows the search and the hits
    b.client.set_window_size(390, 844).await.unwrap();
    b.goto(&app.url("/search?q=催化")).await;
    assert!(b.css(".hit").await.is_displayed().await.unwrap());
    b.shot("phone").await;
    b.close().await;
}

#[tokio::test]
async fn open_a_need_and_see_why_results_are_proposed() {
    let Some(mut b) = browser("need").await else {
        return;
    };
    let app = spawn_with(|s| s.demo.load = true).await;
    b.goto(&app.url("/needs")).await;
    b.click(".rows .row-title").await;
    b.wait_url("/needs/").await;
    let cards = b.all("#matches-result .match").await;
    assert!(!cards.is_empty(), "results are proposed");
    // open the first breakdown: one row per component, each with a reason and a bar
    b.click("#matches-result .match details summary").await;
    let rows = b
        .all("#matches-result .match:first-of-type .breakdown tbody tr")
        .await;
    assert!(rows.len() >= 3, "{} components", rows.len());
    for r in &rows {
        let t = r.text().await.unwrap();
        assert!(t.contains('%'), "{t}");
    }
    assert!(
        b.css("#matches-result .match .bar span")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    assert!(
        !b.all("#matches-result .match .terms mark").await.is_empty(),
        "matched terms shown"
    );
    b.shot("matches").await;
    // the keyboard reaches the breakdown toggle
    let summary = b.css("#matches-expert .match details summary").await;
    assert!(
        b.all("#matches-expert .match details[open]")
            .await
            .is_empty(),
        "the breakdown starts folded"
    );
    summary
        .send_keys(fantoccini::key::Key::Enter.to_string().as_str())
        .await
        .expect("the breakdown toggle takes keyboard input");
    assert!(
        !b.all("#matches-expert .match details[open]")
            .await
            .is_empty(),
        "Enter on the toggle opens the breakdown"
    );
    b.shot("keyboard").await;
    b.close().await;
}

#[tokio::test]
async fn post_a_need_fix_an_error_publish_and_find_it() {
    let Some(mut b) = browser("post").await else {
        return;
    };
    let app = spawn_with(|s| s.demo.load = true).await;
    // posting needs a sign-in: the form sends a visitor to the sign-in page and back
    b.goto(&app.url("/needs/new")).await;
    b.wait_url("/login?next=").await;
    // a wrong password is refused with a message, and nothing else happens
    b.fill("#email", "nobody@example.com").await;
    b.fill("#password", "wrong password 123").await;
    b.click("#login-button").await;
    assert!(b.text("#login-error").await.contains("不正确"));
    b.shot("login-refused").await;
    b.sign_in(
        &app,
        "wang@shenran.example",
        "enterprise",
        Some("沈阳燃机动力有限公司"),
    )
    .await;
    b.goto(&app.url("/needs/new")).await;
    assert!(b.text("#own-org").await.contains("沈阳燃机动力有限公司"));
    b.fill("#f-title", "高温合金叶片激光熔覆修复").await;
    b.fill(
        "#f-description",
        "燃气轮机高温合金叶片磨损严重，需要激光熔覆修复工艺和稀土改性涂层，降低更换成本。",
    )
    .await;
    b.fill("#f-keywords", "激光熔覆、高温合金、叶片修复").await;
    b.css("#f-industry")
        .await
        .select_by_value("new_materials")
        .await
        .expect("the industry list offers new_materials");
    assert_eq!(
        b.css("#f-industry")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("new_materials")
    );
    b.fill("#f-contact_email", "wang-at-example").await;
    // see matches before publishing
    b.click("#preview").await;
    b.css("#preview-results").await;
    assert!(
        !b.all("#preview-results .match").await.is_empty(),
        "preview matches"
    );
    b.shot("preview").await;
    // publishing with a bad e-mail: the field says why, the text is kept
    b.click("#publish").await;
    let msg = b.text("#contact_email-error").await;
    assert!(msg.contains("邮箱") || msg.contains("格式"), "{msg}");
    assert_eq!(
        b.css("#f-title")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap(),
        "高温合金叶片激光熔覆修复"
    );
    assert_eq!(
        b.css("#f-contact_email")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    b.shot("error").await;
    b.fill("#f-contact_email", "wang@example.com").await;
    b.click("#publish").await;
    b.wait_url("published=1").await;
    assert!(b.text(".alert.ok").await.contains("已发布"));
    b.shot("published").await;
    let own = b.url().await;
    // found by search
    b.goto(&app.url("/")).await;
    b.fill("#q", "激光熔覆修复").await;
    b.click(".searchbar button[type=submit]").await;
    b.wait_url("/search").await;
    let first = b.css(".hit h2 a").await;
    let href = first.attr("href").await.unwrap().unwrap();
    assert!(own.contains(&href), "{own} vs {href}");
    b.shot("found").await;
    // the session cookie is HttpOnly: scripts cannot read it
    let cookies: serde_json::Value = b
        .client
        .execute("return document.cookie;", vec![])
        .await
        .unwrap();
    assert!(!cookies.as_str().unwrap_or("").contains("duijie_session"));
    // script in a field is shown as text, never run
    b.goto(&app.url("/needs/new")).await;
    b.fill("#f-title", "<script>document.title='pwned'</script>\"'")
        .await;
    b.click("#publish").await;
    b.css("#error-summary").await;
    assert_ne!(b.client.title().await.unwrap(), "pwned");
    assert!(b.source().await.contains("&lt;script&gt;"));
    b.close().await;
}

#[tokio::test]
async fn organiser_creates_an_event_generates_the_pairing_and_downloads_the_xlsx() {
    let Some(mut b) = browser("event").await else {
        return;
    };
    let app = spawn_with(|s| s.demo.load = true).await;
    b.sign_in(&app, "zhao@jyt.example", "organizer", Some("辽宁省教育厅"))
        .await;
    b.goto(&app.url("/events")).await;
    b.fill("#f-name", "2026 冶金与新材料校企对接会").await;
    b.set_value("f-date", "2026-12-20").await;
    for theme in ["metallurgy", "new_materials"] {
        b.click(&format!("input[name=themes][value={theme}]")).await;
    }
    b.fill("#f-slot_count", "4").await;
    b.fill("#f-table_count", "8").await;
    b.shot("form").await;
    b.click("#create button[type=submit]").await;
    b.wait_url("done=created").await;
    b.click("#invite").await;
    b.wait_url("done=invited").await;
    let rows = b.all("#participant-table tbody tr").await;
    assert!(rows.len() >= 4, "{} participants", rows.len());
    b.shot("participants").await;
    b.click("#generate-button").await;
    b.wait_url("done=generated").await;
    let meetings = b.all("#schedule-grid .meeting").await;
    assert!(!meetings.is_empty(), "meetings in the grid");
    let header = b.all("#schedule-grid thead th").await;
    assert_eq!(header.len(), 9, "a column per table plus the time");
    b.client.set_window_size(1280, 2400).await.unwrap();
    b.goto(&(b.url().await.replace("#schedule", "") + "#schedule"))
        .await;
    b.shot("schedule").await;
    // moving the first meeting of the first slot to the same table one slot later: when
    // that place is taken the edit is refused and the page says why; otherwise it moves
    let first = b
        .css("#schedule-grid tbody tr:nth-child(1) td:nth-child(2) .meeting")
        .await;
    let id = first.attr("id").await.unwrap().unwrap();
    let taken = !b
        .all("#schedule-grid tbody tr:nth-child(2) td:nth-child(2) .meeting")
        .await
        .is_empty();
    b.click(&format!("#{id} details summary")).await;
    b.css(&format!("#{id} select[name=slot]"))
        .await
        .select_by_value("1")
        .await
        .unwrap();
    b.click(&format!("#{id} form button[type=submit]")).await;
    if taken {
        let why = b.text("#refused").await;
        assert!(why.contains("操作未执行"), "{why}");
        b.shot("refused").await;
    } else {
        b.wait_url("done=moved").await;
    }
    // download the XLSX
    b.client.set_window_size(1280, 1000).await.unwrap();
    b.click("#export-xlsx").await;
    let mut file = None;
    for _ in 0..100 {
        let found = std::fs::read_dir(b.downloads.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "xlsx"));
        if let Some(f) = found {
            file = Some(f);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let file = file.expect("the XLSX was downloaded");
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"PK"), "an XLSX (zip) file");
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("opens");
    let sheets = wb.sheet_names().to_vec();
    let range = wb.worksheet_range(&sheets[0]).expect("first sheet");
    assert!(range.height() > meetings.len(), "a row per meeting");
    b.shot("downloaded").await;
    b.close().await;
}

#[tokio::test]
async fn sign_up_in_the_browser_then_an_organiser_approves() {
    let Some(mut b) = browser("register").await else {
        return;
    };
    let app = spawn_with(|s| s.mail.poll_interval_ms = 50).await;
    let outbox = app.ctx.settings.data.dir.join("outbox");
    b.goto(&app.url("/login")).await;
    b.click("#to-register").await;
    b.wait_url("/register").await;
    let email = "chen@steelworks.example.cn";
    b.fill("#f-email", email).await;
    b.fill("#f-name", "陈工").await;
    b.click("#role-enterprise").await;
    b.fill("#f-organization", "营口钢铁制品有限公司").await;
    b.fill("#f-org-city", "营口").await;
    b.fill("#f-credit_code", "91350100M000100Y44").await;
    b.fill("#f-password", "a long enough password").await;
    b.fill("#f-password_confirm", "a long enough password")
        .await;
    b.shot("filled").await;
    b.click("#register-button").await;
    // a wrong check character is named, and what was typed is kept
    let summary = b.text("#error-summary").await;
    assert!(summary.contains("应为“3”"), "{summary}");
    let under = b.text("#credit_code-error").await;
    assert!(
        under.contains("应为“3”"),
        "the message sits under the code's field: {under}"
    );
    let kept = b.css("#f-email").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some(email));
    b.shot("wrong-credit-code").await;
    b.fill("#f-credit_code", "91350100M000100Y43").await;
    b.fill("#f-password", "a long enough password").await;
    b.fill("#f-password_confirm", "a long enough password")
        .await;
    b.click("#register-button").await;
    assert!(b.text("#notice").await.contains("请查收验证邮件"));
    b.shot("check-your-mail").await;

    // the verification mail, rendered as a mail client shows it
    let m = mail::wait_for(&outbox, email, "请确认您的邮箱").await;
    let html_file = b.downloads.path().join("verify-mail.html");
    std::fs::write(&html_file, &m.html).unwrap();
    b.goto(&format!("file://{}", html_file.display())).await;
    assert!(b.source().await.contains("确认邮箱"));
    b.shot("verification-mail").await;
    let token = m.link_param("/verify?token=").expect("link");
    b.goto(&app.url(&format!("/verify?token={token}"))).await;
    assert!(b.text("#notice").await.contains("邮箱已确认"));

    // an organiser finds the applicant through the grouped navigation and approves
    b.sign_in(&app, "organiser@test.example", "organizer", None)
        .await;
    b.click("#work-menu summary").await;
    b.click("#nav-approvals").await;
    b.wait_url("/approvals").await;
    let row = b.text("#applicants").await;
    assert!(
        row.contains(email) && row.contains("营口钢铁制品有限公司"),
        "{row}"
    );
    b.shot("approval-queue").await;
    b.click("#applicants button.approve").await;
    b.wait_url("done=approved").await;
    assert!(b.text("#no-applicants").await.contains("没有"));
    mail::wait_for(&outbox, email, "注册申请已通过").await;

    // sign out through the account menu, sign in as the new member
    b.click("#me").await;
    b.click("#logout").await;
    // signed out: the navigation offers to sign in again
    b.css("#login-link").await;
    b.goto(&app.url("/login")).await;
    b.fill("#email", email).await;
    b.fill("#password", "a long enough password").await;
    b.click("#login-button").await;
    assert!(
        b.text("#me").await.contains("陈工"),
        "signed in as the new member"
    );
    b.shot("signed-in").await;
    b.close().await;
}

#[tokio::test]
async fn request_a_meeting_from_a_listing_and_the_university_accepts() {
    let Some(mut b) = browser("connections").await else {
        return;
    };
    let app = spawn_with(|s| s.mail.poll_interval_ms = 50).await;
    let outbox = app.ctx.settings.data.dir.join("outbox");
    // the university's result, and the enterprise's need
    let uni = client_with(
        &user_token(
            &app.ctx,
            "li@dlut.example.edu.cn",
            "researcher",
            Some("大连理工大学"),
        )
        .await,
    );
    let (s, r) = send(
        &uni,
        "POST",
        app.url("/api/v1/results"),
        Some(serde_json::json!({
        "title": "焊接残余应力与变形预测控制技术", "summary": "基于热弹塑性有限元的焊接变形预测。",
        "contact": {"name": "李教授", "phone": "0411-84708888"}})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let result = r["id"].as_i64().unwrap();
    let ent_client = client_with(
        &user_token(
            &app.ctx,
            "wang@zhonggong.example.cn",
            "enterprise",
            Some("沈阳中工机械有限公司"),
        )
        .await,
    );
    b.log_in(&app, "wang@zhonggong.example.cn").await;
    let (s, n) = send(
        &ent_client,
        "POST",
        app.url("/api/v1/needs"),
        Some(serde_json::json!({
        "title": "高强度钢材焊接变形控制", "description": "大型结构件焊接后变形超差。"})),
    )
    .await;
    assert_eq!(s, 201, "{n}");

    // the result's page: contacts hidden until a request is accepted; the request button
    b.goto(&app.url(&format!("/results/{result}"))).await;
    assert!(b.text("#contact").await.contains("对接申请被接受后可查看"));
    b.click("#request-connection").await;
    b.wait_url("/connections/new").await;
    b.fill("#note", "希望了解应用案例。").await;
    b.shot("request-form").await;
    b.click("#send-request").await;
    b.wait_url("done=sent").await;
    assert!(b.text("#status").await.contains("待答复"));
    b.shot("sent").await;
    let id: i64 = b
        .url()
        .await
        .split("/connections/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // the researcher answers from the inbox with a meeting
    b.click("#me").await;
    b.click("#logout").await;
    b.css("#login-link").await;
    b.log_in(&app, "li@dlut.example.edu.cn").await;
    b.click("#work-menu summary").await;
    b.click("#nav-connections").await;
    b.wait_url("/connections").await;
    assert!(b.text("#connection-list").await.contains("待您答复"));
    b.shot("inbox").await;
    b.goto(&app.url(&format!("/connections/{id}"))).await;
    let d =
        (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(30)).date_naive();
    b.set_value("accept-start", &format!("{}T14:00", d.format("%Y-%m-%d")))
        .await;
    b.fill("#accept-place", "科技园 A 座 301").await;
    b.shot("answer").await;
    b.click("#accept-button").await;
    b.wait_url("done=accepted").await;
    assert!(b.text("#status").await.contains("已接受"));
    let meeting = b.text("#meeting").await;
    assert!(
        meeting.contains(&format!("{} 14:00–15:00", d.format("%Y年%-m月%-d日")))
            && meeting.contains("科技园 A 座 301"),
        "{meeting}"
    );
    b.css("#ledger-link").await;
    b.shot("accepted").await;
    mail::wait_for(&outbox, "wang@zhonggong.example.cn", "对接申请已接受").await;
    b.close().await;

    // the enterprise now sees the contact details
    let (_, r) = send(
        &ent_client,
        "GET",
        app.url(&format!("/api/v1/results/{result}")),
        None,
    )
    .await;
    assert_eq!(r["contact"]["name"], "李教授", "{r}");
}

#[tokio::test]
async fn register_for_an_event_wish_and_confirm_the_agenda_in_the_browser() {
    let Some(mut b) = browser("participation").await else {
        return;
    };
    let app = spawn_with(|s| s.mail.poll_interval_ms = 50).await;
    let outbox = app.ctx.settings.data.dir.join("outbox");
    // the university brings a result through the API; the enterprise has a need
    let uni = client_with(
        &user_token(
            &app.ctx,
            "li@dlut.example.edu.cn",
            "researcher",
            Some("大连理工大学"),
        )
        .await,
    );
    let (s, r) = send(
        &uni,
        "POST",
        app.url("/api/v1/results"),
        Some(serde_json::json!({
        "title": "焊接残余应力与变形预测控制技术", "summary": "焊接变形预测与焊接顺序优化，控制大型结构件残余应力。"})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let result = r["id"].as_i64().unwrap();
    let ent = client_with(
        &user_token(
            &app.ctx,
            "wang@zhonggong.example.cn",
            "enterprise",
            Some("沈阳中工机械有限公司"),
        )
        .await,
    );
    let (s, n) = send(
        &ent,
        "POST",
        app.url("/api/v1/needs"),
        Some(serde_json::json!({
        "title": "高强度钢材焊接变形控制", "description": "大型结构件焊接后变形超差，需要焊接顺序优化与残余应力控制。"})),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    let (s, ev) = app
        .post(
            "/api/v1/events",
            &serde_json::json!({"name": "焊接技术专场对接会", "date": "2026-12-20", "venue": "沈阳国际展览中心",
                "status": "open", "registration": "open", "slot_count": 2, "table_count": 2}),
        )
        .await;
    assert_eq!(s, 201, "{ev}");
    let id = ev["id"].as_i64().unwrap();
    let (s, reg) = send(
        &uni,
        "POST",
        app.url(&format!("/api/v1/events/{id}/registrations")),
        Some(serde_json::json!({"listing_ids": [format!("result:{result}")]})),
    )
    .await;
    assert_eq!(s, 201, "{reg}");

    // the enterprise finds the event, registers and wishes to meet the result
    b.log_in(&app, "wang@zhonggong.example.cn").await;
    b.goto(&app.url("/events")).await;
    b.click(&format!("a[href='/participate/{id}']")).await;
    b.wait_url(&format!("/participate/{id}")).await;
    assert!(b.text("#registration-mode").await.contains("开放报名"));
    b.shot("event-page").await;
    b.click("#register-button").await;
    b.wait_url("done=registered").await;
    assert!(b.text("#catalogue-list").await.contains("焊接残余应力"));
    b.click("#catalogue-list li:first-child button[value='must']")
        .await;
    b.wait_url("done=wish").await;
    assert_eq!(b.text("#must-left").await, "2");
    assert!(b.text(".wish-state").await.contains("必须会谈"));
    b.shot("wished").await;
    mail::wait_for(&outbox, "wang@zhonggong.example.cn", "报名成功").await;

    // the organiser generates; the enterprise confirms its meeting in 我的日程
    let (s, p) = app
        .post(
            &format!("/api/v1/events/{id}/pairings:generate"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    b.click("#agenda-link").await;
    b.wait_url("/agenda").await;
    assert!(b.text("#agenda-state").await.contains("暂定"));
    let row = b.text("#meeting-list").await;
    assert!(
        row.contains("大连理工大学") && row.contains("希望"),
        "{row}"
    );
    b.css("#ics-download").await;
    b.click(".confirm-button").await;
    b.wait_url("done=confirmed").await;
    assert!(b.text(".answer").await.contains("已确认"));
    // at phone width the agenda still reads
    b.client
        .set_window_size(390, 844)
        .await
        .expect("window size");
    b.shot("agenda-phone").await;

    // the help page for the role says how an event works
    b.goto(&app.url("/help/enterprise")).await;
    let help = b.text("#help-text").await;
    assert!(help.contains("报名") && help.contains("我的日程"), "{help}");
    b.close().await;
}
