//! [`EngineRegions`]: a lazy array whose boxes every rank computes together, for a sink that
//! runs on rank 0. Rank 0's sink asks for its buffers one by one, as it does in one process;
//! each request is broadcast, every rank runs its share of that buffer's plan
//! ([`Plan::run_on`]) and rank 0 receives the blocks in rank order and writes them. The other
//! ranks [`follow`](EngineRegions::follow) until rank 0 says the store is
//! [`done`](EngineRegions::done). Memory stays bounded on every rank: one buffer's share.

use super::exchange::broadcast_value;
use super::Engine;
use crate::data::NdData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::graph::DynArray;
use crate::plan::Plan;
use crate::select::SliceArg;
use crate::sink::RegionCompute;
use crate::EvalConfig;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// What rank 0 tells the other ranks next.
#[derive(Serialize, Deserialize)]
enum Command {
    /// Compute this box (start and end per axis).
    Region(Vec<(u64, u64)>),
    /// The store is over.
    Done,
}

/// A lazy array computed box by box by all ranks of an engine, for a sink on rank 0.
pub struct EngineRegions {
    array: DynArray,
    cfg: EvalConfig,
    engine: Arc<dyn Engine>,
    /// One box at a time: the ranks follow rank 0's requests in order.
    busy: Mutex<()>,
}

impl std::fmt::Debug for EngineRegions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineRegions")
            .field("shape", &self.array.shape())
            .field("engine", &self.engine)
            .finish()
    }
}

impl EngineRegions {
    /// `array` computed with `cfg` by every rank of `engine` (every rank makes the same one).
    pub fn new(array: DynArray, cfg: EvalConfig, engine: Arc<dyn Engine>) -> EngineRegions {
        EngineRegions {
            array,
            cfg,
            engine,
            busy: Mutex::new(()),
        }
    }

    fn plan(&self, region: &[Range<usize>]) -> Result<Plan> {
        let sel: Vec<SliceArg> = region
            .iter()
            .map(|r| SliceArg::range(r.start as isize, r.end as isize))
            .collect();
        let part = self.array.select(&sel)?;
        Plan::new(&[&part], &self.cfg)
    }

    /// On ranks other than 0: computes this rank's share of every box rank 0 asks for, until
    /// rank 0 calls [`EngineRegions::done`].
    pub fn follow(&self) -> Result<()> {
        if self.engine.is_root() {
            return Err(Error::Invalid(
                "rank 0 computes boxes; the other ranks follow it".into(),
            ));
        }
        loop {
            match broadcast_value::<Command>(&*self.engine, None, "the next box")? {
                Command::Done => return Ok(()),
                Command::Region(r) => {
                    let region = to_ranges(&r)?;
                    self.plan(&region)?.run_on(&*self.engine)?;
                }
            }
        }
    }

    /// On rank 0, once the sink has asked for its last box: lets the other ranks go.
    pub fn done(&self) -> Result<()> {
        if self.engine.size() <= 1 {
            return Ok(());
        }
        let _one = self
            .busy
            .lock()
            .map_err(|_| Error::Internal("box lock".into()))?;
        broadcast_value(&*self.engine, Some(&Command::Done), "the next box")?;
        Ok(())
    }
}

fn to_ranges(r: &[(u64, u64)]) -> Result<Vec<Range<usize>>> {
    r.iter()
        .map(|&(a, b)| match (usize::try_from(a), usize::try_from(b)) {
            (Ok(a), Ok(b)) if a <= b => Ok(a..b),
            _ => Err(Error::Internal(format!("a box {a}..{b} from rank 0"))),
        })
        .collect()
}

impl RegionCompute for EngineRegions {
    fn region_shape(&self) -> Vec<usize> {
        self.array.shape().to_vec()
    }

    fn region_dtype(&self) -> DType {
        self.array.dtype()
    }

    fn compute_region(&self, region: &[Range<usize>]) -> Result<NdData> {
        if !self.engine.is_root() {
            return Err(Error::Invalid(
                "only rank 0 asks for boxes; the other ranks follow it".into(),
            ));
        }
        let _one = self
            .busy
            .lock()
            .map_err(|_| Error::Internal("box lock".into()))?;
        if self.engine.size() > 1 {
            let cmd = Command::Region(
                region
                    .iter()
                    .map(|r| (r.start as u64, r.end as u64))
                    .collect(),
            );
            broadcast_value(&*self.engine, Some(&cmd), "the next box")?;
        }
        self.plan(region)?
            .run_on(&*self.engine)?
            .and_then(|mut r| r.pop())
            .ok_or_else(|| Error::Internal("rank 0 holds no result".into()))
    }
}
