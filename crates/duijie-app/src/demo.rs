//! Loads the generated demo data set (crate `duijie-demo`) into an empty store, through
//! the same validation as every other write, so the demo can never hold what a user could
//! not have entered.

use crate::app::App;
use crate::listings::{self, Entity};
pub use duijie_demo::{DemoData, generate};
use duijie_domain::{ListingKind, input};
use duijie_store::{Draft, ImportOutcome};
use serde_json::{Value, json};

/// How many records of each kind were loaded.
#[derive(Debug, Default, Clone, Copy)]
pub struct DemoCounts {
    /// Organisations.
    pub organizations: usize,
    /// Results.
    pub results: usize,
    /// Needs.
    pub needs: usize,
    /// Experts.
    pub experts: usize,
}

/// True when the store holds nothing at all (a fresh data directory).
pub async fn store_is_empty(ctx: &App) -> Result<bool, duijie_store::StoreError> {
    if ctx.store.count_organizations().await? > 0 {
        return Ok(false);
    }
    for k in ListingKind::ALL {
        if ctx.store.count(k).await? > 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

fn obj(v: Value) -> input::Record {
    match v {
        Value::Object(m) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => input::Record::new(),
    }
}

async fn load(ctx: &App, entity: Entity, records: Vec<input::Record>) -> Result<usize, String> {
    let mut drafts: Vec<Draft> = Vec::with_capacity(records.len());
    for r in &records {
        let d = listings::validate(ctx, entity, r).map_err(|e| {
            format!(
                "demo {} record {:?} is invalid: {e}",
                entity.label_en(),
                r.get("external_id")
            )
        })?;
        drafts.push(d);
    }
    let mut n = 0;
    for chunk in drafts.chunks(500) {
        for o in ctx
            .store
            .import_batch(chunk)
            .await
            .map_err(|e| e.to_string())?
        {
            match o {
                ImportOutcome::Failed { code, message } => {
                    return Err(format!(
                        "demo {} refused: {code}: {message}",
                        entity.label_en()
                    ));
                }
                _ => n += 1,
            }
        }
    }
    Ok(n)
}

/// Loads the demo set and makes it searchable.
pub async fn load_demo(ctx: &App) -> Result<DemoCounts, String> {
    let data: DemoData = tokio::task::spawn_blocking(duijie_demo::generate)
        .await
        .map_err(|e| e.to_string())?;
    let orgs = data
        .organizations
        .iter()
        .map(|o| obj(json!({"external_id": o.external_id, "name": o.name, "kind": o.kind, "city": o.city, "website": o.website, "description": o.description})))
        .collect();
    let results = data
        .results
        .iter()
        .map(|r| {
            obj(json!({
                "external_id": r.external_id, "organization_external_id": r.org_external_id, "title": r.title, "summary": r.summary,
                "keywords": r.keywords, "industry": r.industry, "maturity": r.maturity, "trl": r.trl, "transfer_modes": r.transfer_modes,
                "price_min": r.price_min, "price_max": r.price_max,
                "patents": r.patents.iter().map(|p| json!({"number": p.number, "title": p.title})).collect::<Vec<_>>(),
                "team": r.team, "contact": {"name": r.contact_name, "phone": r.contact_phone, "email": r.contact_email}, "status": r.status,
            }))
        })
        .collect();
    let needs = data
        .needs
        .iter()
        .map(|n| {
            obj(json!({
                "external_id": n.external_id, "organization_external_id": n.org_external_id, "title": n.title, "description": n.description,
                "keywords": n.keywords, "industry": n.industry, "cooperation_modes": n.cooperation_modes, "budget_min": n.budget_min,
                "budget_max": n.budget_max, "deadline": n.deadline, "required_maturity": n.required_maturity,
                "contact": {"name": n.contact_name, "phone": n.contact_phone, "email": n.contact_email}, "status": n.status,
            }))
        })
        .collect();
    let experts = data
        .experts
        .iter()
        .map(|e| {
            obj(json!({
                "external_id": e.external_id, "organization_external_id": e.org_external_id, "name": e.name, "title": e.title,
                "research_areas": e.research_areas, "keywords": e.keywords, "summary": e.summary, "industry": e.industry,
                "contact": {"phone": e.contact_phone, "email": e.contact_email},
            }))
        })
        .collect();
    let counts = DemoCounts {
        organizations: load(ctx, Entity::Organization, orgs).await?,
        results: load(ctx, Entity::Listing(ListingKind::Result), results).await?,
        needs: load(ctx, Entity::Listing(ListingKind::Need), needs).await?,
        experts: load(ctx, Entity::Listing(ListingKind::Expert), experts).await?,
    };
    ctx.make_searchable().await.map_err(|e| e.to_string())?;
    Ok(counts)
}

/// A demo account: who it is and its password (shown in demo mode only).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Sign-in e-mail.
    pub email: String,
    /// Role code.
    pub role: &'static str,
    /// Organisation name.
    pub organization: Option<String>,
    /// The generated password.
    pub password: String,
}

/// Name of the file in the data directory that keeps the demo accounts, so they can be
/// shown again at later starts in demo mode.
pub const DEMO_ACCOUNTS_FILE: &str = "demo-accounts.txt";

/// Creates one account per role over the demo data, with random passwords, and writes them
/// to the data directory (readable by its owner only).
pub async fn create_demo_accounts(ctx: &App) -> Result<Vec<DemoAccount>, String> {
    use crate::accounts::{NewAccount, OrgChoice, register};
    let first_org = |v: Value| {
        v["items"][0]["organization"]["name"]
            .as_str()
            .map(str::to_string)
    };
    let published = duijie_store::ListFilter {
        status: Some("published".into()),
        ..Default::default()
    };
    let need = listings::list(
        ctx,
        Entity::Listing(ListingKind::Need),
        &published,
        1,
        0,
        duijie_domain::Viewer::Public,
    )
    .await
    .map_err(|e| e.to_string())?;
    let result = listings::list(
        ctx,
        Entity::Listing(ListingKind::Result),
        &published,
        1,
        0,
        duijie_domain::Viewer::Public,
    )
    .await
    .map_err(|e| e.to_string())?;
    let plan = [
        ("qiye@demo.example", "enterprise", first_org(need)),
        ("keyan@demo.example", "researcher", first_org(result)),
        (
            "zuzhi@demo.example",
            "organizer",
            Some("辽宁省教育厅".to_string()),
        ),
        ("jingjiren@demo.example", "broker", None),
        ("admin@demo.example", "admin", None),
    ];
    let caller = crate::auth::Caller::local("demo");
    let mut out = Vec::new();
    for (email, role, org) in plan {
        let password = crate::auth::random_hex(6).map_err(|e| e.to_string())?;
        register(
            ctx,
            &caller,
            NewAccount {
                email: email.into(),
                name: None,
                role: role.into(),
                organization: org.clone().map(OrgChoice::Name).unwrap_or(OrgChoice::None),
                password: Some(password.clone()),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        out.push(DemoAccount {
            email: email.into(),
            role,
            organization: org,
            password,
        });
    }
    ctx.make_searchable().await.map_err(|e| e.to_string())?;
    // a few connection requests, so the inboxes are not empty either; the demo stays
    // usable without them
    if let Err(e) = create_demo_connections(ctx).await {
        tracing::warn!(error = %e, "the demo connection requests could not be created");
    }
    let text = describe_accounts(&out);
    let path = ctx.settings.data.dir.join(DEMO_ACCOUNTS_FILE);
    std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(out)
}

/// Two connection requests between the demo accounts' organisations: one the researcher's
/// organisation has yet to answer, and one from the same need that another university
/// accepted with a meeting next week (its ledger entry opened). Written straight to the
/// store: demo data sends no mail.
async fn create_demo_connections(ctx: &App) -> Result<(), String> {
    use duijie_store::{ConnectionChange, EntryDraft, LedgerActor, NewConnection, Outgoing, Quota};
    let err = |e: duijie_store::StoreError| e.to_string();
    let (Some((ent, _)), Some((res, _))) = (
        ctx.store
            .user_by_email("qiye@demo.example")
            .await
            .map_err(err)?,
        ctx.store
            .user_by_email("keyan@demo.example")
            .await
            .map_err(err)?,
    ) else {
        return Ok(());
    };
    let (Some(ent_org), Some(res_org)) = (ent.organization_id, res.organization_id) else {
        return Ok(());
    };
    let of = |org: Option<i64>| duijie_store::ListFilter {
        organization_id: org,
        status: Some("published".into()),
        ..Default::default()
    };
    let needs = ctx
        .store
        .needs(&of(Some(ent_org)), 1, 0)
        .await
        .map_err(err)?;
    let results = ctx
        .store
        .results(&of(Some(res_org)), 1, 0)
        .await
        .map_err(err)?;
    let others = ctx.store.results(&of(None), 50, 0).await.map_err(err)?;
    let (Some(need), Some(result)) = (needs.items.first(), results.items.first()) else {
        return Ok(());
    };
    let other = others.items.iter().find(|r| {
        r.organization
            .as_ref()
            .is_some_and(|o| o.id != res_org && o.id != ent_org)
    });
    let actor = LedgerActor {
        user_id: Some(ent.id),
        name: ent.email.clone(),
    };
    let quota = Quota {
        max_open: i64::MAX,
        max_per_day: i64::MAX,
    };
    let expires = (chrono::Utc::now() + chrono::Duration::days(14))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let request = |to_id: i64, to_org: i64, note: &str| NewConnection {
        from_kind: "need".into(),
        from_id: need.id,
        from_org_id: ent_org,
        to_kind: "result".into(),
        to_id,
        to_org_id: to_org,
        sender_id: ent.id,
        note: note.into(),
        expires_at: expires.clone(),
        open_key: format!("need:{}|result:{to_id}", need.id),
    };
    ctx.store
        .create_connection(
            &request(
                result.id,
                res_org,
                "我们正在寻找这方面的技术合作，希望约时间详细交流应用场景和转化方式。",
            ),
            quota,
            &actor,
            &Outgoing::default(),
        )
        .await
        .map_err(err)?;
    let Some(other) = other else {
        return Ok(());
    };
    let other_org = other
        .organization
        .as_ref()
        .map(|o| o.id)
        .unwrap_or_default();
    let id = ctx
        .store
        .create_connection(
            &request(other.id, other_org, "希望了解该成果的中试情况。"),
            quota,
            &actor,
            &Outgoing::default(),
        )
        .await
        .map_err(err)?;
    let day = (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(7))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let meeting = duijie_domain::connection::Meeting {
        start: format!("{day}T14:00:00+08:00"),
        end: format!("{day}T15:00:00+08:00"),
        place: Some("沈阳市浑南区科技大厦 3 楼会议室".into()),
        online_url: None,
    };
    let accept = ConnectionChange {
        status: Some("accepted".into()),
        message: Some("欢迎来访，届时由课题组负责人介绍。".into()),
        meeting: Some(json!(meeting).to_string()),
        close: true,
        answers: true,
        feedback_due_at: Some(format!("{day}T07:00:00.000Z")),
        open_entry: Some(EntryDraft {
            enterprise_id: Some(ent_org),
            university_id: Some(other_org),
            need_id: Some(need.id),
            partner_kind: "result".into(),
            partner_id: other.id,
            title: format!("{} ↔ {}", need.title, other.title),
            industry: need.industry.clone(),
            city: need.organization.as_ref().and_then(|o| o.city.clone()),
            year: chrono::Datelike::year(&chrono::Utc::now()) as i64,
        }),
        action: "accepted".into(),
        detail: Some(meeting.describe_zh()),
        ..Default::default()
    };
    let uni = LedgerActor {
        user_id: None,
        name: other
            .organization
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
    };
    ctx.store
        .change_connection(id, &["pending"], None, &accept, &uni, &Outgoing::default())
        .await
        .map_err(err)?;
    Ok(())
}

/// The accounts as printed at start.
pub fn describe_accounts(accounts: &[DemoAccount]) -> String {
    let mut s = String::from(
        "演示账户 / demo accounts (demo data only; change or remove them before real use):\n",
    );
    for a in accounts {
        let role = crate::auth::ROLES
            .iter()
            .find(|(c, _)| *c == a.role)
            .map(|(_, l)| *l)
            .unwrap_or(a.role);
        s.push_str(&format!(
            "  {:<10} {:<22} 密码 / password: {}  {}\n",
            a.role,
            a.email,
            a.password,
            match &a.organization {
                Some(o) => format!("（{role}，{o}）"),
                None => format!("（{role}）"),
            }
        ));
    }
    s
}

/// The demo's example event: a matchmaking event three weeks ago on the demo's hydrogen,
/// steel and medicine themes, invited by theme and paired, with a few outcomes already in
/// the ledger (a meeting, an intention, a signed licence, a declined pair), so the
/// organiser's console, the ledger and the dashboard show something on the first start.
/// Returns the event id.
pub async fn create_demo_event(ctx: &App) -> Result<i64, String> {
    use duijie_domain::ledger::Outcome;
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(21);
    let date = day.format("%Y-%m-%d").to_string();
    let rec = obj(json!({
        "name": "辽宁校企协同创新成果对接会（示例）",
        "date": date,
        "format": "fair",
        "venue": "沈阳国际展览中心",
        "description": "演示数据：按主题邀请参会单位并自动生成的对接安排。",
        "themes": ["new_energy", "metallurgy", "biomedicine"],
        "slot_count": 6,
        "table_count": 12,
        "max_per_enterprise": 3,
        "max_per_result": 2,
    }));
    let e = crate::events::create(ctx, &rec)
        .await
        .map_err(|e| e.to_string())?;
    crate::invite::invite_by_theme(ctx, e.id)
        .await
        .map_err(|e| e.to_string())?;
    crate::events::generate(ctx, e.id)
        .await
        .map_err(|e| e.to_string())?;
    let filter = duijie_store::LedgerFilter {
        event_id: Some(e.id),
        ..Default::default()
    };
    let entries = ctx
        .store
        .ledger(&filter, 4, 0)
        .await
        .map_err(|e| e.to_string())?;
    let actor = duijie_store::LedgerActor {
        user_id: None,
        name: "demo".into(),
    };
    let on = |days: i64| {
        (day + chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    let steps: [(&str, Outcome); 4] = [
        (
            "met",
            Outcome {
                status: "met".into(),
                date: Some(on(0)),
                ..Outcome::default()
            },
        ),
        (
            "intention",
            Outcome {
                status: "intention".into(),
                date: Some(on(7)),
                note: Some("双方同意开展中试合作".into()),
                ..Outcome::default()
            },
        ),
        (
            "contract",
            Outcome {
                status: "contract".into(),
                date: Some(on(14)),
                amount_yuan: Some(1_200_000),
                contract_date: Some(on(14)),
                contract_mode: Some("license".into()),
                ..Outcome::default()
            },
        ),
        (
            "declined",
            Outcome {
                status: "declined".into(),
                date: Some(on(1)),
                reason: Some("企业近期无投入计划".into()),
                ..Outcome::default()
            },
        ),
    ];
    for (entry, (_, outcome)) in entries.items.iter().zip(steps) {
        ctx.store
            .record_outcome(entry.id, &outcome, &actor, None)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(e.id)
}
