//! Mail: messages composed from templates (plain text and HTML, the site's look and a
//! plain footer), queued in the outbox in the same transaction as the change that causes
//! them, and sent by a worker (see [`send`]). Categories other than `account` carry a
//! one-click unsubscribe link (RFC 8058), signed with a key kept in the store.
//!
//! This layer has no template engine: the server hands it a [`Renderer`] (its mail
//! templates sit beside the web pages' templates), and composing a letter without one is
//! an error.

pub mod digest;
pub mod send;

use crate::app::App;
use crate::auth::random_hex;
use crate::error::AppError;
use duijie_store::NewMail;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// Mail about the account itself (verification, approval, password): always sent.
pub const ACCOUNT: &str = "account";
/// One mail per new match of an alert.
pub const MATCH_ALERTS: &str = "match_alerts";
/// A daily digest of an alert's matches.
pub const DIGESTS: &str = "digests";

/// The categories a user can turn on and off, with their labels.
pub const CATEGORY_LABELS: &[(&str, &str)] = &[
    ("match_alerts", "匹配提醒（每条一封）"),
    ("requests", "对接申请"),
    ("events", "对接会通知"),
    ("digests", "每日匹配摘要"),
];

/// The label of a category.
pub fn category_label(cat: &str) -> &'static str {
    CATEGORY_LABELS
        .iter()
        .find(|c| c.0 == cat)
        .map(|c| c.1)
        .unwrap_or("账号通知")
}

/// Renders a letter's template (`verify`, `reset`...) with its variables into the plain
/// text (with the footer) and the HTML of the message.
pub trait Renderer: Send + Sync {
    /// `(text, html)`, or what went wrong.
    fn render(&self, template: &str, vars: &Value) -> Result<(String, String), String>;
}

/// A message to compose: which template, to whom, about what.
#[derive(Debug, Clone)]
pub struct Letter {
    /// Template name without extension (`verify`, `reset`...).
    pub template: &'static str,
    /// Category (decides whether the recipient wants it, and the unsubscribe link).
    pub category: &'static str,
    /// Address.
    pub to: String,
    /// The recipient's account, when there is one.
    pub user_id: Option<i64>,
    /// Subject.
    pub subject: String,
    /// The template's variables.
    pub vars: Value,
}

/// The domain of the sender's address, for Message-IDs.
fn sender_domain(ctx: &App) -> String {
    ctx.settings
        .mail
        .from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.domain().to_string())
        .unwrap_or_else(|_| "duijie.invalid".into())
}

/// Renders a letter into an outbox message with a fresh, stable Message-ID.
pub async fn compose(ctx: &App, l: Letter) -> Result<NewMail, AppError> {
    let site = ctx.public_url();
    let unsubscribe_url = match (l.category, l.user_id) {
        (ACCOUNT, _) | (_, None) => None,
        (cat, Some(uid)) => Some(unsubscribe_link(ctx, uid, cat).await?),
    };
    let mut vars = l.vars;
    if !vars.is_object() {
        vars = json!({});
    }
    vars["site"] = json!(site);
    vars["subject"] = json!(l.subject);
    vars["unsubscribe_url"] = json!(unsubscribe_url);
    vars["category_label"] = json!(category_label(l.category));
    let renderer = ctx.mail_renderer.get().ok_or_else(|| {
        AppError::Internal("no mail renderer: mail is composed by a running server".into())
    })?;
    let (text, html) = renderer
        .render(l.template, &vars)
        .map_err(|e| AppError::Internal(format!("mail template {}: {e}", l.template)))?;
    Ok(NewMail {
        message_id: format!("{}@{}", random_hex(16)?, sender_domain(ctx)),
        category: l.category.to_string(),
        user_id: l.user_id,
        to: l.to,
        subject: l.subject,
        text,
        html,
        unsubscribe_url,
        calendar: None,
    })
}

async fn link_key(ctx: &App) -> Result<String, AppError> {
    Ok(ctx
        .store
        .server_key("unsubscribe", &random_hex(32)?)
        .await?)
}

fn signature(key: &str, user_id: i64, category: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("unsubscribe:{user_id}:{category}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The one-click unsubscribe link of a user's category.
pub async fn unsubscribe_link(ctx: &App, user_id: i64, category: &str) -> Result<String, AppError> {
    let key = link_key(ctx).await?;
    Ok(format!(
        "{}/unsubscribe?u={user_id}&c={category}&s={}",
        ctx.public_url(),
        signature(&key, user_id, category)
    ))
}

/// Checks an unsubscribe link's signature and turns the category off. Returns the
/// category's label.
pub async fn unsubscribe(
    ctx: &App,
    user_id: i64,
    category: &str,
    sig: &str,
) -> Result<&'static str, AppError> {
    let refused = || {
        AppError::bad_request(
            crate::codes::Code::INVALID_PARAMETER,
            "退订链接无效，请从邮件中完整复制，或登录后在账号设置中调整",
            "this unsubscribe link is not valid; copy it whole from the mail, or sign in and change the account settings",
        )
    };
    if !CATEGORY_LABELS.iter().any(|c| c.0 == category) {
        return Err(refused());
    }
    let key = link_key(ctx).await?;
    if !crate::auth::same_secret(&signature(&key, user_id, category), sig) {
        return Err(refused());
    }
    ctx.store
        .set_notification_settings(user_id, &[(category, false)])
        .await?;
    tracing::info!(user = user_id, category, "unsubscribed by mail link");
    Ok(category_label(category))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_depend_on_user_and_category() {
        let a = signature("k", 1, "digests");
        assert_eq!(a.len(), 32);
        assert_ne!(a, signature("k", 2, "digests"));
        assert_ne!(a, signature("k", 1, "events"));
        assert_ne!(a, signature("k2", 1, "digests"));
    }
}
