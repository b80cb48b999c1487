//! Writing a [`Resolution`] into an instruction: libbpf's
//! `bpf_core_patch_insn` and `bpf_core_poison_insn`, on a byte copy of a
//! program section in either byte order.

use super::calc::Resolution;
use super::error::PatchError;
use crate::endian::Endian;

/// The immediate of a poisoned instruction, `call 0xbad2310`: the
/// verifier rejects it (`invalid func unknown#195896080`) only when it is
/// reachable.
pub const POISON_IMM: u32 = 0xbad2310;

const INSN: usize = 8;
const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_ST: u8 = 0x02;
const BPF_STX: u8 = 0x03;
const BPF_ALU: u8 = 0x04;
const BPF_ALU64: u8 = 0x07;
const BPF_JMP_CALL: u8 = 0x85;
const BPF_LD_IMM64: u8 = 0x18;
const BPF_X: u8 = 0x08;

/// What [`patch_insn`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Patched {
    /// An ALU or ALU64 immediate.
    Imm {
        /// The old immediate.
        from: i32,
        /// The new one.
        to: i32,
    },
    /// A load's or store's offset, and its size when that changed.
    Offset {
        /// The old offset.
        from: i16,
        /// The new one.
        to: i16,
        /// The old and new access size in bytes, when changed.
        size: Option<(u32, u32)>,
    },
    /// An `ld_imm64`'s 64-bit immediate.
    Imm64 {
        /// The old value.
        from: u64,
        /// The new one.
        to: u64,
    },
    /// Replaced by `call 0xbad2310` (both halves of an `ld_imm64`).
    Poisoned {
        /// Whether an `ld_imm64` (two instructions) was poisoned.
        ld_imm64: bool,
        /// Whether because a load or store would change size unsafely
        /// (else no candidate matched).
        mem_size: bool,
    },
}

/// One instruction's fields, read from and written to bytes.
#[derive(Clone, Copy)]
struct Raw {
    code: u8,
    regs: u8,
    off: u16,
    imm: u32,
}

fn read(code: &[u8], index: usize, endian: Endian) -> Result<Raw, PatchError> {
    let b = index
        .checked_mul(INSN)
        .and_then(|at| code.get(at..at.checked_add(INSN)?))
        .ok_or(PatchError::NoInsn { index })?;
    let (Some(&c), Some(&regs), Some(off), Some(imm)) = (
        b.first(),
        b.get(1),
        b.get(2..4).and_then(|s| <[u8; 2]>::try_from(s).ok()),
        b.get(4..8).and_then(|s| <[u8; 4]>::try_from(s).ok()),
    ) else {
        return Err(PatchError::NoInsn { index });
    };
    Ok(Raw {
        code: c,
        regs,
        off: endian.read_u16(off),
        imm: endian.read_u32(imm),
    })
}

fn write(code: &mut [u8], index: usize, endian: Endian, insn: Raw) -> Result<(), PatchError> {
    let b = index
        .checked_mul(INSN)
        .and_then(|at| code.get_mut(at..at.checked_add(INSN)?))
        .ok_or(PatchError::NoInsn { index })?;
    let [o0, o1] = endian.write_u16(insn.off);
    let [i0, i1, i2, i3] = endian.write_u32(insn.imm);
    let bytes = [insn.code, insn.regs, o0, o1, i0, i1, i2, i3];
    b.copy_from_slice(&bytes);
    Ok(())
}

fn src_reg(regs: u8, endian: Endian) -> u8 {
    match endian {
        Endian::Little => regs >> 4,
        Endian::Big => regs & 0xf,
    }
}

const POISON: Raw = Raw {
    code: BPF_JMP_CALL,
    regs: 0,
    off: 0,
    imm: POISON_IMM,
};

fn poison(
    code: &mut [u8],
    index: usize,
    endian: Endian,
    insn: Raw,
    mem_size: bool,
) -> Result<Patched, PatchError> {
    let ld_imm64 = insn.code == BPF_LD_IMM64;
    if ld_imm64 {
        let next = index.checked_add(1).ok_or(PatchError::NoInsn { index })?;
        read(code, next, endian)?;
        write(code, next, endian, POISON)?;
    }
    write(code, index, endian, POISON)?;
    Ok(Patched::Poisoned { ld_imm64, mem_size })
}

fn size_bytes(code: u8) -> i32 {
    match code & 0x18 {
        0x18 => 8,
        0x00 => 4,
        0x08 => 2,
        _ => 1,
    }
}

fn size_code(bytes: u32) -> Option<u8> {
    Some(match bytes {
        8 => 0x18,
        4 => 0x00,
        2 => 0x08,
        1 => 0x10,
        _ => return None,
    })
}

/// Patches instruction `index` of `code` (a program section's bytes, in
/// byte order `endian`) with `res`, as libbpf's `bpf_core_patch_insn`:
/// poisons it when `res` says so; else sets an ALU/ALU64 immediate, a
/// LDX/ST/STX offset (and access size, when the field's size changed
/// safely; poisoned when unsafely), or an `ld_imm64` value, after checking
/// (when `res.validate`) that the instruction holds the local value.
///
/// # Errors
///
/// [`PatchError`]: no such instruction, an instruction of another class or
/// form, a value that is not the local one, an offset or size that does
/// not fit. The bytes are unchanged then.
pub fn patch_insn(
    code: &mut [u8],
    endian: Endian,
    index: usize,
    res: &Resolution,
) -> Result<Patched, PatchError> {
    let mut insn = read(code, index, endian)?;
    if res.poison {
        return poison(code, index, endian, insn, false);
    }
    let (orig, new) = (res.orig_val, res.new_val);
    match insn.code & 0x07 {
        BPF_ALU | BPF_ALU64 => {
            if insn.code & BPF_X != 0 {
                return Err(PatchError::NotImmediate { code: insn.code });
            }
            let found = insn.imm as i32 as i64 as u64;
            if res.validate && found != orig {
                return Err(PatchError::Unexpected {
                    found,
                    expected: orig,
                });
            }
            let from = insn.imm as i32;
            insn.imm = new as u32;
            write(code, index, endian, insn)?;
            Ok(Patched::Imm {
                from,
                to: insn.imm as i32,
            })
        }
        BPF_LDX | BPF_ST | BPF_STX => {
            let found = insn.off as i16 as i64 as u64;
            if res.validate && found != orig {
                return Err(PatchError::Unexpected {
                    found,
                    expected: orig,
                });
            }
            if new > i16::MAX as u64 {
                return Err(PatchError::OffsetTooBig { value: new });
            }
            if res.fail_memsz_adjust {
                return poison(code, index, endian, insn, true);
            }
            let from = insn.off as i16;
            insn.off = new as u16;
            let mut size = None;
            if res.new_size != res.orig_size {
                let bytes = size_bytes(insn.code);
                if i64::from(bytes) != i64::from(res.orig_size) {
                    return Err(PatchError::MemSize {
                        found: bytes,
                        expected: res.orig_size,
                    });
                }
                let sz =
                    size_code(res.new_size).ok_or(PatchError::BadMemSize { size: res.new_size })?;
                insn.code = (insn.code & 0xe0) | sz | (insn.code & 0x07);
                size = Some((res.orig_size, res.new_size));
            }
            write(code, index, endian, insn)?;
            Ok(Patched::Offset {
                from,
                to: new as i16,
                size,
            })
        }
        BPF_LD => {
            let next = index.checked_add(1).ok_or(PatchError::NoInsn { index })?;
            let mut hi = read(code, next, endian).map_err(|_| PatchError::LdImm64Form)?;
            if insn.code != BPF_LD_IMM64
                || src_reg(insn.regs, endian) != 0
                || insn.off != 0
                || hi.code != 0
                || hi.regs != 0
                || hi.off != 0
            {
                return Err(PatchError::LdImm64Form);
            }
            let from = u64::from(insn.imm) | (u64::from(hi.imm) << 32);
            if res.validate && from != orig {
                return Err(PatchError::Unexpected {
                    found: from,
                    expected: orig,
                });
            }
            insn.imm = new as u32;
            hi.imm = (new >> 32) as u32;
            write(code, index, endian, insn)?;
            write(code, next, endian, hi)?;
            Ok(Patched::Imm64 { from, to: new })
        }
        _ => Err(PatchError::Class { code: insn.code }),
    }
}
