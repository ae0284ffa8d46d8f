//! Partial runs: partition `k` of `n` of a pass ([`Job::run_partition`]), its serializable
//! result ([`PartialResult`]) and the merge of every partition's result ([`Job::finish`]).

use super::pass::{place, Job};
use super::reduce_state::ReduceState;
use crate::data::NdData;
use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The mergeable partial result of running partition `k` of `n` of a plan's final passes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartialResult {
    /// Per pass: reduction states by block, or computed blocks by block.
    pub passes: Vec<PartialPass>,
}

/// The partial result of one pass.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum PartialPass {
    /// Reduction states of every output block (over this partition's pieces).
    Reduce(Vec<ReduceState>),
    /// The blocks this partition computed: (block number, one block per root).
    Blocks(Vec<(usize, Vec<NdDataSer>)>),
}

/// A block in a serializable form: type name, shape and its raw little-endian bytes (exact for
/// every type).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NdDataSer {
    /// numpy type name.
    pub dtype: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Values, little-endian bytes in C order.
    pub bytes: Vec<u8>,
}

impl NdDataSer {
    /// Serializes a block.
    pub fn from_data(d: &NdData) -> NdDataSer {
        NdDataSer {
            dtype: d.dtype().name().into(),
            shape: d.shape().to_vec(),
            bytes: crate::data::nd_to_bytes(d),
        }
    }

    /// Deserializes a block (exactly: every type through its own bytes).
    pub fn to_data(&self) -> Result<NdData> {
        let dtype = crate::DType::parse(&self.dtype)?;
        crate::data::nd_from_bytes(dtype, &self.shape, &self.bytes)
            .map_err(|e| Error::Invalid(format!("partial block: {e}")))
    }
}

impl Job {
    /// Runs partition `k` of `n` of this pass: tasks whose number is `k` modulo `n`.
    pub(crate) fn run_partition(&self, k: usize, n: usize) -> Result<PartialPass> {
        let keep = move |t: usize| t % n == k;
        match self {
            Job::Reduce(j) => {
                // As `ReduceJob::run`: many blocks in parallel, or the pieces of each block.
                let states = if j.plan.parallel_blocks {
                    (0..j.num_blocks())
                        .into_par_iter()
                        .map(|b| j.run_block(b, &keep, false, &|| {}))
                        .collect::<Result<Vec<_>>>()?
                } else {
                    (0..j.num_blocks())
                        .map(|b| j.run_block(b, &keep, true, &|| {}))
                        .collect::<Result<Vec<_>>>()?
                };
                Ok(PartialPass::Reduce(states))
            }
            Job::Blocks(j) => {
                let blocks = (0..j.num_blocks())
                    .into_par_iter()
                    .filter(|&b| keep(b))
                    .map(|b| {
                        Ok((
                            b,
                            j.run_block(b)?.iter().map(NdDataSer::from_data).collect(),
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(PartialPass::Blocks(blocks))
            }
        }
    }

    /// Merges the partial results of all partitions of this pass into its results.
    pub(crate) fn finish(&self, parts: Vec<PartialPass>) -> Result<Vec<NdData>> {
        match self {
            Job::Reduce(j) => {
                let mut states: Vec<ReduceState> = (0..j.num_blocks())
                    .map(|b| ReduceState::new(j.needs, j.block_len(b)))
                    .collect();
                for p in parts {
                    match p {
                        PartialPass::Reduce(s) if s.len() == states.len() => {
                            for (a, b) in states.iter_mut().zip(&s) {
                                a.merge(b)?;
                            }
                        }
                        _ => {
                            return Err(Error::Invalid(
                                "partial result does not belong to this reduction pass".into(),
                            ))
                        }
                    }
                }
                let mut outs: Vec<NdData> = j
                    .roots
                    .iter()
                    .map(|r| NdData::zeros(r.dtype, &j.out_shape))
                    .collect();
                for (b, st) in states.iter().enumerate() {
                    for (out, part) in outs.iter_mut().zip(j.finalize(b, st)?) {
                        place(out, &j.blocks.region(b), &part)?;
                    }
                }
                Ok(outs)
            }
            Job::Blocks(j) => {
                let mut outs = self.empty_outputs();
                let mut seen = vec![false; j.num_blocks()];
                for p in parts {
                    self.place_blocks(&mut outs, &mut seen, p)?;
                }
                if let Some(missing) = seen.iter().position(|s| !s) {
                    return Err(Error::Invalid(format!(
                        "block {missing} is in no partial result: a partition is missing"
                    )));
                }
                Ok(outs)
            }
        }
    }

    /// Zero-filled results of every root of this pass, to place computed blocks into.
    pub(crate) fn empty_outputs(&self) -> Vec<NdData> {
        let (roots, shape) = match self {
            Job::Reduce(j) => (&j.roots, &j.out_shape),
            Job::Blocks(j) => (&j.roots, &j.roots[0].shape),
        };
        roots
            .iter()
            .map(|r| NdData::zeros(r.dtype, shape))
            .collect()
    }

    /// Places the computed blocks of one partition of this block pass into `outs`, marking
    /// them in `seen`.
    pub(crate) fn place_blocks(
        &self,
        outs: &mut [NdData],
        seen: &mut [bool],
        part: PartialPass,
    ) -> Result<()> {
        let (Job::Blocks(j), PartialPass::Blocks(blocks)) = (self, part) else {
            return Err(Error::Invalid(
                "partial result does not belong to this block pass".into(),
            ));
        };
        for (b, datas) in blocks {
            if b >= seen.len() || datas.len() != outs.len() {
                return Err(Error::Invalid(format!(
                    "partial block {b} does not belong to this pass"
                )));
            }
            seen[b] = true;
            for (out, d) in outs.iter_mut().zip(&datas) {
                place(out, &j.blocks.region(b), &d.to_data()?)?;
            }
        }
        Ok(())
    }
}

impl PartialPass {
    /// Merges the partial result of another partition of the same reduction pass into this
    /// one (state by state: the states of disjoint parts of the input).
    pub fn merge(&mut self, other: PartialPass) -> Result<()> {
        match (self, other) {
            (PartialPass::Reduce(a), PartialPass::Reduce(b)) if a.len() == b.len() => {
                for (x, y) in a.iter_mut().zip(&b) {
                    x.merge(y)?;
                }
                Ok(())
            }
            _ => Err(Error::Invalid(
                "partial results of different reduction passes cannot merge".into(),
            )),
        }
    }
}
