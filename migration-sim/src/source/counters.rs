//! What the source counts and how a stretch of simulated time carries it:
//! the counters behind `query-migrate`, the segments that change them, and
//! where the main channel's RAM bytes are accounted (model §1.4).

use super::Source;
use crate::units::Nanos;

/// Counters the source accumulates (all monotonic within a migration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub transferred: u64,
    pub main_bytes: u64,
    pub multifd_bytes: u64,
    pub precopy_bytes: u64,
    pub downtime_bytes: u64,
    pub postcopy_bytes: u64,
    pub normal: u64,
    pub zero: u64,
    pub xbz_pages: u64,
    pub xbz_bytes: u64,
    pub xbz_miss: u64,
    pub xbz_overflow: u64,
    pub vfio_transferred: u64,
    pub postcopy_requests: u64,
    pub device_bytes: u64,
    pub non_ram_bytes: u64,
    pub ram_marker_bytes: u64,
}

macro_rules! counter_fields {
    ($m:ident) => {
        $m!(
            transferred,
            main_bytes,
            multifd_bytes,
            precopy_bytes,
            downtime_bytes,
            postcopy_bytes,
            normal,
            zero,
            xbz_pages,
            xbz_bytes,
            xbz_miss,
            xbz_overflow,
            vfio_transferred,
            postcopy_requests,
            device_bytes,
            non_ram_bytes,
            ram_marker_bytes
        )
    };
}

impl Counters {
    pub(super) fn add(&mut self, d: &Counters) {
        macro_rules! add {
            ($($f:ident),*) => { $( self.$f += d.$f; )* };
        }
        counter_fields!(add);
    }

    /// `self × num / den`, each counter floored (the part of a segment's
    /// changes that happened by a given instant).
    pub(super) fn scaled(&self, num: u64, den: u64) -> Counters {
        let mut out = Counters::default();
        if den == 0 {
            return out;
        }
        macro_rules! sc {
            ($($f:ident),*) => { $( out.$f = ((self.$f as u128 * num as u128) / den as u128) as u64; )* };
        }
        counter_fields!(sc);
        out
    }

    pub(super) fn pages(&self) -> u64 {
        self.normal + self.zero + self.xbz_pages
    }
}

/// Where the main channel's RAM bytes are accounted (model §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RamBucket {
    Precopy,
    Downtime,
    Postcopy,
}

/// A stretch of simulated time and the counter changes it brings.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub(super) t0: Nanos,
    pub(super) t1: Nanos,
    pub(super) delta: Counters,
    /// A fast-forwarded batch of windows: `delta` is the sum of the
    /// windows listed in [`super::batch::Batch`], which say when each
    /// window's burst happened.
    pub(super) batch: bool,
    /// VFIO stop-copy data this segment sends: (device index, bytes); the
    /// device's cached stop-copy size (system `remaining`) falls with it.
    pub(super) vfio_dec: Option<(usize, u64)>,
}

impl Source {
    pub(super) fn ram_bucket(&self) -> RamBucket {
        if self.guest_running {
            RamBucket::Precopy
        } else if self.run.in_postcopy {
            RamBucket::Postcopy
        } else {
            RamBucket::Downtime
        }
    }

    pub(super) fn add_ram_main(&self, d: &mut Counters, bytes: u64) {
        d.main_bytes += bytes;
        d.transferred += bytes;
        match self.ram_bucket() {
            RamBucket::Precopy => d.precopy_bytes += bytes,
            RamBucket::Downtime => d.downtime_bytes += bytes,
            RamBucket::Postcopy => d.postcopy_bytes += bytes,
        }
    }

    pub(super) fn add_non_ram(d: &mut Counters, bytes: u64) {
        d.main_bytes += bytes;
        d.transferred += bytes;
        d.non_ram_bytes += bytes;
    }

    pub(super) fn add_marker(&self, d: &mut Counters, bytes: u64) {
        self.add_ram_main(d, bytes);
        d.ram_marker_bytes += bytes;
    }
}
