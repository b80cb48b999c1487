//! `BtfBuf`: a parsed blob that owns or shares its bytes and base, lending
//! views that share what was kept. Checked against the borrowed `Btf` on
//! the Debian corpus (vmlinux and modules) and on the running kernel.

mod common;

use btf_core::{Btf, BtfBuf, BtfIndex, Kind, TypeId};
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<BtfBuf<Vec<u8>>>();
    send_sync::<BtfBuf<Arc<[u8]>>>();
    send_sync::<BtfBuf<&'static [u8]>>();
};

/// Every type of `ours` reads as `theirs` reads it, by id and by name.
fn same_types(ours: &Btf<'_>, theirs: &Btf<'_>, what: &str) {
    assert_eq!(ours.type_count(), theirs.type_count(), "{what}");
    assert_eq!(ours.first_id(), theirs.first_id(), "{what}");
    for (a, b) in ours.types().zip(theirs.types()) {
        assert_eq!(a.id(), b.id(), "{what}");
        assert_eq!(a.record(), b.record(), "{what} [{}]", a.id());
        let by_id = ours.type_by_id(a.id()).expect("by id");
        assert_eq!(by_id.record(), b.record(), "{what}");
    }
    // A spread of names, through the base for a split.
    for t in theirs.types().step_by(97) {
        let Ok(name) = t.name() else { continue };
        if name.is_empty() {
            continue;
        }
        let want = theirs.find_by_name_kind(name, t.kind()).map(|t| t.id());
        let got = ours.find_by_name_kind(name, t.kind()).map(|t| t.id());
        assert_eq!(got, want, "{what}: {name}");
    }
}

#[test]
fn owned_vmlinux_and_modules_read_as_borrowed_ones() {
    let Some(dir) = common::corpus() else { return };
    let bytes = std::fs::read(dir.join("vmlinux.btf")).unwrap();
    let borrowed = Btf::parse(&bytes).unwrap();

    // Every storage reads the same.
    let from_vec = BtfBuf::parse(bytes.clone()).unwrap();
    same_types(&from_vec.btf(), &borrowed, "Vec");
    let from_box = BtfBuf::parse(bytes.clone().into_boxed_slice()).unwrap();
    same_types(&from_box.btf(), &borrowed, "Box");
    let from_slice = BtfBuf::parse(&bytes[..]).unwrap();
    same_types(&from_slice.btf(), &borrowed, "&[u8]");
    let shared: Arc<[u8]> = Arc::from(&bytes[..]);
    let mut vmlinux = BtfBuf::parse(Arc::clone(&shared)).unwrap();
    vmlinux.index_names().unwrap();
    assert!(vmlinux.index().has_name_index());
    let vmlinux = Arc::new(vmlinux);
    same_types(&vmlinux.btf(), &borrowed, "Arc");

    // Modules on the shared vmlinux, each with its name index.
    let names = common::module_names(&dir);
    let mut modules = Vec::new();
    for name in names.iter().step_by(40) {
        let module_bytes = std::fs::read(dir.join("modules").join(format!("{name}.btf"))).unwrap();
        let mut module = BtfBuf::parse_split(module_bytes, Arc::clone(&vmlinux)).unwrap();
        module.index_names().unwrap();
        modules.push((name.clone(), module));
    }
    assert!(modules.len() > 50, "{} modules", modules.len());
    for (name, module) in &modules {
        let theirs = Btf::parse_split(module.bytes(), &borrowed).unwrap();
        let view = module.btf();
        assert!(view.has_name_index(), "{name}");
        assert!(view.base().is_some_and(Btf::has_name_index), "{name}");
        same_types(&view, &theirs, name);
    }
    // The modules keep vmlinux alive.
    drop(vmlinux);
    let (name, module) = &modules[0];
    assert!(module.btf().base().is_some(), "{name}");
    assert_eq!(
        module.btf().last_id().get() + 1 - module.btf().first_id().get(),
        { module.btf().type_count() }
    );
}

/// What one view learns, the next knows: they share the kept parts.
#[test]
fn views_share_what_they_learn() {
    let blob = btf_core::testing::tiny_blob();
    let buf = BtfBuf::parse(blob).unwrap();
    assert_eq!(buf.btf().pointer_size(), 8);
    buf.btf().set_pointer_size(4);
    assert_eq!(buf.btf().pointer_size(), 4);
    // A borrowed parse keeps its own.
    let again = Btf::parse(buf.bytes()).unwrap();
    assert_eq!(again.pointer_size(), 8);
    // An index made from a view keeps what the view learnt.
    let view = Btf::parse(buf.bytes()).unwrap();
    view.set_pointer_size(4);
    let index = view.into_index();
    let bytes = buf.bytes();
    assert_eq!(
        Btf::with_index(bytes, None, &index).unwrap().pointer_size(),
        4
    );
}

/// Splits on splits, each holding its base by `Arc`; an index built for
/// other bytes is refused.
#[test]
fn chains_and_mismatched_indexes() {
    use btf_core::write::{Builder, EncodeOptions};
    let blob = btf_core::testing::tiny_blob();
    let base = Arc::new(BtfBuf::parse(blob.clone()).unwrap());
    let base_view = Btf::parse(&blob).unwrap();
    let mut split = Builder::split(&base_view);
    let int = base_view.find_by_name("int").unwrap().id();
    split.add_typedef("int_t", int);
    let level1 = split.encode(&EncodeOptions::default()).unwrap();
    let one = Arc::new(BtfBuf::parse_split(level1.clone(), Arc::clone(&base)).unwrap());
    let view = one.btf();
    let int_t = view.find_by_name_kind("int_t", Kind::TYPEDEF).unwrap();
    assert_eq!(view.split_depth(), 1);
    assert_eq!(view.skip_mods_and_typedefs(int_t.id()).unwrap().id(), int);

    let one_view = Btf::parse_split(&level1, &base_view).unwrap();
    let mut second = Builder::split(&one_view);
    second.add_ptr(int_t.id());
    let level2 = second.encode(&EncodeOptions::default()).unwrap();
    let two = BtfBuf::parse_split(level2.clone(), Arc::clone(&one)).unwrap();
    let view = two.btf();
    assert_eq!(view.split_depth(), 2);
    let ptr = view.type_by_id(view.first_id()).unwrap();
    assert_eq!(ptr.kind(), Kind::PTR);
    assert_eq!(view.size_of(ptr.id()).unwrap(), 8);
    assert_eq!(
        view.type_by_id(TypeId::new(1)).unwrap().name().unwrap(),
        "int"
    );

    // An index of the base kept with the split's bytes: refused.
    let wrong = BtfIndex::build(&blob, None).unwrap();
    let refused = BtfBuf::with_index(level1.clone(), wrong, Some(Arc::clone(&base)));
    assert!(refused.is_err());
    // The split's own index: accepted, no walk.
    let right = BtfIndex::build(&level1, Some(&base_view)).unwrap();
    let kept = BtfBuf::with_index(level1, right, Some(base)).unwrap();
    assert_eq!(kept.btf().type_count(), 1);
}

/// A storage whose bytes change after the parse (no std storage does):
/// views are of an empty blob, not a panic, and `try_btf` says why.
#[test]
fn storage_that_changes_its_bytes() {
    struct Fickle {
        blob: Vec<u8>,
        cut: AtomicBool,
    }
    impl Deref for Fickle {
        type Target = [u8];
        fn deref(&self) -> &[u8] {
            if self.cut.load(Ordering::Relaxed) {
                &self.blob[..10]
            } else {
                &self.blob
            }
        }
    }
    let buf = BtfBuf::parse(Fickle {
        blob: btf_core::testing::tiny_blob(),
        cut: AtomicBool::new(false),
    })
    .unwrap();
    assert!(buf.btf().type_count() > 0);
    buf.storage().cut.store(true, Ordering::Relaxed);
    assert!(buf.try_btf().is_err());
    let view = buf.btf();
    assert_eq!(view.type_count(), 0);
    assert!(view.find_by_name("int").is_none());
    assert!(view.type_by_id(TypeId::new(1)).is_err());
}

/// The running kernel's vmlinux, mapped or read, owned and borrowed alike.
#[test]
fn running_kernel_vmlinux() {
    let path = std::path::Path::new("/sys/kernel/btf/vmlinux");
    if !common::require(path.is_file(), "/sys/kernel/btf/vmlinux") {
        return;
    }
    let bytes = std::fs::read(path).unwrap();
    let borrowed = Btf::parse(&bytes).unwrap();
    let owned = BtfBuf::parse(bytes.clone()).unwrap();
    same_types(&owned.btf(), &borrowed, "running vmlinux");
}
