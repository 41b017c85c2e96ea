//! Views of a generated pairing: meetings, unplaced parties, tables, agendas and the schedule grid.

use super::*;

/// The enterprise side of a meeting.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseRef {
    /// Organisation id.
    pub organization_id: i64,
    /// Organisation name.
    pub organization_name: String,
    /// The need the meeting is about (0 when none).
    pub need_id: i64,
    /// Its title.
    pub need_title: Option<String>,
}

/// The result side of a meeting.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerRef {
    /// `result` or `expert`.
    pub kind: ListingKind,
    /// Listing id.
    pub id: i64,
    /// Result title or expert name (`None` when deleted).
    pub title: Option<String>,
    /// Owning organisation.
    pub organization_id: Option<i64>,
    /// Its name.
    pub organization_name: Option<String>,
}

/// One scheduled meeting.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeetingView {
    /// Pairing id (for PATCH).
    pub id: i64,
    /// 0-based slot.
    pub slot: i64,
    /// 0-based table.
    pub table: i64,
    /// Slot start `HH:MM`.
    pub start: String,
    /// Slot end `HH:MM`.
    pub end: String,
    /// Table name.
    pub table_name: String,
    /// Score used by the optimiser.
    pub score: f64,
    /// Matching score before preferences.
    pub base_score: f64,
    /// Forced by a "must".
    pub forced: bool,
    /// `solver` or `manual`.
    pub origin: String,
    /// Enterprise side.
    pub enterprise: EnterpriseRef,
    /// Result side.
    pub partner: PartnerRef,
}

/// A participant with fewer meetings than its capacity.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnplacedView {
    /// `enterprise`, `result` or `expert`.
    pub side: &'static str,
    /// Organisation id.
    pub organization_id: Option<i64>,
    /// Organisation name.
    pub organization_name: String,
    /// The result or expert (`None` for an enterprise).
    pub listing_id: Option<i64>,
    /// Its title or name.
    pub title: Option<String>,
    /// Capacity.
    pub wanted: u64,
    /// Meetings assigned.
    pub got: u64,
    /// `capacity`, `slots`, `tables`, `no_candidate`, `conflicts` or `manual`.
    pub reason_code: String,
    /// `中文 / English`.
    pub reason: String,
}

/// A meeting without slot or table, or a "must" that was dropped.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeftOutView {
    /// Enterprise side.
    pub enterprise: EnterpriseRef,
    /// Result side.
    pub partner: PartnerRef,
    /// Score (0 for dropped "must" pairs).
    pub score: f64,
    /// Reason code for dropped "must" pairs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// `中文 / English`.
    pub reason: String,
}

/// A table and its name.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableView {
    /// 0-based.
    pub table: i64,
    /// Name.
    pub name: String,
}

/// The pairing of an event as clients see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PairingView {
    /// Event.
    pub event_id: i64,
    /// Format.
    pub format: EventFormat,
    /// Whether a pairing was generated.
    pub generated: bool,
    /// RFC 3339.
    pub generated_at: Option<String>,
    /// Last edit, RFC 3339.
    pub updated_at: Option<String>,
    /// Incremented by every edit.
    pub version: i64,
    /// Participants or preferences changed since it was generated.
    pub stale: bool,
    /// Sum of the scores of the meetings.
    pub total_score: f64,
    /// Enterprises with at least one meeting.
    pub enterprises_served: u64,
    /// Number of meetings.
    pub meetings: u64,
    /// Slots in use.
    pub slots_used: i64,
    /// Slot times.
    pub slots: Vec<SlotTime>,
    /// Tables.
    pub tables: Vec<TableView>,
    /// The meetings by slot and table.
    pub items: Vec<MeetingView>,
    /// Participants with fewer meetings than their capacity.
    pub unplaced: Vec<UnplacedView>,
    /// Assigned meetings without slot or table.
    pub unseated: Vec<LeftOutView>,
    /// "must" pairs that could not be honoured.
    pub ignored_forced: Vec<LeftOutView>,
    /// Solver counters.
    pub stats: Option<Stats>,
    /// With a cap per organisation: the total score it cost (0 when it did not bind).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_cost: Option<f64>,
    /// Time taken by `pairings:generate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<f64>,
}

pub(super) fn enterprise_ref(names: &Names, org: i64, need: i64) -> EnterpriseRef {
    EnterpriseRef {
        organization_id: org,
        organization_name: names.org(org),
        need_id: need,
        need_title: names.title(ListingKind::Need, need),
    }
}

pub(super) fn partner_ref(names: &Names, kind: ListingKind, id: i64) -> PartnerRef {
    let owner = names.owner(kind, id);
    PartnerRef {
        kind,
        id,
        title: names.title(kind, id),
        organization_id: owner,
        organization_name: owner.map(|o| names.org(o)),
    }
}

pub(super) fn refs_of_keys(
    names: &Names,
    meta: &HashMap<(String, String), i64>,
    e: &str,
    p: &str,
) -> Option<(EnterpriseRef, PartnerRef)> {
    let org = parse_enterprise_key(e)?;
    let (kind, id) = parse_partner_key(p)?;
    let need = meta
        .get(&(e.to_string(), p.to_string()))
        .copied()
        .unwrap_or(0);
    Some((
        enterprise_ref(names, org, need),
        partner_ref(names, kind, id),
    ))
}

/// Everything needed to show, export or edit an event's pairing.
pub(super) struct Loaded {
    pub(super) event: Event,
    pub(super) participants: Vec<Participant>,
    pub(super) run: Option<PairingRun>,
    pub(super) report: StoredReport,
    pub(super) rows: Vec<PairingRow>,
}

pub(super) async fn load_pairing(ctx: &App, e: &Event) -> Result<Loaded, AppError> {
    let participants = ctx.store.participants(e.id).await?;
    let run = ctx.store.pairing_run(e.id).await?;
    let report: StoredReport = match &run {
        Some(r) => serde_json::from_str(&r.report)
            .map_err(|err| internal(format!("stored pairing report of event {}: {err}", e.id)))?,
        None => StoredReport::default(),
    };
    let rows = ctx.store.pairings(e.id).await?;
    Ok(Loaded {
        event: e.clone(),
        participants,
        run,
        report,
        rows,
    })
}

pub(super) fn view_of(l: &Loaded) -> PairingView {
    let e = &l.event;
    let names = Names::of(&l.participants);
    let times = slot_times(e);
    let tables = table_names(e, &l.report.table_names);
    let time = |s: i64| {
        times
            .get(s as usize)
            .map(|t| (t.start.clone(), t.end.clone()))
            .unwrap_or_default()
    };
    let items: Vec<MeetingView> = l
        .rows
        .iter()
        .map(|r| {
            let (start, end) = time(r.slot);
            MeetingView {
                id: r.id,
                slot: r.slot,
                table: r.table,
                start,
                end,
                table_name: tables
                    .get(r.table as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("{}号桌", r.table + 1)),
                score: r.score,
                base_score: r.base_score,
                forced: r.forced,
                origin: r.origin.clone(),
                enterprise: enterprise_ref(&names, r.enterprise_id, r.need_id),
                partner: partner_ref(&names, r.partner_kind, r.partner_id),
            }
        })
        .collect();
    let meta: HashMap<(String, String), i64> = l
        .report
        .candidates
        .iter()
        .map(|c| ((c.enterprise.clone(), c.partner.clone()), c.need_id))
        .collect();
    let unplaced = l
        .report
        .unplaced
        .iter()
        .filter_map(|u| {
            let (side, org, listing, title) = match u.kind {
                duijie_match::Side::Enterprise => {
                    let org = parse_enterprise_key(&u.id)?;
                    ("enterprise", Some(org), None, None)
                }
                duijie_match::Side::Result => {
                    let (kind, id) = parse_partner_key(&u.id)?;
                    (
                        if kind == ListingKind::Expert {
                            "expert"
                        } else {
                            "result"
                        },
                        names.owner(kind, id),
                        Some(id),
                        names.title(kind, id),
                    )
                }
            };
            Some(UnplacedView {
                side,
                organization_id: org,
                organization_name: org.map(|o| names.org(o)).unwrap_or_default(),
                listing_id: listing,
                title,
                wanted: u.wanted,
                got: u.got,
                reason_code: u.reason_code.clone(),
                reason: u.reason.clone(),
            })
        })
        .collect();
    let unseated = l
        .report
        .unseated
        .iter()
        .filter_map(|u| {
            let (er, pr) = refs_of_keys(&names, &meta, &u.enterprise, &u.result)?;
            Some(LeftOutView {
                enterprise: er,
                partner: pr,
                score: u.score,
                reason_code: None,
                reason: u.reason.clone(),
            })
        })
        .collect();
    let ignored_forced = l
        .report
        .ignored_forced
        .iter()
        .filter_map(|u| {
            let (er, pr) = refs_of_keys(&names, &meta, &u.enterprise, &u.partner)?;
            Some(LeftOutView {
                enterprise: er,
                partner: pr,
                score: 0.0,
                reason_code: Some(u.reason_code.clone()),
                reason: u.reason.clone(),
            })
        })
        .collect();
    let served: BTreeSet<i64> = l.rows.iter().map(|r| r.enterprise_id).collect();
    PairingView {
        event_id: e.id,
        format: e.format,
        generated: l.run.is_some(),
        generated_at: l.run.as_ref().map(|r| r.generated_at.clone()),
        updated_at: l.run.as_ref().map(|r| r.updated_at.clone()),
        version: l.run.as_ref().map(|r| r.version).unwrap_or(0),
        stale: l.run.as_ref().is_some_and(|r| r.stale),
        total_score: (l.rows.iter().map(|r| r.score).sum::<f64>() * 1e6).round() / 1e6,
        enterprises_served: served.len() as u64,
        meetings: l.rows.len() as u64,
        slots_used: l.rows.iter().map(|r| r.slot + 1).max().unwrap_or(0),
        slots: times,
        tables: tables
            .into_iter()
            .enumerate()
            .map(|(i, name)| TableView {
                table: i as i64,
                name,
            })
            .collect(),
        items,
        unplaced,
        unseated,
        ignored_forced,
        stats: l.run.as_ref().map(|_| l.report.stats.clone()),
        cap_cost: l.report.cap_cost,
        elapsed_ms: None,
    }
}

/// The event's pairing (empty with `generated: false` before the first generation).
pub async fn pairing_view(ctx: &App, e: &Event) -> Result<PairingView, AppError> {
    Ok(view_of(&load_pairing(ctx, e).await?))
}

/// One line of a participant's agenda.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgendaItem {
    /// Pairing id.
    pub pairing_id: i64,
    /// 0-based slot.
    pub slot: i64,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
    /// 0-based table.
    pub table: i64,
    /// Table name.
    pub table_name: String,
    /// What the participant brings to this meeting (need, result or expert).
    pub own_kind: ListingKind,
    /// Its title.
    pub own_title: Option<String>,
    /// Who it meets.
    pub counterpart_organization: String,
    /// What the other side brings.
    pub counterpart_kind: ListingKind,
    /// Its title.
    pub counterpart_title: Option<String>,
}

/// A participant's agenda.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agenda {
    /// Organisation id.
    pub organization_id: i64,
    /// Name.
    pub organization_name: String,
    /// Kind code.
    pub organization_kind: String,
    /// Meetings by time.
    pub items: Vec<AgendaItem>,
}

/// One cell of the schedule grid.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridCell {
    /// 0-based table.
    pub table: i64,
    /// Table name.
    pub table_name: String,
    /// Meetings at this table in this slot (several at a roundtable or parlour).
    pub meetings: Vec<MeetingView>,
}

/// One row of the schedule grid.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GridRow {
    /// 0-based slot.
    pub slot: i64,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
    /// A break after this slot, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub break_after: Option<EventBreak>,
    /// One cell per table.
    pub cells: Vec<GridCell>,
}

/// The schedule of an event: the grid and every participant's agenda.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    /// The event.
    pub event: Event,
    /// Slots × tables.
    pub grid: Vec<GridRow>,
    /// Per participant, in the order they joined.
    pub agendas: Vec<Agenda>,
    /// The pairing the schedule shows.
    pub pairing: PairingView,
}

/// The schedule as the API answers it: the event, its slots and tables, the grid, every
/// participant's agenda and what could not be placed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleBody {
    /// The event.
    pub event: EventView,
    /// Slot times.
    pub slots: Vec<SlotTime>,
    /// Tables.
    pub tables: Vec<TableView>,
    /// Slots × tables.
    pub grid: Vec<GridRow>,
    /// Per participant, in the order they joined.
    pub agendas: Vec<Agenda>,
    /// Participants with fewer meetings than their capacity.
    pub unplaced: Vec<UnplacedView>,
    /// Assigned meetings without slot or table.
    pub unseated: Vec<LeftOutView>,
    /// Whether a pairing was generated.
    pub generated: bool,
    /// Participants or preferences changed since it was generated.
    pub stale: bool,
}

impl ScheduleView {
    /// The API's answer.
    pub fn body(self) -> ScheduleBody {
        ScheduleBody {
            event: event_view(&self.event),
            slots: self.pairing.slots,
            tables: self.pairing.tables,
            grid: self.grid,
            agendas: self.agendas,
            unplaced: self.pairing.unplaced,
            unseated: self.pairing.unseated,
            generated: self.pairing.generated,
            stale: self.pairing.stale,
        }
    }
}

/// One meeting of the public programme: when, where, and which organisations meet about
/// which listings (no scores, no reasons).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicMeeting {
    /// 0-based slot.
    pub slot: i64,
    /// `HH:MM`.
    pub start: String,
    /// `HH:MM`.
    pub end: String,
    /// Table name.
    pub table_name: String,
    /// The enterprise.
    pub enterprise: String,
    /// The need it comes with.
    pub need_title: Option<String>,
    /// The partner's organisation.
    pub partner: Option<String>,
    /// `result` or `expert`.
    pub partner_kind: ListingKind,
    /// The result's title or the expert's name.
    pub partner_title: Option<String>,
}

/// An announced event as everyone may see it: name, date, place, format, themes, and the
/// schedule with organisation names and listing titles. Scores, who was left out and why,
/// participant contacts and wishes are for organisers and participants.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicProgramme {
    /// The event.
    pub event: EventView,
    /// Slot times.
    pub slots: Vec<SlotTime>,
    /// Tables.
    pub tables: Vec<TableView>,
    /// Meetings by slot and table.
    pub meetings: Vec<PublicMeeting>,
}

impl ScheduleView {
    /// The public programme of this schedule.
    pub fn public(&self) -> PublicProgramme {
        let mut meetings: Vec<PublicMeeting> = self
            .pairing
            .items
            .iter()
            .map(|m| PublicMeeting {
                slot: m.slot,
                start: m.start.clone(),
                end: m.end.clone(),
                table_name: m.table_name.clone(),
                enterprise: m.enterprise.organization_name.clone(),
                need_title: m.enterprise.need_title.clone(),
                partner: m.partner.organization_name.clone(),
                partner_kind: m.partner.kind,
                partner_title: m.partner.title.clone(),
            })
            .collect();
        meetings.sort_by(|a, b| (a.slot, &a.table_name).cmp(&(b.slot, &b.table_name)));
        PublicProgramme {
            event: event_view(&self.event),
            slots: self.pairing.slots.clone(),
            tables: self.pairing.tables.clone(),
            meetings,
        }
    }
}

/// Whether the caller sees an event's working data (scores, who was left out and why, the
/// exports): its organisers and the members of its participating organisations. Everyone
/// else sees the public programme.
pub async fn sees_working_data(
    ctx: &App,
    caller: &crate::auth::Caller,
    e: &Event,
) -> Result<bool, AppError> {
    if keeps_events(caller) {
        return Ok(true);
    }
    let Some(org) = caller.user.as_ref().and_then(|u| u.organization_id) else {
        return Ok(false);
    };
    Ok(ctx
        .store
        .participants(e.id)
        .await?
        .iter()
        .any(|p| p.organization_id == org))
}

/// The pairing as `caller` may read it: organisers see everything; a participating
/// organisation sees every meeting (the public programme shows them anyway) but only its
/// own entries among those left out (`unplaced`, `unseated`, `ignored_forced`), whose
/// reasons would otherwise tell it that another participant declined or said no.
pub async fn pairing_view_for(
    ctx: &App,
    caller: &crate::auth::Caller,
    e: &Event,
) -> Result<PairingView, AppError> {
    require_working_data(ctx, caller, e).await?;
    let mut view = pairing_view(ctx, e).await?;
    if !keeps_events(caller) {
        let org = caller.user.as_ref().and_then(|u| u.organization_id);
        view.restrict_to(org);
    }
    Ok(view)
}

impl PairingView {
    /// Keeps only the left-out entries that involve organisation `org` (none for `None`).
    pub fn restrict_to(&mut self, org: Option<i64>) {
        let mine = |x: Option<i64>| x.is_some() && x == org;
        self.unplaced.retain(|u| mine(u.organization_id));
        let involves = |l: &LeftOutView| {
            mine(Some(l.enterprise.organization_id)) || mine(l.partner.organization_id)
        };
        self.unseated.retain(involves);
        self.ignored_forced.retain(involves);
    }
}

/// Refuses the working data of an event to the public: 401 asks an anonymous caller to
/// sign in, 403 tells a member of another organisation where the public programme is.
pub async fn require_working_data(
    ctx: &App,
    caller: &crate::auth::Caller,
    e: &Event,
) -> Result<(), AppError> {
    if sees_working_data(ctx, caller, e).await? {
        return Ok(());
    }
    if caller.user.is_none() {
        return Err(AppError::unauthenticated());
    }
    Err(AppError::forbidden(
        format!(
            "对接会的评分、未安排情况和导出只对组织者和参会单位开放；公开日程见 /api/v1/events/{}/schedule",
            e.id
        ),
        format!(
            "scores, who was left out and the exports are for the organisers and the participating organisations; the public programme is at /api/v1/events/{}/schedule",
            e.id
        ),
    ))
}

/// Builds the schedule of an event.
pub async fn schedule(ctx: &App, e: &Event) -> Result<ScheduleView, AppError> {
    let l = load_pairing(ctx, e).await?;
    let pairing = view_of(&l);
    let grid = pairing
        .slots
        .iter()
        .map(|s| GridRow {
            slot: s.slot,
            start: s.start.clone(),
            end: s.end.clone(),
            break_after: e
                .breaks
                .iter()
                .find(|b| b.after_slot == s.slot + 1)
                .cloned(),
            cells: pairing
                .tables
                .iter()
                .map(|t| GridCell {
                    table: t.table,
                    table_name: t.name.clone(),
                    meetings: pairing
                        .items
                        .iter()
                        .filter(|m| m.slot == s.slot && m.table == t.table)
                        .cloned()
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let agendas = l
        .participants
        .iter()
        .map(|p| {
            let mut items: Vec<AgendaItem> = Vec::new();
            for m in &pairing.items {
                let item = |own_kind,
                            own_title: &Option<String>,
                            org: &str,
                            kind,
                            title: &Option<String>| AgendaItem {
                    pairing_id: m.id,
                    slot: m.slot,
                    start: m.start.clone(),
                    end: m.end.clone(),
                    table: m.table,
                    table_name: m.table_name.clone(),
                    own_kind,
                    own_title: own_title.clone(),
                    counterpart_organization: org.to_string(),
                    counterpart_kind: kind,
                    counterpart_title: title.clone(),
                };
                if m.enterprise.organization_id == p.organization_id {
                    items.push(item(
                        ListingKind::Need,
                        &m.enterprise.need_title,
                        m.partner.organization_name.as_deref().unwrap_or(""),
                        m.partner.kind,
                        &m.partner.title,
                    ));
                }
                if m.partner.organization_id == Some(p.organization_id) {
                    items.push(item(
                        m.partner.kind,
                        &m.partner.title,
                        &m.enterprise.organization_name,
                        ListingKind::Need,
                        &m.enterprise.need_title,
                    ));
                }
            }
            items.sort_by_key(|i| (i.slot, i.table, i.pairing_id));
            Agenda {
                organization_id: p.organization_id,
                organization_name: p.organization_name.clone(),
                organization_kind: p.organization_kind.clone(),
                items,
            }
        })
        .collect();
    Ok(ScheduleView {
        event: e.clone(),
        grid,
        agendas,
        pairing,
    })
}
