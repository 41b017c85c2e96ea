//! Candidate-graph sparsification: keep only the edges that matter for an assignment.

use crate::model::ScoreEntry;
use std::collections::HashMap;

/// Keep an edge if it is among the `k_enterprise` best of its enterprise **or** among the
/// `k_result` best of its result (both sides are protected, so a result that nobody ranks
/// highly still keeps its own best candidates).
///
/// Ranking is by score (descending), ties by input position; the output keeps the input
/// order. Deterministic. Forced pairs are not special here: a forced pair dropped by
/// sparsification is still placed by [`crate::solve()`], with score 0.
pub fn sparsify(scores: &[ScoreEntry], k_enterprise: usize, k_result: usize) -> Vec<ScoreEntry> {
    let mut keep = vec![false; scores.len()];
    mark_top(scores, |s| s.enterprise.as_str(), k_enterprise, &mut keep);
    mark_top(scores, |s| s.result.as_str(), k_result, &mut keep);
    scores
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(s, _)| s.clone())
        .collect()
}

fn mark_top<'a>(
    scores: &'a [ScoreEntry],
    key: impl Fn(&'a ScoreEntry) -> &'a str,
    k: usize,
    keep: &mut [bool],
) {
    if k == 0 {
        return;
    }
    // Group ids in order of first appearance (the map is only used for lookups).
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let group: Vec<u32> = scores
        .iter()
        .map(|s| {
            let next = ids.len() as u32;
            *ids.entry(key(s)).or_insert(next)
        })
        .collect();
    // One packed key per edge: (group, descending score, position); sorting plain integers
    // is much faster than a comparator over the entries.
    let mut order: Vec<u128> = group
        .iter()
        .zip(scores)
        .enumerate()
        .map(|(i, (&g, s))| {
            ((g as u128) << 96) | ((!ordered_bits(s.score) as u128) << 32) | i as u128
        })
        .collect();
    order.sort_unstable();
    let mut current = u32::MAX;
    let mut taken = 0usize;
    for &key in &order {
        let i = key as u32;
        let g = group[i as usize];
        if g != current {
            current = g;
            taken = 0;
        }
        if taken < k {
            keep[i as usize] = true;
            taken += 1;
        }
    }
}

/// Bits of `x` that sort as integers in the order of `f64::total_cmp`.
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}
