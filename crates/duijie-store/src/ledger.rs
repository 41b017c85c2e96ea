//! The outcomes ledger (台账): entries for event pairings, cooperations arranged outside
//! events and inter-university projects, each with the history of its status.
//!
//! Pairing entries are kept in step with the event's pairing inside the same transaction
//! that saves or edits it ([`sync_event_ledger`]): every meeting has an entry; an entry
//! still only "proposed" whose meeting was removed goes away with it, anything further
//! along stays (it records what happened). The rules for moving between statuses live in
//! `duijie_domain::ledger`; this module applies them under the write lock so two people
//! recording outcomes at once cannot skip a check.

use crate::{Page, Store, StoreError, now};
use duijie_domain::ledger::{self as rules, Outcome, PROJECTS_PER_KIND_PER_YEAR};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

type Tx<'a> = Transaction<'a, Any>;

/// One ledger entry with the names it refers to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerEntry {
    /// Store id.
    pub id: i64,
    /// `pairing`, `cooperation` or `inter_university`.
    pub kind: String,
    /// The event of a pairing.
    pub event_id: Option<i64>,
    /// Its name (absent once the event is deleted).
    pub event_name: Option<String>,
    /// The enterprise.
    pub enterprise_id: Option<i64>,
    /// Its name.
    pub enterprise_name: Option<String>,
    /// The university (or institute) side; the filing university of an inter-university
    /// project.
    pub university_id: Option<i64>,
    /// Its name.
    pub university_name: Option<String>,
    /// The other university of an inter-university project.
    pub partner_university_id: Option<i64>,
    /// Its name.
    pub partner_university_name: Option<String>,
    /// The enterprise's need.
    pub need_id: Option<i64>,
    /// `result` or `expert`.
    pub partner_kind: Option<String>,
    /// The result or expert.
    pub partner_id: Option<i64>,
    /// One of the five project kinds (inter-university).
    pub project_kind: Option<String>,
    /// What the entry is about.
    pub title: String,
    /// Industry code.
    pub industry: Option<String>,
    /// City where the cooperation lands (the enterprise's, or the filing university's).
    pub city: Option<String>,
    /// Year the entry counts for.
    pub year: i64,
    /// Status code.
    pub status: String,
    /// Furthest stage reached (0 proposed … 5 transferred), kept after a drop.
    pub max_stage: i64,
    /// Contract amount in yuan.
    pub amount_yuan: Option<i64>,
    /// Contract date.
    pub contract_date: Option<String>,
    /// Contract mode code.
    pub contract_mode: Option<String>,
    /// Why it was declined or dropped.
    pub reason: Option<String>,
    /// When the two sides first met.
    pub met_on: Option<String>,
    /// When the result was transferred.
    pub transferred_on: Option<String>,
    /// The connection request it grew from.
    pub connection_id: Option<i64>,
    /// 技术合同登记号 of the contract.
    pub registration_no: Option<String>,
    /// The broker (技术经纪人) credited.
    pub broker_id: Option<i64>,
    /// Their name.
    pub broker_name: Option<String>,
    /// Who created the entry.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, last status change.
    pub updated_at: String,
}

/// One status change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerChange {
    /// Sequence number.
    pub id: i64,
    /// When it was recorded (RFC 3339).
    pub at: String,
    /// When it happened (YYYY-MM-DD).
    pub on_date: String,
    /// Who recorded it.
    pub user_id: Option<i64>,
    /// Readable name of who.
    pub actor: String,
    /// Status before (`None` when the entry was created).
    pub from_status: Option<String>,
    /// Status after.
    pub to_status: String,
    /// Contract amount recorded with it.
    pub amount_yuan: Option<i64>,
    /// Contract mode recorded with it.
    pub contract_mode: Option<String>,
    /// Reason recorded with it.
    pub reason: Option<String>,
    /// Note.
    pub note: Option<String>,
}

/// A cooperation or inter-university project to file (pairing entries come from events).
#[derive(Debug, Clone, Default)]
pub struct LedgerDraft {
    /// `cooperation` or `inter_university`.
    pub kind: String,
    /// Enterprise (cooperation).
    pub enterprise_id: Option<i64>,
    /// University (both kinds; the filing one for inter-university).
    pub university_id: Option<i64>,
    /// Other university (inter-university).
    pub partner_university_id: Option<i64>,
    /// Need (cooperation, optional).
    pub need_id: Option<i64>,
    /// `result` or `expert` (cooperation, optional).
    pub partner_kind: Option<String>,
    /// The result or expert.
    pub partner_id: Option<i64>,
    /// Project kind (inter-university).
    pub project_kind: Option<String>,
    /// What it is about.
    pub title: String,
    /// Industry code.
    pub industry: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Year it counts for.
    pub year: i64,
}

/// Who makes a ledger change.
#[derive(Debug, Clone)]
pub struct LedgerActor {
    /// The user, when there is one.
    pub user_id: Option<i64>,
    /// Readable name (e-mail, `cli`, `import`).
    pub name: String,
}

/// Filters for the ledger list; all optional, combined with AND.
#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    /// Entries of one event.
    pub event_id: Option<i64>,
    /// Entries whose city is one of these (a zone is passed as its cities).
    pub cities: Option<Vec<String>>,
    /// Industry code.
    pub industry: Option<String>,
    /// Entries an organisation takes part in (any side).
    pub organization_id: Option<i64>,
    /// Entries credited to a broker.
    pub broker_id: Option<i64>,
    /// Status code.
    pub status: Option<String>,
    /// Entry kind.
    pub kind: Option<String>,
    /// Last change on or after this date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last change on or before this date (YYYY-MM-DD).
    pub to: Option<String>,
}

const ENTRY_SELECT: &str = "SELECT l.id, l.kind, l.event_id, ev.name AS event_name, l.enterprise_id, eo.name AS enterprise_name, \
     l.university_id, uo.name AS university_name, l.partner_university_id, po.name AS partner_university_name, \
     l.need_id, l.partner_kind, l.partner_id, l.project_kind, l.title, l.industry, l.city, l.year, l.status, l.max_stage, \
     l.amount_yuan, l.contract_date, l.contract_mode, l.reason, l.met_on, l.transferred_on, \
     l.connection_id, l.registration_no, l.broker_id, COALESCE(bu.name, bu.email) AS broker_name, l.created_by, l.created_at, l.updated_at \
     FROM ledger_entries l \
     LEFT JOIN users bu ON bu.id = l.broker_id \
     LEFT JOIN events ev ON ev.id = l.event_id \
     LEFT JOIN organizations eo ON eo.id = l.enterprise_id \
     LEFT JOIN organizations uo ON uo.id = l.university_id \
     LEFT JOIN organizations po ON po.id = l.partner_university_id";

fn entry_row(r: &AnyRow) -> Result<LedgerEntry, StoreError> {
    Ok(LedgerEntry {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        event_id: r.try_get("event_id")?,
        event_name: r.try_get("event_name")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        university_id: r.try_get("university_id")?,
        university_name: r.try_get("university_name")?,
        partner_university_id: r.try_get("partner_university_id")?,
        partner_university_name: r.try_get("partner_university_name")?,
        need_id: r.try_get("need_id")?,
        partner_kind: r.try_get("partner_kind")?,
        partner_id: r.try_get("partner_id")?,
        project_kind: r.try_get("project_kind")?,
        title: r.try_get("title")?,
        industry: r.try_get("industry")?,
        city: r.try_get("city")?,
        year: r.try_get("year")?,
        status: r.try_get("status")?,
        max_stage: r.try_get("max_stage")?,
        amount_yuan: r.try_get("amount_yuan")?,
        contract_date: r.try_get("contract_date")?,
        contract_mode: r.try_get("contract_mode")?,
        reason: r.try_get("reason")?,
        met_on: r.try_get("met_on")?,
        transferred_on: r.try_get("transferred_on")?,
        connection_id: r.try_get("connection_id")?,
        registration_no: r.try_get("registration_no")?,
        broker_id: r.try_get("broker_id")?,
        broker_name: r.try_get("broker_name")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

enum Bind {
    I(i64),
    T(String),
}

fn where_clause(f: &LedgerFilter) -> (String, Vec<Bind>) {
    let mut conds = Vec::new();
    let mut binds = Vec::new();
    let next = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    if let Some(e) = f.event_id {
        let p = next(Bind::I(e), &mut binds);
        conds.push(format!("l.event_id = {p}"));
    }
    if let Some(cities) = &f.cities {
        if cities.is_empty() {
            conds.push("1 = 0".to_string());
        } else {
            let ps: Vec<String> = cities
                .iter()
                .map(|c| next(Bind::T(c.clone()), &mut binds))
                .collect();
            conds.push(format!("l.city IN ({})", ps.join(", ")));
        }
    }
    if let Some(i) = &f.industry {
        let p = next(Bind::T(i.clone()), &mut binds);
        conds.push(format!("l.industry = {p}"));
    }
    if let Some(o) = f.organization_id {
        let p = next(Bind::I(o), &mut binds);
        conds.push(format!(
            "(l.enterprise_id = {p} OR l.university_id = {p} OR l.partner_university_id = {p})"
        ));
    }
    if let Some(b) = f.broker_id {
        let p = next(Bind::I(b), &mut binds);
        conds.push(format!("l.broker_id = {p}"));
    }
    if let Some(s) = &f.status {
        let p = next(Bind::T(s.clone()), &mut binds);
        conds.push(format!("l.status = {p}"));
    }
    if let Some(k) = &f.kind {
        let p = next(Bind::T(k.clone()), &mut binds);
        conds.push(format!("l.kind = {p}"));
    }
    if let Some(d) = &f.from {
        let p = next(Bind::T(d.clone()), &mut binds);
        conds.push(format!("substr(l.updated_at, 1, 10) >= {p}"));
    }
    if let Some(d) = &f.to {
        let p = next(Bind::T(d.clone()), &mut binds);
        conds.push(format!("substr(l.updated_at, 1, 10) <= {p}"));
    }
    let sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (sql, binds)
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::I(i) => q.bind(*i),
            Bind::T(t) => q.bind(t.as_str()),
        };
    }
    q
}

fn today() -> String {
    now()[..10].to_string()
}

/// The first key of the PostgreSQL advisory locks that serialise inter-university project
/// filings of one university (the second key is the university's id).
const LEDGER_LOCK_CLASS: i32 = 0x444A_4C47; // "DJLG"

impl Store {
    /// One page of the ledger, newest change first.
    pub async fn ledger(
        &self,
        filter: &LedgerFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<LedgerEntry>, StoreError> {
        let (cond, binds) = where_clause(filter);
        let n = binds.len();
        let sql = format!(
            "{ENTRY_SELECT}{cond} ORDER BY l.updated_at DESC, l.id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let count_sql = format!("SELECT COUNT(*) AS n FROM ledger_entries l{cond}");
        let total: i64 = bind_all(sqlx::query(AssertSqlSafe(count_sql)), &binds)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(Page {
            items: rows.iter().map(entry_row).collect::<Result<_, _>>()?,
            total,
            limit,
            offset,
        })
    }

    /// Every entry matching the filter, oldest first (exports and statistics).
    pub async fn ledger_all(&self, filter: &LedgerFilter) -> Result<Vec<LedgerEntry>, StoreError> {
        let (cond, binds) = where_clause(filter);
        let sql = format!("{ENTRY_SELECT}{cond} ORDER BY l.id");
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry_row).collect()
    }

    /// One entry.
    pub async fn ledger_entry(&self, id: i64) -> Result<LedgerEntry, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!("{ENTRY_SELECT} WHERE l.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => entry_row(&r),
            None => Err(StoreError::NotFound {
                entity: "ledger entry",
                id: id.to_string(),
            }),
        }
    }

    /// An entry's history, oldest first.
    pub async fn ledger_history(&self, id: i64) -> Result<Vec<LedgerChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, on_date, user_id, actor, from_status, to_status, amount_yuan, contract_mode, reason, note \
             FROM ledger_history WHERE entry_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LedgerChange {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    on_date: r.try_get("on_date")?,
                    user_id: r.try_get("user_id")?,
                    actor: r.try_get("actor")?,
                    from_status: r.try_get("from_status")?,
                    to_status: r.try_get("to_status")?,
                    amount_yuan: r.try_get("amount_yuan")?,
                    contract_mode: r.try_get("contract_mode")?,
                    reason: r.try_get("reason")?,
                    note: r.try_get("note")?,
                })
            })
            .collect()
    }

    /// How many non-dropped projects of a kind a university has filed for a year.
    pub async fn projects_filed(
        &self,
        university_id: i64,
        project_kind: &str,
        year: i64,
    ) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        count_projects(&mut conn, university_id, project_kind, year).await
    }

    /// Files a cooperation or an inter-university project; the five-per-kind-per-year rule
    /// is checked in the same transaction, under the write lock.
    pub async fn create_ledger_entry(
        &self,
        d: &LedgerDraft,
        actor: &LedgerActor,
    ) -> Result<i64, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        if d.kind == "inter_university" {
            let (Some(u), Some(k)) = (d.university_id, d.project_kind.as_deref()) else {
                return Err(StoreError::Conflict {
                    code: "invalid_project",
                    message: "校校合作须填写高校与项目类别 / an inter-university project needs its university and kind".into(),
                });
            };
            if self.backend == crate::Backend::Postgres {
                // other server processes on the same database do not share write_lock: a
                // transaction-scoped advisory lock per university serialises the count and
                // the insert across all of them
                sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                    .bind(LEDGER_LOCK_CLASS)
                    .bind(u as i32)
                    .execute(&mut *tx)
                    .await?;
            }
            let filed = count_projects(&mut tx, u, k, d.year).await?;
            if filed >= PROJECTS_PER_KIND_PER_YEAR {
                let name: Option<String> =
                    sqlx::query("SELECT name FROM organizations WHERE id = $1")
                        .bind(u)
                        .fetch_optional(&mut *tx)
                        .await?
                        .map(|r| r.try_get("name"))
                        .transpose()?;
                let name = name.unwrap_or_else(|| format!("高校 {u}"));
                return Err(StoreError::Conflict {
                    code: "project_limit",
                    message: format!(
                        "{name} {year} 年已登记 {filed} 项“{label}”项目，每所高校每类每年最多 {max} 项 / {name} has already filed {filed} {k} projects for {year}; at most {max} per kind per year",
                        year = d.year,
                        label = rules::project_kind_label(k),
                        max = PROJECTS_PER_KIND_PER_YEAR,
                    ),
                });
            }
        }
        let ts = now();
        let row = sqlx::query(
            "INSERT INTO ledger_entries (kind, enterprise_id, university_id, partner_university_id, need_id, partner_kind, partner_id, \
             project_kind, title, industry, city, year, status, max_stage, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'proposed', 0, $13, $14, $14) RETURNING id",
        )
        .bind(d.kind.as_str())
        .bind(d.enterprise_id)
        .bind(d.university_id)
        .bind(d.partner_university_id)
        .bind(d.need_id)
        .bind(d.partner_kind.as_deref())
        .bind(d.partner_id)
        .bind(d.project_kind.as_deref())
        .bind(d.title.as_str())
        .bind(d.industry.as_deref())
        .bind(d.city.as_deref())
        .bind(d.year)
        .bind(actor.name.as_str())
        .bind(ts.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        insert_change(
            &mut tx,
            id,
            None,
            "proposed",
            &Outcome::default(),
            actor,
            &ts,
        )
        .await?;
        crate::audit_created(id);
        crate::commit(tx).await?;
        Ok(id)
    }

    /// Records an outcome: checks the move from the current status (and, when given, that
    /// the entry is still in `expected` — a spreadsheet row made against an older state
    /// must not apply), updates the entry and appends to its history, in one transaction.
    pub async fn record_outcome(
        &self,
        id: i64,
        outcome: &Outcome,
        actor: &LedgerActor,
        expected: Option<&str>,
    ) -> Result<LedgerEntry, StoreError> {
        {
            let _g = self.write_lock.lock().await;
            let mut tx = self.begin_tx().await?;
            let row = sqlx::query("SELECT status, max_stage FROM ledger_entries WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound {
                    entity: "ledger entry",
                    id: id.to_string(),
                })?;
            let from: String = row.try_get("status")?;
            let max_stage: i64 = row.try_get("max_stage")?;
            if let Some(e) = expected
                && e != from
            {
                return Err(StoreError::Conflict {
                    code: "ledger_changed",
                    message: format!(
                        "该记录已被改为“{}”，请刷新后重试 / the entry is now {from}; reload and retry",
                        rules::status_label(&from)
                    ),
                });
            }
            rules::check_transition(&from, &outcome.status).map_err(|message| {
                StoreError::Conflict {
                    code: "invalid_transition",
                    message,
                }
            })?;
            let ts = now();
            let on = outcome.date.clone().unwrap_or_else(today);
            let to_stage = rules::stage(&outcome.status);
            let new_max = to_stage.map_or(max_stage, |s| s.max(max_stage));
            let met_on = (to_stage.unwrap_or(0) >= 2).then(|| on.clone());
            let transferred_on = (outcome.status == "transferred").then(|| on.clone());
            sqlx::query(
                "UPDATE ledger_entries SET status = $1, max_stage = $2, \
                 amount_yuan = COALESCE($3, amount_yuan), contract_date = COALESCE($4, contract_date), \
                 contract_mode = COALESCE($5, contract_mode), reason = COALESCE($6, reason), \
                 met_on = COALESCE(met_on, $7), transferred_on = COALESCE(transferred_on, $8), updated_at = $9, \
                 registration_no = COALESCE($11, registration_no), broker_id = COALESCE($12, broker_id) \
                 WHERE id = $10",
            )
            .persistent(false)
            .bind(outcome.status.as_str())
            .bind(new_max)
            .bind(outcome.amount_yuan)
            .bind(outcome.contract_date.as_deref())
            .bind(outcome.contract_mode.as_deref())
            .bind(outcome.reason.as_deref())
            .bind(met_on.as_deref())
            .bind(transferred_on.as_deref())
            .bind(ts.as_str())
            .bind(id)
            .bind(outcome.registration_no.as_deref())
            .bind(outcome.broker_id)
            .execute(&mut *tx)
            .await?;
            insert_change(
                &mut tx,
                id,
                Some(&from),
                &outcome.status,
                outcome,
                actor,
                &ts,
            )
            .await?;
            crate::commit(tx).await?;
        }
        self.ledger_entry(id).await
    }
}

impl Store {
    /// Credits a broker (技术经纪人) with an entry, or clears the credit (`None`).
    pub async fn set_ledger_broker(
        &self,
        id: i64,
        broker_id: Option<i64>,
    ) -> Result<LedgerEntry, StoreError> {
        {
            let _g = self.write_lock.lock().await;
            let mut tx = self.begin_tx().await?;
            let n = sqlx::query("UPDATE ledger_entries SET broker_id = $1 WHERE id = $2")
                .persistent(false)
                .bind(broker_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound {
                    entity: "ledger entry",
                    id: id.to_string(),
                });
            }
            crate::commit(tx).await?;
        }
        self.ledger_entry(id).await
    }
}

async fn count_projects(
    conn: &mut sqlx::AnyConnection,
    university_id: i64,
    project_kind: &str,
    year: i64,
) -> Result<i64, StoreError> {
    Ok(sqlx::query(
        "SELECT COUNT(*) AS n FROM ledger_entries WHERE kind = 'inter_university' AND university_id = $1 \
         AND project_kind = $2 AND year = $3 AND status <> 'dropped'",
    )
    .bind(university_id)
    .bind(project_kind)
    .bind(year)
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?)
}

pub(crate) async fn insert_change(
    tx: &mut Tx<'_>,
    entry_id: i64,
    from: Option<&str>,
    to: &str,
    o: &Outcome,
    actor: &LedgerActor,
    ts: &str,
) -> Result<(), StoreError> {
    let on = o.date.clone().unwrap_or_else(|| ts[..10].to_string());
    sqlx::query(
        "INSERT INTO ledger_history (entry_id, at, on_date, user_id, actor, from_status, to_status, amount_yuan, contract_mode, reason, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(entry_id)
    .bind(ts)
    .bind(on.as_str())
    .bind(actor.user_id)
    .bind(actor.name.as_str())
    .bind(from)
    .bind(to)
    .bind(o.amount_yuan)
    .bind(o.contract_mode.as_deref())
    .bind(o.reason.as_deref())
    .bind(o.note.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps an event's pairing entries in step with its meetings, inside the transaction that
/// saved or edited them: adds an entry for every meeting without one, removes entries still
/// only proposed whose meeting is gone. Entries further along are never removed.
pub(crate) async fn sync_event_ledger(tx: &mut Tx<'_>, event_id: i64) -> Result<(), StoreError> {
    let ts = now();
    sqlx::query(
        "DELETE FROM ledger_entries WHERE kind = 'pairing' AND event_id = $1 AND status = 'proposed' \
         AND NOT EXISTS (SELECT 1 FROM event_pairings p WHERE p.event_id = ledger_entries.event_id \
         AND p.enterprise_id = ledger_entries.enterprise_id AND p.partner_kind = ledger_entries.partner_kind \
         AND p.partner_id = ledger_entries.partner_id)",
    )
    .bind(event_id)
    .execute(&mut **tx)
    .await?;
    let rows = sqlx::query(
        "SELECT p.enterprise_id, p.need_id, p.partner_kind, p.partner_id, eo.city, ev.event_date, \
         n.title AS need_title, n.industry, r.title AS result_title, r.organization_id AS result_org, \
         x.name AS expert_name, x.organization_id AS expert_org \
         FROM event_pairings p JOIN events ev ON ev.id = p.event_id \
         LEFT JOIN organizations eo ON eo.id = p.enterprise_id \
         LEFT JOIN needs n ON n.id = p.need_id \
         LEFT JOIN results r ON p.partner_kind = 'result' AND r.id = p.partner_id \
         LEFT JOIN experts x ON p.partner_kind = 'expert' AND x.id = p.partner_id \
         WHERE p.event_id = $1 AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.event_id = p.event_id \
         AND l.enterprise_id = p.enterprise_id AND l.partner_kind = p.partner_kind AND l.partner_id = p.partner_id)",
    )
    .bind(event_id)
    .fetch_all(&mut **tx)
    .await?;
    for r in rows {
        let enterprise_id: i64 = r.try_get("enterprise_id")?;
        let partner_kind: String = r.try_get("partner_kind")?;
        let partner_id: i64 = r.try_get("partner_id")?;
        let need_title: Option<String> = r.try_get("need_title")?;
        let (partner_title, university): (Option<String>, Option<i64>) = if partner_kind == "result"
        {
            (r.try_get("result_title")?, r.try_get("result_org")?)
        } else {
            (
                r.try_get::<Option<String>, _>("expert_name")?
                    .map(|n| format!("专家 {n}")),
                r.try_get("expert_org")?,
            )
        };
        let title = format!(
            "{} ↔ {}",
            need_title.unwrap_or_else(|| "（需求已删除）".into()),
            partner_title.unwrap_or_else(|| "（已删除）".into())
        );
        let date: String = r.try_get("event_date")?;
        let year = date
            .get(..4)
            .and_then(|y| y.parse::<i64>().ok())
            .unwrap_or(0);
        let row = sqlx::query(
            "INSERT INTO ledger_entries (kind, event_id, enterprise_id, university_id, need_id, partner_kind, partner_id, title, \
             industry, city, year, status, max_stage, created_by, created_at, updated_at) \
             VALUES ('pairing', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'proposed', 0, 'pairing', $11, $11) RETURNING id",
        )
        .bind(event_id)
        .bind(enterprise_id)
        .bind(university)
        .bind(r.try_get::<i64, _>("need_id")?)
        .bind(partner_kind.as_str())
        .bind(partner_id)
        .bind(title.as_str())
        .bind(r.try_get::<Option<String>, _>("industry")?)
        .bind(r.try_get::<Option<String>, _>("city")?)
        .bind(year)
        .bind(ts.as_str())
        .fetch_one(&mut **tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        let actor = LedgerActor {
            user_id: None,
            name: "pairing".into(),
        };
        insert_change(tx, id, None, "proposed", &Outcome::default(), &actor, &ts).await?;
    }
    Ok(())
}
