//! Participants taking part in events themselves: registrations (with the organiser's
//! decision), each participant's own wishes (its set replaced at once), and the answers to
//! the meetings of its agenda (confirmed, declined, held or not).
//!
//! Answers are keyed by the pair (enterprise, result or expert), not by the meeting row,
//! because regenerating a schedule replaces every row: a confirmed pair keeps its slot and
//! table, a declined one is never proposed again.

use crate::events::{add_participant_tx, code_of, mark_stale};
use crate::{Store, StoreError, now};
use duijie_domain::{
    Attendance, ListingKind, MeetingAnswer, PreferenceKind, RegistrationStatus, Side,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

/// A listing named by a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListingRef {
    /// Need, result or expert.
    pub kind: ListingKind,
    /// Store id.
    pub id: i64,
}

/// An organisation's registration for an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Registration {
    /// Store id.
    pub id: i64,
    /// Event.
    pub event_id: i64,
    /// The organisation registering.
    pub organization_id: i64,
    /// Its name.
    pub organization_name: String,
    /// Who registered it (absent when the account was removed).
    pub user_id: Option<i64>,
    /// The listings it brings.
    pub listings: Vec<ListingRef>,
    /// `pending`, `approved` or `rejected`.
    pub status: RegistrationStatus,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// When an organiser (or open registration) decided, RFC 3339.
    pub decided_at: Option<String>,
}

/// The pair a meeting answer is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PairKey {
    /// The enterprise's organisation.
    pub enterprise_id: i64,
    /// Result or expert.
    pub partner_kind: ListingKind,
    /// Its id.
    pub partner_id: i64,
}

/// What the two sides said about a pair, and whether the meeting took place.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingAnswerRow {
    /// The pair.
    pub key: PairKey,
    /// The enterprise's answer.
    pub enterprise_answer: Option<MeetingAnswer>,
    /// Its reason when it declined.
    pub enterprise_reason: Option<String>,
    /// The university's answer.
    pub partner_answer: Option<MeetingAnswer>,
    /// Its reason when it declined.
    pub partner_reason: Option<String>,
    /// The slot the meeting had when answered (kept when confirmed).
    pub slot: i64,
    /// The table it had.
    pub table: i64,
    /// The need it was recorded with.
    pub need_id: i64,
    /// Held or no-show, once marked.
    pub attendance: Option<Attendance>,
}

impl MeetingAnswerRow {
    /// Either side declined: the pair is not proposed again.
    pub fn declined(&self) -> bool {
        self.enterprise_answer == Some(MeetingAnswer::Declined)
            || self.partner_answer == Some(MeetingAnswer::Declined)
    }

    /// Someone confirmed and nobody declined: regenerating keeps the meeting where it is.
    pub fn confirmed(&self) -> bool {
        !self.declined()
            && (self.enterprise_answer == Some(MeetingAnswer::Confirmed)
                || self.partner_answer == Some(MeetingAnswer::Confirmed))
    }
}

/// Where the meeting of an answer stands (stored with the answer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeetingPlace {
    /// Slot.
    pub slot: i64,
    /// Table.
    pub table: i64,
    /// Need.
    pub need_id: i64,
}

/// A wish to write: a pair, who wished it and what.
#[derive(Debug, Clone, PartialEq)]
pub struct WishDraft {
    /// The enterprise's organisation.
    pub enterprise_id: i64,
    /// The need the wish is about.
    pub need_id: i64,
    /// Result or expert.
    pub partner_kind: ListingKind,
    /// Its id.
    pub partner_id: i64,
    /// `must`, `like` or `no`.
    pub preference: PreferenceKind,
}

const REGISTRATION_COLUMNS: &str = "r.id, r.event_id, r.organization_id, o.name AS organization_name, r.user_id, r.listings, r.status, r.reason, r.created_at, r.decided_at";

fn registration_row(row: &AnyRow) -> Result<Registration, StoreError> {
    let listings: String = row.try_get("listings")?;
    Ok(Registration {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        organization_id: row.try_get("organization_id")?,
        organization_name: row.try_get("organization_name")?,
        user_id: row.try_get("user_id")?,
        listings: serde_json::from_str(&listings)
            .map_err(|e| StoreError::Corrupt(format!("registration listings: {e}")))?,
        status: code_of(row, "status")?,
        reason: row.try_get("reason")?,
        created_at: row.try_get("created_at")?,
        decided_at: row.try_get("decided_at")?,
    })
}

fn opt_code<T>(row: &AnyRow, col: &str) -> Result<Option<T>, StoreError>
where
    T: std::str::FromStr<Err = duijie_domain::kinds::UnknownCode>,
{
    let raw: Option<String> = row.try_get(col)?;
    raw.map(|r| {
        r.parse::<T>()
            .map_err(|e| StoreError::from(sqlx::Error::Decode(Box::new(e))))
    })
    .transpose()
}

fn answer_row(row: &AnyRow) -> Result<MeetingAnswerRow, StoreError> {
    Ok(MeetingAnswerRow {
        key: PairKey {
            enterprise_id: row.try_get("enterprise_id")?,
            partner_kind: crate::events::kind_of(row, "partner_kind")?,
            partner_id: row.try_get("partner_id")?,
        },
        enterprise_answer: opt_code(row, "enterprise_answer")?,
        enterprise_reason: row.try_get("enterprise_reason")?,
        partner_answer: opt_code(row, "partner_answer")?,
        partner_reason: row.try_get("partner_reason")?,
        slot: row.try_get("slot")?,
        table: row.try_get("table_no")?,
        need_id: row.try_get("need_id")?,
        attendance: opt_code(row, "attendance")?,
    })
}

fn no_registration(id: i64) -> StoreError {
    StoreError::NotFound {
        entity: "registration",
        id: id.to_string(),
    }
}

impl Store {
    /// Registers an organisation for an event with the listings it brings. `approve`:
    /// it takes part at once (open registration); otherwise it waits for an organiser. A
    /// rejected registration may be sent again; a pending or approved one is a conflict.
    /// Returns the registration's id.
    pub async fn register_for_event(
        &self,
        event_id: i64,
        organization_id: i64,
        user_id: i64,
        listings: &[ListingRef],
        approve: bool,
    ) -> Result<i64, StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let existing = sqlx::query(
            "SELECT id, status FROM event_registrations WHERE event_id = $1 AND organization_id = $2",
        )
        .bind(event_id)
        .bind(organization_id)
        .fetch_optional(&mut *tx)
        .await?;
        let status = if approve {
            RegistrationStatus::Approved
        } else {
            RegistrationStatus::Pending
        };
        let ts = now();
        let decided = approve.then_some(ts.as_str());
        let json =
            serde_json::to_string(listings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let id = match existing {
            Some(row) => {
                let id: i64 = row.try_get("id")?;
                let was: RegistrationStatus = code_of(&row, "status")?;
                if was != RegistrationStatus::Rejected {
                    return Err(StoreError::Conflict {
                        code: "already_registered",
                        message: format!(
                            "本单位已报名（{}），无需重复报名 / your organization has already registered ({})",
                            was.label_zh(),
                            was.code()
                        ),
                    });
                }
                sqlx::query(
                    "UPDATE event_registrations SET user_id = $1, listings = $2, status = $3, reason = NULL, created_at = $4, \
                     decided_at = $5, decided_by = NULL WHERE id = $6",
                )
                .bind(user_id)
                .bind(json.as_str())
                .bind(status.code())
                .bind(ts.as_str())
                .bind(decided)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
            None => sqlx::query(
                "INSERT INTO event_registrations (event_id, organization_id, user_id, listings, status, created_at, decided_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(event_id)
            .bind(organization_id)
            .bind(user_id)
            .bind(json.as_str())
            .bind(status.code())
            .bind(ts.as_str())
            .bind(decided)
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?,
        };
        if approve {
            let pairs: Vec<(ListingKind, i64)> = listings.iter().map(|l| (l.kind, l.id)).collect();
            add_participant_tx(&mut tx, event_id, organization_id, &pairs).await?;
        }
        crate::commit(tx).await?;
        Ok(id)
    }

    /// One registration of an event.
    pub async fn registration(&self, event_id: i64, id: i64) -> Result<Registration, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM event_registrations r JOIN organizations o ON o.id = r.organization_id \
             WHERE r.event_id = $1 AND r.id = $2"
        )))
        .bind(event_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| no_registration(id))?;
        registration_row(&row)
    }

    /// The registrations of an event, oldest first, optionally of one status or one
    /// organisation.
    pub async fn registrations(
        &self,
        event_id: i64,
        status: Option<RegistrationStatus>,
        organization_id: Option<i64>,
    ) -> Result<Vec<Registration>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REGISTRATION_COLUMNS} FROM event_registrations r JOIN organizations o ON o.id = r.organization_id \
             WHERE r.event_id = $1 AND ($2 = '' OR r.status = $2) AND ($3 = 0 OR r.organization_id = $3) ORDER BY r.id"
        )))
        .bind(event_id)
        .bind(status.map(|s| s.code()).unwrap_or(""))
        .bind(organization_id.unwrap_or(0))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(registration_row).collect()
    }

    /// An organiser's decision on a pending registration: approving adds the organisation
    /// with its listings to the participants; rejecting records the reason. Deciding twice
    /// is a conflict (`registration_decided`).
    pub async fn decide_registration(
        &self,
        event_id: i64,
        id: i64,
        approve: bool,
        reason: Option<&str>,
        by: Option<i64>,
    ) -> Result<Registration, StoreError> {
        {
            let (_g, mut tx) = self.begin_event_write().await?;
            let row = sqlx::query(
                "SELECT organization_id, listings, status FROM event_registrations WHERE event_id = $1 AND id = $2",
            )
            .bind(event_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| no_registration(id))?;
            let status: RegistrationStatus = code_of(&row, "status")?;
            if status != RegistrationStatus::Pending {
                return Err(StoreError::Conflict {
                    code: "registration_decided",
                    message: format!(
                        "该报名已审核（{}） / this registration was already decided ({})",
                        status.label_zh(),
                        status.code()
                    ),
                });
            }
            let to = if approve {
                RegistrationStatus::Approved
            } else {
                RegistrationStatus::Rejected
            };
            sqlx::query(
                "UPDATE event_registrations SET status = $1, reason = $2, decided_at = $3, decided_by = $4 WHERE id = $5",
            )
            .bind(to.code())
            .bind(reason)
            .bind(now())
            .bind(by)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if approve {
                let org: i64 = row.try_get("organization_id")?;
                let raw: String = row.try_get("listings")?;
                let listings: Vec<ListingRef> = serde_json::from_str(&raw)
                    .map_err(|e| StoreError::Corrupt(format!("registration listings: {e}")))?;
                let pairs: Vec<(ListingKind, i64)> =
                    listings.iter().map(|l| (l.kind, l.id)).collect();
                add_participant_tx(&mut tx, event_id, org, &pairs).await?;
            }
            crate::commit(tx).await?;
        }
        self.registration(event_id, id).await
    }

    /// Replaces a participant's own wishes: every must, like and no it declared (as an
    /// enterprise, about its organisation's pairs; as a university, about the pairs of its
    /// `own` results and experts) gives way to `wishes`, each with the side declaring it,
    /// in one transaction.
    pub async fn replace_wishes(
        &self,
        event_id: i64,
        organization_id: i64,
        own: &[(ListingKind, i64)],
        wishes: &[(Side, WishDraft)],
    ) -> Result<(), StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        sqlx::query(
            "DELETE FROM event_preferences WHERE event_id = $1 AND side = $2 AND enterprise_id = $3 \
             AND preference IN ('must', 'like', 'no')",
        )
        .bind(event_id)
        .bind(Side::Enterprise.code())
        .bind(organization_id)
        .execute(&mut *tx)
        .await?;
        for (kind, id) in own {
            sqlx::query(
                "DELETE FROM event_preferences WHERE event_id = $1 AND side = $2 AND partner_kind = $3 \
                 AND partner_id = $4 AND preference IN ('must', 'like', 'no')",
            )
            .bind(event_id)
            .bind(Side::University.code())
            .bind(kind.code())
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        }
        let ts = now();
        for (side, w) in wishes {
            sqlx::query(
                "INSERT INTO event_preferences (event_id, enterprise_id, need_id, partner_kind, partner_id, side, preference, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                 ON CONFLICT (event_id, enterprise_id, need_id, partner_kind, partner_id, side) DO UPDATE SET \
                 preference = excluded.preference, updated_at = excluded.updated_at",
            )
            .bind(event_id)
            .bind(w.enterprise_id)
            .bind(w.need_id)
            .bind(w.partner_kind.code())
            .bind(w.partner_id)
            .bind(side.code())
            .bind(w.preference.code())
            .bind(ts.as_str())
            .execute(&mut *tx)
            .await?;
        }
        mark_stale(&mut tx, event_id).await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// Every answer of an event.
    pub async fn meeting_answers(
        &self,
        event_id: i64,
    ) -> Result<Vec<MeetingAnswerRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT enterprise_id, partner_kind, partner_id, enterprise_answer, enterprise_reason, partner_answer, partner_reason, \
             slot, table_no, need_id, attendance FROM event_meeting_answers WHERE event_id = $1 \
             ORDER BY enterprise_id, partner_kind, partner_id",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(answer_row).collect()
    }

    /// Records one side's answer to a meeting (its place is stored with it, so a confirmed
    /// meeting keeps it through a regeneration). `enterprise`: the enterprise answers,
    /// else the university. Marks the pairing as stale when the answer is a decline.
    pub async fn answer_meeting(
        &self,
        event_id: i64,
        key: PairKey,
        place: MeetingPlace,
        enterprise: bool,
        answer: MeetingAnswer,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let (a, r) = if enterprise {
            ("enterprise_answer", "enterprise_reason")
        } else {
            ("partner_answer", "partner_reason")
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO event_meeting_answers (event_id, enterprise_id, partner_kind, partner_id, {a}, {r}, slot, table_no, \
             need_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (event_id, enterprise_id, partner_kind, partner_id) DO UPDATE SET {a} = excluded.{a}, \
             {r} = excluded.{r}, slot = excluded.slot, table_no = excluded.table_no, need_id = excluded.need_id, \
             updated_at = excluded.updated_at"
        )))
        .bind(event_id)
        .bind(key.enterprise_id)
        .bind(key.partner_kind.code())
        .bind(key.partner_id)
        .bind(answer.code())
        .bind(reason)
        .bind(place.slot)
        .bind(place.table)
        .bind(place.need_id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if answer == MeetingAnswer::Declined {
            mark_stale(&mut tx, event_id).await?;
        }
        crate::commit(tx).await?;
        Ok(())
    }

    /// Marks whether a meeting took place. Returns the pairing ledger entry of the pair
    /// (id and status) when there is one, for the caller to move.
    pub async fn set_attendance(
        &self,
        event_id: i64,
        key: PairKey,
        place: MeetingPlace,
        attendance: Attendance,
    ) -> Result<Option<(i64, String)>, StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        sqlx::query(
            "INSERT INTO event_meeting_answers (event_id, enterprise_id, partner_kind, partner_id, attendance, slot, table_no, \
             need_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (event_id, enterprise_id, partner_kind, partner_id) DO UPDATE SET attendance = excluded.attendance, \
             updated_at = excluded.updated_at",
        )
        .bind(event_id)
        .bind(key.enterprise_id)
        .bind(key.partner_kind.code())
        .bind(key.partner_id)
        .bind(attendance.code())
        .bind(place.slot)
        .bind(place.table)
        .bind(place.need_id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let entry = sqlx::query(
            "SELECT id, status FROM ledger_entries WHERE kind = 'pairing' AND event_id = $1 AND enterprise_id = $2 \
             AND partner_kind = $3 AND partner_id = $4",
        )
        .bind(event_id)
        .bind(key.enterprise_id)
        .bind(key.partner_kind.code())
        .bind(key.partner_id)
        .fetch_optional(&mut *tx)
        .await?;
        crate::commit(tx).await?;
        entry
            .map(|r| Ok((r.try_get("id")?, r.try_get("status")?)))
            .transpose()
    }

    /// Queues `mails` as the event's notice of `kind` unless it was sent before; true when
    /// this call sent it.
    pub async fn send_event_notice(
        &self,
        event_id: i64,
        kind: &str,
        mails: &[crate::NewMail],
    ) -> Result<bool, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let inserted = sqlx::query(
            "INSERT INTO event_notices (event_id, kind, sent_at) VALUES ($1, $2, $3) ON CONFLICT (event_id, kind) DO NOTHING",
        )
        .bind(event_id)
        .bind(kind)
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        crate::mail::enqueue(&mut tx, mails).await?;
        crate::commit(tx).await?;
        Ok(true)
    }

    /// Records one side's answer to "did the meeting take place, was it useful" (`useful`,
    /// `not_useful`, `no_show`), once per side (`feedback_recorded` the second time).
    /// Returns the meeting's attendance mark before this answer.
    pub async fn record_meeting_feedback(
        &self,
        event_id: i64,
        key: PairKey,
        place: MeetingPlace,
        enterprise: bool,
        answer: &str,
    ) -> Result<Option<Attendance>, StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let col = if enterprise {
            "enterprise_feedback"
        } else {
            "partner_feedback"
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {col} AS answered, attendance FROM event_meeting_answers WHERE event_id = $1 AND enterprise_id = $2 \
             AND partner_kind = $3 AND partner_id = $4"
        )))
        .bind(event_id)
        .bind(key.enterprise_id)
        .bind(key.partner_kind.code())
        .bind(key.partner_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut before = None;
        if let Some(row) = &row {
            let answered: Option<String> = row.try_get("answered")?;
            if answered.is_some() {
                return Err(StoreError::Conflict {
                    code: "feedback_recorded",
                    message: "贵单位已回答过这场会谈的反馈 / your organization already answered about this meeting".into(),
                });
            }
            before = opt_code(row, "attendance")?;
        }
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO event_meeting_answers (event_id, enterprise_id, partner_kind, partner_id, {col}, slot, table_no, \
             need_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (event_id, enterprise_id, partner_kind, partner_id) DO UPDATE SET {col} = excluded.{col}, \
             updated_at = excluded.updated_at"
        )))
        .bind(event_id)
        .bind(key.enterprise_id)
        .bind(key.partner_kind.code())
        .bind(key.partner_id)
        .bind(answer)
        .bind(place.slot)
        .bind(place.table)
        .bind(place.need_id)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        crate::commit(tx).await?;
        Ok(before)
    }
}
