//! Scenario files: what is accepted, and that every refusal names the file,
//! line and key, with QEMU's own texts for QEMU's checks.

use migration_sim::config::{ConfigError, Issue};
use migration_sim::{default_scenario, default_vfio_scenario, EngineKind, Scenario};

const FULL: &str = r#"
name = "from-file"
seed = 42
engine = "bitmap"

[guest]
ram = "2 GiB"
vcpus = 2
[[guest.classes]]
name = "hot"
size = "64 MiB"
write-rate = 20000
[[guest.classes]]
name = "data"
size = "512M"

[link]
bandwidth = "10 Gbit/s"
latency-ms = 0.2

[migration.parameters]
max-bandwidth = "256 MiB"
downtime-limit = 200
[migration.capabilities]
events = true
auto-converge = true

[[devices]]
name = "cpu"
per-vcpu = true
bytes = 6144
save-us = 25

[[devices]]
name = "0000:00:05.0/vfio"
kind = "vfio"
initial-bytes = "128 MiB"
stop-copy-bytes = "256 MiB"

[[actions]]
at-ms = 30000
action = "cancel"

[[actions]]
at-ms = 1000
action = "set-parameters"
parameters = { max-bandwidth = 0 }
"#;

fn parse(src: &str) -> Result<Scenario, ConfigError> {
    Scenario::from_toml_str(src, "scenario.toml")
}

fn issues(src: &str) -> Vec<Issue> {
    match parse(src) {
        Err(ConfigError::Invalid { issues, .. }) => issues,
        other => panic!("expected validation issues, got {other:?}"),
    }
}

#[test]
fn full_scenario_parses() {
    let s = parse(FULL).expect("valid scenario");
    assert_eq!(s.seed, 42);
    assert_eq!(s.engine, EngineKind::Bitmap);
    assert_eq!(s.guest.ram.0, 2 << 30);
    assert_eq!(s.guest.classes[1].size.0, 512 << 20);
    assert_eq!(s.link.bandwidth.0, 1.25e9);
    assert_eq!(s.migration.parameters.max_bandwidth.0, 256 << 20);
    assert_eq!(s.migration.parameters.downtime_limit, 200);
    // Untouched parameters keep QEMU 10.2's defaults.
    assert_eq!(s.migration.parameters.cpu_throttle_initial, 20);
    assert_eq!(s.migration.parameters.xbzrle_cache_size.0, 64 << 20);
    assert_eq!(s.devices.len(), 2);
    assert_eq!(s.actions.len(), 2);
}

#[test]
fn presets_are_valid_and_round_trip() {
    for s in [default_scenario(), default_vfio_scenario()] {
        assert_eq!(s.validate(), Ok(()));
        let text = toml::to_string(&s).expect("serializes");
        let back = parse(&text).expect("parses back");
        assert_eq!(toml::to_string(&back).expect("serializes"), text);
    }
}

#[test]
fn unknown_key_is_refused_with_line_and_key() {
    let src = "seed = 1\n[guest]\nram = \"1 GiB\"\nvcpu = 2\n";
    match parse(src) {
        Err(ConfigError::Parse { file, line, key, message, .. }) => {
            assert_eq!(file, "scenario.toml");
            assert_eq!(line, 4);
            assert_eq!(key.as_deref(), Some("guest.vcpu"));
            assert!(message.contains("unknown field `vcpu`"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let shown = parse(src).expect_err("refused").to_string();
    assert!(shown.starts_with("scenario.toml:4:1: guest.vcpu: unknown field `vcpu`"), "{shown}");
}

#[test]
fn negative_and_impossible_sizes_are_refused() {
    match parse("[guest]\nram = -4096\n") {
        Err(ConfigError::Parse { line, key, message, .. }) => {
            assert_eq!(line, 2);
            assert_eq!(key.as_deref(), Some("guest.ram"));
            assert!(message.contains("negative"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match parse("[link]\nbandwidth = \"10 parsecs/s\"\n") {
        Err(ConfigError::Parse { line, key, .. }) => {
            assert_eq!(line, 2);
            assert_eq!(key.as_deref(), Some("link.bandwidth"));
        }
        other => panic!("{other:?}"),
    }
    let i = issues("[guest]\nram = \"1 GiB\"\n[[guest.classes]]\nname = \"a\"\nsize = \"2 GiB\"\n");
    assert_eq!(i.len(), 1);
    assert_eq!(i[0].key.to_string(), "guest.classes");
    assert_eq!(i[0].line, 3);
    let i = issues("[guest]\nram = 4097\n");
    assert_eq!(i[0].key.to_string(), "guest.ram");
    assert!(i[0].message.contains("multiple of the page size"));
    // A u8 parameter out of range is a type error with its line.
    match parse("[migration.parameters]\ncpu-throttle-initial = 300\n") {
        Err(ConfigError::Parse { line, key, .. }) => {
            assert_eq!(line, 2);
            assert_eq!(key.as_deref(), Some("migration.parameters.cpu-throttle-initial"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn qemu_parameter_checks_use_qemu_texts() {
    let i = issues("[migration.parameters]\ndowntime-limit = 3000000\n");
    assert_eq!(i[0].key.to_string(), "migration.parameters.downtime-limit");
    assert_eq!(i[0].line, 2);
    assert_eq!(i[0].message, "Option downtime_limit expects an integer in the range of 0 to (2000 * 1000) ms");
    let i = issues("[migration.parameters]\nxbzrle-cache-size = 5000\n");
    assert_eq!(i[0].message, "Option xbzrle_cache_size expects a power of two no less than the target page size");
    let i = issues("[migration.parameters]\ncpu-throttle-initial = 50\nmax-cpu-throttle = 40\n");
    assert_eq!(i[0].key.to_string(), "migration.parameters.max-cpu-throttle");
    assert_eq!(i[0].line, 3);
    let i = issues("[migration.parameters]\nmultifd-channels = 0\n");
    assert_eq!(i[0].message, "Option multifd_channels expects a value between 1 and 255");
}

#[test]
fn contradictory_capabilities_are_refused() {
    let i = issues("[migration.capabilities]\nmultifd = true\nxbzrle = true\n");
    assert_eq!(i[0].key.to_string(), "migration.capabilities.xbzrle");
    assert_eq!(i[0].line, 3);
    assert_eq!(i[0].message, "Multifd is not compatible with xbzrle");
    let i = issues("[migration.capabilities]\nswitchover-ack = true\n");
    assert_eq!(i[0].message, "Capability 'switchover-ack' requires capability 'return-path'");
    let i = issues("[migration.capabilities]\npostcopy-preempt = true\n");
    assert_eq!(i[0].message, "Postcopy preempt requires postcopy-ram");
    let i = issues(
        "[migration.capabilities]\npostcopy-ram = true\n[[devices]]\nname = \"0000:00:05.0/vfio\"\nkind = \"vfio\"\n",
    );
    assert_eq!(i[0].key.to_string(), "migration.capabilities.postcopy-ram");
    // A VFIO-only key on a plain device, and an action missing its argument.
    let i =
        issues("[[devices]]\nname = \"x\"\ninitial-bytes = 5\n[[actions]]\nat-ms = 1\naction = \"link-bandwidth\"\n");
    assert_eq!(i.len(), 2);
    assert_eq!(i[0].key.to_string(), "devices[0].initial-bytes");
    assert_eq!(i[0].line, 3);
    assert_eq!(i[1].key.to_string(), "actions[0].action");
    assert_eq!(i[1].line, 6);
}

#[test]
fn every_problem_is_reported_at_once() {
    let i = issues("[guest]\nvcpus = 0\npage-size = 3000\n[link]\nlatency-ms = -1\n");
    let keys: Vec<String> = i.iter().map(|x| x.key.to_string()).collect();
    assert_eq!(keys, ["guest.page-size", "guest.vcpus", "link.latency-ms"]);
    let shown = ConfigError::Invalid { file: "f.toml".into(), issues: i }.to_string();
    assert!(shown.contains("f.toml:3:1: guest.page-size:"), "{shown}");
}
