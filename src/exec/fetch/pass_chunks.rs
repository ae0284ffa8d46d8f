//! [`PassChunks`]: chunks kept for a whole pass, because several of its tasks need them and no
//! choice of blocks can give each chunk to one task: the operand of a broadcast (every block
//! along the stretched axes reads it), a list that returns to a chunk it left, and one source
//! seen through two different views (`stack([a, a])`, `a[1:] - a[:-1]`, `a + a.T`).
//!
//! Each chunk is read once, by the first task that needs it, while other tasks wanting the
//! same chunk wait for that read. Only sources whose chunks the pass needs fit in a share of
//! the budget are kept; their bytes are part of the plan's projected peak
//! ([`super::super::blocks`]). Other sources rely on blocks that follow their chunks.

use crate::data::NdData;
use crate::error::{Error, Result};
use crate::exec::eval::source_key;
use crate::exec::regions::input_regions;
use crate::graph::{NodeRef, Op};
use crate::select::{full_region, Dim, Region};
use crate::source::ChunkSource;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

/// A chunk read at most once per pass: empty until its first reader fills it.
type Slot = Arc<Mutex<Option<Arc<NdData>>>>;

/// Chunks of some sources kept for a whole pass (see the module documentation).
pub(crate) struct PassChunks {
    keys: HashSet<usize>,
    bytes: usize,
    slots: Mutex<HashMap<(usize, Vec<usize>), Slot>>,
}

impl std::fmt::Debug for PassChunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassChunks")
            .field("sources", &self.keys.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl PassChunks {
    /// Keeps nothing.
    pub(crate) fn none() -> PassChunks {
        PassChunks {
            keys: HashSet::new(),
            bytes: 0,
            slots: Mutex::default(),
        }
    }

    /// The chunks to keep for a pass computing the whole of every root: sources that several
    /// tasks would read the same chunks of, as long as their chunks fit in `limit` bytes.
    pub(crate) fn plan(roots: &[NodeRef], limit: usize) -> PassChunks {
        let mut walk = Walk::default();
        for r in roots {
            walk.visit(r, full_region(&r.shape), 0, false);
        }
        let mut found: Vec<(usize, Found)> = walk.found.into_iter().collect();
        // Smallest first, so as many sources as possible fit.
        found.sort_by_key(|(k, f)| (f.bytes(), *k));
        let mut out = PassChunks::none();
        for (key, f) in found {
            let shared = f.flagged || f.views.len() > 1;
            if !shared || f.src.cheap_region_reads() {
                continue;
            }
            let b = f.bytes();
            if out.bytes.saturating_add(b) > limit {
                break;
            }
            out.bytes += b;
            out.keys.insert(key);
        }
        out
    }

    /// Projected bytes of every kept chunk.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// True when the chunks of the source with key `key` are kept.
    pub(crate) fn holds(&self, key: usize) -> bool {
        self.keys.contains(&key)
    }

    /// A kept chunk that has been read.
    pub(crate) fn get(&self, key: usize, index: &[usize]) -> Option<Arc<NdData>> {
        let slot = self
            .slots
            .lock()
            .ok()?
            .get(&(key, index.to_vec()))
            .cloned()?;
        let chunk = slot.lock().ok()?.clone();
        chunk
    }

    /// The chunk, read with `read` by the first caller; callers asking at the same time wait
    /// for that read. A failed read leaves the chunk unread.
    pub(crate) fn get_or_read(
        &self,
        key: usize,
        index: &[usize],
        read: &mut dyn FnMut() -> Result<NdData>,
    ) -> Result<Arc<NdData>> {
        let slot = {
            let mut slots = self.slots.lock().map_err(|_| poisoned())?;
            slots.entry((key, index.to_vec())).or_default().clone()
        };
        let mut chunk = slot.lock().map_err(|_| poisoned())?;
        if let Some(c) = chunk.as_ref() {
            return Ok(c.clone());
        }
        let c = Arc::new(read()?);
        *chunk = Some(c.clone());
        Ok(c)
    }

    /// Keeps a chunk read elsewhere (a prefetch), unless one is kept already.
    pub(crate) fn insert(&self, key: usize, index: &[usize], chunk: Arc<NdData>) {
        if let Ok(mut slots) = self.slots.lock() {
            let slot = slots.entry((key, index.to_vec())).or_default();
            if let Ok(mut c) = slot.lock() {
                c.get_or_insert(chunk);
            }
        }
    }
}

fn poisoned() -> Error {
    Error::Internal("pass chunk lock poisoned".into())
}

/// One source as the walk found it.
struct Found {
    src: Arc<dyn ChunkSource>,
    /// The views (paths of selections, transposes, broadcasts, mosaic tiles) it is seen
    /// through.
    views: HashSet<u64>,
    /// Seen through a broadcast that stretches or a list that returns to a position it left.
    flagged: bool,
    /// The regions of it the pass reads.
    regions: Vec<Region>,
}

impl Found {
    /// An upper bound of the bytes of the chunks the pass reads: those of every region read,
    /// and never more than the whole source's chunks.
    fn bytes(&self) -> usize {
        let chunks = self.src.chunk_shape();
        let chunk_bytes = chunks
            .iter()
            .fold(self.src.dtype().size(), |a, &c| a.saturating_mul(c));
        let all = self
            .src
            .shape()
            .iter()
            .zip(chunks)
            .fold(chunk_bytes, |a, (&n, &c)| {
                a.saturating_mul(n.div_ceil(c.max(1)))
            });
        let distinct: HashSet<&Region> = self.regions.iter().collect();
        distinct
            .into_iter()
            .map(|r| {
                r.iter().zip(chunks).fold(chunk_bytes, |a, (d, &c)| {
                    a.saturating_mul(chunks_on_axis(d, c))
                })
            })
            .fold(0usize, |a, b| a.saturating_add(b))
            .min(all)
    }
}

/// An upper bound of the chunks of `c` positions that `dim` touches.
fn chunks_on_axis(dim: &Dim, c: usize) -> usize {
    let c = c.max(1);
    match dim {
        Dim::Stride(s) => {
            let span = s.bounds().len();
            s.len.min(span.div_ceil(c) + 1)
        }
        Dim::List(l) => l.iter().map(|&p| p / c).collect::<HashSet<_>>().len(),
    }
}

/// A walk from the roots to the sources, each (node, region, view) once.
#[derive(Default)]
struct Walk {
    seen: HashSet<(u64, Region, u64, bool)>,
    found: HashMap<usize, Found>,
}

impl Walk {
    fn visit(&mut self, node: &NodeRef, region: Region, view: u64, flagged: bool) {
        if region.iter().any(|d| d.is_empty())
            || !self.seen.insert((node.id, region.clone(), view, flagged))
        {
            return;
        }
        if let Op::Source(src) = &node.op {
            let f = self.found.entry(source_key(src)).or_insert_with(|| Found {
                src: src.clone(),
                views: HashSet::new(),
                flagged: false,
                regions: Vec::new(),
            });
            f.views.insert(view);
            f.flagged |= flagged;
            f.regions.push(region);
            return;
        }
        // A graph the executor cannot map fails when it runs, with its own error.
        let Ok(regions) = input_regions(node, &region) else {
            return;
        };
        let inputs = node.inputs();
        for (k, r) in regions {
            let (v, f) = step(node, k, view, flagged);
            stacker::maybe_grow(64 << 10, 1 << 20, || self.visit(inputs[k], r, v, f));
        }
    }
}

/// The view and flag below input `k` of `node`.
fn step(node: &NodeRef, k: usize, view: u64, flagged: bool) -> (u64, bool) {
    let mix = |parts: &[u64]| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        view.hash(&mut h);
        parts.hash(&mut h);
        h.finish()
    };
    match &node.op {
        Op::Select(_, sel) => {
            let revisits = sel.items().iter().any(|i| match i {
                crate::select::SelItem::Keep(Dim::List(l)) => !monotone(l),
                _ => false,
            });
            (mix(&[node.id]), flagged || revisits)
        }
        Op::Broadcast(input) => {
            let stretches = node.size() > input.size();
            (mix(&[node.id]), flagged || stretches)
        }
        Op::Transpose(..) | Op::Reduce(_) => (mix(&[node.id]), flagged),
        Op::Mosaic { .. } => (mix(&[node.id, k as u64]), flagged),
        _ => (view, flagged),
    }
}

fn monotone(l: &[usize]) -> bool {
    l.windows(2).all(|w| w[0] <= w[1]) || l.windows(2).all(|w| w[0] >= w[1])
}
