//! The error catalogue: every machine-readable code a client can receive, once, with its
//! kind and what it means in Chinese and English (in the spirit of meilisearch's error-code
//! table). Error values carry a [`Code`] from here; the message of a particular error says
//! what exactly was wrong, the catalogue's texts say what the code means in general (they
//! document the API and label errors whose message is generic).
//!
//! Codes are stable: clients switch on them. Add new ones; never rename or reuse one.

use crate::error::ErrorKind;

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The stable code, `snake_case`.
    pub code: &'static str,
    /// What sort of failure it is (and so the HTTP status).
    pub kind: ErrorKind,
    /// What it means, in Chinese.
    pub zh: &'static str,
    /// What it means, in English.
    pub en: &'static str,
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
}

macro_rules! catalogue {
    ($($name:ident = $code:literal, $kind:ident, $zh:literal, $en:literal;)*) => {
        impl Code {
            $(
                #[doc = $en]
                pub const $name: Code = Code {
                    code: $code,
                    kind: ErrorKind::$kind,
                    zh: $zh,
                    en: $en,
                };
            )*
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$name),*];
        }
    };
}

catalogue! {
    // --- the request itself -----------------------------------------------------------
    BODY_TOO_LARGE = "body_too_large", BadRequest, "请求体过大", "the request body is too large";
    EMPTY_BODY = "empty_body", BadRequest, "请求体为空", "the request body is empty";
    INVALID_BODY = "invalid_body", BadRequest, "无法读取请求体", "the request body cannot be read";
    INVALID_JSON = "invalid_json", BadRequest, "请求体不是合法的 JSON 对象", "the request body is not a valid JSON object";
    INVALID_FORM = "invalid_form", BadRequest, "表单无法解析", "the form cannot be decoded";
    INVALID_PATH = "invalid_path", BadRequest, "路径无效", "the path is invalid";
    INVALID_ID = "invalid_id", BadRequest, "编号无效，应为正整数", "an id must be a positive integer";
    INVALID_QUERY_STRING = "invalid_query_string", BadRequest, "查询参数格式错误", "the query string is malformed";
    DUPLICATE_PARAMETER = "duplicate_parameter", BadRequest, "参数重复", "a parameter is given twice";
    UNKNOWN_PARAMETER = "unknown_parameter", BadRequest, "未知参数", "a parameter is not known to this endpoint";
    MISSING_PARAMETER = "missing_parameter", BadRequest, "缺少必需的参数", "a required parameter is missing";
    INVALID_PARAMETER = "invalid_parameter", BadRequest, "参数取值无效", "a parameter has an invalid value";
    UNKNOWN_FIELD = "unknown_field", BadRequest, "未知字段", "a field is not known to this endpoint";
    INVALID_QUERY = "invalid_query", BadRequest, "查询无效", "the search query is invalid";
    QUERY_TOO_LONG = "query_too_long", BadRequest, "查询过长", "the search query is too long";
    EMPTY_TEXT = "empty_text", BadRequest, "文本为空", "the text is empty";
    INVALID_TEXT = "invalid_text", BadRequest, "文本无效", "the text is invalid";
    TEXT_TOO_LONG = "text_too_long", BadRequest, "文本过长", "the text is too long";
    INVALID_FILTERS = "invalid_filters", BadRequest, "筛选条件无效", "the filters are invalid";
    INVALID_WEIGHT = "invalid_weight", BadRequest, "权重无效", "a weight is invalid";
    INVALID_WEIGHTS = "invalid_weights", BadRequest, "权重组合无效", "the weights are invalid together";
    INVALID_STATUS = "invalid_status", BadRequest, "状态无效", "the status is not one of the allowed values";
    INVALID_ROLE = "invalid_role", BadRequest, "角色无效", "the role is not one of the allowed values";
    INVALID_EMAIL = "invalid_email", BadRequest, "邮箱地址无效", "the e-mail address is invalid";
    INVALID_NAME = "invalid_name", BadRequest, "名称无效", "the name is invalid";
    WEAK_PASSWORD = "weak_password", BadRequest, "密码不符合要求", "the password does not meet the rules";
    PASSWORD_MISMATCH = "password_mismatch", BadRequest, "两次输入的密码不一致", "the two passwords differ";
    PAIRING_NEEDS_ID = "pairing_needs_id", BadRequest, "需要指明对接编号", "the pairing's id is needed";
    // --- uploads and imports ------------------------------------------------------------
    MISSING_FILE = "missing_file", BadRequest, "没有上传文件", "no file was uploaded";
    INVALID_UPLOAD = "invalid_upload", BadRequest, "上传内容无法读取", "the upload cannot be read";
    READ_FAILED = "read_failed", BadRequest, "读取上传内容失败", "reading the upload failed";
    EMPTY_IMPORT = "empty_import", BadRequest, "导入文件中没有记录", "the import holds no records";
    INVALID_ENCODING = "invalid_encoding", BadRequest, "文件编码无法识别", "the file's encoding is not recognised";
    INVALID_CSV = "invalid_csv", BadRequest, "CSV 文件格式错误", "the CSV file is malformed";
    INVALID_XLSX = "invalid_xlsx", BadRequest, "XLSX 文件无法读取", "the XLSX file cannot be read";
    SPREADSHEET_TOO_LARGE = "spreadsheet_too_large", BadRequest, "表格超出大小限制", "the spreadsheet is beyond a size limit";
    INVALID_COLUMNS = "invalid_columns", BadRequest, "表头列无效", "the header's columns are invalid";
    UNKNOWN_COLUMN = "unknown_column", BadRequest, "未知的列", "a column is not known";
    UNKNOWN_ORGANIZATION = "unknown_organization", BadRequest, "单位不存在", "the organization is not known";
    IMPORT_ROWS_FAILED = "import_rows_failed", Invalid, "部分行导入失败，其余已保存", "some rows failed to import; the others were saved";
    STORE_ERROR = "store_error", Internal, "这一行未能保存", "this row could not be saved";
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", UnsupportedMedia, "不支持的内容类型", "the content type is not supported";
    // --- fields -------------------------------------------------------------------------
    VALIDATION_FAILED = "validation_failed", Invalid, "输入有误，详见各字段", "some fields are invalid; see each field";
    // --- who is calling -----------------------------------------------------------------
    UNAUTHENTICATED = "unauthenticated", Unauthenticated, "请先登录或提供 API 令牌", "sign in or send an API token";
    INVALID_AUTHORIZATION = "invalid_authorization", Unauthenticated, "Authorization 头格式错误", "the Authorization header is malformed";
    INVALID_TOKEN = "invalid_token", Unauthenticated, "API 令牌无效或已撤销", "the API token is invalid or revoked";
    INVALID_CREDENTIALS = "invalid_credentials", Unauthenticated, "邮箱或密码不正确", "wrong e-mail address or password";
    FORBIDDEN = "forbidden", Forbidden, "没有权限", "not allowed";
    CSRF_FAILED = "csrf_failed", Forbidden, "表单已过期或来源无效，请刷新页面后重试", "the form expired or came from elsewhere; reload the page";
    TOO_MANY_REQUESTS = "too_many_requests", TooMany, "尝试次数过多，请稍后再试", "too many attempts; try again later";
    // --- records ------------------------------------------------------------------------
    NOT_FOUND = "not_found", NotFound, "记录或接口不存在", "no such record or endpoint";
    DUPLICATE_NAME = "duplicate_name", Conflict, "名称已存在", "the name is taken";
    EMAIL_TAKEN = "email_taken", Conflict, "邮箱已被注册", "the e-mail address is taken";
    ORGANIZATION_IN_USE = "organization_in_use", Conflict, "单位仍有关联的记录", "the organization still owns records";
    INDEX_READ_ONLY = "index_read_only", Conflict, "索引由另一进程维护", "another process maintains the index";
    NOTHING_TO_BRING = "nothing_to_bring", Conflict, "单位没有可参加的成果或需求", "the organization has no listing to bring";
    NO_WEBHOOK = "no_webhook", Conflict, "订阅没有设置 Webhook", "the alert has no webhook";
    DUPLICATE_DELIVERY = "duplicate_delivery", Conflict, "该推送已存在", "the delivery exists already";
    LINK_INVALID = "link_invalid", Conflict, "链接无效、已使用或已过期", "the link is unknown, used or expired";
    NOT_PENDING_APPROVAL = "not_pending_approval", Conflict, "账号不在待审核队列中", "the account is not waiting for approval";
    CREDIT_CODE_TAKEN = "credit_code_taken", Conflict, "统一社会信用代码已属于另一单位", "the unified social credit code belongs to another organization";
    // --- events and pairings ------------------------------------------------------------
    EVENT_CLOSED = "event_closed", Conflict, "对接会已结束，不能再修改", "the event is closed and cannot change";
    EVENT_PUBLISHED = "event_published", Conflict, "对接会已发布，不能再修改这一项", "the event is published; this cannot change any more";
    NOT_GENERATED = "not_generated", Conflict, "对接名单尚未生成", "the pairing has not been generated";
    PAIRING_RUNNING = "pairing_running", Conflict, "对接名单正在生成", "a pairing is being generated";
    PAIRING_CHANGED = "pairing_changed", Conflict, "对接名单已被他人修改，请刷新", "the pairing changed meanwhile; reload it";
    NOBODY_TO_INVITE = "nobody_to_invite", Conflict, "没有可邀请的参会方", "there is nobody to invite";
    CONFLICTS = "conflicts", Conflict, "与已有安排冲突", "it conflicts with what is arranged";
    ALREADY_PAIRED = "already_paired", Conflict, "双方已安排会谈", "the two already meet";
    BELOW_MIN_SCORE = "below_min_score", Conflict, "匹配度低于对接会的最低分", "the score is below the event's minimum";
    BUSY = "busy", Conflict, "该时段一方已有会谈", "one side already meets someone in that slot";
    CAPACITY = "capacity", Conflict, "超出一方的会谈上限", "one side would exceed its number of meetings";
    GROUP_CAP = "group_cap", Conflict, "超出单位的会谈上限", "the organisation would exceed its cap of meetings";
    FORCED_PAIR = "forced_pair", Conflict, "这是必须安排的会谈", "this meeting is required by a preference";
    NOT_SCORED = "not_scored", Conflict, "这一对没有匹配度", "this pair has no score";
    SLOT_OUT_OF_RANGE = "slot_out_of_range", Conflict, "时段超出范围", "the slot is out of range";
    TABLE_OUT_OF_RANGE = "table_out_of_range", Conflict, "桌号超出范围", "the table is out of range";
    TABLE_OCCUPIED = "table_occupied", Conflict, "该桌在这一时段已被占用", "the table is taken in that slot";
    UNKNOWN_ID = "unknown_id", Conflict, "参会方不在本对接会中", "the party is not part of this event";
    // --- matching requests (from the matching engine) -------------------------------------
    WEIGHTS_ALL_ZERO = "weights_all_zero", BadRequest, "权重不能全为零", "the weights cannot all be zero";
    NO_APPLICABLE_WEIGHT = "no_applicable_weight", BadRequest, "没有适用于这一对的评分项", "no score component applies to this pair";
    INVALID_LIMIT = "invalid_limit", BadRequest, "数量上限无效", "the limit is invalid";
    INVALID_DATE = "invalid_date", BadRequest, "日期无效", "the date is invalid";
    INDEX_ERROR = "index_error", Internal, "检索索引出错", "the search index failed";
    // --- pairing problems (from the solver) -------------------------------------------------
    JSON = "json", BadRequest, "问题文件不是合法的 JSON", "the problem file is not valid JSON";
    DUPLICATE_ID = "duplicate_id", Conflict, "参会方编号重复", "a party's id is used twice";
    NEGATIVE_CAPACITY = "negative_capacity", Conflict, "会谈上限不能为负", "a capacity cannot be negative";
    INVALID_SCORE = "invalid_score", Conflict, "匹配度无效", "a score is invalid";
    DUPLICATE_PAIR = "duplicate_pair", Conflict, "同一对出现了两次", "a pair is listed twice";
    INVALID_SLOTS = "invalid_slots", Conflict, "时段数无效", "the number of slots is invalid";
    INVALID_TABLES = "invalid_tables", Conflict, "桌数无效", "the number of tables is invalid";
    INVALID_MIN_SCORE = "invalid_min_score", Conflict, "最低匹配度无效", "the minimum score is invalid";
    FORCED_FORBIDDEN = "forced_forbidden", Conflict, "必须安排的会谈同时被禁止", "a required meeting is also forbidden";
    FORCED_OVER_CAPACITY = "forced_over_capacity", Conflict, "必须安排的会谈超出会谈上限", "required meetings exceed a capacity";
    FORCED_OVER_SLOTS = "forced_over_slots", Conflict, "必须安排的会谈超出时段数", "required meetings exceed the slots";
    FORCED_OVER_TABLES = "forced_over_tables", Conflict, "必须安排的会谈超出桌位", "required meetings exceed the tables";
    DUPLICATE_GROUP = "duplicate_group", Conflict, "单位分组重复", "a group is declared twice";
    NEGATIVE_GROUP_CAPACITY = "negative_group_capacity", Conflict, "单位会谈上限为负数", "a group's cap is negative";
    GROUP_CONFLICT = "group_conflict", Conflict, "成果同时属于多个单位分组", "a result belongs to more than one group";
    FORCED_OVER_GROUP_CAPACITY = "forced_over_group_capacity", Conflict, "必须安排的会谈超出单位上限", "required meetings exceed an organisation's cap";
    TOO_LARGE = "too_large", Conflict, "问题规模超出上限", "the problem is too large";
    INVALID_PROBLEM = "invalid_problem", Conflict, "对接问题无效", "the pairing problem is invalid";
    CANCELLED = "cancelled", Unavailable, "生成已取消", "the run was cancelled";
    // --- the ledger ---------------------------------------------------------------------
    INVALID_TRANSITION = "invalid_transition", Conflict, "台账状态不能这样变更", "the ledger entry cannot move to that status";
    LEDGER_CHANGED = "ledger_changed", Conflict, "台账记录已被他人修改，请刷新", "the ledger entry changed meanwhile; reload it";
    INVALID_PROJECT = "invalid_project", Conflict, "校际合作项目无效", "the inter-university project is invalid";
    PROJECT_LIMIT = "project_limit", Conflict, "该类项目已达每校每年五项的上限", "the limit of five projects of a kind per university a year is reached";
    // --- connection requests --------------------------------------------------------------
    DUPLICATE_REQUEST = "duplicate_request", Conflict, "这两项之间已有待答复的对接申请", "the two listings already have an open request";
    REQUEST_QUOTA = "request_quota", TooMany, "对接申请超出数量上限", "the limit on requests is reached";
    REQUEST_CLOSED = "request_closed", Conflict, "对接申请已不能这样处理", "the request cannot take this step in its state";
    REQUEST_CHANGED = "request_changed", Conflict, "对接申请已被他人处理，请刷新", "the request changed meanwhile; reload it";
    NOT_YOUR_TURN = "not_your_turn", Conflict, "现在应由对方答复", "it is the other side's turn to answer";
    FEEDBACK_RECORDED = "feedback_recorded", Conflict, "已回答过会谈反馈", "the meeting question is already answered";
    NOT_ACCEPTED = "not_accepted", Conflict, "对接申请尚未被接受", "the request has not been accepted";
    // --- taking part in events -----------------------------------------------------------
    REGISTRATION_CLOSED = "registration_closed", Conflict, "对接会未开放报名或报名已截止", "the event does not take registrations now";
    INVITE_ONLY = "invite_only", Forbidden, "本次对接会仅限受邀单位报名", "only invited organisations may register for this event";
    ALREADY_REGISTERED = "already_registered", Conflict, "本单位已报名", "the organisation has already registered";
    REGISTRATION_DECIDED = "registration_decided", Conflict, "该报名已审核", "the registration was already decided";
    NOT_PARTICIPANT = "not_participant", Forbidden, "本单位未参加该对接会", "your organisation does not take part in this event";
    WISHES_CLOSED = "wishes_closed", Conflict, "意向征集已截止", "wishes are no longer taken for this event";
    NO_PAIRING = "no_pairing", Conflict, "尚未生成对接安排", "the event has no pairing yet";
    PAIRING_STALE = "pairing_stale", Conflict, "参会单位或意向已变化，请先重新生成对接安排", "participants or wishes changed since the pairing was generated; generate it again first";
    NOT_YOUR_MEETING = "not_your_meeting", Forbidden, "这不是本单位的会谈", "this meeting is not your organisation's";
    // --- the service --------------------------------------------------------------------
    INDEX_BEHIND = "index_behind", Unavailable, "已保存，但检索索引未能及时更新，恢复写入后会自动补上", "saved, but the search index could not follow in time; it catches up by itself";
    STORAGE_UNAVAILABLE = "storage_unavailable", Unavailable, "存储空间已满或数据目录只读，本次写入未保存", "the storage is full or read-only: this write was not saved";
    UNAVAILABLE = "unavailable", Unavailable, "服务暂时不可用，请稍后重试", "the service is temporarily unavailable, please retry";
    INTERNAL = "internal", Internal, "服务器内部错误", "internal server error";
}

impl Code {
    /// The entry of a code given as a string (codes that come from the engines, such as a
    /// store conflict or a refused schedule edit).
    pub fn lookup(code: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.code == code)
    }

    /// The entry of an engine's code; one the catalogue lacks (a bug the catalogue test is
    /// there to prevent) keeps its code, with the given kind and generic texts.
    pub fn of(code: &'static str, kind: ErrorKind) -> Code {
        Code::lookup(code).unwrap_or(Code {
            code,
            kind,
            zh: "请求未被接受",
            en: "the request was refused",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_code_is_unique_and_has_both_texts() {
        let mut seen = BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.code), "{} is listed twice", c.code);
            assert!(
                !c.code.is_empty() && c.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{} must be snake_case",
                c.code
            );
            assert!(!c.zh.trim().is_empty(), "{} has no Chinese text", c.code);
            assert!(
                c.zh.chars()
                    .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)),
                "{}'s Chinese text has no Chinese",
                c.code
            );
            assert!(!c.en.trim().is_empty(), "{} has no English text", c.code);
            assert!(c.en.is_ascii(), "{}'s English text is not English", c.code);
        }
    }

    /// The quoted `snake_case` literals that follow `marker` in a source text.
    fn literals_after<'a>(src: &'a str, marker: &str) -> Vec<&'a str> {
        src.match_indices(marker)
            .filter_map(|(i, _)| {
                let rest = src[i + marker.len()..].trim_start();
                let rest = rest.strip_prefix('"')?;
                let end = rest.find('"')?;
                let lit = &rest[..end];
                lit.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
                    .then_some(lit)
            })
            .collect()
    }

    #[test]
    fn engine_codes_are_in_the_catalogue() {
        // conflicts the store raises, refusals of schedule edits, matching and solver errors:
        // read from the engines' sources, so a new code there fails here until it is listed
        let sources = [
            (include_str!("../../duijie-store/src/listings.rs"), "code: "),
            (include_str!("../../duijie-store/src/ledger.rs"), "code: "),
            (include_str!("../../duijie-store/src/events.rs"), "code: "),
            (
                include_str!("../../duijie-store/src/event_self.rs"),
                "code: ",
            ),
            (include_str!("../../duijie-store/src/alerts.rs"), "code: "),
            (include_str!("../../duijie-store/src/accounts.rs"), "code: "),
            (include_str!("../../duijie-store/src/mail.rs"), "code: "),
            (
                include_str!("../../duijie-store/src/connections.rs"),
                "code: ",
            ),
            (include_str!("../../duijie-match/src/edit.rs"), "reject("),
        ];
        // the solver's and the engine's errors: the arms of their `code()`
        let code_fns = [
            include_str!("../../duijie-match/src/error.rs"),
            include_str!("../../duijie-match/src/engine/error.rs"),
        ]
        .map(|src| {
            let start = src.find("pub fn code(").expect("a code() function");
            let end = start + src[start..].find("\n    }\n").expect("its end");
            (&src[start..end], "=> ")
        });
        let mut found = 0;
        for (src, marker) in sources.into_iter().chain(code_fns) {
            for code in literals_after(src, marker) {
                found += 1;
                assert!(
                    Code::lookup(code).is_some(),
                    "{code} is not in the catalogue"
                );
            }
        }
        assert!(found >= 30, "the engines' codes were not found ({found})");
        assert_eq!(
            Code::of("no_such_code", ErrorKind::Conflict).kind,
            ErrorKind::Conflict
        );
    }
}
