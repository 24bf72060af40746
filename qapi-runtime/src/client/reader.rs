//! The reading side of a connection: replies to their waiters, events to
//! the event queue.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{mpsc, oneshot};

use crate::stream::JsonStream;
use crate::wire::{EventMessage, ServerMessage};
use crate::Error;

/// Requests waiting for their replies.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) waiting: HashMap<u64, oneshot::Sender<Result<Value, Error>>>,
    /// Ids in the order they were sent, for replies that come without one.
    pub(super) order: VecDeque<u64>,
    pub(super) closed: bool,
}

pub(super) struct Shared {
    pub(super) pending: Mutex<Pending>,
    pub(super) events: Mutex<Option<mpsc::UnboundedSender<EventMessage>>>,
    pub(super) next_id: AtomicU64,
}

/// Reads everything the server sends: replies to their waiters, events
/// to the event queue.
pub(super) async fn read_loop<R: AsyncRead + Unpin>(
    mut rd: R,
    mut reader: JsonStream,
    mut buf: Vec<u8>,
    first: VecDeque<Result<Value, Error>>,
    shared: Arc<Shared>,
) {
    let mut msgs: Vec<_> = first.into();
    loop {
        for msg in msgs.drain(..) {
            deliver(&shared, msg);
        }
        let n = match rd.read(&mut buf).await {
            Ok(0) => {
                tracing::debug!("QMP server closed the connection");
                break;
            }
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, "reading from the QMP server failed");
                break;
            }
        };
        reader.feed(&buf[..n], &mut msgs);
    }
    if let Ok(mut p) = shared.pending.lock() {
        p.closed = true;
        p.waiting.clear();
        p.order.clear();
    }
    if let Ok(mut events) = shared.events.lock() {
        events.take();
    }
}

fn deliver(shared: &Shared, msg: Result<Value, Error>) {
    let value = match msg {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(desc = %e.desc, "QMP server sent bad JSON; skipped");
            return;
        }
    };
    let id = value.get("id").and_then(Value::as_u64);
    let has_id = value.get("id").is_some();
    let result = match ServerMessage::from_value(value) {
        Ok(ServerMessage::Return(r)) => Ok(r.ret),
        Ok(ServerMessage::Error(e)) => Err(e.error),
        Ok(ServerMessage::Event(ev)) => {
            if let Ok(events) = shared.events.lock() {
                if let Some(tx) = events.as_ref() {
                    let _ = tx.send(ev);
                }
            }
            return;
        }
        Ok(ServerMessage::Greeting(_)) => {
            tracing::warn!("QMP server sent a second greeting; ignored");
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, "QMP server sent a message QMP does not allow; skipped");
            return;
        }
    };
    let Ok(mut p) = shared.pending.lock() else { return };
    let waiter = match (id, has_id) {
        (Some(id), _) => p.waiting.remove(&id),
        // An id that is not ours: not for us (QMP says drop it).
        (None, true) => None,
        // No id (a server that does not echo, or an error before the id
        // was read): the oldest request still waiting.
        (None, false) => loop {
            match p.order.pop_front() {
                Some(id) => {
                    if let Some(w) = p.waiting.remove(&id) {
                        break Some(w);
                    }
                }
                None => break None,
            }
        },
    };
    if p.order.len() > 2 * p.waiting.len() + 64 {
        let waiting = &p.waiting;
        let order: VecDeque<u64> = p.order.iter().copied().filter(|id| waiting.contains_key(id)).collect();
        p.order = order;
    }
    drop(p);
    match waiter {
        Some(w) => {
            let _ = w.send(result);
        }
        None => tracing::debug!(?id, "QMP reply for no request waiting; dropped"),
    }
}
