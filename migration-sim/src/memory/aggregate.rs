//! L1 aggregate engine: page classes with counts (model §3.4).
//!
//! Per class it keeps the pending count `P_c` and the guest's write
//! exposure `E_c` since the last sync. At a sync the distinct pages written
//! are `K_c = N_c·(1 − e^(−E_c/N_c))` and, writes being independent of the
//! migration bitmap, the newly set bits are `K_c·(1 − P_c/N_c)`. Sending
//! takes pages from the classes in proportion to their pending counts
//! (uniform interleaving). Expected values become integer page counts with
//! carried remainders, so totals are exact on average and runs are
//! deterministic.
//!
//! The scanner is modelled by the pending pages *ahead* of it: pages newly
//! dirtied at a sync land ahead or behind the scanner in proportion to its
//! position, and the scanner wraps (XBZRLE starts, multifd syncs) when no
//! pending page is left ahead.

use super::{Carry, MemoryEngine, MemoryLayout, SendCosts, TakeOutcome, TakeRequest, XbzrleSizeModel};

#[derive(Debug, Clone)]
struct Class {
    n: u64,
    pending: u64,
    zf: f64,
    rate: f64,
    write_bytes: u32,
    exposure: f64,
    /// Writes per page between the last two syncs (XBZRLE sizes).
    lambda: f64,
    xbz_overflow_p: f64,
    xbz_mean_data: f64,
    /// Pages of this class held in the XBZRLE cache, and its share of it.
    cached: f64,
    cache_cap: f64,
    carry_alloc: f64,
    carry_new: Carry,
    carry_zero: Carry,
    carry_hit: Carry,
    carry_ovf: Carry,
    carry_bytes: Carry,
    carry_pc: Carry,
    carry_pc_zero: Carry,
}

/// The L1 engine.
#[derive(Debug, Clone)]
pub struct AggregateEngine {
    layout: MemoryLayout,
    classes: Vec<Class>,
    total: u64,
    pending: u64,
    ahead: u64,
    behind: u64,
    /// Scanner position as a fraction of the address space.
    pos: f64,
    carry_split: Carry,
    xbz_started: bool,
    cache_slots: u64,
    /// Scratch for the proportional split (no allocation per take).
    alloc: Vec<u64>,
    frac: Vec<f64>,
}

impl AggregateEngine {
    /// An engine for `layout`, every page pending.
    pub fn new(layout: MemoryLayout) -> Self {
        let classes: Vec<Class> = layout
            .classes
            .iter()
            .map(|c| Class {
                n: c.pages,
                pending: c.pages,
                zf: c.zero_fraction,
                rate: c.write_rate,
                write_bytes: c.write_bytes,
                exposure: 0.0,
                lambda: 0.0,
                xbz_overflow_p: 0.0,
                xbz_mean_data: f64::from(c.write_bytes) + 3.0,
                cached: 0.0,
                cache_cap: 0.0,
                carry_alloc: 0.0,
                carry_new: Carry::default(),
                carry_zero: Carry::default(),
                carry_hit: Carry::default(),
                carry_ovf: Carry::default(),
                carry_bytes: Carry::default(),
                carry_pc: Carry::default(),
                carry_pc_zero: Carry::default(),
            })
            .collect();
        let total = classes.iter().map(|c| c.n).sum();
        let n = classes.len();
        let mut e = AggregateEngine {
            layout,
            classes,
            total,
            pending: total,
            ahead: total,
            behind: 0,
            pos: 0.0,
            carry_split: Carry::default(),
            xbz_started: false,
            cache_slots: 0,
            alloc: vec![0; n],
            frac: vec![0.0; n],
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
            c.cached = c.cached.min(c.cache_cap);
        }
    }

    fn update_xbz_model(c: &mut Class, page_size: u64) {
        let m = XbzrleSizeModel { lambda: c.lambda, write_bytes: c.write_bytes, page_size };
        let (o, mean) = m.expectation();
        c.xbz_overflow_p = o;
        c.xbz_mean_data = mean;
    }

    /// Average per-page (wire, thread, chan) of the current pending mixture.
    fn mixture_cost(&self, costs: &SendCosts, xbz: bool) -> (f64, f64, f64) {
        let mut w = 0.0;
        let mut t = 0.0;
        let mut ch = 0.0;
        let pend = self.pending.max(1) as f64;
        for c in &self.classes {
            if c.pending == 0 {
                continue;
            }
            let share = c.pending as f64 / pend;
            let zf = if costs.zero_as_normal { 0.0 } else { c.zf };
            let (mut cw, mut ct, mut cc) = (zf * costs.zero.wire, zf * costs.zero.thread_ns, zf * costs.zero.chan_ns);
            let nz = 1.0 - zf;
            if xbz && c.n > 0 {
                let h = (c.cached / c.n as f64).clamp(0.0, 1.0);
                let enc = h * (1.0 - c.xbz_overflow_p);
                let full = 1.0 - enc;
                cw += nz * (full * costs.normal.wire + enc * (c.xbz_mean_data + costs.xbzrle_record_overhead));
                ct += nz * (costs.normal.thread_ns + h * costs.xbzrle_encode_ns);
                cc += nz * full * costs.normal.chan_ns;
            } else {
                cw += nz * costs.normal.wire;
                ct += nz * costs.normal.thread_ns;
                cc += nz * costs.normal.chan_ns;
            }
            w += share * cw;
            t += share * ct;
            ch += share * cc;
        }
        (w, t, ch)
    }

    /// Split `n` pages over the classes in proportion to their pending
    /// counts, into `self.alloc`. Each class carries its rounding remainder
    /// into the next split, so that many small takes still visit the classes
    /// in proportion (a one-page take is not always given to the largest).
    fn split(&mut self, n: u64) {
        let pend = self.pending.max(1) as f64;
        let mut given = 0u64;
        for (i, c) in self.classes.iter_mut().enumerate() {
            if c.pending == 0 {
                self.alloc[i] = 0;
                self.frac[i] = f64::NEG_INFINITY;
                continue;
            }
            let exact = n as f64 * c.pending as f64 / pend + c.carry_alloc;
            let a = (exact.max(0.0) as u64).min(c.pending);
            self.alloc[i] = a;
            self.frac[i] = exact - a as f64;
            given += a;
        }
        while given < n {
            let best = (0..self.classes.len())
                .filter(|&i| self.alloc[i] < self.classes[i].pending)
                .max_by(|&a, &b| self.frac[a].total_cmp(&self.frac[b]));
            let Some(i) = best else { break };
            self.alloc[i] += 1;
            self.frac[i] -= 1.0;
            given += 1;
        }
        while given > n {
            let worst = (0..self.classes.len())
                .filter(|&i| self.alloc[i] > 0)
                .min_by(|&a, &b| self.frac[a].total_cmp(&self.frac[b]));
            let Some(i) = worst else { break };
            self.alloc[i] -= 1;
            self.frac[i] += 1.0;
            given -= 1;
        }
        for (i, c) in self.classes.iter_mut().enumerate() {
            if c.pending > 0 {
                c.carry_alloc = self.frac[i].clamp(-1.0, 1.0);
            }
        }
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
            c.pending = c.n;
            c.exposure = 0.0;
            c.lambda = 0.0;
            c.cached = 0.0;
            c.carry_alloc = 0.0;
            c.carry_new = Carry::default();
            c.carry_zero = Carry::default();
            c.carry_hit = Carry::default();
            c.carry_ovf = Carry::default();
            c.carry_bytes = Carry::default();
            c.carry_pc = Carry::default();
            c.carry_pc_zero = Carry::default();
            Self::update_xbz_model(c, ps);
        }
        self.pending = self.total;
        self.ahead = self.total;
        self.behind = 0;
        self.pos = 0.0;
        self.carry_split = Carry::default();
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
        for c in &mut self.classes {
            if c.exposure <= 0.0 || c.n == 0 {
                continue;
            }
            let n = c.n as f64;
            let written = n * -(-c.exposure / n).exp_m1();
            let new = c.carry_new.take(written * (1.0 - c.pending as f64 / n), c.n - c.pending);
            c.pending += new;
            new_total += new;
            c.lambda = c.exposure / n;
            c.exposure = 0.0;
            Self::update_xbz_model(c, ps);
        }
        let ahead = self.carry_split.take(new_total as f64 * (1.0 - self.pos), new_total);
        self.ahead += ahead;
        self.behind += new_total - ahead;
        self.pending += new_total;
        new_total
    }

    fn take(&mut self, req: &TakeRequest) -> TakeOutcome {
        let costs = &req.costs;
        let mut out = TakeOutcome::default();
        let mut mix: Option<(f64, f64, f64)> = None;
        let mut mix_wraps = 0;
        loop {
            // QEMU checks its limits before every page.
            let t_now = costs.time_ns(out.wire, out.thread_ns, out.chan_ns);
            if out.pages() >= req.max_pages || out.wire > req.budget_bytes || t_now > req.max_ns {
                break;
            }
            if self.ahead == 0 {
                // The scanner reached the end of RAM: a complete round.
                out.wraps += 1;
                if req.xbzrle {
                    self.xbz_started = true;
                }
                self.pos = 0.0;
                self.ahead = self.behind;
                self.behind = 0;
                if self.ahead == 0 {
                    out.all_clean = true;
                    break;
                }
                if out.wraps > 1 {
                    break;
                }
            }
            let xbz = req.xbzrle && self.xbz_started;
            // The mixture barely moves within one take: compute it once (and
            // again after a wrap, when XBZRLE may have started).
            if mix.is_none() || out.wraps != mix_wraps {
                mix = Some(self.mixture_cost(costs, xbz));
                mix_wraps = out.wraps;
            }
            let (aw, at, ac) = mix.unwrap_or((1.0, 1.0, 0.0));
            // Pages until the budget is crossed (the page that crosses it is
            // still sent) and until the time is up, at the mixture's
            // average cost; the loop tops up after the integer split.
            let n_budget = if req.budget_bytes.is_infinite() {
                u64::MAX
            } else {
                // One page more than the average says, so that the integer
                // split nearly always crosses the budget in one go (QEMU's
                // own overshoot is a page plus its unflushed buffer).
                ((req.budget_bytes - out.wire) / aw.max(1e-9)) as u64 + 2
            };
            let per_page_t = costs.time_ns(aw, at, ac).max(1e-9);
            let n_time =
                if req.max_ns.is_infinite() { u64::MAX } else { ((req.max_ns - t_now) / per_page_t) as u64 + 1 };
            let room = req.max_pages - out.pages();
            let n = self.ahead.min(n_budget).min(n_time).min(room);
            if n == 0 {
                break;
            }
            self.split(n);
            for (i, c) in self.classes.iter_mut().enumerate() {
                let nc = self.alloc[i];
                if nc == 0 {
                    continue;
                }
                c.pending -= nc;
                let zero = if costs.zero_as_normal { 0 } else { c.carry_zero.take(nc as f64 * c.zf, nc) };
                let rest = nc - zero;
                out.zero += zero;
                out.wire += zero as f64 * costs.zero.wire;
                out.thread_ns += zero as f64 * costs.zero.thread_ns;
                out.chan_ns += zero as f64 * costs.zero.chan_ns;
                if xbz && c.n > 0 && rest > 0 {
                    let h = (c.cached / c.n as f64).clamp(0.0, 1.0);
                    let hits = c.carry_hit.take(rest as f64 * h, rest);
                    let ovf = c.carry_ovf.take(hits as f64 * c.xbz_overflow_p, hits);
                    let enc = hits - ovf;
                    let miss = rest - hits;
                    let data = c.carry_bytes.take(enc as f64 * (c.xbz_mean_data + 3.0), u64::MAX);
                    if !req.last_stage {
                        c.cached = (c.cached + miss as f64).min(c.cache_cap);
                    }
                    out.xbz_pages += enc;
                    out.xbz_data_bytes += data;
                    out.xbz_overflow += ovf;
                    out.xbz_miss += miss;
                    out.normal += miss + ovf;
                    out.wire += (miss + ovf) as f64 * costs.normal.wire
                        + data as f64
                        + enc as f64 * (costs.xbzrle_record_overhead - 3.0);
                    out.thread_ns += rest as f64 * costs.normal.thread_ns + hits as f64 * costs.xbzrle_encode_ns;
                    out.chan_ns += (miss + ovf) as f64 * costs.normal.chan_ns;
                } else {
                    out.normal += rest;
                    out.wire += rest as f64 * costs.normal.wire;
                    out.thread_ns += rest as f64 * costs.normal.thread_ns;
                    out.chan_ns += rest as f64 * costs.normal.chan_ns;
                }
            }
            self.pos += (1.0 - self.pos) * n as f64 / self.ahead as f64;
            self.ahead -= n;
            self.pending -= n;
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
            c.pending -= req;
            zero += z;
            other += req - z;
        }
        let n = zero + other;
        // Requested pages lie anywhere; take them from ahead and behind the
        // scanner in proportion.
        let from_ahead = if self.pending > 0 {
            ((n as f64 * self.ahead as f64 / self.pending as f64).round() as u64).min(self.ahead).min(n)
        } else {
            0
        };
        let from_behind = (n - from_ahead).min(self.behind);
        self.ahead -= from_ahead;
        self.behind -= from_behind;
        let rest = n - from_ahead - from_behind;
        self.ahead -= rest.min(self.ahead);
        self.pending -= n;
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
            c.cached = 0.0;
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
        std::mem::size_of::<Self>() + self.classes.len() * (std::mem::size_of::<Class>() + 8)
    }
}
