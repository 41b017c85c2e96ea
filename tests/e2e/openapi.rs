//! `/api/openapi.json` and `/api/docs`: the published description matches the real router.
//! Every documented operation is served (never the "no such endpoint" fallback, never 405),
//! and answers with a status the document lists, in its media type, with the top-level
//! fields its schema requires. (`scripts/fuzz-api.sh` goes further with schemathesis.)

use crate::helpers::*;
use serde_json::{Value, json};

fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str() {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            &doc["components"]["schemas"][name]
        }
        None => s,
    }
}

/// The published document, fetched anonymously.
async fn api_document(app: &TestApp) -> Value {
    let r = app
        .anon
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn every_documented_operation_is_served_and_answers_as_documented() {
    let app = spawn_app().await;
    // a record of each kind, so reads by id 1 and matches can succeed
    for (kind, line) in [
        (
            "results",
            json!({"external_id": "O-R1", "title": "稀土金属催化剂低温制氢", "summary": "一种稀土催化剂，低温下高效制氢"}),
        ),
        (
            "needs",
            json!({"external_id": "O-N1", "title": "稀土催化制氢工艺放大", "description": "需要将稀土催化制氢从小试放大到中试"}),
        ),
        (
            "experts",
            json!({"external_id": "O-E1", "name": "张工", "summary": "催化材料"}),
        ),
    ] {
        let (s, r) = app.import_jsonl(kind, &[line]).await;
        assert_eq!(s, 200, "{r}");
    }

    let doc = api_document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 45, "only {} paths", paths.len());

    let mut checked = 0;
    // reads first, then writes (which may delete what the reads use)
    for pass in ["get", "write"] {
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                if (method == "get") != (pass == "get") {
                    continue;
                }
                let id = if method == "get" { "1" } else { "999999" };
                let url = app.url(&path.replace("{id}", id).replace("{pid}", "999999"));
                let req = match method.as_str() {
                    "get" => app.client.get(&url),
                    "post" => app.client.post(&url),
                    "patch" => app.client.patch(&url),
                    "put" => app.client.put(&url),
                    "delete" => app.client.delete(&url),
                    other => panic!("unexpected method {other} for {path}"),
                };
                let req = match op["requestBody"]["content"].as_object() {
                    Some(c) if c.contains_key("application/json") => req.json(&json!({})),
                    Some(c) => {
                        let media = c.keys().next().unwrap().clone();
                        req.header("content-type", media).body(Vec::<u8>::new())
                    }
                    None => req,
                };
                let resp = req.send().await.expect("request");
                let status = resp.status().as_u16();
                let ct = resp
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                let bytes = resp.bytes().await.unwrap();
                let label = format!("{} {path} -> {status}", method.to_uppercase());
                assert_ne!(status, 405, "{label}: method not routed");
                assert!(status < 500, "{label}: {}", String::from_utf8_lossy(&bytes));
                let documented = &op["responses"][status.to_string()];
                assert!(
                    documented.is_object(),
                    "{label}: status not in the document ({})",
                    String::from_utf8_lossy(&bytes)
                );
                if let Some(content) = documented["content"].as_object() {
                    let (media, spec) = content.iter().next().unwrap();
                    if media != "*/*" {
                        assert!(
                            ct.starts_with(media.as_str()),
                            "{label}: content type {ct}, documented {media}"
                        );
                    }
                    if media == "application/json" {
                        let body: Value = serde_json::from_slice(&bytes)
                            .unwrap_or_else(|e| panic!("{label}: not JSON: {e}"));
                        let schema = resolve(&doc, &spec["schema"]);
                        for field in schema["required"].as_array().into_iter().flatten() {
                            let f = field.as_str().unwrap();
                            assert!(body.get(f).is_some(), "{label}: `{f}` missing from {body}");
                        }
                        if status >= 400 {
                            // and the error is never the router's fallback
                            assert_ne!(
                                body["error"]["message"].as_str().unwrap_or_default(),
                                "接口不存在 / no such endpoint",
                                "{label}: documented but not routed"
                            );
                        }
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 80, "only {checked} operations checked");
}

/// Why a response schema says nothing about the body's fields: a bare `{"type": "object"}`
/// (or an empty schema), here or in the items of an array or a part of an `allOf`.
fn bare(doc: &Value, s: &Value, depth: usize) -> Option<String> {
    let s = resolve(doc, s);
    if depth > 8 {
        return None;
    }
    let obj = s.as_object()?;
    if obj.is_empty() {
        return Some("an empty schema".into());
    }
    for parts in ["allOf", "oneOf", "anyOf"] {
        if let Some(list) = s[parts].as_array() {
            return list.iter().find_map(|p| bare(doc, p, depth + 1));
        }
    }
    let types: Vec<&str> = match &s["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"array") {
        return match s.get("items") {
            Some(items) => bare(doc, items, depth + 1).map(|why| format!("items: {why}")),
            None => Some("an array of anything".into()),
        };
    }
    let has_fields = s["properties"].as_object().is_some_and(|p| !p.is_empty())
        || s["additionalProperties"].is_object();
    (types.contains(&"object") && !has_fields).then(|| "a bare object".into())
}

#[tokio::test]
async fn every_success_answer_has_a_schema_with_its_fields() {
    let app = spawn_app().await;
    let doc = api_document(&app).await;
    let mut problems = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            for (status, resp) in op["responses"].as_object().expect("responses") {
                if !status.starts_with('2') {
                    continue;
                }
                let label = format!("{} {path} {status}", method.to_uppercase());
                let resp = resolve(&doc, resp);
                let Some(content) = resp["content"].as_object() else {
                    if status != "204" {
                        problems.push(format!("{label}: no body documented"));
                    }
                    continue;
                };
                for (media, spec) in content {
                    checked += 1;
                    match spec.get("schema") {
                        None => problems.push(format!("{label} {media}: no schema")),
                        Some(schema) if media.contains("json") => {
                            if let Some(why) = bare(&doc, schema, 0) {
                                problems.push(format!("{label}: {why}"));
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    // and every reference names a schema the document defines
    let text = doc.to_string();
    for part in text.split("#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap_or(part.len())];
        if doc["components"]["schemas"].get(name).is_none() {
            problems.push(format!("{name} is referred to but not defined"));
        }
    }
    assert!(checked >= 70, "only {checked} success answers documented");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn the_api_docs_page_lists_every_operation_in_chinese() {
    let app = spawn_app().await;
    let doc = api_document(&app).await;
    let r = app.anon.get(app.url("/api/docs")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    // minijinja escapes '/' in text
    let html = r.text().await.unwrap().replace("&#x2f;", "/");
    assert!(html.contains("开放接口（API）文档"));
    assert!(html.contains("href=\"/api/openapi.json\""));
    assert!(
        !html.contains("https://"),
        "the page must not load anything from elsewhere"
    );
    let mut n = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let line = format!(
                "<code class=\"method method-{method}\">{}</code> <code>{path}</code>",
                method.to_uppercase()
            );
            assert!(html.contains(&line), "docs page lacks {line}");
            n += 1;
        }
    }
    assert!(html.contains(&format!("共 {n} 个接口")));
    // the parameters of the search, with their Chinese descriptions
    assert!(html.contains("<code>q</code>") && html.contains("查询词"));
}
