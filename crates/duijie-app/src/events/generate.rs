//! Generating a pairing: the run, its lock across servers, seating and the stored report.

use super::*;
use crate::codes::Code;

/// What is stored beside the meetings of a pairing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredReport {
    /// Format the pairing was made for.
    pub format: EventFormat,
    /// Participants with fewer meetings than their capacity.
    pub unplaced: Vec<Unplaced>,
    /// Assigned meetings without slot or table.
    pub unseated: Vec<Unseated>,
    /// "must" pairs that were dropped.
    pub ignored_forced: Vec<IgnoredForced>,
    /// Solver counters.
    pub stats: Stats,
    /// Every pair that may meet.
    pub candidates: Vec<CandidateMeta>,
    /// Table names made by the layout (roundtable themes).
    pub table_names: Vec<String>,
    /// With a cap per organisation: how much total score the cap cost (the same event
    /// solved without it scores this much more; 0 when the cap did not bind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_cost: Option<f64>,
}

pub(super) struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub(super) fn pair_error(e: duijie_match::PairError) -> AppError {
    match e {
        duijie_match::PairError::Cancelled => AppError::Unavailable("pairing was cancelled".into()),
        e => AppError::Conflict {
            code: Code::of(e.code(), ErrorKind::Conflict),
            message: format!("{} / {e}", e.message_zh()),
        },
    }
}

/// Generates the event's pairing and schedule, replacing the previous one.
#[tracing::instrument(skip_all, fields(event_id))]
pub async fn generate(ctx: &App, event_id: i64) -> Result<PairingView, AppError> {
    let started = std::time::Instant::now();
    // one generation per event at a time, across every process on this database; the lease
    // outlives the solver's deadline, so only a killed process leaves a lock to lapse
    let holder = format!("{}-{}", std::process::id(), crate::auth::random_hex(8)?);
    let lease_ms = (SOLVE_TIMEOUT.as_millis() as i64) * 3;
    if !ctx
        .store
        .try_lock_pairing(event_id, &holder, lease_ms)
        .await?
    {
        return Err(AppError::Conflict {
            code: Code::PAIRING_RUNNING,
            message: "该对接会正在生成对接安排，请等它完成后再试 / pairing of this event is already running; try again when it has finished".into(),
        });
    }
    let r = generate_run(ctx, event_id, started).await;
    if let Err(e) = ctx.store.unlock_pairing(event_id, &holder).await {
        tracing::warn!(event_id, error = %e, "releasing the pairing lock failed; it lapses with its lease");
    }
    ctx.metrics
        .pairing_run(crate::metrics::Outcome::of(&r), started.elapsed());
    r
}

pub(super) async fn generate_run(
    ctx: &App,
    event_id: i64,
    started: std::time::Instant,
) -> Result<PairingView, AppError> {
    let e = load(ctx, event_id).await?;
    check_writable(&e, true)?;
    let participants = ctx.store.participants(event_id).await?;
    let prefs = ctx.store.preferences(event_id).await?;

    let (enterprises, partners) = sides_of(&participants);
    let need_ids: Vec<i64> = enterprises
        .iter()
        .flat_map(|x| x.needs.iter().copied())
        .collect();
    let need_texts = ctx
        .store
        .listing_texts(ListingKind::Need, &need_ids)
        .await?;
    let mut partner_texts = Vec::new();
    for kind in [ListingKind::Result, ListingKind::Expert] {
        let ids: Vec<i64> = partners
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.id)
            .collect();
        partner_texts.extend(ctx.store.listing_texts(kind, &ids).await?);
    }
    let need_scores = {
        let ctx = ctx.clone();
        tokio::task::spawn_blocking(move || event_scores(&ctx, &need_texts, &partner_texts))
            .await??
    };
    let mut built = build_instance(&e, &enterprises, &partners, &need_scores, &prefs);
    // what participants answered about the provisional agenda: declined pairs are
    // forbidden, confirmed meetings keep their place and the rest is solved around them
    let answers = ctx.store.meeting_answers(event_id).await?;
    apply_declined(&mut built, &answers);
    let (solver_instance, pinned) = pin_confirmed(&e, &built.instance, &answers);
    if e.format.is_grouped() {
        built.instance.forced = solver_instance.forced.clone();
    }
    let uncapped = uncapped_instance(&e, &solver_instance);
    let solution = solve_with_deadline(event_id, solver_instance).await?;
    // what the cap per organisation costs: the same solve without it
    let cap_cost = match uncapped {
        Some(u) => {
            let free = solve_with_deadline(event_id, u).await?;
            Some((((free.total_score - solution.total_score) * 1e6).round() / 1e6).max(0.0))
        }
        None => None,
    };
    let solution = duijie_match::seat_around(&built.instance, &pinned, solution);

    let (placed, unseated, layout_tables) = lay_out(&e, &built.instance, &partners, &solution);
    let rows = rows_of(&placed, &built)?;
    // the stored instance has the event's real slots and tables: edits are checked against them
    let mut stored_instance = built.instance.clone();
    stored_instance.slots = e.slot_count;
    stored_instance.tables = e.table_count;
    let mut stats = solution.stats.clone();
    stats.meetings_placed = rows.len() as u64;
    stats.meetings_unseated = unseated.len() as u64;
    let report = StoredReport {
        format: e.format,
        unplaced: solution.unplaced.clone(),
        unseated,
        ignored_forced: built.ignored_forced,
        stats,
        candidates: built.candidates,
        table_names: layout_tables,
        cap_cost,
    };
    let instance_json = serde_json::to_string(&stored_instance).map_err(internal)?;
    let report_json = serde_json::to_string(&report).map_err(internal)?;
    ctx.store
        .save_pairing(event_id, &instance_json, &report_json, &rows)
        .await?;
    let mut view = pairing_view(ctx, &e).await?;
    view.elapsed_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    tracing::info!(
        event_id,
        meetings = view.meetings,
        enterprises_served = view.enterprises_served,
        unplaced = view.unplaced.len(),
        elapsed_ms = view.elapsed_ms,
        "pairing generated"
    );
    Ok(view)
}

/// The instance without the cap per organisation (groups gone, enterprises back to
/// `max_per_enterprise`), when the event sets one.
fn uncapped_instance(e: &Event, capped: &Instance) -> Option<Instance> {
    let cap = e.self_service.max_per_organization;
    if cap == 0 {
        return None;
    }
    let mut u = capped.clone();
    u.groups.clear();
    let extra = (e.max_per_enterprise - cap).max(0);
    for p in &mut u.enterprises {
        p.capacity += extra;
    }
    Some(u)
}

/// The two sides of an event's instance: enterprises with their published needs, and the
/// published results and experts, each sorted so the instance is deterministic.
fn sides_of(participants: &[Participant]) -> (Vec<EnterpriseIn>, Vec<PartnerIn>) {
    let published = |l: &duijie_store::ParticipantListing| {
        l.title.is_some() && l.status.as_deref() == Some("published")
    };
    let mut enterprises = Vec::new();
    let mut partners = Vec::new();
    for p in participants {
        let needs: Vec<i64> = p
            .listings
            .iter()
            .filter(|l| l.kind == ListingKind::Need && published(l))
            .map(|l| l.id)
            .collect();
        if !needs.is_empty() {
            enterprises.push(EnterpriseIn {
                org_id: p.organization_id,
                needs,
            });
        }
        for l in p
            .listings
            .iter()
            .filter(|l| l.kind != ListingKind::Need && published(l))
        {
            partners.push(PartnerIn {
                kind: l.kind,
                id: l.id,
                org_id: p.organization_id,
                industry: l.industry.clone(),
            });
        }
    }
    enterprises.sort_by_key(|x| x.org_id);
    partners.sort_by_key(|p| (p.kind, p.id));
    (enterprises, partners)
}

/// Solves on a blocking thread, cancelled (and answered 503) past [`SOLVE_TIMEOUT`].
async fn solve_with_deadline(event_id: i64, instance: Instance) -> Result<Solution, AppError> {
    let cancel = Arc::new(AtomicBool::new(false));
    let _guard = CancelOnDrop(cancel.clone());
    let opts = SolveOptions {
        cancel: Some(cancel.clone()),
        progress: Some(Arc::new(move |p: duijie_match::Progress| {
            tracing::debug!(
                event_id,
                phase = p.phase,
                done = p.done,
                total = p.total,
                "pairing progress"
            );
        })),
    };
    let task = tokio::task::spawn_blocking(move || duijie_match::solve(&instance, &opts));
    match tokio::time::timeout(SOLVE_TIMEOUT, task).await {
        Ok(joined) => Ok(joined?.map_err(pair_error)?),
        Err(_) => {
            cancel.store(true, Ordering::Relaxed);
            Err(AppError::Unavailable(format!(
                "pairing of event {event_id} exceeded {SOLVE_TIMEOUT:?}"
            )))
        }
    }
}

/// The stored meetings of placed pairs, with their need, base score and forced flag from
/// the candidates the instance was built from.
fn rows_of(placed: &[PlacedPair], built: &Built) -> Result<Vec<PairingDraft>, AppError> {
    let meta: HashMap<(&str, &str), &CandidateMeta> = built
        .candidates
        .iter()
        .map(|c| ((c.enterprise.as_str(), c.partner.as_str()), c))
        .collect();
    let forced: HashSet<(&str, &str)> = built
        .instance
        .forced
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut rows = Vec::with_capacity(placed.len());
    for p in placed {
        let (Some(org), Some((kind, pid))) = (
            parse_enterprise_key(&p.enterprise),
            parse_partner_key(&p.result),
        ) else {
            return Err(internal(format!(
                "solver returned unknown ids {} {}",
                p.enterprise, p.result
            )));
        };
        let m = meta.get(&(p.enterprise.as_str(), p.result.as_str()));
        rows.push(PairingDraft {
            enterprise_id: org,
            need_id: m.map(|m| m.need_id).unwrap_or(0),
            partner_kind: kind,
            partner_id: pid,
            score: p.score,
            base_score: m.map(|m| m.base_score).unwrap_or(0.0),
            slot: i64::from(p.slot),
            table: i64::from(p.table),
            forced: forced.contains(&(p.enterprise.as_str(), p.result.as_str())),
            origin: "solver".into(),
        });
    }
    Ok(rows)
}

/// Labels a reason of the grouped layouts (`中文 / English`) as the heuristic's: unlike a
/// fair's seating, which the solver makes optimal, these layouts are greedy and another
/// arrangement might seat the meeting.
fn heuristic_reason(reason: &str) -> String {
    let (zh, en) = reason.split_once(" / ").unwrap_or((reason, reason));
    format!("{zh}（启发式排座，未必最优） / {en} (heuristic layout, not necessarily optimal)")
}

/// Places the solution's meetings according to the event's format; returns the placed
/// meetings, the unseated ones and table names made by the layout.
pub(super) fn lay_out(
    e: &Event,
    instance: &Instance,
    partners: &[PartnerIn],
    solution: &Solution,
) -> (Vec<PlacedPair>, Vec<Unseated>, Vec<String>) {
    if e.format == EventFormat::Fair {
        return (
            solution.pairs.clone(),
            solution.unseated.clone(),
            Vec::new(),
        );
    }
    let ent_idx: HashMap<&str, usize> = instance
        .enterprises
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let par_idx: HashMap<&str, usize> = instance
        .results
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let all: Vec<(&str, &str, f64)> = solution
        .pairs
        .iter()
        .map(|p| (p.enterprise.as_str(), p.result.as_str(), p.score))
        .chain(
            solution
                .unseated
                .iter()
                .map(|u| (u.enterprise.as_str(), u.result.as_str(), u.score)),
        )
        .collect();
    let meetings: Vec<LayoutMeeting> = all
        .iter()
        .filter_map(|(a, b, s)| Some((*ent_idx.get(a)?, *par_idx.get(b)?, *s)))
        .collect();
    let (slots, tables) = (e.slot_count as usize, e.table_count as usize);
    let (layout, names) = if e.format == EventFormat::Parlour {
        (
            layout_parlour(
                &meetings,
                instance.enterprises.len(),
                instance.results.len(),
                slots,
                tables,
            ),
            Vec::new(),
        )
    } else {
        let industries: Vec<Option<String>> = partners.iter().map(|p| p.industry.clone()).collect();
        let (home, seated) = roundtable_tables(&industries, &e.themes, tables);
        let names = seated
            .iter()
            .map(|g| {
                g.iter()
                    .map(|i| {
                        i.as_deref()
                            .map(|c| {
                                duijie_domain::label(duijie_domain::vocab::INDUSTRIES, c)
                                    .unwrap_or(c)
                                    .to_string()
                            })
                            .unwrap_or_else(|| "综合".into())
                    })
                    .collect::<Vec<_>>()
                    .join("、")
            })
            .collect();
        (
            layout_roundtable(
                &meetings,
                instance.enterprises.len(),
                &home,
                slots,
                tables,
                e.seats_per_table as usize,
            ),
            names,
        )
    };
    let (placed, dropped) = layout;
    let mut pairs: Vec<PlacedPair> = placed
        .iter()
        .map(|&(k, slot, table)| {
            let (a, b, s) = meetings[k];
            PlacedPair {
                enterprise: instance.enterprises[a].id.clone(),
                result: instance.results[b].id.clone(),
                score: s,
                slot,
                table,
            }
        })
        .collect();
    pairs.sort_by(|x, y| {
        (x.slot, x.table, &x.enterprise, &x.result).cmp(&(
            y.slot,
            y.table,
            &y.enterprise,
            &y.result,
        ))
    });
    let unseated = dropped
        .into_iter()
        .map(|(k, reason)| {
            let (a, b, s) = meetings[k];
            Unseated {
                enterprise: instance.enterprises[a].id.clone(),
                result: instance.results[b].id.clone(),
                score: s,
                reason: heuristic_reason(&reason),
            }
        })
        .collect();
    (pairs, unseated, names)
}
