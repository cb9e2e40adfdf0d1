//! The ingest benchmark's floor (`POST /bench/floor`): D1's own cost. Writes
//! the rows it is given (a JSON array of prepared event rows) with the same
//! statement ingest uses, and does nothing else: no auth, no validation.
//! The route exists only with `BENCH_ROUTES = "1"` on a loopback host.

use serde::Serialize;

use crate::error::{AppError, AppResult};
use crate::store::EventStore;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FloorWrite {
    pub inserted: usize,
}

pub async fn floor<S: EventStore>(store: &S, raw: &[u8]) -> AppResult<FloorWrite> {
    let rows = String::from_utf8(raw.to_vec()).map_err(|_| AppError::InvalidBody("The body is not UTF-8.".into()))?;
    Ok(FloorWrite {
        inserted: store.write_prepared_rows(rows).await?,
    })
}
