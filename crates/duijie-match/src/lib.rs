//! # duijie-match: exact pairing and meeting scheduling
//!
//! At a matchmaking event (对接会) enterprises with technology needs meet university research
//! results (成果). Given candidate pairs with matching scores, this crate decides **who
//! meets whom** (exactly optimal, not greedy), then **when** (time slots) and **where**
//! (tables), and explains every shortfall in Chinese and English. It does no I/O apart from
//! JSON (de)serialisation; the server and the `duijie pair` CLI call it.
//!
//! ## Pipeline
//!
//! 1. [`parse_instance`] / [`Instance::validate`]: the offline JSON format, with stable error
//!    codes ([`PairError::code`]) and messages in English and Chinese.
//! 2. [`assign`]: a min-cost flow that maximises, lexicographically, (1) the number of
//!    enterprises with at least one meeting and (2) the total score, under enterprise and
//!    result capacities and the caps of groups of results (a university's results
//!    together), each pair at most once — and under the seats: at most
//!    `min(capacity, slots)` meetings per participant, at most `slots × tables` in all. Those
//!    are exactly the assignments that fit (step 3), so the schedule is optimal *with*
//!    seating, not an optimal assignment seated greedily.
//! 3. [`schedule`]: slots by bipartite edge colouring (König: Δ slots suffice, Δ = most
//!    meetings of one participant), rebalanced so that slot sizes differ by at most one
//!    (an equitable colouring exists with any k ≥ Δ colours, so `max(Δ, ⌈meetings/tables⌉)`
//!    ≤ `slots` slots each fit into the tables).
//! 4. [`seat`]: tables within each slot, keeping participants at the same table across
//!    consecutive slots when possible.
//! 5. [`solve()`] runs it all and reports `unplaced` participants (reason codes `capacity`,
//!    `group_cap`, `slots`, `tables`, `no_candidate`, `conflicts`); it leaves no meeting
//!    `unseated` (that list is for layouts built on top, and edits).
//! 6. [`apply_edit`]: organiser edits (add, move, remove, swap tables), validated against the
//!    same constraints.
//!
//! ## Formulation and why the fairness bonus is lexicographic
//!
//! Network: source → enterprise (a first unit arc of cost `−BIG` and the remaining capacity
//! at cost 0), enterprise → result (capacity 1, cost `−round(score · 10⁶)`), result → sink
//! (the result's capacity; through a hall node whose arc to the sink holds the seats left
//! when those can run short, and through a group node holding the group's cap for results
//! in a group whose cap can bind). A minimum-cost flow (of whatever value is cheapest) has
//! cost `−BIG · served − score`, where `served` counts enterprises using their first unit arc.
//! `BIG` is larger than any achievable total score ([`AssignProblem::bonus`]), so one more
//! served enterprise always outweighs any score difference: the minimum cost is reached
//! exactly at the lexicographic optimum (most enterprises served, then highest score). All
//! costs are `i64`, so there are no floating-point ties or drift.
//!
//! Forced pairs are placed before the flow: they use up capacity and seats, and an
//! enterprise with a forced pair is already served (no bonus arc). Forbidden pairs, unscored
//! pairs and pairs scoring below `min_score` are not edges of the network (a forced pair is
//! placed whatever its score; without a score entry its score is 0).
//!
//! The flow is computed by successive shortest paths with Dijkstra and Johnson potentials
//! (initialised from the DAG structure since costs start negative), several augmenting paths
//! per Dijkstra round; see [`flow`] for the details and [`verify_optimality`] for the
//! independent certificate check (no negative cycle in the residual graph, hence no
//! improving source→sink path either).
//!
//! Everything is deterministic: ties follow input order and indices, never hash order.
//!
//! ## Example
//!
//! ```
//! use duijie_match::{SolveOptions, parse_instance, solve};
//!
//! let instance = parse_instance(r#"{
//!     "enterprises": [{"id": "e1", "capacity": 2}, {"id": "e2", "capacity": 1}],
//!     "results": [{"id": "r1", "capacity": 1}, {"id": "r2", "capacity": 1}],
//!     "scores": [{"enterprise": "e1", "result": "r1", "score": 0.9},
//!                {"enterprise": "e1", "result": "r2", "score": 0.8},
//!                {"enterprise": "e2", "result": "r1", "score": 0.3}],
//!     "slots": 2, "tables": 2}"#)?;
//! let solution = solve(&instance, &SolveOptions::default())?;
//! // Serving e2 (fairness) beats giving e1 both results (score).
//! assert_eq!(solution.enterprises_served, 2);
//! assert!((solution.total_score - 1.1).abs() < 1e-9);
//! assert_eq!(solution.slots_used, 1);
//! # Ok::<(), duijie_match::PairError>(())
//! ```

#![warn(missing_docs)]

pub mod colour;
pub mod edit;
pub mod engine;
pub mod error;
pub mod eval;
pub mod flow;
pub mod model;
pub mod pinned;
pub mod solve;
pub mod sparsify;
pub mod synth;

pub use colour::{edge_colouring, max_degree, schedule, seat};
pub use edit::{Edit, EditRejection, apply_edit};
pub use error::{PairError, Side};
pub use flow::{AssignProblem, Assignment, FlowEdge, OptimalityError, assign, verify_optimality};
pub use model::{
    Group, Instance, MAX_SCORE, Party, PlacedPair, ScoreEntry, Solution, Stats, Unplaced, Unseated,
    parse_instance,
};
pub use pinned::{pin, seat_around};
pub use solve::{Progress, ProgressFn, SCALE, SolveOptions, scaled, solve};
pub use sparsify::sparsify;
