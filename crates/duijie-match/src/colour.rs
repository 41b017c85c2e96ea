//! Time slots by bipartite edge colouring, and table numbers within each slot.
//!
//! A meeting is an edge between an enterprise and a result; a time slot is a colour, and a
//! proper colouring (no participant twice in one slot) with Δ = max meetings of any
//! participant colours always exists in a bipartite multigraph (König). [`edge_colouring`]
//! builds one by Kempe-chain recolouring; [`schedule`] then rebalances into any number
//! `k ≥ Δ` of colours so that class sizes differ by at most one (equitable colouring, de
//! Werra) by swapping the two colours along alternating paths; [`seat`] numbers the tables.

use crate::error::PairError;

const NONE: u32 = u32::MAX;

fn invalid(detail: String) -> PairError {
    PairError::InvalidProblem { detail }
}

/// Per-vertex map colour → edge, kept as a small vector sorted by colour (memory is
/// proportional to the number of meetings, whatever the number of colours).
struct Table {
    at: Vec<Vec<(u32, u32)>>,
}

impl Table {
    fn new(vertices: usize) -> Self {
        Table {
            at: vec![Vec::new(); vertices],
        }
    }

    #[inline]
    fn get(&self, v: usize, c: u32) -> Option<u32> {
        let list = &self.at[v];
        list.binary_search_by_key(&c, |&(col, _)| col)
            .ok()
            .map(|i| list[i].1)
    }

    #[inline]
    fn set(&mut self, v: usize, c: u32, e: u32) {
        let list = &mut self.at[v];
        match list.binary_search_by_key(&c, |&(col, _)| col) {
            Ok(i) => list[i].1 = e,
            Err(i) => list.insert(i, (c, e)),
        }
    }

    #[inline]
    fn unset(&mut self, v: usize, c: u32) {
        let list = &mut self.at[v];
        if let Ok(i) = list.binary_search_by_key(&c, |&(col, _)| col) {
            list.remove(i);
        }
    }

    /// Smallest colour not used at `v`.
    fn first_free(&self, v: usize) -> u32 {
        let mut c = 0u32;
        for &(col, _) in &self.at[v] {
            if col != c {
                break;
            }
            c += 1;
        }
        c
    }
}

/// Endpoints as vertex ids: enterprises `0..n_left`, results `n_left..`.
fn endpoints(
    n_left: usize,
    n_right: usize,
    meetings: &[(usize, usize)],
) -> Result<Vec<(usize, usize)>, PairError> {
    if meetings.len() >= NONE as usize {
        return Err(PairError::TooLarge {
            detail: "more than 2^32 meetings".into(),
        });
    }
    meetings
        .iter()
        .enumerate()
        .map(|(k, &(a, b))| {
            if a >= n_left || b >= n_right {
                Err(invalid(format!(
                    "meeting {k} ({a}, {b}) is out of range ({n_left} enterprises, {n_right} results)"
                )))
            } else {
                Ok((a, n_left + b))
            }
        })
        .collect()
}

/// Maximum number of meetings of one participant.
pub fn max_degree(n_left: usize, n_right: usize, meetings: &[(usize, usize)]) -> usize {
    let mut deg = vec![0usize; n_left + n_right];
    let mut best = 0;
    for &(a, b) in meetings {
        if a < n_left && b < n_right {
            for v in [a, n_left + b] {
                deg[v] += 1;
                best = best.max(deg[v]);
            }
        }
    }
    best
}

struct Colouring {
    ends: Vec<(usize, usize)>,
    colour: Vec<u32>,
    table: Table,
}

impl Colouring {
    /// König colouring with exactly Δ colours (meetings coloured in input order).
    fn konig(n_vertices: usize, ends: Vec<(usize, usize)>) -> Colouring {
        let mut c = Colouring {
            colour: vec![NONE; ends.len()],
            table: Table::new(n_vertices),
            ends,
        };
        let mut path = Vec::new();
        for k in 0..c.ends.len() {
            let (u, v) = c.ends[k];
            let a = c.table.first_free(u);
            let b = c.table.first_free(v);
            if c.table.get(v, a).is_some() {
                // Swap a/b along the alternating path from v starting with colour a. The path
                // cannot reach u (u misses a and would be entered by an a-edge).
                c.alternating_path(v, a, b, &mut path);
                c.swap(&path, a, b);
            }
            c.colour[k] = a;
            c.table.set(u, a, k as u32);
            c.table.set(v, a, k as u32);
        }
        c
    }

    /// Edges of the maximal path from `start` alternating colours `first`, `second`, ….
    fn alternating_path(&self, start: usize, first: u32, second: u32, path: &mut Vec<u32>) {
        path.clear();
        let (mut x, mut col) = (start, first);
        while let Some(e) = self.table.get(x, col) {
            path.push(e);
            let (p, q) = self.ends[e as usize];
            x = if p == x { q } else { p };
            col = if col == first { second } else { first };
        }
    }

    /// Exchange colours `a` and `b` on the edges of `path`.
    fn swap(&mut self, path: &[u32], a: u32, b: u32) {
        for &e in path {
            let (p, q) = self.ends[e as usize];
            let col = self.colour[e as usize];
            self.table.unset(p, col);
            self.table.unset(q, col);
        }
        for &e in path {
            let (p, q) = self.ends[e as usize];
            let col = if self.colour[e as usize] == a { b } else { a };
            self.colour[e as usize] = col;
            self.table.set(p, col, e);
            self.table.set(q, col, e);
        }
    }

    /// Rebalance into `k` colours so that class sizes differ by at most one. Each step takes
    /// the largest class A and the smallest B; the A∪B subgraph is a union of alternating
    /// paths and even cycles, and as |A| > |B| + 1 one path starts and ends with A, so
    /// swapping it moves one meeting from A to B.
    fn equalise(&mut self, k: usize) -> Result<(), PairError> {
        let m = self.ends.len();
        let mut class: Vec<Vec<u32>> = vec![Vec::new(); k];
        let mut pos = vec![0usize; m];
        for (e, &c) in self.colour.iter().enumerate() {
            let c = c as usize;
            pos[e] = class[c].len();
            class[c].push(e as u32);
        }
        let mut mark = vec![0u64; m];
        let mut stamp = 0u64;
        let mut path = Vec::new();
        loop {
            let (mut big, mut small) = (0usize, 0usize);
            for c in 1..k {
                if class[c].len() > class[big].len() {
                    big = c;
                }
                if class[c].len() < class[small].len() {
                    small = c;
                }
            }
            if class[big].len() <= class[small].len() + 1 {
                return Ok(());
            }
            stamp += 1;
            let (a, b) = (big as u32, small as u32);
            let mut found = false;
            'search: for &e in &class[big] {
                let e = e as usize;
                if mark[e] == stamp {
                    continue;
                }
                let (p, q) = self.ends[e];
                for x in [p, q] {
                    if self.table.get(x, b).is_some() {
                        continue;
                    }
                    self.alternating_path(x, a, b, &mut path);
                    for &f in &path {
                        mark[f as usize] = stamp;
                    }
                    if path.len() % 2 == 1 {
                        found = true;
                        break 'search;
                    }
                }
            }
            if !found {
                return Err(invalid(
                    "internal invariant failed: no alternating path to rebalance".into(),
                ));
            }
            for &f in &path {
                let f = f as usize;
                let from = self.colour[f] as usize;
                let to = if from == big { small } else { big };
                let i = pos[f];
                class[from].swap_remove(i);
                if i < class[from].len() {
                    pos[class[from][i] as usize] = i;
                }
                pos[f] = class[to].len();
                class[to].push(f as u32);
            }
            self.swap(&path, a, b);
        }
    }
}

/// Colour the meetings with exactly Δ colours (Δ = [`max_degree`]) so that no participant
/// has two meetings of one colour. Returns the colour of each meeting and Δ. Deterministic.
pub fn edge_colouring(
    n_left: usize,
    n_right: usize,
    meetings: &[(usize, usize)],
) -> Result<(Vec<usize>, usize), PairError> {
    let ends = endpoints(n_left, n_right, meetings)?;
    let delta = max_degree(n_left, n_right, meetings);
    let c = Colouring::konig(n_left + n_right, ends);
    Ok((c.colour.iter().map(|&x| x as usize).collect(), delta))
}

/// Assign each meeting a slot in `0..slots` so that nobody has two meetings in one slot and
/// the slot sizes differ by at most one. Needs `slots ≥ Δ` (else an error naming Δ).
/// Deterministic.
pub fn schedule(
    n_left: usize,
    n_right: usize,
    meetings: &[(usize, usize)],
    slots: usize,
) -> Result<Vec<usize>, PairError> {
    let ends = endpoints(n_left, n_right, meetings)?;
    let delta = max_degree(n_left, n_right, meetings);
    if meetings.is_empty() {
        return Ok(Vec::new());
    }
    if slots < delta {
        return Err(invalid(format!(
            "{slots} slots are fewer than the {delta} meetings of the busiest participant"
        )));
    }
    if slots >= meetings.len() {
        // Balanced means at most one meeting per slot.
        return Ok((0..meetings.len()).collect());
    }
    let mut c = Colouring::konig(n_left + n_right, ends);
    c.equalise(slots)?;
    Ok(c.colour.iter().map(|&x| x as usize).collect())
}

/// Number the tables within each slot: `slot_of[k]` is the slot of meeting `k`; returns the
/// table of each meeting, each `< tables`, distinct within a slot.
///
/// Correctness first; then, slot by slot, a meeting keeps the table its enterprise had in
/// the previous slot, else the one its result had in the previous slot, else the
/// enterprise's last table, else the lowest free table. Errors when a slot has more than
/// `tables` meetings.
pub fn seat(
    n_left: usize,
    n_right: usize,
    meetings: &[(usize, usize)],
    slot_of: &[usize],
    tables: usize,
) -> Result<Vec<usize>, PairError> {
    endpoints(n_left, n_right, meetings)?;
    if slot_of.len() != meetings.len() {
        return Err(invalid(format!(
            "{} slots given for {} meetings",
            slot_of.len(),
            meetings.len()
        )));
    }
    // Meetings grouped by slot (sorted, so memory does not depend on slot numbers).
    let mut order: Vec<usize> = (0..meetings.len()).collect();
    order.sort_by_key(|&k| (slot_of[k], k));
    let by_slot: Vec<(usize, &[usize])> = order
        .chunk_by(|&a, &b| slot_of[a] == slot_of[b])
        .map(|group| (slot_of[group[0]], group))
        .collect();
    for &(s, list) in &by_slot {
        if list.len() > tables {
            return Err(invalid(format!(
                "slot {s} has {} meetings but only {tables} tables",
                list.len()
            )));
        }
    }
    let width = by_slot.iter().map(|g| g.1.len()).max().unwrap_or(0);
    // (slot, table) of the last meeting of each participant.
    let mut last_e: Vec<(usize, usize)> = vec![(usize::MAX, 0); n_left];
    let mut last_r: Vec<(usize, usize)> = vec![(usize::MAX, 0); n_right];
    let mut table = vec![usize::MAX; meetings.len()];
    let mut taken = vec![usize::MAX; width];
    // `taken[t] == g` marks table t as used in the g-th slot group.
    for (g, &(s, list)) in by_slot.iter().enumerate() {
        let prev = s.checked_sub(1);
        // Preference passes.
        let passes: [&dyn Fn(usize, usize) -> Option<usize>; 3] = [
            &|e, _| (Some(last_e[e].0) == prev).then_some(last_e[e].1),
            &|_, r| (Some(last_r[r].0) == prev).then_some(last_r[r].1),
            &|e, _| (last_e[e].0 != usize::MAX).then_some(last_e[e].1),
        ];
        for pass in passes {
            for &k in list {
                if table[k] != usize::MAX {
                    continue;
                }
                let (e, r) = meetings[k];
                if let Some(t) = pass(e, r)
                    && t < width
                    && taken[t] != g
                {
                    taken[t] = g;
                    table[k] = t;
                }
            }
        }
        let mut free = 0usize;
        for &k in list {
            if table[k] != usize::MAX {
                continue;
            }
            while taken[free] == g {
                free += 1;
            }
            taken[free] = g;
            table[k] = free;
        }
        for &k in list {
            let (e, r) = meetings[k];
            last_e[e] = (s, table[k]);
            last_r[r] = (s, table[k]);
        }
    }
    Ok(table)
}
