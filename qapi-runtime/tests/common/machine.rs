//! A hand-written dispatcher for tests, benchmarks and the demo server: a
//! handful of commands that exercise every path of the QMP server.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use qapi_runtime::dispatch::{decode_arguments, CommandInfo, Dispatcher};
use qapi_runtime::server::EventSink;
use qapi_runtime::{CommandFlags, Error, ErrorClass};
use serde_json::{json, Value};

/// The test machine's commands.
pub struct Machine {
    events: OnceLock<EventSink>,
}

const OOB: CommandFlags = CommandFlags { allow_oob: true, ..CommandFlags::DEFAULT };
const NO_REPLY: CommandFlags = CommandFlags { success_response: false, ..CommandFlags::DEFAULT };

static COMMANDS: [CommandInfo; 9] = [
    CommandInfo { name: "query-status", flags: CommandFlags::DEFAULT },
    CommandInfo { name: "echo", flags: CommandFlags::DEFAULT },
    CommandInfo { name: "add", flags: CommandFlags::DEFAULT },
    CommandInfo { name: "sleep", flags: CommandFlags::DEFAULT },
    CommandInfo { name: "oob-ping", flags: OOB },
    CommandInfo { name: "no-reply", flags: NO_REPLY },
    CommandInfo { name: "emit-event", flags: CommandFlags::DEFAULT },
    CommandInfo { name: "fail", flags: CommandFlags::DEFAULT },
    CommandInfo { name: "stop", flags: CommandFlags::DEFAULT },
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AddArgs {
    a: i64,
    #[serde(default)]
    b: Option<u8>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SleepArgs {
    ms: u64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EmitArgs {
    name: String,
    #[serde(default)]
    count: Option<u32>,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoReplyArgs {
    #[serde(default)]
    fail: bool,
}

impl Machine {
    /// A machine with no event sink yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Machine { events: OnceLock::new() })
    }

    /// Gives the machine the server's event sink.
    pub fn attach(&self, sink: EventSink) {
        let _ = self.events.set(sink);
    }

    fn emit(&self, name: &str, data: Option<Value>) {
        if let Some(sink) = self.events.get() {
            sink.emit_value(name, data);
        }
    }
}

impl Dispatcher for Machine {
    fn commands(&self) -> &[CommandInfo] {
        &COMMANDS
    }

    fn dispatch(&self, name: &str, arguments: Option<Value>) -> Result<Value, Error> {
        match name {
            "query-status" => {
                decode_arguments::<qapi_runtime::NoArguments>(arguments)?;
                Ok(json!({"status": "running", "running": true}))
            }
            "echo" => Ok(arguments.unwrap_or_else(|| json!({}))),
            "add" => {
                let a: AddArgs = decode_arguments(arguments)?;
                Ok(json!(a.a.saturating_add(i64::from(a.b.unwrap_or(0)))))
            }
            "sleep" => {
                let a: SleepArgs = decode_arguments(arguments)?;
                std::thread::sleep(Duration::from_millis(a.ms.min(5_000)));
                Ok(json!({}))
            }
            "oob-ping" => Ok(json!("pong")),
            "no-reply" => {
                let a: NoReplyArgs = decode_arguments(arguments)?;
                if a.fail {
                    Err(Error::generic("no-reply was told to fail"))
                } else {
                    Ok(json!({}))
                }
            }
            "emit-event" => {
                let a: EmitArgs = decode_arguments(arguments)?;
                for _ in 0..a.count.unwrap_or(1) {
                    self.emit(&a.name, a.data.clone());
                }
                Ok(json!({}))
            }
            "fail" => Err(Error::new(ErrorClass::DeviceNotFound, "Device 'nothing' not found")),
            "stop" => {
                decode_arguments::<qapi_runtime::NoArguments>(arguments)?;
                self.emit("STOP", None);
                Ok(json!({}))
            }
            _ => Err(Error::command_not_found(name)),
        }
    }
}
