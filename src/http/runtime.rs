//! [`Runtime`]: a single-threaded tokio runtime on a thread of its own, running the requests of
//! one [`super::HttpClient`] while the calling threads block until their answer is ready (what
//! `reqwest::blocking` does inside, without its limits: the async client can bound both the
//! wait between reads and the whole request at once).

use crate::error::{Error, Result};
use std::future::Future;
use std::thread::JoinHandle;

/// A runtime thread and a handle to give it work.
#[derive(Debug)]
pub(crate) struct Runtime {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Runtime {
    /// Starts the runtime's thread.
    pub(crate) fn start() -> Result<Runtime> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Invalid(format!("cannot start the HTTP runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("vastarray-http".into())
            .spawn(move || {
                // Runs every spawned request until told to stop (or the sender is dropped).
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| Error::Invalid(format!("cannot start the HTTP thread: {e}")))?;
        Ok(Runtime {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Enters the runtime's context (to build things that need one).
    pub(crate) fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.handle.enter()
    }

    /// Runs `work` on the runtime and waits for its output; `None` if the runtime is gone.
    pub(crate) fn run<F>(&self, work: F) -> Option<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv().ok()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
