//! Decimal digits written by hand, two at a time: the dumpers' integer
//! formatting, with no `core::fmt` machinery per number.

/// `"00"` to `"99"`.
const DIGIT_PAIRS: [[u8; 2]; 100] = digit_pairs();

// Evaluated at compile time only: an index out of range would be a build
// error, not a panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn digit_pairs() -> [[u8; 2]; 100] {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0u8;
    while i < 100 {
        t[i as usize] = [b'0' + i / 10, b'0' + i % 10];
        i += 1;
    }
    t
}

/// Writes the decimal digits of `v` right-aligned into `dst`, which is as
/// long as `v` has digits. Digits are below 10, so the casts are exact.
#[inline]
pub(super) fn fill_u32(dst: &mut [u8], mut v: u32) {
    let mut pairs = dst.rchunks_exact_mut(2);
    for pair in &mut pairs {
        let d = (v % 100) as usize;
        v /= 100;
        pair.copy_from_slice(DIGIT_PAIRS.get(d).unwrap_or(&[b'0'; 2]));
    }
    if let [one] = pairs.into_remainder() {
        *one = b'0' | (v % 10) as u8;
    }
}

/// As [`fill_u32`], for 64-bit values.
#[inline]
pub(super) fn fill_u64(dst: &mut [u8], mut v: u64) {
    let mut pairs = dst.rchunks_exact_mut(2);
    for pair in &mut pairs {
        let d = (v % 100) as usize;
        v /= 100;
        pair.copy_from_slice(DIGIT_PAIRS.get(d).unwrap_or(&[b'0'; 2]));
    }
    if let [one] = pairs.into_remainder() {
        *one = b'0' | (v % 10) as u8;
    }
}
