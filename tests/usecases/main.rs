//! Every route, natively: requests go through the same route table, access
//! rules, use cases and SQL as in the worker, over SQLite with the real
//! migrations (only the D1 backend and the HTTP conversion stay in the shell).

mod alerts;
mod archive;
mod collect;
mod distinct;
mod harness;
mod ingest;
mod numbers;
mod pii;
mod privacy;
mod queue;
mod reads;
mod roles;
mod rollups;
mod writes;
