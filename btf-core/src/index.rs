//! [`BtfIndex`]: an owned id index that can be re-attached to its blob in
//! O(1), for values that own their bytes (a module's BTF fetched from the
//! kernel) and hand out [`Btf`] views on demand.

use crate::btf::Btf;
use crate::error::Result;
use alloc::vec::Vec;

/// A validated id index for one blob (on one base): 4 bytes per type.
///
/// Built by a full parse; [`Btf::with_index`] attaches it to the same bytes
/// again without walking them. Attaching it to other bytes is caught when
/// the length or layering differs; otherwise lookups may give wrong
/// answers or errors, but never read out of bounds or panic.
///
/// ```
/// # let blob = btf_core::testing::tiny_blob();
/// use btf_core::{Btf, BtfIndex};
/// let index = BtfIndex::build(&blob, None)?;
/// let btf = Btf::with_index(&blob, None, &index)?;
/// assert_eq!(btf.type_count(), index.type_count());
/// # Ok::<(), btf_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtfIndex {
    offsets: Vec<u32>,
    data_len: usize,
    first_id: u32,
    str_start: u32,
}

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

    /// The number of types indexed.
    pub fn type_count(&self) -> u32 {
        // Built from a parse, whose count is a u32.
        self.offsets.len() as u32
    }

    pub(crate) fn matches(&self, data_len: usize, first_id: u32, str_start: u32) -> bool {
        (self.data_len, self.first_id, self.str_start) == (data_len, first_id, str_start)
    }

    pub(crate) fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    pub(crate) fn from_parts(
        offsets: Vec<u32>,
        data_len: usize,
        first_id: u32,
        str_start: u32,
    ) -> Self {
        BtfIndex {
            offsets,
            data_len,
            first_id,
            str_start,
        }
    }
}
