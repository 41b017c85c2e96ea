//! The outcomes ledger as a service: who may see and change which entries, validation of
//! new cooperations and projects, recording outcomes, and the spreadsheet round trip
//! (export to XLSX/CSV, import of outcomes from the same columns without duplicates).
//!
//! Organisers and administrators keep the ledger and see all of it; an enterprise member
//! or researcher sees the entries their organisation takes part in. Pairing entries come
//! from events (see `duijie_store::ledger`).

use crate::app::App;
use crate::auth::Caller;
use crate::authz::{self, Action};
use crate::codes::Code;
use crate::error::AppError;
use duijie_domain::ledger::{self as rules, ENTRY_KINDS, Outcome, PROJECT_KINDS};
use duijie_domain::{FieldErrors, Role, geo, label, vocab::TRANSFER_MODES};
pub use duijie_store::LedgerFilter;
use duijie_store::{LedgerActor, LedgerChange, LedgerDraft, LedgerEntry, Page};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// An entry as the API shows it: the stored entry plus Chinese labels.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EntryView {
    /// The entry.
    #[serde(flatten)]
    pub entry: LedgerEntry,
    /// Status label.
    pub status_label: String,
    /// Kind label.
    pub kind_label: String,
    /// Project kind label.
    pub project_kind_label: Option<String>,
    /// Industry label.
    pub industry_label: Option<String>,
    /// Contract mode label.
    pub contract_mode_label: Option<String>,
    /// Statuses this entry may move to next.
    pub next_statuses: Vec<&'static str>,
}

/// One change as shown.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeView {
    /// The change.
    #[serde(flatten)]
    pub change: LedgerChange,
    /// Label of the status before.
    pub from_label: Option<String>,
    /// Label of the status after.
    pub to_label: String,
}

fn kind_label(code: &str) -> &str {
    ENTRY_KINDS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or(code)
}

fn mode_label(code: &str) -> &str {
    TRANSFER_MODES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| *l)
        .unwrap_or(code)
}

/// Adds labels and the possible next statuses.
pub fn view(ctx: &App, entry: LedgerEntry) -> EntryView {
    let next_statuses = rules::LEDGER_STATUSES
        .iter()
        .map(|(c, _, _)| *c)
        .filter(|to| rules::check_transition(&entry.status, to).is_ok())
        .collect();
    EntryView {
        status_label: rules::status_label(&entry.status).to_string(),
        kind_label: kind_label(&entry.kind).to_string(),
        project_kind_label: entry
            .project_kind
            .as_deref()
            .map(|k| rules::project_kind_label(k).to_string()),
        industry_label: entry
            .industry
            .as_deref()
            .map(|i| ctx.vocab.industry_label(i).unwrap_or(i).to_string()),
        contract_mode_label: entry
            .contract_mode
            .as_deref()
            .map(|m| mode_label(m).to_string()),
        next_statuses,
        entry,
    }
}

/// Labels a history.
pub fn history_view(changes: Vec<LedgerChange>) -> Vec<ChangeView> {
    changes
        .into_iter()
        .map(|c| ChangeView {
            from_label: c
                .from_status
                .as_deref()
                .map(|s| rules::status_label(s).to_string()),
            to_label: rules::status_label(&c.to_status).to_string(),
            change: c,
        })
        .collect()
}

/// True for callers who see the whole ledger.
pub fn sees_all(caller: &Caller) -> bool {
    caller.role().is_some_and(Role::keeps_programme)
        || matches!(caller.via, crate::auth::Via::Local(_))
}

/// What part of the ledger a caller sees.
enum Scope {
    /// Everything (organisers, administrators, the command line).
    All,
    /// The entries an organisation takes part in.
    Org(i64),
    /// The entries credited to a broker.
    Broker(i64),
}

/// The part of the ledger a caller is limited to; 401 when not signed in.
fn scope(caller: &Caller) -> Result<Scope, AppError> {
    if sees_all(caller) {
        return Ok(Scope::All);
    }
    let user = caller.require()?;
    if user.role == Role::Broker {
        return Ok(Scope::Broker(user.id));
    }
    match user.organization_id {
        Some(o) => Ok(Scope::Org(o)),
        None => Err(AppError::forbidden(
            "账号未关联单位，无法查看台账",
            "your account belongs to no organization, so it has no ledger entries",
        )),
    }
}

fn takes_part(e: &LedgerEntry, org: i64) -> bool {
    [e.enterprise_id, e.university_id, e.partner_university_id].contains(&Some(org))
}

/// One page of the ledger as the caller may see it.
pub async fn list(
    ctx: &App,
    caller: &Caller,
    mut filter: LedgerFilter,
    limit: i64,
    offset: i64,
) -> Result<Page<EntryView>, AppError> {
    match scope(caller)? {
        Scope::All => {}
        Scope::Broker(b) => filter.broker_id = Some(b),
        Scope::Org(own) => match filter.organization_id {
            Some(o) if o != own => {
                return Err(AppError::forbidden(
                    "只能查看本单位参与的台账记录",
                    "you can only see the ledger entries of your own organization",
                ));
            }
            _ => filter.organization_id = Some(own),
        },
    }
    let page = ctx.store.ledger(&filter, limit, offset).await?;
    Ok(Page {
        items: page.items.into_iter().map(|e| view(ctx, e)).collect(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
}

/// Every entry matching the filter that the caller may see (exports).
pub async fn all(
    ctx: &App,
    caller: &Caller,
    mut filter: LedgerFilter,
) -> Result<Vec<LedgerEntry>, AppError> {
    match scope(caller)? {
        Scope::All => {}
        Scope::Broker(b) => filter.broker_id = Some(b),
        Scope::Org(own) => filter.organization_id = Some(own),
    }
    Ok(ctx.store.ledger_all(&filter).await?)
}

/// One entry with its history; 404 for entries the caller may not see, so ids do not leak.
pub async fn entry(
    ctx: &App,
    caller: &Caller,
    id: i64,
) -> Result<(EntryView, Vec<ChangeView>), AppError> {
    let own = scope(caller)?;
    let e = ctx.store.ledger_entry(id).await?;
    let visible = match own {
        Scope::All => true,
        Scope::Org(o) => takes_part(&e, o),
        Scope::Broker(b) => e.broker_id == Some(b),
    };
    if !visible {
        return Err(AppError::not_found(
            "台账记录",
            "ledger entry",
            id.to_string(),
        ));
    }
    let history = history_view(ctx.store.ledger_history(id).await?);
    Ok((view(ctx, e), history))
}

pub(crate) fn actor(caller: &Caller) -> LedgerActor {
    LedgerActor {
        user_id: caller.user.as_ref().map(|u| u.id),
        name: caller.actor(),
    }
}

/// Records an outcome (`POST /ledger/{id}/outcomes`).
pub async fn record(
    ctx: &App,
    caller: &Caller,
    id: i64,
    body: &Map<String, Value>,
) -> Result<EntryView, AppError> {
    authz::authorize(ctx, caller, Action::ManageLedger).await?;
    let mut body = body.clone();
    let expected = match body.remove("expected_status") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            rules::parse_status(&s)
                .ok_or_else(|| {
                    AppError::bad_request(
                        Code::INVALID_PARAMETER,
                        format!("expected_status 的值“{s}”不是已知状态"),
                        format!("expected_status '{s}' is not a known status"),
                    )
                })?
                .to_string(),
        ),
        Some(_) => {
            return Err(AppError::bad_request(
                Code::INVALID_PARAMETER,
                "expected_status 应为文本",
                "expected_status must be a string",
            ));
        }
    };
    let outcome = rules::parse_outcome(&body).map_err(AppError::Validation)?;
    if let Some(b) = outcome.broker_id {
        crate::connections::check_broker(ctx, b).await?;
    }
    let before = ctx.store.ledger_entry(id).await?;
    let asked = Value::Object(body.clone());
    let after = crate::audit::within(
        ctx,
        caller,
        "outcome",
        "ledger",
        Some(id),
        Some(&json!(before)),
        Some(&asked),
        ctx.store
            .record_outcome(id, &outcome, &actor(caller), expected.as_deref()),
    )
    .await?;
    Ok(view(ctx, after))
}

/// `POST /ledger/{id}/broker {broker_id}`: an organiser credits a broker (技术经纪人) with
/// an entry (`null` clears it); the broker then sees and follows it.
pub async fn set_broker(
    ctx: &App,
    caller: &Caller,
    id: i64,
    body: &Map<String, Value>,
) -> Result<EntryView, AppError> {
    authz::authorize(ctx, caller, Action::ManageLedger).await?;
    let mut errors = FieldErrors::default();
    if let Some(k) = body.keys().find(|k| k.as_str() != "broker_id") {
        errors.push(
            k.as_str(),
            "unknown_field",
            format!("未知字段“{k}”"),
            format!("unknown field '{k}'"),
        );
    }
    if !body.contains_key("broker_id") {
        errors.push(
            "broker_id",
            "required",
            "请选择技术经纪人（null 表示取消）",
            "broker_id is required (null clears it)",
        );
    }
    let broker = opt_id(body, "broker_id", &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if let Some(b) = broker {
        crate::connections::check_broker(ctx, b).await?;
    }
    let before = ctx.store.ledger_entry(id).await?;
    let after = crate::audit::within(
        ctx,
        caller,
        "broker",
        "ledger",
        Some(id),
        Some(&json!({"broker_id": before.broker_id})),
        Some(&json!({"broker_id": broker})),
        ctx.store.set_ledger_broker(id, broker),
    )
    .await?;
    Ok(view(ctx, after))
}

fn opt_id(body: &Map<String, Value>, key: &str, errors: &mut FieldErrors) -> Option<i64> {
    match body.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.as_i64().is_some_and(|i| i > 0) => n.as_i64(),
        Some(Value::String(s)) if s.trim().parse::<i64>().is_ok_and(|i| i > 0) => {
            s.trim().parse().ok()
        }
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(_) => {
            errors.push(
                key,
                "invalid_type",
                "应为正整数编号",
                "must be a positive id",
            );
            None
        }
    }
}

const CREATE_FIELDS: [&str; 11] = [
    "kind",
    "enterprise_id",
    "university_id",
    "partner_university_id",
    "need_id",
    "result_id",
    "expert_id",
    "project_kind",
    "title",
    "industry",
    "year",
];

/// Validates and files a cooperation or inter-university project (`POST /ledger`).
pub async fn create(
    ctx: &App,
    caller: &Caller,
    body: &Map<String, Value>,
) -> Result<EntryView, AppError> {
    authz::authorize(ctx, caller, Action::ManageLedger).await?;
    let draft = validate_draft(ctx, body).await?;
    let asked = Value::Object(body.clone());
    let id = crate::audit::within(
        ctx,
        caller,
        "create",
        "ledger",
        None,
        None,
        Some(&asked),
        ctx.store.create_ledger_entry(&draft, &actor(caller)),
    )
    .await?;
    let e = ctx.store.ledger_entry(id).await?;
    Ok(view(ctx, e))
}

async fn org_of_kind(
    ctx: &App,
    id: Option<i64>,
    field: &str,
    kinds: &[&str],
    errors: &mut FieldErrors,
) -> Result<Option<duijie_domain::Organization>, AppError> {
    let Some(id) = id else { return Ok(None) };
    match ctx.store.organization(id).await {
        Ok(o) if kinds.contains(&o.kind.as_str()) => Ok(Some(o)),
        Ok(o) => {
            let want: Vec<&str> = kinds
                .iter()
                .map(|k| label(duijie_domain::vocab::ORG_KINDS, k).unwrap_or(k))
                .collect();
            errors.push(
                field,
                "invalid_reference",
                format!("“{}”不是{}", o.name, want.join("或")),
                format!("{} is not a {}", o.name, kinds.join(" or ")),
            );
            Ok(None)
        }
        Err(duijie_store::StoreError::NotFound { .. }) => {
            errors.push(
                field,
                "invalid_reference",
                format!("单位 {id} 不存在"),
                format!("organization {id} does not exist"),
            );
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The fields every kind of entry reads, each already checked on its own.
struct Fields {
    kind: &'static str,
    title: Option<String>,
    year: i64,
    industry: Option<String>,
    enterprise_id: Option<i64>,
    university_id: Option<i64>,
    partner_university_id: Option<i64>,
    need_id: Option<i64>,
    result_id: Option<i64>,
    expert_id: Option<i64>,
    project_kind: Option<String>,
}

/// Reads and checks the fields one by one (unknown fields, kind, title, year, industry,
/// ids, project kind); how they fit together is the kind's own check.
fn read_fields(ctx: &App, body: &Map<String, Value>, errors: &mut FieldErrors) -> Fields {
    for k in body.keys() {
        if !CREATE_FIELDS.contains(&k.as_str()) {
            errors.push(
                k.as_str(),
                "unknown_field",
                format!("不认识的字段 {k}，可用：{}", CREATE_FIELDS.join("、")),
                format!("unknown field {k}; allowed: {}", CREATE_FIELDS.join(", ")),
            );
        }
    }
    let kind = match duijie_domain::ledger::text_field(body, "kind", 30, errors) {
        Some(k)
            if k == "cooperation"
                || k == "inter_university"
                || k == "校企合作"
                || k == "校校合作" =>
        {
            if k == "校企合作" || k == "cooperation" {
                "cooperation"
            } else {
                "inter_university"
            }
        }
        Some(k) => {
            errors.push(
                "kind",
                "invalid_choice",
                format!("类型“{k}”无效：可登记 cooperation（校企合作）或 inter_university（校校合作）；对接会配对由对接会生成"),
                format!("kind '{k}' is not one of cooperation, inter_university (pairing entries come from events)"),
            );
            ""
        }
        None => {
            errors.push("kind", "required", "请选择类型", "kind is required");
            ""
        }
    };
    let title = duijie_domain::ledger::text_field(body, "title", 200, errors);
    if title.is_none() && !errors.0.iter().any(|e| e.field == "title") {
        errors.push("title", "required", "请填写标题", "title is required");
    }
    let year = match body.get("year") {
        None | Some(Value::Null) => chrono::Utc::now()
            .format("%Y")
            .to_string()
            .parse()
            .unwrap_or(2026),
        Some(v) => match v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        {
            Some(y) if (2000..=2100).contains(&y) => y,
            _ => {
                errors.push(
                    "year",
                    "out_of_range",
                    "年度应为 2000 到 2100 之间的整数",
                    "year must be an integer from 2000 to 2100",
                );
                0
            }
        },
    };
    let industry = match duijie_domain::ledger::text_field(body, "industry", 60, errors) {
        Some(i) => match ctx.vocab.resolve_industry(&i) {
            Some(code) => Some(code),
            None => {
                errors.push(
                    "industry",
                    "invalid_choice",
                    format!("未知行业“{i}”"),
                    format!("unknown industry {i}"),
                );
                None
            }
        },
        None => None,
    };
    let enterprise_id = opt_id(body, "enterprise_id", errors);
    let university_id = opt_id(body, "university_id", errors);
    let partner_university_id = opt_id(body, "partner_university_id", errors);
    let need_id = opt_id(body, "need_id", errors);
    let result_id = opt_id(body, "result_id", errors);
    let expert_id = opt_id(body, "expert_id", errors);
    let project_kind = match duijie_domain::ledger::text_field(body, "project_kind", 30, errors) {
        Some(k) => {
            match rules::parse_project_kind(&k) {
                Some(c) => Some(c.to_string()),
                None => {
                    let all: Vec<&str> = PROJECT_KINDS.iter().map(|(c, _)| *c).collect();
                    errors.push(
                    "project_kind",
                    "invalid_choice",
                    format!("未知项目类别“{k}”，可选：联合培养、教师互聘、协同创新、资源共享、合作交流"),
                    format!("unknown project kind {k}; one of {}", all.join(", ")),
                );
                    None
                }
            }
        }
        None => None,
    };
    Fields {
        kind,
        title,
        year,
        industry,
        enterprise_id,
        university_id,
        partner_university_id,
        need_id,
        result_id,
        expert_id,
        project_kind,
    }
}

/// The draft of a new entry, or 422 with every problem.
pub async fn validate_draft(ctx: &App, body: &Map<String, Value>) -> Result<LedgerDraft, AppError> {
    let mut errors = FieldErrors::default();
    let f = read_fields(ctx, body, &mut errors);
    let mut d = LedgerDraft {
        kind: f.kind.to_string(),
        title: f.title.clone().unwrap_or_default(),
        year: f.year,
        industry: f.industry.clone(),
        ..LedgerDraft::default()
    };
    match f.kind {
        "inter_university" => check_inter_university(ctx, &f, &mut d, &mut errors).await?,
        "cooperation" => check_cooperation(ctx, &f, &mut d, &mut errors).await?,
        _ => {}
    }
    errors.into_result(d).map_err(AppError::Validation)
}

/// Universities and research institutes: the organisation kinds on the university side.
const UNIVERSITY_KINDS: [&str; 2] = ["university", "institute"];

/// An inter-university project: two different universities and one of the five kinds, no
/// enterprise or listing.
async fn check_inter_university(
    ctx: &App,
    f: &Fields,
    d: &mut LedgerDraft,
    errors: &mut FieldErrors,
) -> Result<(), AppError> {
    let Fields {
        enterprise_id,
        university_id,
        partner_university_id,
        need_id,
        result_id,
        expert_id,
        ref project_kind,
        ..
    } = *f;
    let project_kind = project_kind.clone();
    let universities = UNIVERSITY_KINDS;
    for (f, v) in [
        ("enterprise_id", enterprise_id),
        ("need_id", need_id),
        ("result_id", result_id),
        ("expert_id", expert_id),
    ] {
        if v.is_some() {
            errors.push(
                f,
                "not_allowed",
                "校校合作不涉及企业、需求、成果或专家",
                "an inter-university project has no enterprise, need, result or expert",
            );
        }
    }
    if university_id.is_none() && !errors.0.iter().any(|e| e.field == "university_id") {
        errors.push(
            "university_id",
            "required",
            "请选择登记的高校",
            "university_id is required",
        );
    }
    if partner_university_id.is_none()
        && !errors.0.iter().any(|e| e.field == "partner_university_id")
    {
        errors.push(
            "partner_university_id",
            "required",
            "请选择合作高校",
            "partner_university_id is required",
        );
    }
    if university_id.is_some() && university_id == partner_university_id {
        errors.push(
            "partner_university_id",
            "same_university",
            "合作高校不能是登记高校自己",
            "the partner must be another university",
        );
    }
    if project_kind.is_none() && !errors.0.iter().any(|e| e.field == "project_kind") {
        errors.push(
            "project_kind",
            "required",
            "请选择项目类别（五类之一）",
            "project_kind is required (one of the five kinds)",
        );
    }
    let u = org_of_kind(ctx, university_id, "university_id", &universities, errors).await?;
    org_of_kind(
        ctx,
        partner_university_id,
        "partner_university_id",
        &universities,
        errors,
    )
    .await?;
    d.university_id = university_id;
    d.partner_university_id = partner_university_id;
    d.project_kind = project_kind;
    d.city = u.and_then(|u| u.city).map(|c| geo::normalize_city(&c));
    Ok(())
}

/// The enterprise of a named need (checked against the one given), taking the need's
/// industry when the entry has none.
async fn need_enterprise(
    ctx: &App,
    n: i64,
    mut enterprise_id: Option<i64>,
    d: &mut LedgerDraft,
    errors: &mut FieldErrors,
) -> Result<Option<i64>, AppError> {
    match ctx.store.need(n).await {
        Ok(need) => {
            let owner = need.organization.map(|o| o.id);
            if enterprise_id.is_some() && owner.is_some() && enterprise_id != owner {
                errors.push(
                    "need_id",
                    "invalid_reference",
                    "该需求不属于所填企业",
                    "the need belongs to another enterprise",
                );
            }
            enterprise_id = enterprise_id.or(owner);
            if d.industry.is_none() {
                d.industry = need.industry.clone();
            }
        }
        Err(duijie_store::StoreError::NotFound { .. }) => errors.push(
            "need_id",
            "invalid_reference",
            format!("需求 {n} 不存在"),
            format!("need {n} does not exist"),
        ),
        Err(e) => return Err(e.into()),
    }
    Ok(enterprise_id)
}

/// A cooperation: an enterprise and a university side, filled in from the need, result or
/// expert named when not given.
async fn check_cooperation(
    ctx: &App,
    f: &Fields,
    d: &mut LedgerDraft,
    errors: &mut FieldErrors,
) -> Result<(), AppError> {
    let Fields {
        enterprise_id,
        university_id,
        partner_university_id,
        need_id,
        result_id,
        expert_id,
        ref project_kind,
        ..
    } = *f;
    let universities = UNIVERSITY_KINDS;
    if project_kind.is_some() {
        errors.push(
            "project_kind",
            "not_allowed",
            "项目类别只用于校校合作",
            "project_kind is for inter-university projects only",
        );
    }
    if partner_university_id.is_some() {
        errors.push(
            "partner_university_id",
            "not_allowed",
            "合作高校只用于校校合作",
            "partner_university_id is for inter-university projects only",
        );
    }
    if result_id.is_some() && expert_id.is_some() {
        errors.push(
            "expert_id",
            "not_allowed",
            "成果与专家只能填一个",
            "give a result or an expert, not both",
        );
    }
    // listings named fill in the organisations they belong to
    let mut enterprise_id = enterprise_id;
    let mut university_id = university_id;
    if let Some(n) = need_id {
        enterprise_id = need_enterprise(ctx, n, enterprise_id, d, errors).await?;
    }
    let partner = match (result_id, expert_id) {
        (Some(r), _) => Some((
            "result",
            r,
            ctx.store
                .result(r)
                .await
                .map(|x| x.organization.map(|o| o.id)),
        )),
        (None, Some(x)) => Some((
            "expert",
            x,
            ctx.store
                .expert(x)
                .await
                .map(|x| x.organization.map(|o| o.id)),
        )),
        _ => None,
    };
    if let Some((pk, pid, owner)) = partner {
        match owner {
            Ok(owner) => {
                if university_id.is_some() && owner.is_some() && university_id != owner {
                    errors.push(
                        format!("{pk}_id"),
                        "invalid_reference",
                        "该成果/专家不属于所填高校",
                        "the result or expert belongs to another organization",
                    );
                }
                university_id = university_id.or(owner);
                d.partner_kind = Some(pk.to_string());
                d.partner_id = Some(pid);
            }
            Err(duijie_store::StoreError::NotFound { .. }) => errors.push(
                format!("{pk}_id"),
                "invalid_reference",
                format!("{pid} 不存在"),
                format!("{pk} {pid} does not exist"),
            ),
            Err(e) => return Err(e.into()),
        }
    }
    if enterprise_id.is_none()
        && !errors
            .0
            .iter()
            .any(|e| e.field == "enterprise_id" || e.field == "need_id")
    {
        errors.push(
            "enterprise_id",
            "required",
            "请选择企业（或填写需求编号）",
            "enterprise_id (or need_id) is required",
        );
    }
    if university_id.is_none() && !errors.0.iter().any(|e| e.field.ends_with("_id")) {
        errors.push(
            "university_id",
            "required",
            "请选择高校或科研院所（或填写成果、专家编号）",
            "university_id (or result_id / expert_id) is required",
        );
    }
    let e = org_of_kind(
        ctx,
        enterprise_id,
        "enterprise_id",
        &["enterprise", "other"],
        errors,
    )
    .await?;
    org_of_kind(ctx, university_id, "university_id", &universities, errors).await?;
    d.enterprise_id = enterprise_id;
    d.university_id = university_id;
    d.need_id = need_id;
    d.city = e.and_then(|e| e.city).map(|c| geo::normalize_city(&c));
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Spreadsheets
// ---------------------------------------------------------------------------------------

/// Column headers of exports and imports, in order.
pub const HEADERS: [&str; 19] = [
    "编号",
    "类型",
    "对接会",
    "企业",
    "高校",
    "合作高校",
    "项目类别",
    "标题",
    "行业",
    "城市",
    "年度",
    "状态",
    "金额（元）",
    "签约日期",
    "合作方式",
    "原因",
    "洽谈日期",
    "转化日期",
    "更新时间",
];

fn row_of(ctx: &App, e: &LedgerEntry) -> [String; 19] {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    [
        e.id.to_string(),
        kind_label(&e.kind).to_string(),
        s(&e.event_name),
        s(&e.enterprise_name),
        s(&e.university_name),
        s(&e.partner_university_name),
        e.project_kind
            .as_deref()
            .map(rules::project_kind_label)
            .unwrap_or("")
            .to_string(),
        e.title.clone(),
        e.industry
            .as_deref()
            .map(|i| ctx.vocab.industry_label(i).unwrap_or(i).to_string())
            .unwrap_or_default(),
        s(&e.city),
        e.year.to_string(),
        rules::status_label(&e.status).to_string(),
        e.amount_yuan.map(|a| a.to_string()).unwrap_or_default(),
        s(&e.contract_date),
        e.contract_mode
            .as_deref()
            .map(mode_label)
            .unwrap_or("")
            .to_string(),
        s(&e.reason),
        s(&e.met_on),
        s(&e.transferred_on),
        e.updated_at
            .chars()
            .take(19)
            .collect::<String>()
            .replace('T', " "),
    ]
}

/// The ledger as a workbook (one sheet 台账, the import's columns).
pub fn xlsx(ctx: &App, entries: &[LedgerEntry]) -> Result<Vec<u8>, AppError> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx export: {e}"));
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("台账").map_err(err)?;
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(err)?;
    }
    for (i, e) in entries.iter().enumerate() {
        let r = (i + 1) as u32;
        for (c, v) in row_of(ctx, e).iter().enumerate() {
            match c {
                0 | 10 => ws
                    .write_number(r, c as u16, v.parse::<f64>().unwrap_or(0.0))
                    .map_err(err)?,
                12 if !v.is_empty() => ws
                    .write_number(r, c as u16, v.parse::<f64>().unwrap_or(0.0))
                    .map_err(err)?,
                _ => ws.write_string(r, c as u16, v).map_err(err)?,
            };
        }
    }
    for (c, w) in [
        6.0, 10.0, 18.0, 18.0, 18.0, 18.0, 10.0, 40.0, 12.0, 8.0, 6.0, 10.0, 12.0, 11.0, 10.0,
        20.0, 11.0, 11.0, 18.0,
    ]
    .iter()
    .enumerate()
    {
        ws.set_column_width(c as u16, *w).map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    wb.save_to_buffer().map_err(err)
}

/// The ledger as CSV (UTF-8 with BOM, the import's columns).
pub fn csv(ctx: &App, entries: &[LedgerEntry]) -> Result<Vec<u8>, AppError> {
    let mut w = csv::WriterBuilder::new().from_writer(b"\xEF\xBB\xBF".to_vec());
    let err = |e: csv::Error| AppError::Internal(format!("csv export: {e}"));
    w.write_record(HEADERS).map_err(err)?;
    for e in entries {
        w.write_record(
            row_of(ctx, e)
                .iter()
                .map(|c| crate::export::csv_safe(c).into_owned()),
        )
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(format!("csv export: {e}")))
}

/// One problem with one row of an import.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = LedgerRowError))]
pub struct RowError {
    /// 1-based line (the header is line 1).
    pub line: u64,
    /// `中文 / English`.
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = LedgerImportReport))]
pub struct ImportReport {
    /// New entries filed.
    pub created: u64,
    /// Entries whose status moved.
    pub updated: u64,
    /// Rows that matched an entry already in that state.
    pub unchanged: u64,
    /// Rows refused, with why.
    pub errors: Vec<RowError>,
}

fn cell<'a>(row: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    row.get(key).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// Imports outcomes from a spreadsheet with the export's columns. A row with 编号 updates
/// that entry's status when it differs (moving forward only); a row without 编号 files a
/// cooperation or inter-university project unless the same one (kind, organisations,
/// title, year) is already there. Re-importing an export therefore changes nothing.
/// `rows` come from [`crate::events::read_table`] (run it off the async runtime).
pub async fn import(
    ctx: &App,
    caller: &Caller,
    rows: crate::events::TableRows,
) -> Result<ImportReport, AppError> {
    authz::authorize(ctx, caller, Action::ManageLedger).await?;
    if let Some((_, first)) = rows.first()
        && !first.contains_key("状态")
        && !first.contains_key("标题")
    {
        return Err(AppError::bad_request(
            Code::INVALID_COLUMNS,
            format!("表头应包含：{}（与导出的台账相同）", HEADERS.join("、")),
            "the header must have the export's columns (编号, 状态, 标题 ...)",
        ));
    }
    let mut report = ImportReport::default();
    for (line, row) in rows {
        match import_row(ctx, caller, &row).await {
            Ok(RowOutcome::Created) => report.created += 1,
            Ok(RowOutcome::Updated) => report.updated += 1,
            Ok(RowOutcome::Unchanged) => report.unchanged += 1,
            Err(e) => report.errors.push(RowError {
                line,
                message: match e {
                    AppError::Validation(f) => {
                        f.0.iter()
                            .map(|e| format!("{}: {}", e.field, e.message))
                            .collect::<Vec<_>>()
                            .join("；")
                    }
                    e @ (AppError::Unavailable(_) | AppError::Internal(_)) => return Err(e),
                    other => other.body()["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                },
            }),
        }
    }
    crate::audit::record(
        ctx,
        caller,
        "import",
        "ledger",
        None,
        None,
        Some(&json!({"created": report.created, "updated": report.updated, "unchanged": report.unchanged, "errors": report.errors.len()})),
    )
    .await;
    Ok(report)
}

enum RowOutcome {
    Created,
    Updated,
    Unchanged,
}

fn outcome_body(row: &BTreeMap<String, String>, status: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), json!(status));
    let put = |m: &mut Map<String, Value>, k: &str, col: &str| {
        if let Some(v) = cell(row, col) {
            m.insert(k.into(), json!(v));
        }
    };
    match status {
        "contract" => {
            put(&mut m, "amount_yuan", "金额（元）");
            put(&mut m, "contract_date", "签约日期");
            put(&mut m, "contract_mode", "合作方式");
            put(&mut m, "date", "签约日期");
        }
        "transferred" => {
            put(&mut m, "amount_yuan", "金额（元）");
            put(&mut m, "contract_mode", "合作方式");
            put(&mut m, "date", "转化日期");
        }
        "met" | "intention" => put(&mut m, "date", "洽谈日期"),
        "dropped" | "declined" => put(&mut m, "reason", "原因"),
        _ => {}
    }
    m
}

async fn import_row(
    ctx: &App,
    caller: &Caller,
    row: &BTreeMap<String, String>,
) -> Result<RowOutcome, AppError> {
    let status = match cell(row, "状态") {
        Some(s) => rules::parse_status(s).ok_or_else(|| {
            AppError::bad_request(
                Code::INVALID_STATUS,
                format!("未知状态“{s}”"),
                format!("unknown status {s}"),
            )
        })?,
        None => "proposed",
    };
    let id = match cell(row, "编号") {
        Some(s) => Some(s.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            AppError::bad_request(
                Code::INVALID_ID,
                format!("编号“{s}”无效"),
                format!("invalid id {s}"),
            )
        })?),
        None => None,
    };
    let (id, created) = match id {
        Some(id) => (id, false),
        None => {
            let org = |col: &str| cell(row, col).map(str::to_string);
            let mut body = Map::new();
            let kind = match cell(row, "类型") {
                Some("校校合作") | Some("inter_university") => "inter_university",
                Some("对接会配对") | Some("pairing") => {
                    return Err(AppError::bad_request(
                        Code::PAIRING_NEEDS_ID,
                        "对接会配对行须保留编号（由对接会生成，不能在表格中新建）",
                        "pairing rows must keep their id (pairing entries come from events)",
                    ));
                }
                _ => "cooperation",
            };
            body.insert("kind".into(), json!(kind));
            for (col, key) in [
                ("企业", "enterprise_id"),
                ("高校", "university_id"),
                ("合作高校", "partner_university_id"),
            ] {
                if let Some(name) = org(col) {
                    let found = ctx.store.find_organization(None, Some(&name)).await?;
                    match found {
                        Some(o) => {
                            body.insert(key.into(), json!(o));
                        }
                        None => {
                            return Err(AppError::bad_request(
                                Code::UNKNOWN_ORGANIZATION,
                                format!("{col}“{name}”不存在，请先登记该单位"),
                                format!("no organization named {name}"),
                            ));
                        }
                    }
                }
            }
            for (col, key) in [
                ("项目类别", "project_kind"),
                ("标题", "title"),
                ("行业", "industry"),
                ("年度", "year"),
            ] {
                if let Some(v) = cell(row, col) {
                    body.insert(key.into(), json!(v));
                }
            }
            let draft = validate_draft(ctx, &body).await?;
            // the same project filed before (an earlier import of this sheet) is not filed twice
            let same = ctx
                .store
                .ledger_all(&LedgerFilter {
                    kind: Some(draft.kind.clone()),
                    organization_id: draft.university_id.or(draft.enterprise_id),
                    ..LedgerFilter::default()
                })
                .await?
                .into_iter()
                .find(|e| {
                    e.title == draft.title
                        && e.year == draft.year
                        && e.enterprise_id == draft.enterprise_id
                        && e.university_id == draft.university_id
                        && e.partner_university_id == draft.partner_university_id
                        && e.project_kind == draft.project_kind
                });
            match same {
                Some(e) => (e.id, false),
                None => {
                    let id = ctx
                        .store
                        .create_ledger_entry(&draft, &actor(caller))
                        .await?;
                    (id, true)
                }
            }
        }
    };
    let current = ctx.store.ledger_entry(id).await?;
    if current.status == status {
        return Ok(if created {
            RowOutcome::Created
        } else {
            RowOutcome::Unchanged
        });
    }
    let outcome: Outcome =
        rules::parse_outcome(&outcome_body(row, status)).map_err(AppError::Validation)?;
    ctx.store
        .record_outcome(id, &outcome, &actor(caller), Some(&current.status))
        .await?;
    Ok(if created {
        RowOutcome::Created
    } else {
        RowOutcome::Updated
    })
}
