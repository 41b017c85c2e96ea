//! Full-text search over the index: the request is parsed at the edge (the server's query
//! parameters, the command line), the search itself runs off the async runtime.

use crate::app::App;
use crate::error::AppError;
pub use duijie_index::{SearchRequest, SearchResponse};

/// Searches the index.
pub async fn search(ctx: &App, req: SearchRequest) -> Result<SearchResponse, AppError> {
    let index = ctx.index.clone();
    Ok(tokio::task::spawn_blocking(move || index.search(&req)).await??)
}
