//! [`Builder`]: type records and strings under construction.

use super::defs::{EnumeratorDef, MemberDef, Name, ParamDef, RawRecord, SecinfoDef};
use super::strings::Strings;
use crate::btf::Btf;
use crate::id::{Kind, StrOffset, TypeId};
use crate::record::{Info, IntWord, MemberOffset};
use crate::types::{Int, Linkage};
use alloc::vec::Vec;

/// One entry of the kind layout section: `(info_sz, elem_sz, flags)`.
pub(crate) type LayoutEntry = (u8, u8, u16);

/// The kernel's layout table for kinds 0..=19.
pub(crate) fn standard_layout() -> Vec<LayoutEntry> {
    (0..=Kind::MAX_KNOWN.get())
        .map(|k| {
            let (info, elem) = Kind::new(k).record_layout().unwrap_or((0, 0));
            (info, elem, 0)
        })
        .collect()
}

/// BTF under construction: type records and a string section, ready to be
/// [encoded](Builder::encode) in either byte order.
///
/// Every `add_*` method appends one type and returns its id; ids are
/// consecutive from [`first_id`](Self::first_id), so a type can refer to one
/// added later by computing its id from [`next_id`](Self::next_id) (BTF
/// allows forward references, and needs them for recursive types).
///
/// The `add_*` methods take what they are given: mistakes (a name that is
/// not an identifier, a reference to no type) are reported by
/// [`encode`](Self::encode), or kept on purpose by
/// [`encode_unchecked`](Self::encode_unchecked).
///
/// ```
/// use btf_core::write::{Builder, EncodeOptions, MemberDef};
/// use btf_core::{Btf, TypeId, wire::INT_SIGNED};
///
/// let mut b = Builder::new();
/// let int = b.add_int("int", 4, INT_SIGNED);
/// // struct node { int value; struct node *next; }: the pointer comes next.
/// let node = b.next_id();
/// let ptr = TypeId::new(node.get() + 1);
/// b.add_struct("node", 16, &[MemberDef::new("value", int, 0), MemberDef::new("next", ptr, 64)]);
/// assert_eq!(b.add_ptr(node), ptr);
///
/// let bytes = b.encode(&EncodeOptions::default())?;
/// let btf = Btf::parse(&bytes)?;
/// assert_eq!(btf.type_count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Builder<'a> {
    pub(crate) base: Option<&'a Btf<'a>>,
    pub(crate) first_id: u32,
    pub(crate) strings: Strings,
    /// The type section as native 32-bit words.
    pub(crate) words: Vec<u32>,
    /// Where each own type's record starts in `words`.
    pub(crate) starts: Vec<usize>,
    /// The kind layout section, written when asked for.
    pub(crate) layout: Vec<LayoutEntry>,
}

impl Default for Builder<'_> {
    fn default() -> Self {
        Builder::new()
    }
}

impl<'a> Builder<'a> {
    /// An empty base blob: ids from 1, strings holding only `""`.
    ///
    /// ```
    /// let b = btf_core::write::Builder::new();
    /// assert_eq!(b.next_id().get(), 1);
    /// ```
    pub fn new() -> Builder<'a> {
        Builder {
            base: None,
            first_id: 1,
            strings: Strings::new(0, alloc::vec![0]),
            words: Vec::new(),
            starts: Vec::new(),
            layout: standard_layout(),
        }
    }

    /// An empty split blob on `base`: ids continue from the base's last id,
    /// string offsets from the end of the base's strings, and references may
    /// point into the base.
    ///
    /// Strings the base chain already holds are referred to there, as
    /// libbpf's `btf__add_str` does; the first string added builds an index
    /// of the base's strings (a few milliseconds for vmlinux).
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// use btf_core::{Btf, write::Builder};
    /// let base = Btf::parse(&blob)?;
    /// let mut split = Builder::split(&base);
    /// assert_eq!(split.next_id().get(), base.type_count() + 1);
    /// // "int" is in the base: no new string.
    /// assert_eq!(split.add_str("int"), base.find_by_name("int").unwrap().name_offset());
    /// assert!(split.strings().is_empty());
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    pub fn split(base: &'a Btf<'a>) -> Builder<'a> {
        let first_id = base.first_id().get().saturating_add(base.type_count());
        let str_start = u32::try_from(base.strings().len())
            .ok()
            .and_then(|n| base.str_start().checked_add(n))
            .unwrap_or(u32::MAX);
        Builder {
            base: Some(base),
            first_id,
            strings: Strings::new(str_start, Vec::new()),
            words: Vec::new(),
            starts: Vec::new(),
            layout: standard_layout(),
        }
    }

    /// A builder with `src`'s string section, byte for byte, and its base,
    /// but no types yet: the start of an exact copy. Copying every type of
    /// `src` into it with [`copy_type`](Self::copy_type) (in order) and
    /// encoding with [`EncodeOptions::like`](super::EncodeOptions::like) gives
    /// `src`'s bytes back when `src` has its sections in the usual order
    /// (types, layout, strings, no gaps). `src`'s layout section, if any, is
    /// kept too.
    ///
    /// New strings are appended after `src`'s, deduplicated against them.
    pub fn with_strings_of(src: &'a Btf<'a>) -> Builder<'a> {
        let layout = if src.layout().is_empty() {
            standard_layout()
        } else {
            let e = src.endian();
            src.layout()
                .iter()
                .map(|l| (l.info_sz, l.elem_sz, l.flags.get(e)))
                .collect()
        };
        Builder {
            base: src.base(),
            first_id: src.first_id().get(),
            strings: Strings::new(src.str_start(), src.strings().to_vec()),
            words: Vec::new(),
            starts: Vec::new(),
            layout,
        }
    }

    /// A builder holding all of `src` (its types and string section, byte
    /// for byte, on the same base): types added to it are appended to
    /// `src`.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// use btf_core::{Btf, write::{Builder, EncodeOptions}};
    /// let src = Btf::parse(&blob)?;
    /// let mut b = Builder::from_btf(&src)?;
    /// assert_eq!(b.encode(&EncodeOptions::like(&src))?, blob);
    /// let float = b.add_float("double", 8);
    /// assert_eq!(float.get(), src.type_count() + 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`WriteError::CannotCopy`](super::WriteError::CannotCopy) for a
    /// record of an unknown kind whose length is not a whole number of
    /// words.
    pub fn from_btf(src: &'a Btf<'a>) -> Result<Builder<'a>, super::WriteError> {
        let mut b = Builder::with_strings_of(src);
        b.words.reserve(src.type_section().len() / 4);
        b.starts.reserve(src.type_count() as usize);
        for ty in src.types() {
            b.copy_verbatim(&ty)?;
        }
        Ok(b)
    }

    /// The base this builder is split on, if any.
    pub fn base(&self) -> Option<&'a Btf<'a>> {
        self.base
    }

    /// The first id this builder holds (1, or the base's last id + 1).
    pub fn first_id(&self) -> TypeId {
        TypeId::new(self.first_id)
    }

    /// The id the next type added will get.
    pub fn next_id(&self) -> TypeId {
        let count = u32::try_from(self.starts.len()).unwrap_or(u32::MAX);
        TypeId::new(self.first_id.saturating_add(count))
    }

    /// The last id this builder or its base holds (0 when there are none).
    pub fn last_id(&self) -> TypeId {
        TypeId::new(self.next_id().get().saturating_sub(1))
    }

    /// The number of types this builder holds itself.
    pub fn type_count(&self) -> usize {
        self.starts.len()
    }

    /// The string offset this builder's own strings start at.
    pub fn str_start(&self) -> u32 {
        self.strings.start()
    }

    /// The builder's own string section, as it will be encoded.
    pub fn strings(&self) -> &[u8] {
        self.strings.bytes()
    }

    /// The string at `offset`, from the own strings or the base chain.
    ///
    /// ```
    /// let mut b = btf_core::write::Builder::new();
    /// let off = b.add_str("hello");
    /// assert_eq!(b.str_at(off), Some(&b"hello"[..]));
    /// ```
    pub fn str_at(&self, offset: StrOffset) -> Option<&[u8]> {
        self.strings.get(self.base, offset.get())
    }

    /// The record of own type `id` as native 32-bit words: the 12-byte
    /// header (`name_off`, `info`, `size_or_type`) and the kind's data.
    ///
    /// ```
    /// use btf_core::Kind;
    /// let mut b = btf_core::write::Builder::new();
    /// let id = b.add_float("double", 8);
    /// let rec = b.record(id).unwrap();
    /// assert_eq!(rec[1] >> 24, u32::from(Kind::FLOAT.get()));
    /// assert_eq!(rec[2], 8);
    /// ```
    pub fn record(&self, id: TypeId) -> Option<&[u32]> {
        let idx = id.get().checked_sub(self.first_id)? as usize;
        let start = *self.starts.get(idx)?;
        let end = self
            .starts
            .get(idx.saturating_add(1))
            .copied()
            .unwrap_or(self.words.len());
        self.words.get(start..end)
    }

    /// The records of own types in id order, with their ids.
    pub(crate) fn records(&self) -> impl Iterator<Item = (TypeId, &[u32])> {
        let ends = self
            .starts
            .iter()
            .skip(1)
            .copied()
            .chain(core::iter::once(self.words.len()));
        self.starts
            .iter()
            .zip(ends)
            .enumerate()
            .map(move |(i, (&start, end))| {
                let id = u32::try_from(i)
                    .ok()
                    .and_then(|i| self.first_id.checked_add(i))
                    .unwrap_or(u32::MAX);
                (
                    TypeId::new(id),
                    self.words.get(start..end).unwrap_or_default(),
                )
            })
    }

    /// Adds a string (up to its first NUL) and returns its offset; a string
    /// already in the own section or the base chain is not added again.
    ///
    /// ```
    /// let mut b = btf_core::write::Builder::new();
    /// let a = b.add_str("task_struct");
    /// assert_eq!(b.add_str("task_struct"), a);
    /// assert_eq!(b.add_str("").get(), 0);
    /// assert_eq!(b.strings(), b"\0task_struct\0");
    /// ```
    pub fn add_str(&mut self, s: &str) -> StrOffset {
        self.strings.add(self.base, s.as_bytes())
    }

    /// [`add_str`](Self::add_str) for a string given as bytes.
    pub fn add_str_bytes(&mut self, s: &[u8]) -> StrOffset {
        self.strings.add(self.base, s)
    }

    /// The offset for `name`: added if it is a string, as given if it is an
    /// offset.
    pub fn name<'n>(&mut self, name: impl Into<Name<'n>>) -> StrOffset {
        match name.into() {
            Name::Bytes(s) => self.strings.add(self.base, s),
            Name::Offset(off) => off,
        }
    }

    /// Starts a record: its 12-byte header. Returns its id.
    fn begin(&mut self, name: u32, kind: Kind, kflag: bool, vlen: usize, st: u32) -> TypeId {
        let id = self.next_id();
        self.starts.push(self.words.len());
        // A count beyond 24 bits is cut here; checking finds the record
        // longer than its vlen says and reports the count.
        let vlen = u32::try_from(vlen).unwrap_or(u32::MAX);
        self.words
            .extend_from_slice(&[name, Info::encode(kind, kflag, vlen).raw(), st]);
        id
    }

    /// Adds a record with no data after the header.
    fn simple<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        kind: Kind,
        kflag: bool,
        st: u32,
    ) -> TypeId {
        let name = self.name(name).get();
        self.begin(name, kind, kflag, 0, st)
    }

    /// Adds an INT of `size` bytes using all its bits, with `encoding` made
    /// of [`INT_SIGNED`](crate::wire::INT_SIGNED),
    /// [`INT_CHAR`](crate::wire::INT_CHAR), [`INT_BOOL`](crate::wire::INT_BOOL)
    /// (or 0), like libbpf's `btf__add_int`.
    ///
    /// ```
    /// use btf_core::wire::INT_SIGNED;
    /// let mut b = btf_core::write::Builder::new();
    /// let int = b.add_int("int", 4, INT_SIGNED);
    /// assert_eq!(b.record(int).unwrap()[3], 0x0100_0020);
    /// ```
    pub fn add_int<'n>(&mut self, name: impl Into<Name<'n>>, size: u32, encoding: u8) -> TypeId {
        let bits = u8::try_from(size.saturating_mul(8)).unwrap_or(u8::MAX);
        self.add_int_with(
            name,
            Int {
                size,
                encoding,
                offset: 0,
                bits,
            },
        )
    }

    /// Adds an INT with every field given (bit offset and count as well).
    pub fn add_int_with<'n>(&mut self, name: impl Into<Name<'n>>, int: Int) -> TypeId {
        let id = self.simple(name, Kind::INT, false, int.size);
        let word = IntWord {
            encoding: int.encoding,
            offset: int.offset,
            bits: int.bits,
        };
        self.words.push(word.encode());
        id
    }

    /// Adds a pointer to `ty`.
    pub fn add_ptr(&mut self, ty: TypeId) -> TypeId {
        self.simple(Name::ANON, Kind::PTR, false, ty.get())
    }

    /// Adds `const` of `ty`.
    pub fn add_const(&mut self, ty: TypeId) -> TypeId {
        self.simple(Name::ANON, Kind::CONST, false, ty.get())
    }

    /// Adds `volatile` of `ty`.
    pub fn add_volatile(&mut self, ty: TypeId) -> TypeId {
        self.simple(Name::ANON, Kind::VOLATILE, false, ty.get())
    }

    /// Adds `restrict` of `ty`.
    pub fn add_restrict(&mut self, ty: TypeId) -> TypeId {
        self.simple(Name::ANON, Kind::RESTRICT, false, ty.get())
    }

    /// Adds a typedef `name` of `ty`.
    pub fn add_typedef<'n>(&mut self, name: impl Into<Name<'n>>, ty: TypeId) -> TypeId {
        self.simple(name, Kind::TYPEDEF, false, ty.get())
    }

    /// Adds a type tag `name` on `ty` (`__attribute__((btf_type_tag(name)))`).
    pub fn add_type_tag<'n>(&mut self, name: impl Into<Name<'n>>, ty: TypeId) -> TypeId {
        self.simple(name, Kind::TYPE_TAG, false, ty.get())
    }

    /// Adds a type tag with the kind flag: `name` is an attribute
    /// (`__attribute__((name))`), as libbpf's `btf__add_type_attr`.
    pub fn add_type_attr<'n>(&mut self, name: impl Into<Name<'n>>, ty: TypeId) -> TypeId {
        self.simple(name, Kind::TYPE_TAG, true, ty.get())
    }

    /// Adds an array of `nelems` elements of `elem`, indexed by `index`
    /// (an INT).
    pub fn add_array(&mut self, elem: TypeId, index: TypeId, nelems: u32) -> TypeId {
        let id = self.simple(Name::ANON, Kind::ARRAY, false, 0);
        self.words
            .extend_from_slice(&[elem.get(), index.get(), nelems]);
        id
    }

    /// Adds a struct of `size` bytes with `members`. The kind flag is set
    /// when a member is a bitfield, as libbpf does; members' offsets are
    /// then encoded as `bitfield_size << 24 | bit_offset`.
    ///
    /// ```
    /// use btf_core::write::{Builder, MemberDef};
    /// let mut b = Builder::new();
    /// let uint = b.add_int("unsigned int", 4, 0);
    /// let flags = b.add_struct("flags", 4, &[
    ///     MemberDef::bitfield("a", uint, 0, 1),
    ///     MemberDef::bitfield("b", uint, 1, 7),
    /// ]);
    /// assert_eq!(b.record(flags).unwrap()[1] >> 31, 1);
    /// ```
    pub fn add_struct<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        size: u32,
        members: &[MemberDef<'_>],
    ) -> TypeId {
        self.composite(name, Kind::STRUCT, size, members)
    }

    /// Adds a union of `size` bytes with `members` (all at offset 0, or
    /// bitfields), as [`add_struct`](Self::add_struct).
    pub fn add_union<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        size: u32,
        members: &[MemberDef<'_>],
    ) -> TypeId {
        self.composite(name, Kind::UNION, size, members)
    }

    fn composite<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        kind: Kind,
        size: u32,
        members: &[MemberDef<'_>],
    ) -> TypeId {
        let name = self.name(name).get();
        let kflag = members.iter().any(|m| m.bitfield_size != 0);
        let id = self.begin(name, kind, kflag, members.len(), size);
        self.words.reserve(members.len().saturating_mul(3));
        for m in members {
            let name = self.name(m.name).get();
            let offset = MemberOffset {
                bit_offset: m.bit_offset,
                bitfield_size: u32::from(m.bitfield_size),
            }
            .encode(kflag);
            self.words.extend_from_slice(&[name, m.ty.get(), offset]);
        }
        id
    }

    /// Adds an enum of `size` bytes (1, 2, 4 or 8) with 32-bit values (the
    /// low 32 bits of each [`EnumeratorDef::value`]); `signed` sets the kind
    /// flag.
    ///
    /// ```
    /// use btf_core::write::{Builder, EnumeratorDef};
    /// let mut b = Builder::new();
    /// b.add_enum("color", 4, true, &[EnumeratorDef::new("RED", 0), EnumeratorDef::new("NONE", -1)]);
    /// ```
    pub fn add_enum<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        size: u32,
        signed: bool,
        values: &[EnumeratorDef<'_>],
    ) -> TypeId {
        self.enumeration(name, Kind::ENUM, size, signed, values)
    }

    /// Adds an enum of `size` bytes with 64-bit values; `signed` sets the
    /// kind flag.
    pub fn add_enum64<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        size: u32,
        signed: bool,
        values: &[EnumeratorDef<'_>],
    ) -> TypeId {
        self.enumeration(name, Kind::ENUM64, size, signed, values)
    }

    /// An ENUM (each value's low 32 bits) or ENUM64 (low, then high).
    fn enumeration<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        kind: Kind,
        size: u32,
        signed: bool,
        values: &[EnumeratorDef<'_>],
    ) -> TypeId {
        let name = self.name(name).get();
        let id = self.begin(name, kind, signed, values.len(), size);
        let wide = kind == Kind::ENUM64;
        self.words
            .reserve(values.len().saturating_mul(if wide { 3 } else { 2 }));
        for v in values {
            let name = self.name(v.name).get();
            self.words.extend_from_slice(&[name, v.value as u32]);
            if wide {
                self.words.push((v.value >> 32) as u32);
            }
        }
        id
    }

    /// Adds a forward declaration of struct `name`.
    pub fn add_fwd_struct<'n>(&mut self, name: impl Into<Name<'n>>) -> TypeId {
        self.simple(name, Kind::FWD, false, 0)
    }

    /// Adds a forward declaration of union `name` (kind flag set).
    pub fn add_fwd_union<'n>(&mut self, name: impl Into<Name<'n>>) -> TypeId {
        self.simple(name, Kind::FWD, true, 0)
    }

    /// Adds a function `name` of prototype `proto` with `linkage` (stored in
    /// vlen; the kernel accepts static and global).
    pub fn add_func<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        proto: TypeId,
        linkage: Linkage,
    ) -> TypeId {
        let name = self.name(name).get();
        self.begin(name, Kind::FUNC, false, linkage.0 as usize, proto.get())
    }

    /// Adds a function prototype returning `ret` (void is
    /// [`TypeId::VOID`]) with `params`; end them with
    /// [`ParamDef::variadic`] for `...`.
    ///
    /// ```
    /// use btf_core::write::{Builder, ParamDef};
    /// use btf_core::{Linkage, TypeId};
    /// let mut b = Builder::new();
    /// let int = b.add_int("int", 4, btf_core::wire::INT_SIGNED);
    /// let proto = b.add_func_proto(int, &[ParamDef::new("fd", int), ParamDef::variadic()]);
    /// b.add_func("my_ioctl", proto, Linkage::GLOBAL);
    /// ```
    pub fn add_func_proto(&mut self, ret: TypeId, params: &[ParamDef<'_>]) -> TypeId {
        let id = self.begin(0, Kind::FUNC_PROTO, false, params.len(), ret.get());
        self.words.reserve(params.len().saturating_mul(2));
        for p in params {
            let name = self.name(p.name).get();
            self.words.extend_from_slice(&[name, p.ty.get()]);
        }
        id
    }

    /// Adds a variable `name` of type `ty` with `linkage`.
    pub fn add_var<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        ty: TypeId,
        linkage: Linkage,
    ) -> TypeId {
        let id = self.simple(name, Kind::VAR, false, ty.get());
        self.words.push(linkage.0);
        id
    }

    /// Adds a data section `name` of `size` bytes placing `entries` (VARs),
    /// which must be in offset order.
    ///
    /// ```
    /// use btf_core::write::{Builder, SecinfoDef};
    /// use btf_core::Linkage;
    /// let mut b = Builder::new();
    /// let int = b.add_int("int", 4, btf_core::wire::INT_SIGNED);
    /// let var = b.add_var("counter", int, Linkage::GLOBAL);
    /// b.add_datasec(".data", 4, &[SecinfoDef { ty: var, offset: 0, size: 4 }]);
    /// ```
    pub fn add_datasec<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        size: u32,
        entries: &[SecinfoDef],
    ) -> TypeId {
        let name = self.name(name).get();
        let id = self.begin(name, Kind::DATASEC, false, entries.len(), size);
        self.words.reserve(entries.len().saturating_mul(3));
        for e in entries {
            self.words
                .extend_from_slice(&[e.ty.get(), e.offset, e.size]);
        }
        id
    }

    /// Adds a floating-point type of `size` bytes (2, 4, 8, 12 or 16).
    pub fn add_float<'n>(&mut self, name: impl Into<Name<'n>>, size: u32) -> TypeId {
        self.simple(name, Kind::FLOAT, false, size)
    }

    /// Adds a declaration tag `name` on `ty` (`component_idx` -1) or on its
    /// member or parameter `component_idx`
    /// (`__attribute__((btf_decl_tag(name)))`).
    pub fn add_decl_tag<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        ty: TypeId,
        component_idx: i32,
    ) -> TypeId {
        let id = self.simple(name, Kind::DECL_TAG, false, ty.get());
        self.words.push(component_idx as u32);
        id
    }

    /// Adds a declaration tag with the kind flag: `name` is an attribute
    /// (`__attribute__((name))`), as libbpf's `btf__add_decl_attr`.
    pub fn add_decl_attr<'n>(
        &mut self,
        name: impl Into<Name<'n>>,
        ty: TypeId,
        component_idx: i32,
    ) -> TypeId {
        let id = self.simple(name, Kind::DECL_TAG, true, ty.get());
        self.words.push(component_idx as u32);
        id
    }

    /// Adds any record, word by word: the raw mode for records the typed
    /// methods will not produce. [`encode`](Self::encode) still checks it;
    /// [`encode_unchecked`](Self::encode_unchecked) writes it as is.
    pub fn add_raw(&mut self, raw: &RawRecord<'_, '_>) -> TypeId {
        let name = self.name(raw.name).get();
        let id = self.next_id();
        self.starts.push(self.words.len());
        self.words.extend_from_slice(&[
            name,
            Info::encode(raw.kind, raw.kflag, raw.vlen).raw(),
            raw.size_or_type,
        ]);
        self.words.extend_from_slice(raw.tail);
        id
    }

    /// Sets the layout section's entry for `kind`: `info_sz` bytes after the
    /// 12-byte header and `elem_sz` bytes per vlen element. Needed to encode
    /// records of kinds above [`Kind::MAX_KNOWN`] (with
    /// [`HeaderFormat::Layout`](super::HeaderFormat::Layout)); entries for
    /// known kinds are written as the kernel defines them unless set here.
    ///
    /// ```
    /// use btf_core::Kind;
    /// let mut b = btf_core::write::Builder::new();
    /// b.set_kind_layout(Kind::new(20), 4, 8);
    /// ```
    pub fn set_kind_layout(&mut self, kind: Kind, info_sz: u8, elem_sz: u8) {
        self.set_layout_entry(kind, (info_sz, elem_sz, 0));
    }

    pub(crate) fn set_layout_entry(&mut self, kind: Kind, entry: LayoutEntry) {
        let k = usize::from(kind.get());
        while self.layout.len() <= k {
            let next = u8::try_from(self.layout.len()).unwrap_or(u8::MAX);
            let (info, elem) = Kind::new(next).record_layout().unwrap_or((0, 0));
            self.layout.push((info, elem, 0));
        }
        if let Some(slot) = self.layout.get_mut(k) {
            *slot = entry;
        }
    }

    /// The layout entry for `kind`, if the builder has one.
    pub(crate) fn layout_entry(&self, kind: Kind) -> Option<LayoutEntry> {
        self.layout.get(usize::from(kind.get())).copied()
    }

    /// Drops own types from `count` on (undoing a failed copy).
    pub(crate) fn truncate_types(&mut self, count: usize) {
        if let Some(&start) = self.starts.get(count) {
            self.words.truncate(start);
            self.starts.truncate(count);
        }
    }
}
