//! A demo QMP server with the test machine's commands, to try with any
//! QMP client (`qmp-shell`, `socat`, the crate's own client):
//!
//! ```sh
//! cargo run -p qapi-runtime --example qmp_demo_server -- unix:/tmp/qmp.sock tcp::4444
//! qmp-shell /tmp/qmp.sock
//! ```
//!
//! Commands: `query-status`, `echo`, `add a=1 b=2`, `sleep ms=100`,
//! `oob-ping` (out of band), `no-reply`, `emit-event name=X`, `fail`,
//! `stop`, and the built-ins. A `HEARTBEAT` event goes out every 10 s.
//! Ctrl-C shuts down gracefully.

#[path = "../tests/common/machine.rs"]
mod machine;

use std::time::Duration;

use qapi_runtime::server::{ListenAddr, Server, ServerConfig, VersionInfo};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut addrs: Vec<ListenAddr> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    if addrs.is_empty() {
        addrs.push("unix:qmp-demo.sock".parse()?);
    }
    let machine = machine::Machine::new();
    let config = ServerConfig::new().version(VersionInfo::new(10, 0, 0, "qapi-runtime demo"));
    let server = Server::new(machine.clone(), config);
    machine.attach(server.events());
    for addr in &addrs {
        println!("listening on {:?}", server.listen(addr).await?);
    }
    let events = server.events();
    let heartbeat = tokio::spawn(async move {
        let mut n = 0u64;
        loop {
            tokio::time::sleep(Duration::from_secs(10)).await;
            n += 1;
            events.emit_value("HEARTBEAT", Some(serde_json::json!({ "n": n })));
        }
    });
    tokio::signal::ctrl_c().await?;
    heartbeat.abort();
    println!("shutting down");
    server.shutdown().await;
    Ok(())
}
