//! The client API generated code adds to the runtime's clients: a method
//! per command (`Commands`, `BlockingCommands`) on the async and blocking
//! QMP clients, against the golden `commands` schema's server behind a
//! unix socket and against a test double; the `COMMANDS` and `EVENTS`
//! tables; `new()`.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use qapi_runtime::client::{BlockingClient, Client, ClientError};
use qapi_runtime::server::{Server, ServerConfig};
use qapi_runtime::{ArgumentsKind, BlockingExecute, Command, Empty, Error, ErrorClass, Execute};
use qapi_tests::golden::commands::{self as client, BlockingCommands as _, Commands as _};
use qapi_tests::golden::commands_server as server;
use serde_json::{json, Value};

/// A server implementing some of the schema's commands, remembering the
/// arguments of `reset`.
#[derive(Default)]
struct Machine {
    speed: Mutex<Option<(u64, Option<u64>)>>,
    resets: Mutex<Vec<(Option<bool>, Option<u32>)>>,
}

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
        Ok(vec![server::Name { name: arguments.pattern }])
    }

    fn reset(&self, arguments: server::ResetArguments) -> Result<server::Status, Error> {
        self.0.resets.lock().unwrap().push((arguments.hard, arguments.delay));
        Ok(server::Status { running: false, uptime: 0 })
    }
}

/// A running server of the golden schema and its socket.
struct Running {
    server: Server,
    machine: Arc<Machine>,
    dir: PathBuf,
    socket: PathBuf,
}

async fn start(name: &str) -> Running {
    let machine = Arc::new(Machine::default());
    let dispatcher = Arc::new(server::CommandDispatcher(Handle(machine.clone())));
    let server = Server::new(dispatcher, ServerConfig::new().schema(server::qmp_schema()));
    let dir = std::env::temp_dir().join(format!("qapi-tests-client-api-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let socket = dir.join("qmp.sock");
    server.listen_unix(&socket).await.unwrap();
    Running { server, machine, dir, socket }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[tokio::test(flavor = "current_thread")]
async fn a_method_per_command_on_the_async_client() {
    let t = start("async").await;
    let qmp = Client::connect_unix(&t.socket).await.unwrap();

    // No arguments; required ones (the arguments type, built by `new()`).
    assert_eq!(qmp.query_status().await.unwrap(), client::Status { running: true, uptime: 0 });
    assert_eq!(qmp.set_speed(&client::SetSpeedArguments::new(1 << 20)).await.unwrap(), Empty {});
    assert_eq!(*t.machine.speed.lock().unwrap(), Some((1 << 20, None)));
    let names = qmp.list_names(&client::ListNamesArguments::new("disk*")).await.unwrap();
    assert_eq!(names, [client::Name::new("disk*")]);

    // Arguments all optional: none sent, or some.
    assert!(!qmp.reset(None).await.unwrap().running);
    let args = client::ResetArguments { hard: Some(true), ..Default::default() };
    qmp.reset(&args).await.unwrap();
    assert_eq!(*t.machine.resets.lock().unwrap(), [(None, None), (Some(true), None)]);

    // Errors as `execute` gives them.
    match qmp.stop().await {
        Err(ClientError::Qmp(e)) => assert_eq!(e.class, ErrorClass::CommandNotFound),
        other => panic!("{other:?}"),
    }

    // The futures are `Send`: calls run in spawned tasks.
    let qmp = Arc::new(qmp);
    let shared = qmp.clone();
    let task = tokio::spawn(async move { assert_send(shared.query_status()).await });
    assert_eq!(task.await.unwrap().unwrap().uptime, 1 << 20);

    t.server.shutdown().await;
    let _ = std::fs::remove_dir_all(&t.dir);
}

#[test]
fn a_method_per_command_on_the_blocking_client() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let t = rt.block_on(start("blocking"));
    let qmp = BlockingClient::connect_unix(&t.socket).unwrap();
    qmp.set_speed(&client::SetSpeedArguments { burst: Some(7), ..client::SetSpeedArguments::new(3) }).unwrap();
    assert_eq!(qmp.query_status().unwrap().uptime, 3);
    assert_eq!(*t.machine.speed.lock().unwrap(), Some((3, Some(7))));
    qmp.reset(&client::ResetArguments { delay: Some(5), hard: None }).unwrap();
    assert_eq!(*t.machine.resets.lock().unwrap(), [(None, Some(5))]);
    qmp.close().unwrap();
    rt.block_on(t.server.shutdown());
    let _ = std::fs::remove_dir_all(&t.dir);
}

/// A test double: records each command's name and arguments, answers
/// what `reply` says.
struct Recorder {
    sent: Mutex<Vec<(&'static str, Value)>>,
    reply: Value,
}

impl Recorder {
    fn new(reply: Value) -> Self {
        Recorder { sent: Mutex::new(Vec::new()), reply }
    }

    fn run<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, qapi_runtime::decode::DecodeError> {
        self.sent.lock().unwrap().push((C::NAME, serde_json::to_value(arguments).unwrap()));
        qapi_runtime::decode::from_value(&self.reply)
    }
}

impl Execute for Recorder {
    type Error = qapi_runtime::decode::DecodeError;

    fn execute<C: Command>(
        &self,
        arguments: &C::Arguments,
    ) -> impl Future<Output = Result<C::Returns, Self::Error>> + Send {
        std::future::ready(self.run::<C>(arguments))
    }
}

impl BlockingExecute for Recorder {
    type Error = qapi_runtime::decode::DecodeError;

    fn execute<C: Command>(&self, arguments: &C::Arguments) -> Result<C::Returns, Self::Error> {
        self.run::<C>(arguments)
    }
}

#[tokio::test(flavor = "current_thread")]
async fn methods_run_on_any_execute() {
    use client::{BlockingCommands, Commands};
    // The double implements both traits, so its calls name the trait.
    let r = Recorder::new(json!({"running": true, "uptime": 9}));
    assert_eq!(Commands::query_status(&r).await.unwrap().uptime, 9);
    Commands::reset(&r, None).await.unwrap();
    Commands::reset(&r, &client::ResetArguments { hard: Some(false), delay: Some(1) }).await.unwrap();
    BlockingCommands::reset(&r, None).unwrap();
    BlockingCommands::query_status(&r).unwrap();
    let sent = r.sent.lock().unwrap().clone();
    assert_eq!(
        sent,
        [
            ("query-status", json!({})),
            ("reset", json!({})),
            ("reset", json!({"hard": false, "delay": 1})),
            ("reset", json!({})),
            ("query-status", json!({})),
        ]
    );
    // A reply that does not decode is the implementation's error.
    let bad = Recorder::new(json!({"running": "yes"}));
    let e = Commands::query_status(&bad).await.unwrap_err();
    assert_eq!(e.to_string(), "Invalid parameter type for 'running', expected: boolean");
}

#[test]
fn commands_and_events_by_wire_name() {
    let wire: Vec<&str> = client::COMMANDS.iter().map(|c| c.name).collect();
    assert_eq!(
        wire,
        ["stop", "query-status", "set-speed", "list-names", "watch", "fire-and-forget", "add-device", "reset"]
    );
    let c = client::command("set-speed").unwrap();
    assert_eq!((c.rust_name, c.arguments), ("SetSpeedCommand", ArgumentsKind::Required));
    assert_eq!(c.flags, <client::SetSpeedCommand as Command>::FLAGS);
    assert_eq!(client::command("reset").unwrap().arguments, ArgumentsKind::Optional);
    assert_eq!(client::command("stop").unwrap().arguments, ArgumentsKind::None);
    assert_eq!(client::command("watch").unwrap().arguments, ArgumentsKind::Required, "a boxed struct");
    assert!(!client::command("fire-and-forget").unwrap().flags.success_response);
    assert!(client::command("watch").unwrap().flags.allow_oob);
    assert_eq!(client::command("no-such-command"), None);
    // The server module has the same table.
    assert_eq!(server::COMMANDS, client::COMMANDS);

    use qapi_tests::golden::events;
    let names: Vec<(&str, &str, bool)> = events::EVENTS.iter().map(|e| (e.name, e.rust_name, e.has_data)).collect();
    assert_eq!(
        names,
        [
            ("RESUMED", "ResumedEvent", false),
            ("SPEED_CHANGED", "SpeedChangedEvent", true),
            ("MOVED", "MovedEvent", true)
        ]
    );
    assert_eq!(events::event("MOVED").map(|e| e.rust_name), Some("MovedEvent"));
    assert_eq!(events::event("moved"), None, "wire names are exact");
}

#[test]
fn deprecated_and_unstable_are_flagged() {
    use qapi_tests::golden::features;
    for spec in features::COMMANDS {
        let command = features::command(spec.name).unwrap();
        assert_eq!(command, spec);
    }
    assert!(features::COMMANDS.iter().any(|c| c.deprecated), "features.json has a deprecated command");
    assert!(features::COMMANDS.iter().any(|c| c.unstable), "features.json has an unstable command");
}

#[test]
fn new_takes_the_required_members() {
    use qapi_tests::golden::structs::{Point, Polygon};
    assert_eq!(Point::new(1, 2), Point { x: 1, y: 2 });
    // Strings as anything that becomes one; optional members absent.
    let p = Polygon::new("tri", vec![Point::new(0, 0)], 3);
    assert_eq!((p.name.as_str(), p.corners.len(), p.r#type), ("tri", 1, 3));
    assert_eq!((p.id, p.filled, p.label), (None, None, None));
    // `'gen': false` arguments start with no extra member.
    let d = client::AddDeviceArguments::new(String::from("e1000"));
    assert_eq!((d.driver.as_str(), d.id, d.additional.len()), ("e1000", None, 0));
    // Every member optional: `Default` instead.
    assert_eq!(client::ResetArguments::default(), client::ResetArguments { hard: None, delay: None });
}
