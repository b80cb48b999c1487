//! [`Btf::parse_splits`]: many split blobs on one base in one call: the
//! API and the batch (here), and the walk of many type sections at once
//! ([`lanes`]).

mod lanes;

use self::lanes::{Jobs, Walked};
use super::{Btf, Offsets, layering, layouts, walk_input};
use crate::endian::{Be, Endian, Le};
use crate::error::Result;
use crate::header::{Header, Sections};
use alloc::vec::Vec;

impl<'a> Btf<'a> {
    /// Parses every blob of `splits` on `base`, as a loader parses each of
    /// a kernel's modules on its vmlinux: one result per blob, in order,
    /// each what [`parse_split`](Self::parse_split) returns for it. A bad
    /// blob fails alone.
    ///
    /// It is faster than calling [`parse_split`](Self::parse_split) for
    /// each: the walks of eight blobs are interleaved, one record of each
    /// in turn, so that the processor overlaps their loads (a walk is a
    /// chain of them: each record's size gives the next record's place),
    /// and the next blobs' first and last bytes, which parsing reads
    /// first, are read a few dozen at a time. On the benches' corpus of
    /// 4023 modules, in memory but not in cache, it takes 0.64× the time.
    /// Blobs with a layout section (their own or a base's) are parsed one
    /// by one.
    ///
    /// As for [`parse_split`](Self::parse_split), each blob must be in the
    /// base's byte order, and `base` may be a split itself up to
    /// [`MAX_SPLIT_DEPTH`](crate::MAX_SPLIT_DEPTH) levels: a blob in the
    /// other order fails alone with
    /// [`Error::SplitEndianMismatch`](crate::Error::SplitEndianMismatch), and
    /// every blob fails with
    /// [`Error::SplitTooDeep`](crate::Error::SplitTooDeep) on a base at that
    /// depth.
    ///
    /// ```no_run
    /// use btf_core::Btf;
    /// let vmlinux = std::fs::read("/sys/kernel/btf/vmlinux")?;
    /// let base = Btf::parse(&vmlinux)?;
    /// let mut names = Vec::new();
    /// let mut blobs = Vec::new();
    /// for entry in std::fs::read_dir("/sys/kernel/btf")? {
    ///     let entry = entry?;
    ///     if entry.file_name() != "vmlinux" {
    ///         names.push(entry.file_name());
    ///         blobs.push(std::fs::read(entry.path())?);
    ///     }
    /// }
    /// let modules = Btf::parse_splits(blobs.iter().map(Vec::as_slice), &base);
    /// for (name, module) in names.iter().zip(&modules) {
    ///     match module {
    ///         Ok(btf) => println!("{name:?}: {} types", btf.type_count()),
    ///         Err(e) => println!("{name:?}: {e}"),
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_splits<I>(splits: I, base: &'a Btf<'a>) -> Vec<Result<Btf<'a>>>
    where
        I: IntoIterator<Item = &'a [u8]>,
    {
        let splits = splits.into_iter();
        let mut out = Vec::new();
        // A failed reservation is not fatal: pushing may still succeed.
        let _ = out.try_reserve_exact(splits.size_hint().0);
        let mut batch = Batch {
            base,
            base_layouts: !layouts(&[], Some(base)).as_slice().is_empty(),
            splits: ReadAhead::new(splits),
            slots: 0,
            out,
            big: Vec::new(),
        };
        lanes::walk_lanes::<Le, _>(&mut batch);
        let big = core::mem::take(&mut batch.big);
        lanes::walk_lanes::<Be, _>(&mut BigEndian {
            batch: &mut batch,
            pending: big.into_iter(),
        });
        debug_assert!(batch.out.iter().all(Option::is_some));
        // Collected in place (`flatten` would allocate anew): an
        // `Option<Result<Btf>>` is a `Result<Btf>` in size and alignment.
        #[allow(clippy::filter_map_identity)]
        batch.out.into_iter().filter_map(|r| r).collect()
    }
}

/// What a walk needs to finish a blob into its [`Btf`].
struct Pending<'a> {
    slot: usize,
    data: &'a [u8],
    header: Header,
    sections: Sections<'a>,
    /// The blob's first id, string offset and depth on the base.
    layered: (u32, u32, usize),
}

/// The blobs of one [`Btf::parse_splits`] call: hands out little-endian
/// blobs to walk, parses those with a layout section at once, keeps the
/// big-endian ones for a second run, and files every result by position.
struct Batch<'a, I> {
    base: &'a Btf<'a>,
    /// Whether `base` or one of its bases has a layout section.
    base_layouts: bool,
    splits: ReadAhead<'a, I>,
    slots: usize,
    out: Vec<Option<Result<Btf<'a>>>>,
    big: Vec<Pending<'a>>,
}

impl<'a, I: Iterator<Item = &'a [u8]>> Batch<'a, I> {
    /// What a walk of `data`, at position `slot`, needs.
    fn prepare(&self, slot: usize, data: &'a [u8]) -> Result<Pending<'a>> {
        // In `parse_split`'s order: the header, the sections, the base.
        let header = Header::parse(data)?;
        let sections = header.sections(data, true)?;
        let layered = layering(Some(self.base), &header, &sections)?;
        Ok(Pending {
            slot,
            data,
            header,
            sections,
            layered,
        })
    }

    fn file(&mut self, slot: usize, result: Result<Btf<'a>>) {
        if let Some(place) = self.out.get_mut(slot) {
            *place = Some(result);
        }
    }

    /// Builds the [`Btf`] of a walked blob.
    fn finish(&mut self, tag: Pending<'a>, walked: Walked) {
        let (first_id, str_start, depth) = tag.layered;
        let input = walk_input(&tag.sections, first_id, str_start, &[]);
        let result = walked.conclude(tag.header.endian, &input).map(|count| {
            Btf::assemble(
                tag.data,
                tag.header,
                tag.sections,
                Some(self.base),
                depth,
                first_id,
                count,
                str_start,
                Offsets::owned(walked.offsets),
            )
        });
        self.file(tag.slot, result);
    }
}

impl<'a, I: Iterator<Item = &'a [u8]>> Jobs<'a> for Batch<'a, I> {
    type Tag = Pending<'a>;

    fn next(&mut self) -> Option<(&'a [u8], Pending<'a>)> {
        loop {
            let data = self.splits.next()?;
            let slot = self.slots;
            self.slots += 1;
            self.out.push(None);
            match self.prepare(slot, data) {
                Ok(p) if !p.sections.layout.is_empty() || self.base_layouts => {
                    let parsed = Btf::parse_split(data, self.base);
                    self.file(slot, parsed);
                }
                Ok(p) if p.header.endian == Endian::Big => self.big.push(p),
                Ok(p) => return Some((p.sections.types, p)),
                Err(e) => self.file(slot, Err(e)),
            }
        }
    }

    fn done(&mut self, tag: Pending<'a>, walked: Walked) {
        self.finish(tag, walked);
    }
}

/// The big-endian blobs a [`Batch`] kept for later.
struct BigEndian<'b, 'a, I> {
    batch: &'b mut Batch<'a, I>,
    pending: alloc::vec::IntoIter<Pending<'a>>,
}

impl<'a, I: Iterator<Item = &'a [u8]>> Jobs<'a> for BigEndian<'_, 'a, I> {
    type Tag = Pending<'a>;

    fn next(&mut self) -> Option<(&'a [u8], Pending<'a>)> {
        self.pending.next().map(|p| (p.sections.types, p))
    }

    fn done(&mut self, tag: Pending<'a>, walked: Walked) {
        self.batch.finish(tag, walked);
    }
}

/// How many blobs [`ReadAhead`] reads at once. In alternating probe runs on
/// the benches' corpus, `parse_splits` took 0.61× the time of `parse_split`
/// in a loop with 16, 32 or 64, and 0.69× reading none ahead.
const READ_AHEAD: usize = 32;

/// The blobs of a batch, in order, taken from the caller's iterator in
/// windows of [`READ_AHEAD`]: the first and last bytes of every blob of a
/// window are read, one blob after another, before the first of them is
/// handed out.
///
/// Parsing a blob starts with two loads that miss the cache: its header,
/// on the line of its first records, and the last byte of its string
/// section, which must be a zero (the blob's last byte, as kernels and
/// pahole lay blobs out; for another layout the read is merely of no
/// use). Left to parsing, each is a wait of its own, with every lane
/// waiting too; read in a row, a few dozen blobs' misses overlap and cost
/// about one wait.
struct ReadAhead<'a, I> {
    splits: I,
    window: [&'a [u8]; READ_AHEAD],
    /// The next blob of `window` to hand out.
    at: usize,
    /// How many blobs `window` holds (the rest are of an earlier window).
    len: usize,
}

impl<'a, I: Iterator<Item = &'a [u8]>> ReadAhead<'a, I> {
    fn new(splits: I) -> Self {
        ReadAhead {
            splits,
            window: [&[]; READ_AHEAD],
            at: 0,
            len: 0,
        }
    }

    /// Takes the next blobs into the window, reading their first and last
    /// bytes.
    fn refill(&mut self) {
        let mut read = 0u8;
        let mut len = 0;
        for (slot, blob) in self.window.iter_mut().zip(&mut self.splits) {
            read ^= blob.first().copied().unwrap_or(0) ^ blob.last().copied().unwrap_or(0);
            *slot = blob;
            len += 1;
        }
        // Nothing uses the bytes: only that they were read, now.
        core::hint::black_box(read);
        self.at = 0;
        self.len = len;
    }
}

impl<'a, I: Iterator<Item = &'a [u8]>> Iterator for ReadAhead<'a, I> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.at == self.len {
            self.refill();
        }
        let blob = self.window.get(..self.len)?.get(self.at)?;
        self.at += 1;
        Some(blob)
    }
}
