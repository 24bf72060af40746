//! Migration URIs: what a `migrate` or `migrate-incoming` target is, with
//! QEMU's parse errors, and what its transport supports.
//!
//! What the simulated link means for each transport:
//! * sockets (`tcp:`, `unix:`, `vsock:`, `fd:`) and `rdma:`: the network
//!   between two live QEMUs, as the scenario's `link` describes it;
//! * `exec:COMMAND`: a pipe into a command that carries the stream to a
//!   live destination (`ssh`, `nc` to a QEMU started with `-incoming exec:`
//!   or `tcp:`); the `link` stands for the pipe and the command together,
//!   the command itself is not run. QEMU gives an `exec:` channel no
//!   listening address, and no multifd;
//! * `file:PATH[,offset=N]`: the stream is written to a file, nobody
//!   receives it live: the `link` is the storage (bandwidth = write
//!   throughput, `connect-ms` = opening the file) and a destination loads
//!   the file once it is complete. The simulator writes no file. Only a
//!   file is seekable, so `mapped-ram` needs one; multifd over a file needs
//!   `mapped-ram`; a file has no return path.

/// The kind of channel a migration URI opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A socket or RDMA connection to a live destination.
    Socket {
        /// Whether QEMU can open more channels to the same address (inet,
        /// unix and vsock sockets can; an `fd:` or RDMA cannot).
        multi_channel: bool,
    },
    /// `exec:COMMAND`.
    Exec,
    /// `file:PATH[,offset=N]`.
    File {
        /// The file.
        path: String,
        /// Where in the file the stream starts.
        offset: u64,
    },
}

impl Transport {
    /// Parse a migration URI as QEMU's `migrate_uri_parse` does, with its
    /// error text for what it refuses.
    ///
    /// ```
    /// # use migration_sim::transport::Transport;
    /// assert_eq!(Transport::parse("exec:cat > /tmp/vm"), Ok(Transport::Exec));
    /// assert_eq!(Transport::parse("file:/tmp/vm,offset=4096"), Ok(Transport::File { path: "/tmp/vm".into(), offset: 4096 }));
    /// assert_eq!(Transport::parse("tcp:host").unwrap_err(), "error parsing address 'host'");
    /// ```
    pub fn parse(uri: &str) -> Result<Transport, String> {
        let (scheme, rest) = uri.split_once(':').unwrap_or(("", uri));
        match scheme {
            "tcp" => {
                // inet_parse: HOST:PORT or [V6HOST]:PORT, options after a comma.
                let addr = rest.split(',').next().unwrap_or("");
                let ok = match addr.strip_prefix('[') {
                    Some(v6) => v6.split_once("]:").is_some_and(|(h, p)| !h.is_empty() && !p.is_empty()),
                    None => addr.split_once(':').is_some_and(|(_, p)| !p.is_empty()),
                };
                if ok {
                    Ok(Transport::Socket { multi_channel: true })
                } else {
                    Err(format!("error parsing address '{rest}'"))
                }
            }
            "unix" | "vsock" => Ok(Transport::Socket { multi_channel: true }),
            "fd" | "rdma" => Ok(Transport::Socket { multi_channel: false }),
            "exec" => Ok(Transport::Exec),
            "file" => Self::parse_file(rest),
            _ => Err(format!("unknown migration protocol: {uri}")),
        }
    }

    fn parse_file(rest: &str) -> Result<Transport, String> {
        let (path, offset) = match rest.split_once(",offset=") {
            Some((path, off)) => {
                let offset =
                    off.parse::<u64>().map_err(|_| format!("file URI has bad offset {off}: Invalid argument"))?;
                (path, offset)
            }
            None => (rest, 0),
        };
        Ok(Transport::File { path: path.to_string(), offset })
    }

    /// Whether the transport can seek (what `mapped-ram` needs).
    pub fn seekable(&self) -> bool {
        matches!(self, Transport::File { .. })
    }

    /// Whether multifd can open its channels over it (a file only with
    /// `mapped-ram`).
    pub fn multi_channel(&self, mapped_ram: bool) -> bool {
        match self {
            Transport::Socket { multi_channel } => *multi_channel,
            Transport::Exec => false,
            Transport::File { .. } => mapped_ram,
        }
    }

    /// What a write reports when the other end of the channel is gone.
    pub fn write_error(&self) -> &'static str {
        match self {
            Transport::Socket { .. } => "Unable to write to socket: Connection reset by peer",
            // QEMU 10.0.2 with a command that does not read its input.
            Transport::Exec => "Unable to write to command: Broken pipe",
            Transport::File { .. } => "Unable to write to file: Input/output error",
        }
    }

    /// Whether the stream goes to a file rather than to a live destination.
    pub fn is_file(&self) -> bool {
        self.seekable()
    }

    /// QEMU's checks of a transport against the capabilities, at `migrate`
    /// and `migrate-incoming` (the state is left unchanged when they fail).
    pub fn check_capabilities(
        &self,
        caps: &crate::config::Capabilities,
        params: &crate::config::MigrationParameters,
    ) -> Result<(), String> {
        if caps.mapped_ram && !self.seekable() {
            return Err("Migration requires seekable transport (e.g. file)".into());
        }
        if caps.multifd && !self.multi_channel(caps.mapped_ram) {
            return Err("Migration requires multi-channel URIs (e.g. tcp)".into());
        }
        if caps.mapped_ram && params.multifd_compression != crate::config::MultifdCompression::None {
            return Err("Cannot use compression with mapped-ram".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Capabilities, MigrationParameters, MultifdCompression};

    #[test]
    fn uris_are_parsed_as_qemu_parses_them() {
        assert_eq!(Transport::parse("tcp:192.0.2.2:4444"), Ok(Transport::Socket { multi_channel: true }));
        assert_eq!(Transport::parse("tcp:[2001:db8::1]:4444"), Ok(Transport::Socket { multi_channel: true }));
        assert_eq!(Transport::parse("unix:/tmp/x"), Ok(Transport::Socket { multi_channel: true }));
        assert_eq!(Transport::parse("fd:mig"), Ok(Transport::Socket { multi_channel: false }));
        assert_eq!(Transport::parse("tcp:192.0.2.2").unwrap_err(), "error parsing address '192.0.2.2'");
        assert_eq!(Transport::parse("foo:bar").unwrap_err(), "unknown migration protocol: foo:bar");
        assert_eq!(Transport::parse("nonsense").unwrap_err(), "unknown migration protocol: nonsense");
        assert_eq!(Transport::parse("file:/tmp/m"), Ok(Transport::File { path: "/tmp/m".into(), offset: 0 }));
        // QEMU 10.0.2's words for a bad offset.
        assert_eq!(
            Transport::parse("file:/tmp/m,offset=abc").unwrap_err(),
            "file URI has bad offset abc: Invalid argument"
        );
    }

    #[test]
    fn capabilities_need_their_transport() {
        // QEMU 10.0.2's refusals at migrate, in its order.
        let tcp = Transport::parse("tcp:h:1").unwrap_or(Transport::Exec);
        let file = Transport::File { path: "/m".into(), offset: 0 };
        let p = MigrationParameters::default();
        let mapped = Capabilities { mapped_ram: true, ..Capabilities::default() };
        assert_eq!(
            tcp.check_capabilities(&mapped, &p).unwrap_err(),
            "Migration requires seekable transport (e.g. file)"
        );
        assert_eq!(
            Transport::Exec.check_capabilities(&mapped, &p).unwrap_err(),
            "Migration requires seekable transport (e.g. file)"
        );
        assert_eq!(file.check_capabilities(&mapped, &p), Ok(()));
        let multifd = Capabilities { multifd: true, ..Capabilities::default() };
        assert_eq!(
            Transport::Exec.check_capabilities(&multifd, &p).unwrap_err(),
            "Migration requires multi-channel URIs (e.g. tcp)"
        );
        assert_eq!(
            file.check_capabilities(&multifd, &p).unwrap_err(),
            "Migration requires multi-channel URIs (e.g. tcp)"
        );
        let both = Capabilities { multifd: true, mapped_ram: true, ..Capabilities::default() };
        assert_eq!(file.check_capabilities(&both, &p), Ok(()));
        let zlib =
            MigrationParameters { multifd_compression: MultifdCompression::Zlib, ..MigrationParameters::default() };
        assert_eq!(file.check_capabilities(&mapped, &zlib).unwrap_err(), "Cannot use compression with mapped-ram");
    }
}
