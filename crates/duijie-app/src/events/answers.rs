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
/// Fair: the confirmed meetings are pinned at their slot and table
/// ([`duijie_match::pin`]: those whose parties, slot and table still exist and that collide
/// with no other). Grouped formats pin nothing; the confirmed pairs are forced and laid out
/// again with the rest.
pub fn pin_confirmed(
    e: &Event,
    instance: &Instance,
    answers: &[MeetingAnswerRow],
) -> (Instance, Vec<PlacedPair>) {
    let confirmed = answers.iter().filter(|a| a.confirmed()).map(keys_of);
    if e.format.is_grouped() {
        let mut out = instance.clone();
        let known: HashSet<&str> = instance
            .enterprises
            .iter()
            .chain(instance.results.iter())
            .map(|p| p.id.as_str())
            .collect();
        for (x, y) in confirmed {
            if known.contains(x.as_str())
                && known.contains(y.as_str())
                && !out.forced.iter().any(|(a, b)| *a == x && *b == y)
            {
                out.forced.push((x, y));
            }
        }
        return (out, Vec::new());
    }
    let fixed: Vec<PlacedPair> = answers
        .iter()
        .filter(|a| a.confirmed())
        .filter_map(|a| {
            let (enterprise, result) = keys_of(a);
            Some(PlacedPair {
                enterprise,
                result,
                score: 0.0,
                slot: u32::try_from(a.slot).ok()?,
                table: u32::try_from(a.table).ok()?,
            })
        })
        .collect();
    duijie_match::pin(instance, &fixed)
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
            groups: Vec::new(),
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
    fn a_confirmed_meeting_of_a_fair_is_pinned_with_its_place() {
        let (rest, pinned) = pin_confirmed(&event(), &instance(), &[answer(2, 2, true, 1, 1)]);
        assert_eq!(
            (
                pinned[0].enterprise.as_str(),
                pinned[0].result.as_str(),
                pinned[0].slot,
                pinned[0].table
            ),
            ("e2", "r2", 1, 1)
        );
        assert!(
            !rest
                .scores
                .iter()
                .any(|s| s.enterprise == "e2" && s.result == "r2")
        );
        // a declined answer pins nothing
        let (_, pinned) = pin_confirmed(&event(), &instance(), &[answer(2, 2, false, 1, 1)]);
        assert!(pinned.is_empty());
    }

    #[test]
    fn a_confirmed_pair_of_a_roundtable_is_forced_instead() {
        let mut e = event();
        e.format = EventFormat::Roundtable;
        let (rest, pinned) = pin_confirmed(&e, &instance(), &[answer(1, 2, true, 0, 0)]);
        assert!(pinned.is_empty());
        assert_eq!(rest.forced, vec![("e1".to_string(), "r2".to_string())]);
    }
}
