//! Helpers shared by the integration tests: a tiny BTF writer, the root
//! check, and the open-fd count.

// Test code on small, fixed data: plain arithmetic and indexing are fine.
#![allow(
    dead_code,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    unreachable_pub
)]

#[path = "../../../btf-core/tests/common/skip.rs"]
mod skip;

/// `BTF_KIND_INT`, `BTF_KIND_STRUCT`.
const KIND_INT: u32 = 1;
const KIND_STRUCT: u32 = 4;
/// `BTF_INT_SIGNED`.
const INT_SIGNED: u32 = 1;

/// Writes a BTF blob in the host's byte order: a base, or split on a base.
pub struct BtfWriter {
    types: Vec<u8>,
    strings: Vec<u8>,
    first_id: u32,
    next_id: u32,
    str_base: u32,
}

impl BtfWriter {
    /// A base blob (ids from 1, strings starting with NUL).
    pub fn base() -> BtfWriter {
        BtfWriter {
            types: Vec::new(),
            strings: vec![0],
            first_id: 1,
            next_id: 1,
            str_base: 0,
        }
    }

    /// A split blob on `base` (which must be finished: no more additions).
    pub fn split_on(base: &BtfWriter) -> BtfWriter {
        BtfWriter {
            types: Vec::new(),
            strings: Vec::new(),
            first_id: base.next_id,
            next_id: base.next_id,
            str_base: base.str_base + base.strings.len() as u32,
        }
    }

    fn string(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        off
    }

    fn word(&mut self, w: u32) {
        self.types.extend_from_slice(&w.to_ne_bytes());
    }

    fn record(&mut self, name: &str, kind: u32, vlen: u32, size_or_type: u32) -> u32 {
        let name_off = self.string(name);
        self.word(name_off);
        self.word((kind << 24) | vlen);
        self.word(size_or_type);
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// A signed INT of `size` bytes; returns its id.
    pub fn int(&mut self, name: &str, size: u32) -> u32 {
        let id = self.record(name, KIND_INT, 0, size);
        self.word((INT_SIGNED << 24) | (size * 8));
        id
    }

    /// A STRUCT whose members are `(name, type, byte offset)`; returns its id.
    pub fn structure(&mut self, name: &str, size: u32, members: &[(&str, u32, u32)]) -> u32 {
        let id = self.record(name, KIND_STRUCT, members.len() as u32, size);
        for &(member, ty, offset) in members {
            let name_off = self.string(member);
            self.word(name_off);
            self.word(ty);
            self.word(offset * 8);
        }
        id
    }

    /// The id the next type gets.
    pub fn next_id(&self) -> u32 {
        self.next_id
    }

    /// The blob: 24-byte header, types, strings.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&0xeb9f_u16.to_ne_bytes());
        out.push(1); // version
        out.push(0); // flags
        for w in [
            24,
            0,
            self.types.len() as u32,
            self.types.len() as u32,
            self.strings.len() as u32,
        ] {
            out.extend_from_slice(&w.to_ne_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        out
    }
}

/// True when the test can use root-only interfaces. Otherwise: outside CI,
/// records why the test does nothing (`skip::skipped`) and returns false; in
/// CI (`CI` set), fails the test.
pub fn have_root(_test: &str) -> bool {
    skip::have_root("bpf(2) BTF commands (CAP_SYS_ADMIN)")
}

/// The number of open descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}
