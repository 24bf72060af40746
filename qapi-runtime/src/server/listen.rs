//! Listening sockets: unix sockets only this user can reach, and the
//! accept loop that hands each client to a connection task.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};

use super::connection::{spawn_connection, stopped};
use super::{Inner, LiveGuard};

/// The longest unix socket path a client can connect to: a socket
/// address holds 108 bytes, the terminating NUL included. A longer path
/// is refused rather than bound where no client could reach it.
pub const MAX_UNIX_PATH: usize = 107;

/// The unix socket paths this process listens on, in canonical form.
static CLAIMED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// A unix socket path this process listens on, checked and held until
/// dropped (when its listener stops): two listeners on one path would
/// leave the first unreachable.
pub(super) struct PathClaim(PathBuf);

impl PathClaim {
    pub(super) fn new(path: &Path) -> io::Result<PathClaim> {
        let len = path.as_os_str().len();
        if len > MAX_UNIX_PATH {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "unix socket path {} is {len} bytes long: a socket address holds at most {MAX_UNIX_PATH}",
                    path.display()
                ),
            ));
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a socket path", path.display()))
        })?;
        let key = parent.canonicalize()?.join(name);
        let mut claimed = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
        if !claimed.insert(key.clone()) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("this process already listens on {}", path.display()),
            ));
        }
        Ok(PathClaim(key))
    }
}

impl Drop for PathClaim {
    fn drop(&mut self) {
        CLAIMED.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.0);
    }
}

/// Binds a unix socket that nobody but this user can ever reach: bound
/// inside a fresh 0700 directory, set to 0600, then moved into place.
pub(super) fn bind_private(path: &Path) -> io::Result<UnixListener> {
    use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
    static SEQ: AtomicU64 = AtomicU64::new(0);

    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_socket() => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        _ => {}
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = parent.join(format!(".qmp{:x}.{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let tmp = dir.join("s");
    let result = (|| -> io::Result<UnixListener> {
        let listener = UnixListener::bind(&tmp)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        std::fs::rename(&tmp, path)?;
        Ok(listener)
    })();
    let _ = std::fs::remove_file(&tmp);
    let _ = std::fs::remove_dir(&dir);
    match result {
        Ok(l) => Ok(l),
        // The temporary path may be too long for a socket address where
        // the real one is not: bind in place and narrow the mode at once.
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            let _ = std::fs::remove_file(path);
            let listener = UnixListener::bind(path)?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            Ok(listener)
        }
        Err(e) => Err(e),
    }
}

/// A listening socket whose clients [`spawn_accept_loop`] serves.
pub(super) trait Listener: Send + 'static {
    type Read: AsyncRead + Send + Unpin + 'static;
    type Write: AsyncWrite + Send + Unpin + 'static;

    /// The next client, split into its two halves, and its address when
    /// it has one (for logs).
    fn accept_split(&self) -> impl std::future::Future<Output = io::Result<Accepted<Self>>> + Send;
}

/// A client's two halves and its address.
pub(super) type Accepted<L> = (<L as Listener>::Read, <L as Listener>::Write, Option<String>);

impl Listener for TcpListener {
    type Read = tokio::net::tcp::OwnedReadHalf;
    type Write = tokio::net::tcp::OwnedWriteHalf;

    async fn accept_split(&self) -> io::Result<Accepted<Self>> {
        let (stream, peer) = self.accept().await?;
        // Replies are small and a client waits for each: don't let Nagle hold them.
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        Ok((rd, wr, Some(format!("tcp:{peer}"))))
    }
}

impl Listener for UnixListener {
    type Read = tokio::net::unix::OwnedReadHalf;
    type Write = tokio::net::unix::OwnedWriteHalf;

    async fn accept_split(&self) -> io::Result<Accepted<Self>> {
        let (stream, _) = self.accept().await?;
        let (rd, wr) = stream.into_split();
        Ok((rd, wr, None))
    }
}

/// Accepts clients on `listener` until shutdown, each on a task of its
/// own. A failed accept (out of file descriptors, say) is retried after a
/// pause rather than ending the listener; the first failure of a run is
/// logged, and the recovery.
pub(super) fn spawn_accept_loop<L: Listener>(inner: &Arc<Inner>, listener: L, addr: String, claim: Option<PathClaim>) {
    let inner = inner.clone();
    let guard = LiveGuard::new(&inner);
    let mut stop = inner.shutdown.subscribe();
    tracing::info!(addr = %addr, "QMP server listening");
    tokio::spawn(async move {
        let _guard = guard;
        let _claim = claim;
        let mut failures = 0u64;
        loop {
            tokio::select! {
                _ = stopped(&mut stop) => break,
                accepted = listener.accept_split() => match accepted {
                    Ok((rd, wr, peer)) => {
                        if failures > 0 {
                            tracing::info!(addr = %addr, failures, "accepting QMP clients again");
                            failures = 0;
                        }
                        // A unix client has no address of its own: it is
                        // named by the socket it came through.
                        spawn_connection(&inner, rd, wr, peer.unwrap_or_else(|| addr.clone()));
                    }
                    Err(e) => {
                        if failures == 0 {
                            tracing::warn!(addr = %addr, error = %e, "cannot accept a QMP client; retrying");
                        }
                        failures += 1;
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                },
            }
        }
        tracing::debug!(addr = %addr, "QMP listener closed");
    });
}
