//! L2 bitmap engine: one migration-bitmap bit per page (model §3.1).
//!
//! Memory is one bit per guest page plus a constant: the pending bit lives
//! in a `u64` word array; zero content is a per-class property (a Bresenham
//! spread of zero pages at 64-page granularity, or a zero tail), so it needs
//! no bit; the "recorded dirty" set of the KVM log is materialised only
//! inside a sync (see the module docs of [`crate::memory`]: with uniform
//! writes and no lazy-clear absorption, drawing the written pages at the
//! sync is exact in distribution). A 1 TiB guest (268 M pages) takes 32 MiB.
//!
//! Guest writes are drawn from a seeded PRNG: for sparse writes, Poisson-many
//! random page positions; for dense writes, whole 64-bit words with each bit
//! set with the probability that a page saw at least one write, built from a
//! few random words (see [`crate::rng::Rng::bernoulli_word`]), never one
//! loop iteration per write. Scanning works on whole words with popcounts
//! and only walks bits one by one in the word where a limit is reached or
//! XBZRLE needs per-page cache lookups.

use super::{MemoryEngine, MemoryLayout, PageCost, SendCosts, TakeOutcome, TakeRequest, XbzrleSizeModel};
use crate::config::ZeroLayout;
use crate::rng::{BernoulliDigits, Rng};

#[derive(Debug, Clone)]
struct Class {
    start: u64,
    end: u64,
    zf: f64,
    /// First page of the zero tail (tail layout).
    zero_tail: u64,
    rate: f64,
    write_bytes: u32,
    exposure: f64,
    lambda: f64,
}

/// A direct-mapped XBZRLE page cache: which page each slot holds and the
/// dirty-sync count when it was inserted (model §1.8).
#[derive(Debug, Clone, Default)]
struct XbzrleCache {
    /// page index + 1, 0 = empty.
    page: Vec<u64>,
    age: Vec<u64>,
}

/// The L2 engine.
#[derive(Debug, Clone)]
pub struct BitmapEngine {
    layout: MemoryLayout,
    n_pages: u64,
    pend: Vec<u64>,
    /// One bit per `pend` word: "this word may be non-zero". Lets the scanner
    /// jump over long clean stretches (a sparse dirty set in a huge guest)
    /// at 1/64 of a bit per page. Set with the words, cleared lazily when
    /// the scanner finds a word empty.
    summary: Vec<u64>,
    pending: u64,
    classes: Vec<Class>,
    interleaved: bool,
    pos: u64,
    rng: Rng,
    xbz_started: bool,
    cache: XbzrleCache,
}

/// Bits `[lo, hi)` of a word (0 ≤ lo ≤ hi ≤ 64).
#[inline]
fn bit_range(lo: u64, hi: u64) -> u64 {
    if lo >= hi {
        return 0;
    }
    let upper = if hi >= 64 { u64::MAX } else { (1u64 << hi) - 1 };
    let lower = if lo >= 64 { u64::MAX } else { (1u64 << lo) - 1 };
    upper & !lower
}

impl BitmapEngine {
    /// An engine for `layout`, every page pending.
    pub fn new(layout: MemoryLayout) -> Self {
        let mut start = 0u64;
        let classes: Vec<Class> = layout
            .classes
            .iter()
            .map(|c| {
                let s = start;
                start += c.pages;
                let zeros = (c.pages as f64 * c.zero_fraction).round() as u64;
                Class {
                    start: s,
                    end: start,
                    zf: c.zero_fraction,
                    zero_tail: start - zeros.min(c.pages),
                    rate: c.write_rate,
                    write_bytes: c.write_bytes,
                    exposure: 0.0,
                    lambda: 0.0,
                }
            })
            .collect();
        let n_pages = start;
        let words = n_pages.div_ceil(64) as usize;
        let interleaved = layout.zero_layout == ZeroLayout::Interleaved;
        let rng = Rng::new(layout.seed ^ 0x4c32_6269_746d_6170);
        let mut e = BitmapEngine {
            layout,
            n_pages,
            pend: vec![0; words],
            summary: vec![0; words.div_ceil(64)],
            pending: 0,
            classes,
            interleaved,
            pos: 0,
            rng,
            xbz_started: false,
            cache: XbzrleCache::default(),
        };
        e.reset(64 << 20);
        e
    }

    /// The first word at or after `w` whose summary bit is set (the number
    /// of words if none).
    fn next_maybe_dirty_word(&self, w: u64) -> u64 {
        let words = self.pend.len() as u64;
        if w >= words {
            return words;
        }
        let mut s = (w / 64) as usize;
        let mut m = self.summary[s] & !bit_range(0, w % 64);
        loop {
            if m != 0 {
                return (s as u64 * 64 + u64::from(m.trailing_zeros())).min(words);
            }
            s += 1;
            match self.summary.get(s) {
                Some(&x) => m = x,
                None => return words,
            }
        }
    }

    fn class_at(&self, page: u64) -> usize {
        self.classes.partition_point(|c| c.end <= page).min(self.classes.len().saturating_sub(1))
    }

    /// Zero-content pages of word `w` that belong to class `c` (as a mask
    /// over the whole word; the caller intersects with the class range).
    #[inline]
    fn zero_mask(&self, c: &Class, w: u64) -> u64 {
        if c.zf <= 0.0 {
            return 0;
        }
        if self.interleaved {
            // Bresenham: word w holds floor((w+1)·64·zf) − floor(w·64·zf)
            // zero pages, at its low end, so the class's share is exact over
            // any run of words and evenly spread at 256 KiB granularity.
            let a = (w as f64 * 64.0 * c.zf).floor();
            let b = ((w + 1) as f64 * 64.0 * c.zf).floor();
            let z = (b - a) as u64;
            bit_range(0, z.min(64))
        } else {
            let base = w * 64;
            if c.zero_tail >= base + 64 {
                0
            } else {
                bit_range(c.zero_tail.saturating_sub(base), 64)
            }
        }
    }

    #[inline]
    fn class_word_mask(c: &Class, w: u64) -> u64 {
        let base = w * 64;
        let lo = c.start.max(base) - base;
        let hi = c.end.min(base + 64).saturating_sub(base);
        bit_range(lo, hi)
    }

    fn xbz_model(&self, c: &Class) -> XbzrleSizeModel {
        XbzrleSizeModel { lambda: c.lambda, write_bytes: c.write_bytes, page_size: self.layout.page_size }
    }

    /// Draw the pages written by `exposure` page writes uniformly over class
    /// `ci`; `apply` receives (word index, written bits within the class).
    fn draw_writes(rng: &mut Rng, c: &Class, exposure: f64, mut apply: impl FnMut(usize, u64)) {
        let n = c.end - c.start;
        if n == 0 || exposure <= 0.0 {
            return;
        }
        if exposure < n as f64 / 8.0 {
            // Sparse: Poisson-many writes at uniform positions (repeats are
            // harmless: a page written twice is dirty once).
            let m = rng.poisson(exposure);
            for _ in 0..m {
                let p = c.start + rng.below(n);
                apply((p / 64) as usize, 1u64 << (p % 64));
            }
        } else {
            // Dense: each page independently written with probability
            // 1 − e^(−E/N), a word at a time.
            let q = -(-exposure / n as f64).exp_m1();
            let digits = BernoulliDigits::new(q);
            let first = c.start / 64;
            let last = (c.end - 1) / 64;
            for w in first..=last {
                let r = rng.bernoulli_word(&digits) & Self::class_word_mask(c, w);
                if r != 0 {
                    apply(w as usize, r);
                }
            }
        }
    }

    /// The scanner passed the end of RAM (XBZRLE's cache is in use from
    /// the first wrap on, model §3.9).
    fn wrap(&mut self, out: &mut TakeOutcome, req: &TakeRequest) {
        out.wraps += 1;
        if req.xbzrle {
            self.xbz_started = true;
        }
    }

    /// Sends a chunk's pending pages one by one, checking the limits before
    /// each as QEMU does; the page it stopped at, if the limits stopped it.
    fn send_pages(
        &mut self,
        out: &mut TakeOutcome,
        req: &TakeRequest,
        model: &XbzrleSizeModel,
        chunk: Chunk,
        left: &mut u64,
    ) -> Option<u64> {
        let costs = &req.costs;
        let mut rem = chunk.bits;
        while rem != 0 {
            let bit = u64::from(rem.trailing_zeros());
            let page = chunk.w * 64 + bit;
            if !room_for_a_page(out, req) {
                return Some(page);
            }
            if chunk.zero_mask >> bit & 1 == 1 {
                out.zero += 1;
                add_cost(out, &costs.zero);
            } else if chunk.xbzrle {
                self.send_xbzrle(out, req, model, page);
            } else {
                out.normal += 1;
                add_cost(out, &costs.normal);
            }
            self.pend[chunk.w as usize] &= !(1u64 << bit);
            *left -= 1;
            rem &= rem - 1;
        }
        None
    }

    /// Moves the scanner past a chunk with no pending page (and past the
    /// words known to be clean after it); the number of pages passed.
    fn skip_clean(&mut self, w: u64, chunk_end: u64) -> u64 {
        let mut passed = chunk_end - self.pos;
        self.pos = chunk_end;
        if self.pos.is_multiple_of(64) {
            if self.pend[w as usize] == 0 {
                self.summary[(w / 64) as usize] &= !(1u64 << (w % 64));
            }
            let next = (self.next_maybe_dirty_word(w + 1) * 64).min(self.n_pages);
            if next > self.pos {
                passed += next - self.pos;
                self.pos = next;
            }
        }
        passed
    }

    /// Sends one normal page with XBZRLE: a cache hit is encoded (or
    /// overflows and goes as a normal page), a miss goes as a normal page.
    fn send_xbzrle(&mut self, out: &mut TakeOutcome, req: &TakeRequest, model: &XbzrleSizeModel, page: u64) {
        let costs = req.costs;
        if !self.cache_lookup(page, req.sync_count, req.last_stage) {
            out.xbz_miss += 1;
            out.normal += 1;
            out.wire += costs.normal.wire;
            out.thread_ns += costs.normal.thread_ns;
            return;
        }
        out.thread_ns += costs.normal.thread_ns + costs.xbzrle_encode_ns;
        match model.sample(self.rng.next_f64()) {
            Some(data) => {
                out.xbz_pages += 1;
                out.xbz_data_bytes += data + 3;
                out.wire += data as f64 + costs.xbzrle_record_overhead;
            }
            None => {
                out.xbz_overflow += 1;
                out.normal += 1;
                out.wire += costs.normal.wire;
            }
        }
    }

    fn cache_lookup(&mut self, page: u64, sync_count: u64, last_stage: bool) -> bool {
        let slots = self.cache.page.len() as u64;
        if slots == 0 {
            return false;
        }
        let slot = (page % slots) as usize;
        if self.cache.page[slot] == page + 1 {
            // A hit makes the entry young again (QEMU updates its age).
            self.cache.age[slot] = sync_count;
            return true;
        }
        if !last_stage {
            // A slot holding another page inserted within the last two syncs
            // is protected (QEMU's page lifetime of two ages).
            let held = self.cache.page[slot];
            if held == 0 || self.cache.age[slot] + 2 <= sync_count {
                self.cache.page[slot] = page + 1;
                self.cache.age[slot] = sync_count;
            }
        }
        false
    }
}

impl MemoryEngine for BitmapEngine {
    fn layout(&self) -> &MemoryLayout {
        &self.layout
    }

    fn total_pages(&self) -> u64 {
        self.n_pages
    }

    fn pending_pages(&self) -> u64 {
        self.pending
    }

    fn reset(&mut self, xbzrle_cache_bytes: u64) {
        for w in self.pend.iter_mut() {
            *w = u64::MAX;
        }
        let tail = self.n_pages % 64;
        if tail != 0 {
            if let Some(last) = self.pend.last_mut() {
                *last = bit_range(0, tail);
            }
        }
        for (i, s) in self.summary.iter_mut().enumerate() {
            let words = self.pend.len().saturating_sub(i * 64).min(64) as u64;
            *s = bit_range(0, words);
        }
        self.pending = self.n_pages;
        for c in &mut self.classes {
            c.exposure = 0.0;
            c.lambda = 0.0;
        }
        self.pos = 0;
        self.xbz_started = false;
        self.resize_xbzrle_cache(xbzrle_cache_bytes);
    }

    fn add_writes(&mut self, dt_s: f64, scale: f64) {
        if dt_s <= 0.0 {
            return;
        }
        for c in &mut self.classes {
            if c.rate > 0.0 {
                c.exposure += c.rate * scale * dt_s;
            }
        }
    }

    fn sync(&mut self) -> u64 {
        let mut new = 0u64;
        let pend = &mut self.pend;
        let summary = &mut self.summary;
        for c in &mut self.classes {
            if c.exposure <= 0.0 {
                continue;
            }
            Self::draw_writes(&mut self.rng, c, c.exposure, |w, bits| {
                let fresh = bits & !pend[w];
                new += u64::from(fresh.count_ones());
                pend[w] |= bits;
                summary[w / 64] |= 1u64 << (w % 64);
            });
            c.lambda = c.exposure / (c.end - c.start).max(1) as f64;
            c.exposure = 0.0;
        }
        self.pending += new;
        new
    }

    fn take(&mut self, req: &TakeRequest) -> TakeOutcome {
        let costs = req.costs;
        let mut out = TakeOutcome::default();
        let mut left = self.pending;
        if left == 0 {
            // Nothing pending: the scanner runs to the end of RAM, wraps and
            // comes back to where it started (a complete, clean round).
            self.wrap(&mut out, req);
            out.all_clean = true;
            return out;
        }
        let mut ci = self.class_at(self.pos);
        let mut since_found = 0u64;
        loop {
            if left == 0 {
                // The last pending page went out: if the limits allow another
                // page, the search goes on to the end of RAM, wraps once and
                // finds the round clean, as QEMU's search does.
                if room_for_a_page(&out, req) {
                    self.wrap(&mut out, req);
                    out.all_clean = true;
                }
                break;
            }
            if self.pos >= self.n_pages {
                self.pos = 0;
                ci = 0;
                self.wrap(&mut out, req);
            }
            if since_found >= self.n_pages || out.wraps > 2 {
                out.all_clean = true;
                break;
            }
            while ci + 1 < self.classes.len() && self.classes[ci].end <= self.pos {
                ci += 1;
            }
            let c = &self.classes[ci];
            let w = self.pos / 64;
            let chunk_end = ((w + 1) * 64).min(c.end);
            let mask = bit_range(self.pos - w * 64, chunk_end - w * 64);
            let bits = self.pend[w as usize] & mask;
            if bits == 0 {
                since_found += self.skip_clean(w, chunk_end);
                continue;
            }
            since_found = 0;
            let zm = if costs.zero_as_normal { 0 } else { self.zero_mask(c, w) };
            let zbits = bits & zm;
            let nbits = bits & !zm;
            let xbz = req.xbzrle && self.xbz_started && nbits != 0;
            if !xbz {
                let (nz, nn) = (u64::from(zbits.count_ones()), u64::from(nbits.count_ones()));
                let after = with_chunk(&out, &costs, nz, nn);
                // Whole chunk: fine if even the state after its last page is
                // within the limits (stricter than QEMU's check-before-page,
                // which the page-by-page path below implements exactly).
                if within_inclusive(&after, req) {
                    left -= nz + nn;
                    out = after;
                    self.pend[w as usize] &= !bits;
                    self.pos = chunk_end;
                    continue;
                }
            }
            let model = self.xbz_model(c);
            let chunk = Chunk { w, bits, zero_mask: zm, xbzrle: xbz };
            if let Some(stop) = self.send_pages(&mut out, req, &model, chunk, &mut left) {
                self.pos = stop;
                break;
            }
            self.pos = chunk_end;
        }
        self.pending = left;
        out
    }

    fn postcopy_access(&mut self, dt_s: f64) -> (u64, u64) {
        if dt_s <= 0.0 || self.pending == 0 {
            return (0, 0);
        }
        let mut zero = 0u64;
        let mut other = 0u64;
        for ci in 0..self.classes.len() {
            let c = self.classes[ci].clone();
            if c.rate <= 0.0 {
                continue;
            }
            let mut hits: Vec<(usize, u64)> = Vec::new();
            Self::draw_writes(&mut self.rng, &c, c.rate * dt_s, |w, bits| hits.push((w, bits)));
            for (w, bits) in hits {
                let got = bits & self.pend[w];
                if got == 0 {
                    continue;
                }
                self.pend[w] &= !got;
                let zm = self.zero_mask(&c, w as u64);
                let z = u64::from((got & zm).count_ones());
                zero += z;
                other += u64::from(got.count_ones()) - z;
            }
        }
        self.pending -= zero + other;
        (zero, other)
    }

    fn set_write_rate(&mut self, class: usize, rate: f64) {
        if let Some(c) = self.classes.get_mut(class) {
            c.rate = rate.max(0.0);
        }
    }

    fn resize_xbzrle_cache(&mut self, bytes: u64) {
        let slots = (bytes / self.layout.page_size.max(1)) as usize;
        self.cache.page = vec![0; slots];
        self.cache.age = vec![0; slots];
    }

    fn pending_runs(&self) -> u64 {
        let mut runs = 0u64;
        let mut prev_top = 0u64;
        for &w in &self.pend {
            let starts = w & !((w << 1) | prev_top);
            runs += u64::from(starts.count_ones());
            prev_top = w >> 63;
        }
        runs
    }

    fn footprint_bytes(&self) -> usize {
        (self.pend.capacity() + self.summary.capacity()) * 8
            + (self.cache.page.capacity() + self.cache.age.capacity()) * 8
            + self.classes.capacity() * std::mem::size_of::<Class>()
            + std::mem::size_of::<Self>()
    }
}

/// Pending pages of one 64-page word of the bitmap, within one class.
#[derive(Clone, Copy)]
struct Chunk {
    /// The word's index.
    w: u64,
    /// Its pending pages.
    bits: u64,
    /// Which of them are zero pages (sent as zero markers).
    zero_mask: u64,
    /// Whether its normal pages go through XBZRLE.
    xbzrle: bool,
}

/// Whether the limits let one more page go (QEMU checks before each page).
fn room_for_a_page(o: &TakeOutcome, req: &TakeRequest) -> bool {
    o.pages() < req.max_pages
        && o.wire <= req.budget_bytes
        && req.costs.time_ns(o.wire, o.thread_ns, o.chan_ns) <= req.max_ns
}

/// Adds one page's cost to `out`.
fn add_cost(out: &mut TakeOutcome, cost: &PageCost) {
    out.wire += cost.wire;
    out.thread_ns += cost.thread_ns;
    out.chan_ns += cost.chan_ns;
}

/// `out` after a whole chunk of `nz` zero and `nn` normal pages.
fn with_chunk(out: &TakeOutcome, costs: &SendCosts, nz: u64, nn: u64) -> TakeOutcome {
    let cw = nz as f64 * costs.zero.wire + nn as f64 * costs.normal.wire;
    let ct = nz as f64 * costs.zero.thread_ns + nn as f64 * costs.normal.thread_ns;
    let cc = nz as f64 * costs.zero.chan_ns + nn as f64 * costs.normal.chan_ns;
    TakeOutcome {
        zero: out.zero + nz,
        normal: out.normal + nn,
        wire: out.wire + cw,
        thread_ns: out.thread_ns + ct,
        chan_ns: out.chan_ns + cc,
        ..*out
    }
}

/// Whether `after` (the state after a send) is within the request's limits.
fn within_inclusive(after: &TakeOutcome, req: &TakeRequest) -> bool {
    after.pages() <= req.max_pages
        && after.wire <= req.budget_bytes
        && req.costs.time_ns(after.wire, after.thread_ns, after.chan_ns) <= req.max_ns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{ClassSpec, PageCost, SendCosts};

    fn layout() -> MemoryLayout {
        MemoryLayout {
            page_size: 4096,
            classes: vec![
                ClassSpec { name: "hot".into(), pages: 1000, zero_fraction: 0.0, write_rate: 1000.0, write_bytes: 64 },
                ClassSpec { name: "zero".into(), pages: 3000, zero_fraction: 1.0, write_rate: 0.0, write_bytes: 64 },
                ClassSpec { name: "half".into(), pages: 1100, zero_fraction: 0.5, write_rate: 0.0, write_bytes: 64 },
            ],
            zero_layout: ZeroLayout::Interleaved,
            seed: 9,
        }
    }

    fn costs() -> SendCosts {
        SendCosts {
            zero: PageCost { wire: 9.0, thread_ns: 100.0, chan_ns: 0.0 },
            normal: PageCost { wire: 4104.0, thread_ns: 200.0, chan_ns: 0.0 },
            ns_per_wire_byte: 1.0,
            chan_divisor: 1.0,
            xbzrle_record_overhead: 11.0,
            ..SendCosts::default()
        }
    }

    /// A first-pass take without XBZRLE, limited only by `budget_bytes`.
    fn request(budget_bytes: f64) -> TakeRequest {
        TakeRequest {
            max_pages: u64::MAX,
            budget_bytes,
            max_ns: f64::INFINITY,
            xbzrle: false,
            last_stage: false,
            sync_count: 1,
            costs: costs(),
        }
    }

    #[test]
    fn full_pass_counts_zero_pages() {
        let mut e = BitmapEngine::new(layout());
        assert_eq!(e.pending_pages(), 5100);
        let req = request(f64::INFINITY);
        let out = e.take(&req);
        assert_eq!(out.pages(), 5100);
        // The last page of RAM went out, then one lap found nothing: one
        // wrap, one multifd sync (as QEMU's search does).
        assert_eq!(out.wraps, 1);
        // The half-zero class is not word aligned: its share is exact up to
        // the 64-page words at its edges.
        assert!(out.zero.abs_diff(3000 + 550) <= 64, "{}", out.zero);
        assert!(out.all_clean);
        assert_eq!(e.pending_pages(), 0);
        assert_eq!(e.pend.iter().map(|w| w.count_ones() as u64).sum::<u64>(), 0);
    }

    #[test]
    fn budget_stops_after_crossing() {
        let mut e = BitmapEngine::new(layout());
        let req = request(10.0 * 4104.0);
        let out = e.take(&req);
        // Pages go while used ≤ budget: 11 full pages.
        assert_eq!(out.normal, 11);
        assert_eq!(e.pending_pages(), 5100 - 11);
    }

    #[test]
    fn a_hit_keeps_the_cache_entry_young() {
        let mut e = BitmapEngine::new(layout());
        e.resize_xbzrle_cache(4 * 4096);
        // Page 0 is cached at sync 1 and hit at syncs 2 and 3; page 4 maps
        // to the same slot and may replace it only two syncs after its last
        // use (QEMU refreshes the age on a hit).
        assert!(!e.cache_lookup(0, 1, false));
        assert!(e.cache_lookup(0, 2, false));
        assert!(e.cache_lookup(0, 3, false));
        assert!(!e.cache_lookup(4, 4, false));
        assert!(e.cache_lookup(0, 4, false), "page 0 was used at sync 3: still protected at 4");
        assert!(!e.cache_lookup(4, 6, false));
        assert!(!e.cache_lookup(0, 6, false), "replaced by page 4 at sync 6");
    }

    #[test]
    fn sync_draws_about_the_expected_pages() {
        let mut e = BitmapEngine::new(layout());
        let req = request(f64::INFINITY);
        e.take(&req);
        e.add_writes(1.0, 1.0); // 1000 writes over 1000 pages
        let new = e.sync();
        let expect = 1000.0 * (1.0 - (-1.0f64).exp());
        assert!((new as f64 - expect).abs() < 80.0, "new={new} expect={expect}");
        assert_eq!(e.pending_pages(), new);
        assert!(e.pending_runs() > 0);
    }
}
