//! Exact assignment by min-cost flow, and an independent optimality certificate check.
//!
//! # The network
//!
//! The reference network (the one [`verify_optimality`] checks) is
//!
//! * source `S` → enterprise `e`: a first unit arc of cost `−BIG` (only if `e` is not already
//!   served by a forced pair) and the remaining capacity at cost 0;
//! * enterprise `e` → result `r`: capacity 1, cost `−gain(e, r)` for every candidate edge;
//! * result `r` → sink `T`: the result's capacity, cost 0 — or, when the problem limits the
//!   total number of selected edges ([`AssignProblem::total_capacity`], the seats of an event:
//!   slots × tables), result `r` → hall `H` (the result's capacity, cost 0) and `H` → `T`
//!   (the limit, cost 0);
//! * with group caps ([`AssignProblem::result_group`], [`AssignProblem::group_capacity`]: a
//!   university's results share a cap on their meetings), result `r` of group `g` → group
//!   node `G_g` (the result's capacity, cost 0) and `G_g` → `H` or `T` (the group's cap,
//!   cost 0) instead of `r` → `H`/`T`; ungrouped results keep their own arc. The groups are
//!   disjoint, so the constraints are laminar (results ⊂ groups ⊂ hall) and the network is
//!   still a plain flow network: min-cost flow stays exact and integral;
//!
//! and the optimal flow is a minimum-cost flow *of any value* (the flow stops growing when the
//! cheapest augmenting path no longer lowers the cost). `BIG` exceeds the largest possible
//! total gain, so the optimum first maximises the number of enterprises that get a first
//! unit (are served) and then the total gain.
//!
//! # The algorithm
//!
//! [`assign`] solves exactly the same problem by successive shortest paths, organised
//! enterprise by enterprise (the supply-driven form, as in the Hungarian method), which keeps
//! every Dijkstra search local:
//!
//! * enterprise `e` gets a supply of `min(capacity, degree)` units; each unit either reaches
//!   `T` through a result or takes a *skip* arc `e → T`. The first `supply − 1` skipped units
//!   are free and the last costs `BIG` (if `e` is not already served). Skipping every unit thus
//!   costs exactly `BIG`, which is the reference network's lost bonus, and the skip arc is the
//!   "stop augmenting, it no longer pays" option;
//! * potentials start from the DAG structure (`π(e) = 0`, `π(r) = −max gain into r`,
//!   `π(T) = min(0, min π(r))`), so every reduced cost `c(u,v) + π(u) − π(v)` is non-negative
//!   although the costs are negative (Johnson);
//! * each round runs Dijkstra (binary heap with lazy deletion, CSR adjacency, `i64` costs)
//!   from `e`, stops as soon as `T` is settled, updates the potentials of the settled nodes
//!   only (`π(v) += d(v) − d(T)`), then augments along as many zero-reduced-cost paths as it
//!   finds by DFS (several shortest paths per Dijkstra round);
//! * augmenting along shortest paths keeps the flow optimal for the supply routed so far, so
//!   after the last enterprise the flow is a minimum-cost flow;
//! * with a total limit that binds, units reach `T` from the results through the hall `H`;
//!   once `H → T` is full, a later unit can still take a seat through the residual arc
//!   `H → r` (a result gives back a unit, whose enterprise then skips or goes elsewhere), so
//!   seats move to whoever gains most, exactly like capacities. When the limit cannot bind
//!   (it is at least the total supply or the total result capacity) the hall is left out;
//! * group caps work the same way one level down: a grouped result reaches `H`/`T` through
//!   its group node `G` (`π(G) = min π(r)` over its members, so `r → G` starts with a
//!   non-negative reduced cost), and once `G`'s cap is full a unit can still enter through
//!   the residual arc `G → r` of a member holding a meeting; with a hall too, the residual
//!   arcs of `H` lead back to the groups with flow and to the ungrouped results with flow.
//!   A group whose cap cannot bind (at least the sum of its members' usable capacities) gets
//!   no node, so problems without binding caps are solved exactly as without groups (same
//!   network, same ties).
//!
//! Arcs leaving `T` are never needed: a shortest path to `T` does not pass through `T`.

use crate::error::PairError;
use crate::solve::SolveOptions;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use thiserror::Error;

/// A candidate edge of the assignment: enterprise index, result index, integer gain
/// (`round(score · 1e6)` in [`crate::solve()`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowEdge {
    /// Enterprise index (`< enterprise_capacity.len()`).
    pub enterprise: u32,
    /// Result index (`< result_capacity.len()`).
    pub result: u32,
    /// Non-negative gain of choosing the edge.
    pub gain: i64,
}

/// The input of [`assign`]: a bipartite b-matching with a one-off bonus for serving an
/// enterprise. Capacities are what is left after forced pairs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssignProblem {
    /// Remaining capacity of each enterprise.
    pub enterprise_capacity: Vec<u32>,
    /// Enterprises already served (by a forced pair): their first unit earns no bonus.
    pub enterprise_served: Vec<bool>,
    /// Remaining capacity of each result.
    pub result_capacity: Vec<u32>,
    /// Candidate edges; parallel edges are allowed and treated as distinct.
    pub edges: Vec<FlowEdge>,
    /// At most this many edges selected in total (`None`: no limit). [`crate::solve()`] sets
    /// it to the seats that forced pairs leave (`slots × tables − forced`), which makes the
    /// assignment optimal *with* seating rather than seated greedily afterwards.
    pub total_capacity: Option<u64>,
    /// Group of each result (`None`: ungrouped); empty means no groups at all, otherwise one
    /// entry per result. Each result belongs to at most one group.
    pub result_group: Vec<Option<u32>>,
    /// Cap of each group: at most this many selected edges at its results together
    /// ([`crate::solve()`] uses the caps that forced pairs leave).
    pub group_capacity: Vec<u32>,
}

/// The output of [`assign`].
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    /// `selected[k]` is true when `edges[k]` is in the optimal assignment.
    pub selected: Vec<bool>,
    /// Total gain of the selected edges.
    pub gain: i64,
    /// Enterprises not already served that got at least one edge.
    pub newly_served: u64,
    /// The bonus `BIG` used (see [`AssignProblem::bonus`]).
    pub bonus: i64,
    /// Number of Dijkstra rounds.
    pub dijkstra_runs: u64,
    /// Number of augmenting paths.
    pub augmenting_paths: u64,
}

impl AssignProblem {
    /// Check lengths, indices and gains.
    pub fn check(&self) -> Result<(), PairError> {
        let n = self.enterprise_capacity.len();
        let m = self.result_capacity.len();
        if self.enterprise_served.len() != n {
            return Err(invalid(format!(
                "enterprise_served has {} entries for {n} enterprises",
                self.enterprise_served.len()
            )));
        }
        if !self.result_group.is_empty() && self.result_group.len() != m {
            return Err(invalid(format!(
                "result_group has {} entries for {m} results",
                self.result_group.len()
            )));
        }
        let groups = self.group_capacity.len();
        if let Some((j, g)) = self
            .result_group
            .iter()
            .enumerate()
            .find_map(|(j, g)| g.filter(|&g| g as usize >= groups).map(|g| (j, g)))
        {
            return Err(invalid(format!(
                "result {j} is in group {g} but there are {groups} groups"
            )));
        }
        if n + m + groups + 3 >= u32::MAX as usize || self.edges.len() >= u32::MAX as usize {
            return Err(PairError::TooLarge {
                detail: "more than 2^32 nodes or edges".into(),
            });
        }
        for (k, e) in self.edges.iter().enumerate() {
            if e.enterprise as usize >= n || e.result as usize >= m {
                return Err(invalid(format!(
                    "edge {k} ({}, {}) is out of range ({n} enterprises, {m} results)",
                    e.enterprise, e.result
                )));
            }
            if e.gain < 0 {
                return Err(invalid(format!("edge {k} has negative gain {}", e.gain)));
            }
        }
        Ok(())
    }

    /// The fairness bonus `BIG`: one more than an upper bound on the total gain of any
    /// feasible assignment, `min(Σ_e min(cap_e, deg_e)·maxgain_e, Σ_r min(cap_r, deg_r)·maxgain_r)`.
    ///
    /// Errors with [`PairError::TooLarge`] when costs of that size could overflow `i64`
    /// along a path of the network.
    pub fn bonus(&self) -> Result<i64, PairError> {
        let n = self.enterprise_capacity.len();
        let m = self.result_capacity.len();
        let mut deg_e = vec![0u64; n];
        let mut max_e = vec![0i64; n];
        let mut deg_r = vec![0u64; m];
        let mut max_r = vec![0i64; m];
        let mut max_gain = 0i64;
        for e in &self.edges {
            let (i, j) = (e.enterprise as usize, e.result as usize);
            deg_e[i] += 1;
            deg_r[j] += 1;
            max_e[i] = max_e[i].max(e.gain);
            max_r[j] = max_r[j].max(e.gain);
            max_gain = max_gain.max(e.gain);
        }
        let side_bound = |caps: &[u32], deg: &[u64], mx: &[i64]| -> i128 {
            caps.iter()
                .zip(deg)
                .zip(mx)
                .map(|((&c, &d), &g)| (c as u64).min(d) as i128 * g as i128)
                .sum()
        };
        let bound = side_bound(&self.enterprise_capacity, &deg_e, &max_e).min(side_bound(
            &self.result_capacity,
            &deg_r,
            &max_r,
        ));
        let big = bound + 1;
        // Every reduced distance and potential stays within (nodes) · (BIG + max gain).
        let groups = self.group_capacity.len() as i128;
        let worst = (big + max_gain as i128) * (n as i128 + m as i128 + groups + 4) * 4;
        if worst >= i64::MAX as i128 {
            return Err(PairError::TooLarge {
                detail: format!(
                    "fairness bonus {big} times {} nodes exceeds 64-bit costs",
                    n + m + 2
                ),
            });
        }
        Ok(big as i64)
    }

    /// Objective of a selection in the reference network (lower is better):
    /// `−Σ gain − BIG · (newly served enterprises)`.
    pub fn cost(&self, selected: &[bool]) -> Result<i128, PairError> {
        let big = self.bonus()? as i128;
        if selected.len() != self.edges.len() {
            return Err(invalid(
                "selection length differs from the edge count".into(),
            ));
        }
        let mut served = vec![false; self.enterprise_capacity.len()];
        let mut cost = 0i128;
        for (e, _) in self.edges.iter().zip(selected).filter(|(_, s)| **s) {
            cost -= e.gain as i128;
            let i = e.enterprise as usize;
            if !served[i] && !self.enterprise_served[i] {
                served[i] = true;
                cost -= big;
            }
        }
        Ok(cost)
    }
}

fn invalid(detail: String) -> PairError {
    PairError::InvalidProblem { detail }
}

fn internal(what: &str) -> PairError {
    PairError::InvalidProblem {
        detail: format!("internal invariant failed: {what}"),
    }
}

/// CSR adjacency of the bipartite graph (edge ids per enterprise and per result).
struct Csr {
    start: Vec<u32>,
    adj: Vec<u32>,
}

impl Csr {
    fn build(count: usize, key: impl Fn(usize) -> usize, n_edges: usize) -> Csr {
        let mut start = vec![0u32; count + 1];
        for k in 0..n_edges {
            start[key(k) + 1] += 1;
        }
        for i in 0..count {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut adj = vec![0u32; n_edges];
        for k in 0..n_edges {
            let i = key(k);
            adj[fill[i] as usize] = k as u32;
            fill[i] += 1;
        }
        Csr { start, adj }
    }

    #[inline]
    fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.start[i] as usize..self.start[i + 1] as usize
    }
}

/// Dijkstra scratch state, reused across rounds (reset lazily with a stamp).
struct Dij {
    dist: Vec<i64>,
    seen: Vec<u64>,
    stamp: u64,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
}

impl Dij {
    /// Lower `v`'s distance to `nd` if that is shorter, and queue it.
    #[inline]
    fn relax(&mut self, v: usize, nd: i64) {
        if self.reach(v, nd) {
            self.heap.push(Reverse((nd, v as u32)));
        }
    }

    /// Lower `v`'s distance to `nd` if that is shorter, without queueing it (for a node
    /// whose arcs lead only to nodes already settled); true when it was lowered.
    #[inline]
    fn reach(&mut self, v: usize, nd: i64) -> bool {
        if self.seen[v] != self.stamp {
            self.seen[v] = self.stamp;
            self.dist[v] = nd;
            self.touched.push(v as u32);
            true
        } else if nd < self.dist[v] {
            self.dist[v] = nd;
            true
        } else {
            false
        }
    }

    #[inline]
    fn within(&self, v: usize, limit: i64) -> bool {
        self.seen[v] == self.stamp && self.dist[v] <= limit
    }
}

/// One residual arc of an augmenting path.
#[derive(Clone, Copy)]
enum Step {
    /// Select edge k (enterprise → result).
    Select(u32),
    /// Unselect edge k (result → enterprise).
    Unselect(u32),
    /// Result → its way out (the sink, the hall, or its group's node).
    Out(u32),
    /// Enterprise skips a unit (enterprise → sink).
    Skip(u32),
    /// Hall → sink (takes a seat).
    HallOut,
    /// Hall or group node → result (the result gives back a unit).
    Back(u32),
    /// Group node → hall or sink (takes a unit of the group's cap).
    GroupOut(u32),
    /// Hall → group node (the group gives back a seat).
    GroupBack(u32),
}

/// Marks a result without a group node in [`Ssp::r_group`].
const NO_GROUP: u32 = u32::MAX;

struct Ssp<'a> {
    n: usize,
    t: usize,
    /// The hall node `H` (`t + 1`) when the total limit can bind.
    hall: Option<usize>,
    /// Seats left on `H → T`.
    hall_spare: u64,
    /// Cost of `H → T` (the seat price of [`assign_priced`]; 0 otherwise).
    hall_cost: i64,
    /// The hall has been settled in the current Dijkstra round.
    hall_settled: bool,
    /// Initial `spare` of each result (its arc capacity into `T`, `H` or its group node).
    cap_r: Vec<u32>,
    /// Group node (compact index, node `g_base + g`) of each result, or [`NO_GROUP`].
    r_group: Vec<u32>,
    /// Node index of the first group node (the node count when there are none).
    g_base: usize,
    /// Results of each group with a node.
    g_members: Vec<Vec<u32>>,
    /// Cap of each group node (its arc capacity into `T` or `H`).
    g_cap: Vec<u32>,
    /// Cap left on each group node's arc into `T` or `H`.
    g_spare: Vec<u32>,
    edges: &'a [FlowEdge],
    by_e: Csr,
    by_r: Csr,
    big: i64,
    selected: Vec<bool>,
    spare: Vec<u32>,
    skip0: Vec<u32>,
    skip_big: Vec<u32>,
    pot: Vec<i64>,
    dij: Dij,
    dead: Vec<u64>,
    on_path: Vec<u64>,
    cur: Vec<u32>,
    cur_stamp: Vec<u64>,
    attempt: u64,
    path_nodes: Vec<u32>,
    path_steps: Vec<Step>,
}

impl Ssp<'_> {
    /// Cost and capacity of the cheapest available skip arc of enterprise `e`.
    #[inline]
    fn skip_arc(&self, e: usize) -> Option<(i64, u32)> {
        if self.skip0[e] > 0 {
            Some((0, self.skip0[e]))
        } else if self.skip_big[e] > 0 {
            Some((self.big, self.skip_big[e]))
        } else {
            None
        }
    }

    /// Dijkstra from `src` on reduced costs; returns the distance of the sink.
    fn dijkstra(&mut self, src: usize) -> Result<i64, PairError> {
        let n = self.n;
        let t = self.t;
        self.dij.stamp += 1;
        self.dij.touched.clear();
        self.dij.heap.clear();
        self.hall_settled = false;
        self.dij.relax(src, 0);
        while let Some(Reverse((d, u))) = self.dij.heap.pop() {
            let u = u as usize;
            if d > self.dij.dist[u] {
                continue;
            }
            if u == t {
                return Ok(d);
            }
            let pu = self.pot[u];
            if Some(u) == self.hall {
                self.relax_hall(u, d)?;
                continue;
            }
            if u >= self.g_base {
                self.relax_group(u, d)?;
                continue;
            }
            if u < n {
                for idx in self.by_e.range(u) {
                    let k = self.by_e.adj[idx] as usize;
                    if self.selected[k] {
                        continue;
                    }
                    let r = self.edges[k].result as usize;
                    let v = n + r;
                    let w = pu - self.edges[k].gain - self.pot[v];
                    if w < 0 {
                        return Err(internal("negative reduced cost on a forward edge"));
                    }
                    if self.hall_settled && self.r_group[r] == NO_GROUP && self.spare[r] > 0 {
                        // Its arc `r → H` leads to the settled hall, so `d(H) ≤ d + w`. A
                        // result holding seats is reached at least as close by `H → r`
                        // (cost 0 both ways); one holding none leads nowhere else: its
                        // distance is recorded (for the potentials) but never expanded.
                        if self.spare[r] == self.cap_r[r] {
                            self.dij.reach(v, d + w);
                        }
                        continue;
                    }
                    self.dij.relax(v, d + w);
                }
                if let Some((c, _)) = self.skip_arc(u) {
                    let w = c + pu - self.pot[t];
                    if w < 0 {
                        return Err(internal("negative reduced cost on a skip arc"));
                    }
                    self.dij.relax(t, d + w);
                }
            } else {
                let r = u - n;
                if self.spare[r] > 0 {
                    let out = self.out_of(r);
                    let w = pu - self.pot[out];
                    if w < 0 {
                        return Err(internal("negative reduced cost on a sink arc"));
                    }
                    self.dij.relax(out, d + w);
                }
                for idx in self.by_r.range(r) {
                    let k = self.by_r.adj[idx] as usize;
                    if !self.selected[k] {
                        continue;
                    }
                    let v = self.edges[k].enterprise as usize;
                    let w = self.edges[k].gain + pu - self.pot[v];
                    if w < 0 {
                        return Err(internal("negative reduced cost on a backward edge"));
                    }
                    self.dij.relax(v, d + w);
                }
            }
        }
        Err(internal("sink unreachable"))
    }

    /// Where the arc out of result `r` leads: its group node, else the hall, else the sink.
    #[inline]
    fn out_of(&self, r: usize) -> usize {
        match self.r_group[r] {
            NO_GROUP => self.hall.unwrap_or(self.t),
            g => self.g_base + g as usize,
        }
    }

    /// Relax the arcs leaving group node `u` at distance `d`: `G → H`/`T` while the cap has
    /// room, and `G → r` back to every member holding a meeting (cost 0). As for the hall,
    /// a member no closer than the sink along `G → T` (or `G → H → T`) is not pushed.
    fn relax_group(&mut self, u: usize, d: i64) -> Result<(), PairError> {
        let g = u - self.g_base;
        let pu = self.pot[u];
        let out = self.hall.unwrap_or(self.t);
        let mut bound = i64::MAX;
        if self.g_spare[g] > 0 {
            let w = pu - self.pot[out];
            if w < 0 {
                return Err(internal("negative reduced cost on a group arc"));
            }
            self.dij.relax(out, d + w);
            if out == self.t {
                bound = w;
            } else if self.hall_spare > 0 {
                bound = w + (self.pot[out] - self.pot[self.t]);
            }
        }
        for &r in &self.g_members[g] {
            let r = r as usize;
            if self.spare[r] < self.cap_r[r] {
                let v = self.n + r;
                let w = pu - self.pot[v];
                if w < 0 {
                    return Err(internal("negative reduced cost on a unit given back"));
                }
                if w < bound {
                    self.dij.relax(v, d + w);
                }
            }
        }
        Ok(())
    }

    /// Relax the arcs leaving the hall `h` at distance `d`: `H → T` while seats are left,
    /// and `H → r` back to every ungrouped result holding a seat and `H → G` to every group
    /// node holding one (cost 0). A node no closer than the sink through `H → T` could not
    /// be on a shortest path (the search stops at the sink), so it is not pushed: while
    /// seats are left this skips nearly all of them.
    fn relax_hall(&mut self, h: usize, d: i64) -> Result<(), PairError> {
        self.hall_settled = true;
        let pu = self.pot[h];
        let mut bound = i64::MAX;
        if self.hall_spare > 0 {
            let w = self.hall_cost + pu - self.pot[self.t];
            if w < 0 {
                return Err(internal("negative reduced cost on the hall arc"));
            }
            self.dij.relax(self.t, d + w);
            bound = w;
        }
        let grouped = !self.g_cap.is_empty();
        for r in 0..self.cap_r.len() {
            if self.spare[r] < self.cap_r[r] && !(grouped && self.r_group[r] != NO_GROUP) {
                let v = self.n + r;
                let w = pu - self.pot[v];
                if w < 0 {
                    return Err(internal("negative reduced cost on a seat given back"));
                }
                if w < bound {
                    self.dij.relax(v, d + w);
                }
            }
        }
        for g in 0..self.g_cap.len() {
            if self.g_spare[g] < self.g_cap[g] {
                let v = self.g_base + g;
                let w = pu - self.pot[v];
                if w < 0 {
                    return Err(internal("negative reduced cost on a group seat given back"));
                }
                if w < bound {
                    self.dij.relax(v, d + w);
                }
            }
        }
        Ok(())
    }

    /// `π(v) += d(v) − d(T)` for every node settled before the sink.
    fn update_potentials(&mut self, dt: i64) {
        for &v in &self.dij.touched {
            let v = v as usize;
            if v != self.t && self.dij.dist[v] < dt {
                self.pot[v] += self.dij.dist[v] - dt;
            }
        }
    }

    /// Find one zero-reduced-cost path from `src` to the sink inside the region explored by
    /// the last Dijkstra round and push up to `want` units along it; returns the amount.
    fn augment_once(&mut self, src: usize, dt: i64, want: u32) -> u32 {
        let n = self.n;
        let t = self.t;
        let phase = self.dij.stamp;
        self.attempt += 1;
        let att = self.attempt;
        self.path_nodes.clear();
        self.path_steps.clear();
        self.path_nodes.push(src as u32);
        self.on_path[src] = att;
        loop {
            let Some(&u) = self.path_nodes.last() else {
                return 0;
            };
            let u = u as usize;
            if self.cur_stamp[u] != phase {
                self.cur_stamp[u] = phase;
                self.cur[u] = 0;
            }
            let mut a = self.cur[u] as usize;
            let pu = self.pot[u];
            let mut found: Option<(Step, usize)> = None;
            if Some(u) == self.hall {
                let m = self.cap_r.len();
                let arcs = m + self.g_cap.len();
                while a <= arcs {
                    if a == 0 {
                        if self.hall_spare > 0 && self.hall_cost + pu - self.pot[t] == 0 {
                            found = Some((Step::HallOut, t));
                            break;
                        }
                    } else if a <= m {
                        let r = a - 1;
                        let v = n + r;
                        if self.spare[r] < self.cap_r[r]
                            && self.r_group[r] == NO_GROUP
                            && self.usable(v, att, phase, dt)
                            && pu - self.pot[v] == 0
                        {
                            found = Some((Step::Back(r as u32), v));
                            break;
                        }
                    } else {
                        let g = a - 1 - m;
                        let v = self.g_base + g;
                        if self.g_spare[g] < self.g_cap[g]
                            && self.usable(v, att, phase, dt)
                            && pu - self.pot[v] == 0
                        {
                            found = Some((Step::GroupBack(g as u32), v));
                            break;
                        }
                    }
                    a += 1;
                }
            } else if u >= self.g_base {
                let g = u - self.g_base;
                let size = self.g_members[g].len();
                while a <= size {
                    if a == 0 {
                        if self.g_spare[g] > 0 {
                            let out = self.hall.unwrap_or(t);
                            if (out == t || self.usable(out, att, phase, dt))
                                && pu - self.pot[out] == 0
                            {
                                found = Some((Step::GroupOut(g as u32), out));
                                break;
                            }
                        }
                    } else {
                        let r = self.g_members[g][a - 1] as usize;
                        let v = n + r;
                        if self.spare[r] < self.cap_r[r]
                            && self.usable(v, att, phase, dt)
                            && pu - self.pot[v] == 0
                        {
                            found = Some((Step::Back(r as u32), v));
                            break;
                        }
                    }
                    a += 1;
                }
            } else if u < n {
                let range = self.by_e.range(u);
                let deg = range.len();
                while a <= deg {
                    if a < deg {
                        let k = self.by_e.adj[range.start + a] as usize;
                        if !self.selected[k] {
                            let v = n + self.edges[k].result as usize;
                            if self.usable(v, att, phase, dt)
                                && pu - self.edges[k].gain - self.pot[v] == 0
                            {
                                found = Some((Step::Select(k as u32), v));
                                break;
                            }
                        }
                    } else if let Some((c, _)) = self.skip_arc(u)
                        && c + pu - self.pot[t] == 0
                    {
                        found = Some((Step::Skip(u as u32), t));
                        break;
                    }
                    a += 1;
                }
            } else {
                let r = u - n;
                let range = self.by_r.range(r);
                let deg = range.len();
                while a <= deg {
                    if a == 0 {
                        if self.spare[r] > 0 {
                            let out = self.out_of(r);
                            if (out == t || self.usable(out, att, phase, dt))
                                && pu - self.pot[out] == 0
                            {
                                found = Some((Step::Out(r as u32), out));
                                break;
                            }
                        }
                    } else {
                        let k = self.by_r.adj[range.start + a - 1] as usize;
                        if self.selected[k] {
                            let v = self.edges[k].enterprise as usize;
                            if self.usable(v, att, phase, dt)
                                && self.edges[k].gain + pu - self.pot[v] == 0
                            {
                                found = Some((Step::Unselect(k as u32), v));
                                break;
                            }
                        }
                    }
                    a += 1;
                }
            }
            self.cur[u] = a as u32;
            match found {
                Some((step, v)) if v == t => {
                    self.path_steps.push(step);
                    let amount = self.push(want);
                    for &x in &self.path_nodes {
                        self.on_path[x as usize] = 0;
                    }
                    return amount;
                }
                Some((step, v)) => {
                    self.path_steps.push(step);
                    self.on_path[v] = att;
                    self.path_nodes.push(v as u32);
                }
                None => {
                    self.dead[u] = phase;
                    self.on_path[u] = 0;
                    self.path_nodes.pop();
                    self.path_steps.pop();
                    if let Some(&p) = self.path_nodes.last() {
                        self.cur[p as usize] += 1;
                    }
                }
            }
        }
    }

    #[inline]
    fn usable(&self, v: usize, att: u64, phase: u64, dt: i64) -> bool {
        self.on_path[v] != att && self.dead[v] != phase && self.dij.within(v, dt)
    }

    /// Push along `path_steps`; returns the amount pushed.
    fn push(&mut self, want: u32) -> u32 {
        let mut amount = want;
        for s in &self.path_steps {
            let cap = match *s {
                Step::Select(_) | Step::Unselect(_) => 1,
                Step::Out(r) => self.spare[r as usize],
                Step::Skip(e) => self.skip_arc(e as usize).map_or(0, |(_, c)| c),
                Step::HallOut => self.hall_spare.min(u32::MAX as u64) as u32,
                Step::Back(r) => self.cap_r[r as usize] - self.spare[r as usize],
                Step::GroupOut(g) => self.g_spare[g as usize],
                Step::GroupBack(g) => self.g_cap[g as usize] - self.g_spare[g as usize],
            };
            amount = amount.min(cap);
        }
        for s in &self.path_steps {
            match *s {
                Step::Select(k) => self.selected[k as usize] = true,
                Step::Unselect(k) => self.selected[k as usize] = false,
                Step::Out(r) => self.spare[r as usize] -= amount,
                Step::Skip(e) => {
                    let e = e as usize;
                    if self.skip0[e] > 0 {
                        self.skip0[e] -= amount;
                    } else {
                        self.skip_big[e] -= amount;
                    }
                }
                Step::HallOut => self.hall_spare -= amount as u64,
                Step::Back(r) => self.spare[r as usize] += amount,
                Step::GroupOut(g) => self.g_spare[g as usize] -= amount,
                Step::GroupBack(g) => self.g_spare[g as usize] += amount,
            }
        }
        amount
    }
}

/// Solve the assignment exactly: maximise lexicographically (newly served enterprises, total
/// gain) subject to the capacities, the group caps and the total limit, each edge at most
/// once.
///
/// Deterministic: enterprises are processed in index order and ties are broken by node
/// index. `opts.cancel` is polled before every Dijkstra round; `opts.progress` receives
/// phase `"assign"` with units routed out of the total supply (once per search: with a
/// binding seat limit it runs from 0 to the total up to three times, see
/// [`assign_priced`]).
pub fn assign(problem: &AssignProblem, opts: &SolveOptions) -> Result<Assignment, PairError> {
    problem.check()?;
    if let Some(limit) = problem.total_capacity
        && let Some(a) = assign_priced(problem, limit, opts)?
    {
        return Ok(a);
    }
    assign_exact(problem, opts, 0)
}

/// The seat limit solved through a seat price, when that can be proved optimal.
///
/// Once the seats are full, every later unit's search in [`assign_exact`] reaches most of
/// the graph (each result with room sits at the hall's potential). So: solve without the
/// limit; if that already fits, it is optimal. Otherwise charge every seat a price `λ` a
/// little below the marginal seat's gain (cost `λ` on `H → T`) and solve with the limit:
/// few units then compete for the last seats. The priced optimum `X*` is optimal for the
/// real problem when it fills exactly the `L` seats: the feasible sets are the same, so no
/// `X` serves more enterprises, and for one serving as many
/// `Σ_X g = Σ_X (g − λ) + λ|X| ≤ Σ_X* (g − λ) + λL = Σ_X* g`. When it leaves seats empty,
/// `None`: the caller solves exactly.
fn assign_priced(
    problem: &AssignProblem,
    limit: u64,
    opts: &SolveOptions,
) -> Result<Option<Assignment>, PairError> {
    let free = AssignProblem {
        total_capacity: None,
        ..problem.clone()
    };
    let a0 = assign_exact(&free, opts, 0)?;
    let mut gains: Vec<i64> = problem
        .edges
        .iter()
        .zip(&a0.selected)
        .filter(|(_, s)| **s)
        .map(|(e, _)| e.gain)
        .collect();
    if gains.len() as u64 <= limit {
        return Ok(Some(a0));
    }
    if limit == 0 {
        return Ok(None);
    }
    gains.sort_unstable_by(|a, b| b.cmp(a));
    let lambda = gains[limit as usize - 1] - 1;
    if lambda <= 0 {
        return Ok(None);
    }
    let a = assign_exact(problem, opts, lambda)?;
    let mut count = 0u64;
    let mut gain = 0i64;
    for (e, _) in problem.edges.iter().zip(&a.selected).filter(|(_, s)| **s) {
        count += 1;
        gain += e.gain;
    }
    if count != limit {
        return Ok(None);
    }
    Ok(Some(Assignment {
        selected: a.selected,
        gain,
        newly_served: a.newly_served,
        bonus: problem.bonus()?,
        dijkstra_runs: a0.dijkstra_runs + a.dijkstra_runs,
        augmenting_paths: a0.augmenting_paths + a.augmenting_paths,
    }))
}

/// [`assign`] by successive shortest paths, the seat limit through the hall node.
fn assign_exact(
    problem: &AssignProblem,
    opts: &SolveOptions,
    seat_price: i64,
) -> Result<Assignment, PairError> {
    let big = problem.bonus()?;
    let n = problem.enterprise_capacity.len();
    let m = problem.result_capacity.len();
    let t = n + m;
    let edges = &problem.edges[..];
    let by_e = Csr::build(n, |k| edges[k].enterprise as usize, edges.len());
    let by_r = Csr::build(m, |k| edges[k].result as usize, edges.len());

    // Initial potentials: shortest distances in the DAG from a virtual root joined to every
    // enterprise at cost 0.
    let mut pot = vec![0i64; n + m + 1];
    for j in 0..m {
        pot[n + j] = by_r
            .range(j)
            .map(|idx| -edges[by_r.adj[idx] as usize].gain)
            .min()
            .unwrap_or(0);
    }
    pot[t] = pot[n..t].iter().copied().min().unwrap_or(0).min(0);

    let spare: Vec<u32> = (0..m)
        .map(|j| problem.result_capacity[j].min(by_r.range(j).len() as u32))
        .collect();
    let supply: Vec<u32> = (0..n)
        .map(|i| problem.enterprise_capacity[i].min(by_e.range(i).len() as u32))
        .collect();
    let total: u64 = supply.iter().map(|&s| s as u64).sum();
    // Group nodes only where the cap can bind (below what its members can use together):
    // otherwise the network (and every tie) is exactly the one without that group.
    let mut usable_g = vec![0u64; problem.group_capacity.len()];
    for (j, g) in problem.result_group.iter().enumerate() {
        if let Some(g) = g {
            usable_g[*g as usize] += spare[j] as u64;
        }
    }
    let mut compact = vec![NO_GROUP; usable_g.len()];
    let mut g_cap: Vec<u32> = Vec::new();
    for (g, (&cap, &usable)) in problem.group_capacity.iter().zip(&usable_g).enumerate() {
        if (cap as u64) < usable {
            compact[g] = g_cap.len() as u32;
            g_cap.push(cap);
        }
    }
    let mut r_group = vec![NO_GROUP; m];
    let mut g_members: Vec<Vec<u32>> = vec![Vec::new(); g_cap.len()];
    for (j, g) in problem.result_group.iter().enumerate() {
        if let Some(g) = g
            && compact[*g as usize] != NO_GROUP
        {
            let c = compact[*g as usize];
            r_group[j] = c;
            g_members[c as usize].push(j as u32);
        }
    }
    // What the results can take together, each binding group counted at its cap.
    let room: u64 = (0..m)
        .filter(|&j| r_group[j] == NO_GROUP)
        .map(|j| spare[j] as u64)
        .chain(g_cap.iter().map(|&c| c as u64))
        .sum();
    // The hall only when the limit can bind: otherwise the network (and every tie) is
    // exactly the one without a limit.
    let (hall, hall_spare) = match problem.total_capacity {
        Some(limit) if limit < total.min(room) => (Some(t + 1), limit),
        _ => (None, 0),
    };
    let g_base = if hall.is_some() { n + m + 2 } else { n + m + 1 };
    let nodes = g_base + g_cap.len();
    pot.resize(nodes, 0);
    if let Some(h) = hall {
        // π(H) between the results and the sink keeps r → H and H → T non-negative.
        pot[h] = pot[t];
    }
    for (g, members) in g_members.iter().enumerate() {
        // π(G) = min π(r) over its members keeps r → G non-negative, and π(G) ≥ π(T) = π(H)
        // keeps G → H / G → T non-negative.
        pot[g_base + g] = members
            .iter()
            .map(|&j| pot[n + j as usize])
            .min()
            .unwrap_or(pot[t]);
    }

    let mut s = Ssp {
        n,
        t,
        hall,
        hall_spare,
        hall_cost: seat_price,
        hall_settled: false,
        cap_r: spare.clone(),
        r_group,
        g_base,
        g_members,
        g_spare: g_cap.clone(),
        g_cap,
        edges,
        by_e,
        by_r,
        big,
        selected: vec![false; edges.len()],
        spare,
        skip0: vec![0; n],
        skip_big: vec![0; n],
        pot,
        dij: Dij {
            dist: vec![0; nodes],
            seen: vec![0; nodes],
            stamp: 0,
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        },
        dead: vec![0; nodes],
        on_path: vec![0; nodes],
        cur: vec![0; nodes],
        cur_stamp: vec![0; nodes],
        attempt: 0,
        path_nodes: Vec::new(),
        path_steps: Vec::new(),
    };

    let mut runs = 0u64;
    let mut paths = 0u64;
    let mut done = 0u64;
    let mut next_report = 0u64;
    opts.report("assign", 0, total);
    for (e, &sup) in supply.iter().enumerate() {
        if sup == 0 {
            continue;
        }
        if problem.enterprise_served[e] {
            s.skip0[e] = sup;
        } else {
            s.skip0[e] = sup - 1;
            s.skip_big[e] = 1;
        }
        let mut left = sup;
        while left > 0 {
            opts.check_cancel()?;
            let dt = s.dijkstra(e)?;
            runs += 1;
            s.update_potentials(dt);
            let mut first = true;
            while left > 0 {
                let pushed = s.augment_once(e, dt, left);
                if pushed == 0 {
                    if first {
                        return Err(internal("no tight path after a Dijkstra round"));
                    }
                    break;
                }
                first = false;
                paths += 1;
                left -= pushed;
            }
        }
        done += sup as u64;
        if done >= next_report {
            opts.report("assign", done, total);
            next_report = done + total / 100 + 1;
        }
    }
    opts.report("assign", total, total);

    let mut gain = 0i64;
    let mut served = vec![false; n];
    let mut newly_served = 0u64;
    for (e, _) in edges.iter().zip(&s.selected).filter(|(_, x)| **x) {
        gain += e.gain;
        let i = e.enterprise as usize;
        if !served[i] && !problem.enterprise_served[i] {
            served[i] = true;
            newly_served += 1;
        }
    }
    Ok(Assignment {
        selected: s.selected,
        gain,
        newly_served,
        bonus: big,
        dijkstra_runs: runs,
        augmenting_paths: paths,
    })
}

/// Why a selection is not a certified optimum.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OptimalityError {
    /// The problem or the selection is malformed.
    #[error("malformed input: {0}")]
    Malformed(String),
    /// The selection exceeds a capacity.
    #[error("{side} {index} has {used} selected edges but capacity {capacity}")]
    CapacityExceeded {
        /// `"enterprise"`, `"result"` or `"group"` (a group's cap).
        side: &'static str,
        /// Index of the participant.
        index: usize,
        /// Selected edges at it.
        used: u64,
        /// Its capacity.
        capacity: u32,
    },
    /// The selection has more edges than [`AssignProblem::total_capacity`].
    #[error("{used} edges selected but the total limit is {limit}")]
    TotalExceeded {
        /// Selected edges.
        used: u64,
        /// The limit.
        limit: u64,
    },
    /// The residual graph has an improving cycle.
    #[error("the residual graph has a negative-cost {kind} of cost {cost} with {arcs} arcs")]
    NegativeCycle {
        /// Cost of the cycle (negative).
        cost: i64,
        /// `"source-to-sink path"` (more flow would lower the cost), `"sink-to-source path"`
        /// (less flow would lower the cost) or `"cycle"` (rerouting would).
        kind: &'static str,
        /// Number of residual arcs in the cycle.
        arcs: usize,
    },
}

/// Certificate check: build the residual graph of `selected` in the reference network
/// (module docs, with the hall when there is a total limit and a node for every group,
/// binding or not) plus the return arc `T → S` of
/// cost 0, and prove with Bellman–Ford
/// (queue-based, with path-length cycle detection) that it has no negative-cost cycle.
///
/// A negative cycle through the return arc is a negative-cost source→sink path (augmenting
/// would lower the cost); through its reverse, a negative sink→source path (removing flow
/// would); otherwise a negative cycle (rerouting would). No negative cycle at all is the
/// optimality condition for a minimum-cost flow of free value.
pub fn verify_optimality(
    problem: &AssignProblem,
    selected: &[bool],
) -> Result<(), OptimalityError> {
    problem
        .check()
        .map_err(|e| OptimalityError::Malformed(e.to_string()))?;
    let big = problem
        .bonus()
        .map_err(|e| OptimalityError::Malformed(e.to_string()))?;
    if selected.len() != problem.edges.len() {
        return Err(OptimalityError::Malformed(format!(
            "{} selection flags for {} edges",
            selected.len(),
            problem.edges.len()
        )));
    }
    let n = problem.enterprise_capacity.len();
    let m = problem.result_capacity.len();
    let src = n + m;
    let snk = n + m + 1;
    // With a total limit the results reach the sink through the hall; grouped results
    // reach the hall (or the sink) through their group's node, every group having one.
    let (hall, g_base) = match problem.total_capacity {
        Some(_) => (n + m + 2, n + m + 3),
        None => (snk, n + m + 2),
    };
    let nn = g_base + problem.group_capacity.len();
    let out_of = |j: usize| match problem.result_group.get(j) {
        Some(Some(g)) => g_base + *g as usize,
        _ => hall,
    };
    let mut used_e = vec![0u64; n];
    let mut used_r = vec![0u64; m];
    for (e, _) in problem.edges.iter().zip(selected).filter(|(_, x)| **x) {
        used_e[e.enterprise as usize] += 1;
        used_r[e.result as usize] += 1;
    }
    // Residual arcs: (from, to, cost, tag) with tag 1 = return arc T→S, 2 = its reverse.
    let mut arcs: Vec<(u32, u32, i64, u8)> =
        Vec::with_capacity(problem.edges.len() + 3 * n + 2 * m);
    for (i, (&cap, &used)) in problem.enterprise_capacity.iter().zip(&used_e).enumerate() {
        if used > cap as u64 {
            return Err(OptimalityError::CapacityExceeded {
                side: "enterprise",
                index: i,
                used,
                capacity: cap,
            });
        }
        let (bonus_cap, rest_cap) = if problem.enterprise_served[i] || cap == 0 {
            (0u64, cap as u64)
        } else {
            (1, cap as u64 - 1)
        };
        let bonus_flow = used.min(bonus_cap);
        let rest_flow = used - bonus_flow;
        if bonus_cap == 1 {
            if bonus_flow == 0 {
                arcs.push((src as u32, i as u32, -big, 0));
            } else {
                arcs.push((i as u32, src as u32, big, 0));
            }
        }
        if rest_flow < rest_cap {
            arcs.push((src as u32, i as u32, 0, 0));
        }
        if rest_flow > 0 {
            arcs.push((i as u32, src as u32, 0, 0));
        }
    }
    for (e, &sel) in problem.edges.iter().zip(selected) {
        let (u, v) = (e.enterprise, n as u32 + e.result);
        if sel {
            arcs.push((v, u, e.gain, 0));
        } else {
            arcs.push((u, v, -e.gain, 0));
        }
    }
    for (j, (&cap, &used)) in problem.result_capacity.iter().zip(&used_r).enumerate() {
        if used > cap as u64 {
            return Err(OptimalityError::CapacityExceeded {
                side: "result",
                index: j,
                used,
                capacity: cap,
            });
        }
        let out = out_of(j) as u32;
        if used < cap as u64 {
            arcs.push(((n + j) as u32, out, 0, 0));
        }
        if used > 0 {
            arcs.push((out, (n + j) as u32, 0, 0));
        }
    }
    let mut used_g = vec![0u64; problem.group_capacity.len()];
    for (j, g) in problem.result_group.iter().enumerate() {
        if let Some(g) = g {
            used_g[*g as usize] += used_r[j];
        }
    }
    for (g, (&cap, &used)) in problem.group_capacity.iter().zip(&used_g).enumerate() {
        if used > cap as u64 {
            return Err(OptimalityError::CapacityExceeded {
                side: "group",
                index: g,
                used,
                capacity: cap,
            });
        }
        let node = (g_base + g) as u32;
        if used < cap as u64 {
            arcs.push((node, hall as u32, 0, 0));
        }
        if used > 0 {
            arcs.push((hall as u32, node, 0, 0));
        }
    }
    if let Some(limit) = problem.total_capacity {
        let used: u64 = used_r.iter().sum();
        if used > limit {
            return Err(OptimalityError::TotalExceeded { used, limit });
        }
        if used < limit {
            arcs.push((hall as u32, snk as u32, 0, 0));
        }
        if used > 0 {
            arcs.push((snk as u32, hall as u32, 0, 0));
        }
    }
    arcs.push((snk as u32, src as u32, 0, 1));
    if used_e.iter().any(|&u| u > 0) {
        arcs.push((src as u32, snk as u32, 0, 2));
    }
    let csr = Csr::build(nn, |a| arcs[a].0 as usize, arcs.len());

    // Bellman–Ford from a virtual root joined to every node at cost 0 (queue-based).
    let mut dist = vec![0i64; nn];
    let mut len = vec![0usize; nn];
    let mut parent = vec![u32::MAX; nn];
    let mut in_queue = vec![true; nn];
    let mut queue: VecDeque<usize> = (0..nn).collect();
    while let Some(u) = queue.pop_front() {
        in_queue[u] = false;
        for idx in csr.range(u) {
            let a = csr.adj[idx] as usize;
            let (_, v, c, _) = arcs[a];
            let v = v as usize;
            let nd = dist[u] + c;
            if nd < dist[v] {
                dist[v] = nd;
                parent[v] = a as u32;
                len[v] = len[u] + 1;
                if len[v] >= nn {
                    return Err(describe_cycle(&arcs, &parent, v, nn));
                }
                if !in_queue[v] {
                    in_queue[v] = true;
                    queue.push_back(v);
                }
            }
        }
    }
    Ok(())
}

/// Walk the parent pointers into the cycle and describe it.
fn describe_cycle(
    arcs: &[(u32, u32, i64, u8)],
    parent: &[u32],
    start: usize,
    nn: usize,
) -> OptimalityError {
    let mut x = start;
    for _ in 0..nn {
        match parent[x] {
            u32::MAX => break,
            a => x = arcs[a as usize].0 as usize,
        }
    }
    let mut cost = 0i64;
    let mut count = 0usize;
    let mut tags = 0u8;
    let mut y = x;
    loop {
        let a = parent[y];
        if a == u32::MAX || count > nn {
            break;
        }
        let (from, _, c, tag) = arcs[a as usize];
        cost += c;
        tags |= tag;
        count += 1;
        y = from as usize;
        if y == x {
            break;
        }
    }
    let kind = if tags & 1 != 0 {
        "source-to-sink path"
    } else if tags & 2 != 0 {
        "sink-to-source path"
    } else {
        "cycle"
    };
    OptimalityError::NegativeCycle {
        cost,
        kind,
        arcs: count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random problems with a binding seat limit: the seat-price route proves its answer
    /// and agrees with the plain search on the objective, or declines and leaves it to it.
    #[test]
    fn the_seat_price_route_agrees_with_the_plain_search() {
        let mut x = 0x5eed_u64;
        let mut next = |n: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % n
        };
        let mut proved = 0;
        for case in 0..300 {
            let (n, m) = (2 + next(30) as usize, 2 + next(40) as usize);
            let mut edges = Vec::new();
            for e in 0..n {
                for _ in 0..1 + next(6) {
                    edges.push(FlowEdge {
                        enterprise: e as u32,
                        result: next(m as u64) as u32,
                        // coarse gains make ties, where a price is most fragile
                        gain: (next(if case % 2 == 0 { 5 } else { 1_000_000 }) as i64) * 1000,
                    });
                }
            }
            let free = AssignProblem {
                enterprise_capacity: (0..n).map(|_| next(4) as u32).collect(),
                enterprise_served: (0..n).map(|_| next(20) == 0).collect(),
                result_capacity: (0..m).map(|_| next(3) as u32).collect(),
                edges,
                ..Default::default()
            };
            let opts = SolveOptions::default();
            let unlimited = assign_exact(&free, &opts, 0).unwrap();
            let count = unlimited.selected.iter().filter(|s| **s).count() as u64;
            for limit in [count / 2, count.saturating_sub(1)] {
                let p = AssignProblem {
                    total_capacity: Some(limit),
                    ..free.clone()
                };
                let exact = assign_exact(&p, &opts, 0).unwrap();
                if let Some(priced) = assign_priced(&p, limit, &opts).unwrap() {
                    proved += 1;
                    assert_eq!(
                        p.cost(&priced.selected).unwrap(),
                        p.cost(&exact.selected).unwrap(),
                        "case {case}, limit {limit}"
                    );
                    assert!(priced.selected.iter().filter(|s| **s).count() as u64 <= limit);
                }
                let chosen = assign(&p, &opts).unwrap();
                assert_eq!(
                    p.cost(&chosen.selected).unwrap(),
                    p.cost(&exact.selected).unwrap()
                );
            }
        }
        assert!(proved > 300, "the price proves most cases: {proved} of 600");
    }
}
