//! QMP events the simulated QEMUs emit, with simulated timestamps.
//!
//! `MIGRATION` and `MIGRATION_PASS` are emitted only when the emitting
//! side's `events` capability is on (the caller checks); `STOP` and `RESUME`
//! are run-state events and always emitted (model §1.1).

use crate::status::MigrationStatus;
use crate::units::{Nanos, NS_PER_US};

/// Which QEMU emitted an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The outgoing QEMU.
    Source,
    /// The incoming QEMU.
    Destination,
}

/// An event and its payload.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Event {
    /// `MIGRATION {status}`: a successful state change.
    Migration {
        /// The new status.
        status: MigrationStatus,
    },
    /// `MIGRATION_PASS {pass}`: a RAM dirty bitmap sync.
    MigrationPass {
        /// The new dirty-sync count.
        pass: u64,
    },
    /// `STOP`: the VM stopped.
    Stop,
    /// `RESUME`: the VM started.
    Resume,
}

impl Event {
    /// The QMP event name.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Migration { .. } => "MIGRATION",
            Event::MigrationPass { .. } => "MIGRATION_PASS",
            Event::Stop => "STOP",
            Event::Resume => "RESUME",
        }
    }
}

/// QMP's event timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub seconds: i64,
    /// Microseconds within the second.
    pub microseconds: i64,
}

/// One emitted event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EventRecord {
    /// Who emitted it.
    pub side: Side,
    /// Simulated time of emission.
    pub time_ns: Nanos,
    /// The QMP timestamp (simulated wall clock).
    pub timestamp: Timestamp,
    /// The event.
    pub event: Event,
}

/// The events of a simulation, in emission order.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    epoch_us: i64,
    records: Vec<EventRecord>,
}

impl EventLog {
    /// An empty log whose simulated time 0 is `start_time_unix` seconds.
    pub fn new(start_time_unix: f64) -> Self {
        EventLog { epoch_us: (start_time_unix * 1e6).round() as i64, records: Vec::new() }
    }

    /// Record an event at simulated time `t`.
    pub fn emit(&mut self, side: Side, t: Nanos, event: Event) {
        let us = self.epoch_us + (t / NS_PER_US) as i64;
        let timestamp = Timestamp { seconds: us.div_euclid(1_000_000), microseconds: us.rem_euclid(1_000_000) };
        self.records.push(EventRecord { side, time_ns: t, timestamp, event });
    }

    /// All events so far.
    pub fn records(&self) -> &[EventRecord] {
        &self.records
    }

    /// Events after the first `from` (for incremental delivery).
    pub fn since(&self, from: usize) -> &[EventRecord] {
        self.records.get(from..).unwrap_or(&[])
    }

    /// Number of events so far.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing was emitted yet.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}
