//! Sending RAM: what a page costs on each channel, how a take from the RAM
//! engine becomes counters and time, multifd packets and syncs, the rate
//! limit's budget (model §1.3, §1.9, §1.10, §3.5).

use super::counters::Counters;
use super::{Source, MULTIFD_PACKET_HEADER, MULTIFD_PACKET_PAGES, SECTION_OVERHEAD};
use crate::config::ZeroPageDetection;
use crate::memory::{PageCost, SendCosts, TakeOutcome, TakeRequest};
use crate::units::{ceil_ns, ms_to_ns, Nanos};

impl Source {
    pub(super) fn multifd_active(&self) -> bool {
        self.caps.multifd && !self.run.in_postcopy
    }

    pub(super) fn zero_in_channels(&self) -> bool {
        self.multifd_active() && self.params.zero_page_detection == ZeroPageDetection::Multifd
    }

    /// `mapped-ram`: every page has its place in the file; a page is
    /// written there whole, a zero page not at all (its bit in the file's
    /// bitmap stays clear), and multifd channels write without packets.
    pub(super) fn mapped_ram(&self) -> bool {
        self.caps.mapped_ram
    }

    /// The pages of each RAMBlock: guest RAM (the page classes and the
    /// rest), then the other blocks (ROMs, VRAM) as one.
    pub(super) fn ram_blocks(&self) -> [u64; 2] {
        let layout = self.engine.layout();
        let extra = layout.class_index("extra-ram-blocks").map_or(0, |i| layout.classes[i].pages);
        [self.engine.total_pages() - extra, extra]
    }

    pub(super) fn channels(&self) -> u64 {
        u64::from(self.params.multifd_channels.max(1))
    }

    pub(super) fn send_costs(&self) -> SendCosts {
        let p = self.page_size as f64;
        let ovh = self.costs.page_overhead_us * 1000.0;
        let scan = p * 1e9 / self.costs.zero_scan_bandwidth.0;
        let zero_as_normal = self.params.zero_page_detection == ZeroPageDetection::None;
        let xbzrle_encode_ns = p * 1e9 / self.costs.xbzrle_encode_bandwidth.0;
        let (page_header, zero_record) = if self.mapped_ram() { (0.0, 0.0) } else { (8.0, 9.0) };
        if self.multifd_active() {
            let ch = self.channels() as f64;
            let hdr = if self.mapped_ram() { 0.0 } else { MULTIFD_PACKET_HEADER as f64 / MULTIFD_PACKET_PAGES as f64 };
            let zero = if self.zero_in_channels() {
                PageCost { wire: hdr, thread_ns: ovh, chan_ns: scan }
            } else {
                PageCost { wire: zero_record, thread_ns: ovh + scan, chan_ns: 0.0 }
            };
            SendCosts {
                zero,
                normal: PageCost { wire: p + hdr, thread_ns: ovh, chan_ns: 0.0 },
                zero_as_normal,
                xbzrle_encode_ns,
                xbzrle_record_overhead: 11.0,
                ns_per_wire_byte: 1e9 / self.link_bw.min(ch * self.costs.multifd_channel_bandwidth.0),
                chan_divisor: ch,
            }
        } else {
            SendCosts {
                zero: PageCost { wire: zero_record, thread_ns: ovh + scan, chan_ns: 0.0 },
                normal: PageCost { wire: p + page_header, thread_ns: ovh, chan_ns: 0.0 },
                zero_as_normal,
                xbzrle_encode_ns,
                xbzrle_record_overhead: 11.0,
                ns_per_wire_byte: 1e9 / self.link_bw.min(self.costs.main_channel_max_bandwidth.0),
                chan_divisor: 1.0,
            }
        }
    }

    /// Account the pages of a take in `d`; returns the send duration.
    pub(super) fn account_take(&mut self, d: &mut Counters, out: &TakeOutcome) -> f64 {
        let p = self.page_size;
        d.zero += out.zero;
        d.normal += out.normal;
        d.xbz_pages += out.xbz_pages;
        d.xbz_bytes += out.xbz_data_bytes + out.xbz_overflow * p;
        d.xbz_miss += out.xbz_miss;
        d.xbz_overflow += out.xbz_overflow;
        let main_before = d.main_bytes;
        let mf_before = d.multifd_bytes;
        let (page_header, zero_record) = if self.mapped_ram() { (0, 0) } else { (8, 9) };
        if self.multifd_active() {
            let in_channels = self.zero_in_channels();
            let mf_pages = out.normal + if in_channels { out.zero } else { 0 };
            let packets = if self.mapped_ram() || mf_pages == 0 {
                0
            } else {
                let fill = self.run.mf_fill;
                self.run.mf_fill = (fill + mf_pages) % MULTIFD_PACKET_PAGES;
                (fill + mf_pages).div_ceil(MULTIFD_PACKET_PAGES) - fill.div_ceil(MULTIFD_PACKET_PAGES)
            };
            let bytes = packets * MULTIFD_PACKET_HEADER + out.normal * p;
            d.multifd_bytes += bytes;
            d.transferred += bytes;
            if !in_channels {
                self.add_ram_main(d, out.zero * zero_record);
            }
        } else {
            let bytes =
                out.zero * zero_record + out.normal * (p + page_header) + out.xbz_data_bytes + out.xbz_pages * 8;
            self.add_ram_main(d, bytes);
        }
        let main = (d.main_bytes - main_before) as f64;
        let mf = (d.multifd_bytes - mf_before) as f64;
        let mut t = (main * 1e9 / self.link_bw.min(self.costs.main_channel_max_bandwidth.0))
            .max((main + mf) * 1e9 / self.link_bw)
            .max(out.thread_ns);
        if mf > 0.0 || out.chan_ns > 0.0 {
            let ch = self.channels() as f64;
            t = t.max(mf * 1e9 / (ch * self.costs.multifd_channel_bandwidth.0)).max(out.chan_ns / ch);
        }
        t
    }

    /// One RAM save section as `ram_save_iterate` (or, at `last_stage`,
    /// the completion) writes it: the section header, the pages the engine
    /// gives within the limits, a multifd sync at each wrap of the
    /// dirty-bitmap scan, the end marker. Returns the counters, what the
    /// engine sent and the send time (ns).
    pub(super) fn send_ram_section(
        &mut self,
        budget_bytes: f64,
        max_ns: f64,
        xbzrle: bool,
        last_stage: bool,
    ) -> (Counters, TakeOutcome, f64) {
        let req = TakeRequest {
            max_pages: u64::MAX,
            budget_bytes,
            max_ns,
            xbzrle,
            last_stage,
            sync_count: self.run.sync_count,
            costs: self.send_costs(),
        };
        let out = self.engine.take(&req);
        let mut d = Counters::default();
        Self::add_non_ram(&mut d, SECTION_OVERHEAD);
        let t = self.account_take(&mut d, &out);
        for _ in 0..out.wraps {
            self.multifd_sync(&mut d);
        }
        if last_stage {
            // The completion's end-of-section marker is written but not
            // accounted to RAM (QEMU adds only iterate calls' markers).
            Self::add_non_ram(&mut d, 8);
        } else {
            self.add_marker(&mut d, 8);
        }
        (d, out, t)
    }

    /// A multifd flush + sync: partial packet out, a SYNC packet per
    /// channel, an 8-byte flush marker on the main channel (in
    /// `transferred`, not in the RAM byte counters).
    pub(super) fn multifd_sync(&mut self, d: &mut Counters) {
        // Writing a file, the channels only sync with the migration thread.
        if !self.multifd_active() || self.mapped_ram() {
            return;
        }
        self.run.mf_fill = 0;
        self.run.mf_flushes += 1;
        let bytes = self.channels() * MULTIFD_PACKET_HEADER;
        d.multifd_bytes += bytes;
        d.transferred += bytes;
        Self::add_non_ram(d, 8);
    }

    pub(super) fn budget_left(&self) -> f64 {
        match self.run.rate_limit {
            None => f64::INFINITY,
            Some(l) => l as f64 - (self.run.c.transferred - self.run.rate_start_bytes) as f64,
        }
    }

    pub(super) fn rate_exceeded(&self) -> bool {
        match self.run.rate_limit {
            None => false,
            Some(l) => self.run.c.transferred - self.run.rate_start_bytes > l,
        }
    }

    pub(super) fn sync_cost_ns(&self) -> Nanos {
        ms_to_ns(self.costs.sync_cost_ms_per_gib * self.ram_gib)
    }

    pub(super) fn link_ns(&self, bytes: u64) -> Nanos {
        ceil_ns(bytes as f64 * 1e9 / self.link_bw.min(self.costs.main_channel_max_bandwidth.0))
    }

    pub(super) fn ram_pending_bytes(&self) -> u64 {
        self.engine.pending_pages() * self.page_size
    }
}
