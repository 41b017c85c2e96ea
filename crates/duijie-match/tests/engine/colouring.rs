//! Edge colouring (slots) and seating (tables) on their own.

use duijie_match::synth::SplitMix64;
use duijie_match::{edge_colouring, max_degree, schedule, seat};
use std::collections::HashSet;

fn random_multigraph(
    rng: &mut SplitMix64,
    n: usize,
    m: usize,
    edges: usize,
) -> Vec<(usize, usize)> {
    (0..edges)
        .map(|_| (rng.below(n as u64) as usize, rng.below(m as u64) as usize))
        .collect()
}

fn assert_proper(n: usize, meetings: &[(usize, usize)], colour: &[usize]) {
    let mut seen = HashSet::new();
    for (k, &(a, b)) in meetings.iter().enumerate() {
        assert!(
            seen.insert((0, a, colour[k])),
            "enterprise {a} twice in colour {}",
            colour[k]
        );
        assert!(
            seen.insert((1, n + b, colour[k])),
            "result {b} twice in colour {}",
            colour[k]
        );
    }
}

#[test]
fn konig_uses_exactly_delta_colours_on_multigraphs() {
    let mut rng = SplitMix64::new(3);
    for case in 0..200 {
        let (n, m) = (1 + rng.below(12) as usize, 1 + rng.below(12) as usize);
        let count = rng.below(60) as usize;
        let meetings = random_multigraph(&mut rng, n, m, count);
        let (colour, delta) = edge_colouring(n, m, &meetings).expect("colouring");
        assert_eq!(delta, max_degree(n, m, &meetings));
        assert_proper(n, &meetings, &colour);
        assert!(
            colour.iter().all(|&c| c < delta),
            "case {case}: colour beyond delta"
        );
    }
}

#[test]
fn schedule_balances_into_any_number_of_slots_at_least_delta() {
    let mut rng = SplitMix64::new(4);
    for case in 0..200 {
        let (n, m) = (1 + rng.below(15) as usize, 1 + rng.below(15) as usize);
        let count = 1 + rng.below(80) as usize;
        let meetings = random_multigraph(&mut rng, n, m, count);
        let delta = max_degree(n, m, &meetings);
        let k = delta + rng.below(6) as usize;
        let slot = schedule(n, m, &meetings, k).expect("schedule");
        assert_proper(n, &meetings, &slot);
        let mut sizes = vec![0usize; k];
        for &s in &slot {
            assert!(s < k);
            sizes[s] += 1;
        }
        let (lo, hi) = (sizes.iter().min().copied(), sizes.iter().max().copied());
        assert!(
            hi.unwrap_or(0) - lo.unwrap_or(0) <= 1,
            "case {case}: sizes {sizes:?}"
        );
        // Deterministic.
        assert_eq!(schedule(n, m, &meetings, k).ok(), Some(slot));
        if delta > 1 {
            assert!(schedule(n, m, &meetings, delta - 1).is_err());
        }
    }
}

#[test]
fn seating_is_proper_and_keeps_enterprises_still() {
    // One enterprise meets three results in consecutive slots; others come and go.
    let meetings = vec![(0, 0), (0, 1), (0, 2), (1, 1), (2, 0), (1, 0)];
    let slots = vec![0, 1, 2, 0, 1, 2];
    let table = seat(3, 3, &meetings, &slots, 2).expect("seat");
    let mut used = HashSet::new();
    for k in 0..meetings.len() {
        assert!(table[k] < 2);
        assert!(used.insert((slots[k], table[k])));
    }
    assert_eq!(table[0], table[1]);
    assert_eq!(table[1], table[2]);
    assert!(
        seat(3, 3, &meetings, &slots, 1).is_err(),
        "every slot has two meetings"
    );
    assert!(seat(3, 3, &[(5, 0)], &[0], 1).is_err(), "out of range");
}

#[test]
fn seating_random_schedules() {
    let mut rng = SplitMix64::new(5);
    for _ in 0..100 {
        let (n, m) = (1 + rng.below(10) as usize, 1 + rng.below(10) as usize);
        let count = rng.below(50) as usize;
        let meetings = random_multigraph(&mut rng, n, m, count);
        let delta = max_degree(n, m, &meetings);
        let k = delta.max(1) + rng.below(3) as usize;
        let slot = schedule(n, m, &meetings, k).expect("schedule");
        let width = meetings.len().div_ceil(k);
        let table = seat(n, m, &meetings, &slot, width.max(1)).expect("seat");
        let mut used = HashSet::new();
        for i in 0..meetings.len() {
            assert!(table[i] < width.max(1));
            assert!(used.insert((slot[i], table[i])));
        }
    }
}

#[test]
fn huge_slot_numbers_and_counts_are_handled() {
    let meetings = vec![(0, 0), (0, 1), (1, 0)];
    let slot = schedule(2, 2, &meetings, usize::MAX).expect("schedule");
    assert_eq!(slot, vec![0, 1, 2]);
    let table = seat(
        2,
        2,
        &meetings,
        &[usize::MAX, usize::MAX - 1, usize::MAX - 1],
        1,
    )
    .map_err(|e| e.to_string());
    assert!(table.is_err(), "two meetings share a slot with one table");
    let table = seat(2, 2, &meetings, &[usize::MAX, 3, usize::MAX - 1], 1).expect("seat");
    assert_eq!(table, vec![0, 0, 0]);
}
