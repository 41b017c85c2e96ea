//! Participants taking part in an event themselves: registration (open, with approval, or
//! for invited organisations), their own meeting wishes within the event's quotas, the
//! catalogue of the other side ranked for them, their provisional agenda with confirm and
//! decline, why a wish was not scheduled, publishing with each agenda mailed as a calendar
//! file, and attendance on the day.
//!
//! Who may do what: a member of an organisation acts for it (registering, wishing,
//! answering its meetings, reading its agenda); the organisers decide registrations,
//! publish and mark attendance, and read everyone's wishes and agendas. A participant never
//! sees another one's wishes, "no" included, nor its agenda.

use super::*;
use crate::auth::Caller;
use crate::codes::Code;
use crate::mail::{self, Letter};
use duijie_domain::connection::{CalendarEvent, Meeting};
use duijie_domain::{Attendance, MeetingAnswer, RegistrationMode, RegistrationStatus};
use duijie_store::{
    ListingRef as Brought, MeetingAnswerRow, MeetingPlace, PairKey, Registration, User, WishDraft,
};

/// A listing by kind and id.
type Key = (ListingKind, i64);
/// Each listing's best score and the participant's listing that gives it.
type Best = HashMap<Key, (f64, Option<Key>)>;

/// Mail category of event notices.
const CATEGORY: &str = "events";
/// Most listings one registration brings.
const MAX_REGISTERED_LISTINGS: usize = 50;
/// Most wishes in one set.
const MAX_WISHES: usize = 200;

fn conflict(code: Code, zh: impl AsRef<str>, en: impl AsRef<str>) -> AppError {
    AppError::Conflict {
        code,
        message: format!("{} / {}", zh.as_ref(), en.as_ref()),
    }
}

fn refused(code: Code, zh: impl AsRef<str>, en: impl AsRef<str>) -> AppError {
    AppError::Forbidden {
        code,
        message: format!("{} / {}", zh.as_ref(), en.as_ref()),
    }
}

fn passed(deadline: Option<&str>) -> bool {
    deadline
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
        .is_some_and(|d| d < chrono::Utc::now())
}

fn key_str(kind: ListingKind, id: i64) -> String {
    format!("{}:{id}", kind.code())
}

/// The signed-in member acting for its organisation: the user and the organisation's id
/// and kind.
async fn member(ctx: &App, caller: &Caller) -> Result<(User, i64, String), AppError> {
    let user = caller.require()?.clone();
    let Some(org) = user.organization_id else {
        return Err(AppError::forbidden(
            "账号未关联单位，不能以单位名义参会",
            "your account belongs to no organization, so it cannot take part for one",
        ));
    };
    let kind = ctx.store.organization(org).await?.kind;
    Ok((user, org, kind))
}

/// The caller's organisation when it takes part in the event (403 `not_participant`).
async fn participant_of(
    ctx: &App,
    caller: &Caller,
    e: &Event,
) -> Result<(User, Participant), AppError> {
    let (user, org, _) = member(ctx, caller).await?;
    let p = ctx
        .store
        .participants(e.id)
        .await?
        .into_iter()
        .find(|p| p.organization_id == org);
    match p {
        Some(p) => Ok((user, p)),
        None => Err(refused(
            Code::NOT_PARTICIPANT,
            "本单位未参加该对接会（报名待审核或未报名）",
            "your organization does not take part in this event (registration pending or none)",
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------------------

/// A registration with its listings named.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegistrationView {
    /// The stored registration.
    #[serde(flatten)]
    pub registration: Registration,
    /// The status's Chinese name.
    pub status_label: &'static str,
    /// The listings as `kind:id`.
    pub listing_ids: Vec<String>,
}

fn registration_view(r: Registration) -> RegistrationView {
    RegistrationView {
        status_label: r.status.label_zh(),
        listing_ids: r.listings.iter().map(|l| key_str(l.kind, l.id)).collect(),
        registration: r,
    }
}

/// Refuses registration unless the event is open for it now.
fn check_registration_open(e: &Event) -> Result<(), AppError> {
    let s = &e.self_service;
    if e.status != EventStatus::Open || s.registration == RegistrationMode::Closed {
        return Err(conflict(
            Code::REGISTRATION_CLOSED,
            "该对接会目前不接受报名（由组织者统一安排参会单位）",
            "this event does not take registrations now (the organisers add the participants)",
        ));
    }
    if passed(s.registration_closes_at.as_deref()) {
        return Err(conflict(
            Code::REGISTRATION_CLOSED,
            format!(
                "报名已于 {} 截止",
                s.registration_closes_at.as_deref().unwrap_or_default()
            ),
            format!(
                "registration closed at {}",
                s.registration_closes_at.as_deref().unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

/// Registers the caller's organisation with `{listing_ids: ["need:12", ...]}`. Open
/// registration (and an invited organisation under `invite`) takes part at once; under
/// `approval` the registration waits for an organiser. Mails the member either way.
pub async fn register(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    rec: &Record,
) -> Result<(RegistrationView, bool), AppError> {
    let e = load_for(ctx, caller, event_id).await?;
    let (user, org, org_kind) = member(ctx, caller).await?;
    let mut errors = FieldErrors::default();
    for k in rec.keys().filter(|k| k.as_str() != "listing_ids") {
        errors.push(
            k.as_str(),
            "unknown_field",
            format!("未知字段“{k}”"),
            format!("unknown field '{k}'"),
        );
    }
    let mut listings: Vec<Brought> = Vec::new();
    match rec.get("listing_ids") {
        Some(Value::Array(items))
            if !items.is_empty() && items.len() <= MAX_REGISTERED_LISTINGS =>
        {
            for (i, v) in items.iter().enumerate() {
                let field = format!("listing_ids[{i}]");
                let Some((kind, id)) =
                    crate::connections::listing_ref(Some(v), &field, &mut errors)
                else {
                    continue;
                };
                match check_listing(ctx, org, &org_kind, &ListingRef::Id(kind, id)).await? {
                    Ok((kind, id)) if !listings.iter().any(|l| l.kind == kind && l.id == id) => {
                        listings.push(Brought { kind, id })
                    }
                    Ok(_) => errors.push(field, "duplicate", "重复", "given twice"),
                    Err((code, msg)) => {
                        let (zh, en) = msg.split_once(" / ").unwrap_or((&msg, &msg));
                        errors.push(field, code, zh, en);
                    }
                }
            }
        }
        Some(Value::Array(items)) if !items.is_empty() => errors.push(
            "listing_ids",
            "too_many",
            format!(
                "一次最多带 {MAX_REGISTERED_LISTINGS} 项，收到 {}",
                items.len()
            ),
            format!(
                "at most {MAX_REGISTERED_LISTINGS} listings, got {}",
                items.len()
            ),
        ),
        None | Some(Value::Null) => errors.push(
            "listing_ids",
            "required",
            "请列出本单位带来参会的需求、成果或专家，如 [\"need:12\"]",
            "list the needs, results or experts your organization brings, e.g. [\"need:12\"]",
        ),
        Some(_) => errors.push(
            "listing_ids",
            "invalid_type",
            "listing_ids 应为非空列表，如 [\"need:12\", \"result:34\"]",
            "listing_ids must be a non-empty list like [\"need:12\", \"result:34\"]",
        ),
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    check_registration_open(&e)?;
    let mode = e.self_service.registration;
    let already = ctx
        .store
        .participants(event_id)
        .await?
        .iter()
        .any(|p| p.organization_id == org);
    if mode == RegistrationMode::Invite && !already {
        return Err(refused(
            Code::INVITE_ONLY,
            "本次对接会仅限受邀单位报名；如需参加请联系组织者",
            "only invited organizations may register for this event; ask the organisers",
        ));
    }
    let approve = mode != RegistrationMode::Approval;
    let id = ctx
        .store
        .register_for_event(event_id, org, user.id, &listings, approve)
        .await?;
    let r = ctx.store.registration(event_id, id).await?;
    let (subject, headline) = if approve {
        (
            format!("报名成功：{}", e.name),
            format!(
                "贵单位已报名参加“{}”（{}）。请在截止前浏览参会方并提交会谈意向。",
                e.name, e.date
            ),
        )
    } else {
        (
            format!("报名已收到，等待审核：{}", e.name),
            format!(
                "贵单位报名参加“{}”（{}）的申请已收到，组织者审核后会再通知您。",
                e.name, e.date
            ),
        )
    };
    notify(ctx, &[user_recipient(&user)], &e, subject, headline, None).await?;
    Ok((registration_view(r), approve))
}

fn user_recipient(u: &User) -> (i64, String, String) {
    (
        u.id,
        u.email.clone(),
        u.name.clone().unwrap_or_else(|| u.email.clone()),
    )
}

/// Queues one event notice per recipient `(user id, address, name)`, with an optional
/// calendar attachment.
async fn notify(
    ctx: &App,
    to: &[(i64, String, String)],
    e: &Event,
    subject: String,
    headline: String,
    calendar: Option<(&str, Vec<(String, String)>)>,
) -> Result<(), AppError> {
    let mut mails = Vec::new();
    for (uid, email, name) in to {
        // the generic notice template (headline, facts, button) that connection mail uses
        let letter = Letter {
            template: "connection",
            category: CATEGORY,
            to: email.clone(),
            user_id: Some(*uid),
            subject: subject.clone(),
            vars: json!({
                "name": name, "headline": headline,
                "facts": calendar.as_ref().map(|c| c.1.clone()).unwrap_or_default(),
                "link": format!("{}/events/{}", ctx.public_url(), e.id),
                "button_label": "查看对接会",
            }),
        };
        let mut m = mail::compose(ctx, letter).await?;
        m.calendar = calendar.as_ref().map(|c| c.0.to_string());
        mails.push(m);
    }
    ctx.store.enqueue_mail(&mails).await?;
    Ok(())
}

/// The registrations of an event: all for its organisers, the caller's own otherwise.
pub async fn registrations(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    status: Option<RegistrationStatus>,
) -> Result<Vec<RegistrationView>, AppError> {
    load_for(ctx, caller, event_id).await?;
    let org = if keeps_events(caller) {
        None
    } else {
        Some(member(ctx, caller).await?.1)
    };
    Ok(ctx
        .store
        .registrations(event_id, status, org)
        .await?
        .into_iter()
        .map(registration_view)
        .collect())
}

/// An organiser approves (`reason` ignored) or rejects (`{reason}` required) a pending
/// registration; the member who registered hears either way.
pub async fn decide_registration(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    id: i64,
    approve: bool,
    rec: &Record,
) -> Result<RegistrationView, AppError> {
    if !keeps_events(caller) {
        caller.require()?;
        return Err(AppError::forbidden(
            "只有组织者可以审核报名",
            "only the organisers decide registrations",
        ));
    }
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    let mut r = In::new(rec);
    let reason = if approve {
        r.text("reason", 500, true)
    } else {
        Some(r.required_text("reason", 500, true))
    };
    let errors = r.finish_ignoring(&[]);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let by = caller.user.as_ref().map(|u| u.id);
    let reg = match ctx
        .store
        .decide_registration(event_id, id, approve, reason.as_deref(), by)
        .await
    {
        Err(duijie_store::StoreError::NotFound { .. }) => {
            return Err(AppError::not_found("报名", "registration", id));
        }
        other => other?,
    };
    if let Some(uid) = reg.user_id
        && let Ok(u) = ctx.store.user(uid).await
    {
        let (subject, headline) = if approve {
            (
                format!("报名已通过：{}", e.name),
                format!(
                    "贵单位参加“{}”（{}）的报名已通过。请在截止前浏览参会方并提交会谈意向。",
                    e.name, e.date
                ),
            )
        } else {
            (
                format!("报名未通过：{}", e.name),
                format!(
                    "很抱歉，贵单位参加“{}”的报名未通过。原因：{}",
                    e.name,
                    reason.as_deref().unwrap_or("")
                ),
            )
        };
        notify(ctx, &[user_recipient(&u)], &e, subject, headline, None).await?;
    }
    Ok(registration_view(reg))
}

// ---------------------------------------------------------------------------------------
// Wishes
// ---------------------------------------------------------------------------------------

/// One wish of a participant.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WishView {
    /// The participant's own listing, `kind:id`.
    pub listing_id: String,
    /// The other side's listing, `kind:id`.
    pub partner_listing_id: String,
    /// `must`, `like` or `no`.
    pub kind: PreferenceKind,
    /// The other side's title.
    pub partner_title: Option<String>,
    /// The other side's organisation.
    pub partner_organization: Option<String>,
    /// Who wished (organisers' view).
    pub organization_id: i64,
    /// `enterprise` or `university`: the side that wished.
    pub side: Side,
    /// Whether the pairing schedules the pair (absent before a pairing is generated).
    pub met: Option<bool>,
}

/// How many of one side's must and like wishes the pairing meets.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WishesMet {
    /// `enterprise` or `university`.
    pub side: Side,
    /// Must and like wishes.
    pub wished: i64,
    /// Of which scheduled.
    pub met: i64,
}

/// A participant's wishes with its quotas.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WishSet {
    /// The wishes.
    pub wishes: Vec<WishView>,
    /// Most "must" wishes.
    pub max_must: i64,
    /// Most "like" wishes.
    pub max_like: i64,
    /// "must" wishes used.
    pub must_used: i64,
    /// "like" wishes used.
    pub like_used: i64,
    /// Wishes are taken until (RFC 3339), when the event sets a deadline.
    pub wishes_close_at: Option<String>,
    /// Wishes can be changed now.
    pub open: bool,
    /// A "must" is honoured only when the other side wished the pair too.
    pub mutual_only: bool,
    /// Per side, the must and like wishes the current pairing meets (empty before one).
    pub met_by_side: Vec<WishesMet>,
}

/// Which organisation declared a participant wish, and its own listing and the other's.
fn wish_of(p: &Preference, names: &Names) -> Option<(i64, Key, Key)> {
    if !matches!(
        p.preference,
        PreferenceKind::Must | PreferenceKind::Like | PreferenceKind::No
    ) {
        return None;
    }
    let need = (ListingKind::Need, p.need_id.unwrap_or(0));
    let partner = (p.partner_kind, p.partner_id);
    match p.side {
        Side::Enterprise => Some((p.enterprise_id, need, partner)),
        Side::University => Some((names.owner(p.partner_kind, p.partner_id)?, partner, need)),
        Side::Organizer => None,
    }
}

fn wishes_open(e: &Event) -> bool {
    e.status == EventStatus::Open && !passed(e.self_service.wishes_close_at.as_deref())
}

fn wish_set(e: &Event, wishes: Vec<WishView>) -> WishSet {
    let count = |k| wishes.iter().filter(|w| w.kind == k).count() as i64;
    let met_by_side = if wishes.iter().any(|w| w.met.is_some()) {
        [Side::Enterprise, Side::University]
            .into_iter()
            .map(|side| {
                let of_side: Vec<&WishView> = wishes
                    .iter()
                    .filter(|w| w.side == side && w.kind != PreferenceKind::No)
                    .collect();
                WishesMet {
                    side,
                    wished: of_side.len() as i64,
                    met: of_side.iter().filter(|w| w.met == Some(true)).count() as i64,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    WishSet {
        met_by_side,
        must_used: count(PreferenceKind::Must),
        like_used: count(PreferenceKind::Like),
        wishes,
        max_must: e.self_service.max_must,
        max_like: e.self_service.max_like,
        wishes_close_at: e.self_service.wishes_close_at.clone(),
        open: wishes_open(e),
        mutual_only: e.self_service.mutual_only,
    }
}

/// The participants' own wishes: the caller's organisation's (with its quotas), or every
/// participant's for the organisers.
pub async fn wishes(ctx: &App, caller: &Caller, event_id: i64) -> Result<WishSet, AppError> {
    let e = load_for(ctx, caller, event_id).await?;
    let org = if keeps_events(caller) {
        None
    } else {
        Some(participant_of(ctx, caller, &e).await?.1.organization_id)
    };
    let participants = ctx.store.participants(event_id).await?;
    let names = Names::of(&participants);
    let scheduled: Option<HashSet<(i64, ListingKind, i64)>> =
        match ctx.store.pairing_run(event_id).await? {
            Some(_) => Some(
                ctx.store
                    .pairings(event_id)
                    .await?
                    .iter()
                    .map(|r| (r.enterprise_id, r.partner_kind, r.partner_id))
                    .collect(),
            ),
            None => None,
        };
    let mut out = Vec::new();
    for p in ctx.store.preferences(event_id).await? {
        let Some((who, own, other)) = wish_of(&p, &names) else {
            continue;
        };
        if org.is_some_and(|o| o != who) {
            continue;
        }
        out.push(WishView {
            listing_id: key_str(own.0, own.1),
            partner_listing_id: key_str(other.0, other.1),
            kind: p.preference,
            partner_title: names.title(other.0, other.1),
            partner_organization: names.owner(other.0, other.1).map(|o| names.org(o)),
            organization_id: who,
            side: p.side,
            met: scheduled
                .as_ref()
                .map(|s| s.contains(&(p.enterprise_id, p.partner_kind, p.partner_id))),
        });
    }
    Ok(wish_set(&e, out))
}

/// Replaces the caller's organisation's wishes with `[{listing_id, partner_listing_id,
/// kind}]` (or `{wishes: [...]}`), within the event's quotas and before its deadline.
pub async fn put_wishes(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    body: &Value,
) -> Result<WishSet, AppError> {
    let e = load_for(ctx, caller, event_id).await?;
    let (_, me) = participant_of(ctx, caller, &e).await?;
    let items = match body {
        Value::Array(a) => a,
        Value::Object(o) if o.len() == 1 && o.get("wishes").is_some_and(Value::is_array) => {
            o["wishes"]
                .as_array()
                .unwrap_or_else(|| unreachable!("checked"))
        }
        _ => {
            return Err(field_error(
                "wishes",
                "invalid_type",
                "请求体应为意向列表 [{listing_id, partner_listing_id, kind}]",
                "the body must be a list of wishes [{listing_id, partner_listing_id, kind}]",
            ));
        }
    };
    if items.len() > MAX_WISHES {
        return Err(field_error(
            "wishes",
            "too_many",
            format!("意向最多 {MAX_WISHES} 条，收到 {}", items.len()),
            format!("at most {MAX_WISHES} wishes, got {}", items.len()),
        ));
    }
    let participants = ctx.store.participants(event_id).await?;
    let names = Names::of(&participants);
    let own: HashSet<(ListingKind, i64)> = me.listings.iter().map(|l| (l.kind, l.id)).collect();
    let mut errors = FieldErrors::default();
    let mut drafts: Vec<(Side, WishDraft)> = Vec::new();
    let mut seen = HashSet::new();
    let (mut musts, mut likes) = (0i64, 0i64);
    for (i, v) in items.iter().enumerate() {
        let at = |f: &str| format!("wishes[{i}].{f}");
        let Some(o) = v.as_object() else {
            errors.push(
                format!("wishes[{i}]"),
                "invalid_type",
                "每条意向应为 {listing_id, partner_listing_id, kind} 对象",
                "each wish must be an object {listing_id, partner_listing_id, kind}",
            );
            continue;
        };
        if let Some(k) = o
            .keys()
            .find(|k| !["listing_id", "partner_listing_id", "kind"].contains(&k.as_str()))
        {
            errors.push(
                at(k),
                "unknown_field",
                format!("未知字段“{k}”"),
                format!("unknown field '{k}'"),
            );
            continue;
        }
        let mine =
            crate::connections::listing_ref(o.get("listing_id"), &at("listing_id"), &mut errors);
        let theirs = crate::connections::listing_ref(
            o.get("partner_listing_id"),
            &at("partner_listing_id"),
            &mut errors,
        );
        let kind = match o
            .get("kind")
            .and_then(Value::as_str)
            .map(PreferenceKind::parse)
        {
            Some(Some(k)) if k != PreferenceKind::Conflict => Some(k),
            _ => {
                errors.push(
                    at("kind"),
                    "invalid_choice",
                    "kind 应为 must（必须会谈）、like（希望会谈）或 no（不必会谈）",
                    "kind must be must, like or no",
                );
                None
            }
        };
        let (Some(mine), Some(theirs), Some(kind)) = (mine, theirs, kind) else {
            continue;
        };
        if !own.contains(&mine) {
            errors.push(
                at("listing_id"),
                "not_yours",
                format!("{} 不是本单位带来参会的项目", key_str(mine.0, mine.1)),
                format!(
                    "{} is not one your organization brings to this event",
                    key_str(mine.0, mine.1)
                ),
            );
            continue;
        }
        let owner = names.owner(theirs.0, theirs.1);
        let opposite = (mine.0 == ListingKind::Need) != (theirs.0 == ListingKind::Need);
        if owner.is_none() || owner == Some(me.organization_id) || !opposite {
            errors.push(
                at("partner_listing_id"),
                "not_a_partner",
                format!(
                    "{} 不是本次对接会中对方的参会项目（需求只与成果或专家会谈）",
                    key_str(theirs.0, theirs.1)
                ),
                format!(
                    "{} is not another participant's listing of the other side (needs meet results or experts)",
                    key_str(theirs.0, theirs.1)
                ),
            );
            continue;
        }
        if !seen.insert((mine, theirs)) {
            errors.push(
                at("partner_listing_id"),
                "duplicate",
                "同一对意向重复",
                "the same pair is given twice",
            );
            continue;
        }
        match kind {
            PreferenceKind::Must => musts += 1,
            PreferenceKind::Like => likes += 1,
            _ => {}
        }
        let over = match kind {
            PreferenceKind::Must if musts > e.self_service.max_must => {
                Some(e.self_service.max_must)
            }
            PreferenceKind::Like if likes > e.self_service.max_like => {
                Some(e.self_service.max_like)
            }
            _ => None,
        };
        if let Some(max) = over {
            errors.push(
                at("kind"),
                "over_quota",
                format!("{}最多 {max} 条", kind.label_zh()),
                format!("at most {max} '{}' wishes", kind.code()),
            );
            continue;
        }
        let (side, need, partner) = if mine.0 == ListingKind::Need {
            (Side::Enterprise, mine, theirs)
        } else {
            (Side::University, theirs, mine)
        };
        let Some(enterprise) = names.owner(ListingKind::Need, need.1) else {
            continue;
        };
        drafts.push((
            side,
            WishDraft {
                enterprise_id: enterprise,
                need_id: need.1,
                partner_kind: partner.0,
                partner_id: partner.1,
                preference: kind,
            },
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if !wishes_open(&e) {
        return Err(conflict(
            Code::WISHES_CLOSED,
            "意向征集已截止（或对接会不在征集意向阶段）",
            "wishes are closed for this event (past the deadline, or the event is not open)",
        ));
    }
    let partners: Vec<(ListingKind, i64)> = own
        .iter()
        .copied()
        .filter(|l| l.0 != ListingKind::Need)
        .collect();
    ctx.store
        .replace_wishes(event_id, me.organization_id, &partners, &drafts)
        .await?;
    wishes(ctx, caller, event_id).await
}

// ---------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------

/// One listing of the other side, ranked for the participant.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueItem {
    /// `kind:id`.
    pub listing_id: String,
    /// Kind.
    pub kind: ListingKind,
    /// Store id.
    pub id: i64,
    /// Title (an expert's name).
    pub title: Option<String>,
    /// Industry code.
    pub industry: Option<String>,
    /// Its organisation.
    pub organization_id: i64,
    /// Its name.
    pub organization_name: String,
    /// Its city.
    pub city: Option<String>,
    /// Best matching score with one of the participant's listings (0 when nothing is shared).
    pub score: f64,
    /// That listing, `kind:id`.
    pub best_with: Option<String>,
    /// Why: the score's components and the terms the pair shares (as on listing pages).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub explanation: Option<Value>,
    /// The participant's wish about this listing with `best_with`, if any.
    pub wish: Option<PreferenceKind>,
}

/// A page of the catalogue, with the participant's quotas.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Catalogue {
    /// Ranked listings.
    pub items: Vec<CatalogueItem>,
    /// How many match the filters.
    pub total: i64,
    /// Page size.
    pub limit: i64,
    /// Offset.
    pub offset: i64,
    /// The participant's wishes and quotas.
    pub wishes: WishSet,
}

/// The other side's participants and listings, ranked by their best matching score with the
/// caller's own listings, optionally of one industry or city.
pub async fn catalogue(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    industry: Option<String>,
    city: Option<String>,
    limit: i64,
    offset: i64,
) -> Result<Catalogue, AppError> {
    let e = load_for(ctx, caller, event_id).await?;
    let (_, me) = participant_of(ctx, caller, &e).await?;
    let participants = ctx.store.participants(event_id).await?;
    let published = |l: &duijie_store::ParticipantListing| {
        l.title.is_some() && l.status.as_deref() == Some("published")
    };
    let own: Vec<(ListingKind, i64)> = me
        .listings
        .iter()
        .filter(|l| published(l))
        .map(|l| (l.kind, l.id))
        .collect();
    let own_needs = own.iter().any(|l| l.0 == ListingKind::Need);
    let own_partners = own.iter().any(|l| l.0 != ListingKind::Need);
    let mut others: Vec<(ListingKind, i64, &Participant, Option<String>)> = Vec::new();
    for p in participants
        .iter()
        .filter(|p| p.organization_id != me.organization_id)
    {
        if city
            .as_deref()
            .is_some_and(|c| p.city.as_deref() != Some(c))
        {
            continue;
        }
        for l in p.listings.iter().filter(|l| published(l)) {
            let wanted = if l.kind == ListingKind::Need {
                own_partners
            } else {
                own_needs
            };
            if wanted
                && industry
                    .as_deref()
                    .is_none_or(|i| l.industry.as_deref() == Some(i))
            {
                others.push((l.kind, l.id, p, l.industry.clone()));
            }
        }
    }
    let text_of = |ks: Vec<(ListingKind, i64)>| async move {
        let mut out = Vec::new();
        for kind in ListingKind::ALL.iter().copied() {
            let ids: Vec<i64> = ks.iter().filter(|k| k.0 == kind).map(|k| k.1).collect();
            if !ids.is_empty() {
                out.extend(ctx.store.listing_texts(kind, &ids).await?);
            }
        }
        Ok::<_, AppError>(out)
    };
    let own_texts = text_of(own.clone()).await?;
    let other_texts = text_of(others.iter().map(|o| (o.0, o.1)).collect()).await?;
    // score every pair (CPU: off the runtime), then explain the page only
    let ranked = {
        let ctx = ctx.clone();
        let (own_texts, other_texts) = (own_texts.clone(), other_texts.clone());
        tokio::task::spawn_blocking(move || rank_catalogue(&ctx, &own_texts, &other_texts))
            .await??
    };
    let best: Best = ranked;
    let mut rows: Vec<CatalogueItem> = others
        .iter()
        .map(|(kind, id, p, ind)| {
            let (score, with) = best.get(&(*kind, *id)).copied().unwrap_or((0.0, None));
            CatalogueItem {
                listing_id: key_str(*kind, *id),
                kind: *kind,
                id: *id,
                title: p
                    .listings
                    .iter()
                    .find(|l| l.kind == *kind && l.id == *id)
                    .and_then(|l| l.title.clone()),
                industry: ind.clone(),
                organization_id: p.organization_id,
                organization_name: p.organization_name.clone(),
                city: p.city.clone(),
                score,
                best_with: with.map(|w| key_str(w.0, w.1)),
                explanation: None,
                wish: None,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| (a.kind, a.id).cmp(&(b.kind, b.id)))
    });
    let total = rows.len() as i64;
    let mut page: Vec<CatalogueItem> = rows
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.max(0) as usize)
        .collect();
    let set = wishes(ctx, caller, event_id).await?;
    let texts: HashMap<(ListingKind, i64), &ListingText> = own_texts
        .iter()
        .chain(other_texts.iter())
        .map(|t| ((t.kind, t.id), t))
        .collect();
    for item in &mut page {
        let Some(with) = item.best_with.clone() else {
            continue;
        };
        item.wish = set
            .wishes
            .iter()
            .find(|w| w.partner_listing_id == item.listing_id && w.listing_id == with)
            .map(|w| w.kind);
        let own_key = own.iter().copied().find(|o| key_str(o.0, o.1) == with);
        let (Some(a), Some(b)) = (
            own_key.and_then(|k| texts.get(&k)),
            texts.get(&(item.kind, item.id)),
        ) else {
            continue;
        };
        let m = ctx
            .matcher
            .pair_score(a, b, &ctx.settings.matching.weights)?;
        item.explanation = Some(json!({
            "breakdown": m.breakdown, "matched_terms": m.matched_terms,
        }));
    }
    Ok(Catalogue {
        items: page,
        total,
        limit,
        offset,
        wishes: set,
    })
}

/// Each other listing's best score with one of the participant's listings (pairs of
/// opposite sides only).
fn rank_catalogue(
    ctx: &App,
    own: &[ListingText],
    others: &[ListingText],
) -> Result<Best, AppError> {
    let matcher = &ctx.matcher;
    let weights = ctx.settings.matching.weights;
    let prepared_own = own
        .iter()
        .map(|t| Ok(((t.kind, t.id), matcher.prepare(t)?)))
        .collect::<Result<Vec<_>, AppError>>()?;
    let mut out = HashMap::new();
    for t in others {
        let pt = matcher.prepare(t)?;
        let mut best: (f64, Option<(ListingKind, i64)>) = (0.0, None);
        for (k, po) in &prepared_own {
            if (k.0 == ListingKind::Need) == (t.kind == ListingKind::Need) {
                continue;
            }
            let s = matcher.pair_score_only(po, &pt, &weights, None)?;
            if s > best.0 || best.1.is_none() {
                best = ((s * 1e4).round() / 1e4, Some(*k));
            }
        }
        out.insert((t.kind, t.id), best);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// My agenda
// ---------------------------------------------------------------------------------------

/// One meeting of a participant's agenda, with both sides' answers and why it was proposed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyMeeting {
    /// The meeting.
    #[serde(flatten)]
    pub item: AgendaItem,
    /// The participant's own listing, `kind:id`.
    pub listing_id: String,
    /// The other side's listing, `kind:id`.
    pub partner_listing_id: String,
    /// Matching score before wishes.
    pub score: f64,
    /// Why this partner (Chinese).
    pub why: String,
    /// The participant's answer.
    pub my_answer: Option<MeetingAnswer>,
    /// The other side's answer.
    pub their_answer: Option<MeetingAnswer>,
    /// Held or no-show, once marked.
    pub attendance: Option<Attendance>,
    /// Start, RFC 3339 (+08:00).
    pub starts_at: String,
    /// End, RFC 3339 (+08:00).
    pub ends_at: String,
}

/// A wish that is not on the agenda, with the constraint that blocked it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnmetWish {
    /// The participant's own listing.
    pub listing_id: String,
    /// The other side's.
    pub partner_listing_id: String,
    /// `must` or `like`.
    pub kind: PreferenceKind,
    /// The other side's title.
    pub partner_title: Option<String>,
    /// The other side's organisation.
    pub partner_organization: Option<String>,
    /// `not_generated`, `not_participating`, `declined`, `said_no`, `not_mutual`,
    /// `below_min_score`, `organization_cap`, `own_capacity`, `partner_capacity`, `slots`,
    /// `tables` or `optimised_out`.
    pub reason_code: String,
    /// `中文 / English`.
    pub reason: String,
}

/// A participant's agenda.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyAgenda {
    /// Event.
    pub event_id: i64,
    /// Its name.
    pub event_name: String,
    /// `provisional` until the organisers publish, then `published`.
    pub state: &'static str,
    /// A pairing exists.
    pub generated: bool,
    /// Participants or wishes changed since it was generated.
    pub stale: bool,
    /// The organisation.
    pub organization_id: i64,
    /// Its name.
    pub organization_name: String,
    /// Its meetings by time.
    pub meetings: Vec<MyMeeting>,
    /// Its wishes that are not on the agenda, with why.
    pub unmet_wishes: Vec<UnmetWish>,
}

fn answer_for(
    answers: &HashMap<PairKey, &MeetingAnswerRow>,
    key: PairKey,
    enterprise: bool,
) -> (
    Option<MeetingAnswer>,
    Option<MeetingAnswer>,
    Option<Attendance>,
) {
    match answers.get(&key) {
        Some(a) if enterprise => (a.enterprise_answer, a.partner_answer, a.attendance),
        Some(a) => (a.partner_answer, a.enterprise_answer, a.attendance),
        None => (None, None, None),
    }
}

fn at_time(e: &Event, hhmm: &str) -> String {
    format!("{}T{hhmm}:00+08:00", e.date)
}

/// Which organisation's agenda the caller reads: its own, or for the organisers the one
/// `organization_id` names.
async fn agenda_org(
    ctx: &App,
    caller: &Caller,
    e: &Event,
    organization_id: Option<i64>,
) -> Result<Participant, AppError> {
    if keeps_events(caller) {
        let Some(org) = organization_id else {
            return Err(AppError::bad_request(
                Code::MISSING_PARAMETER,
                "组织者查看日程时请给出参数 organization_id（参会单位编号）",
                "organisers name the participant with the organization_id parameter",
            ));
        };
        return ctx
            .store
            .participants(e.id)
            .await?
            .into_iter()
            .find(|p| p.organization_id == org)
            .ok_or_else(|| AppError::not_found("参会单位", "participant organization", org));
    }
    let (_, p) = participant_of(ctx, caller, e).await?;
    if organization_id.is_some_and(|o| o != p.organization_id) {
        return Err(AppError::forbidden(
            "只能查看本单位的日程",
            "you may read only your own organization's agenda",
        ));
    }
    Ok(p)
}

/// The caller's organisation's agenda with its answers, and why each of its wishes that
/// is not on it was not scheduled.
pub async fn my_agenda(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    organization_id: Option<i64>,
) -> Result<MyAgenda, AppError> {
    let e = load_for(ctx, caller, event_id).await?;
    let me = agenda_org(ctx, caller, &e, organization_id).await?;
    let d = AgendaData::load(ctx, &e).await?;
    Ok(d.agenda_of(&e, &me))
}

/// What every participant's agenda is made from, read once per event (publishing, the
/// reminders and the morning-after question build one agenda per participant from it).
struct AgendaData {
    run: Option<PairingRun>,
    answers: Vec<MeetingAnswerRow>,
    prefs: Vec<Preference>,
    participants: Vec<Participant>,
    rows_by_id: HashMap<i64, PairingRow>,
    agendas: Vec<Agenda>,
    report: Option<StoredReport>,
    registrations: Vec<Registration>,
}

impl AgendaData {
    async fn load(ctx: &App, e: &Event) -> Result<AgendaData, AppError> {
        let run = ctx.store.pairing_run(e.id).await?;
        let (rows_by_id, agendas) = if run.is_some() {
            let rows = ctx.store.pairings(e.id).await?;
            (
                rows.into_iter().map(|r| (r.id, r)).collect(),
                schedule(ctx, e).await?.agendas,
            )
        } else {
            (HashMap::new(), Vec::new())
        };
        Ok(AgendaData {
            report: run
                .as_ref()
                .and_then(|r| serde_json::from_str(&r.report).ok()),
            run,
            answers: ctx.store.meeting_answers(e.id).await?,
            prefs: ctx.store.preferences(e.id).await?,
            participants: ctx.store.participants(e.id).await?,
            rows_by_id,
            agendas,
            registrations: ctx.store.registrations(e.id, None, None).await?,
        })
    }

    /// One participant's agenda.
    fn agenda_of(&self, e: &Event, me: &Participant) -> MyAgenda {
        let org = me.organization_id;
        let answers: HashMap<PairKey, &MeetingAnswerRow> =
            self.answers.iter().map(|a| (a.key, a)).collect();
        let prefs = &self.prefs;
        let names = Names::of(&self.participants);
        let rows_by_id = &self.rows_by_id;
        let mut meetings = Vec::new();
        let mut scheduled: HashSet<PairKey> = HashSet::new();
        let items = self
            .agendas
            .iter()
            .find(|a| a.organization_id == org)
            .map(|a| a.items.clone())
            .unwrap_or_default();
        for item in items {
            let Some(row) = rows_by_id.get(&item.pairing_id) else {
                continue;
            };
            let (key, _) = key_place(row);
            scheduled.insert(key);
            let enterprise = row.enterprise_id == org;
            let (mine, theirs) = if enterprise {
                (
                    (ListingKind::Need, row.need_id),
                    (row.partner_kind, row.partner_id),
                )
            } else {
                (
                    (row.partner_kind, row.partner_id),
                    (ListingKind::Need, row.need_id),
                )
            };
            let (my_answer, their_answer, attendance) = answer_for(&answers, key, enterprise);
            let why = why_meeting(row, prefs, enterprise);
            meetings.push(MyMeeting {
                starts_at: at_time(e, &item.start),
                ends_at: at_time(e, &item.end),
                item,
                listing_id: key_str(mine.0, mine.1),
                partner_listing_id: key_str(theirs.0, theirs.1),
                score: row.base_score,
                why,
                my_answer,
                their_answer,
                attendance,
            });
        }
        let mut unmet = Vec::new();
        for p in prefs {
            let Some((who, own, other)) = wish_of(p, &names) else {
                continue;
            };
            if who != org || p.preference == PreferenceKind::No {
                continue;
            }
            let key = PairKey {
                enterprise_id: p.enterprise_id,
                partner_kind: p.partner_kind,
                partner_id: p.partner_id,
            };
            if scheduled.contains(&key) {
                continue;
            }
            let (code, zh, en) = why_not(WhyNot {
                e,
                key,
                wish: p,
                prefs,
                names: &names,
                answers: &answers,
                report: self.report.as_ref(),
                rows: rows_by_id,
                registrations: &self.registrations,
                generated: self.run.is_some(),
            });
            if unmet.iter().any(|u: &UnmetWish| {
                u.listing_id == key_str(own.0, own.1)
                    && u.partner_listing_id == key_str(other.0, other.1)
            }) {
                continue;
            }
            unmet.push(UnmetWish {
                listing_id: key_str(own.0, own.1),
                partner_listing_id: key_str(other.0, other.1),
                kind: p.preference,
                partner_title: names.title(other.0, other.1),
                partner_organization: names.owner(other.0, other.1).map(|o| names.org(o)),
                reason_code: code.into(),
                reason: format!("{zh} / {en}"),
            });
        }
        MyAgenda {
            event_id: e.id,
            event_name: e.name.clone(),
            state: if matches!(e.status, EventStatus::Published | EventStatus::Closed) {
                "published"
            } else {
                "provisional"
            },
            generated: self.run.is_some(),
            stale: self.run.as_ref().is_some_and(|r| r.stale),
            organization_id: org,
            organization_name: me.organization_name.clone(),
            meetings,
            unmet_wishes: unmet,
        }
    }
}

/// Why a meeting is on the agenda, from the participant's side.
fn why_meeting(row: &PairingRow, prefs: &[Preference], enterprise: bool) -> String {
    let on_pair = |side: Side, kind: PreferenceKind| {
        prefs.iter().any(|p| {
            p.side == side
                && p.preference == kind
                && p.enterprise_id == row.enterprise_id
                && p.partner_kind == row.partner_kind
                && p.partner_id == row.partner_id
        })
    };
    let wished = |side| on_pair(side, PreferenceKind::Must) || on_pair(side, PreferenceKind::Like);
    let (me, them) = if enterprise {
        (Side::Enterprise, Side::University)
    } else {
        (Side::University, Side::Enterprise)
    };
    let score = format!("匹配度 {:.2}", row.base_score);
    if row.origin == "manual" {
        format!("组织者安排（{score}）")
    } else if on_pair(Side::Organizer, PreferenceKind::Must) {
        format!("组织者指定必须会谈（{score}）")
    } else if wished(me) && wished(them) {
        format!("双方都希望会谈（{score}）")
    } else if wished(me) {
        format!("你方希望会谈（{score}）")
    } else if wished(them) {
        format!("对方希望与你会谈（{score}）")
    } else {
        format!("{score}，在整体最优安排中入选")
    }
}

struct WhyNot<'a> {
    e: &'a Event,
    key: PairKey,
    wish: &'a Preference,
    prefs: &'a [Preference],
    names: &'a Names,
    answers: &'a HashMap<PairKey, &'a MeetingAnswerRow>,
    report: Option<&'a StoredReport>,
    rows: &'a HashMap<i64, PairingRow>,
    registrations: &'a [Registration],
    generated: bool,
}

/// The constraint that kept a wished pair off the agenda, first that applies.
fn why_not(w: WhyNot<'_>) -> (&'static str, String, String) {
    let k = w.key;
    let partner_org = w.names.owner(k.partner_kind, k.partner_id);
    let need_org = w.names.orgs.contains_key(&k.enterprise_id);
    if partner_org.is_none() || !need_org {
        let absent = if partner_org.is_none() {
            None
        } else {
            Some(k.enterprise_id)
        };
        let pending = w.registrations.iter().any(|r| {
            absent.is_none_or(|o| r.organization_id == o)
                && r.status == RegistrationStatus::Pending
                && r.listings.iter().any(|l| {
                    (l.kind, l.id) == (k.partner_kind, k.partner_id) || l.kind == ListingKind::Need
                })
        });
        return if pending {
            (
                "not_participating",
                "对方的报名尚未通过审核".into(),
                "the other side's registration is not approved yet".into(),
            )
        } else {
            (
                "not_participating",
                "对方已不在本次对接会中".into(),
                "the other side no longer takes part in this event".into(),
            )
        };
    }
    if w.answers.get(&k).is_some_and(|a| a.declined()) {
        return (
            "declined",
            "这场会谈已被谢绝，不再安排".into(),
            "this meeting was declined and is not proposed again".into(),
        );
    }
    let on_pair = |p: &&Preference| {
        p.enterprise_id == k.enterprise_id
            && p.partner_kind == k.partner_kind
            && p.partner_id == k.partner_id
    };
    if w.prefs.iter().filter(on_pair).any(|p| {
        matches!(p.preference, PreferenceKind::No | PreferenceKind::Conflict) && p.id != w.wish.id
    }) {
        return (
            "said_no",
            "对方表示不必会谈，或存在利益冲突".into(),
            "the other side said no, or there is a conflict of interest".into(),
        );
    }
    if !w.generated {
        return (
            "not_generated",
            "尚未生成对接安排".into(),
            "the pairing has not been generated yet".into(),
        );
    }
    let other_side = if w.wish.side == Side::Enterprise {
        Side::University
    } else {
        Side::Enterprise
    };
    let reciprocated = w.prefs.iter().filter(on_pair).any(|p| {
        p.side == other_side && matches!(p.preference, PreferenceKind::Must | PreferenceKind::Like)
    });
    if w.wish.preference == PreferenceKind::Must && w.e.self_service.mutual_only && !reciprocated {
        return (
            "not_mutual",
            "本次对接会只保证双方都希望的必谈，对方没有表达意向".into(),
            "this event honours a 'must' only when both sides wished the pair, and the other side did not".into(),
        );
    }
    let (ek, pk) = (
        enterprise_key(k.enterprise_id),
        partner_key(k.partner_kind, k.partner_id),
    );
    let Some(report) = w.report else {
        return (
            "optimised_out",
            "在整体最优安排中未入选".into(),
            "not chosen by the overall optimal pairing".into(),
        );
    };
    let candidate = report
        .candidates
        .iter()
        .find(|c| c.enterprise == ek && c.partner == pk);
    if let Some(c) = candidate
        && c.base_score < w.e.min_score
        && !reciprocated
    {
        return (
            "below_min_score",
            format!(
                "匹配度 {:.2} 低于本次对接会的下限 {:.2}",
                c.base_score, w.e.min_score
            ),
            format!(
                "the matching score {:.2} is below the event's minimum {:.2}",
                c.base_score, w.e.min_score
            ),
        );
    }
    let count = |f: &dyn Fn(&PairingRow) -> bool| w.rows.values().filter(|r| f(r)).count() as i64;
    let ent_meetings = count(&|r| r.enterprise_id == k.enterprise_id);
    let partner_meetings =
        count(&|r| r.partner_kind == k.partner_kind && r.partner_id == k.partner_id);
    let partner_cap = if k.partner_kind == ListingKind::Expert {
        w.e.max_per_expert
    } else {
        w.e.max_per_result
    };
    let full_e = ent_meetings >= w.e.max_per_enterprise.min(w.e.slot_count);
    let full_p = partner_meetings >= partner_cap.min(w.e.slot_count);
    let (own_full, their_full) = if w.wish.side == Side::Enterprise {
        (full_e, full_p)
    } else {
        (full_p, full_e)
    };
    let org_cap = w.e.self_service.max_per_organization;
    if org_cap > 0 {
        let partner_side = w.wish.side == Side::Enterprise;
        let org_meetings = match partner_org {
            Some(org) if partner_side => {
                count(&|r| w.names.owner(r.partner_kind, r.partner_id) == Some(org))
            }
            _ => 0,
        };
        if org_meetings >= org_cap {
            return (
                "organization_cap",
                format!("对方单位的会谈已达本次对接会每单位 {org_cap} 场的上限"),
                format!(
                    "the other organisation already holds the event's cap of {org_cap} meetings"
                ),
            );
        }
    }
    if their_full {
        return (
            "partner_capacity",
            "对方的会谈名额已被匹配度更高或更均衡的配对占满".into(),
            "the other side's meetings are all taken by better-scoring or fairer pairs".into(),
        );
    }
    if own_full {
        return (
            "own_capacity",
            "你方的会谈已排满，整体最优安排选择了其他配对".into(),
            "your meetings are full; the optimal pairing chose other partners".into(),
        );
    }
    let unplaced = |id: &str| report.unplaced.iter().find(|u| u.id == id);
    for u in [unplaced(&ek), unplaced(&pk)].into_iter().flatten() {
        match u.reason_code.as_str() {
            "slots" => {
                return (
                    "slots",
                    "双方没有共同的空闲时段".into(),
                    "the two sides have no free time slot in common".into(),
                );
            }
            "group_cap" => {
                return (
                    "organization_cap",
                    "单位的会谈已达本次对接会每单位的上限".into(),
                    "an organisation already holds the event's cap of meetings".into(),
                );
            }
            "tables" => {
                return (
                    "tables",
                    "桌位已满，由匹配度更高的会谈占用".into(),
                    "every table is taken by better-scoring meetings".into(),
                );
            }
            _ => {}
        }
    }
    (
        "optimised_out",
        "在整体最优安排中未入选（总匹配度更高的组合优先）".into(),
        "not chosen by the overall optimal pairing (combinations with a higher total come first)"
            .into(),
    )
}

/// The caller's agenda as a calendar file: one VEVENT per meeting, Asia/Shanghai times.
pub async fn my_agenda_ics(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    organization_id: Option<i64>,
) -> Result<String, AppError> {
    let a = my_agenda(ctx, caller, event_id, organization_id).await?;
    let e = load(ctx, event_id).await?;
    Ok(agenda_calendar(ctx, &e, &a))
}

fn agenda_calendar(ctx: &App, e: &Event, a: &MyAgenda) -> String {
    let host = crate::connections::url_host(&ctx.public_url());
    let events: Vec<CalendarEvent> = a
        .meetings
        .iter()
        .filter(|m| m.my_answer != Some(MeetingAnswer::Declined))
        .map(|m| CalendarEvent {
            uid: format!(
                "event-{}-{}-{}@{host}",
                e.id, m.listing_id, m.partner_listing_id
            )
            .replace(':', "-"),
            sequence: 0,
            summary: format!("{}：{}", e.name, m.item.counterpart_organization),
            description: format!(
                "{}（{}）\n{} ↔ {}\n{}\n{}/events/{}",
                m.item.counterpart_organization,
                m.item.table_name,
                m.item.own_title.clone().unwrap_or_default(),
                m.item.counterpart_title.clone().unwrap_or_default(),
                m.why,
                ctx.public_url(),
                e.id
            ),
            meeting: Meeting {
                start: m.starts_at.clone(),
                end: m.ends_at.clone(),
                place: Some(
                    format!(
                        "{} {}",
                        e.venue.clone().unwrap_or_default(),
                        m.item.table_name
                    )
                    .trim()
                    .to_string(),
                ),
                online_url: None,
            },
        })
        .collect();
    duijie_domain::connection::ics(&events, chrono::Utc::now())
}

/// One side confirms (`confirm`) or declines (`{reason}` required) a meeting of its agenda.
pub async fn answer_meeting(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    pairing_id: i64,
    confirm: bool,
    rec: &Record,
) -> Result<MyAgenda, AppError> {
    let e = load_for(ctx, caller, event_id).await?;
    let (_, me) = participant_of(ctx, caller, &e).await?;
    let mut r = In::new(rec);
    let reason = if confirm {
        None
    } else {
        Some(r.required_text("reason", 500, true))
    };
    let errors = r.finish_ignoring(&[]);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if e.status == EventStatus::Closed {
        return Err(conflict(
            Code::EVENT_CLOSED,
            "对接会已结束",
            "the event is closed",
        ));
    }
    let row = meeting_row(ctx, event_id, pairing_id).await?;
    let enterprise = enterprise_side(&me, &row)?;
    let (key, place) = key_place(&row);
    let answer = if confirm {
        MeetingAnswer::Confirmed
    } else {
        MeetingAnswer::Declined
    };
    ctx.store
        .answer_meeting(event_id, key, place, enterprise, answer, reason.as_deref())
        .await?;
    my_agenda(ctx, caller, event_id, None).await
}

// ---------------------------------------------------------------------------------------
// Publishing and attendance
// ---------------------------------------------------------------------------------------

/// What publishing did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Published {
    /// The event, now `published`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub event: Value,
    /// Participating organisations.
    pub participants: usize,
    /// Agendas mailed (one per member of a participating organisation).
    pub mails_queued: usize,
    /// Meetings in the schedule.
    pub meetings: usize,
}

/// Publishes the schedule: the event becomes `published` and every member of every
/// participating organisation gets its agenda with the calendar file attached. Refused
/// without a pairing, or with one made before participants or wishes changed.
pub async fn publish(ctx: &App, event_id: i64) -> Result<Published, AppError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    let Some(run) = ctx.store.pairing_run(event_id).await? else {
        return Err(conflict(
            Code::NO_PAIRING,
            "请先生成对接安排再发布",
            "generate the pairing before publishing it",
        ));
    };
    if run.stale {
        return Err(conflict(
            Code::PAIRING_STALE,
            "参会单位或意向在生成后有变化，请重新生成后再发布",
            "participants or wishes changed since the pairing was generated; generate it again, then publish",
        ));
    }
    let mut d = e.to_draft();
    d.status = EventStatus::Published;
    ctx.store.update_event(event_id, &d).await?;
    let e = load(ctx, event_id).await?;
    let d = AgendaData::load(ctx, &e).await?;
    let participants = &d.participants;
    let mut queued = 0;
    for p in participants {
        let agenda = d.agenda_of(&e, p);
        let ics = agenda_calendar(ctx, &e, &agenda);
        let facts: Vec<(String, String)> = agenda
            .meetings
            .iter()
            .map(|m| {
                (
                    format!("{}–{} {}", m.item.start, m.item.end, m.item.table_name),
                    format!(
                        "{}：{}",
                        m.item.counterpart_organization,
                        m.item.counterpart_title.clone().unwrap_or_default()
                    ),
                )
            })
            .collect();
        let people: Vec<(i64, String, String)> = ctx
            .store
            .members(p.organization_id)
            .await?
            .into_iter()
            .map(|(id, email, name, _)| (id, email.clone(), name.unwrap_or(email)))
            .collect();
        if people.is_empty() {
            continue;
        }
        let headline = format!(
            "“{}”（{} {}）的对接日程已发布：贵单位共 {} 场会谈，详见下表和附件日历文件（agenda.ics）。",
            e.name,
            e.date,
            e.venue.clone().unwrap_or_default(),
            agenda.meetings.len()
        );
        notify(
            ctx,
            &people,
            &e,
            format!("对接日程已发布：{}", e.name),
            headline,
            Some((&ics, facts)),
        )
        .await?;
        queued += people.len();
    }
    Ok(Published {
        event: event_json(&e),
        participants: participants.len(),
        mails_queued: queued,
        meetings: ctx.store.pairings(event_id).await?.len(),
    })
}

/// A meeting marked held or no-show, and the ledger entry it moved.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttendanceMarked {
    /// The meeting.
    pub pairing_id: i64,
    /// `held` or `no_show`.
    pub attendance: Attendance,
    /// Its Chinese name.
    pub attendance_label: &'static str,
    /// The pairing's ledger entry, when it was moved to `met`.
    pub ledger_entry_id: Option<i64>,
    /// Its status now.
    pub ledger_status: Option<String>,
}

/// The organisers (or a table host) mark a meeting held or no-show; a held meeting moves
/// its ledger entry to `met` (when it is still before that stage).
pub async fn set_attendance(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    pairing_id: i64,
    rec: &Record,
) -> Result<AttendanceMarked, AppError> {
    let e = load(ctx, event_id).await?;
    let mut r = In::new(rec);
    let status = r
        .choice_or("status", Attendance::TABLE, None)
        .and_then(Attendance::parse);
    let errors = r.finish_ignoring(&[]);
    let Some(status) = status.filter(|_| errors.is_empty()) else {
        let mut errors = errors;
        if errors.is_empty() {
            errors.push(
                "status",
                "required",
                "请给出 status：held（已会谈）或 no_show（缺席）",
                "status is required: held or no_show",
            );
        }
        return Err(AppError::Validation(errors));
    };
    if e.status == EventStatus::Draft {
        return Err(conflict(
            Code::NO_PAIRING,
            "对接会尚未开始征集或发布",
            "the event has not been opened or published",
        ));
    }
    let row = meeting_row(ctx, event_id, pairing_id).await?;
    mark_attendance(ctx, caller, &e, &row, status).await
}

/// One meeting of the event's pairing (404 when there is none with this id).
async fn meeting_row(ctx: &App, event_id: i64, pairing_id: i64) -> Result<PairingRow, AppError> {
    ctx.store
        .pairings(event_id)
        .await?
        .into_iter()
        .find(|p| p.id == pairing_id)
        .ok_or_else(|| AppError::not_found("会谈", "meeting", pairing_id))
}

/// Whether the participant is the meeting's enterprise (else its result or expert side);
/// 403 `not_your_meeting` when it is neither.
fn enterprise_side(me: &Participant, row: &PairingRow) -> Result<bool, AppError> {
    if row.enterprise_id == me.organization_id {
        return Ok(true);
    }
    if me
        .listings
        .iter()
        .any(|l| l.kind == row.partner_kind && l.id == row.partner_id)
    {
        return Ok(false);
    }
    Err(refused(
        Code::NOT_YOUR_MEETING,
        "这场会谈不属于本单位",
        "this meeting is not your organization's",
    ))
}

fn key_place(row: &PairingRow) -> (PairKey, MeetingPlace) {
    (
        PairKey {
            enterprise_id: row.enterprise_id,
            partner_kind: row.partner_kind,
            partner_id: row.partner_id,
        },
        MeetingPlace {
            slot: row.slot,
            table: row.table,
            need_id: row.need_id,
        },
    )
}

/// Marks a meeting; a held one moves its ledger entry to `met` when it is not there yet.
async fn mark_attendance(
    ctx: &App,
    caller: &Caller,
    e: &Event,
    row: &PairingRow,
    status: Attendance,
) -> Result<AttendanceMarked, AppError> {
    let (key, place) = key_place(row);
    let entry = ctx.store.set_attendance(e.id, key, place, status).await?;
    let mut ledger = None;
    if status == Attendance::Held
        && let Some((id, from)) = entry
        && matches!(from.as_str(), "proposed" | "accepted")
    {
        let actor = crate::ledger::actor(caller);
        let outcome = duijie_domain::ledger::Outcome {
            status: "met".into(),
            date: Some(e.date.clone()),
            amount_yuan: None,
            contract_date: None,
            contract_mode: None,
            reason: None,
            note: Some(format!("{}：会谈已进行", e.name)),
            registration_no: None,
            broker_id: None,
        };
        let moved = ctx
            .store
            .record_outcome(id, &outcome, &actor, Some(&from))
            .await?;
        ledger = Some((moved.id, moved.status));
    }
    Ok(AttendanceMarked {
        pairing_id: row.id,
        attendance: status,
        attendance_label: status.label_zh(),
        ledger_entry_id: ledger.as_ref().map(|l| l.0),
        ledger_status: ledger.map(|l| l.1),
    })
}

/// The meetings marked held or no-show, by meeting id (as text, for pages).
pub async fn attendance_marks(
    ctx: &App,
    event_id: i64,
) -> Result<BTreeMap<String, Attendance>, AppError> {
    let marks: HashMap<PairKey, Attendance> = ctx
        .store
        .meeting_answers(event_id)
        .await?
        .into_iter()
        .filter_map(|a| Some((a.key, a.attendance?)))
        .collect();
    if marks.is_empty() {
        return Ok(BTreeMap::new());
    }
    Ok(ctx
        .store
        .pairings(event_id)
        .await?
        .into_iter()
        .filter_map(|r| {
            let key = PairKey {
                enterprise_id: r.enterprise_id,
                partner_kind: r.partner_kind,
                partner_id: r.partner_id,
            };
            marks.get(&key).map(|a| (r.id.to_string(), *a))
        })
        .collect())
}

/// How long before an event its participants are reminded.
pub const REMINDER_HOURS: i64 = 24;

/// When the event's first slot starts, as an instant.
fn starts_at(e: &Event) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(&format!("{}T{}:00+08:00", e.date, e.start_time)).ok()
}

/// Reminds every member of every participating organisation of each published event that
/// starts within [`REMINDER_HOURS`], once per event, with its agenda and calendar file.
/// Returns how many events were reminded.
pub async fn remind_due(ctx: &App) -> Result<usize, AppError> {
    let now = chrono::Utc::now();
    let mut reminded = 0;
    for e in events_in(ctx, &[EventStatus::Published]).await? {
        let Some(start) = starts_at(&e) else {
            continue;
        };
        let ahead = start.with_timezone(&chrono::Utc) - now;
        if ahead <= chrono::Duration::zero() || ahead > chrono::Duration::hours(REMINDER_HOURS) {
            continue;
        }
        if remind(ctx, &e).await? {
            reminded += 1;
        }
    }
    Ok(reminded)
}

/// Every event of these statuses, page by page.
async fn events_in(ctx: &App, statuses: &[EventStatus]) -> Result<Vec<Event>, AppError> {
    let mut out = Vec::new();
    for status in statuses {
        let f = EventFilter {
            status: Some(*status),
            ..Default::default()
        };
        let mut offset = 0;
        loop {
            let page = ctx.store.events(&f, 100, offset).await?;
            offset += page.items.len() as i64;
            let last = page.items.is_empty() || offset >= page.total;
            out.extend(page.items);
            if last {
                break;
            }
        }
    }
    Ok(out)
}

/// Queues the reminder of one event unless it was sent; true when this call sent it.
async fn remind(ctx: &App, e: &Event) -> Result<bool, AppError> {
    let d = AgendaData::load(ctx, e).await?;
    let mut mails = Vec::new();
    for p in &d.participants {
        let agenda = d.agenda_of(e, p);
        let live: Vec<&MyMeeting> = agenda
            .meetings
            .iter()
            .filter(|m| m.my_answer != Some(MeetingAnswer::Declined))
            .collect();
        if live.is_empty() {
            continue;
        }
        let ics = agenda_calendar(ctx, e, &agenda);
        let facts: Vec<(String, String)> = live
            .iter()
            .map(|m| {
                (
                    format!("{}–{} {}", m.item.start, m.item.end, m.item.table_name),
                    format!(
                        "{}：{}",
                        m.item.counterpart_organization,
                        m.item.counterpart_title.clone().unwrap_or_default()
                    ),
                )
            })
            .collect();
        for (uid, email, name, _) in ctx.store.members(p.organization_id).await? {
            let letter = Letter {
                template: "connection",
                category: CATEGORY,
                to: email.clone(),
                user_id: Some(uid),
                subject: format!("明天参会提醒：{}", e.name),
                vars: json!({
                    "name": name.unwrap_or(email),
                    "headline": format!(
                        "“{}”将于 {} {} 在{}举行，贵单位共 {} 场会谈，日程如下（附日历文件 agenda.ics）。",
                        e.name, e.date, e.start_time, e.venue.clone().unwrap_or_else(|| "会场".into()), live.len()
                    ),
                    "facts": facts,
                    "link": format!("{}/participate/{}/agenda", ctx.public_url(), e.id),
                    "button_label": "查看我的日程",
                }),
            };
            let mut m = mail::compose(ctx, letter).await?;
            m.calendar = Some(ics.clone());
            mails.push(m);
        }
    }
    Ok(ctx
        .store
        .send_event_notice(e.id, "reminder", &mails)
        .await?)
}

// ---------------------------------------------------------------------------------------
// The morning after: "did the meeting take place, was it useful"
// ---------------------------------------------------------------------------------------

/// The answers of the one-tap question, with their labels (those of connection requests).
pub const FEEDBACK_ANSWERS: &[(&str, &str)] = crate::connections::ANSWERS;

fn feedback_signature(
    key: &str,
    event_id: i64,
    meeting: &str,
    user_id: i64,
    answer: &str,
) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("event-feedback:{event_id}:{meeting}:{user_id}:{answer}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A meeting named in a link: `{enterprise}-{kind}-{partner}`.
fn meeting_code(key: PairKey) -> String {
    format!(
        "{}-{}-{}",
        key.enterprise_id,
        key.partner_kind.code(),
        key.partner_id
    )
}

fn parse_meeting_code(s: &str) -> Option<PairKey> {
    let mut it = s.splitn(3, '-');
    let enterprise_id = it.next()?.parse().ok()?;
    let partner_kind = ListingKind::parse(it.next()?)?;
    let partner_id = it.next()?.parse().ok()?;
    Some(PairKey {
        enterprise_id,
        partner_kind,
        partner_id,
    })
}

async fn feedback_key(ctx: &App) -> Result<String, AppError> {
    Ok(ctx
        .store
        .server_key("feedback", &crate::auth::random_hex(32)?)
        .await?)
}

/// The signed one-tap link of an answer about a meeting.
pub async fn feedback_link(
    ctx: &App,
    event_id: i64,
    key: PairKey,
    user_id: i64,
    answer: &str,
) -> Result<String, AppError> {
    let k = feedback_key(ctx).await?;
    let m = meeting_code(key);
    Ok(format!(
        "{}/participate/{event_id}/feedback?m={m}&u={user_id}&a={answer}&s={}",
        ctx.public_url(),
        feedback_signature(&k, event_id, &m, user_id, answer)
    ))
}

/// Records an answer from a signed link (no sign-in): a forged or altered link is refused
/// and changes nothing; a second answer from the same side is a 409.
pub async fn feedback_signed(
    ctx: &App,
    event_id: i64,
    meeting: &str,
    user_id: i64,
    answer: &str,
    sig: &str,
) -> Result<Attendance, AppError> {
    let refused = || {
        AppError::bad_request(
            Code::INVALID_PARAMETER,
            "链接无效，请从邮件中完整打开，或登录后在“我的日程”中回答",
            "this link is not valid; open it whole from the mail, or sign in and answer in your agenda",
        )
    };
    let k = feedback_key(ctx).await?;
    if !crate::auth::same_secret(
        &feedback_signature(&k, event_id, meeting, user_id, answer),
        sig,
    ) {
        return Err(refused());
    }
    let key = parse_meeting_code(meeting).ok_or_else(refused)?;
    let user = ctx.store.user(user_id).await.map_err(|_| refused())?;
    let as_user = Caller {
        user: Some(user),
        ..Caller::anonymous()
    };
    let row = ctx
        .store
        .pairings(event_id)
        .await?
        .into_iter()
        .find(|r| key_place(r).0 == key)
        .ok_or_else(refused)?;
    record_feedback(ctx, &as_user, event_id, &row, answer).await
}

/// A signed-in participant answers about one of its meetings: `{answer: "useful" |
/// "not_useful" | "no_show"}`.
pub async fn meeting_feedback(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    pairing_id: i64,
    rec: &Record,
) -> Result<Attendance, AppError> {
    let mut r = In::new(rec);
    let answer = r.choice_or("answer", FEEDBACK_ANSWERS, None);
    let mut errors = r.finish_ignoring(&[]);
    let Some(answer) = answer.filter(|_| errors.is_empty()) else {
        if errors.is_empty() {
            errors.push(
                "answer",
                "required",
                "请选择：useful（已举行，很有帮助）、not_useful（已举行，帮助不大）或 no_show（没有举行）",
                "answer is required: useful, not_useful or no_show",
            );
        }
        return Err(AppError::Validation(errors));
    };
    load_for(ctx, caller, event_id).await?;
    let row = meeting_row(ctx, event_id, pairing_id).await?;
    record_feedback(ctx, caller, event_id, &row, answer).await
}

/// Stores a side's answer; the first answer that the meeting took place marks it held (and
/// moves the ledger), a no-show marks it so, unless the organisers already marked it.
async fn record_feedback(
    ctx: &App,
    caller: &Caller,
    event_id: i64,
    row: &PairingRow,
    answer: &str,
) -> Result<Attendance, AppError> {
    let e = load(ctx, event_id).await?;
    let (_, me) = participant_of(ctx, caller, &e).await?;
    let enterprise = enterprise_side(&me, row)?;
    let (key, place) = key_place(row);
    let before = ctx
        .store
        .record_meeting_feedback(event_id, key, place, enterprise, answer)
        .await?;
    let status = if answer == "no_show" {
        Attendance::NoShow
    } else {
        Attendance::Held
    };
    match before {
        Some(marked) => Ok(marked),
        None => Ok(mark_attendance(ctx, caller, &e, row, status)
            .await?
            .attendance),
    }
}

/// Asks every member of every participant of each event held one to seven days ago, once
/// per event, "did the meeting take place, was it useful" with one-tap links per meeting.
/// Returns how many events were asked.
pub async fn ask_feedback_due(ctx: &App) -> Result<usize, AppError> {
    let now = chrono::Utc::now();
    let mut asked = 0;
    for e in events_in(ctx, &[EventStatus::Published, EventStatus::Closed]).await? {
        // the next morning at 08:00 Beijing time, for a week
        let Some(morning) =
            chrono::DateTime::parse_from_rfc3339(&format!("{}T08:00:00+08:00", e.date)).ok()
        else {
            continue;
        };
        let since = now - (morning + chrono::Duration::days(1)).with_timezone(&chrono::Utc);
        if since < chrono::Duration::zero() || since > chrono::Duration::days(7) {
            continue;
        }
        if ask_feedback(ctx, &e).await? {
            asked += 1;
        }
    }
    Ok(asked)
}

async fn ask_feedback(ctx: &App, e: &Event) -> Result<bool, AppError> {
    let d = AgendaData::load(ctx, e).await?;
    let rows = &d.rows_by_id;
    let mut mails = Vec::new();
    for p in &d.participants {
        let agenda = d.agenda_of(e, p);
        let live: Vec<(&MyMeeting, PairKey)> = agenda
            .meetings
            .iter()
            .filter(|m| m.my_answer != Some(MeetingAnswer::Declined))
            .filter_map(|m| Some((m, key_place(rows.get(&m.item.pairing_id)?).0)))
            .collect();
        if live.is_empty() {
            continue;
        }
        for (uid, email, name, _) in ctx.store.members(p.organization_id).await? {
            let mut answers = Vec::new();
            for (m, key) in &live {
                for (code, label) in FEEDBACK_ANSWERS {
                    answers.push((
                        format!(
                            "{} {}：{label}",
                            m.item.start, m.item.counterpart_organization
                        ),
                        feedback_link(ctx, e.id, *key, uid, code).await?,
                    ));
                }
            }
            let letter = Letter {
                template: "connection",
                category: CATEGORY,
                to: email.clone(),
                user_id: Some(uid),
                subject: format!("会谈举行了吗：{}", e.name),
                vars: json!({
                    "name": name.unwrap_or(email),
                    "headline": format!(
                        "感谢参加“{}”。每场会谈请点一下：举行了吗、有没有帮助？您的回答会帮助组织者跟进后续合作。",
                        e.name
                    ),
                    "answers": answers,
                    "link": format!("{}/participate/{}/agenda", ctx.public_url(), e.id),
                    "button_label": "查看我的日程",
                }),
            };
            mails.push(mail::compose(ctx, letter).await?);
        }
    }
    Ok(ctx
        .store
        .send_event_notice(e.id, "feedback", &mails)
        .await?)
}
