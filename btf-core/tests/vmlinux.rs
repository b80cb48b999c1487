//! The running kernel's BTF, checked against bpftool.

mod common;

use btf_core::{Btf, Kind, TypeId, TypeKind};

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn vmlinux() -> Option<Vec<u8>> {
    let bytes = std::fs::read(VMLINUX).ok();
    common::require(bytes.is_some(), VMLINUX).then_some(bytes?)
}

#[test]
fn counts_match_bpftool() {
    let Some(bytes) = vmlinux() else { return };
    let dump = common::bpftool(&["btf", "dump", "file", VMLINUX, "format", "raw"]);
    if !common::require(dump.is_some(), "bpftool") {
        return;
    }
    let mut btf = Btf::parse(&bytes).expect("parse vmlinux");
    btf.index_names();
    let ours = common::exercise(&btf);
    let theirs = common::raw_dump_kinds(&dump.unwrap());
    assert_eq!(ours, theirs, "per-kind counts differ from bpftool's");
    assert_eq!(btf.type_count(), theirs.values().sum::<u32>());
    assert!(btf.type_count() > 10_000);
}

#[test]
fn task_struct_layout() {
    let Some(bytes) = vmlinux() else { return };
    let btf = Btf::parse(&bytes).expect("parse vmlinux");
    let task = btf
        .find_by_name_kind("task_struct", Kind::STRUCT)
        .expect("task_struct");
    let TypeKind::Struct(s) = task.as_kind() else {
        panic!("not a struct")
    };
    assert_eq!(btf.size_of(task.id()).unwrap(), s.size());
    let mut last = 0;
    let mut names = Vec::new();
    for m in s.members() {
        assert!(m.bit_offset() >= last, "members out of order");
        last = m.bit_offset();
        let size = btf.size_of(m.ty()).expect("member size");
        assert!(m.bit_offset() / 8 + size <= s.size());
        names.push(m.name().unwrap());
    }
    for want in ["pid", "tgid", "comm", "mm", "real_parent"] {
        assert!(names.contains(&want), "task_struct has no {want}");
    }
    let comm = s.members().find(|m| m.name() == Ok("comm")).unwrap();
    assert_eq!(btf.size_of(comm.ty()).unwrap(), 16, "TASK_COMM_LEN");
    assert_eq!(btf.pointer_size(), 8);
    assert_eq!(btf.align_of(task.id()).unwrap() % 8, 0);
}

#[test]
fn every_lookup_strategy_agrees() {
    let Some(bytes) = vmlinux() else { return };
    let plain = Btf::parse(&bytes).unwrap();
    let mut indexed = Btf::parse(&bytes).unwrap();
    indexed.index_names();
    let unindexed = Btf::parse_unindexed(&bytes, None).unwrap();
    let count = unindexed.type_count();
    let step = (count / 300).max(1);
    for raw in (1..=count).step_by(step as usize) {
        let id = TypeId::new(raw);
        let t = plain.type_by_id(id).unwrap();
        assert_eq!(unindexed.type_by_id(id).unwrap().record(), t.record());
        let name = t.name().unwrap();
        if name.is_empty() {
            continue;
        }
        let a = indexed.find_by_name_kind(name, t.kind()).map(|t| t.id());
        let b = plain.find_by_name_kind(name, t.kind()).map(|t| t.id());
        assert_eq!(a, b, "{name}");
        assert!(a.unwrap() <= id);
    }
    assert!(indexed.find_by_name("surely_no_such_type_here").is_none());
}

#[test]
fn big_endian_copy_reads_the_same() {
    let Some(bytes) = vmlinux() else { return };
    let swapped = common::swap_blob(&bytes);
    let le = Btf::parse(&bytes).unwrap();
    let be = Btf::parse(&swapped).unwrap();
    assert_ne!(le.endian(), be.endian());
    assert_eq!(le.type_count(), be.type_count());
    for id in le.type_ids() {
        assert_eq!(common::describe(&le, id), common::describe(&be, id));
    }
}
