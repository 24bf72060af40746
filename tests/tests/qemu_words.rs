//! Bad command arguments as QEMU 10.0.2 answers them, recorded from
//! `qemu-system-x86_64 -machine none` (QMP), and as the project's QMP
//! server and the JSON codec answer them: the same decision (accepted or
//! refused) and, when refused, the same class and words.
//!
//! [`PROJECT`] holds commands of the project's schema, sent whole to a
//! server built on its generated code (`project_server`) and decoded by
//! the codec; [`MEMBERS`] holds members of QEMU commands that use types
//! the project's commands do not (int16, int32, uint16, lists of uint64,
//! a list of alternates), decoded here as the same types
//! (`fixtures/qemu-words.json`). [`NO_COMMAND`] holds the types no QEMU
//! 10.0 command takes, with the words of QEMU's input visitor.
//! `live_qemu_answers_as_recorded` checks the recorded answers against
//! QEMU itself when it is installed.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::{BufRead, BufReader, Write};
use std::sync::{Arc, Mutex};

use qapi_runtime::serde::de::DeserializeOwned;
use qapi_runtime::server::{Server, ServerConfig};
use qapi_runtime::{decode, json, Empty, Error};
use qapi_tests::project_server as server;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

mod words {
    qapi_macros::include_schema!("fixtures/qemu-words.json", mode = "server", json_codec = true);
}

/// QEMU's answer: `None` when it accepted the arguments (`{}`), else the
/// `desc` of its `GenericError`.
type Answer = Option<&'static str>;

/// Commands of the project's schema: (command, arguments, QEMU's answer).
const PROJECT: &[(&str, &str, Answer)] = &[
    // uint64 and size: anything but an integer in range (or a negative
    // int64, taken as its two's complement) is refused in one way.
    ("migrate-set-parameters", r#"{"downtime-limit": "x"}"#, Some("Parameter 'downtime-limit' expects uint64")),
    ("migrate-set-parameters", r#"{"downtime-limit": 1.5}"#, Some("Parameter 'downtime-limit' expects uint64")),
    (
        "migrate-set-parameters",
        r#"{"downtime-limit": 18446744073709551616}"#,
        Some("Parameter 'downtime-limit' expects uint64"),
    ),
    ("migrate-set-parameters", r#"{"downtime-limit": null}"#, Some("Parameter 'downtime-limit' expects uint64")),
    ("migrate-set-parameters", r#"{"downtime-limit": {}}"#, Some("Parameter 'downtime-limit' expects uint64")),
    ("migrate-set-parameters", r#"{"max-bandwidth": -1}"#, None),
    ("migrate-set-parameters", r#"{"max-bandwidth": "1M"}"#, Some("Parameter 'max-bandwidth' expects uint64")),
    ("migrate-set-parameters", r#"{"max-bandwidth": 1e3}"#, Some("Parameter 'max-bandwidth' expects uint64")),
    // uint8 and uint32: read as a uint64, then checked against the range,
    // which names the C type and only the member.
    ("migrate-set-parameters", r#"{"multifd-channels": 300}"#, Some("Parameter 'multifd-channels' expects uint8_t")),
    ("migrate-set-parameters", r#"{"multifd-channels": -1}"#, Some("Parameter 'multifd-channels' expects uint8_t")),
    ("migrate-set-parameters", r#"{"multifd-channels": "x"}"#, Some("Parameter 'multifd-channels' expects uint64")),
    ("migrate-set-parameters", r#"{"multifd-channels": 1.5}"#, Some("Parameter 'multifd-channels' expects uint64")),
    (
        "migrate-set-parameters",
        r#"{"x-checkpoint-delay": 4294967296}"#,
        Some("Parameter 'x-checkpoint-delay' expects uint32_t"),
    ),
    // bool, enum, alternate.
    (
        "migrate-set-parameters",
        r#"{"cpu-throttle-tailslow": 1}"#,
        Some("Invalid parameter type for 'cpu-throttle-tailslow', expected: boolean"),
    ),
    (
        "migrate-set-parameters",
        r#"{"cpu-throttle-tailslow": null}"#,
        Some("Invalid parameter type for 'cpu-throttle-tailslow', expected: boolean"),
    ),
    (
        "migrate-set-parameters",
        r#"{"tls-creds": 1}"#,
        Some("Invalid parameter type for 'tls-creds', expected: StrOrNull"),
    ),
    (
        "migrate-set-parameters",
        r#"{"tls-creds": {}}"#,
        Some("Invalid parameter type for 'tls-creds', expected: StrOrNull"),
    ),
    (
        "migrate-set-parameters",
        r#"{"tls-creds": true}"#,
        Some("Invalid parameter type for 'tls-creds', expected: StrOrNull"),
    ),
    (
        "migrate-set-parameters",
        r#"{"tls-creds": ["a"]}"#,
        Some("Invalid parameter type for 'tls-creds', expected: StrOrNull"),
    ),
    ("migrate-set-parameters", r#"{"tls-creds": null}"#, None),
    (
        "migrate-set-parameters",
        r#"{"multifd-compression": "bogus"}"#,
        Some("Parameter 'multifd-compression' does not accept value 'bogus'"),
    ),
    (
        "migrate-set-parameters",
        r#"{"multifd-compression": 1}"#,
        Some("Invalid parameter type for 'multifd-compression', expected: string"),
    ),
    ("migrate-set-parameters", r#"{"mode": null}"#, Some("Invalid parameter type for 'mode', expected: string")),
    // Members the type does not have are reported last.
    ("migrate-set-parameters", r#"{"bogus": 1}"#, Some("Parameter 'bogus' is unexpected")),
    ("migrate-set-parameters", r#"{"mode": "x", "bogus": 1}"#, Some("Parameter 'mode' does not accept value 'x'")),
    (
        "migrate-set-parameters",
        r#"{"bogus": 1, "mode": 3}"#,
        Some("Invalid parameter type for 'mode', expected: string"),
    ),
    // Lists and nested structs.
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": {}}"#,
        Some("Invalid parameter type for 'block-bitmap-mapping', expected: array"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": null}"#,
        Some("Invalid parameter type for 'block-bitmap-mapping', expected: array"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": [1]}"#,
        Some("Invalid parameter type for 'block-bitmap-mapping[0]', expected: object"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b"}]}"#,
        Some("Parameter 'block-bitmap-mapping[0].bitmaps' is missing"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b", "bitmaps": {}}]}"#,
        Some("Invalid parameter type for 'block-bitmap-mapping[0].bitmaps', expected: array"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b", "bitmaps": [], "transform": 1}]}"#,
        Some("Parameter 'block-bitmap-mapping[0].transform' is unexpected"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b", "bitmaps": [{"name": "x", "alias": "y", "bogus": 1}]}]}"#,
        Some("Parameter 'block-bitmap-mapping[0].bitmaps[0].bogus' is unexpected"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b", "bitmaps": [{"name": "x", "alias": "y", "transform": 5}]}]}"#,
        Some("Invalid parameter type for 'block-bitmap-mapping[0].bitmaps[0].transform', expected: object"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b", "bitmaps": [{"name": "x", "alias": "y", "transform": {"persistent": 3}}]}]}"#,
        Some("Invalid parameter type for 'block-bitmap-mapping[0].bitmaps[0].transform.persistent', expected: boolean"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b", "bitmaps": [{"name": "x", "alias": "y", "transform": {"persistent": true, "z": 1}}]}]}"#,
        Some("Parameter 'block-bitmap-mapping[0].bitmaps[0].transform.z' is unexpected"),
    ),
    (
        "migrate-set-parameters",
        r#"{"block-bitmap-mapping": [{"node-name": "a", "alias": "b", "bitmaps": [{"name": "x", "alias": "y", "transform": {"persistent": true}}]}]}"#,
        None,
    ),
    // Enums name only the member (or 'null' in a list).
    (
        "migrate-set-capabilities",
        r#"{"capabilities": [{"capability": "bogus", "state": true}]}"#,
        Some("Parameter 'capability' does not accept value 'bogus'"),
    ),
    (
        "migrate-set-capabilities",
        r#"{"capabilities": [{"capability": 1, "state": true}]}"#,
        Some("Invalid parameter type for 'capabilities[0].capability', expected: string"),
    ),
    (
        "migrate-set-capabilities",
        r#"{"capabilities": [{"capability": "xbzrle", "state": 1}]}"#,
        Some("Invalid parameter type for 'capabilities[0].state', expected: boolean"),
    ),
    (
        "migrate-set-capabilities",
        r#"{"capabilities": [{"capability": "xbzrle"}]}"#,
        Some("Parameter 'capabilities[0].state' is missing"),
    ),
    // A missing member is reported before one the type does not have.
    (
        "migrate-set-capabilities",
        r#"{"capabilities": [{"capability": "xbzrle", "bogus": 1}]}"#,
        Some("Parameter 'capabilities[0].state' is missing"),
    ),
    (
        "migrate-set-capabilities",
        r#"{"capabilities": [{"capability": "xbzrle", "state": true, "x": 1}]}"#,
        Some("Parameter 'capabilities[0].x' is unexpected"),
    ),
    ("migrate-set-capabilities", r#"{}"#, Some("Parameter 'capabilities' is missing")),
    ("migrate-set-capabilities", r#"{"capabilities": [{"capability": "xbzrle", "state": true}]}"#, None),
    ("migrate-recover", r#"{"uri2": "x"}"#, Some("Parameter 'uri' is missing")),
    // Unions: the discriminator, the branch's members, nested unions.
    ("migrate", r#"{"channels": {}}"#, Some("Invalid parameter type for 'channels', expected: array")),
    ("migrate", r#"{"channels": [1]}"#, Some("Invalid parameter type for 'channels[0]', expected: object")),
    ("migrate", r#"{"channels": [null]}"#, Some("Invalid parameter type for 'channels[0]', expected: object")),
    (
        "migrate",
        r#"{"channels": [{"addr": {"transport": "exec", "args": ["a"]}}]}"#,
        Some("Parameter 'channels[0].channel-type' is missing"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "bogus", "addr": {"transport": "exec", "args": ["a"]}}]}"#,
        Some("Parameter 'channel-type' does not accept value 'bogus'"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": "x"}]}"#,
        Some("Invalid parameter type for 'channels[0].addr', expected: object"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {}}]}"#,
        Some("Parameter 'channels[0].addr.transport' is missing"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": 1}}]}"#,
        Some("Invalid parameter type for 'channels[0].addr.transport', expected: string"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "bogus"}}]}"#,
        Some("Parameter 'transport' does not accept value 'bogus'"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "socket"}}]}"#,
        Some("Parameter 'channels[0].addr.type' is missing"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "socket", "type": "bogus"}}]}"#,
        Some("Parameter 'type' does not accept value 'bogus'"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "socket", "type": "inet", "host": "a"}}]}"#,
        Some("Parameter 'channels[0].addr.port' is missing"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "socket", "type": "inet", "host": 1, "port": "1"}}]}"#,
        Some("Invalid parameter type for 'channels[0].addr.host', expected: string"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "socket", "type": "inet", "host": "a", "port": 1}}]}"#,
        Some("Invalid parameter type for 'channels[0].addr.port', expected: string"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "socket", "type": "inet", "host": "a", "port": "1", "ipv4": 1}}]}"#,
        Some("Invalid parameter type for 'channels[0].addr.ipv4', expected: boolean"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "socket", "type": "inet", "host": "a", "port": "1", "bogus": 1}}]}"#,
        Some("Parameter 'channels[0].addr.bogus' is unexpected"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "socket", "type": "unix", "path": "/x", "abstract": 1}}]}"#,
        Some("Invalid parameter type for 'channels[0].addr.abstract', expected: boolean"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "socket", "type": "fd", "str": "x", "bogus": 2}}]}"#,
        Some("Parameter 'channels[0].addr.bogus' is unexpected"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "rdma", "host": "a", "port": "1", "bogus": 1}}]}"#,
        Some("Parameter 'channels[0].addr.bogus' is unexpected"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "file", "filename": "x", "offset": "x"}}]}"#,
        Some("Parameter 'channels[0].addr.offset' expects uint64"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "file", "filename": "x", "offset": 1.5}}]}"#,
        Some("Parameter 'channels[0].addr.offset' expects uint64"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "exec", "args": "x"}}]}"#,
        Some("Invalid parameter type for 'channels[0].addr.args', expected: array"),
    ),
    (
        "migrate",
        r#"{"channels": [{"channel-type": "main", "addr": {"transport": "exec", "args": [1]}}]}"#,
        Some("Invalid parameter type for 'channels[0].addr.args[0]', expected: string"),
    ),
    ("migrate", r#"{"uri": null}"#, Some("Invalid parameter type for 'uri', expected: string")),
    ("migrate", r#"{"uri": 1}"#, Some("Invalid parameter type for 'uri', expected: string")),
    ("migrate", r#"{"uri": "x", "resume": "y"}"#, Some("Invalid parameter type for 'resume', expected: boolean")),
    // int (int64): no negative-number rule, one word for every refusal.
    ("human-monitor-command", r#"{}"#, Some("Parameter 'command-line' is missing")),
    (
        "human-monitor-command",
        r#"{"command-line": "info version", "cpu-index": "x"}"#,
        Some("Invalid parameter type for 'cpu-index', expected: integer"),
    ),
    (
        "human-monitor-command",
        r#"{"command-line": "info version", "cpu-index": 1.5}"#,
        Some("Invalid parameter type for 'cpu-index', expected: integer"),
    ),
    (
        "human-monitor-command",
        r#"{"command-line": "info version", "cpu-index": 1.0}"#,
        Some("Invalid parameter type for 'cpu-index', expected: integer"),
    ),
    (
        "human-monitor-command",
        r#"{"command-line": "info version", "cpu-index": 1e2}"#,
        Some("Invalid parameter type for 'cpu-index', expected: integer"),
    ),
    (
        "human-monitor-command",
        r#"{"command-line": "info version", "cpu-index": 9223372036854775808}"#,
        Some("Invalid parameter type for 'cpu-index', expected: integer"),
    ),
    (
        "human-monitor-command",
        r#"{"command-line": "info version", "cpu-index": -9223372036854775809}"#,
        Some("Invalid parameter type for 'cpu-index', expected: integer"),
    ),
    (
        "human-monitor-command",
        r#"{"command-line": "info version", "cpu-index": 18446744073709551615}"#,
        Some("Invalid parameter type for 'cpu-index', expected: integer"),
    ),
    (
        "human-monitor-command",
        r#"{"command-line": "info version", "cpu-index": null}"#,
        Some("Invalid parameter type for 'cpu-index', expected: integer"),
    ),
    ("query-migrate", r#"{"x": 1}"#, Some("Parameter 'x' is unexpected")),
];

/// What the serde path and the codec make of a text as a `T`: each one's
/// words, `None` when it accepts it.
type Words = fn(&str) -> [Option<String>; 2];

fn words<T: DeserializeOwned + json::Decode>(text: &str) -> [Option<String>; 2] {
    let value: Value = serde_json::from_str(text).unwrap();
    [decode::from_value::<T>(&value).err().map(|e| e.message()), json::from_str::<T>(text).err().map(|e| e.message())]
}

/// The valid members of cxl-inject-memory-module-event and
/// cxl-inject-dram-event but the one tested.
const MODULE: &str = r#""path": "x", "log": "informational", "flags": 0, "type": 0, "health-status": 0,
    "media-status": 0, "additional-status": 0, "life-used": 0, "dirty-shutdown-count": 0,
    "corrected-volatile-error-count": 0, "corrected-persistent-error-count": 0"#;
const DRAM: &str = r#""path": "x", "log": "informational", "flags": 0, "dpa": 0, "descriptor": 0, "type": 0,
    "transaction-type": 0"#;

/// Members of QEMU commands: (command, the other arguments, the member
/// tested, the type it is decoded as here, QEMU's answer).
const MEMBERS: &[(&str, &str, &str, Words, Answer)] = &[
    (
        "cxl-inject-memory-module-event",
        MODULE,
        r#""temperature": 32768"#,
        words::<words::ModuleEvent>,
        Some("Parameter 'temperature' expects int16_t"),
    ),
    (
        "cxl-inject-memory-module-event",
        MODULE,
        r#""temperature": -32769"#,
        words::<words::ModuleEvent>,
        Some("Parameter 'temperature' expects int16_t"),
    ),
    (
        "cxl-inject-memory-module-event",
        MODULE,
        r#""temperature": "x""#,
        words::<words::ModuleEvent>,
        Some("Invalid parameter type for 'temperature', expected: integer"),
    ),
    (
        "cxl-inject-memory-module-event",
        MODULE,
        r#""temperature": 1.5"#,
        words::<words::ModuleEvent>,
        Some("Invalid parameter type for 'temperature', expected: integer"),
    ),
    (
        "cxl-inject-memory-module-event",
        MODULE,
        r#""temperature": 9223372036854775808"#,
        words::<words::ModuleEvent>,
        Some("Invalid parameter type for 'temperature', expected: integer"),
    ),
    (
        "cxl-inject-dram-event",
        DRAM,
        r#""column": 65536"#,
        words::<words::DramEvent>,
        Some("Parameter 'column' expects uint16_t"),
    ),
    (
        "cxl-inject-dram-event",
        DRAM,
        r#""column": -1"#,
        words::<words::DramEvent>,
        Some("Parameter 'column' expects uint16_t"),
    ),
    (
        "cxl-inject-dram-event",
        DRAM,
        r#""column": "x""#,
        words::<words::DramEvent>,
        Some("Parameter 'column' expects uint64"),
    ),
    (
        "cxl-inject-dram-event",
        DRAM,
        r#""correction-mask": [1, -1, "x"]"#,
        words::<words::DramEvent>,
        Some("Parameter 'correction-mask[2]' expects uint64"),
    ),
    (
        "cxl-inject-dram-event",
        DRAM,
        r#""correction-mask": [1, 18446744073709551616]"#,
        words::<words::DramEvent>,
        Some("Parameter 'correction-mask[1]' expects uint64"),
    ),
    (
        "cxl-inject-dram-event",
        DRAM,
        r#""correction-mask": {}"#,
        words::<words::DramEvent>,
        Some("Invalid parameter type for 'correction-mask', expected: array"),
    ),
    (
        "netdev_add",
        r#""type": "hubport", "id": "h0""#,
        r#""hubid": 2147483648"#,
        words::<words::Hubport>,
        Some("Parameter 'hubid' expects int32_t"),
    ),
    (
        "netdev_add",
        r#""type": "hubport", "id": "h0""#,
        r#""hubid": -2147483649"#,
        words::<words::Hubport>,
        Some("Parameter 'hubid' expects int32_t"),
    ),
    (
        "netdev_add",
        r#""type": "hubport", "id": "h0""#,
        r#""hubid": 1e3"#,
        words::<words::Hubport>,
        Some("Invalid parameter type for 'hubid', expected: integer"),
    ),
    (
        "block-dirty-bitmap-merge",
        r#""node": "a", "target": "b""#,
        r#""bitmaps": ["x", true]"#,
        words::<words::Bitmaps>,
        Some("Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr"),
    ),
    (
        "block-dirty-bitmap-merge",
        r#""node": "a", "target": "b""#,
        r#""bitmaps": [null]"#,
        words::<words::Bitmaps>,
        Some("Invalid parameter type for 'null', expected: BlockDirtyBitmapOrStr"),
    ),
    (
        "block-dirty-bitmap-merge",
        r#""node": "a", "target": "b""#,
        r#""bitmaps": [{"node": "a", "name": 1}]"#,
        words::<words::Bitmaps>,
        Some("Invalid parameter type for 'bitmaps[0].name', expected: string"),
    ),
    (
        "block-dirty-bitmap-merge",
        r#""node": "a", "target": "b""#,
        r#""bitmaps": [{"node": "a"}]"#,
        words::<words::Bitmaps>,
        Some("Parameter 'bitmaps[0].name' is missing"),
    ),
    (
        "block-dirty-bitmap-merge",
        r#""node": "a", "target": "b""#,
        r#""bitmaps": [{"node": "a", "name": "b", "x": 1}]"#,
        words::<words::Bitmaps>,
        Some("Parameter 'bitmaps[0].x' is unexpected"),
    ),
];

/// Types no command of QEMU 10.0 takes, in the words of its input
/// visitor (qapi/qobject-input-visitor.c, qapi/qapi-visit-core.c):
/// (members, answer).
const NO_COMMAND: &[(&str, Answer)] = &[
    (r#"{"small": 128}"#, Some("Parameter 'small' expects int8_t")),
    (r#"{"small": -129}"#, Some("Parameter 'small' expects int8_t")),
    (r#"{"small": -128}"#, None),
    (r#"{"small": "x"}"#, Some("Invalid parameter type for 'small', expected: integer")),
    (r#"{"ratio": "x"}"#, Some("Invalid parameter type for 'ratio', expected: number")),
    (r#"{"ratio": null}"#, Some("Invalid parameter type for 'ratio', expected: number")),
    (r#"{"ratio": 1}"#, None),
    (r#"{"ratio": 18446744073709551616}"#, None),
    (r#"{"levels": [1, 256]}"#, Some("Parameter 'null' expects uint8_t")),
    (r#"{"levels": [-1]}"#, Some("Parameter 'null' expects uint8_t")),
    (r#"{"levels": ["x"]}"#, Some("Parameter 'levels[0]' expects uint64")),
];

/// Accepts what `PROJECT` has QEMU accept, and keeps the parameters set.
#[derive(Default)]
struct Accept(Mutex<Vec<server::MigrationParameters>>);

/// What the dispatcher holds: the parameters, shared with the test.
struct Handle(Arc<Accept>);

impl server::CommandServer for Handle {
    fn migrate_set_parameters(&self, arguments: server::MigrationParameters) -> Result<Empty, Error> {
        self.0 .0.lock().unwrap().push(arguments);
        Ok(Empty {})
    }

    fn migrate_set_capabilities(&self, _: server::MigrateSetCapabilitiesArguments) -> Result<Empty, Error> {
        Ok(Empty {})
    }
}

/// The reply QEMU sent for `answer`.
fn reply(answer: Answer) -> Value {
    match answer {
        None => json!({"return": {}}),
        Some(desc) => json!({"error": {"class": "GenericError", "desc": desc}}),
    }
}

/// A client connection to the project's server, line by line.
struct Conn {
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>>,
    wr: tokio::io::WriteHalf<tokio::io::DuplexStream>,
}

impl Conn {
    async fn line(&mut self) -> Value {
        serde_json::from_str(&self.lines.next_line().await.unwrap().unwrap()).unwrap()
    }

    async fn call(&mut self, request: &str) -> Value {
        self.wr.write_all(request.as_bytes()).await.unwrap();
        self.wr.write_all(b"\n").await.unwrap();
        self.line().await
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_project_server_answers_as_qemu() {
    let accept = Arc::new(Accept::default());
    let dispatcher = Arc::new(server::CommandDispatcher(Handle(accept.clone())));
    let server = Server::new(dispatcher, ServerConfig::new());
    let (client, conn) = tokio::io::duplex(1 << 16);
    server.serve(conn);
    let (rd, wr) = tokio::io::split(client);
    let mut c = Conn { lines: tokio::io::BufReader::new(rd).lines(), wr };
    assert!(c.line().await.get("QMP").is_some(), "the greeting");
    assert_eq!(c.call(r#"{"execute": "qmp_capabilities"}"#).await, json!({"return": {}}));
    for (command, arguments, answer) in PROJECT {
        let got = c.call(&format!(r#"{{"execute": "{command}", "arguments": {arguments}}}"#)).await;
        assert_eq!(got, reply(*answer), "{command} {arguments}");
    }
    // A negative number for a size is taken as QEMU takes it.
    let set = accept.0.lock().unwrap();
    assert!(set.iter().any(|p| p.max_bandwidth == Some(u64::MAX)));
}

/// The codec's words for `arguments` of `command`; `None` for a command
/// whose arguments it has no type for.
fn codec(command: &str, arguments: &str) -> Option<Option<String>> {
    fn check<T: json::Decode>(text: &str) -> Option<String> {
        json::from_str::<T>(text).err().map(|e| e.message())
    }
    Some(match command {
        "migrate-set-parameters" => check::<server::MigrationParameters>(arguments),
        "migrate-set-capabilities" => check::<server::MigrateSetCapabilitiesArguments>(arguments),
        "migrate-recover" => check::<server::MigrateRecoverArguments>(arguments),
        "migrate" => check::<server::MigrateArguments>(arguments),
        "human-monitor-command" => check::<server::HumanMonitorCommandArguments>(arguments),
        _ => return None,
    })
}

#[test]
fn the_codec_answers_as_qemu() {
    let mut checked = 0;
    for (command, arguments, answer) in PROJECT {
        if let Some(words) = codec(command, arguments) {
            assert_eq!(words.as_deref(), *answer, "{command} {arguments}");
            checked += 1;
        }
    }
    assert!(checked + 1 >= PROJECT.len(), "only {checked} cases decoded by the codec");
    let p: server::MigrationParameters = json::from_str(r#"{"max-bandwidth": -1}"#).unwrap();
    assert_eq!(p.max_bandwidth, Some(u64::MAX));
    // What QEMU's own check then refuses decodes as QEMU decodes it.
    let p: server::MigrationParameters = json::from_str(r#"{"downtime-limit": -1}"#).unwrap();
    assert_eq!(p.downtime_limit, Some(u64::MAX));
}

#[test]
fn other_types_are_worded_as_qemu_words_them() {
    for (command, _, member, words, answer) in MEMBERS {
        let [serde, codec] = words(&format!("{{{member}}}"));
        assert_eq!(serde.as_deref(), *answer, "{command} {member}, serde path");
        assert_eq!(codec.as_deref(), *answer, "{command} {member}, codec");
    }
    for (members, answer) in NO_COMMAND {
        let [serde, codec] = words::<words::Others>(members);
        assert_eq!(serde.as_deref(), *answer, "{members}, serde path");
        assert_eq!(codec.as_deref(), *answer, "{members}, codec");
    }
}

/// A QEMU started for the test, killed when dropped.
struct Qemu {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends one command to QEMU and returns its reply, events skipped.
fn qemu_call(
    io: &mut (BufReader<std::os::unix::net::UnixStream>, std::os::unix::net::UnixStream),
    line: &str,
) -> Value {
    io.1.write_all(line.as_bytes()).unwrap();
    io.1.write_all(b"\n").unwrap();
    loop {
        let mut text = String::new();
        assert!(io.0.read_line(&mut text).unwrap() > 0, "QEMU closed the connection after {line}");
        let msg: Value = serde_json::from_str(&text).unwrap();
        if msg.get("event").is_none() {
            return msg;
        }
    }
}

#[test]
fn live_qemu_answers_as_recorded() {
    let qemu = "qemu-system-x86_64";
    if std::process::Command::new(qemu).arg("--version").output().is_err() {
        qapi_tests::skip(&format!("{qemu} is not installed; the recorded answers are not checked against QEMU"));
        return;
    }
    let dir = std::env::temp_dir().join(format!("qapi-tests-qemu-words-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("qmp.sock");
    let child = std::process::Command::new(qemu)
        .args(["-machine", "none", "-nodefaults", "-display", "none", "-qmp"])
        .arg(format!("unix:{},server=on,wait=off", socket.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _qemu = Qemu { child, dir };
    let stream = (0..200)
        .find_map(|_| {
            std::os::unix::net::UnixStream::connect(&socket)
                .map_err(|_| std::thread::sleep(std::time::Duration::from_millis(25)))
                .ok()
        })
        .expect("QEMU's QMP socket");
    let mut io = (BufReader::new(stream.try_clone().unwrap()), stream);
    let mut greeting = String::new();
    io.0.read_line(&mut greeting).unwrap();
    let version = serde_json::from_str::<Value>(&greeting).unwrap()["QMP"]["version"]["qemu"].clone();
    if version != json!({"major": 10, "minor": 0, "micro": 2}) {
        println!("note: the answers were recorded from QEMU 10.0.2; this is {version}");
    }
    assert_eq!(qemu_call(&mut io, r#"{"execute": "qmp_capabilities"}"#), json!({"return": {}}));
    for (command, arguments, answer) in PROJECT {
        let got = qemu_call(&mut io, &format!(r#"{{"execute": "{command}", "arguments": {arguments}}}"#));
        assert_eq!(got, reply(*answer), "QEMU: {command} {arguments}");
    }
    let params = qemu_call(&mut io, r#"{"execute": "query-migrate-parameters"}"#);
    assert_eq!(params["return"]["max-bandwidth"], json!(u64::MAX), "QEMU took -1 for its two's complement");
    for (command, others, member, _, answer) in MEMBERS {
        let got = qemu_call(&mut io, &format!(r#"{{"execute": "{command}", "arguments": {{{others}, {member}}}}}"#));
        assert_eq!(got, reply(*answer), "QEMU: {command} {member}");
    }
}
