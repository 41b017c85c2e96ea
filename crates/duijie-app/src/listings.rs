//! Create, read, update and delete of organisations and listings, shared by the API and
//! the command line. Input is validated here (through `duijie_domain::input`); writes are
//! made searchable before they are acknowledged.

use crate::app::App;
use crate::auth::Caller;
use crate::authz::{self, Action};
use crate::error::AppError;
pub use duijie_domain::Organization;
use duijie_domain::{Listed, ListingKind, Redact, Viewer, input};
use duijie_store::Draft;
pub use duijie_store::{ListFilter, Page};
use serde_json::{Map, Value};
use std::sync::Arc;

/// What an endpoint manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    /// Organisations.
    Organization,
    /// A kind of listing.
    Listing(ListingKind),
}

impl Entity {
    /// Parses the plural used in URLs and `?kind=`.
    pub fn parse(s: &str) -> Option<Entity> {
        match s {
            "organizations" | "organization" | "orgs" => Some(Entity::Organization),
            other => ListingKind::parse(other).map(Entity::Listing),
        }
    }

    /// Chinese name.
    pub fn label_zh(self) -> &'static str {
        match self {
            Entity::Organization => "单位",
            Entity::Listing(k) => k.label_zh(),
        }
    }

    /// English name.
    pub fn label_en(self) -> &'static str {
        match self {
            Entity::Organization => "organization",
            Entity::Listing(k) => k.code(),
        }
    }
}

/// Validates a record for an entity.
pub fn validate(ctx: &App, entity: Entity, rec: &input::Record) -> Result<Draft, AppError> {
    Ok(match entity {
        Entity::Organization => Draft::Organization(input::organization(rec)?),
        Entity::Listing(ListingKind::Result) => Draft::Result(input::result(rec, &ctx.vocab)?),
        Entity::Listing(ListingKind::Need) => Draft::Need(input::need(rec, &ctx.vocab)?),
        Entity::Listing(ListingKind::Expert) => Draft::Expert(input::expert(rec, &ctx.vocab)?),
    })
}

/// Reads one record as JSON for `caller`: contact details only for viewers allowed to see
/// them, and an unpublished listing only for its own organisation and the programme's
/// keepers. For everyone else it does not exist (404, as for an unknown id).
pub async fn get(ctx: &App, entity: Entity, id: i64, caller: &Caller) -> Result<Value, AppError> {
    let (mut v, listed) = load(ctx, entity, id, caller.viewer()).await?;
    if let Some((false, owner)) = listed
        && !authz::sees_unpublished(caller, owner)
    {
        return Err(AppError::not_found(
            entity.label_zh(),
            entity.label_en(),
            id,
        ));
    }
    hide_contacts(ctx, caller, &mut v).await?;
    Ok(v)
}

/// Drops the contact details `caller` may not see under `[privacy] contacts` (see
/// [`crate::connections::ContactPolicy`]) from a record or a page of records, marking
/// each such record `contact_hidden` so the interface can say how to get them.
pub async fn hide_contacts(ctx: &App, caller: &Caller, v: &mut Value) -> Result<(), AppError> {
    let policy = crate::connections::ContactPolicy::of(ctx, caller).await?;
    let apply = |o: &mut Map<String, Value>| {
        let Some(contact) = o.get("contact") else {
            return;
        };
        let public = contact
            .get("public")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let owner = o
            .get("organization")
            .and_then(|x| x.get("id"))
            .and_then(Value::as_i64);
        if !policy.sees(owner, public) {
            o.remove("contact");
            o.insert("contact_hidden".into(), Value::Bool(true));
        }
    };
    if let Some(items) = v.get_mut("items").and_then(Value::as_array_mut) {
        for it in items {
            if let Some(o) = it.as_object_mut() {
                apply(o);
            }
        }
    } else if let Some(o) = v.as_object_mut() {
        apply(o);
    }
    Ok(())
}

/// Reads one record as JSON for `viewer`, whoever may see it (after a write, for the writer).
async fn record(ctx: &App, entity: Entity, id: i64, viewer: Viewer) -> Result<Value, AppError> {
    Ok(load(ctx, entity, id, viewer).await?.0)
}

/// One record as JSON and, for a listing, whether it is published and whose it is.
async fn load(
    ctx: &App,
    entity: Entity,
    id: i64,
    viewer: Viewer,
) -> Result<(Value, Option<(bool, Option<i64>)>), AppError> {
    let (v, listed) = match entity {
        Entity::Organization => (
            serde_json::to_value(ctx.store.organization(id).await?),
            None,
        ),
        Entity::Listing(ListingKind::Result) => {
            let r = ctx.store.result(id).await?;
            let listed = (r.is_published(), r.owner_id());
            (serde_json::to_value(r.redact_for(viewer)), Some(listed))
        }
        Entity::Listing(ListingKind::Need) => {
            let n = ctx.store.need(id).await?;
            let listed = (n.is_published(), n.owner_id());
            (serde_json::to_value(n.redact_for(viewer)), Some(listed))
        }
        Entity::Listing(ListingKind::Expert) => {
            let e = ctx.store.expert(id).await?;
            let listed = (e.is_published(), e.owner_id());
            (serde_json::to_value(e.redact_for(viewer)), Some(listed))
        }
    };
    Ok((v.map_err(|e| AppError::Internal(e.to_string()))?, listed))
}

/// Lists records as `caller` may see them: unpublished listings only for their own
/// organisation and the programme's keepers. For anyone else the list holds published
/// listings; asking for another status is refused (403).
pub async fn list_for(
    ctx: &App,
    caller: &Caller,
    entity: Entity,
    mut f: ListFilter,
    limit: i64,
    offset: i64,
) -> Result<Value, AppError> {
    if entity != Entity::Organization
        && !authz::sees_unpublished(caller, f.organization_id)
        && f.status.as_deref() != Some(duijie_domain::PUBLISHED)
    {
        if f.status.is_some() {
            return Err(AppError::forbidden(
                "只能查看已发布的条目",
                "only published listings can be listed",
            ));
        }
        f.status = Some(duijie_domain::PUBLISHED.into());
    }
    // an anonymous visitor's page is the same for every anonymous visitor: kept until the
    // next write to listings (see `PublicPages`)
    let cached = match (entity, &ctx.indexer) {
        (Entity::Listing(kind), Some(ix))
            if caller.user.is_none()
                && matches!(caller.via, crate::auth::Via::Anonymous)
                && PublicPages::keeps(limit, offset) =>
        {
            let version = (ctx.store.listings_generation(), ix.applied());
            let key = (kind, f.clone(), limit, offset);
            if let Some(v) = ctx.public_pages.get(&key, version) {
                return Ok(v.as_ref().clone());
            }
            Some((key, version))
        }
        _ => None,
    };
    let mut v = list(ctx, entity, &f, limit, offset, caller.viewer()).await?;
    hide_contacts(ctx, caller, &mut v).await?;
    if let Some((key, version)) = cached {
        ctx.public_pages.put(key, version, Arc::new(v.clone()));
    }
    Ok(v)
}

/// A page's key: the kind, the filter (status included), limit and offset.
type PageKey = (ListingKind, ListFilter, i64, i64);

/// Pages of published listings as anonymous visitors see them (contacts hidden), so the
/// most visited pages (the first pages of each kind, a city's or an industry's) cost no
/// store round trip.
///
/// A page is kept under the version it was read at: this process's count of listing
/// writes ([`duijie_store::Store::listings_generation`], bumped after each commit) and the
/// change-log position the indexer has applied (which follows other processes' writes
/// within `[index] poll_interval_ms`, as search does). Both are read before the page's
/// query, so a page holds every write its version counts (and perhaps later ones); a page
/// of any other version is not used, and the first request under a newer version empties
/// the cache. A page is also used for at most [`PUBLIC_PAGES_TTL`]: should the index stop
/// following the change log (a full disk), or miss a change (on PostgreSQL a sequence
/// number can commit after a later one), another process's write still shows within it.
#[derive(Default)]
pub struct PublicPages {
    inner: std::sync::Mutex<PublicPagesInner>,
}

#[derive(Default)]
struct PublicPagesInner {
    version: (u64, i64),
    pages: std::collections::HashMap<PageKey, (std::time::Instant, Arc<Value>)>,
}

/// Pages kept at most; past it the cache starts again.
const PUBLIC_PAGES_MAX: usize = 64;
/// How long a kept page is used at most.
const PUBLIC_PAGES_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Only pages of at most this many listings starting before [`PUBLIC_PAGES_DEPTH`] are
/// kept: the pages people browse, not a script walking the whole list.
const PUBLIC_PAGES_LIMIT: i64 = 100;
const PUBLIC_PAGES_DEPTH: i64 = 200;

impl PublicPages {
    /// Whether a page of `limit` from `offset` is one to keep.
    fn keeps(limit: i64, offset: i64) -> bool {
        limit <= PUBLIC_PAGES_LIMIT && offset < PUBLIC_PAGES_DEPTH
    }

    /// The page kept for `key` under `version`, if any. A newer version empties the
    /// cache.
    fn get(&self, key: &PageKey, version: (u64, i64)) -> Option<Arc<Value>> {
        let mut inner = self.inner.lock().ok()?;
        if inner.version == version {
            return inner
                .pages
                .get(key)
                .filter(|(at, _)| at.elapsed() < PUBLIC_PAGES_TTL)
                .map(|(_, page)| page.clone());
        }
        if version.0 >= inner.version.0 && version.1 >= inner.version.1 {
            inner.pages.clear();
            inner.version = version;
        }
        None
    }

    /// Keeps a page read under `version`, unless the cache has moved on.
    fn put(&self, key: PageKey, version: (u64, i64), page: Arc<Value>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.version != version {
            return;
        }
        if inner.pages.len() >= PUBLIC_PAGES_MAX {
            inner.pages.clear();
        }
        inner.pages.insert(key, (std::time::Instant::now(), page));
    }
}

/// Lists records as a JSON page.
pub async fn list(
    ctx: &App,
    entity: Entity,
    f: &ListFilter,
    limit: i64,
    offset: i64,
    viewer: Viewer,
) -> Result<Value, AppError> {
    let v = match entity {
        Entity::Organization => {
            serde_json::to_value(ctx.store.organizations(f, limit, offset).await?)
        }
        Entity::Listing(ListingKind::Result) => {
            let mut p = ctx.store.results(f, limit, offset).await?;
            p.items = p.items.into_iter().map(|r| r.redact_for(viewer)).collect();
            serde_json::to_value(p)
        }
        Entity::Listing(ListingKind::Need) => {
            let mut p = ctx.store.needs(f, limit, offset).await?;
            p.items = p.items.into_iter().map(|r| r.redact_for(viewer)).collect();
            serde_json::to_value(p)
        }
        Entity::Listing(ListingKind::Expert) => {
            let mut p = ctx.store.experts(f, limit, offset).await?;
            p.items = p.items.into_iter().map(|r| r.redact_for(viewer)).collect();
            serde_json::to_value(p)
        }
    };
    v.map_err(|e| AppError::Internal(e.to_string()))
}

/// The audit log's name of an entity.
fn audit_name(entity: Entity) -> &'static str {
    match entity {
        Entity::Organization => "organization",
        Entity::Listing(k) => k.code(),
    }
}

/// Creates a record for a caller allowed to; returns it as stored.
pub async fn create(
    ctx: &App,
    caller: &Caller,
    entity: Entity,
    mut rec: input::Record,
) -> Result<Value, AppError> {
    if !matches!(caller.via, crate::auth::Via::Local(_)) {
        let action = match entity {
            Entity::Organization => Action::CreateOrganization,
            Entity::Listing(k) => Action::CreateListing(k),
        };
        authz::authorize(ctx, caller, action).await?;
        if let Entity::Listing(_) = entity {
            authz::pin_organization(caller, &mut rec, true)?;
        }
    }
    let draft = validate(ctx, entity, &rec)?;
    let after = Value::Object(rec.clone());
    let id = crate::audit::within(
        ctx,
        caller,
        "create",
        audit_name(entity),
        None,
        None,
        Some(&after),
        ctx.store.create(&draft),
    )
    .await?;
    ctx.make_searchable().await?;
    record(ctx, entity, id, caller.viewer()).await
}

/// The stored record in the shape of input, so a PATCH can be merged onto it and the
/// result validated as a whole.
async fn as_input(ctx: &App, entity: Entity, id: i64) -> Result<input::Record, AppError> {
    let mut v = record(ctx, entity, id, Viewer::SignedIn).await?;
    let Some(obj) = v.as_object_mut() else {
        return Err(AppError::Internal("record is not an object".into()));
    };
    for k in ["id", "created_at", "updated_at", "zones"] {
        obj.remove(k);
    }
    if let Some(oid) = obj
        .remove("organization")
        .and_then(|org| org.get("id").and_then(Value::as_i64))
    {
        obj.insert("organization_id".into(), Value::from(oid));
    }
    if let Some(Value::Object(c)) = obj.get("contact")
        && c.is_empty()
    {
        obj.remove("contact");
    }
    Ok(obj.clone())
}

/// Applies a partial update: given fields replace stored ones, `null` clears a field.
pub async fn patch(
    ctx: &App,
    caller: &Caller,
    entity: Entity,
    id: i64,
    mut patch: input::Record,
) -> Result<Value, AppError> {
    let action = match entity {
        Entity::Organization => Action::EditOrganization(id),
        Entity::Listing(k) => Action::EditListing(k, id),
    };
    authz::authorize(ctx, caller, action).await?;
    if let Entity::Listing(_) = entity {
        authz::pin_organization(caller, &mut patch, false)?;
    }
    let before = record(ctx, entity, id, Viewer::SignedIn).await?;
    let mut base = as_input(ctx, entity, id).await?;
    if patch.contains_key("trl") && !patch.contains_key("maturity") {
        base.remove("maturity");
    }
    if ["organization", "organization_external_id"]
        .iter()
        .any(|k| patch.contains_key(*k))
    {
        base.remove("organization_id");
    }
    for (k, v) in patch {
        if v.is_null() {
            base.remove(&k);
        } else {
            base.insert(k, v);
        }
    }
    let draft = validate(ctx, entity, &base)?;
    // after: the record as written, in the shape of input (what the patch made of it)
    let after = Value::Object(base.clone());
    crate::audit::within(
        ctx,
        caller,
        "update",
        audit_name(entity),
        Some(id),
        Some(&before),
        Some(&after),
        ctx.store.update(id, &draft),
    )
    .await?;
    ctx.make_searchable().await?;
    record(ctx, entity, id, caller.viewer()).await
}

/// Deletes a record.
pub async fn delete(ctx: &App, caller: &Caller, entity: Entity, id: i64) -> Result<(), AppError> {
    let action = match entity {
        Entity::Organization => Action::DeleteOrganization(id),
        Entity::Listing(k) => Action::EditListing(k, id),
    };
    authz::authorize(ctx, caller, action).await?;
    let before = record(ctx, entity, id, Viewer::SignedIn).await?;
    crate::audit::within(
        ctx,
        caller,
        "delete",
        audit_name(entity),
        Some(id),
        Some(&before),
        None,
        async {
            match entity {
                Entity::Organization => ctx.store.delete_organization(id).await,
                Entity::Listing(k) => ctx.store.delete_listing(k, id).await,
            }
        },
    )
    .await?;
    ctx.make_searchable().await?;
    Ok(())
}

/// Builds a JSON object from pairs, dropping nulls.
pub fn object(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// A page of organisations (public: names, kinds and cities are the programme's
/// directory).
pub async fn organizations(
    ctx: &App,
    f: &ListFilter,
    limit: i64,
    offset: i64,
) -> Result<Page<Organization>, AppError> {
    Ok(ctx.store.organizations(f, limit, offset).await?)
}

/// One organisation.
pub async fn organization(ctx: &App, id: i64) -> Result<Organization, AppError> {
    Ok(ctx.store.organization(id).await?)
}

/// The id of the organisation with this exact name, if any.
pub async fn organization_named(ctx: &App, name: &str) -> Result<Option<i64>, AppError> {
    Ok(ctx.store.find_organization(None, Some(name)).await?)
}

/// Ids and titles of an organisation's needs (newest first), for choosers.
pub async fn need_titles(
    ctx: &App,
    organization_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    let f = ListFilter {
        organization_id: Some(organization_id),
        ..Default::default()
    };
    Ok(ctx
        .store
        .needs(&f, limit, 0)
        .await?
        .items
        .into_iter()
        .map(|n| (n.id, n.title))
        .collect())
}

#[cfg(test)]
mod public_pages_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_kept_page_is_used_only_under_the_version_it_was_read_at() {
        let pages = PublicPages::default();
        let key = (ListingKind::Result, ListFilter::default(), 20, 0);
        let other = (ListingKind::Need, ListFilter::default(), 20, 0);
        let page = Arc::new(json!({"total": 1}));
        assert!(pages.get(&key, (0, 5)).is_none(), "nothing kept yet");
        pages.put(key.clone(), (0, 5), page.clone());
        assert_eq!(pages.get(&key, (0, 5)), Some(page.clone()));
        assert!(pages.get(&other, (0, 5)).is_none(), "another kind's page");
        // a request that read its version before a write neither uses nor keeps a page
        assert!(pages.get(&key, (0, 4)).is_none());
        pages.put(key.clone(), (0, 4), Arc::new(json!({"total": 0})));
        assert_eq!(pages.get(&key, (0, 5)), Some(page.clone()));
        // a write through this process retires every kept page
        assert!(pages.get(&key, (1, 5)).is_none());
        pages.put(key.clone(), (1, 5), page.clone());
        assert_eq!(pages.get(&key, (1, 5)), Some(page.clone()));
        // and so does the index applying another process's change
        assert!(pages.get(&key, (1, 6)).is_none());
        assert!(pages.get(&key, (1, 6)).is_none(), "it stays retired");
        // a version newer in one count and older in the other is not used or adopted
        pages.put(key.clone(), (1, 6), page.clone());
        assert!(pages.get(&key, (2, 5)).is_none());
        assert_eq!(pages.get(&key, (1, 6)), Some(page));
    }

    #[test]
    fn only_the_first_pages_of_modest_size_are_kept() {
        assert!(PublicPages::keeps(20, 0));
        assert!(PublicPages::keeps(100, 180));
        assert!(!PublicPages::keeps(101, 0), "a bulk read");
        assert!(!PublicPages::keeps(20, 200), "deep in the list");
    }
}
