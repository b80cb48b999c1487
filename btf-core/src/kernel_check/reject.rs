//! [`KernelReject`]: which rule, where, in the kernel's words and in plain
//! words, and the errno class the kernel returns.

use crate::id::Kind;
use alloc::string::String;
use core::fmt;

/// The errno the kernel returns from `BPF_BTF_LOAD` for a rejected blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Errno {
    /// `EINVAL` (22): almost every rule.
    Inval,
    /// `E2BIG` (7): the blob is over 16 MiB, non-zero bytes in a longer
    /// header than the kernel knows, or a resolve chain deeper than 32.
    TooBig,
    /// `EEXIST` (17): a reference loop found while resolving.
    Exist,
    /// `ENOTSUPP` (524, kernel-internal): an unknown version, flags, or INT
    /// encoding.
    NotSupp,
    /// `ELOOP` (40): a modifier chain longer than 32 in the type tag pass.
    Loop,
}

impl Errno {
    /// The numeric errno as the syscall reports it (positive).
    pub const fn code(self) -> i32 {
        match self {
            Errno::Inval => 22,
            Errno::TooBig => 7,
            Errno::Exist => 17,
            Errno::NotSupp => 524,
            Errno::Loop => 40,
        }
    }

    /// The errno for a positive code, when it is one of these classes.
    pub const fn from_code(code: i32) -> Option<Errno> {
        match code {
            22 => Some(Errno::Inval),
            7 => Some(Errno::TooBig),
            17 => Some(Errno::Exist),
            524 => Some(Errno::NotSupp),
            40 => Some(Errno::Loop),
            _ => None,
        }
    }

    /// The symbolic name: `EINVAL`, `E2BIG`, `EEXIST`, `ENOTSUPP`, `ELOOP`.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::Inval => "EINVAL",
            Errno::TooBig => "E2BIG",
            Errno::Exist => "EEXIST",
            Errno::NotSupp => "ENOTSUPP",
            Errno::Loop => "ELOOP",
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! rules {
    ($($(#[$doc:meta])* $name:ident => $kernel:literal, $plain:literal;)*) => {
        /// The rule a blob breaks, one per message the kernel's BTF
        /// verifier can log for it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $($(#[$doc])* $name,)*
        }

        impl Rule {
            /// The kernel's log message for this rule, with `%u`-style
            /// placeholders where the kernel prints numbers
            /// ([`KernelReject::kernel_message`] fills them in).
            pub const fn kernel_text(self) -> &'static str {
                match self {
                    $(Rule::$name => $kernel,)*
                }
            }

            /// The rule in plain words; `{kind}` stands for the kind of the
            /// type concerned.
            pub const fn plain_text(self) -> &'static str {
                match self {
                    $(Rule::$name => $plain,)*
                }
            }
        }
    };
}

rules! {
    /// The blob is larger than the kernel's 16 MiB limit.
    TooLarge => "", "the blob is larger than the kernel's limit of 16 MiB";
    /// Fewer than 8 bytes: no `hdr_len`.
    HdrLenNotFound => "hdr_len not found", "the blob is too short to hold a header length (8 bytes)";
    /// `hdr_len` is more than the blob's size.
    HeaderNotFound => "btf_header not found", "the header length is larger than the blob";
    /// Bytes of a longer header than the kernel knows are not zero.
    HeaderNotZero => "Unsupported btf_header", "the header is longer than this kernel's and its extra bytes are not zero";
    /// The magic is not 0xeb9f in the kernel's byte order.
    BadMagic => "Invalid magic", "the magic is not 0xeb9f in the kernel's byte order";
    /// The version is not 1.
    BadVersion => "Unsupported version", "the version must be 1";
    /// The flags are not 0.
    BadFlags => "Unsupported flags", "the header flags must be 0";
    /// A base blob that is only a header.
    NoData => "No data", "the blob holds nothing after its header";
    /// A section starts past the end of the blob.
    SectionOffset => "Invalid section offset", "a section starts past the end of the blob";
    /// A gap before a section, or bytes after the last one.
    SectionGap => "Unsupported section found", "the sections do not tile the data after the header (a gap or trailing bytes)";
    /// Two sections overlap.
    SectionOverlap => "Section overlap found", "two sections overlap";
    /// A section runs past the end of the blob.
    SectionTooLong => "Total section length too long", "a section runs past the end of the blob";
    /// The string section is not the last bytes of the blob.
    StringsNotAtEnd => "String section is not at the end", "the string section must end where the blob ends";
    /// The string section is empty, too long, not NUL-terminated or (base)
    /// does not start with NUL.
    BadStrings => "Invalid string section", "the string section must start (base) and end with NUL and be at most 16 MiB";
    /// `type_off` is not a multiple of 4.
    TypeOffUnaligned => "Unaligned type_off", "the type section must start at a multiple of 4";
    /// A base blob with no types.
    NoTypes => "No type found", "a base blob must hold at least one type";
    /// A record runs past the end of the type section.
    MetaTruncated => "meta_left:%u meta_needed:%u", "the record runs past the end of the type section";
    /// Bits of `info` that this kernel does not define are set.
    BadInfo => "Invalid btf_info:%x", "the info word has bits set that this kernel does not define";
    /// Kind 0 or a kind this kernel does not know.
    BadKind => "Invalid kind:%u", "the kind is 0 or unknown to this kernel";
    /// A name offset outside the string section.
    NameOffset => "Invalid name_offset:%u", "the name offset is outside the string section";
    /// A kind that must have `vlen` 0.
    VlenNotZero => "vlen != 0", "a {kind}'s vlen must be 0";
    /// A kind that may not set `kind_flag`.
    KflagNotAllowed => "Invalid btf_info kind_flag", "a {kind} may not set the kind flag";
    /// An INT's data word sets bits 28..=31.
    IntData => "Invalid int_data:%x", "an INT's data word must leave bits 28..=31 clear";
    /// An INT's bits plus offset exceed 128.
    IntBitsOver128 => "nr_bits exceeds 128", "an INT's bits plus bit offset must be at most 128";
    /// An INT's bits plus offset exceed its size.
    IntBitsOverSize => "nr_bits exceeds type_size", "an INT's bits plus bit offset must fit in its size";
    /// An INT encoding other than none, SIGNED, CHAR or BOOL.
    IntEncoding => "Unsupported encoding", "an INT's encoding must be one of none, SIGNED, CHAR, BOOL";
    /// A referenced type id is 0 where void is not allowed, past the id
    /// limit, or of a kind that cannot be referred to there.
    InvalidTypeId => "Invalid type_id", "the {kind} refers to a type id that is void, too large, missing or of a kind it cannot refer to";
    /// A name that is missing, present where none is allowed, or not valid
    /// for its kind.
    InvalidName => "Invalid name", "the {kind}'s name is missing, not allowed, or not a valid identifier for its kind";
    /// A FWD whose type field is not 0.
    TypeNotZero => "type != 0", "a FWD's type field must be 0";
    /// An ARRAY whose size field is not 0.
    SizeNotZero => "size != 0", "an ARRAY's size field must be 0";
    /// An ARRAY's element type is void, too large, or unsized.
    InvalidElem => "Invalid elem", "an ARRAY's element type must exist and have a size";
    /// An ARRAY's index type is not a plain INT.
    InvalidIndex => "Invalid index", "an ARRAY's index type must be a regular INT (1, 2, 4, 8 or 16 bytes, no bit offset)";
    /// A member's name offset outside the string section.
    MemberNameOffset => "Invalid member name_offset:%u", "a member's name offset is outside the string section";
    /// A union member at a non-zero offset, or members out of order.
    MemberBitsOffset => "Invalid member bits_offset", "members must be in offset order, and a union's at offset 0";
    /// A member offset past the struct's size.
    MemberOffsetPastSize => "Member bits_offset exceeds its struct size", "a member starts past the end of its {kind}";
    /// An ENUM or ENUM64 size other than 1, 2, 4 or 8.
    EnumSize => "Unexpected size", "a {kind}'s size must be 1, 2, 4 or 8";
    /// An enumerator's name offset outside the string section.
    EnumNameOffset => "Invalid name_offset:%u", "an enumerator's name offset is outside the string section";
    /// A FUNC linkage other than static or global.
    FuncLinkage => "Invalid func linkage", "a FUNC's linkage (vlen) must be 0 (static) or 1 (global)";
    /// A VAR linkage other than static or global.
    VarLinkage => "Linkage not supported", "a VAR's linkage must be 0 (static) or 1 (global)";
    /// A DATASEC of size 0.
    DatasecSizeZero => "size == 0", "a DATASEC's size must not be 0";
    /// A DATASEC entry out of order or past the section.
    VsiOffset => "Invalid offset", "a DATASEC entry must start after the previous one and inside the section";
    /// A DATASEC entry's size is 0, larger than the section, or smaller
    /// than its variable.
    VsiSize => "Invalid size", "a DATASEC entry's size must be non-zero, fit in the section and hold its variable";
    /// A DATASEC entry ends past the section.
    VsiOffsetSize => "Invalid offset+size", "a DATASEC entry must end inside the section";
    /// The DATASEC entries add up to more than its size.
    DatasecSum => "Invalid btf_info size", "a DATASEC's entries add up to more than its size";
    /// A FLOAT size other than 2, 4, 8, 12 or 16.
    FloatSize => "Invalid type_size", "a FLOAT's size must be 2, 4, 8, 12 or 16";
    /// A DECL_TAG with an empty value.
    DeclTagValue => "Invalid value", "a DECL_TAG's name (its value) must not be empty";
    /// A DECL_TAG's component index out of range for its target.
    ComponentIdx => "Invalid component_idx", "a DECL_TAG's component index must be -1 or a member/parameter of its target";
    /// A resolve chain deeper than 32.
    ResolveDepth => "Exceeded max resolving depth:%u", "the chain of references from this type is deeper than 32";
    /// A reference loop.
    LoopDetected => "Loop detected", "the references from this type loop back to it without a pointer in between";
    /// A type resolved to something inconsistent.
    InvalidResolveState => "Invalid resolve state", "the type resolves to something the kernel cannot use";
    /// A member's type has no size or cannot be a member.
    InvalidMember => "Invalid member", "a member's type must have a size (not void, FWD, FUNC, FUNC_PROTO, VAR, DATASEC, DECL_TAG)";
    /// A member that must be byte aligned is not.
    MemberNotAligned => "Member is not byte aligned", "this member must start on a byte boundary";
    /// A member that ends past its struct.
    MemberExceeds => "Member exceeds struct_size", "the member ends past the end of its {kind}";
    /// A bitfield size too large for its type, or set on a type that
    /// cannot be a bitfield.
    MemberBitfieldSize => "Invalid member bitfield_size", "the member's bitfield size is not allowed for its type";
    /// A kflag bitfield whose INT is not a regular int.
    MemberBaseType => "Invalid member base type", "a bitfield member (kind flag) must have a regular INT type";
    /// A kflag non-bitfield INT member off a byte boundary.
    MemberOffset => "Invalid member offset", "a non-bitfield INT member must start on a byte boundary";
    /// A member's bits span more than 128 bits.
    NrCopyBits => "nr_copy_bits exceeds 128", "the member's bits span more than 128 bits";
    /// A member bit offset plus the INT's offset overflows 32 bits.
    BitsOffsetOverflow => "bits_offset exceeds U32_MAX", "the member's bit offset overflows 32 bits";
    /// A FLOAT member off its natural alignment.
    FloatMemberAlign => "Member is not properly aligned", "a FLOAT member must be aligned to its size (at most 8)";
    /// A member whose type kind cannot be checked as a member.
    UnsupportedMember => "Unsupported check_member", "the member's type cannot be a member";
    /// An ARRAY of a bitfield-like INT.
    ArrayOfInt => "Invalid array of int", "an ARRAY's element INT must be regular (1, 2, 4, 8 or 16 bytes, no bit offset)";
    /// An ARRAY whose byte size overflows 32 bits.
    ArrayOverflow => "Array size overflows U32_MAX", "the ARRAY's size in bytes overflows 32 bits";
    /// A DATASEC entry that is not a VAR.
    NotVar => "Not a VAR kind member", "a DATASEC entry must refer to a VAR";
    /// A DATASEC entry whose VAR has no sized type.
    VsiInvalidType => "Invalid type", "a DATASEC entry's VAR must have a sized type";
    /// A FUNC_PROTO's return type is missing or unsized.
    ReturnType => "Invalid return type", "a FUNC_PROTO's return type must be void or have a size";
    /// A bad FUNC_PROTO parameter (missing or unsized type, bad name,
    /// `...` not last), or a FUNC's unnamed parameter.
    InvalidArg => "Invalid arg#%u", "parameter {arg} is invalid (unsized or missing type, bad name, unnamed in a FUNC, or `...` not last)";
    /// A TYPE_TAG after a non-tag modifier in a chain.
    TypeTagOrder => "Type tags don't precede modifiers", "in a chain of modifiers, every TYPE_TAG must come before CONST/VOLATILE/RESTRICT/TYPEDEF";
    /// A modifier chain longer than 32.
    ChainTooLong => "Max chain length or cycle detected", "a chain of modifiers is longer than 32 or loops";
}

/// Why the kernel would refuse a blob: the rule, the type id and byte
/// offset concerned, and the errno class `BPF_BTF_LOAD` returns.
///
/// Displays as `type [15] VAR 'v' at byte 212: a VAR's vlen must be 0
/// (kernel: "vlen != 0"; EINVAL)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KernelReject {
    /// The rule broken.
    pub rule: Rule,
    /// What the kernel returns.
    pub errno: Errno,
    /// The type concerned (`None` for header and section rules).
    pub id: Option<u32>,
    /// That type's kind, when known.
    pub kind: Option<Kind>,
    /// That type's name, when it has a readable one (else empty).
    pub name: String,
    /// The byte offset in the blob of the field or record concerned.
    pub offset: usize,
    /// The numbers the kernel prints in its message (`meta_left`, a name
    /// offset, an argument number…), in order; unused ones are 0.
    pub args: [u64; 2],
}

impl KernelReject {
    /// The kernel's log message, numbers filled in, e.g. `vlen != 0`,
    /// `Invalid arg#2`.
    pub fn kernel_message(&self) -> String {
        fill(self.rule.kernel_text(), &self.args)
    }

    /// The rule in plain words, kind and numbers filled in.
    pub fn plain_message(&self) -> String {
        let kind = self.kind.and_then(Kind::name).unwrap_or("type");
        let mut out = String::new();
        let text = self.rule.plain_text();
        let mut rest = text;
        while let Some(at) = rest.find('{') {
            out.push_str(rest.get(..at).unwrap_or_default());
            let tail = rest.get(at..).unwrap_or_default();
            if let Some(t) = tail.strip_prefix("{kind}") {
                out.push_str(kind);
                rest = t;
            } else if let Some(t) = tail.strip_prefix("{arg}") {
                push_u64(&mut out, self.args[0]);
                rest = t;
            } else {
                out.push('{');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
        out.push_str(rest);
        out
    }
}

fn push_u64(out: &mut String, v: u64) {
    use core::fmt::Write;
    let _ = write!(out, "{v}");
}

/// Replaces `%u` / `%x` placeholders of `text` with `args`, in order.
fn fill(text: &str, args: &[u64; 2]) -> String {
    use core::fmt::Write;
    let mut out = String::new();
    let mut rest = text;
    let mut next = args.iter();
    while let Some(at) = rest.find('%') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let tail = rest.get(at..).unwrap_or_default();
        let v = next.next().copied().unwrap_or(0);
        if let Some(t) = tail.strip_prefix("%u") {
            let _ = write!(out, "{v}");
            rest = t;
        } else if let Some(t) = tail.strip_prefix("%x") {
            let _ = write!(out, "{v:x}");
            rest = t;
        } else {
            out.push('%');
            rest = tail.get(1..).unwrap_or_default();
        }
    }
    out.push_str(rest);
    out
}

impl fmt::Display for KernelReject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => {
                let kind = self.kind.and_then(Kind::name).unwrap_or("type");
                if self.name.is_empty() {
                    write!(f, "type [{id}] {kind} (anon)")?;
                } else {
                    write!(f, "type [{id}] {kind} '{}'", self.name)?;
                }
                write!(f, " at byte {}: ", self.offset)?;
            }
            None => write!(f, "at byte {}: ", self.offset)?,
        }
        f.write_str(&self.plain_message())?;
        let kernel = self.kernel_message();
        if kernel.is_empty() {
            write!(f, " ({})", self.errno)
        } else {
            write!(f, " (kernel: \"{kernel}\"; {})", self.errno)
        }
    }
}

impl core::error::Error for KernelReject {}
