//! A native service: SQLite store, test secrets, a fixed clock, and
//! requests through `funnel::api` exactly as the worker sends them.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use funnel::api::reply::{Body, Reply};
use funnel::api::{self, ApiRequest, App, Method};
use funnel::archive::MemoryArchive;
use funnel::config::Config;
use funnel::record::EventRow;
use funnel::security::signature;
use funnel::spool::MemorySpool;
use funnel::storage::sqlite::Sqlite;
use funnel::storage::SqlStore;
use funnel::usecases::queue::{self, Delivery};
use std::rc::Rc;

pub const KEY: &str = "internal-key";
pub const HMAC: &str = "hmac-secret";

pub fn config(extra: &[(&str, &str)]) -> Config {
    let mut vars = vec![
        ("INTERNAL_API_KEY", KEY),
        ("INGEST_HMAC_SECRET", HMAC),
        ("EMAIL_FINGERPRINT_KEY", "fingerprint-key"),
    ];
    vars.extend_from_slice(extra);
    Config::from_lookup(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())).unwrap()
}

/// 2026-03-10 12:00 UTC: every test's "now".
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

pub struct Service {
    pub app: App<SqlStore<Sqlite>>,
    /// The queue behind ingest, when the service has one ([`Service::with_queue`]).
    pub queue: Option<Rc<MemorySpool>>,
    /// The archive bucket (in memory), also bound in `app`.
    pub archive: Rc<MemoryArchive>,
}

/// A reply with its body parsed.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub reply: Reply,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl Service {
    pub fn new() -> Service {
        Service::with_config(config(&[]))
    }

    pub fn with_config(config: Config) -> Service {
        let archive = Rc::new(MemoryArchive::new());
        Service {
            app: App {
                store: SqlStore::new(Sqlite::migrated()),
                config: Some(config),
                now: now(),
                spool: None,
                limiter: None,
                archive: Some(archive.clone()),
            },
            queue: None,
            archive,
        }
    }

    /// A service whose ingest has a queue (in memory) behind it.
    pub fn with_queue(config: Config) -> Service {
        let queue = Rc::new(MemorySpool::new());
        let mut s = Service::with_config(config);
        s.app.spool = Some(Box::new(queue.clone()));
        s.queue = Some(queue);
        s
    }

    pub fn spool(&self) -> &MemorySpool {
        self.queue.as_deref().expect("a service made with_queue")
    }

    /// Runs the queue's consumer over every message sent so far, as the
    /// worker's would: each message once, in order.
    pub fn drain_queue(&self) -> Vec<Delivery> {
        self.spool().drain().iter().map(|m| self.deliver(m)).collect()
    }

    /// Delivers one message to the consumer.
    pub fn deliver(&self, message: &str) -> Delivery {
        pollster::block_on(queue::deliver(&self.app.store, message, self.app.now))
    }

    pub fn db(&self) -> &Sqlite {
        self.app.store.backend()
    }

    /// Sends a request as the worker would (body-size rule included).
    pub fn send(&self, method: Method, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        self.send_to(method, target, headers, body, "funnel.example")
    }

    pub fn send_to(&self, method: Method, target: &str, headers: &[(&str, &str)], body: &[u8], host: &str) -> Answer {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let req = ApiRequest {
            path: path.to_string(),
            query: query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: body.to_vec(),
            host: Some(host.to_string()),
        };
        // Refusals before the route runs leave as the worker's do (CORS on /collect included).
        let refuse = |e: &funnel::error::AppError| api::dispatch::refuse_request(self.app.config.as_ref(), &req, e);
        let reply = match api::dispatch::route(method, path) {
            Err(e) => refuse(&e),
            // As the worker: a route without a body limit never reads the body.
            Ok((route, captures)) if route.max_body == 0 => {
                let req = ApiRequest {
                    body: Vec::new(),
                    ..req
                };
                pollster::block_on(api::handle(&self.app, route, &captures, &req))
            }
            Ok((route, captures)) => match api::dispatch::check_body_size(route, None, Some(body.len())) {
                Err(e) => refuse(&e),
                Ok(()) => pollster::block_on(api::handle(&self.app, route, &captures, &req)),
            },
        };
        let body = match &reply.body {
            Body::Bytes(b) if !b.is_empty() => serde_json::from_slice(b).unwrap_or(Value::Null),
            _ => Value::Null,
        };
        Answer {
            status: reply.status,
            body,
            reply,
        }
    }

    pub fn get(&self, target: &str) -> Answer {
        self.send(Method::Get, target, &[("authorization", &format!("Bearer {KEY}"))], b"")
    }

    pub fn with_key(&self, method: Method, target: &str, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap();
        self.send(
            method,
            target,
            &[
                ("authorization", &format!("Bearer {KEY}")),
                ("content-type", "application/json"),
            ],
            &bytes,
        )
    }

    /// A batch signed as the gateway signs it.
    pub fn ingest_signed(&self, events: Value) -> Answer {
        let body = serde_json::to_vec(&json!({ "events": events })).unwrap();
        let signature = signature::header_value(HMAC.as_bytes(), self.app.now.timestamp(), &body);
        self.send(
            Method::Post,
            "/internal/funnel-events/ingest",
            &[("x-funnel-signature", &signature), ("content-type", "application/json")],
            &body,
        )
    }

    /// A batch sent with the control plane's bearer key.
    pub fn ingest(&self, events: Value) -> Answer {
        self.with_key(
            Method::Post,
            "/internal/funnel-events/ingest",
            &json!({ "events": events }),
        )
    }

    /// The whole body of an export answer, pulling every page as the worker's stream does.
    pub fn drain_export(&self, answer: Answer) -> String {
        let Body::Export(mut plan) = answer.reply.body else {
            panic!("the export is streamed: {:?}", answer.body);
        };
        let mut out = String::from_utf8(std::mem::take(&mut plan.first)).unwrap();
        while let Some(chunk) =
            pollster::block_on(funnel::usecases::events::export_next(&self.app.store, &mut plan)).unwrap()
        {
            out.push_str(&String::from_utf8(chunk).unwrap());
        }
        out
    }

    /// Every event the list returns for `query` (all pages).
    pub fn list_all(&self, query: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut target = format!("/internal/funnel-events?limit=3&{query}");
            if let Some(c) = &cursor {
                target.push_str(&format!("&cursor={c}"));
            }
            let page = self.get(&target);
            assert_eq!(page.status, 200, "{:?}", page.body);
            events.extend(page.body["events"].as_array().unwrap().iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return events,
            }
        }
    }
}

fn decode(s: &str) -> String {
    funnel::query::params::percent_decode(&s.replace('+', " ")).unwrap_or_default()
}

/// A compile_prompt event (metered: the free plan allows 20 a month).
pub fn compile(id: &str, user: &str) -> Value {
    json!({ "event_type": "compile_prompt", "event_id": id, "user_id": user,
            "properties": { "prompt_id": "p1", "model_type": "gpt-4" } })
}

impl Service {
    /// One action's line of a user's monthly usage.
    pub fn usage_line(&self, user: &str, action: &str) -> Value {
        let usage = self.get(&format!("/internal/usage?user_id={user}"));
        assert_eq!(usage.status, 200, "{:?}", usage.body);
        let line = usage.body["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["action"] == action)
            .cloned();
        line.unwrap_or_else(|| panic!("no {action} line in {:?}", usage.body))
    }
}

/// An event row as an older release could have stored it: nothing checked, nothing scrubbed.
pub fn old_row(id: &str, ts: &str, event_type: &str, error_message: Option<&str>, properties: Value) -> EventRow {
    let service = funnel::catalog::find(event_type).map_or("pluid", |d| d.service);
    EventRow {
        ts: ts.into(),
        occurred_at: None,
        event_type: event_type.into(),
        service: service.into(),
        source: "cp".into(),
        event_id: id.into(),
        trace_id: None,
        tenant_id: None,
        job_id: None,
        user_id: Some("u1".into()),
        session_id: None,
        anonymous_id: None,
        email_fingerprint: None,
        email_domain: None,
        success: None,
        error_code: None,
        error_message: error_message.map(str::to_string),
        payload_json: Some(properties.to_string()),
        sample_rate: 1.0,
    }
}

/// Writes rows with ingest's insert and rollup statements and no checks at all
/// (no scrubbing: rows as an older release stored them).
pub fn store_unchecked(db: &Sqlite, rows: &[EventRow]) {
    use funnel::storage::sql;
    let conn = db.connection();
    // Before migration 0015, triggers rolled every inserted row up.
    let batch_rollups: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'rollup_mark'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    for chunk in funnel::storage::json_chunks(rows, funnel::storage::MAX_BOUND_JSON_BYTES).unwrap() {
        if batch_rollups {
            conn.execute(sql::MARK_NEW_ROWS, []).unwrap();
        }
        conn.query_row(sql::INSERT_EVENTS, [chunk], |_| Ok(())).unwrap();
        for s in sql::ROLL_UP_NEW_ROWS.iter().filter(|_| batch_rollups) {
            conn.execute(s, []).unwrap();
        }
    }
}

/// Every row of a table (without its `id`), in a stable order; reals to six decimals
/// (sums of the same numbers in another order may differ in the last bits).
pub fn dump(s: &Service, table: &str) -> Vec<Vec<String>> {
    use rusqlite::types::ValueRef;
    let conn = s.db().connection();
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
    let names: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let mut rows: Vec<Vec<String>> = stmt
        .query_map([], |r| {
            Ok(names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.as_str() != "id")
                .map(|(i, _)| match r.get_ref(i).unwrap() {
                    ValueRef::Null => "NULL".to_string(),
                    ValueRef::Integer(n) => n.to_string(),
                    ValueRef::Real(f) => format!("{f:.6}"),
                    ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
                })
                .collect())
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.sort();
    rows
}

/// The single integer a query answers.
pub fn count(s: &Service, sql: &str) -> i64 {
    s.db().connection().query_row(sql, [], |r| r.get(0)).unwrap()
}
