//! `POST /api/v1/import?kind=...`: streaming bulk import.

use crate::error::ApiError;
use crate::extract::Params;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use duijie_app::App;
use duijie_app::AppError;
use duijie_app::Code;
use duijie_app::import::{self, Format, Source};
use duijie_app::listings::Entity;
use futures_util::TryStreamExt;
use tokio::io::AsyncWriteExt;

pub fn router() -> Router<App> {
    Router::new().route("/import", post(import_handler))
}

async fn import_handler(
    State(ctx): State<App>,
    mut p: Params,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let kind = p.str("kind").ok_or_else(|| {
        ApiError::bad_request(
            Code::MISSING_PARAMETER,
            "缺少参数 kind（results、needs、experts 或 organizations）",
            "parameter kind is required: results, needs, experts or organizations",
        )
    })?;
    let entity = Entity::parse(&kind).ok_or_else(|| {
        ApiError::bad_request(
            Code::INVALID_PARAMETER,
            format!("kind“{kind}”无效，可选：results, needs, experts, organizations"),
            format!("kind '{kind}' is not one of: results, needs, experts, organizations"),
        )
    })?;
    p.finish()?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = Format::from_content_type(ct).ok_or_else(|| {
        AppError::UnsupportedMediaType(format!(
            "不支持的内容类型“{ct}”，请使用 application/x-ndjson、text/csv 或 XLSX / unsupported Content-Type '{ct}': use application/x-ndjson (JSONL), text/csv (header row) or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        ))
    })?;
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let (source, _tmp) = if format == Format::Xlsx {
        // XLSX needs random access: spool the upload to a temporary file in the data directory
        let tmp = tempfile::Builder::new()
            .prefix("import-")
            .suffix(".xlsx")
            .tempfile_in(&ctx.settings.data.dir)
            .map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
        let mut file = tokio::fs::File::create(tmp.path())
            .await
            .map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
        let mut reader = reader;
        tokio::io::copy(&mut reader, &mut file).await.map_err(|e| {
            ApiError::bad_request(
                Code::READ_FAILED,
                format!("读取上传内容失败：{e}"),
                format!("could not read the upload: {e}"),
            )
        })?;
        file.flush()
            .await
            .map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
        (Source::XlsxFile(tmp.path().to_path_buf()), Some(tmp))
    } else {
        (
            Source::Reader(Box::new(tokio_util::io::SyncIoBridge::new(reader))),
            None,
        )
    };
    let summary = import::run(&ctx, entity, format, source, |_| {}).await?;
    let status = if summary.failed == 0 {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut body = serde_json::to_value(&summary).map_err(|e| AppError::Internal(e.to_string()))?;
    if summary.failed > 0 {
        // a partly failed import is a client error, but it still reports what was kept
        body["error"] = serde_json::json!({
            "code": duijie_app::Code::IMPORT_ROWS_FAILED.code,
            "message": format!(
                "{} 行导入失败，其余 {} 行已保存，详见 errors / {} lines failed, the other {} were saved; see errors",
                summary.failed, summary.imported + summary.updated, summary.failed, summary.imported + summary.updated
            ),
        });
    }
    Ok((status, Json(body)).into_response())
}
