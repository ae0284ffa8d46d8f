//! [`MpiEngine`]: the ranks of an `mpirun` / `srun` job as an [`Engine`], over rsmpi's world
//! communicator (feature `mpi`, Open MPI or any MPI the `mpi` crate builds against).
//!
//! MPI is initialized only when the process was launched by an MPI starter
//! ([`launched_by_mpi`]): a command started by hand never touches MPI. Messages longer than
//! MPI's `int` counts go in pieces of 1 GiB after their length.

use super::Engine;
use crate::error::{Error, Result};
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use mpi::Threading;
use std::sync::Mutex;

/// The most bytes one MPI message carries (well inside MPI's `int` counts).
const PIECE: usize = 1 << 30;

/// Variables that MPI starters set in every process they launch: Open MPI's `mpirun`
/// (`OMPI_COMM_WORLD_SIZE`), PMIx (`PMIX_RANK`: Open MPI 5, `srun --mpi=pmix`), PMI-1/2
/// (`PMI_RANK`, `PMI_SIZE`: MPICH's Hydra, `srun --mpi=pmi2`).
const LAUNCH_VARIABLES: [&str; 4] = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"];

/// True when an MPI starter launched this process: one of `OMPI_COMM_WORLD_SIZE` (Open MPI's
/// `mpirun`), `PMIX_RANK` (PMIx: Open MPI 5, `srun --mpi=pmix`), `PMI_RANK` or `PMI_SIZE`
/// (PMI-1/2: MPICH's Hydra, `srun --mpi=pmi2`) is set.
pub fn launched_by_mpi() -> bool {
    LAUNCH_VARIABLES
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// The ranks of an MPI job. Holds MPI's universe: MPI is finalized when it is dropped, so
/// keep it until every rank is done.
pub struct MpiEngine {
    world: Mutex<SimpleCommunicator>,
    rank: usize,
    size: usize,
    // Dropped last: `MPI_Finalize`.
    _universe: Universe,
}

// SAFETY: MPI is initialized with at least `MPI_THREAD_SERIALIZED` (checked in `start`), so
// any thread may call it as long as no two do at once; every call goes through the mutex
// around the communicator (abort excepted, which ends the process).
unsafe impl Send for MpiEngine {}
// SAFETY: as above: shared use is serialized by the mutex.
unsafe impl Sync for MpiEngine {}

impl std::fmt::Debug for MpiEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MpiEngine(rank {} of {})", self.rank, self.size)
    }
}

fn mpi_error(what: &str) -> Error {
    Error::Internal(format!("MPI: {what}"))
}

impl MpiEngine {
    /// Initializes MPI when an MPI starter launched this process; `None` otherwise (the
    /// process runs alone, as [`super::Local`]).
    pub fn start() -> Result<Option<MpiEngine>> {
        if !launched_by_mpi() {
            return Ok(None);
        }
        let (universe, threading) = mpi::initialize_with_threading(Threading::Serialized)
            .ok_or_else(|| mpi_error("MPI was initialized already"))?;
        if threading < Threading::Serialized {
            return Err(mpi_error(&format!(
                "the MPI library gives {threading:?} threading; vastarray needs Serialized"
            )));
        }
        let world = universe.world();
        let (rank, size) = (world.rank(), world.size());
        Ok(Some(MpiEngine {
            world: Mutex::new(world),
            rank: usize::try_from(rank).map_err(|_| mpi_error("negative rank"))?,
            size: usize::try_from(size).map_err(|_| mpi_error("negative size"))?,
            _universe: universe,
        }))
    }

    fn world(&self) -> Result<std::sync::MutexGuard<'_, SimpleCommunicator>> {
        self.world
            .lock()
            .map_err(|_| mpi_error("communicator lock poisoned"))
    }

    fn peer(&self, r: usize) -> Result<i32> {
        if r >= self.size {
            return Err(Error::Invalid(format!(
                "rank {r} does not exist: the job has {} ranks",
                self.size
            )));
        }
        i32::try_from(r).map_err(|_| mpi_error("rank beyond MPI's int"))
    }
}

impl Engine for MpiEngine {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn send(&self, to: usize, bytes: &[u8]) -> Result<()> {
        let peer = self.peer(to)?;
        let world = self.world()?;
        let p = world.process_at_rank(peer);
        p.send(&(bytes.len() as u64));
        for piece in bytes.chunks(PIECE) {
            p.send(piece);
        }
        Ok(())
    }

    fn receive(&self, from: usize) -> Result<Vec<u8>> {
        let peer = self.peer(from)?;
        let world = self.world()?;
        let p = world.process_at_rank(peer);
        let (len, _) = p.receive::<u64>();
        let len = usize::try_from(len).map_err(|_| mpi_error("message beyond memory"))?;
        let mut out = Vec::new();
        out.try_reserve_exact(len)
            .map_err(|_| mpi_error(&format!("no memory for a message of {len} bytes")))?;
        while out.len() < len {
            let (piece, _) = p.receive_vec::<u8>();
            if piece.is_empty() || out.len() + piece.len() > len {
                return Err(mpi_error("a message's pieces do not add up to its length"));
            }
            out.extend_from_slice(&piece);
        }
        Ok(out)
    }

    /// `MPI_Abort`: every rank of the job ends with `code`.
    fn abort(&self, code: i32) -> ! {
        // No lock: another thread may hold it while waiting on a rank that will never answer.
        SimpleCommunicator::world().abort(code)
    }

    fn broadcast(&self, root: usize, mut bytes: Vec<u8>) -> Result<Vec<u8>> {
        let peer = self.peer(root)?;
        let world = self.world()?;
        let p = world.process_at_rank(peer);
        let mut len = bytes.len() as u64;
        p.broadcast_into(&mut len);
        if self.rank != root {
            let len = usize::try_from(len).map_err(|_| mpi_error("message beyond memory"))?;
            bytes = Vec::new();
            bytes
                .try_reserve_exact(len)
                .map_err(|_| mpi_error(&format!("no memory for a message of {len} bytes")))?;
            bytes.resize(len, 0);
        }
        for piece in bytes.chunks_mut(PIECE) {
            p.broadcast_into(piece);
        }
        Ok(bytes)
    }
}
