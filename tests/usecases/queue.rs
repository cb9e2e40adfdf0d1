//! The queue behind ingest: what a batch D1 cannot take becomes, and how the
//! consumer stores it (once, with ingest's statements, volume counted once).

use serde_json::{json, Value};

use super::harness::{compile, config, dump, Service};
use funnel::ingest::queued::{decode, MAX_MESSAGES_PER_SEND, MAX_MESSAGE_BYTES, MAX_SEND_BYTES};
use funnel::usecases::queue::Delivery;

fn open(id: &str) -> Value {
    json!({ "event_type": "app_open", "event_id": id, "user_id": "u1", "tenant_id": "t1" })
}

fn login_fail(id: &str) -> Value {
    json!({ "event_type": "m_auth_login_fail", "event_id": id, "email": "Kim@Example.com",
            "error_code": "otp_expired", "trace_id": "trace_q" })
}

fn statuses(body: &Value) -> Vec<String> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_string())
        .collect()
}

fn volume(s: &Service) -> Vec<Vec<String>> {
    dump(s, "event_volume")
}

fn stored(s: &Service) -> usize {
    s.list_all("").len()
}

#[test]
fn a_batch_d1_cannot_take_is_queued_answered_202_and_stored_by_the_consumer() {
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    let answer = s.ingest(json!([open("q-1"), login_fail("q-2"), open("q-1")]));
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(statuses(&answer.body), ["queued", "queued", "duplicate"]);
    assert_eq!(
        (answer.body["processed"].clone(), answer.body["failed"].clone()),
        (json!(3), json!(0))
    );
    assert_eq!(answer.body["success"], true);
    assert_eq!(stored(&s), 0, "nothing is stored before the consumer runs");
    let deliveries = s.drain_queue();
    assert_eq!(
        deliveries,
        [Delivery::Stored {
            inserted: 2,
            rows: 2,
            volume_counted: true
        }]
    );
    assert_eq!(stored(&s), 2);
    let again = s.ingest(json!([open("q-1")]));
    assert_eq!(
        (again.status, statuses(&again.body)),
        (200, vec!["duplicate".to_string()])
    );
}

#[test]
fn a_queued_batch_is_stored_exactly_as_a_direct_write_would_have_stored_it() {
    let batch = json!([open("s-1"), login_fail("s-2"), { "event_type": "no_such_type", "event_id": "s-3" },
                       { "event_type": "purchase_completed", "event_id": "s-4", "service": "presstuner",
                         "user_id": "team-1", "properties": { "amount": 4200, "currency": "KRW", "plan": "pro" } }]);
    let direct = Service::new();
    let direct_answer = direct.ingest(batch.clone());
    assert_eq!(direct_answer.status, 200, "{:?}", direct_answer.body);
    let queued = Service::with_queue(config(&[]));
    queued.db().fail_next(1);
    let queued_answer = queued.ingest(batch);
    assert_eq!(queued_answer.status, 202, "{:?}", queued_answer.body);
    assert!(queued.drain_queue().iter().all(Delivery::is_done));
    for table in [
        "funnel_events",
        "event_quarantine",
        "event_volume",
        "event_rollup",
        "property_rollup",
        "currency_rollup",
        "sketch_parts",
    ] {
        assert_eq!(dump(&queued, table), dump(&direct, table), "{table}");
    }
    assert!(!dump(&direct, "funnel_events").is_empty());
    assert!(!dump(&direct, "event_quarantine").is_empty());
}

#[test]
fn a_metered_event_keeps_the_503_and_nothing_of_its_batch_is_queued() {
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    let answer = s.ingest(json!([open("m-1"), compile("m-2", "u1")]));
    assert_eq!((answer.status, answer.code()), (503, "storage_unavailable"));
    assert_eq!(answer.reply.header("retry-after"), Some("5"));
    assert!(s.spool().calls().is_empty());
}

#[test]
fn when_the_queue_refuses_too_the_answer_is_a_503_and_nothing_is_kept() {
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    s.spool().fail_next(1);
    let answer = s.ingest(json!([open("r-1")]));
    assert_eq!((answer.status, answer.code()), (503, "storage_unavailable"));
    assert!(s.spool().calls().is_empty());
    assert_eq!(stored(&s), 0);
}

#[test]
fn a_redelivered_message_stores_its_events_once_and_counts_its_volume_once() {
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    assert_eq!(s.ingest(json!([open("d-1"), open("d-2")])).status, 202);
    let messages = s.spool().drain();
    assert_eq!(messages.len(), 1);
    let first = s.deliver(&messages[0]);
    let again = s.deliver(&messages[0]);
    assert_eq!(
        (first, again),
        (
            Delivery::Stored {
                inserted: 2,
                rows: 2,
                volume_counted: true
            },
            Delivery::Stored {
                inserted: 0,
                rows: 2,
                volume_counted: false
            }
        )
    );
    assert_eq!(stored(&s), 2);
    assert_eq!(volume(&s), [["2026-03-10", "app_open", "2", "2"]]);
}

#[test]
fn a_message_the_database_refuses_is_retried_and_a_later_delivery_stores_it() {
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    assert_eq!(s.ingest(json!([open("t-1")])).status, 202);
    let messages = s.spool().drain();
    s.db().fail_next(1);
    let refused = s.deliver(&messages[0]);
    assert!(matches!(refused, Delivery::Retry(_)), "{refused:?}");
    assert!(!refused.is_done());
    assert_eq!(stored(&s), 0);
    assert!(s.deliver(&messages[0]).is_done());
    assert_eq!(stored(&s), 1);
}

#[test]
fn when_only_the_volume_step_fails_the_retry_counts_the_volume_once_and_stores_no_row_twice() {
    let reference = Service::new();
    reference.ingest(json!([open("v-1"), open("v-2")]));
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    assert_eq!(s.ingest(json!([open("v-1"), open("v-2")])).status, 202);
    let messages = s.spool().drain();
    s.db().fail_after(1); // the rows' transaction passes, the volume's fails
    assert!(matches!(s.deliver(&messages[0]), Delivery::Retry(_)));
    assert_eq!(stored(&s), 2);
    assert!(volume(&s).is_empty());
    assert_eq!(
        s.deliver(&messages[0]),
        Delivery::Stored {
            inserted: 0,
            rows: 2,
            volume_counted: true
        }
    );
    assert_eq!(volume(&s), volume(&reference));
    assert_eq!(stored(&s), 2);
}

#[test]
fn a_message_that_is_not_the_queue_format_is_never_acknowledged() {
    let s = Service::with_queue(config(&[]));
    for garbage in ["", "{}", "{\"v\":9,\"id\":\"x\"}", "[1,2]"] {
        let d = s.deliver(garbage);
        assert!(matches!(d, Delivery::Unreadable(_)), "{garbage}: {d:?}");
        assert!(!d.is_done());
    }
}

#[test]
fn rejected_events_of_a_queued_batch_reach_the_quarantine_once_the_consumer_runs() {
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    let answer = s.ingest(
        json!([open("j-1"), { "event_type": "m_auth_login_fail", "event_id": "j-2", "email": "lee@example.com" }]),
    );
    assert_eq!(answer.status, 202, "{:?}", answer.body);
    assert_eq!(statuses(&answer.body), ["queued", "rejected"]);
    assert_eq!(answer.body["success"], false);
    let pending = |s: &Service| s.get("/internal/quarantine").body["events"].as_array().unwrap().len();
    assert_eq!(pending(&s), 0);
    s.drain_queue();
    assert_eq!(pending(&s), 1);
    let messages_text = format!("{:?}", dump(&s, "event_quarantine"));
    assert!(!messages_text.contains("lee@"), "{messages_text}");
}

#[test]
fn a_batch_of_only_rejected_events_is_still_a_422_while_its_copies_are_queued() {
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    let answer = s.ingest(json!([{ "event_type": "no_such_type", "event_id": "k-1" }]));
    assert_eq!((answer.status, answer.code()), (422, "all_events_rejected"));
    assert_eq!(s.spool().calls().len(), 1);
    s.drain_queue();
    assert_eq!(dump(&s, "event_quarantine").len(), 1);
}

#[test]
fn no_queued_message_holds_a_raw_address() {
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    s.ingest(json!([login_fail("p-1"), { "event_type": "m_auth_login_fail", "event_id": "p-2", "email": "park@example.com" }]));
    for call in s.spool().calls() {
        for m in call {
            assert!(
                !m.to_lowercase().contains("kim@example.com") && !m.contains("park@"),
                "{m}"
            );
        }
    }
}

#[test]
fn the_biggest_batch_is_queued_in_messages_and_calls_within_the_limits_and_stored_whole() {
    let s = Service::with_queue(config(&[]));
    s.db().fail_next(1);
    // 500 events near the 1 MiB body limit: several messages, several calls.
    let events: Vec<Value> = (0..500)
        .map(|i| {
            json!({ "event_type": "app_open", "event_id": format!("big-{i}"), "user_id": "u1",
                         "success": false, "error_code": "x", "error_message": "e".repeat(500) })
        })
        .collect();
    let answer = s.ingest(Value::Array(events));
    assert_eq!(answer.status, 202, "{:?}", answer.body["errors"]);
    let calls = s.spool().calls();
    assert!(calls.len() > 1, "{} calls", calls.len());
    for call in &calls {
        assert!(call.len() <= MAX_MESSAGES_PER_SEND);
        assert!(call.iter().map(String::len).sum::<usize>() <= MAX_SEND_BYTES);
        assert!(call.iter().all(|m| m.len() <= MAX_MESSAGE_BYTES));
    }
    let ids: Vec<String> = calls.iter().flatten().map(|m| decode(m).unwrap().id).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "every message has its own id");
    assert!(s.drain_queue().iter().all(Delivery::is_done));
    assert_eq!(stored(&s), 500);
}

#[test]
fn in_queue_mode_an_unmetered_batch_is_queued_at_once_and_a_metered_one_is_written() {
    let s = Service::with_queue(config(&[("INGEST_MODE", "queue")]));
    let answer = s.ingest(json!([open("i-1")]));
    assert_eq!(
        (answer.status, statuses(&answer.body)),
        (202, vec!["queued".to_string()])
    );
    assert_eq!(stored(&s), 0);
    let metered = s.ingest(json!([open("i-2"), compile("i-3", "u1")]));
    assert_eq!(
        (metered.status, statuses(&metered.body)),
        (200, vec!["accepted".to_string(), "accepted".to_string()])
    );
    assert_eq!(stored(&s), 2);
    s.drain_queue();
    assert_eq!(stored(&s), 3);
}

#[test]
fn in_queue_mode_a_batch_sent_twice_is_queued_twice_and_stored_once() {
    let s = Service::with_queue(config(&[("INGEST_MODE", "queue")]));
    for _ in 0..2 {
        assert_eq!(s.ingest(json!([open("w-1"), open("w-2")])).status, 202);
    }
    let deliveries = s.drain_queue();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(stored(&s), 2);
}

#[test]
fn without_a_queue_bound_queue_mode_writes_to_d1() {
    let s = Service::with_config(config(&[("INGEST_MODE", "queue")]));
    let answer = s.ingest(json!([open("n-1")]));
    assert_eq!(
        (answer.status, statuses(&answer.body)),
        (200, vec!["accepted".to_string()])
    );
}
