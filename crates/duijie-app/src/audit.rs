//! The audit log: who changed what, when, with the record before and after.
//!
//! [`within`] makes a change and its entry in one transaction: the entry is written by the
//! store transaction that makes the change, so there is no acknowledged change without its
//! entry and no entry for a change that rolled back. [`record`] writes an entry on its own,
//! for what is not a store write (a rebuild of the index, a sign-out).

use crate::app::App;
use crate::auth::Caller;
use duijie_store::AuditEntry;
use serde_json::Value;

/// Records one change.
pub async fn record(
    ctx: &App,
    caller: &Caller,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    before: Option<&Value>,
    after: Option<&Value>,
) {
    let e = entry(caller, action, entity, entity_id, before, after);
    if let Err(err) = ctx.store.audit(&e).await {
        tracing::error!(error = %err, action, entity, ?entity_id, "audit entry not written");
    }
}

fn entry(
    caller: &Caller,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    before: Option<&Value>,
    after: Option<&Value>,
) -> AuditEntry {
    AuditEntry {
        user_id: caller.user.as_ref().map(|u| u.id),
        actor: caller.actor(),
        action: action.to_string(),
        entity: entity.to_string(),
        entity_id,
        before: before.map(Value::to_string),
        after: after.map(Value::to_string),
    }
}

/// Makes a change (`change`, one store write) with its audit entry in the same transaction.
/// A creation's id fills `entity_id` when it is `None`. When the write made no transaction
/// of its own, the entry follows it on success; a failed change leaves no entry.
#[allow(clippy::too_many_arguments)]
pub async fn within<T, E, F>(
    ctx: &App,
    caller: &Caller,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    before: Option<&Value>,
    after: Option<&Value>,
    change: F,
) -> Result<T, E>
where
    F: std::future::Future<Output = Result<T, E>>,
{
    let e = entry(caller, action, entity, entity_id, before, after);
    let (out, left) = duijie_store::audited(e, change).await;
    // (the outcome is not held across the await: a response is not Sync)
    let succeeded = out.is_ok();
    if let (true, Some(left)) = (succeeded, left)
        && let Err(err) = ctx.store.audit(&left).await
    {
        tracing::error!(error = %err, action, entity, ?entity_id, "audit entry not written");
    }
    out
}
