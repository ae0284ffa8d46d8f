//! The messages ranks exchange and the collective steps built on an [`Engine`]'s `send`,
//! `receive` and `broadcast`: a merge up a binary tree to rank 0, a gather to rank 0 in rank
//! order, a value broadcast from rank 0. Every message carries either its value or the
//! failure of the rank that made it, so a failing rank still takes part in every exchange
//! and all ranks end with its error instead of waiting for it.

use super::Engine;
use crate::error::{Error, Result};
use bincode::Options;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The failure of one rank, as it travels to the others.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Failure {
    /// The rank that failed.
    pub(crate) rank: usize,
    /// Its error, as text.
    pub(crate) message: String,
}

impl Failure {
    /// The failure of `rank` with `error`; an error that is already a rank's keeps its rank.
    pub(crate) fn of(rank: usize, error: Error) -> Failure {
        match error {
            Error::Rank { rank, message } => Failure { rank, message },
            e => Failure {
                rank,
                message: e.to_string(),
            },
        }
    }

    /// The error every rank returns for it.
    pub(crate) fn into_error(self) -> Error {
        Error::Rank {
            rank: self.rank,
            message: self.message,
        }
    }
}

/// A value made by a rank, or the failure that stopped it.
pub(crate) type Share<T> = std::result::Result<T, Failure>;

/// The one encoding of messages: bincode, fixed-width little-endian integers.
fn options() -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_little_endian()
}

/// Encodes a message.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    options()
        .serialize(value)
        .map_err(|e| Error::Internal(format!("encoding a message between ranks: {e}")))
}

/// Decodes a message (no length in it can make the decoder allocate more than the message).
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    options()
        .with_limit(bytes.len() as u64)
        .deserialize(bytes)
        .map_err(|e| Error::Internal(format!("decoding {what} from another rank: {e}")))
}

/// Merges every rank's share into rank 0's up a binary tree: at step `s` (1, 2, 4, ...) rank
/// `r` with `r % 2s == 0` merges in the share of rank `r + s` (which covers the ranks after
/// it), so the order of merges is fixed by the ranks alone, never by timing. The first
/// failure in rank order wins. Returns the merged share on rank 0, `None` on the others.
pub(crate) fn merge_to_root<T: Serialize + DeserializeOwned>(
    engine: &dyn Engine,
    mine: Share<T>,
    what: &str,
    merge: &dyn Fn(&mut T, T) -> Result<()>,
) -> Result<Option<Share<T>>> {
    let (rank, size) = (engine.rank(), engine.size());
    let mut acc = mine;
    let mut step = 1usize;
    while step < size {
        if rank % (2 * step) != 0 {
            engine.send(rank - step, &encode(&acc)?)?;
            return Ok(None);
        }
        let peer = rank + step;
        if peer < size {
            let theirs: Share<T> = decode(&engine.receive(peer)?, what)?;
            acc = match (acc, theirs) {
                (Err(f), _) | (Ok(_), Err(f)) => Err(f),
                (Ok(mut a), Ok(b)) => match merge(&mut a, b) {
                    Ok(()) => Ok(a),
                    Err(e) => Err(Failure::of(rank, e)),
                },
            };
        }
        step = step.saturating_mul(2);
    }
    Ok(Some(acc))
}

/// Gathers every rank's share to rank 0 in rank order: rank 0 calls `take` with its own, then
/// with each other rank's as it arrives (one message held at a time), and receives every
/// message even after a failure (so no rank waits on a send). Returns the first failure in
/// rank order (`Ok(())` if none) on rank 0, `None` on the others.
pub(crate) fn gather_to_root<T: Serialize + DeserializeOwned>(
    engine: &dyn Engine,
    mine: Share<T>,
    what: &str,
    take: &mut dyn FnMut(usize, T) -> Result<()>,
) -> Result<Option<Share<()>>> {
    if !engine.is_root() {
        engine.send(0, &encode(&mine)?)?;
        return Ok(None);
    }
    let mut outcome: Share<()> = Ok(());
    let mut add = |rank: usize, share: Share<T>, outcome: &mut Share<()>| {
        if outcome.is_err() {
            return;
        }
        *outcome = match share {
            Ok(v) => take(rank, v).map_err(|e| Failure::of(0, e)),
            Err(f) => Err(f),
        };
    };
    add(0, mine, &mut outcome);
    for r in 1..engine.size() {
        let share: Share<T> = decode(&engine.receive(r)?, what)?;
        add(r, share, &mut outcome);
    }
    Ok(Some(outcome))
}

/// Rank 0's `value` on every rank (the others pass `None`).
pub(crate) fn broadcast_value<T: Serialize + DeserializeOwned>(
    engine: &dyn Engine,
    value: Option<&T>,
    what: &str,
) -> Result<T> {
    let bytes = match (engine.is_root(), value) {
        (true, Some(v)) => encode(v)?,
        (true, None) => {
            return Err(Error::Internal(format!(
                "rank 0 has no {what} to broadcast"
            )))
        }
        (false, _) => Vec::new(),
    };
    decode(&engine.broadcast(0, bytes)?, what)
}

/// Rank 0's outcome of a step on every rank: `Ok` everywhere, or the failure as every rank's
/// error.
pub(crate) fn agree(engine: &dyn Engine, outcome: Option<&Share<()>>) -> Result<()> {
    let outcome: Share<()> = broadcast_value(engine, outcome, "the outcome of a pass")?;
    outcome.map_err(Failure::into_error)
}
