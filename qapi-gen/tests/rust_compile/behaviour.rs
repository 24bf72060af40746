//! How the generated code behaves on the wire. Copied into the crate
//! `rust_compile.rs` generates, whose modules hold code for QEMU 10.2's
//! schema (`qemu_*`), its guest agent (`qga_*`), QEMU's test schema
//! (`test_*`) and the project's schema (`project_*`), in client and
//! server mode.

use generated::*;
use qapi_runtime::dispatch::{decode, decode_arguments, Dispatcher};
use qapi_runtime::serde::de::DeserializeOwned;
use qapi_runtime::serde::Serialize;
use qapi_runtime::serde_json::{self, json, Value};
use qapi_runtime::{Command, ErrorClass, Event as _};

/// Decodes `v` as `T` and checks it encodes back to the same JSON.
fn round_trip<T: Serialize + DeserializeOwned + std::fmt::Debug>(v: Value) -> T {
    let t: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
    assert_eq!(serde_json::to_value(&t).unwrap(), v, "{t:?}");
    t
}

fn error<T: DeserializeOwned + std::fmt::Debug>(v: Value) -> String {
    decode::<T>(v).unwrap_err().desc
}

#[test]
fn migration_info_without_source_only_ram_members() {
    let info = json!({
        "status": "active",
        "ram": {
            "transferred": 1, "remaining": 2, "total": 3, "duplicate": 0, "normal": 1,
            "normal-bytes": 4096, "mbps": 1.5, "page-size": 4096, "pages-per-second": 10
        },
        "total-time": 12
    });
    let c: project_client::MigrationInfo = round_trip(info.clone());
    let ram = c.ram.as_ref().unwrap();
    assert!(!ram.has_dirty_sync_count() && ram.dirty_pages_rate.is_none() && ram.multifd_bytes.is_none());
    let s: project_server::MigrationInfo = round_trip(info);
    assert_eq!(s.status, Some(project_server::MigrationStatus::Active));
}

#[test]
fn unknown_enum_values_kept_by_clients_refused_by_servers() {
    let c: project_client::MigrationStatus = round_trip(json!("teleporting"));
    assert_eq!(c, project_client::MigrationStatus::Unknown("teleporting".into()));
    assert_eq!(c.as_str(), "teleporting");
    let info: project_client::MigrationInfo = round_trip(json!({"status": "teleporting"}));
    assert_eq!(info.status, Some(c));
    let e = error::<project_server::MigrationInfo>(json!({"status": "teleporting"}));
    assert!(e.contains("'status'") && e.contains("'teleporting'"), "{e}");
    assert_eq!(
        project_server::MigrationStatus::from_wire("completed"),
        Some(project_server::MigrationStatus::Completed)
    );
    assert_eq!(project_server::MigrationStatus::from_wire("teleporting"), None);
}

#[test]
fn integer_ranges_name_the_member() {
    let e = decode_arguments::<project_server::MigrationParameters>(Some(json!({"throttle-trigger-threshold": 256})))
        .unwrap_err();
    assert_eq!(e.desc, "Parameter 'throttle-trigger-threshold' expects uint8_t");
    let array = json!({
        "integer": [], "s8": [], "s16": [], "s32": [], "s64": [], "u8": [1, 256], "u16": [], "u32": [],
        "u64": [], "number": [], "boolean": [], "string": []
    });
    assert_eq!(error::<test_server::ArrayStruct>(array), "Parameter 'null' expects uint8_t");
}

#[test]
fn optional_members_are_absent_not_null() {
    let p: project_client::MigrationParameters = round_trip(json!({"tls-creds": null}));
    assert_eq!(p.tls_creds, Some(project_client::StrOrNull::N));
    let p: project_client::MigrationParameters = round_trip(json!({"tls-creds": "creds0"}));
    assert_eq!(p.tls_creds, Some(project_client::StrOrNull::S("creds0".into())));
    let p: project_client::MigrationParameters = round_trip(json!({}));
    assert!(!p.has_tls_creds());
    // `null` is no value of `uint8`.
    assert!(decode::<project_server::MigrationParameters>(json!({"multifd-channels": null})).is_err());
    let mut p = project_server::MigrationParameters::default();
    p.set_multifd_channels(4);
    assert_eq!(serde_json::to_value(&p).unwrap(), json!({"multifd-channels": 4}));
}

#[test]
fn unions_dispatch_on_the_discriminator() {
    use qemu_client::SocketAddress;
    let inet: SocketAddress = round_trip(json!({"type": "inet", "host": "localhost", "port": "4444"}));
    assert!(matches!(&inet, SocketAddress::Inet(a) if a.host == "localhost"));
    assert_eq!(inet.tag(), qemu_client::SocketAddressType::Inet);
    // The discriminator may come last.
    let late: SocketAddress =
        serde_json::from_value(json!({"host": "localhost", "port": "4444", "type": "inet"})).unwrap();
    assert_eq!(late, inet);
    round_trip::<SocketAddress>(json!({"type": "unix", "path": "/tmp/sock"}));
    round_trip::<SocketAddress>(json!({"type": "fd", "str": "3"}));
    // A client keeps a branch it doesn't know; a server refuses it.
    let unknown: SocketAddress = round_trip(json!({"type": "carrier-pigeon", "name": "Bob"}));
    assert!(matches!(&unknown, SocketAddress::Unknown { tag, .. } if tag == "carrier-pigeon"));
    let e = error::<qemu_server::SocketAddress>(json!({"type": "carrier-pigeon"}));
    assert!(e.contains("'type'") && e.contains("carrier-pigeon"), "{e}");
    assert_eq!(error::<qemu_server::SocketAddress>(json!({"host": "h"})), "Parameter 'type' is missing");
    assert_eq!(
        error::<qemu_server::SocketAddress>(json!({"type": "inet", "host": "h", "port": "1", "bogus": 1})),
        "Parameter 'bogus' is unexpected"
    );
}

#[test]
fn unions_with_common_members() {
    use qemu_client::{BlockdevOptions, BlockdevOptionsBranch, BlockdevRef, BlockdevRefOrNull};
    let v = json!({
        "driver": "qcow2", "node-name": "disk0", "read-only": true,
        "file": {"driver": "file", "filename": "/img.qcow2"},
        "backing": null
    });
    let o: BlockdevOptions = round_trip(v);
    assert_eq!(o.node_name.as_deref(), Some("disk0"));
    let BlockdevOptionsBranch::Qcow2(q) = &o.driver else { panic!("{o:?}") };
    assert!(matches!(q.backing, Some(BlockdevRefOrNull::Null)));
    let BlockdevRef::Definition(file) = &q.file else { panic!("{q:?}") };
    assert!(matches!(&file.driver, BlockdevOptionsBranch::File(f) if f.filename == "/img.qcow2"));
    let by_name: BlockdevOptions = round_trip(json!({"driver": "raw", "file": "node1"}));
    assert!(
        matches!(&by_name.driver, BlockdevOptionsBranch::Raw(r) if r.file == BlockdevRef::Reference("node1".into()))
    );
    // Errors name the member, within a common member too.
    assert_eq!(
        decode_arguments::<qemu_server::BlockdevOptions>(Some(json!({"driver": "file"}))).unwrap_err().desc,
        "Parameter 'filename' is missing"
    );
    let e = error::<qemu_server::BlockdevOptions>(json!({"driver": "file", "filename": "f", "cache": {"direct": 1}}));
    assert_eq!(e, "Invalid parameter type for 'cache.direct', expected: boolean");
    // A union in a union's branch (QEMU's test schema).
    round_trip::<test_client::TestUnionInUnion>(
        json!({"type": "value-a", "type-a": "value-a1", "integer": 1, "name": "x"}),
    );
    // Branches without members.
    let flat: test_client::UserDefFlatUnion = round_trip(json!({"integer": 1, "string": "s", "enum1": "value4"}));
    assert!(matches!(flat.enum1, test_client::UserDefFlatUnionBranch::Value4));
}

#[test]
fn alternates_dispatch_on_the_json_type() {
    use test_client::{AltEnumNum, UserDefAlternate};
    assert_eq!(round_trip::<UserDefAlternate>(json!(42)), UserDefAlternate::I(42));
    assert_eq!(round_trip::<UserDefAlternate>(json!("value2")), UserDefAlternate::E(test_client::EnumOne::Value2));
    assert_eq!(round_trip::<UserDefAlternate>(json!(null)), UserDefAlternate::N);
    let u: UserDefAlternate = round_trip(json!({"integer": 1, "string": "s", "enum1": "value1", "boolean": true}));
    assert!(matches!(u, UserDefAlternate::Udfu(_)));
    // An integer is a number where there is no integer branch.
    assert_eq!(serde_json::from_value::<AltEnumNum>(json!(3)).unwrap(), AltEnumNum::N(3.0));
    assert!(decode::<test_server::UserDefAlternate>(json!(1.5)).is_err());
    assert!(decode::<test_server::UserDefAlternate>(json!("value9")).is_err());
    assert!(decode::<test_server::UserDefAlternate>(json!(true)).is_err());
}

#[test]
fn events_decode_and_encode() {
    use qemu_client::Event;
    let ev = Event::decode("MIGRATION", Some(json!({"status": "completed"}))).unwrap();
    let Event::Migration(m) = &ev else { panic!("{ev:?}") };
    assert_eq!(m.status, qemu_client::MigrationStatus::Completed);
    assert_eq!(ev.encode().unwrap(), ("MIGRATION", Some(json!({"status": "completed"}))));
    let stop = Event::decode("STOP", None).unwrap();
    assert_eq!(stop, Event::Stop(qemu_client::StopEvent {}));
    assert_eq!(stop.encode().unwrap(), ("STOP", None));
    let new = Event::decode("TELEPORTED", Some(json!({"where": "mars"}))).unwrap();
    assert_eq!(new.name(), "TELEPORTED");
    assert_eq!(new.encode().unwrap(), ("TELEPORTED", Some(json!({"where": "mars"}))));
    let e = Event::decode("MIGRATION", Some(json!({}))).unwrap_err();
    assert_eq!(e.desc, "Parameter 'status' is missing");
    assert_eq!(<qemu_client::MigrationEvent as qapi_runtime::Event>::NAME, "MIGRATION");
    let _ = qemu_client::StopEvent::NAME;
}

/// What a generic client does with a command type.
fn request<C: Command>(arguments: C::Arguments) -> Value {
    json!({"execute": C::NAME, "arguments": arguments})
}

#[test]
fn typed_requests() {
    let args = qemu_client::MigrateArguments { uri: Some("tcp:host:4444".into()), ..Default::default() };
    assert_eq!(
        request::<qemu_client::MigrateCommand>(args),
        json!({"execute": "migrate", "arguments": {"uri": "tcp:host:4444"}})
    );
    assert_eq!(request::<qemu_client::QueryStatusCommand>(qapi_runtime::NoArguments {})["arguments"], json!({}));
    const { assert!(qemu_client::QmpCapabilitiesCommand::FLAGS.allow_preconfig) };
    let reply: <qemu_client::QueryStatusCommand as Command>::Returns =
        serde_json::from_value(json!({"running": true, "status": "running"})).unwrap();
    assert!(reply.running);
}

/// A test double for the generated methods: records each request and
/// answers `reply`.
struct Recorder {
    sent: std::sync::Mutex<Vec<Value>>,
    reply: Value,
}

impl Recorder {
    fn run<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, qapi_runtime::decode::DecodeError> {
        self.sent.lock().unwrap().push(json!({"execute": C::NAME, "arguments": arguments}));
        qapi_runtime::decode::from_value(&self.reply)
    }
}

impl qapi_runtime::BlockingExecute for Recorder {
    type Error = qapi_runtime::decode::DecodeError;
    fn execute<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, Self::Error> {
        self.run::<C>(arguments)
    }
}

/// The same for the async methods (their futures are ready at once).
struct AsyncRecorder(Recorder);

impl qapi_runtime::Execute for AsyncRecorder {
    type Error = qapi_runtime::decode::DecodeError;
    fn execute<C: Command>(
        &self,
        arguments: &C::Arguments,
    ) -> impl std::future::Future<Output = Result<C::Returns, Self::Error>> + Send {
        std::future::ready(self.0.run::<C>(arguments))
    }
}

/// The value of a future that is ready at once.
fn now<F: std::future::Future>(f: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(f).poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("not ready"),
    }
}

#[test]
fn a_method_per_command() {
    use qemu_client::{BlockingCommands as _, Commands as _};
    let r = Recorder { sent: Default::default(), reply: json!({}) };
    r.migrate_set_parameters(&qemu_client::MigrationParameters { downtime_limit: Some(500), ..Default::default() })
        .unwrap();
    r.migrate(&qemu_client::MigrateArguments { uri: Some("unix:/tmp/m".into()), ..Default::default() }).unwrap();
    r.migrate_incoming(None).unwrap();
    r.stop().unwrap();
    let qom = Recorder { sent: Default::default(), reply: json!("pc-q35-10.2") };
    assert_eq!(qom.qom_get(&qemu_client::QomGetArguments::new("/machine", "type")).unwrap(), json!("pc-q35-10.2"));
    assert_eq!(
        *r.sent.lock().unwrap(),
        [
            json!({"execute": "migrate-set-parameters", "arguments": {"downtime-limit": 500}}),
            json!({"execute": "migrate", "arguments": {"uri": "unix:/tmp/m"}}),
            json!({"execute": "migrate-incoming", "arguments": {}}),
            json!({"execute": "stop", "arguments": {}}),
        ]
    );
    let status =
        AsyncRecorder(Recorder { sent: Default::default(), reply: json!({"running": false, "status": "paused"}) });
    assert_eq!(now(status.query_status()).unwrap().status, qemu_client::RunState::Paused);
    let bad = AsyncRecorder(Recorder { sent: Default::default(), reply: json!({"running": "no"}) });
    let e = now(bad.query_status()).unwrap_err();
    assert_eq!(e.to_string(), "Invalid parameter type for 'running', expected: boolean");
}

#[test]
fn commands_and_events_by_name() {
    use qapi_runtime::ArgumentsKind;
    // Every command and event the introspection lists (which orders them
    // by module, not as the schema does).
    use std::collections::BTreeSet;
    let listed = |meta: &str| -> BTreeSet<String> {
        let schema = qemu_client::qmp_schema();
        let entries = schema.as_array().unwrap().iter().filter(|e| e["meta-type"] == meta);
        entries.map(|e| e["name"].as_str().unwrap().to_owned()).collect()
    };
    let commands: BTreeSet<String> = qemu_client::COMMANDS.iter().map(|c| c.name.to_owned()).collect();
    assert_eq!((commands.len(), &commands), (qemu_client::COMMANDS.len(), &listed("command")));
    let events: BTreeSet<String> = qemu_client::EVENTS.iter().map(|e| e.name.to_owned()).collect();
    assert_eq!((events.len(), &events), (qemu_client::EVENTS.len(), &listed("event")));
    assert_eq!(qemu_server::COMMANDS, qemu_client::COMMANDS);
    let c = |name| qemu_client::command(name).unwrap();
    assert_eq!((c("query-status").rust_name, c("query-status").arguments), ("QueryStatusCommand", ArgumentsKind::None));
    assert_eq!(c("migrate").arguments, ArgumentsKind::Optional);
    assert_eq!(c("qom-get").arguments, ArgumentsKind::Required);
    assert_eq!(c("blockdev-add").arguments, ArgumentsKind::Required, "a boxed union");
    assert!(c("migrate-pause").flags.allow_oob && c("query-migrate").flags.success_response);
    assert!(c("x-query-virtio").unstable && c("query-cpus-fast").arguments == ArgumentsKind::None);
    assert!(qemu_client::event("MIGRATION").unwrap().has_data && !qemu_client::event("STOP").unwrap().has_data);
    assert_eq!(qemu_client::event("STOP").unwrap().rust_name, "StopEvent");
    assert!(!qga_client::command("guest-shutdown").unwrap().flags.success_response);
    assert_eq!(qemu_client::command("no-such-command"), None);
}

struct Server;

impl qemu_server::CommandServer for Server {
    fn query_status(&self) -> Result<qemu_server::StatusInfo, qapi_runtime::Error> {
        Ok(qemu_server::StatusInfo { running: true, status: qemu_server::RunState::Running })
    }

    fn migrate_set_capabilities(
        &self,
        arguments: qemu_server::MigrateSetCapabilitiesArguments,
    ) -> Result<qapi_runtime::Empty, qapi_runtime::Error> {
        if arguments.capabilities.is_empty() {
            return Err(qapi_runtime::Error::generic("nothing to set"));
        }
        Ok(qapi_runtime::Empty {})
    }
}

#[test]
fn dispatcher_runs_a_partial_server() {
    let d = qemu_server::CommandDispatcher(Server);
    assert_eq!(d.dispatch("query-status", None).unwrap(), json!({"running": true, "status": "running"}));
    assert_eq!(d.dispatch("stop", None).unwrap_err().class, ErrorClass::CommandNotFound);
    assert_eq!(d.dispatch("no-such-command", None).unwrap_err().class, ErrorClass::CommandNotFound);
    assert_eq!(d.dispatch("query-status", Some(json!({"x": 1}))).unwrap_err().desc, "Parameter 'x' is unexpected");
    assert_eq!(
        d.dispatch("migrate-set-capabilities", Some(json!({}))).unwrap_err().desc,
        "Parameter 'capabilities' is missing"
    );
    let caps = json!({"capabilities": [{"capability": "xbzrle", "state": true}]});
    assert_eq!(d.dispatch("migrate-set-capabilities", Some(caps)).unwrap(), json!({}));
    assert_eq!(
        d.dispatch("migrate-set-capabilities", Some(json!({"capabilities": []}))).unwrap_err().desc,
        "nothing to set"
    );
    let names: Vec<&str> = d.commands().iter().map(|c| c.name).collect();
    assert!(names.contains(&"query-status") && names.contains(&"qmp_capabilities"));
    assert_eq!(d.command("qmp_capabilities").map(|f| f.allow_preconfig), Some(true));
}

#[test]
fn guest_agent_and_downstream_names() {
    round_trip::<qga_client::GuestExecStatus>(json!({"exited": true, "exitcode": 0}));
    let s: test_client::OrgQemuXStruct =
        round_trip(json!({"__org.qemu_x-member1": "__org.qemu_x-value", "__org.qemu_x-member2": "m"}));
    assert_eq!(s.org_qemu_x_member1, test_client::OrgQemuXEnum::OrgQemuXValue);
}

#[test]
fn conditions_as_cfg() {
    // Built with `--cfg qapi="TEST_IF_STRUCT"` and `qapi="TEST_IF_UNION"`, not
    // `TEST_IF_ENUM_MEMBER`: the union lacks its conditional branch.
    let u: test_cfg::TestIfUnion =
        serde_json::from_value(json!({"type": "foo", "integer": 1, "boolean": true, "string": "s"})).unwrap();
    assert_eq!(u.tag(), test_cfg::TestIfEnum::Foo);
    assert!(decode::<test_cfg::TestIfUnion>(json!({"type": "bar", "integer": 1})).is_err());
    let s: test_cfg::TestIfStruct = serde_json::from_value(json!({"foo": 1})).unwrap();
    assert_eq!(s.foo, 1);
}
