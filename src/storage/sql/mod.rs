//! All SQL. Values are always bound (`?1`…), never spliced into the text.
//!
//! Batch inserts read one bound JSON array with `json_each`, so a 500-event
//! batch is one statement with one parameter: far under D1's 100-parameter
//! limit, and one round trip.
//!
//! One module per concern: [`alerts`], [`events`], [`rollups`] (and KPI measures),
//! [`quarantine`], [`quotas`], [`retention`], [`sketches`]. Everything is re-exported here,
//! so a statement is named `sql::NAME` wherever it is used.

/// `INSERT ... SELECT` of the rows in the bound JSON array `$rows`, each an array in
/// [`crate::record::EventRow::COLUMNS`] order (element `i` is column
/// `i`; a test checks the two lists agree). Ends in `WHERE `: each statement
/// adds its own condition.
macro_rules! insert_event_rows {
    ($rows:expr) => {
        concat!(
            "INSERT INTO funnel_events (",
            event_insert_columns!(),
            ") SELECT ",
            event_insert_values!(),
            " FROM json_each(",
            $rows,
            ") WHERE "
        )
    };
}

mod alerts;
mod events;
// First among the statements that guard their inserts with `row_not_suppressed!`.
#[macro_use]
mod privacy;
mod quarantine;
mod queue;
mod quotas;
mod retention;
mod rollups;
mod sketches;

pub use alerts::*;
pub use events::*;
pub use privacy::*;
pub use quarantine::*;
pub use queue::*;
pub use quotas::*;
pub use retention::*;
pub use rollups::*;
pub use sketches::*;

use super::{Bind, Statement};

// Fragments several statements share; every value is a bound `?`.
const RANGE: &str = " WHERE ts >= ? AND ts < ?";
const ONE_TYPE: &str = " AND event_type = ?";
const TYPE_LIST: &str = " AND event_type IN (SELECT value FROM json_each(?))";
const SUCCESS: &str = " AND success = ?";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::normalize::EventRow;

    /// The column list of an insert, and the element index each selected value reads.
    fn columns_and_elements(sql: &str) -> (Vec<String>, Vec<usize>) {
        let open = sql.find('(').unwrap();
        let close = sql[open..].find(')').unwrap() + open;
        let columns = sql[open + 1..close].split(',').map(|c| c.trim().to_string()).collect();
        let select = &sql[sql.find("SELECT ").unwrap() + 7..sql.find(" FROM json_each(?1)").unwrap()];
        let elements = select
            .split(',')
            .map(|e| e.trim().trim_start_matches("value ->> ").parse().unwrap())
            .collect();
        (columns, elements)
    }

    #[test]
    fn every_insert_reads_each_column_from_its_element_of_the_serialized_row() {
        let expected: Vec<String> = EventRow::COLUMNS.iter().map(|c| c.to_string()).collect();
        for sql in [INSERT_EVENTS, INSERT_METERED_EVENT] {
            let (columns, elements) = columns_and_elements(sql);
            assert_eq!(columns, expected);
            assert_eq!(elements, (0..expected.len()).collect::<Vec<_>>());
        }
    }
}
