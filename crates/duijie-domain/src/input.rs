//! Parsing client input into validated drafts.
//!
//! Input arrives as a JSON object (API, JSONL imports) or as a row of strings (CSV, XLSX
//! imports, converted to a JSON object of strings by the caller), so every reader here
//! accepts a number given as a string and a list given as one string separated by `;`,
//! `；`, `、`, `|` or `,`. Every problem is collected, not just the first, so a person can fix
//! a form or an import line in one go.

use crate::FieldErrors;
use crate::model::{
    Contact, ExpertDraft, NeedDraft, OrgRef, OrganizationDraft, Patent, ResultDraft, limits,
};
use crate::vocab::{self, Vocabulary};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// A JSON object as input.
pub type Record = Map<String, Value>;

/// Field aliases accepted in imports, mapped to the canonical name. Chinese headers make
/// spreadsheets written by organisers importable without renaming columns.
const ALIASES: &[(&str, &str)] = &[
    ("abstract", "summary"),
    ("标题", "title"),
    ("名称", "title"),
    ("成果名称", "title"),
    ("需求名称", "title"),
    ("摘要", "summary"),
    ("成果简介", "summary"),
    ("简介", "summary"),
    ("需求描述", "description"),
    ("描述", "description"),
    ("关键词", "keywords"),
    ("行业", "industry"),
    ("所属行业", "industry"),
    ("成熟度", "maturity"),
    ("转化方式", "transfer_modes"),
    ("合作方式", "cooperation_modes"),
    ("单位", "organization"),
    ("所属单位", "organization"),
    ("企业", "organization"),
    ("编号", "external_id"),
    ("状态", "status"),
    ("截止日期", "deadline"),
    ("城市", "city"),
    ("类型", "kind"),
    ("姓名", "name"),
    ("职称", "title"),
    ("研究方向", "research_areas"),
    ("团队", "team"),
    ("联系人", "contact_name"),
    ("联系电话", "contact_phone"),
    ("邮箱", "contact_email"),
    ("网站", "website"),
];

/// Renames alias keys to canonical ones and drops empty strings and nulls (an empty CSV
/// cell means "not given"). Fields that are not aliases are left alone.
pub fn canonicalize(record: Record) -> Record {
    let mut out = Map::new();
    for (k, v) in record {
        let key = k.trim();
        let key = ALIASES
            .iter()
            .find(|(a, _)| *a == key)
            .map(|(_, c)| *c)
            .unwrap_or(key);
        let empty = match &v {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            _ => false,
        };
        if !empty {
            out.insert(key.to_string(), v);
        }
    }
    out
}

/// Reads the fields of one JSON object and collects every problem: the one field reader of
/// every input path (listings, events, preferences, schedule edits, the ledger, alerts), so
/// one rule holds everywhere. Text is trimmed, an empty string is absent, a number is
/// accepted as text (spreadsheets), lengths count characters, control characters are
/// refused (and line breaks outside multi-line fields), closed choices accept the code,
/// the Chinese label or any `/`-separated alias, and fields nobody read are refused.
pub struct Reader<'a> {
    rec: &'a Record,
    used: BTreeSet<&'static str>,
    errors: FieldErrors,
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Whether text holds a control character other than a line break or a tab (refused by
/// every input path).
pub fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

impl<'a> Reader<'a> {
    /// A reader of `rec`.
    pub fn new(rec: &'a Record) -> Self {
        Reader {
            rec,
            used: BTreeSet::new(),
            errors: FieldErrors::default(),
        }
    }

    /// The field's value, marking it read; null and blank text are absent.
    pub fn raw(&mut self, name: &'static str) -> Option<&'a Value> {
        self.used.insert(name);
        match self.rec.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(v) => Some(v),
        }
    }

    /// Optional text: trimmed, at most `max` characters, no control characters (nor line
    /// breaks unless `multiline`); a number is taken as its text.
    pub fn text(&mut self, name: &'static str, max: usize, multiline: bool) -> Option<String> {
        let v = self.raw(name)?;
        let s = match v {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                self.errors.push(
                    name,
                    "invalid_type",
                    format!("{name} 应为文本"),
                    format!("{name} must be a string"),
                );
                return None;
            }
        };
        let n = char_len(&s);
        if n > max {
            self.errors.push(
                name,
                "too_long",
                format!("{name} 过长：{n} 字，最多 {max} 字"),
                format!("{name} is too long: {n} characters, at most {max}"),
            );
            return None;
        }
        if has_control(&s) || (!multiline && s.contains(['\n', '\r'])) {
            self.errors.push(
                name,
                "invalid_characters",
                format!("{name} 含有不允许的控制字符或换行"),
                format!("{name} contains control characters or line breaks"),
            );
            return None;
        }
        Some(s)
    }

    /// Like [`Reader::text`], and an absent field is an error (answered as empty).
    pub fn required_text(&mut self, name: &'static str, max: usize, multiline: bool) -> String {
        let present = self.raw(name).is_some();
        match self.text(name, max, multiline) {
            Some(s) => s,
            None => {
                if !present {
                    self.errors.push(
                        name,
                        "required",
                        format!("{name} 为必填项"),
                        format!("{name} is required"),
                    );
                }
                String::new()
            }
        }
    }

    /// A list of short texts: a JSON array, or one string separated by `;；、|,，`.
    pub fn list(&mut self, name: &'static str, max_items: usize, max_len: usize) -> Vec<String> {
        let Some(v) = self.raw(name) else {
            return Vec::new();
        };
        let items: Vec<String> = match v {
            Value::String(s) => s
                .split([';', '；', '、', '|', ',', '，'])
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            Value::Array(a) => {
                let mut out = Vec::new();
                for (i, item) in a.iter().enumerate() {
                    match item {
                        Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                        Value::String(_) => {}
                        _ => {
                            self.errors.push(
                                format!("{name}[{i}]"),
                                "invalid_type",
                                format!("{name} 的第 {} 项应为文本", i + 1),
                                format!("item {} of {name} must be a string", i + 1),
                            );
                        }
                    }
                }
                out
            }
            _ => {
                self.errors.push(
                    name,
                    "invalid_type",
                    format!("{name} 应为文本列表"),
                    format!("{name} must be a list of strings"),
                );
                return Vec::new();
            }
        };
        if items.len() > max_items {
            self.errors.push(
                name,
                "too_many",
                format!("{name} 最多 {max_items} 项，收到 {} 项", items.len()),
                format!(
                    "{name} has {} items, at most {max_items} allowed",
                    items.len()
                ),
            );
            return Vec::new();
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let n = char_len(&item);
            if n > max_len {
                self.errors.push(
                    format!("{name}[{i}]"),
                    "too_long",
                    format!("{name} 的第 {} 项过长：{n} 字，最多 {max_len} 字", i + 1),
                    format!(
                        "item {} of {name} is too long: {n} characters, at most {max_len}",
                        i + 1
                    ),
                );
            } else if has_control(&item) {
                self.errors.push(
                    format!("{name}[{i}]"),
                    "invalid_characters",
                    format!("{name} 含有控制字符"),
                    format!("{name} contains control characters"),
                );
            } else if seen.insert(item.clone()) {
                out.push(item);
            }
        }
        out
    }

    /// An optional whole number in `min..=max` (a string of digits is accepted).
    pub fn int(&mut self, name: &'static str, min: i64, max: i64) -> Option<i64> {
        let v = self.raw(name)?;
        let n = match v {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                    .map(|f| f as i64)
            }),
            Value::String(s) => s.trim().replace([',', '，'], "").parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(n) => {
                self.errors.push(
                    name,
                    "out_of_range",
                    format!("{name} 应在 {min} 到 {max} 之间，收到 {n}"),
                    format!("{name} must be between {min} and {max}, got {n}"),
                );
                None
            }
            None => {
                self.errors.push(
                    name,
                    "invalid_type",
                    format!("{name} 应为整数"),
                    format!("{name} must be a whole number"),
                );
                None
            }
        }
    }

    /// An optional closed choice: code, Chinese label or `/`-separated alias → code.
    pub fn choice(
        &mut self,
        name: &'static str,
        table: &[(&'static str, &'static str)],
    ) -> Option<String> {
        let v = self.raw(name)?;
        let Value::String(s) = v else {
            self.errors.push(
                name,
                "invalid_type",
                format!("{name} 应为文本"),
                format!("{name} must be a string"),
            );
            return None;
        };
        match vocab::resolve(table, s) {
            Some(c) => Some(c.to_string()),
            None => {
                self.errors.push(
                    name,
                    "invalid_choice",
                    format!(
                        "{name} 的取值“{}”无效，可选：{}",
                        truncate(s),
                        vocab::choices(table)
                    ),
                    format!(
                        "{name} '{}' is not one of: {}",
                        truncate(s),
                        vocab::choices(table)
                    ),
                );
                None
            }
        }
    }

    /// Several closed choices (a list), duplicates dropped.
    pub fn choices(
        &mut self,
        name: &'static str,
        table: &[(&'static str, &'static str)],
    ) -> Vec<String> {
        let items = self.list(name, table.len() * 2, 40);
        let mut out = Vec::new();
        for item in items {
            match vocab::resolve(table, &item) {
                Some(c) if !out.iter().any(|o: &String| o == c) => out.push(c.to_string()),
                Some(_) => {}
                None => self.errors.push(
                    name,
                    "invalid_choice",
                    format!(
                        "{name} 的取值“{}”无效，可选：{}",
                        truncate(&item),
                        vocab::choices(table)
                    ),
                    format!(
                        "{name} '{}' is not one of: {}",
                        truncate(&item),
                        vocab::choices(table)
                    ),
                ),
            }
        }
        out
    }

    /// An optional industry: code or Chinese name (or one of its 、-separated parts).
    pub fn industry(&mut self, vocab: &Vocabulary) -> Option<String> {
        let v = self.raw("industry")?;
        let Value::String(s) = v else {
            self.errors.push(
                "industry",
                "invalid_type",
                "industry 应为文本",
                "industry must be a string",
            );
            return None;
        };
        match vocab.resolve_industry(s) {
            Some(c) => Some(c),
            None => {
                let codes = vocab
                    .industries()
                    .map(|(c, _)| c)
                    .collect::<Vec<_>>()
                    .join(", ");
                self.errors.push(
                    "industry",
                    "invalid_choice",
                    format!("行业“{}”不在行业目录中，可选：{codes}", truncate(s)),
                    format!(
                        "industry '{}' is not in the vocabulary: {codes}",
                        truncate(s)
                    ),
                );
                None
            }
        }
    }

    fn money_range(
        &mut self,
        min_name: &'static str,
        max_name: &'static str,
    ) -> (Option<i64>, Option<i64>) {
        let lo = self.int(min_name, 0, limits::MONEY);
        let hi = self.int(max_name, 0, limits::MONEY);
        if let (Some(a), Some(b)) = (lo, hi)
            && a > b
        {
            self.errors.push(
                min_name,
                "invalid_range",
                format!("{min_name}（{a}）不能大于 {max_name}（{b}）"),
                format!("{min_name} ({a}) must not exceed {max_name} ({b})"),
            );
        }
        (lo, hi)
    }

    fn external_id(&mut self) -> Option<String> {
        self.text("external_id", limits::EXTERNAL_ID, false)
    }

    fn org_ref(&mut self) -> Option<OrgRef> {
        if let Some(id) = self.int("organization_id", 1, i64::MAX) {
            return Some(OrgRef::Id(id));
        }
        if let Some(x) = self.text("organization_external_id", limits::EXTERNAL_ID, false) {
            return Some(OrgRef::ExternalId(x));
        }
        self.text("organization", limits::NAME, false)
            .map(OrgRef::Name)
    }

    fn contact(&mut self) -> Contact {
        let mut c = Contact::default();
        if let Some(Value::Object(obj)) = self.raw("contact") {
            // nested form {"contact": {"name", "phone", "email"}}
            let nested: Record = obj
                .iter()
                .map(|(k, v)| (format!("contact_{k}"), v.clone()))
                .collect();
            let mut r = Reader::new(&nested);
            c = r.contact_fields();
            for k in nested.keys() {
                if !r.used.contains(k.as_str()) {
                    self.errors.push(
                        format!("contact.{}", &k[8..]),
                        "unknown_field",
                        "未知字段",
                        "unknown field",
                    );
                }
            }
            self.errors.0.extend(r.errors.0);
        } else if self.rec.get("contact").is_some_and(|v| !v.is_null()) {
            self.errors.push(
                "contact",
                "invalid_type",
                "contact 应为对象 {name, phone, email}",
                "contact must be an object {name, phone, email}",
            );
        }
        let flat = self.contact_fields();
        Contact {
            name: flat.name.or(c.name),
            phone: flat.phone.or(c.phone),
            email: flat.email.or(c.email),
            public: flat.public || c.public,
        }
    }

    fn contact_fields(&mut self) -> Contact {
        let name = self.text("contact_name", limits::NAME, false);
        let phone = self.text("contact_phone", limits::PHONE, false);
        if let Some(p) = &phone
            && (!p
                .chars()
                .all(|c| c.is_ascii_digit() || " -+()（）转".contains(c))
                || !p.chars().any(|c| c.is_ascii_digit()))
        {
            self.errors.push(
                "contact_phone",
                "invalid_format",
                "电话号码格式无效",
                "phone number may contain only digits, spaces, + - ( )",
            );
        }
        let email = self.text("contact_email", limits::EMAIL, false);
        if let Some(e) = &email {
            let ok = e.split_once('@').is_some_and(|(a, b)| {
                !a.is_empty() && b.contains('.') && !e.contains(char::is_whitespace)
            });
            if !ok {
                self.errors.push(
                    "contact_email",
                    "invalid_format",
                    "邮箱地址格式无效",
                    "e-mail address is not valid",
                );
            }
        }
        let public = self.bool_or("contact_public", false);
        Contact {
            name,
            phone,
            email,
            public,
        }
    }

    /// An integer with a default for an absent field; an invalid one is an error and
    /// counts as the default.
    pub fn int_or(&mut self, name: &'static str, default: i64, min: i64, max: i64) -> i64 {
        self.int(name, min, max).unwrap_or(default)
    }

    /// A yes/no with a default for an absent field (`true`/`false`, `"true"`/`"false"`,
    /// `"on"` from a checkbox, 1/0, 是/否); anything else is an error and counts as the default.
    pub fn bool_or(&mut self, name: &'static str, default: bool) -> bool {
        let Some(v) = self.raw(name) else {
            return default;
        };
        let b = match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => match n.as_i64() {
                Some(1) => Some(true),
                Some(0) => Some(false),
                _ => None,
            },
            Value::String(s) => match s.trim() {
                "true" | "on" | "1" | "是" => Some(true),
                "false" | "off" | "0" | "否" | "" => Some(false),
                _ => None,
            },
            Value::Null => Some(default),
            _ => None,
        };
        b.unwrap_or_else(|| {
            self.errors.push(
                name,
                "invalid_type",
                format!("{name} 应为 true 或 false"),
                format!("{name} must be true or false"),
            );
            default
        })
    }

    /// A finite number with a default for an absent field; an invalid one is an error and
    /// counts as the default.
    pub fn float_or(&mut self, name: &'static str, default: f64, min: f64, max: f64) -> f64 {
        let Some(v) = self.raw(name) else {
            return default;
        };
        let n = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n.is_finite() && (min..=max).contains(&n) => n,
            Some(n) => {
                self.errors.push(
                    name,
                    "out_of_range",
                    format!("{name} 应为 {min} 到 {max} 之间的数，收到 {n}"),
                    format!("{name} must be a number from {min} to {max}, got {n}"),
                );
                default
            }
            None => {
                self.errors.push(
                    name,
                    "invalid_type",
                    format!("{name} 应为数字"),
                    format!("{name} must be a number"),
                );
                default
            }
        }
    }

    /// A closed choice with a default; without a default an absent field is an error.
    pub fn choice_or(
        &mut self,
        name: &'static str,
        table: &[(&'static str, &'static str)],
        default: Option<&'static str>,
    ) -> Option<&'static str> {
        let present = self.raw(name).is_some();
        match self.choice(name, table) {
            Some(code) => vocab::resolve(table, &code),
            None if !present && default.is_none() => {
                self.errors.push(
                    name,
                    "required",
                    format!("{name} 为必填项，可选：{}", vocab::choices(table)),
                    format!("{name} is required: {}", vocab::choices(table)),
                );
                None
            }
            None if present => None,
            None => default,
        }
    }

    /// Records a problem found by the caller's own checks.
    pub fn error(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        zh: impl AsRef<str>,
        en: impl AsRef<str>,
    ) {
        self.errors.push(field, code, zh, en);
    }

    /// Refuses fields nobody read, except `ignore` (read-only fields a client may send
    /// back), and returns every problem.
    pub fn finish_ignoring(mut self, ignore: &[&str]) -> FieldErrors {
        for k in self.rec.keys() {
            if !self.used.contains(k.as_str()) && !ignore.contains(&k.as_str()) {
                self.errors.push(
                    k.clone(),
                    "unknown_field",
                    format!("未知字段“{}”", truncate(k)),
                    format!("unknown field '{}'", truncate(k)),
                );
            }
        }
        self.errors
    }

    /// Refuses fields nobody read and returns every problem.
    pub fn finish(self) -> FieldErrors {
        self.finish_ignoring(&[])
    }
}

fn truncate(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Validates an organisation.
pub fn organization(rec: &Record) -> Result<OrganizationDraft, FieldErrors> {
    let mut r = Reader::new(rec);
    let external_id = r.external_id();
    let name = r.required_text("name", limits::NAME, false);
    let kind = r
        .choice("kind", vocab::ORG_KINDS)
        .unwrap_or_else(|| "other".to_string());
    let city = r
        .text("city", limits::CITY, false)
        .map(|c| crate::geo::normalize_city(&c));
    let website = r.text("website", limits::URL, false);
    if let Some(w) = &website
        && (!(w.starts_with("http://") || w.starts_with("https://"))
            || w.contains(char::is_whitespace))
    {
        r.errors.push(
            "website",
            "invalid_format",
            "网址应以 http:// 或 https:// 开头",
            "website must start with http:// or https://",
        );
    }
    let description = r.text("description", limits::DESCRIPTION, true);
    let draft = OrganizationDraft {
        external_id,
        name,
        kind,
        city,
        website,
        description,
    };
    r.finish().into_result(draft)
}

/// Validates a research result.
pub fn result(rec: &Record, vocab: &Vocabulary) -> Result<ResultDraft, FieldErrors> {
    let mut r = Reader::new(rec);
    let external_id = r.external_id();
    let organization = r.org_ref();
    let title = r.required_text("title", limits::TITLE, false);
    let summary = r.required_text("summary", limits::BODY, true);
    let keywords = r.list("keywords", limits::KEYWORDS, limits::KEYWORD);
    let industry = r.industry(vocab);
    let trl = r.int("trl", 1, 9).map(|t| t as u8);
    let mut maturity = r.choice("maturity", vocab::MATURITIES);
    if let Some(t) = trl {
        let implied = vocab::maturity_of_trl(t);
        match &maturity {
            None => maturity = Some(implied.to_string()),
            Some(m) if m != implied => r.errors.push(
                "maturity",
                "inconsistent",
                format!("成熟度 {m} 与 TRL {t}（对应 {implied}）不一致"),
                format!("maturity {m} does not agree with TRL {t}, which means {implied}"),
            ),
            _ => {}
        }
    }
    let transfer_modes = r.choices("transfer_modes", vocab::TRANSFER_MODES);
    let (price_min, price_max) = r.money_range("price_min", "price_max");
    let patents = patents(&mut r);
    let team = r.text("team", limits::TEAM, false);
    let contact = r.contact();
    let status = r
        .choice("status", vocab::RESULT_STATUSES)
        .unwrap_or_else(|| "published".to_string());
    let draft = ResultDraft {
        external_id,
        organization,
        title,
        summary,
        keywords,
        industry,
        maturity,
        trl,
        transfer_modes,
        price_min,
        price_max,
        patents,
        team,
        contact,
        status,
    };
    r.finish().into_result(draft)
}

fn patents(r: &mut Reader<'_>) -> Vec<Patent> {
    let Some(v) = r.raw("patents") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let items: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        // "ZL2023...:标题; ZL2024...:标题" in spreadsheets
        Value::String(s) => s
            .split([';', '；', '|'])
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                let (num, title) = p.split_once([':', '：']).unwrap_or((p, ""));
                serde_json::json!({"number": num.trim(), "title": title.trim()})
            })
            .collect(),
        _ => {
            r.errors.push(
                "patents",
                "invalid_type",
                "patents 应为列表",
                "patents must be a list of {number, title}",
            );
            return out;
        }
    };
    if items.len() > limits::PATENTS {
        r.errors.push(
            "patents",
            "too_many",
            format!("专利最多 {} 项", limits::PATENTS),
            format!("at most {} patents", limits::PATENTS),
        );
        return out;
    }
    for (i, item) in items.iter().enumerate() {
        let field = format!("patents[{i}]");
        let (number, title) = match item {
            Value::String(s) => (s.trim().to_string(), String::new()),
            Value::Object(o) => (
                o.get("number")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .trim()
                    .to_string(),
                o.get("title")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            ),
            _ => {
                r.errors.push(
                    field,
                    "invalid_type",
                    "专利应为 {number, title}",
                    "a patent must be {number, title}",
                );
                continue;
            }
        };
        if number.is_empty() || char_len(&number) > limits::PATENT_NUMBER || has_control(&number) {
            r.errors.push(
                field,
                "invalid_format",
                format!("专利号为空或超过 {} 字", limits::PATENT_NUMBER),
                format!(
                    "patent number empty or longer than {}",
                    limits::PATENT_NUMBER
                ),
            );
        } else if char_len(&title) > limits::TITLE || has_control(&title) {
            r.errors.push(
                field,
                "too_long",
                format!("专利名称最多 {} 字", limits::TITLE),
                format!("patent title longer than {}", limits::TITLE),
            );
        } else {
            out.push(Patent { number, title });
        }
    }
    out
}

/// Validates a technology need.
pub fn need(rec: &Record, vocab: &Vocabulary) -> Result<NeedDraft, FieldErrors> {
    let mut r = Reader::new(rec);
    let external_id = r.external_id();
    let organization = r.org_ref();
    let title = r.required_text("title", limits::TITLE, false);
    let description = r.required_text("description", limits::BODY, true);
    let keywords = r.list("keywords", limits::KEYWORDS, limits::KEYWORD);
    let industry = r.industry(vocab);
    let cooperation_modes = r.choices("cooperation_modes", vocab::TRANSFER_MODES);
    let (budget_min, budget_max) = r.money_range("budget_min", "budget_max");
    let deadline = r.text("deadline", 10, false);
    if let Some(d) = &deadline
        && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
    {
        r.errors.push(
            "deadline",
            "invalid_format",
            format!("截止日期“{}”应为 YYYY-MM-DD 格式的有效日期", truncate(d)),
            format!("deadline '{}' must be a valid YYYY-MM-DD date", truncate(d)),
        );
    }
    let required_maturity = r.choice("required_maturity", vocab::MATURITIES);
    let contact = r.contact();
    let status = r
        .choice("status", vocab::NEED_STATUSES)
        .unwrap_or_else(|| "published".to_string());
    let draft = NeedDraft {
        external_id,
        organization,
        title,
        description,
        keywords,
        industry,
        cooperation_modes,
        budget_min,
        budget_max,
        deadline,
        required_maturity,
        contact,
        status,
    };
    r.finish().into_result(draft)
}

/// Validates an expert profile.
pub fn expert(rec: &Record, vocab: &Vocabulary) -> Result<ExpertDraft, FieldErrors> {
    let mut r = Reader::new(rec);
    let external_id = r.external_id();
    let organization = r.org_ref();
    let name = r.required_text("name", limits::NAME, false);
    let title = r.text("title", limits::JOB_TITLE, false);
    let research_areas = r.list("research_areas", 10, limits::KEYWORD);
    let keywords = r.list("keywords", limits::KEYWORDS, limits::KEYWORD);
    let summary = r
        .text("summary", limits::EXPERT_SUMMARY, true)
        .unwrap_or_default();
    let industry = r.industry(vocab);
    let contact = r.contact();
    let draft = ExpertDraft {
        external_id,
        organization,
        name,
        title,
        research_areas,
        keywords,
        summary,
        industry,
        contact,
    };
    r.finish().into_result(draft)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> Record {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn minimal_result_gets_defaults() {
        let d = result(
            &rec(json!({"title": "稀土金属催化剂低温制氢", "summary": "一种催化剂"})),
            &Vocabulary::default(),
        )
        .unwrap();
        assert_eq!(d.status, "published");
        assert!(d.keywords.is_empty());
    }

    #[test]
    fn every_error_is_reported_with_its_field() {
        let errs = result(
            &rec(json!({
                "title": "x".repeat(201),
                "industry": "航天",
                "maturity": "量产",
                "transfer_modes": ["转让", "赠送"],
                "price_min": 10, "price_max": 5,
                "contact_email": "nobody",
                "colour": "red"
            })),
            &Vocabulary::default(),
        )
        .unwrap_err();
        let fields: Vec<_> = errs.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        for expected in [
            ("title", "too_long"),
            ("summary", "required"),
            ("industry", "invalid_choice"),
            ("maturity", "invalid_choice"),
            ("transfer_modes", "invalid_choice"),
            ("price_min", "invalid_range"),
            ("contact_email", "invalid_format"),
            ("colour", "unknown_field"),
        ] {
            assert!(
                fields.contains(&expected),
                "missing {expected:?} in {fields:?}"
            );
        }
        assert!(
            errs.0.iter().all(|e| e.message.contains(" / ")),
            "messages are bilingual"
        );
    }

    #[test]
    fn spreadsheet_strings_are_accepted() {
        let r = canonicalize(rec(json!({
            "标题": "高炉煤气余热回收", "需求描述": "希望提高回收效率", "关键词": "余热；高炉、煤气",
            "budget_min": "100,000", "budget_max": "", "合作方式": "合作开发;技术服务", "deadline": "2027-06-30"
        })));
        let d = need(&r, &Vocabulary::default()).unwrap();
        assert_eq!(d.keywords, vec!["余热", "高炉", "煤气"]);
        assert_eq!(d.budget_min, Some(100_000));
        assert_eq!(d.budget_max, None);
        assert_eq!(
            d.cooperation_modes,
            vec!["joint_development", "technical_service"]
        );
    }

    #[test]
    fn trl_implies_maturity_and_must_agree() {
        let v = Vocabulary::default();
        let d = result(&rec(json!({"title": "a", "summary": "b", "trl": 8})), &v).unwrap();
        assert_eq!(d.maturity.as_deref(), Some("industrialized"));
        let e = result(
            &rec(json!({"title": "a", "summary": "b", "trl": 2, "maturity": "pilot"})),
            &v,
        )
        .unwrap_err();
        assert_eq!(e.0[0].code, "inconsistent");
        let e = result(&rec(json!({"title": "a", "summary": "b", "trl": 12})), &v).unwrap_err();
        assert_eq!(e.0[0].code, "out_of_range");
    }

    #[test]
    fn bad_dates_and_control_characters_are_refused() {
        let v = Vocabulary::default();
        let e = need(
            &rec(json!({"title": "a\u{0007}", "description": "d", "deadline": "2027-02-30"})),
            &v,
        )
        .unwrap_err();
        let codes: Vec<_> = e.0.iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["invalid_characters", "invalid_format"]);
    }

    #[test]
    fn contact_nested_or_flat() {
        let v = Vocabulary::default();
        let d = expert(&rec(json!({"name": "王磊", "contact": {"email": "wl@neu.edu.cn", "phone": "024-83687000"}})), &v).unwrap();
        assert_eq!(d.contact.email.as_deref(), Some("wl@neu.edu.cn"));
        let e = expert(&rec(json!({"name": "王磊", "contact": {"fax": "1"}})), &v).unwrap_err();
        assert_eq!(e.0[0].field, "contact.fax");
    }
}
