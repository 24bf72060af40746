//! Reading a trace: the `query-migrate` answers a user polled from a real
//! QEMU's source monitor, one JSON object a line.
//!
//! Accepted lines (blank lines and lines starting with `#` are skipped):
//!
//! * a bare `query-migrate` return object: `{"status": "active", "ram": {...}, ...}`;
//! * a QMP reply: `{"return": {...}}`, as a QMP log records it;
//! * either of them with a `timestamp` member, `{"seconds": S, "microseconds": U}`
//!   (the shape of QMP event timestamps) or a number of seconds;
//! * the replies of `query-migrate-parameters` (an object with
//!   `max-bandwidth` or `downtime-limit`) and `query-migrate-capabilities`
//!   (an array of `{"capability", "state"}`), bare or as `{"return": ...}`:
//!   optional, they tell the fit the settings instead of letting it infer
//!   them;
//! * QMP events, the greeting, error replies and `query-status` replies,
//!   which are ignored, so that a whole QMP session log can be given.
//!
//! The trace holds one migration: samples in `none` (before it) are
//! skipped, and a new `setup` after an ended migration is an error. The
//! time axis is `total-time` (ms since `migrate`), which QEMU reports from
//! the first `active` sample on.

use std::path::Path;

use serde_json::{Map, Value};

use crate::status::MigrationStatus;

/// A trace line that could not be used, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{}{message}", if *line > 0 { format!("{line}: ") } else { " ".to_string() })]
pub struct TraceError {
    /// The trace's name (its path, or what the caller called it).
    pub file: String,
    /// 1-based line (0: the trace as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// `query-migrate`'s `ram` member: the statistics the fit reads.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RamSample {
    /// Bytes sent on all channels.
    pub transferred: u64,
    /// Bytes pending in the migration bitmap.
    pub remaining: u64,
    /// Size of all RAMBlocks.
    pub total: u64,
    /// Zero pages sent.
    pub duplicate: u64,
    /// Pages sent in full.
    pub normal: u64,
    /// Target page size.
    pub page_size: u64,
    /// New dirty pages per second over the last closed period.
    pub dirty_pages_rate: u64,
    /// Throughput of the last statistics window, Mbit/s.
    pub mbps: f64,
    /// Dirty-bitmap syncs so far.
    pub dirty_sync_count: u64,
    /// RAM bytes sent while the VM ran.
    pub precopy_bytes: u64,
    /// RAM bytes sent while the VM was stopped.
    pub downtime_bytes: u64,
    /// RAM bytes sent in postcopy.
    pub postcopy_bytes: u64,
    /// Bytes sent on multifd channels.
    pub multifd_bytes: u64,
    /// Pages sent XBZRLE-encoded (`xbzrle-cache.pages`; 0 without XBZRLE).
    pub xbzrle_pages: u64,
}

impl RamSample {
    /// Pages the migration thread has handled: sent in full, as zero
    /// markers or XBZRLE-encoded. Each takes one page off `remaining`.
    pub fn pages_sent(&self) -> u64 {
        self.normal + self.duplicate + self.xbzrle_pages
    }
}

/// One `query-migrate` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Line in the trace.
    pub line: usize,
    /// Wall-clock time of the poll, seconds, when the line has a timestamp.
    pub wall_s: Option<f64>,
    /// Migration status.
    pub status: MigrationStatus,
    /// ms since `migrate` (absent in `setup`).
    pub total_time_ms: Option<u64>,
    /// Setup phase length, ms.
    pub setup_time_ms: Option<u64>,
    /// Downtime, ms (completed).
    pub downtime_ms: Option<u64>,
    /// QEMU's downtime estimate, ms (equal to `downtime-limit` until the
    /// first dirty-rate period closes with new pages).
    pub expected_downtime_ms: Option<u64>,
    /// CPU throttle percentage, while throttling.
    pub throttle_percent: Option<u64>,
    /// Whether the `xbzrle-cache` member is there (capability on).
    pub xbzrle: bool,
    /// RAM statistics (active and later).
    pub ram: Option<RamSample>,
}

/// A whole trace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// Its name in messages.
    pub file: String,
    /// Samples of the migration, `none` excluded, in trace order.
    pub samples: Vec<Sample>,
    /// `query-migrate-parameters`, when the trace has it (the last one
    /// before the migration, or the first one otherwise).
    pub parameters: Option<(usize, Map<String, Value>)>,
    /// `query-migrate-capabilities`: capabilities set on.
    pub capabilities: Option<(usize, Vec<String>)>,
}

/// What one line holds.
enum Line {
    Ignored,
    Sample(Sample),
    Parameters(Map<String, Value>),
    Capabilities(Vec<String>),
}

impl Trace {
    /// Read a trace file.
    pub fn from_file(path: &Path) -> Result<Trace, TraceError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TraceError {
            file: file.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        Trace::parse(&text, &file)
    }

    /// Parse a trace's text; `file` names it in errors.
    ///
    /// ```
    /// use migration_sim::fit::Trace;
    /// let text = concat!(
    ///     r#"{"return": {"status": "setup"}}"#, "\n",
    ///     r#"{"status": "active", "total-time": 50, "ram": {"transferred": 1000, "remaining": 4096, "#,
    ///     r#""total": 8192, "duplicate": 1, "normal": 0, "page-size": 4096, "dirty-sync-count": 1}}"#,
    /// );
    /// let trace = Trace::parse(text, "t.jsonl").unwrap();
    /// assert_eq!(trace.samples.len(), 2);
    /// let err = Trace::parse("{\"status\": \"flying\"}", "t.jsonl").unwrap_err();
    /// assert_eq!(err.to_string(), "t.jsonl:1: status: unknown migration status 'flying'");
    /// ```
    pub fn parse(text: &str, file: &str) -> Result<Trace, TraceError> {
        let mut trace = Trace { file: file.to_string(), ..Trace::default() };
        let mut ended: Option<MigrationStatus> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| TraceError { file: file.to_string(), line, message };
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let value: Value = serde_json::from_str(t).map_err(|e| err(format!("not JSON: {e}")))?;
            match classify(value, line).map_err(err)? {
                Line::Ignored => {}
                Line::Parameters(p) => {
                    // Settings made before `migrate` are the ones that ruled it.
                    if trace.samples.is_empty() || trace.parameters.is_none() {
                        trace.parameters = Some((line, p));
                    }
                }
                Line::Capabilities(c) => {
                    if trace.samples.is_empty() || trace.capabilities.is_none() {
                        trace.capabilities = Some((line, c));
                    }
                }
                Line::Sample(s) if s.status == MigrationStatus::None => {}
                Line::Sample(s) => {
                    if let Some(end) = ended {
                        if !s.status.is_terminal() || s.status != end {
                            return Err(err(format!(
                                "a second migration starts here (status {} after {end}): a trace holds one migration",
                                s.status
                            )));
                        }
                    }
                    if s.status.is_terminal() {
                        ended = Some(s.status);
                    }
                    check_order(&trace.samples, &s).map_err(err)?;
                    trace.samples.push(s);
                }
            }
        }
        if !trace.samples.iter().any(|s| s.ram.is_some()) {
            return Err(TraceError {
                file: file.to_string(),
                line: 0,
                message: "no query-migrate answer with RAM statistics (status active or later): nothing to fit".into(),
            });
        }
        Ok(trace)
    }

    /// The samples with RAM statistics and a `total-time`, with both.
    pub fn timed(&self) -> impl Iterator<Item = (&Sample, u64, &RamSample)> {
        self.samples.iter().filter_map(|s| Some((s, s.total_time_ms?, s.ram.as_ref()?)))
    }

    /// The last sample.
    pub fn last(&self) -> Option<&Sample> {
        self.samples.last()
    }
}

/// Counters never go back within one migration, and neither does
/// `total-time`; a trace where they do mixes migrations or monitors.
fn check_order(before: &[Sample], s: &Sample) -> Result<(), String> {
    let Some(prev) = before.iter().rev().find(|p| p.ram.is_some() && p.total_time_ms.is_some()) else {
        return Ok(());
    };
    if let (Some(a), Some(b)) = (prev.total_time_ms, s.total_time_ms) {
        if b < a {
            return Err(format!("total-time goes back from {a} to {b} ms (line {}): not one migration", prev.line));
        }
    }
    if let (Some(a), Some(b)) = (&prev.ram, &s.ram) {
        if b.total != a.total || b.page_size != a.page_size {
            return Err(format!("ram.total or ram.page-size differs from line {}: not one guest", prev.line));
        }
        if b.dirty_sync_count < a.dirty_sync_count || b.transferred < a.transferred {
            return Err(format!("ram counters go back from line {}: not one migration", prev.line));
        }
    }
    Ok(())
}

/// Sort one line's object into what it is.
fn classify(value: Value, line: usize) -> Result<Line, String> {
    let mut obj = match value {
        Value::Object(obj) => obj,
        // A bare query-migrate-capabilities answer.
        Value::Array(items) => return capabilities(&items).map(Line::Capabilities),
        _ => return Err("expected a JSON object (a query-migrate answer or a QMP reply)".into()),
    };
    if obj.contains_key("event") || obj.contains_key("QMP") || obj.contains_key("error") {
        return Ok(Line::Ignored);
    }
    let wall_s = match obj.remove("timestamp") {
        None => None,
        Some(t) => Some(timestamp(&t)?),
    };
    let body = match obj.remove("return") {
        Some(r) => r,
        None => Value::Object(obj),
    };
    let body = match body {
        Value::Array(items) => return capabilities(&items).map(Line::Capabilities),
        Value::Object(o) => o,
        _ => return Ok(Line::Ignored),
    };
    if body.contains_key("max-bandwidth") || body.contains_key("downtime-limit") {
        return Ok(Line::Parameters(body));
    }
    // `query-status` answers have a `status` too, a run state.
    if body.contains_key("running") {
        return Ok(Line::Ignored);
    }
    sample(&body, line, wall_s).map(Line::Sample)
}

fn timestamp(t: &Value) -> Result<f64, String> {
    let bad = || "timestamp: expected {\"seconds\": S, \"microseconds\": U} or a number of seconds".to_string();
    match t {
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite()).ok_or_else(bad),
        Value::Object(o) => {
            let s = o.get("seconds").and_then(Value::as_f64).ok_or_else(bad)?;
            let us = o.get("microseconds").and_then(Value::as_f64).ok_or_else(bad)?;
            Ok(s + us / 1e6)
        }
        _ => Err(bad()),
    }
}

fn capabilities(items: &[Value]) -> Result<Vec<String>, String> {
    let mut on = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let name = item.get("capability").and_then(Value::as_str);
        let state = item.get("state").and_then(Value::as_bool);
        match (name, state) {
            (Some(n), Some(true)) => on.push(n.to_string()),
            (Some(_), Some(false)) => {}
            _ => return Err(format!("[{i}]: expected {{\"capability\": NAME, \"state\": BOOL}}")),
        }
    }
    Ok(on)
}

/// An unsigned integer member; `path` names it in errors.
fn uint(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<u64>, String> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| format!("{path}: expected a non-negative integer, found {v}")),
    }
}

fn sample(obj: &Map<String, Value>, line: usize, wall_s: Option<f64>) -> Result<Sample, String> {
    let status = match obj.get("status") {
        // QEMU answers `{}` before any migration.
        None => MigrationStatus::None,
        Some(Value::String(s)) => {
            MigrationStatus::from_wire(s).ok_or_else(|| format!("status: unknown migration status '{s}'"))?
        }
        Some(v) => return Err(format!("status: expected a string, found {v}")),
    };
    let ram = match obj.get("ram") {
        None => None,
        Some(Value::Object(r)) => Some(ram_sample(r, obj)?),
        Some(v) => return Err(format!("ram: expected an object, found {v}")),
    };
    if ram.is_some() && status != MigrationStatus::Completed && obj.get("total-time").is_none() {
        return Err("total-time: missing (QEMU reports it with ram)".into());
    }
    Ok(Sample {
        line,
        wall_s,
        status,
        total_time_ms: uint(obj, "total-time", "total-time")?,
        setup_time_ms: uint(obj, "setup-time", "setup-time")?,
        downtime_ms: uint(obj, "downtime", "downtime")?,
        expected_downtime_ms: uint(obj, "expected-downtime", "expected-downtime")?,
        throttle_percent: uint(obj, "cpu-throttle-percentage", "cpu-throttle-percentage")?,
        xbzrle: obj.contains_key("xbzrle-cache"),
        ram,
    })
}

/// A `query-migrate` answer as a sample (line 0): how the fit reads the
/// simulator's own answers.
pub(crate) fn sample_of(v: &Value) -> Result<Sample, String> {
    match v {
        Value::Object(obj) => sample(obj, 0, None),
        _ => Err("query-migrate did not answer an object".into()),
    }
}

fn ram_sample(r: &Map<String, Value>, info: &Map<String, Value>) -> Result<RamSample, String> {
    let need = |key: &str| -> Result<u64, String> {
        uint(r, key, &format!("ram.{key}"))?.ok_or_else(|| format!("ram.{key}: missing"))
    };
    let opt = |key: &str| -> Result<u64, String> { Ok(uint(r, key, &format!("ram.{key}"))?.unwrap_or(0)) };
    let mbps = match r.get("mbps") {
        None => 0.0,
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .ok_or_else(|| format!("ram.mbps: expected a non-negative number, found {v}"))?,
    };
    let xbzrle_pages = match info.get("xbzrle-cache") {
        Some(Value::Object(x)) => uint(x, "pages", "xbzrle-cache.pages")?.unwrap_or(0),
        _ => 0,
    };
    let s = RamSample {
        transferred: need("transferred")?,
        remaining: need("remaining")?,
        total: need("total")?,
        duplicate: need("duplicate")?,
        normal: need("normal")?,
        page_size: need("page-size")?,
        dirty_pages_rate: opt("dirty-pages-rate")?,
        mbps,
        dirty_sync_count: need("dirty-sync-count")?,
        precopy_bytes: opt("precopy-bytes")?,
        downtime_bytes: opt("downtime-bytes")?,
        postcopy_bytes: opt("postcopy-bytes")?,
        multifd_bytes: opt("multifd-bytes")?,
        xbzrle_pages,
    };
    if s.page_size == 0 || s.total == 0 || !s.total.is_multiple_of(s.page_size) {
        return Err(format!("ram.total {} is not a positive multiple of ram.page-size {}", s.total, s.page_size));
    }
    if s.remaining > s.total {
        return Err(format!("ram.remaining {} exceeds ram.total {}", s.remaining, s.total));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active(t: u64, transferred: u64, remaining: u64, syncs: u64) -> String {
        format!(
            r#"{{"return": {{"status": "active", "total-time": {t}, "setup-time": 0, "expected-downtime": 300, "ram": {{"transferred": {transferred}, "remaining": {remaining}, "total": 40960, "duplicate": 0, "normal": 0, "page-size": 4096, "mbps": 1.5, "dirty-sync-count": {syncs}, "dirty-pages-rate": 0}}}}, "timestamp": {{"seconds": 10, "microseconds": 500000}}}}"#
        )
    }

    #[test]
    fn reads_a_qmp_log() {
        let text = [
            r#"{"QMP": {"version": {}, "capabilities": []}}"#.to_string(),
            r#"{"return": {"max-bandwidth": 1000, "downtime-limit": 300}}"#.into(),
            r#"{"return": [{"capability": "multifd", "state": true}, {"capability": "xbzrle", "state": false}]}"#
                .into(),
            r#"{"return": {}}"#.into(),
            "# a comment".into(),
            String::new(),
            r#"{"return": {"status": "setup"}}"#.into(),
            r#"{"event": "MIGRATION", "data": {"status": "active"}, "timestamp": {"seconds": 1, "microseconds": 2}}"#
                .into(),
            r#"{"return": {"status": "running", "running": true}}"#.into(),
            active(50, 100, 40960, 1),
            active(100, 200, 36864, 1),
        ]
        .join("\n");
        let t = Trace::parse(&text, "log").unwrap();
        assert_eq!(t.samples.len(), 3);
        assert_eq!(t.samples[1].line, 10);
        assert_eq!(t.samples[1].wall_s, Some(10.5));
        assert_eq!(t.samples[2].ram.unwrap().remaining, 36864);
        assert_eq!(t.parameters.as_ref().map(|p| p.0), Some(2));
        assert_eq!(t.capabilities, Some((3, vec!["multifd".to_string()])));
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("{\"status\": \"active\"", "t:1: not JSON: "),
            ("[1, 2]", "t:1: [0]: expected {\"capability\": NAME, \"state\": BOOL}"),
            ("\"text\"", "t:1: expected a JSON object"),
            (
                r#"{"status": "active", "total-time": 5, "ram": {"transferred": -1}}"#,
                "t:1: ram.transferred: expected a non-negative integer, found -1",
            ),
            (r#"{"status": "active", "ram": {}}"#, "t:1: ram.transferred: missing"),
            (
                r#"{"status": "active", "ram": {"transferred": 1, "remaining": 0, "total": 4096, "duplicate": 0, "normal": 0, "page-size": 4096, "dirty-sync-count": 1}}"#,
                "t:1: total-time: missing",
            ),
            (
                r#"{"status": "active", "total-time": 5, "ram": {"transferred": 1, "remaining": 0, "total": 4000, "duplicate": 0, "normal": 0, "page-size": 4096, "dirty-sync-count": 1}}"#,
                "t:1: ram.total 4000 is not a positive multiple of ram.page-size 4096",
            ),
            (r#"{"status": "active", "total-time": 5, "ram": {"transferred": 1}}"#, "t:1: ram.remaining: missing"),
            (r#"{"return": {"status": 3}}"#, "t:1: status: expected a string, found 3"),
            (r#"{"status": "active", "timestamp": "now"}"#, "t:1: timestamp: expected"),
            (r#"{"status": "setup"}"#, "t: no query-migrate answer with RAM statistics"),
        ];
        for (text, want) in cases {
            let e = Trace::parse(text, "t").unwrap_err().to_string();
            assert!(e.starts_with(want), "{text}: {e}");
        }
        let back = [active(100, 200, 40960, 1), active(50, 300, 40960, 1)].join("\n");
        let e = Trace::parse(&back, "t").unwrap_err().to_string();
        assert_eq!(e, "t:2: total-time goes back from 100 to 50 ms (line 1): not one migration");
        let two = [
            active(100, 200, 40960, 1),
            r#"{"status": "completed", "total-time": 120, "downtime": 3}"#.into(),
            r#"{"status": "setup"}"#.into(),
        ]
        .join("\n");
        let e = Trace::parse(&two, "t").unwrap_err().to_string();
        assert!(e.starts_with("t:3: a second migration starts here"), "{e}");
    }
}
