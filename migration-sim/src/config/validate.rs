//! [`Scenario::validate`]: QEMU's own parameter and capability checks with
//! QEMU's texts, and every size, rate and cross-setting the simulator
//! relies on.

use std::collections::HashSet;

use crate::transport::Transport;

use super::{
    action_name, ActionConfig, ActionKind, DeviceConfig, DeviceKind, FaultConfig, FaultKind, GuestConfig, Issue,
    KeyPath, MigMode, MultifdCompression, Scenario,
};

/// The problems found so far.
#[derive(Default)]
struct Problems(Vec<Issue>);

impl Problems {
    fn bad(&mut self, key: KeyPath, message: String) {
        self.0.push(Issue { key, message, line: 0, column: 0 });
    }
}

fn finite_nonneg(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

/// A valid target page size (QEMU's targets use 512 B to 64 KiB pages).
fn page_size_ok(ps: u64) -> bool {
    ps.is_power_of_two() && (512..=65536).contains(&ps)
}

impl Scenario {
    /// Check the scenario: QEMU's parameter and capability checks with
    /// QEMU's texts, and every size, rate and cross-setting the simulator
    /// relies on. Returns every problem found (without line numbers; the
    /// loader adds them).
    pub fn validate(&self) -> Result<(), Vec<Issue>> {
        let mut p = Problems::default();
        if !(self.time_limit_s.is_finite() && self.time_limit_s > 0.0) {
            p.bad(KeyPath::from_parts(&["time-limit-s"]), "must be a positive number of seconds".into());
        }
        if !finite_nonneg(self.start_time_unix) {
            p.bad(KeyPath::from_parts(&["start-time-unix"]), "must be a non-negative number of seconds".into());
        }
        check_guest(&self.guest, &mut p);
        self.check_link_and_cpu(&mut p);
        self.check_migration(&mut p);
        self.check_devices(&mut p);
        let dk = KeyPath::from_parts(&["destination"]);
        if !finite_nonneg(self.destination.vm_start_ms) {
            p.bad(dk.clone().key("vm-start-ms"), "must be a non-negative number of milliseconds".into());
        }
        if !finite_nonneg(self.destination.package_load_ms) {
            p.bad(dk.key("package-load-ms"), "must be a non-negative number of milliseconds".into());
        }
        for (i, a) in self.actions.iter().enumerate() {
            self.check_action(i, a, &mut p);
        }
        for (i, f) in self.faults.iter().enumerate() {
            self.check_fault(i, f, &mut p);
        }
        if p.0.is_empty() {
            Ok(())
        } else {
            Err(p.0)
        }
    }

    fn check_link_and_cpu(&self, p: &mut Problems) {
        let lk = KeyPath::from_parts(&["link"]);
        if !(self.link.bandwidth.0 > 0.0 && self.link.bandwidth.0.is_finite()) {
            p.bad(lk.clone().key("bandwidth"), "the link needs a positive bandwidth".into());
        }
        if !finite_nonneg(self.link.latency_ms) {
            p.bad(lk.clone().key("latency-ms"), "must be a non-negative number of milliseconds".into());
        }
        if !finite_nonneg(self.link.connect_ms) {
            p.bad(lk.key("connect-ms"), "must be a non-negative number of milliseconds".into());
        }
        let ck = KeyPath::from_parts(&["cpu"]);
        let cpu = &self.cpu;
        for (k, v) in [
            ("main-channel-max-bandwidth", cpu.main_channel_max_bandwidth.0),
            ("zero-scan-bandwidth", cpu.zero_scan_bandwidth.0),
            ("multifd-channel-bandwidth", cpu.multifd_channel_bandwidth.0),
            ("xbzrle-encode-bandwidth", cpu.xbzrle_encode_bandwidth.0),
        ] {
            if !(v > 0.0 && v.is_finite()) {
                p.bad(ck.clone().key(k), "must be a positive rate".into());
            }
        }
        for (k, v) in [
            ("page-overhead-us", cpu.page_overhead_us),
            ("sync-cost-ms-per-gib", cpu.sync_cost_ms_per_gib),
            ("vm-stop-ms", cpu.vm_stop_ms),
            ("block-inactivate-ms", cpu.block_inactivate_ms),
            ("vcpu-sync-us", cpu.vcpu_sync_us),
            ("setup-fixed-ms", cpu.setup_fixed_ms),
            ("setup-ms-per-gib", cpu.setup_ms_per_gib),
            ("cleanup-ms", cpu.cleanup_ms),
        ] {
            if !finite_nonneg(v) {
                p.bad(ck.clone().key(k), "must be a finite, non-negative number".into());
            }
        }
        if !(cpu.loop_min_cost_us.is_finite() && cpu.loop_min_cost_us > 0.0) {
            // A pass that sends nothing must still take time, or the
            // migration thread would spin without simulated time passing.
            p.bad(ck.key("loop-min-cost-us"), "must be a positive number of microseconds".into());
        }
    }

    /// QEMU's own checks of the parameters and capabilities, and what the
    /// simulator does not model.
    fn check_migration(&self, p: &mut Problems) {
        let mk = KeyPath::from_parts(&["migration"]);
        let m = &self.migration;
        let ps = self.guest.page_size;
        let simulated = ["tcp:", "unix:", "exec:", "file:"].iter().any(|s| m.uri.starts_with(s));
        match Transport::parse(&m.uri) {
            Ok(_) if !simulated => p.bad(
                mk.clone().key("uri"),
                format!(
                    "unsupported migration URI `{}` (use tcp:HOST:PORT, unix:PATH, exec:COMMAND or file:PATH)",
                    m.uri
                ),
            ),
            Ok(t) => {
                if let Err(e) = t.check_capabilities(&m.capabilities, &m.parameters) {
                    p.bad(mk.clone().key("uri"), e);
                }
            }
            Err(e) => p.bad(mk.clone().key("uri"), e),
        }
        if !finite_nonneg(m.start_at_ms) {
            p.bad(mk.clone().key("start-at-ms"), "must be a non-negative number of milliseconds".into());
        }
        if page_size_ok(ps) {
            if let Err(e) = m.parameters.check(ps, &m.capabilities) {
                p.bad(mk.clone().key("parameters").key(e.key), e.message);
            }
        }
        if let Err(e) = m.capabilities.check(&m.parameters, self.guest.dirty_ring_size) {
            p.bad(mk.clone().key("capabilities").key(e.key), e.message);
        }
        let unmodelled = [
            ("rdma-pin-all", m.capabilities.rdma_pin_all),
            ("dirty-limit", m.capabilities.dirty_limit),
            ("dirty-bitmaps", m.capabilities.dirty_bitmaps),
            ("release-ram", m.capabilities.release_ram),
        ];
        for (k, on) in unmodelled {
            if on {
                p.bad(mk.clone().key("capabilities").key(k), "this capability is not simulated".into());
            }
        }
        if m.parameters.multifd_compression != MultifdCompression::None {
            p.bad(mk.clone().key("parameters").key("multifd-compression"), "compression is not simulated".into());
        }
        if m.parameters.mode != MigMode::Normal {
            p.bad(mk.key("parameters").key("mode"), "only the normal migration mode is simulated".into());
        }
    }

    fn check_devices(&self, p: &mut Problems) {
        let mut seen = HashSet::new();
        for (i, d) in self.devices.iter().enumerate() {
            let dk = KeyPath::from_parts(&["devices"]).index(i);
            if d.name.is_empty() {
                p.bad(dk.clone().key("name"), "every device needs a section name".into());
            }
            let ids: Vec<u32> = if d.per_vcpu { (0..self.guest.vcpus).collect() } else { vec![d.instance_id] };
            for id in ids {
                if !seen.insert((d.name.clone(), id)) {
                    p.bad(dk.clone().key("name"), format!("duplicate device section `{}` instance {id}", d.name));
                }
            }
            if !finite_nonneg(d.save_us) {
                p.bad(dk.clone().key("save-us"), "must be a finite, non-negative number of microseconds".into());
            }
            if d.load_us.is_some_and(|l| !finite_nonneg(l)) {
                p.bad(dk.clone().key("load-us"), "must be a finite, non-negative number of microseconds".into());
            }
            match d.kind {
                DeviceKind::Vmstate => check_no_vfio_keys(d, &dk, p),
                DeviceKind::Vfio => check_vfio(d, &dk, p),
            }
        }
        let has_vfio = self.devices.iter().any(|d| d.kind == DeviceKind::Vfio);
        if has_vfio && self.migration.capabilities.postcopy_ram {
            p.bad(
                KeyPath::from_parts(&["migration", "capabilities", "postcopy-ram"]),
                "VFIO devices do not support postcopy; remove postcopy-ram or the VFIO device".into(),
            );
        }
    }

    fn check_action(&self, i: usize, a: &ActionConfig, p: &mut Problems) {
        let ak = KeyPath::from_parts(&["actions"]).index(i);
        if !finite_nonneg(a.at_ms) {
            p.bad(ak.clone().key("at-ms"), "must be a non-negative number of milliseconds".into());
        }
        let needs = |k: &str, has: bool| if has { None } else { Some(k.to_string()) };
        let missing = match a.action {
            ActionKind::SetParameters => needs("parameters", a.parameters.is_some()),
            ActionKind::LinkBandwidth => needs("bandwidth", a.bandwidth.is_some()),
            ActionKind::SetWriteRate => {
                needs("class", a.class.is_some()).or(needs("write-rate", a.write_rate.is_some()))
            }
            _ => None,
        };
        if let Some(k) = missing {
            p.bad(ak.clone().key("action"), format!("action `{}` needs `{k}`", action_name(a.action)));
        }
        let extra = [
            ("parameters", a.parameters.is_some(), a.action == ActionKind::SetParameters),
            ("state", a.state.is_some(), a.action == ActionKind::Continue),
            ("bandwidth", a.bandwidth.is_some(), a.action == ActionKind::LinkBandwidth),
            ("error", a.error.is_some(), a.action == ActionKind::LinkFail),
            ("class", a.class.is_some(), a.action == ActionKind::SetWriteRate),
            ("write-rate", a.write_rate.is_some(), a.action == ActionKind::SetWriteRate),
        ];
        for (k, set, allowed) in extra {
            if set && !allowed {
                p.bad(ak.clone().key(k), format!("not used by action `{}`", action_name(a.action)));
            }
        }
        if a.bandwidth.is_some_and(|b| b.0 <= 0.0) {
            p.bad(ak.clone().key("bandwidth"), "the link needs a positive bandwidth".into());
        }
        if let (Some(c), ActionKind::SetWriteRate) = (&a.class, a.action) {
            if !self.guest.classes.iter().any(|cl| &cl.name == c) {
                p.bad(ak.clone().key("class"), format!("no page class named `{c}`"));
            }
        }
        if a.write_rate.is_some_and(|w| !finite_nonneg(w)) {
            p.bad(ak.clone().key("write-rate"), "must be a finite, non-negative number".into());
        }
        let m = &self.migration;
        if let (Some(u), true) = (&a.parameters, page_size_ok(self.guest.page_size)) {
            let merged = u.apply_to(&m.parameters);
            if let Err(e) = merged.check_update(&m.parameters, self.guest.page_size, &m.capabilities) {
                p.bad(ak.key("parameters").key(e.key), e.message);
            }
        }
    }
}

impl Scenario {
    fn check_fault(&self, i: usize, f: &FaultConfig, p: &mut Problems) {
        let fk = KeyPath::from_parts(&["faults"]).index(i);
        let save_setup = f.fault == FaultKind::SaveSetup;
        let not_used = [
            ("when", f.when.is_some() && save_setup),
            ("after-ms", f.after_ms.is_some() && save_setup),
            ("duration-ms", f.duration_ms.is_some() && f.fault != FaultKind::LinkLoss),
            ("device", f.device.is_some() && !save_setup),
        ];
        for (k, set) in not_used {
            if set {
                p.bad(fk.clone().key(k), format!("not used by a {} fault", fault_name(f.fault)));
            }
        }
        if f.when.is_some_and(|w| !FaultConfig::ARMING_STATES.contains(&w)) {
            let states: Vec<&str> = FaultConfig::ARMING_STATES.iter().map(|s| s.as_str()).collect();
            p.bad(fk.clone().key("when"), format!("must be one of {}", states.join(", ")));
        }
        for (k, v) in [("after-ms", f.after_ms), ("duration-ms", f.duration_ms)] {
            if v.is_some_and(|v| !finite_nonneg(v)) {
                p.bad(fk.clone().key(k), "must be a non-negative number of milliseconds".into());
            }
        }
        if save_setup {
            match f.device.as_deref() {
                None => p.bad(fk.key("fault"), "a save-setup fault needs `device` (ram or a VFIO device)".into()),
                Some("ram") => {}
                Some(d) if self.devices.iter().any(|x| x.name == d && x.kind == DeviceKind::Vfio) => {}
                Some(d) => p.bad(
                    fk.key("device"),
                    format!("no VFIO device `{d}`: only RAM and VFIO devices have a save_setup"),
                ),
            }
        }
    }
}

fn fault_name(f: FaultKind) -> &'static str {
    match f {
        FaultKind::LinkLoss => "link-loss",
        FaultKind::SaveSetup => "save-setup",
        FaultKind::Destination => "destination",
    }
}

fn check_guest(g: &GuestConfig, p: &mut Problems) {
    let gk = KeyPath::from_parts(&["guest"]);
    let ps = g.page_size;
    let ps_ok = page_size_ok(ps);
    if !ps_ok {
        p.bad(gk.clone().key("page-size"), format!("{ps} is not a power of two between 512 and 65536"));
    }
    if g.ram.0 == 0 {
        p.bad(gk.clone().key("ram"), "the guest needs some RAM".into());
    } else if ps_ok && !g.ram.0.is_multiple_of(ps) {
        p.bad(gk.clone().key("ram"), format!("{} bytes is not a multiple of the page size {ps}", g.ram.0));
    }
    if ps_ok && !g.extra_ram_blocks.0.is_multiple_of(ps) {
        p.bad(
            gk.clone().key("extra-ram-blocks"),
            format!("{} bytes is not a multiple of the page size {ps}", g.extra_ram_blocks.0),
        );
    }
    if !(0.0..=1.0).contains(&g.extra_zero_fraction) {
        p.bad(gk.clone().key("extra-zero-fraction"), "must be between 0 and 1".into());
    }
    if g.vcpus == 0 || g.vcpus > 4096 {
        p.bad(gk.clone().key("vcpus"), "must be between 1 and 4096".into());
    }
    if !(g.throttle_sensitivity.is_finite() && g.throttle_sensitivity >= 0.0) {
        p.bad(gk.clone().key("throttle-sensitivity"), "must be a non-negative number".into());
    }
    check_classes(g, &gk, p);
}

fn check_classes(g: &GuestConfig, gk: &KeyPath, p: &mut Problems) {
    let ps = g.page_size;
    let ps_ok = page_size_ok(ps);
    let mut class_total: u64 = 0;
    let mut names = HashSet::new();
    for (i, c) in g.classes.iter().enumerate() {
        let ck = gk.clone().key("classes").index(i);
        if c.name.is_empty() {
            p.bad(ck.clone().key("name"), "every page class needs a name".into());
        } else if !names.insert(c.name.as_str()) {
            p.bad(ck.clone().key("name"), format!("duplicate page class name `{}`", c.name));
        }
        if c.size.0 == 0 {
            p.bad(ck.clone().key("size"), "a page class cannot be empty".into());
        } else if ps_ok && c.size.0 % ps != 0 {
            p.bad(ck.clone().key("size"), format!("{} bytes is not a multiple of the page size {ps}", c.size.0));
        }
        class_total = class_total.saturating_add(c.size.0);
        if !finite_nonneg(c.write_rate) {
            p.bad(
                ck.clone().key("write-rate"),
                "must be a finite, non-negative number of page writes per second".into(),
            );
        }
        if !(0.0..=1.0).contains(&c.zero_fraction) {
            p.bad(ck.clone().key("zero-fraction"), "must be between 0 and 1".into());
        }
        if c.zero_fraction > 0.0 && c.write_rate > 0.0 && c.zero_fraction >= 1.0 {
            p.bad(ck.clone().key("zero-fraction"), "a written class cannot consist of zero pages only".into());
        }
        if c.write_bytes == 0 || (ps_ok && u64::from(c.write_bytes) > ps) {
            p.bad(ck.key("write-bytes"), format!("must be between 1 and the page size {ps}"));
        }
    }
    if class_total > g.ram.0 {
        p.bad(
            gk.clone().key("classes"),
            format!("the page classes add up to {class_total} bytes, more than the guest's {} bytes of RAM", g.ram.0),
        );
    }
}

/// The keys only VFIO devices take.
fn vfio_keys(d: &DeviceConfig) -> [(&'static str, bool); 10] {
    [
        ("precopy", d.precopy.is_some()),
        ("initial-bytes", d.initial_bytes.is_some()),
        ("precopy-dirty-rate", d.precopy_dirty_rate.is_some()),
        ("stop-copy-bytes", d.stop_copy_bytes.is_some()),
        ("read-bandwidth", d.read_bandwidth.is_some()),
        ("stop-transition-ms", d.stop_transition_ms.is_some()),
        ("config-bytes", d.config_bytes.is_some()),
        ("config-save-us", d.config_save_us.is_some()),
        ("multifd-transfer", d.multifd_transfer.is_some()),
        ("switchover-ack", d.switchover_ack.is_some()),
    ]
}

fn check_no_vfio_keys(d: &DeviceConfig, dk: &KeyPath, p: &mut Problems) {
    for (k, set) in vfio_keys(d) {
        if set {
            p.bad(dk.clone().key(k), "only valid for kind = \"vfio\"".into());
        }
    }
}

fn check_vfio(d: &DeviceConfig, dk: &KeyPath, p: &mut Problems) {
    if d.per_vcpu {
        p.bad(dk.clone().key("per-vcpu"), "a VFIO device is not per vCPU".into());
    }
    if d.bytes.0 != 0 {
        p.bad(dk.clone().key("bytes"), "VFIO devices give initial-bytes and stop-copy-bytes instead".into());
    }
    if d.read_bandwidth.is_some_and(|r| r.0 <= 0.0) {
        p.bad(dk.clone().key("read-bandwidth"), "must be a positive rate".into());
    }
    if d.stop_transition_ms.is_some_and(|v| !finite_nonneg(v)) {
        p.bad(dk.clone().key("stop-transition-ms"), "must be a non-negative number".into());
    }
    if d.config_save_us.is_some_and(|v| !finite_nonneg(v)) {
        p.bad(dk.clone().key("config-save-us"), "must be a non-negative number".into());
    }
    let precopy_data = d.initial_bytes.is_some_and(|b| b.0 > 0) || d.precopy_dirty_rate.is_some_and(|r| r.0 > 0.0);
    if d.precopy == Some(false) && precopy_data {
        p.bad(dk.clone().key("precopy"), "a device without PRE_COPY support has no precopy data".into());
    }
}
