//! Read-only pages: home, search, lists and the page of each listing and organisation
//! with its proposed matches.

use super::{WebError, industry_options, pagination, plural, render, render_status};
use crate::auth::{Caller, Who};
use crate::extract::Params;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::listings::ListFilter;
use duijie_app::listings::{self, Entity};
use duijie_app::matching;
use duijie_app::matching::MatchOptions;
use duijie_app::search::{SearchRequest, SearchResponse};
use duijie_domain::{ListingKind, Zone, vocab};
use serde_json::{Value, json};

pub fn router() -> Router<App> {
    Router::new()
        .route("/", get(home))
        .route("/search", get(search))
        .route(
            "/results",
            get(|s, c, q| list(s, c, q, Entity::Listing(ListingKind::Result))),
        )
        .route(
            "/needs",
            get(|s, c, q| list(s, c, q, Entity::Listing(ListingKind::Need))),
        )
        .route(
            "/experts",
            get(|s, c, q| list(s, c, q, Entity::Listing(ListingKind::Expert))),
        )
        .route(
            "/organizations",
            get(|s, c, q| list(s, c, q, Entity::Organization)),
        )
        .route(
            "/results/{id}",
            get(|s, c, p, q| listing(s, c, p, q, ListingKind::Result)),
        )
        .route(
            "/needs/{id}",
            get(|s, c, p, q| listing(s, c, p, q, ListingKind::Need)),
        )
        .route(
            "/experts/{id}",
            get(|s, c, p, q| listing(s, c, p, q, ListingKind::Expert)),
        )
        .route("/organizations/{id}", get(organization))
}

fn query(raw: Option<String>) -> Result<Params, WebError> {
    Ok(Params::from_query(raw.as_deref().unwrap_or(""))?)
}

/// `page=N` (1-based) as an offset.
fn page_offset(p: &mut Params, limit: i64) -> Result<i64, AppError> {
    let page = p.int("page", 1, 1, 10_000)?;
    Ok((page - 1) * limit)
}

async fn run_search(ctx: &App, req: SearchRequest) -> Result<SearchResponse, AppError> {
    duijie_app::search::search(ctx, req).await
}

async fn home(State(ctx): State<App>, caller: Who) -> Result<Html<String>, WebError> {
    let all = run_search(
        &ctx,
        SearchRequest {
            q: String::new(),
            kind: None,
            industry: None,
            city: None,
            zone: None,
            maturity: None,
            status: None,
            limit: 1,
            offset: 0,
        },
    )
    .await?;
    let count = |k: &str| {
        all.facets
            .get("kind")
            .and_then(|m| m.get(k))
            .copied()
            .unwrap_or(0)
    };
    let published = ListFilter {
        status: Some("published".into()),
        ..Default::default()
    };
    let needs = listings::list(
        &ctx,
        Entity::Listing(ListingKind::Need),
        &published,
        6,
        0,
        caller.viewer(),
    )
    .await?;
    let results = listings::list(
        &ctx,
        Entity::Listing(ListingKind::Result),
        &published,
        6,
        0,
        caller.viewer(),
    )
    .await?;
    let events = duijie_app::events::list_for(&ctx, &caller, Default::default(), 5, 0).await?;
    let orgs = duijie_app::listings::organizations(&ctx, &ListFilter::default(), 1, 0).await?;
    let industries: Vec<Value> = all
        .facets
        .get("industry")
        .map(|m| {
            let mut v: Vec<(&String, &u64)> = m.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            v.into_iter()
                .take(12)
                .map(|(c, n)| json!({"code": c, "count": n}))
                .collect()
        })
        .unwrap_or_default();
    render(
        &ctx,
        &caller,
        "home.html",
        "home",
        "首页",
        json!({
            "counts": {"results": count("result"), "needs": count("need"), "experts": count("expert"), "organizations": orgs.total},
            "needs": needs["items"],
            "results": results["items"],
            "events": events.items,
            "industries": industries,
        }),
    )
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, AppError> {
    serde_json::to_value(v).map_err(|e| AppError::Internal(e.to_string()))
}

/// The search page. Invalid filters are shown on the page (400) rather than as a bare error.
async fn search(State(ctx): State<App>, caller: Who, RawQuery(raw): RawQuery) -> Response {
    let mut form = json!({});
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(raw.as_deref().unwrap_or(""))
        .unwrap_or_default()
    {
        form[k] = json!(v);
    }
    match search_page(&ctx, &caller, raw).await {
        Ok(html) => html.into_response(),
        Err(WebError(AppError::BadRequest { message, .. })) => render_status(
            StatusCode::BAD_REQUEST,
            &ctx,
            &caller,
            "search.html",
            "search",
            "搜索",
            json!({"error": super::zh(&message), "form": form, "industries": industry_options(&ctx)}),
        ),
        Err(e) => e.into_response(),
    }
}

const PAGE_SIZE: usize = 10;

async fn search_page(
    ctx: &App,
    caller: &Caller,
    raw: Option<String>,
) -> Result<Html<String>, WebError> {
    let mut p = query(raw)?;
    let offset = page_offset(&mut p, PAGE_SIZE as i64)? as usize;
    let mut req = crate::routes::search::parse_request(ctx, &mut p)?;
    p.finish()?;
    req.limit = PAGE_SIZE;
    req.offset = offset;
    let filters: Vec<(&str, Option<String>)> = vec![
        ("kind", req.kind.map(|k| k.plural().to_string())),
        ("industry", req.industry.clone()),
        ("zone", req.zone.clone()),
        ("city", req.city.clone()),
        ("maturity", req.maturity.clone()),
    ];
    let q = req.q.clone();
    let resp = run_search(ctx, req).await?;
    // the address of this search with one filter changed (None removes it)
    let url_with = |dim: &str, value: Option<&str>| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !q.is_empty() {
            pairs.push(("q", q.clone()));
        }
        for (k, v) in &filters {
            if *k == dim {
                if let Some(v) = value {
                    pairs.push((k, v.to_string()));
                }
            } else if let Some(v) = v {
                pairs.push((k, v.clone()));
            }
        }
        if !filters.iter().any(|(k, _)| *k == dim)
            && let Some(v) = value
        {
            pairs.push((dim, v.to_string()));
        }
        format!(
            "/search?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    fn dim_label(dim: &str) -> &str {
        match dim {
            "kind" => "类型",
            "industry" => "行业",
            "zone" => "区域",
            "city" => "城市",
            "maturity" => "成熟度",
            _ => dim,
        }
    }
    let value_label = |dim: &str, v: &str| -> String {
        match dim {
            "industry" => ctx.vocab.industry_label(v).unwrap_or(v).to_string(),
            "zone" => Zone::parse(v)
                .map(|z| z.label_zh())
                .unwrap_or(v)
                .to_string(),
            "maturity" => vocab::label(vocab::MATURITIES, v).unwrap_or(v).to_string(),
            "kind" => ListingKind::parse(v)
                .map(|k| k.label_zh())
                .unwrap_or(v)
                .to_string(),
            _ => v.to_string(),
        }
    };
    let mut facets = Vec::new();
    for dim in ["kind", "industry", "zone", "maturity", "city"] {
        let selected = filters
            .iter()
            .find(|(k, _)| *k == dim)
            .and_then(|(_, v)| v.clone());
        let mut values: Vec<(String, u64)> = resp
            .facets
            .get(dim)
            .map(|m| m.iter().map(|(k, n)| (k.clone(), *n)).collect())
            .unwrap_or_default();
        values.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let items: Vec<Value> = values
            .iter()
            .take(if dim == "city" { 16 } else { 30 })
            .map(|(v, n)| {
                let code = if dim == "kind" {
                    ListingKind::parse(v)
                        .map(|k| k.plural().to_string())
                        .unwrap_or(v.clone())
                } else {
                    v.clone()
                };
                let on = selected.as_deref() == Some(code.as_str());
                json!({
                    "label": value_label(dim, v), "count": n, "selected": on,
                    "url": if on { url_with(dim, None) } else { url_with(dim, Some(&code)) },
                })
            })
            .collect();
        if !items.is_empty() || selected.is_some() {
            facets.push(json!({"dim": dim, "label": dim_label(dim), "items": items}));
        }
    }
    let chips: Vec<Value> = filters
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref().map(|v| {
                json!({"label": format!("{}：{}", dim_label(k), value_label(k, v)), "remove": url_with(k, None)})
            })
        })
        .collect();
    let hits: Vec<Value> = resp
        .hits
        .iter()
        .map(|h| {
            let mut v = to_value(h).unwrap_or(Value::Null);
            v["url"] = json!(format!("/{}/{}", plural(h.kind), h.id));
            v
        })
        .collect();
    let base = url_with("", None);
    let title = if q.is_empty() {
        "搜索".to_string()
    } else {
        format!("搜索：{q}")
    };
    render(
        ctx,
        caller,
        "search.html",
        "search",
        &title,
        json!({
            "q": q, "total": resp.total, "hits": hits, "facets": facets, "chips": chips,
            "pagination": pagination(&base, resp.total as u64, PAGE_SIZE as u64, offset as u64),
            "industries": industry_options(ctx),
        }),
    )
}

const LIST_SIZE: i64 = 20;

async fn list(
    State(ctx): State<App>,
    caller: Who,
    RawQuery(raw): RawQuery,
    entity: Entity,
) -> Result<Html<String>, WebError> {
    let mut p = query(raw)?;
    let offset = page_offset(&mut p, LIST_SIZE)?;
    let mut f = ListFilter::default();
    let mut base = format!("/{}", entity_path(entity));
    if entity != Entity::Organization {
        if let Some(i) = p.str("industry") {
            let code = ctx.vocab.resolve_industry(&i).ok_or_else(|| {
                AppError::bad_request(
                    Code::INVALID_PARAMETER,
                    format!("行业“{i}”不在行业目录中"),
                    format!("industry '{i}' is not in the vocabulary"),
                )
            })?;
            base = format!("{base}?industry={code}");
            f.industry = Some(code);
        }
    } else if let Some(k) = p.choice(
        "kind",
        &vocab::ORG_KINDS.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
    )? {
        base = format!("{base}?kind={k}");
        f.kind = Some(k);
    }
    p.finish()?;
    let page = listings::list_for(&ctx, &caller, entity, f.clone(), LIST_SIZE, offset).await?;
    let total = page["total"].as_u64().unwrap_or(0);
    let (title, new_url) = match entity {
        Entity::Listing(ListingKind::Result) => ("科技成果", Some("/results/new")),
        Entity::Listing(ListingKind::Need) => ("技术需求", Some("/needs/new")),
        Entity::Listing(ListingKind::Expert) => ("专家", None),
        Entity::Organization => ("单位", None),
    };
    render(
        &ctx,
        &caller,
        "list.html",
        entity_path(entity),
        title,
        json!({
            "entity": entity_path(entity), "items": page["items"], "total": total,
            "pagination": pagination(&base, total, LIST_SIZE as u64, offset as u64),
            "industries": industry_options(&ctx), "industry": f.industry, "org_kind": f.kind,
            "org_kinds": super::options(vocab::ORG_KINDS), "new_url": new_url,
        }),
    )
}

fn entity_path(e: Entity) -> &'static str {
    match e {
        Entity::Organization => "organizations",
        Entity::Listing(k) => k.plural(),
    }
}

/// Matches of a stored listing for its page.
async fn matches_of(
    ctx: &App,
    caller: &Caller,
    kind: ListingKind,
    id: i64,
    target: ListingKind,
    limit: usize,
) -> Result<Value, AppError> {
    let opts = MatchOptions {
        limit,
        ..Default::default()
    };
    let items = matching::for_listing(ctx, caller, kind, id, target, opts).await?;
    Ok(match_items(&items))
}

/// Matches as the templates show them: a link, the score in percent, one bar per component.
pub(crate) fn match_items(items: &[duijie_app::matching::Match]) -> Value {
    items
        .iter()
        .map(|m| {
            let mut v = serde_json::to_value(m).unwrap_or(Value::Null);
            v["url"] = json!(format!("/{}/{}", plural(m.kind), m.id));
            v
        })
        .collect()
}

async fn listing(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
    kind: ListingKind,
) -> Result<Response, WebError> {
    let id = super::page_id(&raw)?;
    // the only parameter: `published=1` after the form redirects here (a fixed message)
    let notice = q
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p == "published=1"))
        .then_some("已发布。其他用户现在可以搜索到它，下方是为它推荐的匹配对象。");
    let item = listings::get(&ctx, Entity::Listing(kind), id, &caller).await?;
    let mut sections = Vec::new();
    let live = item["status"]
        .as_str()
        .is_none_or(|s| s == duijie_domain::PUBLISHED);
    if live {
        for target in matching::allowed_targets(Some(kind)) {
            let limit = if *target == ListingKind::Expert { 5 } else { 8 };
            let items = matches_of(&ctx, &caller, kind, id, *target, limit).await?;
            sections.push(json!({"kind": target.code(), "title": format!("推荐{}", target.label_zh()), "items": items}));
        }
    }
    let title = item["title"]
        .as_str()
        .or(item["name"].as_str())
        .unwrap_or("")
        .to_string();
    // 申请对接: on another organisation's published listing, and beside each match of one's own
    let owner = item["organization"]["id"].as_i64();
    let mine = caller.user.as_ref().and_then(|u| u.organization_id);
    let can_request = live && mine.is_some() && owner.is_some() && owner != mine;
    let own_listing = live && mine.is_some() && owner == mine;
    Ok(render(
        &ctx, &caller,
        "listing.html",
        kind.plural(),
        &title,
        json!({"kind": kind.code(), "item": item, "sections": sections, "live": live, "notice": notice,
               "can_request": can_request, "own_listing": own_listing}),
    )?
    .into_response())
}

async fn organization(
    State(ctx): State<App>,
    caller: Who,
    Path(raw): Path<String>,
) -> Result<Html<String>, WebError> {
    let id = super::page_id(&raw)?;
    let org = listings::get(&ctx, Entity::Organization, id, &caller).await?;
    let f = ListFilter {
        organization_id: Some(id),
        ..Default::default()
    };
    let mut f = f;
    if !duijie_app::authz::sees_unpublished(&caller, Some(id)) {
        f.status = Some("published".into());
    }
    let of = |k| listings::list(&ctx, Entity::Listing(k), &f, 50, 0, caller.viewer());
    let results = of(ListingKind::Result).await?;
    let needs = of(ListingKind::Need).await?;
    let experts = of(ListingKind::Expert).await?;
    let name = org["name"].as_str().unwrap_or("").to_string();
    render(
        &ctx,
        &caller,
        "organization.html",
        "organizations",
        &name,
        json!({
            "org": org,
            "results": results, "needs": needs, "experts": experts,
            "responsiveness": duijie_app::connections::responsiveness(&ctx, id).await?,
        }),
    )
}
