//! Shared helpers: random instances and an independent feasibility checker.

use duijie_match::synth::SplitMix64;
use duijie_match::{Group, Instance, Party, ScoreEntry, Solution, scaled};
use std::collections::{HashMap, HashSet};

/// Shape of a random instance.
pub struct Shape {
    pub enterprises: usize,
    pub results: usize,
    pub cap_e: (i64, i64),
    pub cap_r: (i64, i64),
    /// Probability that a pair is scored.
    pub density: f64,
    pub forbidden: f64,
    pub forced: f64,
    pub slots: (i64, i64),
    pub tables: (i64, i64),
}

/// A random valid instance; scores are multiples of 0.01 so that scaled scores are exact.
pub fn random_instance(rng: &mut SplitMix64, s: &Shape) -> Instance {
    let enterprises: Vec<Party> = (0..s.enterprises)
        .map(|i| Party {
            id: format!("e{i}"),
            capacity: rng.range(s.cap_e.0, s.cap_e.1),
        })
        .collect();
    let results: Vec<Party> = (0..s.results)
        .map(|j| Party {
            id: format!("r{j}"),
            capacity: rng.range(s.cap_r.0, s.cap_r.1),
        })
        .collect();
    let slots = rng.range(s.slots.0, s.slots.1);
    let tables = rng.range(s.tables.0, s.tables.1);
    let mut scores = Vec::new();
    let mut forbidden = Vec::new();
    let mut forced = Vec::new();
    let mut fe = vec![0i64; s.enterprises];
    let mut fr = vec![0i64; s.results];
    for i in 0..s.enterprises {
        for j in 0..s.results {
            if rng.chance(s.density) {
                scores.push(ScoreEntry {
                    enterprise: format!("e{i}"),
                    result: format!("r{j}"),
                    score: rng.range(0, 100) as f64 / 100.0,
                });
            }
            if rng.chance(s.forbidden) {
                forbidden.push((format!("e{i}"), format!("r{j}")));
            } else if rng.chance(s.forced)
                && fe[i] < enterprises[i].capacity.min(slots)
                && fr[j] < results[j].capacity.min(slots)
                && (forced.len() as i64) < slots * tables
            {
                fe[i] += 1;
                fr[j] += 1;
                forced.push((format!("e{i}"), format!("r{j}")));
            }
        }
    }
    // Shuffle the score list so that input order is not the index order.
    for k in (1..scores.len()).rev() {
        let o = rng.below(k as u64 + 1) as usize;
        scores.swap(k, o);
    }
    let min_score = [0.0, 0.0, 0.2, 0.5][rng.below(4) as usize];
    Instance {
        enterprises,
        results,
        scores,
        forbidden,
        forced,
        min_score,
        slots,
        tables,
        groups: Vec::new(),
    }
}

/// Put the results of a valid instance into up to three random groups (some stay
/// ungrouped) with small caps, so that the caps often bind; each cap is at least the
/// group's forced pairs, so the instance stays valid.
pub fn add_random_groups(rng: &mut SplitMix64, inst: &mut Instance) {
    let count = 1 + rng.below(3) as usize;
    let mut members: Vec<Vec<String>> = vec![Vec::new(); count];
    for r in &inst.results {
        if rng.chance(0.8) {
            members[rng.below(count as u64) as usize].push(r.id.clone());
        }
    }
    inst.groups = members
        .into_iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(g, members)| {
            let forced = inst
                .forced
                .iter()
                .filter(|(_, r)| members.contains(r))
                .count() as i64;
            Group {
                id: format!("u{g}"),
                capacity: forced + rng.range(0, 3),
                members,
            }
        })
        .collect();
}

/// All assigned meetings (placed and unseated) as (enterprise, result, score).
pub fn assigned(sol: &Solution) -> Vec<(String, String, f64)> {
    sol.pairs
        .iter()
        .map(|p| (p.enterprise.clone(), p.result.clone(), p.score))
        .chain(
            sol.unseated
                .iter()
                .map(|u| (u.enterprise.clone(), u.result.clone(), u.score)),
        )
        .collect()
}

/// (served enterprises, total scaled score) of the assigned meetings.
pub fn objective(sol: &Solution) -> (usize, i64) {
    let a = assigned(sol);
    let served: HashSet<&String> = a.iter().map(|x| &x.0).collect();
    (served.len(), a.iter().map(|x| scaled(x.2)).sum())
}

/// Check every constraint of a solution independently of the solver.
pub fn check_solution(inst: &Instance, sol: &Solution) -> Result<(), String> {
    let cap_e: HashMap<&str, i64> = inst
        .enterprises
        .iter()
        .map(|p| (p.id.as_str(), p.capacity))
        .collect();
    let cap_r: HashMap<&str, i64> = inst
        .results
        .iter()
        .map(|p| (p.id.as_str(), p.capacity))
        .collect();
    let score: HashMap<(&str, &str), f64> = inst
        .scores
        .iter()
        .map(|s| ((s.enterprise.as_str(), s.result.as_str()), s.score))
        .collect();
    let forbidden: HashSet<(&str, &str)> = inst
        .forbidden
        .iter()
        .map(|(e, r)| (e.as_str(), r.as_str()))
        .collect();
    let forced: HashSet<(&str, &str)> = inst
        .forced
        .iter()
        .map(|(e, r)| (e.as_str(), r.as_str()))
        .collect();

    let all = assigned(sol);
    let mut seen = HashSet::new();
    let mut count_e: HashMap<&str, i64> = HashMap::new();
    let mut count_r: HashMap<&str, i64> = HashMap::new();
    for (e, r, s) in &all {
        let key = (e.as_str(), r.as_str());
        if !cap_e.contains_key(e.as_str()) || !cap_r.contains_key(r.as_str()) {
            return Err(format!("unknown id in {key:?}"));
        }
        if !seen.insert(key) {
            return Err(format!("pair {key:?} twice"));
        }
        if forbidden.contains(&key) {
            return Err(format!("forbidden pair {key:?} assigned"));
        }
        let expected = score.get(&key).copied();
        if !forced.contains(&key) {
            match expected {
                None => return Err(format!("unscored pair {key:?} assigned")),
                Some(x) if x < inst.min_score => {
                    return Err(format!("pair {key:?} below min_score"));
                }
                _ => {}
            }
        }
        if *s != expected.unwrap_or(0.0) {
            return Err(format!("pair {key:?} has wrong score {s}"));
        }
        *count_e.entry(e.as_str()).or_default() += 1;
        *count_r.entry(r.as_str()).or_default() += 1;
    }
    for (id, c) in &count_e {
        if *c > cap_e[id] {
            return Err(format!(
                "enterprise {id} over capacity: {c} > {}",
                cap_e[id]
            ));
        }
    }
    for (id, c) in &count_r {
        if *c > cap_r[id] {
            return Err(format!("result {id} over capacity: {c} > {}", cap_r[id]));
        }
    }
    for g in &inst.groups {
        let used: i64 = g
            .members
            .iter()
            .map(|r| count_r.get(r.as_str()).copied().unwrap_or(0))
            .sum();
        if used > g.capacity {
            return Err(format!(
                "group {} over its cap: {used} > {}",
                g.id, g.capacity
            ));
        }
    }
    let placed: HashSet<(&str, &str)> = sol
        .pairs
        .iter()
        .map(|p| (p.enterprise.as_str(), p.result.as_str()))
        .collect();
    for f in &forced {
        if !placed.contains(f) {
            return Err(format!("forced pair {f:?} not placed"));
        }
    }

    // Slots and tables: the seats are part of the optimum, nothing is left unseated.
    if !sol.unseated.is_empty() {
        return Err(format!("unseated meetings: {:?}", sol.unseated));
    }
    let mut busy = HashSet::new();
    let mut seat = HashSet::new();
    let mut per_slot: HashMap<u32, usize> = HashMap::new();
    let mut deg: HashMap<(u8, &str), usize> = HashMap::new();
    for p in &sol.pairs {
        if p.slot as i64 >= inst.slots || p.table as i64 >= inst.tables {
            return Err(format!("pair out of range: {p:?}"));
        }
        if !busy.insert((0u8, p.enterprise.as_str(), p.slot))
            || !busy.insert((1u8, p.result.as_str(), p.slot))
        {
            return Err(format!("participant twice in slot {}: {p:?}", p.slot));
        }
        if !seat.insert((p.slot, p.table)) {
            return Err(format!("table used twice: {p:?}"));
        }
        *per_slot.entry(p.slot).or_default() += 1;
        *deg.entry((0, p.enterprise.as_str())).or_default() += 1;
        *deg.entry((1, p.result.as_str())).or_default() += 1;
    }
    if per_slot.values().any(|&c| c as i64 > inst.tables) {
        return Err("a slot exceeds the tables".into());
    }
    let delta = deg.values().copied().max().unwrap_or(0);
    let n = sol.pairs.len();
    let expect_used = if n == 0 {
        0
    } else {
        delta.max(n.div_ceil(inst.tables as usize))
    };
    if sol.slots_used as usize != expect_used {
        return Err(format!(
            "slots_used {} but expected max(delta {delta}, ceil({n}/{})) = {expect_used}",
            sol.slots_used, inst.tables
        ));
    }
    if n > 0 {
        let sizes: Vec<usize> = (0..sol.slots_used)
            .map(|s| per_slot.get(&s).copied().unwrap_or(0))
            .collect();
        let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
        if let (Some(lo), Some(hi)) = (lo, hi)
            && hi - lo > 1
        {
            return Err(format!("unbalanced slots: {sizes:?}"));
        }
    }
    for w in sol.pairs.windows(2) {
        if (w[0].slot, w[0].table) > (w[1].slot, w[1].table) {
            return Err("pairs not ordered by slot, table".into());
        }
    }

    // Summary fields.
    let total: f64 = sol.pairs.iter().map(|p| p.score).sum();
    if (total - sol.total_score).abs() > 1e-6 {
        return Err(format!("total_score {} != {total}", sol.total_score));
    }
    let served: HashSet<&str> = sol.pairs.iter().map(|p| p.enterprise.as_str()).collect();
    if served.len() as u64 != sol.enterprises_served {
        return Err("enterprises_served wrong".into());
    }

    // Unplaced: exactly the participants with fewer assigned meetings than capacity.
    let mut expected_short = Vec::new();
    for p in &inst.enterprises {
        let got = count_e.get(p.id.as_str()).copied().unwrap_or(0);
        if got < p.capacity {
            expected_short.push(("enterprise", p.id.clone(), p.capacity as u64, got as u64));
        }
    }
    for p in &inst.results {
        let got = count_r.get(p.id.as_str()).copied().unwrap_or(0);
        if got < p.capacity {
            expected_short.push(("result", p.id.clone(), p.capacity as u64, got as u64));
        }
    }
    let actual: Vec<(&str, String, u64, u64)> = sol
        .unplaced
        .iter()
        .map(|u| (u.kind.as_str(), u.id.clone(), u.wanted, u.got))
        .collect();
    if actual != expected_short {
        return Err(format!(
            "unplaced mismatch: {actual:?} vs {expected_short:?}"
        ));
    }
    for u in &sol.unplaced {
        if ![
            "capacity",
            "group_cap",
            "slots",
            "tables",
            "no_candidate",
            "conflicts",
        ]
        .contains(&u.reason_code.as_str())
        {
            return Err(format!("unexpected reason code {}", u.reason_code));
        }
        if !u.reason.contains(" / ") {
            return Err(format!("reason without both languages: {}", u.reason));
        }
    }
    Ok(())
}
