//! Bulk import: JSONL, CSV (UTF-8 and GBK), XLSX; idempotent by external_id; bad lines
//! reported without losing good ones.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn jsonl_keeps_good_lines_and_reports_bad_ones() {
    let app = spawn_app().await;
    let mut body = String::new();
    body.push_str(&json!({"external_id": "R-1", "title": "电解水制氢电堆", "summary": "碱性电解槽", "industry": "new_energy"}).to_string());
    body.push('\n');
    body.push_str("{\"external_id\": \"R-2\", \"title\": broken\n");
    body.push_str(&json!({"external_id": "R-3", "title": "储氢合金", "summary": "镧镍系", "maturity": "mass"}).to_string());
    body.push('\n');
    body.push('\n');
    body.push_str(
        &json!({"external_id": "R-4", "title": "t".repeat(300), "summary": "s"}).to_string(),
    );
    body.push('\n');
    body.push_str(
        &json!({"external_id": "R-5", "title": "固态储氢罐", "abstract": "常温低压储氢"})
            .to_string(),
    );
    body.push('\n');
    let (s, r) = app
        .post_raw(
            "/api/v1/import?kind=results",
            "application/x-ndjson",
            body.clone().into_bytes(),
        )
        .await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(error_code(&r), "import_rows_failed");
    assert_eq!(
        (
            r["imported"].as_u64(),
            r["updated"].as_u64(),
            r["failed"].as_u64()
        ),
        (Some(2), Some(0), Some(3))
    );
    let lines: Vec<u64> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3, 5]);
    assert_eq!(r["errors"][0]["code"], "invalid_json");
    assert_eq!(r["errors"][1]["code"], "invalid_choice");
    assert_eq!(r["errors"][2]["code"], "too_long");
    // good lines are searchable right away; the CSL-style "abstract" field maps to summary
    let (_, found) = app.get("/api/v1/search?q=常温低压储氢&kind=results").await;
    assert_eq!(found["hits"][0]["external_id"], "R-5");
    // importing again updates instead of duplicating
    let (_, r2) = app
        .post_raw(
            "/api/v1/import?kind=results",
            "application/x-ndjson",
            body.into_bytes(),
        )
        .await;
    assert_eq!(
        (r2["imported"].as_u64(), r2["updated"].as_u64()),
        (Some(0), Some(2))
    );
    let (_, list) = app.get("/api/v1/results").await;
    assert_eq!(list["total"], 2);
    let (_, st) = app.get("/api/v1/admin/index").await;
    assert_eq!(st["index"]["results"], 2);
}

#[tokio::test]
async fn csv_with_chinese_headers_and_gbk() {
    let app = spawn_app().await;
    let csv = "编号,标题,需求描述,关键词,所属行业,合作方式,企业\n\
               N-1,高炉煤气余热回收效率低,希望提高余热回收效率,余热；高炉,冶金,合作开发,鞍钢集团\n\
               N-2,海水淡化膜污染,\"膜污染严重, 需要新型抗污染膜\",膜,海洋经济,技术服务,大连某海水公司\n\
               N-3,缺少描述,,,,,\n";
    let (s, r) = app
        .post_raw(
            "/api/v1/import?kind=needs",
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(
        (r["imported"].as_u64(), r["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(r["errors"][0]["line"], 4);
    assert_eq!(r["errors"][0]["code"], "required");
    let (_, n) = app.get("/api/v1/needs?external_id=N-1").await;
    assert_eq!(n["items"][0]["industry"], "metallurgy");
    assert_eq!(n["items"][0]["keywords"], json!(["余热", "高炉"]));
    assert_eq!(n["items"][0]["organization"]["name"], "鞍钢集团");

    // a GBK file sent as UTF-8 is refused whole, with a hint
    let (gbk, _, _) =
        encoding_rs::GBK.encode("编号,标题,需求描述\nG-1,数控机床热误差,需要补偿技术\n");
    let (s, e) = app
        .post_raw("/api/v1/import?kind=needs", "text/csv", gbk.to_vec())
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_encoding"));
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("charset=gbk")
    );
    // declared as GBK it imports
    let (s, r) = app
        .post_raw(
            "/api/v1/import?kind=needs",
            "text/csv; charset=gbk",
            gbk.to_vec(),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let (_, found) = app.get("/api/v1/search?q=数控机床&kind=needs").await;
    assert_eq!(found["hits"][0]["external_id"], "G-1");
}

#[tokio::test]
async fn xlsx_first_sheet_imports() {
    let app = spawn_app().await;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let rows = [
        ["external_id", "name", "kind", "city"],
        ["ORG-1", "沈阳化工大学", "university", "沈阳"],
        ["ORG-2", "盘锦北方沥青科技有限公司", "enterprise", "盘锦"],
        ["ORG-3", "坏单位", "planet", "火星"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    let (s, r) = app
        .post_raw(
            "/api/v1/import?kind=organizations",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes,
        )
        .await;
    assert_eq!(s, 422, "{r}");
    assert_eq!(
        (r["imported"].as_u64(), r["failed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(r["errors"][0]["line"], 4);
    let (_, orgs) = app.get("/api/v1/organizations?city=盘锦").await;
    assert_eq!(orgs["items"][0]["zones"], json!(["coastal_belt"]));
    // not an xlsx at all
    let (s, e) = app
        .post_raw(
            "/api/v1/import?kind=organizations",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            b"hello".to_vec(),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_xlsx"));
}

#[tokio::test]
async fn import_requests_are_validated() {
    let app = spawn_app().await;
    let (s, e) = app
        .post_raw(
            "/api/v1/import?kind=patents",
            "application/x-ndjson",
            b"{}\n".to_vec(),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "invalid_parameter"));
    let (s, e) = app
        .post_raw("/api/v1/import", "application/x-ndjson", b"{}\n".to_vec())
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "missing_parameter"));
    let (s, e) = app
        .post_raw(
            "/api/v1/import?kind=results",
            "application/pdf",
            b"%PDF".to_vec(),
        )
        .await;
    assert_eq!(
        (s, error_code(&e).as_str()),
        (415, "unsupported_media_type")
    );
    let (s, e) = app
        .post_raw(
            "/api/v1/import?kind=results",
            "application/x-ndjson",
            b"\n\n".to_vec(),
        )
        .await;
    assert_eq!((s, error_code(&e).as_str()), (400, "empty_import"));
    let (s, r) = app
        .post_raw(
            "/api/v1/import?kind=results",
            "application/x-ndjson",
            b"\xff\xfe{}\n".to_vec(),
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(r["errors"][0]["code"], "invalid_encoding");
}

#[tokio::test]
async fn large_import_streams_in_batches() {
    let app = spawn_app().await;
    let n = 3000;
    let lines: Vec<_> = (0..n)
        .map(|i| json!({"external_id": format!("L-{i}"), "title": format!("智能制造产线数字孪生平台 {i}"), "summary": "面向离散制造的数字孪生建模、仿真与优化。".repeat(10)}))
        .collect();
    let (s, r) = app.import_jsonl("results", &lines).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["imported"], n);
    let (_, st) = app.get("/api/v1/admin/index").await;
    assert_eq!(
        (
            st["store"]["results"].as_u64(),
            st["index"]["results"].as_u64(),
            st["behind"].as_i64()
        ),
        (Some(n), Some(n), Some(0))
    );
}
