//! What the server and the client log through `tracing`: connections
//! opening and closing, input refused, events a slow client loses, a
//! server that breaks the protocol. The library installs no subscriber;
//! this test installs one that keeps every line.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{config, start_with, Raw};

/// Everything logged in this process, one line per event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        capture
    })
}

/// The lines logged so far that mention `needle`.
fn lines_with(needle: &str) -> Vec<String> {
    let bytes = logs().0.lock().unwrap().clone();
    String::from_utf8_lossy(&bytes).lines().filter(|l| l.contains(needle)).map(str::to_owned).collect()
}

/// Waits up to 5 s for a line that mentions `needle` and `what`.
async fn expect_line(needle: &str, what: &str) -> String {
    for _ in 0..100 {
        if let Some(l) = lines_with(needle).into_iter().find(|l| l.contains(what)) {
            return l;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no log line with {what:?} for {needle}; logged:\n{}", lines_with(needle).join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_and_refused_input_are_logged() {
    logs();
    let t = start_with(config()).await;
    let peer = t.socket.display().to_string();
    expect_line(&peer, "INFO").await.contains("QMP server listening");
    let mut c = Raw::negotiated(&t.socket, false).await;
    expect_line(&peer, "QMP client connected").await;
    c.send(r#"{"execute": @}"#).await;
    c.msg().await;
    c.msg().await;
    let l = expect_line(&peer, "QMP input is not valid JSON").await;
    assert!(l.contains("DEBUG") && l.contains("stray '@'"), "{l}");
    // The reader starts afresh at the bracket over the limit (as QEMU).
    c.send("[".repeat(1025)).await;
    c.expect_error("GenericError", "JSON nesting depth limit exceeded").await;
    let l = expect_line(&peer, "over the JSON limits").await;
    assert!(l.contains("INFO") && l.contains("nesting depth"), "{l}");
    c.send(r#"{"id": 1}"#).await;
    c.expect_error("GenericError", "QMP input lacks member 'execute'").await;
    expect_line(&peer, "malformed QMP request").await;
    drop(c);
    expect_line(&peer, "QMP client disconnected").await;
    t.server.shutdown().await;
    expect_line(&peer, "QMP listener closed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_a_slow_client_loses_are_logged_and_counted() {
    logs();
    let t = start_with(config().reply_queue(64 << 10)).await;
    let peer = t.socket.display().to_string();
    let mut slow = Raw::negotiated(&t.socket, false).await;
    // Far more event bytes than the socket buffers and the reply queue
    // hold, not read while they are sent.
    let sink = t.server.events();
    let data = serde_json::json!({ "pad": "z".repeat(64 * 1024) });
    for _ in 0..200 {
        sink.emit_value("BIG", Some(data.clone()));
        tokio::task::yield_now().await;
    }
    let l = expect_line(&peer, "events lost").await;
    assert!(l.contains("WARN") && l.contains("not reading"), "{l}");
    // Reading again, it gets the next event, and the loss is summed up.
    while slow.try_line(Duration::from_millis(300)).await.is_some() {}
    sink.emit_value("AFTER", None);
    assert!(slow.line().await.contains("AFTER"));
    let l = expect_line(&peer, "reading again").await;
    let lost = t.server.stats().events_lost;
    assert!(lost > 100, "{lost}");
    assert!(l.contains(&format!("lost={lost}")), "{l}");
    t.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_logs_what_the_server_got_wrong() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    logs();
    let (ours, theirs) = tokio::io::duplex(4096);
    let server = tokio::spawn(async move {
        let (mut rd, mut wr) = tokio::io::split(theirs);
        wr.write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n").await.unwrap();
        let mut buf = [0u8; 256];
        let n = rd.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"{\"execute\":\"qmp_capabilities\""));
        wr.write_all(b"{\"return\": {}, \"id\": 0}\r\n{\"x-log-test\": @}\r\n{\"x-log-test\": 1}\r\n").await.unwrap();
    });
    let client = qapi_runtime::client::Client::builder().connect(ours).await.unwrap();
    server.await.unwrap();
    assert!(client.next_event().await.is_none(), "the connection closed");
    let l = expect_line("QMP server sent bad JSON", "stray '@'").await;
    assert!(l.contains("WARN"), "{l}");
    expect_line("QMP server sent a message QMP does not allow", "WARN").await;
    expect_line("QMP server closed the connection", "DEBUG").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_beyond_loopback_is_a_warning() {
    logs();
    let server = qapi_runtime::server::Server::new(common::Machine::new(), config().allow_non_loopback(true));
    let qapi_runtime::server::Listening::Tcp(addr) = server.listen_tcp("0.0.0.0:0".parse().unwrap()).await.unwrap()
    else {
        panic!("not tcp")
    };
    let l = expect_line(&format!("addr=0.0.0.0:{}", addr.port()), "non-loopback").await;
    assert!(l.contains("WARN") && l.contains("QMP has no authentication"), "{l}");
    server.shutdown().await;
}
