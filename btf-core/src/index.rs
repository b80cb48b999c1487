//! [`BtfIndex`]: an owned id index that can be re-attached to its blob in
//! O(1), for values that own their bytes (a module's BTF fetched from the
//! kernel) and hand out [`Btf`] views on demand.

use crate::btf::{Btf, Cache};
use crate::error::Result;
use crate::names::NameIndex;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

/// The parts of one blob's parse that are worth keeping (on one base): its
/// id index (4 bytes per type), its name index once built
/// ([`index_names`](Self::index_names)), and what views have learnt on
/// first use (whether its names are sorted, its pointer size).
///
/// Built by a full parse; [`Btf::with_index`] attaches it to the same bytes
/// again in O(1) without walking them, and every view attached to it shares
/// its parts, so nothing is detected or built twice. Attaching it to other
/// bytes is caught when the length or layering differs; otherwise lookups
/// may give wrong answers or errors, but never read out of bounds or panic.
/// [`BtfBuf`](crate::BtfBuf) keeps one beside the bytes it owns.
///
/// ```
/// # let blob = btf_core::testing::tiny_blob();
/// use btf_core::{Btf, BtfIndex};
/// let mut index = BtfIndex::build(&blob, None)?;
/// index.index_names(&blob, None)?;
/// let btf = Btf::with_index(&blob, None, &index)?;
/// assert_eq!(btf.type_count(), index.type_count());
/// assert!(btf.has_name_index());
/// # Ok::<(), btf_core::Error>(())
/// ```
#[derive(Clone)]
pub struct BtfIndex {
    offsets: Vec<u32>,
    data_len: usize,
    first_id: u32,
    str_start: u32,
    cache: Cache,
    names: Option<Box<NameIndex>>,
}

impl fmt::Debug for BtfIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BtfIndex")
            .field("types", &self.offsets.len())
            .field("data_len", &self.data_len)
            .field("first_id", &self.first_id)
            .field("str_start", &self.str_start)
            .field("names", &self.names.is_some())
            .finish_non_exhaustive()
    }
}

/// Two indexes are equal when they index the same records the same way;
/// the name index and what views learnt follow from the records.
impl PartialEq for BtfIndex {
    fn eq(&self, other: &BtfIndex) -> bool {
        (&self.offsets, self.data_len, self.first_id, self.str_start)
            == (
                &other.offsets,
                other.data_len,
                other.first_id,
                other.str_start,
            )
    }
}

impl Eq for BtfIndex {}

impl BtfIndex {
    /// Parses `data` (on `base`, if given) and keeps its index.
    ///
    /// # Errors
    ///
    /// As [`Btf::parse`], and with a base as [`Btf::parse_split`] (the
    /// split in its base's byte order, at most
    /// [`MAX_SPLIT_DEPTH`](crate::MAX_SPLIT_DEPTH) levels deep).
    pub fn build(data: &[u8], base: Option<&Btf<'_>>) -> Result<BtfIndex> {
        let btf = match base {
            Some(base) => Btf::parse_split(data, base)?,
            None => Btf::parse(data)?,
        };
        Ok(btf.into_index())
    }

    /// Builds and keeps the hash index of the blob's own names (see
    /// [`Btf::index_names`]), so that every view attached to this index
    /// finds its types by name in O(1). `data` and `base` are the blob and
    /// base this index was built for.
    ///
    /// # Errors
    ///
    /// As [`Btf::with_index`], when `data` or `base` are not the ones this
    /// index was built for.
    pub fn index_names(&mut self, data: &[u8], base: Option<&Btf<'_>>) -> Result<()> {
        if self.names.is_none() {
            let names = NameIndex::build(&Btf::with_index(data, base, self)?);
            self.names = Some(Box::new(names));
        }
        Ok(())
    }

    /// The number of types indexed.
    pub fn type_count(&self) -> u32 {
        // Built from a parse, whose count is a u32.
        self.offsets.len() as u32
    }

    /// Whether the name index is built.
    pub fn has_name_index(&self) -> bool {
        self.names.is_some()
    }

    pub(crate) fn matches(&self, data_len: usize, first_id: u32, str_start: u32) -> bool {
        (self.data_len, self.first_id, self.str_start) == (data_len, first_id, str_start)
    }

    pub(crate) fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    pub(crate) fn cache(&self) -> &Cache {
        &self.cache
    }

    // A view keeps an owned name index boxed and borrows this one's box
    // through the same type.
    #[allow(clippy::borrowed_box)]
    pub(crate) fn names(&self) -> Option<&Box<NameIndex>> {
        self.names.as_ref()
    }

    pub(crate) fn from_parts(
        offsets: Vec<u32>,
        data_len: usize,
        first_id: u32,
        str_start: u32,
        cache: Cache,
        names: Option<Box<NameIndex>>,
    ) -> Self {
        BtfIndex {
            offsets,
            data_len,
            first_id,
            str_start,
            cache,
            names,
        }
    }
}
