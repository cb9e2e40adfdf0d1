//! Read-side results: rows as stored, and the pure computations over them
//! (KPIs, trace timelines, funnels, overview, catalog stats, CSV).

pub mod alerts;
pub mod catalog_stats;
pub mod csv;
pub mod event;
pub mod funnel;
pub mod ga4;
pub mod links;
pub mod money;
pub mod overview;
pub mod quarantine;
pub mod summary;
pub mod timeline;
pub mod usage;
