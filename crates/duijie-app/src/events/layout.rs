//! Grouped layouts of parlours and roundtables (pure).

use super::*;

/// A meeting to lay out: enterprise index, partner index, score.
pub type LayoutMeeting = (usize, usize, f64);

/// Placed meetings `(meeting, slot, table)` and the rest with reasons.
pub type Layout = (Vec<(usize, u32, u32)>, Vec<(usize, String)>);

/// Parlour layout: each enterprise hosts its visitors together (see the module docs).
pub fn layout_parlour(
    meetings: &[LayoutMeeting],
    n_enterprises: usize,
    n_partners: usize,
    slots: usize,
    tables: usize,
) -> Layout {
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n_enterprises];
    for (k, m) in meetings.iter().enumerate() {
        groups[m.0].push(k);
    }
    for g in &mut groups {
        g.sort_by(|a, b| meetings[*b].2.total_cmp(&meetings[*a].2).then(a.cmp(b)));
    }
    let mut order: Vec<usize> = (0..n_enterprises)
        .filter(|e| !groups[*e].is_empty())
        .collect();
    order.sort_by(|a, b| groups[*b].len().cmp(&groups[*a].len()).then(a.cmp(b)));
    let mut partner_busy = vec![vec![false; slots]; n_partners];
    let mut host_busy = vec![vec![false; slots]; n_enterprises];
    let mut used_tables = vec![0usize; slots];
    let (mut placed, mut dropped) = (Vec::new(), Vec::new());
    for e in order {
        let mut remaining = groups[e].clone();
        while !remaining.is_empty() {
            let best = (0..slots)
                .filter(|&s| !host_busy[e][s] && used_tables[s] < tables)
                .map(|s| {
                    (
                        remaining
                            .iter()
                            .filter(|&&k| !partner_busy[meetings[k].1][s])
                            .count(),
                        s,
                    )
                })
                .filter(|(n, _)| *n > 0)
                .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
            let Some((_, s)) = best else {
                let no_table = (0..slots).all(|s| host_busy[e][s] || used_tables[s] >= tables);
                let reason = if no_table {
                    format!(
                        "桌位不足：{slots} 个时段 × {tables} 张桌已用完 / not enough tables: all {slots} slots x {tables} tables are taken"
                    )
                } else {
                    "来访者在企业有空桌的所有时段都已安排其他拜访 / the visitor is busy in every slot in which the host has a free table".to_string()
                };
                dropped.extend(remaining.iter().map(|&k| (k, reason.clone())));
                break;
            };
            let table = used_tables[s];
            used_tables[s] += 1;
            host_busy[e][s] = true;
            let (now, later): (Vec<usize>, Vec<usize>) = remaining
                .iter()
                .partition(|&&k| !partner_busy[meetings[k].1][s]);
            for k in now {
                partner_busy[meetings[k].1][s] = true;
                placed.push((k, s as u32, table as u32));
            }
            remaining = later;
        }
    }
    dropped.sort_by_key(|d| d.0);
    (placed, dropped)
}

/// Theme tables of a roundtable: the home table of each partner (by industry: the event's
/// themes in order, then other industries by size, then those without one), and the
/// industries seated at each table.
pub fn roundtable_tables(
    industries: &[Option<String>],
    themes: &[String],
    tables: usize,
) -> (Vec<u32>, Vec<Vec<Option<String>>>) {
    let mut count: BTreeMap<Option<String>, usize> = BTreeMap::new();
    for i in industries {
        *count.entry(i.clone()).or_default() += 1;
    }
    let mut groups: Vec<Option<String>> = themes
        .iter()
        .filter(|t| count.contains_key(&Some((*t).clone())))
        .map(|t| Some(t.clone()))
        .collect();
    let mut rest: Vec<(&Option<String>, &usize)> = count
        .iter()
        .filter(|(k, _)| k.is_some() && !groups.contains(k))
        .collect();
    rest.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    groups.extend(rest.into_iter().map(|(k, _)| k.clone()));
    if count.contains_key(&None) {
        groups.push(None);
    }
    let tables = tables.max(1);
    let mut seated = vec![Vec::new(); tables];
    for (i, g) in groups.iter().enumerate() {
        seated[i % tables].push(g.clone());
    }
    let home = industries
        .iter()
        .map(|i| (groups.iter().position(|g| g == i).unwrap_or(0) % tables) as u32)
        .collect();
    (home, seated)
}

/// Roundtable layout: each enterprise visits, one slot each, the home tables of its
/// partners, at most `seats` enterprises per table and slot.
pub fn layout_roundtable(
    meetings: &[LayoutMeeting],
    n_enterprises: usize,
    home: &[u32],
    slots: usize,
    tables: usize,
    seats: usize,
) -> Layout {
    let mut visits: BTreeMap<(usize, u32), Vec<usize>> = BTreeMap::new();
    for (k, m) in meetings.iter().enumerate() {
        visits.entry((m.0, home[m.1])).or_default().push(k);
    }
    let mut per_ent: Vec<Vec<(u32, Vec<usize>)>> = vec![Vec::new(); n_enterprises];
    for ((e, t), ks) in visits {
        per_ent[e].push((t, ks));
    }
    let mut ent_busy = vec![vec![false; slots]; n_enterprises];
    let mut seats_used = vec![vec![0usize; slots]; tables.max(1)];
    let (mut placed, mut dropped) = (Vec::new(), Vec::new());
    for (e, vs) in per_ent.iter_mut().enumerate() {
        vs.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        for (t, ks) in vs.iter() {
            let slot = (0..slots).find(|&s| !ent_busy[e][s] && seats_used[*t as usize][s] < seats);
            match slot {
                Some(s) => {
                    ent_busy[e][s] = true;
                    seats_used[*t as usize][s] += 1;
                    placed.extend(ks.iter().map(|&k| (k, s as u32, *t)));
                }
                None => {
                    let reason = format!(
                        "{}号桌在企业有空的时段都已坐满（每桌每时段 {seats} 家企业） / table {} is full ({seats} enterprises per slot) in every slot the enterprise is free",
                        t + 1,
                        t + 1
                    );
                    dropped.extend(ks.iter().map(|&k| (k, reason.clone())));
                }
            }
        }
    }
    placed.sort_by_key(|p| (p.1, p.2, p.0));
    dropped.sort_by_key(|d| d.0);
    (placed, dropped)
}
