//! `explain()`: the plan in words: stages, passes, blocks, projected memory, the graph, and
//! what each source is asked for.

use super::eval::collect_reads;
use super::read::axis_pieces;
use crate::config::human_bytes;
use crate::error::Result;
use crate::graph::{NodeRef, Op};
use crate::plan::{is_source, Plan};
use crate::select::{full_region, Dim};
use std::collections::HashSet;
use std::fmt::Write;

const MAX_LISTED: usize = 8;

impl Plan {
    /// A description a person can read: the stages and passes with their blocks and projected
    /// peak memory, the optimised graph, and for each source the selection it receives and
    /// the chunks and bytes it will read. Nothing is read to make it.
    pub fn explain(&self) -> Result<String> {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plan: {} result(s); budget {}, {} thread(s), {} concurrent reads",
            self.roots().len(),
            human_bytes(self.config().budget),
            self.config().threads,
            self.config().io_concurrency
        );
        for (i, st) in self.stages().iter().enumerate() {
            let _ = writeln!(
                s,
                "stage {}: {} -> {:?} {} ({}), computed first and kept in memory",
                i + 1,
                st.label(),
                st.shape,
                st.dtype,
                human_bytes(st.size() * st.dtype.size())
            );
        }
        let placeholders = self.run_stages(true)?;
        let mut peak = 0;
        for (p, (idx, job)) in self.jobs(&placeholders)?.iter().enumerate() {
            let _ = writeln!(s, "pass {}: result(s) {:?}", p + 1, idx);
            let _ = writeln!(s, "  {}", job.describe());
            peak = peak.max(job.peak());
        }
        let _ = writeln!(
            s,
            "projected peak memory: {} of {}",
            human_bytes(peak),
            human_bytes(self.config().budget)
        );
        let _ = writeln!(s, "graph:");
        let mut seen = HashSet::new();
        for r in self.roots() {
            tree(r, 1, &mut seen, &mut s);
        }
        let _ = writeln!(s, "reads:");
        let mut reads = Vec::new();
        for r in self.roots() {
            collect_reads(r, &full_region(&r.shape), &mut reads)?;
        }
        // Roots of one pass read a shared source once.
        let mut seen_reads = HashSet::new();
        reads.retain(|(n, region)| seen_reads.insert((n.id, format!("{region:?}"))));
        let (mut total_chunks, mut total_bytes) = (0usize, 0usize);
        for (k, (node, region)) in reads.iter().enumerate() {
            if let Op::Source(src) = &node.op {
                let chunks: usize = region
                    .iter()
                    .zip(src.chunk_shape())
                    .map(|(d, &c)| distinct_chunks(d, c))
                    .product();
                let bytes =
                    chunks * src.chunk_shape().iter().product::<usize>() * src.dtype().size();
                total_chunks += chunks;
                total_bytes += bytes;
                if k < MAX_LISTED {
                    let _ = writeln!(
                        s,
                        "  {}: {} -> {} chunk(s), up to {}",
                        src.name(),
                        describe_region(region),
                        chunks,
                        human_bytes(bytes)
                    );
                }
            }
        }
        if reads.len() > MAX_LISTED {
            let _ = writeln!(
                s,
                "  ... and {} more source reads",
                reads.len() - MAX_LISTED
            );
        }
        let _ = writeln!(
            s,
            "  total: {} source read(s), {} chunk(s), up to {}",
            reads.len(),
            total_chunks,
            human_bytes(total_bytes)
        );
        Ok(s)
    }
}

fn distinct_chunks(d: &Dim, c: usize) -> usize {
    let mut v: Vec<usize> = axis_pieces(d, c).into_iter().map(|p| p.chunk).collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn describe_region(region: &[Dim]) -> String {
    let items: Vec<crate::select::SelItem> = region
        .iter()
        .map(|d| crate::select::SelItem::Keep(d.clone()))
        .collect();
    crate::select::Selection::from_items(items).describe()
}

fn tree(n: &NodeRef, depth: usize, seen: &mut HashSet<u64>, s: &mut String) {
    crate::graph::deep(|| {
        let pad = "  ".repeat(depth);
        if !seen.insert(n.id) && !is_source(n) {
            let _ = writeln!(s, "{pad}(shared) {}", n.label());
            return;
        }
        let _ = writeln!(s, "{pad}{} -> {:?} {}", n.label(), n.shape, n.dtype);
        let inputs = n.inputs();
        for (i, c) in inputs.iter().enumerate() {
            if i == MAX_LISTED / 2 && inputs.len() > MAX_LISTED {
                let _ = writeln!(s, "{pad}  ... {} more tiles", inputs.len() - MAX_LISTED / 2);
                break;
            }
            tree(c, depth + 1, seen, s);
        }
    })
}
