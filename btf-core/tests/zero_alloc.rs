//! Looking at types allocates nothing: a counting global allocator watches
//! every view, iterator and lookup over the running kernel's BTF (or a
//! synthetic blob where there is none).

mod common;

use btf_core::{Btf, TypeKind};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Allocations made by this thread (the test harness runs tests on
    /// several threads at once).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Touches every part of every type; returns a checksum so nothing is
/// optimised away.
fn look_at_everything(btf: &Btf<'_>) -> u64 {
    let mut sum = 0u64;
    for t in btf.types() {
        sum = sum.wrapping_add(u64::from(t.id().get()) + t.name_bytes().len() as u64);
        sum = sum.wrapping_add(t.name().map_or(0, str::len) as u64);
        let again = btf.type_by_id(t.id()).expect("type by id");
        sum = sum.wrapping_add(again.vlen() as u64);
        match t.as_kind() {
            TypeKind::Struct(c) | TypeKind::Union(c) => {
                for m in c.members() {
                    sum = sum.wrapping_add(
                        u64::from(m.bit_offset())
                            + m.name_bytes().expect("member name").len() as u64,
                    );
                }
            }
            TypeKind::Enum(e) => {
                sum = sum.wrapping_add(
                    e.values()
                        .map(|v| v.value().bits())
                        .fold(0u64, u64::wrapping_add),
                )
            }
            TypeKind::Enum64(e) => {
                sum = sum.wrapping_add(
                    e.values()
                        .map(|v| v.value().bits())
                        .fold(0u64, u64::wrapping_add),
                )
            }
            TypeKind::FuncProto(p) => {
                sum = sum.wrapping_add(
                    p.params()
                        .map(|p| u64::from(p.ty().get()))
                        .fold(0u64, u64::wrapping_add),
                )
            }
            TypeKind::Datasec(d) => {
                sum = sum.wrapping_add(
                    d.entries()
                        .map(|e| u64::from(e.size()))
                        .fold(0u64, u64::wrapping_add),
                )
            }
            _ => {}
        }
        sum = sum.wrapping_add(btf.size_of(t.id()).map_or(0, u64::from));
        sum = sum.wrapping_add(
            btf.skip_mods_and_typedefs(t.id())
                .map_or(0, |t| u64::from(t.id().get())),
        );
    }
    sum
}

/// The running kernel's BTF (CI must have it), else a synthetic blob,
/// saying so.
fn vmlinux_or_tiny() -> Vec<u8> {
    let path = std::path::Path::new("/sys/kernel/btf/vmlinux");
    if common::require(path.is_file(), "/sys/kernel/btf/vmlinux") {
        std::fs::read(path).expect("read /sys/kernel/btf/vmlinux")
    } else {
        eprintln!("no /sys/kernel/btf/vmlinux: using a synthetic blob");
        btf_core::testing::tiny_blob()
    }
}

#[test]
fn views_iteration_and_lookups_do_not_allocate() {
    let blob = vmlinux_or_tiny();
    let btf = Btf::parse(&blob).expect("parse");
    let _ = btf.pointer_size();
    let before = allocations();
    let sum = look_at_everything(&btf);
    let found = btf.find_by_name("task_struct").map(|t| t.id());
    let after = allocations();
    assert!(sum > 0);
    assert_eq!(after - before, 0, "views allocated (found {found:?})");
}

#[test]
fn parsing_allocates_once_for_the_index_and_never_without_it() {
    let blob = vmlinux_or_tiny();
    let before = allocations();
    let unindexed = Btf::parse_unindexed(&blob, None).expect("parse");
    let mid = allocations();
    assert_eq!(mid - before, 0, "an unindexed parse allocated");
    let indexed = Btf::parse(&blob).expect("parse");
    let after = allocations();
    // One reservation (a shrink may reallocate once).
    assert!(
        after - mid <= 2,
        "{} allocations for the index",
        after - mid
    );
    assert_eq!(unindexed.type_count(), indexed.type_count());
}
