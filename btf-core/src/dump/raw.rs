//! The raw dumper: bpftool's `format raw`, byte for byte (see the
//! [module docs](super) for the format, the entry points and the choices
//! where bpftool has no answer).

use super::ByteSink;
use super::decimal::{fill_u32, fill_u64};
use crate::btf::Btf;
use crate::endian::U32;
use crate::endian::{Be, Endian, Le, Order};
use crate::id::{Kind, StrOffset, TypeId};
use crate::record::{self, Head, IntWord, MemberOffset};
use crate::types::Type;
use crate::wire::{BtfArray, BtfEnum, BtfEnum64, BtfMember, BtfParam, BtfVarSecinfo};
use core::fmt;

/// Writes every own type of `btf` (only the split's own ids for a split
/// blob), one `\n`-terminated entry per type, exactly as
/// `bpftool btf dump file … format raw` prints them, names as raw bytes.
///
/// `sink` receives the dump in pieces of up to 32 KiB.
///
/// Each DATASEC entry names its variable, looked up by id: give a `btf`
/// with an id index ([`Btf::parse`], [`Btf::parse_split`]), as a blob from
/// [`Btf::parse_unindexed`] walks its type section for every entry.
///
/// Elements are printed as they are: a name offset past the strings as
/// `'(invalid)'`, as bpftool prints it, and a type id that does not exist
/// as its number. Call [`Btf::validate`] first to refuse such a blob.
///
/// # Errors
///
/// The first error of `sink`; formatting itself cannot fail.
pub fn write_raw<S: ByteSink + ?Sized>(btf: &Btf<'_>, sink: &mut S) -> Result<(), S::Error> {
    write_blob(&mut Out::<_, BLOB_BUF>::new(Bytes(sink)), btf)
}

/// As [`write_raw`], into a [`core::fmt::Write`]; names that are not UTF-8
/// are written lossily (see the [module docs](super)).
///
/// # Errors
///
/// [`fmt::Error`] when `w` fails.
pub fn write_raw_fmt<W: fmt::Write + ?Sized>(btf: &Btf<'_>, w: &mut W) -> fmt::Result {
    write_blob(&mut Out::<_, BLOB_BUF>::new(Text(w)), btf)
}

/// A whole blob's raw dump, for `Display` (see [`write_raw_fmt`]).
///
/// ```
/// # let blob = btf_core::testing::tiny_blob();
/// let btf = btf_core::Btf::parse(&blob)?;
/// let text = btf_core::dump::RawDump(&btf).to_string();
/// assert_eq!(text.lines().filter(|l| l.starts_with('[')).count(), 5);
/// # Ok::<(), btf_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RawDump<'a>(pub &'a Btf<'a>);

impl fmt::Display for RawDump<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_raw_fmt(self.0, f)
    }
}

/// One type as bpftool's raw format prints it: the `[ID] KIND 'NAME' …`
/// line and its tab-indented sub-lines, without the final newline.
///
/// `Display` writes names lossily (see the [module docs](super));
/// [`write_to`](Self::write_to) writes their exact bytes.
///
/// ```
/// # let blob = btf_core::testing::tiny_blob();
/// let btf = btf_core::Btf::parse(&blob)?;
/// let point = btf.type_by_id(btf_core::TypeId::new(2))?;
/// assert_eq!(
///     btf_core::dump::RawType(point).to_string(),
///     "[2] STRUCT 'point' size=8 vlen=2\n\t'x' type_id=1 bits_offset=0\n\t'y' type_id=1 bits_offset=32",
/// );
/// # Ok::<(), btf_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RawType<'a>(pub Type<'a>);

impl RawType<'_> {
    /// Writes the entry with names as raw bytes, without the final newline.
    ///
    /// # Errors
    ///
    /// The first error of `sink`.
    pub fn write_to<S: ByteSink + ?Sized>(&self, sink: &mut S) -> Result<(), S::Error> {
        let mut out = Out::<_, TYPE_BUF>::new(Bytes(sink));
        write_type(&mut out, self.0)?;
        out.flush()
    }
}

impl fmt::Display for RawType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Out::<_, TYPE_BUF>::new(Text(f));
        write_type(&mut out, self.0)?;
        out.flush()
    }
}

/// Buffer for whole dumps: large enough that flushes are rare.
const BLOB_BUF: usize = 32 * 1024;
/// Buffer for one type.
const TYPE_BUF: usize = 512;

/// Where the buffer goes when full.
trait Flush {
    type Error;
    /// Whether names must be made UTF-8 before they enter the buffer.
    const TEXT: bool;
    fn flush(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;
}

/// Exact bytes into a [`ByteSink`].
struct Bytes<S>(S);

impl<S: ByteSink> Flush for Bytes<S> {
    type Error = S::Error;
    const TEXT: bool = false;

    #[inline]
    fn flush(&mut self, bytes: &[u8]) -> Result<(), S::Error> {
        self.0.write_bytes(bytes)
    }
}

/// Text into a [`fmt::Write`]. The buffer then only ever holds whole
/// UTF-8 pieces, so the check on flush always passes.
struct Text<'w, W: ?Sized>(&'w mut W);

impl<W: fmt::Write + ?Sized> Flush for Text<'_, W> {
    type Error = fmt::Error;
    const TEXT: bool = true;

    #[inline]
    fn flush(&mut self, bytes: &[u8]) -> fmt::Result {
        let s = core::str::from_utf8(bytes).map_err(|_| fmt::Error)?;
        self.0.write_str(s)
    }
}

/// A fixed buffer in front of a [`Flush`].
struct Out<F, const N: usize> {
    buf: [u8; N],
    len: usize,
    sink: F,
}

impl<F: Flush, const N: usize> Out<F, N> {
    fn new(sink: F) -> Self {
        Out {
            buf: [0; N],
            len: 0,
            sink,
        }
    }

    /// Appends `b` (whole UTF-8 pieces only when `F::TEXT`).
    #[inline(always)]
    fn put(&mut self, b: &[u8]) -> Result<(), F::Error> {
        let end = self.len.saturating_add(b.len());
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(b);
                self.len = end;
                Ok(())
            }
            None => self.put_slow(b),
        }
    }

    #[cold]
    fn put_slow(&mut self, b: &[u8]) -> Result<(), F::Error> {
        self.flush()?;
        match self.buf.get_mut(..b.len()) {
            Some(dst) if b.len() < N / 2 => {
                dst.copy_from_slice(b);
                self.len = b.len();
                Ok(())
            }
            _ => self.sink.flush(b),
        }
    }

    fn flush(&mut self) -> Result<(), F::Error> {
        let pending = self.buf.get(..self.len).unwrap_or_default();
        self.len = 0;
        if pending.is_empty() {
            return Ok(());
        }
        self.sink.flush(pending)
    }

    /// Appends a name's bytes, made UTF-8 when the sink takes text.
    #[inline]
    fn name_bytes(&mut self, b: &[u8]) -> Result<(), F::Error> {
        if !F::TEXT || b.is_ascii() {
            return self.put(b);
        }
        for chunk in b.utf8_chunks() {
            self.put(chunk.valid().as_bytes())?;
            if !chunk.invalid().is_empty() {
                self.put("\u{FFFD}".as_bytes())?;
            }
        }
        Ok(())
    }

    /// Appends `'NAME'` as bpftool's `btf_str` spells it: `(anon)` for
    /// offset 0, `(invalid)` for an offset without a string.
    #[inline]
    fn name(&mut self, btf: &Btf<'_>, off: StrOffset) -> Result<(), F::Error> {
        self.put(b"'")?;
        if off == StrOffset::EMPTY {
            self.put(b"(anon)")?;
        } else {
            match string_tail(btf, off) {
                Some(tail) => self.c_str(tail)?,
                None => self.put(b"(invalid)")?,
            }
        }
        self.put(b"'")
    }

    /// Appends the NUL-terminated string at the start of `tail` (all of
    /// `tail` if it has no NUL).
    ///
    /// Names are short, so instead of finding the NUL and then copying,
    /// this copies 16 bytes at a time into the buffer and finds the NUL in
    /// the copied word; bytes copied past the NUL are beyond `len` and are
    /// overwritten by what comes next.
    #[inline]
    fn c_str(&mut self, tail: &[u8]) -> Result<(), F::Error> {
        const LOW: u128 = u128::from_le_bytes([0x01; 16]);
        const HIGH: u128 = u128::from_le_bytes([0x80; 16]);
        let start = self.len;
        let mut pos = 0usize;
        loop {
            let dst_end = self.len.saturating_add(16);
            let src_end = pos.saturating_add(16);
            let (Some(dst), Some(src)) =
                (self.buf.get_mut(self.len..dst_end), tail.get(pos..src_end))
            else {
                break;
            };
            dst.copy_from_slice(src);
            let mut word = [0u8; 16];
            word.copy_from_slice(src);
            let w = u128::from_le_bytes(word);
            // The lowest set bit marks the first zero byte.
            let zero = w.wrapping_sub(LOW) & !w & HIGH;
            if zero != 0 {
                let n = (zero.trailing_zeros() / 8) as usize;
                self.len = self.len.saturating_add(n);
                return self.check_text(start, tail);
            }
            self.len = dst_end;
            pos = src_end;
        }
        // Near the end of the buffer or of the strings: find the NUL.
        let rest = tail.get(pos..).unwrap_or_default();
        let end = memchr::memchr(0, rest).unwrap_or(rest.len());
        if F::TEXT {
            let all = tail.get(..pos.saturating_add(end)).unwrap_or_default();
            if !all.is_ascii() {
                // Redo the whole name through the lossy path.
                self.len = start;
                return self.name_bytes(all);
            }
        }
        self.put(rest.get(..end).unwrap_or_default())
    }

    /// For a text sink, undoes a name copied in [`c_str`](Self::c_str)'s
    /// fast path that is not ASCII and writes it through the lossy path.
    #[inline]
    fn check_text(&mut self, start: usize, tail: &[u8]) -> Result<(), F::Error> {
        if !F::TEXT {
            return Ok(());
        }
        let copied = self.buf.get(start..self.len).unwrap_or_default();
        if copied.is_ascii() {
            return Ok(());
        }
        let n = copied.len();
        self.len = start;
        self.name_bytes(tail.get(..n).unwrap_or_default())
    }

    /// Appends `v` in decimal, straight into the buffer.
    #[inline]
    fn u64(&mut self, v: u64) -> Result<(), F::Error> {
        let digits = v.checked_ilog10().map_or(1, |l| l as usize + 1);
        let end = self.len.saturating_add(digits);
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                fill_u64(dst, v);
                self.len = end;
                Ok(())
            }
            None => {
                let mut tmp = [0u8; 20];
                let dst = tmp.get_mut(..digits).unwrap_or_default();
                fill_u64(dst, v);
                self.put(dst)
            }
        }
    }

    /// Appends `v` in decimal: the common case, in 32-bit arithmetic with
    /// a table of digit pairs.
    #[inline]
    fn u32(&mut self, v: u32) -> Result<(), F::Error> {
        if v < 10 {
            // A digit is below 10, so the cast and the `|` are exact.
            return self.put(&[b'0' | v as u8]);
        }
        let digits = v.checked_ilog10().map_or(1, |l| l as usize + 1);
        let end = self.len.saturating_add(digits);
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                fill_u32(dst, v);
                self.len = end;
                Ok(())
            }
            None => {
                let mut tmp = [0u8; 10];
                let dst = tmp.get_mut(..digits).unwrap_or_default();
                fill_u32(dst, v);
                self.put(dst)
            }
        }
    }

    /// Appends a padded constant string with one fixed-size copy.
    #[inline(always)]
    fn word(&mut self, w: Word) -> Result<(), F::Error> {
        let room = self.len.saturating_add(w.bytes.len());
        match self.buf.get_mut(self.len..room) {
            Some(dst) => {
                dst.copy_from_slice(&w.bytes);
                self.len = self.len.saturating_add(w.len);
                Ok(())
            }
            None => self.put(w.bytes.get(..w.len).unwrap_or_default()),
        }
    }

    #[inline]
    fn i64(&mut self, v: i64) -> Result<(), F::Error> {
        if v < 0 {
            self.put(b"-")?;
        }
        self.u64(v.unsigned_abs())
    }

    /// ` key=value` for a u32 field.
    #[inline]
    fn field(&mut self, key: &[u8], v: u32) -> Result<(), F::Error> {
        self.put(key)?;
        self.u32(v)
    }
}

/// The strings of the blob in `btf`'s chain that holds `off`, from `off`
/// to the end of that blob's string section (as [`Btf::str_bytes_at`]
/// resolves it, without looking for the NUL yet).
#[inline]
fn string_tail<'a>(btf: &Btf<'a>, off: StrOffset) -> Option<&'a [u8]> {
    let mut b = btf;
    let mut strings = btf.strings();
    let mut start = btf.str_start();
    while off.get() < start {
        let base = b.base()?;
        strings = base.strings();
        start = base.str_start();
        b = base;
    }
    let rel = usize::try_from(off.get().checked_sub(start)?).ok()?;
    strings.get(rel..).filter(|t| !t.is_empty())
}

/// A short constant string, NUL-padded to 16 bytes so that writing it is
/// one fixed-size copy.
#[derive(Clone, Copy)]
struct Word {
    bytes: [u8; 16],
    len: usize,
}

impl Word {
    /// Pads `s` (at most 16 bytes; longer is a compile error where used in
    /// a constant).
    // Evaluated at compile time only: an index out of range would be a
    // build error, not a panic.
    #[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    const fn new(s: &str) -> Word {
        let src = s.as_bytes();
        let mut bytes = [0u8; 16];
        let mut i = 0;
        while i < src.len() {
            bytes[i] = src[i];
            i += 1;
        }
        Word {
            bytes,
            len: src.len(),
        }
    }
}

/// bpftool's kind table; `UNKNOWN` for kind 0 and kinds above ENUM64
/// (its `btf_kind_safe`).
const KINDS: [Word; 21] = [
    Word::new("UNKNOWN"),
    Word::new("INT"),
    Word::new("PTR"),
    Word::new("ARRAY"),
    Word::new("STRUCT"),
    Word::new("UNION"),
    Word::new("ENUM"),
    Word::new("FWD"),
    Word::new("TYPEDEF"),
    Word::new("VOLATILE"),
    Word::new("CONST"),
    Word::new("RESTRICT"),
    Word::new("FUNC"),
    Word::new("FUNC_PROTO"),
    Word::new("VAR"),
    Word::new("DATASEC"),
    Word::new("FLOAT"),
    Word::new("DECL_TAG"),
    Word::new("TYPE_TAG"),
    Word::new("ENUM64"),
    Word::new("UNKNOWN"),
];

fn kind_word(kind: Kind) -> Word {
    let i = usize::from(kind.get()).min(KINDS.len().saturating_sub(1));
    KINDS.get(i).copied().unwrap_or(Word::new("UNKNOWN"))
}

/// bpftool's `btf_var_linkage_str` and `btf_func_linkage_str`.
fn linkage_word(linkage: u32) -> Word {
    const LINKAGES: [Word; 4] = [
        Word::new("static"),
        Word::new("global"),
        Word::new("extern"),
        Word::new("(unknown)"),
    ];
    let i = (linkage as usize).min(3);
    LINKAGES.get(i).copied().unwrap_or(Word::new("(unknown)"))
}

/// bpftool's `btf_int_enc_str`: one encoding bit, or none.
fn int_encoding_word(encoding: u8) -> Word {
    match encoding {
        0 => Word::new("(none)"),
        1 => Word::new("SIGNED"),
        2 => Word::new("CHAR"),
        4 => Word::new("BOOL"),
        _ => Word::new("UNKN"),
    }
}

fn signedness_word(signed: bool) -> Word {
    if signed {
        Word::new("SIGNED")
    } else {
        Word::new("UNSIGNED")
    }
}

/// Writes one type's entry, without the final newline.
#[inline]
fn write_type<F: Flush, const N: usize>(out: &mut Out<F, N>, ty: Type<'_>) -> Result<(), F::Error> {
    let btf = ty.btf();
    match btf.endian() {
        Endian::Little => write_record::<F, N, Le>(out, btf, ty.id().get(), ty.record()),
        Endian::Big => write_record::<F, N, Be>(out, btf, ty.id().get(), ty.record()),
    }
}

/// Writes every own type of `btf`, each followed by `\n`.
fn write_blob<F: Flush, const N: usize>(
    out: &mut Out<F, N>,
    btf: &Btf<'_>,
) -> Result<(), F::Error> {
    match btf.endian() {
        Endian::Little => write_blob_in::<F, N, Le>(out, btf),
        Endian::Big => write_blob_in::<F, N, Be>(out, btf),
    }
}

fn write_blob_in<F: Flush, const N: usize, O: Order>(
    out: &mut Out<F, N>,
    btf: &Btf<'_>,
) -> Result<(), F::Error> {
    for ty in btf.types() {
        write_record::<F, N, O>(out, btf, ty.id().get(), ty.record())?;
        out.put(b"\n")?;
    }
    out.flush()
}

/// Writes the record `rec` of type `id` in `btf`, decoded straight from its
/// bytes in the compile-time order `O`, without the final newline. The
/// parser sized `rec` for its kind, so every trailing element is there.
#[inline]
fn write_record<F: Flush, const N: usize, O: Order>(
    out: &mut Out<F, N>,
    btf: &Btf<'_>,
    id: u32,
    rec: &[u8],
) -> Result<(), F::Error> {
    let Some(head) = Head::read::<O>(rec) else {
        return Ok(());
    };
    let (kind, vlen, kflag) = (head.info.kind(), head.info.vlen(), head.info.kflag());
    let st = head.size_or_type;
    let tail = record::tail(rec);
    let count = vlen as usize;
    out.put(b"[")?;
    out.u32(id)?;
    out.put(b"] ")?;
    out.word(kind_word(kind))?;
    out.put(b" ")?;
    out.name(btf, StrOffset::new(head.name_off))?;
    match kind {
        Kind::INT => {
            let enc = IntWord::decode(info_word::<O>(tail));
            out.field(b" size=", st)?;
            out.field(b" bits_offset=", u32::from(enc.offset))?;
            out.field(b" nr_bits=", u32::from(enc.bits))?;
            out.put(b" encoding=")?;
            out.word(int_encoding_word(enc.encoding))?;
        }
        Kind::PTR
        | Kind::TYPEDEF
        | Kind::VOLATILE
        | Kind::CONST
        | Kind::RESTRICT
        | Kind::TYPE_TAG => {
            out.field(b" type_id=", st)?;
        }
        Kind::ARRAY => {
            let (elem, index, nelems) =
                record::info_part::<BtfArray>(tail).map_or((0, 0, 0), |a| {
                    (
                        a.type_.get_in::<O>(),
                        a.index_type.get_in::<O>(),
                        a.nelems.get_in::<O>(),
                    )
                });
            out.field(b" type_id=", elem)?;
            out.field(b" index_type_id=", index)?;
            out.field(b" nr_elems=", nelems)?;
        }
        Kind::STRUCT | Kind::UNION => {
            out.field(b" size=", st)?;
            out.field(b" vlen=", vlen)?;
            for m in record::elements::<BtfMember>(tail, count) {
                let offset = MemberOffset::decode(m.offset.get_in::<O>(), kflag);
                out.put(b"\n\t")?;
                out.name(btf, StrOffset::new(m.name_off.get_in::<O>()))?;
                out.field(b" type_id=", m.type_.get_in::<O>())?;
                out.field(b" bits_offset=", offset.bit_offset)?;
                if offset.bitfield_size != 0 {
                    out.field(b" bitfield_size=", offset.bitfield_size)?;
                }
            }
        }
        Kind::ENUM => {
            out.put(b" encoding=")?;
            out.word(signedness_word(kflag))?;
            out.field(b" size=", st)?;
            out.field(b" vlen=", vlen)?;
            for v in record::elements::<BtfEnum>(tail, count) {
                out.put(b"\n\t")?;
                out.name(btf, StrOffset::new(v.name_off.get_in::<O>()))?;
                let val = v.val.get_in::<O>();
                if kflag {
                    // `%d` of the stored 32 bits.
                    out.put(b" val=")?;
                    out.i64(i64::from(val as i32))?;
                } else {
                    out.field(b" val=", val)?;
                }
            }
        }
        Kind::FWD => out.put(if kflag {
            b" fwd_kind=union"
        } else {
            b" fwd_kind=struct"
        })?,
        Kind::FUNC => {
            out.field(b" type_id=", st)?;
            out.put(b" linkage=")?;
            out.word(linkage_word(vlen))?;
        }
        Kind::FUNC_PROTO => {
            out.field(b" ret_type_id=", st)?;
            out.field(b" vlen=", vlen)?;
            for p in record::elements::<BtfParam>(tail, count) {
                out.put(b"\n\t")?;
                out.name(btf, StrOffset::new(p.name_off.get_in::<O>()))?;
                out.field(b" type_id=", p.type_.get_in::<O>())?;
            }
        }
        Kind::VAR => {
            out.field(b" type_id=", st)?;
            out.put(b", linkage=")?;
            out.word(linkage_word(info_word::<O>(tail)))?;
        }
        Kind::DATASEC => {
            out.field(b" size=", st)?;
            out.field(b" vlen=", vlen)?;
            for v in record::elements::<BtfVarSecinfo>(tail, count) {
                let target = TypeId::new(v.type_.get_in::<O>());
                out.field(b"\n\ttype_id=", target.get())?;
                out.field(b" offset=", v.offset.get_in::<O>())?;
                out.field(b" size=", v.size.get_in::<O>())?;
                // bpftool names the entry's type when the id exists
                // (id 0 is `void`, which its kind table calls UNKNOWN).
                if let Ok(t) = btf.type_by_id(target) {
                    out.put(b" (")?;
                    out.word(kind_word(t.kind()))?;
                    out.put(b" ")?;
                    out.name(t.btf(), t.name_offset())?;
                    out.put(b")")?;
                }
            }
        }
        Kind::FLOAT => out.field(b" size=", st)?,
        Kind::DECL_TAG => {
            out.field(b" type_id=", st)?;
            out.put(b" component_idx=")?;
            // `%d` of the stored 32 bits.
            out.i64(i64::from(info_word::<O>(tail) as i32))?;
        }
        Kind::ENUM64 => {
            out.put(b" encoding=")?;
            out.word(signedness_word(kflag))?;
            out.field(b" size=", st)?;
            out.field(b" vlen=", vlen)?;
            for v in record::elements::<BtfEnum64>(tail, count) {
                out.put(b"\n\t")?;
                out.name(btf, StrOffset::new(v.name_off.get_in::<O>()))?;
                out.put(b" val=")?;
                let val =
                    u64::from(v.val_hi32.get_in::<O>()) << 32 | u64::from(v.val_lo32.get_in::<O>());
                if kflag {
                    // `%lldLL` of the stored 64 bits.
                    out.i64(val as i64)?;
                    out.put(b"LL")?;
                } else {
                    out.u64(val)?;
                    out.put(b"ULL")?;
                }
            }
        }
        // Kinds this crate does not know print no fields (bpftool's
        // `default:` case).
        _ => {}
    }
    Ok(())
}

/// The first word of a record's info part in order `O` (INT's encoding,
/// VAR's linkage, DECL_TAG's component index); 0 when there is none.
#[inline(always)]
fn info_word<O: Order>(tail: &[u8]) -> u32 {
    record::info_part::<U32>(tail).map_or(0, |w| w.get_in::<O>())
}
