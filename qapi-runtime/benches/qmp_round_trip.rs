//! QMP round trips per second over a unix socket (`cargo bench -p
//! qapi-runtime`): a raw echo baseline, the server with one request in
//! flight and pipelined (a minimal blocking client), the crate's async
//! client, and a real QEMU when `qemu-system-x86_64` is on the PATH.
//! Prints the median of several samples for each.

#[path = "../tests/common/machine.rs"]
mod machine;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use qapi_runtime::server::{Server, ServerConfig, VersionInfo};

const SAMPLES: usize = 7;

/// A minimal blocking client: writes requests, counts CRLF-terminated
/// replies.
struct Minimal {
    stream: UnixStream,
    buf: Vec<u8>,
    filled: usize,
}

impl Minimal {
    fn connect(path: &Path, negotiate: bool) -> Minimal {
        let stream = UnixStream::connect(path).expect("connect");
        let mut m = Minimal { stream, buf: vec![0; 1 << 16], filled: 0 };
        if negotiate {
            m.lines(1); // greeting
            m.stream.write_all(b"{\"execute\": \"qmp_capabilities\"}").expect("write");
            m.lines(1);
        }
        m
    }

    /// Reads until `n` line ends have arrived.
    fn lines(&mut self, mut n: usize) {
        while n > 0 {
            if let Some(pos) = self.buf[..self.filled].iter().position(|&b| b == b'\n') {
                self.buf.copy_within(pos + 1..self.filled, 0);
                self.filled -= pos + 1;
                n -= 1;
                continue;
            }
            let r = self.stream.read(&mut self.buf[self.filled..]).expect("read");
            assert!(r > 0, "connection closed");
            self.filled += r;
        }
    }

    /// One request at a time: round trips per second.
    fn one_at_a_time(&mut self, request: &[u8], count: usize) -> f64 {
        let start = Instant::now();
        for _ in 0..count {
            self.stream.write_all(request).expect("write");
            self.lines(1);
        }
        count as f64 / start.elapsed().as_secs_f64()
    }

    /// `window` requests in flight: round trips per second.
    fn pipelined(&mut self, request: &[u8], count: usize, window: usize) -> f64 {
        let batch: Vec<u8> = request.repeat(window);
        let start = Instant::now();
        for _ in 0..count / window {
            self.stream.write_all(&batch).expect("write");
            self.lines(window);
        }
        (count / window * window) as f64 / start.elapsed().as_secs_f64()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn report(name: &str, samples: Vec<f64>) {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(0.0, f64::max);
    println!("{name:<48} median {:>9.0} round trips/s   (min {min:.0}, max {max:.0})", median(samples));
}

fn bench(name: &str, mut f: impl FnMut() -> f64) {
    f(); // warm-up
    report(name, (0..SAMPLES).map(|_| f()).collect());
}

fn find_qemu() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("qemu-system-x86_64")).find(|p| p.is_file())
}

fn main() {
    // `cargo test --benches` runs benches with --bench absent: keep it short.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = if quick { 200 } else { 20_000 };
    let dir = std::env::temp_dir().join(format!("qmp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let qmp_sock = dir.join("qmp.sock");
    let echo_sock = dir.join("echo.sock");

    let flavor = std::env::var("QMP_BENCH_RUNTIME").unwrap_or_else(|_| "current".into());
    let rt = if flavor == "multi" {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    };
    let server = rt.block_on(async {
        let machine = machine::Machine::new();
        let server = Server::new(machine.clone(), ServerConfig::new().version(VersionInfo::new(10, 0, 0, "bench")));
        machine.attach(server.events());
        server.listen_unix(&qmp_sock).await.expect("listen");
        // Baseline: a tokio unix-socket echo server.
        let echo = tokio::net::UnixListener::bind(&echo_sock).expect("bind echo");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = vec![0u8; 1 << 16];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        server
    });
    // A current-thread runtime needs a thread of its own to drive it.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let rt = std::sync::Arc::new(rt);
    let driver = {
        let rt = rt.clone();
        std::thread::spawn(move || rt.block_on(async { stop_rx.await.ok() }))
    };

    let request = b"{\"execute\": \"query-status\", \"id\": 1}";
    // The protocol core alone: parse, check, dispatch, format.
    {
        let mut session = qapi_runtime::server::Session { negotiated: true, oob: false };
        let mut reader = qapi_runtime::stream::JsonStream::new(Default::default());
        let (mut msgs, mut out) = (Vec::new(), Vec::new());
        bench("core: parse + dispatch + format (no I/O)", || {
            let start = Instant::now();
            for _ in 0..n * 10 {
                reader.feed(request, &mut msgs);
                for m in msgs.drain(..) {
                    server.handle(&mut session, m, &mut out);
                }
                out.clear();
            }
            (n * 10) as f64 / start.elapsed().as_secs_f64()
        });
    }
    println!(
        "QMP round trips over a unix socket ({SAMPLES} samples of {n}; server on a {flavor}-thread tokio runtime)"
    );
    let mut echo = Minimal::connect(&echo_sock, false);
    bench("baseline: tokio echo, one at a time", || echo.one_at_a_time(b"{\"return\": {}, \"id\": 1}\r\n", n));
    let mut m = Minimal::connect(&qmp_sock, true);
    bench("server: query-status, one at a time", || m.one_at_a_time(request, n));
    bench("server: query-status, pipelined (64 in flight)", || m.pipelined(request, n * 4, 64));

    let client_rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    client_rt.block_on(async {
        let client = qapi_runtime::client::Client::connect_unix(&qmp_sock).await.expect("client");
        let mut samples = Vec::new();
        for i in 0..=SAMPLES {
            let start = Instant::now();
            for _ in 0..n {
                client.execute_value("query-status", None).await.expect("query-status");
            }
            if i > 0 {
                samples.push(n as f64 / start.elapsed().as_secs_f64());
            }
        }
        report("server + async Client, one at a time", samples);
    });

    match find_qemu() {
        Some(qemu) if !quick => {
            let sock = dir.join("qemu.sock");
            let mut child = std::process::Command::new(qemu)
                .args(["-machine", "none", "-nodefaults", "-display", "none", "-qmp"])
                .arg(format!("unix:{},server=on,wait=off", sock.display()))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start QEMU");
            let deadline = Instant::now() + Duration::from_secs(20);
            while !sock.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let mut q = Minimal::connect(&sock, true);
            bench("real QEMU: query-status, one at a time", || q.one_at_a_time(request, n / 4));
            bench("real QEMU: query-status, pipelined (64 in flight)", || q.pipelined(request, n, 64));
            let _ = child.kill();
            let _ = child.wait();
        }
        Some(_) => {}
        None => println!("real QEMU: skipped (qemu-system-x86_64 not on the PATH)"),
    }

    let _ = stop_tx.send(());
    let _ = driver.join();
    rt.block_on(server.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
}
