//! Funnels: ordered steps, declared next to the events they name.
//!
//! A subject (a trace, or a user for steps sent without a trace) reaches step
//! `k` when it has an event of each step `1..=k` at non-decreasing times.

use serde::Serialize;

use super::Text;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct FunnelStep {
    /// The event type that marks this step.
    pub event: &'static str,
    pub label: Text,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Funnel {
    /// The `{name}` of `GET /internal/funnels/{name}`: snake_case.
    pub name: &'static str,
    pub label: Text,
    pub description: Text,
    pub steps: &'static [FunnelStep],
}

pub fn find(name: &str) -> Option<&'static Funnel> {
    FUNNELS.iter().find(|f| f.name == name)
}

pub static FUNNELS: &[Funnel] = &[];
