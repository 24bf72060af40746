//! The statistics QEMU derives while migrating: the 100 ms window (mbps,
//! pages-per-second, threshold, expected-downtime), dirty bitmap syncs with
//! the dirty-rate period and XBZRLE rates, auto-converge (model §1.4, §1.6,
//! §1.7).

use super::{Shared, Source, BUFFER_DELAY_MS};
use crate::events::{Event, Side};
use crate::report::WindowInfo;
use crate::units::{ms_clock, Nanos};

/// What the last window update left behind (model §1.4).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct WindowStats {
    /// The last window's throughput, Mbit/s.
    pub mbps: f64,
    /// The last window's pages per second.
    pub pps: u64,
    /// Bytes that fit in the downtime limit at the estimated bandwidth.
    pub threshold: u64,
    /// `expected-downtime`, ms.
    pub expected_downtime_ms: u64,
    /// The last window itself (for checkers).
    pub last: WindowInfo,
}

/// A statistics window being closed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    pub start_ms: u64,
    pub end_ms: u64,
    pub bytes: u64,
    pub pages: u64,
    pub rate_limited: bool,
}

impl Source {
    pub(super) fn total_pages_sent(&self) -> u64 {
        self.run.c.pages()
    }

    /// QEMU's `migration_update_counters`: a window closes after ≥ 100 ms.
    pub(super) fn update_counters(&mut self, now: Nanos) {
        let now_ms = ms_clock(now);
        if now_ms < self.run.win_start_ms + BUFFER_DELAY_MS {
            return;
        }
        let bytes = self.run.c.transferred - self.run.win_start_bytes;
        let pages = self.total_pages_sent();
        let closed = Window {
            start_ms: self.run.win_start_ms,
            end_ms: now_ms,
            bytes,
            pages: pages - self.run.win_start_pages,
            rate_limited: self.run.win_exceeded,
        };
        self.run.win = self.closed_window(&self.run.win, &closed);
        self.run.rate_start_bytes = self.run.c.transferred;
        self.run.win_start_ms = now_ms;
        self.run.win_start_bytes = self.run.c.transferred;
        self.run.win_start_pages = pages;
        self.run.win_exceeded = false;
    }

    /// What QEMU's window update computes when `w` closes, `prev` being what
    /// the previous update left (model §1.4).
    pub(super) fn closed_window(&self, prev: &WindowStats, w: &Window) -> WindowStats {
        let dt = (w.end_ms - w.start_ms) as f64;
        let bw = w.bytes as f64 / dt;
        let avail = self.params.avail_switchover_bandwidth.0;
        let e_bw = if avail != 0 { avail as f64 / 1000.0 } else { bw };
        let expected_downtime_ms = if self.run.dirty_pages_rate != 0 && w.bytes > 10_000 && e_bw > 0.0 {
            (self.run.dirty_bytes_last_sync as f64 / e_bw) as u64
        } else {
            prev.expected_downtime_ms
        };
        WindowStats {
            threshold: (e_bw * self.params.downtime_limit as f64) as u64,
            mbps: (w.bytes as f64 * 8.0) / (dt / 1000.0) / 1000.0 / 1000.0,
            pps: (w.pages as f64 / (dt / 1000.0)) as u64,
            expected_downtime_ms,
            last: WindowInfo {
                start_ms: w.start_ms,
                end_ms: w.end_ms,
                bytes: w.bytes,
                rate_limited: w.rate_limited,
                valid: true,
            },
        }
    }

    /// A RAM dirty bitmap sync (QEMU's `migration_bitmap_sync`).
    pub(super) fn do_sync(&mut self, now: Nanos, sh: &mut Shared) {
        self.flush_writes(now);
        self.run.sync_count += 1;
        self.run.sync_times.push(now);
        if self.caps.events {
            sh.events.emit(Side::Source, now, Event::MigrationPass { pass: self.run.sync_count });
        }
        let new = self.engine.sync();
        self.run.period_new += new;
        self.run.dirty_bytes_last_sync = self.ram_pending_bytes();
        let now_ms = ms_clock(now);
        if now_ms > self.run.period_start_ms + 1000 {
            let xfer_period = self.run.c.transferred - self.run.period_xfer_start;
            let dirty_period = self.run.period_new * self.page_size;
            let threshold = xfer_period * u64::from(self.params.throttle_trigger_threshold) / 100;
            if dirty_period > threshold {
                self.run.high_count += 1;
                if self.run.high_count >= 2 {
                    self.run.high_count = 0;
                    if self.caps.auto_converge {
                        self.throttle_guest_down(now, dirty_period, threshold);
                    }
                }
            }
            self.run.dirty_pages_rate = self.run.period_new * 1000 / (now_ms - self.run.period_start_ms);
            if self.caps.xbzrle {
                let pages = self.total_pages_sent();
                let handled = pages - self.run.period_pages_start;
                if handled > 0 {
                    self.run.xbz_miss_rate =
                        (self.run.c.xbz_miss - self.run.period_xbz_miss_start) as f64 / handled as f64;
                    let dp = self.run.c.xbz_pages - self.run.period_xbz_pages_start;
                    let db = self.run.c.xbz_bytes - self.run.period_xbz_bytes_start;
                    self.run.xbz_encoding_rate =
                        if dp > 0 && db > 0 { (dp * self.page_size) as f64 / db as f64 } else { 0.0 };
                }
                self.run.period_pages_start = pages;
                self.run.period_xbz_miss_start = self.run.c.xbz_miss;
                self.run.period_xbz_pages_start = self.run.c.xbz_pages;
                self.run.period_xbz_bytes_start = self.run.c.xbz_bytes;
            }
            self.run.period_start_ms = now_ms;
            self.run.period_new = 0;
            self.run.period_xfer_start = self.run.c.transferred;
        }
    }

    pub(super) fn throttle_guest_down(&mut self, now: Nanos, dirty_period: u64, dirty_threshold: u64) {
        let p = &self.params;
        let new = if self.run.throttle == 0 {
            p.cpu_throttle_initial
        } else {
            let inc = if p.cpu_throttle_tailslow {
                let cpu_now = 100 - u64::from(self.run.throttle);
                let cpu_ideal = (cpu_now as f64 * (dirty_threshold as f64 / dirty_period as f64)) as u64;
                cpu_now.saturating_sub(cpu_ideal).min(u64::from(p.cpu_throttle_increment))
            } else {
                u64::from(p.cpu_throttle_increment)
            };
            (u64::from(self.run.throttle) + inc).min(u64::from(p.max_cpu_throttle)) as u8
        };
        let new = new.clamp(1, 99);
        if new != self.run.throttle {
            self.flush_writes(now);
            self.run.throttle = new;
            self.run.throttle_changes.push((now, new));
        }
    }
}
