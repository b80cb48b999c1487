//! Zero-copy views of type records: [`Type`] for what every record has,
//! [`TypeKind`] for what each kind adds, and iterators over the trailing
//! members, parameters, enumerators and datasec entries, all read from the
//! blob in place.

mod by_id;
mod elements;

pub use by_id::Types;
pub use elements::{
    Ctx, Element, Elements, EnumValue, Enumerator, Enumerator64, Enumerators, Enumerators64,
    Member, Members, Param, Params, VarSecinfo, VarSecinfos,
};

use crate::btf::Btf;
use crate::error::Result;
use crate::id::{Kind, StrOffset, TypeId};
use crate::record::{self, Info, IntWord};
use crate::wire::{BtfArray, BtfDeclTag, BtfType, BtfVar, INT_BOOL, INT_CHAR, INT_SIGNED};
use core::fmt;
use zerocopy::{FromBytes, Immutable, KnownLayout};

/// The record `void` is shown as.
static VOID_RECORD: [u8; record::COMMON] = [0; record::COMMON];

/// One type record, viewed in place.
///
/// Cheap to copy (a reference to its blob, its id and its bytes). Names
/// resolve through the blob's strings, and a split's base for lower offsets.
#[derive(Clone, Copy)]
pub struct Type<'a> {
    btf: &'a Btf<'a>,
    id: TypeId,
    rec: &'a [u8],
}

impl fmt::Debug for Type<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Type")
            .field("id", &self.id)
            .field("kind", &self.kind())
            .field("name", &crate::fmt::Bytes(self.name_bytes()))
            .finish_non_exhaustive()
    }
}

impl<'a> Type<'a> {
    /// A view of `rec` (at least 12 bytes, sized for its kind) in `btf`.
    #[inline]
    pub(crate) fn new(btf: &'a Btf<'a>, id: TypeId, rec: &'a [u8]) -> Type<'a> {
        Type { btf, id, rec }
    }

    /// The `void` view (id 0).
    pub(crate) fn void(btf: &'a Btf<'a>) -> Type<'a> {
        Type {
            btf,
            id: TypeId::VOID,
            rec: &VOID_RECORD,
        }
    }

    #[inline(always)]
    fn raw(&self) -> &'a BtfType {
        // `rec` always starts with a whole record header; the fallback is the
        // all-zero `void` record and is never taken.
        BtfType::ref_from_prefix(self.rec)
            .map(|(r, _)| r)
            .unwrap_or_else(|_| void_header())
    }

    #[inline(always)]
    fn info(&self) -> Info {
        Info::new(self.raw().info.get(self.btf.endian()))
    }

    /// The blob holding this record (a base's, for a base id looked up
    /// through a split).
    #[inline]
    pub fn btf(&self) -> &'a Btf<'a> {
        self.btf
    }

    /// The type's id.
    #[inline]
    pub fn id(&self) -> TypeId {
        self.id
    }

    /// The kind.
    #[inline]
    pub fn kind(&self) -> Kind {
        self.info().kind()
    }

    /// `vlen`: the number of trailing elements, or FUNC's linkage.
    #[inline]
    pub fn vlen(&self) -> u32 {
        self.info().vlen()
    }

    /// The kind flag (bit 31 of `info`).
    #[inline]
    pub fn kflag(&self) -> bool {
        self.info().kflag()
    }

    /// The raw `info` word.
    #[inline]
    pub fn info_word(&self) -> u32 {
        self.info().raw()
    }

    /// The name's offset in the strings.
    #[inline]
    pub fn name_offset(&self) -> StrOffset {
        StrOffset::new(self.raw().name_off.get(self.btf.endian()))
    }

    /// The name, or `""` for an anonymous type.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUtf8`](crate::Error::InvalidUtf8) when the name is not UTF-8.
    #[inline]
    pub fn name(&self) -> Result<&'a str> {
        self.btf.str_at(self.name_offset())
    }

    /// The name's bytes (empty for an anonymous type). Cannot fail: parsing
    /// checked the offset.
    #[inline]
    pub fn name_bytes(&self) -> &'a [u8] {
        self.btf
            .str_bytes_at(self.name_offset())
            .unwrap_or_default()
    }

    /// The raw `size_or_type` word.
    #[inline]
    pub fn size_or_type(&self) -> u32 {
        self.raw().size_or_type.get(self.btf.endian())
    }

    /// The size in bytes, for kinds that store one (INT, STRUCT, UNION,
    /// ENUM, ENUM64, DATASEC, FLOAT).
    #[inline]
    pub fn size(&self) -> Option<u32> {
        self.kind().has_size().then(|| self.size_or_type())
    }

    /// The referenced type, for kinds that store one (PTR, TYPEDEF,
    /// modifiers, FUNC, FUNC_PROTO's return type, VAR, DECL_TAG, TYPE_TAG).
    #[inline]
    pub fn referenced_type(&self) -> Option<TypeId> {
        self.kind()
            .has_type()
            .then(|| TypeId::new(self.size_or_type()))
    }

    /// The whole record: the 12-byte common part and the [tail](Self::tail).
    #[inline]
    pub fn record(&self) -> &'a [u8] {
        self.rec
    }

    /// The record's tail: what the kind adds after the 12-byte common part
    /// (its info part, then its `vlen` elements).
    #[inline]
    pub fn tail(&self) -> &'a [u8] {
        record::tail(self.rec)
    }

    fn ctx(&self) -> Ctx<'a> {
        Ctx {
            btf: self.btf,
            kflag: self.kflag(),
        }
    }

    fn elements<E: Element<'a>>(&self) -> Elements<'a, E> {
        let elems = record::elements::<E::Wire>(self.tail(), self.vlen() as usize);
        Elements::new(self.ctx(), elems)
    }

    fn trailer<T: FromBytes + KnownLayout + Immutable>(&self) -> Option<&'a T> {
        record::info_part(self.tail())
    }

    fn word(&self) -> u32 {
        self.trailer::<crate::endian::U32>()
            .map(|w| w.get(self.btf.endian()))
            .unwrap_or(0)
    }

    /// What this kind adds to the record, decoded.
    ///
    /// ```
    /// # let blob = btf_core::testing::tiny_blob();
    /// use btf_core::{Btf, TypeKind};
    /// let btf = Btf::parse(&blob)?;
    /// for ty in btf.types() {
    ///     if let TypeKind::Struct(s) = ty.as_kind() {
    ///         for m in s.members() {
    ///             println!("{} at bit {}", m.name()?, m.bit_offset());
    ///         }
    ///     }
    /// }
    /// # Ok::<(), btf_core::Error>(())
    /// ```
    pub fn as_kind(&self) -> TypeKind<'a> {
        let e = self.btf.endian();
        let st = self.size_or_type();
        let ty = TypeId::new(st);
        match self.kind() {
            Kind::VOID => TypeKind::Void,
            Kind::INT => TypeKind::Int(Int::decode(st, self.word())),
            Kind::PTR => TypeKind::Ptr(ty),
            Kind::ARRAY => TypeKind::Array(match self.trailer::<BtfArray>() {
                Some(a) => Array {
                    elem: TypeId::new(a.type_.get(e)),
                    index: TypeId::new(a.index_type.get(e)),
                    nelems: a.nelems.get(e),
                },
                None => Array {
                    elem: TypeId::VOID,
                    index: TypeId::VOID,
                    nelems: 0,
                },
            }),
            Kind::STRUCT => TypeKind::Struct(Composite { ty: *self }),
            Kind::UNION => TypeKind::Union(Composite { ty: *self }),
            Kind::ENUM => TypeKind::Enum(Enum { ty: *self }),
            Kind::FWD => TypeKind::Fwd(Fwd {
                is_union: self.kflag(),
            }),
            Kind::TYPEDEF => TypeKind::Typedef(ty),
            Kind::VOLATILE => TypeKind::Volatile(ty),
            Kind::CONST => TypeKind::Const(ty),
            Kind::RESTRICT => TypeKind::Restrict(ty),
            Kind::FUNC => TypeKind::Func(Func {
                proto: ty,
                linkage: Linkage(self.vlen()),
            }),
            Kind::FUNC_PROTO => TypeKind::FuncProto(FuncProto { ty: *self }),
            Kind::VAR => TypeKind::Var(Var {
                ty,
                linkage: Linkage(self.trailer::<BtfVar>().map_or(0, |v| v.linkage.get(e))),
            }),
            Kind::DATASEC => TypeKind::Datasec(Datasec { ty: *self }),
            Kind::FLOAT => TypeKind::Float(st),
            Kind::DECL_TAG => TypeKind::DeclTag(DeclTag {
                ty,
                component_idx: self
                    .trailer::<BtfDeclTag>()
                    .map_or(-1, |d| d.component_idx.get(e) as i32),
                attr: self.kflag(),
            }),
            Kind::TYPE_TAG => TypeKind::TypeTag(TypeTag {
                ty,
                attr: self.kflag(),
            }),
            Kind::ENUM64 => TypeKind::Enum64(Enum64 { ty: *self }),
            _ => TypeKind::Unknown(Unknown { ty: *self }),
        }
    }
}

fn void_header() -> &'static BtfType {
    static VOID: BtfType = BtfType {
        name_off: crate::endian::U32([0; 4]),
        info: crate::endian::U32([0; 4]),
        size_or_type: crate::endian::U32([0; 4]),
    };
    &VOID
}

/// What a kind adds to the common record.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum TypeKind<'a> {
    /// `void` (id 0).
    Void,
    /// An integer.
    Int(Int),
    /// A pointer to the type.
    Ptr(TypeId),
    /// An array.
    Array(Array),
    /// A struct.
    Struct(Composite<'a>),
    /// A union.
    Union(Composite<'a>),
    /// An enum of 32-bit values.
    Enum(Enum<'a>),
    /// A forward declaration.
    Fwd(Fwd),
    /// A typedef of the type.
    Typedef(TypeId),
    /// `volatile` of the type.
    Volatile(TypeId),
    /// `const` of the type.
    Const(TypeId),
    /// `restrict` of the type.
    Restrict(TypeId),
    /// A function.
    Func(Func),
    /// A function prototype.
    FuncProto(FuncProto<'a>),
    /// A variable.
    Var(Var),
    /// A data section.
    Datasec(Datasec<'a>),
    /// A float of this many bytes.
    Float(u32),
    /// A declaration tag.
    DeclTag(DeclTag),
    /// A type tag.
    TypeTag(TypeTag),
    /// An enum of 64-bit values.
    Enum64(Enum64<'a>),
    /// A kind this crate does not know, sized through a layout section.
    Unknown(Unknown<'a>),
}

/// An INT's size and encoding word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Int {
    /// Size in bytes.
    pub size: u32,
    /// Encoding bits: [`INT_SIGNED`], [`INT_CHAR`], [`INT_BOOL`].
    pub encoding: u8,
    /// Bit offset of the value within its storage (legacy bitfields).
    pub offset: u8,
    /// Number of value bits.
    pub bits: u8,
}

impl Int {
    fn decode(size: u32, word: u32) -> Int {
        let IntWord {
            encoding,
            offset,
            bits,
        } = IntWord::decode(word);
        Int {
            size,
            encoding,
            offset,
            bits,
        }
    }

    /// Whether the integer is signed.
    pub fn is_signed(&self) -> bool {
        self.encoding & INT_SIGNED != 0
    }

    /// Whether the integer is a C `char`.
    pub fn is_char(&self) -> bool {
        self.encoding & INT_CHAR != 0
    }

    /// Whether the integer is a `bool`.
    pub fn is_bool(&self) -> bool {
        self.encoding & INT_BOOL != 0
    }
}

/// An ARRAY's element type, index type and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Array {
    /// Element type.
    pub elem: TypeId,
    /// Index type.
    pub index: TypeId,
    /// Number of elements.
    pub nelems: u32,
}

/// A FWD: which aggregate it declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fwd {
    /// `true` for a union, `false` for a struct (the kind flag).
    pub is_union: bool,
}

/// Linkage of a FUNC (its vlen) or VAR (its trailing word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Linkage(pub u32);

impl Linkage {
    /// Visible in its unit only.
    pub const STATIC: Linkage = Linkage(0);
    /// Defined here, visible everywhere.
    pub const GLOBAL: Linkage = Linkage(1);
    /// Defined elsewhere.
    pub const EXTERN: Linkage = Linkage(2);

    /// `"static"`, `"global"`, `"extern"`, or `None` for other values.
    pub fn name(self) -> Option<&'static str> {
        match self.0 {
            0 => Some("static"),
            1 => Some("global"),
            2 => Some("extern"),
            _ => None,
        }
    }
}

impl fmt::Display for Linkage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "({})", self.0),
        }
    }
}

/// A FUNC: its prototype and linkage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    /// The FUNC_PROTO.
    pub proto: TypeId,
    /// Linkage (the record's vlen).
    pub linkage: Linkage,
}

/// A VAR: its type and linkage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Var {
    /// The variable's type.
    pub ty: TypeId,
    /// Linkage.
    pub linkage: Linkage,
}

/// A DECL_TAG: what it tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeclTag {
    /// The tagged type.
    pub ty: TypeId,
    /// -1 for the type itself, else the member or parameter index.
    pub component_idx: i32,
    /// Whether the tag is an attribute (kind flag).
    pub attr: bool,
}

/// A TYPE_TAG: the tagged type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeTag {
    /// The tagged type.
    pub ty: TypeId,
    /// Whether the tag is an attribute (kind flag).
    pub attr: bool,
}

/// A STRUCT or UNION.
#[derive(Clone, Copy, Debug)]
pub struct Composite<'a> {
    ty: Type<'a>,
}

impl<'a> Composite<'a> {
    /// Size in bytes.
    pub fn size(&self) -> u32 {
        self.ty.size_or_type()
    }

    /// Whether member offsets are `bitfield_size << 24 | bit_offset`.
    pub fn has_bitfields(&self) -> bool {
        self.ty.kflag()
    }

    /// The members, in place.
    pub fn members(&self) -> Members<'a> {
        self.ty.elements()
    }
}

/// An ENUM.
#[derive(Clone, Copy, Debug)]
pub struct Enum<'a> {
    ty: Type<'a>,
}

impl<'a> Enum<'a> {
    /// Size in bytes.
    pub fn size(&self) -> u32 {
        self.ty.size_or_type()
    }

    /// Whether values are signed (kind flag).
    pub fn is_signed(&self) -> bool {
        self.ty.kflag()
    }

    /// The enumerators, in place.
    pub fn values(&self) -> Enumerators<'a> {
        self.ty.elements()
    }
}

/// An ENUM64.
#[derive(Clone, Copy, Debug)]
pub struct Enum64<'a> {
    ty: Type<'a>,
}

impl<'a> Enum64<'a> {
    /// Size in bytes.
    pub fn size(&self) -> u32 {
        self.ty.size_or_type()
    }

    /// Whether values are signed (kind flag).
    pub fn is_signed(&self) -> bool {
        self.ty.kflag()
    }

    /// The enumerators, in place.
    pub fn values(&self) -> Enumerators64<'a> {
        self.ty.elements()
    }
}

/// A FUNC_PROTO.
#[derive(Clone, Copy, Debug)]
pub struct FuncProto<'a> {
    ty: Type<'a>,
}

impl<'a> FuncProto<'a> {
    /// The return type (`void` is id 0).
    pub fn return_type(&self) -> TypeId {
        TypeId::new(self.ty.size_or_type())
    }

    /// The parameters, in place; a last one of type 0 with no name is `...`.
    pub fn params(&self) -> Params<'a> {
        self.ty.elements()
    }

    /// Whether the last parameter is `...`.
    pub fn is_variadic(&self) -> bool {
        self.params().next_back().is_some_and(|p| p.is_variadic())
    }
}

/// A DATASEC.
#[derive(Clone, Copy, Debug)]
pub struct Datasec<'a> {
    ty: Type<'a>,
}

impl<'a> Datasec<'a> {
    /// Size in bytes.
    pub fn size(&self) -> u32 {
        self.ty.size_or_type()
    }

    /// The entries, in place.
    pub fn entries(&self) -> VarSecinfos<'a> {
        self.ty.elements()
    }
}

/// A record of a kind this crate does not know, sized through a layout
/// section.
#[derive(Clone, Copy, Debug)]
pub struct Unknown<'a> {
    ty: Type<'a>,
}

impl<'a> Unknown<'a> {
    /// The kind number.
    pub fn kind(&self) -> Kind {
        self.ty.kind()
    }

    /// The fixed data after the 12-byte header (`info_sz` bytes).
    pub fn info_data(&self) -> &'a [u8] {
        let n = self
            .ty
            .btf()
            .kind_layout(self.kind())
            .map_or(0, |l| l.info_sz);
        self.ty.tail().get(..usize::from(n)).unwrap_or_default()
    }

    /// The `vlen` elements after that, as bytes (`vlen × elem_sz`).
    pub fn elem_data(&self) -> &'a [u8] {
        let n = self
            .ty
            .btf()
            .kind_layout(self.kind())
            .map_or(0, |l| l.info_sz);
        self.ty.tail().get(usize::from(n)..).unwrap_or_default()
    }
}

impl<'a> Type<'a> {
    /// Convenience: the members when this is a STRUCT or UNION.
    pub fn members(&self) -> Option<Members<'a>> {
        match self.as_kind() {
            TypeKind::Struct(c) | TypeKind::Union(c) => Some(c.members()),
            _ => None,
        }
    }
}
