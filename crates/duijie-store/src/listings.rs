//! Organisations and listings: create, read, update, delete, list, bulk import, and the
//! change log the index follows.

use crate::rows::{self, EXPERT_COLUMNS, NEED_COLUMNS, ORG_COLUMNS, RESULT_COLUMNS, to_json};
use crate::{Store, StoreError, now};
use duijie_domain::{
    Expert, ExpertDraft, FieldErrors, ListingKind, ListingText, Need, NeedDraft, OrgRef,
    Organization, OrganizationDraft, ResearchResult, ResultDraft,
};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

type Tx<'a> = Transaction<'a, Any>;

/// One page of a list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// How many records match in all.
    pub total: i64,
    /// Page size asked for.
    pub limit: i64,
    /// Records skipped.
    pub offset: i64,
}

/// Filters for list endpoints; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ListFilter {
    /// Industry code.
    pub industry: Option<String>,
    /// Status code.
    pub status: Option<String>,
    /// Owning organisation.
    pub organization_id: Option<i64>,
    /// City of the owning organisation (of the organisation itself for organisations).
    pub city: Option<String>,
    /// Organiser's id.
    pub external_id: Option<String>,
    /// Organisation kind (organisations only).
    pub kind: Option<String>,
}

/// What happened to one imported record.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportOutcome {
    /// A new record with this id.
    Inserted(i64),
    /// An existing record (same external id) was updated.
    Updated(i64),
    /// The record was refused.
    Failed {
        /// Stable code.
        code: &'static str,
        /// `中文 / English`.
        message: String,
    },
}

/// A validated record of any importable kind.
#[derive(Debug, Clone)]
pub enum Draft {
    /// Organisation.
    Organization(OrganizationDraft),
    /// Result.
    Result(ResultDraft),
    /// Need.
    Need(NeedDraft),
    /// Expert.
    Expert(ExpertDraft),
}

enum Bind {
    Text(String),
    Int(i64),
}

fn where_clause(f: &ListFilter, table_has_status: bool, org_alias: &str) -> (String, Vec<Bind>) {
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    let mut push = |cond: String, b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        parts.push(cond.replace('?', &format!("${}", binds.len())));
    };
    if let Some(v) = &f.industry {
        push("r.industry = ?".into(), Bind::Text(v.clone()), &mut binds);
    }
    if let (Some(v), true) = (&f.status, table_has_status) {
        push("r.status = ?".into(), Bind::Text(v.clone()), &mut binds);
    }
    if let Some(v) = f.organization_id {
        push("r.organization_id = ?".into(), Bind::Int(v), &mut binds);
    }
    if let Some(v) = &f.city {
        push(
            format!("{org_alias}.city = ?"),
            Bind::Text(v.clone()),
            &mut binds,
        );
    }
    if let Some(v) = &f.external_id {
        push(
            "r.external_id = ?".into(),
            Bind::Text(v.clone()),
            &mut binds,
        );
    }
    if let Some(v) = &f.kind {
        push(
            format!("{org_alias}.kind = ?"),
            Bind::Text(v.clone()),
            &mut binds,
        );
    }
    if parts.is_empty() {
        (String::new(), binds)
    } else {
        (format!(" WHERE {}", parts.join(" AND ")), binds)
    }
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

fn table(kind: ListingKind) -> &'static str {
    match kind {
        ListingKind::Result => "results",
        ListingKind::Need => "needs",
        ListingKind::Expert => "experts",
    }
}

fn columns(kind: ListingKind) -> &'static str {
    match kind {
        ListingKind::Result => RESULT_COLUMNS,
        ListingKind::Need => NEED_COLUMNS,
        ListingKind::Expert => EXPERT_COLUMNS,
    }
}

fn not_found(entity: &'static str, id: i64) -> StoreError {
    StoreError::NotFound {
        entity,
        id: id.to_string(),
    }
}

async fn log_change(tx: &mut Tx<'_>, kind: ListingKind, id: i64) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO change_log (entity, entity_id, at) VALUES ($1, $2, $3)")
        .bind(kind.code())
        .bind(id)
        .bind(crate::now().as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn org_ref_error(field: &'static str, what: &str) -> StoreError {
    let mut e = FieldErrors::default();
    e.push(
        field,
        "not_found",
        format!("单位“{what}”不存在"),
        format!("organization '{what}' does not exist"),
    );
    StoreError::Invalid(e)
}

/// Resolves the owning organisation; a name that does not exist yet is created with
/// `default_kind` (imports name organisations by name).
async fn resolve_org(
    tx: &mut Tx<'_>,
    r: &Option<OrgRef>,
    default_kind: &str,
) -> Result<Option<i64>, StoreError> {
    match r {
        None => Ok(None),
        Some(OrgRef::Id(id)) => {
            let row = sqlx::query("SELECT id FROM organizations WHERE id = $1")
                .bind(*id)
                .fetch_optional(&mut **tx)
                .await?;
            row.map(|r| r.try_get::<i64, _>("id"))
                .transpose()?
                .map(Some)
                .ok_or_else(|| org_ref_error("organization_id", &id.to_string()))
        }
        Some(OrgRef::ExternalId(x)) => {
            let row = sqlx::query("SELECT id FROM organizations WHERE external_id = $1")
                .bind(x.as_str())
                .fetch_optional(&mut **tx)
                .await?;
            row.map(|r| r.try_get::<i64, _>("id"))
                .transpose()?
                .map(Some)
                .ok_or_else(|| org_ref_error("organization_external_id", x))
        }
        Some(OrgRef::Name(name)) => {
            if let Some(row) = sqlx::query("SELECT id FROM organizations WHERE name = $1")
                .bind(name.as_str())
                .fetch_optional(&mut **tx)
                .await?
            {
                return Ok(Some(row.try_get("id")?));
            }
            let ts = now();
            let row = sqlx::query("INSERT INTO organizations (name, kind, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id")
                .bind(name.as_str())
                .bind(default_kind)
                .bind(ts.as_str())
                .fetch_one(&mut **tx)
                .await?;
            Ok(Some(row.try_get("id")?))
        }
    }
}

fn default_org_kind(kind: ListingKind) -> &'static str {
    match kind {
        ListingKind::Need => "enterprise",
        _ => "university",
    }
}

async fn find_by_external_id(
    tx: &mut Tx<'_>,
    table: &str,
    x: &Option<String>,
) -> Result<Option<i64>, StoreError> {
    let Some(x) = x else { return Ok(None) };
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT id FROM {table} WHERE external_id = $1"
    )))
    .bind(x.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

async fn write_result(
    tx: &mut Tx<'_>,
    id: Option<i64>,
    d: &ResultDraft,
) -> Result<i64, StoreError> {
    let org = resolve_org(tx, &d.organization, default_org_kind(ListingKind::Result)).await?;
    let ts = now();
    let sql = match id {
        None => {
            "INSERT INTO results (external_id, organization_id, title, summary, keywords, industry, maturity, trl, transfer_modes, \
                 price_min, price_max, patents, team, contact, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id"
        }
        Some(_) => {
            "UPDATE results SET external_id = $1, organization_id = $2, title = $3, summary = $4, keywords = $5, industry = $6, \
                 maturity = $7, trl = $8, transfer_modes = $9, price_min = $10, price_max = $11, patents = $12, team = $13, \
                 contact = $14, status = $15, updated_at = $16 WHERE id = $17 RETURNING id"
        }
    };
    let row = sqlx::query(sql)
        .bind(d.external_id.as_deref())
        .bind(org)
        .bind(d.title.as_str())
        .bind(d.summary.as_str())
        .bind(to_json(&d.keywords))
        .bind(d.industry.as_deref())
        .bind(d.maturity.as_deref())
        .bind(d.trl.map(i64::from))
        .bind(to_json(&d.transfer_modes))
        .bind(d.price_min)
        .bind(d.price_max)
        .bind(to_json(&d.patents))
        .bind(d.team.as_deref())
        .bind(to_json(&d.contact))
        .bind(d.status.as_str())
        .bind(ts.as_str())
        .bind(id.unwrap_or(0))
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| unique_to_conflict(e, "external_id"))?;
    let id: i64 = row
        .ok_or_else(|| not_found("result", id.unwrap_or(0)))?
        .try_get("id")?;
    log_change(tx, ListingKind::Result, id).await?;
    Ok(id)
}

async fn write_need(tx: &mut Tx<'_>, id: Option<i64>, d: &NeedDraft) -> Result<i64, StoreError> {
    let org = resolve_org(tx, &d.organization, default_org_kind(ListingKind::Need)).await?;
    let ts = now();
    let sql = match id {
        None => {
            "INSERT INTO needs (external_id, organization_id, title, description, keywords, industry, cooperation_modes, \
                 budget_min, budget_max, deadline, required_maturity, contact, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id"
        }
        Some(_) => {
            "UPDATE needs SET external_id = $1, organization_id = $2, title = $3, description = $4, keywords = $5, \
                 industry = $6, cooperation_modes = $7, budget_min = $8, budget_max = $9, deadline = $10, required_maturity = $11, \
                 contact = $12, status = $13, updated_at = $14 WHERE id = $15 RETURNING id"
        }
    };
    let row = sqlx::query(sql)
        .bind(d.external_id.as_deref())
        .bind(org)
        .bind(d.title.as_str())
        .bind(d.description.as_str())
        .bind(to_json(&d.keywords))
        .bind(d.industry.as_deref())
        .bind(to_json(&d.cooperation_modes))
        .bind(d.budget_min)
        .bind(d.budget_max)
        .bind(d.deadline.as_deref())
        .bind(d.required_maturity.as_deref())
        .bind(to_json(&d.contact))
        .bind(d.status.as_str())
        .bind(ts.as_str())
        .bind(id.unwrap_or(0))
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| unique_to_conflict(e, "external_id"))?;
    let id: i64 = row
        .ok_or_else(|| not_found("need", id.unwrap_or(0)))?
        .try_get("id")?;
    log_change(tx, ListingKind::Need, id).await?;
    Ok(id)
}

async fn write_expert(
    tx: &mut Tx<'_>,
    id: Option<i64>,
    d: &ExpertDraft,
) -> Result<i64, StoreError> {
    let org = resolve_org(tx, &d.organization, default_org_kind(ListingKind::Expert)).await?;
    let ts = now();
    let sql = match id {
        None => {
            "INSERT INTO experts (external_id, organization_id, name, title, research_areas, keywords, summary, industry, \
                 contact, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id"
        }
        Some(_) => {
            "UPDATE experts SET external_id = $1, organization_id = $2, name = $3, title = $4, research_areas = $5, \
                 keywords = $6, summary = $7, industry = $8, contact = $9, updated_at = $10 WHERE id = $11 RETURNING id"
        }
    };
    let row = sqlx::query(sql)
        .bind(d.external_id.as_deref())
        .bind(org)
        .bind(d.name.as_str())
        .bind(d.title.as_deref())
        .bind(to_json(&d.research_areas))
        .bind(to_json(&d.keywords))
        .bind(d.summary.as_str())
        .bind(d.industry.as_deref())
        .bind(to_json(&d.contact))
        .bind(ts.as_str())
        .bind(id.unwrap_or(0))
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| unique_to_conflict(e, "external_id"))?;
    let id: i64 = row
        .ok_or_else(|| not_found("expert", id.unwrap_or(0)))?
        .try_get("id")?;
    log_change(tx, ListingKind::Expert, id).await?;
    Ok(id)
}

async fn write_org(
    tx: &mut Tx<'_>,
    id: Option<i64>,
    d: &OrganizationDraft,
) -> Result<i64, StoreError> {
    let ts = now();
    let sql = match id {
        None => {
            "INSERT INTO organizations (external_id, name, kind, city, website, description, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id"
        }
        Some(_) => {
            "UPDATE organizations SET external_id = $1, name = $2, kind = $3, city = $4, website = $5, description = $6, \
                 updated_at = $7 WHERE id = $8 RETURNING id"
        }
    };
    let row = sqlx::query(sql)
        .bind(d.external_id.as_deref())
        .bind(d.name.as_str())
        .bind(d.kind.as_str())
        .bind(d.city.as_deref())
        .bind(d.website.as_deref())
        .bind(d.description.as_deref())
        .bind(ts.as_str())
        .bind(id.unwrap_or(0))
        .fetch_optional(&mut **tx)
        .await
        .map_err(|e| unique_to_conflict(e, "name"))?;
    let id: i64 = row
        .ok_or_else(|| not_found("organization", id.unwrap_or(0)))?
        .try_get("id")?;
    // listings show their organisation's name and city: re-index them
    for kind in ListingKind::ALL {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO change_log (entity, entity_id, at) SELECT '{}', id, $2 FROM {} WHERE organization_id = $1",
            kind.code(),
            table(kind)
        )))
        .bind(id)
        .bind(crate::now().as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

fn unique_to_conflict(e: sqlx::Error, what: &'static str) -> StoreError {
    if StoreError::is_unique_violation(&e) {
        let (zh, en) = match what {
            "name" => (
                "同名单位已存在",
                "an organization with this name already exists",
            ),
            _ => (
                "该 external_id 已被其他记录使用",
                "external_id is already used by another record",
            ),
        };
        StoreError::Conflict {
            code: if what == "name" {
                "duplicate_name"
            } else {
                "duplicate_external_id"
            },
            message: format!("{zh} / {en}"),
        }
    } else {
        StoreError::Database(e)
    }
}

async fn write_draft(tx: &mut Tx<'_>, id: Option<i64>, d: &Draft) -> Result<i64, StoreError> {
    match d {
        Draft::Organization(d) => write_org(tx, id, d).await,
        Draft::Result(d) => write_result(tx, id, d).await,
        Draft::Need(d) => write_need(tx, id, d).await,
        Draft::Expert(d) => write_expert(tx, id, d).await,
    }
}

impl Draft {
    fn table(&self) -> &'static str {
        match self {
            Draft::Organization(_) => "organizations",
            Draft::Result(_) => "results",
            Draft::Need(_) => "needs",
            Draft::Expert(_) => "experts",
        }
    }

    fn external_id(&self) -> &Option<String> {
        match self {
            Draft::Organization(d) => &d.external_id,
            Draft::Result(d) => &d.external_id,
            Draft::Need(d) => &d.external_id,
            Draft::Expert(d) => &d.external_id,
        }
    }
}

/// Finds the record an imported draft updates: by external id, and for organisations
/// without an external id, by name (names are unique).
async fn existing_for_import(tx: &mut Tx<'_>, d: &Draft) -> Result<Option<i64>, StoreError> {
    if let Some(id) = find_by_external_id(tx, d.table(), d.external_id()).await? {
        return Ok(Some(id));
    }
    if let (Draft::Organization(o), None) = (d, d.external_id()) {
        let row = sqlx::query("SELECT id FROM organizations WHERE name = $1")
            .bind(o.name.as_str())
            .fetch_optional(&mut **tx)
            .await?;
        return Ok(row.map(|r| r.try_get("id")).transpose()?);
    }
    Ok(None)
}

fn failed(e: &StoreError) -> ImportOutcome {
    match e {
        StoreError::Invalid(f) => ImportOutcome::Failed {
            code: f.0.first().map(|e| e.code).unwrap_or("invalid"),
            message: f.summary(),
        },
        StoreError::Conflict { code, message } => ImportOutcome::Failed {
            code,
            message: message.clone(),
        },
        other => ImportOutcome::Failed {
            code: "store_error",
            message: format!("保存失败 / could not be saved: {other}"),
        },
    }
}

impl Store {
    /// The write lock (held until the returned guard drops, which also counts the write
    /// in [`Store::listings_generation`]) and a transaction. Declare the guard before the
    /// transaction, as `let (_g, mut tx)` does, so it drops after the transaction ends.
    ///
    /// On PostgreSQL the transaction first takes [`crate::CHANGE_LOG_LOCK`], held until it
    /// ends: the write lock orders one process's writes, but several servers share the
    /// database, and a change numbered before another must not commit after it (a reader
    /// that has seen the later one would move past the earlier one for good).
    async fn begin_write(&self) -> Result<(crate::ListingsWrite<'_>, Tx<'_>), StoreError> {
        let guard = crate::ListingsWrite {
            store: self,
            _lock: self.write_lock.lock().await,
        };
        let mut tx = self.begin_tx().await?;
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(crate::CHANGE_LOG_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        Ok((guard, tx))
    }

    /// Creates a record and returns its id.
    pub async fn create(&self, d: &Draft) -> Result<i64, StoreError> {
        let (_g, mut tx) = self.begin_write().await?;
        let id = write_draft(&mut tx, None, d).await?;
        crate::audit_created(id);
        crate::commit(tx).await?;
        Ok(id)
    }

    /// Replaces a record's fields (PATCH merges on the caller's side and validates the
    /// whole record again).
    pub async fn update(&self, id: i64, d: &Draft) -> Result<(), StoreError> {
        let (_g, mut tx) = self.begin_write().await?;
        write_draft(&mut tx, Some(id), d).await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// Deletes a listing.
    pub async fn delete_listing(&self, kind: ListingKind, id: i64) -> Result<(), StoreError> {
        let (_g, mut tx) = self.begin_write().await?;
        let n = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM {} WHERE id = $1",
            table(kind)
        )))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(not_found(kind.code(), id));
        }
        log_change(&mut tx, kind, id).await?;
        crate::commit(tx).await?;
        Ok(())
    }

    /// Deletes an organisation that no listing and no account refers to.
    pub async fn delete_organization(&self, id: i64) -> Result<(), StoreError> {
        let _accounts = self.accounts_write();
        let (_g, mut tx) = self.begin_write().await?;
        // listings and accounts (a foreign key) keep their organisation: refuse, naming them
        let owners = ListingKind::ALL
            .iter()
            .map(|k| (table(*k), format!("条{}", k.label_zh()), k.plural()));
        for (tbl, zh, en) in owners.chain([("users", "个账户".to_string(), "user accounts")]) {
            let row = sqlx::query(AssertSqlSafe(format!(
                "SELECT COUNT(*) AS n FROM {tbl} WHERE organization_id = $1"
            )))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let n: i64 = row.try_get("n")?;
            if n > 0 {
                return Err(StoreError::Conflict {
                    code: "organization_in_use",
                    message: format!(
                        "该单位仍有 {n} {zh}，请先删除或转移 / the organization still has {n} {en}"
                    ),
                });
            }
        }
        let n = sqlx::query("DELETE FROM organizations WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(not_found("organization", id));
        }
        crate::commit(tx).await?;
        Ok(())
    }

    /// Imports a batch in one transaction: records with a known external id are updated,
    /// others inserted. When the batch fails as a whole (a constraint on one record), each
    /// record is retried in its own transaction so good records are kept.
    pub async fn import_batch(&self, items: &[Draft]) -> Result<Vec<ImportOutcome>, StoreError> {
        {
            let (_g, mut tx) = self.begin_write().await?;
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for d in items {
                let existing = existing_for_import(&mut tx, d).await?;
                match write_draft(&mut tx, existing, d).await {
                    Ok(id) => out.push(if existing.is_some() {
                        ImportOutcome::Updated(id)
                    } else {
                        ImportOutcome::Inserted(id)
                    }),
                    Err(StoreError::Invalid(f)) => out.push(failed(&StoreError::Invalid(f))),
                    Err(e) if e.is_unavailable() || e.is_storage_problem() => return Err(e),
                    Err(_) => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                crate::commit(tx).await?;
                return Ok(out);
            }
            tx.rollback().await?;
        }
        let mut out = Vec::with_capacity(items.len());
        for d in items {
            let (_g, mut tx) = self.begin_write().await?;
            let existing = existing_for_import(&mut tx, d).await?;
            match write_draft(&mut tx, existing, d).await {
                Ok(id) => {
                    crate::commit(tx).await?;
                    out.push(if existing.is_some() {
                        ImportOutcome::Updated(id)
                    } else {
                        ImportOutcome::Inserted(id)
                    });
                }
                Err(e) if e.is_unavailable() || e.is_storage_problem() => return Err(e),
                Err(e) => {
                    tx.rollback().await?;
                    out.push(failed(&e));
                }
            }
        }
        Ok(out)
    }

    /// One organisation.
    pub async fn organization(&self, id: i64) -> Result<Organization, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations o WHERE o.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("organization", id))?;
        rows::organization(&row)
    }

    /// Lists organisations, newest first.
    pub async fn organizations(
        &self,
        f: &ListFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Organization>, StoreError> {
        // organisations have no owner: the filter's columns live on `o` itself
        let f = ListFilter {
            organization_id: None,
            industry: None,
            status: None,
            ..f.clone()
        };
        let (w, binds) = where_clause(&f, false, "o");
        let w = w.replace("r.external_id", "o.external_id");
        let total: i64 = bind_all(
            sqlx::query(AssertSqlSafe(format!(
                "SELECT COUNT(*) AS n FROM organizations o{w}"
            ))),
            &binds,
        )
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let sql = format!(
            "SELECT {ORG_COLUMNS} FROM organizations o{w} ORDER BY o.id DESC LIMIT {limit} OFFSET {offset}"
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
            .fetch_all(&self.pool)
            .await?;
        let items = rows
            .iter()
            .map(rows::organization)
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            total,
            limit,
            offset,
        })
    }

    async fn listing_rows(
        &self,
        kind: ListingKind,
        f: &ListFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AnyRow>, i64), StoreError> {
        let (w, binds) = where_clause(f, kind != ListingKind::Expert, "o");
        let from = format!(
            "FROM {} r LEFT JOIN organizations o ON o.id = r.organization_id{w}",
            table(kind)
        );
        // the page and the number of matches in one statement: one round trip to the
        // database instead of two. The count is an uncorrelated subquery, evaluated once
        // (a window count would carry every matching row through the sort); a page past
        // the end has no row to carry it, and asks again.
        let sql = format!(
            "SELECT {}, (SELECT COUNT(*) {from}) AS total_matches {from} ORDER BY r.id DESC LIMIT {limit} OFFSET {offset}",
            columns(kind)
        );
        let rows = bind_all(sqlx::query(AssertSqlSafe(sql)), &binds)
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = match rows.first() {
            Some(row) => row.try_get("total_matches")?,
            None if offset == 0 && limit > 0 => 0,
            None => bind_all(
                sqlx::query(AssertSqlSafe(format!("SELECT COUNT(*) AS n {from}"))),
                &binds,
            )
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?,
        };
        Ok((rows, total))
    }

    async fn listing_row(&self, kind: ListingKind, id: i64) -> Result<AnyRow, StoreError> {
        let sql = format!(
            "SELECT {} FROM {} r LEFT JOIN organizations o ON o.id = r.organization_id WHERE r.id = $1",
            columns(kind),
            table(kind)
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found(kind.code(), id))
    }

    /// One result.
    pub async fn result(&self, id: i64) -> Result<ResearchResult, StoreError> {
        rows::result(&self.listing_row(ListingKind::Result, id).await?)
    }

    /// One need.
    pub async fn need(&self, id: i64) -> Result<Need, StoreError> {
        rows::need(&self.listing_row(ListingKind::Need, id).await?)
    }

    /// One expert.
    pub async fn expert(&self, id: i64) -> Result<Expert, StoreError> {
        rows::expert(&self.listing_row(ListingKind::Expert, id).await?)
    }

    /// Lists results, newest first.
    pub async fn results(
        &self,
        f: &ListFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<ResearchResult>, StoreError> {
        let (rows, total) = self
            .listing_rows(ListingKind::Result, f, limit, offset)
            .await?;
        Ok(Page {
            items: rows.iter().map(rows::result).collect::<Result<_, _>>()?,
            total,
            limit,
            offset,
        })
    }

    /// Lists needs, newest first.
    pub async fn needs(
        &self,
        f: &ListFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Need>, StoreError> {
        let (rows, total) = self
            .listing_rows(ListingKind::Need, f, limit, offset)
            .await?;
        Ok(Page {
            items: rows.iter().map(rows::need).collect::<Result<_, _>>()?,
            total,
            limit,
            offset,
        })
    }

    /// Lists experts, newest first.
    pub async fn experts(
        &self,
        f: &ListFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<Expert>, StoreError> {
        let (rows, total) = self
            .listing_rows(ListingKind::Expert, f, limit, offset)
            .await?;
        Ok(Page {
            items: rows.iter().map(rows::expert).collect::<Result<_, _>>()?,
            total,
            limit,
            offset,
        })
    }

    /// The indexable text of some listings of one kind; ids that no longer exist are
    /// simply absent from the answer (the index deletes them).
    pub async fn listing_texts(
        &self,
        kind: ListingKind,
        ids: &[i64],
    ) -> Result<Vec<ListingText>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!(
                "SELECT {} FROM {} r LEFT JOIN organizations o ON o.id = r.organization_id WHERE r.id IN ({list})",
                columns(kind),
                table(kind)
            );
            let rows = sqlx::query(AssertSqlSafe(sql))
                .fetch_all(&self.pool)
                .await?;
            for row in &rows {
                out.push(to_text(kind, row)?);
            }
        }
        Ok(out)
    }

    /// Listings of one kind in id order after `after_id`, for rebuilding the index.
    pub async fn scan_texts(
        &self,
        kind: ListingKind,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<ListingText>, StoreError> {
        let sql = format!(
            "SELECT {} FROM {} r LEFT JOIN organizations o ON o.id = r.organization_id WHERE r.id > $1 ORDER BY r.id LIMIT {limit}",
            columns(kind),
            table(kind)
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(after_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| to_text(kind, r)).collect()
    }

    /// Changes after `after_seq`, oldest first: `(seq, kind, id)`.
    pub async fn changes_since(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, ListingKind, i64)>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT seq, entity, entity_id FROM change_log WHERE seq > $1 ORDER BY seq LIMIT {limit}")))
            .bind(after_seq)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let entity: String = r.try_get("entity")?;
            let kind = ListingKind::parse(&entity)
                .ok_or_else(|| StoreError::Corrupt(format!("change_log entity {entity}")))?;
            out.push((r.try_get("seq")?, kind, r.try_get("entity_id")?));
        }
        Ok(out)
    }

    /// Records where a consumer of the change log (a server's index) has got to.
    pub async fn set_cursor(&self, name: &str, seq: i64) -> Result<(), StoreError> {
        let _g = self.write_lock.lock().await;
        sqlx::query(
            "INSERT INTO change_cursors (name, seq, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(seq)
        .bind(crate::now().as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The highest sequence number compaction removed (0 when none): a consumer whose
    /// position is below it has missed changes and must rebuild.
    pub async fn compacted_seq(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COALESCE(MAX(seq), 0) AS n FROM worker_watermarks WHERE name = 'compacted'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Removes changes every live consumer has passed and that are older than `cutoff`
    /// (RFC 3339). Live consumers are the cursors updated since `cutoff` and the alert
    /// worker; a cursor older than that belongs to a server gone for longer than the
    /// retention, which rebuilds when it returns. The newest change always stays (it keeps
    /// the log's position). Returns how many changes were removed.
    pub async fn compact_changes(&self, cutoff: &str) -> Result<u64, StoreError> {
        let _g = self.write_lock.lock().await;
        let mut tx = self.begin_tx().await?;
        let max: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM change_log")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        let cursors: Option<i64> =
            sqlx::query("SELECT MIN(seq) AS n FROM change_cursors WHERE updated_at >= $1")
                .bind(cutoff)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        let alerts: Option<i64> =
            sqlx::query("SELECT MIN(seq) AS n FROM worker_watermarks WHERE name = 'alerts'")
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        let bound = [Some(max - 1), cursors, alerts]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(0);
        // the highest change that goes: passed by everyone and old enough
        let top: Option<i64> = sqlx::query(
            "SELECT MAX(seq) AS n FROM change_log WHERE seq <= $1 AND (at IS NULL OR at < $2)",
        )
        .bind(bound)
        .bind(cutoff)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let Some(top) = top else {
            return Ok(0);
        };
        // changes are removed in sequence order only, so the horizon is one number
        let n = sqlx::query("DELETE FROM change_log WHERE seq <= $1")
            .bind(top)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("UPDATE worker_watermarks SET seq = $1 WHERE name = 'compacted' AND seq < $1")
            .bind(top)
            .execute(&mut *tx)
            .await?;
        crate::commit(tx).await?;
        Ok(n)
    }

    /// How many changes the log holds.
    pub async fn change_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM change_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The newest change sequence number (0 when nothing was ever written).
    pub async fn max_seq(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS n FROM change_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// How many listings of a kind are stored, by status when `status` is given.
    pub async fn count(&self, kind: ListingKind) -> Result<i64, StoreError> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n FROM {}",
            table(kind)
        )))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// How many organisations are stored.
    pub async fn count_organizations(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM organizations")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}

fn to_text(kind: ListingKind, row: &AnyRow) -> Result<ListingText, StoreError> {
    Ok(match kind {
        ListingKind::Result => ListingText::from(&rows::result(row)?),
        ListingKind::Need => ListingText::from(&rows::need(row)?),
        ListingKind::Expert => ListingText::from(&rows::expert(row)?),
    })
}
