//! The guest's dirty behaviour from the pages each bitmap sync added.
//!
//! Between two samples, `remaining` falls by one page for every page the
//! migration thread handles (sent in full, as a zero marker or XBZRLE
//! record) and rises by the pages a sync finds newly dirty. So
//! `remaining/page + pages handled − total pages` is, at every sample, the
//! number of pages all syncs so far have added: exact, whatever the
//! sampling. Its jump across the samples around a sync is that sync's
//! harvest.
//!
//! The model is the simulator's page class (model §3.4): `w` page writes a
//! second drawn uniformly from a working set of `W` pages. A sync adds the
//! pages written since the previous sync that are not pending already:
//! `(W − pending)·(1 − e^{−w·Δ/W})`, with no lazy-clear absorption (TCG and
//! the dirty bitmap of KVM without manual protect both log every write).
//! `w` and `W` are chosen by least squares over the syncs; short intervals
//! fix `w`, long ones (the first pass) fix `W` through saturation.

use super::trace::{RamSample, Trace};

/// The pages one sync (or several between two samples) added.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Harvest {
    /// Estimated time of the sync, ms since `migrate`.
    pub at_ms: f64,
    /// Time since the previous sync, ms.
    pub interval_ms: f64,
    /// Pages added.
    pub new_pages: f64,
    /// Pages pending just before the sync (0 for the end of the first pass,
    /// whose leftovers are not the working set's).
    pub pending_pages: f64,
    /// Number of syncs between the two samples.
    pub syncs: u64,
}

/// Pages all syncs so far have added, at a sample.
fn added_pages(r: &RamSample) -> f64 {
    let total = (r.total / r.page_size) as f64;
    (r.remaining / r.page_size) as f64 + r.pages_sent() as f64 - total
}

/// The harvests of a trace's syncs after the setup one. `setup_ms` is
/// when the setup sync ran (the setup time; QEMU does it inside setup).
pub fn harvests(trace: &Trace, setup_ms: f64) -> Vec<Harvest> {
    let mut out: Vec<Harvest> = Vec::new();
    // The state at the setup sync: nothing added, one sync.
    let mut prev_t = setup_ms;
    let mut prev_added = 0.0;
    let mut prev_syncs = 1;
    let mut prev_remaining = f64::NAN;
    let mut prev_sent = 0.0;
    let mut last_sync = setup_ms;
    for (s, t, r) in trace.timed() {
        let t = t as f64;
        let added = added_pages(r);
        let sent = r.pages_sent() as f64;
        if r.dirty_sync_count > prev_syncs {
            let at = match (s.status.is_terminal(), s.downtime_ms) {
                // The final sync opens the switchover.
                (true, Some(d)) => (t - d as f64).max(prev_t),
                _ => (prev_t + t) / 2.0,
            };
            let pending = if out.is_empty() || prev_remaining.is_nan() {
                0.0
            } else {
                let frac = if t > prev_t { (at - prev_t) / (t - prev_t) } else { 0.0 };
                (prev_remaining - (sent - prev_sent) * frac).max(0.0)
            };
            out.push(Harvest {
                at_ms: at,
                interval_ms: (at - last_sync).max(0.0),
                new_pages: (added - prev_added).max(0.0),
                pending_pages: pending,
                syncs: r.dirty_sync_count - prev_syncs,
            });
            last_sync = at;
        }
        prev_t = t;
        prev_added = added;
        prev_syncs = r.dirty_sync_count;
        prev_remaining = (r.remaining / r.page_size) as f64;
        prev_sent = sent;
    }
    out
}

/// A fitted working set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WorkingSet {
    /// Pages written to.
    pub pages: u64,
    /// Page writes per second, uniformly over them.
    pub write_rate: f64,
    /// Root mean square of the harvests' relative residuals.
    pub residual: f64,
}

/// What the model says one harvest should be.
fn predicted(h: &Harvest, pages: f64, rate: f64) -> f64 {
    if pages <= 0.0 || rate <= 0.0 {
        return 0.0;
    }
    let pending = h.pending_pages.min(pages);
    (pages - pending) * (1.0 - (-rate * h.interval_ms / 1000.0 / pages).exp())
}

/// Weighted squared error: each harvest counts relative to its size (a
/// count of pages is noisy in proportion to its square root, and the sync
/// times are only known to within a sampling interval).
fn cost(hs: &[Harvest], pages: f64, rate: f64) -> f64 {
    hs.iter()
        .map(|h| {
            let d = h.new_pages - predicted(h, pages, rate);
            d * d / h.new_pages.max(16.0)
        })
        .sum()
}

/// Minimum of a unimodal `f` on `[lo, hi]` by golden-section search.
fn golden(lo: f64, hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    const R: f64 = 0.618_033_988_749_895;
    let (mut a, mut b) = (lo, hi);
    let mut c = b - R * (b - a);
    let mut d = a + R * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..80 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - R * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + R * (b - a);
            fd = f(d);
        }
    }
    (a + b) / 2.0
}

/// The best write rate for a working set of `pages` (searched in log
/// space, from one write a minute to 100 times the fastest harvest).
fn best_rate(hs: &[Harvest], pages: f64) -> f64 {
    let fastest = hs.iter().map(|h| h.new_pages / (h.interval_ms / 1000.0).max(1e-3)).fold(1.0, f64::max);
    let lr = golden((1.0f64 / 60.0).ln(), (fastest * 100.0).ln(), |lr| cost(hs, pages, lr.exp()));
    lr.exp()
}

/// Fit `W` and `w` to the harvests. `max_pages` bounds the working set
/// (the guest's RAM). `None` when nothing was ever re-dirtied.
pub fn fit_working_set(hs: &[Harvest], max_pages: u64) -> Option<WorkingSet> {
    let biggest = hs.iter().map(|h| h.new_pages).fold(0.0, f64::max);
    if biggest < 1.0 || max_pages == 0 {
        return None;
    }
    let lo = biggest.min(max_pages as f64).max(1.0).ln();
    let hi = (max_pages as f64).ln();
    let at = |lw: f64| cost(hs, lw.exp(), best_rate(hs, lw.exp()));
    // A coarse scan first: the cost need not be unimodal in W when some
    // harvests saturate and others do not.
    const STEPS: usize = 48;
    let grid: Vec<f64> = (0..=STEPS).map(|i| lo + (hi - lo) * i as f64 / STEPS as f64).collect();
    let costs: Vec<f64> = grid.iter().map(|&g| at(g)).collect();
    let best = (0..grid.len()).min_by(|&a, &b| costs[a].total_cmp(&costs[b])).unwrap_or(STEPS);
    // When the harvests cannot tell working sets apart (a single one, say),
    // the cost is flat: take the largest set it allows, which assumes the
    // least (writes spread over all data).
    let tolerance = costs[best] + (0.01 * costs[best]).max(1e-6);
    let widest = (best..grid.len()).rev().find(|&i| costs[i] <= tolerance).unwrap_or(best);
    let lw = if widest == best {
        golden(grid[best.saturating_sub(1)], grid[(best + 1).min(STEPS)], at)
    } else {
        grid[widest]
    };
    let pages = lw.exp();
    let rate = best_rate(hs, pages);
    let residual = {
        let n = hs.len().max(1) as f64;
        let s: f64 = hs
            .iter()
            .map(|h| {
                let r = (h.new_pages - predicted(h, pages, rate)) / h.new_pages.max(16.0);
                r * r
            })
            .sum();
        (s / n).sqrt()
    };
    Some(WorkingSet { pages: pages.round() as u64, write_rate: rate, residual })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(interval_ms: f64, new_pages: f64, pending_pages: f64) -> Harvest {
        Harvest { at_ms: 0.0, interval_ms, new_pages, pending_pages, syncs: 1 }
    }

    #[test]
    fn recovers_exact_harvests() {
        let (pages, rate) = (4096.0, 1000.0);
        let mut hs: Vec<Harvest> = [(1900.0, 0.0), (800.0, 300.0), (400.0, 600.0), (150.0, 500.0), (120.0, 400.0)]
            .iter()
            .map(|&(dt, p)| h(dt, 0.0, p))
            .collect();
        for x in &mut hs {
            x.new_pages = predicted(x, pages, rate);
        }
        let ws = fit_working_set(&hs, 32768).unwrap();
        assert!((ws.pages as f64 / pages - 1.0).abs() < 0.01, "{ws:?}");
        assert!((ws.write_rate / rate - 1.0).abs() < 0.01, "{ws:?}");
        assert!(ws.residual < 1e-3, "{ws:?}");
    }

    #[test]
    fn nothing_dirtied_is_no_working_set() {
        assert_eq!(fit_working_set(&[h(1000.0, 0.0, 0.0)], 100), None);
        assert_eq!(fit_working_set(&[], 100), None);
    }
}
