//! Guest RAM as the migration thread sees it: which pages are pending in
//! the migration bitmap, which the guest dirties, what they contain.
//!
//! Two engines implement [`MemoryEngine`] behind one migration loop
//! (model §3.1):
//! * [`aggregate::AggregateEngine`] (L1) keeps counts per page class and
//!   applies dirtying as expected values (closed-form distinct-page growth,
//!   §3.4): O(classes) per step whatever the guest size.
//! * [`bitmap::BitmapEngine`] (L2) keeps one pending bit per page and draws
//!   the guest's writes from a seeded PRNG, with a real direct-mapped XBZRLE
//!   cache.
//!
//! Guest writes are accumulated as *exposure* (page writes per class) and
//! turned into dirty pages only at a bitmap sync. With uniform writes and no
//! lazy-clear absorption this is exact in distribution: the set of pages
//! written between two syncs does not depend on when within the interval
//! each write happened, and a sync only asks which of them are not pending.

pub mod aggregate;
pub mod bitmap;

use crate::config::{GuestConfig, RestContent, ZeroLayout};

/// One page class of the layout (model §3.4).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSpec {
    /// Name (user classes, then `rest`, then `extra-ram-blocks`).
    pub name: String,
    /// Number of pages.
    pub pages: u64,
    /// Share of pages whose content is zero (a static property of the
    /// class: the zero pages stay zero, see the module docs).
    pub zero_fraction: f64,
    /// Page writes per second (before throttling).
    pub write_rate: f64,
    /// Bytes changed per write (XBZRLE encoded sizes).
    pub write_bytes: u32,
}

/// The guest's RAM: classes laid out in order from address 0.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryLayout {
    /// Target page size.
    pub page_size: u64,
    /// Classes in address order.
    pub classes: Vec<ClassSpec>,
    /// Placement of zero pages inside each class.
    pub zero_layout: ZeroLayout,
    /// PRNG seed.
    pub seed: u64,
}

impl MemoryLayout {
    /// The layout of a guest: its page classes, then the rest of guest RAM
    /// (zero or cold data), then the other RAMBlocks (VRAM, ROMs).
    pub fn from_guest(g: &GuestConfig, seed: u64) -> MemoryLayout {
        let ps = g.page_size.max(1);
        let mut classes: Vec<ClassSpec> = g
            .classes
            .iter()
            .map(|c| ClassSpec {
                name: c.name.clone(),
                pages: c.size.0 / ps,
                zero_fraction: c.zero_fraction,
                write_rate: c.write_rate,
                write_bytes: c.write_bytes,
            })
            .collect();
        let used: u64 = classes.iter().map(|c| c.pages).sum();
        let rest = (g.ram.0 / ps).saturating_sub(used);
        if rest > 0 {
            classes.push(ClassSpec {
                name: "rest".into(),
                pages: rest,
                zero_fraction: if g.rest == RestContent::Zero { 1.0 } else { 0.0 },
                write_rate: 0.0,
                write_bytes: 128,
            });
        }
        let extra = g.extra_ram_blocks.0 / ps;
        if extra > 0 {
            classes.push(ClassSpec {
                name: "extra-ram-blocks".into(),
                pages: extra,
                zero_fraction: g.extra_zero_fraction,
                write_rate: 0.0,
                write_bytes: 128,
            });
        }
        MemoryLayout { page_size: ps, classes, zero_layout: g.zero_layout, seed }
    }

    /// Total pages (QEMU's `total` / page size).
    pub fn total_pages(&self) -> u64 {
        self.classes.iter().map(|c| c.pages).sum()
    }

    /// Index of the class with this name.
    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.name == name)
    }
}

/// What sending one page of a kind costs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PageCost {
    /// Bytes on the wire (headers included).
    pub wire: f64,
    /// Migration-thread CPU time, ns.
    pub thread_ns: f64,
    /// Multifd channel CPU time, ns (spread over the channels).
    pub chan_ns: f64,
}

/// Costs of the page kinds for one send (model §1.9, §3.5).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SendCosts {
    /// A zero page (when zero pages are detected).
    pub zero: PageCost,
    /// A page sent in full.
    pub normal: PageCost,
    /// Whether zero pages go as normal pages (`zero-page-detection=none`).
    pub zero_as_normal: bool,
    /// Extra thread time of an XBZRLE cache lookup + encode (hit), ns.
    pub xbzrle_encode_ns: f64,
    /// Wire bytes of an encoded record besides its data (header, flag, len).
    pub xbzrle_record_overhead: f64,
    /// Link time per wire byte, ns.
    pub ns_per_wire_byte: f64,
    /// Number of channels sharing `chan_ns` (1 without multifd).
    pub chan_divisor: f64,
}

impl SendCosts {
    /// Duration of sending what these sums describe: the link, the
    /// migration thread and the channels work in parallel, so the slowest
    /// resource sets the time.
    #[inline]
    pub fn time_ns(&self, wire: f64, thread_ns: f64, chan_ns: f64) -> f64 {
        (wire * self.ns_per_wire_byte).max(thread_ns).max(chan_ns / self.chan_divisor.max(1.0))
    }
}

/// Limits and mode of one [`MemoryEngine::take`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TakeRequest {
    /// At most this many pages.
    pub max_pages: u64,
    /// Wire bytes that may still be written before the rate budget counts
    /// as exceeded; a page is sent while the bytes used so far are ≤ this
    /// (QEMU checks before each page, so the overshoot is under one page).
    /// Infinite when unlimited; negative when already exceeded.
    pub budget_bytes: f64,
    /// Stop once this much time (ns) has been used (checked before a page).
    pub max_ns: f64,
    /// The `xbzrle` capability is on (the engine starts using it after the
    /// scanner's first wrap, model §1.8).
    pub xbzrle: bool,
    /// Stop-and-copy: the XBZRLE cache is not updated.
    pub last_stage: bool,
    /// Current dirty-sync count (XBZRLE cache ages).
    pub sync_count: u64,
    /// Page costs.
    pub costs: SendCosts,
}

/// What one [`MemoryEngine::take`] sent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TakeOutcome {
    /// Zero pages sent as zero markers.
    pub zero: u64,
    /// Pages sent in full (XBZRLE overflows included).
    pub normal: u64,
    /// Pages sent XBZRLE-encoded.
    pub xbz_pages: u64,
    /// Σ (encoded data + 3) over encoded pages (XBZRLE `bytes` counter part).
    pub xbz_data_bytes: u64,
    /// XBZRLE encodings that overflowed (sent as normal pages).
    pub xbz_overflow: u64,
    /// XBZRLE cache misses.
    pub xbz_miss: u64,
    /// Wire bytes (estimate used for the limits; the caller recomputes).
    pub wire: f64,
    /// Migration-thread CPU, ns.
    pub thread_ns: f64,
    /// Multifd channel CPU, ns.
    pub chan_ns: f64,
    /// Times the page scanner wrapped around the end of RAM.
    pub wraps: u32,
    /// A full round found no pending page.
    pub all_clean: bool,
}

impl TakeOutcome {
    /// Pages sent in any form.
    pub fn pages(&self) -> u64 {
        self.zero + self.normal + self.xbz_pages
    }
}

/// A RAM engine: the migration bitmap, the guest's writes, the page scanner
/// and the XBZRLE cache.
pub trait MemoryEngine: Send {
    /// The layout the engine was built from.
    fn layout(&self) -> &MemoryLayout;
    /// Total pages (`total` / page size).
    fn total_pages(&self) -> u64;
    /// Pages set in the migration bitmap (`remaining` / page size).
    fn pending_pages(&self) -> u64;
    /// A new migration: every page pending, no recorded writes, the scanner
    /// at address 0, an empty XBZRLE cache of `xbzrle_cache_bytes`.
    fn reset(&mut self, xbzrle_cache_bytes: u64);
    /// The source guest ran for `dt_s` seconds with write rates scaled by
    /// `scale` (throttling).
    fn add_writes(&mut self, dt_s: f64, scale: f64);
    /// A migration bitmap sync: OR the pages written since the last sync
    /// into the bitmap; returns the number of bits newly set.
    fn sync(&mut self) -> u64;
    /// Send pending pages in scanner order within the request's limits.
    fn take(&mut self, req: &TakeRequest) -> TakeOutcome;
    /// Postcopy: the guest on the destination ran `dt_s` seconds; pages it
    /// touched that are still pending are requested and leave the bitmap.
    /// Returns (zero pages, other pages) requested.
    fn postcopy_access(&mut self, dt_s: f64) -> (u64, u64);
    /// Change a class's write rate.
    fn set_write_rate(&mut self, class: usize, rate: f64);
    /// Resize the XBZRLE cache (`xbzrle-cache-size` changed).
    fn resize_xbzrle_cache(&mut self, bytes: u64);
    /// Number of runs of pending pages (size of the postcopy discard).
    fn pending_runs(&self) -> u64;
    /// Bytes of heap the engine holds.
    fn footprint_bytes(&self) -> usize;
}

/// The XBZRLE encoded-size model shared by both engines (model §3.9): a page
/// re-sent after `m ≥ 1` distinct writes of `write_bytes` encodes to about
/// `m·(write_bytes + 3)` bytes (a run-length pair and the literal bytes per
/// write) and overflows when that exceeds the page. `m` follows a
/// zero-truncated Poisson law whose mean is the class's writes per page
/// between the last two syncs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct XbzrleSizeModel {
    /// Writes per page between the last two syncs.
    pub lambda: f64,
    /// Bytes per write.
    pub write_bytes: u32,
    /// Page size.
    pub page_size: u64,
}

impl XbzrleSizeModel {
    fn per_write(&self) -> u64 {
        u64::from(self.write_bytes) + 3
    }

    /// Largest number of writes that still fits in a page.
    pub fn max_writes(&self) -> u64 {
        (self.page_size / self.per_write()).max(1)
    }

    /// (probability of overflow, mean encoded data bytes when it fits).
    pub fn expectation(&self) -> (f64, f64) {
        let lambda = self.lambda.max(1e-12);
        let norm = -(-lambda).exp_m1(); // P(m ≥ 1)
        let mmax = self.max_writes();
        let mut pm = (-lambda).exp(); // P(m = 0)
        let mut p_ok = 0.0;
        let mut e_ok = 0.0;
        for m in 1..=mmax {
            pm *= lambda / m as f64;
            p_ok += pm;
            e_ok += m as f64 * pm;
            if pm < 1e-18 && m as f64 > lambda {
                break;
            }
        }
        let fit = (p_ok / norm).clamp(0.0, 1.0);
        let mean_m = if p_ok > 0.0 { e_ok / p_ok } else { 1.0 };
        (1.0 - fit, mean_m * self.per_write() as f64)
    }

    /// Draw one encoded size: `None` when it overflows.
    pub fn sample(&self, u: f64) -> Option<u64> {
        let lambda = self.lambda.max(1e-12);
        let norm = -(-lambda).exp_m1();
        let mut pm = (-lambda).exp();
        let mut cum = 0.0;
        let target = u * norm;
        for m in 1..=self.max_writes() {
            pm *= lambda / m as f64;
            cum += pm;
            if target < cum {
                return Some(m * self.per_write());
            }
        }
        None
    }
}

/// Deterministic rounding of expected counts: keeps the fractional part and
/// carries it into the next call so that totals stay exact on average.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Carry(f64);

impl Carry {
    /// floor(x + carry), keeping the remainder; clamped to `[0, cap]`.
    #[inline]
    pub(crate) fn take(&mut self, x: f64, cap: u64) -> u64 {
        let v = x + self.0;
        if v.is_nan() || v <= 0.0 {
            self.0 = v.max(-1.0);
            return 0;
        }
        // v > 0, so truncation is floor (and avoids a libm call).
        let n = (v as u64).min(cap);
        self.0 = (v - n as f64).clamp(-1.0, 1.0);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xbzrle_model_consistent() {
        let m = XbzrleSizeModel { lambda: 0.5, write_bytes: 128, page_size: 4096 };
        let (o, mean) = m.expectation();
        assert!(o < 1e-9);
        assert!(mean > 131.0 && mean < 2.0 * 131.0);
        let heavy = XbzrleSizeModel { lambda: 200.0, write_bytes: 128, page_size: 4096 };
        assert!(heavy.expectation().0 > 0.99);
        assert_eq!(heavy.sample(0.5), None);
        assert_eq!(m.sample(0.0), Some(131));
    }

    #[test]
    fn carry_is_exact_on_average() {
        let mut c = Carry::default();
        let s: u64 = (0..1000).map(|_| c.take(0.3, u64::MAX)).sum();
        assert!((299..=300).contains(&s), "{s}");
    }
}
