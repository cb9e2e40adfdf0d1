use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::ingest::batch::plan;
use crate::ingest::normalize::RequestContext;
use crate::security::fingerprint::Fingerprinter;

fn ctx() -> RequestContext<'static> {
    RequestContext {
        received_at: Utc.with_ymd_and_hms(2026, 3, 26, 1, 46, 28).unwrap(),
        clock_skew: chrono::Duration::zero(),
        default_source: "zuplo",
        replay: false,
        browser: false,
        header_trace_id: None,
        fingerprints: Fingerprinter::new(b"test-pepper"),
    }
}

/// A row whose error message pads its serialized size.
fn row(id: &str, pad: usize) -> EventRow {
    EventRow {
        ts: "2026-03-26T01:46:28.000Z".into(),
        occurred_at: None,
        event_type: "app_open".into(),
        service: "pluid".into(),
        source: "zuplo".into(),
        event_id: id.into(),
        trace_id: None,
        tenant_id: Some("t1".into()),
        job_id: None,
        user_id: Some("u1".into()),
        session_id: None,
        anonymous_id: None,
        email_fingerprint: None,
        email_domain: None,
        success: Some(1),
        error_code: None,
        error_message: Some("x".repeat(pad)),
        payload_json: Some(r#"{"a":"é"}"#.into()),
        sample_rate: 0.25,
    }
}

fn parts(messages: &[String]) -> Vec<QueuedPart> {
    messages.iter().map(|m| decode(m).unwrap()).collect()
}

#[test]
fn a_planned_batch_reads_back_with_its_rows_quarantine_and_volume_unchanged() {
    let events = json!([
        {"event_type": "app_open", "event_id": "a", "user_id": "u", "email": "kim@example.com"},
        {"event_type": "app_open", "event_id": "b", "success": false, "error_message": "boom"},
        {"event_type": "no_such_type", "event_id": "c"},
    ]);
    let p = plan(events.as_array().unwrap(), &ctx(), vec![], &mut || "gen".into());
    let messages = encode(&p, "q_1").unwrap();
    assert_eq!(messages.len(), 1);
    let back = decode(&messages[0]).unwrap();
    assert_eq!(back.v, FORMAT_VERSION);
    assert_eq!(back.id, "q_1.0");
    assert_eq!(back.rows, p.rows);
    assert_eq!(back.quarantine, p.quarantine);
    assert_eq!(back.volume, p.volume_rows());
    assert_eq!(back.rows.len(), 2);
    assert_eq!(back.quarantine.len(), 1);
}

#[test]
fn a_message_of_exactly_the_limit_stays_whole_and_one_byte_more_splits_it() {
    let size_with = |pad: usize| {
        let p = Plan::from_queued(vec![row("a", 10), row("b", pad)], Vec::new());
        encode(&p, "q_1").unwrap()
    };
    // Grow the second row until the message is exactly at the limit.
    let base = size_with(0)[0].len();
    let exact = MAX_MESSAGE_BYTES - base;
    let whole = size_with(exact);
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0].len(), MAX_MESSAGE_BYTES);
    let split = size_with(exact + 1);
    assert_eq!(split.len(), 2);
    let split_parts = parts(&split);
    assert_eq!(split_parts[0].rows[0].event_id, "a");
    assert_eq!(split_parts[1].rows[0].event_id, "b");
    assert_eq!(
        (split_parts[0].id.as_str(), split_parts[1].id.as_str()),
        ("q_1.0", "q_1.1")
    );
    assert!(split.iter().all(|m| m.len() <= MAX_MESSAGE_BYTES));
}

#[test]
fn a_big_batch_is_cut_into_messages_under_the_limit_that_together_hold_every_row_once() {
    let rows: Vec<EventRow> = (0..500).map(|i| row(&format!("e{i}"), 1800)).collect();
    let p = Plan::from_queued(rows.clone(), Vec::new());
    let messages = encode(&p, "q_big").unwrap();
    assert!(messages.len() > 5, "{} messages", messages.len());
    assert!(messages.iter().all(|m| m.len() <= MAX_MESSAGE_BYTES));
    let back: Vec<EventRow> = parts(&messages).into_iter().flat_map(|p| p.rows).collect();
    assert_eq!(back, rows);
}

#[test]
fn a_row_larger_than_a_message_cannot_be_queued_but_one_at_the_limit_can() {
    let alone = |pad: usize| encode(&Plan::from_queued(vec![row("a", pad)], Vec::new()), "q_1");
    let base = alone(0).unwrap()[0].len();
    assert_eq!(alone(MAX_MESSAGE_BYTES - base).unwrap()[0].len(), MAX_MESSAGE_BYTES);
    assert!(matches!(
        alone(MAX_MESSAGE_BYTES - base + 1),
        Err(QueuedError::RowTooLarge { .. })
    ));
}

#[test]
fn an_empty_plan_sends_nothing() {
    assert!(encode(&Plan::from_queued(Vec::new(), Vec::new()), "q_1")
        .unwrap()
        .is_empty());
}

#[test]
fn a_message_of_another_version_or_form_is_refused() {
    let p = Plan::from_queued(vec![row("a", 1)], Vec::new());
    let good = encode(&p, "q_1").unwrap().remove(0);
    let v2 = good.replacen("\"v\":1", "\"v\":2", 1);
    assert!(matches!(decode(&v2), Err(QueuedError::Unreadable(why)) if why.contains("version 2")));
    assert!(decode("not json").is_err());
    // A row with a column missing or one too many is another format.
    let short = good.replacen(",0.25]", "]", 1);
    assert!(decode(&short).is_err(), "{short}");
    let long = good.replacen(",0.25]", ",0.25,1]", 1);
    assert!(decode(&long).is_err(), "{long}");
}

#[test]
fn send_calls_hold_at_most_100_messages_and_the_byte_limit_on_both_sides() {
    let small = |n: usize| (0..n).map(|i| format!("m{i}")).collect::<Vec<_>>();
    assert_eq!(send_calls(small(100)).len(), 1);
    let calls = send_calls(small(101));
    assert_eq!(calls.iter().map(Vec::len).collect::<Vec<_>>(), [100, 1]);
    let half = MAX_SEND_BYTES / 2;
    let exact = vec!["a".repeat(half), "b".repeat(MAX_SEND_BYTES - half)];
    assert_eq!(send_calls(exact).len(), 1);
    let over = vec!["a".repeat(half), "b".repeat(MAX_SEND_BYTES - half + 1)];
    assert_eq!(
        send_calls(over.clone()),
        vec![vec![over[0].clone()], vec![over[1].clone()]]
    );
    assert!(send_calls(Vec::new()).is_empty());
}
