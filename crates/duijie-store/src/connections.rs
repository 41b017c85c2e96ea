//! Connection requests (对接申请) and the loop after them: each step of a request is one
//! transaction that changes the request only if it is still in the state the caller saw,
//! appends to its history, opens or moves its ledger entry, and queues its mails. The
//! rules (who may answer, what a meeting is) live in the application layer; this module
//! keeps the steps atomic and the pair's single open request unique.

use crate::ledger::insert_change;
use crate::{LedgerActor, NewMail, Page, Store, StoreError, now};
use duijie_domain::ledger::Outcome;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// A connection request with the names it refers to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Connection {
    /// Store id.
    pub id: i64,
    /// Kind of the sender's listing (`need`, `result`, `expert`).
    pub from_kind: String,
    /// The sender's listing.
    pub from_id: i64,
    /// Its title (an expert's name).
    pub from_title: Option<String>,
    /// The sender's organisation.
    pub from_org_id: Option<i64>,
    /// Its name.
    pub from_org_name: Option<String>,
    /// Kind of the listing asked for.
    pub to_kind: String,
    /// The listing asked for.
    pub to_id: i64,
    /// Its title.
    pub to_title: Option<String>,
    /// The recipient organisation.
    pub to_org_id: Option<i64>,
    /// Its name.
    pub to_org_name: Option<String>,
    /// Who sent it.
    pub sender_id: i64,
    /// Their name.
    pub sender_name: Option<String>,
    /// The colleague the recipient organisation handed it to.
    pub assignee_id: Option<i64>,
    /// Their name.
    pub assignee_name: Option<String>,
    /// The broker (技术经纪人) following it.
    pub broker_id: Option<i64>,
    /// Their name.
    pub broker_name: Option<String>,
    /// The sender's note.
    pub note: String,
    /// `pending`, `proposed`, `accepted`, `declined`, `withdrawn`, `expired`.
    pub status: String,
    /// Whose answer it waits for: `recipient` or `sender` (after a counter-proposal).
    pub turn: String,
    /// The message sent with the acceptance.
    pub message: Option<String>,
    /// Why it was declined (a code).
    pub decline_reason: Option<String>,
    /// The decline's note.
    pub decline_note: Option<String>,
    /// The meeting agreed or proposed, as JSON `{start, end, place | online_url}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub meeting: Option<serde_json::Value>,
    /// The ledger entry opened when it was accepted.
    pub ledger_entry_id: Option<i64>,
    /// That entry's status.
    pub ledger_status: Option<String>,
    /// When a pending request expires.
    pub expires_at: String,
    /// When the recipient first answered.
    pub answered_at: Option<String>,
    /// When the question "did the meeting happen" is due.
    pub feedback_due_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, last step.
    pub updated_at: String,
}

/// One step in a request's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionStep {
    /// When.
    pub at: String,
    /// Who (user id).
    pub user_id: Option<i64>,
    /// Readable name of who.
    pub actor: String,
    /// `sent`, `accepted`, `declined`, `proposed`, `withdrawn`, `expired`, `assigned`,
    /// `broker`, `reminded`, `feedback`...
    pub action: String,
    /// What came with it (message, reason, meeting) as text.
    pub detail: Option<String>,
}

/// A request to store.
#[derive(Debug, Clone)]
pub struct NewConnection {
    /// Kind of the sender's listing.
    pub from_kind: String,
    /// The sender's listing.
    pub from_id: i64,
    /// The sender's organisation.
    pub from_org_id: i64,
    /// Kind of the listing asked for.
    pub to_kind: String,
    /// The listing asked for.
    pub to_id: i64,
    /// The recipient organisation.
    pub to_org_id: i64,
    /// The sender.
    pub sender_id: i64,
    /// Their note.
    pub note: String,
    /// When it expires unanswered (RFC 3339).
    pub expires_at: String,
    /// The pair's key (both listings in a fixed order).
    pub open_key: String,
}

/// Quotas checked when a request is sent.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    /// Open requests a user may have sent.
    pub max_open: i64,
    /// Requests a user may send in 24 hours.
    pub max_per_day: i64,
}

/// Which requests a list shows.
#[derive(Debug, Clone)]
pub enum ConnectionScope {
    /// Sent by an organisation's members (the `sent` box).
    SentBy(i64),
    /// Received by an organisation.
    ReceivedBy(i64),
    /// Sent or received by an organisation (archived requests).
    Of(i64),
    /// Followed by a broker.
    Broker(i64),
    /// Every request (organisers).
    All,
}

/// A step to apply to a request.
#[derive(Debug, Clone, Default)]
pub struct ConnectionChange {
    /// New status.
    pub status: Option<String>,
    /// New turn.
    pub turn: Option<String>,
    /// Acceptance message.
    pub message: Option<String>,
    /// Decline reason code.
    pub decline_reason: Option<String>,
    /// Decline note.
    pub decline_note: Option<String>,
    /// Meeting JSON.
    pub meeting: Option<String>,
    /// The request is no longer open (frees the pair for a new request).
    pub close: bool,
    /// This step answers the request (the first answer's time is kept).
    pub answers: bool,
    /// When the meeting question is due.
    pub feedback_due_at: Option<String>,
    /// Hand it to this colleague.
    pub assignee_id: Option<i64>,
    /// Give it to this broker.
    pub broker_id: Option<i64>,
    /// Open a ledger entry (kind `cooperation`, status `accepted`).
    pub open_entry: Option<EntryDraft>,
    /// History line: action and detail.
    pub action: String,
    /// History detail.
    pub detail: Option<String>,
}

/// The ledger entry an accepted request opens.
#[derive(Debug, Clone)]
pub struct EntryDraft {
    /// The enterprise side.
    pub enterprise_id: Option<i64>,
    /// The university side.
    pub university_id: Option<i64>,
    /// The need.
    pub need_id: Option<i64>,
    /// `result` or `expert`.
    pub partner_kind: String,
    /// The result or expert.
    pub partner_id: i64,
    /// Title.
    pub title: String,
    /// Industry code.
    pub industry: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Year.
    pub year: i64,
}

/// Counts behind the dashboard's funnel and an organisation's responsiveness.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionFact {
    /// Request id.
    pub id: i64,
    /// Status.
    pub status: String,
    /// Sending organisation.
    pub from_org_id: Option<i64>,
    /// Receiving organisation.
    pub to_org_id: Option<i64>,
    /// City of the enterprise side.
    pub city: Option<String>,
    /// Industry of the need.
    pub industry: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// First answer.
    pub answered_at: Option<String>,
    /// The ledger entry's furthest stage (1 accepted … 5 transferred).
    pub max_stage: Option<i64>,
    /// The broker.
    pub broker_id: Option<i64>,
}

const SELECT: &str = "SELECT c.id, c.from_kind, c.from_id, c.from_org_id, fo.name AS from_org_name, \
     c.to_kind, c.to_id, c.to_org_id, tor.name AS to_org_name, c.sender_id, COALESCE(su.name, su.email) AS sender_name, \
     c.assignee_id, COALESCE(au.name, au.email) AS assignee_name, c.broker_id, COALESCE(bu.name, bu.email) AS broker_name, \
     c.note, c.status, c.turn, c.message, c.decline_reason, c.decline_note, c.meeting, c.ledger_entry_id, le.status AS ledger_status, \
     c.expires_at, c.answered_at, c.feedback_due_at, c.created_at, c.updated_at, \
     COALESCE(fn.title, fr.title, fx.name) AS from_title, COALESCE(tn.title, tr.title, tx.name) AS to_title \
     FROM connections c \
     LEFT JOIN organizations fo ON fo.id = c.from_org_id \
     LEFT JOIN organizations tor ON tor.id = c.to_org_id \
     LEFT JOIN users su ON su.id = c.sender_id \
     LEFT JOIN users au ON au.id = c.assignee_id \
     LEFT JOIN users bu ON bu.id = c.broker_id \
     LEFT JOIN ledger_entries le ON le.id = c.ledger_entry_id \
     LEFT JOIN needs fn ON c.from_kind = 'need' AND fn.id = c.from_id \
     LEFT JOIN results fr ON c.from_kind = 'result' AND fr.id = c.from_id \
     LEFT JOIN experts fx ON c.from_kind = 'expert' AND fx.id = c.from_id \
     LEFT JOIN needs tn ON c.to_kind = 'need' AND tn.id = c.to_id \
     LEFT JOIN results tr ON c.to_kind = 'result' AND tr.id = c.to_id \
     LEFT JOIN experts tx ON c.to_kind = 'expert' AND tx.id = c.to_id";

fn row(r: &AnyRow) -> Result<Connection, StoreError> {
    let meeting: Option<String> = r.try_get("meeting")?;
    Ok(Connection {
        id: r.try_get("id")?,
        from_kind: r.try_get("from_kind")?,
        from_id: r.try_get("from_id")?,
        from_title: r.try_get("from_title")?,
        from_org_id: r.try_get("from_org_id")?,
        from_org_name: r.try_get("from_org_name")?,
        to_kind: r.try_get("to_kind")?,
        to_id: r.try_get("to_id")?,
        to_title: r.try_get("to_title")?,
        to_org_id: r.try_get("to_org_id")?,
        to_org_name: r.try_get("to_org_name")?,
        sender_id: r.try_get("sender_id")?,
        sender_name: r.try_get("sender_name")?,
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: r.try_get("assignee_name")?,
        broker_id: r.try_get("broker_id")?,
        broker_name: r.try_get("broker_name")?,
        note: r.try_get("note")?,
        status: r.try_get("status")?,
        turn: r.try_get("turn")?,
        message: r.try_get("message")?,
        decline_reason: r.try_get("decline_reason")?,
        decline_note: r.try_get("decline_note")?,
        meeting: match meeting {
            Some(m) => Some(
                serde_json::from_str(&m)
                    .map_err(|e| StoreError::Corrupt(format!("connection meeting: {e}")))?,
            ),
            None => None,
        },
        ledger_entry_id: r.try_get("ledger_entry_id")?,
        ledger_status: r.try_get("ledger_status")?,
        expires_at: r.try_get("expires_at")?,
        answered_at: r.try_get("answered_at")?,
        feedback_due_at: r.try_get("feedback_due_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn scope_sql(scope: &ConnectionScope) -> (String, Option<i64>) {
    match scope {
        ConnectionScope::SentBy(o) => ("c.from_org_id = $1".into(), Some(*o)),
        ConnectionScope::ReceivedBy(o) => ("c.to_org_id = $1".into(), Some(*o)),
        ConnectionScope::Of(o) => ("(c.from_org_id = $1 OR c.to_org_id = $1)".into(), Some(*o)),
        ConnectionScope::Broker(u) => ("c.broker_id = $1".into(), Some(*u)),
        ConnectionScope::All => ("1 = 1".into(), None),
    }
}

/// Which timestamp column a once-only mark sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The reminder before expiry.
    Reminded,
    /// The question after the meeting.
    FeedbackAsked,
    /// The first follow-up (three months).
    FollowUp1,
    /// The second follow-up (six months).
    FollowUp2,
}

impl Mark {
    fn column(self) -> &'static str {
        match self {
            Mark::Reminded => "reminded_at",
            Mark::FeedbackAsked => "feedback_asked_at",
            Mark::FollowUp1 => "follow_up_1_at",
            Mark::FollowUp2 => "follow_up_2_at",
        }
    }

    fn action(self) -> &'static str {
        match self {
            Mark::Reminded => "reminded",
            Mark::FeedbackAsked => "feedback_asked",
            Mark::FollowUp1 => "follow_up_1",
            Mark::FollowUp2 => "follow_up_2",
        }
    }
}

async fn insert_step(
    tx: &mut Tx,
    id: i64,
    actor: &LedgerActor,
    action: &str,
    detail: Option<&str>,
    ts: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO connection_events (connection_id, at, user_id, actor, action, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .persistent(false)
    .bind(id)
    .bind(ts)
    .bind(actor.user_id)
    .bind(actor.name.as_str())
    .bind(action)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An in-app notification (the bell) to write with a step.
#[derive(Debug, Clone)]
pub struct Note {
    /// Its user.
    pub user_id: i64,
    /// Written once per key.
    pub dedup_key: String,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Where it leads.
    pub link: Option<String>,
}

/// What a step tells people: mails for the outbox and in-app notifications, written in
/// the step's transaction.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    /// Mails.
    pub mails: Vec<NewMail>,
    /// Notifications.
    pub notes: Vec<Note>,
}

async fn send_out(tx: &mut Tx, out: &Outgoing) -> Result<(), StoreError> {
    crate::mail::enqueue(tx, &out.mails).await?;
    let ts = now();
    for n in &out.notes {
        sqlx::query(
            "INSERT INTO notifications (user_id, dedup_key, title, body, link, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .persistent(false)
        .bind(n.user_id)
        .bind(n.dedup_key.as_str())
        .bind(n.title.as_str())
        .bind(n.body.as_str())
        .bind(n.link.as_deref())
        .bind(ts.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn quota_error(message: String) -> StoreError {
    StoreError::Conflict {
        code: "request_quota",
        message,
    }
}

impl Store {
    /// Sends a request: checks the sender's quotas and that the pair has no open request,
    /// stores it with its first history line and queues its mails, in one transaction.
    pub async fn create_connection(
        &self,
        c: &NewConnection,
        quota: Quota,
        actor: &LedgerActor,
        out: &Outgoing,
    ) -> Result<i64, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let open: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM connections WHERE sender_id = $1 AND status IN ('pending', 'proposed')",
        )
        .bind(c.sender_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if open >= quota.max_open {
            return Err(quota_error(format!(
                "您已有 {open} 条待答复的对接申请，上限为 {}；请等待对方答复或撤回部分申请后再发 / you have {open} open requests, the limit is {}; wait for answers or withdraw some first",
                quota.max_open, quota.max_open
            )));
        }
        let since = (chrono::Utc::now() - chrono::Duration::hours(24))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let day: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM connections WHERE sender_id = $1 AND created_at > $2",
        )
        .bind(c.sender_id)
        .bind(since.as_str())
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if day >= quota.max_per_day {
            return Err(quota_error(format!(
                "24 小时内最多发出 {} 条对接申请，请明天再试 / at most {} requests in 24 hours; try again tomorrow",
                quota.max_per_day, quota.max_per_day
            )));
        }
        let taken = sqlx::query("SELECT id FROM connections WHERE open_key = $1")
            .bind(c.open_key.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = taken {
            let other: i64 = r.try_get("id")?;
            return Err(duplicate(other));
        }
        let ts = now();
        let inserted = sqlx::query(
            "INSERT INTO connections (from_kind, from_id, from_org_id, to_kind, to_id, to_org_id, sender_id, note, status, turn, \
             open_key, expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 'recipient', $9, $10, $11, $11) RETURNING id",
        )
        .bind(c.from_kind.as_str())
        .bind(c.from_id)
        .bind(c.from_org_id)
        .bind(c.to_kind.as_str())
        .bind(c.to_id)
        .bind(c.to_org_id)
        .bind(c.sender_id)
        .bind(c.note.as_str())
        .bind(c.open_key.as_str())
        .bind(c.expires_at.as_str())
        .bind(ts.as_str())
        .fetch_one(&mut *tx)
        .await;
        let id: i64 = match inserted {
            Ok(r) => r.try_get("id")?,
            // another server on the same database sent the same pair meanwhile
            Err(e) if StoreError::is_unique_violation(&e) => return Err(duplicate(0)),
            Err(e) => return Err(e.into()),
        };
        let detail = (!c.note.is_empty()).then_some(c.note.as_str());
        insert_step(&mut tx, id, actor, "sent", detail, &ts).await?;
        send_out(&mut tx, out).await?;
        crate::audit_created(id);
        crate::commit(tx).await?;
        Ok(id)
    }

    /// One request.
    pub async fn connection(&self, id: i64) -> Result<Connection, StoreError> {
        let r = sqlx::query(AssertSqlSafe(format!("{SELECT} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                entity: "connection",
                id: id.to_string(),
            })?;
        row(&r)
    }

    /// A page of requests, newest step first; `statuses` empty means all.
    pub async fn connections(
        &self,
        scope: &ConnectionScope,
        statuses: &[&str],
        limit: i64,
        offset: i64,
    ) -> Result<Page<Connection>, StoreError> {
        let (cond, bind) = scope_sql(scope);
        let first = if bind.is_some() { 2 } else { 1 };
        let status_cond = if statuses.is_empty() {
            String::new()
        } else {
            let ps: Vec<String> = (0..statuses.len())
                .map(|i| format!("${}", first + i))
                .collect();
            format!(" AND c.status IN ({})", ps.join(", "))
        };
        let n = first + statuses.len();
        let count_sql =
            format!("SELECT COUNT(*) AS n FROM connections c WHERE {cond}{status_cond}");
        let mut q = sqlx::query(AssertSqlSafe(count_sql));
        if let Some(b) = bind {
            q = q.bind(b);
        }
        for s in statuses {
            q = q.bind(*s);
        }
        let total: i64 = q.fetch_one(&self.pool).await?.try_get("n")?;
        let sql = format!(
            "{SELECT} WHERE {cond}{status_cond} ORDER BY c.updated_at DESC, c.id DESC LIMIT ${n} OFFSET ${}",
            n + 1
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(b) = bind {
            q = q.bind(b);
        }
        for s in statuses {
            q = q.bind(*s);
        }
        let rows = q.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        Ok(Page {
            total,
            limit,
            offset,
            items: rows.iter().map(row).collect::<Result<_, _>>()?,
        })
    }

    /// The history of a request, oldest first.
    pub async fn connection_steps(&self, id: i64) -> Result<Vec<ConnectionStep>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, user_id, actor, action, detail FROM connection_events WHERE connection_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ConnectionStep {
                    at: r.try_get("at")?,
                    user_id: r.try_get("user_id")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Applies a step if the request is still in one of `expected` statuses and was last
    /// changed at `seen` (when given): updates it, appends the history line, opens its
    /// ledger entry when asked, queues the mails. A request that moved meanwhile is a 409.
    pub async fn change_connection(
        &self,
        id: i64,
        expected: &[&str],
        seen: Option<&str>,
        ch: &ConnectionChange,
        actor: &LedgerActor,
        out: &Outgoing,
    ) -> Result<Connection, StoreError> {
        {
            let _g = self.write_lock.lock().await;
            let mut tx = self.begin_tx().await?;
            let r = sqlx::query("SELECT status, updated_at FROM connections WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    entity: "connection",
                    id: id.to_string(),
                })?;
            let status: String = r.try_get("status")?;
            let updated: String = r.try_get("updated_at")?;
            if !expected.contains(&status.as_str()) {
                return Err(StoreError::Conflict {
                    code: "request_closed",
                    message: format!(
                        "该申请当前状态为“{}”，不能再这样处理 / the request is {status} and cannot take this step",
                        duijie_domain::connection::ConnectionStatus::parse(&status)
                            .map(|s| s.label_zh())
                            .unwrap_or(status.as_str())
                    ),
                });
            }
            if seen.is_some_and(|s| s != updated) {
                return Err(StoreError::Conflict {
                    code: "request_changed",
                    message: "该申请刚被他人处理，请刷新后重试 / the request changed meanwhile; reload it and retry".into(),
                });
            }
            let ts = now();
            let entry_id = match &ch.open_entry {
                Some(d) => Some(open_entry(&mut tx, id, d, actor, &ts).await?),
                None => None,
            };
            sqlx::query(
                "UPDATE connections SET status = COALESCE($1, status), turn = COALESCE($2, turn), message = COALESCE($3, message), \
                 decline_reason = COALESCE($4, decline_reason), decline_note = COALESCE($5, decline_note), \
                 meeting = COALESCE($6, meeting), open_key = CASE WHEN $7 = 1 THEN NULL ELSE open_key END, \
                 answered_at = CASE WHEN $8 = 1 THEN COALESCE(answered_at, $9) ELSE answered_at END, \
                 feedback_due_at = COALESCE($10, feedback_due_at), assignee_id = COALESCE($11, assignee_id), \
                 broker_id = COALESCE($12, broker_id), ledger_entry_id = COALESCE($13, ledger_entry_id), updated_at = $9 \
                 WHERE id = $14",
            )
            .persistent(false)
            .bind(ch.status.as_deref())
            .bind(ch.turn.as_deref())
            .bind(ch.message.as_deref())
            .bind(ch.decline_reason.as_deref())
            .bind(ch.decline_note.as_deref())
            .bind(ch.meeting.as_deref())
            .bind(i64::from(ch.close))
            .bind(i64::from(ch.answers))
            .bind(ts.as_str())
            .bind(ch.feedback_due_at.as_deref())
            .bind(ch.assignee_id)
            .bind(ch.broker_id)
            .bind(entry_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if let Some(b) = ch.broker_id {
                sqlx::query("UPDATE ledger_entries SET broker_id = $1 WHERE connection_id = $2")
                    .bind(b)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_step(&mut tx, id, actor, &ch.action, ch.detail.as_deref(), &ts).await?;
            send_out(&mut tx, out).await?;
            crate::commit(tx).await?;
        }
        self.connection(id).await
    }

    /// Open requests whose expiry is before `cutoff` (for the reminder: not yet reminded;
    /// for expiry: any), oldest first.
    pub async fn connections_expiring(
        &self,
        cutoff: &str,
        unreminded_only: bool,
        limit: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        let extra = if unreminded_only {
            " AND c.reminded_at IS NULL"
        } else {
            ""
        };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{SELECT} WHERE c.status IN ('pending', 'proposed') AND c.expires_at <= $1{extra} ORDER BY c.expires_at LIMIT $2"
        )))
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row).collect()
    }

    /// Accepted requests whose `mark` is due: the meeting question once `feedback_due_at`
    /// is before `cutoff`; a follow-up once `feedback_due_at` is before `cutoff` (the
    /// caller moves the cutoff back by three or six months).
    pub async fn connections_due(
        &self,
        mark: Mark,
        cutoff: &str,
        limit: i64,
    ) -> Result<Vec<Connection>, StoreError> {
        let col = mark.column();
        let rows = sqlx::query(AssertSqlSafe(format!(
            "{SELECT} WHERE c.status = 'accepted' AND c.{col} IS NULL AND c.feedback_due_at IS NOT NULL \
             AND c.feedback_due_at <= $1 ORDER BY c.feedback_due_at LIMIT $2"
        )))
        .bind(cutoff)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row).collect()
    }

    /// Sets a once-only mark and queues its mails, if no other server did it first.
    /// Returns whether this call did it.
    pub async fn mark_connection(
        &self,
        id: i64,
        mark: Mark,
        out: &Outgoing,
    ) -> Result<bool, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let ts = now();
        let col = mark.column();
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE connections SET {col} = $1 WHERE id = $2 AND {col} IS NULL"
        )))
        .bind(ts.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if done {
            let actor = LedgerActor {
                user_id: None,
                name: "duijie".into(),
            };
            insert_step(&mut tx, id, &actor, mark.action(), None, &ts).await?;
            send_out(&mut tx, out).await?;
            crate::commit(tx).await?;
        }
        Ok(done)
    }

    /// Records one person's answer to "did the meeting happen, was it useful". The first
    /// answer that it happened moves the ledger entry from accepted to met. A second answer
    /// from the same person changes nothing (409).
    pub async fn record_connection_feedback(
        &self,
        id: i64,
        actor: &LedgerActor,
        happened: bool,
        useful: Option<bool>,
    ) -> Result<Connection, StoreError> {
        let Some(user_id) = actor.user_id else {
            return Err(StoreError::Corrupt("feedback without a user".into()));
        };
        {
            let _g = self.write_lock.lock().await;
            let mut tx = self.begin_tx().await?;
            let c = sqlx::query("SELECT status, ledger_entry_id FROM connections WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    entity: "connection",
                    id: id.to_string(),
                })?;
            let entry: Option<i64> = c.try_get("ledger_entry_id")?;
            let ts = now();
            let inserted = sqlx::query(
                "INSERT INTO connection_feedback (connection_id, user_id, happened, useful, at) VALUES ($1, $2, $3, $4, $5)",
            )
            .persistent(false)
            .bind(id)
            .bind(user_id)
            .bind(i64::from(happened))
            .bind(useful.map(i64::from))
            .bind(ts.as_str())
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(e) if StoreError::is_unique_violation(&e) => {
                    return Err(StoreError::Conflict {
                        code: "feedback_recorded",
                        message: "您已回答过这个问题，感谢反馈 / you have already answered this question; thank you".into(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
            let detail = match (happened, useful) {
                (false, _) => "未举行 / did not happen",
                (true, Some(true)) => "已举行，有帮助 / happened, useful",
                (true, Some(false)) => "已举行，帮助不大 / happened, not useful",
                (true, None) => "已举行 / happened",
            };
            insert_step(&mut tx, id, actor, "feedback", Some(detail), &ts).await?;
            if let (true, Some(entry)) = (happened, entry) {
                let today = ts[..10].to_string();
                let moved = sqlx::query(
                    "UPDATE ledger_entries SET status = 'met', max_stage = CASE WHEN max_stage < 2 THEN 2 ELSE max_stage END, \
                     met_on = COALESCE(met_on, $1), updated_at = $2 WHERE id = $3 AND status = 'accepted'",
                )
                .bind(today.as_str())
                .bind(ts.as_str())
                .bind(entry)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved == 1 {
                    let o = Outcome {
                        status: "met".into(),
                        note: Some(
                            "会谈后反馈：已举行 / feedback after the meeting: it happened".into(),
                        ),
                        ..Outcome::default()
                    };
                    insert_change(&mut tx, entry, Some("accepted"), "met", &o, actor, &ts).await?;
                }
            }
            crate::commit(tx).await?;
        }
        self.connection(id).await
    }

    /// The answers given to the meeting question of a request: `(user_id, happened, useful)`.
    pub async fn connection_feedback(
        &self,
        id: i64,
    ) -> Result<Vec<(i64, bool, Option<bool>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, happened, useful FROM connection_feedback WHERE connection_id = $1 ORDER BY at",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("user_id")?,
                    r.try_get::<i64, _>("happened")? != 0,
                    r.try_get::<Option<i64>, _>("useful")?.map(|u| u != 0),
                ))
            })
            .collect()
    }

    /// Organisations an organisation has an accepted request with (either direction): their
    /// members see each other's contact details.
    pub async fn accepted_partners(&self, org_id: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT to_org_id AS o FROM connections WHERE status = 'accepted' AND from_org_id = $1 AND to_org_id IS NOT NULL \
             UNION SELECT from_org_id AS o FROM connections WHERE status = 'accepted' AND to_org_id = $1 AND from_org_id IS NOT NULL",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("o")?)).collect()
    }

    /// The facts behind the funnel and the response figures, for requests created on or
    /// after `since` (RFC 3339 or a date).
    pub async fn connection_facts(&self, since: &str) -> Result<Vec<ConnectionFact>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.status, c.from_org_id, c.to_org_id, c.created_at, c.answered_at, c.broker_id, le.max_stage, \
             COALESCE(le.city, CASE WHEN c.from_kind = 'need' THEN fo.city ELSE tor.city END) AS city, \
             COALESCE(le.industry, fn.industry, tn.industry) AS industry \
             FROM connections c \
             LEFT JOIN ledger_entries le ON le.id = c.ledger_entry_id \
             LEFT JOIN organizations fo ON fo.id = c.from_org_id \
             LEFT JOIN organizations tor ON tor.id = c.to_org_id \
             LEFT JOIN needs fn ON c.from_kind = 'need' AND fn.id = c.from_id \
             LEFT JOIN needs tn ON c.to_kind = 'need' AND tn.id = c.to_id \
             WHERE c.created_at >= $1 ORDER BY c.id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ConnectionFact {
                    id: r.try_get("id")?,
                    status: r.try_get("status")?,
                    from_org_id: r.try_get("from_org_id")?,
                    to_org_id: r.try_get("to_org_id")?,
                    city: r.try_get("city")?,
                    industry: r.try_get("industry")?,
                    created_at: r.try_get("created_at")?,
                    answered_at: r.try_get("answered_at")?,
                    max_stage: r.try_get("max_stage")?,
                    broker_id: r.try_get("broker_id")?,
                })
            })
            .collect()
    }

    /// Active users of an organisation: `(id, email, name, org_admin)`.
    pub async fn members(
        &self,
        org_id: i64,
    ) -> Result<Vec<(i64, String, Option<String>, bool)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, email, name, org_admin FROM users WHERE organization_id = $1 AND status = 'active' AND disabled = 0 ORDER BY id",
        )
        .bind(org_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("email")?,
                    r.try_get("name")?,
                    r.try_get::<i64, _>("org_admin")? != 0,
                ))
            })
            .collect()
    }
}

fn duplicate(other: i64) -> StoreError {
    let which = if other > 0 {
        format!("（第 {other} 号）")
    } else {
        String::new()
    };
    let en = if other > 0 {
        format!(" (number {other})")
    } else {
        String::new()
    };
    StoreError::Conflict {
        code: "duplicate_request",
        message: format!(
            "这两项之间已有一条待答复的对接申请{which}，请等待答复 / these two listings already have an open request{en}; wait for its answer"
        ),
    }
}

/// Opens the cooperation entry of an accepted request, status accepted, with its history.
async fn open_entry(
    tx: &mut Tx,
    connection_id: i64,
    d: &EntryDraft,
    actor: &LedgerActor,
    ts: &str,
) -> Result<i64, StoreError> {
    let r = sqlx::query(
        "INSERT INTO ledger_entries (kind, enterprise_id, university_id, need_id, partner_kind, partner_id, title, industry, city, year, \
         status, max_stage, created_by, created_at, updated_at, connection_id) \
         VALUES ('cooperation', $1, $2, $3, $4, $5, $6, $7, $8, $9, 'accepted', 1, $10, $11, $11, $12) RETURNING id",
    )
    .persistent(false)
    .bind(d.enterprise_id)
    .bind(d.university_id)
    .bind(d.need_id)
    .bind(d.partner_kind.as_str())
    .bind(d.partner_id)
    .bind(d.title.as_str())
    .bind(d.industry.as_deref())
    .bind(d.city.as_deref())
    .bind(d.year)
    .bind(actor.name.as_str())
    .bind(ts)
    .bind(connection_id)
    .fetch_one(&mut **tx)
    .await?;
    let id: i64 = r.try_get("id")?;
    // a broker following the request is credited with its entry from the start
    sqlx::query(
        "UPDATE ledger_entries SET broker_id = (SELECT broker_id FROM connections WHERE id = $1) WHERE id = $2",
    )
    .bind(connection_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let o = Outcome {
        status: "accepted".into(),
        note: Some(format!(
            "对接申请 {connection_id} 已接受 / request {connection_id} accepted"
        )),
        ..Outcome::default()
    };
    insert_change(tx, id, None, "accepted", &o, actor, ts).await?;
    Ok(id)
}
