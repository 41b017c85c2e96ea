//! Matchmaking events (对接会, 会客厅, 圆桌论坛): validation, participants, preferences, pairing
//! generation and organiser edits, shared by the HTTP API (no axum types here).
//!
//! ## How an event becomes a solver instance
//!
//! * **Enterprise side.** One solver party per participating *enterprise organisation*
//!   (`e{org_id}`), capacity = the event's `max_per_enterprise`. Its needs only shape the
//!   scores: the score of (enterprise, result) is the best score of any of its needs with
//!   that result, and the meeting is recorded with that need. So the cap is per enterprise,
//!   an enterprise never meets the same result twice for two needs, and one enterprise
//!   delegation is never booked at two tables at once.
//! * **Result side.** One party per participating result (`r{id}`, `max_per_result`) and
//!   per participating expert (`x{id}`, `max_per_expert`), in every format.
//! * **Scores** come from [`event_scores`] (index candidates re-scored by the matching engine), then
//!   preferences: each side's "like" adds [`LIKE_BONUS`], both sides liking adds
//!   [`MUTUAL_BONUS`] more (a liked pair without a text score becomes a candidate); "no" and
//!   "conflict" from anyone forbid the pair, and an organisation never meets itself; "must"
//!   from anyone forces it unless it is forbidden or over a capacity, in which case it is
//!   listed in `ignored_forced` with the reason. The candidate graph is sparsified to the
//!   best [`SPARSIFY_FACTOR`] × capacity candidates of each side (liked and forced pairs are
//!   always kept), then `duijie_match::solve` runs on a blocking thread with a deadline.
//!
//! ## Formats
//!
//! * **fair** (对接会): one-to-one meetings; slots and tables are the solver's, and exact:
//!   the seats are constraints of its min-cost flow (at most `min(capacity, slots)` meetings
//!   per party, at most `slots × tables` in all), then bipartite edge colouring and seating.
//! * **parlour** (会客厅), a *heuristic* layout: the same assignment (solved with unbounded
//!   slots and tables, so exact only before seating), then each enterprise *hosts* its visitors
//!   (experts and result teams) together: a visit is one (slot, table) holding all of the
//!   enterprise's visitors who are free then; visitors busy elsewhere get a second visit in
//!   another slot. Enterprises with most visitors are placed first, each in the slot where
//!   most of its visitors are free.
//! * **roundtable** (圆桌论坛), a *heuristic* layout like the parlour's: results and
//!   experts are grouped by industry onto theme tables
//!   (the event's themes first, then other industries by size, then the rest); each
//!   enterprise visits, one slot per table, the tables of the partners it was assigned, with
//!   at most `seats_per_table` enterprises at a table in a slot.
//!
//! What does not fit is reported, never an error: `unplaced` (who got fewer meetings than
//! its capacity, with the solver's reason), `unseated` (assigned meetings the parlour or
//! roundtable layout could not seat, with the reason, labelled as the heuristic's; a fair
//! has none) and `ignored_forced`.

use crate::app::App;
use crate::error::{AppError, ErrorKind};
use duijie_domain::input::Record;
use duijie_domain::{
    EventFormat, EventStatus, FieldErrors, ListingKind, ListingText, PreferenceKind, Side,
};
use duijie_match::{
    Edit, EditRejection, Instance, Party, PlacedPair, ScoreEntry, Solution, SolveOptions, Stats,
    Unplaced, Unseated,
};
pub use duijie_store::EventFilter;
use duijie_store::{
    Event, EventBreak, EventDraft, Page, PairingChange, PairingDraft, PairingRow, PairingRun,
    Participant, Preference, PreferenceDraft,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Event formats.
pub const FORMATS: &[(&str, &str)] = EventFormat::TABLE;
/// Event statuses.
pub const STATUSES: &[(&str, &str)] = EventStatus::TABLE;
/// Who declares a preference.
pub const SIDES: &[(&str, &str)] = Side::TABLE;
/// Preference values.
pub const PREFERENCES: &[(&str, &str)] = PreferenceKind::TABLE;

/// Score added when one side likes a pair.
pub const LIKE_BONUS: f64 = 0.1;
/// Score added on top when both sides like a pair.
pub const MUTUAL_BONUS: f64 = 0.2;
/// Each party keeps its best `SPARSIFY_FACTOR × capacity` candidates (at least
/// [`SPARSIFY_MIN`]); a pair is kept when either side keeps it.
pub const SPARSIFY_FACTOR: usize = 4;
/// See [`SPARSIFY_FACTOR`].
pub const SPARSIFY_MIN: usize = 12;
/// Longest a pairing may run before it is cancelled.
pub const SOLVE_TIMEOUT: Duration = Duration::from_secs(60);
/// Slots and tables given to the solver for grouped formats, whose own layout places the
/// meetings afterwards.
const UNBOUNDED: i64 = 100_000;

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn field_error(
    field: &str,
    code: &'static str,
    zh: impl AsRef<str>,
    en: impl AsRef<str>,
) -> AppError {
    let mut f = FieldErrors::default();
    f.push(field, code, zh, en);
    AppError::Validation(f)
}

mod input;
pub use input::*;
mod participants;
pub use participants::*;
mod preferences;
pub use preferences::*;
mod scoring;
pub use scoring::*;
mod instance;
pub use instance::*;
mod layout;
pub use layout::*;
mod answers;
pub use answers::*;
mod generate;
pub use generate::*;
mod views;
pub use views::*;
mod edits;
pub use edits::*;
mod selfservice;
pub use selfservice::*;

// ---------------------------------------------------------------------------------------
// Names of everything an event shows
// ---------------------------------------------------------------------------------------

/// Names of the organisations and listings of an event, from its participants.
#[derive(Debug, Default)]
struct Names {
    orgs: HashMap<i64, (String, String)>,
    listings: HashMap<(ListingKind, i64), (Option<String>, i64)>,
}

impl Names {
    fn of(participants: &[Participant]) -> Names {
        let mut n = Names::default();
        for p in participants {
            n.orgs.insert(
                p.organization_id,
                (p.organization_name.clone(), p.organization_kind.clone()),
            );
            for l in &p.listings {
                n.listings
                    .insert((l.kind, l.id), (l.title.clone(), p.organization_id));
            }
        }
        n
    }

    fn org(&self, id: i64) -> String {
        self.orgs
            .get(&id)
            .map(|o| o.0.clone())
            .unwrap_or_else(|| format!("单位 {id}（已退出）"))
    }

    fn title(&self, kind: ListingKind, id: i64) -> Option<String> {
        self.listings.get(&(kind, id)).and_then(|l| l.0.clone())
    }

    fn owner(&self, kind: ListingKind, id: i64) -> Option<i64> {
        self.listings.get(&(kind, id)).map(|l| l.1)
    }
}

#[cfg(test)]
mod tests;
