//! Properties of the PII scrubber (`funnel::privacy`) over generated inputs
//! (proptest): idempotence, no generated PII surviving, untouched text staying
//! borrowed, and `scrub_value` changing only what it may.

use std::borrow::Cow;

use proptest::prelude::*;
use serde_json::{Map, Value};

use funnel::privacy::{is_secret_key, scrub_text, scrub_value};

// -- Generators ---------------------------------------------------------------

/// Fragments that trigger, almost trigger or border the rules; concatenated at random
/// they reach the scanner's corner cases far more often than arbitrary text.
const FRAGMENTS: &[&str] = &[
    "@",
    "@",
    "://",
    "https://",
    "u:p@h",
    ":",
    "/",
    "?",
    "&",
    "#",
    "=",
    "==",
    "\"",
    "'",
    "`",
    "\\\"",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ".",
    "-",
    "--",
    " ",
    " ",
    "\n",
    "\t",
    "+",
    "+82 ",
    "010",
    "02",
    "031",
    "1234",
    "5678",
    "4111",
    "1111",
    "0",
    "1",
    "9",
    "900101",
    "1234568",
    "4111111111111111",
    "[card]",
    "[phone]",
    "[rrn]",
    "[secret]",
    "[email:",
    "[email:x.io]",
    "eyJ",
    "eyJhbGciOi",
    "Bearer ",
    "bearer",
    "Basic ",
    "dXNlcjpwYXNz",
    "sk_live_",
    "pk_live_",
    "whsec_",
    "xoxb-",
    "ghp_",
    "abcdefgh",
    "ABCDEFGH12345678",
    "password",
    "token",
    "api_key",
    "\"token\":",
    "'secret': ",
    "trace_",
    "evt_",
    "_",
    "x",
    "a.b",
    "example.com",
    "가",
    "으로",
    "😀",
    "é",
    "\u{3000}",
    "\u{0}",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "-----BEGIN ",
    "PRIVATE KEY",
    "-----",
];

fn fragment_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..48).prop_map(|parts| parts.concat())
}

fn luhn_complete(body: &str) -> String {
    // Appends the digit that makes `body` + digit pass Luhn.
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let x = u32::from(c - b'0');
            if i % 2 == 0 {
                let d = x * 2;
                if d > 9 {
                    d - 9
                } else {
                    d
                }
            } else {
                x
            }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn rrn_complete(body: &str) -> String {
    const WEIGHTS: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    let sum: u32 = body.bytes().zip(WEIGHTS).map(|(c, w)| u32::from(c - b'0') * w).sum();
    format!("{body}{}", (11 - sum % 11) % 10)
}

/// A generated piece of PII: the text spliced in, and the substrings that must not survive.
#[derive(Debug, Clone)]
struct Pii {
    text: String,
    forbidden: Vec<String>,
}

fn email() -> impl Strategy<Value = Pii> {
    ("[a-zA-Z0-9._%+!#~-]{1,16}", "[a-z0-9]{1,10}", "(\\.[a-z]{2,6}){1,2}").prop_map(|(local, host, tld)| {
        let text = format!("{local}@{host}{tld}");
        Pii {
            forbidden: vec![text.clone(), format!("{local}@")],
            text,
        }
    })
}

fn card() -> impl Strategy<Value = Pii> {
    let iin = proptest::sample::select(&["4", "51", "55", "2221", "34", "37", "6011", "65", "35", "9410"][..]);
    (iin, 0usize..5, "[0-9]{18}", 0usize..3).prop_map(|(iin, len_pick, fill, style)| {
        let len = [13, 14, 15, 16, 19][len_pick];
        let len = if len == 13 && iin != "4" { 16 } else { len };
        let digits = luhn_complete(&format!("{iin}{}", &fill[..len - 1 - iin.len()]));
        let groups: &[usize] = match len {
            13 => &[4, 4, 5],
            14 => &[4, 6, 4],
            15 => &[4, 6, 5],
            16 => &[4, 4, 4, 4],
            _ => &[4, 4, 4, 4, 3],
        };
        let text = match style {
            0 => digits.clone(),
            _ => {
                let sep = if style == 1 { " " } else { "-" };
                let mut at = 0;
                let parts: Vec<&str> = groups
                    .iter()
                    .map(|g| {
                        at += g;
                        &digits[at - g..at]
                    })
                    .collect();
                parts.join(sep)
            }
        };
        Pii {
            forbidden: vec![text.clone(), digits],
            text,
        }
    })
}

fn phone() -> impl Strategy<Value = Pii> {
    let sep = || proptest::sample::select(&["-", " ", ".", ""][..]);
    let mobile = (
        proptest::sample::select(&["010", "011", "016", "017", "018", "019"][..]),
        sep(),
        "[0-9]{4}",
        sep(),
        "[0-9]{4}",
    )
        .prop_map(|(p, s1, m, s2, l)| format!("{p}{s1}{m}{s2}{l}"));
    let landline = (
        proptest::sample::select(&["02", "031", "032", "051", "064", "070"][..]),
        sep(),
        "[0-9]{3,4}",
        sep(),
        "[0-9]{4}",
    )
        .prop_map(|(p, s1, m, s2, l)| format!("{p}{s1}{m}{s2}{l}"));
    let e164 = (
        proptest::sample::select(&["+82 10 ", "+82-10-", "+8210", "+1 415 ", "+44 20 "][..]),
        "[0-9]{4}",
        sep(),
        "[0-9]{4}",
    )
        .prop_map(|(p, m, s, l)| format!("{p}{m}{s}{l}"));
    prop_oneof![mobile, landline, e164].prop_map(|text| Pii {
        forbidden: vec![text.clone()],
        text,
    })
}

fn rrn() -> impl Strategy<Value = Pii> {
    ("[0-9]{2}", 1u32..=12, 1u32..=28, 1u32..=4, "[0-9]{5}", any::<bool>()).prop_map(|(yy, mm, dd, g, rest, dash)| {
        let digits = rrn_complete(&format!("{yy}{mm:02}{dd:02}{g}{rest}"));
        let text = if dash {
            format!("{}-{}", &digits[..6], &digits[6..])
        } else {
            digits.clone()
        };
        Pii {
            forbidden: vec![text.clone(), digits[6..].to_string()],
            text,
        }
    })
}

fn secret() -> impl Strategy<Value = Pii> {
    prop_oneof![
        "[A-Za-z0-9]{8,30}".prop_map(|k| {
            let text = format!("sk_live_{k}");
            Pii {
                forbidden: vec![text.clone()],
                text,
            }
        }),
        "[A-Za-z0-9]{8,30}".prop_map(|k| {
            let text = format!("whsec_{k}");
            Pii {
                forbidden: vec![text.clone()],
                text,
            }
        }),
        ("[A-Za-z0-9_-]{5,30}", "[A-Za-z0-9_-]{1,30}", "[A-Za-z0-9_-]{1,40}").prop_map(|(a, b, c)| {
            let text = format!("eyJ{a}.{b}.{c}");
            Pii {
                forbidden: vec![text.clone()],
                text,
            }
        }),
        "[A-Za-z0-9]{15}[0-9][A-Za-z0-9]{0,24}".prop_map(|t| Pii {
            forbidden: vec![t.clone()],
            text: format!("Bearer {t}")
        }),
        "[A-Za-z0-9!$*]{1,12}".prop_map(|p| Pii {
            forbidden: vec![format!(":{p}@")],
            text: format!("https://user:{p}@host.io/x")
        }),
        "[A-Za-z0-9+/]{16,64}".prop_map(|body| Pii {
            forbidden: vec![body.clone()],
            text: format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----")
        }),
        "[A-Za-z0-9]{1,12}".prop_map(|v| Pii {
            forbidden: vec![format!("password={v}")],
            text: format!("password={v}")
        }),
    ]
}

fn any_pii() -> impl Strategy<Value = Pii> {
    prop_oneof![email(), card(), phone(), rrn(), secret()]
}

/// Words around the PII: no digit, `@`, `_`, `-`, `=`, `:`, `J` (so nothing in them can start a rule
/// or join a neighbour), but Korean, punctuation and line breaks.
fn plain_words() -> impl Strategy<Value = String> {
    "[a-zA-IK-Z가-힣 .,!?()\n]{1,16}"
}

/// Random text with PII spliced in, each piece set apart by white space and a plain word.
fn spliced(words: impl Strategy<Value = String>) -> impl Strategy<Value = (String, Vec<Pii>)> {
    (
        proptest::collection::vec((words, any_pii()), 1..6),
        "[a-zA-Z가-힣 ]{0,8}",
    )
        .prop_map(|(pieces, tail)| {
            let mut text = String::new();
            let mut all = Vec::new();
            for (word, pii) in pieces {
                text.push_str(&word);
                text.push(' ');
                text.push_str(&pii.text);
                text.push(' ');
                all.push(pii);
            }
            text.push_str(&tail);
            (text, all)
        })
}

fn json_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![fragment_soup(), ".{0,24}", any_pii().prop_map(|p| p.text)];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e15f64..1e15).prop_map(Value::from),
        text.prop_map(Value::String),
    ];
    let key = prop_oneof![
        proptest::sample::select(
            &[
                "password",
                "API_KEY",
                "token",
                "author",
                "note",
                "items",
                "session_token",
                "cookie_consent",
                "x",
                ""
            ][..]
        )
        .prop_map(str::to_string),
        "[a-z_]{1,8}",
        email().prop_map(|p| p.text),
        phone().prop_map(|p| p.text),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

// -- Checks ---------------------------------------------------------------------

fn scrub(text: &str) -> String {
    scrub_text(text).0.into_owned()
}

/// `after` is `before` with only strings scrubbed, keys scrubbed (a `#n` suffix on
/// collision) and values under secret keys replaced by `"[secret]"`.
fn only_allowed_changes(before: &Value, after: &Value) -> Result<(), String> {
    match (before, after) {
        (Value::String(b), Value::String(a)) => {
            if scrub(b) == *a {
                Ok(())
            } else {
                Err(format!("string {b:?} became {a:?}"))
            }
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
            b.iter().zip(a).try_for_each(|(b, a)| only_allowed_changes(b, a))
        }
        (Value::Object(b), Value::Object(a)) if b.len() == a.len() => {
            for (key, value) in b {
                let scrubbed = scrub(key);
                if scrubbed != *key {
                    // Renamed: present under its scrubbed name or a suffixed one.
                    if !a
                        .keys()
                        .any(|k| *k == scrubbed || k.starts_with(&format!("{scrubbed}#")))
                    {
                        return Err(format!("key {key:?} lost"));
                    }
                    continue;
                }
                let Some(now) = a.get(key) else {
                    return Err(format!("key {key:?} lost"));
                };
                if is_secret_key(key) {
                    let untouched = now == value;
                    if !(untouched || *now == Value::String("[secret]".into())) {
                        return Err(format!("secret {key:?} became {now}"));
                    }
                } else {
                    only_allowed_changes(value, now)?;
                }
            }
            Ok(())
        }
        (b, a) if b == a => Ok(()),
        (b, a) => Err(format!("{b} became {a}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// scrub(scrub(x)) == scrub(x), on arbitrary text.
    #[test]
    fn scrubbing_arbitrary_text_is_idempotent(text in ".{0,200}") {
        let once = scrub(&text);
        prop_assert_eq!(scrub(&once), once);
    }

    /// The same on text made of the rules' own triggers and delimiters.
    #[test]
    fn scrubbing_rule_fragments_is_idempotent(text in fragment_soup()) {
        let (once, kinds) = scrub_text(&text);
        let (twice, again) = scrub_text(&once);
        prop_assert_eq!(&twice, &once, "from {:?}", text);
        prop_assert!(again.is_empty(), "rescanned {:?} in {:?}", again, once);
        prop_assert!(matches!(twice, Cow::Borrowed(_)));
        prop_assert_eq!(kinds.is_empty(), matches!(once, Cow::Borrowed(_)));
    }

    /// The same on random text with generated PII spliced in.
    #[test]
    fn scrubbing_text_with_pii_is_idempotent((text, _) in spliced(".{0,12}")) {
        let once = scrub(&text);
        prop_assert_eq!(scrub(&once), once);
    }

    /// No generated address, card, phone, resident number or secret survives.
    #[test]
    fn no_generated_pii_survives((text, pii) in spliced(plain_words())) {
        let (out, kinds) = scrub_text(&text);
        prop_assert!(kinds.len() >= pii.len(), "{:?} → {:?} ({:?})", text, out, kinds);
        for p in &pii {
            for f in &p.forbidden {
                prop_assert!(!out.contains(f.as_str()), "{:?} survived in {:?}", f, out);
            }
        }
        // The words carry no `@`: every `@` left would be part of an unscrubbed address,
        // except the kept userinfo of a URL.
        prop_assert!(!out.replace("user:[secret]@", "").contains('@'), "{:?}", out);
    }

    /// Text without a digit, `@` or secret marker is returned as is, borrowed.
    #[test]
    fn text_without_triggers_is_borrowed_unchanged(text in "[a-zA-IK-Z가-힣 .,!?()'\"\n]{0,200}") {
        let (out, kinds) = scrub_text(&text);
        prop_assert!(matches!(out, Cow::Borrowed(_)), "{:?} → {:?}", text, out);
        prop_assert!(kinds.is_empty());
    }

    /// `scrub_value` never panics, changes only strings, keys and secret-keyed values,
    /// reports a redaction for each change, and is idempotent.
    #[test]
    fn scrub_value_changes_only_strings_and_secret_keyed_values(value in json_value(), path in "[a-z.]{0,12}") {
        let mut scrubbed = value.clone();
        let redactions = scrub_value(&mut scrubbed, &path);
        if let Err(why) = only_allowed_changes(&value, &scrubbed) {
            return Err(TestCaseError::fail(why));
        }
        prop_assert_eq!(redactions.is_empty(), scrubbed == value);
        prop_assert!(redactions.iter().all(|r| r.path.starts_with(&path)));
        let mut again = scrubbed.clone();
        prop_assert!(scrub_value(&mut again, &path).is_empty());
        prop_assert_eq!(again, scrubbed);
    }
}
