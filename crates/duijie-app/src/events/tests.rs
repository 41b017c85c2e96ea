//! Tests of the event service.

use super::*;
mod readable_tests {
    use super::*;

    #[test]
    fn refusals_name_participants_and_count_from_one() {
        let mut names = Names::default();
        names
            .orgs
            .insert(30, ("鞍钢集团".into(), "enterprise".into()));
        names
            .listings
            .insert((ListingKind::Result, 310), (Some("余热发电技术".into()), 5));
        let r = EditRejection {
            code: "table_occupied",
            message: "table 0 in slot 1 is taken".into(),
            message_zh: "时段 1 的 0 号桌已被企业“e30”与成果“r310”的会谈占用".into(),
        };
        let out = readable(r, &names);
        assert_eq!(
            out.message_zh,
            "第 2 个时段的第 1 张桌已被企业“鞍钢集团”与成果“余热发电技术”的会谈占用"
        );
        assert_eq!(
            out.message, "table 0 in slot 1 is taken",
            "the API's English keeps numbers"
        );
    }
}

mod service_tests {
    use super::*;

    fn event(format: &str) -> Event {
        Event {
            id: 1,
            name: "对接会".into(),
            format: format.parse().unwrap(),
            date: "2026-04-25".into(),
            venue: None,
            description: None,
            themes: vec!["metallurgy".into()],
            start_time: "09:00".into(),
            slot_minutes: 20,
            slot_count: 4,
            breaks: vec![EventBreak {
                after_slot: 2,
                minutes: 15,
                label: None,
            }],
            table_count: 3,
            table_names: vec![],
            seats_per_table: 2,
            max_per_enterprise: 2,
            max_per_result: 2,
            max_per_expert: 1,
            min_score: 0.1,
            status: EventStatus::Open,
            self_service: Default::default(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn pref(
        id: i64,
        ent: i64,
        need: Option<i64>,
        kind: ListingKind,
        pid: i64,
        side: &str,
        value: &str,
    ) -> Preference {
        Preference {
            id,
            event_id: 1,
            enterprise_id: ent,
            need_id: need,
            partner_kind: kind,
            partner_id: pid,
            side: side.parse().unwrap(),
            preference: value.parse().unwrap(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn slot_times_include_breaks() {
        let t = slot_times(&event("fair"));
        let got: Vec<(&str, &str)> = t
            .iter()
            .map(|s| (s.start.as_str(), s.end.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("09:00", "09:20"),
                ("09:20", "09:40"),
                ("09:55", "10:15"),
                ("10:15", "10:35")
            ]
        );
    }

    #[test]
    fn instance_uses_best_need_preferences_and_conflicts() {
        let e = event("fair");
        // enterprise 10 (needs 1, 2), enterprise 11 (need 3); university 20 owns results 100,
        // 101 and expert 200; organisation 11 is also the owner of result 102 (kind "other")
        let ents = vec![
            EnterpriseIn {
                org_id: 10,
                needs: vec![1, 2],
            },
            EnterpriseIn {
                org_id: 11,
                needs: vec![3],
            },
        ];
        let partners = vec![
            PartnerIn {
                kind: ListingKind::Result,
                id: 100,
                org_id: 20,
                industry: None,
            },
            PartnerIn {
                kind: ListingKind::Result,
                id: 101,
                org_id: 20,
                industry: None,
            },
            PartnerIn {
                kind: ListingKind::Result,
                id: 102,
                org_id: 11,
                industry: None,
            },
            PartnerIn {
                kind: ListingKind::Expert,
                id: 200,
                org_id: 20,
                industry: None,
            },
        ];
        let scores = vec![
            (1, ListingKind::Result, 100, 0.5),
            (2, ListingKind::Result, 100, 0.9),
            (3, ListingKind::Result, 100, 0.3),
            (3, ListingKind::Result, 102, 1.0),
            (1, ListingKind::Result, 101, 0.2),
        ];
        let prefs = vec![
            pref(1, 10, None, ListingKind::Result, 101, "enterprise", "like"),
            pref(
                2,
                10,
                Some(1),
                ListingKind::Result,
                101,
                "university",
                "like",
            ),
            pref(3, 11, None, ListingKind::Result, 100, "university", "no"),
            pref(4, 11, None, ListingKind::Result, 100, "enterprise", "must"),
            pref(
                5,
                11,
                Some(3),
                ListingKind::Expert,
                200,
                "organizer",
                "must",
            ),
            pref(6, 10, None, ListingKind::Expert, 200, "enterprise", "like"),
        ];
        let b = build_instance(&e, &ents, &partners, &scores, &prefs);
        let score = |ek: &str, pk: &str| {
            b.instance
                .scores
                .iter()
                .find(|s| s.enterprise == ek && s.result == pk)
                .map(|s| s.score)
        };
        assert_eq!(score("e10", "r100"), Some(0.9), "best need wins");
        assert_eq!(
            b.candidates
                .iter()
                .find(|c| c.enterprise == "e10" && c.partner == "r100")
                .map(|c| c.need_id),
            Some(2)
        );
        assert!(
            (score("e10", "r101").unwrap() - (0.2 + 2.0 * LIKE_BONUS + MUTUAL_BONUS)).abs() < 1e-9,
            "mutual like raises the score"
        );
        assert_eq!(
            score("e10", "x200"),
            Some(LIKE_BONUS),
            "a liked pair without text score becomes a candidate"
        );
        assert_eq!(
            score("e11", "r100"),
            Some(0.3),
            "a forbidden pair keeps its score, for the explanations"
        );
        assert!(
            b.instance
                .forbidden
                .contains(&("e11".into(), "r100".into()))
        );
        assert!(
            b.instance
                .forbidden
                .contains(&("e11".into(), "r102".into()))
        );
        assert_eq!(
            b.instance.forced,
            vec![("e11".to_string(), "x200".to_string())]
        );
        assert_eq!(
            b.candidates
                .iter()
                .find(|c| c.partner == "x200" && c.enterprise == "e11")
                .map(|c| c.need_id),
            Some(3)
        );
        assert_eq!(b.ignored_forced.len(), 1);
        assert_eq!(b.ignored_forced[0].reason_code, "conflicts");
        assert_eq!(
            b.instance
                .results
                .iter()
                .find(|p| p.id == "x200")
                .map(|p| p.capacity),
            Some(1)
        );
        assert_eq!((b.instance.slots, b.instance.tables), (4, 3));
        b.instance.validate().expect("a valid instance");
        let s = duijie_match::solve(&b.instance, &SolveOptions::default()).unwrap();
        assert!(
            s.pairs
                .iter()
                .any(|p| p.enterprise == "e11" && p.result == "x200"),
            "forced pair placed"
        );
        assert!(
            !s.pairs
                .iter()
                .any(|p| p.enterprise == "e11" && (p.result == "r100" || p.result == "r102"))
        );
        // deterministic
        let again = build_instance(&e, &ents, &partners, &scores, &prefs);
        assert_eq!(again.instance, b.instance);
    }

    #[test]
    fn forced_pairs_over_capacity_are_reported() {
        let e = event("fair");
        let ents = vec![
            EnterpriseIn {
                org_id: 10,
                needs: vec![1],
            },
            EnterpriseIn {
                org_id: 11,
                needs: vec![2],
            },
        ];
        let partners = vec![PartnerIn {
            kind: ListingKind::Expert,
            id: 200,
            org_id: 20,
            industry: None,
        }];
        let prefs = vec![
            pref(1, 10, None, ListingKind::Expert, 200, "organizer", "must"),
            pref(2, 11, None, ListingKind::Expert, 200, "organizer", "must"),
        ];
        let b = build_instance(&e, &ents, &partners, &[], &prefs);
        assert_eq!(
            b.instance.forced,
            vec![("e10".to_string(), "x200".to_string())]
        );
        assert_eq!(b.ignored_forced[0].enterprise, "e11");
        assert_eq!(b.ignored_forced[0].reason_code, "capacity");
        b.instance.validate().unwrap();
    }

    #[test]
    fn mutual_only_honours_a_participant_must_only_when_the_other_side_wished_the_pair() {
        let mut e = event("fair");
        e.self_service.mutual_only = true;
        let ents = vec![
            EnterpriseIn {
                org_id: 10,
                needs: vec![1],
            },
            EnterpriseIn {
                org_id: 11,
                needs: vec![2],
            },
        ];
        let partners = vec![
            PartnerIn {
                kind: ListingKind::Result,
                id: 100,
                org_id: 20,
                industry: None,
            },
            PartnerIn {
                kind: ListingKind::Result,
                id: 101,
                org_id: 20,
                industry: None,
            },
        ];
        let prefs = vec![
            // one-sided: enterprise 10 insists on result 100, the university said nothing
            pref(
                1,
                10,
                Some(1),
                ListingKind::Result,
                100,
                "enterprise",
                "must",
            ),
            // two-sided: enterprise 11 insists on result 101, which likes it back
            pref(
                2,
                11,
                Some(2),
                ListingKind::Result,
                101,
                "enterprise",
                "must",
            ),
            pref(
                3,
                11,
                Some(2),
                ListingKind::Result,
                101,
                "university",
                "like",
            ),
            // the organisers' must is always honoured
            pref(4, 10, None, ListingKind::Result, 101, "organizer", "must"),
        ];
        let b = build_instance(&e, &ents, &partners, &[], &prefs);
        let forced: Vec<(&str, &str)> = b
            .instance
            .forced
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert!(!forced.contains(&("e10", "r100")), "{forced:?}");
        assert!(forced.contains(&("e11", "r101")), "{forced:?}");
        assert!(forced.contains(&("e10", "r101")), "{forced:?}");
        // the one-sided must still counts as the enterprise's like
        let one_sided = b
            .instance
            .scores
            .iter()
            .find(|s| s.enterprise == "e10" && s.result == "r100")
            .map(|s| s.score);
        assert_eq!(one_sided, Some(LIKE_BONUS));
        // without mutual_only the same must is forced
        e.self_service.mutual_only = false;
        let b = build_instance(&e, &ents, &partners, &[], &prefs);
        assert!(
            b.instance
                .forced
                .contains(&("e10".to_string(), "r100".to_string()))
        );
    }

    #[test]
    fn parlour_groups_visitors_per_host_without_double_booking() {
        // three hosts, visitors 0..4; visitor 0 visits all three hosts
        let meetings = vec![
            (0, 0, 1.0),
            (0, 1, 0.9),
            (0, 2, 0.8),
            (1, 0, 0.7),
            (1, 3, 0.6),
            (2, 0, 0.5),
        ];
        let (placed, dropped) = layout_parlour(&meetings, 3, 4, 3, 2);
        assert!(dropped.is_empty(), "{dropped:?}");
        assert_eq!(placed.len(), meetings.len());
        // each host uses one (slot, table) per visit; a visitor is never in two places at once
        let mut seen = HashSet::new();
        for &(k, s, _) in &placed {
            assert!(
                seen.insert((meetings[k].1, s)),
                "visitor {} twice in slot {s}",
                meetings[k].1
            );
        }
        let host0: BTreeSet<(u32, u32)> = placed
            .iter()
            .filter(|p| meetings[p.0].0 == 0)
            .map(|p| (p.1, p.2))
            .collect();
        assert_eq!(host0.len(), 1, "host 0's three visitors come together");
        let cells: BTreeSet<(u32, u32, usize)> =
            placed.iter().map(|p| (p.1, p.2, meetings[p.0].0)).collect();
        let per_cell: BTreeSet<(u32, u32)> = cells.iter().map(|c| (c.0, c.1)).collect();
        assert_eq!(per_cell.len(), cells.len(), "one host per table and slot");
        // one slot, one table: only the first host fits
        let (placed, dropped) = layout_parlour(&meetings, 3, 4, 1, 1);
        assert_eq!(placed.len(), 3);
        assert_eq!(dropped.len(), 3);
        assert!(dropped[0].1.contains("not enough tables"));
    }

    #[test]
    fn roundtable_seats_partners_by_theme_and_limits_seats() {
        let industries = vec![
            Some("new_energy".to_string()),
            Some("metallurgy".to_string()),
            None,
            Some("new_energy".to_string()),
        ];
        let (home, seated) = roundtable_tables(&industries, &["metallurgy".to_string()], 2);
        assert_eq!(
            home,
            vec![1, 0, 0, 1],
            "themes first, then by size, then without industry"
        );
        assert_eq!(seated[0], vec![Some("metallurgy".to_string()), None]);
        // three enterprises all want partner 0 at table 1, two seats per table and slot
        let meetings = vec![(0, 0, 1.0), (1, 0, 1.0), (2, 0, 1.0), (0, 1, 0.5)];
        let (placed, dropped) = layout_roundtable(&meetings, 3, &home, 2, 2, 2);
        assert!(dropped.is_empty());
        let mut per: HashMap<(u32, u32), BTreeSet<usize>> = HashMap::new();
        for &(k, s, t) in &placed {
            assert_eq!(t, home[meetings[k].1]);
            per.entry((s, t)).or_default().insert(meetings[k].0);
        }
        assert!(per.values().all(|v| v.len() <= 2));
        let ent0: BTreeSet<u32> = placed
            .iter()
            .filter(|p| meetings[p.0].0 == 0)
            .map(|p| p.1)
            .collect();
        assert_eq!(ent0.len(), 2, "enterprise 0 visits two tables in two slots");
        let (_, dropped) = layout_roundtable(&meetings, 3, &home, 1, 2, 2);
        assert_eq!(dropped.len(), 1);
    }

    #[test]
    fn solver_keys_round_trip() {
        assert_eq!(parse_enterprise_key(&enterprise_key(42)), Some(42));
        assert_eq!(
            parse_partner_key(&partner_key(ListingKind::Expert, 7)),
            Some((ListingKind::Expert, 7))
        );
        assert_eq!(
            parse_partner_key(&partner_key(ListingKind::Result, 9)),
            Some((ListingKind::Result, 9))
        );
        assert_eq!(parse_partner_key("q1"), None);
    }
}
