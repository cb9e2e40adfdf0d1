//! The PII scrubber: [`scrub_text`] for one string, [`scrub_value`] for a JSON value.
//!
//! Every match is replaced by a typed placeholder; the text around it is kept
//! byte for byte. Scrubbing is idempotent: placeholders are never re-detected
//! (a literal placeholder already in the text is left alone, and so are the
//! characters it contains), and [`scrub_text`] returns a fixed point (see
//! [`MAX_PASSES`]). Work is on UTF-8 text; every rule's structure is ASCII, so
//! a cut never falls inside a character and Korean text around a match survives.
//!
//! # Rules
//!
//! "Word character" below means an ASCII letter, an ASCII digit or `_`; any
//! other character, including Hangul and other non-ASCII letters, is a
//! boundary, because Korean particles attach directly to numbers and
//! addresses (`010-1234-5678로`, `a@b.com으로`).
//!
//! **Email** (`[email:<domain>]`). The service's own email check
//! ([`crate::security::fingerprint`]) accepts any text without white space or
//! control characters that has a non-empty part before its last `@` and a
//! non-empty part after it. In free text that is the maximal run of such
//! characters around an `@`, split at its last `@`: the local part may hold any
//! character (non-ASCII, `+`, `!`, `'`, even `@`). The run's edges are then
//! trimmed of what is punctuation of the sentence rather than of the address:
//! - the local part stops (going left) at `( ) < > [ ] { } : ; , " = \ |`, and,
//!   inside a URL (a `scheme://` earlier in the same run), also at
//!   `/ ? & #`: `email=a@b.com`, `<a@b.com>`, `mailto:a@b.com`,
//!   `https://x.io/?to=a@b.com&x=1` keep their punctuation; leading `'` and
//!   `` ` `` are dropped from it (`'a@b.com'`), inner ones kept (`o'neil@b.com`);
//! - the domain runs over ASCII letters, digits, `-`, `.`, `_` and non-ASCII
//!   letters (IDN), except that a CJK/Hangul letter right after an ASCII letter
//!   or digit ends it (`a@b.com으로` keeps `으로`); trailing `.`, `-`, `_`
//!   are not part of it (`a@b.com.` ends a sentence).
//!
//! Unlike the stored-field check there is no 254-character limit: a longer run
//! is still scrubbed. An `@` inside a URL's authority (`https://user@host`) is
//! the URL rule's (the user is kept; see below). Percent-encoded addresses
//! (`a%40b.com`) are not detected.
//!
//! **Card** (`[card]`): 13 to 19 ASCII digits passing the Luhn check, either as
//! one run, or as groups joined by one separator used throughout (a single
//! space or a single `-`) where the first group has 4 digits, middle groups 4
//! to 6 and the last group 1 to 6 (`4111 1111 1111 1111`, `3782-822463-10005`).
//! No group may touch a word character (`abc4111111111111111` is kept). Within
//! a longer chain of groups every qualifying sub-chain is tried and the union
//! of the passing ones is replaced (`4111 1111 1111 1111 12/25` → `[card] 12/25`).
//! A 13-digit number is a card only when it starts with `4` (the only 13-digit
//! cards are old Visa; this keeps Unix-millisecond timestamps); 13 contiguous
//! digits that form a valid resident registration number are that instead.
//!
//! **Resident registration number** (`[rrn]`): `YYMMDD-NNNNNNN` or the same 13
//! digits without the dash (decision: the dash is optional; the check digit
//! keeps false positives near 0.3% of random 13-digit numbers, and people do
//! write it without the dash). The date must exist (the century comes from the
//! 7th digit: 1, 2, 5, 6 → 1900s; 3, 4, 7, 8 → 2000s), the 7th digit must be 1
//! to 8, and the 13th is the check digit: weights 2,3,4,5,6,7,8,9,2,3,4,5 over
//! the first 12, check = (11 − sum mod 11) mod 10. The number must not touch a
//! word character, nor continue a longer digit chain through `-` or `.`
//! (`2026-900101-1234568`). Numbers issued since October 2020 no longer carry a
//! valid check digit and are therefore not detected.
//!
//! **Phone** (`[phone]`):
//! - Korean mobile `01[016789]`, then 3–4 digits, then 4 digits;
//! - Korean landline `02` or `0[3-6][1-5]` (031, 051, 064, …) and `070`, then
//!   3–4 digits, then 4 digits; the area code may be in parentheses: `(02)123-4567`;
//! - between the parts one separator (`-`, space or `.`) or none;
//! - E.164: `+`, a non-zero digit, then digits and separators (one or two of
//!   space `-` `.` `(` `)` between digit groups), 8 to 15 digits in all: this
//!   covers `+82 10-1234-5678`, `+82 (0)10 1234 5678`, `+1 (415) 555-0100`. A longer
//!   chain is cut at the last group boundary within 15 digits.
//!
//! A domestic number must not touch a word character or a `+`, nor continue a
//! longer digit chain through `-` or `.` (so `2026-03-10`, `12:00:00` and UUIDs
//! are not phones); an E.164 number must not be preceded by a word character or
//! followed by a letter.
//!
//! **Secret** (`[secret]`), only the secret part replaced:
//! - PEM private keys: `-----BEGIN <label>-----` whose label contains
//!   `PRIVATE KEY` (RSA, EC, OPENSSH, ENCRYPTED, PGP … BLOCK), through
//!   `-----END <same label>-----`, or to the end of the text when unterminated:
//!   the whole block is replaced;
//! - passwords in URLs: `scheme://user:password@host` → `scheme://user:[secret]@host`;
//!   the userinfo is everything between `://` and the last `@` before the
//!   authority ends (`/ ? #`, white space, `" < > \ `` ` `` { } | ^`), the password
//!   everything after its first `:`; a user that is itself an address becomes
//!   `[email:<domain>]`;
//! - `Bearer <token>` (case-insensitive; token = RFC 6750 b64token chars): the
//!   token when it is at least 16 characters, or at least 8 with a digit (so
//!   `Bearer undefined`, `Bearer token`, `Bearer authentication` in prose stay);
//!   `Basic <credentials>` when they decode as base64 to something holding `:`;
//! - JWTs / JWEs: a base64url part starting `eyJ` (5+ characters) followed by
//!   two or more `.`-separated base64url parts, the last non-empty;
//! - well-known prefixed keys at a word boundary: Stripe `sk_live_`, `sk_test_`,
//!   `rk_live_`, `rk_test_`, `whsec_` + 8 or more letters/digits (`pk_` is public:
//!   kept), GitHub `ghp_ gho_ ghu_ ghs_ ghr_` + 20 or more, `github_pat_` + 20 or
//!   more, Slack `xoxb- xoxp- xoxa- xoxr- xoxs- xoxe-` + 8 or more;
//! - values of secret-named keys inside the text (the names of
//!   [`super::keys`]): `key=value` (query strings, log lines, connection
//!   strings: the value ends at white space, `& ; , " ' < > ) ] } |`) and quoted
//!   pairs `"key": "value"`, `'key': 'value'`, `\"key\":\"value\"` (the string
//!   inside the quotes, or a bare number / word; `null`, `true`, `false`,
//!   objects and arrays are kept).
//!
//! **Never touched**: trace ids (`trace_` at a word boundary followed by
//! visible ASCII, at most 128 characters; in free text the id ends at
//! `, ; " ' ( ) < > [ ] { } = & |` and `` ` ``, and a run holding an `@` is not
//! protected: an address inside it is still an address) and event ids
//! (`evt_` + letters, digits, `_`). Literal placeholders (`[card]`, `[phone]`,
//! `[rrn]`, `[secret]`, `[email:<domain>]`) already in the text are kept as they are.
//!
//! # Order
//!
//! The rules claim disjoint spans in this order: PEM blocks, literal
//! placeholders, protected ids, secret-named values (quoted pairs, then
//! `key=value`), URL passwords, Bearer/Basic, JWTs, prefixed keys, addresses,
//! cards, resident registration numbers, phones. Every rule reads a claimed
//! span as the placeholder it becomes (a `]`: no word character, no white
//! space, no `://`), so that a second scan sees what the first saw. Where a
//! claim removes context an earlier rule relied on, the next scan of
//! [`scrub_text`] finishes the work.
//!
//! # Cost
//!
//! One table-driven pass over the bytes decides which rules can apply at all,
//! from cheap look-backs at the few bytes that open a rule (`@`, `_`, `-`, `=`,
//! `:`, `J`, `+`, `[`, a space after `bearer`/`basic`, the digit count and the
//! longest digit run). Text that opens no rule returns at once, borrowed; the
//! rules that do run scan only for their anchor bytes, linearly. A 500-event
//! batch (an error message and six string properties each) scrubs in about
//! half a millisecond natively (`cargo bench --bench scrub`).

use std::borrow::Cow;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::keys::{is_secret_key, is_secret_key_bytes};

/// What kind of value was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiKind {
    Email,
    Card,
    Phone,
    Rrn,
    Secret,
}

impl PiiKind {
    /// Every kind, in declaration order.
    pub const ALL: [PiiKind; 5] = [
        PiiKind::Email,
        PiiKind::Card,
        PiiKind::Phone,
        PiiKind::Rrn,
        PiiKind::Secret,
    ];

    /// The kind's name as serialised: `email`, `card`, `phone`, `rrn`, `secret`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Card => "card",
            PiiKind::Phone => "phone",
            PiiKind::Rrn => "rrn",
            PiiKind::Secret => "secret",
        }
    }

    /// The text that replaces a match: `[card]`, `[phone]`, `[rrn]`, `[secret]`,
    /// and for an address `[email:<domain>]` with `email_domain` lowercased
    /// (`email_domain` is ignored by the other kinds).
    pub fn placeholder(self, email_domain: &str) -> Cow<'static, str> {
        match self {
            PiiKind::Email => {
                let mut out = String::with_capacity(email_domain.len() + 8);
                out.push_str(EMAIL_OPEN);
                push_lowercase(&mut out, email_domain);
                out.push(']');
                Cow::Owned(out)
            }
            PiiKind::Card => Cow::Borrowed(CARD),
            PiiKind::Phone => Cow::Borrowed(PHONE),
            PiiKind::Rrn => Cow::Borrowed(RRN),
            PiiKind::Secret => Cow::Borrowed(SECRET),
        }
    }
}

/// One replacement: where (a field path given by the caller, e.g.
/// `error_message`, `properties.note` or `properties.items[2].text`), and what
/// kind. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    pub path: String,
    pub kind: PiiKind,
}

const CARD: &str = "[card]";
const PHONE: &str = "[phone]";
const RRN: &str = "[rrn]";
const SECRET: &str = "[secret]";
const EMAIL_OPEN: &str = "[email:";

/// Scrubs one string: returns the scrubbed text (`Cow::Borrowed` when nothing
/// matched, to keep the common case allocation-free) and the kinds found, one
/// entry per replacement (in text order within each pass, see below).
///
/// The result is the fixed point of one scan: when a scan replaced something,
/// its output is scanned again, until a scan changes nothing (at most
/// [`MAX_PASSES`] scans). A replacement can remove the context that kept an
/// earlier rule from matching (a claimed space no longer ends a URL authority,
/// `010-1234-5678-otp=` becomes `[phone]-otp=`), so a single scan alone would
/// not be idempotent; the fixed point is, and it only ever scrubs more.
pub fn scrub_text(text: &str) -> (Cow<'_, str>, Vec<PiiKind>) {
    let (first, mut kinds) = scrub_once(text);
    let Cow::Owned(mut current) = first else {
        return (Cow::Borrowed(text), kinds);
    };
    for _ in 1..MAX_PASSES {
        match scrub_once(&current) {
            (Cow::Borrowed(_), _) => break,
            (Cow::Owned(next), more) => {
                kinds.extend(more);
                current = next;
            }
        }
    }
    (Cow::Owned(current), kinds)
}

/// The most scans [`scrub_text`] makes of one string. Every scan that changes the
/// text turns at least one non-placeholder span into a placeholder, so the scans
/// end on their own; the cap bounds the work on adversarial text. Real text
/// settles after one scan (plus the one that confirms it); of 3 million random
/// texts built from the rules' own fragments, 12 needed a second changing scan
/// and none a third.
pub const MAX_PASSES: usize = 8;

/// One scan.
fn scrub_once(text: &str) -> (Cow<'_, str>, Vec<PiiKind>) {
    scan_with(text, rules_to_run(text.as_bytes()))
}

fn scan_with(text: &str, rules: u16) -> (Cow<'_, str>, Vec<PiiKind>) {
    if rules & R_REPLACING == 0 {
        return (Cow::Borrowed(text), Vec::new());
    }
    let mut scan = Scan::new(text);
    scan.run(rules);
    scan.finish()
}

/// Scrubs every string inside a JSON value at any depth (object values, array
/// items, nested), in place. Returns the redactions in walk order: depth first,
/// an object's renamed keys when it is entered, then its members in key order
/// (`serde_json::Map` is sorted), array items in order.
///
/// - A string is scrubbed by [`scrub_text`]; each replacement is one
///   [`Redaction`] carrying the string's path.
/// - An object key is scrubbed too (a key holding an address would otherwise be
///   stored, and would leak through the paths); should the scrubbed key collide
///   with another, `#2`, `#3`, … is appended. Its redactions carry the entry's
///   new path.
/// - The value under a secret-named key ([`is_secret_key`], checked on the
///   scrubbed key) becomes the string `[secret]` whatever its type (string,
///   number, array, object), except values that cannot carry a secret: `null`,
///   booleans, `""`, `[]`, `{}` and `"[secret]"` itself.
///
/// Paths: `path` is the path of `value` itself; an object member is
/// `<path>.<key>` (just `<key>` when `path` is empty), an array item
/// `<path>[<index>]`. Keys are not escaped.
pub fn scrub_value(value: &mut Value, path: &str) -> Vec<Redaction> {
    let mut out = Vec::new();
    // Paths are written only for redactions: the walk itself allocates nothing
    // but the stack of nested containers.
    let mut root = match value {
        Value::String(s) => {
            let kinds = scrub_in_place(s);
            out.extend(kinds.into_iter().map(|kind| Redaction {
                path: path.to_string(),
                kind,
            }));
            return out;
        }
        Value::Array(items) => Frame {
            children: Children::Items(items.iter_mut().enumerate()),
            segment: None,
        },
        Value::Object(members) => {
            scrub_keys(members, || path.to_string(), &mut out);
            Frame {
                children: Children::Members(members.iter_mut()),
                segment: None,
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => return out,
    };
    let mut stack: Vec<Frame<'_>> = Vec::new();
    loop {
        let top = match stack.last_mut() {
            Some(frame) => frame,
            None => &mut root,
        };
        let next = match &mut top.children {
            Children::Items(items) => items.next().map(|(i, v)| (Segment::Index(i), v)),
            Children::Members(members) => members.next().map(|(k, v)| (Segment::Key(k), v)),
        };
        let Some((segment, child)) = next else {
            if stack.pop().is_none() {
                break;
            }
            continue;
        };
        if let Segment::Key(key) = segment {
            if is_secret_key(key) {
                if can_hold_secret(child) {
                    *child = Value::String(SECRET.to_string());
                    out.push(Redaction {
                        path: render_path(path, &stack, segment),
                        kind: PiiKind::Secret,
                    });
                }
                continue;
            }
        }
        match child {
            Value::String(s) => {
                let kinds = scrub_in_place(s);
                if !kinds.is_empty() {
                    let at = render_path(path, &stack, segment);
                    out.extend(kinds.into_iter().map(|kind| Redaction { path: at.clone(), kind }));
                }
            }
            Value::Array(items) => stack.push(Frame {
                children: Children::Items(items.iter_mut().enumerate()),
                segment: Some(segment),
            }),
            Value::Object(members) => {
                scrub_keys(members, || render_path(path, &stack, segment), &mut out);
                stack.push(Frame {
                    children: Children::Members(members.iter_mut()),
                    segment: Some(segment),
                });
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    out
}

/// A container being walked, and its place in its parent (none for the root).
struct Frame<'a> {
    children: Children<'a>,
    segment: Option<Segment<'a>>,
}

enum Children<'a> {
    Items(std::iter::Enumerate<std::slice::IterMut<'a, Value>>),
    Members(serde_json::map::IterMut<'a>),
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Index(usize),
    Key(&'a str),
}

fn push_segment(path: &mut String, segment: Segment<'_>) {
    match segment {
        Segment::Key(key) => {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
        }
        Segment::Index(i) => {
            path.push('[');
            path.push_str(&i.to_string());
            path.push(']');
        }
    }
}

/// The path of `last` inside the containers on `stack`, under `root`.
fn render_path(root: &str, stack: &[Frame<'_>], last: Segment<'_>) -> String {
    let mut path = root.to_string();
    for segment in stack.iter().filter_map(|f| f.segment) {
        push_segment(&mut path, segment);
    }
    push_segment(&mut path, last);
    path
}

/// Scrubs `s` in place; the kinds replaced.
fn scrub_in_place(s: &mut String) -> Vec<PiiKind> {
    let (scrubbed, kinds) = scrub_text(s);
    if let Cow::Owned(new) = scrubbed {
        *s = new;
    }
    kinds
}

/// Scrubs an object's keys; `object_path` renders the object's own path (only when needed).
fn scrub_keys(
    members: &mut serde_json::Map<String, Value>,
    object_path: impl Fn() -> String,
    out: &mut Vec<Redaction>,
) {
    let renames: Vec<(String, String, Vec<PiiKind>)> = members
        .keys()
        .filter_map(|key| match scrub_text(key) {
            (Cow::Owned(new), kinds) => Some((key.clone(), new, kinds)),
            (Cow::Borrowed(_), _) => None,
        })
        .collect();
    if renames.is_empty() {
        return;
    }
    let base = object_path();
    for (old, new, kinds) in renames {
        let Some(value) = members.remove(&old) else { continue };
        let mut key = new.clone();
        let mut n = 2;
        while members.contains_key(&key) {
            key = format!("{new}#{n}");
            n += 1;
        }
        let mut entry = base.clone();
        push_segment(&mut entry, Segment::Key(&key));
        out.extend(kinds.into_iter().map(|kind| Redaction {
            path: entry.clone(),
            kind,
        }));
        members.insert(key, value);
    }
}

fn can_hold_secret(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) => false,
        Value::String(s) => !s.is_empty() && s != SECRET,
        Value::Number(_) => true,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

// ---------------------------------------------------------------------------
// The quick scan: which rules can apply at all.

// Bytes that open a rule or its gate (the table below); `T_SCHEME` is set for `://`.
const T_AT: u16 = 1;
const T_DIGIT: u16 = 1 << 1;
const T_COLON: u16 = 1 << 2;
const T_EQ: u16 = 1 << 3;
const T_UNDERSCORE: u16 = 1 << 4;
const T_DASH: u16 = 1 << 5;
const T_J: u16 = 1 << 6;
const T_BRACKET: u16 = 1 << 7;
const T_PLUS: u16 = 1 << 8;
const T_SPACE: u16 = 1 << 9;
const T_SCHEME: u16 = 1 << 10;

// The rules that can apply, derived from the trigger bytes and counts.
const R_PEM: u16 = 1;
const R_LITERAL: u16 = 1 << 1;
const R_PROTECTED: u16 = 1 << 2;
const R_QUOTED: u16 = 1 << 3;
const R_ASSIGN: u16 = 1 << 4;
const R_URL: u16 = 1 << 5;
const R_AUTH: u16 = 1 << 6;
const R_JWT: u16 = 1 << 7;
const R_PREFIXED: u16 = 1 << 8;
const R_EMAIL: u16 = 1 << 9;
const R_NUMBERS: u16 = 1 << 10;
const R_PHONES: u16 = 1 << 11;

/// The rules that can replace something (the others only keep spans as they are).
const R_REPLACING: u16 = !(R_LITERAL | R_PROTECTED);

const TRIGGERS: [u16; 256] = {
    let mut t = [0u16; 256];
    t[b'@' as usize] = T_AT;
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = T_DIGIT;
        d += 1;
    }
    t[b':' as usize] = T_COLON;
    t[b'=' as usize] = T_EQ;
    t[b'_' as usize] = T_UNDERSCORE;
    t[b'-' as usize] = T_DASH;
    t[b'J' as usize] = T_J;
    t[b'[' as usize] = T_BRACKET;
    t[b'+' as usize] = T_PLUS;
    t[b' ' as usize] = T_SPACE;
    t[b'\t' as usize] = T_SPACE;
    t
};

/// One pass over the bytes: which rules can apply at all. Each gate is a
/// superset of its rule (it reads the raw bytes where the rule reads the
/// claimed view, in which keys only get shorter from the left), so skipping a
/// rule whose gate is closed changes nothing.
fn rules_to_run(b: &[u8]) -> u16 {
    let (mut flags, mut rules, mut digits, mut dashes) = (0u16, 0u16, 0usize, 0usize);
    // Digit runs: the longest, and whether a phone can start (a run opening with
    // `0`, or a `+` before a digit).
    let (mut run, mut longest_run, mut phone_start) = (0usize, 0usize, false);
    for (i, &c) in b.iter().enumerate() {
        let t = TRIGGERS[c as usize];
        if t == 0 {
            continue;
        }
        flags |= t;
        if t & T_DIGIT != 0 {
            digits += 1;
            run = if i > 0 && b[i - 1].is_ascii_digit() { run + 1 } else { 1 };
            longest_run = longest_run.max(run);
            phone_start |= run == 1 && c == b'0';
            continue;
        }
        if c == b'+' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            phone_start = true;
        }
        let back = |n: usize| if i >= n { b[i - n] } else { 0 };
        match c {
            b'-' => {
                dashes += 1;
                // `xoxb-` and the other Slack prefixes.
                if back(4) == b'x' && back(3) == b'o' && back(2) == b'x' {
                    rules |= R_PREFIXED;
                }
            }
            b'_' => match (back(2), back(1)) {
                (b'c', b'e') | (b'v', b't') => rules |= R_PROTECTED, // trace_, evt_
                (b's' | b'r', b'k') | (b'e', b'c') | (b'u', b'b') => rules |= R_PREFIXED, // sk_ rk_ whsec_ github_
                (b'h', b'p' | b'o' | b'u' | b's' | b'r') => rules |= R_PREFIXED, // ghp_ …
                _ => {}
            },
            b'=' if is_secret_key_bytes(key_before(b, i)) => rules |= R_ASSIGN,
            b':' => {
                if b[i + 1..].starts_with(b"//") {
                    flags |= T_SCHEME;
                }
                if quoted_key_before(b, i).is_some_and(is_secret_key_bytes) {
                    rules |= R_QUOTED;
                }
            }
            b'J' if back(2) == b'e' && back(1) == b'y' => rules |= R_JWT,
            b' ' | b'\t' => {
                let word = |n: usize, w: &[u8]| i >= n && b[i - n..i].eq_ignore_ascii_case(w);
                let last = back(1) | 0x20;
                if (last == b'r' && word(6, b"bearer")) || (last == b'c' && word(5, b"basic")) {
                    rules |= R_AUTH;
                }
            }
            _ => {}
        }
    }
    let has = |f: u16| flags & f != 0;
    if dashes >= 10 {
        rules |= R_PEM; // `-----BEGIN` … `-----`
    }
    if has(T_BRACKET) {
        rules |= R_LITERAL;
    }
    if has(T_SCHEME) && has(T_AT) {
        rules |= R_URL;
    }
    if has(T_AT) {
        rules |= R_EMAIL;
    }
    if digits >= 13 && longest_run >= 4 {
        rules |= R_NUMBERS; // 13 digits or more, in a run of 13 or groups opening with 4
    }
    if digits >= 8 && phone_start {
        rules |= R_PHONES; // 8 digits or more, opening with `0` or `+`
    }
    rules
}

/// The raw key left of the `=` at `eq` (spaces skipped): the key characters run.
fn key_before(b: &[u8], eq: usize) -> &[u8] {
    let mut end = eq;
    while end > 0 && matches!(b[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    let mut start = end;
    while start > 0 && is_key_char(b[start - 1]) {
        start -= 1;
    }
    &b[start..end]
}

/// The raw quoted key left of the `:` at `colon` (`"key":`, `'key' :`, `\"key\":`).
fn quoted_key_before(b: &[u8], colon: usize) -> Option<&[u8]> {
    let mut k = colon;
    while k > 0 && matches!(b[k - 1], b' ' | b'\t') {
        k -= 1;
    }
    let quote = *b.get(k.checked_sub(1)?)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let mut end = k - 1;
    if end > 0 && b[end - 1] == b'\\' {
        end -= 1;
    }
    let mut start = end;
    while start > 0 && is_key_char(b[start - 1]) {
        start -= 1;
    }
    (start < end && start > 0 && b[start - 1] == quote).then(|| &b[start..end])
}

// ---------------------------------------------------------------------------
// The scan: rules claim disjoint byte spans; `finish` writes the placeholders.

struct Hit {
    start: usize,
    end: usize,
    kind: PiiKind,
    /// The domain's byte range, for an address (lowercased when written).
    domain: Option<(usize, usize)>,
}

/// Claimed bytes, one bit each: inline for texts up to [`INLINE_BITS`] bytes
/// (no allocation), on the heap beyond.
struct Claims {
    any: bool,
    inline: [u64; INLINE_BITS / 64],
    heap: Vec<u64>,
}

const INLINE_BITS: usize = 1024;

impl Claims {
    fn new() -> Self {
        Claims {
            any: false,
            inline: [0; INLINE_BITS / 64],
            heap: Vec::new(),
        }
    }

    #[inline]
    fn get(&self, i: usize) -> bool {
        if !self.any {
            return false;
        }
        let words: &[u64] = if self.heap.is_empty() { &self.inline } else { &self.heap };
        words[i >> 6] >> (i & 63) & 1 == 1
    }

    fn set(&mut self, start: usize, end: usize, len: usize) {
        if !self.any {
            self.any = true;
            if len > INLINE_BITS {
                self.heap = vec![0; len.div_ceil(64)];
            }
        }
        let words: &mut [u64] = if self.heap.is_empty() {
            &mut self.inline
        } else {
            &mut self.heap
        };
        let mut i = start;
        while i < end {
            let bit = i & 63;
            let n = (64 - bit).min(end - i);
            words[i >> 6] |= if n == 64 { u64::MAX } else { ((1u64 << n) - 1) << bit };
            i += n;
        }
    }
}

struct Scan<'a> {
    text: &'a str,
    b: &'a [u8],
    /// Claimed bytes: placeholders to be, and spans kept as they are.
    claimed: Claims,
    hits: Vec<Hit>,
}

#[inline]
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// RFC 6750 b64token characters (before the `=` padding).
fn is_b64token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

fn is_key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// Separators between the parts of a domestic phone number.
fn is_phone_sep(c: u8) -> bool {
    matches!(c, b'-' | b' ' | b'.')
}

/// Ends a URL authority (besides white space and control characters).
fn ends_authority(c: char) -> bool {
    matches!(
        c,
        '/' | '?' | '#' | '"' | '<' | '>' | '\\' | '`' | '{' | '}' | '|' | '^'
    )
}

/// Ends a local part, going left (besides white space and control characters).
fn ends_local(c: char) -> bool {
    matches!(
        c,
        '(' | ')' | '<' | '>' | '[' | ']' | '{' | '}' | ':' | ';' | ',' | '"' | '=' | '\\' | '|'
    )
}

/// Ends an unquoted `key=value` value (besides white space and control characters).
fn ends_value(c: u8) -> bool {
    matches!(
        c,
        b'&' | b';' | b',' | b'"' | b'\'' | b'<' | b'>' | b')' | b']' | b'}' | b'|' | b'`'
    )
}

/// Ends a protected trace id in free text.
fn ends_trace_id(c: u8) -> bool {
    !(0x21..=0x7e).contains(&c)
        || matches!(
            c,
            b',' | b';'
                | b'"'
                | b'\''
                | b'('
                | b')'
                | b'<'
                | b'>'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'='
                | b'&'
                | b'|'
                | b'`'
        )
}

fn is_breaker(c: char) -> bool {
    c.is_whitespace() || c.is_control()
}

/// CJK and Hangul (and everything past Latin Extended-B): after an ASCII letter
/// or digit such a letter ends a domain (`a@b.com으로`).
fn ends_ascii_label(c: char) -> bool {
    c as u32 >= 0x250
}

/// The first `needle` in `hay` at or after `from` (first and last bytes checked before the rest).
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let n = needle.len();
    if n == 0 || from + n > hay.len() {
        return None;
    }
    let (first, last) = (needle[0], needle[n - 1]);
    (from..=hay.len() - n).find(|&i| hay[i] == first && hay[i + n - 1] == last && hay[i..i + n] == *needle)
}

const BASIC_B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Prefixed keys: (prefix, whether `_` and `-` may follow in the body, minimum body length).
const PREFIXED: &[(&str, &[u8], usize)] = &[
    ("sk_live_", b"", 8),
    ("sk_test_", b"", 8),
    ("rk_live_", b"", 8),
    ("rk_test_", b"", 8),
    ("whsec_", b"", 8),
    ("ghp_", b"", 20),
    ("gho_", b"", 20),
    ("ghu_", b"", 20),
    ("ghs_", b"", 20),
    ("ghr_", b"", 20),
    ("github_pat_", b"_", 20),
    ("xoxb-", b"-", 8),
    ("xoxp-", b"-", 8),
    ("xoxa-", b"-", 8),
    ("xoxr-", b"-", 8),
    ("xoxs-", b"-", 8),
    ("xoxe-", b"-", 8),
];

/// A rule of the scan, and the gate bit that lets it run.
type Step<'a> = (u16, fn(&mut Scan<'a>));

/// The prefixed key starting `rest`, if any (the second byte is checked first: most words fail there).
fn prefixed_key_at(rest: &[u8]) -> Option<&'static (&'static str, &'static [u8], usize)> {
    let second = *rest.get(1)?;
    let plausible = match rest[0] {
        b's' | b'r' => second == b'k',
        b'w' => second == b'h',
        b'g' => second == b'h' || second == b'i',
        b'x' => second == b'o',
        _ => false,
    };
    if !plausible {
        return None;
    }
    PREFIXED.iter().find(|(p, _, _)| rest.starts_with(p.as_bytes()))
}

impl<'a> Scan<'a> {
    fn new(text: &'a str) -> Self {
        Scan {
            text,
            b: text.as_bytes(),
            claimed: Claims::new(),
            hits: Vec::new(),
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.b.len()
    }

    #[inline]
    fn is_claimed(&self, i: usize) -> bool {
        self.claimed.get(i)
    }

    /// The byte at `i` as the rules see it: a claimed byte reads as `]` (the edge
    /// of the placeholder it is, or will be); past the end reads as 0.
    #[inline]
    fn at(&self, i: usize) -> u8 {
        if i >= self.len() {
            0
        } else if self.is_claimed(i) {
            b']'
        } else {
            self.b[i]
        }
    }

    /// The byte before `i` as the rules see it (0 at the start).
    #[inline]
    fn before(&self, i: usize) -> u8 {
        if i == 0 {
            0
        } else {
            self.at(i - 1)
        }
    }

    #[inline]
    fn is_free(&self, start: usize, end: usize) -> bool {
        !self.claimed.any || !(start..end).any(|i| self.claimed.get(i))
    }

    /// The first claimed byte in `start..end`, or `end`.
    fn free_until(&self, start: usize, end: usize) -> usize {
        if !self.claimed.any {
            return end;
        }
        (start..end).find(|&i| self.claimed.get(i)).unwrap_or(end)
    }

    fn claim(&mut self, start: usize, end: usize) {
        let len = self.len();
        self.claimed.set(start, end, len);
    }

    fn hit(&mut self, start: usize, end: usize, kind: PiiKind, domain: Option<(usize, usize)>) {
        debug_assert!(start < end && self.is_free(start, end));
        self.claim(start, end);
        self.hits.push(Hit {
            start,
            end,
            kind,
            domain,
        });
    }

    /// The rules, in priority order (see the module docs).
    fn run(&mut self, rules: u16) {
        let steps: [Step<'a>; 12] = [
            (R_PEM, Self::pem_keys),
            (R_LITERAL, Self::literal_placeholders),
            (R_PROTECTED, Self::protected_ids),
            (R_QUOTED, Self::quoted_secret_pairs),
            (R_ASSIGN, Self::secret_assignments),
            (R_URL, Self::url_passwords),
            (R_AUTH, Self::auth_schemes),
            (R_JWT, Self::jwts),
            (R_PREFIXED, Self::prefixed_keys),
            (R_EMAIL, Self::emails),
            (R_NUMBERS, Self::numbers),
            (R_PHONES, Self::phones),
        ];
        for (rule, step) in steps {
            if rules & rule != 0 {
                step(self);
            }
        }
    }

    fn finish(mut self) -> (Cow<'a, str>, Vec<PiiKind>) {
        if self.hits.is_empty() {
            return (Cow::Borrowed(self.text), Vec::new());
        }
        self.hits.sort_unstable_by_key(|h| h.start);
        let mut out = String::with_capacity(self.text.len());
        let mut kinds = Vec::with_capacity(self.hits.len());
        let mut pos = 0;
        for h in &self.hits {
            debug_assert!(h.start >= pos);
            out.push_str(&self.text[pos..h.start]);
            match h.domain {
                Some((start, end)) => {
                    out.push_str(EMAIL_OPEN);
                    push_lowercase(&mut out, &self.text[start..end]);
                    out.push(']');
                }
                None => out.push_str(h.kind.placeholder("").as_ref()),
            }
            kinds.push(h.kind);
            pos = h.end;
        }
        out.push_str(&self.text[pos..]);
        (Cow::Owned(out), kinds)
    }

    // -- PEM private keys ---------------------------------------------------

    fn pem_keys(&mut self) {
        const BEGIN: &[u8] = b"-----BEGIN ";
        let mut from = 0;
        while let Some(start) = find(self.b, BEGIN, from) {
            from = start + 1;
            let label_start = start + BEGIN.len();
            let mut label_end = label_start;
            while label_end < self.len()
                && label_end - label_start < 80
                && (self.b[label_end].is_ascii_uppercase()
                    || self.b[label_end].is_ascii_digit()
                    || self.b[label_end] == b' ')
            {
                label_end += 1;
            }
            if !self.b[label_end..].starts_with(b"-----") {
                continue;
            }
            let label = &self.b[label_start..label_end];
            if find(label, b"PRIVATE KEY", 0).is_none() || !self.is_free(start, label_end) {
                continue;
            }
            let mut footer = Vec::with_capacity(label.len() + 14);
            footer.extend_from_slice(b"-----END ");
            footer.extend_from_slice(label);
            footer.extend_from_slice(b"-----");
            let end = find(self.b, &footer, label_end + 5).map_or(self.len(), |i| i + footer.len());
            let end = self.free_until(start, end);
            self.hit(start, end, PiiKind::Secret, None);
            from = end;
        }
    }

    // -- Spans kept as they are ---------------------------------------------

    fn literal_placeholders(&mut self) {
        let mut i = 0;
        while let Some(off) = self.b[i..].iter().position(|&c| c == b'[') {
            let start = i + off;
            let rest = &self.b[start..];
            let end = if [CARD, PHONE, RRN, SECRET]
                .iter()
                .any(|p| rest.starts_with(p.as_bytes()))
            {
                rest.iter().position(|&c| c == b']').map(|e| start + e + 1)
            } else if rest.starts_with(EMAIL_OPEN.as_bytes()) {
                let domain_start = start + EMAIL_OPEN.len();
                let mut end = None;
                for (j, c) in self.text[domain_start..].char_indices() {
                    if c == ']' {
                        end = (j > 0).then_some(domain_start + j + 1);
                        break;
                    }
                    if c == '[' || c == '@' || is_breaker(c) {
                        break;
                    }
                }
                end
            } else {
                None
            };
            match end {
                Some(end) if self.is_free(start, end) => {
                    self.claim(start, end);
                    i = end;
                }
                _ => i = start + 1,
            }
            if i >= self.len() {
                break;
            }
        }
    }

    fn protected_ids(&mut self) {
        // Anchored on the `_` of `trace_` / `evt_`, far rarer than their first letters.
        let mut i = 0;
        while let Some(off) = self.b[i..].iter().position(|&c| c == b'_') {
            let underscore = i + off;
            i = underscore + 1;
            let (start, evt) = if underscore >= 5 && self.b[underscore - 5..underscore] == *b"trace" {
                (underscore - 5, false)
            } else if underscore >= 3 && self.b[underscore - 3..underscore] == *b"evt" {
                (underscore - 3, true)
            } else {
                continue;
            };
            if is_word(self.before(start)) || !self.is_free(start, i) {
                continue;
            }
            let mut end = i;
            if evt {
                while end < self.len() && is_word(self.b[end]) && !self.is_claimed(end) {
                    end += 1;
                }
                if end == i {
                    continue;
                }
            } else {
                while end < self.len() && !ends_trace_id(self.b[end]) && !self.is_claimed(end) {
                    end += 1;
                }
            }
            let max = if evt { usize::MAX } else { crate::trace::TRACE_MAX_LEN };
            // An address is an address, even in what looks like an id.
            if end - start > max || self.b[start..end].contains(&b'@') || self.at(end) == b'@' {
                continue;
            }
            self.claim(start, end);
            i = end;
        }
    }

    // -- Secrets ------------------------------------------------------------

    /// The end of the URL authority starting at `from`. A claimed span never ends
    /// it: its placeholder holds no terminator, so a second pass sees the same authority.
    fn authority_end(&self, from: usize) -> usize {
        self.text[from..]
            .char_indices()
            .find(|&(i, c)| !self.is_claimed(from + i) && (is_breaker(c) || ends_authority(c)))
            .map_or(self.len(), |(i, _)| from + i)
    }

    /// The last unclaimed `c` in `start..end`.
    fn rfind_free(&self, start: usize, end: usize, c: u8) -> Option<usize> {
        (start..end).rev().find(|&i| self.b[i] == c && !self.is_claimed(i))
    }

    fn url_passwords(&mut self) {
        let mut from = 0;
        while let Some(p) = find(self.b, b"://", from) {
            from = p + 1;
            let scheme_char = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-');
            if !scheme_char(self.before(p)) || !self.is_free(p, p + 3) {
                continue;
            }
            let start = p + 3;
            let end = self.authority_end(start);
            let Some(at) = self.rfind_free(start, end, b'@') else {
                continue;
            };
            let colon = (start..at).find(|&i| self.b[i] == b':' && !self.is_claimed(i));
            let user_end = colon.unwrap_or(at);
            if let Some(user_at) = self.rfind_free(start, user_end, b'@') {
                // The same domain rule as for addresses in text: what follows the domain stays.
                let domain_end = self.domain_end(user_at + 1).min(user_end);
                if user_at > start && domain_end > user_at + 1 && self.is_free(start, domain_end) {
                    self.hit(start, domain_end, PiiKind::Email, Some((user_at + 1, domain_end)));
                }
            }
            if let Some(colon) = colon {
                if colon + 1 < at && self.is_free(colon + 1, at) {
                    self.hit(colon + 1, at, PiiKind::Secret, None);
                }
            }
            from = at;
        }
    }

    /// `"key": "value"`, `'key': 'value'`, `\"key\":\"value\"`, `"key": 123`.
    fn quoted_secret_pairs(&mut self) {
        let mut i = 0;
        while let Some(off) = self.b[i..].iter().position(|&c| c == b':') {
            let colon = i + off;
            i = colon + 1;
            if self.is_claimed(colon) {
                continue;
            }
            // The key, going left: optional spaces, a closing quote (maybe escaped), key characters, an opening quote.
            let mut k = colon;
            while k > 0 && matches!(self.at(k - 1), b' ' | b'\t') {
                k -= 1;
            }
            let quote = self.before(k);
            if quote != b'"' && quote != b'\'' {
                continue;
            }
            let mut key_end = k - 1;
            if self.before(key_end) == b'\\' {
                key_end -= 1;
            }
            let mut key_start = key_end;
            while key_start > 0 && is_key_char(self.at(key_start - 1)) {
                key_start -= 1;
            }
            if key_start == key_end || self.before(key_start) != quote {
                continue;
            }
            if !is_secret_key(&self.text[key_start..key_end]) {
                continue;
            }
            // The value, going right.
            let mut v = colon + 1;
            while matches!(self.at(v), b' ' | b'\t') {
                v += 1;
            }
            let escaped = self.at(v) == b'\\' && matches!(self.at(v + 1), b'"' | b'\'');
            if escaped {
                v += 1;
            }
            let (start, end) = match self.at(v) {
                q @ (b'"' | b'\'') => (v + 1, self.quoted_end(v + 1, q, escaped)),
                b'{' | b'[' => continue,
                _ => {
                    let mut e = v;
                    while e < self.len()
                        && !self.is_claimed(e)
                        && !matches!(self.b[e], b',' | b'}' | b']')
                        && !self.b[e].is_ascii_whitespace()
                        && !self.b[e].is_ascii_control()
                    {
                        e += 1;
                    }
                    if matches!(&self.b[v..e], b"null" | b"true" | b"false") {
                        continue;
                    }
                    (v, e)
                }
            };
            let end = self.free_until(start, end);
            if start < end {
                self.hit(start, end, PiiKind::Secret, None);
                i = end;
            }
        }
    }

    /// Where a quoted string starting at `from` ends: at the next unescaped
    /// `quote` (or, for a string whose quotes are themselves escaped, the next
    /// `\quote`); the end of the text when unterminated.
    fn quoted_end(&self, from: usize, quote: u8, escaped: bool) -> usize {
        let mut e = from;
        while e < self.len() {
            let c = self.b[e];
            if c == b'\\' {
                if escaped && self.at(e + 1) == quote {
                    return e;
                }
                e += 2;
                continue;
            }
            if c == quote && !escaped {
                return e;
            }
            e += 1;
        }
        self.len()
    }

    /// `key=value` where the key names a secret.
    fn secret_assignments(&mut self) {
        let mut i = 0;
        while let Some(off) = self.b[i..].iter().position(|&c| c == b'=') {
            let eq = i + off;
            i = eq + 1;
            if self.is_claimed(eq) || matches!(self.before(eq), b'=' | b'!' | b'<' | b'>') || self.at(eq + 1) == b'=' {
                continue;
            }
            let mut key_end = eq;
            while key_end > 0 && matches!(self.at(key_end - 1), b' ' | b'\t') {
                key_end -= 1;
            }
            let mut key_start = key_end;
            while key_start > 0 && is_key_char(self.at(key_start - 1)) {
                key_start -= 1;
            }
            if key_start == key_end || !is_secret_key(&self.text[key_start..key_end]) {
                continue;
            }
            let mut v = eq + 1;
            while matches!(self.at(v), b' ' | b'\t') {
                v += 1;
            }
            let (start, end) = match self.at(v) {
                q @ (b'"' | b'\'') => (v + 1, self.quoted_end(v + 1, q, false)),
                _ => {
                    let e = self.text[v..]
                        .char_indices()
                        .find(|&(i, c)| {
                            self.is_claimed(v + i) || is_breaker(c) || (c.is_ascii() && ends_value(c as u8))
                        })
                        .map_or(self.len(), |(i, _)| v + i);
                    let mut e = e;
                    // `authorization=Bearer <token>`: the scheme and its token.
                    let word = &self.b[v..e];
                    if word.eq_ignore_ascii_case(b"bearer") || word.eq_ignore_ascii_case(b"basic") {
                        let mut t = e;
                        while matches!(self.at(t), b' ' | b'\t') {
                            t += 1;
                        }
                        let token_end = self.b64token_end(t);
                        if token_end > t {
                            e = token_end;
                        }
                    }
                    (v, e)
                }
            };
            let end = self.free_until(start, end);
            if start < end {
                self.hit(start, end, PiiKind::Secret, None);
                i = end;
            }
        }
    }

    fn b64token_end(&self, from: usize) -> usize {
        let mut e = from;
        while is_b64token(self.at(e)) {
            e += 1;
        }
        if e > from {
            while self.at(e) == b'=' {
                e += 1;
            }
        }
        e
    }

    /// `Bearer <token>` and `Basic <base64 of user:password>`.
    fn auth_schemes(&mut self) {
        let mut i = 0;
        while let Some(off) = self.b[i..].iter().position(|&c| c | 0x20 == b'b') {
            let start = i + off;
            i = start + 1;
            let rest = &self.b[start..];
            let scheme_len = if rest.len() >= 6 && rest[..6].eq_ignore_ascii_case(b"bearer") {
                6
            } else if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b"basic") {
                5
            } else {
                continue;
            };
            if is_word(self.before(start)) || !self.is_free(start, start + scheme_len) {
                continue;
            }
            let mut t = start + scheme_len;
            if !matches!(self.at(t), b' ' | b'\t') {
                continue;
            }
            while matches!(self.at(t), b' ' | b'\t') {
                t += 1;
            }
            let end = self.b64token_end(t);
            if end == t {
                continue;
            }
            let token = &self.b[t..end];
            let secret = if scheme_len == 6 {
                token.len() >= 16 || (token.len() >= 8 && token.iter().any(u8::is_ascii_digit))
            } else {
                BASIC_B64.decode(token).is_ok_and(|raw| raw.contains(&b':'))
            };
            if secret {
                self.hit(t, end, PiiKind::Secret, None);
                i = end;
            }
        }
    }

    fn b64url_end(&self, from: usize) -> usize {
        let mut e = from;
        while is_b64url(self.at(e)) {
            e += 1;
        }
        e
    }

    fn jwts(&mut self) {
        // Anchored on the rare `J` of `eyJ`.
        let mut from = 0;
        while let Some(off) = self.b[from..].iter().position(|&c| c == b'J') {
            let j = from + off;
            from = j + 1;
            if j < 2 || self.b[j - 2] != b'e' || self.b[j - 1] != b'y' {
                continue;
            }
            let start = j - 2;
            let prev = self.before(start);
            if is_b64url(prev) || prev == b'.' || self.is_claimed(start) {
                continue;
            }
            let first_end = self.b64url_end(start);
            if first_end - start < 5 {
                continue;
            }
            let (mut end, mut parts) = (first_end, 1);
            while self.at(end) == b'.' {
                let next = self.b64url_end(end + 1);
                if next > end + 1 {
                    end = next;
                } else if self.at(end + 1) == b'.' {
                    end += 1; // an empty part (a JWE's encrypted key), followed by more
                } else {
                    break;
                }
                parts += 1;
            }
            if parts >= 3 {
                self.hit(start, end, PiiKind::Secret, None);
                from = end;
            }
        }
    }

    fn prefixed_keys(&mut self) {
        // Anchored on the first `_` or `-` of each prefix: 2 to 6 bytes after its start.
        let mut i = 0;
        while let Some(off) = self.b[i..].iter().position(|&c| c == b'_' || c == b'-') {
            let sep = i + off;
            i = sep + 1;
            for back in 2..=6 {
                let Some(start) = sep.checked_sub(back) else { break };
                if is_word(self.before(start)) || self.is_claimed(start) {
                    continue;
                }
                let Some(&(prefix, extra, min)) = prefixed_key_at(&self.b[start..]) else {
                    continue;
                };
                let body = start + prefix.len();
                let mut end = body;
                while self.at(end).is_ascii_alphanumeric() || extra.contains(&self.at(end)) {
                    end += 1;
                }
                if end - body >= min && self.is_free(start, body) {
                    self.hit(start, end, PiiKind::Secret, None);
                    i = end;
                    break;
                }
            }
        }
    }

    // -- Addresses ----------------------------------------------------------

    fn emails(&mut self) {
        // URLs: each `://` with its authority's end; white space, to tell which run an `@` shares with a `://`.
        // Claimed spans count as the placeholders they become (no `://`, no white space in them).
        let mut schemes = Vec::new();
        let mut from = 0;
        while let Some(p) = find(self.b, b"://", from) {
            if self.is_free(p, p + 3) {
                schemes.push((p, self.authority_end(p + 3)));
            }
            from = p + 1;
        }
        let breakers: Vec<usize> = if schemes.is_empty() {
            Vec::new()
        } else {
            self.text
                .char_indices()
                .filter(|&(i, c)| is_breaker(c) && !self.is_claimed(i))
                .map(|(i, _)| i)
                .collect()
        };
        // Right to left: a local part may hold earlier `@`s (the last `@` splits).
        let mut end = self.len();
        while let Some(at) = self.b[..end].iter().rposition(|&c| c == b'@') {
            end = at;
            if self.is_claimed(at) {
                continue;
            }
            let before_at = schemes.partition_point(|&(p, _)| p + 3 <= at);
            let url = before_at.checked_sub(1).map(|k| schemes[k]).filter(|&(p, _)| {
                let next_breaker = breakers.partition_point(|&b| b < p);
                breakers.get(next_breaker).is_none_or(|&b| b >= at)
            });
            if let Some((_, authority_end)) = url {
                if at < authority_end {
                    continue; // userinfo: the URL rule's
                }
            }
            let domain_end = self.domain_end(at + 1);
            if domain_end == at + 1 {
                continue;
            }
            let local_start = self.local_start(at, url.is_some());
            if local_start == at {
                continue;
            }
            self.hit(local_start, domain_end, PiiKind::Email, Some((at + 1, domain_end)));
            end = local_start;
        }
    }

    fn domain_end(&self, from: usize) -> usize {
        let mut end = from;
        let mut after_ascii = false;
        for (i, c) in self.text[from..].char_indices() {
            let i = from + i;
            if self.is_claimed(i) {
                break;
            }
            let ok = if c.is_ascii() {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
            } else {
                c.is_alphanumeric() && !(after_ascii && ends_ascii_label(c))
            };
            if !ok {
                break;
            }
            after_ascii = c.is_ascii_alphanumeric();
            end = i + c.len_utf8();
        }
        while end > from && matches!(self.b[end - 1], b'.' | b'-' | b'_') {
            end -= 1;
        }
        end
    }

    fn local_start(&self, at: usize, in_url: bool) -> usize {
        let mut start = at;
        for (i, c) in self.text[..at].char_indices().rev() {
            if self.is_claimed(i) || is_breaker(c) || ends_local(c) || (in_url && matches!(c, '/' | '?' | '&' | '#')) {
                break;
            }
            start = i;
        }
        while start < at && matches!(self.b[start], b'\'' | b'`') {
            start += 1;
        }
        start
    }

    // -- Numbers ------------------------------------------------------------

    /// The next run of unclaimed ASCII digits at or after `from`.
    fn next_group(&self, from: usize) -> Option<(usize, usize)> {
        let mut i = from;
        loop {
            i += self.b.get(i..)?.iter().position(u8::is_ascii_digit)?;
            if !self.is_claimed(i) {
                break;
            }
            i += 1;
        }
        let start = i;
        while i < self.len() && self.b[i].is_ascii_digit() && !self.is_claimed(i) {
            i += 1;
        }
        Some((start, i))
    }

    /// The group joined to `group` by one unclaimed space or dash, with that separator.
    fn linked(&self, (_, end): (usize, usize)) -> Option<(u8, (usize, usize))> {
        let sep = self.at(end);
        if !(sep == b' ' || sep == b'-') || !self.at(end + 1).is_ascii_digit() {
            return None;
        }
        let mut e = end + 1;
        while self.at(e).is_ascii_digit() {
            e += 1;
        }
        Some((sep, (end + 1, e)))
    }

    /// Neither side touches a word character.
    fn is_clean(&self, (start, end): (usize, usize)) -> bool {
        !is_word(self.before(start)) && !is_word(self.at(end))
    }

    /// Not touching a word character, and not continuing a digit chain through `-` or `.`.
    fn is_whole_number(&self, start: usize, end: usize) -> bool {
        let (p, n) = (self.before(start), self.at(end));
        let continues_left = matches!(p, b'-' | b'.') && self.before(start - 1).is_ascii_digit();
        let continues_right = matches!(n, b'-' | b'.') && self.at(end + 1).is_ascii_digit();
        !(is_word(p) || is_word(n) || continues_left || continues_right)
    }

    /// Cards, then resident registration numbers, in one walk over the digit
    /// groups. Cards: every qualifying candidate from every clean group, with
    /// overlapping candidates merged (a union is final once a candidate starts
    /// past its end). Resident numbers are checked after the walk, so that they
    /// see the cards' claims exactly as if they ran after them.
    fn numbers(&mut self) {
        let mut union: Option<(usize, usize)> = None;
        let mut rrns: Vec<(usize, usize)> = Vec::new();
        let mut digits = [0u8; 19];
        let mut from = 0;
        while let Some(first) = self.next_group(from) {
            from = first.1;
            let first_len = first.1 - first.0;
            let rrn_end = match first_len {
                13 => Some(first.1),
                6 => match self.linked(first) {
                    Some((b'-', next)) if next.1 - next.0 == 7 => Some(next.1),
                    _ => None,
                },
                _ => None,
            };
            if let Some(end) = rrn_end {
                let mut rrn = [0u8; 13];
                for (slot, &c) in rrn
                    .iter_mut()
                    .zip(self.b[first.0..end].iter().filter(|c| c.is_ascii_digit()))
                {
                    *slot = c;
                }
                if is_rrn(&rrn) {
                    rrns.push((first.0, end));
                }
            }
            if !self.is_clean(first) {
                continue;
            }
            let mut longest = None;
            if (13..=19).contains(&first_len) {
                digits[..first_len].copy_from_slice(&self.b[first.0..first.1]);
                // Thirteen contiguous digits that form a valid RRN are the RRN rule's.
                if is_card(&digits[..first_len]) && !(first_len == 13 && is_rrn(&digits[..13])) {
                    longest = Some(first.1);
                }
            }
            if first_len == 4 {
                digits[..4].copy_from_slice(&self.b[first.0..first.1]);
                let mut total = 4;
                let mut group = first;
                let mut sep = None;
                while let Some((s, next)) = self.linked(group) {
                    let len = next.1 - next.0;
                    if sep.is_some_and(|sep| sep != s) || !self.is_clean(next) || total + len > 19 {
                        break;
                    }
                    sep = Some(s);
                    digits[total..total + len].copy_from_slice(&self.b[next.0..next.1]);
                    total += len;
                    if total >= 13 && len <= 6 && is_card(&digits[..total]) {
                        longest = Some(next.1);
                    }
                    if !(4..=6).contains(&len) {
                        break;
                    }
                    group = next;
                }
            }
            let Some(end) = longest else { continue };
            union = match union {
                Some((s, e)) if first.0 < e => Some((s, e.max(end))),
                Some((s, e)) => {
                    self.hit(s, e, PiiKind::Card, None);
                    Some((first.0, end))
                }
                None => Some((first.0, end)),
            };
        }
        if let Some((s, e)) = union {
            self.hit(s, e, PiiKind::Card, None);
        }
        for (start, end) in rrns {
            if self.is_free(start, end) && self.is_whole_number(start, end) {
                self.hit(start, end, PiiKind::Rrn, None);
            }
        }
    }

    fn phones(&mut self) {
        let mut i = 0;
        while let Some(off) = self.b[i..].iter().position(|&c| c == b'+' || c == b'0') {
            let k = i + off;
            i = k + 1;
            if self.is_claimed(k) {
                continue;
            }
            let found = if self.b[k] == b'+' {
                self.e164(k).map(|e| (k, e))
            } else if !self.before(k).is_ascii_digit() {
                self.korean_phone(k)
            } else {
                None
            };
            if let Some((s, e)) = found {
                self.hit(s, e, PiiKind::Phone, None);
                i = e;
            }
        }
    }

    fn all_digits(&self, start: usize, end: usize) -> bool {
        end <= self.len() && (start..end).all(|k| self.at(k).is_ascii_digit())
    }

    /// `+`, then 8–15 digits in groups separated by one or two of ` -.()`.
    fn e164(&self, plus: usize) -> Option<usize> {
        let prev = self.before(plus);
        if is_word(prev) || prev == b'+' || !matches!(self.at(plus + 1), b'1'..=b'9') {
            return None;
        }
        let mut k = plus + 1;
        let mut total = 0;
        let mut last_fit = None; // the last group end within 15 digits
        loop {
            let start = k;
            while self.at(k).is_ascii_digit() {
                k += 1;
            }
            total += k - start;
            if total > 15 {
                return last_fit.filter(|&(_, n)| n >= 8).map(|(e, _)| e);
            }
            last_fit = Some((k, total));
            let mut t = k;
            while t - k < 2 && matches!(self.at(t), b' ' | b'-' | b'.' | b'(' | b')') {
                t += 1;
            }
            if t == k || !self.at(t).is_ascii_digit() {
                break;
            }
            k = t;
        }
        (total >= 8 && !is_word(self.at(k))).then_some(k)
    }

    /// A Korean mobile or landline number starting with the `0` at `s`.
    fn korean_phone(&self, s: usize) -> Option<(usize, usize)> {
        let d = |k: usize| self.at(s + k);
        let prefix = match (d(1), d(2)) {
            (b'1', b'0' | b'1' | b'6'..=b'9') => 3,
            (b'2', _) => 2,
            (b'3'..=b'6', b'1'..=b'5') => 3,
            (b'7', b'0') => 3,
            _ => return None,
        };
        let area_end = s + prefix;
        // `(02)123-4567`: the parentheses belong to the number.
        let paren = self.before(s) == b'(' && self.at(area_end) == b')';
        let start = if paren { s - 1 } else { s };
        let p = self.before(start);
        if is_word(p) || p == b'+' || (matches!(p, b'-' | b'.') && self.before(start - 1).is_ascii_digit()) {
            return None;
        }
        let after_area = if paren { area_end + 1 } else { area_end };
        let mids = [
            Some(after_area),
            is_phone_sep(self.at(after_area)).then_some(after_area + 1),
        ];
        for m in mids.into_iter().flatten() {
            for mid in [4, 3] {
                if !self.all_digits(m, m + mid) {
                    continue;
                }
                let q = m + mid;
                for l in [Some(q), is_phone_sep(self.at(q)).then_some(q + 1)]
                    .into_iter()
                    .flatten()
                {
                    let e = l + 4;
                    if self.all_digits(l, e) {
                        let n = self.at(e);
                        let continues = matches!(n, b'-' | b'.') && self.at(e + 1).is_ascii_digit();
                        if !(is_word(n) || continues) {
                            return Some((start, e));
                        }
                    }
                }
            }
        }
        None
    }
}

/// Appends `text` lowercased character by character (an ASCII text byte by byte).
fn push_lowercase(out: &mut String, text: &str) {
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.extend(text.chars().flat_map(char::to_lowercase));
    }
}

/// Luhn over ASCII digits.
fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &c) in digits.iter().rev().enumerate() {
        let mut x = u32::from(c - b'0');
        if i % 2 == 1 {
            x *= 2;
            if x > 9 {
                x -= 9;
            }
        }
        sum += x;
    }
    sum.is_multiple_of(10)
}

fn is_card(digits: &[u8]) -> bool {
    (13..=19).contains(&digits.len()) && (digits.len() != 13 || digits[0] == b'4') && luhn(digits)
}

/// A Korean resident registration number: real date, 7th digit 1–8, check digit.
fn is_rrn(digits: &[u8]) -> bool {
    if digits.len() != 13 {
        return false;
    }
    let d = |i: usize| u32::from(digits[i] - b'0');
    let century = match d(6) {
        1 | 2 | 5 | 6 => 1900,
        3 | 4 | 7 | 8 => 2000,
        _ => return false,
    };
    let year = century + d(0) * 10 + d(1);
    let (month, day) = (d(2) * 10 + d(3), d(4) * 10 + d(5));
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    const WEIGHTS: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    let sum: u32 = WEIGHTS.iter().enumerate().map(|(i, w)| d(i) * w).sum();
    (11 - sum % 11) % 10 == d(12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use PiiKind::*;

    fn scrub(text: &str) -> String {
        scrub_text(text).0.into_owned()
    }

    fn kinds(text: &str) -> Vec<PiiKind> {
        scrub_text(text).1
    }

    /// Unchanged, and borrowed (no allocation).
    fn assert_kept(text: &str) {
        let (out, found) = scrub_text(text);
        assert!(matches!(out, Cow::Borrowed(_)), "{text:?} was changed to {out:?}");
        assert!(found.is_empty(), "{text:?}: {found:?}");
    }

    fn assert_scrubs(text: &str, expected: &str) {
        let (out, _) = scrub_text(text);
        assert_eq!(out, expected, "scrubbing {text:?}");
        assert_eq!(scrub(expected), expected, "not idempotent on {expected:?}");
    }

    // -- API ------------------------------------------------------------------

    #[test]
    fn kinds_serialise_as_snake_case_names() {
        let names: Vec<String> = PiiKind::ALL.iter().map(|k| serde_json::to_string(k).unwrap()).collect();
        assert_eq!(names, ["\"email\"", "\"card\"", "\"phone\"", "\"rrn\"", "\"secret\""]);
        for k in PiiKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
        let r = Redaction {
            path: "properties.note".into(),
            kind: Email,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"path": "properties.note", "kind": "email"})
        );
    }

    #[test]
    fn placeholders_are_typed_and_an_address_names_its_lowercased_domain() {
        assert_eq!(Email.placeholder("Example.COM"), "[email:example.com]");
        assert_eq!(Card.placeholder(""), "[card]");
        assert_eq!(Phone.placeholder("ignored"), "[phone]");
        assert_eq!(Rrn.placeholder(""), "[rrn]");
        assert_eq!(Secret.placeholder(""), "[secret]");
    }

    #[test]
    fn text_without_pii_is_borrowed_and_reports_nothing() {
        for text in [
            "",
            "the code expired",
            "로그인 실패: 코드가 만료되었습니다",
            "plan_id pro, source search",
            "blog_post_template_001",
            "amount 12,500 KRW",
            "see https://example.com/pricing?plan=pro#faq",
            "Bearer",
            "a - b -- c",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn kinds_are_reported_once_per_replacement_in_text_order() {
        assert_eq!(
            kinds("a@x.io 010-1234-5678 b@y.io 4111 1111 1111 1111 token=abc"),
            [Email, Phone, Email, Card, Secret]
        );
    }

    // -- Email ----------------------------------------------------------------

    #[test]
    fn an_address_becomes_its_lowercased_domain() {
        assert_scrubs("user Alice@Example.COM not found", "user [email:example.com] not found");
        assert_eq!(kinds("Alice@Example.COM"), [Email]);
    }

    #[test]
    fn addresses_use_the_service_rule_any_non_space_local_part() {
        assert_scrubs("a.b+tag@x.io", "[email:x.io]");
        assert_scrubs("홍길동@example.kr 님", "[email:example.kr] 님");
        assert_scrubs("o'neil@x.io", "[email:x.io]");
        assert_scrubs("!#$%&*+/?^_`~@x.io", "[email:x.io]");
        // The stored-field check splits at the last `@`: so does the scrubber.
        assert_scrubs("a@b@x.io", "[email:x.io]");
        assert_scrubs("bob@localhost", "[email:localhost]");
        assert_scrubs("user@192.168.0.1", "[email:192.168.0.1]");
    }

    #[test]
    fn an_address_keeps_the_punctuation_around_it() {
        assert_scrubs("email=alice@x.io&next=1", "email=[email:x.io]&next=1");
        assert_scrubs("Alice <alice@x.io>", "Alice <[email:x.io]>");
        assert_scrubs("(alice@x.io)", "([email:x.io])");
        assert_scrubs("mailto:alice@x.io", "mailto:[email:x.io]");
        assert_scrubs("'alice@x.io'", "'[email:x.io]'");
        assert_scrubs("{\"email\":\"alice@x.io\"}", "{\"email\":\"[email:x.io]\"}");
        assert_scrubs("write to alice@x.io.", "write to [email:x.io].");
        assert_scrubs("a@x.io,b@y.io;c@z.io", "[email:x.io],[email:y.io];[email:z.io]");
    }

    #[test]
    fn a_korean_particle_after_an_address_survives() {
        assert_scrubs("alice@example.com으로 보냈습니다", "[email:example.com]으로 보냈습니다");
        assert_scrubs("메일: alice@naver.com에게", "메일: [email:naver.com]에게");
        // An IDN domain stays whole.
        assert_scrubs("a@예시.한국", "[email:예시.한국]");
        assert_scrubs("a@café.fr", "[email:café.fr]");
    }

    #[test]
    fn an_address_inside_a_url_keeps_the_url() {
        assert_scrubs(
            "GET https://x.io/reset?email=alice@y.io&next=/home failed",
            "GET https://x.io/reset?email=[email:y.io]&next=/home failed",
        );
        assert_scrubs(
            "https://x.io/users/alice@y.io/profile",
            "https://x.io/users/[email:y.io]/profile",
        );
        assert_scrubs(
            "https://x/?a=alice@x.io&b=bob@y.io",
            "https://x/?a=[email:x.io]&b=[email:y.io]",
        );
    }

    #[test]
    fn an_address_longer_than_the_stored_limit_is_still_scrubbed() {
        let long = format!("{}@x.io", "a".repeat(400));
        assert_scrubs(&long, "[email:x.io]");
    }

    #[test]
    fn a_lone_at_sign_a_mention_or_a_missing_domain_is_not_an_address() {
        for text in [
            "@",
            "@alice",
            "thanks @alice!",
            "alice@",
            "alice@ x",
            "a @ b",
            "@@",
            "(@)",
            "alice@.",
            "x @- y",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn an_email_placeholder_holds_no_at_sign_and_is_never_rescanned() {
        let once = scrub("alice@010-1234-5678.example");
        assert_eq!(once, "[email:010-1234-5678.example]");
        assert!(!once.contains('@'));
        assert_kept(&once);
    }

    // -- Card -----------------------------------------------------------------

    #[test]
    fn luhn_valid_card_numbers_are_replaced() {
        for card in [
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "6011111111111117",
            "30569309025904",
            "4222222222222",
            "9410123456789010", // a Korean domestic-only BIN: no network-prefix list
        ] {
            assert!(luhn(card.as_bytes()), "{card}");
            assert_scrubs(&format!("card {card} declined"), "card [card] declined");
        }
    }

    #[test]
    fn grouped_card_numbers_are_replaced_whole() {
        assert_scrubs("4111 1111 1111 1111", "[card]");
        assert_scrubs("4111-1111-1111-1111", "[card]");
        assert_scrubs("amex 3782 822463 10005.", "amex [card].");
        assert_scrubs("카드번호 4111-1111-1111-1111으로 결제", "카드번호 [card]으로 결제");
        assert_scrubs("4111 1111 1111 1111 12/25", "[card] 12/25");
        assert_scrubs("ref 2026-0310 4111-1111-1111-1111", "ref 2026-0310 [card]");
    }

    #[test]
    fn a_sixteen_digit_order_id_failing_luhn_is_kept() {
        assert!(!luhn(b"2026031000001234"));
        assert_kept("order 2026031000001234 shipped");
        assert_kept("4111 1111 1111 1112");
    }

    #[test]
    fn a_number_inside_a_longer_alphanumeric_token_is_kept() {
        assert_kept("token abc1234567890123def");
        assert_kept("id x4111111111111111");
        assert_kept("sku_4111111111111111");
        assert_kept("4111111111111111abc");
        assert_kept("41111111111111111111"); // 20 digits
    }

    #[test]
    fn mixed_or_odd_grouping_is_not_a_card() {
        assert_kept("4111 1111-1111 1111");
        assert_kept("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1");
        assert_kept("41111 111 1111 1111"); // first group not 4
                                            // Two phone numbers side by side never combine into a card.
        assert_eq!(kinds("010-1234-5678 010-9876-5432"), [Phone, Phone]);
    }

    #[test]
    fn a_thirteen_digit_number_is_a_card_only_when_it_starts_with_4() {
        // Unix milliseconds: 13 digits starting with 1, kept even when Luhn-valid.
        let ms = (1_773_144_000_000u64..)
            .map(|n| n.to_string())
            .find(|n| luhn(n.as_bytes()))
            .unwrap();
        assert_kept(&format!("at {ms}"));
        assert_scrubs("4222222222222", "[card]");
    }

    #[test]
    fn amounts_and_dates_are_not_cards() {
        assert_kept("amount 12,500 KRW");
        assert_kept("1,234,567,890,123,456");
        assert_kept("2026-03-10T12:00:00Z");
    }

    // -- Resident registration number -------------------------------------------

    #[test]
    fn a_valid_resident_registration_number_is_replaced_with_or_without_dash() {
        assert_scrubs("주민번호 900101-1234568 확인", "주민번호 [rrn] 확인");
        assert_scrubs("9001011234568", "[rrn]");
        assert_scrubs("rrn=850315-2345678", "rrn=[rrn]");
        assert_scrubs("0002293123454", "[rrn]"); // 2000-02-29 exists
        assert_scrubs("9912311876546번", "[rrn]번");
    }

    #[test]
    fn an_invalid_date_gender_digit_or_check_digit_is_not_a_resident_number() {
        for text in [
            "901301-1234565",  // month 13
            "020229-3123459",  // 2002-02-29 does not exist
            "010229-3123451",  // 2001-02-29 does not exist
            "900101-9234560",  // 7th digit 9
            "900101-1234569",  // wrong check digit
            "900101 1234568",  // space is not the separator
            "x900101-1234568", // touches a letter
            "2026-900101-1234568",
        ] {
            assert_eq!(scrub(text), text, "{text}");
        }
    }

    #[test]
    fn a_grouped_card_is_a_card_even_when_its_digits_form_a_resident_number() {
        // 4312055439140 is a valid RRN and Luhn-valid; grouped 4-4-5 it can only be a card.
        assert_eq!(kinds("4312055439140"), [Rrn]);
        assert_scrubs("a 4312 0554 39140 ", "a [card] ");
    }

    #[test]
    fn a_resident_number_that_is_also_luhn_valid_is_a_resident_number() {
        assert!(luhn(b"4501011100024"));
        assert_eq!(kinds("4501011100024"), [Rrn]);
    }

    // -- Phone ------------------------------------------------------------------

    #[test]
    fn korean_mobile_numbers_in_every_separator_style_are_replaced() {
        for phone in [
            "010-1234-5678",
            "010 1234 5678",
            "010.1234.5678",
            "01012345678",
            "011-123-4567",
            "0191234567",
        ] {
            assert_scrubs(&format!("연락처 {phone} 입니다"), "연락처 [phone] 입니다");
        }
        assert_scrubs("010-1234-5678로 전화주세요", "[phone]로 전화주세요");
        assert_scrubs("(010-1234-5678)", "([phone])");
    }

    #[test]
    fn korean_landlines_and_voip_numbers_are_replaced() {
        for phone in [
            "02-123-4567",
            "02-1234-5678",
            "031-1234-5678",
            "051 123 4567",
            "064.123.4567",
            "(02)123-4567",
            "070-1234-5678",
        ] {
            assert_scrubs(&format!("tel {phone}."), "tel [phone].");
        }
    }

    #[test]
    fn international_numbers_are_replaced() {
        for phone in [
            "+82 10-1234-5678",
            "+821012345678",
            "+82 (0)10 1234 5678",
            "+1 (415) 555-0100",
            "+44 20 7946 0958",
        ] {
            assert_scrubs(&format!("call {phone} now"), "call [phone] now");
        }
        // A longer chain is cut within 15 digits.
        assert_scrubs("+82 10 1234 5678 1234 5678", "[phone] 1234 5678");
    }

    #[test]
    fn a_uuid_is_not_a_phone_number() {
        for uuid in [
            "123e4567-e89b-12d3-a456-426614174000",
            "01012345-6789-0123-4567-890123456789",
            "00000000-0000-0000-0000-000000000000",
        ] {
            assert_kept(uuid);
        }
    }

    #[test]
    fn timestamps_dates_and_versions_are_not_phones_or_resident_numbers() {
        for text in [
            "2026-03-10T12:00:00Z",
            "2026-03-10",
            "2026-03-10T12:00:00.123+09:00",
            "20260310120000",
            "v0.10.1234",
            "12:00:01.0212345678",
            "1+82101234",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn numbers_that_merely_resemble_phones_are_kept() {
        for text in [
            "010-1234-56789",   // too long
            "010-1234-5678-9",  // continues
            "012-1234-5678",    // no such prefix
            "a010-1234-5678",   // touches a letter
            "+82 10 12",        // too short
            "+0 10 1234 5678",  // country code cannot start with 0
            "+821012345678abc", // touches a letter
            "9-010-1234-5678",  // continues a chain
        ] {
            assert_eq!(scrub(text), text, "{text}");
        }
    }

    // -- Secrets ----------------------------------------------------------------

    #[test]
    fn bearer_tokens_are_replaced_but_the_word_in_prose_is_kept() {
        assert_scrubs("Authorization: Bearer abcDEF123456", "Authorization: Bearer [secret]");
        assert_scrubs("bearer   xxxxxxxxxxxxxxxxxxxx", "bearer   [secret]");
        assert_scrubs("BEARER a1b2c3d4e5==", "BEARER [secret]");
        for text in [
            "expected a Bearer token",
            "Bearer undefined",
            "Bearer",
            "Bearer authentication",
            "Bearer abc1",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn basic_credentials_are_replaced_when_they_decode_to_user_and_password() {
        // "user:pass"
        assert_scrubs("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [secret]");
        assert_kept("Basic auth is disabled");
        assert_kept("Basic dGVzdA=="); // "test": no colon
    }

    #[test]
    fn jwts_are_replaced() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_scrubs(&format!("token {jwt} expired"), "token [secret] expired");
        assert_scrubs(&format!("({jwt})."), "([secret]).");
        // A JWE with an empty encrypted key.
        assert_scrubs("eyJhbGciOiJkaXIifQ..abc.def.ghi", "[secret]");
        for text in [
            "eyJhbGciOiJIUzI1NiJ9",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIi",
            "xeyJhbGci.eyJ.abc",
            "eyJ.a.b",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn stripe_secret_and_webhook_keys_are_replaced_but_publishable_keys_are_kept() {
        assert_scrubs("key sk_live_51H8xYzAbCdEfGhIj failed", "key [secret] failed");
        assert_scrubs("sk_test_abcdefgh12345678", "[secret]");
        assert_scrubs("rk_live_abcdefgh1234", "[secret]");
        assert_scrubs("rk_test_abcdefgh1234", "[secret]");
        assert_scrubs("whsec_abcdefgh12345678", "[secret]");
        assert_kept("pk_live_51H8xYzAbCdEfGhIj");
        assert_kept("pk_test_abcdefgh12345678");
        assert_kept("use an sk_live_ key"); // too short to be a key
        assert_kept("mask_live_abcdefgh1234"); // not at a word boundary
    }

    #[test]
    fn github_and_slack_tokens_are_replaced() {
        assert_scrubs("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[secret]");
        assert_scrubs("github_pat_11ABCDEFG0123456789_abcdefghijkl", "[secret]");
        assert_scrubs("xoxb-1234-5678-abcdefgh", "[secret]");
        assert_kept("ghp_short");
    }

    #[test]
    fn pem_private_keys_are_replaced_whole() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234567890\nabc+/=\n-----END RSA PRIVATE KEY-----";
        assert_scrubs(&format!("key:\n{pem}\nbye"), "key:\n[secret]\nbye");
        let pkcs8 = "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----";
        assert_scrubs(&format!("\"{pkcs8}\""), "\"[secret]\"");
        assert_scrubs(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r\n-----END OPENSSH PRIVATE KEY----- then",
            "[secret] then",
        );
        assert_scrubs(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nxx\n-----END PGP PRIVATE KEY BLOCK-----",
            "[secret]",
        );
    }

    #[test]
    fn an_unterminated_pem_private_key_is_replaced_to_the_end() {
        assert_scrubs(
            "oops -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI 4111111111111111",
            "oops [secret]",
        );
        // A different END label does not terminate it.
        assert_scrubs(
            "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END PRIVATE KEY----- after",
            "[secret]",
        );
    }

    #[test]
    fn public_keys_and_certificates_are_not_secrets() {
        assert_kept("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----");
        assert_kept("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
    }

    #[test]
    fn a_url_password_is_replaced_and_scheme_user_and_host_are_kept() {
        assert_scrubs(
            "https://user:hunter2@host.io/path?q=1",
            "https://user:[secret]@host.io/path?q=1",
        );
        assert_scrubs(
            "postgres://app:p@ss:w0rd@db.internal:5432/app",
            "postgres://app:[secret]@db.internal:5432/app",
        );
        assert_scrubs("redis://:s3cret@cache:6379", "redis://:[secret]@cache:6379");
        assert_kept("https://user@host.io/path");
        assert_kept("https://host.io:8443/path");
        assert_kept("https://user:@host.io");
    }

    #[test]
    fn a_url_user_that_is_an_address_is_an_address() {
        assert_scrubs("ftp://alice@x.io:pw@host/", "ftp://[email:x.io]:[secret]@host/");
    }

    #[test]
    fn values_of_secret_named_keys_inside_text_are_replaced() {
        assert_scrubs(
            "login failed password=hunter2 user=bob",
            "login failed password=[secret] user=bob",
        );
        assert_scrubs(
            "GET /cb?code=1&access_token=abc.def-ghi&state=x",
            "GET /cb?code=1&access_token=[secret]&state=x",
        );
        assert_scrubs(
            "Server=db;Password=p4ss;User=app",
            "Server=db;Password=[secret];User=app",
        );
        assert_scrubs("--db-password=\"two words\" --x", "--db-password=\"[secret]\" --x");
        assert_scrubs("API_KEY = abc123", "API_KEY = [secret]");
        assert_scrubs("authorization=Bearer abc123def456", "authorization=[secret]");
        assert_scrubs("password=비밀번호123 다음", "password=[secret] 다음");
    }

    #[test]
    fn quoted_secret_pairs_inside_text_are_replaced() {
        assert_scrubs(
            r#"body {"user":"bob","password":"hun\"ter2","n":1}"#,
            r#"body {"user":"bob","password":"[secret]","n":1}"#,
        );
        assert_scrubs("{'api_key': 'abc', 'x': 1}", "{'api_key': '[secret]', 'x': 1}");
        assert_scrubs(r#"{\"token\":\"abc\"}"#, r#"{\"token\":\"[secret]\"}"#);
        assert_scrubs(r#"{"pin_code": 1, "cvv": 123}"#, r#"{"pin_code": 1, "cvv": [secret]}"#);
        assert_kept(r#"{"password": null, "token": true, "secret": {"a": 1}}"#);
    }

    #[test]
    fn ordinary_keys_and_comparisons_are_not_secrets() {
        for text in [
            "author=bob",
            "token_count=3",
            "auth_method=otp",
            "session_id=abc",
            "if token == null",
            "password != x",
            "{\"author\":\"bob\"}",
            "key=value",
        ] {
            assert_kept(text);
        }
    }

    // -- Never touched ------------------------------------------------------------

    #[test]
    fn trace_ids_and_event_ids_are_never_touched() {
        for text in [
            "trace_4111111111111111",
            "trace_abc-1.2:3",
            "trace_010-1234-5678",
            "trace_2026-03-10T12:00:00Z-4111-1111-1111-1111",
            "evt_0123456789abcdef0123456789abcdef",
            "evt_41111111111111110000000000000000",
            "see trace_sk_live_abcdefgh12345678 and evt_gen_1",
            "trace_id=trace_4111111111111111",
        ] {
            assert_kept(text);
        }
    }

    #[test]
    fn an_address_inside_a_trace_like_run_is_still_an_address() {
        assert_scrubs("trace_alice@x.io", "[email:x.io]");
    }

    #[test]
    fn a_trace_id_ends_at_free_text_delimiters() {
        assert_scrubs("trace_abc,010-1234-5678", "trace_abc,[phone]");
    }

    // -- Whole-text properties ------------------------------------------------------

    #[test]
    fn text_around_matches_is_preserved_byte_for_byte() {
        let text = "  앞 alice@x.io\t뒤\r\n4111 1111 1111 1111 😀 010-1234-5678 끝  ";
        assert_eq!(scrub(text), "  앞 [email:x.io]\t뒤\r\n[card] 😀 [phone] 끝  ");
    }

    #[test]
    fn scrubbing_twice_changes_nothing() {
        for text in [
            "https://u:p@h https://u:[secret]@h",
            "4111-1111-1111-1111-900101-1234568",
            "https://a.010-1234-5678.b@host",
            "password=[secret] token=[card]x",
            "Bearer [secret]",
            "[email:x.io]@y.io",
            "a@[email:x.io]",
            "sk_live_12345678@x.io",
            "Bearer abc@x.io",
            "010-1234-5678+821012345678",
            "-----BEGIN RSA PRIVATE KEY----- [card] 4111111111111111",
            "[email:010-1234-5678]",
            "+82 10 1234 5678 02 123 4567",
            // Found by the properties and the stress run.
            "\"token\":010://[email:x.io]u:p@h@",
            "\"token\":://[card]@@010@",
            "\"token\":://}/@https://",
            "https://(@[@",
            "https://eyJ@[email:@://",
            "xhttps://(1111https://token=Bearer sk_live_-----5678;u:p@h{a.b",
            "010-1234-5678-otp=123",
        ] {
            let once = scrub(text);
            assert_eq!(scrub(&once), once, "{text:?} → {once:?}");
        }
    }

    const FRAGMENTS: &[&str] = &[
        "@",
        "://",
        "https://",
        "u:p@h",
        ":",
        "/",
        "?",
        "&",
        "=",
        "\"",
        "'",
        "\\\"",
        "(",
        ")",
        "[",
        "]",
        ",",
        ".",
        "-",
        "_",
        " ",
        "\t",
        "\n",
        "+",
        "+82 ",
        "010",
        "02",
        "1234",
        "5678",
        "4111",
        "0",
        "9",
        "900101",
        "1234568",
        "4111111111111111",
        "[card]",
        "[email:",
        "[email:x.io]",
        "eyJ",
        "eyJhbGciOi",
        "Bearer ",
        "BASIC ",
        "dXNlcjpwYXNz",
        "sk_live_",
        "rk_test_",
        "whsec_",
        "xoxb-",
        "xoxp-",
        "ghp_",
        "gho_",
        "github_pat_",
        "abcdefgh",
        "ABCDEFGH12345678",
        "password",
        "token",
        "api_key",
        "otp",
        "trace_",
        "evt_",
        "x",
        "가",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
        "-----",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// The quick gate only skips rules that could not have matched.
        #[test]
        fn the_gate_never_hides_a_rule(parts in proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..40)) {
            let text = parts.concat();
            let gated = scan_with(&text, rules_to_run(text.as_bytes()));
            let forced = scan_with(&text, u16::MAX);
            proptest::prop_assert_eq!(gated, forced, "{:?}", text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// The letter prefilter of `is_secret_key` never rejects a secret name.
        #[test]
        fn secret_key_prefilter_agrees_with_the_plain_rule(
            parts in proptest::collection::vec(
                proptest::sample::select(&["pass", "word", "wd", "p", "w", "d", "sec", "ret", "tok", "en", "auth",
                    "api", "key", "access", "cookie", "otp", "cv", "v", "c", "2", "_", "-", "X", "jwt", "session",
                    "private", "cred", "ential", "signing", "master", "phrase", "code", "a", "o", "t"][..]),
                0..8,
            )
        ) {
            let key = parts.concat();
            let normal: String = key.chars().filter(|&c| c != '_' && c != '-').collect::<String>().to_ascii_lowercase();
            let plain = crate::privacy::keys::SECRET_WORDS.iter().any(|w| normal.contains(w))
                || crate::privacy::keys::SECRET_SUFFIXES.iter().any(|s| normal.ends_with(s));
            proptest::prop_assert_eq!(is_secret_key(&key), plain, "{}", key);
        }
    }

    #[test]
    fn literal_placeholders_are_kept() {
        assert_kept("[card] [phone] [rrn] [secret] [email:x.io]");
    }

    #[test]
    fn utf8_is_never_cut_inside_a_character() {
        for text in [
            "가@나.다",
            "😀@😀",
            "@가",
            "가@",
            "a@b.c가",
            "é@é.é",
            "password=가",
            "\"token\":\"가",
        ] {
            let _ = scrub(text);
        }
        assert_scrubs("가@나.다", "[email:나.다]");
    }

    // -- JSON values ------------------------------------------------------------

    #[test]
    fn every_string_at_any_depth_is_scrubbed_with_its_path() {
        let mut v = json!({
            "note": "mail alice@x.io",
            "items": [{"text": "call 010-1234-5678"}, "4111 1111 1111 1111", 3, null],
            "deep": {"a": {"b": ["x", "y@z.io"]}},
            "n": 4111111111111111u64,
            "ok": true
        });
        let r = scrub_value(&mut v, "properties");
        assert_eq!(
            v,
            json!({
                "note": "mail [email:x.io]",
                "items": [{"text": "call [phone]"}, "[card]", 3, null],
                "deep": {"a": {"b": ["x", "[email:z.io]"]}},
                "n": 4111111111111111u64,
                "ok": true
            })
        );
        let got: Vec<(&str, PiiKind)> = r.iter().map(|r| (r.path.as_str(), r.kind)).collect();
        assert_eq!(
            got,
            [
                ("properties.deep.a.b[1]", Email),
                ("properties.items[0].text", Phone),
                ("properties.items[1]", Card),
                ("properties.note", Email),
            ]
        );
    }

    #[test]
    fn a_root_string_carries_the_given_path_and_an_empty_path_gives_bare_keys() {
        let mut s = json!("alice@x.io");
        assert_eq!(
            scrub_value(&mut s, "error_message"),
            [Redaction {
                path: "error_message".into(),
                kind: Email
            }]
        );
        assert_eq!(s, json!("[email:x.io]"));
        let mut o = json!({"a": ["b@c.io"]});
        assert_eq!(
            scrub_value(&mut o, ""),
            [Redaction {
                path: "a[0]".into(),
                kind: Email
            }]
        );
    }

    #[test]
    fn values_under_secret_keys_become_secret_whatever_their_type() {
        let mut v = json!({
            "password": "hunter2",
            "API_KEY": 12345,
            "client-secret": {"nested": "x"},
            "refreshToken": ["a"],
            "Authorization": "Bearer x",
            "session_token": "s",
            "user": {"pwd": "p", "name": "bob"},
            "otp": "123456"
        });
        let r = scrub_value(&mut v, "");
        assert_eq!(
            v,
            json!({
                "password": "[secret]",
                "API_KEY": "[secret]",
                "client-secret": "[secret]",
                "refreshToken": "[secret]",
                "Authorization": "[secret]",
                "session_token": "[secret]",
                "user": {"pwd": "[secret]", "name": "bob"},
                "otp": "[secret]"
            })
        );
        assert_eq!(r.len(), 8);
        assert!(r.iter().all(|r| r.kind == Secret));
        assert!(r.iter().any(|r| r.path == "user.pwd"));
    }

    #[test]
    fn values_that_cannot_hold_a_secret_stay_under_secret_keys() {
        let mut v =
            json!({"token": null, "auth": true, "secret": "", "apikey": [], "cookie": {}, "password": "[secret]"});
        let before = v.clone();
        assert!(scrub_value(&mut v, "").is_empty());
        assert_eq!(v, before);
    }

    #[test]
    fn ordinary_keys_keep_their_values() {
        let mut v = json!({"author": "bob", "token_count": 3, "auth_method": "otp", "session_id": "s1",
                           "cookie_consent": "yes", "public_key": "pk", "key": "k", "oauth_provider": "google"});
        let before = v.clone();
        assert!(scrub_value(&mut v, "properties").is_empty());
        assert_eq!(v, before);
    }

    #[test]
    fn keys_holding_pii_are_scrubbed_and_collisions_get_a_suffix() {
        let mut v = json!({"alice@x.io": 1, "bob@x.io": 2, "010-1234-5678": "a"});
        let r = scrub_value(&mut v, "p");
        assert_eq!(v, json!({"[email:x.io]": 1, "[email:x.io]#2": 2, "[phone]": "a"}));
        let mut paths: Vec<&str> = r.iter().map(|r| r.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(paths, ["p.[email:x.io]", "p.[email:x.io]#2", "p.[phone]"]);
        // No path ever carries the value.
        assert!(r.iter().all(|r| !r.path.contains('@') && !r.path.contains("5678")));
    }

    #[test]
    fn scrubbing_a_value_twice_changes_nothing() {
        let mut v =
            json!({"a@x.io": {"password": 1, "t": "Bearer abcdefgh12345678", "l": ["b@y.io", {"k": "010-1234-5678"}]}});
        scrub_value(&mut v, "");
        let once = v.clone();
        assert!(scrub_value(&mut v, "").is_empty());
        assert_eq!(v, once);
    }

    #[test]
    fn secret_key_names_follow_the_documented_rule() {
        for key in [
            "password",
            "passwd",
            "pwd",
            "secret",
            "token",
            "apikey",
            "api_key",
            "API-KEY",
            "accessKey",
            "authorization",
            "auth",
            "cookie",
            "session_token",
            "privateKey",
            "client_secret",
            "refreshToken",
            "db_password",
            "x-api-key",
            "csrf_token",
            "mysql_pwd",
            "set-cookie",
            "otp",
            "cvv",
            "id_token",
            "passphrase",
            "credentials",
            "aws_secret_access_key",
            "jwt",
            "sms_otp",
            "totp",
            "card_cvv",
            "cvc2",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "author",
            "auth_method",
            "oauth_provider",
            "token_count",
            "max_tokens",
            "tokens",
            "cookie_consent",
            "session_id",
            "public_key",
            "key",
            "email",
            "name",
            "trace_id",
            "pinned",
            "",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
        assert!(is_secret_key(&format!("{}_password", "x".repeat(100))));
    }
}
