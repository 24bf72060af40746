//! What the benches share: the schema they read and how they time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The median of `runs` timed calls of `f`, after one untimed call that
/// warms the page cache, the allocator and rayon's threads.
pub fn median(mut f: impl FnMut(), runs: usize) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// QEMU 10.2's QMP schema in `../shared`, or `None` (and a message saying
/// the bench is skipped) when it is not there.
pub fn qemu_10_2_schema() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu/10.2/qapi/qapi-schema.json");
    if root.exists() {
        Some(root)
    } else {
        eprintln!("skipped: {} not found (../shared beside the checkout)", root.display());
        None
    }
}
