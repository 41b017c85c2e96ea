//! Authorisation in one place: what each role may do, and to whose records.
//!
//! - Reading published listings is public; contact details need a signed-in caller.
//! - Enterprise members create and edit their own organisation's needs, and its profile.
//! - Researchers and technology-transfer offices: their organisation's results and experts,
//!   and its profile.
//! - Organisers: events, imports, organisations and every listing (they keep the
//!   programme's data), and they may register enterprise and researcher accounts (they
//!   vouch for participants).
//! - Administrators: everything, including users and the audit log.
//!
//! Writes by someone not signed in are 401; by someone signed in but not allowed, 403.

use crate::app::App;
use crate::auth::Caller;
use crate::error::AppError;
use duijie_domain::input::Record;
use duijie_domain::{ListingKind, Role};
use serde_json::Value;

/// Something a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Create a listing of a kind.
    CreateListing(ListingKind),
    /// Change or delete a stored listing.
    EditListing(ListingKind, i64),
    /// Register an organisation.
    CreateOrganization,
    /// Change an organisation's profile.
    EditOrganization(i64),
    /// Delete an organisation.
    DeleteOrganization(i64),
    /// Anything that changes an event.
    ManageEvents,
    /// Bulk imports.
    Import,
    /// Keep the outcomes ledger: file cooperations and projects, record outcomes, import.
    ManageLedger,
    /// Register accounts (organisers: enterprise and researcher accounts only).
    RegisterUsers,
    /// Change accounts, read the audit log, rebuild the index.
    Administer,
}

fn may_own(role: Role, kind: ListingKind) -> bool {
    matches!(
        (role, kind),
        (Role::Enterprise, ListingKind::Need)
            | (Role::Researcher, ListingKind::Result)
            | (Role::Researcher, ListingKind::Expert)
    )
}

/// The organisation owning a stored listing (404 when there is no such listing).
async fn owner(ctx: &App, kind: ListingKind, id: i64) -> Result<Option<i64>, AppError> {
    Ok(match kind {
        ListingKind::Result => ctx.store.result(id).await?.organization.map(|o| o.id),
        ListingKind::Need => ctx.store.need(id).await?.organization.map(|o| o.id),
        ListingKind::Expert => ctx.store.expert(id).await?.organization.map(|o| o.id),
    })
}

/// Decides; `Ok` or the 401/403 to answer.
pub async fn authorize(ctx: &App, caller: &Caller, action: Action) -> Result<(), AppError> {
    let user = caller.require()?;
    let role = user.role;
    if role == Role::Admin {
        return Ok(());
    }
    let organizer = role == Role::Organizer;
    let allowed = match action {
        Action::CreateListing(k) => organizer || may_own(role, k),
        Action::EditListing(k, id) => {
            // look the record up first, so a missing one is a 404 for everyone
            let owner = owner(ctx, k, id).await?;
            organizer || (may_own(role, k) && owner.is_some() && owner == user.organization_id)
        }
        Action::CreateOrganization | Action::DeleteOrganization(_) => organizer,
        Action::EditOrganization(id) => {
            ctx.store.organization(id).await?;
            organizer || user.organization_id == Some(id)
        }
        Action::ManageEvents | Action::Import | Action::RegisterUsers | Action::ManageLedger => {
            organizer
        }
        Action::Administer => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(refusal(role, action))
    }
}

fn refusal(role: Role, action: Action) -> AppError {
    let role_zh = role.label_zh();
    let (zh, en) = match action {
        Action::CreateListing(k) => (
            format!("{role_zh}不能发布{}", k.label_zh()),
            format!("a {role} account cannot create {}", k.plural()),
        ),
        Action::EditListing(k, _) => (
            format!("只能修改本单位的{}", k.label_zh()),
            format!("you may change only your own organization's {}", k.plural()),
        ),
        Action::CreateOrganization | Action::DeleteOrganization(_) => (
            "只有组织者和管理员可以登记或删除单位".into(),
            "only organizers and administrators register or delete organizations".into(),
        ),
        Action::EditOrganization(_) => (
            "只能修改本单位的资料".into(),
            "you may change only your own organization".into(),
        ),
        Action::ManageEvents => (
            "只有组织者和管理员可以管理对接会".into(),
            "only organizers and administrators manage events".into(),
        ),
        Action::ManageLedger => (
            "只有组织者和管理员可以维护成效台账".into(),
            "only organizers and administrators keep the outcomes ledger".into(),
        ),
        Action::Import => (
            "只有组织者和管理员可以批量导入".into(),
            "only organizers and administrators import".into(),
        ),
        Action::RegisterUsers | Action::Administer => (
            "需要管理员权限".into(),
            "administrator rights are needed".into(),
        ),
    };
    AppError::forbidden(zh, en)
}

/// Whether the caller may see listings that are not published (drafts, withdrawn, closed)
/// of an organisation: organisers and administrators always, members of that organisation.
pub fn sees_unpublished(caller: &Caller, owner: Option<i64>) -> bool {
    match &caller.user {
        Some(u) if u.role.keeps_programme() => true,
        Some(u) => owner.is_some() && u.organization_id == owner,
        None => matches!(caller.via, crate::auth::Via::Local(_)),
    }
}

/// For enterprise members and researchers, a listing always belongs to their own
/// organisation: naming another one is refused, naming none means theirs.
pub fn pin_organization(caller: &Caller, rec: &mut Record, creating: bool) -> Result<(), AppError> {
    let Some(user) = &caller.user else {
        return Ok(());
    };
    if user.role.keeps_programme() {
        return Ok(());
    }
    let Some(own) = user.organization_id else {
        return Err(AppError::forbidden(
            "账号未关联单位，请联系管理员",
            "your account belongs to no organization; ask an administrator",
        ));
    };
    let names_other = rec.get("organization_id").is_some_and(|v| {
        v.as_i64() != Some(own) && v.as_str().and_then(|s| s.parse::<i64>().ok()) != Some(own)
    }) || ["organization", "organization_external_id"]
        .iter()
        .any(|k| rec.get(*k).is_some_and(|v| !v.is_null()));
    if names_other {
        return Err(AppError::forbidden(
            "只能以本单位名义发布",
            "you may publish only for your own organization",
        ));
    }
    if creating || rec.contains_key("organization_id") {
        rec.insert("organization_id".into(), Value::from(own));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_own_their_kinds() {
        assert!(may_own(Role::Enterprise, ListingKind::Need));
        assert!(!may_own(Role::Enterprise, ListingKind::Result));
        assert!(may_own(Role::Researcher, ListingKind::Expert));
        assert!(!may_own(Role::Organizer, ListingKind::Need));
    }
}
