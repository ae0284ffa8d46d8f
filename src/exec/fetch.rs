//! Prefetch: before a task computes, the chunks it needs from latency-bound sources (HTTP,
//! a cache in front of one) are read concurrently, up to the I/O concurrency bound. Chunks
//! that every task of a pass needs are kept for the pass ([`PassChunks`]).

mod pass_chunks;

pub(crate) use pass_chunks::PassChunks;

use super::eval::{source_key, ChunkMap};
use crate::error::{Error, Result};
use crate::graph::{NodeRef, Op};
use crate::select::Region;
use crate::source::ChunkSource;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The chunks wanted of one source.
type Wanted = (Arc<dyn ChunkSource>, BTreeSet<Vec<usize>>);
/// One source's reads: source key, source, chunk indices.
type SourceReads = (usize, Arc<dyn ChunkSource>, Vec<Vec<usize>>);

/// Reads, concurrently, every chunk of a latency-bound source that `reads` touch, except
/// those `pass` has already; the chunks of sources `pass` keeps go there, the others into the
/// map returned.
pub(crate) fn prefetch(
    reads: &[(NodeRef, Region)],
    io_concurrency: usize,
    pass: Option<&PassChunks>,
) -> Result<ChunkMap> {
    let mut wanted: HashMap<usize, Wanted> = HashMap::new();
    for (node, region) in reads {
        if let Op::Source(src) = &node.op {
            if src.latency_bound() {
                let key = source_key(src);
                let e = wanted
                    .entry(key)
                    .or_insert_with(|| (src.clone(), BTreeSet::new()));
                e.1.extend(
                    super::read::chunks_for_region(src.as_ref(), region)
                        .into_iter()
                        .filter(|i| pass.is_none_or(|p| p.get(key, i).is_none())),
                );
            }
        }
    }
    let jobs: Vec<SourceReads> = wanted
        .into_iter()
        .filter(|(_, (_, set))| !set.is_empty())
        .map(|(id, (s, set))| (id, s, set.into_iter().collect()))
        .collect();
    let out = Mutex::new(ChunkMap::new());
    if jobs.is_empty() {
        return Ok(ChunkMap::new());
    }
    let next = AtomicUsize::new(0);
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let workers = io_concurrency.clamp(1, jobs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let j = next.fetch_add(1, Ordering::Relaxed);
                let Some((id, src, list)) = jobs.get(j) else {
                    break;
                };
                match read_all(src.as_ref(), list) {
                    Ok(chunks) => match pass.filter(|p| p.holds(*id)) {
                        Some(p) => {
                            for (idx, c) in list.iter().zip(chunks) {
                                p.insert(*id, idx, Arc::new(c));
                            }
                        }
                        None => {
                            if let Ok(mut m) = out.lock() {
                                for (idx, c) in list.iter().zip(chunks) {
                                    m.insert((*id, idx.clone()), Arc::new(c));
                                }
                            }
                        }
                    },
                    Err(e) => {
                        if let Ok(mut f) = first_error.lock() {
                            f.get_or_insert(e);
                        }
                        // Stop handing out work: the task fails anyway.
                        next.store(jobs.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().ok().flatten() {
        return Err(e);
    }
    out.into_inner()
        .map_err(|_| Error::Internal("prefetch lock poisoned".into()))
}

fn read_all(src: &dyn ChunkSource, list: &[Vec<usize>]) -> Result<Vec<crate::NdData>> {
    let chunks = src.read_chunks(list)?;
    if chunks.len() != list.len() {
        return Err(Error::read(
            src.name(),
            None,
            format!("asked for {} chunks, got {}", list.len(), chunks.len()),
        ));
    }
    let grid = src.grid();
    for (idx, c) in list.iter().zip(&chunks) {
        c.expect(src.dtype(), &grid.chunk_extent(idx), &|| {
            format!("{} chunk {:?}", src.name(), idx)
        })?;
    }
    Ok(chunks)
}
