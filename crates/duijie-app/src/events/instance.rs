//! Building the solver instance from an event (pure).

use super::*;

/// Solver id of an enterprise organisation.
pub fn enterprise_key(org: i64) -> String {
    format!("e{org}")
}

/// Solver id of a result or expert.
pub fn partner_key(kind: ListingKind, id: i64) -> String {
    match kind {
        ListingKind::Expert => format!("x{id}"),
        _ => format!("r{id}"),
    }
}

pub(super) fn parse_enterprise_key(s: &str) -> Option<i64> {
    s.strip_prefix('e')?.parse().ok()
}

pub(super) fn parse_partner_key(s: &str) -> Option<(ListingKind, i64)> {
    match s.split_at_checked(1)? {
        ("r", id) => Some((ListingKind::Result, id.parse().ok()?)),
        ("x", id) => Some((ListingKind::Expert, id.parse().ok()?)),
        _ => None,
    }
}

/// An enterprise taking part with its needs.
#[derive(Debug, Clone)]
pub struct EnterpriseIn {
    /// Organisation id.
    pub org_id: i64,
    /// Its participating, published needs.
    pub needs: Vec<i64>,
}

/// A result or expert taking part.
#[derive(Debug, Clone)]
pub struct PartnerIn {
    /// Result or expert.
    pub kind: ListingKind,
    /// Listing id.
    pub id: i64,
    /// Owning organisation.
    pub org_id: i64,
    /// Industry code (roundtable tables).
    pub industry: Option<String>,
}

/// What a pair of the instance stands for: the need the meeting is recorded with and the
/// score before preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateMeta {
    /// Enterprise key.
    pub enterprise: String,
    /// Partner key.
    pub partner: String,
    /// The need the meeting is recorded with (0 when the enterprise has none).
    pub need_id: i64,
    /// Matching score before preferences.
    pub base_score: f64,
}

/// A "must" that could not be honoured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IgnoredForced {
    /// Enterprise key.
    pub enterprise: String,
    /// Partner key.
    pub partner: String,
    /// `conflicts` or `capacity`.
    pub reason_code: String,
    /// `中文 / English`.
    pub reason: String,
}

/// An event turned into a solver instance.
#[derive(Debug, Clone)]
pub struct Built {
    /// The instance.
    pub instance: Instance,
    /// Every pair that may meet, with its need and base score.
    pub candidates: Vec<CandidateMeta>,
    /// Forced pairs that were dropped.
    pub ignored_forced: Vec<IgnoredForced>,
}

#[derive(Debug, Default)]
pub(super) struct Agg {
    pub(super) forbid: bool,
    /// The honoured "must": the oldest one's id and need.
    pub(super) must: Option<(i64, Option<i64>)>,
    pub(super) ent_like: bool,
    pub(super) uni_like: bool,
    /// A participant's "must" set aside because the other side did not wish the pair
    /// (the event's `mutual_only`); it counts as a like.
    pub(super) one_sided: bool,
}

/// A candidate pair: the enterprise's organisation, the partner's kind and id.
type PairKey = (i64, ListingKind, i64);

/// The best-scoring need of each enterprise for each partner (ties: the lowest need id),
/// among the event's participants and finite positive scores.
fn best_needs(
    need_scores: &[(i64, ListingKind, i64, f64)],
    need_org: &HashMap<i64, i64>,
    partner_org: &HashMap<(ListingKind, i64), i64>,
) -> BTreeMap<PairKey, (f64, i64)> {
    let mut best: BTreeMap<(i64, ListingKind, i64), (f64, i64)> = BTreeMap::new();
    for &(need, kind, pid, score) in need_scores {
        let (Some(&org), true) = (need_org.get(&need), partner_org.contains_key(&(kind, pid)))
        else {
            continue;
        };
        if !(score.is_finite() && score > 0.0) {
            continue;
        }
        let cur = best.entry((org, kind, pid)).or_insert((score, need));
        if score > cur.0 || (score == cur.0 && need < cur.1) {
            *cur = (score, need);
        }
    }
    best
}

/// What the preferences say of each pair, oldest first so the first honoured "must" wins.
/// With `mutual_only`, a participant's "must" is honoured only when the other side wished
/// the pair too (must or like); otherwise it counts as a like and is marked one-sided. The
/// organisers' "must" is always honoured.
pub(super) fn aggregate_preferences(
    prefs: &[Preference],
    ent_set: &HashSet<i64>,
    partner_org: &HashMap<(ListingKind, i64), i64>,
    mutual_only: bool,
) -> BTreeMap<PairKey, Agg> {
    #[derive(Default)]
    struct Musts {
        organizer: Option<(i64, Option<i64>)>,
        enterprise: Option<(i64, Option<i64>)>,
        university: Option<(i64, Option<i64>)>,
    }
    let mut agg: BTreeMap<(i64, ListingKind, i64), Agg> = BTreeMap::new();
    let mut musts: BTreeMap<PairKey, Musts> = BTreeMap::new();
    let mut prefs: Vec<&Preference> = prefs.iter().collect();
    prefs.sort_by_key(|p| p.id);
    for p in &prefs {
        if !ent_set.contains(&p.enterprise_id)
            || !partner_org.contains_key(&(p.partner_kind, p.partner_id))
        {
            continue;
        }
        let k = (p.enterprise_id, p.partner_kind, p.partner_id);
        let a = agg.entry(k).or_default();
        match p.preference {
            PreferenceKind::No | PreferenceKind::Conflict => a.forbid = true,
            PreferenceKind::Must => {
                let m = musts.entry(k).or_default();
                let slot = match p.side {
                    Side::Organizer => &mut m.organizer,
                    Side::Enterprise => &mut m.enterprise,
                    Side::University => &mut m.university,
                };
                slot.get_or_insert((p.id, p.need_id));
            }
            PreferenceKind::Like if p.side == Side::Enterprise => a.ent_like = true,
            PreferenceKind::Like => a.uni_like = true,
        }
    }
    for (k, m) in musts {
        let a = agg.entry(k).or_default();
        let ent_wish = a.ent_like || m.enterprise.is_some();
        let uni_wish = a.uni_like || m.university.is_some();
        let mut honoured = Vec::new();
        honoured.extend(m.organizer);
        for (own, other_wished, like) in [
            (m.enterprise, uni_wish, &mut a.ent_like),
            (m.university, ent_wish, &mut a.uni_like),
        ] {
            let Some(own) = own else { continue };
            if !mutual_only || other_wished {
                honoured.push(own);
            } else {
                *like = true;
                a.one_sided = true;
            }
        }
        a.must = honoured.into_iter().min_by_key(|m| m.0);
    }
    agg
}

/// The forced pairs that fit, oldest "must" first, and the ones that cannot be forced
/// with the reason (a conflict, or capacities, slots or tables already full).
fn forced_pairs(
    e: &Event,
    (slots, tables): (i64, i64),
    agg: &BTreeMap<PairKey, Agg>,
    forbidden: &dyn Fn(&PairKey) -> bool,
    same_org: &dyn Fn(i64, ListingKind, i64) -> bool,
    cap_of: &dyn Fn(ListingKind) -> i64,
    partner_org: &HashMap<(ListingKind, i64), i64>,
) -> (Vec<(String, String)>, Vec<IgnoredForced>) {
    let org_cap = e.self_service.max_per_organization;
    let ent_cap = enterprise_capacity(e);
    let grouped = e.format.is_grouped();
    let mut musts: Vec<(i64, (i64, ListingKind, i64))> = agg
        .iter()
        .filter_map(|(k, a)| a.must.map(|m| (m.0, *k)))
        .collect();
    musts.sort();
    let mut forced = Vec::new();
    let mut ignored_forced = Vec::new();
    let mut n_e: HashMap<i64, i64> = HashMap::new();
    let mut n_p: HashMap<(ListingKind, i64), i64> = HashMap::new();
    let mut n_org: HashMap<i64, i64> = HashMap::new();
    for (_, k) in musts {
        let (ek, pk) = (enterprise_key(k.0), partner_key(k.1, k.2));
        if forbidden(&k) {
            let (zh, en) = if same_org(k.0, k.1, k.2) {
                ("同一单位不安排会谈", "an organization does not meet itself")
            } else {
                (
                    "一方表示不必会谈或声明了利益冲突",
                    "one side said no or declared a conflict",
                )
            };
            ignored_forced.push(IgnoredForced {
                enterprise: ek,
                partner: pk,
                reason_code: "conflicts".into(),
                reason: format!("{zh} / {en}"),
            });
            continue;
        }
        let ce = n_e.get(&k.0).copied().unwrap_or(0);
        let cp = n_p.get(&(k.1, k.2)).copied().unwrap_or(0);
        let slot_limit = if grouped { i64::MAX } else { slots };
        let org = partner_org.get(&(k.1, k.2)).copied();
        let co = org.and_then(|o| n_org.get(&o)).copied().unwrap_or(0);
        let over_cap = ce >= ent_cap || cp >= cap_of(k.1) || (org_cap > 0 && co >= org_cap);
        let over_slots = ce >= slot_limit
            || cp >= slot_limit
            || (!grouped && forced.len() as i64 >= slots * tables);
        if over_cap || over_slots {
            let (zh, en) = if over_cap {
                (
                    "指定会谈已达到容量上限",
                    "the forced meetings already reach a capacity",
                )
            } else {
                (
                    "指定会谈已占满时段或桌位",
                    "the forced meetings already fill the slots or tables",
                )
            };
            ignored_forced.push(IgnoredForced {
                enterprise: ek,
                partner: pk,
                reason_code: "capacity".into(),
                reason: format!("{zh} / {en}"),
            });
            continue;
        }
        *n_e.entry(k.0).or_default() += 1;
        *n_p.entry((k.1, k.2)).or_default() += 1;
        if let Some(o) = org {
            *n_org.entry(o).or_default() += 1;
        }
        forced.push((ek, pk));
    }
    (forced, ignored_forced)
}

/// An enterprise's capacity: `max_per_enterprise`, within the cap per organisation.
fn enterprise_capacity(e: &Event) -> i64 {
    match e.self_service.max_per_organization {
        0 => e.max_per_enterprise,
        cap => e.max_per_enterprise.min(cap),
    }
}

/// The cap per organisation on the university side: one solver group per organisation
/// bringing results or experts, holding all of them (none without a cap).
fn organisation_groups(e: &Event, partners: &[PartnerIn]) -> Vec<duijie_match::Group> {
    let cap = e.self_service.max_per_organization;
    if cap == 0 {
        return Vec::new();
    }
    let mut by_org: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for p in partners {
        by_org
            .entry(p.org_id)
            .or_default()
            .push(partner_key(p.kind, p.id));
    }
    by_org
        .into_iter()
        .map(|(org, members)| duijie_match::Group {
            id: format!("o{org}"),
            capacity: cap,
            members,
        })
        .collect()
}

/// Builds the solver instance of an event (see the module documentation). `grouped`
/// formats get unbounded slots and tables: their own layout places the meetings.
pub fn build_instance(
    e: &Event,
    enterprises: &[EnterpriseIn],
    partners: &[PartnerIn],
    need_scores: &[(i64, ListingKind, i64, f64)],
    prefs: &[Preference],
) -> Built {
    let grouped = e.format.is_grouped();
    let (slots, tables) = if grouped {
        (UNBOUNDED, UNBOUNDED)
    } else {
        (e.slot_count, e.table_count)
    };
    let need_org: HashMap<i64, i64> = enterprises
        .iter()
        .flat_map(|x| x.needs.iter().map(move |n| (*n, x.org_id)))
        .collect();
    let ent_set: HashSet<i64> = enterprises.iter().map(|x| x.org_id).collect();
    let partner_org: HashMap<(ListingKind, i64), i64> = partners
        .iter()
        .map(|p| ((p.kind, p.id), p.org_id))
        .collect();
    let first_need: HashMap<i64, i64> = enterprises
        .iter()
        .map(|x| (x.org_id, x.needs.iter().copied().min().unwrap_or(0)))
        .collect();

    let best = best_needs(need_scores, &need_org, &partner_org);
    let agg = aggregate_preferences(prefs, &ent_set, &partner_org, e.self_service.mutual_only);
    let same_org =
        |org: i64, kind: ListingKind, pid: i64| partner_org.get(&(kind, pid)) == Some(&org);
    let forbidden = |k: &(i64, ListingKind, i64)| {
        agg.get(k).is_some_and(|a| a.forbid) || same_org(k.0, k.1, k.2)
    };

    let mut keys: BTreeSet<(i64, ListingKind, i64)> = best.keys().copied().collect();
    keys.extend(
        agg.iter()
            .filter(|(_, a)| a.ent_like || a.uni_like || a.must.is_some())
            .map(|(k, _)| *k),
    );
    let mut scores = Vec::new();
    let mut protected = Vec::new();
    let mut candidates = Vec::new();
    let mut forbidden_pairs = Vec::new();
    let mut forbidden_scores = Vec::new();
    for k in &keys {
        let (ek, pk) = (enterprise_key(k.0), partner_key(k.1, k.2));
        if forbidden(k) {
            // kept in the scores (the solver never uses a forbidden pair) so that shortfalls
            // are explained as conflicts rather than as a lack of candidates
            if let Some((base, _)) = best.get(k) {
                forbidden_scores.push(ScoreEntry {
                    enterprise: ek.clone(),
                    result: pk.clone(),
                    score: (base * 1e6).round() / 1e6,
                });
            }
            forbidden_pairs.push((ek, pk));
            continue;
        }
        let a = agg.get(k);
        let (base, need) = best.get(k).copied().unwrap_or((0.0, 0));
        let must_need = a
            .and_then(|a| a.must)
            .and_then(|m| m.1)
            .filter(|n| need_org.get(n) == Some(&k.0));
        let need = must_need.unwrap_or(if need != 0 {
            need
        } else {
            first_need.get(&k.0).copied().unwrap_or(0)
        });
        let likes = a
            .map(|a| u8::from(a.ent_like) + u8::from(a.uni_like))
            .unwrap_or(0);
        let score =
            base + LIKE_BONUS * f64::from(likes) + if likes == 2 { MUTUAL_BONUS } else { 0.0 };
        candidates.push(CandidateMeta {
            enterprise: ek.clone(),
            partner: pk.clone(),
            need_id: need,
            base_score: base,
        });
        if score > 0.0 {
            protected.push(likes > 0 || a.is_some_and(|a| a.must.is_some()));
            scores.push(ScoreEntry {
                enterprise: ek,
                result: pk,
                score: (score * 1e6).round() / 1e6,
            });
        }
    }
    let cap_of = |kind: ListingKind| {
        if kind == ListingKind::Expert {
            e.max_per_expert
        } else {
            e.max_per_result
        }
    };
    let k_e = (SPARSIFY_FACTOR * e.max_per_enterprise as usize).max(SPARSIFY_MIN);
    let k_r = (SPARSIFY_FACTOR * e.max_per_result.max(e.max_per_expert) as usize).max(SPARSIFY_MIN);
    let kept: HashSet<(String, String)> = duijie_match::sparsify(&scores, k_e, k_r)
        .into_iter()
        .map(|s| (s.enterprise, s.result))
        .collect();
    let mut scores: Vec<ScoreEntry> = scores
        .into_iter()
        .zip(protected)
        .filter(|(s, p)| *p || kept.contains(&(s.enterprise.clone(), s.result.clone())))
        .map(|(s, _)| s)
        .collect();
    scores.extend(forbidden_scores);

    let (forced, ignored_forced) = forced_pairs(
        e,
        (slots, tables),
        &agg,
        &forbidden,
        &same_org,
        &cap_of,
        &partner_org,
    );
    let instance = Instance {
        enterprises: enterprises
            .iter()
            .map(|x| Party {
                id: enterprise_key(x.org_id),
                capacity: enterprise_capacity(e),
            })
            .collect(),
        results: partners
            .iter()
            .map(|p| Party {
                id: partner_key(p.kind, p.id),
                capacity: cap_of(p.kind),
            })
            .collect(),
        scores,
        forbidden: forbidden_pairs,
        forced,
        min_score: e.min_score,
        slots,
        tables,
        groups: organisation_groups(e, partners),
    };
    Built {
        instance,
        candidates,
        ignored_forced,
    }
}
