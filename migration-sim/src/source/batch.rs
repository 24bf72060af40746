//! Fast-forwarding steady rate-limited windows (see
//! [`crate::Simulation::set_batching`]).
//!
//! In a rate-limited round most windows are alike: at the window's start
//! the thread sends one window budget in a burst, sleeps to the window's
//! end, and the next pass finds the pending estimate still above the
//! threshold. A batch makes those windows' RAM takes one after another, the
//! same takes window-by-window stepping makes, checks before each window
//! that stepping would also just iterate there, and commits them as one
//! segment that records when each window's burst ran. Queries inside the
//! batch see every burst and every closed window's statistics where
//! stepping puts them: batching changes the driver's work, never what QEMU
//! reports.

use super::counters::Counters;
use super::stats::{Window, WindowStats};
use super::{Pc, Source, BUFFER_DELAY_MS, MAX_WAIT_NS};
use crate::units::{ceil_ns, ms_clock, Nanos, NS_PER_MS};

/// Most windows in one batch (bounds how late a command issued through the
/// library in the middle of a batch takes effect).
const MAX_BATCH: u64 = 10;

/// Window length in ns.
const WINDOW_NS: Nanos = BUFFER_DELAY_MS * NS_PER_MS;

/// One window of a batch: its burst starts with the window.
#[derive(Debug, Clone, Copy)]
pub(super) struct BatchWindow {
    start_ns: Nanos,
    burst_ns: Nanos,
    delta: Counters,
    /// Multifd SYNC rounds its take made (scanner wraps).
    multifd_syncs: u64,
}

impl BatchWindow {
    /// What the window's burst sent by `now` (interpolated as a stepped
    /// burst segment is).
    fn part_at(&self, now: Nanos) -> Counters {
        if now >= self.start_ns + self.burst_ns {
            self.delta
        } else if now > self.start_ns {
            self.delta.scaled(now - self.start_ns, self.burst_ns)
        } else {
            Counters::default()
        }
    }

    fn closed_by(&self, now: Nanos) -> bool {
        self.start_ns + WINDOW_NS <= now
    }
}

/// A fast-forwarded batch of windows.
#[derive(Debug, Clone)]
pub(super) struct Batch {
    windows: Vec<BatchWindow>,
    /// The last window's take did not exhaust its budget: the batch ends
    /// with that window's burst and the thread goes on in the same window,
    /// as after any RAM iterate.
    open_last: bool,
    /// The last window's take sent pages.
    last_pass_sent: bool,
}

impl Batch {
    /// What the batch sent by `now`.
    pub(super) fn part_at(&self, now: Nanos) -> Counters {
        let mut c = Counters::default();
        for w in &self.windows {
            c.add(&w.part_at(now));
        }
        c
    }

    /// RAM iterate calls and multifd SYNC rounds of the windows that start
    /// after `now` (already counted, not yet made by stepping's clock).
    pub(super) fn made_after(&self, now: Nanos) -> (u64, u64) {
        let later = self.windows.iter().filter(|w| w.start_ns > now);
        later.fold((0, 0), |(calls, syncs), w| (calls + 1, syncs + w.multifd_syncs))
    }

    /// Whether `now` falls inside one of the bursts.
    pub(super) fn sending_at(&self, now: Nanos) -> bool {
        self.windows.iter().any(|w| now > w.start_ns && now < w.start_ns + w.burst_ns && w.delta.transferred > 0)
    }

    /// The windows closed by `now`, with the bytes and pages sent in each.
    fn closed_windows(&self, now: Nanos) -> impl Iterator<Item = Window> + '_ {
        let last = self.windows.len().saturating_sub(1);
        self.windows[..last].iter().filter(move |w| w.closed_by(now)).map(|w| Window {
            start_ms: ms_clock(w.start_ns),
            end_ms: ms_clock(w.start_ns + WINDOW_NS),
            bytes: w.delta.transferred,
            pages: w.delta.pages(),
            rate_limited: true,
        })
    }
}

impl Source {
    /// How many windows may be fast-forwarded from here (≥ 2), if any: the
    /// thread is at the start of a rate-limited window after a window that
    /// was rate limited too, nothing but RAM iterates (no VFIO, postcopy),
    /// and no scheduled action or auto-converge tick falls inside.
    pub(super) fn batch_windows(&self, now: Nanos) -> Option<u64> {
        if !self.batching || self.run.in_postcopy || self.run.postcopy_requested || self.vfio_count > 0 {
            return None;
        }
        self.run.rate_limit?;
        let window_start = self.run.win_start_ms * NS_PER_MS;
        if now != window_start || self.run.c.transferred != self.run.rate_start_bytes {
            return None;
        }
        if !(self.run.win.last.valid && self.run.win.last.rate_limited) {
            return None;
        }
        let mut horizon = self.horizon_ns;
        if self.caps.auto_converge {
            horizon = horizon.min(self.run.ac_next_tick);
        }
        let k = (horizon.saturating_sub(window_start) / WINDOW_NS).min(MAX_BATCH);
        (k >= 2).then_some(k)
    }

    /// Make up to `k` windows' takes now, as stepping would make them, and
    /// start the segment that covers them.
    pub(super) fn iterate_batch(&mut self, now: Nanos, k: u64) {
        let Some(l) = self.run.rate_limit else {
            self.pc = Pc::IterateRam;
            return;
        };
        let xbzrle = self.caps.xbzrle;
        let mut win = self.run.win;
        let mut batch = Batch { windows: Vec::new(), open_last: false, last_pass_sent: true };
        let mut total = Counters::default();
        for j in 0..k {
            let start_ns = now + j * WINDOW_NS;
            if let Some(prev) = batch.windows.last() {
                // Stepping closes the previous window here; it iterates
                // again only while the pending estimate is above the new
                // threshold (otherwise it syncs or completes).
                win = self.closed_window(&win, &Self::full_window(prev));
                if self.ram_pending_bytes() <= win.threshold {
                    break;
                }
            }
            self.run.iterate_calls += 1;
            let syncs_before = self.run.mf_flushes;
            let (d, out, t) = self.send_ram_section(l as f64, MAX_WAIT_NS, xbzrle, false);
            let burst_ns = ceil_ns(t);
            total.add(&d);
            let multifd_syncs = self.run.mf_flushes - syncs_before;
            batch.windows.push(BatchWindow { start_ns, burst_ns, delta: d, multifd_syncs });
            if d.transferred <= l || burst_ns >= WINDOW_NS {
                // Not a steady window: stepping goes on from this burst.
                batch.open_last = true;
                batch.last_pass_sent = out.pages() > 0;
                break;
            }
        }
        let end = match batch.windows.last() {
            Some(w) if batch.open_last => w.start_ns + w.burst_ns,
            Some(w) => w.start_ns + WINDOW_NS,
            None => now,
        };
        self.pc = if batch.open_last { Pc::IterateVfio(0) } else { Pc::PassStart };
        if end == now {
            self.run.c.add(&total);
            self.batch_done(&batch, now);
        } else {
            self.seg = Some(super::counters::Segment { t0: now, t1: end, delta: total, batch: true, vfio_dec: None });
            self.run.batch = Some(batch);
        }
    }

    fn full_window(w: &BatchWindow) -> Window {
        Window {
            start_ms: ms_clock(w.start_ns),
            end_ms: ms_clock(w.start_ns + WINDOW_NS),
            bytes: w.delta.transferred,
            pages: w.delta.pages(),
            rate_limited: true,
        }
    }

    /// The window statistics as of `now`: what the last update left, plus
    /// the windows of a batch in flight that stepping would have closed.
    pub(super) fn window_stats_at(&self, now: Nanos) -> WindowStats {
        match (&self.run.batch, self.seg) {
            (Some(b), Some(s)) if s.batch => {
                b.closed_windows(now).fold(self.run.win, |acc, w| self.closed_window(&acc, &w))
            }
            _ => self.run.win,
        }
    }

    /// The counters of `b` up to `now` were committed (at its end, or cut
    /// short): close the windows stepping would have closed by then and
    /// leave the thread in the window `now` is in.
    pub(super) fn batch_done(&mut self, b: &Batch, now: Nanos) {
        let done = b.part_at(now);
        let mut bytes_before = self.run.c.transferred - done.transferred;
        let mut pages_before = self.total_pages_sent() - done.pages();
        for w in b.closed_windows(now) {
            self.run.win = self.closed_window(&self.run.win, &w);
            bytes_before += w.bytes;
            pages_before += w.pages;
        }
        let Some(current) = b.windows.iter().rev().find(|w| w.start_ns <= now) else { return };
        self.run.win_start_ms = ms_clock(current.start_ns);
        self.run.win_start_bytes = bytes_before;
        self.run.win_start_pages = pages_before;
        self.run.rate_start_bytes = bytes_before;
        self.run.win_exceeded = self.run.rate_limit.is_some_and(|l| current.delta.transferred > l);
        self.run.pass_sent = !b.open_last || b.last_pass_sent;
    }
}
