//! Matchmaking events (对接会): the event itself, its participants and the listings they
//! bring, pairwise preferences, and the generated pairing (the solver instance it came from,
//! its report, and one row per scheduled meeting).
//!
//! The store keeps what the server validated and hands it back; it knows nothing of the
//! solver. Listings are referred to by `(kind, id)` without foreign keys (see the migration),
//! so reads show a deleted listing with no title instead of failing. Organiser edits of a
//! pairing carry the version they were made against, so two people editing at once cannot
//! silently overwrite each other (the second gets `pairing_changed`).

use crate::listings::Page;
use crate::rows::to_json;
use crate::{Store, StoreError, now};
use duijie_domain::{
    EventFormat, EventStatus, ListingKind, PreferenceKind, RegistrationMode, Side,
};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

pub(crate) type Tx<'a> = Transaction<'a, Any>;

/// A break between two time slots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventBreak {
    /// The break follows this many slots (1 ..= slot_count − 1).
    pub after_slot: i64,
    /// Length in minutes.
    pub minutes: i64,
    /// What it is for (茶歇, 午餐…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// How participants take part in an event themselves: registration and wishes. Stored as one JSON object; absent fields take their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SelfService {
    /// `closed` (organisers add participants), `open`, `approval` or `invite`.
    pub registration: RegistrationMode,
    /// Registrations are refused after this instant (RFC 3339); `None`: until the event.
    pub registration_closes_at: Option<String>,
    /// Wishes are refused after this instant (RFC 3339); `None`: until the schedule is
    /// published.
    pub wishes_close_at: Option<String>,
    /// Most "must" wishes of one participant.
    pub max_must: i64,
    /// Most "like" wishes of one participant.
    pub max_like: i64,
    /// A participant's "must" is honoured only when the other side wished the pair too.
    pub mutual_only: bool,
    /// Most meetings of one organisation (its results and experts together; an
    /// enterprise's own cap is `max_per_enterprise`); 0: no cap.
    pub max_per_organization: i64,
}

impl Default for SelfService {
    fn default() -> Self {
        SelfService {
            registration: RegistrationMode::Closed,
            registration_closes_at: None,
            wishes_close_at: None,
            max_must: 3,
            max_like: 10,
            mutual_only: false,
            max_per_organization: 0,
        }
    }
}

/// A validated event, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    /// Name.
    pub name: String,
    /// How its meetings are arranged.
    pub format: EventFormat,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Venue.
    pub venue: Option<String>,
    /// Free description.
    pub description: Option<String>,
    /// Theme industry codes.
    pub themes: Vec<String>,
    /// First slot's start, `HH:MM`.
    pub start_time: String,
    /// Length of one slot.
    pub slot_minutes: i64,
    /// Number of slots.
    pub slot_count: i64,
    /// Breaks between slots.
    pub breaks: Vec<EventBreak>,
    /// Number of tables.
    pub table_count: i64,
    /// Names of the first tables (the rest are numbered).
    pub table_names: Vec<String>,
    /// Enterprises per table and slot at a roundtable.
    pub seats_per_table: i64,
    /// Most meetings of one enterprise.
    pub max_per_enterprise: i64,
    /// Most meetings of one result.
    pub max_per_result: i64,
    /// Most meetings of one expert.
    pub max_per_expert: i64,
    /// Pairs scoring below this are not proposed (unless forced).
    pub min_score: f64,
    /// `draft`, `open`, `published` or `closed`.
    pub status: EventStatus,
    /// Registration, wishes and caps.
    pub self_service: SelfService,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Store id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// How its meetings are arranged.
    pub format: EventFormat,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Venue.
    pub venue: Option<String>,
    /// Free description.
    pub description: Option<String>,
    /// Theme industry codes.
    pub themes: Vec<String>,
    /// First slot's start, `HH:MM`.
    pub start_time: String,
    /// Length of one slot.
    pub slot_minutes: i64,
    /// Number of slots.
    pub slot_count: i64,
    /// Breaks between slots.
    pub breaks: Vec<EventBreak>,
    /// Number of tables.
    pub table_count: i64,
    /// Names of the first tables.
    pub table_names: Vec<String>,
    /// Enterprises per table and slot at a roundtable.
    pub seats_per_table: i64,
    /// Most meetings of one enterprise.
    pub max_per_enterprise: i64,
    /// Most meetings of one result.
    pub max_per_result: i64,
    /// Most meetings of one expert.
    pub max_per_expert: i64,
    /// Minimum score.
    pub min_score: f64,
    /// Status code.
    pub status: EventStatus,
    /// Registration, wishes and caps.
    #[serde(flatten)]
    pub self_service: SelfService,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl Event {
    /// The event's fields as a draft (PATCH merges onto this and validates the whole).
    pub fn to_draft(&self) -> EventDraft {
        EventDraft {
            name: self.name.clone(),
            format: self.format,
            date: self.date.clone(),
            venue: self.venue.clone(),
            description: self.description.clone(),
            themes: self.themes.clone(),
            start_time: self.start_time.clone(),
            slot_minutes: self.slot_minutes,
            slot_count: self.slot_count,
            breaks: self.breaks.clone(),
            table_count: self.table_count,
            table_names: self.table_names.clone(),
            seats_per_table: self.seats_per_table,
            max_per_enterprise: self.max_per_enterprise,
            max_per_result: self.max_per_result,
            max_per_expert: self.max_per_expert,
            min_score: self.min_score,
            status: self.status,
            self_service: self.self_service.clone(),
        }
    }
}

/// Filters of the event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Status.
    pub status: Option<EventStatus>,
    /// Format.
    pub format: Option<EventFormat>,
    /// Only events an organiser has announced (every status but `draft`).
    pub announced_only: bool,
}

/// A listing brought to an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParticipantListing {
    /// Kind.
    pub kind: ListingKind,
    /// Store id.
    pub id: i64,
    /// Title (an expert's name); `None` when the listing has been deleted since.
    pub title: Option<String>,
    /// Organiser's id.
    pub external_id: Option<String>,
    /// Status (`published` for experts); `None` when deleted.
    pub status: Option<String>,
    /// Industry code.
    pub industry: Option<String>,
}

/// An organisation taking part in an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Participant {
    /// Store id.
    pub id: i64,
    /// Event.
    pub event_id: i64,
    /// Organisation.
    pub organization_id: i64,
    /// Its name.
    pub organization_name: String,
    /// Its kind code.
    pub organization_kind: String,
    /// Its city.
    pub city: Option<String>,
    /// What it brings, by kind then id.
    pub listings: Vec<ParticipantListing>,
    /// RFC 3339.
    pub created_at: String,
}

/// A preference to write: who (an enterprise, optionally through one need) about whom.
#[derive(Debug, Clone, PartialEq)]
pub struct PreferenceDraft {
    /// The enterprise's organisation id.
    pub enterprise_id: i64,
    /// One of its needs, or `None` for all of them.
    pub need_id: Option<i64>,
    /// `Result` or `Expert`.
    pub partner_kind: ListingKind,
    /// The result or expert.
    pub partner_id: i64,
    /// Who declares it.
    pub side: Side,
    /// What it says.
    pub preference: PreferenceKind,
}

/// A stored preference.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preference {
    /// Store id.
    pub id: i64,
    /// Event.
    pub event_id: i64,
    /// The enterprise's organisation id.
    pub enterprise_id: i64,
    /// One of its needs, or `None` for all of them.
    pub need_id: Option<i64>,
    /// `result` or `expert`.
    pub partner_kind: ListingKind,
    /// The result or expert.
    pub partner_id: i64,
    /// Who declared it.
    pub side: Side,
    /// What it says.
    pub preference: PreferenceKind,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A meeting to write.
#[derive(Debug, Clone, PartialEq)]
pub struct PairingDraft {
    /// The enterprise's organisation id.
    pub enterprise_id: i64,
    /// The need it comes with.
    pub need_id: i64,
    /// `Result` or `Expert`.
    pub partner_kind: ListingKind,
    /// The result or expert.
    pub partner_id: i64,
    /// Score used by the optimiser (preferences applied).
    pub score: f64,
    /// Matching score before preferences.
    pub base_score: f64,
    /// Time slot, 0-based.
    pub slot: i64,
    /// Table, 0-based.
    pub table: i64,
    /// Forced by a "must" preference.
    pub forced: bool,
    /// `solver` or `manual`.
    pub origin: String,
}

/// A stored meeting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairingRow {
    /// Store id.
    pub id: i64,
    /// Event.
    pub event_id: i64,
    /// The enterprise's organisation id.
    pub enterprise_id: i64,
    /// The need it comes with.
    pub need_id: i64,
    /// `result` or `expert`.
    pub partner_kind: ListingKind,
    /// The result or expert.
    pub partner_id: i64,
    /// Score used by the optimiser.
    pub score: f64,
    /// Matching score before preferences.
    pub base_score: f64,
    /// Time slot, 0-based.
    pub slot: i64,
    /// Table, 0-based.
    pub table: i64,
    /// Forced by a "must" preference.
    pub forced: bool,
    /// `solver` or `manual`.
    pub origin: String,
    /// RFC 3339.
    pub created_at: String,
}

/// The last generated pairing of an event, without its meetings.
#[derive(Debug, Clone, PartialEq)]
pub struct PairingRun {
    /// Event.
    pub event_id: i64,
    /// Incremented by every edit.
    pub version: i64,
    /// The solver instance (JSON) the pairing was made from.
    pub instance: String,
    /// The report (JSON): unplaced, unseated, statistics.
    pub report: String,
    /// Participants or preferences changed since it was generated.
    pub stale: bool,
    /// RFC 3339.
    pub generated_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// One change of an organiser edit.
#[derive(Debug, Clone, PartialEq)]
pub enum PairingChange {
    /// A new meeting.
    Insert(PairingDraft),
    /// A meeting moved to another slot and table.
    Move {
        /// Row id.
        id: i64,
        /// New slot.
        slot: i64,
        /// New table.
        table: i64,
    },
    /// A meeting removed.
    Delete(i64),
}

const EVENT_COLUMNS: &str = "id, name, format, event_date, venue, description, themes, start_time, slot_minutes, slot_count, breaks, \
     table_count, table_names, seats_per_table, max_per_enterprise, max_per_result, max_per_expert, min_score, status, self_service, created_at, updated_at";

const PAIRING_COLUMNS: &str = "id, event_id, enterprise_id, need_id, partner_kind, partner_id, score, base_score, slot, table_no, forced, origin, created_at";

const PREFERENCE_COLUMNS: &str = "id, event_id, enterprise_id, need_id, partner_kind, partner_id, side, preference, created_at, updated_at";

fn json<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> Result<T, StoreError> {
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn kind_of(row: &AnyRow, col: &str) -> Result<ListingKind, StoreError> {
    let s: String = row.try_get(col)?;
    ListingKind::parse(&s)
        .ok_or_else(|| StoreError::Corrupt(format!("{col}: unknown listing kind {s}")))
}

fn event_row(row: &AnyRow) -> Result<Event, StoreError> {
    Ok(Event {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        format: code_of(row, "format")?,
        date: row.try_get("event_date")?,
        venue: row.try_get("venue")?,
        description: row.try_get("description")?,
        themes: json(row, "themes")?,
        start_time: row.try_get("start_time")?,
        slot_minutes: row.try_get("slot_minutes")?,
        slot_count: row.try_get("slot_count")?,
        breaks: json(row, "breaks")?,
        table_count: row.try_get("table_count")?,
        table_names: json(row, "table_names")?,
        seats_per_table: row.try_get("seats_per_table")?,
        max_per_enterprise: row.try_get("max_per_enterprise")?,
        max_per_result: row.try_get("max_per_result")?,
        max_per_expert: row.try_get("max_per_expert")?,
        min_score: row.try_get("min_score")?,
        status: code_of(row, "status")?,
        self_service: json(row, "self_service")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn pairing_row(row: &AnyRow) -> Result<PairingRow, StoreError> {
    let forced: i64 = row.try_get("forced")?;
    Ok(PairingRow {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        enterprise_id: row.try_get("enterprise_id")?,
        need_id: row.try_get("need_id")?,
        partner_kind: kind_of(row, "partner_kind")?,
        partner_id: row.try_get("partner_id")?,
        score: row.try_get("score")?,
        base_score: row.try_get("base_score")?,
        slot: row.try_get("slot")?,
        table: row.try_get("table_no")?,
        forced: forced != 0,
        origin: row.try_get("origin")?,
        created_at: row.try_get("created_at")?,
    })
}

fn preference_row(row: &AnyRow) -> Result<Preference, StoreError> {
    let need: i64 = row.try_get("need_id")?;
    Ok(Preference {
        id: row.try_get("id")?,
        event_id: row.try_get("event_id")?,
        enterprise_id: row.try_get("enterprise_id")?,
        need_id: (need != 0).then_some(need),
        partner_kind: kind_of(row, "partner_kind")?,
        partner_id: row.try_get("partner_id")?,
        side: code_of(row, "side")?,
        preference: code_of(row, "preference")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn not_found(entity: &'static str, id: i64) -> StoreError {
    StoreError::NotFound {
        entity,
        id: id.to_string(),
    }
}

/// Marks the event's pairing (if any) as made from other participants or preferences.
pub(crate) async fn mark_stale(tx: &mut Tx<'_>, event_id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE event_pairing_runs SET stale = 1 WHERE event_id = $1")
        .bind(event_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_pairing(
    tx: &mut Tx<'_>,
    event_id: i64,
    p: &PairingDraft,
    ts: &str,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO event_pairings (event_id, enterprise_id, need_id, partner_kind, partner_id, score, base_score, slot, table_no, \
         forced, origin, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(event_id)
    .bind(p.enterprise_id)
    .bind(p.need_id)
    .bind(p.partner_kind.code())
    .bind(p.partner_id)
    .bind(p.score)
    .bind(p.base_score)
    .bind(p.slot)
    .bind(p.table)
    .bind(i64::from(p.forced))
    .bind(p.origin.as_str())
    .bind(ts)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| {
        if StoreError::is_unique_violation(&e) {
            StoreError::Conflict {
                code: "already_paired",
                message: "该企业与该成果（专家）已安排会谈 / this enterprise already meets this result (expert)".into(),
            }
        } else {
            StoreError::Database(e)
        }
    })?;
    Ok(row.try_get("id")?)
}

impl Store {
    /// The id of the organisation with this organiser's id or, failing that, this exact
    /// name (participant lists name organisations either way).
    pub async fn find_organization(
        &self,
        external_id: Option<&str>,
        name: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        for (col, v) in [("external_id", external_id), ("name", name)] {
            if let Some(v) = v {
                let row = sqlx::query(AssertSqlSafe(format!(
                    "SELECT id FROM organizations WHERE {col} = $1"
                )))
                .bind(v)
                .fetch_optional(&self.pool)
                .await?;
                if let Some(r) = row {
                    return Ok(Some(r.try_get("id")?));
                }
            }
        }
        Ok(None)
    }

    /// The id of the listing of `kind` with this organiser's id.
    pub async fn find_listing(
        &self,
        kind: ListingKind,
        external_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let table = match kind {
            ListingKind::Need => "needs",
            ListingKind::Result => "results",
            ListingKind::Expert => "experts",
        };
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT id FROM {table} WHERE external_id = $1"
        )))
        .bind(external_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.try_get("id")).transpose()?)
    }

    pub(crate) async fn begin_event_write(
        &self,
    ) -> Result<(tokio::sync::MutexGuard<'_, ()>, Tx<'_>), StoreError> {
        // the same lock as listing writes: SQLite refuses a read transaction that upgrades
        // to a write while another writer committed, instead of waiting for it
        let guard = self.write_lock.lock().await;
        let tx = self.begin_tx().await?;
        Ok((guard, tx))
    }

    /// Creates an event and returns its id.
    pub async fn create_event(&self, d: &EventDraft) -> Result<i64, StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let id = write_event(&mut tx, None, d).await?;
        crate::audit_created(id);
        crate::commit(tx).await?;
        Ok(id)
    }

    /// Replaces an event's fields.
    pub async fn update_event(&self, id: i64, d: &EventDraft) -> Result<(), StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        write_event(&mut tx, Some(id), d).await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// Deletes an event with its participants, preferences and pairing.
    pub async fn delete_event(&self, id: i64) -> Result<(), StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        // explicit, so it does not depend on the connection enforcing foreign keys
        for table in [
            "event_pairings",
            "event_pairing_runs",
            "event_preferences",
            "event_listings",
            "event_participants",
        ] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE event_id = $1"
            )))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        // pairing entries nobody acted on go with the event; the rest are the record of what
        // happened and stay in the ledger
        sqlx::query("DELETE FROM ledger_history WHERE entry_id IN (SELECT id FROM ledger_entries WHERE event_id = $1 AND status = 'proposed')")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM ledger_entries WHERE event_id = $1 AND status = 'proposed'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM events WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(not_found("event", id));
        }
        crate::commit(tx).await?;
        Ok(())
    }

    /// One event.
    pub async fn event(&self, id: i64) -> Result<Event, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("event", id))?;
        event_row(&row)
    }

    /// Lists events, newest first.
    pub async fn events(
        &self,
        f: &EventFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Event>, StoreError> {
        let mut conds = Vec::new();
        let mut binds = Vec::new();
        let wanted = [
            ("status", f.status.map(|s| s.code())),
            ("format", f.format.map(|f| f.code())),
        ];
        for (col, v) in wanted {
            if let Some(v) = v {
                binds.push(v.to_string());
                conds.push(format!("{col} = ${}", binds.len()));
            }
        }
        if f.announced_only {
            binds.push(EventStatus::Draft.code().to_string());
            conds.push(format!("status <> ${}", binds.len()));
        }
        let w = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM events{w}"
        )));
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let total: i64 = q.fetch_one(&self.pool).await?.try_get("n")?;
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM events{w} ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
        )));
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let items = rows.iter().map(event_row).collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }

    /// Adds an organisation with listings to an event, or more listings to an organisation
    /// already taking part; listings already in the event are left alone. Returns the
    /// participant id and whether the participant is new. The caller has checked that the
    /// listings belong to the organisation.
    pub async fn add_participant(
        &self,
        event_id: i64,
        organization_id: i64,
        listings: &[(ListingKind, i64)],
    ) -> Result<(i64, bool), StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let out = add_participant_tx(&mut tx, event_id, organization_id, listings).await?;
        crate::commit(tx).await?;
        Ok(out)
    }

    /// Adds several participants in one transaction (an import batch); see
    /// [`Store::add_participant`].
    pub async fn add_participants(
        &self,
        event_id: i64,
        items: &[(i64, Vec<(ListingKind, i64)>)],
    ) -> Result<Vec<(i64, bool)>, StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let mut out = Vec::with_capacity(items.len());
        for (org, listings) in items {
            out.push(add_participant_tx(&mut tx, event_id, *org, listings).await?);
        }
        crate::commit(tx).await?;
        Ok(out)
    }

    /// The participants of an event, in the order they joined, with their listings.
    pub async fn participants(&self, event_id: i64) -> Result<Vec<Participant>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.id, p.event_id, p.organization_id, p.created_at, o.name AS org_name, o.kind AS org_kind, o.city AS org_city \
             FROM event_participants p JOIN organizations o ON o.id = p.organization_id WHERE p.event_id = $1 ORDER BY p.id",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Participant> = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(Participant {
                id: r.try_get("id")?,
                event_id: r.try_get("event_id")?,
                organization_id: r.try_get("organization_id")?,
                organization_name: r.try_get("org_name")?,
                organization_kind: r.try_get("org_kind")?,
                city: r.try_get("org_city")?,
                listings: Vec::new(),
                created_at: r.try_get("created_at")?,
            });
        }
        let rows = sqlx::query(
            "SELECT l.participant_id, l.kind, l.listing_id, \
             COALESCE(n.title, r.title, x.name) AS title, COALESCE(n.external_id, r.external_id, x.external_id) AS external_id, \
             COALESCE(n.status, r.status, CASE WHEN x.id IS NULL THEN NULL ELSE 'published' END) AS status, \
             COALESCE(n.industry, r.industry, x.industry) AS industry \
             FROM event_listings l \
             LEFT JOIN needs n ON l.kind = 'need' AND n.id = l.listing_id \
             LEFT JOIN results r ON l.kind = 'result' AND r.id = l.listing_id \
             LEFT JOIN experts x ON l.kind = 'expert' AND x.id = l.listing_id \
             WHERE l.event_id = $1 ORDER BY l.participant_id, l.kind, l.listing_id",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let pid: i64 = r.try_get("participant_id")?;
            let l = ParticipantListing {
                kind: kind_of(r, "kind")?,
                id: r.try_get("listing_id")?,
                title: r.try_get("title")?,
                external_id: r.try_get("external_id")?,
                status: r.try_get("status")?,
                industry: r.try_get("industry")?,
            };
            if let Some(p) = out.iter_mut().find(|p| p.id == pid) {
                p.listings.push(l);
            }
        }
        Ok(out)
    }

    /// Removes a participant with its listings, the preferences and meetings involving
    /// them; the pairing is marked stale.
    pub async fn remove_participant(
        &self,
        event_id: i64,
        participant_id: i64,
    ) -> Result<(), StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let row = sqlx::query(
            "SELECT organization_id FROM event_participants WHERE id = $1 AND event_id = $2",
        )
        .bind(participant_id)
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| not_found("participant", participant_id))?;
        let org: i64 = row.try_get("organization_id")?;
        let listings =
            sqlx::query("SELECT kind, listing_id FROM event_listings WHERE participant_id = $1")
                .bind(participant_id)
                .fetch_all(&mut *tx)
                .await?;
        for l in &listings {
            let kind: String = l.try_get("kind")?;
            let id: i64 = l.try_get("listing_id")?;
            if kind != "need" {
                for table in ["event_preferences", "event_pairings"] {
                    sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE event_id = $1 AND partner_kind = $2 AND partner_id = $3")))
                        .bind(event_id)
                        .bind(kind.as_str())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        for table in ["event_preferences", "event_pairings"] {
            sqlx::query(AssertSqlSafe(format!(
                "DELETE FROM {table} WHERE event_id = $1 AND enterprise_id = $2"
            )))
            .bind(event_id)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM event_listings WHERE participant_id = $1")
            .bind(participant_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM event_participants WHERE id = $1")
            .bind(participant_id)
            .execute(&mut *tx)
            .await?;
        mark_stale(&mut tx, event_id).await?;
        crate::ledger::sync_event_ledger(&mut tx, event_id).await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// Writes a preference, replacing the same side's earlier word on the same pair.
    /// Returns its id and whether it is new.
    pub async fn upsert_preference(
        &self,
        event_id: i64,
        d: &PreferenceDraft,
    ) -> Result<(i64, bool), StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let ts = now();
        let need = d.need_id.unwrap_or(0);
        let existing = sqlx::query(
            "SELECT id FROM event_preferences WHERE event_id = $1 AND enterprise_id = $2 AND need_id = $3 AND partner_kind = $4 \
             AND partner_id = $5 AND side = $6",
        )
        .bind(event_id)
        .bind(d.enterprise_id)
        .bind(need)
        .bind(d.partner_kind.code())
        .bind(d.partner_id)
        .bind(d.side.code())
        .fetch_optional(&mut *tx)
        .await?;
        let out = match existing {
            Some(row) => {
                let id: i64 = row.try_get("id")?;
                sqlx::query(
                    "UPDATE event_preferences SET preference = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(d.preference.code())
                .bind(ts.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                (id, false)
            }
            None => {
                let row = sqlx::query(
                    "INSERT INTO event_preferences (event_id, enterprise_id, need_id, partner_kind, partner_id, side, preference, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
                )
                .bind(event_id)
                .bind(d.enterprise_id)
                .bind(need)
                .bind(d.partner_kind.code())
                .bind(d.partner_id)
                .bind(d.side.code())
                .bind(d.preference.code())
                .bind(ts.as_str())
                .fetch_one(&mut *tx)
                .await?;
                (row.try_get("id")?, true)
            }
        };
        mark_stale(&mut tx, event_id).await?;
        crate::commit(tx).await?;
        Ok(out)
    }

    /// The preferences of an event, oldest first.
    pub async fn preferences(&self, event_id: i64) -> Result<Vec<Preference>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PREFERENCE_COLUMNS} FROM event_preferences WHERE event_id = $1 ORDER BY id"
        )))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(preference_row).collect()
    }

    /// One preference.
    pub async fn preference(&self, event_id: i64, id: i64) -> Result<Preference, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {PREFERENCE_COLUMNS} FROM event_preferences WHERE event_id = $1 AND id = $2"
        )))
        .bind(event_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("preference", id))?;
        preference_row(&row)
    }

    /// Deletes a preference.
    pub async fn delete_preference(&self, event_id: i64, id: i64) -> Result<(), StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let n = sqlx::query("DELETE FROM event_preferences WHERE event_id = $1 AND id = $2")
            .bind(event_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(not_found("preference", id));
        }
        mark_stale(&mut tx, event_id).await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// Takes the event's pairing lock for `holder` for `lease_ms`, unless another holder
    /// has it and its lease has not run out. True when taken. Works across processes: the
    /// lock is a row in the database.
    pub async fn try_lock_pairing(
        &self,
        event_id: i64,
        holder: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let _g = self.write_lock.lock().await;
        let ts = now();
        let mut tx = self.begin_tx().await?;
        sqlx::query("DELETE FROM pairing_locks WHERE event_id = $1 AND expires_at < $2")
            .bind(event_id)
            .bind(ts.as_str())
            .execute(&mut *tx)
            .await?;
        let taken = sqlx::query(
            "INSERT INTO pairing_locks (event_id, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(holder)
        .bind(ts.as_str())
        .bind(
            (chrono::Utc::now() + chrono::Duration::milliseconds(lease_ms))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        )
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        // the lock is no change of its own: an audit entry waits for the pairing it guards
        tx.commit().await?;
        Ok(taken)
    }

    /// Gives the event's pairing lock back (only if `holder` still has it).
    pub async fn unlock_pairing(&self, event_id: i64, holder: &str) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        sqlx::query("DELETE FROM pairing_locks WHERE event_id = $1 AND holder = $2")
            .bind(event_id)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces the event's pairing (run and meetings) in one transaction and returns the
    /// stored meetings. The version goes on from the previous pairing's.
    pub async fn save_pairing(
        &self,
        event_id: i64,
        instance: &str,
        report: &str,
        meetings: &[PairingDraft],
    ) -> Result<Vec<PairingRow>, StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let ts = now();
        // versions keep counting across generations, so an edit made against the previous
        // pairing can never pass for one made against this one
        let previous: Option<i64> =
            sqlx::query("SELECT version FROM event_pairing_runs WHERE event_id = $1")
                .bind(event_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("version"))
                .transpose()?;
        sqlx::query("DELETE FROM event_pairings WHERE event_id = $1")
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM event_pairing_runs WHERE event_id = $1")
            .bind(event_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO event_pairing_runs (event_id, version, instance, report, stale, generated_at, updated_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $5)",
        )
        .bind(event_id)
        .bind(previous.unwrap_or(0) + 1)
        .bind(instance)
        .bind(report)
        .bind(ts.as_str())
        .execute(&mut *tx)
        .await?;
        for m in meetings {
            insert_pairing(&mut tx, event_id, m, &ts).await?;
        }
        crate::ledger::sync_event_ledger(&mut tx, event_id).await?;
        crate::commit(tx).await?;
        self.pairings(event_id).await
    }

    /// The event's last pairing run, if one was generated.
    pub async fn pairing_run(&self, event_id: i64) -> Result<Option<PairingRun>, StoreError> {
        let row = sqlx::query("SELECT event_id, version, instance, report, stale, generated_at, updated_at FROM event_pairing_runs WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let stale: i64 = r.try_get("stale")?;
            Ok(PairingRun {
                event_id: r.try_get("event_id")?,
                version: r.try_get("version")?,
                instance: r.try_get("instance")?,
                report: r.try_get("report")?,
                stale: stale != 0,
                generated_at: r.try_get("generated_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .transpose()
    }

    /// The event's meetings by slot, then table, then id.
    pub async fn pairings(&self, event_id: i64) -> Result<Vec<PairingRow>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {PAIRING_COLUMNS} FROM event_pairings WHERE event_id = $1 ORDER BY slot, table_no, id")))
            .bind(event_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(pairing_row).collect()
    }

    /// Applies an organiser edit made against pairing version `expected_version`: the
    /// changes and the new report are written together and the version incremented, or
    /// nothing is written and `pairing_changed` returned when someone else edited first.
    /// Returns the ids of inserted meetings.
    pub async fn edit_pairing(
        &self,
        event_id: i64,
        expected_version: i64,
        changes: &[PairingChange],
        report: &str,
    ) -> Result<Vec<i64>, StoreError> {
        let (_g, mut tx) = self.begin_event_write().await?;
        let ts = now();
        let n = sqlx::query("UPDATE event_pairing_runs SET version = version + 1, report = $1, updated_at = $2 WHERE event_id = $3 AND version = $4")
            .bind(report)
            .bind(ts.as_str())
            .bind(event_id)
            .bind(expected_version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict {
                code: "pairing_changed",
                message: "对接安排已被他人修改或重新生成，请刷新后重试 / the pairing was changed or regenerated meanwhile; reload and retry".into(),
            });
        }
        let mut inserted = Vec::new();
        for c in changes {
            match c {
                PairingChange::Insert(d) => {
                    inserted.push(insert_pairing(&mut tx, event_id, d, &ts).await?)
                }
                PairingChange::Move { id, slot, table } => {
                    let n = sqlx::query("UPDATE event_pairings SET slot = $1, table_no = $2 WHERE id = $3 AND event_id = $4")
                        .bind(*slot)
                        .bind(*table)
                        .bind(*id)
                        .bind(event_id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if n == 0 {
                        return Err(not_found("pairing", *id));
                    }
                }
                PairingChange::Delete(id) => {
                    let n =
                        sqlx::query("DELETE FROM event_pairings WHERE id = $1 AND event_id = $2")
                            .bind(*id)
                            .bind(event_id)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                    if n == 0 {
                        return Err(not_found("pairing", *id));
                    }
                }
            }
        }
        crate::ledger::sync_event_ledger(&mut tx, event_id).await?;
        crate::commit(tx).await?;
        Ok(inserted)
    }
}

async fn write_event(tx: &mut Tx<'_>, id: Option<i64>, d: &EventDraft) -> Result<i64, StoreError> {
    let ts = now();
    let sql = match id {
        None => {
            "INSERT INTO events (name, format, event_date, venue, description, themes, start_time, slot_minutes, slot_count, breaks, \
                 table_count, table_names, seats_per_table, max_per_enterprise, max_per_result, max_per_expert, min_score, status, \
                 created_at, updated_at, self_service) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $21) \
                 RETURNING id"
        }
        Some(_) => {
            "UPDATE events SET name = $1, format = $2, event_date = $3, venue = $4, description = $5, themes = $6, start_time = $7, \
                 slot_minutes = $8, slot_count = $9, breaks = $10, table_count = $11, table_names = $12, seats_per_table = $13, \
                 max_per_enterprise = $14, max_per_result = $15, max_per_expert = $16, min_score = $17, status = $18, updated_at = $19, \
                 self_service = $21 WHERE id = $20 RETURNING id"
        }
    };
    let row = sqlx::query(sql)
        .bind(d.name.as_str())
        .bind(d.format.code())
        .bind(d.date.as_str())
        .bind(d.venue.as_deref())
        .bind(d.description.as_deref())
        .bind(to_json(&d.themes))
        .bind(d.start_time.as_str())
        .bind(d.slot_minutes)
        .bind(d.slot_count)
        .bind(to_json(&d.breaks))
        .bind(d.table_count)
        .bind(to_json(&d.table_names))
        .bind(d.seats_per_table)
        .bind(d.max_per_enterprise)
        .bind(d.max_per_result)
        .bind(d.max_per_expert)
        .bind(d.min_score)
        .bind(d.status.code())
        .bind(ts.as_str())
        .bind(id.unwrap_or(0))
        .bind(to_json(&d.self_service))
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row
        .ok_or_else(|| not_found("event", id.unwrap_or(0)))?
        .try_get("id")?)
}

pub(crate) async fn add_participant_tx(
    tx: &mut Tx<'_>,
    event_id: i64,
    organization_id: i64,
    listings: &[(ListingKind, i64)],
) -> Result<(i64, bool), StoreError> {
    let existing = sqlx::query(
        "SELECT id FROM event_participants WHERE event_id = $1 AND organization_id = $2",
    )
    .bind(event_id)
    .bind(organization_id)
    .fetch_optional(&mut **tx)
    .await?;
    let (pid, created) = match existing {
        Some(row) => (row.try_get::<i64, _>("id")?, false),
        None => {
            let row = sqlx::query("INSERT INTO event_participants (event_id, organization_id, created_at) VALUES ($1, $2, $3) RETURNING id")
                .bind(event_id)
                .bind(organization_id)
                .bind(now())
                .fetch_one(&mut **tx)
                .await?;
            (row.try_get::<i64, _>("id")?, true)
        }
    };
    for (kind, id) in listings {
        sqlx::query(
            "INSERT INTO event_listings (event_id, participant_id, kind, listing_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (event_id, kind, listing_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(pid)
        .bind(kind.code())
        .bind(*id)
        .execute(&mut **tx)
        .await?;
    }
    mark_stale(tx, event_id).await?;
    Ok((pid, created))
}

/// A closed-set code column (format, status, side, preference) as its enum; a value this
/// version does not know is a decode error, not a silent default.
pub(crate) fn code_of<T>(row: &AnyRow, col: &str) -> Result<T, StoreError>
where
    T: std::str::FromStr<Err = duijie_domain::kinds::UnknownCode>,
{
    let raw: String = row.try_get(col)?;
    raw.parse::<T>()
        .map_err(|e| StoreError::from(sqlx::Error::Decode(Box::new(e))))
}
