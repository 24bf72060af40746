//! L1 aggregate engine: page classes with counts (model §3.4).
//!
//! Per class it keeps the pending count `P_c` and the guest's write
//! exposure `E_c` since the last sync. At a sync the distinct pages written
//! are `K_c = N_c·(1 − e^(−E_c/N_c))` and, writes being independent of the
//! migration bitmap, the newly set bits are `K_c·(1 − P_c/N_c)`. Expected
//! values become integer page counts with carried remainders, so totals are
//! exact on average and runs are deterministic.
//!
//! The classes lie one after the other in address order, as the scenario
//! lays them out (and as the bitmap engine stores them). The scanner walks
//! them in that order: it is in one class, a fraction of the way through
//! it, and each class counts its pending pages still *ahead* of it. Within
//! a class pending pages are spread evenly, so sending `n` of the `A` pages
//! ahead moves the scanner `n/A` of the rest of the class; pages newly
//! dirtied at a sync land ahead or behind in proportion to the clean pages
//! there. When no page is left ahead in the last class the scanner wraps
//! (a complete round: XBZRLE starts, multifd syncs).

use super::{Carry, MemoryEngine, MemoryLayout, SendCosts, TakeOutcome, TakeRequest, XbzrleSizeModel};

#[derive(Debug, Clone)]
struct Class {
    n: u64,
    pending: u64,
    /// Pending pages the scanner has not passed in this round.
    ahead: u64,
    zf: f64,
    rate: f64,
    write_bytes: u32,
    exposure: f64,
    /// Writes per page between the last two syncs (XBZRLE sizes).
    lambda: f64,
    xbz_overflow_p: f64,
    xbz_mean_data: f64,
    /// Pages of this class in the XBZRLE cache: pending ahead of the
    /// scanner, pending behind it, clean; and the class's share of the
    /// cache. A page enters the cache when it is sent, so the pages a sync
    /// dirties again (clean ones) are cached in the proportion the clean
    /// pages are, and a page sent in this round can only hit once it was
    /// dirtied again and the scanner came round.
    cached_ahead: f64,
    cached_behind: f64,
    cached_clean: f64,
    cache_cap: f64,
    carry_new: Carry,
    carry_ahead: Carry,
    carry_zero: Carry,
    carry_hit: Carry,
    carry_ovf: Carry,
    carry_bytes: Carry,
    carry_pc: Carry,
    carry_pc_zero: Carry,
    carry_pc_ahead: Carry,
}

impl Class {
    fn of(spec: &super::ClassSpec) -> Class {
        Class {
            n: spec.pages,
            pending: spec.pages,
            ahead: spec.pages,
            zf: spec.zero_fraction,
            rate: spec.write_rate,
            write_bytes: spec.write_bytes,
            exposure: 0.0,
            lambda: 0.0,
            xbz_overflow_p: 0.0,
            xbz_mean_data: f64::from(spec.write_bytes) + 3.0,
            cached_ahead: 0.0,
            cached_behind: 0.0,
            cached_clean: 0.0,
            cache_cap: 0.0,
            carry_new: Carry::default(),
            carry_ahead: Carry::default(),
            carry_zero: Carry::default(),
            carry_hit: Carry::default(),
            carry_ovf: Carry::default(),
            carry_bytes: Carry::default(),
            carry_pc: Carry::default(),
            carry_pc_zero: Carry::default(),
            carry_pc_ahead: Carry::default(),
        }
    }

    /// A new migration: every page pending and ahead, nothing cached.
    fn reset(&mut self, page_size: u64) {
        let Class { n, rate, zf, write_bytes, cache_cap, .. } = *self;
        *self = Class {
            rate,
            zf,
            write_bytes,
            cache_cap,
            ..Class::of(&super::ClassSpec {
                name: String::new(),
                pages: n,
                zero_fraction: zf,
                write_rate: rate,
                write_bytes,
            })
        };
        self.update_xbz_model(page_size);
    }

    fn update_xbz_model(&mut self, page_size: u64) {
        let m = XbzrleSizeModel { lambda: self.lambda, write_bytes: self.write_bytes, page_size };
        let (o, mean) = m.expectation();
        self.xbz_overflow_p = o;
        self.xbz_mean_data = mean;
    }

    /// Probability that a non-zero page sent now (ahead of the scanner)
    /// hits the XBZRLE cache.
    fn hit_ratio(&self) -> f64 {
        let nonzero_ahead = self.ahead as f64 * (1.0 - self.zf);
        if nonzero_ahead <= 0.0 {
            0.0
        } else {
            (self.cached_ahead / nonzero_ahead).clamp(0.0, 1.0)
        }
    }

    fn cached(&self) -> f64 {
        self.cached_ahead + self.cached_behind + self.cached_clean
    }

    /// `new` clean pages became pending, `new_ahead` of them ahead of the
    /// scanner: the cached ones among them move along.
    fn dirty_cached(&mut self, clean_before: u64, new: u64, new_ahead: u64) {
        if clean_before == 0 || self.cached_clean <= 0.0 {
            return;
        }
        let share = self.cached_clean / clean_before as f64;
        self.cached_clean -= share * new as f64;
        self.cached_ahead += share * new_ahead as f64;
        self.cached_behind += share * (new - new_ahead) as f64;
    }

    /// Average per-page (wire, thread, chan) of this class's pending pages.
    fn page_cost(&self, costs: &SendCosts, xbz: bool) -> (f64, f64, f64) {
        let zf = if costs.zero_as_normal { 0.0 } else { self.zf };
        let (mut w, mut t, mut ch) = (zf * costs.zero.wire, zf * costs.zero.thread_ns, zf * costs.zero.chan_ns);
        let nz = 1.0 - zf;
        if xbz {
            let h = self.hit_ratio();
            let enc = h * (1.0 - self.xbz_overflow_p);
            let full = 1.0 - enc;
            w += nz * (full * costs.normal.wire + enc * (self.xbz_mean_data + costs.xbzrle_record_overhead));
            t += nz * (costs.normal.thread_ns + h * costs.xbzrle_encode_ns);
            ch += nz * full * costs.normal.chan_ns;
        } else {
            w += nz * costs.normal.wire;
            t += nz * costs.normal.thread_ns;
            ch += nz * costs.normal.chan_ns;
        }
        (w, t, ch)
    }

    /// Send `n` of the pages ahead of the scanner.
    fn send(&mut self, n: u64, xbz: bool, req: &TakeRequest, out: &mut TakeOutcome) {
        let costs = &req.costs;
        let h = self.hit_ratio();
        self.ahead -= n;
        self.pending -= n;
        let zero = if costs.zero_as_normal { 0 } else { self.carry_zero.take(n as f64 * self.zf, n) };
        let rest = n - zero;
        out.zero += zero;
        out.wire += zero as f64 * costs.zero.wire;
        out.thread_ns += zero as f64 * costs.zero.thread_ns;
        out.chan_ns += zero as f64 * costs.zero.chan_ns;
        if xbz && rest > 0 {
            self.send_xbzrle(rest, h, req, out);
        } else {
            out.normal += rest;
            out.wire += rest as f64 * costs.normal.wire;
            out.thread_ns += rest as f64 * costs.normal.thread_ns;
            out.chan_ns += rest as f64 * costs.normal.chan_ns;
        }
    }

    /// `rest` non-zero pages (of `sent` pages ahead) through the XBZRLE
    /// cache: the cached ones hit and stay cached, the others miss and are
    /// inserted while there is room.
    fn send_xbzrle(&mut self, rest: u64, h: f64, req: &TakeRequest, out: &mut TakeOutcome) {
        let costs = &req.costs;
        let hits = self.carry_hit.take(rest as f64 * h, rest);
        let ovf = self.carry_ovf.take(hits as f64 * self.xbz_overflow_p, hits);
        let enc = hits - ovf;
        let miss = rest - hits;
        let data = self.carry_bytes.take(enc as f64 * (self.xbz_mean_data + 3.0), u64::MAX);
        self.cached_ahead = (self.cached_ahead - hits as f64).max(0.0);
        self.cached_clean += hits as f64;
        if !req.last_stage {
            let room = (self.cache_cap - self.cached()).max(0.0);
            self.cached_clean += (miss as f64).min(room);
        }
        out.xbz_pages += enc;
        out.xbz_data_bytes += data;
        out.xbz_overflow += ovf;
        out.xbz_miss += miss;
        out.normal += miss + ovf;
        out.wire +=
            (miss + ovf) as f64 * costs.normal.wire + data as f64 + enc as f64 * (costs.xbzrle_record_overhead - 3.0);
        out.thread_ns += rest as f64 * costs.normal.thread_ns + hits as f64 * costs.xbzrle_encode_ns;
        out.chan_ns += (miss + ovf) as f64 * costs.normal.chan_ns;
    }
}

/// The L1 engine.
#[derive(Debug, Clone)]
pub struct AggregateEngine {
    layout: MemoryLayout,
    classes: Vec<Class>,
    total: u64,
    pending: u64,
    /// The class the scanner is in (`classes.len()`: at the end of RAM).
    cur: usize,
    /// How far the scanner is through that class (0..1 of its range).
    frac: f64,
    xbz_started: bool,
    cache_slots: u64,
}

impl AggregateEngine {
    /// An engine for `layout`, every page pending.
    pub fn new(layout: MemoryLayout) -> Self {
        let classes: Vec<Class> = layout.classes.iter().map(Class::of).collect();
        let total = classes.iter().map(|c| c.n).sum();
        let mut e = AggregateEngine {
            layout,
            classes,
            total,
            pending: total,
            cur: 0,
            frac: 0.0,
            xbz_started: false,
            cache_slots: 0,
        };
        e.reset(64 << 20);
        e
    }

    fn update_cache_caps(&mut self) {
        let hot: u64 = self.classes.iter().filter(|c| c.rate > 0.0).map(|c| c.n).sum();
        let slots = self.cache_slots as f64;
        for c in &mut self.classes {
            c.cache_cap = if c.rate > 0.0 && hot > 0 {
                // Direct-mapped: a class gets the share of slots its pages
                // map to, and cannot hold more pages than it has.
                (slots * c.n as f64 / hot as f64).min(c.n as f64)
            } else {
                0.0
            };
            let cached = c.cached();
            if cached > c.cache_cap {
                let keep = c.cache_cap / cached;
                c.cached_ahead *= keep;
                c.cached_behind *= keep;
                c.cached_clean *= keep;
            }
        }
    }

    /// The scanner reached the end of RAM: a complete round. Every pending
    /// page is ahead again; XBZRLE starts after the first round.
    fn wrap(&mut self, xbzrle: bool, out: &mut TakeOutcome) {
        out.wraps += 1;
        if xbzrle {
            self.xbz_started = true;
        }
        for c in &mut self.classes {
            c.ahead = c.pending;
            c.cached_ahead += c.cached_behind;
            c.cached_behind = 0.0;
        }
        self.cur = 0;
        self.frac = 0.0;
    }

    /// How many pages of class `ci` to send next within the request's
    /// limits, at the class's average page cost.
    fn pages_within(&self, ci: usize, req: &TakeRequest, xbz: bool, out: &TakeOutcome) -> u64 {
        let costs = &req.costs;
        let (aw, at, ac) = self.classes[ci].page_cost(costs, xbz);
        let n_budget = if req.budget_bytes.is_infinite() {
            u64::MAX
        } else {
            // One page more than the average says, so that the integer
            // rounding nearly always crosses the budget in one go (QEMU's
            // own overshoot is a page plus its unflushed buffer).
            ((req.budget_bytes - out.wire) / aw.max(1e-9)) as u64 + 2
        };
        let t_now = costs.time_ns(out.wire, out.thread_ns, out.chan_ns);
        let per_page_t = costs.time_ns(aw, at, ac).max(1e-9);
        let n_time = if req.max_ns.is_infinite() { u64::MAX } else { ((req.max_ns - t_now) / per_page_t) as u64 + 1 };
        self.classes[ci].ahead.min(n_budget).min(n_time).min(req.max_pages - out.pages())
    }
}

impl MemoryEngine for AggregateEngine {
    fn layout(&self) -> &MemoryLayout {
        &self.layout
    }

    fn total_pages(&self) -> u64 {
        self.total
    }

    fn pending_pages(&self) -> u64 {
        self.pending
    }

    fn reset(&mut self, xbzrle_cache_bytes: u64) {
        let ps = self.layout.page_size;
        for c in &mut self.classes {
            c.reset(ps);
        }
        self.pending = self.total;
        self.cur = 0;
        self.frac = 0.0;
        self.xbz_started = false;
        self.cache_slots = xbzrle_cache_bytes / ps.max(1);
        self.update_cache_caps();
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
        let ps = self.layout.page_size;
        let mut new_total = 0u64;
        for (i, c) in self.classes.iter_mut().enumerate() {
            if c.exposure <= 0.0 || c.n == 0 {
                continue;
            }
            let n = c.n as f64;
            let written = n * -(-c.exposure / n).exp_m1();
            let clean = c.n - c.pending;
            let new = c.carry_new.take(written * clean as f64 / n, clean);
            // New bits land on clean pages: those ahead of the scanner take
            // their share.
            let ahead = match i.cmp(&self.cur) {
                std::cmp::Ordering::Greater => new,
                std::cmp::Ordering::Less => 0,
                std::cmp::Ordering::Equal => {
                    let clean_ahead = (n * (1.0 - self.frac) - c.ahead as f64).max(0.0);
                    c.carry_ahead.take(new as f64 * clean_ahead / clean.max(1) as f64, new)
                }
            };
            c.dirty_cached(clean, new, ahead);
            c.pending += new;
            c.ahead += ahead;
            new_total += new;
            c.lambda = c.exposure / n;
            c.exposure = 0.0;
            c.update_xbz_model(ps);
        }
        self.pending += new_total;
        new_total
    }

    fn take(&mut self, req: &TakeRequest) -> TakeOutcome {
        let costs = &req.costs;
        let mut out = TakeOutcome::default();
        // Where the search started: a lap that finds nothing ends there.
        let mut start = (self.cur, self.frac);
        loop {
            // QEMU checks its limits before every page.
            let t_now = costs.time_ns(out.wire, out.thread_ns, out.chan_ns);
            if out.pages() >= req.max_pages || out.wire > req.budget_bytes || t_now > req.max_ns {
                break;
            }
            if self.cur >= self.classes.len() {
                self.wrap(req.xbzrle, &mut out);
                if self.pending == 0 {
                    out.all_clean = true;
                    (self.cur, self.frac) = start;
                    break;
                }
                if out.wraps > 1 {
                    break;
                }
            }
            if self.classes[self.cur].ahead == 0 {
                self.cur += 1;
                self.frac = 0.0;
                continue;
            }
            let xbz = req.xbzrle && self.xbz_started && self.classes[self.cur].n > 0;
            let n = self.pages_within(self.cur, req, xbz, &out);
            if n == 0 {
                break;
            }
            let c = &mut self.classes[self.cur];
            self.frac += (1.0 - self.frac) * n as f64 / c.ahead as f64;
            c.send(n, xbz, req, &mut out);
            self.pending -= n;
            start = (self.cur, self.frac);
        }
        out
    }

    fn postcopy_access(&mut self, dt_s: f64) -> (u64, u64) {
        if dt_s <= 0.0 {
            return (0, 0);
        }
        let mut zero = 0;
        let mut other = 0;
        for c in &mut self.classes {
            if c.rate <= 0.0 || c.pending == 0 || c.n == 0 {
                continue;
            }
            let touched = -(-c.rate * dt_s / c.n as f64).exp_m1();
            let req = c.carry_pc.take(c.pending as f64 * touched, c.pending);
            let z = c.carry_pc_zero.take(req as f64 * c.zf, req);
            // Requested pages lie anywhere in the class: ahead of the
            // scanner and behind it in proportion.
            let from_ahead = c.carry_pc_ahead.take(req as f64 * c.ahead as f64 / c.pending as f64, req.min(c.ahead));
            c.ahead -= from_ahead;
            c.pending -= req;
            c.ahead = c.ahead.min(c.pending);
            zero += z;
            other += req - z;
        }
        self.pending -= zero + other;
        (zero, other)
    }

    fn set_write_rate(&mut self, class: usize, rate: f64) {
        if let Some(c) = self.classes.get_mut(class) {
            c.rate = rate.max(0.0);
        }
        self.update_cache_caps();
    }

    fn resize_xbzrle_cache(&mut self, bytes: u64) {
        self.cache_slots = bytes / self.layout.page_size.max(1);
        // QEMU drops the cache content on a resize.
        for c in &mut self.classes {
            c.cached_ahead = 0.0;
            c.cached_behind = 0.0;
            c.cached_clean = 0.0;
        }
        self.update_cache_caps();
    }

    fn pending_runs(&self) -> u64 {
        // Pending pages scattered at density d form about P·(1 − d) runs.
        self.classes
            .iter()
            .map(|c| if c.n == 0 { 0.0 } else { c.pending as f64 * (1.0 - c.pending as f64 / c.n as f64) })
            .sum::<f64>()
            .ceil() as u64
            + u64::from(self.pending > 0)
    }

    fn footprint_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.classes.len() * std::mem::size_of::<Class>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ZeroLayout;
    use crate::memory::{ClassSpec, PageCost};

    fn engine(cache_pages: u64) -> AggregateEngine {
        let layout = MemoryLayout {
            page_size: 4096,
            classes: vec![
                ClassSpec { name: "data".into(), pages: 3000, zero_fraction: 0.0, write_rate: 0.0, write_bytes: 64 },
                ClassSpec { name: "hot".into(), pages: 4000, zero_fraction: 0.0, write_rate: 4000.0, write_bytes: 64 },
            ],
            zero_layout: ZeroLayout::Interleaved,
            seed: 1,
        };
        let mut e = AggregateEngine::new(layout);
        e.reset(cache_pages * 4096);
        e
    }

    /// Send everything pending in takes of at most 100 pages (one round
    /// unless it wraps), as rate-limited windows do.
    fn take_all(e: &mut AggregateEngine, sync_count: u64) -> TakeOutcome {
        let req = TakeRequest {
            max_pages: 100,
            budget_bytes: f64::INFINITY,
            max_ns: f64::INFINITY,
            xbzrle: true,
            last_stage: false,
            sync_count,
            costs: SendCosts {
                zero: PageCost { wire: 9.0, thread_ns: 100.0, chan_ns: 0.0 },
                normal: PageCost { wire: 4104.0, thread_ns: 200.0, chan_ns: 0.0 },
                ns_per_wire_byte: 1.0,
                chan_divisor: 1.0,
                xbzrle_record_overhead: 11.0,
                ..SendCosts::default()
            },
        };
        let mut sum = TakeOutcome::default();
        while e.pending_pages() > 0 {
            let o = e.take(&req);
            sum.zero += o.zero;
            sum.normal += o.normal;
            sum.xbz_pages += o.xbz_pages;
            sum.xbz_miss += o.xbz_miss;
            sum.xbz_overflow += o.xbz_overflow;
        }
        sum
    }

    #[test]
    fn xbzrle_hits_only_pages_cached_in_an_earlier_round() {
        let mut e = engine(1024);
        // Round 1 goes out without XBZRLE; the scanner wraps at its end.
        let first = take_all(&mut e, 1);
        assert_eq!((first.xbz_pages, first.xbz_miss), (0, 0));
        e.add_writes(2.0, 1.0);
        assert!(e.sync() > 3000);
        // Round 2: nothing was cached before it, so nothing can hit, however
        // much this round inserts.
        let second = take_all(&mut e, 2);
        assert_eq!(second.xbz_pages + second.xbz_overflow, 0, "{second:?}");
        assert!(second.xbz_miss > 3000);
        // Round 3 hits what round 2 cached: at most the class's share of
        // the cache (1024 of 4000 pages).
        e.add_writes(2.0, 1.0);
        e.sync();
        let third = take_all(&mut e, 3);
        let hit_rate = (third.xbz_pages + third.xbz_overflow) as f64 / (third.normal + third.xbz_pages) as f64;
        assert!((hit_rate - 1024.0 / 4000.0).abs() < 0.02, "{third:?}");
    }

    #[test]
    fn the_scanner_walks_the_classes_in_address_order() {
        let layout = MemoryLayout {
            page_size: 4096,
            classes: vec![
                ClassSpec { name: "hot".into(), pages: 4000, zero_fraction: 0.0, write_rate: 4000.0, write_bytes: 64 },
                ClassSpec { name: "data".into(), pages: 3000, zero_fraction: 0.0, write_rate: 0.0, write_bytes: 64 },
            ],
            zero_layout: ZeroLayout::Interleaved,
            seed: 1,
        };
        let mut e = AggregateEngine::new(layout);
        let mut req = TakeRequest {
            max_pages: 2000,
            budget_bytes: f64::INFINITY,
            max_ns: f64::INFINITY,
            xbzrle: false,
            last_stage: false,
            sync_count: 1,
            costs: SendCosts { chan_divisor: 1.0, ..SendCosts::default() },
        };
        assert_eq!(e.take(&req).pages(), 2000);
        // Half-way through `hot`: its clean pages are all behind the
        // scanner, so what the guest dirties now waits for the next round.
        e.add_writes(0.5, 1.0);
        let new = e.sync();
        assert!(new > 500, "{new}");
        assert_eq!(e.classes[0].ahead, 2000);
        assert_eq!(e.classes[0].pending, 2000 + new);
        // The rest of `hot`, all of `data`, one wrap, then the new pages.
        req.max_pages = 5000 + new;
        let out = e.take(&req);
        assert_eq!((out.pages(), out.wraps), (5000 + new, 1));
        assert_eq!(e.pending_pages(), 0);
    }
}
