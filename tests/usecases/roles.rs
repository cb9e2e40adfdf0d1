//! Every route × every role × no key and a wrong key: what the route table
//! says each route needs is what the service enforces.

use super::harness::{config, Service, KEY};
use funnel::api::routes::{Access, ROUTES};
use funnel::security::keys::{self, Role};

const INGEST_KEY: &str = "ingest-key-0123";
const READ_KEY: &str = "read-key-4567";
const ADMIN_KEY: &str = "admin-key-89ab";

fn service() -> Service {
    let line = |name: &str, role: &str, key: &str| format!("{name}:{role}:{}", hex::encode(keys::digest(key)));
    let api_keys = [
        line("cp", "ingest", INGEST_KEY),
        line("support", "read", READ_KEY),
        line("ops", "admin", ADMIN_KEY),
    ]
    .join("\n");
    Service::with_config(config(&[("API_KEYS", &api_keys)]))
}

fn path_for(template: &str) -> String {
    template
        .replace("{trace_id}", "trace_0")
        .replace("{name}", "auth_commerce")
        .replace("{*path}", "x")
}

#[test]
fn every_route_answers_each_role_as_the_route_table_says() {
    let s = service();
    let mut checked = 0;
    for route in ROUTES {
        let path = path_for(route.path);
        let call = |authorization: Option<String>| {
            let mut headers = vec![("content-type", "application/json".to_string())];
            if let Some(a) = authorization {
                headers.push(("authorization", a));
            }
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.send(route.method, &path, &headers, b"{}")
        };
        let bearer = |k: &str| Some(format!("Bearer {k}"));
        let what = format!("{} {}", route.method.as_str(), route.path);
        let none = call(None);
        let wrong = call(bearer("not-a-key"));
        let by_role = [
            (Role::Ingest, call(bearer(INGEST_KEY))),
            (Role::Read, call(bearer(READ_KEY))),
            (Role::Admin, call(bearer(ADMIN_KEY))),
            (Role::Admin, call(bearer(KEY))),
        ];
        let needed = match route.access {
            Access::Public => {
                for answer in [&none, &wrong] {
                    assert!(
                        ![401, 403].contains(&answer.status),
                        "{what}: public, got {}",
                        answer.status
                    );
                }
                continue;
            }
            Access::Bench => {
                assert_eq!(none.status, 404, "{what}");
                continue;
            }
            // No bearer key of any role opens browser collection: only a publishable key does.
            Access::Publishable => {
                for answer in [&none, &wrong].into_iter().chain(by_role.iter().map(|(_, a)| a)) {
                    assert_eq!((answer.status, answer.code()), (401, "bad_publishable_key"), "{what}");
                }
                continue;
            }
            Access::Key(role) => Some(role),
            Access::SignedOrKey => Some(Role::Ingest),
            Access::AnyKey => None,
        };
        assert_eq!((none.status, none.code()), (401, "missing_credentials"), "{what}");
        assert_eq!((wrong.status, wrong.code()), (401, "bad_key"), "{what}");
        for (role, answer) in &by_role {
            if needed.is_none_or(|n| role.allows(n)) {
                assert!(
                    ![401, 403].contains(&answer.status),
                    "{what} as {role:?}: {:?}",
                    answer.body
                );
            } else {
                assert_eq!(
                    (answer.status, answer.code()),
                    (403, "insufficient_scope"),
                    "{what} as {role:?}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 18, "every keyed route was walked ({checked})");
}

#[test]
fn a_read_key_reads_but_cannot_override_a_quota_and_an_ingest_key_only_sends() {
    let s = service();
    let read = |path: &str, key: &str| {
        s.send(
            funnel::api::Method::Get,
            path,
            &[("authorization", &format!("Bearer {key}"))],
            b"",
        )
    };
    assert_eq!(read("/internal/funnel-events", READ_KEY).status, 200);
    assert_eq!(read("/internal/funnel-events", INGEST_KEY).code(), "insufficient_scope");
    let body = br#"{"subject_kind":"user","subject_id":"u","action":"compile","monthly_limit":1}"#;
    let put = |key: &str| {
        s.send(
            funnel::api::Method::Put,
            "/internal/quotas/overrides",
            &[
                ("authorization", &format!("Bearer {key}")),
                ("content-type", "application/json"),
            ],
            body,
        )
    };
    assert_eq!(put(READ_KEY).code(), "insufficient_scope");
    assert_eq!(put(ADMIN_KEY).status, 200);
    let events = br#"{"events":[{"event_type":"m_otp_send","event_id":"k1"}]}"#;
    let ingest = s.send(
        funnel::api::Method::Post,
        "/internal/funnel-events/ingest",
        &[
            ("authorization", &format!("Bearer {INGEST_KEY}")),
            ("content-type", "application/json"),
        ],
        events,
    );
    assert_eq!(ingest.body["results"][0]["status"], "accepted", "{:?}", ingest.body);
    let detail = read("/api/overview", INGEST_KEY).body["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("ingest") && detail.contains("read") && !detail.contains(INGEST_KEY));
}
