//! The generated documents are committed and must equal what the code
//! renders, so CI (`cargo test`) catches a change without its documentation:
//! - `docs/events.md`, from the catalog (`funnel::catalog::docs`);
//! - `docs/catalog.json`, the catalog's declarations as JSON (clients/js's types);
//! - `docs/openapi.json`, from the route table and the response types
//!   (`funnel::api::openapi`), the same document `GET /openapi.json` serves.
//!
//! `UPDATE_DOCS=1 cargo test --test docs_current` rewrites both instead.

use std::path::PathBuf;

use funnel::catalog::docs::{catalog_json, events_markdown, REGENERATE};

fn doc(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs").join(name)
}

/// Fails with the first differing line unless `docs/<name>` holds `rendered`.
fn assert_committed(name: &str, rendered: &str, source: &str) {
    let path = doc(name);
    if std::env::var("UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, rendered).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    // A checkout with CRLF line endings holds the same document.
    let committed = match std::fs::read_to_string(&path) {
        Ok(text) => text.replace("\r\n", "\n"),
        Err(e) => panic!("cannot read {}: {e}\nGenerate it with: {REGENERATE}", path.display()),
    };
    if committed == rendered {
        return;
    }
    let end = "<end of file>";
    let lines = committed.lines().count().max(rendered.lines().count());
    let (line, expected, found) = committed
        .lines()
        .chain(std::iter::repeat(end))
        .zip(rendered.lines().chain(std::iter::repeat(end)))
        .take(lines)
        .enumerate()
        .find(|(_, (c, r))| c != r)
        .map_or(
            (lines, "(ends in one newline)", "(other line endings)"),
            |(i, (c, r))| (i + 1, r, c),
        );
    panic!(
        "docs/{name} is not what {source} renders (first difference at line {line}:\n  \
         rendered:  {expected}\n  committed: {found})\nRegenerate it with: {REGENERATE}"
    );
}

#[test]
fn docs_events_md_is_generated_from_the_current_catalog() {
    assert_committed("events.md", &events_markdown(), "the catalog");
}

#[test]
fn docs_catalog_json_is_generated_from_the_current_catalog() {
    assert_committed("catalog.json", &catalog_json(), "the catalog");
}

#[test]
fn docs_openapi_json_is_generated_from_the_current_routes_and_types() {
    assert_committed("openapi.json", &funnel::api::openapi::pretty_json(), "the route table");
}

#[test]
fn the_served_document_is_the_committed_one_and_describes_every_route() {
    let served: serde_json::Value = serde_json::to_value(funnel::api::openapi::document()).unwrap();
    assert_eq!(served["openapi"], "3.1.0");
    for route in funnel::api::routes::ROUTES {
        let op = &served["paths"][route.path][route.method.as_str()];
        assert!(op.is_object(), "{} {} is missing", route.method.as_str(), route.path);
        assert!(
            op["responses"]["default"].is_object(),
            "{} has no problem response",
            route.path
        );
    }
}
