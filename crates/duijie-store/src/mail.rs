//! Self-service accounts and mail: applicants and their one-time links, the outbox of
//! messages (each written in the same transaction as the change that causes it), the
//! delivery worker's leases, and which categories of mail each user wants.

use crate::accounts::user_row;
use crate::{Page, Store, StoreError, now};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Account statuses.
pub const STATUS_ACTIVE: &str = "active";
/// Signed up; the verification link not yet followed.
pub const STATUS_PENDING_VERIFICATION: &str = "pending_verification";
/// Verified; waiting for an organiser's decision.
pub const STATUS_PENDING_APPROVAL: &str = "pending_approval";
/// Refused by an organiser.
pub const STATUS_REJECTED: &str = "rejected";

/// Outbox statuses: waiting (or between attempts), handed to the transport, given up.
pub const MAIL_PENDING: &str = "pending";
/// Handed to the transport.
pub const MAIL_SENT: &str = "sent";
/// Every attempt failed.
pub const MAIL_FAILED: &str = "failed";

/// A message to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewMail {
    /// Stable `Message-ID` (without angle brackets), kept across attempts.
    pub message_id: String,
    /// `account`, `match_alerts`, `requests`, `events`, `digests`.
    pub category: String,
    /// The recipient's account, when there is one (its settings decide whether the
    /// category is wanted; `account` mail is always sent).
    pub user_id: Option<i64>,
    /// Address.
    pub to: String,
    /// Subject (plain text; encoded when sent).
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// One-click unsubscribe link for the category, when it can be unsubscribed.
    pub unsubscribe_url: Option<String>,
    /// A calendar file sent as an attachment (`agenda.ics`).
    pub calendar: Option<String>,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mail {
    /// Store id.
    pub id: i64,
    /// `Message-ID`, without angle brackets.
    pub message_id: String,
    /// Category.
    pub category: String,
    /// Recipient's account.
    pub user_id: Option<i64>,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    #[serde(skip)]
    pub text: String,
    /// HTML body.
    #[serde(skip)]
    pub html: String,
    /// One-click unsubscribe link.
    #[serde(skip)]
    pub unsubscribe_url: Option<String>,
    /// Calendar attachment.
    #[serde(skip)]
    pub calendar: Option<String>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (RFC 3339).
    pub next_attempt_at: String,
    /// The last attempt's error.
    pub last_error: Option<String>,
    /// When it was handed to the transport.
    pub sent_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// A one-time link to store (its token is known only to the mail that carries it).
#[derive(Debug, Clone)]
pub struct NewLink {
    /// SHA-256 of the token.
    pub token_hash: String,
    /// `verify`, `reset`, `invite`.
    pub purpose: &'static str,
    /// The account it acts on (none for an invitation).
    pub user_id: Option<i64>,
    /// The address it was sent to.
    pub email: String,
    /// What else the link carries, as JSON (an invitation's role and organisation).
    pub payload: Option<String>,
    /// RFC 3339.
    pub expires_at: String,
}

/// A link that was just used.
#[derive(Debug, Clone)]
pub struct UsedLink {
    /// The account it acts on.
    pub user_id: Option<i64>,
    /// The address it was sent to.
    pub email: String,
    /// Its payload.
    pub payload: Option<String>,
}

/// What an applicant asked for: the organisation (an existing one by id, or a name, kind,
/// city and credit code) and, once decided, the reason of a rejection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Application {
    /// An organisation already registered (named by id, or found by credit code).
    pub organization_id: Option<i64>,
    /// The organisation's name.
    pub name: Option<String>,
    /// Its kind code (`enterprise`, `university`, `institute`, `other`).
    pub kind: Option<String>,
    /// Its city.
    pub city: Option<String>,
    /// Its 统一社会信用代码.
    pub credit_code: Option<String>,
    /// Why the application was rejected.
    pub rejected_reason: Option<String>,
}

/// An applicant as the approval queue shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Applicant {
    /// The account.
    pub user: crate::User,
    /// What they asked for.
    pub application: Application,
}

/// What an organiser decided about an applicant.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Approved, belonging to this organisation.
    Approve {
        /// The organisation (found or registered at approval).
        organization_id: Option<i64>,
    },
    /// Rejected, for this reason.
    Reject {
        /// Shown to the applicant.
        reason: String,
    },
}

const MAIL_COLUMNS: &str = "id, message_id, category, user_id, to_addr, subject, body_text, body_html, unsubscribe_url, calendar, status, attempts, next_attempt_at, last_error, sent_at, created_at";

fn mail_row(r: &AnyRow) -> Result<Mail, StoreError> {
    Ok(Mail {
        id: r.try_get("id")?,
        message_id: r.try_get("message_id")?,
        category: r.try_get("category")?,
        user_id: r.try_get("user_id")?,
        to: r.try_get("to_addr")?,
        subject: r.try_get("subject")?,
        text: r.try_get("body_text")?,
        html: r.try_get("body_html")?,
        unsubscribe_url: r.try_get("unsubscribe_url")?,
        calendar: r.try_get("calendar")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        sent_at: r.try_get("sent_at")?,
        created_at: r.try_get("created_at")?,
    })
}

fn plus_ms(ms: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(ms))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Categories a user can turn off, with whether they are on when never set.
pub const CATEGORIES: &[(&str, bool)] = &[
    ("match_alerts", true),
    ("requests", true),
    ("events", true),
    ("digests", false),
];

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Whether a user wants mail of a category (`account` mail always).
async fn wants(tx: &mut Tx, user_id: Option<i64>, category: &str) -> Result<bool, StoreError> {
    let Some(default) = CATEGORIES.iter().find(|c| c.0 == category).map(|c| c.1) else {
        return Ok(true);
    };
    let Some(uid) = user_id else {
        return Ok(default);
    };
    let row = sqlx::query(
        "SELECT enabled FROM notification_settings WHERE user_id = $1 AND category = $2",
    )
    .bind(uid)
    .bind(category)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(r) => r.try_get::<i64, _>("enabled")? != 0,
        None => default,
    })
}

/// Puts messages in the outbox inside `tx`, leaving out those whose recipient turned the
/// category off. Returns how many were queued.
pub(crate) async fn enqueue(tx: &mut Tx, mails: &[NewMail]) -> Result<usize, StoreError> {
    let ts = now();
    let mut n = 0;
    for m in mails {
        if !wants(tx, m.user_id, &m.category).await? {
            continue;
        }
        sqlx::query(
            "INSERT INTO mail_outbox (message_id, category, user_id, to_addr, subject, body_text, body_html, \
             unsubscribe_url, status, attempts, next_attempt_at, created_at, calendar) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10, $11)",
        )
        .persistent(false) // optional parameters: a prepared statement would fix their types
        .bind(m.message_id.as_str())
        .bind(m.category.as_str())
        .bind(m.user_id)
        .bind(m.to.as_str())
        .bind(m.subject.as_str())
        .bind(m.text.as_str())
        .bind(m.html.as_str())
        .bind(m.unsubscribe_url.as_deref())
        .bind(MAIL_PENDING)
        .bind(ts.as_str())
        .bind(m.calendar.as_deref())
        .execute(&mut **tx)
        .await?;
        n += 1;
    }
    Ok(n)
}

async fn insert_link(tx: &mut Tx, l: &NewLink) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO one_time_tokens (token_hash, purpose, user_id, email, payload, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .persistent(false)
    .bind(l.token_hash.as_str())
    .bind(l.purpose)
    .bind(l.user_id)
    .bind(l.email.as_str())
    .bind(l.payload.as_deref())
    .bind(l.expires_at.as_str())
    .bind(now().as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn link_refused(purpose: &str) -> StoreError {
    StoreError::Conflict {
        code: "link_invalid",
        message: format!(
            "链接无效、已使用或已过期，请重新申请 / this link is unknown, used or expired ({purpose}); ask for a new one"
        ),
    }
}

/// Marks a link used, if it is unused and unexpired and of this purpose.
async fn use_link(tx: &mut Tx, token_hash: &str, purpose: &str) -> Result<UsedLink, StoreError> {
    let ts = now();
    let row = sqlx::query(
        "UPDATE one_time_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING user_id, email, payload",
    )
    .bind(ts.as_str())
    .bind(token_hash)
    .bind(purpose)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| link_refused(purpose))?;
    Ok(UsedLink {
        user_id: row.try_get("user_id")?,
        email: row.try_get("email")?,
        payload: row.try_get("payload")?,
    })
}

/// An alert notification waiting for a user's digest.
#[derive(Debug, Clone)]
pub struct DigestItem {
    /// Notification id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Link on the site (a path).
    pub link: Option<String>,
}

/// A user who wants digests and has one due.
#[derive(Debug, Clone)]
pub struct DigestDue {
    /// The user.
    pub user_id: i64,
    /// Their address.
    pub email: String,
    /// Their name.
    pub name: Option<String>,
}

impl Store {
    /// Users who turned digests on and whose oldest undigested alert notification was made
    /// at or before `cutoff` (RFC 3339).
    pub async fn digests_due(&self, cutoff: &str) -> Result<Vec<DigestDue>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.name FROM users u \
             JOIN notification_settings ns ON ns.user_id = u.id AND ns.category = 'digests' AND ns.enabled = 1 \
             WHERE u.disabled = 0 AND EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = u.id \
               AND n.subscription_id IS NOT NULL AND n.digested_at IS NULL AND n.created_at <= $1) \
             ORDER BY u.id LIMIT 100",
        )
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DigestDue {
                    user_id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    name: r.try_get("name")?,
                })
            })
            .collect()
    }

    /// A user's alert notifications not yet in a digest, oldest first (at most 100).
    pub async fn undigested(&self, user_id: i64) -> Result<Vec<DigestItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, title, body, link FROM notifications WHERE user_id = $1 \
             AND subscription_id IS NOT NULL AND digested_at IS NULL ORDER BY id LIMIT 100",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DigestItem {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    body: r.try_get("body")?,
                    link: r.try_get("link")?,
                })
            })
            .collect()
    }

    /// Marks notifications digested and queues the digest, together; false (nothing done)
    /// when another process digested any of them first.
    pub async fn record_digest(&self, ids: &[i64], mail: &NewMail) -> Result<bool, StoreError> {
        if ids.is_empty() {
            return Ok(false);
        }
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let n = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE notifications SET digested_at = $1 WHERE id IN ({list}) AND digested_at IS NULL"
        )))
        .bind(now().as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != ids.len() as u64 {
            return Ok(false); // rolled back
        }
        enqueue(&mut tx, std::slice::from_ref(mail)).await?;
        crate::commit(tx).await?;
        Ok(true)
    }

    /// Queues messages on their own (no other change goes with them).
    pub async fn enqueue_mail(&self, mails: &[NewMail]) -> Result<usize, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let n = enqueue(&mut tx, mails).await?;
        crate::commit(tx).await?;
        Ok(n)
    }

    /// Stores a one-time link and the mail that carries it, together.
    pub async fn issue_link(&self, link: &NewLink, mail: &NewMail) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        insert_link(&mut tx, link).await?;
        enqueue(&mut tx, std::slice::from_ref(mail)).await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// Creates an applicant's account (not yet able to sign in), its verification link and
    /// the mail carrying it, in one transaction. An address already taken is a conflict.
    pub async fn create_applicant(
        &self,
        user: &crate::NewUser,
        application: &str,
        link: &NewLink,
        mail: &NewMail,
    ) -> Result<i64, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let ts = now();
        let row = sqlx::query(
            "INSERT INTO users (email, name, role, organization_id, password_hash, disabled, status, application, \
             applied_organization_id, created_at, updated_at) \
             VALUES ($1, $2, $3, NULL, $4, 0, $5, $6, $7, $8, $8) RETURNING id",
        )
        .persistent(false)
        .bind(user.email.as_str())
        .bind(user.name.as_deref())
        .bind(user.role.code())
        .bind(user.password_hash.as_deref())
        .bind(STATUS_PENDING_VERIFICATION)
        .bind(application)
        .bind(user.organization_id)
        .bind(ts.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if StoreError::is_unique_violation(&e) {
                StoreError::Conflict {
                    code: "email_taken",
                    message: "邮箱已被注册 / the e-mail address is already registered".into(),
                }
            } else {
                e.into()
            }
        })?;
        let id: i64 = row.try_get("id")?;
        let mut link = link.clone();
        link.user_id = Some(id);
        insert_link(&mut tx, &link).await?;
        let mut mail = mail.clone();
        mail.user_id = Some(id);
        enqueue(&mut tx, std::slice::from_ref(&mail)).await?;
        crate::commit(tx).await?;
        Ok(id)
    }

    /// Follows a verification link: the account moves to pending approval. `then` are the
    /// messages that go with it (to the organisers). Returns the account.
    pub async fn verify_applicant(
        &self,
        token_hash: &str,
        then: &[NewMail],
    ) -> Result<crate::User, StoreError> {
        let _accounts = self.accounts_write();
        let id = {
            let _g = self.write_lock.lock().await;
            let mut tx = self.begin_tx().await?;
            let used = use_link(&mut tx, token_hash, "verify").await?;
            let id = used.user_id.ok_or_else(|| link_refused("verify"))?;
            sqlx::query(
                "UPDATE users SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
            )
            .bind(STATUS_PENDING_APPROVAL)
            .bind(now().as_str())
            .bind(id)
            .bind(STATUS_PENDING_VERIFICATION)
            .execute(&mut *tx)
            .await?;
            enqueue(&mut tx, then).await?;
            crate::commit(tx).await?;
            id
        };
        self.user(id).await
    }

    /// Records an organiser's decision on a verified applicant, with the mail that tells
    /// them; an account not waiting for approval is a conflict.
    pub async fn decide_applicant(
        &self,
        user_id: i64,
        decision: &Decision,
        mail: &NewMail,
    ) -> Result<crate::User, StoreError> {
        let _accounts = self.accounts_write();
        {
            let _g = self.write_lock.lock().await;
            let mut tx = self.begin_tx().await?;
            let ts = now();
            let n = match decision {
                Decision::Approve { organization_id } => sqlx::query(
                    "UPDATE users SET status = $1, organization_id = $2, updated_at = $3 WHERE id = $4 AND status = $5",
                )
                .persistent(false)
                .bind(STATUS_ACTIVE)
                .bind(*organization_id)
                .bind(ts.as_str())
                .bind(user_id)
                .bind(STATUS_PENDING_APPROVAL)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                Decision::Reject { reason } => {
                    let row = sqlx::query("SELECT application FROM users WHERE id = $1")
                        .bind(user_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let mut app: serde_json::Value = row
                        .and_then(|r| r.try_get::<Option<String>, _>("application").ok().flatten())
                        .and_then(|s| serde_json::from_str(&s).ok())
                        .unwrap_or_else(|| serde_json::json!({}));
                    app["rejected_reason"] = serde_json::json!(reason);
                    sqlx::query(
                        "UPDATE users SET status = $1, application = $2, updated_at = $3 WHERE id = $4 AND status = $5",
                    )
                    .bind(STATUS_REJECTED)
                    .bind(app.to_string())
                    .bind(ts.as_str())
                    .bind(user_id)
                    .bind(STATUS_PENDING_APPROVAL)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                }
            };
            if let (
                1,
                Decision::Approve {
                    organization_id: Some(org),
                },
            ) = (n, decision)
            {
                // the first member of an organisation administers it
                sqlx::query(
                    "UPDATE users SET org_admin = 1 WHERE id = $1 AND NOT EXISTS \
                     (SELECT 1 FROM users WHERE organization_id = $2 AND status = $3 AND id <> $1)",
                )
                .bind(user_id)
                .bind(*org)
                .bind(STATUS_ACTIVE)
                .execute(&mut *tx)
                .await?;
            }
            if n == 0 {
                let user = self.user(user_id).await?;
                return Err(StoreError::Conflict {
                    code: "not_pending_approval",
                    message: format!(
                        "账号 {} 当前状态为 {}，不在待审核队列中 / account {} is {}, not waiting for approval",
                        user.email, user.status, user.email, user.status
                    ),
                });
            }
            enqueue(&mut tx, std::slice::from_ref(mail)).await?;
            crate::commit(tx).await?;
        }
        self.user(user_id).await
    }

    /// Applicants in one status, oldest first (the approval queue); with `org`, only those
    /// asking to join that organisation.
    pub async fn applicants(
        &self,
        status: &str,
        org: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Applicant>, StoreError> {
        // -1 matches no organisation: the whole queue
        let org = org.unwrap_or(-1);
        let q = format!(
            "SELECT {}, u.application FROM users u LEFT JOIN organizations o ON o.id = u.organization_id \
             WHERE u.status = $1 AND ($2 = -1 OR u.applied_organization_id = $2) ORDER BY u.id LIMIT $3 OFFSET $4",
            crate::accounts::USER_COLUMNS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(status)
            .bind(org)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM users WHERE status = $1 AND ($2 = -1 OR applied_organization_id = $2)",
        )
        .bind(status)
        .bind(org)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let application: Option<String> = r.try_get("application")?;
            items.push(Applicant {
                user: user_row(r)?,
                application: application
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default(),
            });
        }
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }

    /// The registered organisation an applicant asked to join.
    pub async fn applied_organization(&self, user_id: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT applied_organization_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get("applied_organization_id")?,
            None => None,
        })
    }

    /// Makes a member an administrator of its organisation, or not.
    pub async fn set_org_admin(&self, user_id: i64, on: bool) -> Result<(), StoreError> {
        let _accounts = self.accounts_write();
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        sqlx::query("UPDATE users SET org_admin = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(on))
            .bind(now().as_str())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// What an applicant asked for.
    pub async fn application(&self, user_id: i64) -> Result<serde_json::Value, StoreError> {
        let row = sqlx::query("SELECT application FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "user",
                id: user_id.to_string(),
            })?;
        let s: Option<String> = row.try_get("application")?;
        Ok(s.and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_else(|| serde_json::json!({})))
    }

    /// Follows a password-reset link: sets the new password and ends every session of the
    /// account, in one transaction. Returns the account.
    pub async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
    ) -> Result<crate::User, StoreError> {
        let _accounts = self.accounts_write();
        let id = {
            let _g = self.write_lock.lock().await;
            let mut tx = self.begin_tx().await?;
            let used = use_link(&mut tx, token_hash, "reset").await?;
            let id = used.user_id.ok_or_else(|| link_refused("reset"))?;
            sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(password_hash)
                .bind(now().as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            crate::commit(tx).await?;
            id
        };
        self.user(id).await
    }

    /// An invitation, if its link is still good (not used, not expired), without using it.
    pub async fn peek_link(
        &self,
        token_hash: &str,
        purpose: &str,
    ) -> Result<Option<UsedLink>, StoreError> {
        let row = sqlx::query(
            "SELECT user_id, email, payload FROM one_time_tokens \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(now().as_str())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(r) => Ok(Some(UsedLink {
                user_id: r.try_get("user_id")?,
                email: r.try_get("email")?,
                payload: r.try_get("payload")?,
            })),
            None => Ok(None),
        }
    }

    /// Accepts an invitation: uses its link and creates the (active) account it invites,
    /// with `then` (a welcome), in one transaction. `make` turns the link into the account.
    pub async fn accept_invitation(
        &self,
        token_hash: &str,
        make: impl FnOnce(&UsedLink) -> Result<crate::NewUser, StoreError> + Send,
        then: &[NewMail],
    ) -> Result<crate::User, StoreError> {
        let id = {
            let _g = self.write_lock.lock().await;
            let mut tx = self.begin_tx().await?;
            let used = use_link(&mut tx, token_hash, "invite").await?;
            let u = make(&used)?;
            let id = crate::accounts::insert_user(&mut tx, &u, STATUS_ACTIVE).await?;
            let then: Vec<NewMail> = then
                .iter()
                .cloned()
                .map(|mut m| {
                    m.user_id = Some(id);
                    m
                })
                .collect();
            enqueue(&mut tx, &then).await?;
            crate::commit(tx).await?;
            id
        };
        self.user(id).await
    }

    /// The organisation registered with a 统一社会信用代码.
    pub async fn organization_by_credit_code(&self, code: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT id FROM organizations WHERE credit_code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("id")?),
            None => None,
        })
    }

    /// Records an organisation's 统一社会信用代码 (when it has none yet).
    pub async fn set_credit_code(&self, org_id: i64, code: &str) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        sqlx::query("UPDATE organizations SET credit_code = $1 WHERE id = $2 AND credit_code IS NULL")
            .bind(code)
            .bind(org_id)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                if StoreError::is_unique_violation(&e) {
                    StoreError::Conflict {
                        code: "credit_code_taken",
                        message: format!(
                            "统一社会信用代码 {code} 已属于另一单位 / credit code {code} belongs to another organisation"
                        ),
                    }
                } else {
                    e.into()
                }
            })?;
        Ok(())
    }

    /// Messages due for an attempt, oldest due first.
    pub async fn due_mail(&self, limit: i64) -> Result<Vec<Mail>, StoreError> {
        let q = format!(
            "SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE status = $1 AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at, id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(MAIL_PENDING)
            .bind(now().as_str())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(mail_row).collect()
    }

    /// Claims a due message for one attempt by moving its due time `lease_ms` ahead, if
    /// nobody else did since it was read.
    pub async fn claim_mail(&self, m: &Mail, lease_ms: i64) -> Result<bool, StoreError> {
        let _g = self.write_lock.lock().await;
        let n = sqlx::query(
            "UPDATE mail_outbox SET next_attempt_at = $1 \
             WHERE id = $2 AND status = $3 AND next_attempt_at = $4 AND attempts = $5",
        )
        .bind(plus_ms(lease_ms).as_str())
        .bind(m.id)
        .bind(MAIL_PENDING)
        .bind(m.next_attempt_at.as_str())
        .bind(m.attempts)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Records an attempt: sent (`error` none), due again in `retry_in_ms`, or failed.
    pub async fn finish_mail(
        &self,
        id: i64,
        error: Option<&str>,
        retry_in_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        let ts = now();
        let (status, next, sent_at) = match (error, retry_in_ms) {
            (None, _) => (MAIL_SENT, ts.clone(), Some(ts.as_str())),
            (Some(_), Some(ms)) => (MAIL_PENDING, plus_ms(ms), None),
            (Some(_), None) => (MAIL_FAILED, ts.clone(), None),
        };
        sqlx::query(
            "UPDATE mail_outbox SET attempts = attempts + 1, status = $1, next_attempt_at = $2, last_error = $3, \
             sent_at = $4 WHERE id = $5",
        )
        .persistent(false)
        .bind(status)
        .bind(next.as_str())
        .bind(error)
        .bind(sent_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The outbox, newest first, optionally of one status.
    pub async fn mail_log(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Mail>, StoreError> {
        let (w, bind) = match status {
            Some(s) => (" WHERE status = $3", Some(s)),
            None => ("", None),
        };
        let q = format!(
            "SELECT {MAIL_COLUMNS} FROM mail_outbox{w} ORDER BY id DESC LIMIT $1 OFFSET $2"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(q)).bind(limit).bind(offset);
        if let Some(s) = bind {
            query = query.bind(s);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let cq = format!(
            "SELECT COUNT(*) AS n FROM mail_outbox{}",
            if bind.is_some() {
                " WHERE status = $1"
            } else {
                ""
            }
        );
        let mut c = sqlx::query(sqlx::AssertSqlSafe(cq));
        if let Some(s) = bind {
            c = c.bind(s);
        }
        let total: i64 = c.fetch_one(&self.pool).await?.try_get("n")?;
        Ok(Page {
            items: rows.iter().map(mail_row).collect::<Result<_, _>>()?,
            total,
            limit,
            offset,
        })
    }

    /// One message of the outbox.
    pub async fn mail(&self, id: i64) -> Result<Mail, StoreError> {
        let q = format!("SELECT {MAIL_COLUMNS} FROM mail_outbox WHERE id = $1");
        match sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => mail_row(&r),
            None => Err(StoreError::NotFound {
                entity: "mail",
                id: id.to_string(),
            }),
        }
    }

    /// A user's mail categories with whether each is on.
    pub async fn notification_settings(
        &self,
        user_id: i64,
    ) -> Result<Vec<(&'static str, bool)>, StoreError> {
        let rows =
            sqlx::query("SELECT category, enabled FROM notification_settings WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::new();
        for (cat, default) in CATEGORIES {
            let mut on = *default;
            for r in &rows {
                if r.try_get::<String, _>("category")? == *cat {
                    on = r.try_get::<i64, _>("enabled")? != 0;
                }
            }
            out.push((*cat, on));
        }
        Ok(out)
    }

    /// Turns categories on or off for a user.
    pub async fn set_notification_settings(
        &self,
        user_id: i64,
        changes: &[(&str, bool)],
    ) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let ts = now();
        for (cat, on) in changes {
            sqlx::query(
                "INSERT INTO notification_settings (user_id, category, enabled, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id, category) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
            )
            .bind(user_id)
            .bind(*cat)
            .bind(i64::from(*on))
            .bind(ts.as_str())
            .execute(&mut *tx)
            .await?;
        }
        crate::commit(tx).await?;
        Ok(())
    }

    /// A named signing key, made from `fresh` the first time it is asked for (every server
    /// on one database then signs with the same key).
    pub async fn server_key(&self, name: &str, fresh: &str) -> Result<String, StoreError> {
        if let Some(r) = sqlx::query("SELECT value FROM server_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
        {
            return Ok(r.try_get("value")?);
        }
        {
            let _g = self.write_lock.lock().await;
            sqlx::query(
                "INSERT INTO server_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(fresh)
            .execute(&self.pool)
            .await?;
        }
        let r = sqlx::query("SELECT value FROM server_keys WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(r.try_get("value")?)
    }
}
