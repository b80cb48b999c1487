//! The output buffer: declarations are gathered and handed to the sink
//! in pieces of about [`FLUSH_AT`] bytes; the first sink error is kept and
//! stops everything after it.

use super::naming::Name;
use super::{CDumpError, Step, Stop};
use crate::dump::ByteSink;
use crate::id::TypeId;
use alloc::vec::Vec;

/// Output is handed to the sink once this much has gathered.
const FLUSH_AT: usize = 32 * 1024;

/// The output buffer and its sink; the first sink error is kept and stops
/// everything after it.
pub(super) struct Out<'s, S: ByteSink + ?Sized> {
    sink: &'s mut S,
    buf: Vec<u8>,
    error: Option<S::Error>,
    failed: bool,
}

impl<'s, S: ByteSink + ?Sized> Out<'s, S> {
    pub(super) fn new(sink: &'s mut S) -> Self {
        Out {
            sink,
            buf: Vec::new(),
            error: None,
            failed: false,
        }
    }

    pub(super) fn bytes(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub(super) fn name(&mut self, name: Name<'_>) {
        match name {
            Name::Plain(n) => self.bytes(n),
            Name::Dup(n, count) => {
                // libbpf builds the new name in a 256-byte buffer.
                let start = self.buf.len();
                self.bytes(n);
                self.bytes(b"___");
                self.decimal(count as u64, false);
                self.buf.truncate(start.saturating_add(255));
            }
        }
    }

    pub(super) fn decimal(&mut self, v: u64, negative: bool) {
        if negative {
            self.buf.push(b'-');
        }
        // The raw dump's digit writer.
        let mut digits = [0u8; 20];
        let n = v.checked_ilog10().map_or(1, |l| l as usize + 1);
        let dst = digits.get_mut(..n).unwrap_or_default();
        crate::dump::decimal::fill_u64(dst, v);
        self.bytes(dst);
    }

    pub(super) fn signed(&mut self, v: i64) {
        self.decimal(v.unsigned_abs(), v < 0);
    }

    /// `lvl` tabs, at most 13 (libbpf's indent string).
    pub(super) fn indent(&mut self, lvl: u32) {
        let tabs = b"\t\t\t\t\t\t\t\t\t\t\t\t\t";
        self.bytes(
            tabs.get(..(lvl as usize).min(tabs.len()))
                .unwrap_or_default(),
        );
    }

    /// `\n<tabs>TYPE: BITS;`, an anonymous padding member.
    pub(super) fn pad_line(&mut self, lvl: u32, ty: &[u8], bits: i64) {
        self.bytes(b"\n");
        self.indent(lvl);
        self.bytes(ty);
        self.bytes(b": ");
        self.signed(bits);
        self.bytes(b";");
    }

    /// Hands the buffer to the sink once it is large.
    pub(super) fn maybe_flush(&mut self) -> Step {
        if self.buf.len() >= FLUSH_AT {
            self.drain()?;
        }
        Ok(())
    }

    pub(super) fn drain(&mut self) -> Step {
        if self.failed {
            return Err(Stop::Write);
        }
        if let Err(e) = self.sink.write_bytes(&self.buf) {
            self.error = Some(e);
            self.failed = true;
            return Err(Stop::Write);
        }
        self.buf.clear();
        Ok(())
    }

    /// Hands over what is left (also after an error: what was written
    /// stays written) and returns the first error.
    pub(super) fn finish(
        mut self,
        result: Result<(), CDumpError<S::Error>>,
    ) -> Result<(), CDumpError<S::Error>> {
        let drained = self.drain();
        result?;
        drained.map_err(|_| self.take_error())
    }

    pub(super) fn take_error(&mut self) -> CDumpError<S::Error> {
        match self.error.take() {
            Some(e) => CDumpError::Write(e),
            // A write error is taken once; what follows it is not written.
            None => CDumpError::TooDeep {
                id: TypeId::VOID,
                at: TypeId::VOID,
            },
        }
    }

    pub(super) fn fail(&mut self, stop: Stop) -> CDumpError<S::Error> {
        match stop {
            Stop::Write => self.take_error(),
            Stop::Cycle(id) => CDumpError::Cycle {
                id: TypeId::new(id),
            },
            Stop::Kind(id, kind) => CDumpError::UnsupportedKind {
                id: TypeId::new(id),
                kind,
            },
            Stop::Deep { root, at } => CDumpError::TooDeep {
                id: TypeId::new(root),
                at: TypeId::new(at),
            },
            Stop::Complex(id) => CDumpError::TooComplex {
                id: TypeId::new(id),
            },
            Stop::Lookup(id, source) => CDumpError::Lookup {
                id: TypeId::new(id),
                source,
            },
        }
    }
}
