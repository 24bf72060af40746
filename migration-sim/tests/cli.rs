//! The `migration-sim` command line: `run` with its defaults, JSON output,
//! the plot, scenario-file errors, the shipped example scenarios, `sweep`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// RAM members only the source can fill (the seed made them optional).
const SOURCE_ONLY: [&str; 8] = [
    "dirty-pages-rate",
    "dirty-sync-count",
    "postcopy-requests",
    "multifd-bytes",
    "precopy-bytes",
    "downtime-bytes",
    "postcopy-bytes",
    "dirty-sync-missed-zero-copy",
];

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migration-sim")).args(args).output().expect("migration-sim runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("UTF-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("UTF-8 stderr")
}

/// A scratch file under cargo's per-test-target temporary directory.
fn scratch(name: &str, contents: Option<&str>) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    if let Some(c) = contents {
        std::fs::write(&path, c).expect("write scratch file");
    }
    path
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// The JSON document printed after `header` in `run`'s text output.
fn section_json(out: &str, header: &str) -> Value {
    let start = out.find(header).unwrap_or_else(|| panic!("no '{header}' in:\n{out}")) + header.len();
    let rest = &out[start..];
    let end = rest.find("\n\n==").unwrap_or(rest.len());
    serde_json::from_str(&rest[..end]).unwrap_or_else(|e| panic!("{header}: {e}\n{}", &rest[..end]))
}

fn assert_source_completed(src: &Value) {
    assert_eq!(src["status"], "completed", "{src:#}");
    let ram = src["ram"].as_object().expect("source ram");
    for m in SOURCE_ONLY {
        assert!(ram.contains_key(m), "source ram lacks {m}");
    }
    assert_eq!(ram["remaining"], 0);
    assert!(src["downtime"].as_i64().expect("downtime") > 0);
    assert!(!src["device-state-times"].as_array().expect("device-state-times").is_empty());
}

fn assert_destination_completed(dst: &Value, src: &Value) {
    assert_eq!(dst["status"], "completed", "{dst:#}");
    let ram = dst["ram"].as_object().expect("destination ram");
    for m in SOURCE_ONLY {
        assert!(!ram.contains_key(m), "destination ram has the source-only member {m}");
    }
    assert_eq!(ram["remaining"], 0);
    assert_eq!(ram["total"], src["ram"]["total"]);
    assert_eq!(ram["transferred"], src["ram"]["transferred"]);
    assert!(dst["total-time"].as_i64().expect("total-time") > 0);
    assert!(dst.get("device-state-times").is_none());
}

#[test]
fn run_with_defaults_prints_both_sides_device_times_and_hmp() {
    let o = sim(&["run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let src = section_json(&out, "== source: query-migrate\n");
    let dst = section_json(&out, "== destination: query-migrate\n");
    assert_source_completed(&src);
    assert_destination_completed(&dst, &src);
    // The default guest is the 8 GiB PC of the presets.
    assert!(src["ram"]["total"].as_i64().expect("total") >= 8 << 30);

    // The device table: every entry of device-state-times, costliest first.
    let table_start = out.find("== device save times").expect("device table");
    let table: Vec<(u64, String)> = out[table_start..]
        .lines()
        .skip(2)
        .take_while(|l| !l.contains("total of"))
        .map(|l| {
            let mut f = l.split_whitespace();
            let t = f.next().expect("time").parse().expect("µs");
            (t, f.next().expect("name").to_string())
        })
        .collect();
    let entries = src["device-state-times"].as_array().expect("list");
    assert_eq!(table.len(), entries.len());
    assert!(table.windows(2).all(|w| w[0].0 >= w[1].0), "not sorted by cost: {table:?}");
    let max = entries.iter().map(|e| e["save-time"].as_u64().expect("save-time")).max();
    assert_eq!(Some(table[0].0), max);
    assert!(table.iter().any(|(_, n)| n == "0000:00:01.0/qxl"));

    assert!(out.contains("== source: info migrate\nStatus: \t\tcompleted\n"), "{out}");
    assert!(out.contains("Time (ms): \t\ttotal="));
    assert!(out.contains("VM status: paused (postmigrate)"));
}

#[test]
fn json_output_on_both_engines() {
    for engine in ["aggregate", "bitmap"] {
        let o = sim(&["run", "--json", "--engine", engine]);
        assert!(o.status.success(), "{}", stderr(&o));
        let doc: Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
        assert_eq!(doc["engine"], engine);
        assert_eq!(doc["outcome"]["source-status"], "completed");
        assert_eq!(doc["outcome"]["timed-out"], false);
        assert_source_completed(&doc["source"]);
        assert_destination_completed(&doc["destination"], &doc["source"]);
        let by_cost: Vec<u64> = doc["device-save-times-by-cost"]
            .as_array()
            .expect("list")
            .iter()
            .map(|d| d["save-time"].as_u64().expect("save-time"))
            .collect();
        assert!(by_cost.windows(2).all(|w| w[0] >= w[1]));
        assert!(doc["info-migrate"].as_str().expect("text").starts_with("Status: \t\tcompleted\n"));
    }
}

fn polyline_points(node: &roxmltree::Node<'_, '_>) -> usize {
    node.attribute("points").map_or(0, |p| p.split_whitespace().count())
}

#[test]
fn plot_is_a_well_formed_svg_with_the_series_and_device_bars() {
    let path = scratch("default.svg", None);
    let _ = std::fs::remove_file(&path);
    let o = sim(&["run", "--plot", path.to_str().expect("UTF-8 path")]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&path).expect("plot written");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");

    let texts: Vec<String> = root
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .collect();
    for want in [
        "Remaining to send",
        "remaining (GiB)",
        "system-wide remaining (RAM + device state)",
        "RAM remaining (ram.remaining)",
        "Throughput and dirty rate",
        "Mbit/s",
        "throughput (ram.mbps)",
        "simulated time (s)",
        "save time (µs, logarithmic scale)",
        "ram",
        "0000:00:01.0/qxl",
        "cpu #3",
    ] {
        assert!(texts.iter().any(|t| t == want), "no text '{want}' in the plot: {texts:?}");
    }
    assert!(texts.iter().any(|t| t.starts_with("switchover: VM stopped (downtime ")));

    // The time series: remaining and the two rates are long polylines
    // (about a thousand samples by default), not a handful of points.
    let long = root.descendants().filter(|n| n.has_tag_name("polyline")).filter(|n| polyline_points(n) >= 500).count();
    assert!(long >= 3, "{long} long polylines");
    // One bar per device section (29 in the default guest: 24 drawn, the
    // rest summed into one), each a filled rectangle.
    let bars = root.descendants().filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#1F77B4")).count();
    assert_eq!(bars, 25);
    assert!(texts.iter().any(|t| t == "5 other sections"));
}

#[test]
fn auto_converge_plot_has_the_throttle_panel() {
    let path = scratch("busy.svg", None);
    let scenario = scenarios_dir().join("busy-auto-converge.toml");
    let o = sim(&[
        "run",
        "--scenario",
        scenario.to_str().expect("UTF-8"),
        "--sample-ms",
        "100",
        "--plot",
        path.to_str().expect("UTF-8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let svg = std::fs::read_to_string(&path).expect("plot written");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed XML");
    let has = |s: &str| doc.descendants().any(|n| n.has_tag_name("text") && n.text().map(str::trim) == Some(s));
    assert!(has("Auto-converge"));
    assert!(has("CPU throttle (%)"));
}

fn bad_scenario(name: &str, body: &str) -> (PathBuf, Output) {
    let path = scratch(name, Some(body));
    let o = sim(&["run", "--scenario", path.to_str().expect("UTF-8")]);
    (path, o)
}

#[test]
fn bad_scenario_files_exit_2_naming_file_line_and_key() {
    let (path, o) = bad_scenario("unknown-key.toml", "seed = 3\n[guest]\nram = \"1 GiB\"\nvcpu = 2\n");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:4:1: guest.vcpu: unknown field `vcpu`", path.display())), "{err}");
    assert!(o.stdout.is_empty());

    let (path, o) =
        bad_scenario("negative.toml", "[guest]\nram = \"1 GiB\"\n[[guest.classes]]\nname = \"a\"\nsize = -4096\n");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:5:", path.display())), "{err}");
    assert!(err.contains("guest.classes[0].size: ") && err.contains("negative"), "{err}");

    let (path, o) =
        bad_scenario("too-big.toml", "[guest]\nram = \"1 GiB\"\n[[guest.classes]]\nname = \"a\"\nsize = \"2 GiB\"\n");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:3:", path.display())) && err.contains(": guest.classes: "), "{err}");

    let (path, o) = bad_scenario("contradiction.toml", "[migration.capabilities]\nmultifd = true\nxbzrle = true\n");
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{}:3:1: migration.capabilities.xbzrle: Multifd is not compatible with xbzrle",
            path.display()
        )),
        "{err}"
    );

    let missing = scratch("does-not-exist.toml", None);
    let _ = std::fs::remove_file(&missing);
    let o = sim(&["run", "--scenario", missing.to_str().expect("UTF-8")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&missing.display().to_string()));
}

#[test]
fn shipped_scenarios_run_as_documented() {
    let expect = [
        ("busy-auto-converge.toml", "completed", 0),
        ("never-converges.toml", "active", 1),
        ("vfio-multifd.toml", "completed", 0),
        ("postcopy.toml", "completed", 0),
        ("postcopy-link-loss.toml", "completed", 0),
    ];
    for (file, status, code) in expect {
        let path = scenarios_dir().join(file);
        let o = sim(&["run", "--json", "--scenario", path.to_str().expect("UTF-8")]);
        assert_eq!(o.status.code(), Some(code), "{file}: {}", stderr(&o));
        let doc: Value = serde_json::from_slice(&o.stdout).expect("JSON");
        assert_eq!(doc["source"]["status"], status, "{file}");
        if file == "vfio-multifd.toml" {
            // The VFIO state is reported apart from RAM.
            assert!(doc["source"]["vfio"]["transferred"].as_i64().expect("vfio") > 1 << 30);
        }
        if file == "postcopy.toml" {
            assert!(doc["source"]["ram"]["postcopy-bytes"].as_u64().expect("postcopy-bytes") > 0);
            assert_eq!(doc["refused-actions"], serde_json::json!([]));
        }
        if code == 1 {
            assert_eq!(doc["outcome"]["timed-out"], true);
        }
        if file == "postcopy-link-loss.toml" {
            // Paused until the resume at 6 s.
            assert!(doc["source"]["total-time"].as_i64().expect("total-time") > 6_000);
        }
    }
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[test]
fn sweep_prints_a_header_and_one_row_per_grid_point() {
    let o = sim(&["sweep", "--ram", "1GiB,2GiB", "--downtime-limit", "300,1000", "--max-bandwidth", "1GiB/s"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // No progress bar when stderr is not a terminal.
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let rows = csv_rows(&stdout(&o));
    assert_eq!(rows.len(), 1 + 4);
    let header = &rows[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    for row in &rows[1..] {
        assert_eq!(row.len(), header.len());
        assert_eq!(row[col("max-bandwidth-bytes-per-s")], (1u64 << 30).to_string());
        assert_eq!(row[col("status")], "completed");
        assert_eq!(row[col("converged")], "true");
        assert!(row[col("downtime-ms")].parse::<u64>().expect("downtime") > 0);
        assert!(row[col("dirty-sync-count")].parse::<u64>().expect("syncs") >= 2);
    }
    let grid: Vec<(String, String)> =
        rows[1..].iter().map(|r| (r[col("ram-bytes")].clone(), r[col("downtime-limit-ms")].clone())).collect();
    let want: Vec<(String, String)> = [(1u64 << 30, 300), (1 << 30, 1000), (2 << 30, 300), (2 << 30, 1000)]
        .iter()
        .map(|(r, d)| (r.to_string(), d.to_string()))
        .collect();
    assert_eq!(grid, want);
    // A larger guest takes longer to migrate at the same bandwidth.
    let t = |i: usize| rows[i][col("total-time-ms")].parse::<u64>().expect("total-time");
    assert!(t(3) > t(1));
}

#[test]
fn sweep_grid_file_to_output_file() {
    let grid = scenarios_dir().join("grid.toml");
    let out = scratch("grid.csv", None);
    let o = sim(&["sweep", "--grid", grid.to_str().expect("UTF-8"), "--jobs", "2", "-o", out.to_str().expect("UTF-8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let rows = csv_rows(&std::fs::read_to_string(&out).expect("CSV written"));
    // 3 RAM sizes × 2 bandwidths × 2 dirty rates × 2 downtime limits.
    assert_eq!(rows.len(), 1 + 24);
    let col = |name: &str| rows[0].iter().position(|h| h == name).expect("column");
    // The busiest guest at QEMU's default bandwidth does not converge; the
    // quiet ones do.
    let converged: Vec<&str> = rows[1..].iter().map(|r| r[col("converged")].as_str()).collect();
    assert!(converged.contains(&"true") && converged.contains(&"false"), "{converged:?}");
    for r in &rows[1..] {
        if r[col("converged")] == "false" {
            assert_eq!(r[col("timed-out")], "true");
            assert_eq!(r[col("status")], "active");
            assert_eq!(r[col("downtime-ms")], "");
        }
    }
}

#[test]
fn sweep_refuses_bad_grids_before_running() {
    let bad = scratch("bad-grid.toml", Some("ram = [\"4 GiB\"]\ndirty-rates = [\"1 MiB/s\"]\n"));
    let o = sim(&["sweep", "--grid", bad.to_str().expect("UTF-8")]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:2:1: dirty-rates: unknown field", bad.display())), "{err}");

    let bad = scratch("bad-size.toml", Some("ram = [\"4 GiB\", \"-1 GiB\"]\n"));
    let o = sim(&["sweep", "--grid", bad.to_str().expect("UTF-8")]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:1:", bad.display())) && err.contains("ram: "), "{err}");
    assert!(err.contains("negative"), "{err}");

    // Grid points are checked as scenarios before anything runs: a RAM size
    // that is not a whole number of pages is refused, naming the key.
    let o = sim(&["sweep", "--ram", "1000000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("guest.ram"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

/// Starts `serve` on two unix sockets in a fresh directory and waits for
/// its start-up lines (stderr).
fn start_serve(name: &str, extra: &[&str]) -> (std::process::Child, PathBuf, String) {
    start_serve_on(name, None, extra)
}

/// [`start_serve`], with the source monitor on `source` when given.
fn start_serve_on(name: &str, source: Option<&str>, extra: &[&str]) -> (std::process::Child, PathBuf, String) {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("msim-cli-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let src = source.map_or_else(|| format!("unix:{}", dir.join("src.sock").display()), str::to_owned);
    let dst = format!("unix:{}", dir.join("dst.sock").display());
    let mut args = vec!["serve", "--qmp", src.as_str(), "--dest-qmp", dst.as_str()];
    args.extend_from_slice(extra);
    let mut child = Command::new(env!("CARGO_BIN_EXE_migration-sim"))
        .args(&args)
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut text = String::new();
    let mut lines = std::io::BufReader::new(child.stderr.take().expect("stderr")).lines();
    for line in lines.by_ref() {
        let line = line.expect("stderr line");
        text.push_str(&line);
        text.push('\n');
        if line.contains("migrate") && line.contains("URI") {
            break;
        }
    }
    // Keep draining stderr so that logging never blocks the server.
    std::thread::spawn(move || lines.for_each(drop));
    (child, dir, text)
}

/// Sends `signal` to `child`, which must exit 0 having removed its sockets.
fn stop_serve(mut child: std::process::Child, dir: &Path, signal: &str) {
    use std::io::{BufRead, Write};
    // A client is connected and has been answered.
    let stream = std::os::unix::net::UnixStream::connect(dir.join("src.sock")).expect("connect");
    let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
    let mut greeting = String::new();
    reader.read_line(&mut greeting).expect("greeting");
    assert!(greeting.contains("\"QMP\""), "{greeting}");
    (&stream).write_all(b"{\"execute\":\"qmp_capabilities\"}\r\n").expect("write");
    let mut reply = String::new();
    reader.read_line(&mut reply).expect("reply");
    assert!(reply.contains("\"return\""), "{reply}");
    let pid = child.id().to_string();
    let killed = Command::new("kill").args([&format!("-{signal}"), pid.as_str()]).status().expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("exit");
    assert_eq!(status.code(), Some(0), "{signal}");
    assert!(!dir.join("src.sock").exists() && !dir.join("dst.sock").exists(), "{signal}: sockets left");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_prints_the_migrate_uri_and_stops_cleanly_on_every_signal() {
    for signal in ["TERM", "HUP", "INT"] {
        let (child, dir, text) = start_serve(signal, &[]);
        assert!(text.contains("listens on tcp:192.0.2.2:4444: give that URI to the source's migrate"), "{text}");
        // The log (tracing, RUST_LOG=info) names both monitors.
        assert_eq!(text.matches("QMP monitor listening").count(), 2, "{text}");
        stop_serve(child, &dir, signal);
    }
    let (child, dir, text) = start_serve("defer", &["--defer-incoming"]);
    assert!(text.contains("once given migrate-incoming"), "{text}");
    stop_serve(child, &dir, "TERM");
}

#[test]
fn serve_refuses_one_socket_for_both_monitors() {
    let dir = std::env::temp_dir().join(format!("msim-cli-same-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let sock = format!("unix:{}", dir.join("m.sock").display());
    let o = sim(&["serve", "--qmp", &sock, "--dest-qmp", &sock]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the source and destination monitors cannot both listen on unix:"), "{}", stderr(&o));
    assert!(!dir.join("m.sock").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// QMP has no authentication: a monitor beyond loopback only on request.
#[test]
fn serve_binds_beyond_loopback_only_with_allow_remote() {
    let dir = std::env::temp_dir().join(format!("msim-cli-remote-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let dst = format!("unix:{}", dir.join("dst.sock").display());
    let o = sim(&["serve", "--qmp", "tcp:0.0.0.0:0", "--dest-qmp", &dst]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("0.0.0.0") && stderr(&o).contains("--allow-remote"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
    let (child, dir, text) = start_serve_on("remote", Some("tcp:0.0.0.0:0"), &["--allow-remote"]);
    let port = text
        .split("source QMP on tcp:0.0.0.0:")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no tcp address in {text}"));
    let stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
    let mut greeting = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stream), &mut greeting).expect("greeting");
    assert!(greeting.contains("\"QMP\""), "{greeting}");
    let mut child = child;
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    assert_eq!(child.wait().expect("exit").code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}
