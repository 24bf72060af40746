//! Time and size units shared by every stage.
//!
//! Simulated time is kept in integer nanoseconds so that runs are exactly
//! reproducible; QEMU's own clocks (milliseconds for the migration
//! statistics, microseconds for per-device save times) are derived from it
//! by truncation, as QEMU truncates its clock readings.

/// Simulated time or a duration, in nanoseconds.
pub type Nanos = u64;

/// Nanoseconds per microsecond.
pub const NS_PER_US: u64 = 1_000;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// One KiB.
pub const KIB: u64 = 1 << 10;
/// One MiB.
pub const MIB: u64 = 1 << 20;
/// One GiB.
pub const GIB: u64 = 1 << 30;
/// One TiB.
pub const TIB: u64 = 1 << 40;

/// The millisecond clock reading QEMU would see at simulated time `ns`.
#[inline]
pub fn ms_clock(ns: Nanos) -> u64 {
    ns / NS_PER_MS
}

/// Convert a duration in (fractional) nanoseconds to whole nanoseconds,
/// rounding up so that a non-empty piece of work always takes time.
#[inline]
pub fn ceil_ns(ns: f64) -> Nanos {
    if ns.is_finite() && ns > 0.0 {
        // Saturates at u64::MAX for absurd inputs, which the caller treats as
        // "never"; finite positive values below that convert exactly.
        ns.ceil() as u64
    } else {
        0
    }
}

/// Milliseconds (possibly fractional) to nanoseconds, rounded up.
#[inline]
pub fn ms_to_ns(ms: f64) -> Nanos {
    ceil_ns(ms * NS_PER_MS as f64)
}

/// Microseconds (possibly fractional) to nanoseconds, rounded up.
#[inline]
pub fn us_to_ns(us: f64) -> Nanos {
    ceil_ns(us * NS_PER_US as f64)
}
