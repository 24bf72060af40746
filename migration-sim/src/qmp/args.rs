//! QMP arguments and replies as the simulator's types: migration URIs and
//! channel lists, `migrate-set-parameters` / `-capabilities` requests,
//! `query-migrate-parameters` / `-capabilities` answers.

use qapi_runtime::Error;
use serde_json::{Map, Value};

use crate::config::{Capabilities, MigrationParameters as SimParameters, ParameterUpdate};
use crate::qapi::{
    MigrationAddress, MigrationCapability, MigrationCapabilityStatus, MigrationChannel, MigrationChannelType,
    MigrationParameters,
};
use crate::transport::Transport;

/// QEMU's error for a URI `migrate_uri_parse` refuses.
pub(super) fn check_uri(uri: &str) -> Result<Transport, Error> {
    Transport::parse(uri).map_err(Error::generic)
}

/// The URI equivalent of a channel list (QEMU accepts either form).
pub(super) fn channels_uri(channels: &[MigrationChannel]) -> Result<String, Error> {
    let mut main = None;
    for c in channels {
        if c.channel_type == MigrationChannelType::Main {
            if main.is_some() {
                return Err(Error::generic("Channel list has more than one main entry"));
            }
            main = Some(&c.addr);
        }
    }
    let Some(addr) = main else {
        return Err(Error::generic("Channel list has no main entry"));
    };
    Ok(match addr {
        MigrationAddress::Socket(s) => crate::report::socket_uri(s),
        MigrationAddress::Exec(e) => format!("exec:{}", e.args.join(" ")),
        MigrationAddress::Rdma(a) => format!("rdma:{}:{}", a.host, a.port),
        MigrationAddress::File(f) => format!("file:{},offset={}", f.filename, f.offset),
    })
}

/// The URI of a `migrate` or `migrate-incoming`, with QEMU's checks.
pub(super) fn target_uri(
    command: &str,
    uri: Option<String>,
    channels: Option<Vec<MigrationChannel>>,
) -> Result<String, Error> {
    let uri = match (uri, channels) {
        (Some(_), Some(_)) => {
            return Err(Error::generic(format!(
                "'uri' and 'channels' arguments are mutually exclusive; exactly one of the two should be present in '{command}' qmp command "
            )))
        }
        (None, None) => return Err(Error::generic("Need either 'uri' or 'channels' argument")),
        (Some(u), None) => u,
        (None, Some(c)) => channels_uri(&c)?,
    };
    check_uri(&uri)?;
    Ok(uri)
}

/// A JSON object's members (the serialized form of a config struct).
pub(super) fn members(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `query-migrate-parameters`' answer for a set of simulator parameters.
pub(super) fn parameters_reply(p: &SimParameters) -> Result<MigrationParameters, Error> {
    let mut m = members(serde_json::to_value(p).map_err(|e| Error::generic(e.to_string()))?);
    // Not modelled, but QEMU always reports it.
    m.insert("cpr-exec-command".into(), Value::Array(Vec::new()));
    qapi_runtime::dispatch::decode(Value::Object(m))
}

/// A `migrate-set-parameters` request as the simulator's update.
pub(super) fn parameter_update(p: &MigrationParameters) -> Result<ParameterUpdate, Error> {
    let mut m = members(serde_json::to_value(p).map_err(|e| Error::generic(e.to_string()))?);
    // Block dirty bitmaps and CPR exec are not simulated: accepted, no
    // effect on the model.
    m.remove("block-bitmap-mapping");
    m.remove("cpr-exec-command");
    for key in ["tls-creds", "tls-hostname", "tls-authz"] {
        // null resets to the empty string, as in QEMU.
        if m.get(key) == Some(&Value::Null) {
            m.insert(key.into(), Value::String(String::new()));
        }
    }
    serde_json::from_value(Value::Object(m)).map_err(|e| Error::generic(e.to_string()))
}

/// `query-migrate-capabilities`' answer: every capability, in schema order.
pub(super) fn capabilities_reply(c: &Capabilities) -> Result<Vec<MigrationCapabilityStatus>, Error> {
    let m = members(serde_json::to_value(c).map_err(|e| Error::generic(e.to_string()))?);
    m.into_iter()
        .map(|(name, on)| {
            let capability = MigrationCapability::from_wire(&name)
                .ok_or_else(|| Error::generic(format!("capability '{name}' is not in the schema")))?;
            Ok(MigrationCapabilityStatus { capability, state: on.as_bool().unwrap_or(false) })
        })
        .collect()
}

/// `c` with a `migrate-set-capabilities` request applied.
pub(super) fn capabilities_update(c: &Capabilities, list: &[MigrationCapabilityStatus]) -> Result<Capabilities, Error> {
    let mut m = members(serde_json::to_value(c).map_err(|e| Error::generic(e.to_string()))?);
    for cap in list {
        m.insert(cap.capability.as_str().to_string(), Value::Bool(cap.state));
    }
    serde_json::from_value(Value::Object(m)).map_err(|e| Error::generic(e.to_string()))
}
