//! Which object keys (and `key=value` / `"key": value` names inside text) name a secret.
//!
//! A key is normalised first: ASCII-lowercased, with `_` and `-` removed
//! (`API_KEY`, `api-key`, `apiKey` → `apikey`). It then names a secret when the
//! normal form
//! - **contains** one of [`SECRET_WORDS`]: `password`, `passwd`, `passphrase`,
//!   `passcode`, `secret`, `credential`, `privatekey`, `apikey`, `accesskey`
//!   (so `db_password`, `client_secret`, `x-api-key`, `aws_access_key_id` too);
//! - or **ends with** one of [`SECRET_SUFFIXES`]: `token`, `pwd`, `auth`,
//!   `authorization`, `cookie`, `jwt`, `sessionkey`, `signingkey`,
//!   `encryptionkey`, `masterkey`, `authkey`, `otp`, `cvv`, `cvc`, `cvv2`, `cvc2`
//!   (so `access_token`, `refresh_token`, `session_token`, `csrf_token`,
//!   `mysql_pwd`, `oauth`, `proxy-authorization`, `set-cookie`, `sms_otp`, `totp`,
//!   `card_cvv`).
//!
//! Every test is "contains" or "ends with", never "equals", so cutting a key
//! from the left never turns it into a secret name: inside text a later
//! replacement can shorten the key the scanner sees (`010-1234-5678-otp=`
//! becomes `[phone]-otp=`), and the answer must not change.
//!
//! Suffixes rather than substrings for the short words, so that ordinary
//! analytics keys stay: `author`, `auth_method`, `oauth_provider`,
//! `token_count`, `max_tokens`, `cookie_consent`, `session_id`, `public_key`,
//! `key` are **not** secret names. (Relay's `@password` matches `auth` and
//! `token` anywhere in the key, which would blank `author` and `token_count`.)

/// Words that make a key secret wherever they appear in its normal form.
pub const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "secret",
    "credential",
    "privatekey",
    "apikey",
    "accesskey",
];

/// Endings that make a key secret.
pub const SECRET_SUFFIXES: &[&str] = &[
    "token",
    "pwd",
    "auth",
    "authorization",
    "cookie",
    "jwt",
    "sessionkey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "authkey",
    "otp",
    "cvv",
    "cvc",
    "cvv2",
    "cvc2",
];

/// Longest key normalised on the stack; longer keys are normalised on the heap.
const STACK_KEY: usize = 64;

/// The set of ASCII letters in `word`, one bit per letter.
const fn letters(word: &str) -> u32 {
    let b = word.as_bytes();
    let mut mask = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_lowercase() {
            mask |= 1 << (b[i] - b'a');
        }
        i += 1;
    }
    mask
}

const PATTERNS: usize = SECRET_WORDS.len() + SECRET_SUFFIXES.len();

/// The letter sets a key must include to hold some word or suffix, keeping
/// only the minimal ones (`pwd` makes `password` redundant here): a key lacking
/// all of them is no secret name, which rejects nearly every ordinary key at once.
const REQUIRED_LETTERS: ([u32; PATTERNS], usize) = {
    let mut all = [0u32; PATTERNS];
    let mut i = 0;
    while i < SECRET_WORDS.len() {
        all[i] = letters(SECRET_WORDS[i]);
        i += 1;
    }
    while i < PATTERNS {
        all[i] = letters(SECRET_SUFFIXES[i - SECRET_WORDS.len()]);
        i += 1;
    }
    let mut minimal = [0u32; PATTERNS];
    let mut n = 0;
    let mut a = 0;
    while a < PATTERNS {
        // Dropped when another set is a subset of it (ties: the first kept).
        let mut redundant = false;
        let mut b = 0;
        while b < PATTERNS {
            if b != a && all[b] & all[a] == all[b] && (all[b] != all[a] || b < a) {
                redundant = true;
            }
            b += 1;
        }
        if !redundant {
            minimal[n] = all[a];
            n += 1;
        }
        a += 1;
    }
    (minimal, n)
};

/// Whether `key` names a secret (see the module docs for the exact rule).
pub fn is_secret_key(key: &str) -> bool {
    is_secret_key_bytes(key.as_bytes())
}

/// [`is_secret_key`] on bytes (the scanner's keys are ASCII slices of the text).
pub(crate) fn is_secret_key_bytes(key: &[u8]) -> bool {
    let mut present = 0u32;
    for &b in key {
        let c = b | 0x20;
        if c.is_ascii_lowercase() {
            present |= 1 << (c - b'a');
        }
    }
    let (required, n) = REQUIRED_LETTERS;
    // Some required set has all its letters present (none missing).
    if !required[..n].iter().any(|&need| need & !present == 0) {
        return false;
    }
    let mut stack = [0u8; STACK_KEY];
    let mut heap = Vec::new();
    let normal: &[u8] = if key.len() <= STACK_KEY {
        let mut n = 0;
        for &b in key {
            if b != b'_' && b != b'-' {
                stack[n] = b.to_ascii_lowercase();
                n += 1;
            }
        }
        &stack[..n]
    } else {
        heap.extend(
            key.iter()
                .copied()
                .filter(|&b| b != b'_' && b != b'-')
                .map(|b| b.to_ascii_lowercase()),
        );
        &heap
    };
    SECRET_SUFFIXES.iter().any(|s| normal.ends_with(s.as_bytes()))
        || SECRET_WORDS.iter().any(|w| contains(normal, w.as_bytes()))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.len() <= haystack.len() && haystack.windows(needle.len()).any(|w| w[0] == needle[0] && w == needle)
}
