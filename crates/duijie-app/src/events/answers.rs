//! What participants answered about their provisional agendas, applied to the next
//! generation (pure): a declined pair is forbidden; a confirmed meeting of a fair keeps its
//! slot and table and the solver re-solves the rest around it.
//!
//! Around confirmed meetings the seating is no longer the solver's exact colouring: the
//! rest is solved optimally with the confirmed meetings taken out of each party's capacity
//! and time slots, then seated greedily (most constrained first, then best score, in the solver's
//! slot when it is free) into the slots and tables the confirmed meetings leave; a meeting that finds no
//! common free slot is reported unseated with that reason. Parlours and roundtables keep a
//! confirmed pair as a meeting (forced) and lay it out again with their heuristic.

use super::*;
use duijie_store::MeetingAnswerRow;

/// A confirmed meeting kept where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Pinned {
    /// Enterprise key.
    pub enterprise: String,
    /// Partner key.
    pub partner: String,
    /// Slot.
    pub slot: u32,
    /// Table.
    pub table: u32,
}

/// The pair key of an answer, as solver ids.
fn keys_of(a: &MeetingAnswerRow) -> (String, String) {
    (
        enterprise_key(a.key.enterprise_id),
        partner_key(a.key.partner_kind, a.key.partner_id),
    )
}

/// Forbids every declined pair of `built` (dropping it from the forced pairs, reported as
/// ignored with the reason).
pub fn apply_declined(built: &mut Built, answers: &[MeetingAnswerRow]) {
    for a in answers.iter().filter(|a| a.declined()) {
        let (ek, pk) = keys_of(a);
        if !built
            .instance
            .forbidden
            .iter()
            .any(|(x, y)| *x == ek && *y == pk)
        {
            built.instance.forbidden.push((ek.clone(), pk.clone()));
        }
        let before = built.instance.forced.len();
        built
            .instance
            .forced
            .retain(|(x, y)| !(*x == ek && *y == pk));
        if built.instance.forced.len() != before {
            built.ignored_forced.push(IgnoredForced {
                enterprise: ek,
                partner: pk,
                reason_code: "declined".into(),
                reason: "参会方已谢绝这场会谈 / a participant declined this meeting".into(),
            });
        }
    }
}

/// The instance the solver gets around the confirmed meetings, and those meetings.
///
/// Fair: a confirmed meeting whose two parties are still in the instance, whose slot and
/// table still exist and which collides with no earlier confirmed meeting is pinned: its
/// pair leaves the candidates, and each party's capacity becomes `min(capacity, slots)`
/// less its pinned meetings. Grouped formats pin nothing; the confirmed pairs are forced.
pub fn pin_confirmed(
    e: &Event,
    instance: &Instance,
    answers: &[MeetingAnswerRow],
) -> (Instance, Vec<Pinned>) {
    let mut out = instance.clone();
    let known_e: HashSet<&str> = instance.enterprises.iter().map(|p| p.id.as_str()).collect();
    let known_p: HashSet<&str> = instance.results.iter().map(|p| p.id.as_str()).collect();
    let confirmed: Vec<(String, String, &MeetingAnswerRow)> = answers
        .iter()
        .filter(|a| a.confirmed())
        .map(|a| {
            let (x, y) = keys_of(a);
            (x, y, a)
        })
        .filter(|(x, y, _)| known_e.contains(x.as_str()) && known_p.contains(y.as_str()))
        .collect();
    if e.format.is_grouped() {
        for (x, y, _) in confirmed {
            if !out.forced.iter().any(|(a, b)| *a == x && *b == y) {
                out.forced.push((x, y));
            }
        }
        return (out, Vec::new());
    }
    let mut busy: HashSet<(String, u32)> = HashSet::new();
    let mut seats: HashSet<(u32, u32)> = HashSet::new();
    let mut pinned = Vec::new();
    for (x, y, a) in confirmed {
        let (Ok(slot), Ok(table)) = (u32::try_from(a.slot), u32::try_from(a.table)) else {
            continue;
        };
        if i64::from(slot) >= instance.slots
            || i64::from(table) >= instance.tables
            || busy.contains(&(x.clone(), slot))
            || busy.contains(&(y.clone(), slot))
            || seats.contains(&(slot, table))
        {
            continue;
        }
        busy.insert((x.clone(), slot));
        busy.insert((y.clone(), slot));
        seats.insert((slot, table));
        pinned.push(Pinned {
            enterprise: x,
            partner: y,
            slot,
            table,
        });
    }
    let mut count: HashMap<&str, i64> = HashMap::new();
    for p in &pinned {
        *count.entry(p.enterprise.as_str()).or_default() += 1;
        *count.entry(p.partner.as_str()).or_default() += 1;
    }
    for party in out.enterprises.iter_mut().chain(out.results.iter_mut()) {
        if let Some(k) = count.get(party.id.as_str()) {
            party.capacity = (party.capacity.min(instance.slots) - k).max(0);
        }
    }
    let is_pinned = |x: &str, y: &str| pinned.iter().any(|p| p.enterprise == x && p.partner == y);
    out.scores.retain(|s| !is_pinned(&s.enterprise, &s.result));
    out.forced.retain(|(x, y)| !is_pinned(x, y));
    (out, pinned)
}

/// Seats the solver's meetings into the slots and tables the pinned meetings leave (see the
/// module documentation); returns the solution with the pinned meetings added, each party's
/// shortfall counted against its whole capacity.
pub fn seat_around(
    instance: &Instance,
    pinned: &[Pinned],
    scores: &HashMap<(String, String), f64>,
    mut solution: Solution,
) -> Solution {
    if pinned.is_empty() {
        return solution;
    }
    let (slots, tables) = (instance.slots.max(0) as u32, instance.tables.max(0) as u32);
    let mut busy: HashSet<(String, u32)> = HashSet::new();
    let mut seats: HashSet<(u32, u32)> = HashSet::new();
    let mut pairs = Vec::new();
    for p in pinned {
        busy.insert((p.enterprise.clone(), p.slot));
        busy.insert((p.partner.clone(), p.slot));
        seats.insert((p.slot, p.table));
        pairs.push(PlacedPair {
            enterprise: p.enterprise.clone(),
            result: p.partner.clone(),
            score: scores
                .get(&(p.enterprise.clone(), p.partner.clone()))
                .copied()
                .unwrap_or(0.0),
            slot: p.slot,
            table: p.table,
        });
    }
    // most constrained first (fewest slots both sides have free with a table left), then
    // best score; the solver's own slot is preferred when it is free
    let mut todo = std::mem::take(&mut solution.pairs);
    while !todo.is_empty() {
        let options =
            |m: &PlacedPair, busy: &HashSet<(String, u32)>, seats: &HashSet<(u32, u32)>| {
                (0..slots)
                    .filter(|s| {
                        !busy.contains(&(m.enterprise.clone(), *s))
                            && !busy.contains(&(m.result.clone(), *s))
                            && (0..tables).any(|t| !seats.contains(&(*s, t)))
                    })
                    .collect::<Vec<u32>>()
            };
        let (k, opts) = todo
            .iter()
            .enumerate()
            .map(|(k, m)| (k, options(m, &busy, &seats)))
            .min_by(|(a, oa), (b, ob)| {
                oa.len()
                    .cmp(&ob.len())
                    .then_with(|| todo[*b].score.total_cmp(&todo[*a].score))
                    .then_with(|| a.cmp(b))
            })
            .unwrap_or_else(|| unreachable!("todo is not empty"));
        let m = todo.swap_remove(k);
        let slot = if opts.contains(&m.slot) {
            Some(m.slot)
        } else {
            opts.first().copied()
        };
        let table = slot.and_then(|s| {
            (0..tables)
                .find(|t| !seats.contains(&(s, *t)))
                .map(|t| (s, t))
        });
        match table {
            Some((s, t)) => {
                busy.insert((m.enterprise.clone(), s));
                busy.insert((m.result.clone(), s));
                seats.insert((s, t));
                pairs.push(PlacedPair {
                    slot: s,
                    table: t,
                    ..m
                });
            }
            None => solution.unseated.push(Unseated {
                enterprise: m.enterprise,
                result: m.result,
                score: m.score,
                reason: "已确认的会谈占去了双方共同的空闲时段或桌位（围绕已确认会谈的排座为启发式） / the confirmed meetings take every slot or table both sides have free (seating around confirmed meetings is heuristic)".into(),
            }),
        }
    }
    pairs.sort_by(|x, y| {
        (x.slot, x.table, &x.enterprise, &x.result).cmp(&(
            y.slot,
            y.table,
            &y.enterprise,
            &y.result,
        ))
    });
    let mut count: HashMap<&str, u64> = HashMap::new();
    for p in pinned {
        *count.entry(p.enterprise.as_str()).or_default() += 1;
        *count.entry(p.partner.as_str()).or_default() += 1;
    }
    let capacity: HashMap<&str, i64> = instance
        .enterprises
        .iter()
        .chain(instance.results.iter())
        .map(|p| (p.id.as_str(), p.capacity))
        .collect();
    solution.unplaced.retain_mut(|u| {
        let k = count.get(u.id.as_str()).copied().unwrap_or(0);
        u.got += k;
        u.wanted = capacity
            .get(u.id.as_str())
            .map_or(u.wanted + k, |c| (*c).max(0) as u64);
        u.got < u.wanted
    });
    solution.total_score = pairs.iter().map(|p| p.score).sum();
    solution.enterprises_served = pairs
        .iter()
        .map(|p| p.enterprise.as_str())
        .collect::<HashSet<_>>()
        .len() as u64;
    solution.slots_used = pairs.iter().map(|p| p.slot + 1).max().unwrap_or(0);
    solution.pairs = pairs;
    solution
}

#[cfg(test)]
mod tests {
    use super::*;
    use duijie_store::PairKey;

    fn answer(org: i64, result: i64, confirmed: bool, slot: i64, table: i64) -> MeetingAnswerRow {
        let a = if confirmed {
            duijie_domain::MeetingAnswer::Confirmed
        } else {
            duijie_domain::MeetingAnswer::Declined
        };
        MeetingAnswerRow {
            key: PairKey {
                enterprise_id: org,
                partner_kind: ListingKind::Result,
                partner_id: result,
            },
            enterprise_answer: Some(a),
            enterprise_reason: None,
            partner_answer: None,
            partner_reason: None,
            slot,
            table,
            need_id: 0,
            attendance: None,
        }
    }

    fn instance() -> Instance {
        let party = |id: &str, capacity| Party {
            id: id.into(),
            capacity,
        };
        let score = |e: &str, r: &str, s| ScoreEntry {
            enterprise: e.into(),
            result: r.into(),
            score: s,
        };
        Instance {
            enterprises: vec![party("e1", 2), party("e2", 2)],
            results: vec![party("r1", 2), party("r2", 2)],
            scores: vec![
                score("e1", "r1", 0.9),
                score("e1", "r2", 0.5),
                score("e2", "r1", 0.6),
                score("e2", "r2", 0.8),
            ],
            forbidden: vec![],
            forced: vec![],
            min_score: 0.0,
            slots: 2,
            tables: 2,
        }
    }

    fn event() -> Event {
        Event {
            id: 1,
            name: "t".into(),
            format: EventFormat::Fair,
            date: "2026-12-20".into(),
            venue: None,
            description: None,
            themes: vec![],
            start_time: "09:00".into(),
            slot_minutes: 20,
            slot_count: 2,
            breaks: vec![],
            table_count: 2,
            table_names: vec![],
            seats_per_table: 4,
            max_per_enterprise: 2,
            max_per_result: 2,
            max_per_expert: 2,
            min_score: 0.0,
            status: EventStatus::Open,
            self_service: Default::default(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_declined_pair_is_forbidden_and_never_scheduled_again() {
        let mut built = Built {
            instance: instance(),
            candidates: vec![],
            ignored_forced: vec![],
        };
        built.instance.forced.push(("e1".into(), "r1".into()));
        apply_declined(&mut built, &[answer(1, 1, false, 0, 0)]);
        assert!(
            built
                .instance
                .forbidden
                .contains(&("e1".into(), "r1".into()))
        );
        assert!(built.instance.forced.is_empty());
        assert_eq!(built.ignored_forced[0].reason_code, "declined");
        let sol = duijie_match::solve(&built.instance, &SolveOptions::default()).unwrap();
        assert!(
            !sol.pairs
                .iter()
                .any(|p| p.enterprise == "e1" && p.result == "r1")
        );
    }

    #[test]
    fn a_confirmed_meeting_keeps_its_slot_and_table_and_the_rest_fits_around_it() {
        let inst = instance();
        // e2–r2 confirmed in slot 1 at table 1
        let (solver_inst, pinned) = pin_confirmed(&event(), &inst, &[answer(2, 2, true, 1, 1)]);
        assert_eq!(pinned.len(), 1);
        assert!(
            !solver_inst
                .scores
                .iter()
                .any(|s| s.enterprise == "e2" && s.result == "r2")
        );
        let e2 = solver_inst
            .enterprises
            .iter()
            .find(|p| p.id == "e2")
            .unwrap();
        assert_eq!(e2.capacity, 1);
        let scores: HashMap<(String, String), f64> = inst
            .scores
            .iter()
            .map(|s| ((s.enterprise.clone(), s.result.clone()), s.score))
            .collect();
        let sol = duijie_match::solve(&solver_inst, &SolveOptions::default()).unwrap();
        let sol = seat_around(&inst, &pinned, &scores, sol);
        let kept = sol
            .pairs
            .iter()
            .find(|p| p.enterprise == "e2" && p.result == "r2")
            .unwrap();
        assert_eq!((kept.slot, kept.table), (1, 1));
        // every meeting of the optimum (all four pairs fit in 2 slots) is still there, and
        // nobody is booked twice in a slot, no seat holds two meetings
        assert_eq!(sol.pairs.len(), 4, "{:?}", sol.pairs);
        let mut seen = HashSet::new();
        for p in &sol.pairs {
            assert!(seen.insert((p.enterprise.clone(), p.slot)));
            assert!(seen.insert((p.result.clone(), p.slot)));
            assert!(seen.insert((format!("t{}", p.table), p.slot)));
        }
        assert!(sol.unplaced.is_empty(), "{:?}", sol.unplaced);
    }

    #[test]
    fn a_confirmed_meeting_on_a_seat_that_no_longer_exists_is_not_pinned() {
        let (_, pinned) = pin_confirmed(&event(), &instance(), &[answer(1, 1, true, 5, 0)]);
        assert!(pinned.is_empty());
    }
}
