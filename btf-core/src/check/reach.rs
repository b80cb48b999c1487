//! Which instructions of a patched program section can run: constant
//! propagation from every function's entry, taking only the branch a
//! conditional jump takes when its operands are known (what the verifier
//! does to the constants the existence relocations leave behind).
//!
//! Registers are known constants or unknown; where paths meet, a
//! register stays known only if every path gives it the same value. Each
//! instruction's state can only lose knowledge, so the walk ends after at
//! most twelve visits per instruction.

use alloc::vec;
use alloc::vec::Vec;

use crate::endian::Endian;

/// A register: a known 64-bit value, or unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Unknown,
    Known(u64),
}

/// r0 to r10.
type Regs = [Val; 11];

const UNKNOWN: Regs = [Val::Unknown; 11];

const LD: u8 = 0x00;
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const ALU: u8 = 0x04;
const JMP: u8 = 0x05;
const JMP32: u8 = 0x06;
const ALU64: u8 = 0x07;
const LD_IMM64: u8 = 0x18;
const EXIT: u8 = 0x95;
const SRC_X: u8 = 0x08;
const ATOMIC: u8 = 0xc0;

/// One instruction, decoded.
#[derive(Clone, Copy)]
struct Insn {
    code: u8,
    dst: usize,
    src: usize,
    off: i16,
    imm: i32,
}

fn decode(code: &[u8], pc: usize, endian: Endian) -> Option<Insn> {
    let at = pc.checked_mul(8)?;
    let b: &[u8; 8] = code.get(at..at.checked_add(8)?)?.try_into().ok()?;
    let [c, regs, o0, o1, i0, i1, i2, i3] = *b;
    let (dst, src) = match endian {
        Endian::Little => (regs & 0xf, regs >> 4),
        Endian::Big => (regs >> 4, regs & 0xf),
    };
    Some(Insn {
        code: c,
        dst: usize::from(dst),
        src: usize::from(src),
        off: endian.read_u16([o0, o1]) as i16,
        imm: endian.read_u32([i0, i1, i2, i3]) as i32,
    })
}

/// Which of `code`'s instructions some path from an entry reaches. The
/// entries are `functions` (first instructions), or, when it is empty,
/// instruction 0 and each one after an `exit`.
pub(crate) fn reachable(code: &[u8], endian: Endian, functions: &[usize]) -> Vec<bool> {
    let n = code.len() / 8;
    let mut states: Vec<Option<Regs>> = vec![None; n];
    let mut work: Vec<usize> = Vec::new();
    let mut entries: Vec<usize> = functions.to_vec();
    if entries.is_empty() {
        entries.push(0);
        entries.extend(
            (0..n)
                .filter(|&pc| decode(code, pc, endian).is_some_and(|i| i.code == EXIT))
                .map(|pc| pc + 1),
        );
    }
    for pc in entries {
        flow(&mut states, &mut work, pc, &UNKNOWN);
    }
    while let Some(pc) = work.pop() {
        let (Some(Some(regs)), Some(insn)) = (states.get(pc).copied(), decode(code, pc, endian))
        else {
            continue;
        };
        step(code, endian, pc, insn, regs, &mut states, &mut work);
    }
    states.iter().map(Option::is_some).collect()
}

/// Joins `regs` into the state at `pc` and queues `pc` when that changed
/// it.
fn flow(states: &mut [Option<Regs>], work: &mut Vec<usize>, pc: usize, regs: &Regs) {
    let Some(slot) = states.get_mut(pc) else {
        return;
    };
    match slot {
        None => *slot = Some(*regs),
        Some(old) => {
            let mut changed = false;
            for (o, r) in old.iter_mut().zip(regs) {
                if *o != *r && *o != Val::Unknown {
                    *o = Val::Unknown;
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }
    work.push(pc);
}

/// `pc + 1 + delta`, if it is an index.
fn jump(pc: usize, delta: i64) -> Option<usize> {
    usize::try_from(i64::try_from(pc).ok()?.checked_add(1)?.checked_add(delta)?).ok()
}

fn set(regs: &mut Regs, r: usize, v: Val) {
    if let Some(slot) = regs.get_mut(r) {
        *slot = v;
    }
}

fn get(regs: &Regs, r: usize) -> Val {
    regs.get(r).copied().unwrap_or(Val::Unknown)
}

/// Follows one instruction: its effect on the registers, and where
/// control goes next.
fn step(
    code: &[u8],
    endian: Endian,
    pc: usize,
    insn: Insn,
    mut regs: Regs,
    states: &mut [Option<Regs>],
    work: &mut Vec<usize>,
) {
    let mut next = |to: Option<usize>, regs: &Regs| {
        if let Some(to) = to {
            flow(states, work, to, regs);
        }
    };
    match insn.code & 0x07 {
        ALU | ALU64 => {
            let wide = insn.code & 0x07 == ALU64;
            let b = if insn.code & SRC_X != 0 {
                get(&regs, insn.src)
            } else {
                Val::Known(insn.imm as i64 as u64)
            };
            let v = alu(insn.code & 0xf0, insn.off, get(&regs, insn.dst), b, wide);
            set(&mut regs, insn.dst, v);
            next(jump(pc, 0), &regs);
        }
        LDX => {
            set(&mut regs, insn.dst, Val::Unknown);
            next(jump(pc, 0), &regs);
        }
        ST => next(jump(pc, 0), &regs),
        STX => {
            if insn.code & 0xe0 == ATOMIC {
                // Fetching atomics write the source register, cmpxchg r0.
                set(&mut regs, insn.src, Val::Unknown);
                set(&mut regs, 0, Val::Unknown);
            }
            next(jump(pc, 0), &regs);
        }
        LD => {
            if insn.code == LD_IMM64 {
                let hi = decode(code, pc + 1, endian).map_or(0, |i| i.imm as u32);
                let v = if insn.src == 0 {
                    Val::Known(u64::from(insn.imm as u32) | (u64::from(hi) << 32))
                } else {
                    // A map, a variable, a function: an address.
                    Val::Unknown
                };
                set(&mut regs, insn.dst, v);
                next(jump(pc, 1), &regs);
            } else {
                // Legacy packet loads: r0 set, r1 to r5 clobbered.
                for r in 0..=5 {
                    set(&mut regs, r, Val::Unknown);
                }
                next(jump(pc, 0), &regs);
            }
        }
        class @ (JMP | JMP32) => {
            let wide = class == JMP;
            match insn.code & 0xf0 {
                // ja: gotol (JMP32) jumps by imm.
                0x00 => {
                    let delta = if wide {
                        i64::from(insn.off)
                    } else {
                        i64::from(insn.imm)
                    };
                    next(jump(pc, delta), &regs);
                }
                0x80 if wide => {
                    // A call: r0 is its result, r1 to r5 are clobbered.
                    for r in 0..=5 {
                        set(&mut regs, r, Val::Unknown);
                    }
                    next(jump(pc, 0), &regs);
                }
                0x90 if wide => {}
                op => {
                    let b = if insn.code & SRC_X != 0 {
                        get(&regs, insn.src)
                    } else {
                        Val::Known(insn.imm as i64 as u64)
                    };
                    let taken = jump(pc, i64::from(insn.off));
                    match compare(op, get(&regs, insn.dst), b, wide) {
                        Some(true) => next(taken, &regs),
                        Some(false) => next(jump(pc, 0), &regs),
                        None => {
                            next(taken, &regs);
                            next(jump(pc, 0), &regs);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// An ALU operation's result, when its operands are known and the
/// verifier would know it too (`op` is the opcode's operation bits; a
/// non-zero `off` marks the signed division and sign-extending moves,
/// left unknown). Knowing a value the verifier does not could prune a
/// branch the verifier takes; not knowing one it knows only makes more
/// instructions reachable.
fn alu(op: u8, off: i16, a: Val, b: Val, wide: bool) -> Val {
    const MOV: u8 = 0xb0;
    const NEG: u8 = 0x80;
    if off != 0 {
        return Val::Unknown;
    }
    let trunc = |v: u64| if wide { v } else { u64::from(v as u32) };
    if op == MOV {
        return match b {
            Val::Known(b) => Val::Known(trunc(b)),
            Val::Unknown => Val::Unknown,
        };
    }
    let Val::Known(a) = a else {
        return Val::Unknown;
    };
    if op == NEG {
        return Val::Known(trunc(a.wrapping_neg()));
    }
    let Val::Known(b) = b else {
        return Val::Unknown;
    };
    let (a, b) = (trunc(a), trunc(b));
    let bits = if wide { 63 } else { 31 };
    let v = match op {
        0x00 => a.wrapping_add(b),
        0x10 => a.wrapping_sub(b),
        0x20 => a.wrapping_mul(b),
        0x40 => a | b,
        0x50 => a & b,
        0x60 => a.wrapping_shl((b & bits) as u32),
        0x70 => a.wrapping_shr((b & bits) as u32),
        0xa0 => a ^ b,
        0xc0 if wide => ((a as i64) >> (b & bits)) as u64,
        0xc0 => u64::from(((a as u32 as i32) >> (b & bits)) as u32),
        // Division and modulo (the verifier does not track their results
        // either: a branch on one is never pruned), byte swaps, anything
        // newer.
        _ => return Val::Unknown,
    };
    Val::Known(trunc(v))
}

/// A conditional jump's outcome, when its operands are known.
fn compare(op: u8, a: Val, b: Val, wide: bool) -> Option<bool> {
    let (Val::Known(a), Val::Known(b)) = (a, b) else {
        return None;
    };
    let (a, b, sa, sb) = if wide {
        (a, b, a as i64, b as i64)
    } else {
        let (a, b) = (a as u32, b as u32);
        (
            u64::from(a),
            u64::from(b),
            i64::from(a as i32),
            i64::from(b as i32),
        )
    };
    Some(match op {
        0x10 => a == b,
        0x20 => a > b,
        0x30 => a >= b,
        0x40 => a & b != 0,
        0x50 => a != b,
        0x60 => sa > sb,
        0x70 => sa >= sb,
        0xa0 => a < b,
        0xb0 => a <= b,
        0xc0 => sa < sb,
        0xd0 => sa <= sb,
        // may_goto and anything newer: either way.
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> [u8; 8] {
        let mut b = [code, dst | (src << 4), 0, 0, 0, 0, 0, 0];
        b[2..4].copy_from_slice(&off.to_le_bytes());
        b[4..8].copy_from_slice(&imm.to_le_bytes());
        b
    }

    fn prog(insns: &[[u8; 8]]) -> Vec<u8> {
        insns.concat()
    }

    /// `call 0xbad2310`: what a branch proven not taken must not reach.
    const CALL: [u8; 8] = [0x85, 0, 0, 0, 0x10, 0x23, 0xad, 0x0b];
    /// `exit`.
    const EXIT: [u8; 8] = [0x95, 0, 0, 0, 0, 0, 0, 0];

    #[test]
    fn the_constants_are_the_instructions() {
        assert_eq!(CALL, insn(0x85, 0, 0, 0, 0xbad2310));
        assert_eq!(EXIT, insn(0x95, 0, 0, 0, 0));
    }

    #[test]
    fn known_branches_take_one_way() {
        // r1 = 0; if r1 == 0 goto +1; call 0xbad2310; exit
        let code = prog(&[insn(0xb7, 1, 0, 0, 0), insn(0x15, 1, 0, 1, 0), CALL, EXIT]);
        assert_eq!(
            reachable(&code, Endian::Little, &[0]),
            [true, true, false, true]
        );
        // r1 = 1: the call is reached.
        let code = prog(&[insn(0xb7, 1, 0, 0, 1), insn(0x15, 1, 0, 1, 0), CALL, EXIT]);
        assert_eq!(reachable(&code, Endian::Little, &[0]), [true; 4]);
    }

    #[test]
    fn values_flow_through_alu_and_merge() {
        // r2 = r1 (unknown) ... r3 = 4; r3 &= 3 (0); w3 += 0; if w3 != 0 goto +1; exit; call
        let code = prog(&[
            insn(0xb7, 3, 0, 0, 4),
            insn(0x57, 3, 0, 0, 3),
            insn(0x04, 3, 0, 0, 0),
            insn(0x56, 3, 0, 1, 0),
            EXIT,
            CALL,
            EXIT,
        ]);
        let r = reachable(&code, Endian::Little, &[0]);
        assert!(!r[5], "{r:?}");
        // An unknown register (r1 at entry) takes both ways.
        let code = prog(&[insn(0x15, 1, 0, 1, 0), CALL, EXIT]);
        assert_eq!(reachable(&code, Endian::Little, &[0]), [true; 3]);
        // Paths that disagree about r1 make it unknown where they meet.
        let code = prog(&[
            insn(0xb7, 1, 0, 0, 0),
            insn(0x15, 2, 0, 1, 0), // if r2 == 0 goto +1
            insn(0xb7, 1, 0, 0, 1),
            insn(0x15, 1, 0, 1, 0), // if r1 == 0 goto +1
            CALL,
            EXIT,
        ]);
        assert!(reachable(&code, Endian::Little, &[0])[4]);
    }

    /// The verifier does not track division results: neither do we, so a
    /// branch on one is taken both ways.
    #[test]
    fn division_is_not_followed() {
        // r1 = 4; r1 /= 2; if r1 == 2 goto +1; call; exit
        let code = prog(&[
            insn(0xb7, 1, 0, 0, 4),
            insn(0x37, 1, 0, 0, 2),
            insn(0x15, 1, 0, 1, 2),
            CALL,
            EXIT,
        ]);
        assert!(reachable(&code, Endian::Little, &[0])[3]);
    }

    #[test]
    fn functions_are_entries_and_exits_end_paths() {
        // Two functions; without func_info, the one after an exit is an
        // entry too.
        let code = prog(&[EXIT, insn(0xb7, 0, 0, 0, 0), EXIT]);
        assert_eq!(reachable(&code, Endian::Little, &[0]), [true, false, false]);
        assert_eq!(reachable(&code, Endian::Little, &[]), [true; 3]);
        assert_eq!(reachable(&code, Endian::Little, &[1]), [false, true, true]);
    }

    #[test]
    fn ld_imm64_and_jmp32() {
        // r1 = 0x1_0000_0000 ll; if w1 == 0 goto +1 (low half is 0); call; exit
        let mut lo = insn(0x18, 1, 0, 0, 0);
        lo[4..8].copy_from_slice(&0u32.to_le_bytes());
        let hi = insn(0, 0, 0, 0, 1);
        let code = prog(&[lo, hi, insn(0x16, 1, 0, 1, 0), CALL, EXIT]);
        assert_eq!(
            reachable(&code, Endian::Little, &[0]),
            [true, false, true, false, true]
        );
    }

    #[test]
    fn jumps_out_of_the_section_are_ignored() {
        let code = prog(&[insn(0x05, 0, 0, 100, 0), insn(0x05, 0, 0, -100, 0)]);
        assert_eq!(reachable(&code, Endian::Little, &[0]), [true, false]);
    }
}
