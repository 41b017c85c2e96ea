//! People sign themselves up: registration with e-mail verification and an organiser's
//! approval, invitations that skip both, password resets by mail, and the categories of
//! mail each user wants. Every mail is queued in the same transaction as the change that
//! causes it (see [`crate::mail`]).
//!
//! Registration and reset requests never reveal whether an address has an account: both
//! answer the same whatever the address, and the owner of a taken address gets a mail
//! saying someone tried. Both are limited per client address and per e-mail address.

use crate::accounts::{self, check_role};
use crate::app::App;
use crate::auth::{self, Caller, random_hex, sha256_hex};
use crate::authz::{self, Action};
use crate::codes::Code;
use crate::error::AppError;
use crate::mail::{self, ACCOUNT, Letter};
use duijie_domain::input::{Reader, Record};
use duijie_domain::{FieldErrors, Role};
use duijie_store::{Applicant, Decision, Draft, Mail, NewLink, NewUser, Page, User};
use serde::Serialize;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::time::Duration;

/// What a registration answers (the same whether or not the address was taken).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Registered {
    /// `pending_verification`: follow the link in the mail.
    pub status: &'static str,
    /// What happens next, in Chinese and English.
    pub message: String,
}

/// An invitation that was sent.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationSent {
    /// Who was invited.
    pub email: String,
    /// As what.
    pub role: Role,
    /// Into which organisation.
    pub organization_id: Option<i64>,
    /// For which event.
    pub event_id: Option<i64>,
    /// Until when the link is good (RFC 3339).
    pub expires_at: String,
}

/// An invitation as its sign-up page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    /// Who was invited (fixed).
    pub email: String,
    /// As what.
    pub role: Role,
    /// Into which organisation: id and name.
    pub organization: Option<(i64, String)>,
    /// For which event: id and name.
    pub event: Option<(i64, String)>,
}

/// One category of mail and whether the user wants it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationSetting {
    /// `match_alerts`, `requests`, `events`, `digests`.
    pub category: &'static str,
    /// 中文 label.
    pub label: &'static str,
    /// On or off.
    pub enabled: bool,
}

/// The result of a registration: an applicant waiting for verification, or (by
/// invitation) an account ready to sign in.
pub enum Outcome {
    /// 202: check your mail.
    Pending(Registered),
    /// 201: signed up by invitation.
    Active(Box<User>),
}

fn in_hours(h: u64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(h as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn in_minutes(m: u64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(m as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Counts an attempt against the per-address and per-e-mail limits; 429 once over.
async fn limit(ctx: &App, what: &str, email: &str, peer: Option<IpAddr>) -> Result<(), AppError> {
    let s = &ctx.settings.signup;
    let hour = Duration::from_secs(3600);
    let addr = format!(
        "{what}-address:{}",
        peer.map(|p| p.to_string()).unwrap_or_default()
    );
    let mail = format!("{what}-email:{email}");
    if ctx.limiter.count(ctx, &addr, hour).await? >= s.max_per_address_per_hour
        || ctx.limiter.count(ctx, &mail, hour).await? >= s.max_per_email_per_hour
    {
        return Err(AppError::TooManyRequests(
            "请求过于频繁，请一小时后再试 / too many requests from this address or for this e-mail; try again in an hour"
                .into(),
        ));
    }
    ctx.limiter.fail(ctx, &[&addr, &mail]).await?;
    Ok(())
}

/// A password field: taken as given (never trimmed), and checked against the rules.
fn password(r: &mut Reader, errors: &mut FieldErrors, name: &'static str) -> String {
    match r.raw(name) {
        Some(Value::String(s)) => {
            if let Err(e) = auth::check_new_password(s) {
                errors.push(name, "weak_password", e.message(), "");
            }
            s.clone()
        }
        Some(_) => {
            errors.push(
                name,
                "invalid_type",
                "密码应为文本",
                "the password must be a string",
            );
            String::new()
        }
        None => {
            errors.push(name, "required", "密码为必填项", "a password is required");
            String::new()
        }
    }
}

/// Fixes a message made of one `中文 / English` string pushed with an empty English half.
fn tidy(mut f: FieldErrors) -> FieldErrors {
    for e in &mut f.0 {
        if let Some(m) = e.message.strip_suffix(" / ") {
            e.message = m.to_string();
        }
    }
    f
}

fn email_field(r: &mut Reader, errors: &mut FieldErrors) -> String {
    let raw = r.required_text("email", 254, false);
    if raw.is_empty() {
        return raw;
    }
    match accounts::check_email(&raw) {
        Ok(e) => e,
        Err(e) => {
            errors.push("email", "invalid_email", e.message(), "");
            String::new()
        }
    }
}

/// The organisation an applicant names: `{id}` or `{name, kind, city, credit_code}`.
async fn organization_field(
    ctx: &App,
    role: Option<Role>,
    r: &mut Reader<'_>,
    errors: &mut FieldErrors,
) -> Result<Value, AppError> {
    let Some(v) = r.raw("organization") else {
        errors.push(
            "organization",
            "required",
            "请填写所属单位",
            "organization is required",
        );
        return Ok(Value::Null);
    };
    let Some(o) = v.as_object() else {
        errors.push(
            "organization",
            "invalid_type",
            "organization 应为对象：{id} 或 {name, kind, city, credit_code}",
            "organization must be an object: {id} or {name, kind, city, credit_code}",
        );
        return Ok(Value::Null);
    };
    let mut or = Reader::new(o);
    if or.raw("id").is_some() {
        let id = or.int("id", 1, i64::MAX);
        let extra = or.finish();
        for e in extra.0 {
            errors.0.push(duijie_domain::FieldError {
                field: format!("organization.{}", e.field),
                ..e
            });
        }
        let Some(id) = id else { return Ok(Value::Null) };
        return match ctx.store.organization(id).await {
            Ok(org) => Ok(json!({"organization_id": org.id, "name": org.name})),
            Err(duijie_store::StoreError::NotFound { .. }) => {
                errors.push(
                    "organization.id",
                    "unknown_organization",
                    format!("单位 {id} 不存在"),
                    format!("organization {id} does not exist"),
                );
                Ok(Value::Null)
            }
            Err(e) => Err(e.into()),
        };
    }
    let name = or.required_text("name", 100, false);
    let default_kind = if role == Some(Role::Researcher) {
        "university"
    } else {
        "enterprise"
    };
    let kind = or
        .choice_or(
            "kind",
            &[
                ("enterprise", "企业"),
                ("university", "高校"),
                ("institute", "科研院所"),
                ("other", "其他"),
            ],
            Some(default_kind),
        )
        .unwrap_or(default_kind);
    let city = or.text("city", 20, false);
    let code = or.text("credit_code", 30, false);
    for e in or.finish().0 {
        errors.0.push(duijie_domain::FieldError {
            field: format!("organization.{}", e.field),
            ..e
        });
    }
    let mut app = json!({"name": name, "kind": kind, "city": city});
    // an organisation of that name is already registered: the organiser sees that the
    // applicant joins it
    if !name.is_empty()
        && let Some(id) = accounts::find_org_by_name(ctx, &name).await?
    {
        app["organization_id"] = json!(id);
    }
    if let Some(code) = code {
        match duijie_domain::credit::check(&code) {
            Ok(code) => {
                if let Some(id) = ctx.store.organization_by_credit_code(&code).await? {
                    let org = ctx.store.organization(id).await?;
                    app = json!({"organization_id": org.id, "name": org.name});
                }
                app["credit_code"] = json!(code);
            }
            Err(e) => errors.push(
                "organization.credit_code",
                "invalid_credit_code",
                e.zh,
                e.en,
            ),
        }
    }
    Ok(app)
}

/// `POST /registrations`: sign up (with `invite`, accept an invitation instead).
pub async fn register(ctx: &App, rec: &Record, peer: Option<IpAddr>) -> Result<Outcome, AppError> {
    if rec.contains_key("invite") {
        return accept_invitation(ctx, rec)
            .await
            .map(|u| Outcome::Active(Box::new(u)));
    }
    if !ctx.settings.signup.open {
        return Err(AppError::forbidden(
            "本平台暂未开放自助注册，请联系组织者获取邀请",
            "self-service sign-up is closed here; ask an organiser for an invitation",
        ));
    }
    let mut r = Reader::new(rec);
    let mut errors = FieldErrors::default();
    let email = email_field(&mut r, &mut errors);
    let pw = password(&mut r, &mut errors, "password");
    let name = r.required_text("name", 60, false);
    let role = r
        .choice_or(
            "role",
            &[("enterprise", "企业用户"), ("researcher", "科研人员")],
            None,
        )
        .and_then(|c| check_role(c).ok());
    let org = organization_field(ctx, role, &mut r, &mut errors).await?;
    let mut all = r.finish();
    all.0.extend(errors.0);
    if !all.is_empty() {
        return Err(AppError::Validation(tidy(all)));
    }
    let role = role.unwrap_or(Role::Enterprise);
    limit(ctx, "signup", &email, peer).await?;
    // hashed whether or not the address is taken, so both answers take as long
    let hash = auth::hash_password_async(pw).await?;
    let answer = Registered {
        status: "pending_verification",
        message: format!(
            "验证邮件已发送至 {email}，请在 {} 小时内打开邮件中的链接；确认后由组织者审核 / a verification mail was sent to {email}: follow its link within {} hours, then an organiser reviews the application",
            ctx.settings.signup.verify_hours, ctx.settings.signup.verify_hours
        ),
    };
    if let Some((existing, _)) = ctx.store.user_by_email(&email).await? {
        let letter = Letter {
            template: "already",
            category: ACCOUNT,
            to: email.clone(),
            user_id: Some(existing.id),
            subject: "有人用您的邮箱申请注册校企对接平台".into(),
            vars: json!({"email": email}),
        };
        ctx.store
            .enqueue_mail(&[mail::compose(ctx, letter).await?])
            .await?;
        tracing::info!("sign-up with a taken address; its owner was told");
        return Ok(Outcome::Pending(answer));
    }
    let token = random_hex(32)?;
    let link = NewLink {
        token_hash: sha256_hex(&token),
        purpose: "verify",
        user_id: None,
        email: email.clone(),
        payload: None,
        expires_at: in_hours(ctx.settings.signup.verify_hours),
    };
    let letter = Letter {
        template: "verify",
        category: ACCOUNT,
        to: email.clone(),
        user_id: None,
        subject: "请确认您的邮箱 · 校企对接平台注册".into(),
        vars: json!({
            "name": name,
            "hours": ctx.settings.signup.verify_hours,
            "link": format!("{}/verify?token={token}", ctx.public_url()),
        }),
    };
    let user = NewUser {
        email: email.clone(),
        name: Some(name),
        role,
        // the registered organisation asked to join (the account's only at approval)
        organization_id: org["organization_id"].as_i64(),
        password_hash: Some(hash),
    };
    match ctx
        .store
        .create_applicant(
            &user,
            &org.to_string(),
            &link,
            &mail::compose(ctx, letter).await?,
        )
        .await
    {
        Ok(id) => tracing::info!(user = id, "sign-up: verification mail queued"),
        // a sign-up for the same address at the same moment: the same answer
        Err(duijie_store::StoreError::Conflict { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Outcome::Pending(answer))
}

fn token_of(rec: &Record, errors: &mut FieldErrors, name: &'static str) -> String {
    let mut r = Reader::new(rec);
    let t = r.required_text(name, 128, false);
    errors.0.extend(
        r.finish_ignoring(&["password", "password_confirm", "name"])
            .0,
    );
    if !t.is_empty() && !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        errors.push(
            name,
            "invalid_token",
            "链接中的令牌格式不对，请从邮件中完整复制链接",
            "the token is malformed; copy the link from the mail whole",
        );
    }
    t
}

/// `POST /registrations/verify {token}`: the applicant followed the mail's link.
pub async fn verify(ctx: &App, rec: &Record) -> Result<User, AppError> {
    let mut errors = FieldErrors::default();
    let token = token_of(rec, &mut errors, "token");
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let user = ctx.store.verify_applicant(&sha256_hex(&token), &[]).await?;
    tracing::info!(user = user.id, "sign-up verified; waiting for approval");
    Ok(user)
}

const QUEUE_STATUSES: &[&str] = &[
    duijie_store::STATUS_PENDING_APPROVAL,
    duijie_store::STATUS_PENDING_VERIFICATION,
    duijie_store::STATUS_REJECTED,
];

/// Whose queue the caller sees: everyone's (organisers and administrators, `None`) or its
/// own organisation's (a member who administers it).
async fn queue_of(ctx: &App, caller: &Caller) -> Result<Option<i64>, AppError> {
    let u = caller.require()?;
    if let (true, Some(org)) = (u.org_admin, u.organization_id)
        && !u.role.keeps_programme()
    {
        return Ok(Some(org));
    }
    authz::authorize(ctx, caller, Action::RegisterUsers).await?;
    Ok(None)
}

/// May the caller decide this applicant? Organisers and administrators: anyone; an
/// organisation's administrator: those asking to join it.
async fn may_decide(ctx: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    if let Some(org) = queue_of(ctx, caller).await?
        && ctx.store.applied_organization(id).await? != Some(org)
    {
        return Err(AppError::forbidden(
            "只能审核申请加入本单位的账号",
            "organisation administrators decide only on applicants to their own organisation",
        ));
    }
    Ok(())
}

/// The approval queue (organisers and administrators: all of it; an organisation's
/// administrators: those asking to join their organisation).
pub async fn applicants(
    ctx: &App,
    caller: &Caller,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Page<Applicant>, AppError> {
    let org = queue_of(ctx, caller).await?;
    let status = status.unwrap_or(duijie_store::STATUS_PENDING_APPROVAL);
    if !QUEUE_STATUSES.contains(&status) {
        return Err(AppError::bad_request(
            Code::INVALID_STATUS,
            format!("状态“{status}”无效，可选：{}", QUEUE_STATUSES.join(", ")),
            format!(
                "status '{status}' is not one of: {}",
                QUEUE_STATUSES.join(", ")
            ),
        ));
    }
    Ok(ctx.store.applicants(status, org, limit, offset).await?)
}

/// The organisation an approved applicant belongs to: the one they named by id or credit
/// code, one of the same name, or a new one registered now.
async fn organization_for(ctx: &App, app: &Value) -> Result<Option<i64>, AppError> {
    let code = app["credit_code"].as_str();
    if let Some(id) = app["organization_id"].as_i64() {
        let id = ctx.store.organization(id).await?.id;
        if let Some(c) = code {
            // an organisation found by name learns its code (one that has a code keeps it)
            ctx.store.set_credit_code(id, c).await?;
        }
        return Ok(Some(id));
    }
    let Some(name) = app["name"].as_str().filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if let Some(c) = code
        && let Some(id) = ctx.store.organization_by_credit_code(c).await?
    {
        return Ok(Some(id));
    }
    let id = match accounts::find_org_by_name(ctx, name).await? {
        Some(id) => id,
        None => {
            let mut rec = Record::new();
            rec.insert("name".into(), json!(name));
            rec.insert("kind".into(), app["kind"].clone());
            if let Some(c) = app["city"].as_str() {
                rec.insert("city".into(), json!(c));
            }
            let draft = Draft::Organization(duijie_domain::input::organization(&rec)?);
            ctx.store.create(&draft).await?
        }
    };
    if let Some(c) = code {
        ctx.store.set_credit_code(id, c).await?;
    }
    Ok(Some(id))
}

/// Approves a verified applicant: they can sign in, and are told by mail. The first member
/// of an organisation becomes its administrator.
pub async fn approve(ctx: &App, caller: &Caller, id: i64) -> Result<User, AppError> {
    may_decide(ctx, caller, id).await?;
    let before = waiting(ctx, id).await?;
    let app = ctx.store.application(id).await?;
    let org = organization_for(ctx, &app).await?;
    let org_name = match org {
        Some(o) => Some(ctx.store.organization(o).await?.name),
        None => None,
    };
    let letter = Letter {
        template: "approved",
        category: ACCOUNT,
        to: before.email.clone(),
        user_id: Some(id),
        subject: "注册申请已通过 · 校企对接平台".into(),
        vars: json!({"name": before.name, "organization": org_name}),
    };
    let asked = json!({"status": duijie_store::STATUS_ACTIVE, "organization_id": org});
    let decision = Decision::Approve {
        organization_id: org,
    };
    decide(ctx, caller, "approve", &before, decision, letter, &asked).await
}

/// The applicant `id`, when they wait for a decision.
async fn waiting(ctx: &App, id: i64) -> Result<User, AppError> {
    let u = ctx.store.user(id).await?;
    if u.status != duijie_store::STATUS_PENDING_APPROVAL {
        return Err(AppError::Conflict {
            code: Code::NOT_PENDING_APPROVAL,
            message: format!(
                "账号 {} 当前状态为 {}，不在待审核队列中 / account {} is {}, not waiting for approval",
                u.email, u.status, u.email, u.status
            ),
        });
    }
    Ok(u)
}

/// Records a decision with the mail that tells the applicant and its audit entry, in one
/// transaction.
async fn decide(
    ctx: &App,
    caller: &Caller,
    action: &str,
    before: &User,
    decision: Decision,
    letter: Letter,
    asked: &Value,
) -> Result<User, AppError> {
    let mail = mail::compose(ctx, letter).await?;
    crate::audit::within(
        ctx,
        caller,
        action,
        "user",
        Some(before.id),
        Some(&json!(before)),
        Some(asked),
        ctx.store.decide_applicant(before.id, &decision, &mail),
    )
    .await
    .map_err(AppError::from)
}

/// Rejects a verified applicant with a reason they are told by mail.
pub async fn reject(ctx: &App, caller: &Caller, id: i64, rec: &Record) -> Result<User, AppError> {
    may_decide(ctx, caller, id).await?;
    let mut r = Reader::new(rec);
    let reason = r.required_text("reason", 500, true);
    let errors = r.finish();
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let before = waiting(ctx, id).await?;
    let letter = Letter {
        template: "rejected",
        category: ACCOUNT,
        to: before.email.clone(),
        user_id: Some(id),
        subject: "注册申请未通过 · 校企对接平台".into(),
        vars: json!({"name": before.name, "reason": reason}),
    };
    let asked = json!({"status": duijie_store::STATUS_REJECTED, "reason": reason});
    decide(
        ctx,
        caller,
        "reject",
        &before,
        Decision::Reject { reason },
        letter,
        &asked,
    )
    .await
}

/// `POST /invitations {email, role, organization, event_id?}`: an organiser invites
/// someone; the mail's link opens a pre-filled, pre-approved sign-up.
pub async fn invite(ctx: &App, caller: &Caller, rec: &Record) -> Result<InvitationSent, AppError> {
    authz::authorize(ctx, caller, Action::RegisterUsers).await?;
    let mut r = Reader::new(rec);
    let mut errors = FieldErrors::default();
    let email = email_field(&mut r, &mut errors);
    let role = r
        .choice_or(
            "role",
            &[("enterprise", "企业用户"), ("researcher", "科研人员")],
            None,
        )
        .and_then(|c| check_role(c).ok());
    let org_id = r.int("organization", 1, i64::MAX);
    let event_id = r.int("event_id", 1, i64::MAX);
    errors.0.extend(r.finish().0);
    let org = match org_id {
        Some(id) => match ctx.store.organization(id).await {
            Ok(o) => Some(o),
            Err(duijie_store::StoreError::NotFound { .. }) => {
                errors.push(
                    "organization",
                    "unknown_organization",
                    format!("单位 {id} 不存在"),
                    format!("organization {id} does not exist"),
                );
                None
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let event = match event_id {
        Some(id) => match crate::events::load_for(ctx, caller, id).await {
            Ok(e) => Some(e),
            Err(AppError::NotFound(_)) => {
                errors.push(
                    "event_id",
                    "unknown_event",
                    format!("对接会 {id} 不存在"),
                    format!("event {id} does not exist"),
                );
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Validation(tidy(errors)));
    }
    let Some(role) = role else {
        return Err(AppError::Internal("role checked above".into()));
    };
    if ctx.store.user_by_email(&email).await?.is_some() {
        return Err(AppError::Conflict {
            code: Code::EMAIL_TAKEN,
            message: format!(
                "{email} 已有账号，无需邀请 / {email} already has an account; no invitation is needed"
            ),
        });
    }
    let days = ctx.settings.signup.invite_days;
    let expires_at = in_hours(days * 24);
    let token = random_hex(32)?;
    let inviter = caller
        .user
        .as_ref()
        .map(|u| u.name.clone().unwrap_or_else(|| u.email.clone()))
        .unwrap_or_else(|| "平台组织者".into());
    let letter = Letter {
        template: "invite",
        category: ACCOUNT,
        to: email.clone(),
        user_id: None,
        subject: format!("{inviter} 邀请您加入校企对接平台"),
        vars: json!({
            "inviter": inviter,
            "role_label": role.label_zh(),
            "organization": org.as_ref().map(|o| o.name.clone()),
            "event": event.as_ref().map(|e| e.name.clone()),
            "days": days,
            "link": format!("{}/register?invite={token}", ctx.public_url()),
        }),
    };
    let link = NewLink {
        token_hash: sha256_hex(&token),
        purpose: "invite",
        user_id: None,
        email: email.clone(),
        payload: Some(
            json!({
                "role": role.code(),
                "organization_id": org.as_ref().map(|o| o.id),
                "event_id": event.as_ref().map(|e| e.id),
                "invited_by": caller.user.as_ref().map(|u| u.id),
            })
            .to_string(),
        ),
        expires_at: expires_at.clone(),
    };
    let mail = mail::compose(ctx, letter).await?;
    crate::audit::within(
        ctx,
        caller,
        "invite",
        "user",
        None,
        None,
        Some(&json!({"email": email, "role": role.code(), "organization_id": org_id, "event_id": event_id})),
        ctx.store.issue_link(&link, &mail),
    )
    .await?;
    Ok(InvitationSent {
        email,
        role,
        organization_id: org.map(|o| o.id),
        event_id: event.map(|e| e.id),
        expires_at,
    })
}

/// An invitation by its link's token, while it is good (for the sign-up page).
pub async fn invitation(ctx: &App, token: &str) -> Result<Option<Invitation>, AppError> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(link) = ctx.store.peek_link(&sha256_hex(token), "invite").await? else {
        return Ok(None);
    };
    let p: Value = link
        .payload
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let role = check_role(p["role"].as_str().unwrap_or(""))?;
    let organization = match p["organization_id"].as_i64() {
        Some(id) => Some((id, ctx.store.organization(id).await?.name)),
        None => None,
    };
    let event = match p["event_id"].as_i64() {
        Some(id) => Some((id, crate::events::load(ctx, id).await?.name)),
        None => None,
    };
    Ok(Some(Invitation {
        email: link.email,
        role,
        organization,
        event,
    }))
}

async fn accept_invitation(ctx: &App, rec: &Record) -> Result<User, AppError> {
    let mut errors = FieldErrors::default();
    let token = token_of(rec, &mut errors, "invite");
    let mut r = Reader::new(rec);
    r.raw("invite");
    let pw = password(&mut r, &mut errors, "password");
    let name = r.required_text("name", 60, false);
    errors.0.extend(r.finish().0);
    if !errors.is_empty() {
        return Err(AppError::Validation(tidy(errors)));
    }
    let hash = auth::hash_password_async(pw).await?;
    let welcome = Letter {
        template: "approved",
        category: ACCOUNT,
        to: String::new(),
        user_id: None,
        subject: "欢迎加入校企对接平台".into(),
        vars: json!({"name": name}),
    };
    let mut welcome = mail::compose(ctx, welcome).await?;
    let user = ctx
        .store
        .accept_invitation(
            &sha256_hex(&token),
            |link| {
                let p: Value = link
                    .payload
                    .as_deref()
                    .and_then(|s| serde_json::from_str(s).ok())
                    .unwrap_or_default();
                let role = Role::ALL
                    .iter()
                    .copied()
                    .find(|r| Some(r.code()) == p["role"].as_str())
                    .unwrap_or(Role::Enterprise);
                Ok(NewUser {
                    email: link.email.clone(),
                    name: Some(name.clone()),
                    role,
                    organization_id: p["organization_id"].as_i64(),
                    password_hash: Some(hash),
                })
            },
            &[],
        )
        .await?;
    welcome.to = user.email.clone();
    welcome.user_id = Some(user.id);
    ctx.store.enqueue_mail(&[welcome]).await?;
    tracing::info!(user = user.id, "invitation accepted");
    Ok(user)
}

/// `POST /password-resets {email}`: a reset link by mail when the address has an account;
/// the same answer either way.
pub async fn request_reset(
    ctx: &App,
    rec: &Record,
    peer: Option<IpAddr>,
) -> Result<Registered, AppError> {
    let mut r = Reader::new(rec);
    let mut errors = FieldErrors::default();
    let email = email_field(&mut r, &mut errors);
    errors.0.extend(r.finish().0);
    if !errors.is_empty() {
        return Err(AppError::Validation(tidy(errors)));
    }
    limit(ctx, "reset", &email, peer).await?;
    let minutes = ctx.settings.signup.reset_minutes;
    let answer = Registered {
        status: "sent_if_registered",
        message: format!(
            "如果 {email} 已注册，重设密码的链接已发送到该邮箱（{minutes} 分钟内有效） / if {email} has an account, a link to reset its password was sent there (good for {minutes} minutes)"
        ),
    };
    let Some((user, _)) = ctx.store.user_by_email(&email).await? else {
        tracing::info!("password reset for an unknown address; nothing sent");
        return Ok(answer);
    };
    if user.disabled || user.status != duijie_store::STATUS_ACTIVE {
        tracing::info!(
            user = user.id,
            "password reset for an inactive account; nothing sent"
        );
        return Ok(answer);
    }
    let token = random_hex(32)?;
    let letter = Letter {
        template: "reset",
        category: ACCOUNT,
        to: user.email.clone(),
        user_id: Some(user.id),
        subject: "重设密码 · 校企对接平台".into(),
        vars: json!({
            "name": user.name.clone().unwrap_or_else(|| user.email.clone()),
            "minutes": minutes,
            "link": format!("{}/reset?token={token}", ctx.public_url()),
        }),
    };
    let link = NewLink {
        token_hash: sha256_hex(&token),
        purpose: "reset",
        user_id: Some(user.id),
        email: user.email.clone(),
        payload: None,
        expires_at: in_minutes(minutes),
    };
    ctx.store
        .issue_link(&link, &mail::compose(ctx, letter).await?)
        .await?;
    Ok(answer)
}

/// `POST /password-resets/confirm {token, password}`: sets the new password and ends
/// every session of the account.
pub async fn confirm_reset(ctx: &App, rec: &Record) -> Result<User, AppError> {
    let mut errors = FieldErrors::default();
    let token = token_of(rec, &mut errors, "token");
    let mut r = Reader::new(rec);
    r.raw("token");
    let pw = password(&mut r, &mut errors, "password");
    errors.0.extend(r.finish().0);
    if !errors.is_empty() {
        return Err(AppError::Validation(tidy(errors)));
    }
    let hash = auth::hash_password_async(pw).await?;
    let user = ctx.store.reset_password(&sha256_hex(&token), &hash).await?;
    ctx.limiter
        .clear(ctx, &format!("account:{}", user.email))
        .await?;
    let letter = Letter {
        template: "password_changed",
        category: ACCOUNT,
        to: user.email.clone(),
        user_id: Some(user.id),
        subject: "您的密码已重设 · 校企对接平台".into(),
        vars: json!({"name": user.name.clone().unwrap_or_else(|| user.email.clone())}),
    };
    ctx.store
        .enqueue_mail(&[mail::compose(ctx, letter).await?])
        .await?;
    tracing::info!(
        user = user.id,
        "password reset by mail link; sessions ended"
    );
    Ok(user)
}

/// The caller's mail categories.
pub async fn notification_settings(
    ctx: &App,
    caller: &Caller,
) -> Result<Vec<NotificationSetting>, AppError> {
    let u = caller.require()?;
    Ok(ctx
        .store
        .notification_settings(u.id)
        .await?
        .into_iter()
        .map(|(category, enabled)| NotificationSetting {
            category,
            label: mail::category_label(category),
            enabled,
        })
        .collect())
}

/// Turns the caller's categories on or off: `{category: bool, ...}`.
pub async fn set_notification_settings(
    ctx: &App,
    caller: &Caller,
    rec: &Record,
) -> Result<Vec<NotificationSetting>, AppError> {
    let u = caller.require()?;
    let mut errors = FieldErrors::default();
    let mut changes = Vec::new();
    for (k, v) in rec {
        let Some((cat, _)) = mail::CATEGORY_LABELS.iter().find(|c| c.0 == k) else {
            errors.push(
                k.clone(),
                "unknown_field",
                format!("未知的通知类别“{k}”，可选：match_alerts, requests, events, digests"),
                format!("'{k}' is not a category: match_alerts, requests, events, digests"),
            );
            continue;
        };
        match v.as_bool() {
            Some(on) => changes.push((*cat, on)),
            None => errors.push(
                k.clone(),
                "invalid_type",
                format!("{k} 应为 true 或 false"),
                format!("{k} must be true or false"),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    ctx.store.set_notification_settings(u.id, &changes).await?;
    notification_settings(ctx, caller).await
}

/// The outbox with each message's delivery state (administrators).
pub async fn mail_log(
    ctx: &App,
    caller: &Caller,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Page<Mail>, AppError> {
    authz::authorize(ctx, caller, Action::Administer).await?;
    if let Some(s) = status
        && ![
            duijie_store::MAIL_PENDING,
            duijie_store::MAIL_SENT,
            duijie_store::MAIL_FAILED,
        ]
        .contains(&s)
    {
        return Err(AppError::bad_request(
            Code::INVALID_STATUS,
            format!("状态“{s}”无效，可选：pending, sent, failed"),
            format!("status '{s}' is not one of: pending, sent, failed"),
        ));
    }
    Ok(ctx.store.mail_log(status, limit, offset).await?)
}
