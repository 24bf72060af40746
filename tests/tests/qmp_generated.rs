//! qapi-runtime's QMP server driven by generated server code, and its
//! client driven by generated client code: the golden `commands` schema
//! in server mode (`CommandServer`, `CommandDispatcher`, `qmp_schema()`)
//! behind a unix socket, called with the same schema's client-mode
//! command types.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use qapi_gen::gen::introspect::{introspect, Options};
use qapi_runtime::client::{Client, ClientError};
use qapi_runtime::server::{Server, ServerConfig};
use qapi_runtime::{Empty, Error, ErrorClass, NoArguments};
use qapi_tests::golden::{commands as client, commands_server as server};
use serde_json::{json, Value};

/// A server implementing some of the schema's commands.
#[derive(Default)]
struct Machine {
    speed: Mutex<Option<(u64, Option<u64>)>>,
    devices: Mutex<Vec<server::AddDeviceArguments>>,
}

/// What the dispatcher holds: the machine, shared with the test.
struct Handle(Arc<Machine>);

impl server::CommandServer for Handle {
    fn query_status(&self) -> Result<server::Status, Error> {
        let uptime = self.0.speed.lock().unwrap().map_or(0, |(s, _)| s as i64);
        Ok(server::Status { running: true, uptime })
    }

    fn set_speed(&self, arguments: server::SetSpeedArguments) -> Result<Empty, Error> {
        *self.0.speed.lock().unwrap() = Some((arguments.speed, arguments.burst));
        Ok(Empty {})
    }

    fn list_names(&self, arguments: server::ListNamesArguments) -> Result<Vec<server::Name>, Error> {
        let prefix = arguments.pattern.trim_end_matches('*');
        Ok(["disk0", "disk1", "net0"]
            .iter()
            .filter(|n| n.starts_with(prefix))
            .map(|n| server::Name { name: (*n).to_owned() })
            .collect())
    }

    fn add_device(&self, arguments: server::AddDeviceArguments) -> Result<Empty, Error> {
        self.0.devices.lock().unwrap().push(arguments);
        Ok(Empty {})
    }
}

fn socket_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("qapi-tests-qmp-generated-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn qmp_error(e: ClientError) -> Error {
    match e {
        ClientError::Qmp(e) => e,
        other => panic!("expected an error reply, got {other}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn generated_server_and_client_over_a_unix_socket() {
    let machine = Arc::new(Machine::default());
    let dispatcher = Arc::new(server::CommandDispatcher(Handle(machine.clone())));
    let server = Server::new(dispatcher, ServerConfig::new().schema(server::qmp_schema()));
    let dir = socket_dir();
    let path = dir.join("qmp.sock");
    server.listen_unix(&path).await.unwrap();

    // Connecting negotiates capabilities.
    let qmp = Client::connect_unix(&path).await.unwrap();

    // Typed calls with the client-mode command types.
    let status = qmp.execute::<client::QueryStatusCommand>(&NoArguments {}).await.unwrap();
    assert_eq!(status, client::Status { running: true, uptime: 0 });
    let args = client::SetSpeedArguments { speed: 1 << 20, burst: None };
    assert_eq!(qmp.execute::<client::SetSpeedCommand>(&args).await.unwrap(), Empty {});
    assert_eq!(*machine.speed.lock().unwrap(), Some((1 << 20, None)));
    let status = qmp.execute::<client::QueryStatusCommand>(&NoArguments {}).await.unwrap();
    assert_eq!(status.uptime, 1 << 20);
    let names =
        qmp.execute::<client::ListNamesCommand>(&client::ListNamesArguments { pattern: "disk*".into() }).await.unwrap();
    assert_eq!(names, ["disk0", "disk1"].map(|n| client::Name { name: n.into() }));

    // A `'gen': false` command passes on the arguments the schema doesn't list.
    let mut additional = serde_json::Map::new();
    additional.insert("mac".into(), json!("52:54:00:12:34:56"));
    let device = client::AddDeviceArguments { driver: "e1000".into(), id: None, additional };
    qmp.execute::<client::AddDeviceCommand>(&device).await.unwrap();
    let added = machine.devices.lock().unwrap().pop().unwrap();
    assert_eq!((added.driver.as_str(), added.additional.get("mac")), ("e1000", Some(&json!("52:54:00:12:34:56"))));

    // query-qmp-schema answers the generated introspection, which is what
    // qapi-gen makes of the schema.
    let schema = qmp.execute_value("query-qmp-schema", None).await.unwrap();
    assert_eq!(schema, server::qmp_schema());
    let path_json = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/commands.json");
    let checked = qapi_gen::Frontend::new().check_file(&path_json).unwrap();
    assert_eq!(schema, introspect(&checked.schema, &Options::new()));
    let names: Vec<&str> = schema.as_array().unwrap().iter().filter_map(|e| e["name"].as_str()).collect();
    assert!(names.contains(&"set-speed") && names.contains(&"add-device"), "{names:?}");

    // Unknown commands, and commands the server does not implement.
    let e = qmp_error(qmp.execute_value("no-such-command", None).await.unwrap_err());
    assert_eq!(e.class, ErrorClass::CommandNotFound);
    assert_eq!(e.desc, "The command no-such-command has not been found");
    let e = qmp_error(qmp.execute::<client::StopCommand>(&NoArguments {}).await.unwrap_err());
    assert_eq!(e.class, ErrorClass::CommandNotFound);

    // A wrongly typed argument: the error names the member, in QEMU's words.
    let e = qmp_error(qmp.execute_value("set-speed", Some(json!({"speed": "fast"}))).await.unwrap_err());
    assert_eq!(e.class, ErrorClass::GenericError);
    assert_eq!(e.desc, "Parameter 'speed' expects uint64");
    let e = qmp_error(qmp.execute_value("set-speed", Some(json!({"speed": 1, "burst": 0.5}))).await.unwrap_err());
    assert_eq!(e.desc, "Parameter 'burst' expects uint64");
    // A negative uint64 is taken as its two's complement, as QEMU takes it.
    qmp.execute_value("set-speed", Some(json!({"speed": 1, "burst": -1}))).await.unwrap();
    assert_eq!(*machine.speed.lock().unwrap(), Some((1, Some(u64::MAX))));
    let e = qmp_error(qmp.execute_value("list-names", Some(json!({}))).await.unwrap_err());
    assert_eq!(e.desc, "Parameter 'pattern' is missing");
    // The connection survives every error.
    let v: Value = qmp.execute_value("query-status", None).await.unwrap();
    assert_eq!(v["running"], true);

    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
