//! One client's connection: reading requests, running them (in line, or
//! on an in-band executor once `oob` is on), and writing replies and
//! events.

use std::future::poll_fn;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{broadcast, mpsc, watch};
use tracing::Instrument;

use super::protocol::is_oob;
use super::{Inner, LiveGuard, Session};
use crate::stream::JsonStream;
use crate::Error;

/// Replies flush to the socket once this much is buffered.
const FLUSH_AT: usize = 64 * 1024;
/// Serves one client on a task of its own, in a tracing span that names
/// it (`conn`: a number unique in the process, `peer`: where it came
/// from).
pub(super) fn spawn_connection<R, W>(inner: &Arc<Inner>, rd: R, wr: W, peer: String) -> tokio::task::JoinHandle<()>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let guard = LiveGuard::new(inner);
    let inner = inner.clone();
    let span = tracing::debug_span!("qmp_connection", conn = NEXT.fetch_add(1, Ordering::Relaxed), peer = %peer);
    let task = async move {
        let _guard = guard;
        let mut stop = inner.shutdown.subscribe();
        let grace = inner.config.shutdown_grace;
        tracing::debug!("QMP client connected");
        let conn = Connection::new(inner, rd, wr).run();
        tokio::select! {
            // An I/O error only ends this connection.
            result = conn => match result {
                Ok(()) => tracing::debug!("QMP client disconnected"),
                Err(e) => tracing::debug!(error = %e, "QMP connection failed"),
            },
            _ = async {
                stopped(&mut stop).await;
                tokio::time::sleep(grace).await;
            } => tracing::warn!(?grace, "QMP client closed at shutdown with replies unsent: it did not read them in time"),
        }
    };
    tokio::spawn(task.instrument(span))
}

/// The in-band executor of a session with `oob` enabled.
struct Executor {
    requests: Option<mpsc::Sender<Result<Value, Error>>>,
    replies: mpsc::UnboundedReceiver<Vec<u8>>,
}

struct Connection<R, W> {
    inner: Arc<Inner>,
    rd: R,
    wr: W,
    session: Session,
    reader: JsonStream,
    out: Vec<u8>,
    events: Option<broadcast::Receiver<Arc<[u8]>>>,
    executor: Option<Executor>,
}

impl<R, W> Connection<R, W>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    fn new(inner: Arc<Inner>, rd: R, wr: W) -> Self {
        let reader = JsonStream::new(inner.config.limits);
        Connection { inner, rd, wr, session: Session::default(), reader, out: Vec::new(), events: None, executor: None }
    }

    async fn run(mut self) -> io::Result<()> {
        let mut stop = self.inner.shutdown.subscribe();
        self.out.extend_from_slice(&self.inner.greeting);
        self.flush().await?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut msgs = Vec::new();
        let mut eof = *stop.borrow();
        while !eof {
            tokio::select! {
                biased;
                _ = stopped(&mut stop) => {
                    // Answer what the client has sent already.
                    loop {
                        let mut rb = ReadBuf::new(&mut buf);
                        let ready = poll_fn(|cx| match std::pin::Pin::new(&mut self.rd).poll_read(cx, &mut rb) {
                            Poll::Pending => Poll::Ready(None),
                            Poll::Ready(r) => Poll::Ready(Some(r)),
                        })
                        .await;
                        let n = match ready {
                            Some(Ok(_)) => rb.filled().len(),
                            _ => 0,
                        };
                        if n == 0 {
                            break;
                        }
                        self.reader.feed(&buf[..n], &mut msgs);
                        self.process(&mut msgs).await?;
                    }
                    eof = true;
                }
                ev = recv_event(&mut self.events) => {
                    if let Some(line) = ev {
                        self.out.extend_from_slice(&line);
                    }
                }
                reply = recv_reply(&mut self.executor) => {
                    self.drain_events();
                    self.out.extend_from_slice(&reply);
                }
                n = self.rd.read(&mut buf) => {
                    let n = n.unwrap_or_else(|e| {
                        tracing::debug!(error = %e, "reading from the QMP client failed");
                        0
                    });
                    if n == 0 {
                        eof = true;
                    } else {
                        self.reader.feed(&buf[..n], &mut msgs);
                        self.process(&mut msgs).await?;
                    }
                }
            }
            self.flush().await?;
        }
        // Finish the in-band requests still queued.
        if let Some(mut exec) = self.executor.take() {
            exec.requests = None;
            while let Some(reply) = exec.replies.recv().await {
                self.drain_events();
                self.out.extend_from_slice(&reply);
                if self.out.len() >= FLUSH_AT {
                    self.flush().await?;
                }
            }
        }
        self.drain_events();
        self.flush().await?;
        self.wr.shutdown().await
    }

    /// Handles parsed requests: in line, or through the executor once
    /// `oob` is on (`exec-oob` requests still run at once).
    async fn process(&mut self, msgs: &mut Vec<Result<Value, Error>>) -> io::Result<()> {
        for msg in msgs.drain(..) {
            if let Some(exec) = &self.executor {
                if !is_oob(&msg) {
                    if let Some(tx) = &exec.requests {
                        if tx.send(msg).await.is_err() {
                            return Err(io::ErrorKind::BrokenPipe.into());
                        }
                    }
                    continue;
                }
            }
            let mut reply = Vec::new();
            let was_negotiated = self.session.negotiated;
            self.inner.handle(&mut self.session, msg, &mut reply);
            if !was_negotiated && self.session.negotiated {
                self.events = Some(self.inner.events.subscribe());
                if self.session.oob {
                    self.executor = Some(spawn_executor(&self.inner, self.session));
                }
            }
            self.drain_events();
            self.out.extend_from_slice(&reply);
            if self.out.len() >= FLUSH_AT {
                self.flush().await?;
            }
        }
        Ok(())
    }

    /// Moves events already emitted into the output, so that an event a
    /// command emits goes out before the command's reply, as in QEMU.
    fn drain_events(&mut self) {
        if let Some(rx) = &mut self.events {
            loop {
                match rx.try_recv() {
                    Ok(line) => self.out.extend_from_slice(&line),
                    Err(broadcast::error::TryRecvError::Lagged(n)) => lagged(n),
                    Err(_) => break,
                }
            }
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.wr.write_all(&self.out).await?;
            self.wr.flush().await?;
            self.out.clear();
            if self.out.capacity() > 4 * FLUSH_AT {
                self.out.shrink_to(FLUSH_AT);
            }
        }
        Ok(())
    }
}

/// Returns once shutdown has been asked for.
pub(super) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// The next event for a negotiated session (never, before negotiation).
async fn recv_event(rx: &mut Option<broadcast::Receiver<Arc<[u8]>>>) -> Option<Arc<[u8]>> {
    match rx {
        Some(rx) => loop {
            match rx.recv().await {
                Ok(line) => return Some(line),
                // A client too slow to read misses the oldest events.
                Err(broadcast::error::RecvError::Lagged(n)) => lagged(n),
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        },
        None => std::future::pending().await,
    }
}

/// Logs events a client missed.
fn lagged(n: u64) {
    tracing::warn!(lost = n, "QMP client too slow: events lost");
}

/// The next in-band reply (never, without an executor).
async fn recv_reply(exec: &mut Option<Executor>) -> Vec<u8> {
    match exec {
        Some(exec) => match exec.replies.recv().await {
            Some(r) => r,
            None => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

fn spawn_executor(inner: &Arc<Inner>, session: Session) -> Executor {
    let (tx, mut rx) = mpsc::channel::<Result<Value, Error>>(inner.config.request_queue.max(1));
    let (reply_tx, replies) = mpsc::unbounded_channel();
    let inner = inner.clone();
    tokio::spawn(async move {
        let mut session = session;
        while let Some(msg) = rx.recv().await {
            let mut out = Vec::new();
            inner.handle(&mut session, msg, &mut out);
            if !out.is_empty() && reply_tx.send(out).is_err() {
                break;
            }
        }
    });
    Executor { requests: Some(tx), replies }
}
