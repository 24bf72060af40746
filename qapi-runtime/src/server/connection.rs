//! One client's connection: reading requests, running them (in line, or
//! on an in-band executor once `oob` is on), and writing replies and
//! events, within the server's memory budget.
//!
//! Reading, running and writing go on together, so that `exec-oob` is
//! served while in-band replies wait for the client to read, as in QEMU.
//! What waits to be written is bounded: past
//! [`reply_queue`](super::ServerConfig::reply_queue) bytes the
//! connection stops reading the client's input (as QEMU stops reading a
//! monitor whose request queue is full) and drops the events meant for
//! it, counting them; a client whose input or replies the memory budget
//! cannot hold is disconnected.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{broadcast, mpsc, watch};
use tracing::Instrument;

use super::budget::{value_memory, Account, OverBudget};
use super::protocol::is_oob;
use super::{Inner, LiveGuard, Session};
use crate::stream::JsonStream;
use crate::Error;

/// How much is read from a client at once.
const READ_CHUNK: usize = 64 << 10;

/// Input is fed to the reader this much at a time, each piece with the
/// memory it may need reserved first.
const FEED_PIECE: usize = 4 << 10;

/// A parsed request waiting to run, and the memory it holds.
type Parsed = (Result<Value, Error>, usize);
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
                Err(e) => tracing::debug!(error = %e, "QMP connection ended"),
            },
            _ = async {
                stopped(&mut stop).await;
                tokio::time::sleep(grace).await;
            } => tracing::warn!(?grace, "QMP client closed at shutdown with replies unsent: it did not read them in time"),
        }
    };
    tokio::spawn(task.instrument(span))
}

/// The in-band executor of a session with `oob` enabled: requests in
/// (with the memory they hold), replies out (with the same memory, to
/// give back).
struct Executor {
    requests: Option<mpsc::Sender<Parsed>>,
    replies: mpsc::UnboundedReceiver<(Vec<u8>, usize)>,
}

/// What woke the connection up.
enum Step {
    Stop,
    Wrote(io::Result<usize>),
    ExecutorReady,
    Reply(Option<(Vec<u8>, usize)>),
    Event(Result<Arc<[u8]>, broadcast::error::RecvError>),
    Read(io::Result<usize>),
}

struct Connection<R, W> {
    inner: Arc<Inner>,
    rd: R,
    wr: W,
    session: Session,
    reader: JsonStream,
    /// Requests parsed and not yet run or handed to the executor.
    backlog: VecDeque<Parsed>,
    backlog_mem: usize,
    /// What the requests with the executor hold.
    executor_mem: usize,
    /// Output not yet written.
    out: Vec<u8>,
    events: Option<broadcast::Receiver<Arc<[u8]>>>,
    executor: Option<Executor>,
    account: Account,
    /// Events lost since the client last got one.
    lost: u64,
    eof: bool,
}

impl<R, W> Connection<R, W>
where
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    fn new(inner: Arc<Inner>, rd: R, wr: W) -> Self {
        let reader = JsonStream::new(inner.config.limits);
        let account = Account::new(inner.budget.clone());
        Connection {
            out: inner.greeting.clone(),
            inner,
            rd,
            wr,
            session: Session::default(),
            reader,
            backlog: VecDeque::new(),
            backlog_mem: 0,
            executor_mem: 0,
            events: None,
            executor: None,
            account,
            lost: 0,
            eof: false,
        }
    }

    async fn run(mut self) -> io::Result<()> {
        let mut stop = self.inner.shutdown.subscribe();
        let mut stopping = false;
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            self.process_backlog()?;
            if self.eof && self.backlog.is_empty() {
                // Let the executor finish what it has, then stop.
                if let Some(exec) = &mut self.executor {
                    exec.requests = None;
                }
                if self.executor.is_none() && self.out.is_empty() {
                    break;
                }
            }
            match self.next_step(&mut stop, stopping, &mut buf).await {
                Step::Stop => stopping = true,
                Step::Wrote(n) => {
                    self.wrote(n?)?;
                    if self.out.is_empty() {
                        self.wr.flush().await?;
                    }
                }
                Step::ExecutorReady => {}
                Step::Reply(Some((reply, mem))) => {
                    self.executor_mem -= mem;
                    self.drain_events();
                    self.append(reply)?;
                }
                Step::Reply(None) => self.executor = None,
                Step::Event(event) => self.event(event),
                Step::Read(Ok(0)) => self.eof = true,
                Step::Read(Ok(n)) => self.take_input(&buf[..n])?,
                Step::Read(Err(e)) => {
                    tracing::debug!(error = %e, "reading from the QMP client failed");
                    self.eof = true;
                }
            }
        }
        if self.lost > 0 {
            tracing::info!(lost = self.lost, "QMP client gone; events were lost for it");
        }
        self.wr.shutdown().await
    }

    /// Waits for whatever can happen next. Input is read only while the
    /// output is under the bound and every request read has been run or
    /// queued; once shutdown is asked for, only what has already arrived.
    async fn next_step(&mut self, stop: &mut watch::Receiver<bool>, stopping: bool, buf: &mut [u8]) -> Step {
        let bound = self.inner.config.reply_queue;
        let can_read = !self.eof && self.backlog.is_empty() && self.out.len() < bound;
        // The next request is for the executor, whose queue is full (when
        // the output is over the bound, the output must drain first).
        let waiting = match (&self.executor, self.backlog.front()) {
            (Some(Executor { requests: Some(tx), .. }), Some((msg, _))) if !is_oob(msg) && self.out.len() < bound => {
                Some(tx.clone())
            }
            _ => None,
        };
        tokio::select! {
            biased;
            _ = stopped(stop), if !stopping => Step::Stop,
            n = self.wr.write(&self.out), if !self.out.is_empty() => Step::Wrote(n),
            _ = async { waiting?.reserve_owned().await.ok() }, if waiting.is_some() => Step::ExecutorReady,
            reply = recv_reply(&mut self.executor) => Step::Reply(reply),
            event = recv_event(&mut self.events), if !self.eof => Step::Event(event),
            n = read_some(&mut self.rd, buf, stopping), if can_read => Step::Read(n),
        }
    }

    /// Records what the connection holds now (`extra`: what it is about
    /// to take on), if the budget can hold it.
    fn try_hold(&mut self, extra: usize) -> Result<(), OverBudget> {
        let held = self.reader.memory() + self.backlog_mem + self.executor_mem + self.out.len() + extra;
        self.account.hold(held)
    }

    /// [`try_hold`](Self::try_hold), disconnecting a client the budget
    /// cannot hold.
    fn hold(&mut self, extra: usize) -> io::Result<()> {
        self.try_hold(extra).map_err(|OverBudget| {
            self.inner.budget.over_budget.fetch_add(1, Ordering::Relaxed);
            let budget = self.inner.budget.limit();
            tracing::warn!(extra, budget, "QMP client would take the server over its memory budget: disconnected");
            io::Error::other("over the memory budget")
        })
    }

    /// Reads input, a piece at a time, each piece's memory reserved first.
    fn take_input(&mut self, input: &[u8]) -> io::Result<()> {
        let mut msgs = Vec::new();
        for piece in input.chunks(FEED_PIECE) {
            let bound = self.reader.memory_bound(piece.len()) - self.reader.memory();
            self.hold(bound)?;
            self.reader.feed(piece, &mut msgs);
            for msg in msgs.drain(..) {
                let mem = msg.as_ref().map_or(0, value_memory);
                self.backlog_mem += mem;
                self.backlog.push_back((msg, mem));
            }
        }
        self.hold(0)
    }

    /// Runs the requests read (in line, or through the executor once
    /// `oob` is on: `exec-oob` requests still run at once), while the
    /// output is under the bound.
    fn process_backlog(&mut self) -> io::Result<()> {
        while self.out.len() < self.inner.config.reply_queue {
            let Some((msg, _)) = self.backlog.front() else { break };
            if let Some(Executor { requests: Some(tx), .. }) = &self.executor {
                if !is_oob(msg) {
                    let Ok(permit) = tx.try_reserve() else { break };
                    let Some((msg, mem)) = self.backlog.pop_front() else { break };
                    self.backlog_mem -= mem;
                    self.executor_mem += mem;
                    permit.send((msg, mem));
                    continue;
                }
            }
            let Some((msg, mem)) = self.backlog.pop_front() else { break };
            self.backlog_mem -= mem;
            self.run_inline(msg)?;
        }
        Ok(())
    }

    fn run_inline(&mut self, msg: Result<Value, Error>) -> io::Result<()> {
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
        self.append(reply)
    }

    /// Queues a reply; a client the budget cannot hold it for is
    /// disconnected.
    fn append(&mut self, reply: Vec<u8>) -> io::Result<()> {
        self.hold(reply.len())?;
        self.out.extend_from_slice(&reply);
        Ok(())
    }

    /// Moves events already emitted into the output, so that an event a
    /// command emits goes out before the command's reply, as in QEMU.
    fn drain_events(&mut self) {
        loop {
            let Some(rx) = &mut self.events else { return };
            match rx.try_recv() {
                Ok(line) => self.event(Ok(line)),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.lose(n),
                Err(_) => return,
            }
        }
    }

    /// An event for this client: queued, or lost when the client is not
    /// reading (its output is over the bound) or the budget cannot hold
    /// it.
    fn event(&mut self, event: Result<Arc<[u8]>, broadcast::error::RecvError>) {
        match event {
            Ok(line) => {
                if self.out.len() >= self.inner.config.reply_queue || self.try_hold(line.len()).is_err() {
                    return self.lose(1);
                }
                self.out.extend_from_slice(&line);
                if self.lost > 0 {
                    tracing::info!(lost = self.lost, "QMP client reading again; events were lost meanwhile");
                    self.lost = 0;
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => self.lose(n),
            Err(broadcast::error::RecvError::Closed) => self.events = None,
        }
    }

    /// Counts events lost for this client, with a warning when the loss
    /// starts.
    fn lose(&mut self, n: u64) {
        if self.lost == 0 {
            let queued = self.out.len();
            tracing::warn!(queued, "QMP client not reading its output: events lost");
        }
        self.lost += n;
        self.inner.budget.events_lost.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` bytes of output written.
    fn wrote(&mut self, n: usize) -> io::Result<()> {
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.out.drain(..n);
        if self.out.capacity() > 4 * READ_CHUNK && self.out.len() < READ_CHUNK {
            self.out.shrink_to(READ_CHUNK);
        }
        self.hold(0)
    }
}

/// Returns once shutdown has been asked for.
pub(super) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// Reads what the client sent; once stopping, only what has arrived
/// already (nothing more: end of input).
async fn read_some<R: AsyncRead + Unpin>(rd: &mut R, buf: &mut [u8], stopping: bool) -> io::Result<usize> {
    let mut rb = ReadBuf::new(buf);
    poll_fn(|cx| match std::pin::Pin::new(&mut *rd).poll_read(cx, &mut rb) {
        Poll::Pending if stopping => Poll::Ready(Ok(())),
        Poll::Pending => Poll::Pending,
        Poll::Ready(r) => Poll::Ready(r),
    })
    .await?;
    Ok(rb.filled().len())
}

/// The next event for a negotiated session (never, before negotiation).
async fn recv_event(rx: &mut Option<broadcast::Receiver<Arc<[u8]>>>) -> Result<Arc<[u8]>, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// The next in-band reply (never, without an executor; `None` once the
/// executor has finished).
async fn recv_reply(exec: &mut Option<Executor>) -> Option<(Vec<u8>, usize)> {
    match exec {
        Some(exec) => exec.replies.recv().await,
        None => std::future::pending().await,
    }
}

fn spawn_executor(inner: &Arc<Inner>, session: Session) -> Executor {
    let (tx, mut rx) = mpsc::channel::<Parsed>(inner.config.request_queue.max(1));
    let (reply_tx, replies) = mpsc::unbounded_channel();
    let inner = inner.clone();
    let task = async move {
        let mut session = session;
        while let Some((msg, mem)) = rx.recv().await {
            let mut out = Vec::new();
            inner.handle(&mut session, msg, &mut out);
            if reply_tx.send((out, mem)).is_err() {
                break;
            }
        }
    };
    tokio::spawn(task.in_current_span());
    Executor { requests: Some(tx), replies }
}
