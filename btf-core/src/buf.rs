//! [`BtfBuf`]: a parsed blob that owns or shares its bytes and its base.

use crate::btf::Btf;
use crate::error::Result;
use crate::index::BtfIndex;
use alloc::sync::Arc;
use core::fmt;
use core::ops::Deref;

/// A parsed BTF blob that holds its bytes, its base and the parts of its
/// parse worth keeping, for as long as it lives: a loader's vmlinux and
/// modules, kept for the life of the process.
///
/// The bytes are any storage that dereferences to them — `Vec<u8>`,
/// `Box<[u8]>`, `Arc<[u8]>`, `&[u8]`, an mmap — and are never copied. The
/// base of a split is shared by [`Arc`]: many modules on one vmlinux. The
/// id index, the name index (once [`index_names`](Self::index_names) has
/// run) and what lookups learn on first use (whether names are sorted, the
/// pointer size) are kept in a [`BtfIndex`] beside the bytes.
///
/// [`btf`](Self::btf) lends a [`Btf`] view in O(1), without walking the
/// records or allocating (a split's view holds a view of its base: one
/// small allocation per level). Every view shares the kept parts, so what
/// one view finds, the next knows. `BtfBuf` is `Send` and `Sync` when its
/// storage is, so one parse serves every thread.
///
/// This is the owning form of [`Btf`], which only borrows: the reader is
/// written once, against borrowed bytes, with no `unsafe` and no cost to
/// the borrowed form; owning is keeping the bytes and the parts here and
/// lending views.
///
/// ```
/// # let blob = btf_core::testing::tiny_blob();
/// use std::sync::Arc;
/// use btf_core::{BtfBuf, Kind};
///
/// let mut vmlinux = BtfBuf::parse(blob.clone())?; // owns a Vec<u8>
/// vmlinux.index_names()?;
/// let vmlinux = Arc::new(vmlinux);
/// let point = vmlinux.btf().find_by_name_kind("point", Kind::STRUCT).map(|t| t.id());
/// assert_eq!(point.map(|id| id.get()), Some(2));
///
/// // A thread of its own: the parse is shared, not repeated.
/// let shared = Arc::clone(&vmlinux);
/// let count = std::thread::spawn(move || shared.btf().type_count()).join().unwrap();
/// assert_eq!(count, vmlinux.btf().type_count());
/// # Ok::<(), btf_core::Error>(())
/// ```
pub struct BtfBuf<S> {
    bytes: S,
    index: BtfIndex,
    base: Option<Arc<dyn SharedBase>>,
}

/// A base a [`BtfBuf`] can share with its splits: any `BtfBuf` whose
/// storage is `Send + Sync`, whatever that storage is.
trait SharedBase: Send + Sync {
    fn view(&self) -> Btf<'_>;
}

impl<S: Deref<Target = [u8]> + Send + Sync> SharedBase for BtfBuf<S> {
    fn view(&self) -> Btf<'_> {
        self.btf()
    }
}

impl<S: Deref<Target = [u8]>> fmt::Debug for BtfBuf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BtfBuf")
            .field("len", &self.bytes.len())
            .field("index", &self.index)
            .field("split", &self.base.is_some())
            .finish()
    }
}

impl<S: Deref<Target = [u8]>> BtfBuf<S> {
    /// Parses a base (non-split) blob held in `bytes`, as [`Btf::parse`].
    ///
    /// # Errors
    ///
    /// As [`Btf::parse`].
    pub fn parse(bytes: S) -> Result<BtfBuf<S>> {
        let index = BtfIndex::build(&bytes, None)?;
        Ok(BtfBuf {
            bytes,
            index,
            base: None,
        })
    }

    /// Parses a split blob held in `bytes` on `base`, as
    /// [`Btf::parse_split`]; the split keeps `base` alive.
    ///
    /// # Errors
    ///
    /// As [`Btf::parse_split`].
    pub fn parse_split<B>(bytes: S, base: Arc<BtfBuf<B>>) -> Result<BtfBuf<S>>
    where
        B: Deref<Target = [u8]> + Send + Sync + 'static,
    {
        let index = BtfIndex::build(&bytes, Some(&base.btf()))?;
        Ok(BtfBuf {
            bytes,
            index,
            base: Some(base),
        })
    }

    /// Keeps `bytes` with the `index` a parse of them gave (for example
    /// [`Btf::into_index`] of a view from [`Btf::parse_splits`]), on `base`
    /// for a split: no walk.
    ///
    /// # Errors
    ///
    /// As [`Btf::with_index`]: [`Error::IndexMismatch`](crate::Error::IndexMismatch)
    /// when `index` was built for other bytes or another base.
    pub fn with_index<B>(bytes: S, index: BtfIndex, base: Option<Arc<BtfBuf<B>>>) -> Result<Self>
    where
        B: Deref<Target = [u8]> + Send + Sync + 'static,
    {
        let base = base.map(|base| -> Arc<dyn SharedBase> { base });
        let buf = BtfBuf { bytes, index, base };
        buf.try_btf()?;
        Ok(buf)
    }

    /// A view of the blob, in O(1): see [`BtfBuf`].
    ///
    /// Should the storage's `Deref` give other bytes than it gave at parse
    /// time (no storage of the standard library does), the view is of an
    /// empty blob rather than a panic; [`try_btf`](Self::try_btf) tells.
    pub fn btf(&self) -> Btf<'_> {
        self.try_btf().unwrap_or_else(|_| Btf::detached())
    }

    /// A view of the blob, or the error that attaching the kept index to
    /// the storage's bytes gives (see [`btf`](Self::btf)).
    ///
    /// # Errors
    ///
    /// As [`Btf::with_index`].
    pub fn try_btf(&self) -> Result<Btf<'_>> {
        let base = self.base.as_ref().map(|base| base.view());
        Btf::with_index_on_view(&self.bytes, base, &self.index)
    }

    /// Builds and keeps the hash index of this blob's own names (see
    /// [`Btf::index_names`]): every view finds its types by name in O(1).
    /// Lookups through a split fall through to its base, whose own index
    /// is built by the base's `index_names`.
    ///
    /// # Errors
    ///
    /// As [`try_btf`](Self::try_btf).
    pub fn index_names(&mut self) -> Result<()> {
        let base = self.base.as_ref().map(|base| base.view());
        self.index.index_names(&self.bytes, base.as_ref())
    }

    /// The blob's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The storage the bytes are in.
    pub fn storage(&self) -> &S {
        &self.bytes
    }

    /// The kept parts of the parse.
    pub fn index(&self) -> &BtfIndex {
        &self.index
    }

    /// Whether this blob is split on a base.
    pub fn is_split(&self) -> bool {
        self.base.is_some()
    }

    /// Gives back the storage (the base is released).
    pub fn into_storage(self) -> S {
        self.bytes
    }
}
