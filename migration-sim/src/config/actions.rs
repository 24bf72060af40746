//! Timed management actions of a scenario.

use serde::Deserialize;

use super::{ParameterUpdate, Rate};
use crate::status::MigrationStatus;

/// Kinds of timed management actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// `migrate`.
    Migrate,
    /// `migrate_cancel`.
    Cancel,
    /// `migrate-set-parameters` (needs `parameters`).
    SetParameters,
    /// `migrate-start-postcopy`.
    StartPostcopy,
    /// `migrate-continue` (with `state`, default `pre-switchover`).
    Continue,
    /// `migrate` with `resume: true`.
    Resume,
    /// Change the link bandwidth (needs `bandwidth`).
    LinkBandwidth,
    /// Break the link (writes fail from now on).
    LinkFail,
    /// Repair the link.
    LinkRestore,
    /// Change a page class's write rate (needs `class`, `write-rate`).
    SetWriteRate,
    /// `cont` on the source: run a stopped VM again (after a completed
    /// migration it stays in `postmigrate`, and QEMU refuses to migrate it
    /// again until it runs).
    Cont,
}

/// A management action at a given simulated time.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ActionConfig {
    /// When, in ms of simulated time.
    pub at_ms: f64,
    /// What.
    pub action: ActionKind,
    /// For `set-parameters`.
    #[serde(default)]
    pub parameters: Option<ParameterUpdate>,
    /// For `continue`.
    #[serde(default)]
    pub state: Option<MigrationStatus>,
    /// For `link-bandwidth`.
    #[serde(default)]
    pub bandwidth: Option<Rate>,
    /// For `link-fail`: the error text the write reports.
    #[serde(default)]
    pub error: Option<String>,
    /// For `set-write-rate`.
    #[serde(default)]
    pub class: Option<String>,
    /// For `set-write-rate`: page writes per second.
    #[serde(default)]
    pub write_rate: Option<f64>,
}

pub(super) fn action_name(a: ActionKind) -> &'static str {
    match a {
        ActionKind::Migrate => "migrate",
        ActionKind::Cancel => "cancel",
        ActionKind::SetParameters => "set-parameters",
        ActionKind::StartPostcopy => "start-postcopy",
        ActionKind::Continue => "continue",
        ActionKind::Resume => "resume",
        ActionKind::LinkBandwidth => "link-bandwidth",
        ActionKind::LinkFail => "link-fail",
        ActionKind::LinkRestore => "link-restore",
        ActionKind::SetWriteRate => "set-write-rate",
        ActionKind::Cont => "cont",
    }
}
