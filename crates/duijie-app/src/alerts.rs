//! Match alerts: subscriptions ("new results matching my need N with score ≥ s", "new
//! needs in industry X"), shared by the API and the web pages, and the two background
//! workers the server runs.
//!
//! Alerts are decided off the write path. The *alert worker* follows the store's change
//! log from its own watermark (like the indexer, and only up to what the index has applied,
//! so the matching model knows the listing): each changed published result is scored
//! against the `need_matches` subscriptions with the matching engine (on the blocking
//! pool), each changed published need is checked against `industry_needs`. An alert is a
//! notification for the owner and, with a webhook, a pending delivery; both are unique per
//! subscription and listing, so re-reading a change after a crash or re-editing a listing
//! never alerts twice. The *delivery worker* POSTs due deliveries with an HMAC-SHA256
//! signature, logs every attempt and retries with exponential backoff. Everything it needs
//! is in the database, so a restart carries on where the last process stopped.

use crate::app::App;
use crate::auth::Caller;
use crate::codes::Code;
use crate::error::AppError;
use duijie_domain::input::{Reader, Record};
use duijie_domain::{FieldErrors, Listed, ListingKind, ListingText};
use duijie_store::{AttemptOutcome, Delivery, NewAlert, NewSubscription, Subscription};
pub use duijie_store::{KIND_INDUSTRY_NEEDS, KIND_NEED_MATCHES};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// The header carrying `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "X-Duijie-Signature";
/// The header carrying the delivery's id (the same on every retry).
pub const DELIVERY_HEADER: &str = "X-Duijie-Delivery";
/// The header carrying the payload type (`need_match`, `industry_need`, `test`).
pub const EVENT_HEADER: &str = "X-Duijie-Event";
/// The alert worker's name in `worker_watermarks`.
const WATERMARK: &str = "alerts";
/// Longest webhook URL accepted.
const MAX_URL_CHARS: usize = 2000;
/// Changes read per pass of the alert worker.
const BATCH: i64 = 500;

/// Kinds with their Chinese names.
pub const KINDS: &[(&str, &str)] = &[
    (KIND_NEED_MATCHES, "匹配我的需求的新成果"),
    (KIND_INDUSTRY_NEEDS, "本行业的新需求"),
];

/// Wakes the delivery worker (a test was queued). Shared by every server in the process;
/// a spurious wake-up only costs one query.
static DELIVERY_NUDGE: Notify = Notify::const_new();

// ---------------------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------------------

/// `sha256=<hex>` of the HMAC-SHA256 of `body` keyed with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length; new_from_slice cannot fail for it
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    format!(
        "sha256={}",
        tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// Checks a webhook URL: http or https, a host, no credentials, and (unless allowed) not a
/// loopback, private or link-local address. Returns the URL as normalised.
pub fn check_webhook_url(raw: &str, allow_private: bool) -> Result<String, (String, String)> {
    let bad = |zh: String, en: String| Err((zh, en));
    if raw.chars().count() > MAX_URL_CHARS {
        return bad(
            format!("网址过长，最多 {MAX_URL_CHARS} 个字符"),
            format!("the URL is longer than {MAX_URL_CHARS} characters"),
        );
    }
    let url = match reqwest::Url::parse(raw) {
        Ok(u) => u,
        Err(e) => {
            return bad(
                format!("网址“{raw}”无效：{e}"),
                format!("'{raw}' is not a valid URL: {e}"),
            );
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        return bad(
            format!(
                "网址只能以 http:// 或 https:// 开头，收到 {}:",
                url.scheme()
            ),
            format!("the URL must be http or https, not {}", url.scheme()),
        );
    }
    if !url.username().is_empty() || url.password().is_some() {
        return bad(
            "网址不能包含用户名或密码，请用签名密钥验证来源".into(),
            "the URL must not contain credentials; verify the signature instead".into(),
        );
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return bad("网址缺少主机名".into(), "the URL has no host".into());
    };
    if !allow_private && is_private_host(host) {
        return bad(
            format!("不允许向内网或本机地址（{host}）发送提醒"),
            format!(
                "webhooks to loopback, private or link-local addresses ({host}) are not allowed"
            ),
        );
    }
    Ok(url.to_string())
}

fn is_private_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return is_private_ip(ip);
    }
    let d = host.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost") || d.ends_with(".local")
}

/// Whether an address is loopback, private, link-local, multicast, unspecified, shared
/// (100.64/10) or an IPv4-mapped form of those.
pub fn is_private_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.is_multicast()
                || v.octets()[0] == 0
                || (v.octets()[0] == 100 && (v.octets()[1] & 0xc0) == 64) // 100.64/10
        }
        IpAddr::V6(v) => {
            if let Some(v4) = v.to_ipv4_mapped() {
                return is_private_ip(IpAddr::V4(v4));
            }
            let seg = v.segments()[0];
            v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (seg & 0xfe00) == 0xfc00 // unique local
                || (seg & 0xffc0) == 0xfe80 // link local
        }
    }
}

/// A validated subscription request.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionInput {
    /// Kind code.
    pub kind: String,
    /// `need_matches`.
    pub need_id: Option<i64>,
    /// `industry_needs`.
    pub industry: Option<String>,
    /// `need_matches`.
    pub min_score: Option<f64>,
    /// Webhook.
    pub webhook_url: Option<String>,
}

/// Validates the fields of a subscription (JSON body or form) with the one field reader.
/// The need's visibility is checked by [`create`], which knows the caller.
pub fn parse_input(ctx: &App, rec: &Record) -> Result<SubscriptionInput, FieldErrors> {
    let mut r = Reader::new(rec);
    let kind = r.choice_or("kind", KINDS, None);
    let mut out = SubscriptionInput {
        kind: kind.unwrap_or_default().to_string(),
        need_id: None,
        industry: None,
        min_score: None,
        webhook_url: None,
    };
    match kind {
        Some(KIND_NEED_MATCHES) => {
            let given = r.raw("need_id").is_some();
            out.need_id = r.int("need_id", 1, i64::MAX);
            if !given {
                r.error(
                    "need_id",
                    "required",
                    "请指定要跟踪的技术需求（need_id）",
                    "need_id is required for need_matches",
                );
            }
            let default = ctx.settings.alerts.default_min_score;
            out.min_score = Some(r.float_or("min_score", default, 0.0, 1.0));
            only_for(&mut r, &["industry"], KIND_INDUSTRY_NEEDS);
        }
        Some(KIND_INDUSTRY_NEEDS) => {
            let given = r.raw("industry").is_some();
            out.industry = r.industry(&ctx.vocab);
            if !given {
                r.error(
                    "industry",
                    "required",
                    "请选择行业（industry）",
                    "industry is required for industry_needs",
                );
            }
            only_for(&mut r, &["need_id", "min_score"], KIND_NEED_MATCHES);
        }
        _ => {
            // the kind is missing or wrong (already an error): the other fields are known
            for f in ["need_id", "industry", "min_score"] {
                r.raw(f);
            }
        }
    }
    if let Some(url) = r.text("webhook_url", 2000, false) {
        match check_webhook_url(&url, ctx.settings.alerts.allow_private_targets) {
            Ok(u) => out.webhook_url = Some(u),
            Err((zh, en)) => r.error("webhook_url", "invalid", zh, en),
        }
    }
    r.finish().into_result(out)
}

/// Fields given that only another kind of alert takes.
fn only_for(r: &mut Reader<'_>, fields: &[&'static str], kind: &str) {
    for &field in fields {
        if r.raw(field).is_some() {
            r.error(
                field,
                "not_applicable",
                format!("{field} 只适用于 {kind} 类型的提醒"),
                format!("{field} applies to {kind} alerts only"),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Service functions (API and web)
// ---------------------------------------------------------------------------------------

fn is_admin(caller: &Caller) -> bool {
    caller.role() == Some(duijie_domain::Role::Admin)
}

/// A subscription as shown to its owner (never the secret).
pub fn to_json(s: &Subscription) -> Value {
    json!(s)
}

/// A new subscription with its signing secret, shown this once (the receiver verifies
/// `X-Duijie-Signature` with it).
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionCreated {
    /// The subscription.
    #[serde(flatten)]
    pub subscription: Subscription,
    /// The signing secret.
    pub secret: String,
}

/// One delivery of a subscription with its payload and every attempt.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryEntry {
    /// Store id.
    pub id: i64,
    /// Subscription.
    pub subscription_id: i64,
    /// What was announced (one delivery per key).
    pub dedup_key: String,
    /// Sent as `X-Duijie-Delivery`.
    pub delivery_key: String,
    /// The JSON that was posted.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: Value,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next try, RFC 3339.
    pub next_attempt_at: String,
    /// Last failure.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub delivered_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<duijie_store::Attempt>,
}

/// The latest deliveries of a subscription.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryLog {
    /// Subscription.
    pub subscription_id: i64,
    /// Newest first.
    pub items: Vec<DeliveryEntry>,
}

/// Creates a subscription for the signed-in caller. Returns it and its signing secret,
/// which is shown this once.
pub async fn create(
    ctx: &App,
    caller: &Caller,
    rec: &Record,
) -> Result<(Subscription, String), AppError> {
    let user = caller.require()?;
    let input = parse_input(ctx, rec)?;
    if let Some(need_id) = input.need_id {
        // the need must be one the caller may see: published, or their organisation's
        let visible = match ctx.store.need(need_id).await {
            Ok(n) => n.is_published() || crate::authz::sees_unpublished(caller, n.owner_id()),
            Err(duijie_store::StoreError::NotFound { .. }) => false,
            Err(e) => return Err(e.into()),
        };
        if !visible {
            let mut e = FieldErrors::default();
            e.push(
                "need_id",
                "not_found",
                format!("技术需求 {need_id} 不存在或无权查看"),
                format!("need {need_id} does not exist or is not visible to you"),
            );
            return Err(e.into());
        }
    }
    let secret = format!("whsec_{}", crate::auth::random_hex(24)?);
    let asked = json!({"kind": input.kind, "need_id": input.need_id, "industry": input.industry,
                       "min_score": input.min_score, "webhook_url": input.webhook_url});
    let new = NewSubscription {
        user_id: user.id,
        kind: input.kind,
        need_id: input.need_id,
        industry: input.industry,
        min_score: input.min_score,
        webhook_url: input.webhook_url,
        // sealed at rest; shown in clear in this answer only
        secret: ctx.secrets.seal(&secret)?,
    };
    let create = ctx.store.create_subscription(&new);
    let s = crate::audit::within(
        ctx,
        caller,
        "create",
        "alert",
        None,
        None,
        Some(&asked),
        create,
    )
    .await?;
    Ok((s, secret))
}

/// The caller's subscriptions; an administrator's `all` lists everyone's.
pub async fn list(ctx: &App, caller: &Caller, all: bool) -> Result<Vec<Subscription>, AppError> {
    let user = caller.require()?;
    if all && !is_admin(caller) {
        return Err(AppError::forbidden(
            "只有管理员可以查看所有人的提醒订阅",
            "only administrators may list everyone's alerts",
        ));
    }
    Ok(ctx
        .store
        .subscriptions(if all { None } else { Some(user.id) })
        .await?)
}

/// A subscription the caller owns (administrators: any). 404 when it does not exist,
/// 403 when it is someone else's.
pub async fn owned(ctx: &App, caller: &Caller, id: i64) -> Result<Subscription, AppError> {
    let user = caller.require()?;
    let s = ctx.store.subscription(id).await.map_err(|e| match e {
        duijie_store::StoreError::NotFound { .. } => AppError::not_found("提醒订阅", "alert", id),
        e => e.into(),
    })?;
    if s.user_id != user.id && !is_admin(caller) {
        return Err(AppError::forbidden(
            "只能查看和修改自己的提醒订阅",
            "you may see and change only your own alerts",
        ));
    }
    Ok(s)
}

/// Deletes a subscription (its deliveries go with it; notifications stay).
pub async fn delete(ctx: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    let s = owned(ctx, caller, id).await?;
    crate::audit::within(
        ctx,
        caller,
        "delete",
        "alert",
        Some(id),
        Some(&to_json(&s)),
        None,
        ctx.store.delete_subscription(id),
    )
    .await?;
    Ok(())
}

/// Queues a test delivery to the subscription's webhook; the delivery worker sends it at
/// once (the answer does not wait for it).
pub async fn send_test(ctx: &App, caller: &Caller, id: i64) -> Result<Delivery, AppError> {
    let s = owned(ctx, caller, id).await?;
    if s.webhook_url.is_none() {
        return Err(AppError::bad_request(
            Code::NO_WEBHOOK,
            "该订阅没有设置 Webhook 网址，无法发送测试",
            "this alert has no webhook URL to test",
        ));
    }
    let key = crate::auth::random_hex(16)?;
    let payload = json!({
        "type": "test",
        "delivery_id": key,
        "subscription_id": s.id,
        "kind": s.kind,
        "message": "这是一条测试提醒 / this is a test alert",
        "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
    let d = ctx
        .store
        .enqueue_delivery(s.id, &format!("test:{key}"), &key, &payload.to_string())
        .await?;
    DELIVERY_NUDGE.notify_waiters();
    Ok(d)
}

/// A subscription's deliveries, newest first, each with its attempts.
pub async fn deliveries(
    ctx: &App,
    caller: &Caller,
    id: i64,
    limit: i64,
) -> Result<DeliveryLog, AppError> {
    let s = owned(ctx, caller, id).await?;
    let ds = ctx.store.deliveries(s.id, limit).await?;
    let ids: Vec<i64> = ds.iter().map(|d| d.id).collect();
    let mut by_delivery: BTreeMap<i64, Vec<duijie_store::Attempt>> = BTreeMap::new();
    for a in ctx.store.attempts(&ids).await? {
        by_delivery.entry(a.delivery_id).or_default().push(a);
    }
    let items = ds
        .into_iter()
        .map(|d| DeliveryEntry {
            payload: serde_json::from_str(&d.payload).unwrap_or(Value::Null),
            attempt_log: by_delivery.remove(&d.id).unwrap_or_default(),
            id: d.id,
            subscription_id: d.subscription_id,
            dedup_key: d.dedup_key,
            delivery_key: d.delivery_key,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        })
        .collect();
    Ok(DeliveryLog {
        subscription_id: s.id,
        items,
    })
}

// ---------------------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------------------

/// The running workers; [`AlertWorkers::stop`] ends them (the server does before it
/// closes the store).
pub struct AlertWorkers {
    stop: watch::Sender<bool>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl AlertWorkers {
    /// Asks both workers to stop and waits for them (an attempt in flight is finished or
    /// abandoned; an abandoned one is retried after its lease by the next process).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for h in self.handles {
            let _ = h.await;
        }
    }
}

/// Installs the process-wide TLS provider (ring, as sqlx) that reqwest's rustls needs
/// before any HTTP client is built; installing it twice is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Starts the alert and delivery workers of a server.
pub fn start(ctx: &App) -> AlertWorkers {
    // https webhooks
    install_tls_provider();
    let (stop, rx) = watch::channel(false);
    let handles = vec![
        tokio::spawn(alert_worker(ctx.clone(), rx.clone())),
        tokio::spawn(delivery_worker(ctx.clone(), rx.clone())),
        tokio::spawn(crate::mail::send::worker(ctx.clone(), rx.clone())),
        tokio::spawn(crate::connections::worker(ctx.clone(), rx.clone())),
        tokio::spawn(crate::indexer::compaction_worker(ctx.clone(), rx)),
    ];
    AlertWorkers { stop, handles }
}

/// Waits `d` or until stopped (or nudged); false once stopped.
async fn pause(stop: &mut watch::Receiver<bool>, d: Duration, nudge: Option<&Notify>) -> bool {
    if *stop.borrow() {
        return false;
    }
    let nudged = async {
        match nudge {
            Some(n) => n.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::time::sleep(d) => {},
        _ = nudged => {},
        _ = stop.changed() => {},
    }
    !*stop.borrow()
}

async fn alert_worker(ctx: App, mut stop: watch::Receiver<bool>) {
    let poll = Duration::from_millis(ctx.settings.alerts.poll_interval_ms);
    loop {
        match evaluate_once(&ctx).await {
            Ok(true) => continue, // more to read
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "alert evaluation failed; will retry"),
        }
        if !pause(&mut stop, poll, None).await {
            break;
        }
    }
}

/// Reads one batch of changes after the watermark and records the alerts they cause.
/// Returns true when a full batch was read (there may be more).
pub async fn evaluate_once(ctx: &App) -> Result<bool, AppError> {
    let store = &ctx.store;
    let from = store.watermark(WATERMARK).await?;
    // only what the index has applied: the matching model then knows the listing
    let upto = match &ctx.indexer {
        Some(ix) => ix.applied(),
        None => store.max_seq().await?,
    };
    if upto <= from {
        return Ok(false);
    }
    let changes: Vec<_> = store
        .changes_since(from, BATCH)
        .await?
        .into_iter()
        .filter(|c| c.0 <= upto)
        .collect();
    let Some(last) = changes.last().map(|c| c.0) else {
        return Ok(false);
    };
    let full = changes.len() as i64 == BATCH;
    if store.has_subscriptions().await? {
        let mut results = BTreeSet::new();
        let mut needs = BTreeSet::new();
        for (_, kind, id) in &changes {
            match kind {
                ListingKind::Result => results.insert(*id),
                ListingKind::Need => needs.insert(*id),
                ListingKind::Expert => false,
            };
        }
        if !results.is_empty() {
            let ids: Vec<i64> = results.into_iter().collect();
            let listings = published(store.listing_texts(ListingKind::Result, &ids).await?);
            if !listings.is_empty() {
                alert_results(ctx, listings).await?;
            }
        }
        if !needs.is_empty() {
            let ids: Vec<i64> = needs.into_iter().collect();
            let listings = published(store.listing_texts(ListingKind::Need, &ids).await?);
            if !listings.is_empty() {
                alert_needs(ctx, listings).await?;
            }
        }
    }
    store.set_watermark(WATERMARK, last).await?;
    Ok(full)
}

fn published(v: Vec<ListingText>) -> Vec<ListingText> {
    v.into_iter().filter(Listed::is_published).collect()
}

fn listing_json(l: &ListingText) -> Value {
    json!({
        "kind": l.kind.code(),
        "id": l.id,
        "external_id": l.external_id,
        "title": l.title,
        "organization": l.organization.as_ref().map(|o| o.name.clone()),
        "city": l.organization.as_ref().and_then(|o| o.city.clone()),
        "industry": l.industry,
        "url": format!("/{}/{}", l.kind.plural(), l.id),
        "updated_at": l.updated_at,
    })
}

/// Records one alert (notification, a mail unless the owner turned match alerts off, and a
/// delivery when there is a webhook), in one transaction.
async fn record(
    ctx: &App,
    s: &Subscription,
    listing: &ListingText,
    title: String,
    body: String,
    mut payload: Value,
) -> Result<(), AppError> {
    let delivery = match &s.webhook_url {
        Some(_) => {
            let key = crate::auth::random_hex(16)?;
            payload["delivery_id"] = json!(key);
            payload["subscription_id"] = json!(s.id);
            payload["created_at"] =
                json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
            Some((key, payload.to_string()))
        }
        None => None,
    };
    let link = format!("/{}/{}", listing.kind.plural(), listing.id);
    let letter = crate::mail::Letter {
        template: "match_alert",
        category: crate::mail::MATCH_ALERTS,
        to: s.user_email.clone(),
        user_id: Some(s.user_id),
        subject: format!("匹配提醒：{title}"),
        vars: json!({
            "name": s.user_email,
            "title": title,
            "body": body,
            "link": format!("{}{link}", ctx.public_url()),
        }),
    };
    let mail = Some(crate::mail::compose(ctx, letter).await?);
    let fresh = ctx
        .store
        .record_alert(&NewAlert {
            subscription_id: s.id,
            user_id: s.user_id,
            dedup_key: format!("{}:{}", listing.kind.code(), listing.id),
            title,
            body,
            link: Some(link),
            delivery,
            mail,
        })
        .await?;
    if fresh {
        tracing::info!(
            subscription = s.id,
            listing = listing.id,
            kind = listing.kind.code(),
            "alert recorded"
        );
        DELIVERY_NUDGE.notify_waiters();
    }
    Ok(())
}

/// Scores changed published results against every `need_matches` subscription.
async fn alert_results(ctx: &App, results: Vec<ListingText>) -> Result<(), AppError> {
    let subs = ctx.store.subscriptions_of_kind(KIND_NEED_MATCHES).await?;
    if subs.is_empty() {
        return Ok(());
    }
    let need_ids: Vec<i64> = subs
        .iter()
        .filter_map(|s| s.need_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let needs: BTreeMap<i64, ListingText> = ctx
        .store
        .listing_texts(ListingKind::Need, &need_ids)
        .await?
        .into_iter()
        .map(|n| (n.id, n))
        .collect();
    // (subscription index, result index) pairs worth scoring: "new" means changed after
    // the subscription was made
    let mut pairs = Vec::new();
    for (si, s) in subs.iter().enumerate() {
        if !s.need_id.is_some_and(|id| needs.contains_key(&id)) {
            continue; // the need was deleted
        }
        for (ri, r) in results.iter().enumerate() {
            if r.updated_at >= s.created_at {
                pairs.push((si, ri));
            }
        }
    }
    if pairs.is_empty() {
        return Ok(());
    }
    let matcher = ctx.matcher.clone();
    let (needs_c, results_c, subs_c) = (needs.clone(), results.clone(), subs.clone());
    let scores: Vec<((usize, usize), f64)> = tokio::task::spawn_blocking(move || {
        let weights = *matcher.weights();
        let mut prepared_needs = BTreeMap::new();
        let mut prepared_results = BTreeMap::new();
        let mut out = Vec::with_capacity(pairs.len());
        for (si, ri) in pairs {
            let Some(need_id) = subs_c[si].need_id else {
                continue;
            };
            if let std::collections::btree_map::Entry::Vacant(e) = prepared_needs.entry(need_id) {
                e.insert(matcher.prepare(&needs_c[&need_id])?);
            }
            if let std::collections::btree_map::Entry::Vacant(e) = prepared_results.entry(ri) {
                e.insert(matcher.prepare(&results_c[ri])?);
            }
            let score = matcher.pair_score_only(
                &prepared_needs[&need_id],
                &prepared_results[&ri],
                &weights,
                None,
            )?;
            out.push(((si, ri), score));
        }
        Ok::<_, duijie_match::engine::MatchError>(out)
    })
    .await??;
    for ((si, ri), score) in scores {
        let s = &subs[si];
        let r = &results[ri];
        if score < s.min_score.unwrap_or(ctx.settings.alerts.default_min_score) {
            continue;
        }
        let Some(need) = s.need_id.and_then(|id| needs.get(&id)) else {
            continue;
        };
        let org = r
            .organization
            .as_ref()
            .map(|o| format!("（{}）", o.name))
            .unwrap_or_default();
        record(
            ctx,
            s,
            r,
            format!("新成果匹配您的需求“{}”", need.title),
            format!("{}{org}，匹配度 {:.0}%", r.title, score * 100.0),
            json!({
                "type": "need_match",
                "score": (score * 1000.0).round() / 1000.0,
                "need": listing_json(need),
                "result": listing_json(r),
            }),
        )
        .await?;
    }
    Ok(())
}

/// Checks changed published needs against every `industry_needs` subscription.
async fn alert_needs(ctx: &App, needs: Vec<ListingText>) -> Result<(), AppError> {
    let subs = ctx.store.subscriptions_of_kind(KIND_INDUSTRY_NEEDS).await?;
    for s in &subs {
        for n in &needs {
            if n.industry.is_none() || n.industry != s.industry || n.updated_at < s.created_at {
                continue;
            }
            let label = n
                .industry
                .as_deref()
                .and_then(|c| {
                    ctx.vocab
                        .industries()
                        .find(|(code, _)| *code == c)
                        .map(|(_, l)| l.to_string())
                })
                .unwrap_or_default();
            let org = n
                .organization
                .as_ref()
                .map(|o| format!("（{}）", o.name))
                .unwrap_or_default();
            record(
                ctx,
                s,
                n,
                format!("{label}行业有新的技术需求"),
                format!("{}{org}", n.title),
                json!({"type": "industry_need", "industry": n.industry, "need": listing_json(n)}),
            )
            .await?;
        }
    }
    Ok(())
}

async fn delivery_worker(ctx: App, mut stop: watch::Receiver<bool>) {
    let a = &ctx.settings.alerts;
    let poll = Duration::from_millis(a.poll_interval_ms);
    let pinned = a
        .resolve
        .iter()
        .filter_map(|(k, v)| Some((k.to_ascii_lowercase(), v.parse().ok()?)))
        .collect();
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_millis(a.request_timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        // the host is resolved and checked at delivery; the connection goes to the checked
        // addresses
        .dns_resolver(crate::egress::GuardedResolver::new(
            a.allow_private_targets,
            pinned,
        ))
        .user_agent(concat!("duijie-alerts/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook client; deliveries are not sent");
            return;
        }
    };
    loop {
        // register for a nudge before looking, so one sent meanwhile is not lost
        let nudged = DELIVERY_NUDGE.notified();
        tokio::pin!(nudged);
        nudged.as_mut().enable();
        match deliver_due(&ctx, &client).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook delivery pass failed; will retry"),
        }
        if *stop.borrow() {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {},
            _ = &mut nudged => {},
            _ = stop.changed() => {},
        }
        if *stop.borrow() {
            break;
        }
    }
}

/// Sends the deliveries that are due, a few at a time. Returns how many were attempted.
async fn deliver_due(ctx: &App, client: &reqwest::Client) -> Result<usize, AppError> {
    let due = ctx.store.due_deliveries(16).await?;
    let lease = ctx.settings.alerts.request_timeout_ms as i64 + 30_000;
    let mut set = tokio::task::JoinSet::new();
    for d in due {
        if !ctx.store.claim_delivery(&d, lease).await? {
            continue; // another process took it
        }
        let (ctx, client) = (ctx.clone(), client.clone());
        set.spawn(async move {
            if let Err(e) = attempt(&ctx, &client, &d).await {
                tracing::warn!(delivery = d.id, error = %e, "recording a webhook attempt failed");
            }
        });
    }
    let n = set.len();
    while set.join_next().await.is_some() {}
    Ok(n)
}

/// The delay before attempt `next` (2 for the first retry): base · 2^(next-2), capped.
pub fn backoff_ms(base: u64, max: u64, next: u32) -> u64 {
    let shift = next.saturating_sub(2).min(40);
    base.saturating_mul(1u64 << shift).min(max)
}

/// One attempt: POST, then log it and move the delivery on.
async fn attempt(ctx: &App, client: &reqwest::Client, d: &Delivery) -> Result<(), AppError> {
    let a = &ctx.settings.alerts;
    let t = Instant::now();
    let sub = ctx.store.subscription(d.subscription_id).await?;
    // a host that resolves inside is refused for good: retrying would not change where it
    // points, only give a rebinding name another chance
    let mut refused = false;
    let secret = ctx.secrets.open(&sub.secret);
    let (status_code, error) = match (&sub.webhook_url, secret) {
        (_, Err(e)) => (None, Some(e.to_string())),
        (None, _) => (
            None,
            Some("订阅没有 Webhook 网址 / the subscription has no webhook URL".to_string()),
        ),
        (Some(url), Ok(secret)) => match check_webhook_url(url, a.allow_private_targets) {
            Err((_, en)) => (None, Some(en)),
            Ok(url) => {
                let event = serde_json::from_str::<Value>(&d.payload)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_string))
                    .unwrap_or_default();
                let r = client
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(SIGNATURE_HEADER, signature(&secret, d.payload.as_bytes()))
                    .header(DELIVERY_HEADER, d.delivery_key.as_str())
                    .header(EVENT_HEADER, event)
                    .body(d.payload.clone())
                    .send()
                    .await;
                match r {
                    Ok(resp) if resp.status().is_success() => {
                        (Some(i64::from(resp.status().as_u16())), None)
                    }
                    Ok(resp) if resp.status().is_redirection() => (
                        Some(i64::from(resp.status().as_u16())),
                        Some(format!(
                            "HTTP {}: redirects are not followed (to {})",
                            resp.status(),
                            resp.headers()
                                .get(reqwest::header::LOCATION)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("?")
                        )),
                    ),
                    Ok(resp) => (
                        Some(i64::from(resp.status().as_u16())),
                        Some(format!("HTTP {}", resp.status())),
                    ),
                    Err(e) => {
                        if crate::egress::is_private_target(&e) {
                            refused = true;
                        }
                        (None, Some(describe(&e)))
                    }
                }
            }
        },
    };
    ctx.metrics.delivery(error.is_none());
    let next = u32::try_from(d.attempts + 2).unwrap_or(u32::MAX);
    let retry_in_ms = (error.is_some() && !refused && next <= a.max_attempts)
        .then(|| backoff_ms(a.retry_base_ms, a.retry_max_ms, next) as i64);
    let after = ctx
        .store
        .finish_attempt(
            d.id,
            &AttemptOutcome {
                status_code,
                error: error.clone(),
                duration_ms: t.elapsed().as_millis() as i64,
                retry_in_ms,
            },
        )
        .await?;
    tracing::info!(
        delivery = d.id,
        attempt = after.attempts,
        status = after.status.as_str(),
        code = status_code,
        error = error.as_deref(),
        "webhook attempt"
    );
    Ok(())
}

/// A transport error with its causes (reqwest's own text hides "connection refused").
fn describe(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// The unread count shown in the navigation bar.
pub async fn unread(ctx: &App, caller: &Caller) -> i64 {
    match &caller.user {
        Some(u) => ctx.store.unread_notifications(u.id).await.unwrap_or(0),
        None => 0,
    }
}

/// A page of the caller's in-app notifications, newest first, with the unread count.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPage {
    /// The notifications.
    #[serde(flatten)]
    pub page: duijie_store::Page<duijie_store::Notification>,
    /// How many are unread in all.
    pub unread: i64,
}

/// The caller's notifications (only unread ones when asked).
pub async fn notifications(
    ctx: &App,
    caller: &Caller,
    unread_only: bool,
    limit: i64,
    offset: i64,
) -> Result<NotificationPage, AppError> {
    let user = caller.require()?;
    let page = ctx
        .store
        .notifications(user.id, unread_only, limit, offset)
        .await?;
    let unread = ctx.store.unread_notifications(user.id).await?;
    Ok(NotificationPage { page, unread })
}

/// Marks one of the caller's notifications read; 404 when it is not theirs.
pub async fn mark_read(
    ctx: &App,
    caller: &Caller,
    id: i64,
) -> Result<duijie_store::Notification, AppError> {
    let user = caller.require()?;
    ctx.store
        .mark_notification_read(user.id, id)
        .await
        .map_err(|e| match e {
            duijie_store::StoreError::NotFound { .. } => {
                AppError::not_found("通知", "notification", id)
            }
            e => e.into(),
        })
}

/// Marks all of the caller's notifications read; returns how many were unread.
pub async fn mark_all_read(ctx: &App, caller: &Caller) -> Result<u64, AppError> {
    let user = caller.require()?;
    Ok(ctx.store.mark_all_notifications_read(user.id).await?)
}

/// Seals every stored webhook secret again under the current key (after a key rotation,
/// or for secrets stored before encryption). Returns how many were sealed again.
pub async fn rotate_secrets(ctx: &App) -> Result<usize, AppError> {
    let mut n = 0;
    for s in ctx.store.subscriptions(None).await? {
        if ctx.secrets.stale(&s.secret) {
            let plain = ctx.secrets.open(&s.secret)?;
            ctx.store
                .set_subscription_secret(s.id, &ctx.secrets.seal(&plain)?)
                .await?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231() {
        // RFC 4231 test case 2
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff_ms(100, 1000, 2), 100);
        assert_eq!(backoff_ms(100, 1000, 3), 200);
        assert_eq!(backoff_ms(100, 1000, 4), 400);
        assert_eq!(backoff_ms(100, 1000, 6), 1000);
        assert_eq!(backoff_ms(100, 1000, 60), 1000);
    }

    #[test]
    fn webhook_urls_are_checked() {
        assert!(check_webhook_url("https://hooks.example.com/x?y=1", false).is_ok());
        for bad in [
            "ftp://example.com/x",
            "not a url",
            "http://user:pw@example.com/",
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://10.1.2.3/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://0.0.0.0/",
        ] {
            assert!(check_webhook_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_webhook_url("http://127.0.0.1:8080/", true).is_ok());
        assert!(check_webhook_url("ftp://127.0.0.1/", true).is_err());
    }
}
