//! Word-at-a-time helpers over the input's bytes.

/// The eight bytes at `at` as a little-endian word (the first byte
/// lowest), or `None` within eight bytes of the end.
#[inline]
pub(super) fn word(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk = bytes.get(at..at + 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(chunk);
    Some(u64::from_le_bytes(a))
}

/// `b` in every byte of a word.
#[inline]
pub(super) const fn splat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// Whether `a` and `b` hold the same bytes: for the short names of QAPI
/// members, a few overlapping word compares instead of a call to `memcmp`.
#[inline(always)]
pub(super) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let w4 = |s: &[u8], at: usize| {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_le_bytes(w)
    };
    // Both have `n` bytes, so `word` finds eight at each offset used.
    let w8 = |s: &[u8], at: usize| word(s, at).unwrap_or_default();
    match n {
        0 => true,
        // Bytes 0, n/2 and n-1 are all of them.
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        // The first 16 bytes and the last 16 cover it.
        17..=32 => {
            w8(a, 0) == w8(b, 0)
                && w8(a, 8) == w8(b, 8)
                && w8(a, n - 16) == w8(b, n - 16)
                && w8(a, n - 8) == w8(b, n - 8)
        }
        _ => a == b,
    }
}
