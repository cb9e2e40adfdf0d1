//! The worker agrees with the shared gateway vectors (the gateway's own tests
//! read the same file), so a header the gateway makes is one the worker accepts.

use funnel::security::signature;
use funnel::trace::accept_trace_id;
use serde::Deserialize;

#[derive(Deserialize)]
struct Vectors {
    signatures: Vec<SignatureVector>,
    trace_ids: Vec<TraceVector>,
}

#[derive(Deserialize)]
struct SignatureVector {
    name: String,
    secret: String,
    timestamp: i64,
    body: String,
    expected_header: String,
}

#[derive(Deserialize)]
struct TraceVector {
    input: String,
    accepted: Option<String>,
}

fn vectors() -> Vectors {
    let text = include_str!("vectors/gateway.json");
    serde_json::from_str(text).expect("tests/vectors/gateway.json parses")
}

#[test]
fn worker_signs_exactly_like_the_vectors() {
    for v in vectors().signatures {
        let header = signature::header_value(v.secret.as_bytes(), v.timestamp, v.body.as_bytes());
        assert_eq!(header, v.expected_header, "{}", v.name);
    }
}

#[test]
fn worker_verifies_every_vector_header_within_the_window() {
    for v in vectors().signatures {
        let ok = signature::verify(
            &v.expected_header,
            v.body.as_bytes(),
            &[v.secret.as_bytes()],
            v.timestamp,
            300,
        );
        assert_eq!(ok, Ok(()), "{}", v.name);
    }
}

#[test]
fn worker_applies_the_same_trace_rule_as_the_gateway() {
    for v in vectors().trace_ids {
        assert_eq!(
            accept_trace_id(&v.input).map(str::to_string),
            v.accepted,
            "{:?}",
            v.input
        );
    }
}
