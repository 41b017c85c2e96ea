//! The JSON API described as OpenAPI 3.1 (utoipa's document model), built from one table of
//! operations below. `GET /api/openapi.json` serves it; `GET /api/docs` renders it as a
//! Chinese reference page (no CDN, no script). `tests/e2e/openapi.rs` checks that every
//! operation in the table answers on the real router, and `scripts/fuzz-api.sh` runs
//! schemathesis against it: no 5xx, every status, content type and body as documented.
//!
//! The closed vocabularies (industries, zones, maturities, statuses) are read from the
//! running service, so the document's enums are the ones the validators accept. The
//! response schemas are derived from the services' own types (`duijie_app::schema`, utoipa
//! derives behind the `openapi` feature), so a view's fields and the document cannot drift;
//! `tests/e2e/openapi.rs` fails on any success answer documented as a bare object.

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
mod operations;
mod schemas;

pub use operations::operations;
use schemas::{schemas, written};

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
    for (name, s) in written(v) {
        components = components.schema(name, schema(&s));
    }
    // derived from the types: put in as utoipa made them
    for (name, s) in duijie_app::schema::views() {
        components = components.schema(name, s);
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
        && let Some((_, v)) = schemas(v).into_iter().find(|(n, _)| n == name)
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
        let mut out: Vec<Value> = written(v).into_iter().map(|(_, s)| s).collect();
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
