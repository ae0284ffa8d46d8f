//! Streaming: the blocks of one result computed a few at a time ([`BlockStream`]), for results
//! larger than memory.

use super::pass::{region_ranges, Job};
use super::EvalConfig;
use crate::data::NdData;
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::ops::Range;

/// The blocks of one result, computed a few at a time (for results larger than memory).
pub struct BlockStream {
    job: Job,
    next: usize,
    ready: std::collections::VecDeque<(Vec<Range<usize>>, NdData)>,
    batch: usize,
    pool: rayon::ThreadPool,
}

impl BlockStream {
    pub(crate) fn new(job: Job, cfg: &EvalConfig) -> Result<BlockStream> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cfg.threads)
            .build()
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(BlockStream {
            job,
            next: 0,
            ready: Default::default(),
            batch: cfg.threads.max(1),
            pool,
        })
    }

    /// Number of blocks in all.
    pub fn num_blocks(&self) -> usize {
        match &self.job {
            Job::Reduce(j) => j.num_blocks(),
            Job::Blocks(j) => j.num_blocks(),
        }
    }

    fn fill(&mut self) -> Result<()> {
        let total = self.num_blocks();
        let end = (self.next + self.batch).min(total);
        let range = self.next..end;
        self.next = end;
        let job = &self.job;
        let computed: Vec<Result<(Vec<Range<usize>>, NdData)>> = self.pool.install(|| match job {
            Job::Blocks(j) => range
                .into_par_iter()
                .map(|b| {
                    Ok((
                        region_ranges(&j.blocks.region(b)),
                        j.run_block(b)?.remove(0),
                    ))
                })
                .collect(),
            Job::Reduce(j) => range
                .map(|b| {
                    let st = j.run_block(b, &|_| true, true, &|| {})?;
                    Ok((
                        region_ranges(&j.blocks.region(b)),
                        j.finalize(b, &st)?.remove(0),
                    ))
                })
                .collect(),
        });
        for c in computed {
            self.ready.push_back(c?);
        }
        Ok(())
    }
}

impl Iterator for BlockStream {
    type Item = Result<(Vec<Range<usize>>, NdData)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ready.is_empty() && self.next < self.num_blocks() {
            if let Err(e) = self.fill() {
                self.next = self.num_blocks();
                return Some(Err(e));
            }
        }
        self.ready.pop_front().map(Ok)
    }
}
