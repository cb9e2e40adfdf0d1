//! Read-side requests: query parameters parsed into typed filters, time ranges
//! with IANA day boundaries, and opaque tamper-evident cursors.
//!
//! Every bad value becomes [`crate::error::AppError::InvalidParameter`] naming
//! the parameter; nothing here touches storage.

pub mod cursor;
pub mod filter;
pub mod params;
pub mod range;

use crate::error::AppError;

/// A 400 that names the parameter.
pub(crate) fn bad(param: &str, code: &'static str, detail: impl Into<String>) -> AppError {
    AppError::InvalidParameter {
        code,
        param: param.to_string(),
        detail: detail.into(),
    }
}
