//! Standard output and standard error, written the way careful Unix tools
//! write them.
//!
//! - A closed pipe (`carepath decide ... | head`) ends that stream quietly:
//!   nothing more is written to it, and the run ends with the status it
//!   would have had.
//! - Any other write error (a full disk, `> /dev/full`) is remembered; the
//!   run goes on (files are still written, other reports still printed) and
//!   ends with exit status 2 and one message on standard error saying what
//!   could not be written.
//!
//! Every line the command prints goes through [`out`] and [`err`] (or the
//! `outln!` and `errln!` macros), never `println!`, which panics on a
//! closed pipe.

use std::io::{self, Write};
use std::sync::Mutex;

use super::Status;

/// What happened to one stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    Open,
    /// The reader went away: stop writing, say nothing.
    Closed,
    /// A real write error; the first one's description is kept.
    Failed,
}

struct Stream {
    health: Health,
    error: Option<String>,
}

static STDOUT: Mutex<Stream> = Mutex::new(Stream {
    health: Health::Open,
    error: None,
});
static STDERR: Mutex<Stream> = Mutex::new(Stream {
    health: Health::Open,
    error: None,
});

fn write_to(state: &Mutex<Stream>, write: impl FnOnce() -> io::Result<()>) {
    let _ = guarded(state, write);
}

/// Run `write` unless the stream has already failed or closed, and record
/// how it ends; the error is handed back so that a writer can stop.
fn guarded<T>(state: &Mutex<Stream>, write: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    match s.health {
        Health::Open => {}
        Health::Closed => return Err(io::ErrorKind::BrokenPipe.into()),
        Health::Failed => return Err(io::Error::other("standard output failed before")),
    }
    write().inspect_err(|e| {
        if e.kind() == io::ErrorKind::BrokenPipe {
            s.health = Health::Closed;
        } else {
            s.health = Health::Failed;
            s.error = Some(super::input::describe(e));
        }
    })
}

/// Write `text` to standard output.
pub fn out(text: &str) {
    write_to(&STDOUT, || io::stdout().lock().write_all(text.as_bytes()));
}

/// Write `text` to standard error.
pub fn err(text: &str) {
    write_to(&STDERR, || {
        let mut e = io::stderr().lock();
        e.write_all(text.as_bytes())?;
        e.flush()
    });
}

/// Standard output as a writer, for a stream of many lines (`decide` on a
/// batch) that its writer gathers into large pieces: one system call per
/// piece, not per line. A write error is recorded as for [`out`] (so
/// [`finish`] reports it, or says nothing for a closed pipe) and returned,
/// so that the stream stops instead of computing lines no one reads.
pub struct StdoutStream {
    lock: io::StdoutLock<'static>,
}

impl StdoutStream {
    pub fn new() -> StdoutStream {
        StdoutStream {
            lock: io::stdout().lock(),
        }
    }
}

impl Write for StdoutStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        guarded(&STDOUT, || self.lock.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        guarded(&STDOUT, || self.lock.flush())
    }
}

/// Flush standard output, and turn any write error of the run into its
/// exit status: 2 with a message when something could not be written.
pub fn finish(status: Status) -> Status {
    write_to(&STDOUT, || io::stdout().lock().flush());
    let out = STDOUT.lock().unwrap_or_else(|p| p.into_inner());
    let failed_err = STDERR
        .lock()
        .map(|s| s.health == Health::Failed)
        .unwrap_or(true);
    if out.health == Health::Failed {
        let why = out.error.clone().unwrap_or_default();
        drop(out);
        err(&format!("error: cannot write to standard output: {why}\n"));
        return Status::Usage;
    }
    if failed_err {
        // Nothing can be said about it: standard error is what failed.
        return Status::Usage;
    }
    status
}

/// `println!` to standard output through [`out`].
macro_rules! outln {
    () => { $crate::cli::output::out("\n") };
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        $crate::cli::output::out(&line);
    }};
}

/// `eprintln!` to standard error through [`err`].
macro_rules! errln {
    () => { $crate::cli::output::err("\n") };
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        $crate::cli::output::err(&line);
    }};
}

pub(crate) use {errln, outln};
