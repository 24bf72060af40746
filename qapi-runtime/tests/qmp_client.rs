//! The async client against this crate's server: typed commands, typed
//! errors, events that are never lost, many calls in flight.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{start, start_with};
use qapi_runtime::client::{event_data, Client, ClientError};
use qapi_runtime::server::Listening;
use qapi_runtime::{Command, CommandFlags, Empty, ErrorClass, Event, NoArguments};
use serde::{Deserialize, Serialize};
use serde_json::json;

struct QueryStatus;
#[derive(Debug, Deserialize, Serialize, PartialEq)]
struct StatusInfo {
    status: String,
    running: bool,
}
impl Command for QueryStatus {
    const NAME: &'static str = "query-status";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = NoArguments;
    type Returns = StatusInfo;
}

struct Add;
#[derive(Serialize, Deserialize)]
struct AddArgs {
    a: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    b: Option<i64>,
}
impl Command for Add {
    const NAME: &'static str = "add";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = AddArgs;
    type Returns = i64;
}

struct Sleep;
#[derive(Serialize, Deserialize)]
struct SleepArgs {
    ms: u64,
}
impl Command for Sleep {
    const NAME: &'static str = "sleep";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = SleepArgs;
    type Returns = Empty;
}

struct EmitEvent;
#[derive(Serialize, Deserialize)]
struct EmitArgs {
    name: String,
    count: u32,
    data: serde_json::Value,
}
impl Command for EmitEvent {
    const NAME: &'static str = "emit-event";
    const FLAGS: CommandFlags = CommandFlags::DEFAULT;
    type Arguments = EmitArgs;
    type Returns = Empty;
}

struct OobPing;
impl Command for OobPing {
    const NAME: &'static str = "oob-ping";
    const FLAGS: CommandFlags = CommandFlags { allow_oob: true, ..CommandFlags::DEFAULT };
    type Arguments = NoArguments;
    type Returns = String;
}

struct NoReply;
impl Command for NoReply {
    const NAME: &'static str = "no-reply";
    const FLAGS: CommandFlags = CommandFlags { success_response: false, ..CommandFlags::DEFAULT };
    type Arguments = NoArguments;
    type Returns = Empty;
}

struct Tick;
#[derive(Debug, Serialize, Deserialize)]
struct TickData {
    n: u64,
}
impl Event for Tick {
    const NAME: &'static str = "TICK";
    type Data = TickData;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_commands_and_errors() {
    let t = start().await;
    let client = Client::connect_unix(&t.socket).await.unwrap();
    assert_eq!(client.greeting().qmp.capabilities, ["oob"]);
    assert_eq!(client.greeting().qmp.version["package"], "qapi-runtime-test");
    let status = client.execute::<QueryStatus>(&NoArguments {}).await.unwrap();
    assert_eq!(status, StatusInfo { status: "running".into(), running: true });
    assert_eq!(client.execute::<Add>(&AddArgs { a: 40, b: Some(2) }).await.unwrap(), 42);
    // Errors are values with their class.
    let e = client.execute::<Add>(&AddArgs { a: 1, b: Some(300) }).await.unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::GenericError));
    let ClientError::Qmp(err) = &e else { panic!("{e:?}") };
    assert_eq!(err.desc, "Parameter 'b' expects uint8_t");
    let e = client.execute_value("nope", None).await.unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::CommandNotFound));
    let e = client.execute_value("fail", None).await.unwrap_err();
    assert_eq!(e.class(), Some(&ErrorClass::DeviceNotFound));
    // The session goes on.
    assert!(client.execute::<QueryStatus>(&NoArguments {}).await.unwrap().running);
    // A command without a success response is not waited for.
    client.execute::<NoReply>(&NoArguments {}).await.unwrap();
    assert_eq!(client.execute::<Add>(&AddArgs { a: 1, b: None }).await.unwrap(), 1);
    // exec-oob is refused until oob is enabled.
    let e = client.execute_oob::<OobPing>(&NoArguments {}).await.unwrap_err();
    assert_eq!(e.to_string(), "GenericError: QMP input member 'exec-oob' is unexpected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_and_oob() {
    let t = start().await;
    let Listening::Tcp(addr) = t.server.listen_loopback(0).await.unwrap() else { panic!() };
    let client = Arc::new(Client::builder().oob(true).connect_tcp(addr).await.unwrap());
    let slow = {
        let c = client.clone();
        tokio::spawn(async move { c.execute::<Sleep>(&SleepArgs { ms: 300 }).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    assert_eq!(client.execute_oob::<OobPing>(&NoArguments {}).await.unwrap(), "pong");
    assert!(started.elapsed() < Duration::from_millis(200), "oob waited for the in-band command");
    slow.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_never_lost() {
    let t = start().await;
    let client = Arc::new(Client::connect_unix(&t.socket).await.unwrap());
    // Events arriving while a command is pending (emitted by the command
    // itself, before its reply) are all kept.
    client.execute::<EmitEvent>(&EmitArgs { name: "TICK".into(), count: 500, data: json!({"n": 7}) }).await.unwrap();
    // And events emitted from elsewhere while a slow command is pending.
    let sink = t.server.events();
    let slow = {
        let c = client.clone();
        tokio::spawn(async move { c.execute::<Sleep>(&SleepArgs { ms: 200 }).await })
    };
    for n in 0..500u64 {
        sink.emit_value("TICK", Some(json!({"n": n})));
    }
    slow.await.unwrap().unwrap();
    let mut seen = 0;
    while seen < 1000 {
        let ev = tokio::time::timeout(Duration::from_secs(5), client.next_event()).await.unwrap().unwrap();
        let data = event_data::<Tick>(&ev).unwrap().unwrap();
        if seen < 500 {
            assert_eq!(data.n, 7);
        } else {
            assert_eq!(data.n, seen - 500);
        }
        seen += 1;
    }
    assert!(client.try_next_event().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_calls_in_flight() {
    let t = start().await;
    let client = Arc::new(Client::connect_unix(&t.socket).await.unwrap());
    let mut tasks = Vec::new();
    for task in 0..16i64 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..200i64 {
                let a = task * 1000 + i;
                assert_eq!(c.execute::<Add>(&AddArgs { a, b: Some(1) }).await.unwrap(), a + 1);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_connection_fails_pending_calls() {
    let t = start_with(common::config()).await;
    let client = Arc::new(Client::connect_unix(&t.socket).await.unwrap());
    let pending = {
        let c = client.clone();
        tokio::spawn(async move { c.execute::<Sleep>(&SleepArgs { ms: 200 }).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Shutdown answers the sleep, then closes.
    t.server.shutdown().await;
    pending.await.unwrap().unwrap();
    let e = client.execute::<QueryStatus>(&NoArguments {}).await.unwrap_err();
    assert!(matches!(e, ClientError::Closed | ClientError::Io(_)), "{e:?}");
    assert!(client.next_event().await.is_none());
}

/// The blocking client, from a thread with no async runtime: the same
/// typed calls, errors and events.
#[test]
fn blocking_client_has_the_same_api() {
    use qapi_runtime::client::BlockingClient;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let t = rt.block_on(start());
    let client = BlockingClient::connect_unix(&t.socket).unwrap();
    assert_eq!(client.greeting().qmp.version["package"], "qapi-runtime-test");
    let status = client.execute::<QueryStatus>(&NoArguments {}).unwrap();
    assert_eq!(status, StatusInfo { status: "running".into(), running: true });
    assert_eq!(client.execute::<Add>(&AddArgs { a: 40, b: Some(2) }).unwrap(), 42);
    let e = client.execute::<Add>(&AddArgs { a: 1, b: Some(300) }).unwrap_err();
    assert_eq!(e.to_string(), "GenericError: Parameter 'b' expects uint8_t");
    assert_eq!(client.execute_value("nope", None).unwrap_err().class(), Some(&ErrorClass::CommandNotFound));
    // Events emitted between calls wait for the client.
    let args = EmitArgs { name: "TICK".into(), count: 3, data: json!({"n": 7}) };
    client.execute::<EmitEvent>(&args).unwrap();
    for _ in 0..3 {
        let ev = client.next_event(Duration::from_secs(5)).expect("an event");
        assert_eq!(event_data::<Tick>(&ev).unwrap().unwrap().n, 7);
    }
    assert!(client.next_event(Duration::from_millis(100)).is_none());
    // From several threads at once.
    std::thread::scope(|s| {
        for a in 0..4 {
            let client = &client;
            s.spawn(move || assert_eq!(client.execute::<Add>(&AddArgs { a, b: Some(1) }).unwrap(), a + 1));
        }
    });
    // With oob.
    let oob = BlockingClient::connect_unix_with(Client::builder().oob(true), &t.socket).unwrap();
    assert_eq!(oob.execute_oob::<OobPing>(&NoArguments {}).unwrap(), "pong");
    client.close().unwrap();
    rt.block_on(t.server.shutdown());
}
