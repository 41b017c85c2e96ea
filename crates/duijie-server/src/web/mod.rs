//! The Chinese web interface: server-rendered pages over the same services as the JSON
//! API. Templates are minijinja with auto-escaping on (every template name ends in
//! `.html`); the only markup that is not escaped is the highlighted snippets, which the
//! snippet builder escapes itself. The CSS and the little JavaScript there is are built
//! into the binary, so the interface works on a machine without internet, and pages carry
//! a Content-Security-Policy that allows scripts from the server only.

mod account;
mod alerts;
mod connections;
mod console;
mod forms;
mod ledger;
pub(crate) mod mail;
mod pages;
mod participation;
mod signup;

use crate::auth::{Caller, Who};
use crate::error::HttpStatus;
use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::authz::Action;
use duijie_domain::{ListingKind, Zone, vocab};
use minijinja::Environment;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// The pages and assets; merged at the root of the application router.
pub fn router(ctx: &App) -> Router<App> {
    Router::new()
        .merge(pages::router())
        .merge(forms::router())
        .merge(console::router(ctx.clone()))
        .merge(account::router())
        .merge(signup::router())
        .merge(connections::router())
        .merge(participation::router())
        .merge(alerts::router())
        .merge(ledger::router(ctx.clone()))
        .route("/api/docs", get(api_docs))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .layer(axum::middleware::map_response(security_headers))
}

/// Headers every page gets: a strict CSP (defence in depth behind auto-escaping), no
/// framing, no MIME sniffing.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

/// The API reference, rendered from the OpenAPI table (no CDN, no script).
async fn api_docs(State(ctx): State<App>, caller: Who) -> Result<Html<String>, WebError> {
    render(
        &ctx,
        &caller,
        "api_docs.html",
        "api",
        "开放接口文档",
        crate::openapi::docs_page(&ctx.vocab),
    )
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", include_str!("static/app.css"))
}

async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("static/app.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("home.html", include_str!("templates/home.html")),
    ("search.html", include_str!("templates/search.html")),
    ("list.html", include_str!("templates/list.html")),
    ("listing.html", include_str!("templates/listing.html")),
    (
        "organization.html",
        include_str!("templates/organization.html"),
    ),
    ("form.html", include_str!("templates/form.html")),
    ("events.html", include_str!("templates/events.html")),
    ("event.html", include_str!("templates/event.html")),
    (
        "participate.html",
        include_str!("templates/participate.html"),
    ),
    ("my_agenda.html", include_str!("templates/my_agenda.html")),
    ("help.html", include_str!("templates/help.html")),
    ("import.html", include_str!("templates/import.html")),
    ("error.html", include_str!("templates/error.html")),
    ("login.html", include_str!("templates/login.html")),
    ("account.html", include_str!("templates/account.html")),
    ("admin.html", include_str!("templates/admin.html")),
    ("alerts.html", include_str!("templates/alerts.html")),
    ("alerts_log.html", include_str!("templates/alerts_log.html")),
    (
        "notifications.html",
        include_str!("templates/notifications.html"),
    ),
    ("ledger.html", include_str!("templates/ledger.html")),
    (
        "ledger_entry.html",
        include_str!("templates/ledger_entry.html"),
    ),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("api_docs.html", include_str!("templates/api_docs.html")),
    ("register.html", include_str!("templates/register.html")),
    ("notice.html", include_str!("templates/notice.html")),
    ("forgot.html", include_str!("templates/forgot.html")),
    ("reset.html", include_str!("templates/reset.html")),
    ("approvals.html", include_str!("templates/approvals.html")),
    (
        "connections.html",
        include_str!("templates/connections.html"),
    ),
    ("connection.html", include_str!("templates/connection.html")),
    (
        "connection_new.html",
        include_str!("templates/connection_new.html"),
    ),
    (
        "connection_feedback.html",
        include_str!("templates/connection_feedback.html"),
    ),
    (
        "unsubscribe.html",
        include_str!("templates/unsubscribe.html"),
    ),
];

/// The template environment, built once. Templates are compiled into the binary, so an
/// error here is a bug; a unit test renders every template.
fn env() -> Result<&'static Environment<'static>, WebError> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .map_err(|e| format!("template {name}: {e:#}"))?;
        }
        env.add_filter("zh", |s: String| zh(&s).to_string());
        env.add_filter("pct", |x: f64| {
            format!("{:.0}", (x * 100.0).clamp(0.0, 100.0))
        });
        env.add_filter("score", |x: f64| format!("{x:.2}"));
        env.add_filter("yuan", yuan);
        env.add_filter("date", |s: String| s.chars().take(10).collect::<String>());
        Ok(env)
    })
    .as_ref()
    .map_err(|e| WebError::from(AppError::Internal(e.clone())))
}

/// The Chinese half of a `中文 / English` message.
pub fn zh(s: &str) -> &str {
    s.split(" / ").next().unwrap_or(s).trim()
}

/// Money in yuan as people read it: 万元 from ten thousand up.
fn yuan(v: i64) -> String {
    if v >= 10_000 && v % 100 == 0 {
        let wan = v as f64 / 10_000.0;
        if (wan - wan.round()).abs() < 1e-9 {
            format!("{} 万元", wan.round() as i64)
        } else {
            format!("{wan:.2} 万元")
        }
    } else {
        format!("{v} 元")
    }
}

/// Renders a page of the given section (`nav` marks the active link).
pub(crate) fn render(
    ctx: &App,
    caller: &Caller,
    template: &str,
    nav: &str,
    title: &str,
    data: Value,
) -> Result<Html<String>, WebError> {
    let mut page = match data {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    page.insert("nav".into(), json!(nav));
    page.insert("page_title".into(), json!(title));
    page.insert("labels".into(), labels(ctx));
    page.insert("csrf".into(), json!(caller.csrf()));
    if let Some(u) = &caller.user {
        let role = u.role.label_zh();
        page.insert(
            "me".into(),
            json!({"email": u.email, "name": u.name, "role": u.role, "role_label": role,
                   "is_admin": u.role == duijie_domain::Role::Admin,
                   "keeps_programme": u.role.keeps_programme(),
                   "approves": u.role.keeps_programme() || (u.org_admin && u.organization_id.is_some()),
                   "organization_id": u.organization_id, "organization_name": u.organization_name}),
        );
    }
    let html = env()?
        .get_template(template)
        .and_then(|t| t.render(&page))
        .map_err(|e| AppError::Internal(format!("rendering {template}: {e:#}")))?;
    Ok(Html(html))
}

/// Renders a page with an HTTP status other than 200 (a form with errors).
pub(crate) fn render_status(
    status: StatusCode,
    ctx: &App,
    caller: &Caller,
    template: &str,
    nav: &str,
    title: &str,
    data: Value,
) -> Response {
    match render(ctx, caller, template, nav, title, data) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Code → Chinese label tables for the templates.
fn labels(ctx: &App) -> Value {
    let table = |t: &[(&str, &str)]| {
        Value::Object(t.iter().map(|(c, l)| (c.to_string(), json!(l))).collect())
    };
    json!({
        "industry": Value::Object(ctx.vocab.industries().map(|(c, l)| (c.to_string(), json!(l))).collect()),
        "maturity": table(vocab::MATURITIES),
        "mode": table(vocab::TRANSFER_MODES),
        "org_kind": table(vocab::ORG_KINDS),
        "result_status": table(vocab::RESULT_STATUSES),
        "need_status": table(vocab::NEED_STATUSES),
        "zone": Value::Object(Zone::ALL.iter().map(|z| (z.code().to_string(), json!(z.label_zh()))).collect()),
        "kind": {"result": "科技成果", "need": "技术需求", "expert": "专家",
                 "results": "科技成果", "needs": "技术需求", "experts": "专家"},
        "component": Value::Object(duijie_app::matching::ComponentKind::ALL.iter().map(|c| (c.code().to_string(), json!(c.label_zh()))).collect()),
        "event_format": table(duijie_app::events::FORMATS),
        "event_status": table(duijie_app::events::STATUSES),
        "role": table(crate::auth::ROLES),
    })
}

/// `(code, label)` pairs as template options.
fn options(t: &[(&str, &str)]) -> Value {
    t.iter()
        .map(|(c, l)| json!({"code": c, "label": l}))
        .collect()
}

/// The industry vocabulary as template options.
fn industry_options(ctx: &App) -> Value {
    ctx.vocab
        .industries()
        .map(|(c, l)| json!({"code": c, "label": l}))
        .collect()
}

/// URL path segment of a listing kind.
fn plural(kind: ListingKind) -> &'static str {
    kind.plural()
}

/// An error shown as a page: the status of the underlying API error and its Chinese
/// message. Internal errors are logged with their cause and shown without it.
pub struct WebError(AppError);

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError(e)
    }
}

impl From<crate::error::ApiError> for WebError {
    fn from(e: crate::error::ApiError) -> Self {
        WebError(e.0)
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let e = self.0;
        e.log();
        let status = e.status();
        let body = e.body();
        let message = body["error"]["message"].as_str().unwrap_or("").to_string();
        let title = match status {
            StatusCode::NOT_FOUND => "页面不存在",
            StatusCode::FORBIDDEN => "没有权限",
            StatusCode::UNAUTHORIZED => "请先登录",
            s if s.is_client_error() => "请求有误",
            StatusCode::SERVICE_UNAVAILABLE => "服务暂时不可用",
            _ => "服务器出错了",
        };
        let page = json!({
            "nav": "", "page_title": title, "status": status.as_u16(),
            "message": zh(&message), "message_en": message.split(" / ").nth(1).unwrap_or(""),
            "signin": status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
            "labels": {},
        });
        let html = env().ok().and_then(|env| {
            env.get_template("error.html")
                .and_then(|t| t.render(&page))
                .ok()
        });
        match html {
            Some(h) => (status, Html(h)).into_response(),
            None => (status, format!("{title}：{}", zh(&message))).into_response(),
        }
    }
}

/// The HTML 404 for paths that match no page.
pub async fn not_found() -> WebError {
    WebError(AppError::NotFound("页面不存在 / no such page".to_string()))
}

/// An `application/x-www-form-urlencoded` body as ordered pairs (checkbox groups repeat
/// a name). A body that cannot be read or decoded is a 400 page.
pub struct FormPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for FormPairs {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let caller = req.extensions().get::<Caller>().cloned();
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(WebError(AppError::UnsupportedMediaType(
                "表单应为 application/x-www-form-urlencoded / the form must be application/x-www-form-urlencoded".into(),
            )));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                WebError(AppError::bad_request(
                    Code::INVALID_BODY,
                    format!("无法读取表单：{e}"),
                    format!("cannot read the form: {e}"),
                ))
            })?;
        let form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .map(FormPairs)
            .map_err(|e| {
                WebError(AppError::bad_request(
                    Code::INVALID_FORM,
                    format!("表单格式错误：{e}"),
                    format!("malformed form: {e}"),
                ))
            })?;
        check_csrf(caller.as_ref(), form.get("csrf").as_deref())?;
        Ok(form)
    }
}

/// Refuses a form whose CSRF token is missing or is not the caller's. A caller with an
/// API token sends no ambient credentials, so there is nothing to forge.
pub(crate) fn check_csrf(caller: Option<&Caller>, sent: Option<&str>) -> Result<(), WebError> {
    let caller = caller.cloned().unwrap_or_else(Caller::anonymous);
    if caller.via == crate::auth::Via::Token {
        return Ok(());
    }
    match (caller.csrf(), sent) {
        (Some(expected), Some(sent)) if crate::auth::same_secret(expected, sent) => Ok(()),
        _ => Err(WebError(AppError::Forbidden {
            code: Code::CSRF_FAILED,
            message: "表单已过期或来源不明，请返回刷新页面后重试 / the form is stale or did not come from this site; reload the page and try again".into(),
        })),
    }
}

/// Pages that need a role: not signed in goes to the sign-in page (and back after), signed
/// in without the right goes to a 403 page. Changes through them are audited.
pub(crate) async fn guard_pages(
    axum::extract::State((ctx, action, entity)): axum::extract::State<(App, Action, &'static str)>,
    caller: Who,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    if caller.user.is_none() {
        return to_login(req.uri()).into_response();
    }
    if let Err(e) = duijie_app::authz::authorize(&ctx, &caller, action).await {
        return WebError(e).into_response();
    }
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let what = format!("{} {}", req.method(), req.uri().path());
    // the change is audited in the transaction that makes it; a form answers a redirect
    let entry = crate::guard::Entry {
        what: &what,
        entity,
        id: None,
        before: None,
        asked: None,
    };
    crate::guard::run_audited(&ctx, &caller, entry, req, next, |s| {
        s.is_success() || s.is_redirection()
    })
    .await
}

/// The page a one-tap link in a mail opens: the chosen answer and one button, so mail
/// scanners that open links never answer for anyone (`ok` false: the link is malformed).
pub(crate) fn tap_page(
    ctx: &App,
    caller: &crate::auth::Caller,
    nav: &str,
    label: Option<&str>,
    action: String,
) -> Response {
    let ok = label.is_some();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut r = render_status(
        status,
        ctx,
        caller,
        "connection_feedback.html",
        nav,
        "会谈反馈",
        json!({"ok": ok, "label": label, "action": action}),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// What a one-tap answer shows: thanks, or why it was not recorded (its 4xx kept).
pub(crate) fn tap_outcome<T>(
    ctx: &App,
    caller: &crate::auth::Caller,
    nav: &str,
    result: Result<T, AppError>,
) -> Response {
    let (status, title, text, ok) = match result {
        Ok(_) => (
            StatusCode::OK,
            "感谢反馈",
            "您的回答已记录。".to_string(),
            true,
        ),
        Err(e) if crate::error::HttpStatus::status(&e).is_client_error() => (
            crate::error::HttpStatus::status(&e),
            "未能记录",
            zh(e.body()["error"]["message"].as_str().unwrap_or("")).to_string(),
            false,
        ),
        Err(e) => return WebError::from(e).into_response(),
    };
    render_status(
        status,
        ctx,
        caller,
        "notice.html",
        nav,
        title,
        json!({"title": title, "text": text, "ok": ok}),
    )
}

/// A visitor (not signed in) gets a CSRF cookie with a form page, so forms before sign-in
/// (sign-in, sign-up, reset) are protected too: the caller to render with, and the cookie
/// to set when a new one was made.
pub(crate) fn visitor_csrf(caller: &Caller) -> Result<(Caller, Option<HeaderValue>), WebError> {
    if caller.csrf().is_some() {
        return Ok((caller.clone(), None));
    }
    let t = crate::auth::random_hex(16)?;
    let mut c = caller.clone();
    c.csrf_cookie = Some(t.clone());
    let cookie = crate::auth::csrf_cookie(&t, caller.secure);
    Ok((c, Some(cookie)))
}

/// One parameter of a raw query string (the first of that name).
pub(crate) fn param(raw: Option<&str>, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(raw.unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// A redirect to the sign-in page that comes back to `uri` (a path on this site only).
pub(crate) fn to_login(uri: &axum::http::Uri) -> axum::response::Redirect {
    let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    axum::response::Redirect::to(&format!("/login?{q}"))
}

impl FormPairs {
    /// The first value of a field as typed (passwords: never trimmed); `""` when absent.
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The first value of a field, trimmed; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// Every non-empty value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
}

/// A positive id from the path, or a 404 page (a page address with a bad id does not exist).
pub(crate) fn page_id(raw: &str) -> Result<i64, WebError> {
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(AppError::NotFound(format!("页面 {raw} 不存在 / no page {raw}")).into()),
    }
}

/// Field errors by form field, Chinese message only (the first per field), and all of them
/// for the summary at the top of the form.
pub(crate) fn field_errors(e: &duijie_domain::FieldErrors) -> (Value, Vec<Value>) {
    let mut by_field = Map::new();
    let mut summary = Vec::new();
    for fe in &e.0 {
        let name = fe
            .field
            .split(['[', '.'])
            .next()
            .unwrap_or(&fe.field)
            .to_string();
        let msg = zh(&fe.message).to_string();
        summary.push(json!({"field": name, "message": msg}));
        by_field.entry(name).or_insert(json!(msg));
    }
    (Value::Object(by_field), summary)
}

/// Numbered page links around the current one.
fn pagination(base: &str, total: u64, limit: u64, offset: u64) -> Value {
    let pages = total.div_ceil(limit.max(1));
    let current = offset / limit.max(1) + 1;
    let sep = if base.contains('?') { '&' } else { '?' };
    let link = |p: u64| format!("{base}{sep}page={p}");
    let lo = current.saturating_sub(3).max(1);
    let hi = (current + 3).min(pages);
    let numbers: Vec<Value> = (lo..=hi)
        .map(|p| json!({"n": p, "url": link(p), "current": p == current}))
        .collect();
    json!({
        "pages": pages, "current": current, "total": total,
        "prev": (current > 1).then(|| link(current - 1)),
        "next": (current < pages).then(|| link(current + 1)),
        "numbers": numbers,
        "first": (lo > 1).then(|| link(1)),
        "last": (hi < pages).then(|| link(pages)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        let env = env().map_err(|e| e.0.to_string()).unwrap();
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn auto_escaping_is_on_for_pages() {
        let env = env().map_err(|e| e.0.to_string()).unwrap();
        let t = env.get_template("error.html").unwrap();
        let html = t
            .render(json!({"page_title": "t", "message": "<script>alert(1)</script>", "status": 400, "labels": {}}))
            .unwrap();
        assert!(!html.contains("<script>alert(1)"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)"), "{html}");
    }

    #[test]
    fn money_reads_as_people_write_it() {
        assert_eq!(yuan(500), "500 元");
        assert_eq!(yuan(100_000), "10 万元");
        assert_eq!(yuan(1_250_000), "125 万元");
        assert_eq!(yuan(12_345_600), "1234.56 万元");
    }

    #[test]
    fn pages_window_around_the_current_one() {
        let p = pagination("/search?q=x", 95, 10, 40);
        assert_eq!(p["pages"], 10);
        assert_eq!(p["current"], 5);
        assert_eq!(p["prev"], "/search?q=x&page=4");
        assert_eq!(p["next"], "/search?q=x&page=6");
        assert_eq!(p["numbers"].as_array().unwrap().len(), 7);
        let only = pagination("/results", 3, 10, 0);
        assert!(only["prev"].is_null() && only["next"].is_null());
    }

    #[test]
    fn chinese_half_of_a_message() {
        assert_eq!(zh("标题必填 / title is required"), "标题必填");
        assert_eq!(zh("only one"), "only one");
    }
}
