//! Money in its currency: sums of amounts kept apart per currency, never
//! added across currencies (no exchange rate is known here). Won comes first,
//! the console's main currency; the others follow in code order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The currency of an amount sent without `properties.currency` (the
/// dictionaries' default). Migration 0014's triggers use the same literal.
pub const DEFAULT_CURRENCY: &str = "KRW";

/// A row of a per-currency statement (`storage::sql::money_measure`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MoneyRow {
    pub currency: String,
    /// Σ amount / sample_rate.
    pub amount: f64,
    /// Non-zero when sampled rows took part.
    #[serde(default)]
    pub estimated: i64,
}

/// One currency's sum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CurrencyAmount {
    /// ISO 4217 code (`KRW`, `USD`, `EUR`, `JPY`).
    pub currency: String,
    /// In the currency's own unit, rounded to two decimals.
    pub amount: f64,
}

/// Per-currency sums of rows (several statements' rows may repeat a
/// currency): won first, always present (0 when nothing was paid in won),
/// then every other currency with a non-zero sum, in code order.
pub fn per_currency<'a>(rows: impl IntoIterator<Item = &'a MoneyRow>) -> Vec<CurrencyAmount> {
    let mut sums: BTreeMap<&str, f64> = BTreeMap::new();
    for r in rows {
        *sums.entry(r.currency.as_str()).or_default() += r.amount;
    }
    let won = sums.remove(DEFAULT_CURRENCY).unwrap_or(0.0);
    std::iter::once((DEFAULT_CURRENCY, won))
        .chain(sums.into_iter().filter(|(_, a)| round2(*a) != 0.0))
        .map(|(currency, amount)| CurrencyAmount {
            currency: currency.to_string(),
            amount: round2(amount),
        })
        .collect()
}

/// Adds per-currency lists (e.g. every service's revenue) currency by currency.
pub fn add(lists: &[Vec<CurrencyAmount>]) -> Vec<CurrencyAmount> {
    let rows: Vec<MoneyRow> = lists
        .iter()
        .flatten()
        .map(|c| MoneyRow {
            currency: c.currency.clone(),
            amount: c.amount,
            estimated: 0,
        })
        .collect();
    per_currency(&rows)
}

/// Two decimals (the dictionary's number precision), without float noise.
fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(currency: &str, amount: f64) -> MoneyRow {
        MoneyRow {
            currency: currency.into(),
            amount,
            estimated: 0,
        }
    }

    fn pairs(list: &[CurrencyAmount]) -> Vec<(&str, f64)> {
        list.iter().map(|c| (c.currency.as_str(), c.amount)).collect()
    }

    #[test]
    fn each_currency_is_summed_apart_with_won_first() {
        let rows = [
            row("USD", 10.1),
            row("KRW", 29_000.0),
            row("EUR", 5.0),
            row("USD", 0.2),
            row("KRW", 1_000.0),
            row("JPY", 500.0),
        ];
        assert_eq!(
            pairs(&per_currency(&rows)),
            [("KRW", 30_000.0), ("EUR", 5.0), ("JPY", 500.0), ("USD", 10.3)]
        );
    }

    #[test]
    fn won_is_present_at_zero_and_other_empty_currencies_are_left_out() {
        assert_eq!(pairs(&per_currency(&[])), [("KRW", 0.0)]);
        assert_eq!(
            pairs(&per_currency(&[row("USD", 4.0), row("USD", -4.0), row("EUR", 1.0)])),
            [("KRW", 0.0), ("EUR", 1.0)]
        );
    }

    #[test]
    fn lists_add_currency_by_currency() {
        let a = per_currency(&[row("KRW", 100.0), row("USD", 1.5)]);
        let b = per_currency(&[row("USD", 2.0), row("JPY", 300.0)]);
        assert_eq!(pairs(&add(&[a, b])), [("KRW", 100.0), ("JPY", 300.0), ("USD", 3.5)]);
    }
}
