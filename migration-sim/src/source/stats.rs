//! The statistics QEMU derives while migrating: the 100 ms window (mbps,
//! pages-per-second, threshold, expected-downtime), dirty bitmap syncs with
//! the dirty-rate period and XBZRLE rates, auto-converge (model §1.4, §1.6,
//! §1.7).

use super::{Shared, Source, BUFFER_DELAY_MS};
use crate::events::{Event, Side};
use crate::report::WindowInfo;
use crate::units::{ms_clock, Nanos};

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
        let dt = (now_ms - self.run.win_start_ms) as f64;
        let db = self.run.c.transferred - self.run.win_start_bytes;
        let bw = db as f64 / dt;
        let avail = self.params.avail_switchover_bandwidth.0;
        let e_bw = if avail != 0 { avail as f64 / 1000.0 } else { bw };
        self.run.threshold = (e_bw * self.params.downtime_limit as f64) as u64;
        self.run.mbps = (db as f64 * 8.0) / (dt / 1000.0) / 1000.0 / 1000.0;
        let pages = self.total_pages_sent();
        self.run.pps = ((pages - self.run.win_start_pages) as f64 / (dt / 1000.0)) as u64;
        if self.run.dirty_pages_rate != 0 && db > 10_000 && e_bw > 0.0 {
            self.run.expected_downtime_ms = (self.run.dirty_bytes_last_sync as f64 / e_bw) as u64;
        }
        self.run.last_window = WindowInfo {
            start_ms: self.run.win_start_ms,
            end_ms: now_ms,
            bytes: db,
            rate_limited: self.run.win_exceeded,
            valid: true,
        };
        self.run.rate_start_bytes = self.run.c.transferred;
        self.run.win_start_ms = now_ms;
        self.run.win_start_bytes = self.run.c.transferred;
        self.run.win_start_pages = pages;
        self.run.win_exceeded = false;
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
