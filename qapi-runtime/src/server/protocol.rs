//! The protocol logic without I/O: a request's shape checked, the
//! built-in commands, the replies written in QEMU's format.

use serde_json::{Map, Value};

use super::Inner;
use crate::stream::{is_limit_error, write_json, write_str};
use crate::{CommandFlags, Error, ErrorClass};

/// The state of one client's session: negotiated yet, and whether `oob`
/// was enabled.
///
/// ```
/// let s = qapi_runtime::server::Session::default();
/// assert!(!s.negotiated && !s.oob);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Session {
    /// `qmp_capabilities` succeeded: all commands allowed, events sent.
    pub negotiated: bool,
    /// The `oob` capability is enabled: `exec-oob` accepted.
    pub oob: bool,
}

/// A request that passed QEMU's checks on its shape.
///
/// ```
/// use qapi_runtime::server::Request;
/// use serde_json::json;
/// let r = Request::from_value(json!({"execute": "stop", "id": [1]}), false).unwrap();
/// assert_eq!((r.name.as_str(), r.oob, r.id), ("stop", false, Some(json!([1]))));
/// let (e, id) = Request::from_value(json!({"exec-oob": "x", "id": 2}), false).unwrap_err();
/// assert_eq!(e.desc, "QMP input member 'exec-oob' is unexpected");
/// assert_eq!(id, Some(json!(2)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The command to run.
    pub name: String,
    /// Whether it came as `exec-oob`.
    pub oob: bool,
    /// Its `arguments`, if given (always an object).
    pub arguments: Option<Value>,
    /// Its `id`, if given.
    pub id: Option<Value>,
}

impl Request {
    /// Checks a parsed request the way QEMU does (`oob_enabled`: whether
    /// `exec-oob` is allowed), returning the error and the `id` to echo.
    pub fn from_value(value: Value, oob_enabled: bool) -> Result<Request, (Error, Option<Value>)> {
        let Value::Object(mut obj) = value else {
            return Err((Error::generic("QMP input must be a JSON object"), None));
        };
        let id = obj.remove("id");
        let mut exec_key: Option<&str> = None;
        for (key, val) in &obj {
            if key == "execute" || (key == "exec-oob" && oob_enabled) {
                if !val.is_string() {
                    return Err((Error::generic(format!("QMP input member '{key}' must be a string")), id));
                }
                if let Some(prev) = exec_key {
                    return Err((Error::generic(format!("QMP input member '{key}' clashes with '{prev}'")), id));
                }
                exec_key = Some(if key == "execute" { "execute" } else { "exec-oob" });
            } else if key == "arguments" {
                if !val.is_object() {
                    return Err((Error::generic("QMP input member 'arguments' must be an object"), id));
                }
            } else {
                return Err((Error::generic(format!("QMP input member '{key}' is unexpected")), id));
            }
        }
        let Some(exec_key) = exec_key else {
            return Err((Error::generic("QMP input lacks member 'execute'"), id));
        };
        let name = match obj.remove(exec_key) {
            Some(Value::String(s)) => s,
            _ => return Err((Error::generic("QMP input lacks member 'execute'"), id)),
        };
        Ok(Request { name, oob: exec_key == "exec-oob", arguments: obj.remove("arguments"), id })
    }
}

/// Whether a parsed request asks for out-of-band execution (QEMU's test:
/// `exec-oob` present, `execute` absent).
pub(super) fn is_oob(v: &Result<Value, Error>) -> bool {
    matches!(v, Ok(Value::Object(m)) if m.contains_key("exec-oob") && !m.contains_key("execute"))
}

/// Appends a success reply.
fn write_return(out: &mut Vec<u8>, ret: &Value, id: Option<&Value>) {
    out.extend_from_slice(b"{\"return\": ");
    write_json(out, ret);
    if let Some(id) = id {
        out.extend_from_slice(b", \"id\": ");
        write_json(out, id);
    }
    out.extend_from_slice(b"}\r\n");
}

/// Appends an error reply (QEMU puts `id` first).
fn write_error(out: &mut Vec<u8>, e: &Error, id: Option<&Value>) {
    out.push(b'{');
    if let Some(id) = id {
        out.extend_from_slice(b"\"id\": ");
        write_json(out, id);
        out.extend_from_slice(b", ");
    }
    out.extend_from_slice(b"\"error\": {\"class\": ");
    write_str(out, e.class.as_str());
    out.extend_from_slice(b", \"desc\": ");
    write_str(out, &e.desc);
    out.extend_from_slice(b"}}\r\n");
}

/// Rejects any argument of a command that takes none.
fn no_arguments(args: &Option<Value>) -> Result<(), Error> {
    match args.as_ref().and_then(Value::as_object).and_then(|m| m.keys().next()) {
        Some(k) => Err(Error::generic(format!("Parameter '{k}' is unexpected"))),
        None => Ok(()),
    }
}

impl Inner {
    pub(super) fn handle(&self, session: &mut Session, request: Result<Value, Error>, out: &mut Vec<u8>) {
        let value = match request {
            Ok(v) => v,
            Err(e) => {
                if is_limit_error(&e) {
                    tracing::info!(desc = %e.desc, "QMP input over the JSON limits refused");
                } else {
                    tracing::debug!(desc = %e.desc, "QMP input is not valid JSON");
                }
                return write_error(out, &e, None);
            }
        };
        let req = match Request::from_value(value, session.oob) {
            Ok(r) => r,
            Err((e, id)) => {
                tracing::debug!(desc = %e.desc, "malformed QMP request");
                return write_error(out, &e, id.as_ref());
            }
        };
        let negotiating = !session.negotiated;
        match self.run(session, req.name.as_str(), req.oob, req.arguments) {
            None => {}
            Some(Ok(ret)) => write_return(out, &ret, req.id.as_ref()),
            Some(Err(mut e)) => {
                tracing::debug!(command = %req.name, class = e.class.as_str(), desc = %e.desc, "QMP command failed");
                if negotiating && e.class == ErrorClass::CommandNotFound {
                    e.desc = "Expecting capabilities negotiation with 'qmp_capabilities'".into();
                }
                write_error(out, &e, req.id.as_ref())
            }
        }
    }

    /// Runs a command: `None` when it succeeded without a response.
    fn run(&self, session: &mut Session, name: &str, oob: bool, args: Option<Value>) -> Option<Result<Value, Error>> {
        if !session.negotiated {
            return Some(match name {
                "qmp_capabilities" => self.qmp_capabilities(session, args),
                _ => Err(Error::command_not_found(name)),
            });
        }
        let builtin = match name {
            "qmp_capabilities" | "query-version" | "query-commands" => true,
            "query-qmp-schema" => self.config.schema.is_some(),
            _ => false,
        };
        let flags = if builtin {
            CommandFlags::DEFAULT
        } else {
            match self.dispatcher.command(name) {
                Some(flags) => flags,
                None => return Some(Err(Error::command_not_found(name))),
            }
        };
        if oob && !flags.allow_oob {
            return Some(Err(Error::generic(format!("The command {name} does not support OOB"))));
        }
        if builtin {
            if name == "qmp_capabilities" {
                return Some(self.qmp_capabilities(session, args));
            }
            return Some(no_arguments(&args).map(|()| match name {
                "query-version" => self.config.version.clone(),
                "query-commands" => self.commands.clone(),
                _ => self.config.schema.clone().unwrap_or(Value::Null),
            }));
        }
        match self.dispatcher.dispatch(name, args) {
            Ok(_) if !flags.success_response => None,
            result => Some(result),
        }
    }

    /// `qmp_capabilities`, with QEMU's checks and wording.
    fn qmp_capabilities(&self, session: &mut Session, args: Option<Value>) -> Result<Value, Error> {
        let mut args = match args {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let mut oob = false;
        let mut unavailable = Vec::new();
        if let Some(enable) = args.remove("enable") {
            let Value::Array(caps) = enable else {
                return Err(Error::generic("Invalid parameter type for 'enable', expected: array"));
            };
            for (i, cap) in caps.iter().enumerate() {
                match cap.as_str() {
                    None => {
                        return Err(Error::generic(format!(
                            "Invalid parameter type for 'enable[{i}]', expected: string"
                        )))
                    }
                    Some("oob") => {
                        oob = true;
                        if !self.config.offer_oob {
                            unavailable.push("oob");
                        }
                    }
                    // QEMU names the list element 'null' here.
                    Some(other) => {
                        return Err(Error::generic(format!("Parameter 'null' does not accept value '{other}'")))
                    }
                }
            }
        }
        if let Some(k) = args.keys().next() {
            return Err(Error::generic(format!("Parameter '{k}' is unexpected")));
        }
        if session.negotiated {
            return Err(Error::new(
                ErrorClass::CommandNotFound,
                "Capabilities negotiation is already complete, command ignored",
            ));
        }
        if !unavailable.is_empty() {
            return Err(Error::generic(format!("Capability {} not available", unavailable.join(", "))));
        }
        session.negotiated = true;
        session.oob = oob;
        Ok(Value::Object(Map::new()))
    }
}
