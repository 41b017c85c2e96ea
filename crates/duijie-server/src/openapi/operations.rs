//! The table of operations, one function per group of endpoints.

use super::*;

/// The vocabularies every group of operations draws its enums from.
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) industries: Value,
    pub(super) zones: Value,
    pub(super) cities: Value,
    pub(super) maturities: Value,
    pub(super) boolean: Value,
    pub(super) id: Value,
}

impl Shared {
    fn of(v: &Vocabulary) -> Shared {
        let industries = string_enum(v.industries().map(|(c, _)| c.to_string()));
        let zones = string_enum(
            duijie_domain::Zone::ALL
                .iter()
                .map(|z| z.code().to_string()),
        );
        let cities = string_enum(
            duijie_domain::geo::LIAONING_CITIES
                .iter()
                .map(|c| c.to_string()),
        );
        let maturities = codes(vocab::MATURITIES);
        let boolean = json!({"type": "string", "enum": ["true", "false"]});
        let id = json!({"type": "integer", "minimum": 1, "format": "int64"});
        Shared {
            industries,
            zones,
            cities,
            maturities,
            boolean,
            id,
        }
    }
}

/// A string schema of at most `max` characters.
pub(super) fn text(max: u64) -> Value {
    json!({"type": "string", "maxLength": max})
}

/// Every operation of the API, group by group.
pub fn operations(v: &Vocabulary) -> Vec<Operation> {
    let s = Shared::of(v);
    let mut ops = Vec::new();
    operations_of_the_service(&s, &mut ops);
    listing_operations(&s, &mut ops);
    import_operations(&s, &mut ops);
    search_operations(&s, &mut ops);
    event_operations(&s, &mut ops);
    pairing_operations(&s, &mut ops);
    ledger_operations(&s, &mut ops);
    alert_operations(&s, &mut ops);
    admin_operations(&s, &mut ops);
    account_operations(&s, &mut ops);
    signup_operations(&mut ops);
    connection_operations(&s, &mut ops);
    participation_operations(&mut ops);
    ops
}

/// Taking part in an event: registration, catalogue, wishes, agenda, publishing, attendance.
fn participation_operations(ops: &mut Vec<Operation>) {
    let tag = "参会";
    let listing = json!({"type": "string", "pattern": "^(need|result|expert):[1-9][0-9]{0,17}$", "description": "类型:编号，如 need:12"});
    ops.push(
        Operation::new("post", "/api/v1/events/{id}/registrations", tag, "本单位报名参会（开放报名即时生效，需审核则等待组织者）")
            .json(json!({"type": "object", "required": ["listing_ids"], "properties": {
                "listing_ids": {"type": "array", "minItems": 1, "maxItems": 50, "items": listing.clone()},
            }}))
            .ok(201, "已报名（status: approved 或 pending）", r("RegistrationView")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/registrations",
            tag,
            "报名（组织者看全部，参会单位看本单位的）",
        )
        .signed_in()
        .query(
            "status",
            codes(duijie_domain::RegistrationStatus::TABLE),
            "状态",
        )
        .ok(200, "报名", items_of("RegistrationView")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/registrations/{rid}/approve",
            tag,
            "通过报名（组织者）",
        )
        .json(json!({"type": "object", "properties": {"reason": text(500)}}))
        .ok(200, "已通过，单位成为参会方", r("RegistrationView")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/registrations/{rid}/reject",
            tag,
            "拒绝报名并说明原因（组织者）",
        )
        .json(
            json!({"type": "object", "required": ["reason"], "properties": {"reason": text(500)}}),
        )
        .ok(200, "已拒绝", r("RegistrationView")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/catalogue",
            tag,
            "对方参会项目，按与本单位项目的匹配度排序（附解释）",
        )
        .signed_in()
        .page()
        .query(
            "industry",
            json!({"type": "string"}),
            "行业（代码或中文名）",
        )
        .query("city", json!({"type": "string"}), "城市")
        .ok(200, "一页", r("Catalogue")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/wishes",
            tag,
            "本单位的会谈意向与配额（组织者看全部）",
        )
        .signed_in()
        .ok(200, "意向", r("WishSet")),
    );
    ops.push(
        Operation::new("put", "/api/v1/events/{id}/wishes", tag, "替换本单位的会谈意向（必须会谈、希望会谈、不必会谈）")
            .json(json!({"type": "array", "maxItems": 200, "items": {"type": "object", "required": ["listing_id", "partner_listing_id", "kind"], "properties": {
                "listing_id": listing.clone(), "partner_listing_id": listing, "kind": {"type": "string", "enum": ["must", "like", "no"]},
            }}}))
            .ok(200, "意向", r("WishSet")),
    );
    let org = json!({"type": "integer", "minimum": 1});
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/my-agenda",
            tag,
            "本单位的日程（暂定或已发布）、会谈理由与未安排意向的原因",
        )
        .signed_in()
        .query("organization_id", org.clone(), "组织者查看某参会单位")
        .ok(200, "日程", r("MyAgenda")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/my-agenda.ics",
            tag,
            "本单位日程的日历文件（每场会谈一个 VEVENT，北京时间）",
        )
        .signed_in()
        .query("organization_id", org, "组织者查看某参会单位")
        .file("text/calendar", "iCalendar"),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/my-agenda/{pid}/confirm",
            tag,
            "确认一场会谈（重新生成时保留其时段和桌位）",
        )
        .json(json!({"type": "object"}))
        .ok(200, "日程", r("MyAgenda")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/my-agenda/{pid}/decline",
            tag,
            "谢绝一场会谈并说明原因（不再安排这对）",
        )
        .json(
            json!({"type": "object", "required": ["reason"], "properties": {"reason": text(500)}}),
        )
        .ok(200, "日程", r("MyAgenda")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/schedule:publish",
            tag,
            "发布日程：每个参会单位的成员收到日程邮件和日历附件（组织者）",
        )
        .ok(200, "已发布", r("Published"))
        .also(&[409]),
    );
    ops.push(
        Operation::new("post", "/api/v1/events/{id}/pairings/{pid}/attendance", tag, "登记会谈是否进行（组织者）；已进行的会谈台账记为已洽谈")
            .json(json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["held", "no_show"]}}}))
            .ok(200, "已登记", r("AttendanceMarked")),
    );
}

/// Connection requests (对接申请) and the loop after them.
fn connection_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let tag = "对接申请";
    let listing = json!({"type": "string", "pattern": "^(need|result|expert):[1-9][0-9]{0,17}$", "description": "类型:编号，如 need:12"});
    let meeting = json!({"type": "object", "required": ["start", "end"], "properties": {
        "start": {"type": "string", "description": "2026-12-10T14:00（北京时间）或 RFC 3339"},
        "end": {"type": "string"}, "place": text(200), "online_url": text(500),
    }});
    let statuses = codes(duijie_domain::connection::ConnectionStatus::TABLE);
    ops.push(
        Operation::new("post", "/api/v1/connections", tag, "发起对接申请（需求 ↔ 成果或专家，双向）")
            .json(json!({"type": "object", "required": ["from_listing_id", "to_listing_id"], "properties": {
                "from_listing_id": listing.clone(), "to_listing_id": listing, "note": text(1000),
            }}))
            .ok(201, "已发出，等待对方答复", r("ConnectionView"))
            .also(&[429]),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/connections",
            tag,
            "我的对接申请（收到、发出、归档、经纪人案件、全部）",
        )
        .signed_in()
        .page()
        .query(
            "box",
            json!({"type": "string", "enum": ["received", "sent", "archived", "broker", "all"]}),
            "信箱（默认 received）",
        )
        .query("status", statuses, "状态")
        .ok(200, "对接申请", page_of("ConnectionView")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/connections/funnel",
            tag,
            "对接漏斗：申请 → 接受 → 洽谈 → 意向 → 签约 → 转化（按区域、行业、月份、经纪人）",
        )
        .signed_in()
        .query(
            "from",
            json!({"type": "string", "format": "date"}),
            "统计起始日期",
        )
        .ok(200, "漏斗", r("FunnelReport")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/connections/{id}",
            tag,
            "一条对接申请及其经过",
        )
        .signed_in()
        .ok(200, "对接申请", r("ConnectionDetail")),
    );
    ops.push(
        Operation::new("post", "/api/v1/connections/{id}/accept", tag, "接受（可附会谈安排）；接受后建立台账记录，双方可见联系方式")
            .json(json!({"type": "object", "properties": {"message": text(1000), "meeting": meeting.clone()}}))
            .ok(200, "已接受", r("ConnectionView")),
    );
    ops.push(
        Operation::new("post", "/api/v1/connections/{id}/decline", tag, "说明原因谢绝")
            .json(json!({"type": "object", "required": ["reason"], "properties": {
                "reason": codes(duijie_domain::connection::DeclineReason::TABLE), "note": text(1000),
            }}))
            .ok(200, "已谢绝", r("ConnectionView")),
    );
    ops.push(
        Operation::new("post", "/api/v1/connections/{id}/propose", tag, "提议其他会谈时间（由对方接受或谢绝）")
            .json(json!({"type": "object", "required": ["meeting"], "properties": {"meeting": meeting, "message": text(1000)}}))
            .ok(200, "已提议", r("ConnectionView")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/connections/{id}/withdraw",
            tag,
            "撤回（申请方）",
        )
        .json(json!({"type": "object", "properties": {"note": text(500)}}))
        .ok(200, "已撤回", r("ConnectionView")),
    );
    ops.push(
        Operation::new("post", "/api/v1/connections/{id}/assign", tag, "转交给本单位同事（单位管理员）")
            .json(json!({"type": "object", "required": ["user_id"], "properties": {"user_id": s.id.clone()}}))
            .ok(200, "已转交", r("ConnectionView")),
    );
    ops.push(
        Operation::new("post", "/api/v1/connections/{id}/broker", tag, "指派技术经纪人（组织者）")
            .json(json!({"type": "object", "required": ["broker_id"], "properties": {"broker_id": s.id.clone()}}))
            .ok(200, "已指派", r("ConnectionView")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/connections/{id}/feedback",
            tag,
            "会谈后反馈：是否举行、是否有帮助（每人一次）",
        )
        .json(
            json!({"type": "object", "required": ["answer"], "properties": {
                "answer": {"type": "string", "enum": ["useful", "not_useful", "no_show"]},
            }}),
        )
        .ok(200, "已记录", r("ConnectionView")),
    );
    ops.push(
        Operation::new("post", "/api/v1/connections/{id}/outcome", tag, "登记合作进展：意向、签约（金额、日期、方式、技术合同登记号、经纪人）、转化")
            .json(json!({"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": ["intention", "contract", "transferred", "dropped"]},
                "date": {"type": "string", "format": "date"}, "amount_yuan": {"type": "integer", "minimum": 0},
                "contract_date": {"type": "string", "format": "date"}, "contract_mode": codes(vocab::TRANSFER_MODES),
                "registration_no": {"type": "string", "maxLength": 40}, "broker_id": s.id.clone(),
                "reason": text(500), "note": text(2000),
            }}))
            .ok(200, "台账记录", r("LedgerEntry")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/connections/{id}/meeting.ics",
            tag,
            "会谈日历文件（iCalendar，北京时间）",
        )
        .signed_in()
        .file("text/calendar", "日历文件"),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/organizations/{id}/responsiveness",
            tag,
            "单位答复情况：近 12 个月的答复率与答复用时中位数",
        )
        .ok(200, "答复情况", r("Responsiveness")),
    );
}

/// Operations of self-service sign-up, invitations, password resets and mail.
fn signup_operations(ops: &mut Vec<Operation>) {
    let ac = "账户";
    let user =
        || json!({"type": "object", "required": ["user"], "properties": {"user": r("User")}});
    let org = json!({"type": "object", "properties": {
        "id": {"type": "integer", "minimum": 1},
        "name": text(100), "kind": {"type": "string", "enum": ["enterprise", "university", "institute", "other"]},
        "city": text(20), "credit_code": {"type": "string", "minLength": 18, "maxLength": 18},
    }});
    let mut reg = Operation::new(
        "post",
        "/api/v1/registrations",
        ac,
        "自助注册：发送验证邮件，验证后由组织者审核（带 invite 则按邀请直接开通）",
    )
    .json(json!({"type": "object", "properties": {
        "email": text(254), "password": {"type": "string"}, "name": text(60),
        "role": {"type": "string", "enum": ["enterprise", "researcher"]},
        "organization": org, "invite": text(128),
    }}))
    .ok(
        202,
        "已受理：请查收验证邮件（邮箱是否已注册都如此应答）",
        r("Registered"),
    )
    .ok(201, "按邀请注册，账号已开通", user())
    .also(&[403, 429]);
    reg.access = Access::Public;
    ops.push(reg);
    let mut verify = Operation::new(
        "post",
        "/api/v1/registrations/verify",
        ac,
        "确认邮箱（邮件中的链接），转入待审核",
    )
    .json(json!({"type": "object", "required": ["token"], "properties": {"token": text(128)}}))
    .ok(200, "已确认", user());
    verify.access = Access::Public;
    ops.push(verify);
    ops.push(
        Operation::new("get", "/api/v1/registrations", ac, "注册审核队列（组织者、管理员）")
            .signed_in()
            .page()
            .query(
                "status",
                json!({"type": "string", "enum": ["pending_approval", "pending_verification", "rejected"]}),
                "状态（默认待审核）",
            )
            .ok(200, "申请人", page_of("Applicant")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/users/{id}/approve",
            ac,
            "通过注册申请（邮件通知）",
        )
        .ok(200, "账号", user())
        .also(&[409]),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/users/{id}/reject",
            ac,
            "拒绝注册申请并说明原因（邮件通知）",
        )
        .json(
            json!({"type": "object", "required": ["reason"], "properties": {"reason": text(500)}}),
        )
        .ok(200, "账号", user()),
    );
    ops.push(
        Operation::new("post", "/api/v1/invitations", ac, "邀请注册（组织者）：邮件中的链接免审核开通")
            .json(json!({"type": "object", "required": ["email", "role"], "properties": {
                "email": text(254), "role": {"type": "string", "enum": ["enterprise", "researcher"]},
                "organization": {"type": "integer", "minimum": 1}, "event_id": {"type": "integer", "minimum": 1},
            }}))
            .ok(201, "邀请已发送", r("InvitationSent")),
    );
    let mut reset = Operation::new(
        "post",
        "/api/v1/password-resets",
        ac,
        "申请重设密码（邮箱是否已注册都应答 202）",
    )
    .json(json!({"type": "object", "required": ["email"], "properties": {"email": text(254)}}))
    .ok(202, "已受理", r("Registered"))
    .also(&[429]);
    reset.access = Access::Public;
    ops.push(reset);
    let mut confirm = Operation::new(
        "post",
        "/api/v1/password-resets/confirm",
        ac,
        "用邮件中的链接设置新密码（结束该账号的所有会话）",
    )
    .json(json!({"type": "object", "required": ["token", "password"], "properties": {"token": text(128), "password": {"type": "string"}}}))
    .ok(200, "已重设", user());
    confirm.access = Access::Public;
    ops.push(confirm);
    let settings = || json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": r("NotificationSetting")}}});
    ops.push(
        Operation::new(
            "get",
            "/api/v1/me/notification-settings",
            ac,
            "我的邮件通知类别",
        )
        .signed_in()
        .ok(200, "各类别及开关", settings()),
    );
    ops.push(
        Operation::new(
            "put",
            "/api/v1/me/notification-settings",
            ac,
            "开关邮件通知类别",
        )
        .json(json!({"type": "object", "properties": {
            "match_alerts": {"type": "boolean"}, "requests": {"type": "boolean"},
            "events": {"type": "boolean"}, "digests": {"type": "boolean"},
        }}))
        .ok(200, "各类别及开关", settings()),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/admin/mail",
            "运维",
            "发信队列及投递状态（管理员）",
        )
        .signed_in()
        .page()
        .query(
            "status",
            json!({"type": "string", "enum": ["pending", "sent", "failed"]}),
            "状态",
        )
        .ok(200, "邮件", page_of("Mail")),
    );
}

/// Operations of the service itself: health and metrics.
#[allow(unused_variables)]
fn operations_of_the_service(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    ops.push(
        Operation::new("get", "/healthz", "运维", "健康检查：数据库可用时 200，否则 503")
            .ok(200, "服务正常", json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}})),
    );
    ops.push(
        Operation::new(
            "get",
            "/metrics",
            "运维",
            "Prometheus 文本格式的运行指标（管理员，或 [metrics] token 的采集令牌）",
        )
        .signed_in()
        .file("text/plain", "指标"),
    );
}

/// Operations of organisations and listings.
#[allow(unused_variables)]
fn listing_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    // listings
    for (plural, base, item, tag, schema, statuses) in [
        (
            "organizations",
            "/api/v1/organizations",
            "/api/v1/organizations/{id}",
            "单位",
            "Organization",
            None,
        ),
        (
            "results",
            "/api/v1/results",
            "/api/v1/results/{id}",
            "科技成果",
            "ResearchResult",
            Some(vocab::RESULT_STATUSES),
        ),
        (
            "needs",
            "/api/v1/needs",
            "/api/v1/needs/{id}",
            "技术需求",
            "Need",
            Some(vocab::NEED_STATUSES),
        ),
        (
            "experts",
            "/api/v1/experts",
            "/api/v1/experts/{id}",
            "专家",
            "Expert",
            None,
        ),
    ] {
        let mut list = Operation::new("get", base, tag, "列表（分页、筛选）")
            .page()
            .query("city", cities.clone(), "城市")
            .query("external_id", text(100), "外部编号")
            .ok(200, "一页", page_of(schema));
        if plural == "organizations" {
            list = list.query("kind", codes(vocab::ORG_KINDS), "单位类型");
        } else {
            list = list.query("industry", industries.clone(), "行业").query(
                "organization_id",
                id.clone(),
                "所属单位",
            );
        }
        if let Some(s) = statuses {
            // asking for unpublished listings of others is refused
            list = list
                .query("status", codes(s), "状态（未发布的只有本单位和组织者可见）")
                .also(&[403]);
        }
        ops.push(list);
        ops.push(
            Operation::new("post", base, tag, "新建（201）")
                .json(r(&format!("{schema}Input")))
                .ok(201, "已保存", r(schema)),
        );
        ops.push(Operation::new("get", item, tag, "读取一条").ok(200, "条目", r(schema)));
        ops.push(
            Operation::new("patch", item, tag, "部分修改（null 清空字段）")
                .json(json!({"type": "object"}))
                .ok(200, "修改后的条目", r(schema)),
        );
        // an organisation that still owns listings is refused with 409
        ops.push(
            Operation::new("delete", item, tag, "删除")
                .no_content("已删除")
                .also(&[409]),
        );
    }
    ops.push(
        Operation::new(
            "get",
            "/api/v1/vocabulary",
            "目录",
            "行业、合作方式、成熟度、状态、区域、城市及中文名称",
        )
        .ok(
            200,
            "目录",
            {
                let coded = json!({"type": "array", "items": {"type": "object", "required": ["code", "label"], "properties": {"code": {"type": "string"}, "label": {"type": "string"}}}});
                json!({"type": "object", "required": ["industries", "organization_kinds", "maturities", "transfer_modes", "result_statuses", "need_statuses", "zones", "cities"], "properties": {
                    "industries": coded, "organization_kinds": coded, "maturities": coded, "transfer_modes": coded,
                    "result_statuses": coded, "need_statuses": coded, "zones": coded, "cities": {"type": "array"},
                }})
            },
        ),
    );
}

/// Operations of bulk import.
#[allow(unused_variables)]
fn import_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    // import
    ops.push(
        Operation::new(
            "post",
            "/api/v1/import",
            "批量导入",
            "批量导入 JSONL、CSV（首行为表头）或 XLSX；按 external_id 幂等",
        )
        .query(
            "kind",
            json!({"type": "string", "enum": ["results", "needs", "experts", "organizations"]}),
            "导入的类别（必填）",
        )
        .upload(&["application/x-ndjson", "text/csv", XLSX])
        .ok(200, "全部导入", r("ImportSummary")),
    );
    // a partly failed import answers 422 with the same counts plus an error: documented as
    // the error shape, which it also is
}

/// Operations of search and matching.
#[allow(unused_variables)]
fn search_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    // search and matching
    let search_filters = |op: Operation| {
        op.query("industry", industries.clone(), "行业")
            .query("city", cities.clone(), "城市")
            .query("zone", zones.clone(), "区域（一圈一带两区）")
            .query("maturity", maturities.clone(), "成熟度")
    };
    ops.push(
        search_filters(
            Operation::new(
                "get",
                "/api/v1/search",
                "搜索",
                "全文检索（中文分词、高亮、分面）",
            )
            .query("q", text(500), "查询词")
            .query(
                "kind",
                json!({"type": "string", "enum": ["results", "needs", "experts"]}),
                "类别",
            ),
        )
        .query(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
            "每页条数",
        )
        .query(
            "offset",
            json!({"type": "integer", "minimum": 0, "maximum": 10_000, "default": 0}),
            "跳过的条数",
        )
        .ok(200, "命中与分面", r("SearchResponse")),
    );
    for (path, kinds, summary) in [
        (
            "/api/v1/needs/{id}/matches",
            &["results", "experts"][..],
            "需求应对接的成果或专家，附评分拆解",
        ),
        (
            "/api/v1/results/{id}/matches",
            &["needs"][..],
            "成果能满足的企业需求（同一对两侧评分相同）",
        ),
        (
            "/api/v1/experts/{id}/matches",
            &["needs"][..],
            "专家能解决的企业需求",
        ),
    ] {
        let mut op = search_filters(
            Operation::new("get", path, "匹配", summary)
                .query(
                    "kind",
                    json!({"type": "string", "enum": kinds}),
                    "匹配的类别",
                )
                .query(
                    "limit",
                    json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
                    "条数",
                ),
        );
        for c in duijie_app::matching::ComponentKind::ALL {
            op = op.query(
                format!("weight_{}", c.code()),
                json!({"type": "number", "minimum": 0, "maximum": 100}),
                "该项权重（覆盖默认值）",
            );
        }
        ops.push(op.ok(200, "匹配列表", r("MatchList")));
    }
    ops.push(
        Operation::new("post", "/api/v1/match", "匹配", "为尚未保存的文字找匹配（企业发布需求前先看看）")
            .json(json!({
                "type": "object",
                "required": ["text"],
                "properties": {
                    "text": {"type": "string", "minLength": 1, "maxLength": 20000},
                    "kind": {"type": "string", "enum": ["results", "needs", "experts"]},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
                    "filters": {"type": "object", "properties": {"industry": industries, "city": cities, "zone": zones, "maturity": maturities}, "additionalProperties": false},
                    "weights": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                },
                "additionalProperties": false,
            }))
            .ok(200, "匹配列表", r("MatchList")),
    );
    // POST /match reads without a caller: anyone may preview
    if let Some(m) = ops.last_mut() {
        m.access = Access::Public;
    }
}

/// Operations of events, participants and preferences.
#[allow(unused_variables)]
fn event_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    // events
    let ev = "对接会";
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events",
            ev,
            "对接会列表（草稿只有组织者可见）",
        )
        .page()
        .query("status", codes(duijie_app::events::STATUSES), "状态")
        .query("format", codes(duijie_app::events::FORMATS), "形式")
        .ok(200, "一页", page_of("EventView")),
    );
    ops.push(
        Operation::new("post", "/api/v1/events", ev, "新建对接会")
            .json(r("EventInput"))
            .ok(201, "已创建", r("EventView")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}",
            ev,
            "读取对接会（草稿只有组织者可见）",
        )
        .ok(200, "对接会", r("EventView")),
    );
    ops.push(
        Operation::new("patch", "/api/v1/events/{id}", ev, "修改对接会")
            .json(json!({"type": "object"}))
            .ok(200, "修改后的对接会", r("EventView")),
    );
    ops.push(
        Operation::new("delete", "/api/v1/events/{id}", ev, "删除对接会").no_content("已删除"),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/participants",
            ev,
            "参会单位（组织者看全部，参会单位看本单位）",
        )
        .signed_in()
        .ok(200, "参会单位", items_of("Participant")),
    );
    ops.push(
        Operation::new("post", "/api/v1/events/{id}/participants", ev, "添加参会单位（已在则 200）")
            .json(json!({"type": "object", "properties": {"organization_id": {"type": "integer"}, "side": {"type": "string", "enum": ["enterprise", "university"]}, "listings": {"type": "array", "items": {"type": "integer"}}}}))
            .ok(201, "已添加", r("Participant"))
            .ok(200, "已在名单中，已更新", r("Participant")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/participants:import",
            ev,
            "从 CSV 或 XLSX 导入参会单位",
        )
        .upload(&["text/csv", XLSX])
        .ok(200, "全部导入", r("ImportSummary")),
    );
    ops.push(
        Operation::new(
            "delete",
            "/api/v1/events/{id}/participants/{pid}",
            ev,
            "移出参会单位",
        )
        .no_content("已移出")
        .also(&[409]),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/preferences",
            ev,
            "意向（必见、想见、不见、回避；组织者看全部，参会单位看与本单位有关的）",
        )
        .signed_in()
        .ok(200, "意向", items_of("PreferenceView")),
    );
    ops.push(
        Operation::new("post", "/api/v1/events/{id}/preferences", ev, "设置意向（已有则 200）")
            .json(json!({"type": "object", "properties": {"preference": {"type": "string", "enum": ["must", "like", "no", "conflict"]}}}))
            .ok(201, "已设置", r("PreferenceView"))
            .ok(200, "已更新", r("PreferenceView")),
    );
    ops.push(
        Operation::new(
            "delete",
            "/api/v1/events/{id}/preferences/{pid}",
            ev,
            "删除意向",
        )
        .no_content("已删除"),
    );
}

/// Operations of event pairings, schedules and agendas.
#[allow(unused_variables)]
fn pairing_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    let ev = "对接会";
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/pairings:generate",
            ev,
            "生成最优对接安排并排入时段和桌位",
        )
        .ok(200, "对接安排", r("PairingView"))
        .also(&[409]),
    );
    ops.push(
        Operation::new("post", "/api/v1/events/{id}/pairings:swap-tables", ev, "交换两张桌的全部安排")
            .json(json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}))
            .ok(200, "对接安排", r("PairingView")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/pairings",
            ev,
            "对接安排（评分、未安排原因；组织者和参会单位）",
        )
        .ok(200, "对接安排", r("PairingView"))
        .also(&[401, 403]),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/pairings",
            ev,
            "手动加一场洽谈（求解器校验）",
        )
        .json(json!({"type": "object"}))
        .ok(201, "已加入", r("MeetingView")),
    );
    ops.push(
        Operation::new(
            "patch",
            "/api/v1/events/{id}/pairings/{pid}",
            ev,
            "移动或调整一场洽谈（求解器校验）",
        )
        .json(json!({"type": "object"}))
        .ok(200, "调整后的洽谈", r("MeetingView"))
        .no_content("已取消"),
    );
    ops.push(
        Operation::new(
            "delete",
            "/api/v1/events/{id}/pairings/{pid}",
            ev,
            "取消一场洽谈",
        )
        .no_content("已取消")
        .also(&[409]),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/schedule",
            ev,
            "时段 × 桌位日程与各单位行程（其他人看到公开日程：无评分、无未安排原因）",
        )
        .ok(
            200,
            "日程：组织者和参会单位得到完整日程，其他人得到公开日程",
            json!({"anyOf": [r("ScheduleBody"), r("PublicProgramme")]}),
        ),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/export.xlsx",
            ev,
            "导出 XLSX（对接清单、日程、未安排；组织者和参会单位）",
        )
        .file(XLSX, "XLSX 文件")
        .also(&[401, 403]),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/export.csv",
            ev,
            "导出 CSV（UTF-8 带 BOM；组织者和参会单位）",
        )
        .file("text/csv", "CSV 文件")
        .also(&[401, 403]),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/agenda.html",
            ev,
            "可打印的行程单（组织者和参会单位）",
        )
        .file("text/html", "HTML")
        .also(&[401, 403]),
    );
}

/// Operations of the ledger and the statistics.
#[allow(unused_variables)]
fn ledger_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    // ledger and statistics
    let lg = "成效台账";
    let ledger_filters = |op: Operation| {
        op.query("event", id.clone(), "对接会")
            .query("organization", id.clone(), "单位")
            .query(
                "status",
                string_enum(
                    duijie_domain::ledger::LEDGER_STATUSES
                        .iter()
                        .map(|(c, _, _)| c.to_string()),
                ),
                "状态",
            )
            .query("kind", codes(duijie_domain::ledger::ENTRY_KINDS), "类别")
            .query("industry", industries.clone(), "行业")
            .query("zone", zones.clone(), "区域")
            .query("city", cities.clone(), "城市")
            .query(
                "from",
                json!({"type": "string", "format": "date"}),
                "最后变更不早于",
            )
            .query(
                "to",
                json!({"type": "string", "format": "date"}),
                "最后变更不晚于",
            )
    };
    ops.push(
        ledger_filters(
            Operation::new(
                "get",
                "/api/v1/ledger",
                lg,
                "台账列表（企业和高校只见本单位）",
            )
            .signed_in()
            .page(),
        )
        .ok(200, "一页", page_of("EntryView")),
    );
    ops.push(
        Operation::new("post", "/api/v1/ledger", lg, "登记活动外的合作或校际合作项目（每校每类每年至多五项）")
            .json(json!({"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string", "enum": ["cooperation", "inter_university"]}}}))
            .ok(201, "已登记", r("EntryView")),
    );
    ops.push(
        ledger_filters(
            Operation::new(
                "get",
                "/api/v1/ledger/export",
                lg,
                "导出台账（XLSX 或 CSV）",
            )
            .signed_in()
            .query(
                "format",
                json!({"type": "string", "enum": ["xlsx", "csv"], "default": "xlsx"}),
                "格式",
            ),
        )
        .file(XLSX, "XLSX 或 CSV 文件"),
    );
    if let Some(m) = ops.last_mut() {
        m.success[0].body = Some(("*/*", json!({"type": "string"})));
    }
    ops.push(
        Operation::new(
            "post",
            "/api/v1/ledger/import",
            lg,
            "从 CSV 或 XLSX 导入成效（有编号则推进，无编号则新登记）",
        )
        .upload(&["text/csv", XLSX])
        .ok(200, "全部导入", r("LedgerImportReport")),
    );
    ops.push(
        Operation::new("get", "/api/v1/ledger/{id}", lg, "台账条目及其变更历史")
            .signed_in()
            .ok(200, "条目", json!({"allOf": [r("EntryView"), {"type": "object", "required": ["history"], "properties": {"history": {"type": "array", "items": r("ChangeView")}}}]})),
    );
    ops.push(
        Operation::new("post", "/api/v1/ledger/{id}/outcomes", lg, "记录进展（只能向前：接受→洽谈→意向→签约→转化，或婉拒/终止）")
            .json(json!({"type": "object", "required": ["status"], "properties": {
                "status": string_enum(duijie_domain::ledger::LEDGER_STATUSES.iter().map(|(c, _, _)| c.to_string())),
                "date": {"type": "string", "format": "date"},
                "amount_yuan": {"type": "integer", "minimum": 0},
                "contract_date": {"type": "string", "format": "date"},
                "contract_mode": {"type": "string"},
                "reason": {"type": "string"},
                "note": {"type": "string"},
                "expected_status": {"type": "string"},
            }}))
            .ok(200, "记录后的条目", r("EntryView")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/ledger/{id}/broker",
            lg,
            "指派技术经纪人（组织者；null 取消）",
        )
        .json(
            json!({"type": "object", "required": ["broker_id"], "properties": {
                "broker_id": {"type": ["integer", "null"], "minimum": 1},
            }}),
        )
        .ok(200, "条目", r("EntryView")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/stats",
            "进展看板",
            "对照行动目标的进展，按区域、城市、行业、月份",
        )
        .query(
            "year",
            json!({"type": "integer", "minimum": 2000, "maximum": 2100}),
            "年份",
        )
        .ok(200, "统计", r("ProgrammeStats")),
    );
}

/// Operations of alerts and notifications.
#[allow(unused_variables)]
fn alert_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    // alerts
    let al = "提醒";
    ops.push(
        Operation::new("get", "/api/v1/alerts", al, "我的匹配提醒")
            .signed_in()
            .query("all", boolean.clone(), "管理员查看全部")
            .ok(200, "提醒", items_of("Subscription")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/alerts",
            al,
            "订阅提醒（可选 webhook，签名密钥只显示一次）",
        )
        .json(
            json!({"type": "object", "required": ["kind"], "properties": {
                "kind": {"type": "string", "enum": ["need_matches", "industry_needs"]},
                "need_id": {"type": "integer"},
                "min_score": {"type": "number", "minimum": 0, "maximum": 1},
                "industry": industries.clone(),
                "webhook_url": {"type": "string"},
            }}),
        )
        .ok(201, "已订阅", r("SubscriptionCreated")),
    );
    ops.push(
        Operation::new("get", "/api/v1/alerts/{id}", al, "读取提醒")
            .signed_in()
            .ok(200, "提醒", r("Subscription")),
    );
    ops.push(Operation::new("delete", "/api/v1/alerts/{id}", al, "取消提醒").no_content("已取消"));
    ops.push(
        Operation::new(
            "post",
            "/api/v1/alerts/{id}/test",
            al,
            "向 webhook 发送测试",
        )
        .ok(202, "已排队", r("Delivery"))
        .also(&[409]),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/alerts/{id}/deliveries",
            al,
            "投递记录（每次尝试的状态码、错误和下次重试）",
        )
        .signed_in()
        .query(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
            "条数",
        )
        .ok(200, "投递记录", r("DeliveryLog")),
    );
    ops.push(
        Operation::new("get", "/api/v1/notifications", al, "站内通知")
            .signed_in()
            .page()
            .query("unread", boolean, "只看未读")
            .ok(200, "通知", r("NotificationPage")),
    );
    ops.push(
        Operation::new("post", "/api/v1/notifications/read-all", al, "全部标为已读").ok(
            200,
            "标记的条数",
            json!({"type": "object", "required": ["marked"], "properties": {"marked": {"type": "integer", "minimum": 0}}}),
        ),
    );
    ops.push(
        Operation::new("post", "/api/v1/notifications/{id}/read", al, "标为已读").ok(
            200,
            "通知",
            r("Notification"),
        ),
    );
}

/// Operations of index administration.
#[allow(unused_variables)]
fn admin_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    // index administration
    ops.push(
        Operation::new(
            "get",
            "/api/v1/admin/index",
            "运维",
            "存储与索引的条数和同步位置",
        )
        .ok(200, "状态", r("IndexStatus")),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/admin/reindex",
            "运维",
            "从存储重建索引（管理员）",
        )
        .ok(200, "重建结果", r("Reindexed"))
        .also(&[409]),
    );
}

/// Operations of accounts, sessions, tokens and the audit log.
#[allow(unused_variables)]
fn account_operations(s: &Shared, ops: &mut Vec<Operation>) {
    let Shared {
        industries,
        zones,
        cities,
        maturities,
        boolean,
        id,
    } = s.clone();
    // accounts
    let ac = "账户";
    ops.push(
        Operation::new("post", "/api/v1/sessions", ac, "登录（HttpOnly 会话 Cookie）")
            .json(json!({"type": "object", "required": ["email", "password"], "properties": {"email": {"type": "string"}, "password": {"type": "string"}}}))
            .ok(200, "已登录", json!({"type": "object", "required": ["user"], "properties": {"user": r("User")}}))
            .also(&[429]),
    );
    if let Some(m) = ops.last_mut() {
        m.access = Access::Public;
        m.extra_errors.push(401);
    }
    ops.push(Operation::new("delete", "/api/v1/sessions", ac, "退出").no_content("已退出"));
    ops.push(
        Operation::new("get", "/api/v1/me", ac, "当前用户")
            .signed_in()
            .ok(
                200,
                "用户及其凭据类型",
                json!({"type": "object", "required": ["user", "via"], "properties": {"user": r("User"), "via": {"type": "string"}}}),
            ),
    );
    ops.push(
        Operation::new("post", "/api/v1/me/password", ac, "修改密码（结束其他会话）")
            .json(json!({"type": "object", "required": ["current_password", "new_password"], "properties": {"current_password": {"type": "string"}, "new_password": {"type": "string"}}}))
            .no_content("已修改"),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/me/tokens",
            ac,
            "我的 API 令牌（不含令牌本身）",
        )
        .signed_in()
        .ok(200, "令牌", items_of("ApiToken")),
    );
    ops.push(
        Operation::new("post", "/api/v1/me/tokens", ac, "新建 API 令牌（令牌只在此应答中出现）")
            .json(json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 100}}}))
            .ok(201, "令牌", r("TokenCreated")),
    );
    ops.push(
        Operation::new("delete", "/api/v1/me/tokens/{id}", ac, "吊销令牌").no_content("已吊销"),
    );
    ops.push(
        Operation::new("get", "/api/v1/users", ac, "账户列表（管理员、组织者）")
            .signed_in()
            .page()
            .ok(200, "账户", page_of("User")),
    );
    ops.push(
        Operation::new("post", "/api/v1/users", ac, "注册账户")
            .json(json!({"type": "object", "required": ["email", "role"], "properties": {
                "email": {"type": "string"}, "name": {"type": "string"}, "password": {"type": "string"},
                "role": {"type": "string", "enum": ["enterprise", "researcher", "organizer", "admin"]},
                "organization_id": {"type": "integer"}, "organization": {"type": "string"},
            }}))
            .ok(201, "账户", r("User")),
    );
    ops.push(
        Operation::new("patch", "/api/v1/users/{id}", ac, "修改账户的角色、单位或停用")
            .json(json!({"type": "object", "properties": {"role": {"type": "string"}, "organization_id": {"type": ["integer", "null"]}, "disabled": {"type": "boolean"}, "org_admin": {"type": "boolean"}}}))
            .ok(200, "账户", r("User")),
    );
    ops.push(
        Operation::new("get", "/api/v1/audit", ac, "审计日志（管理员）")
            .signed_in()
            .page()
            .query("entity", text(40), "对象类别")
            .query("entity_id", id, "对象编号")
            .ok(200, "日志", page_of("AuditRecord")),
    );
}

pub(super) fn page_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items", "total"],
        "properties": {
            "items": {"type": "array", "items": r(item)},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
        },
    })
}

pub(super) fn items_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": r(item)}},
    })
}
