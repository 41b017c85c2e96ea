//! The audit log: who changed what, when, with the record before and after. Entries are
//! written after the change commits and before the caller gets its answer, so every
//! acknowledged change has its entry; a failure to write one is logged, not answered.

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
    let e = AuditEntry {
        user_id: caller.user.as_ref().map(|u| u.id),
        actor: caller.actor(),
        action: action.to_string(),
        entity: entity.to_string(),
        entity_id,
        before: before.map(Value::to_string),
        after: after.map(Value::to_string),
    };
    if let Err(err) = ctx.store.audit(&e).await {
        tracing::error!(error = %err, action, entity, ?entity_id, "audit entry not written");
    }
}
