//! Asking for results: [`DynArray::ndarray`], [`evaluate`] (several arrays in shared passes),
//! [`DynArray::stream`], [`DynArray::explain`] and [`DynArray::to_dot`].

use crate::data::NdData;
use crate::error::Result;
use crate::exec::{BlockStream, EvalConfig};
use crate::graph::DynArray;
use crate::plan::Plan;

/// Evaluates several arrays together: reductions of one input over the same axes share one
/// pass, and arrays of one shape are computed block by block together, so each source chunk
/// is read once where possible.
///
/// ```
/// use vastarray::{evaluate, Axes, DynArray, EvalConfig, GeneratedSource};
/// let a = DynArray::from_source(GeneratedSource::from_index_fn(&[100, 50], &[10, 50], |ix| ix[0] as f64).unwrap());
/// let (m, s) = (a.mean(Axes::All).unwrap(), a.std(Axes::All).unwrap());
/// let r = evaluate(&[&m, &s], &EvalConfig::default()).unwrap();
/// assert_eq!(r[0].clone().into_typed::<f64>().unwrap()[[]], 49.5);
/// ```
pub fn evaluate(arrays: &[&DynArray], cfg: &EvalConfig) -> Result<Vec<NdData>> {
    Plan::new(arrays, cfg)?.run()
}

impl DynArray {
    /// Computes the array into memory with the default configuration.
    pub fn ndarray(&self) -> Result<NdData> {
        self.ndarray_with(&EvalConfig::default())
    }

    /// Computes the array into memory.
    pub fn ndarray_with(&self, cfg: &EvalConfig) -> Result<NdData> {
        Ok(Plan::new(&[self], cfg)?.run()?.remove(0))
    }

    /// The plan that would compute this array.
    pub fn plan(&self, cfg: &EvalConfig) -> Result<Plan> {
        Plan::new(&[self], cfg)
    }

    /// Computes the array block by block: each item is a box of the result (one range per
    /// axis) and its values. Memory stays bounded whatever the result's size.
    pub fn stream(&self, cfg: &EvalConfig) -> Result<BlockStream> {
        Plan::new(&[self], cfg)?.stream()
    }

    /// The plan in words (see [`Plan::explain`]).
    pub fn explain(&self, cfg: &EvalConfig) -> Result<String> {
        Plan::new(&[self], cfg)?.explain()
    }

    /// The optimised expression graph in Graphviz's dot language.
    pub fn to_dot(&self) -> Result<String> {
        Ok(Plan::new(&[self], &EvalConfig::default())?.to_dot())
    }
}

impl crate::sink::RegionCompute for DynArray {
    fn region_shape(&self) -> Vec<usize> {
        self.shape().to_vec()
    }
    fn region_dtype(&self) -> crate::DType {
        self.dtype()
    }
    fn compute_region(&self, region: &[std::ops::Range<usize>]) -> Result<NdData> {
        let sel: Vec<crate::SliceArg> = region
            .iter()
            .map(|r| crate::SliceArg::range(r.start as isize, r.end as isize))
            .collect();
        self.select(&sel)?.ndarray()
    }
}
