//! What the source reports: `query-migrate` interpolated inside a running
//! segment, `query-status`, and the internals checkers use (model §1.2,
//! §1.4).

use super::counters::Counters;
use super::stats::WindowStats;
use super::Source;
use crate::config::ZeroPageDetection;
use crate::report::{Internals, MigrationInfo, MigrationStats, StatusInfo, VfioStats, XBZRLECacheStats};
use crate::status::{MigrationStatus, RunState};
use crate::units::{ms_clock, Nanos};

impl Source {
    /// Counters and pending pages as of `now` (interpolating a running
    /// segment).
    pub(super) fn counters_at(&self, now: Nanos) -> (Counters, u64) {
        let mut c = self.run.c;
        let mut pending = self.engine.pending_pages() + self.run.lost_pages;
        if let Some(s) = self.seg {
            let part = self.segment_part(&s, self.run.batch.as_ref(), now);
            pending += s.delta.pages() - part.pages();
            c.add(&part);
        }
        (c, pending.min(self.engine.total_pages()))
    }

    /// `query-status` on the source.
    pub(crate) fn query_status(&self) -> StatusInfo {
        StatusInfo { running: self.runstate == RunState::Running, status: self.runstate }
    }

    /// `query-migrate` on the source at `now` (model §1.2).
    pub(crate) fn query_migrate(&self, now: Nanos) -> MigrationInfo {
        use MigrationStatus as S;
        let mut info = MigrationInfo::default();
        if self.status == S::None {
            return info;
        }
        info.status = Some(self.status);
        info.error_desc = self.run.error_desc.clone();
        let shows_stats = matches!(self.status, S::Active | S::PreSwitchover | S::Device | S::Cancelling)
            || self.status.is_postcopy()
            || self.status == S::Completed;
        if !shows_stats {
            if self.status != S::Failed {
                info.error_desc = None;
            }
            return info;
        }
        let (c, pending) = self.counters_at(now);
        let win = self.window_stats_at(now);
        let completed = self.status == S::Completed;
        info.setup_time = Some(self.run.setup_time_ms.unwrap_or(0) as i64);
        info.total_time = Some(match self.run.total_time_ms {
            Some(t) if completed => t as i64,
            _ => (ms_clock(now) - ms_clock(self.run.start_ns)) as i64,
        });
        if self.status.is_postcopy() || completed {
            info.downtime = self.run.downtime_ms.map(|d| d as i64);
        } else {
            info.expected_downtime = Some(win.expected_downtime_ms as i64);
        }
        info.ram = Some(self.ram_stats(&c, &win, pending, completed));
        if self.has_vfio() {
            info.vfio = Some(VfioStats { transferred: c.vfio_transferred as i64 });
        }
        if self.caps.xbzrle {
            info.xbzrle_cache = Some(XBZRLECacheStats {
                cache_size: self.params.xbzrle_cache_size.0,
                bytes: c.xbz_bytes as i64,
                pages: c.xbz_pages as i64,
                cache_miss: c.xbz_miss as i64,
                cache_miss_rate: self.run.xbz_miss_rate,
                encoding_rate: self.run.xbz_encoding_rate,
                overflow: c.xbz_overflow as i64,
            });
        }
        if self.run.throttle > 0 {
            info.cpu_throttle_percentage = Some(i64::from(self.run.throttle));
        }
        if completed {
            if self.features.device_state_times {
                info.device_state_times = self.run.device_state_times.clone();
            }
            info.error_desc = None;
        }
        if self.features.system_remaining {
            info.remaining = Some(if completed { 0 } else { pending * self.page_size + self.vfio_remaining(now) });
        }
        info
    }

    /// `ram` of `query-migrate`: every member QEMU's source reports.
    fn ram_stats(&self, c: &Counters, win: &WindowStats, pending: u64, completed: bool) -> MigrationStats {
        let p = self.page_size;
        MigrationStats {
            transferred: c.transferred as i64,
            remaining: if completed { 0 } else { (pending * p) as i64 },
            total: (self.engine.total_pages() * p) as i64,
            duplicate: c.zero as i64,
            normal: c.normal as i64,
            normal_bytes: (c.normal * p) as i64,
            dirty_pages_rate: Some(if completed { 0 } else { self.run.dirty_pages_rate as i64 }),
            mbps: win.mbps,
            dirty_sync_count: Some(self.run.sync_count as i64),
            postcopy_requests: Some(c.postcopy_requests as i64),
            page_size: p as i64,
            multifd_bytes: Some(c.multifd_bytes),
            pages_per_second: win.pps,
            precopy_bytes: Some(c.precopy_bytes),
            downtime_bytes: Some(c.downtime_bytes),
            postcopy_bytes: Some(c.postcopy_bytes),
            dirty_sync_missed_zero_copy: Some(0),
        }
    }

    /// The VFIO part of the system-wide `remaining`: each device's stop-copy
    /// size cached at the last exact query, less what a running stop-copy
    /// segment has sent by `now`.
    fn vfio_remaining(&self, now: Nanos) -> u64 {
        let cached: u64 = self.devices.iter().filter_map(|d| d.vfio.as_ref()).map(|v| v.cached_stop).sum();
        let Some(seg) = self.seg else { return cached };
        match seg.vfio_dec {
            Some((_, bytes)) if now > seg.t0 => {
                let done =
                    (bytes as u128 * (now.min(seg.t1) - seg.t0) as u128 / (seg.t1 - seg.t0).max(1) as u128) as u64;
                cached.saturating_sub(done)
            }
            _ => cached,
        }
    }

    /// Internals for checkers.
    pub(crate) fn internals(&self, now: Nanos) -> Internals {
        let (c, _) = self.counters_at(now);
        let batch = self.run.batch.as_ref().filter(|_| self.seg.is_some_and(|s| s.batch));
        let (later_calls, later_syncs) = batch.map_or((0, 0), |b| b.made_after(now));
        Internals {
            window: self.window_stats_at(now).last,
            iterate_calls: self.run.iterate_calls - later_calls,
            non_ram_bytes: c.non_ram_bytes,
            device_bytes: c.device_bytes,
            ram_marker_bytes: c.ram_marker_bytes,
            multifd: self.caps.multifd,
            zero_pages_in_channels: self.caps.multifd && self.params.zero_page_detection == ZeroPageDetection::Multifd,
            downtime_limit_ms: self.run.downtime_limit_at_start,
            throttle_range: (self.params.cpu_throttle_initial, self.params.max_cpu_throttle),
            xbzrle_cache_size: self.params.xbzrle_cache_size.0,
            throttle_changes: self.run.throttle_changes.clone(),
            concurrent_entries: self.run.concurrent.clone(),
            multifd_syncs: self.run.mf_flushes - later_syncs,
            sync_times: self.run.sync_times.clone(),
            engine_bytes: self.engine.footprint_bytes(),
            sending: match (&self.run.batch, self.seg) {
                (Some(b), Some(s)) if s.batch => b.sending_at(now),
                (_, Some(s)) => s.delta.transferred > 0 && now > s.t0 && now < s.t1,
                _ => false,
            },
        }
    }
}
