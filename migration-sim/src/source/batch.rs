//! Fast-forwarding steady rate-limited windows (see
//! [`crate::Simulation::set_batching`]).

use super::counters::BatchEnd;
use super::{Pc, Source, BUFFER_DELAY_MS, MAX_WAIT_NS, SECTION_OVERHEAD};
use crate::report::WindowInfo;
use crate::units::{Nanos, NS_PER_MS};

impl Source {
    /// How many steady rate-limited windows can be fast-forwarded from here
    /// in one segment (≥ 2), if any.
    ///
    /// In a rate-limited round every window is alike: the thread sends one
    /// window budget, sleeps to the window's end, and the next pass finds
    /// the pending estimate still above the threshold. When nothing else can
    /// happen (no sync due, no scanner wrap, no VFIO, XBZRLE or postcopy, no
    /// scheduled action or auto-converge tick before the end), the aggregate
    /// engine sends those windows' pages in one take. The windows' statistics
    /// are then identical by construction and the result differs from
    /// window-by-window stepping only in where each window's budget
    /// overshoot (a fraction of a page) falls.
    pub(super) fn batch_windows(&self, now: Nanos) -> Option<u64> {
        const MAX_BATCH: u64 = 10;
        if !self.batching
            || self.run.in_postcopy
            || self.run.postcopy_requested
            || self.caps.xbzrle
            || self.vfio_count > 0
            || !self.guest_running
        {
            return None;
        }
        let l = self.run.rate_limit? as f64;
        let window_start = self.run.win_start_ms * NS_PER_MS;
        if now != window_start || self.run.c.transferred != self.run.rate_start_bytes {
            return None;
        }
        if !(self.run.last_window.valid && self.run.last_window.rate_limited) {
            return None;
        }
        let costs = self.send_costs();
        let (aw, at, ac) = self.engine.average_page_cost(&costs, false)?;
        let ahead = self.engine.pages_before_wrap()?;
        let ppw = (l / aw.max(1.0) + 2.0) * 1.02;
        if costs.time_ns(l, ppw * at, ppw * ac) > 0.8 * MAX_WAIT_NS {
            return None;
        }
        let per = ppw * self.page_size as f64;
        let slack = self.ram_pending_bytes() as f64 - 1.05 * self.run.threshold as f64;
        if slack < per {
            return None;
        }
        let k_est = 1 + (slack / per) as u64;
        let k_wrap = (ahead as f64 / ppw) as u64;
        let mut horizon = self.horizon_ns;
        if self.caps.auto_converge {
            horizon = horizon.min(self.run.ac_next_tick);
        }
        let k_time = horizon.saturating_sub(window_start) / (BUFFER_DELAY_MS * NS_PER_MS);
        let k = k_est.min(k_wrap).min(k_time).min(MAX_BATCH);
        (k >= 2).then_some(k)
    }

    /// Send `k` steady windows in one segment ending at the `k`-th window's
    /// end; windows 1..k−1 are closed when it is committed and the `k`-th
    /// by the ordinary rate-limit step that follows.
    pub(super) fn iterate_batch(&mut self, now: Nanos, k: u64) {
        let Some(l) = self.run.rate_limit else {
            self.pc = Pc::IterateRam;
            return;
        };
        self.run.iterate_calls += k;
        let overhead = SECTION_OVERHEAD + 8;
        let budget = (k * l.saturating_sub(overhead)) as f64;
        let (d, _, _) = self.send_ram_sections(k, budget, f64::INFINITY, false, false);
        let per_window = d.transferred / k;
        let per_pages = d.pages() / k;
        let start_ms = self.run.win_start_ms;
        let end = (start_ms + BUFFER_DELAY_MS * k) * NS_PER_MS;
        self.run.batch_end = Some(BatchEnd {
            k,
            per_window,
            per_pages,
            last_window: d.transferred - (k - 1) * per_window,
            last_pages: d.pages() - (k - 1) * per_pages,
            start_ms,
        });
        self.run.win_exceeded = true;
        self.run.pass_sent = true;
        self.begin(now, end - now, d, Pc::PassStart);
        if let Some(seg) = &mut self.seg {
            seg.batch = true;
        }
    }

    /// Close windows 1..k−1 of a committed batch (QEMU's window update for
    /// each of them gives the same values) and open the `k`-th.
    pub(super) fn apply_batch_end(&mut self, b: BatchEnd) {
        let dt = BUFFER_DELAY_MS as f64;
        let avail = self.params.avail_switchover_bandwidth.0;
        let bw = b.per_window as f64 / dt;
        let e_bw = if avail != 0 { avail as f64 / 1000.0 } else { bw };
        self.run.threshold = (e_bw * self.params.downtime_limit as f64) as u64;
        self.run.mbps = (b.per_window as f64 * 8.0) / (dt / 1000.0) / 1000.0 / 1000.0;
        self.run.pps = (b.per_pages as f64 / (dt / 1000.0)) as u64;
        if self.run.dirty_pages_rate != 0 && b.per_window > 10_000 && e_bw > 0.0 {
            self.run.expected_downtime_ms = (self.run.dirty_bytes_last_sync as f64 / e_bw) as u64;
        }
        let last_start = b.start_ms + BUFFER_DELAY_MS * (b.k - 1);
        self.run.last_window = WindowInfo {
            start_ms: last_start - BUFFER_DELAY_MS,
            end_ms: last_start,
            bytes: b.per_window,
            rate_limited: true,
            valid: true,
        };
        self.run.win_start_ms = last_start;
        self.run.win_start_bytes = self.run.c.transferred - b.last_window;
        self.run.rate_start_bytes = self.run.win_start_bytes;
        self.run.win_start_pages = self.total_pages_sent() - b.last_pages;
        self.run.win_exceeded = true;
    }
}
