//! A bound on how much a dump writes: [`Limited`].
//!
//! A dump's size is not bounded by its input's: a struct of 4 GiB with no
//! members is 319 bytes of BTF and ~90 GB of C padding, and a million
//! members that share one long name are a terabyte of raw dump. Both dumps
//! are right, as bpftool's are; a tool that dumps what it is handed (in CI,
//! in a service) puts a [`Limited`] between the dump and its destination
//! and stops at the bound, before the destination has seen more.

use core::fmt;

use super::ByteSink;

/// A [`ByteSink`] that passes bytes on to `S` until `max` bytes have been
/// written, then fails with [`LimitError::Exceeded`]: the dump stops there,
/// and `S` holds exactly the first `max` bytes.
///
/// ```
/// # let blob = btf_core::testing::tiny_blob();
/// use btf_core::dump::{self, LimitError, Limited};
/// let btf = btf_core::Btf::parse(&blob)?;
///
/// let mut out = Vec::new();
/// let mut limited = Limited::new(&mut out, 16);
/// let stopped = dump::write_raw(&btf, &mut limited);
/// assert!(matches!(stopped, Err(LimitError::Exceeded { max: 16 })));
/// assert_eq!(out, b"[1] INT 'int' si");
///
/// // Under the bound, the dump is whole.
/// let mut out = Vec::new();
/// dump::write_raw(&btf, &mut Limited::new(&mut out, 1 << 20)).unwrap();
/// assert!(out.ends_with(b"\n"));
/// # Ok::<(), btf_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Limited<S> {
    sink: S,
    max: u64,
    written: u64,
}

impl<S> Limited<S> {
    /// Bounds `sink` to `max` bytes.
    pub const fn new(sink: S, max: u64) -> Limited<S> {
        Limited {
            sink,
            max,
            written: 0,
        }
    }

    /// The bytes passed on so far (at most the bound).
    pub const fn written(&self) -> u64 {
        self.written
    }

    /// The destination.
    pub fn into_inner(self) -> S {
        self.sink
    }
}

impl<S: ByteSink> ByteSink for Limited<S> {
    type Error = LimitError<S::Error>;

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        let room = self.max.saturating_sub(self.written);
        let fits = usize::try_from(room).map_or(bytes.len(), |room| room.min(bytes.len()));
        let (now, over) = bytes.split_at(fits);
        if !now.is_empty() {
            self.sink.write_bytes(now).map_err(LimitError::Sink)?;
            self.written = self.written.saturating_add(now.len() as u64);
        }
        if over.is_empty() {
            Ok(())
        } else {
            Err(LimitError::Exceeded { max: self.max })
        }
    }
}

/// Why a [`Limited`] sink stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError<E> {
    /// The dump would have written more than `max` bytes; the first `max`
    /// were written.
    Exceeded {
        /// The bound.
        max: u64,
    },
    /// The destination failed.
    Sink(E),
}

impl<E: fmt::Display> fmt::Display for LimitError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::Exceeded { max } => {
                write!(
                    f,
                    "the output would exceed its limit of {max} bytes; stopped there"
                )
            }
            LimitError::Sink(error) => error.fmt(f),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for LimitError<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            LimitError::Exceeded { .. } => None,
            LimitError::Sink(error) => Some(error),
        }
    }
}
