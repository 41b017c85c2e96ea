//! Participants: adding and removing organisations with the listings they bring, and importing participant lists.

use super::*;
use crate::codes::Code;

/// Which listing kinds an organisation of `kind` brings.
pub(super) fn kinds_for(org_kind: &str) -> &'static [ListingKind] {
    match org_kind {
        "enterprise" => &[ListingKind::Need],
        "university" | "institute" => &[ListingKind::Result, ListingKind::Expert],
        _ => &[ListingKind::Need, ListingKind::Result, ListingKind::Expert],
    }
}

/// A listing named by a participant request: by store id or by organiser's id.
#[derive(Debug, Clone)]
pub enum ListingRef {
    /// Store id of a known kind.
    Id(ListingKind, i64),
    /// Organiser's id, kind given or to be found among the kinds the organisation brings.
    External(Option<ListingKind>, String),
}

/// Checks that a listing exists, belongs to `org` (of `org_kind`) and is published.
/// Errors are `(code, 中文 / English)`.
pub(super) async fn check_listing(
    ctx: &App,
    org: i64,
    org_kind: &str,
    r: &ListingRef,
) -> Result<Result<(ListingKind, i64), (&'static str, String)>, AppError> {
    let allowed = kinds_for(org_kind);
    let (kind, id) = match r {
        ListingRef::Id(k, id) => (*k, *id),
        ListingRef::External(k, x) => {
            let mut found = Vec::new();
            for kind in allowed.iter().filter(|a| k.is_none_or(|k| k == **a)) {
                if let Some(id) = ctx.store.find_listing(*kind, x).await? {
                    found.push((*kind, id));
                }
            }
            match found.as_slice() {
                [one] => *one,
                [] => {
                    return Ok(Err((
                        "not_found",
                        format!(
                            "编号“{x}”没有对应的{} / no listing with external id '{x}' for this organization",
                            kind_names_zh(allowed)
                        ),
                    )));
                }
                _ => {
                    return Ok(Err((
                        "ambiguous",
                        format!(
                            "编号“{x}”同时对应多类项目，请写明类型 / external id '{x}' names listings of several kinds; give the kind"
                        ),
                    )));
                }
            }
        }
    };
    if !allowed.contains(&kind) {
        return Ok(Err((
            "kind_mismatch",
            format!(
                "{}只能带{}，不能带{} / an organization of kind {org_kind} brings {}, not {}",
                duijie_domain::label(duijie_domain::vocab::ORG_KINDS, org_kind).unwrap_or("该单位"),
                kind_names_zh(allowed),
                kind.label_zh(),
                allowed
                    .iter()
                    .map(|k| k.plural())
                    .collect::<Vec<_>>()
                    .join(" and "),
                kind.plural()
            ),
        )));
    }
    let (owner, status) = match kind {
        ListingKind::Need => match ctx.store.need(id).await {
            Ok(n) => (n.organization.map(|o| o.id), n.status),
            Err(duijie_store::StoreError::NotFound { .. }) => {
                return Ok(Err((
                    "not_found",
                    format!("技术需求 {id} 不存在 / need {id} not found"),
                )));
            }
            Err(e) => return Err(e.into()),
        },
        ListingKind::Result => match ctx.store.result(id).await {
            Ok(n) => (n.organization.map(|o| o.id), n.status),
            Err(duijie_store::StoreError::NotFound { .. }) => {
                return Ok(Err((
                    "not_found",
                    format!("科技成果 {id} 不存在 / result {id} not found"),
                )));
            }
            Err(e) => return Err(e.into()),
        },
        ListingKind::Expert => match ctx.store.expert(id).await {
            Ok(n) => (n.organization.map(|o| o.id), "published".to_string()),
            Err(duijie_store::StoreError::NotFound { .. }) => {
                return Ok(Err((
                    "not_found",
                    format!("专家 {id} 不存在 / expert {id} not found"),
                )));
            }
            Err(e) => return Err(e.into()),
        },
    };
    if owner != Some(org) {
        return Ok(Err((
            "wrong_organization",
            format!(
                "{}{id} 不属于该单位 / {} {id} does not belong to this organization",
                kind.label_zh(),
                kind.code()
            ),
        )));
    }
    if status != "published" {
        return Ok(Err((
            "not_published",
            format!(
                "{}{id} 未发布（状态 {status}） / {} {id} is not published (status {status})",
                kind.label_zh(),
                kind.code()
            ),
        )));
    }
    Ok(Ok((kind, id)))
}

pub(super) fn kind_names_zh(kinds: &[ListingKind]) -> String {
    kinds
        .iter()
        .map(|k| k.label_zh())
        .collect::<Vec<_>>()
        .join("或")
}

/// Adds a participant from `{organization_id | organization_external_id | organization,
/// listings: [{kind, id} | {kind?, external_id}]}`; returns it and whether it is new.
pub async fn add_participant(
    ctx: &App,
    event_id: i64,
    rec: &Record,
) -> Result<(Participant, bool), AppError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    let mut errors = FieldErrors::default();
    for k in rec.keys() {
        if ![
            "organization_id",
            "organization_external_id",
            "organization",
            "listings",
        ]
        .contains(&k.as_str())
        {
            errors.push(
                k.clone(),
                "unknown_field",
                format!("未知字段“{k}”"),
                format!("unknown field '{k}'"),
            );
        }
    }
    let org = match (
        rec.get("organization_id"),
        rec.get("organization_external_id"),
        rec.get("organization"),
    ) {
        (Some(v), _, _) => match v.as_i64().filter(|n| *n > 0) {
            Some(id) => match ctx.store.organization(id).await {
                Ok(o) => Some(o),
                Err(duijie_store::StoreError::NotFound { .. }) => {
                    errors.push(
                        "organization_id",
                        "not_found",
                        format!("单位 {id} 不存在"),
                        format!("organization {id} does not exist"),
                    );
                    None
                }
                Err(e) => return Err(e.into()),
            },
            None => {
                errors.push(
                    "organization_id",
                    "invalid_type",
                    "organization_id 应为正整数",
                    "organization_id must be a positive integer",
                );
                None
            }
        },
        (None, x, n) if x.is_some() || n.is_some() => {
            let x = x.and_then(Value::as_str);
            let n = n.and_then(Value::as_str);
            match ctx.store.find_organization(x, n).await? {
                Some(id) => Some(ctx.store.organization(id).await?),
                None => {
                    let what = x.or(n).unwrap_or("");
                    errors.push(
                        "organization",
                        "not_found",
                        format!("单位“{what}”不存在"),
                        format!("organization '{what}' does not exist"),
                    );
                    None
                }
            }
        }
        _ => {
            errors.push(
                "organization_id",
                "required",
                "organization_id 为必填项",
                "organization_id is required",
            );
            None
        }
    };
    let mut refs = Vec::new();
    match rec.get("listings") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= 500 => {
            for (i, item) in items.iter().enumerate() {
                match parse_listing_ref(item) {
                    Ok(r) => refs.push((i, r)),
                    Err((code, zh, en)) => errors.push(format!("listings[{i}]"), code, zh, en),
                }
            }
        }
        Some(Value::Array(items)) if items.len() > 500 => errors.push(
            "listings",
            "too_many",
            "listings 最多 500 项",
            "listings has more than 500 items",
        ),
        _ => errors.push(
            "listings",
            "required",
            "listings 应为非空列表 [{kind, id}]",
            "listings must be a non-empty list of {kind, id}",
        ),
    }
    let Some(org) = org else {
        return Err(AppError::Validation(errors));
    };
    let mut listings = Vec::new();
    for (i, r) in refs {
        match check_listing(ctx, org.id, &org.kind, &r).await? {
            Ok(l) if !listings.contains(&l) => listings.push(l),
            Ok(_) => {}
            Err((code, msg)) => errors.0.push(duijie_domain::FieldError {
                field: format!("listings[{i}]"),
                code,
                message: msg,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let (pid, created) = ctx
        .store
        .add_participant(event_id, org.id, &listings)
        .await?;
    let p = ctx
        .store
        .participants(event_id)
        .await?
        .into_iter()
        .find(|p| p.id == pid)
        .ok_or_else(|| internal("participant vanished"))?;
    Ok((p, created))
}

pub(super) fn parse_listing_ref(v: &Value) -> Result<ListingRef, (&'static str, String, String)> {
    let Some(o) = v.as_object() else {
        return Err((
            "invalid_type",
            "应为 {kind, id} 对象".into(),
            "must be an object {kind, id}".into(),
        ));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["kind", "id", "external_id"].contains(&k.as_str()))
    {
        return Err((
            "unknown_field",
            format!("未知字段“{k}”"),
            format!("unknown field '{k}'"),
        ));
    }
    let kind = match o.get("kind") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match ListingKind::parse(s.trim()) {
            Some(k) => Some(k),
            None => {
                return Err((
                    "invalid_choice",
                    format!("kind“{s}”无效，可选：need, result, expert"),
                    format!("kind '{s}' is not one of: need, result, expert"),
                ));
            }
        },
        Some(_) => {
            return Err((
                "invalid_type",
                "kind 应为文本".into(),
                "kind must be a string".into(),
            ));
        }
    };
    match (o.get("id"), o.get("external_id").and_then(Value::as_str)) {
        (Some(id), _) => match (kind, id.as_i64().filter(|n| *n > 0)) {
            (Some(k), Some(id)) => Ok(ListingRef::Id(k, id)),
            (None, _) => Err((
                "required",
                "按 id 指定时 kind 为必填项".into(),
                "kind is required with id".into(),
            )),
            (_, None) => Err((
                "invalid_type",
                "id 应为正整数".into(),
                "id must be a positive integer".into(),
            )),
        },
        (None, Some(x)) if !x.trim().is_empty() => {
            Ok(ListingRef::External(kind, x.trim().to_string()))
        }
        _ => Err((
            "required",
            "应给出 id 或 external_id".into(),
            "id or external_id is required".into(),
        )),
    }
}

/// Removes a participant.
pub async fn remove_participant(ctx: &App, event_id: i64, pid: i64) -> Result<(), AppError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    match ctx.store.remove_participant(event_id, pid).await {
        Err(duijie_store::StoreError::NotFound { .. }) => {
            Err(AppError::not_found("参会单位", "participant", pid))
        }
        other => Ok(other?),
    }
}

/// One refused row of a participant import.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ParticipantRowError))]
pub struct RowError {
    /// 1-based line (CSV) or row (XLSX), the header being 1.
    pub line: u64,
    /// Stable code.
    pub code: &'static str,
    /// `中文 / English`.
    pub message: String,
}

/// The answer of a participant import.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ParticipantImport {
    /// New participants.
    pub imported: u64,
    /// Participants already in the event that got listings added.
    pub updated: u64,
    /// Refused rows.
    pub failed: u64,
    /// Refused rows with reasons.
    pub errors: Vec<RowError>,
}

pub(super) const ORG_NAME_COLUMNS: &[&str] = &[
    "organization",
    "organization_name",
    "单位",
    "单位名称",
    "企业",
    "高校",
    "参会单位",
];
pub(super) const ORG_EXT_COLUMNS: &[&str] = &["organization_external_id", "单位编号"];
pub(super) const LISTING_COLUMNS: &[&str] = &[
    "listings",
    "listing_external_ids",
    "external_ids",
    "项目编号",
    "对接项目编号",
    "需求/成果编号",
];
pub(super) const KIND_COLUMNS: &[&str] = &["kind", "类型"];

/// Imports participants from rows of `header → value`: an organisation by name or
/// organiser's id, and the organiser's ids of its listings separated by `;`, `,`, `、` or
/// spaces. Good rows are kept whatever the bad ones.
pub async fn import_participants(
    ctx: &App,
    event_id: i64,
    rows: TableRows,
) -> Result<ParticipantImport, AppError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, false)?;
    if rows.is_empty() {
        return Err(AppError::bad_request(
            Code::EMPTY_IMPORT,
            "导入内容为空，没有任何记录",
            "the import contains no records",
        ));
    }
    let mut out = ParticipantImport::default();
    let mut good: Vec<(i64, Vec<(ListingKind, i64)>)> = Vec::new();
    let known: Vec<&str> = ORG_NAME_COLUMNS
        .iter()
        .chain(ORG_EXT_COLUMNS)
        .chain(LISTING_COLUMNS)
        .chain(KIND_COLUMNS)
        .copied()
        .collect();
    if let Some((_, first)) = rows.first()
        && let Some(k) = first.keys().find(|k| !known.contains(&k.as_str()))
    {
        return Err(AppError::bad_request(
            Code::UNKNOWN_COLUMN,
            format!("未知的列“{k}”；可用的列：单位（或 单位编号）、项目编号、类型"),
            format!(
                "unknown column '{k}'; columns are organization (or organization_external_id), listings, kind"
            ),
        ));
    }
    for (line, row) in rows {
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| row.get(*n))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let fail = |out: &mut ParticipantImport, code: &'static str, message: String| {
            out.failed += 1;
            out.errors.push(RowError {
                line,
                code,
                message,
            });
        };
        let (name, ext) = (get(ORG_NAME_COLUMNS), get(ORG_EXT_COLUMNS));
        if name.is_none() && ext.is_none() {
            fail(
                &mut out,
                "required",
                "缺少单位名称或单位编号 / organization name or external id is missing".into(),
            );
            continue;
        }
        let Some(org) = ctx
            .store
            .find_organization(ext.as_deref(), name.as_deref())
            .await?
        else {
            let what = ext.or(name).unwrap_or_default();
            fail(
                &mut out,
                "not_found",
                format!("单位“{what}”不存在 / organization '{what}' does not exist"),
            );
            continue;
        };
        let org = ctx.store.organization(org).await?;
        let kind = match get(KIND_COLUMNS) {
            None => None,
            Some(k) => match ListingKind::parse(&k).or(match k.as_str() {
                "技术需求" | "需求" => Some(ListingKind::Need),
                "科技成果" | "成果" => Some(ListingKind::Result),
                "专家" => Some(ListingKind::Expert),
                _ => None,
            }) {
                Some(k) => Some(k),
                None => {
                    fail(
                        &mut out,
                        "invalid_choice",
                        format!(
                            "类型“{k}”无效，可选：need, result, expert / kind '{k}' is not one of: need, result, expert"
                        ),
                    );
                    continue;
                }
            },
        };
        let ids: Vec<String> = get(LISTING_COLUMNS)
            .unwrap_or_default()
            .split([';', '；', '、', '|', ',', '，', ' ', '\n'])
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if ids.is_empty() {
            fail(
                &mut out,
                "required",
                "缺少项目编号 / no listing external ids".into(),
            );
            continue;
        }
        let mut listings = Vec::new();
        let mut bad = None;
        for x in &ids {
            match check_listing(
                ctx,
                org.id,
                &org.kind,
                &ListingRef::External(kind, x.clone()),
            )
            .await?
            {
                Ok(l) if !listings.contains(&l) => listings.push(l),
                Ok(_) => {}
                Err(err) => {
                    bad = Some(err);
                    break;
                }
            }
        }
        match bad {
            Some((code, message)) => fail(&mut out, code, message),
            None => good.push((org.id, listings)),
        }
    }
    if !good.is_empty() {
        let mut seen = HashSet::new();
        for (pid, created) in ctx.store.add_participants(event_id, &good).await? {
            // several rows of one organisation count once
            if seen.insert(pid) {
                if created {
                    out.imported += 1
                } else {
                    out.updated += 1
                }
            }
        }
    }
    out.errors.sort_by_key(|e| e.line);
    Ok(out)
}

/// Rows of an uploaded table: 1-based line (header = 1) and `header → value`.
pub type TableRows = Vec<(u64, BTreeMap<String, String>)>;

/// Reads a participant list upload (CSV or XLSX, header row first) into rows.
pub fn read_table(
    format: crate::import::Format,
    bytes: &[u8],
    limits: &crate::sheet::SheetLimits,
) -> Result<TableRows, AppError> {
    use crate::import::Format;
    match format {
        Format::Csv { gbk } => {
            let text = if gbk {
                let (s, _, bad) = encoding_rs::GB18030.decode(bytes);
                if bad {
                    return Err(AppError::bad_request(Code::INVALID_ENCODING, "CSV 文件不是有效的 GBK 编码", "the CSV file is not valid GBK"));
                }
                s.into_owned()
            } else {
                String::from_utf8(bytes.to_vec()).map_err(|_| {
                    AppError::bad_request(
                        Code::INVALID_ENCODING,
                        "CSV 文件不是 UTF-8 编码；请另存为 UTF-8，或以 Content-Type: text/csv; charset=gbk 上传 GBK 文件",
                        "the CSV file is not UTF-8; save it as UTF-8, or send GBK files with Content-Type: text/csv; charset=gbk",
                    )
                })?
            };
            let text = text.trim_start_matches('\u{feff}');
            let mut r = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(text.as_bytes());
            let mut records = r.records();
            let header: Vec<String> = match records.next() {
                None => return Ok(Vec::new()),
                Some(Err(e)) => return Err(AppError::bad_request(Code::INVALID_CSV, format!("CSV 表头无法读取：{e}"), format!("cannot read the CSV header: {e}"))),
                Some(Ok(h)) => h.iter().map(|s| s.trim().to_string()).collect(),
            };
            let mut out = Vec::new();
            for rec in records {
                let rec = rec.map_err(|e| AppError::bad_request(Code::INVALID_CSV, format!("CSV 格式错误：{e}"), format!("malformed CSV: {e}")))?;
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                let row: BTreeMap<String, String> =
                    header.iter().zip(rec.iter()).filter(|(h, v)| !h.is_empty() && !v.trim().is_empty()).map(|(h, v)| (h.clone(), v.to_string())).collect();
                if !row.is_empty() {
                    out.push((line, row));
                }
            }
            Ok(out)
        }
        Format::Xlsx => {
            let mut header: Option<Vec<String>> = None;
            let mut out = Vec::new();
            crate::sheet::read_rows(&|| Ok(std::io::Cursor::new(bytes)), limits, |line, cells| {
                let Some(header) = &header else {
                    header = Some(cells.iter().map(|c| c.trim().to_string()).collect());
                    return true;
                };
                let row: BTreeMap<String, String> =
                    header.iter().zip(cells).filter(|(h, v)| !h.is_empty() && !v.trim().is_empty()).map(|(h, v)| (h.clone(), v)).collect();
                if !row.is_empty() {
                    out.push((line, row));
                }
                true
            })?;
            Ok(out)
        }
        Format::Jsonl => Err(AppError::UnsupportedMediaType(
            "参会名单请用 CSV（text/csv）或 XLSX 上传 / upload participant lists as CSV (text/csv) or XLSX".into(),
        )),
    }
}

/// An event's participants, in the order they were added.
pub async fn participant_list(ctx: &App, event_id: i64) -> Result<Vec<Participant>, AppError> {
    load(ctx, event_id).await?;
    Ok(ctx.store.participants(event_id).await?)
}

/// The participants `caller` may see: all of them for those who keep the programme; a
/// signed-in member of a participating organisation sees its own row; anyone else none
/// (contacts and who takes part are the organisers' to share). Anonymous callers are asked
/// to sign in (401).
pub async fn participants_for(
    ctx: &App,
    caller: &crate::auth::Caller,
    event_id: i64,
) -> Result<Vec<Participant>, AppError> {
    let user = own_rows_caller(caller)?;
    load_for(ctx, caller, event_id).await?;
    let all = ctx.store.participants(event_id).await?;
    Ok(match user {
        None => all,
        Some(org) => all
            .into_iter()
            .filter(|p| Some(p.organization_id) == org)
            .collect(),
    })
}

/// `None` for those who keep the programme (they see every row); otherwise the caller's
/// organisation (`Some(None)`: signed in without one). Anonymous: 401.
pub(super) fn own_rows_caller(
    caller: &crate::auth::Caller,
) -> Result<Option<Option<i64>>, AppError> {
    if keeps_events(caller) {
        return Ok(None);
    }
    Ok(Some(caller.require()?.organization_id))
}

/// Deletes an event with its participants, preferences and pairings.
pub async fn delete(ctx: &App, event_id: i64) -> Result<(), AppError> {
    load(ctx, event_id).await?;
    Ok(ctx.store.delete_event(event_id).await?)
}
