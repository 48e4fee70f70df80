//! A one-line progress counter on stderr for long commands (`build` of a large intent): drawn
//! only when stderr is a terminal and `-q` is not given, redrawn at most every 100 ms (`\r`
//! and erase-line), and erased when the work is done, so logs and pipes never see it.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use crate::emit::{ArtifactSink, EmitError, Install};

/// How often the line is redrawn. `NETC_PROGRESS_INTERVAL_MS` overrides it (tests use 0 to
/// see every update of a small build).
fn interval() -> Duration {
    std::env::var("NETC_PROGRESS_INTERVAL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_millis(100), Duration::from_millis)
}

pub struct Progress {
    what: &'static str,
    enabled: bool,
    done: usize,
    every: Duration,
    last: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// A counter of `what` ("files written"), shown when stderr is a terminal and not `quiet`.
    pub fn on_stderr(what: &'static str, quiet: bool) -> Self {
        Self {
            what,
            enabled: !quiet && std::io::stderr().is_terminal(),
            done: 0,
            every: interval(),
            last: None,
            drawn: false,
        }
    }

    pub fn tick(&mut self) {
        self.done += 1;
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < self.every)
        {
            return;
        }
        self.last = Some(now);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[Knetc: {} {}", self.done, self.what);
        let _ = err.flush();
        self.drawn = true;
    }

    /// Erases the line, so the command's own summary starts on a clean line.
    pub fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A sink that counts every file it passes on.
pub struct CountingSink<'a> {
    pub inner: &'a mut dyn ArtifactSink,
    pub progress: &'a mut Progress,
}

impl ArtifactSink for CountingSink<'_> {
    fn put(&mut self, path: String, contents: Vec<u8>) -> Result<(), EmitError> {
        self.inner.put(path, contents)?;
        self.progress.tick();
        Ok(())
    }

    fn put_installed(
        &mut self,
        path: String,
        contents: Vec<u8>,
        install: Install,
    ) -> Result<(), EmitError> {
        self.inner.put_installed(path, contents, install)?;
        self.progress.tick();
        Ok(())
    }
}
