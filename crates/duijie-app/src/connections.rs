//! Connection requests (对接申请): a member of one organisation asks the owner of a
//! listing for a meeting; the other side accepts (with a meeting), declines with a reason,
//! or proposes another time; an accepted request opens a ledger entry that the meeting
//! question and the follow-ups move on. Also: who sees contact details, the funnel and an
//! organisation's responsiveness, and the worker that expires, reminds, asks and follows up.
//!
//! Sides: the *sender* side is the organisation owning `from`, the *recipient* side the
//! one owning `to`. The side whose turn it is answers (the recipient at first; the sender
//! after a counter-proposal). Organisers and administrators see every request and assign
//! brokers; a broker sees the requests assigned to them. Anyone else gets 404, so request
//! ids reveal nothing.

use crate::app::App;
use crate::auth::{Caller, Via, random_hex, same_secret};
use crate::codes::Code;
use crate::error::AppError;
use crate::mail::{self, Letter};
use duijie_domain::connection::{
    self as rules, CalendarEvent, ConnectionStatus, DeclineReason, Meeting,
};
use duijie_domain::input::{Reader, Record};
use duijie_domain::{FieldErrors, ListingKind, Role};
use duijie_store::{
    Connection, ConnectionChange, ConnectionScope, ConnectionStep, EntryDraft, LedgerActor, Mark,
    NewConnection, NewMail, Note, Outgoing, Page, Quota, User,
};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::{BTreeMap, HashSet};

/// Mail category of connection mail (users can turn it off; `account` mail is separate).
pub const CATEGORY: &str = "requests";

/// How the caller stands to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// A member of the sending organisation.
    Sender,
    /// A member of the receiving organisation.
    Recipient,
    /// The broker assigned to it.
    Broker,
    /// An organiser or administrator.
    Programme,
}

/// A request as the API shows it: the stored request, labels, and what the caller may do.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionView {
    /// The request.
    #[serde(flatten)]
    pub connection: Connection,
    /// Chinese label of the status.
    pub status_label: &'static str,
    /// Chinese label of the decline reason.
    pub decline_reason_label: Option<&'static str>,
    /// The meeting in one Chinese line.
    pub meeting_text: Option<String>,
    /// Chinese label of the ledger entry's status.
    pub ledger_status_label: Option<&'static str>,
    /// How the caller stands to it: `sender`, `recipient`, `broker`, `programme`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub party: Party,
    /// Steps the caller may take now (`accept`, `decline`, `propose`, `withdraw`,
    /// `assign`, `broker`, `feedback`, `outcome`).
    pub actions: Vec<&'static str>,
}

/// A request with its history and the answers to the meeting question.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionDetail {
    /// The request.
    #[serde(flatten)]
    pub view: ConnectionView,
    /// Its steps, oldest first.
    pub history: Vec<ConnectionStep>,
    /// Answers to "did the meeting happen": `{user_id, happened, useful}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub feedback: Vec<Value>,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn actor(caller: &Caller) -> LedgerActor {
    match &caller.user {
        Some(u) => LedgerActor {
            user_id: Some(u.id),
            name: u.name.clone().unwrap_or_else(|| u.email.clone()),
        },
        None => LedgerActor {
            user_id: None,
            name: match caller.via {
                Via::Local(_) => "cli".into(),
                _ => "anonymous".into(),
            },
        },
    }
}

fn not_found(id: i64) -> AppError {
    AppError::not_found("对接申请", "connection request", id)
}

fn ts_in(days: f64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds((days * 86_400_000.0) as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn kind_of(s: &str) -> ListingKind {
    ListingKind::parse(s).unwrap_or(ListingKind::Result)
}

/// How `caller` stands to `c`; `None` for outsiders.
pub fn party(caller: &Caller, c: &Connection) -> Option<Party> {
    if matches!(caller.via, Via::Local(_)) {
        return Some(Party::Programme);
    }
    let u = caller.user.as_ref()?;
    if u.role.keeps_programme() {
        return Some(Party::Programme);
    }
    if u.organization_id.is_some() && u.organization_id == c.to_org_id {
        return Some(Party::Recipient);
    }
    if u.organization_id.is_some() && u.organization_id == c.from_org_id {
        return Some(Party::Sender);
    }
    if u.role == Role::Broker && c.broker_id == Some(u.id) {
        return Some(Party::Broker);
    }
    None
}

fn status_of(c: &Connection) -> ConnectionStatus {
    ConnectionStatus::parse(&c.status).unwrap_or(ConnectionStatus::Expired)
}

fn whose_turn(c: &Connection) -> Party {
    if c.turn == "sender" {
        Party::Sender
    } else {
        Party::Recipient
    }
}

fn actions(caller: &Caller, c: &Connection, p: Party) -> Vec<&'static str> {
    let mut a = Vec::new();
    let st = status_of(c);
    if st.is_open() && p == whose_turn(c) {
        a.extend(["accept", "decline", "propose"]);
    }
    if st.is_open() && p == Party::Sender {
        a.push("withdraw");
    }
    let org_admin = caller.user.as_ref().is_some_and(|u| u.org_admin);
    if st.is_open() && p == Party::Recipient && org_admin {
        a.push("assign");
    }
    if p == Party::Programme {
        a.push("broker");
    }
    // the meeting question, once the meeting is over (or the time without one has passed)
    let now = ts_in(0.0);
    if st == ConnectionStatus::Accepted
        && matches!(p, Party::Sender | Party::Recipient)
        && c.feedback_due_at
            .as_deref()
            .is_some_and(|d| d <= now.as_str())
    {
        a.push("feedback");
    }
    if st == ConnectionStatus::Accepted {
        a.push("outcome");
    }
    a
}

/// The view of a request for `caller` (who must be a party).
pub fn view(caller: &Caller, c: Connection, p: Party) -> ConnectionView {
    let meeting_text = c
        .meeting
        .as_ref()
        .and_then(|m| serde_json::from_value::<Meeting>(m.clone()).ok())
        .map(|m| m.describe_zh());
    ConnectionView {
        status_label: status_of(&c).label_zh(),
        decline_reason_label: c
            .decline_reason
            .as_deref()
            .and_then(DeclineReason::parse)
            .map(DeclineReason::label_zh),
        meeting_text,
        ledger_status_label: c.ledger_status.as_deref().and_then(|s| {
            duijie_domain::ledger::LEDGER_STATUSES
                .iter()
                .find(|(code, _, _)| *code == s)
                .map(|(_, l, _)| *l)
        }),
        actions: actions(caller, &c, p),
        party: p,
        connection: c,
    }
}

/// A request the caller may see (404 otherwise).
async fn load(ctx: &App, caller: &Caller, id: i64) -> Result<(Connection, Party), AppError> {
    if caller.user.is_none() && !matches!(caller.via, Via::Local(_)) {
        return Err(AppError::unauthenticated());
    }
    let c = match ctx.store.connection(id).await {
        Ok(c) => c,
        Err(duijie_store::StoreError::NotFound { .. }) => return Err(not_found(id)),
        Err(e) => return Err(e.into()),
    };
    match party(caller, &c) {
        Some(p) => Ok((c, p)),
        None => Err(not_found(id)),
    }
}

/// A listing named by `kind:id`, as the request needs it.
#[derive(Debug, Clone)]
struct Listing {
    kind: ListingKind,
    id: i64,
    title: String,
    org_id: Option<i64>,
    org_name: Option<String>,
    org_city: Option<String>,
    published: bool,
    industry: Option<String>,
}

async fn listing(ctx: &App, kind: ListingKind, id: i64) -> Result<Option<Listing>, AppError> {
    use duijie_store::StoreError::NotFound;
    let r = match kind {
        ListingKind::Result => ctx.store.result(id).await.map(|r| Listing {
            kind,
            id,
            title: r.title,
            org_id: r.organization.as_ref().map(|o| o.id),
            org_name: r.organization.as_ref().map(|o| o.name.clone()),
            org_city: r.organization.as_ref().and_then(|o| o.city.clone()),
            published: r.status == duijie_domain::PUBLISHED,
            industry: r.industry,
        }),
        ListingKind::Need => ctx.store.need(id).await.map(|r| Listing {
            kind,
            id,
            title: r.title,
            org_id: r.organization.as_ref().map(|o| o.id),
            org_name: r.organization.as_ref().map(|o| o.name.clone()),
            org_city: r.organization.as_ref().and_then(|o| o.city.clone()),
            published: r.status == duijie_domain::PUBLISHED,
            industry: r.industry,
        }),
        ListingKind::Expert => ctx.store.expert(id).await.map(|r| Listing {
            kind,
            id,
            title: format!("专家 {}", r.name),
            org_id: r.organization.as_ref().map(|o| o.id),
            org_name: r.organization.as_ref().map(|o| o.name.clone()),
            org_city: r.organization.as_ref().and_then(|o| o.city.clone()),
            published: true,
            industry: r.industry,
        }),
    };
    match r {
        Ok(l) => Ok(Some(l)),
        Err(NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Parses `need:12` (or `{kind, id}`) for `field`.
pub(crate) fn listing_ref(
    v: Option<&Value>,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<(ListingKind, i64)> {
    let bad = |errors: &mut FieldErrors| {
        errors.push(
            field,
            "invalid_format",
            format!("{field} 应写作“类型:编号”，如 need:12、result:34、expert:5"),
            format!("{field} must look like kind:id, e.g. need:12, result:34, expert:5"),
        );
        None
    };
    let (k, id) = match v {
        None | Some(Value::Null) => {
            errors.push(field, "required", "必填", "required");
            return None;
        }
        Some(Value::String(s)) => match s.trim().split_once(':') {
            Some((k, id)) => (k.trim().to_string(), id.trim().parse::<i64>().ok()),
            None => return bad(errors),
        },
        Some(Value::Object(o)) => (
            o.get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            o.get("id").and_then(Value::as_i64),
        ),
        Some(_) => return bad(errors),
    };
    match (ListingKind::parse(&k), id) {
        (Some(kind), Some(id)) if id > 0 => Some((kind, id)),
        _ => bad(errors),
    }
}

/// The pair's key: both listings, in a fixed order, so A→B and B→A are one pair.
fn pair_key(a: (ListingKind, i64), b: (ListingKind, i64)) -> String {
    let x = format!("{}:{}", a.0.code(), a.1);
    let y = format!("{}:{}", b.0.code(), b.1);
    if x <= y {
        format!("{x}|{y}")
    } else {
        format!("{y}|{x}")
    }
}

/// Members of an organisation who hear about a request: the assignee if there is one,
/// else its administrators, else every active member (at most 20).
async fn recipients(
    ctx: &App,
    org: Option<i64>,
    assignee: Option<i64>,
) -> Result<Vec<(i64, String, String)>, AppError> {
    let Some(org) = org else {
        return Ok(Vec::new());
    };
    let members = ctx.store.members(org).await?;
    let pick: Vec<_> = if let Some(a) = assignee {
        members.into_iter().filter(|m| m.0 == a).collect()
    } else if members.iter().any(|m| m.3) {
        members.into_iter().filter(|m| m.3).collect()
    } else {
        members
    };
    Ok(pick
        .into_iter()
        .take(20)
        .map(|(id, email, name, _)| (id, email.clone(), name.unwrap_or(email)))
        .collect())
}

/// The sender side's people: the sender (if still active) and nobody else.
async fn sender_people(ctx: &App, c: &Connection) -> Result<Vec<(i64, String, String)>, AppError> {
    match ctx.store.user(c.sender_id).await {
        Ok(u) if !u.disabled && u.status == "active" => Ok(vec![(
            u.id,
            u.email.clone(),
            u.name.clone().unwrap_or(u.email),
        )]),
        Ok(_) | Err(duijie_store::StoreError::NotFound { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// The people of both sides: the sender and the recipient organisation's (see
/// [`recipients`]).
async fn both_sides(ctx: &App, c: &Connection) -> Result<Vec<(i64, String, String)>, AppError> {
    let mut people = sender_people(ctx, c).await?;
    people.extend(recipients(ctx, c.to_org_id, c.assignee_id).await?);
    Ok(people)
}

/// Whether the caller may hand a request on: an organiser, or an administrator of the
/// receiving organisation.
fn may_assign(caller: &Caller, p: Party) -> bool {
    let admin = caller.user.as_ref().is_some_and(|u| u.org_admin);
    p == Party::Programme || p == Party::Recipient && admin
}

/// One letter per person, and the same news on their bell.
#[allow(clippy::too_many_arguments)]
async fn tell(
    ctx: &App,
    out: &mut Outgoing,
    people: &[(i64, String, String)],
    c_id: i64,
    key: &str,
    subject: String,
    headline: String,
    facts: Vec<(String, String)>,
    quote: Option<String>,
    button: &str,
) -> Result<(), AppError> {
    let link = format!("{}/connections/{c_id}", ctx.public_url());
    for (uid, email, name) in people {
        let letter = Letter {
            template: "connection",
            category: CATEGORY,
            to: email.clone(),
            user_id: Some(*uid),
            subject: subject.clone(),
            vars: json!({
                "name": name, "headline": headline, "facts": facts, "quote": quote,
                "link": link, "button_label": button,
            }),
        };
        out.mails.push(mail::compose(ctx, letter).await?);
        out.notes.push(Note {
            user_id: *uid,
            dedup_key: format!("connection:{c_id}:{key}:{uid}"),
            title: subject.clone(),
            body: headline.clone(),
            link: Some(format!("/connections/{c_id}")),
        });
    }
    Ok(())
}

fn facts_of(c: &Connection) -> Vec<(String, String)> {
    let mut f = vec![
        (
            "申请方".to_string(),
            format!(
                "{}（{}）",
                c.from_org_name.clone().unwrap_or_default(),
                c.from_title.clone().unwrap_or_default()
            ),
        ),
        (
            "被申请方".to_string(),
            format!(
                "{}（{}）",
                c.to_org_name.clone().unwrap_or_default(),
                c.to_title.clone().unwrap_or_default()
            ),
        ),
    ];
    if let Some(m) = c
        .meeting
        .as_ref()
        .and_then(|m| serde_json::from_value::<Meeting>(m.clone()).ok())
    {
        f.push(("会谈安排".into(), m.describe_zh()));
    }
    f
}

/// `POST /connections {from_listing_id, to_listing_id, note}`.
pub async fn create(ctx: &App, caller: &Caller, rec: &Record) -> Result<ConnectionView, AppError> {
    let user = caller.require()?.clone();
    let mut errors = FieldErrors::default();
    let from = listing_ref(rec.get("from_listing_id"), "from_listing_id", &mut errors);
    let to = listing_ref(rec.get("to_listing_id"), "to_listing_id", &mut errors);
    let mut r = Reader::new(rec);
    let note = r.text("note", 1000, true).unwrap_or_default();
    errors
        .0
        .extend(r.finish_ignoring(&["from_listing_id", "to_listing_id"]).0);
    let (Some(from), Some(to)) = (from, to) else {
        return Err(AppError::Validation(errors));
    };
    let Some(own_org) = user.organization_id else {
        return Err(AppError::forbidden(
            "账号未关联单位，不能发起对接申请",
            "your account belongs to no organization, so it cannot send requests",
        ));
    };
    let pair_ok = matches!(
        (from.0, to.0),
        (ListingKind::Need, ListingKind::Result)
            | (ListingKind::Need, ListingKind::Expert)
            | (ListingKind::Result, ListingKind::Need)
            | (ListingKind::Expert, ListingKind::Need)
    );
    if !pair_ok {
        errors.push(
            "to_listing_id",
            "invalid_pair",
            "对接申请只能在技术需求与科技成果或专家之间发起",
            "a request pairs a need with a result or an expert",
        );
    }
    let from_l = listing(ctx, from.0, from.1).await?;
    let to_l = listing(ctx, to.0, to.1).await?;
    match &from_l {
        None => errors.push(
            "from_listing_id",
            "not_found",
            format!("{} {} 不存在", from.0.label_zh(), from.1),
            format!("{} {} does not exist", from.0.code(), from.1),
        ),
        Some(l) if l.org_id != Some(own_org) => errors.push(
            "from_listing_id",
            "not_yours",
            "只能以本单位的需求、成果或专家发起申请",
            "you can send requests only from your own organization's listings",
        ),
        Some(_) => {}
    }
    match &to_l {
        None => errors.push(
            "to_listing_id",
            "not_found",
            format!("{} {} 不存在", to.0.label_zh(), to.1),
            format!("{} {} does not exist", to.0.code(), to.1),
        ),
        Some(l) if !l.published => errors.push(
            "to_listing_id",
            "not_published",
            "对方的这一项未公开发布，不能申请对接",
            "that listing is not published",
        ),
        Some(l) if l.org_id.is_none() => errors.push(
            "to_listing_id",
            "no_owner",
            "这一项没有所属单位，无人可以答复",
            "that listing belongs to no organization; nobody could answer",
        ),
        Some(l) if l.org_id == Some(own_org) => errors.push(
            "to_listing_id",
            "own_organization",
            "不能向本单位发起对接申请",
            "you cannot send a request to your own organization",
        ),
        Some(_) => {}
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (Some(from_l), Some(to_l)) = (from_l, to_l) else {
        return Err(internal("listings checked above"));
    };
    let s = &ctx.settings.connections;
    let new = NewConnection {
        from_kind: from_l.kind.code().into(),
        from_id: from_l.id,
        from_org_id: own_org,
        to_kind: to_l.kind.code().into(),
        to_id: to_l.id,
        to_org_id: to_l.org_id.unwrap_or_default(),
        sender_id: user.id,
        note: note.clone(),
        expires_at: ts_in(s.expire_days),
        open_key: pair_key(from, to),
    };
    let mut out = Outgoing::default();
    let people = recipients(ctx, to_l.org_id, None).await?;
    let sender_name = user.name.clone().unwrap_or_else(|| user.email.clone());
    let provisional = Connection {
        id: 0,
        from_kind: new.from_kind.clone(),
        from_id: new.from_id,
        from_title: Some(from_l.title.clone()),
        from_org_id: Some(own_org),
        from_org_name: from_l.org_name.clone(),
        to_kind: new.to_kind.clone(),
        to_id: new.to_id,
        to_title: Some(to_l.title.clone()),
        to_org_id: to_l.org_id,
        to_org_name: to_l.org_name.clone(),
        sender_id: user.id,
        sender_name: Some(sender_name.clone()),
        assignee_id: None,
        assignee_name: None,
        broker_id: None,
        broker_name: None,
        note: note.clone(),
        status: "pending".into(),
        turn: "recipient".into(),
        message: None,
        decline_reason: None,
        decline_note: None,
        meeting: None,
        ledger_entry_id: None,
        ledger_status: None,
        expires_at: new.expires_at.clone(),
        answered_at: None,
        feedback_due_at: None,
        created_at: String::new(),
        updated_at: String::new(),
    };
    // the id is known only after the insert; mails link to the inbox, which lists it first
    let subject = format!(
        "新的对接申请：{} 希望就“{}”与您洽谈",
        from_l.org_name.clone().unwrap_or_default(),
        to_l.title
    );
    let headline = format!(
        "{sender_name}（{}）希望就贵单位的“{}”申请对接，请在 {} 天内答复：接受并约定会谈时间、提议其他时间，或说明原因谢绝。",
        from_l.org_name.clone().unwrap_or_default(),
        to_l.title,
        s.expire_days.round()
    );
    let inbox = format!("{}/connections?box=received", ctx.public_url());
    for (uid, email, name) in &people {
        let letter = Letter {
            template: "connection",
            category: CATEGORY,
            to: email.clone(),
            user_id: Some(*uid),
            subject: subject.clone(),
            vars: json!({
                "name": name, "headline": headline, "facts": facts_of(&provisional),
                "quote": (!note.is_empty()).then_some(note.clone()),
                "link": inbox, "button_label": "查看并答复",
            }),
        };
        out.mails.push(mail::compose(ctx, letter).await?);
        out.notes.push(Note {
            user_id: *uid,
            dedup_key: format!(
                "connection:new:{}:{}:{uid}:{}",
                new.open_key,
                user.id,
                random_hex(4)?
            ),
            title: subject.clone(),
            body: headline.clone(),
            link: Some("/connections?box=received".into()),
        });
    }
    let quota = Quota {
        max_open: s.max_open_per_user,
        max_per_day: s.max_per_day,
    };
    let a = actor(caller);
    let after = json!({"from": format!("{}:{}", from.0.code(), from.1), "to": format!("{}:{}", to.0.code(), to.1), "note": note});
    let id = crate::audit::within(
        ctx,
        caller,
        "create",
        "connection",
        None,
        None,
        Some(&after),
        ctx.store.create_connection(&new, quota, &a, &out),
    )
    .await?;
    let c = ctx.store.connection(id).await?;
    Ok(view(caller, c, Party::Sender))
}

/// Which box a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxBox {
    /// Requests the caller's organisation sent, open ones.
    Sent,
    /// Requests it received, open ones.
    Received,
    /// Answered, withdrawn or expired requests, either direction.
    Archived,
    /// A broker's cases.
    Broker,
    /// Every request (organisers).
    All,
}

impl InboxBox {
    /// Parses `sent`, `received`, `archived`, `broker`, `all`.
    pub fn parse(s: &str) -> Option<InboxBox> {
        Some(match s {
            "sent" => InboxBox::Sent,
            "received" => InboxBox::Received,
            "archived" => InboxBox::Archived,
            "broker" => InboxBox::Broker,
            "all" => InboxBox::All,
            _ => return None,
        })
    }
}

/// `GET /connections?box=&status=`: a page of the caller's requests. Without a status,
/// `sent` and `received` show open and accepted requests, `archived` the closed ones.
pub async fn list(
    ctx: &App,
    caller: &Caller,
    inbox: InboxBox,
    status: Option<ConnectionStatus>,
    limit: i64,
    offset: i64,
) -> Result<Page<ConnectionView>, AppError> {
    let user = caller.require()?;
    let org = user.organization_id;
    let scope = match inbox {
        InboxBox::All | InboxBox::Broker | InboxBox::Archived
            if user.role.keeps_programme() && inbox != InboxBox::Broker =>
        {
            ConnectionScope::All
        }
        InboxBox::Broker => ConnectionScope::Broker(user.id),
        InboxBox::All => {
            return Err(AppError::forbidden(
                "只有组织者和管理员可以查看全部对接申请",
                "only organizers and administrators see every request",
            ));
        }
        InboxBox::Sent | InboxBox::Received | InboxBox::Archived => {
            let Some(org) = org else {
                return Ok(Page {
                    items: Vec::new(),
                    total: 0,
                    limit,
                    offset,
                });
            };
            match inbox {
                InboxBox::Sent => ConnectionScope::SentBy(org),
                InboxBox::Received => ConnectionScope::ReceivedBy(org),
                _ => ConnectionScope::Of(org),
            }
        }
    };
    let statuses: Vec<&str> = match (status, inbox) {
        (Some(s), _) => vec![s.code()],
        (None, InboxBox::Sent | InboxBox::Received) => vec!["pending", "proposed", "accepted"],
        (None, InboxBox::Archived) => vec!["declined", "withdrawn", "expired"],
        (None, _) => Vec::new(),
    };
    let page = ctx
        .store
        .connections(&scope, &statuses, limit, offset)
        .await?;
    Ok(Page {
        total: page.total,
        limit: page.limit,
        offset: page.offset,
        items: page
            .items
            .into_iter()
            .filter_map(|c| party(caller, &c).map(|p| view(caller, c, p)))
            .collect(),
    })
}

/// `GET /connections/{id}`.
pub async fn get(ctx: &App, caller: &Caller, id: i64) -> Result<ConnectionDetail, AppError> {
    let (c, p) = load(ctx, caller, id).await?;
    let history = ctx.store.connection_steps(id).await?;
    let feedback = ctx
        .store
        .connection_feedback(id)
        .await?
        .into_iter()
        .map(|(u, h, useful)| json!({"user_id": u, "happened": h, "useful": useful}))
        .collect();
    Ok(ConnectionDetail {
        view: view(caller, c, p),
        history,
        feedback,
    })
}

fn turn_error(c: &Connection) -> AppError {
    let st = status_of(c);
    if !st.is_open() {
        return AppError::Conflict {
            code: Code::REQUEST_CLOSED,
            message: format!(
                "该申请已是“{}”，不能再答复 / the request is {} and takes no more answers",
                st.label_zh(),
                st.code()
            ),
        };
    }
    AppError::Conflict {
        code: Code::NOT_YOUR_TURN,
        message: if c.turn == "sender" {
            "现在等待申请方答复新提议的时间 / it is the sender's turn to answer the proposed time"
                .into()
        } else {
            "现在等待被申请方答复 / it is the recipient's turn to answer".into()
        },
    }
}

/// The party allowed to answer now (the side whose turn it is), or the refusal.
fn answerer(c: &Connection, p: Party) -> Result<(), AppError> {
    match p {
        Party::Sender | Party::Recipient if p == whose_turn(c) && status_of(c).is_open() => Ok(()),
        Party::Sender | Party::Recipient => Err(turn_error(c)),
        Party::Broker | Party::Programme => Err(AppError::forbidden(
            "只有双方单位的成员可以答复对接申请",
            "only members of the two organizations answer a request",
        )),
    }
}

fn meeting_field(rec: &Record, required: bool, errors: &mut FieldErrors) -> Option<Meeting> {
    match rec.get("meeting") {
        None | Some(Value::Null) => {
            if required {
                errors.push(
                    "meeting",
                    "required",
                    "请填写建议的会谈时间与地点",
                    "a meeting is required",
                );
            }
            None
        }
        Some(v) => rules::parse_meeting(v, "meeting", chrono::Utc::now(), errors),
    }
}

/// The other side's people for a step taken by `p`.
async fn other_side(
    ctx: &App,
    c: &Connection,
    p: Party,
) -> Result<Vec<(i64, String, String)>, AppError> {
    match p {
        Party::Recipient => sender_people(ctx, c).await,
        _ => recipients(ctx, c.to_org_id, c.assignee_id).await,
    }
}

/// The ledger entry an acceptance opens.
async fn entry_draft(ctx: &App, c: &Connection) -> Result<EntryDraft, AppError> {
    let (need, partner) = if c.from_kind == "need" {
        (
            (c.from_id, c.from_org_id),
            (c.to_kind.clone(), c.to_id, c.to_org_id),
        )
    } else {
        (
            (c.to_id, c.to_org_id),
            (c.from_kind.clone(), c.from_id, c.from_org_id),
        )
    };
    let need_l = listing(ctx, ListingKind::Need, need.0).await?;
    let partner_l = listing(ctx, kind_of(&partner.0), partner.1).await?;
    let title = format!(
        "{} ↔ {}",
        need_l
            .as_ref()
            .map(|l| l.title.clone())
            .unwrap_or_else(|| "（需求已删除）".into()),
        partner_l
            .as_ref()
            .map(|l| l.title.clone())
            .unwrap_or_else(|| "（已删除）".into())
    );
    let year = chrono::Datelike::year(&chrono::Utc::now()) as i64;
    Ok(EntryDraft {
        enterprise_id: need.1,
        university_id: partner.2,
        need_id: Some(need.0),
        partner_kind: partner.0,
        partner_id: partner.1,
        title,
        industry: need_l.as_ref().and_then(|l| l.industry.clone()),
        city: need_l.as_ref().and_then(|l| l.org_city.clone()),
        year,
    })
}

async fn apply(
    ctx: &App,
    caller: &Caller,
    c: &Connection,
    expected: &[&str],
    ch: ConnectionChange,
    out: Outgoing,
) -> Result<ConnectionView, AppError> {
    let a = actor(caller);
    let after = json!({"action": ch.action, "status": ch.status, "detail": ch.detail});
    let updated = crate::audit::within(
        ctx,
        caller,
        &format!("connection_{}", ch.action),
        "connection",
        Some(c.id),
        Some(&json!({"status": c.status})),
        Some(&after),
        ctx.store
            .change_connection(c.id, expected, Some(&c.updated_at), &ch, &a, &out),
    )
    .await?;
    let p = party(caller, &updated).unwrap_or(Party::Programme);
    Ok(view(caller, updated, p))
}

fn feedback_due(meeting: Option<&Meeting>, days_without: f64) -> String {
    match meeting.and_then(|m| m.end_at()) {
        Some(end) => end
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => ts_in(days_without),
    }
}

/// `POST /connections/{id}/accept {message?, meeting?}` — by the side whose turn it is.
/// Accepting a counter-proposal without a meeting takes the proposed one.
pub async fn accept(
    ctx: &App,
    caller: &Caller,
    id: i64,
    rec: &Record,
) -> Result<ConnectionView, AppError> {
    let (c, p) = load(ctx, caller, id).await?;
    answerer(&c, p)?;
    let mut errors = FieldErrors::default();
    let mut r = Reader::new(rec);
    let message = r.text("message", 1000, true);
    errors.0.extend(r.finish_ignoring(&["meeting"]).0);
    let meeting = meeting_field(rec, false, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let meeting = meeting.or_else(|| {
        c.meeting
            .as_ref()
            .and_then(|m| serde_json::from_value::<Meeting>(m.clone()).ok())
    });
    let entry = entry_draft(ctx, &c).await?;
    let mut shown = c.clone();
    shown.meeting = meeting.as_ref().map(|m| json!(m));
    let mut out = Outgoing::default();
    let people = other_side(ctx, &c, p).await?;
    let mut facts = facts_of(&shown);
    if meeting.is_some() {
        facts.push((
            "日历文件".into(),
            format!("{}/api/v1/connections/{id}/meeting.ics", ctx.public_url()),
        ));
    }
    tell(
        ctx,
        &mut out,
        &people,
        id,
        "accepted",
        format!("对接申请已接受：{}", c.to_title.clone().unwrap_or_default()),
        format!(
            "{} 已接受对接申请{}。双方现在可以在平台上看到彼此的联系方式。",
            if p == Party::Recipient {
                c.to_org_name.clone()
            } else {
                c.from_org_name.clone()
            }
            .unwrap_or_default(),
            if meeting.is_some() {
                "，会谈安排如下"
            } else {
                ""
            }
        ),
        facts,
        message.clone(),
        "查看申请与联系方式",
    )
    .await?;
    let ch = ConnectionChange {
        status: Some("accepted".into()),
        message: message.clone(),
        meeting: meeting.as_ref().map(|m| json!(m).to_string()),
        close: true,
        answers: true,
        feedback_due_at: Some(feedback_due(
            meeting.as_ref(),
            ctx.settings.connections.feedback_days_without_meeting,
        )),
        open_entry: Some(entry),
        action: "accepted".into(),
        detail: meeting.as_ref().map(Meeting::describe_zh).or(message),
        ..Default::default()
    };
    apply(ctx, caller, &c, &["pending", "proposed"], ch, out).await
}

/// `POST /connections/{id}/decline {reason, note?}`.
pub async fn decline(
    ctx: &App,
    caller: &Caller,
    id: i64,
    rec: &Record,
) -> Result<ConnectionView, AppError> {
    let (c, p) = load(ctx, caller, id).await?;
    answerer(&c, p)?;
    let mut errors = FieldErrors::default();
    let mut r = Reader::new(rec);
    let reason = r.choice_or("reason", DeclineReason::TABLE, None);
    let note = r.text("note", 1000, true);
    errors.0.extend(r.finish().0);
    if reason == Some("other") && note.is_none() {
        errors.push(
            "note",
            "required",
            "选择“其他原因”时请简要说明",
            "say why when the reason is other",
        );
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let reason = reason
        .and_then(DeclineReason::parse)
        .unwrap_or(DeclineReason::Other);
    let mut out = Outgoing::default();
    let people = other_side(ctx, &c, p).await?;
    tell(
        ctx,
        &mut out,
        &people,
        id,
        "declined",
        format!(
            "对接申请未被接受：{}",
            c.to_title.clone().unwrap_or_default()
        ),
        format!(
            "对方谢绝了这次对接申请，原因：{}。您可以继续在平台上寻找其他合适的合作方。",
            reason.label_zh()
        ),
        facts_of(&c),
        note.clone(),
        "查看申请",
    )
    .await?;
    let ch = ConnectionChange {
        status: Some("declined".into()),
        decline_reason: Some(reason.code().into()),
        decline_note: note.clone(),
        close: true,
        answers: true,
        action: "declined".into(),
        detail: Some(match &note {
            Some(n) => format!("{}：{n}", reason.label_zh()),
            None => reason.label_zh().into(),
        }),
        ..Default::default()
    };
    apply(ctx, caller, &c, &["pending", "proposed"], ch, out).await
}

/// `POST /connections/{id}/propose {meeting, message?}`: another time; the other side's
/// turn to accept or decline.
pub async fn propose(
    ctx: &App,
    caller: &Caller,
    id: i64,
    rec: &Record,
) -> Result<ConnectionView, AppError> {
    let (c, p) = load(ctx, caller, id).await?;
    answerer(&c, p)?;
    let mut errors = FieldErrors::default();
    let mut r = Reader::new(rec);
    let message = r.text("message", 1000, true);
    errors.0.extend(r.finish_ignoring(&["meeting"]).0);
    let meeting = meeting_field(rec, true, &mut errors);
    let Some(meeting) = meeting.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let mut shown = c.clone();
    shown.meeting = Some(json!(meeting));
    let mut out = Outgoing::default();
    let people = other_side(ctx, &c, p).await?;
    tell(
        ctx,
        &mut out,
        &people,
        id,
        &format!("proposed-{}", random_hex(4)?),
        format!(
            "对方提议了会谈时间：{}",
            c.to_title.clone().unwrap_or_default()
        ),
        "对方愿意洽谈，并提议了以下会谈安排。请接受，或提议其他时间，或说明原因谢绝。".to_string(),
        facts_of(&shown),
        message.clone(),
        "查看并答复",
    )
    .await?;
    let next_turn = if p == Party::Recipient {
        "sender"
    } else {
        "recipient"
    };
    let ch = ConnectionChange {
        status: Some("proposed".into()),
        turn: Some(next_turn.into()),
        message,
        meeting: Some(json!(meeting).to_string()),
        answers: p == Party::Recipient,
        action: "proposed".into(),
        detail: Some(meeting.describe_zh()),
        ..Default::default()
    };
    apply(ctx, caller, &c, &["pending", "proposed"], ch, out).await
}

/// `POST /connections/{id}/withdraw` — by the sender side while the request is open.
pub async fn withdraw(
    ctx: &App,
    caller: &Caller,
    id: i64,
    rec: &Record,
) -> Result<ConnectionView, AppError> {
    let (c, p) = load(ctx, caller, id).await?;
    let mut errors = FieldErrors::default();
    let mut r = Reader::new(rec);
    let note = r.text("note", 500, true);
    errors.0.extend(r.finish().0);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if p != Party::Sender {
        return Err(AppError::forbidden(
            "只有申请方可以撤回申请",
            "only the sending side withdraws a request",
        ));
    }
    if !status_of(&c).is_open() {
        return Err(turn_error(&c));
    }
    let mut out = Outgoing::default();
    let people = recipients(ctx, c.to_org_id, c.assignee_id).await?;
    tell(
        ctx,
        &mut out,
        &people,
        id,
        "withdrawn",
        format!("对接申请已撤回：{}", c.to_title.clone().unwrap_or_default()),
        "申请方撤回了这条对接申请，无需再答复。".into(),
        facts_of(&c),
        note.clone(),
        "查看申请",
    )
    .await?;
    let ch = ConnectionChange {
        status: Some("withdrawn".into()),
        close: true,
        action: "withdrawn".into(),
        detail: note,
        ..Default::default()
    };
    apply(ctx, caller, &c, &["pending", "proposed"], ch, out).await
}

/// `POST /connections/{id}/assign {user_id}`: an organisation administrator (or an
/// organiser) hands a received request to a colleague of the receiving organisation.
pub async fn assign(
    ctx: &App,
    caller: &Caller,
    id: i64,
    rec: &Record,
) -> Result<ConnectionView, AppError> {
    let (c, p) = load(ctx, caller, id).await?;
    let mut errors = FieldErrors::default();
    let mut r = Reader::new(rec);
    let uid = r.int("user_id", 1, i64::MAX);
    errors.0.extend(r.finish().0);
    if !may_assign(caller, p) {
        return Err(AppError::forbidden(
            "只有被申请单位的管理员可以转交申请",
            "only an administrator of the receiving organization hands a request on",
        ));
    }
    let Some(uid) = uid.filter(|_| errors.is_empty()) else {
        if errors.is_empty() {
            errors.push("user_id", "required", "请选择同事", "user_id is required");
        }
        return Err(AppError::Validation(errors));
    };
    let colleague = match ctx.store.user(uid).await {
        Ok(u) if u.organization_id == c.to_org_id && u.status == "active" && !u.disabled => u,
        Ok(_) | Err(duijie_store::StoreError::NotFound { .. }) => {
            let mut e = FieldErrors::default();
            e.push(
                "user_id",
                "not_a_colleague",
                "只能转交给本单位已开通的账号",
                "a request can be handed only to an active member of the receiving organization",
            );
            return Err(AppError::Validation(e));
        }
        Err(e) => return Err(e.into()),
    };
    let name = colleague
        .name
        .clone()
        .unwrap_or_else(|| colleague.email.clone());
    let mut out = Outgoing::default();
    tell(
        ctx,
        &mut out,
        &[(colleague.id, colleague.email.clone(), name.clone())],
        id,
        &format!("assigned-{}", colleague.id),
        format!(
            "转交给您的对接申请：{}",
            c.to_title.clone().unwrap_or_default()
        ),
        format!(
            "{} 把一条对接申请转交给您处理，请在 {} 前答复。",
            actor(caller).name,
            c.expires_at.get(..10).unwrap_or(&c.expires_at)
        ),
        facts_of(&c),
        (!c.note.is_empty()).then(|| c.note.clone()),
        "查看并答复",
    )
    .await?;
    let ch = ConnectionChange {
        assignee_id: Some(colleague.id),
        action: "assigned".into(),
        detail: Some(name),
        ..Default::default()
    };
    apply(
        ctx,
        caller,
        &c,
        &["pending", "proposed", "accepted"],
        ch,
        out,
    )
    .await
}

/// The colleagues a received request can be handed to: `(user id, name)` of the active
/// members of the receiving organisation (for an organisation administrator's form).
pub async fn colleagues(
    ctx: &App,
    caller: &Caller,
    id: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    let (c, p) = load(ctx, caller, id).await?;
    if !may_assign(caller, p) {
        return Ok(Vec::new());
    }
    let Some(org) = c.to_org_id else {
        return Ok(Vec::new());
    };
    Ok(ctx
        .store
        .members(org)
        .await?
        .into_iter()
        .map(|(uid, email, name, _)| {
            (
                uid,
                name.map(|n| format!("{n}（{email}）")).unwrap_or(email),
            )
        })
        .collect())
}

/// `POST /connections/{id}/broker {broker_id}`: an organiser assigns a broker (技术经纪人),
/// who then sees and follows the request and its ledger entry.
pub async fn set_broker(
    ctx: &App,
    caller: &Caller,
    id: i64,
    rec: &Record,
) -> Result<ConnectionView, AppError> {
    let (c, p) = load(ctx, caller, id).await?;
    if p != Party::Programme {
        return Err(AppError::forbidden(
            "只有组织者和管理员可以指派技术经纪人",
            "only organizers and administrators assign brokers",
        ));
    }
    let mut errors = FieldErrors::default();
    let mut r = Reader::new(rec);
    let bid = r.int("broker_id", 1, i64::MAX);
    errors.0.extend(r.finish().0);
    let Some(bid) = bid.filter(|_| errors.is_empty()) else {
        if errors.is_empty() {
            errors.push(
                "broker_id",
                "required",
                "请选择技术经纪人",
                "broker_id is required",
            );
        }
        return Err(AppError::Validation(errors));
    };
    let broker = check_broker(ctx, bid).await?;
    let name = broker.name.clone().unwrap_or_else(|| broker.email.clone());
    let mut out = Outgoing::default();
    tell(
        ctx,
        &mut out,
        &[(broker.id, broker.email.clone(), name.clone())],
        id,
        &format!("broker-{}", broker.id),
        format!("请跟进对接申请：{}", c.to_title.clone().unwrap_or_default()),
        "平台组织者请您作为技术经纪人跟进这条对接申请，直至签约与成果转化。".into(),
        facts_of(&c),
        None,
        "查看案件",
    )
    .await?;
    let ch = ConnectionChange {
        broker_id: Some(broker.id),
        action: "broker".into(),
        detail: Some(name),
        ..Default::default()
    };
    let all = [
        "pending",
        "proposed",
        "accepted",
        "declined",
        "withdrawn",
        "expired",
    ];
    apply(ctx, caller, &c, &all, ch, out).await
}

/// A user who is a broker (422 otherwise).
pub async fn check_broker(ctx: &App, id: i64) -> Result<User, AppError> {
    match ctx.store.user(id).await {
        Ok(u) if u.role == Role::Broker && !u.disabled && u.status == "active" => Ok(u),
        Ok(_) | Err(duijie_store::StoreError::NotFound { .. }) => {
            let mut e = FieldErrors::default();
            e.push(
                "broker_id",
                "not_a_broker",
                format!("用户 {id} 不是已开通的技术经纪人"),
                format!("user {id} is not an active broker"),
            );
            Err(AppError::Validation(e))
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /connections/{id}/meeting.ics`: the agreed (or proposed) meeting as a calendar file.
pub async fn ics(ctx: &App, caller: &Caller, id: i64) -> Result<String, AppError> {
    let (c, _) = load(ctx, caller, id).await?;
    let Some(m) = c
        .meeting
        .as_ref()
        .and_then(|m| serde_json::from_value::<Meeting>(m.clone()).ok())
    else {
        return Err(AppError::NotFound(
            "这条申请还没有会谈安排 / this request has no meeting yet".into(),
        ));
    };
    let host = url_host(&ctx.public_url());
    let ev = CalendarEvent {
        uid: format!("connection-{id}@{host}"),
        sequence: ctx
            .store
            .connection_steps(id)
            .await?
            .iter()
            .filter(|s| s.action == "proposed" || s.action == "accepted")
            .count() as i64,
        summary: format!(
            "对接洽谈：{} ↔ {}",
            c.from_org_name.clone().unwrap_or_default(),
            c.to_org_name.clone().unwrap_or_default()
        ),
        description: format!(
            "{}（{}）↔ {}（{}）\n{}/connections/{id}",
            c.from_title.clone().unwrap_or_default(),
            c.from_org_name.clone().unwrap_or_default(),
            c.to_title.clone().unwrap_or_default(),
            c.to_org_name.clone().unwrap_or_default(),
            ctx.public_url()
        ),
        meeting: m,
    };
    Ok(rules::ics(&[ev], chrono::Utc::now()))
}

pub(crate) fn url_host(u: &str) -> String {
    u.split("://")
        .nth(1)
        .unwrap_or(u)
        .split(['/', ':'])
        .next()
        .unwrap_or("duijie")
        .to_string()
}

// ---- the meeting question ------------------------------------------------------------

/// The answers of the one-tap question.
pub const ANSWERS: &[(&str, &str)] = &[
    ("useful", "已举行，很有帮助"),
    ("not_useful", "已举行，帮助不大"),
    ("no_show", "没有举行"),
];

fn feedback_signature(key: &str, id: i64, user_id: i64, answer: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("feedback:{id}:{user_id}:{answer}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn feedback_key(ctx: &App) -> Result<String, AppError> {
    Ok(ctx.store.server_key("feedback", &random_hex(32)?).await?)
}

/// The signed one-tap link of an answer.
pub async fn feedback_link(
    ctx: &App,
    id: i64,
    user_id: i64,
    answer: &str,
) -> Result<String, AppError> {
    let key = feedback_key(ctx).await?;
    Ok(format!(
        "{}/connections/{id}/feedback?u={user_id}&a={answer}&s={}",
        ctx.public_url(),
        feedback_signature(&key, id, user_id, answer)
    ))
}

fn parse_answer(a: &str) -> Option<(bool, Option<bool>)> {
    match a {
        "useful" => Some((true, Some(true))),
        "not_useful" => Some((true, Some(false))),
        "happened" => Some((true, None)),
        "no_show" => Some((false, None)),
        _ => None,
    }
}

/// Records an answer from a signed link (no sign-in): a forged or altered link is refused
/// and changes nothing; a second answer from the same person is a 409.
pub async fn feedback_signed(
    ctx: &App,
    id: i64,
    user_id: i64,
    answer: &str,
    sig: &str,
) -> Result<ConnectionView, AppError> {
    let refused = || {
        AppError::bad_request(
            Code::INVALID_PARAMETER,
            "链接无效，请从邮件中完整打开，或登录后在申请页面回答",
            "this link is not valid; open it whole from the mail, or sign in and answer on the request's page",
        )
    };
    let Some((happened, useful)) = parse_answer(answer) else {
        return Err(refused());
    };
    let key = feedback_key(ctx).await?;
    if !same_secret(&feedback_signature(&key, id, user_id, answer), sig) {
        return Err(refused());
    }
    let user = ctx.store.user(user_id).await.map_err(|_| refused())?;
    let c = ctx.store.connection(id).await.map_err(|_| refused())?;
    let as_user = Caller {
        user: Some(user),
        ..Caller::anonymous()
    };
    let Some(p) = party(&as_user, &c).filter(|p| matches!(p, Party::Sender | Party::Recipient))
    else {
        return Err(refused());
    };
    record_feedback(ctx, &as_user, c, p, happened, useful).await
}

/// `POST /connections/{id}/feedback {answer}` for a signed-in party.
pub async fn feedback(
    ctx: &App,
    caller: &Caller,
    id: i64,
    rec: &Record,
) -> Result<ConnectionView, AppError> {
    let (c, p) = load(ctx, caller, id).await?;
    let mut errors = FieldErrors::default();
    let mut r = Reader::new(rec);
    let answer = r.choice_or("answer", ANSWERS, None);
    errors.0.extend(r.finish().0);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if !matches!(p, Party::Sender | Party::Recipient) {
        return Err(AppError::forbidden(
            "只有参加会谈的双方可以回答",
            "only the two sides of the meeting answer",
        ));
    }
    let (happened, useful) = answer.and_then(parse_answer).unwrap_or((false, None));
    record_feedback(ctx, caller, c, p, happened, useful).await
}

async fn record_feedback(
    ctx: &App,
    caller: &Caller,
    c: Connection,
    p: Party,
    happened: bool,
    useful: Option<bool>,
) -> Result<ConnectionView, AppError> {
    if status_of(&c) != ConnectionStatus::Accepted {
        return Err(AppError::Conflict {
            code: Code::NOT_ACCEPTED,
            message: "这条申请未被接受，没有会谈可反馈 / the request was not accepted; there is no meeting to answer about".into(),
        });
    }
    let a = actor(caller);
    let updated = ctx
        .store
        .record_connection_feedback(c.id, &a, happened, useful)
        .await?;
    Ok(view(caller, updated, p))
}

/// `POST /connections/{id}/outcome {status, ...}`: either side (or the broker, or an
/// organiser) records what came of an accepted request — intention, contract (amount,
/// date, mode, 技术合同登记号, broker), transfer — on its ledger entry.
pub async fn outcome(
    ctx: &App,
    caller: &Caller,
    id: i64,
    rec: &Record,
) -> Result<duijie_store::LedgerEntry, AppError> {
    let (c, _) = load(ctx, caller, id).await?;
    let Some(entry) = c
        .ledger_entry_id
        .filter(|_| status_of(&c) == ConnectionStatus::Accepted)
    else {
        return Err(AppError::Conflict {
            code: Code::NOT_ACCEPTED,
            message: "这条申请未被接受，还没有台账记录 / the request was not accepted, so it has no ledger entry".into(),
        });
    };
    let o = duijie_domain::ledger::parse_outcome(rec)?;
    if let Some(b) = o.broker_id {
        check_broker(ctx, b).await?;
    }
    let a = actor(caller);
    let before = json!({"status": c.ledger_status});
    let after = json!({"status": o.status, "registration_no": o.registration_no});
    Ok(crate::audit::within(
        ctx,
        caller,
        "record_outcome",
        "ledger_entry",
        Some(entry),
        Some(&before),
        Some(&after),
        ctx.store.record_outcome(entry, &o, &a, None),
    )
    .await?)
}

// ---- contacts --------------------------------------------------------------------------

/// Who sees a listing's contact details, decided once per request.
#[derive(Debug, Clone)]
pub enum ContactPolicy {
    /// Nobody (not signed in).
    Nobody,
    /// Everyone the listing is shown to (organisers, brokers, `members` mode, the CLI).
    All,
    /// The caller's own organisation and those with an accepted request with it, plus
    /// listings whose owner shows them to every member.
    Partners(Option<i64>, HashSet<i64>),
}

impl ContactPolicy {
    /// The policy for `caller`.
    pub async fn of(ctx: &App, caller: &Caller) -> Result<ContactPolicy, AppError> {
        if matches!(caller.via, Via::Local(_)) {
            return Ok(ContactPolicy::All);
        }
        let Some(u) = &caller.user else {
            return Ok(ContactPolicy::Nobody);
        };
        if u.role.keeps_programme()
            || u.role == Role::Broker
            || ctx.settings.privacy.contacts == "members"
        {
            return Ok(ContactPolicy::All);
        }
        let partners = match u.organization_id {
            Some(o) => ctx.store.accepted_partners(o).await?.into_iter().collect(),
            None => HashSet::new(),
        };
        Ok(ContactPolicy::Partners(u.organization_id, partners))
    }

    /// Whether a listing owned by `owner` (shown to every member when `public`) shows its
    /// contact details.
    pub fn sees(&self, owner: Option<i64>, public: bool) -> bool {
        match self {
            ContactPolicy::Nobody => false,
            ContactPolicy::All => true,
            ContactPolicy::Partners(own, partners) => {
                public
                    || owner.is_some() && owner == *own
                    || owner.is_some_and(|o| partners.contains(&o))
            }
        }
    }
}

// ---- figures ---------------------------------------------------------------------------

/// One step of the funnel.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelStep {
    /// `requests`, `accepted`, `met`, `intention`, `contract`, `transferred`.
    pub step: &'static str,
    /// Chinese label.
    pub label: &'static str,
    /// Requests that reached it.
    pub count: i64,
    /// Share of the previous step (the first step: 1).
    pub conversion: f64,
}

/// The funnel of a group (all, a zone, an industry, a month).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Funnel {
    /// The group's key (`all`, a zone code, an industry code, `YYYY-MM`).
    pub key: String,
    /// Its label.
    pub label: String,
    /// The six steps.
    pub steps: Vec<FunnelStep>,
}

/// The funnel overall and by zone, industry and month.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FunnelReport {
    /// All requests in the period.
    pub overall: Funnel,
    /// By zone of the enterprise side.
    pub by_zone: Vec<Funnel>,
    /// By industry of the need.
    pub by_industry: Vec<Funnel>,
    /// By month the request was sent.
    pub by_month: Vec<Funnel>,
    /// Contracts and transfers per broker: `{broker_id, name, cases, contracts, transferred}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub by_broker: Vec<Value>,
}

const STEPS: &[(&str, &str, i64)] = &[
    ("requests", "对接申请", 0),
    ("accepted", "已接受", 1),
    ("met", "已洽谈", 2),
    ("intention", "达成意向", 3),
    ("contract", "已签约", 4),
    ("transferred", "已转化", 5),
];

fn funnel_of(key: String, label: String, facts: &[&duijie_store::ConnectionFact]) -> Funnel {
    let mut steps = Vec::new();
    let mut prev = 0i64;
    for (i, (code, l, stage)) in STEPS.iter().enumerate() {
        let count = facts
            .iter()
            .filter(|f| *stage == 0 || f.max_stage.unwrap_or(0) >= *stage)
            .count() as i64;
        let conversion = if i == 0 {
            1.0
        } else if prev == 0 {
            0.0
        } else {
            ((count as f64 / prev as f64) * 1000.0).round() / 1000.0
        };
        steps.push(FunnelStep {
            step: code,
            label: l,
            count,
            conversion,
        });
        prev = count;
    }
    Funnel { key, label, steps }
}

/// `GET /connections/funnel?from=YYYY-MM-DD`: programme keepers only.
pub async fn funnel(
    ctx: &App,
    caller: &Caller,
    from: Option<&str>,
) -> Result<FunnelReport, AppError> {
    let u = caller.require()?;
    if !u.role.keeps_programme() {
        return Err(AppError::forbidden(
            "只有组织者和管理员可以查看对接漏斗",
            "only organizers and administrators see the funnel",
        ));
    }
    let facts = ctx.store.connection_facts(from.unwrap_or("0000")).await?;
    let all: Vec<&_> = facts.iter().collect();
    let overall = funnel_of("all".into(), "全部".into(), &all);
    let mut zones: BTreeMap<String, Vec<&duijie_store::ConnectionFact>> = BTreeMap::new();
    let mut industries: BTreeMap<String, Vec<&duijie_store::ConnectionFact>> = BTreeMap::new();
    let mut months: BTreeMap<String, Vec<&duijie_store::ConnectionFact>> = BTreeMap::new();
    for f in &facts {
        for z in f
            .city
            .as_deref()
            .map(duijie_domain::zones_of_city)
            .unwrap_or_default()
        {
            zones.entry(z.code().to_string()).or_default().push(f);
        }
        if let Some(i) = &f.industry {
            industries.entry(i.clone()).or_default().push(f);
        }
        months
            .entry(f.created_at.get(..7).unwrap_or("").to_string())
            .or_default()
            .push(f);
    }
    let by_zone = zones
        .into_iter()
        .map(|(k, v)| {
            let label = duijie_domain::Zone::parse(&k)
                .map(|z| z.label_zh().to_string())
                .unwrap_or_else(|| k.clone());
            funnel_of(k, label, &v)
        })
        .collect();
    let by_industry = industries
        .into_iter()
        .map(|(k, v)| {
            let label = ctx.vocab.industry_label(&k).unwrap_or(&k).to_string();
            funnel_of(k, label, &v)
        })
        .collect();
    let by_month = months
        .into_iter()
        .map(|(k, v)| funnel_of(k.clone(), k, &v))
        .collect();
    let mut brokers: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for f in &facts {
        if let Some(b) = f.broker_id {
            let e = brokers.entry(b).or_default();
            e.0 += 1;
            e.1 += i64::from(f.max_stage.unwrap_or(0) >= 4);
            e.2 += i64::from(f.max_stage.unwrap_or(0) >= 5);
        }
    }
    let mut by_broker = Vec::new();
    for (b, (cases, contracts, transferred)) in brokers {
        let name = ctx
            .store
            .user(b)
            .await
            .map(|u| u.name.unwrap_or(u.email))
            .unwrap_or_else(|_| format!("用户 {b}"));
        by_broker.push(json!({"broker_id": b, "name": name, "cases": cases, "contracts": contracts, "transferred": transferred}));
    }
    Ok(FunnelReport {
        overall,
        by_zone,
        by_industry,
        by_month,
        by_broker,
    })
}

/// How an organisation answers requests (last 12 months).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Responsiveness {
    /// Requests received in the last 12 months (withdrawn ones not counted).
    pub received: i64,
    /// Of those, answered (accepted, declined or a counter-proposal).
    pub answered: i64,
    /// answered / received; `None` without requests.
    pub response_rate: Option<f64>,
    /// Median days from request to first answer; `None` without answers.
    pub median_days: Option<f64>,
    /// `通常在 3 天内回复`, or `None` with too few answers to say.
    pub summary: Option<String>,
}

/// The responsiveness of an organisation (public: it helps people choose whom to ask).
pub async fn responsiveness(ctx: &App, org_id: i64) -> Result<Responsiveness, AppError> {
    ctx.store.organization(org_id).await?;
    let since = (chrono::Utc::now() - chrono::Duration::days(365))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let facts = ctx.store.connection_facts(&since).await?;
    let mine: Vec<_> = facts
        .iter()
        .filter(|f| f.to_org_id == Some(org_id))
        .filter(|f| !(f.status == "withdrawn" && f.answered_at.is_none()))
        .collect();
    let received = mine.len() as i64;
    let mut days: Vec<f64> = mine
        .iter()
        .filter_map(|f| {
            let a = chrono::DateTime::parse_from_rfc3339(f.answered_at.as_deref()?).ok()?;
            let c = chrono::DateTime::parse_from_rfc3339(&f.created_at).ok()?;
            Some((a - c).num_seconds() as f64 / 86_400.0)
        })
        .collect();
    days.sort_by(f64::total_cmp);
    let answered = days.len() as i64;
    let median_days = match days.len() {
        0 => None,
        n if n % 2 == 1 => Some(days[n / 2]),
        n => Some((days[n / 2 - 1] + days[n / 2]) / 2.0),
    }
    .map(|d| (d * 10.0).round() / 10.0);
    let response_rate =
        (received > 0).then(|| ((answered as f64 / received as f64) * 1000.0).round() / 1000.0);
    let summary = median_days.filter(|_| answered >= 1).map(|d| {
        let n = d.ceil().max(1.0) as i64;
        format!("通常在 {n} 天内回复")
    });
    Ok(Responsiveness {
        received,
        answered,
        response_rate,
        median_days,
        summary,
    })
}

// ---- the worker ------------------------------------------------------------------------

/// What one sweep did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sweep {
    /// Reminders sent.
    pub reminded: usize,
    /// Requests expired.
    pub expired: usize,
    /// Meeting questions asked.
    pub asked: usize,
    /// Follow-ups sent.
    pub followed_up: usize,
}

fn cutoff_days_ago(days: f64) -> String {
    ts_in(-days)
}

#[allow(clippy::too_many_arguments)]
async fn sweep_letters(
    ctx: &App,
    people: &[(i64, String, String)],
    c: &Connection,
    subject: String,
    headline: String,
    answers: bool,
    button: &str,
    after: Option<String>,
) -> Result<Vec<NewMail>, AppError> {
    let mut out = Vec::new();
    for (uid, email, name) in people {
        let mut links = Vec::new();
        if answers {
            for (a, label) in ANSWERS {
                links.push((label.to_string(), feedback_link(ctx, c.id, *uid, a).await?));
            }
        }
        let letter = Letter {
            template: "connection",
            category: CATEGORY,
            to: email.clone(),
            user_id: Some(*uid),
            subject: subject.clone(),
            vars: json!({
                "name": name, "headline": headline, "facts": facts_of(c),
                "answers": if answers { json!(links) } else { Value::Null },
                "link": format!("{}/connections/{}", ctx.public_url(), c.id),
                "button_label": button, "after": after,
            }),
        };
        out.push(mail::compose(ctx, letter).await?);
    }
    Ok(out)
}

fn notes_for(
    people: &[(i64, String, String)],
    c: &Connection,
    key: &str,
    title: &str,
    body: &str,
) -> Vec<Note> {
    people
        .iter()
        .map(|(uid, _, _)| Note {
            user_id: *uid,
            dedup_key: format!("connection:{}:{key}:{uid}", c.id),
            title: title.to_string(),
            body: body.to_string(),
            link: Some(format!("/connections/{}", c.id)),
        })
        .collect()
}

/// One pass: reminders before expiry, expiry, the meeting question, follow-ups. Every
/// step is conditional in the store, so servers sharing a database never send twice.
pub async fn sweep(ctx: &App) -> Result<Sweep, AppError> {
    let s = ctx.settings.connections.clone();
    let mut done = Sweep::default();
    let now = ts_in(0.0);
    // reminders: open requests expiring within remind_days_before
    for c in ctx
        .store
        .connections_expiring(&ts_in(s.remind_days_before), true, 200)
        .await?
    {
        if c.expires_at <= now {
            continue; // expires in this pass
        }
        let people = if c.turn == "sender" {
            sender_people(ctx, &c).await?
        } else {
            recipients(ctx, c.to_org_id, c.assignee_id).await?
        };
        let subject = format!(
            "对接申请即将过期：{}",
            c.to_title.clone().unwrap_or_default()
        );
        let headline = format!(
            "这条对接申请还在等待您的答复，将于 {} 过期。请接受、提议其他时间或说明原因谢绝。",
            c.expires_at.get(..10).unwrap_or(&c.expires_at)
        );
        let mails = sweep_letters(
            ctx,
            &people,
            &c,
            subject.clone(),
            headline.clone(),
            false,
            "查看并答复",
            None,
        )
        .await?;
        let out = Outgoing {
            mails,
            notes: notes_for(&people, &c, "reminded", &subject, &headline),
        };
        if ctx
            .store
            .mark_connection(c.id, Mark::Reminded, &out)
            .await?
        {
            done.reminded += 1;
        }
    }
    // expiry
    for c in ctx.store.connections_expiring(&now, false, 200).await? {
        let people = both_sides(ctx, &c).await?;
        let subject = format!("对接申请已过期：{}", c.to_title.clone().unwrap_or_default());
        let headline = format!(
            "这条对接申请在 {} 天内没有得到答复，已自动过期。申请方可以重新发起。",
            s.expire_days.round()
        );
        let out = Outgoing {
            mails: sweep_letters(
                ctx,
                &people,
                &c,
                subject.clone(),
                headline.clone(),
                false,
                "查看申请",
                None,
            )
            .await?,
            notes: notes_for(&people, &c, "expired", &subject, &headline),
        };
        let ch = ConnectionChange {
            status: Some("expired".into()),
            close: true,
            action: "expired".into(),
            ..Default::default()
        };
        let a = LedgerActor {
            user_id: None,
            name: "duijie".into(),
        };
        match ctx
            .store
            .change_connection(
                c.id,
                &["pending", "proposed"],
                Some(&c.updated_at),
                &ch,
                &a,
                &out,
            )
            .await
        {
            Ok(_) => done.expired += 1,
            Err(duijie_store::StoreError::Conflict { .. }) => {} // answered or expired meanwhile
            Err(e) => return Err(e.into()),
        }
    }
    // the meeting question
    for c in ctx
        .store
        .connections_due(Mark::FeedbackAsked, &now, 200)
        .await?
    {
        let people = both_sides(ctx, &c).await?;
        let subject = format!("会谈举行了吗？{}", c.to_title.clone().unwrap_or_default());
        let headline = "你们约定的对接会谈时间已过。会谈举行了吗，对您有帮助吗？点一下即可回答，这会帮助平台改进推荐。".to_string();
        let mails = sweep_letters(
            ctx,
            &people,
            &c,
            subject.clone(),
            headline.clone(),
            true,
            "在平台上回答",
            None,
        )
        .await?;
        let out = Outgoing {
            mails,
            notes: notes_for(&people, &c, "feedback", &subject, &headline),
        };
        if ctx
            .store
            .mark_connection(c.id, Mark::FeedbackAsked, &out)
            .await?
        {
            done.asked += 1;
        }
    }
    // follow-ups
    for (mark, days, months) in [
        (Mark::FollowUp1, s.first_follow_up_days, "三个月"),
        (Mark::FollowUp2, s.second_follow_up_days, "六个月"),
    ] {
        for c in ctx
            .store
            .connections_due(mark, &cutoff_days_ago(days), 200)
            .await?
        {
            if matches!(
                c.ledger_status.as_deref(),
                Some("transferred" | "dropped" | "declined")
            ) {
                let _ = ctx
                    .store
                    .mark_connection(c.id, mark, &Outgoing::default())
                    .await?;
                continue;
            }
            let people = both_sides(ctx, &c).await?;
            let subject = format!("合作进展如何？{}", c.to_title.clone().unwrap_or_default());
            let headline = format!(
                "双方会谈已过去约{months}。合作有进展吗？请在平台上登记：达成意向、签订技术合同（金额、日期、方式、技术合同登记号），或成果已转化。"
            );
            let mails = sweep_letters(
                ctx,
                &people,
                &c,
                subject.clone(),
                headline.clone(),
                false,
                "登记合作进展",
                Some("没有进展也没关系，如合作终止，也请在平台上说明，便于统计。".into()),
            )
            .await?;
            let out = Outgoing {
                mails,
                notes: notes_for(&people, &c, mark_key(mark), &subject, &headline),
            };
            if ctx.store.mark_connection(c.id, mark, &out).await? {
                done.followed_up += 1;
            }
        }
    }
    Ok(done)
}

fn mark_key(m: Mark) -> &'static str {
    match m {
        Mark::FollowUp1 => "follow_up_1",
        Mark::FollowUp2 => "follow_up_2",
        Mark::Reminded => "reminded",
        Mark::FeedbackAsked => "feedback",
    }
}

/// Sweeps every `[connections] sweep_interval_secs` until `stop`.
pub async fn worker(ctx: App, mut stop: tokio::sync::watch::Receiver<bool>) {
    let every = std::time::Duration::from_secs(ctx.settings.connections.sweep_interval_secs);
    loop {
        match sweep(&ctx).await {
            Ok(s) if s.reminded + s.expired + s.asked + s.followed_up > 0 => {
                tracing::info!(
                    reminded = s.reminded,
                    expired = s.expired,
                    asked = s.asked,
                    followed_up = s.followed_up,
                    "connection requests swept"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "connection sweep failed; retrying next time"),
        }
        // the day-before reminders and the morning-after question of events share this sweep
        match crate::events::remind_due(&ctx).await {
            Ok(n) if n > 0 => tracing::info!(events = n, "event reminders queued"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "event reminders failed; retrying next time"),
        }
        match crate::events::ask_feedback_due(&ctx).await {
            Ok(n) if n > 0 => tracing::info!(events = n, "event feedback questions queued"),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "event feedback questions failed; retrying next time")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_keys_ignore_direction() {
        let a = (ListingKind::Need, 3);
        let b = (ListingKind::Result, 12);
        assert_eq!(pair_key(a, b), pair_key(b, a));
        assert_ne!(pair_key(a, b), pair_key(a, (ListingKind::Result, 13)));
    }

    #[test]
    fn feedback_links_are_bound_to_request_user_and_answer() {
        let s = feedback_signature("k", 1, 2, "useful");
        assert_ne!(s, feedback_signature("k", 1, 2, "no_show"));
        assert_ne!(s, feedback_signature("k", 1, 3, "useful"));
        assert_ne!(s, feedback_signature("k", 9, 2, "useful"));
        assert_ne!(s, feedback_signature("other", 1, 2, "useful"));
    }

    #[test]
    fn contact_policy_shows_partners_and_public_listings_only() {
        let p = ContactPolicy::Partners(Some(1), [7].into_iter().collect());
        assert!(p.sees(Some(1), false), "own organisation");
        assert!(p.sees(Some(7), false), "accepted partner");
        assert!(!p.sees(Some(8), false), "stranger");
        assert!(p.sees(Some(8), true), "shown to all members by its owner");
        assert!(!ContactPolicy::Nobody.sees(Some(8), true));
        assert!(ContactPolicy::All.sees(None, false));
    }

    #[test]
    fn funnel_conversions_follow_the_stages() {
        let f = |stage: Option<i64>| duijie_store::ConnectionFact {
            id: 1,
            status: "accepted".into(),
            from_org_id: None,
            to_org_id: None,
            city: None,
            industry: None,
            created_at: "2026-12-01".into(),
            answered_at: None,
            max_stage: stage,
            broker_id: None,
        };
        let facts = [f(None), f(None), f(Some(1)), f(Some(2)), f(Some(4))];
        let refs: Vec<&_> = facts.iter().collect();
        let fun = funnel_of("all".into(), "全部".into(), &refs);
        let counts: Vec<i64> = fun.steps.iter().map(|s| s.count).collect();
        assert_eq!(counts, vec![5, 3, 2, 1, 1, 0]);
        assert_eq!(fun.steps[1].conversion, 0.6);
        assert_eq!(fun.steps[5].conversion, 0.0);
    }
}
