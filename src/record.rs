//! The stored event, defined once. [`event_record!`] below lists the
//! columns of `funnel_events` (besides `id`) and derives from that one list:
//! - [`EventRow`]: a row to insert, serialized as the JSON array the insert
//!   statements read (element `i` is column `i`);
//! - [`StoredEvent`]: a row read back (decoded by column name), which is also
//!   the event of every API response (serialized by its API names);
//! - the SQL column lists (`event_insert_columns!`, `event_insert_values!`,
//!   `event_select_columns!`) used by `storage::sql`;
//! - the CSV export's header and cells ([`CSV_HEADER`], [`StoredEvent::csv_cells`]);
//! - through the OpenAPI document, the console's type.
//!
//! A test checks the list against the migrations' table.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::query::cursor::Position;

/// `success` in the API: a boolean (stored as 0/1).
fn flag<S: Serializer>(v: &Option<u8>, s: S) -> Result<S::Ok, S::Error> {
    v.map(|x| x != 0).serialize(s)
}

/// `payload_json` in the API: `properties`, an object.
fn properties<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    parse_properties(v.as_deref()).serialize(s)
}

fn parse_properties(raw: Option<&str>) -> Value {
    raw.and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or_else(|| Value::Object(Default::default()))
}

/// How a value looks in a CSV cell.
trait CsvCell {
    fn cell(&self) -> String;
}

impl CsvCell for String {
    fn cell(&self) -> String {
        self.clone()
    }
}

impl CsvCell for Option<String> {
    fn cell(&self) -> String {
        self.clone().unwrap_or_default()
    }
}

/// `success`: true, false or empty.
impl CsvCell for Option<u8> {
    fn cell(&self) -> String {
        self.map_or(String::new(), |s| (s != 0).to_string())
    }
}

impl CsvCell for f64 {
    fn cell(&self) -> String {
        self.to_string()
    }
}

impl CsvCell for i64 {
    fn cell(&self) -> String {
        self.to_string()
    }
}

macro_rules! event_record {
    (
        $(#[$first_meta:meta])* $first_index:literal $first:ident $first_api:literal : $first_ty:ty,
        $( $(#[$meta:meta])* $index:literal $name:ident $api:literal : $ty:ty, )*
    ) => {
        /// A row of `funnel_events` to insert, serialized as one element of the
        /// JSON array the insert statements read: an array in
        /// [`EventRow::COLUMNS`] order (positional elements keep the bound JSON
        /// a third smaller and spare SQLite a key search per column per row).
        #[derive(Debug, Clone, PartialEq)]
        pub struct EventRow {
            pub $first: $first_ty,
            $( pub $name: $ty, )*
        }

        impl EventRow {
            /// The `funnel_events` columns in the order a row is serialized.
            pub const COLUMNS: &'static [&'static str] = &[stringify!($first), $( stringify!($name) ),*];

            /// The row as read back, stored under `id`.
            pub fn stored(&self, id: i64) -> StoredEvent {
                StoredEvent { id, $first: self.$first.clone(), $( $name: self.$name.clone(), )* }
            }
        }

        impl Serialize for EventRow {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeTuple;
                let mut t = serializer.serialize_tuple(Self::COLUMNS.len())?;
                t.serialize_element(&self.$first)?;
                $( t.serialize_element(&self.$name)?; )*
                t.end()
            }
        }

        /// The same array read back: a queued batch carries its rows in this
        /// form until the queue's consumer stores them.
        impl<'de> Deserialize<'de> for EventRow {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Elements;
                impl<'de> serde::de::Visitor<'de> for Elements {
                    type Value = EventRow;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "an array of the {} event columns", EventRow::COLUMNS.len())
                    }

                    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<EventRow, A::Error> {
                        let row = EventRow {
                            $first: seq
                                .next_element()?
                                .ok_or_else(|| serde::de::Error::invalid_length($first_index, &self))?,
                            $( $name: seq
                                .next_element()?
                                .ok_or_else(|| serde::de::Error::invalid_length($index, &self))?, )*
                        };
                        // A longer array is another format: refuse it rather than drop columns.
                        if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                            return Err(serde::de::Error::invalid_length(EventRow::COLUMNS.len() + 1, &self));
                        }
                        Ok(row)
                    }
                }
                deserializer.deserialize_seq(Elements)
            }
        }

        /// An event as stored (decoded by column name) and as every API
        /// response shows it (serialized by its API name: `success` a
        /// boolean, `properties` an object).
        #[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
        pub struct StoredEvent {
            /// The row's id: with `ts`, the order of every list.
            pub id: i64,
            $(#[$first_meta])*
            #[serde(rename(serialize = $first_api))]
            pub $first: $first_ty,
            $(
                $(#[$meta])*
                #[serde(rename(serialize = $api))]
                pub $name: $ty,
            )*
        }

        impl StoredEvent {
            /// The row without its id (what was inserted).
            pub fn row(&self) -> EventRow {
                EventRow { $first: self.$first.clone(), $( $name: self.$name.clone(), )* }
            }

            /// The CSV export's cells, in [`CSV_HEADER`] order.
            pub fn csv_cells(&self) -> Vec<String> {
                vec![self.id.cell(), self.$first.cell(), $( self.$name.cell(), )*]
            }
        }

        /// The CSV export's header row (the API's names).
        pub const CSV_HEADER: &str = concat!("id,", $first_api, $( ",", $api, )* "\r\n");

        /// `ts, occurred_at, ...`: the insert's column list.
        macro_rules! event_insert_columns {
            () => { concat!(stringify!($first), $( ", ", stringify!($name), )*) };
        }

        /// `value ->> 0, value ->> 1, ...`: each column from its element of the row array.
        macro_rules! event_insert_values {
            () => { concat!("value ->> ", $first_index, $( ", value ->> ", $index, )*) };
        }

        /// `id, ts, occurred_at, ...`: what every event read selects.
        macro_rules! event_select_columns {
            () => { concat!("id, ", stringify!($first), $( ", ", stringify!($name), )*) };
        }
    };
}

event_record! {
    /// Server receive time (fixed-width RFC 3339 UTC, so text order is time order).
    0 ts "ts": String,
    /// The sender's time, corrected by the request's clock skew.
    1 occurred_at "occurred_at": Option<String>,
    2 event_type "event_type": String,
    3 service "service": String,
    /// Who sent it (`zuplo` for signed calls, `cp` for bearer calls by default).
    4 source "source": String,
    /// The idempotency key, unique per source.
    5 event_id "event_id": String,
    6 trace_id "trace_id": Option<String>,
    7 tenant_id "tenant_id": Option<String>,
    8 job_id "job_id": Option<String>,
    9 user_id "user_id": Option<String>,
    10 session_id "session_id": Option<String>,
    11 anonymous_id "anonymous_id": Option<String>,
    /// Keyed HMAC-SHA256 of the normalised address: the address itself is never stored.
    12 email_fingerprint "email_fingerprint": Option<String>,
    13 email_domain "email_domain": Option<String>,
    #[serde(serialize_with = "flag")]
    #[schema(value_type = Option<bool>)]
    14 success "success": Option<u8>,
    15 error_code "error_code": Option<String>,
    16 error_message "error_message": Option<String>,
    /// The validated properties.
    #[serde(serialize_with = "properties")]
    #[schema(value_type = Object, rename = "properties")]
    17 payload_json "properties": Option<String>,
    /// The rate its type was sampled at when it was kept; reads weight it by 1/rate.
    18 sample_rate "sample_rate": f64,
}

impl StoredEvent {
    pub fn position(&self) -> Position {
        Position {
            ts: self.ts.clone(),
            id: self.id,
        }
    }

    /// A failure: `success = 0`, an error code, or a type that names a
    /// failure (`…_fail`, `…_failed`) whatever its `success` says.
    pub fn failed(&self) -> bool {
        self.success == Some(0) || self.error_code.is_some() || crate::catalog::is_failure_type(&self.event_type)
    }

    pub fn properties(&self) -> Value {
        parse_properties(self.payload_json.as_deref())
    }

    pub fn into_view(self, bases: &crate::report::links::LinkBases) -> EventView {
        EventView {
            weight: 1.0 / self.sample_rate,
            links: crate::report::links::links_of(&self, bases),
            event: self,
        }
    }
}

/// One event in an API response.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EventView {
    #[serde(flatten)]
    pub event: StoredEvent,
    /// How many events this row stands for (1/sample_rate): summaries add these up.
    pub weight: f64,
    /// Drill-downs: the Stripe Dashboard for a payment, the control plane for a tenant.
    pub links: Vec<crate::report::links::Link>,
}

impl std::ops::Deref for EventView {
    type Target = StoredEvent;

    fn deref(&self) -> &StoredEvent {
        &self.event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_column_lists_follow_the_record() {
        assert_eq!(event_insert_columns!(), EventRow::COLUMNS.join(", "));
        let values: Vec<String> = (0..EventRow::COLUMNS.len()).map(|i| format!("value ->> {i}")).collect();
        assert_eq!(event_insert_values!(), values.join(", "));
        assert_eq!(event_select_columns!(), format!("id, {}", EventRow::COLUMNS.join(", ")));
    }

    #[test]
    fn the_csv_header_names_each_cell_and_uses_the_api_names() {
        assert_eq!(CSV_HEADER.trim_end().split(',').count(), EventRow::COLUMNS.len() + 1);
        assert!(CSV_HEADER.contains(",properties,") && !CSV_HEADER.contains("payload_json"));
    }
}
