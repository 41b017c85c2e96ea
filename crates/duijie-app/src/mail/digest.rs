//! Daily digests: users who chose the `digests` category get their alerts' matches in one
//! mail, once the oldest of them is `[mail] digest_after_hours` old. Marking the matches
//! digested and queuing the mail is one transaction, so no match is digested twice.

use super::{DIGESTS, Letter, compose};
use crate::app::App;
use crate::error::AppError;
use serde_json::json;

/// Queues the digests that are due. Returns how many were queued.
pub async fn queue_due(ctx: &App) -> Result<usize, AppError> {
    let cutoff = (chrono::Utc::now()
        - chrono::Duration::hours(ctx.settings.mail.digest_after_hours as i64))
    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let site = ctx.public_url();
    let mut queued = 0;
    for due in ctx.store.digests_due(&cutoff).await? {
        let items = ctx.store.undigested(due.user_id).await?;
        if items.is_empty() {
            continue;
        }
        let list: Vec<_> = items
            .iter()
            .map(|i| {
                json!({
                    "title": i.title,
                    "body": i.body,
                    "link": format!("{site}{}", i.link.as_deref().unwrap_or("/notifications")),
                })
            })
            .collect();
        let letter = Letter {
            template: "digest",
            category: DIGESTS,
            to: due.email.clone(),
            user_id: Some(due.user_id),
            subject: format!("匹配摘要：{} 条新匹配", items.len()),
            vars: json!({"name": due.name.unwrap_or(due.email), "items": list}),
        };
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        if ctx
            .store
            .record_digest(&ids, &compose(ctx, letter).await?)
            .await?
        {
            queued += 1;
            tracing::info!(user = due.user_id, matches = ids.len(), "digest queued");
        }
    }
    Ok(queued)
}
