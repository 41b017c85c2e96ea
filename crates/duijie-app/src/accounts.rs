//! Account operations shared by the API, the web pages and the command line: registering
//! users, changing passwords, creating and revoking API tokens.

use crate::app::App;
use crate::auth::{self, Caller, Via};
use crate::authz::{self, Action};
use crate::codes::Code;
use crate::error::AppError;
use duijie_domain::Role;
pub use duijie_store::{ApiToken, AuditRecord, Page, User};
use duijie_store::{Draft, NewUser};
use serde_json::json;

/// How a new account names its organisation.
#[derive(Debug, Clone)]
pub enum OrgChoice {
    /// None.
    None,
    /// An existing organisation by id.
    Id(i64),
    /// By name; registered when new (with a kind that fits the role).
    Name(String),
}

/// A user to register.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Role code.
    pub role: String,
    /// Organisation.
    pub organization: OrgChoice,
    /// Initial password; `None` for a token-only account.
    pub password: Option<String>,
}

/// Validates a role code.
pub fn check_role(role: &str) -> Result<Role, AppError> {
    Role::ALL
        .iter()
        .copied()
        .find(|r| r.code() == role)
        .ok_or_else(|| {
            AppError::bad_request(
                Code::INVALID_ROLE,
                format!("角色“{role}”无效，可选：{}", Role::choices()),
                format!("role '{role}' is not one of: {}", Role::choices()),
            )
        })
}

pub(crate) fn check_email(email: &str) -> Result<String, AppError> {
    let e = email.trim().to_lowercase();
    let ok = e.chars().count() <= 254
        && !e.chars().any(char::is_whitespace)
        && e.split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.'));
    if ok {
        Ok(e)
    } else {
        Err(AppError::bad_request(
            Code::INVALID_EMAIL,
            format!("邮箱“{email}”格式无效"),
            format!("'{email}' is not an e-mail address"),
        ))
    }
}

/// The organisation a new account belongs to, registering it when named and new.
async fn resolve_org(ctx: &App, role: Role, org: &OrgChoice) -> Result<Option<i64>, AppError> {
    match org {
        OrgChoice::None => Ok(None),
        OrgChoice::Id(id) => Ok(Some(ctx.store.organization(*id).await?.id)),
        OrgChoice::Name(name) => {
            let name = name.trim();
            if let Some(o) = find_org_by_name(ctx, name).await? {
                return Ok(Some(o));
            }
            let kind = match role {
                Role::Enterprise => "enterprise",
                Role::Researcher => "university",
                Role::Organizer | Role::Broker | Role::Admin => "other",
            };
            let rec = json!({"name": name, "kind": kind});
            let draft = Draft::Organization(duijie_domain::input::organization(
                rec.as_object()
                    .cloned()
                    .as_ref()
                    .unwrap_or(&Default::default()),
            )?);
            let id = ctx.store.create(&draft).await?;
            Ok(Some(id))
        }
    }
}

pub(crate) async fn find_org_by_name(ctx: &App, name: &str) -> Result<Option<i64>, AppError> {
    // organisation names are unique; look through the list filtered by nothing but name
    let mut offset = 0;
    loop {
        let page = ctx
            .store
            .organizations(&Default::default(), 500, offset)
            .await?;
        if let Some(o) = page.items.iter().find(|o| o.name == name) {
            return Ok(Some(o.id));
        }
        offset += 500;
        if offset >= page.total {
            return Ok(None);
        }
    }
}

/// Registers a user. Administrators register anyone; organisers vouch for enterprise and
/// researcher accounts; the command line acts as an administrator.
pub async fn register(ctx: &App, caller: &Caller, a: NewAccount) -> Result<User, AppError> {
    let role = check_role(&a.role)?;
    if !matches!(caller.via, Via::Local(_)) {
        authz::authorize(ctx, caller, Action::RegisterUsers).await?;
        if caller.role() == Some(Role::Organizer)
            && !matches!(role, Role::Enterprise | Role::Researcher)
        {
            return Err(AppError::forbidden(
                "组织者只能为企业用户和科研人员开户",
                "organizers register only enterprise and researcher accounts",
            ));
        }
    }
    let email = check_email(&a.email)?;
    let password_hash = match a.password {
        Some(pw) => {
            auth::check_new_password(&pw)?;
            Some(auth::hash_password_async(pw).await?)
        }
        None => None,
    };
    let organization_id = resolve_org(ctx, role, &a.organization).await?;
    let name = a.name.filter(|n| !n.trim().is_empty());
    let asked =
        json!({"email": email, "name": name, "role": role, "organization_id": organization_id});
    let id = crate::audit::within(
        ctx,
        caller,
        "create",
        "user",
        None,
        None,
        Some(&asked),
        ctx.store.create_user(&NewUser {
            email,
            name,
            role,
            organization_id,
            password_hash,
        }),
    )
    .await?;
    Ok(ctx.store.user(id).await?)
}

/// Changes the caller's own password (the current one is needed); other sessions end.
pub async fn change_password(
    ctx: &App,
    caller: &Caller,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let user = caller.require()?;
    auth::check_new_password(new)?;
    let stored = ctx
        .store
        .user_by_email(&user.email)
        .await?
        .and_then(|(_, h)| h);
    let ok = match stored {
        Some(h) => {
            let pw = current.to_string();
            tokio::task::spawn_blocking(move || auth::verify_password(&pw, &h)).await?
        }
        None => false,
    };
    if !ok {
        return Err(AppError::forbidden(
            "当前密码不正确",
            "the current password is wrong",
        ));
    }
    let hash = auth::hash_password_async(new.to_string()).await?;
    let keep = match &caller.via {
        Via::Session { id_hash, .. } => Some(id_hash.as_str()),
        _ => None,
    };
    crate::audit::within(
        ctx,
        caller,
        "change_password",
        "user",
        Some(user.id),
        None,
        None,
        ctx.store.set_password(user.id, &hash, keep),
    )
    .await?;
    Ok(())
}

/// Creates an API token for the caller; the token itself is returned only here.
pub async fn create_token(
    ctx: &App,
    caller: &Caller,
    name: &str,
) -> Result<(String, ApiToken), AppError> {
    let user = caller.require()?;
    token_for(ctx, caller, user.id, name).await
}

/// A new API token with its secret value, shown this once.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenCreated {
    /// The stored token (never its value).
    #[serde(flatten)]
    pub record: ApiToken,
    /// The token itself.
    pub token: String,
    /// That it is shown only this once.
    pub note: &'static str,
}

/// Creates a token for a user (the command line creates them for anyone).
pub async fn token_for(
    ctx: &App,
    caller: &Caller,
    user_id: i64,
    name: &str,
) -> Result<(String, ApiToken), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_request(
            Code::INVALID_NAME,
            "令牌名称应为 1 到 100 个字符",
            "a token name must have 1 to 100 characters",
        ));
    }
    let (token, hash, prefix) = auth::new_token()?;
    let record = crate::audit::within(
        ctx,
        caller,
        "create_token",
        "user",
        Some(user_id),
        None,
        Some(&json!({"name": name, "prefix": prefix})),
        ctx.store.create_token(user_id, name, &hash, &prefix),
    )
    .await?;
    Ok((token, record))
}

/// The active account with this e-mail address (the command line's `create-token`).
pub async fn active_user_by_email(ctx: &App, email: &str) -> Result<User, AppError> {
    let email = email.trim().to_lowercase();
    match ctx.store.user_by_email(&email).await? {
        Some((u, _)) if !u.disabled => Ok(u),
        Some(_) => Err(AppError::Forbidden {
            code: Code::FORBIDDEN,
            message: format!("账号 {email} 已停用 / user {email} is disabled"),
        }),
        None => Err(AppError::NotFound(format!(
            "没有邮箱为 {email} 的账号 / no user with e-mail {email}"
        ))),
    }
}

/// Revokes one of the caller's tokens.
pub async fn revoke_token(ctx: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    let user = caller.require()?;
    crate::audit::within(
        ctx,
        caller,
        "revoke_token",
        "user",
        Some(user.id),
        None,
        Some(&json!({"token_id": id})),
        ctx.store.revoke_token(user.id, id),
    )
    .await?;
    Ok(())
}

/// An administrator token for a tool that drives its own in-process server over HTTP
/// (`duijie bench`, `duijie eval`): a token-only account `<purpose>@duijie.local`.
pub async fn local_admin_token(ctx: &App, purpose: &str) -> Result<String, AppError> {
    let email = format!("{purpose}@duijie.local");
    let caller = Caller::local("cli");
    let user = match ctx.store.user_by_email(&email).await? {
        Some((u, _)) => u,
        None => {
            register(
                ctx,
                &caller,
                NewAccount {
                    email: email.clone(),
                    name: Some(purpose.to_string()),
                    role: Role::Admin.code().into(),
                    organization: OrgChoice::None,
                    password: None,
                },
            )
            .await?
        }
    };
    Ok(token_for(ctx, &caller, user.id, purpose).await?.0)
}

/// Ends the caller's web session (nothing to do for a token or an anonymous caller).
pub async fn sign_out(ctx: &App, caller: &Caller) -> Result<(), AppError> {
    if let Via::Session { id_hash, .. } = &caller.via {
        ctx.store.delete_session(id_hash).await?;
    }
    Ok(())
}

/// The caller's API tokens (prefixes and dates, never the tokens).
pub async fn tokens(ctx: &App, caller: &Caller) -> Result<Vec<ApiToken>, AppError> {
    let user = caller.require()?;
    Ok(ctx.store.tokens(user.id).await?)
}

/// A page of accounts, for callers allowed to register accounts.
pub async fn users(
    ctx: &App,
    caller: &Caller,
    limit: i64,
    offset: i64,
) -> Result<Page<User>, AppError> {
    authz::authorize(ctx, caller, Action::RegisterUsers).await?;
    Ok(ctx.store.users(limit, offset).await?)
}

/// What an administrator changes of an account; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// New role code.
    pub role: Option<String>,
    /// New organisation: `Some(None)` detaches the account.
    pub organization_id: Option<Option<i64>>,
    /// Disable or enable.
    pub disabled: Option<bool>,
    /// Administers its organisation (approves who asks to join it), or not.
    pub org_admin: Option<bool>,
}

/// Changes an account's role, organisation or disabled flag (administrators), audited
/// with the account before and after.
pub async fn update_user(
    ctx: &App,
    caller: &Caller,
    id: i64,
    change: UserChange,
) -> Result<User, AppError> {
    authz::authorize(ctx, caller, Action::Administer).await?;
    let before = ctx.store.user(id).await?;
    let role = match change.role {
        Some(r) => check_role(&r)?,
        None => before.role,
    };
    let org = match change.organization_id {
        None => before.organization_id,
        Some(None) => None,
        Some(Some(org)) => {
            ctx.store.organization(org).await?;
            Some(org)
        }
    };
    let disabled = change.disabled.unwrap_or(before.disabled);
    let org_admin = change.org_admin.unwrap_or(before.org_admin) && org.is_some();
    let asked =
        json!({"role": role, "organization_id": org, "disabled": disabled, "org_admin": org_admin});
    crate::audit::within(
        ctx,
        caller,
        "update",
        "user",
        Some(id),
        Some(&json!(before)),
        Some(&asked),
        ctx.store.update_user(id, role, org, disabled, org_admin),
    )
    .await?;
    Ok(ctx.store.user(id).await?)
}

/// The audit log, newest first, optionally of one kind of record (and one record), for
/// administrators.
pub async fn audit_log(
    ctx: &App,
    caller: &Caller,
    entity: Option<&str>,
    entity_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> Result<Page<AuditRecord>, AppError> {
    authz::authorize(ctx, caller, Action::Administer).await?;
    Ok(ctx
        .store
        .audit_log(entity, entity_id, limit, offset)
        .await?)
}
