//! The one place secret-derived bytes are compared: [`equal`].
//!
//! Call sites (bearer keys, `v1` signatures) take the comparison as a
//! parameter with [`equal`]'s shape and pass [`equal`] in production. A test
//! passes a function that records every comparison instead: that is how
//! `tests/constant_time.rs` proves that no candidate is skipped and that no
//! call site compares secrets with `==`. [`equal`] is generic over the
//! element so that a test can also count the elements it examines.

use subtle::{Choice, ConstantTimeEq};

/// Constant-time equality of two slices; `Choice(0)` when the lengths differ.
///
/// Built on `subtle`'s slice `ct_eq`: for equal lengths it examines every
/// element whatever the first difference, and answers a [`Choice`] so that
/// callers can fold several answers without a branch. Only the lengths
/// (public here: digest and MAC sizes) decide how much work is done.
pub fn equal<T: ConstantTimeEq>(a: &[T], b: &[T]) -> Choice {
    a.ct_eq(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_are_equal_and_any_difference_or_other_length_is_not() {
        let a = [7u8; 32];
        assert!(bool::from(equal(&a, &a)));
        for i in [0, 15, 31] {
            let mut b = a;
            b[i] ^= 1;
            assert!(!bool::from(equal(&a, &b)), "byte {i}");
        }
        assert!(!bool::from(equal(&a, &a[..31])));
        assert!(bool::from(equal::<u8>(&[], &[])));
    }
}
