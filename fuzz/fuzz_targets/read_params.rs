//! A read API's query string: parameters, time range, tz and every list filter.
#![no_main]
use libfuzzer_sys::fuzz_target;

use funnel::query::filter::{EventFilter, LIST_PARAMS};
use funnel::query::params::Params;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // `k=v&k=v`, as a URL parser would hand it over (already decoded).
    let pairs = text.split('&').map(|p| p.split_once('=').unwrap_or((p, "")));
    let Ok(params) = Params::parse(pairs, LIST_PARAMS) else {
        return;
    };
    let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    if let Ok(filter) = EventFilter::parse(&params, now, b"fuzz-pepper") {
        assert!(filter.range.from < filter.range.to);
        let days = filter.range.days();
        assert!(!days.is_empty() && days.len() <= 402);
        let statement = funnel::storage::sql::list_events(&filter, None, 50);
        assert_eq!(statement.sql.matches('?').count(), statement.binds.len());
    }
});
