//! Match alerts: subscriptions, the webhook deliveries they cause with a log of every
//! attempt, in-app notifications, and the alert worker's watermark in the change log.
//!
//! Deciding *what* to alert and sending it is the server's job; the store makes both
//! idempotent and restartable: an alert is recorded at most once per subscription and
//! listing (`dedup_key`), and a delivery is pending in the database until it is delivered
//! or has used its attempts, so a restart picks it up again.

use crate::{Page, Store, StoreError, now};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Subscription kind: new published results matching a need.
pub const KIND_NEED_MATCHES: &str = "need_matches";
/// Subscription kind: new published needs in an industry.
pub const KIND_INDUSTRY_NEEDS: &str = "industry_needs";

/// Delivery waiting for its next attempt.
pub const DELIVERY_PENDING: &str = "pending";
/// Delivery answered with a 2xx.
pub const DELIVERY_DELIVERED: &str = "delivered";
/// Delivery that used all its attempts.
pub const DELIVERY_FAILED: &str = "failed";

/// An alert subscription.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Subscription {
    /// Store id.
    pub id: i64,
    /// The owner.
    pub user_id: i64,
    /// The owner's e-mail (for administrators' lists).
    pub user_email: String,
    /// [`KIND_NEED_MATCHES`] or [`KIND_INDUSTRY_NEEDS`].
    pub kind: String,
    /// The need whose matches are wanted (`need_matches`).
    pub need_id: Option<i64>,
    /// Its title, when it still exists.
    pub need_title: Option<String>,
    /// Industry code (`industry_needs`).
    pub industry: Option<String>,
    /// Lowest score that alerts (`need_matches`).
    pub min_score: Option<f64>,
    /// Where deliveries are POSTed; `None`: in-app notifications only.
    pub webhook_url: Option<String>,
    /// The HMAC key of the signature header. Shown once at creation, never listed.
    #[serde(skip_serializing)]
    pub secret: String,
    /// RFC 3339.
    pub created_at: String,
}

/// A subscription to create (validated by the caller).
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// The owner.
    pub user_id: i64,
    /// Kind code.
    pub kind: String,
    /// `need_matches`: the need.
    pub need_id: Option<i64>,
    /// `industry_needs`: the industry code.
    pub industry: Option<String>,
    /// `need_matches`: the lowest score.
    pub min_score: Option<f64>,
    /// Webhook URL.
    pub webhook_url: Option<String>,
    /// Signing secret.
    pub secret: String,
}

/// One webhook delivery (an alert or a test) and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// Store id.
    pub id: i64,
    /// The subscription.
    pub subscription_id: i64,
    /// What it is about (`result:42`, `need:7`, `test:…`), unique per subscription.
    pub dedup_key: String,
    /// The random id sent in the delivery id header.
    pub delivery_key: String,
    /// The exact body POSTed (the signature is over these bytes).
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// RFC 3339: when the next attempt is due (pending only).
    pub next_attempt_at: String,
    /// The last attempt's failure.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub delivered_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// One attempt to deliver.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attempt {
    /// Store id.
    pub id: i64,
    /// The delivery.
    pub delivery_id: i64,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// RFC 3339, when it was made.
    pub at: String,
    /// The HTTP status answered, when there was an answer.
    pub status_code: Option<i64>,
    /// What went wrong (connection refused, timeout, non-2xx...).
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// The outcome of an attempt, as [`Store::finish_attempt`] records it.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    /// The HTTP status, when the receiver answered.
    pub status_code: Option<i64>,
    /// The failure, `None` for a 2xx.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
    /// Retry after this many milliseconds; `None`: delivered (no error) or given up.
    pub retry_in_ms: Option<i64>,
}

/// An in-app notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    /// Store id.
    pub id: i64,
    /// The recipient.
    pub user_id: i64,
    /// The subscription that raised it (absent once deleted).
    pub subscription_id: Option<i64>,
    /// Short line.
    pub title: String,
    /// Details.
    pub body: String,
    /// Page to open.
    pub link: Option<String>,
    /// RFC 3339, when read.
    pub read_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

/// One alert to record: a notification for the owner and, with a webhook, a delivery.
#[derive(Debug, Clone)]
pub struct NewAlert {
    /// The subscription.
    pub subscription_id: i64,
    /// Its owner.
    pub user_id: i64,
    /// What it is about (`result:42`); an alert is recorded once per subscription and key.
    pub dedup_key: String,
    /// Notification title.
    pub title: String,
    /// Notification text.
    pub body: String,
    /// Notification link.
    pub link: Option<String>,
    /// `(delivery id header value, payload)` when the subscription has a webhook.
    pub delivery: Option<(String, String)>,
    /// The mail telling the owner (queued unless they turned match alerts off).
    pub mail: Option<crate::NewMail>,
}

const SUB_COLUMNS: &str = "s.id, s.user_id, u.email AS user_email, s.kind, s.need_id, n.title AS need_title, \
     s.industry, s.min_score, s.webhook_url, s.secret, s.created_at";
const SUB_FROM: &str =
    "alert_subscriptions s JOIN users u ON u.id = s.user_id LEFT JOIN needs n ON n.id = s.need_id";
const DELIVERY_COLUMNS: &str = "id, subscription_id, dedup_key, delivery_key, payload, status, attempts, \
     next_attempt_at, last_error, delivered_at, created_at";
const NOTIFICATION_COLUMNS: &str =
    "id, user_id, subscription_id, title, body, link, read_at, created_at";

fn subscription_row(r: &AnyRow) -> Result<Subscription, StoreError> {
    Ok(Subscription {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        user_email: r.try_get("user_email")?,
        kind: r.try_get("kind")?,
        need_id: r.try_get("need_id")?,
        need_title: r.try_get("need_title")?,
        industry: r.try_get("industry")?,
        min_score: r.try_get("min_score")?,
        webhook_url: r.try_get("webhook_url")?,
        secret: r.try_get("secret")?,
        created_at: r.try_get("created_at")?,
    })
}

fn delivery_row(r: &AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: r.try_get("id")?,
        subscription_id: r.try_get("subscription_id")?,
        dedup_key: r.try_get("dedup_key")?,
        delivery_key: r.try_get("delivery_key")?,
        payload: r.try_get("payload")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        delivered_at: r.try_get("delivered_at")?,
        created_at: r.try_get("created_at")?,
    })
}

fn attempt_row(r: &AnyRow) -> Result<Attempt, StoreError> {
    Ok(Attempt {
        id: r.try_get("id")?,
        delivery_id: r.try_get("delivery_id")?,
        attempt: r.try_get("attempt")?,
        at: r.try_get("at")?,
        status_code: r.try_get("status_code")?,
        error: r.try_get("error")?,
        duration_ms: r.try_get("duration_ms")?,
    })
}

fn notification_row(r: &AnyRow) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        subscription_id: r.try_get("subscription_id")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        link: r.try_get("link")?,
        read_at: r.try_get("read_at")?,
        created_at: r.try_get("created_at")?,
    })
}

/// RFC 3339 (milliseconds, UTC) of now plus `ms`; sorts as text like [`now`].
fn now_plus_ms(ms: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(ms))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn not_found(entity: &'static str, id: i64) -> StoreError {
    StoreError::NotFound {
        entity,
        id: id.to_string(),
    }
}

impl Store {
    /// Creates a subscription and returns it (with its secret).
    pub async fn create_subscription(
        &self,
        s: &NewSubscription,
    ) -> Result<Subscription, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let row = sqlx::query(
            "INSERT INTO alert_subscriptions (user_id, kind, need_id, industry, min_score, webhook_url, secret, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        // not a cached statement: PostgreSQL would keep the parameter types of the first
        // call, and a NULL min_score is typed differently from a number through sqlx::Any
        .persistent(false)
        .bind(s.user_id)
        .bind(s.kind.as_str())
        .bind(s.need_id)
        .bind(s.industry.as_deref())
        .bind(s.min_score)
        .bind(s.webhook_url.as_deref())
        .bind(s.secret.as_str())
        .bind(now().as_str())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        crate::audit_created(id);
        crate::commit(tx).await?;
        self.subscription(id).await
    }

    /// Replaces a subscription's (sealed) secret.
    pub async fn set_subscription_secret(&self, id: i64, secret: &str) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        sqlx::query("UPDATE alert_subscriptions SET secret = $1 WHERE id = $2")
            .bind(secret)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One subscription.
    pub async fn subscription(&self, id: i64) -> Result<Subscription, StoreError> {
        let q = format!("SELECT {SUB_COLUMNS} FROM {SUB_FROM} WHERE s.id = $1");
        match sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => subscription_row(&r),
            None => Err(not_found("alert", id)),
        }
    }

    /// A user's subscriptions (everyone's with `None`), newest first.
    pub async fn subscriptions(
        &self,
        user_id: Option<i64>,
    ) -> Result<Vec<Subscription>, StoreError> {
        let q = format!(
            "SELECT {SUB_COLUMNS} FROM {SUB_FROM} WHERE ($1 = 0 OR s.user_id = $1) ORDER BY s.id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(user_id.unwrap_or(0))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(subscription_row).collect()
    }

    /// Every subscription of a kind, oldest first (the alert worker's list).
    pub async fn subscriptions_of_kind(&self, kind: &str) -> Result<Vec<Subscription>, StoreError> {
        let q = format!("SELECT {SUB_COLUMNS} FROM {SUB_FROM} WHERE s.kind = $1 ORDER BY s.id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(kind)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(subscription_row).collect()
    }

    /// Whether any subscription exists (the worker skips scoring when none does).
    pub async fn has_subscriptions(&self) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM alert_subscriptions")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Deletes a subscription with its deliveries (its notifications stay).
    pub async fn delete_subscription(&self, id: i64) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let n = sqlx::query("DELETE FROM alert_subscriptions WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(not_found("alert", id));
        }
        crate::commit(tx).await?;
        Ok(())
    }

    /// A worker's position in the change log (0 when it has none yet).
    pub async fn watermark(&self, name: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT seq FROM worker_watermarks WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get("seq")?,
            None => 0,
        })
    }

    /// Moves a worker's position forward (never back: two processes may both advance it).
    pub async fn set_watermark(&self, name: &str, seq: i64) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        sqlx::query(
            "INSERT INTO worker_watermarks (name, seq) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET seq = excluded.seq WHERE worker_watermarks.seq < excluded.seq",
        )
        .bind(name)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records an alert once: its notification and, with a webhook, its pending delivery,
    /// in one transaction. Returns false when this subscription already alerted about
    /// `dedup_key` (nothing is written then).
    pub async fn record_alert(&self, a: &NewAlert) -> Result<bool, StoreError> {
        let _g = self.write_lock.lock().await;
        let ts = now();
        let mut tx = self.begin_tx().await?;
        let key = format!("s{}:{}", a.subscription_id, a.dedup_key);
        let n = sqlx::query(
            "INSERT INTO notifications (user_id, subscription_id, dedup_key, title, body, link, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(a.user_id)
        .bind(a.subscription_id)
        .bind(key.as_str())
        .bind(a.title.as_str())
        .bind(a.body.as_str())
        .bind(a.link.as_deref())
        .bind(ts.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        if let Some((delivery_key, payload)) = &a.delivery {
            sqlx::query(
                "INSERT INTO alert_deliveries (subscription_id, dedup_key, delivery_key, payload, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6, $6) ON CONFLICT (subscription_id, dedup_key) DO NOTHING",
            )
            .bind(a.subscription_id)
            .bind(a.dedup_key.as_str())
            .bind(delivery_key.as_str())
            .bind(payload.as_str())
            .bind(DELIVERY_PENDING)
            .bind(ts.as_str())
            .execute(&mut *tx)
            .await?;
        }
        if let Some(m) = &a.mail {
            crate::mail::enqueue(&mut tx, std::slice::from_ref(m)).await?;
        }
        crate::commit(tx).await?;
        Ok(true)
    }

    /// Queues a delivery without a notification (the "send test" action); due at once.
    pub async fn enqueue_delivery(
        &self,
        subscription_id: i64,
        dedup_key: &str,
        delivery_key: &str,
        payload: &str,
    ) -> Result<Delivery, StoreError> {
        let _g = self.write_lock.lock().await;
        let ts = now();
        let row = sqlx::query(
            "INSERT INTO alert_deliveries (subscription_id, dedup_key, delivery_key, payload, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING id",
        )
        .bind(subscription_id)
        .bind(dedup_key)
        .bind(delivery_key)
        .bind(payload)
        .bind(DELIVERY_PENDING)
        .bind(ts.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| {
            if StoreError::is_unique_violation(&e) {
                StoreError::Conflict {
                    code: "duplicate_delivery",
                    message: format!(
                        "该提醒已投递过 {dedup_key} / a delivery for {dedup_key} exists already"
                    ),
                }
            } else {
                e.into()
            }
        })?;
        self.delivery(row.try_get("id")?).await
    }

    /// One delivery.
    pub async fn delivery(&self, id: i64) -> Result<Delivery, StoreError> {
        let q = format!("SELECT {DELIVERY_COLUMNS} FROM alert_deliveries WHERE id = $1");
        match sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(r) => delivery_row(&r),
            None => Err(not_found("delivery", id)),
        }
    }

    /// A subscription's deliveries, newest first.
    pub async fn deliveries(
        &self,
        subscription_id: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        let q = format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries WHERE subscription_id = $1 ORDER BY id DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(subscription_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delivery_row).collect()
    }

    /// The attempts of some deliveries, in the order made.
    pub async fn attempts(&self, delivery_ids: &[i64]) -> Result<Vec<Attempt>, StoreError> {
        if delivery_ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = delivery_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, delivery_id, attempt, at, status_code, error, duration_ms FROM alert_attempts \
             WHERE delivery_id IN ({list}) ORDER BY delivery_id, attempt, id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attempt_row).collect()
    }

    /// Pending deliveries whose next attempt is due, oldest due first.
    pub async fn due_deliveries(&self, limit: i64) -> Result<Vec<Delivery>, StoreError> {
        let q = format!(
            "SELECT {DELIVERY_COLUMNS} FROM alert_deliveries WHERE status = $1 AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at, id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(DELIVERY_PENDING)
            .bind(now().as_str())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(delivery_row).collect()
    }

    /// Claims a due delivery for one attempt by moving its due time `lease_ms` ahead, if
    /// nobody else did since it was read. A process that dies during the attempt leaves
    /// the lease to expire, and the delivery is tried again.
    pub async fn claim_delivery(&self, d: &Delivery, lease_ms: i64) -> Result<bool, StoreError> {
        let _g = self.write_lock.lock().await;
        let n = sqlx::query(
            "UPDATE alert_deliveries SET next_attempt_at = $1 \
             WHERE id = $2 AND status = $3 AND next_attempt_at = $4 AND attempts = $5",
        )
        .bind(now_plus_ms(lease_ms).as_str())
        .bind(d.id)
        .bind(DELIVERY_PENDING)
        .bind(d.next_attempt_at.as_str())
        .bind(d.attempts)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Logs an attempt and moves the delivery on: delivered (no error), pending again
    /// (`retry_in_ms`), or failed. Returns the delivery as it now stands.
    pub async fn finish_attempt(
        &self,
        delivery_id: i64,
        o: &AttemptOutcome,
    ) -> Result<Delivery, StoreError> {
        let _g = self.write_lock.lock().await;
        let ts = now();
        let mut tx = self.begin_tx().await?;
        let row = sqlx::query("SELECT attempts FROM alert_deliveries WHERE id = $1")
            .bind(delivery_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found("delivery", delivery_id))?;
        let attempt: i64 = row.try_get::<i64, _>("attempts")? + 1;
        sqlx::query(
            "INSERT INTO alert_attempts (delivery_id, attempt, at, status_code, error, duration_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .persistent(false) // optional parameters: see create_subscription
        .bind(delivery_id)
        .bind(attempt)
        .bind(ts.as_str())
        .bind(o.status_code)
        .bind(o.error.as_deref())
        .bind(o.duration_ms)
        .execute(&mut *tx)
        .await?;
        let (status, next, delivered_at) = match (&o.error, o.retry_in_ms) {
            (None, _) => (DELIVERY_DELIVERED, ts.clone(), Some(ts.as_str())),
            (Some(_), Some(ms)) => (DELIVERY_PENDING, now_plus_ms(ms), None),
            (Some(_), None) => (DELIVERY_FAILED, ts.clone(), None),
        };
        sqlx::query(
            "UPDATE alert_deliveries SET attempts = $1, status = $2, next_attempt_at = $3, last_error = $4, \
             delivered_at = $5 WHERE id = $6",
        )
        .persistent(false)
        .bind(attempt)
        .bind(status)
        .bind(next.as_str())
        .bind(o.error.as_deref())
        .bind(delivered_at)
        .bind(delivery_id)
        .execute(&mut *tx)
        .await?;
        crate::commit(tx).await?;
        self.delivery(delivery_id).await
    }

    /// A user's notifications, newest first.
    pub async fn notifications(
        &self,
        user_id: i64,
        unread_only: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Notification>, StoreError> {
        let filter = if unread_only {
            " AND read_at IS NULL"
        } else {
            ""
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1{filter} ORDER BY id DESC LIMIT $2 OFFSET $3"
        )))
        .bind(user_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1{filter}"
        )))
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        Ok(Page {
            items: rows
                .iter()
                .map(notification_row)
                .collect::<Result<_, _>>()?,
            total,
            limit,
            offset,
        })
    }

    /// How many of a user's notifications are unread.
    pub async fn unread_notifications(&self, user_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Marks one of a user's notifications read (another user's is not found).
    pub async fn mark_notification_read(
        &self,
        user_id: i64,
        id: i64,
    ) -> Result<Notification, StoreError> {
        let _g = self.write_lock.lock().await;
        let n = sqlx::query(
            "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3",
        )
        .bind(now().as_str())
        .bind(id)
        .bind(user_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(not_found("notification", id));
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        notification_row(&row)
    }

    /// Marks all of a user's notifications read; returns how many were unread.
    pub async fn mark_all_notifications_read(&self, user_id: i64) -> Result<u64, StoreError> {
        let _g = self.write_lock.lock().await;
        Ok(sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
        )
        .bind(now().as_str())
        .bind(user_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }
}

#[cfg(test)]
mod tests {
    //! Run against SQLite always and PostgreSQL when reachable, like `tests.rs`.
    use super::*;
    use crate::NewUser;
    use duijie_domain::Role;

    async fn user(store: &Store, email: &str) -> i64 {
        store
            .create_user(&NewUser {
                email: email.into(),
                name: None,
                role: Role::Enterprise,
                organization_id: None,
                password_hash: None,
            })
            .await
            .unwrap()
    }

    fn sub(user_id: i64, webhook: Option<&str>) -> NewSubscription {
        NewSubscription {
            user_id,
            kind: KIND_INDUSTRY_NEEDS.into(),
            need_id: None,
            industry: Some("new_energy".into()),
            min_score: None,
            webhook_url: webhook.map(str::to_string),
            secret: "s3cret".into(),
        }
    }

    fn alert(s: &Subscription, key: &str, webhook: bool) -> NewAlert {
        NewAlert {
            subscription_id: s.id,
            user_id: s.user_id,
            dedup_key: key.into(),
            title: format!("新需求 {key}"),
            body: "b".into(),
            link: Some("/needs/1".into()),
            delivery: webhook.then(|| (format!("d-{key}"), format!("{{\"k\":\"{key}\"}}"))),
            mail: None,
        }
    }

    async fn subscriptions_and_watermark(store: &Store) {
        let a = user(store, "a@x.cn").await;
        let b = user(store, "b@x.cn").await;
        let s1 = store
            .create_subscription(&sub(a, Some("http://127.0.0.1:9/h")))
            .await
            .unwrap();
        assert_eq!(s1.secret, "s3cret");
        assert_eq!(s1.user_email, "a@x.cn");
        let mut s2 = sub(b, None);
        s2.kind = KIND_NEED_MATCHES.into();
        s2.need_id = Some(12345);
        s2.industry = None;
        s2.min_score = Some(0.4);
        let s2 = store.create_subscription(&s2).await.unwrap();
        assert_eq!(s2.min_score, Some(0.4));
        assert_eq!(
            s2.need_title, None,
            "a need that does not exist has no title"
        );
        assert_eq!(
            store.subscriptions(Some(a)).await.unwrap(),
            vec![s1.clone()]
        );
        assert_eq!(store.subscriptions(None).await.unwrap().len(), 2);
        assert_eq!(
            store
                .subscriptions_of_kind(KIND_NEED_MATCHES)
                .await
                .unwrap(),
            vec![s2.clone()]
        );
        assert!(store.has_subscriptions().await.unwrap());
        store.delete_subscription(s2.id).await.unwrap();
        assert!(matches!(
            store.delete_subscription(s2.id).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            store.subscription(s2.id).await,
            Err(StoreError::NotFound { .. })
        ));
        // the watermark starts at the log's end of the migration and only moves forward
        assert_eq!(store.watermark("alerts").await.unwrap(), 0);
        store.set_watermark("alerts", 7).await.unwrap();
        store.set_watermark("alerts", 5).await.unwrap();
        assert_eq!(store.watermark("alerts").await.unwrap(), 7);
        store.set_watermark("other", 3).await.unwrap();
        assert_eq!(store.watermark("other").await.unwrap(), 3);
    }

    async fn alerts_are_recorded_once(store: &Store) {
        let a = user(store, "a@x.cn").await;
        let s = store
            .create_subscription(&sub(a, Some("http://127.0.0.1:9/h")))
            .await
            .unwrap();
        assert!(
            store
                .record_alert(&alert(&s, "need:1", true))
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_alert(&alert(&s, "need:1", true))
                .await
                .unwrap(),
            "the same listing alerts a subscription once"
        );
        assert!(
            store
                .record_alert(&alert(&s, "need:2", false))
                .await
                .unwrap()
        );
        let ds = store.deliveries(s.id, 10).await.unwrap();
        assert_eq!(
            ds.len(),
            1,
            "only the alert with a webhook payload is delivered"
        );
        assert_eq!(ds[0].status, DELIVERY_PENDING);
        assert_eq!(ds[0].payload, "{\"k\":\"need:1\"}");
        let page = store.notifications(a, false, 10, 0).await.unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(page.items[0].title, "新需求 need:2", "newest first");
        assert_eq!(store.unread_notifications(a).await.unwrap(), 2);
        let other = user(store, "b@x.cn").await;
        assert!(matches!(
            store.mark_notification_read(other, page.items[0].id).await,
            Err(StoreError::NotFound { .. })
        ));
        let n = store
            .mark_notification_read(a, page.items[0].id)
            .await
            .unwrap();
        assert!(n.read_at.is_some());
        assert_eq!(store.unread_notifications(a).await.unwrap(), 1);
        assert_eq!(store.notifications(a, true, 10, 0).await.unwrap().total, 1);
        assert_eq!(store.mark_all_notifications_read(a).await.unwrap(), 1);
        assert_eq!(store.unread_notifications(a).await.unwrap(), 0);
        // deleting the subscription drops its deliveries and keeps the notifications
        store.delete_subscription(s.id).await.unwrap();
        assert_eq!(store.due_deliveries(10).await.unwrap().len(), 0);
        let kept = store.notifications(a, false, 10, 0).await.unwrap();
        assert_eq!(kept.total, 2);
        assert_eq!(kept.items[0].subscription_id, None);
    }

    async fn deliveries_retry_and_finish(store: &Store) {
        let a = user(store, "a@x.cn").await;
        let s = store
            .create_subscription(&sub(a, Some("http://127.0.0.1:9/h")))
            .await
            .unwrap();
        store
            .record_alert(&alert(&s, "need:1", true))
            .await
            .unwrap();
        let due = store.due_deliveries(10).await.unwrap();
        assert_eq!(due.len(), 1);
        let d = &due[0];
        assert!(store.claim_delivery(d, 60_000).await.unwrap());
        assert!(
            !store.claim_delivery(d, 60_000).await.unwrap(),
            "a claimed delivery cannot be claimed again"
        );
        assert!(
            store.due_deliveries(10).await.unwrap().is_empty(),
            "claimed: not due"
        );
        let fail = |retry| AttemptOutcome {
            status_code: Some(500),
            error: Some("HTTP 500".into()),
            duration_ms: 3,
            retry_in_ms: retry,
        };
        let refused = AttemptOutcome {
            status_code: None,
            error: Some("cannot connect".into()),
            duration_ms: 1,
            retry_in_ms: Some(0),
        };
        let after = store.finish_attempt(d.id, &refused).await.unwrap();
        assert_eq!(
            (after.status.as_str(), after.attempts),
            (DELIVERY_PENDING, 1)
        );
        assert_eq!(after.last_error.as_deref(), Some("cannot connect"));
        let due = store.due_deliveries(10).await.unwrap();
        assert_eq!(due.len(), 1, "due again after the retry delay");
        assert!(store.claim_delivery(&due[0], 60_000).await.unwrap());
        let later = store
            .finish_attempt(d.id, &fail(Some(3_600_000)))
            .await
            .unwrap();
        assert_eq!(later.attempts, 2);
        assert!(
            store.due_deliveries(10).await.unwrap().is_empty(),
            "retry is an hour away"
        );
        let ok = AttemptOutcome {
            status_code: Some(204),
            error: None,
            duration_ms: 1,
            retry_in_ms: None,
        };
        let done = store.finish_attempt(d.id, &ok).await.unwrap();
        assert_eq!(
            (done.status.as_str(), done.attempts),
            (DELIVERY_DELIVERED, 3)
        );
        assert!(done.delivered_at.is_some());
        let log = store.attempts(&[d.id]).await.unwrap();
        assert_eq!(
            log.iter()
                .map(|a| (a.attempt, a.status_code))
                .collect::<Vec<_>>(),
            vec![(1, None), (2, Some(500)), (3, Some(204))]
        );
        // a test delivery is due at once, has no notification, and gives up when told to
        let t = store
            .enqueue_delivery(s.id, "test:1", "d-test-1", "{}")
            .await
            .unwrap();
        assert!(matches!(
            store
                .enqueue_delivery(s.id, "test:1", "d-test-2", "{}")
                .await,
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(store.due_deliveries(10).await.unwrap(), vec![t.clone()]);
        let given_up = store.finish_attempt(t.id, &fail(None)).await.unwrap();
        assert_eq!(given_up.status, DELIVERY_FAILED);
        assert!(store.due_deliveries(10).await.unwrap().is_empty());
        assert_eq!(store.deliveries(s.id, 10).await.unwrap().len(), 2);
        assert_eq!(store.notifications(a, false, 10, 0).await.unwrap().total, 1);
    }

    macro_rules! both_backends {
        ($($name:ident),*) => {$(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let (_dir, store) = crate::tests::sqlite_store().await;
                    super::$name(&store).await;
                }
                #[tokio::test]
                async fn postgres() {
                    if let Some(store) = crate::tests::postgres_or_skip(stringify!($name)).await {
                        super::$name(&store).await;
                    }
                }
            }
        )*};
    }

    both_backends!(
        subscriptions_and_watermark,
        alerts_are_recorded_once,
        deliveries_retry_and_finish
    );
}
