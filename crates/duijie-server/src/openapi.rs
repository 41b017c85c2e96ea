//! The JSON API described as OpenAPI 3.1 (utoipa's document model), built from one table of
//! operations below. `GET /api/openapi.json` serves it; `GET /api/docs` renders it as a
//! Chinese reference page (no CDN, no script). `tests/e2e/openapi.rs` checks that every
//! operation in the table answers on the real router, and `scripts/fuzz-api.sh` runs
//! schemathesis against it: no 5xx, every status, content type and body as documented.
//!
//! The closed vocabularies (industries, zones, maturities, statuses) are read from the
//! running service, so the document's enums are the ones the validators accept.

use duijie_domain::{Vocabulary, vocab};
use serde_json::{Value, json};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, Paths};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, RefOr, Required,
    Schema,
};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A signed-in caller (session cookie or API token); the role rules of `authz` apply.
    SignedIn,
}

/// What a request body is.
#[derive(Debug, Clone)]
pub enum Body {
    /// A JSON object with this schema.
    Json(Value),
    /// An upload in one of these media types (raw bytes).
    Upload(&'static [&'static str]),
}

/// A success answer: status, media type and schema (`None`: no body).
#[derive(Debug, Clone)]
pub struct Success {
    /// HTTP status.
    pub status: u16,
    /// What it means.
    pub description: &'static str,
    /// Media type and schema of the body.
    pub body: Option<(&'static str, Value)>,
}

/// A query or path parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name.
    pub name: String,
    /// In the path (required) or the query string (optional).
    pub in_path: bool,
    /// Its JSON schema.
    pub schema: Value,
    /// What it does, in Chinese.
    pub description: &'static str,
}

/// One operation of the API.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `get`, `post`, `patch` or `delete`.
    pub method: &'static str,
    /// Full path with `{id}` placeholders.
    pub path: &'static str,
    /// Group on the documentation page.
    pub tag: &'static str,
    /// One line, Chinese.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Parameters.
    pub params: Vec<Param>,
    /// Request body.
    pub body: Option<Body>,
    /// Success answers.
    pub success: Vec<Success>,
    /// Extra client-error statuses beyond the ones derived from the shape (see `errors`).
    pub extra_errors: Vec<u16>,
}

impl Operation {
    fn new(
        method: &'static str,
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
    ) -> Self {
        Operation {
            method,
            path,
            tag,
            summary,
            access: if method == "get" {
                Access::Public
            } else {
                Access::SignedIn
            },
            params: path_params(path),
            body: None,
            success: Vec::new(),
            extra_errors: Vec::new(),
        }
    }

    fn signed_in(mut self) -> Self {
        self.access = Access::SignedIn;
        self
    }

    fn query(mut self, name: impl Into<String>, schema: Value, description: &'static str) -> Self {
        self.params.push(Param {
            name: name.into(),
            in_path: false,
            schema,
            description,
        });
        self
    }

    fn page(self) -> Self {
        self.query(
            "limit",
            json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
            "每页条数",
        )
        .query(
            "offset",
            json!({"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0}),
            "跳过的条数",
        )
    }

    fn json(mut self, schema: Value) -> Self {
        self.body = Some(Body::Json(schema));
        self
    }

    fn upload(mut self, types: &'static [&'static str]) -> Self {
        self.body = Some(Body::Upload(types));
        self
    }

    fn ok(mut self, status: u16, description: &'static str, schema: Value) -> Self {
        self.success.push(Success {
            status,
            description,
            body: Some(("application/json", schema)),
        });
        self
    }

    fn file(mut self, media: &'static str, description: &'static str) -> Self {
        self.success.push(Success {
            status: 200,
            description,
            body: Some((media, json!({"type": "string"}))),
        });
        self
    }

    fn no_content(mut self, description: &'static str) -> Self {
        self.success.push(Success {
            status: 204,
            description,
            body: None,
        });
        self
    }

    fn also(mut self, statuses: &[u16]) -> Self {
        self.extra_errors.extend_from_slice(statuses);
        self
    }

    /// The client-error statuses this operation can answer: 400 (parameters) and 503 (store
    /// unreachable) always; 404 with a path id; 401/403 where a caller is needed; 422 and
    /// 409 for bodies; 415 for uploads; plus the operation's own extras.
    pub fn errors(&self) -> Vec<u16> {
        let mut e = vec![400, 503];
        if self.path.contains('{') {
            e.push(404);
        }
        if self.access == Access::SignedIn {
            e.extend([401, 403]);
        }
        match self.body {
            Some(Body::Json(_)) => e.extend([409, 422]),
            Some(Body::Upload(_)) => e.extend([415, 422]),
            None => {}
        }
        e.extend(&self.extra_errors);
        e.sort_unstable();
        e.dedup();
        e
    }

    /// `GET /api/v1/...` as people write it.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }
}

fn path_params(path: &'static str) -> Vec<Param> {
    path.split('/')
        .filter_map(|seg| {
            let name = seg.strip_prefix('{')?.split('}').next()?;
            Some(Param {
                name: name.to_string(),
                in_path: true,
                schema: json!({"type": "integer", "minimum": 1, "format": "int64", "examples": [1]}),
                description: if name == "id" { "编号" } else { "子条目编号" },
            })
        })
        .collect()
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn string_enum(values: impl IntoIterator<Item = String>) -> Value {
    json!({"type": "string", "enum": values.into_iter().collect::<Vec<_>>()})
}

fn codes(t: &[(&str, &str)]) -> Value {
    string_enum(t.iter().map(|(c, _)| c.to_string()))
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Every operation of the JSON API.
pub fn operations(v: &Vocabulary) -> Vec<Operation> {
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
    let text = |max: u64| json!({"type": "string", "maxLength": max});
    let boolean = json!({"type": "string", "enum": ["true", "false"]});
    let id = json!({"type": "integer", "minimum": 1, "format": "int64"});
    let mut ops = Vec::new();

    ops.push(
        Operation::new("get", "/healthz", "运维", "健康检查：数据库可用时 200，否则 503")
            .ok(200, "服务正常", json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}})),
    );
    ops.push(
        Operation::new("get", "/metrics", "运维", "Prometheus 文本格式的运行指标")
            .file("text/plain", "指标"),
    );

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
            "Result",
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
            json!({"type": "object", "required": ["industries", "zones", "cities"]}),
        ),
    );

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

    // events
    let ev = "对接会";
    ops.push(
        Operation::new("get", "/api/v1/events", ev, "对接会列表")
            .page()
            .query("status", codes(duijie_app::events::STATUSES), "状态")
            .query("format", codes(duijie_app::events::FORMATS), "形式")
            .ok(200, "一页", page_of("Event")),
    );
    ops.push(
        Operation::new("post", "/api/v1/events", ev, "新建对接会")
            .json(r("EventInput"))
            .ok(201, "已创建", r("Event")),
    );
    ops.push(
        Operation::new("get", "/api/v1/events/{id}", ev, "读取对接会").ok(
            200,
            "对接会",
            r("Event"),
        ),
    );
    ops.push(
        Operation::new("patch", "/api/v1/events/{id}", ev, "修改对接会")
            .json(json!({"type": "object"}))
            .ok(200, "修改后的对接会", r("Event")),
    );
    ops.push(
        Operation::new("delete", "/api/v1/events/{id}", ev, "删除对接会").no_content("已删除"),
    );
    ops.push(
        Operation::new("get", "/api/v1/events/{id}/participants", ev, "参会单位").ok(
            200,
            "参会单位",
            items_of("Object"),
        ),
    );
    ops.push(
        Operation::new("post", "/api/v1/events/{id}/participants", ev, "添加参会单位（已在则 200）")
            .json(json!({"type": "object", "properties": {"organization_id": {"type": "integer"}, "side": {"type": "string", "enum": ["enterprise", "university"]}, "listings": {"type": "array", "items": {"type": "integer"}}}}))
            .ok(201, "已添加", r("Object"))
            .ok(200, "已在名单中，已更新", r("Object")),
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
            "意向（必见、想见、不见、回避）",
        )
        .ok(200, "意向", items_of("Object")),
    );
    ops.push(
        Operation::new("post", "/api/v1/events/{id}/preferences", ev, "设置意向（已有则 200）")
            .json(json!({"type": "object", "properties": {"preference": {"type": "string", "enum": ["must", "like", "no", "conflict"]}}}))
            .ok(201, "已设置", r("Object"))
            .ok(200, "已更新", r("Object")),
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
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/pairings:generate",
            ev,
            "生成最优对接安排并排入时段和桌位",
        )
        .ok(200, "对接安排", r("Object"))
        .also(&[409]),
    );
    ops.push(
        Operation::new("post", "/api/v1/events/{id}/pairings:swap-tables", ev, "交换两张桌的全部安排")
            .json(json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}))
            .ok(200, "对接安排", r("Object")),
    );
    ops.push(
        Operation::new("get", "/api/v1/events/{id}/pairings", ev, "对接安排").ok(
            200,
            "对接安排",
            r("Object"),
        ),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/events/{id}/pairings",
            ev,
            "手动加一场洽谈（求解器校验）",
        )
        .json(json!({"type": "object"}))
        .ok(201, "已加入", r("Object")),
    );
    ops.push(
        Operation::new(
            "patch",
            "/api/v1/events/{id}/pairings/{pid}",
            ev,
            "移动或调整一场洽谈（求解器校验）",
        )
        .json(json!({"type": "object"}))
        .ok(200, "调整后的洽谈", r("Object"))
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
            "时段 × 桌位日程与各单位行程",
        )
        .ok(200, "日程", r("Object")),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/export.xlsx",
            ev,
            "导出 XLSX（对接清单、日程、未安排）",
        )
        .file(XLSX, "XLSX 文件"),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/export.csv",
            ev,
            "导出 CSV（UTF-8 带 BOM）",
        )
        .file("text/csv", "CSV 文件"),
    );
    ops.push(
        Operation::new(
            "get",
            "/api/v1/events/{id}/agenda.html",
            ev,
            "可打印的行程单",
        )
        .file("text/html", "HTML"),
    );

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
        .ok(200, "一页", page_of("LedgerEntry")),
    );
    ops.push(
        Operation::new("post", "/api/v1/ledger", lg, "登记活动外的合作或校际合作项目（每校每类每年至多五项）")
            .json(json!({"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string", "enum": ["cooperation", "inter_university"]}}}))
            .ok(201, "已登记", r("LedgerEntry")),
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
        .ok(200, "全部导入", r("Object")),
    );
    ops.push(
        Operation::new("get", "/api/v1/ledger/{id}", lg, "台账条目及其变更历史")
            .signed_in()
            .ok(200, "条目", r("LedgerEntry")),
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
            .ok(200, "记录后的条目", r("LedgerEntry")),
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
        .ok(
            200,
            "统计",
            json!({"type": "object", "required": ["targets"]}),
        ),
    );

    // alerts
    let al = "提醒";
    ops.push(
        Operation::new("get", "/api/v1/alerts", al, "我的匹配提醒")
            .signed_in()
            .query("all", boolean.clone(), "管理员查看全部")
            .ok(200, "提醒", items_of("Object")),
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
        .ok(201, "已订阅", r("Object")),
    );
    ops.push(
        Operation::new("get", "/api/v1/alerts/{id}", al, "读取提醒")
            .signed_in()
            .ok(200, "提醒", r("Object")),
    );
    ops.push(Operation::new("delete", "/api/v1/alerts/{id}", al, "取消提醒").no_content("已取消"));
    ops.push(
        Operation::new(
            "post",
            "/api/v1/alerts/{id}/test",
            al,
            "向 webhook 发送测试",
        )
        .ok(202, "已排队", r("Object"))
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
        .ok(200, "投递记录", items_of("Object")),
    );
    ops.push(
        Operation::new("get", "/api/v1/notifications", al, "站内通知")
            .signed_in()
            .page()
            .query("unread", boolean, "只看未读")
            .ok(200, "通知", items_of("Object")),
    );
    ops.push(
        Operation::new("post", "/api/v1/notifications/read-all", al, "全部标为已读").ok(
            200,
            "标记的条数",
            r("Object"),
        ),
    );
    ops.push(
        Operation::new("post", "/api/v1/notifications/{id}/read", al, "标为已读").ok(
            200,
            "通知",
            r("Object"),
        ),
    );

    // index administration
    ops.push(
        Operation::new(
            "get",
            "/api/v1/admin/index",
            "运维",
            "存储与索引的条数和同步位置",
        )
        .ok(
            200,
            "状态",
            json!({"type": "object", "required": ["store", "index", "behind"]}),
        ),
    );
    ops.push(
        Operation::new(
            "post",
            "/api/v1/admin/reindex",
            "运维",
            "从存储重建索引（管理员）",
        )
        .ok(200, "重建结果", r("Object"))
        .also(&[409]),
    );

    // accounts
    let ac = "账户";
    ops.push(
        Operation::new("post", "/api/v1/sessions", ac, "登录（HttpOnly 会话 Cookie）")
            .json(json!({"type": "object", "required": ["email", "password"], "properties": {"email": {"type": "string"}, "password": {"type": "string"}}}))
            .ok(200, "已登录", r("Object"))
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
        .ok(200, "令牌", items_of("Object")),
    );
    ops.push(
        Operation::new("post", "/api/v1/me/tokens", ac, "新建 API 令牌（令牌只在此应答中出现）")
            .json(json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "maxLength": 100}}}))
            .ok(201, "令牌", r("Object")),
    );
    ops.push(
        Operation::new("delete", "/api/v1/me/tokens/{id}", ac, "吊销令牌").no_content("已吊销"),
    );
    ops.push(
        Operation::new("get", "/api/v1/users", ac, "账户列表（管理员、组织者）")
            .signed_in()
            .page()
            .ok(200, "账户", r("Object")),
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
            .json(json!({"type": "object", "properties": {"role": {"type": "string"}, "organization_id": {"type": ["integer", "null"]}, "disabled": {"type": "boolean"}}}))
            .ok(200, "账户", r("User")),
    );
    ops.push(
        Operation::new("get", "/api/v1/audit", ac, "审计日志（管理员）")
            .signed_in()
            .page()
            .query("entity", text(40), "对象类别")
            .query("entity_id", id, "对象编号")
            .ok(200, "日志", r("Object")),
    );
    ops
}

fn page_of(item: &str) -> Value {
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

fn items_of(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": r(item)}},
    })
}

/// The named schemas of the document.
fn schemas(v: &Vocabulary) -> Vec<(&'static str, Value)> {
    let industries = string_enum(v.industries().map(|(c, _)| c.to_string()));
    let nullable_text = json!({"type": ["string", "null"]});
    let listing = |extra: Value| {
        let mut props = json!({
            "id": {"type": "integer"},
            "external_id": nullable_text,
            "status": {"type": "string"},
        });
        if let (Some(p), Value::Object(e)) = (props.as_object_mut(), extra) {
            p.extend(e);
        }
        json!({"type": "object", "required": ["id"], "properties": props})
    };
    let text_field = |max: u64| json!({"type": "string", "maxLength": max});
    vec![
        (
            "Error",
            json!({
                "type": "object",
                "required": ["error"],
                "properties": {"error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string", "description": "中文 / English"},
                        "fields": {"type": "array", "items": {"type": "object", "required": ["field", "code", "message"]}},
                    },
                }},
            }),
        ),
        ("Object", json!({"type": "object"})),
        (
            "Organization",
            json!({"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"}, "city": nullable_text}}),
        ),
        (
            "Result",
            listing(
                json!({"title": {"type": "string"}, "summary": {"type": "string"}, "keywords": {"type": "array", "items": {"type": "string"}}}),
            ),
        ),
        (
            "Need",
            listing(
                json!({"title": {"type": "string"}, "description": {"type": "string"}, "keywords": {"type": "array", "items": {"type": "string"}}}),
            ),
        ),
        ("Expert", listing(json!({"name": {"type": "string"}}))),
        (
            "OrganizationInput",
            json!({"type": "object", "required": ["name"], "properties": {
                "external_id": text_field(100), "name": text_field(200),
                "kind": codes(vocab::ORG_KINDS), "city": {"type": "string"}, "website": {"type": "string"}, "description": text_field(5000),
            }}),
        ),
        (
            "ResultInput",
            json!({"type": "object", "required": ["title", "summary"], "properties": {
                "external_id": text_field(100), "title": text_field(200), "summary": text_field(20000),
                "keywords": {"type": "array", "items": {"type": "string"}}, "industry": industries.clone(),
                "trl": {"type": "integer", "minimum": 1, "maximum": 9}, "maturity": codes(vocab::MATURITIES),
                "transfer_modes": {"type": "array", "items": codes(vocab::TRANSFER_MODES)},
                "price_min": {"type": "integer", "minimum": 0}, "price_max": {"type": "integer", "minimum": 0},
                "organization": {"type": "string"}, "team": {"type": "string"},
            }}),
        ),
        (
            "NeedInput",
            json!({"type": "object", "required": ["title", "description"], "properties": {
                "external_id": text_field(100), "title": text_field(200), "description": text_field(20000),
                "keywords": {"type": "array", "items": {"type": "string"}}, "industry": industries.clone(),
                "cooperation_modes": {"type": "array", "items": codes(vocab::TRANSFER_MODES)},
                "budget_min": {"type": "integer", "minimum": 0}, "budget_max": {"type": "integer", "minimum": 0},
                "deadline": {"type": "string", "format": "date"}, "required_maturity": codes(vocab::MATURITIES),
                "organization": {"type": "string"},
            }}),
        ),
        (
            "ExpertInput",
            json!({"type": "object", "required": ["name"], "properties": {
                "external_id": text_field(100), "name": text_field(100), "title": text_field(100),
                "research_areas": {"type": "array", "items": {"type": "string"}}, "keywords": {"type": "array", "items": {"type": "string"}},
                "industry": industries, "summary": text_field(5000), "organization": {"type": "string"},
            }}),
        ),
        (
            "ImportSummary",
            json!({"type": "object", "required": ["imported", "updated", "failed", "errors"], "properties": {
                "imported": {"type": "integer"}, "updated": {"type": "integer"}, "failed": {"type": "integer"},
                "errors": {"type": "array", "items": {"type": "object"}},
            }}),
        ),
        (
            "SearchResponse",
            json!({"type": "object", "required": ["total", "hits", "facets"], "properties": {
                "total": {"type": "integer", "minimum": 0},
                "hits": {"type": "array", "items": {"type": "object", "required": ["id", "kind", "title", "score"], "properties": {
                    "id": {"type": "integer"}, "external_id": nullable_text, "kind": {"type": "string"}, "title": {"type": "string"},
                    "score": {"type": "number"}, "highlights": {"type": "object"},
                }}},
                "facets": {"type": "object"},
            }}),
        ),
        (
            "Match",
            json!({"type": "object", "required": ["id", "kind", "title", "score", "breakdown", "matched_terms"], "properties": {
                "id": {"type": "integer"}, "external_id": nullable_text, "kind": {"type": "string"}, "title": {"type": "string"},
                "score": {"type": "number", "minimum": 0},
                "breakdown": {"type": "array", "items": {"type": "object", "required": ["component", "score", "weight", "reason"], "properties": {
                    "component": {"type": "string"}, "score": {"type": "number", "minimum": 0, "maximum": 1},
                    "weight": {"type": "number", "minimum": 0}, "reason": {"type": "string"},
                }}},
                "matched_terms": {"type": "array"},
                "highlights": {"type": "object"},
            }}),
        ),
        (
            "MatchList",
            json!({"type": "object", "required": ["kind", "items"], "properties": {"kind": {"type": "string"}, "items": {"type": "array", "items": r("Match")}}}),
        ),
        (
            "EventInput",
            json!({"type": "object", "required": ["name", "date"], "properties": {
                "name": text_field(200), "date": {"type": "string", "format": "date"}, "start_time": {"type": "string"},
                "venue": {"type": "string"}, "description": {"type": "string"},
                "format": codes(duijie_app::events::FORMATS),
                "slot_count": {"type": "integer", "minimum": 1}, "slot_minutes": {"type": "integer", "minimum": 1},
                "table_count": {"type": "integer", "minimum": 1},
            }}),
        ),
        (
            "Event",
            json!({"type": "object", "required": ["id", "name"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}),
        ),
        (
            "LedgerEntry",
            json!({"type": "object", "required": ["id", "status"], "properties": {"id": {"type": "integer"}, "status": {"type": "string"}}}),
        ),
        (
            "User",
            json!({"type": "object", "required": ["id", "email", "role"], "properties": {"id": {"type": "integer"}, "email": {"type": "string"}, "role": {"type": "string"}}}),
        ),
    ]
}

fn schema(v: &Value) -> RefOr<Schema> {
    // the table above is written in JSON Schema; utoipa's model reads it (a unit test
    // checks that every schema round-trips)
    serde_json::from_value(v.clone()).unwrap_or_else(|_| RefOr::T(Schema::default()))
}

fn method(m: &str) -> HttpMethod {
    match m {
        "post" => HttpMethod::Post,
        "patch" => HttpMethod::Patch,
        "delete" => HttpMethod::Delete,
        "put" => HttpMethod::Put,
        _ => HttpMethod::Get,
    }
}

/// The whole document.
pub fn document(v: &Vocabulary) -> OpenApi {
    let ops = operations(v);
    let mut paths = Paths::new();
    let error = RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Error"));
    for op in &ops {
        let mut b = OperationBuilder::new()
            .tag(op.tag)
            .summary(Some(op.summary))
            .operation_id(Some(operation_id(op)));
        for p in &op.params {
            b = b.parameter(
                ParameterBuilder::new()
                    .name(&p.name)
                    .parameter_in(if p.in_path {
                        ParameterIn::Path
                    } else {
                        ParameterIn::Query
                    })
                    .required(if p.in_path {
                        Required::True
                    } else {
                        Required::False
                    })
                    .description(Some(p.description))
                    .schema(Some(schema(&p.schema))),
            );
        }
        match &op.body {
            Some(Body::Json(s)) => {
                b = b.request_body(Some(
                    RequestBodyBuilder::new()
                        .required(Some(Required::True))
                        .content(
                            "application/json",
                            ContentBuilder::new().schema(Some(schema(s))).build(),
                        )
                        .build(),
                ));
            }
            Some(Body::Upload(types)) => {
                let mut rb = RequestBodyBuilder::new().required(Some(Required::True));
                for t in *types {
                    rb = rb.content(
                        *t,
                        ContentBuilder::new()
                            .schema(Some(schema(&json!({"type": "string"}))))
                            .build(),
                    );
                }
                b = b.request_body(Some(rb.build()));
            }
            None => {}
        }
        let mut responses = ResponsesBuilder::new();
        for s in &op.success {
            let mut rb = ResponseBuilder::new().description(s.description);
            if let Some((media, sch)) = &s.body {
                rb = rb.content(
                    *media,
                    ContentBuilder::new().schema(Some(schema(sch))).build(),
                );
            }
            responses = responses.response(s.status.to_string(), rb.build());
        }
        for status in op.errors() {
            responses = responses.response(
                status.to_string(),
                ResponseBuilder::new()
                    .description(error_description(status))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(error.clone())).build(),
                    )
                    .build(),
            );
        }
        b = b.responses(responses.build());
        if op.access == Access::SignedIn {
            b = b
                .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                .security(SecurityRequirement::new("session", Vec::<String>::new()));
        }
        paths.add_path_operation(op.path, vec![method(op.method)], b.build());
    }
    let mut components = ComponentsBuilder::new()
        .security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        )
        .security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    for (name, s) in schemas(v) {
        components = components.schema(name, schema(&s));
    }
    let mut tags = Vec::new();
    for op in &ops {
        if !tags.contains(&op.tag) {
            tags.push(op.tag);
        }
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("duijie 校企对接平台 API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "科技成果与技术需求的检索、匹配、对接会安排与成效台账。错误一律为 {\"error\": {\"code\", \"message\"}}，message 为“中文 / English”。写操作需要 Authorization: Bearer <令牌> 或登录会话。",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components.build()))
        .tags(Some(tags.into_iter().map(|t| TagBuilder::new().name(t).build())))
        .build()
}

fn operation_id(op: &Operation) -> String {
    let mut id = op.method.to_string();
    for seg in op
        .path
        .trim_start_matches("/api/v1")
        .split(['/', ':', '.', '-'])
    {
        if seg.is_empty() {
            continue;
        }
        id.push('_');
        id.push_str(seg.trim_matches(|c| c == '{' || c == '}'));
    }
    id
}

/// The Chinese meaning of an error status on the documentation page.
pub fn error_description(status: u16) -> &'static str {
    match status {
        400 => "参数或请求体格式有误",
        401 => "需要登录或 API 令牌",
        403 => "无权执行此操作",
        404 => "不存在",
        409 => "与现有数据冲突",
        415 => "不支持的内容类型",
        422 => "内容校验未通过（附字段错误）",
        429 => "尝试过多，请稍后再试",
        503 => "数据库暂时不可用，请重试",
        _ => "错误",
    }
}

/// The data of the documentation page: tags, each with its operations.
pub fn docs_page(v: &Vocabulary) -> Value {
    let ops = operations(v);
    let mut groups: Vec<(&str, Vec<Value>)> = Vec::new();
    for op in &ops {
        let v = json!({
            "method": op.method.to_uppercase(),
            "path": op.path,
            "anchor": operation_id(op),
            "summary": op.summary,
            "signed_in": op.access == Access::SignedIn,
            "params": op.params.iter().map(|p| json!({
                "name": p.name,
                "in": if p.in_path { "路径" } else { "查询" },
                "type": describe(&p.schema),
                "description": p.description,
            })).collect::<Vec<_>>(),
            "body": match &op.body {
                Some(Body::Json(s)) => json!({"media": "application/json", "schema": serde_json::to_string_pretty(&resolve(v, s)).unwrap_or_default()}),
                Some(Body::Upload(t)) => json!({"media": t.join("、"), "schema": ""}),
                None => Value::Null,
            },
            "success": op.success.iter().map(|s| json!({
                "status": s.status,
                "description": s.description,
                "media": s.body.as_ref().map(|(m, _)| *m),
            })).collect::<Vec<_>>(),
            "errors": op.errors().iter().map(|s| json!({"status": s, "description": error_description(*s)})).collect::<Vec<_>>(),
        });
        match groups.iter_mut().find(|(t, _)| *t == op.tag) {
            Some((_, list)) => list.push(v),
            None => groups.push((op.tag, vec![v])),
        }
    }
    json!({
        "count": ops.len(),
        "groups": groups.into_iter().map(|(t, ops)| json!({"tag": t, "ops": ops})).collect::<Vec<_>>(),
    })
}

/// A schema with its top-level `$ref` replaced by the named schema, for the docs page.
fn resolve(v: &Vocabulary, s: &Value) -> Value {
    if let Some(name) = s
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
        && let Some((_, v)) = schemas(v).into_iter().find(|(n, _)| *n == name)
    {
        return v;
    }
    s.clone()
}

/// A short type description: `integer ≥ 1`, `results | needs`, ...
fn describe(s: &Value) -> String {
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        let shown: Vec<String> = values
            .iter()
            .take(6)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let more = if values.len() > 6 {
            format!(" …（共 {} 项）", values.len())
        } else {
            String::new()
        };
        return format!("{}{more}", shown.join(" | "));
    }
    let ty = s.get("type").and_then(Value::as_str).unwrap_or("string");
    let mut out = ty.to_string();
    if let Some(min) = s.get("minimum") {
        out.push_str(&format!(" ≥ {min}"));
    }
    if let Some(max) = s.get("maximum") {
        out.push_str(&format!(" ≤ {max}"));
    }
    if let Some(f) = s.get("format").and_then(Value::as_str)
        && f != "int64"
    {
        out.push_str(&format!("（{f}）"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_schemas(v: &Vocabulary) -> Vec<Value> {
        let mut out: Vec<Value> = schemas(v).into_iter().map(|(_, s)| s).collect();
        for op in operations(v) {
            out.extend(op.params.iter().map(|p| p.schema.clone()));
            if let Some(Body::Json(s)) = &op.body {
                out.push(s.clone());
            }
            out.extend(
                op.success
                    .iter()
                    .filter_map(|s| s.body.as_ref().map(|(_, s)| s.clone())),
            );
        }
        out
    }

    /// Every schema written in the table survives utoipa's model unchanged: nothing is
    /// silently dropped from the published document.
    #[test]
    fn every_schema_round_trips_through_the_document_model() {
        let v = Vocabulary::default();
        for s in all_schemas(&v) {
            let parsed: RefOr<Schema> = serde_json::from_value(s.clone())
                .unwrap_or_else(|e| panic!("schema {s} does not parse: {e}"));
            let back = serde_json::to_value(&parsed).expect("serialises");
            // numbers may come back as floats; compare through their text form
            assert_eq!(
                normalise(&back),
                normalise(&s),
                "schema changed in the document model"
            );
        }
    }

    fn normalise(v: &Value) -> Value {
        match v {
            Value::Number(n) => json!(n.as_f64()),
            Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), normalise(v))).collect())
            }
            other => other.clone(),
        }
    }

    #[test]
    fn the_document_names_every_operation_once_with_its_errors() {
        let v = Vocabulary::default();
        let doc = serde_json::to_value(document(&v)).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let ops = operations(&v);
        let mut seen = std::collections::HashSet::new();
        for op in &ops {
            assert!(seen.insert(op.label()), "{} is listed twice", op.label());
            let o = &doc["paths"][op.path][op.method];
            assert!(o.is_object(), "{} missing from the document", op.label());
            // every operation documents its success and the error shape
            assert!(
                !op.success.is_empty(),
                "{} has no success answer",
                op.label()
            );
            for status in op.errors() {
                assert_eq!(
                    o["responses"][status.to_string()]["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{} {status}",
                    op.label()
                );
            }
            // path parameters are declared for every placeholder
            for seg in op.path.split('/').filter(|s| s.starts_with('{')) {
                let name = seg.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    op.params.iter().any(|p| p.in_path && p.name == name),
                    "{}: {name}",
                    op.label()
                );
            }
        }
        // unique operation ids
        let ids: std::collections::HashSet<String> = ops.iter().map(operation_id).collect();
        assert_eq!(ids.len(), ops.len());
        // writes ask for credentials; the public reads do not
        assert!(doc["paths"]["/api/v1/needs"]["post"]["security"].is_array());
        assert!(doc["paths"]["/api/v1/search"]["get"]["security"].is_null());
        // the vocabularies are the validators' own
        let industries = &doc["paths"]["/api/v1/search"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "industry")
            .unwrap()["schema"]["enum"];
        assert_eq!(industries.as_array().unwrap().len(), v.industries().count());
    }

    #[test]
    fn the_docs_page_groups_every_operation() {
        let v = Vocabulary::default();
        let page = docs_page(&v);
        let n: usize = page["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["ops"].as_array().unwrap().len())
            .sum();
        assert_eq!(n, operations(&v).len());
        assert_eq!(page["count"], n);
    }
}
