//! `KernelBtf` on a distribution kernel: Debian's vmlinux and all its
//! module BTFs (the corpus of `scripts/fetch-corpus.sh`), served by the
//! fake kernel through sysfs. Every name of the set is looked up through
//! the set-wide index and checked against an independent answer built by
//! walking every blob; attach targets against libbpf's rules.

#![allow(clippy::indexing_slicing)]

#[path = "../../btf-core/tests/common/mod.rs"]
mod common;
mod fake_kernel;

use std::collections::HashMap;
use std::sync::Arc;

use btf_core::{Btf, Kind, TypeId};
use btf_sys::{Discovery, KernelBtf, KernelBytes, LoadOptions, Owner};
use fake_kernel::{FakeKernel, Fault, Scenario};

/// (owner: "vmlinux" or the module, id, kind) of every named type, by
/// name, in set order.
type Answers = HashMap<Vec<u8>, Vec<(String, TypeId, Kind)>>;

fn answers(set: &KernelBtf) -> Answers {
    let mut all = Answers::new();
    let mut add = |owner: &str, btf: &Btf<'_>| {
        for ty in btf.types() {
            if !ty.name_bytes().is_empty() {
                all.entry(ty.name_bytes().to_vec()).or_default().push((
                    owner.to_owned(),
                    ty.id(),
                    ty.kind(),
                ));
            }
        }
    };
    add("vmlinux", &set.vmlinux());
    for module in set.modules() {
        add(module.name(), &module.btf());
    }
    all
}

#[test]
fn every_name_of_debian_vmlinux_and_all_modules() {
    let Some(dir) = common::corpus() else { return };
    let vmlinux = std::fs::read(dir.join("vmlinux.btf")).unwrap();
    let vmlinux_bytes = vmlinux.clone();
    let sysfs: Vec<(String, Vec<u8>)> = common::module_names(&dir)
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join("modules").join(format!("{name}.btf"))).unwrap();
            (name, bytes)
        })
        .collect();
    let count = sysfs.len();
    let module_blobs = sysfs.clone();
    let scenario = Scenario {
        vmlinux,
        sysfs,
        listing_eperm: true,
        ..Scenario::default()
    };
    let fake = FakeKernel::new(scenario, Fault::None);
    let set = KernelBtf::load_with(&fake, LoadOptions::new().discovery(Discovery::Sysfs)).unwrap();
    assert!(set.failures().is_empty(), "{:?}", set.failures());
    assert_eq!(set.modules().len(), count);
    assert!(count > 1000, "{count} modules");

    // The same blobs handed over directly: the same set, no copy of the
    // shared bytes.
    let shared: Arc<[u8]> = Arc::from(&vmlinux_bytes[..]);
    let given = KernelBtf::from_blobs(
        KernelBytes::from(Arc::clone(&shared)),
        module_blobs.iter().map(|(name, bytes)| {
            (
                name.clone(),
                KernelBytes::from(Arc::<[u8]>::from(&bytes[..])),
            )
        }),
    )
    .unwrap();
    assert_eq!(given.discovery(), Discovery::Given);
    assert!(std::ptr::eq(&given.vmlinux_bytes()[..], &shared[..]));
    assert_eq!(given.modules().len(), set.modules().len());
    for (a, b) in given.modules().iter().zip(set.modules()) {
        assert_eq!((a.name(), a.bytes()), (b.name(), b.bytes()));
    }
    let want = answers(&set);
    assert_eq!(answers(&given), want);
    let mut checked = 0usize;
    for (name, hits) in &want {
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        // find_types: each owner's lowest id of the name, in set order.
        let mut per_owner: Vec<&(String, TypeId, Kind)> = Vec::new();
        for hit in hits {
            if per_owner.last().is_none_or(|last| last.0 != hit.0) {
                per_owner.push(hit);
            }
        }
        let got: Vec<(String, TypeId, Kind)> = set
            .find_types(name)
            .map(|f| (f.owner.name().to_owned(), f.id, f.kind))
            .collect();
        let want_owners: Vec<(String, TypeId, Kind)> =
            per_owner.iter().map(|&h| h.clone()).collect();
        assert_eq!(got, want_owners, "find_types({name:?})");
        // find_type and find_type_kind for every kind the name has.
        let first = set.find_type(name).unwrap();
        assert_eq!(
            (first.owner.name(), first.id),
            (&*hits[0].0, hits[0].1),
            "{name}"
        );
        assert_eq!(first.ty().unwrap().name_bytes(), name.as_bytes());
        for &(_, _, kind) in hits {
            let found = set.find_type_kind(name, kind).unwrap();
            let expected = hits.iter().find(|h| h.2 == kind).unwrap();
            assert_eq!(
                (found.owner.name(), found.id),
                (&*expected.0, expected.1),
                "{name} {kind}"
            );
            assert_eq!(found.ty().unwrap().kind(), kind);
        }
        checked += 1;
    }
    assert!(checked > 100_000, "{checked} names");
    assert!(set.find_type("no such type, surely").is_none());
    assert_eq!(set.find_type("void").map(|f| f.id.get()), Some(0));

    // Attach targets: a function only a module has, plain and qualified;
    // a function of vmlinux; a qualifier that names another module.
    let (module, func) = set
        .modules()
        .iter()
        .find_map(|m| {
            let btf = m.btf();
            let func = btf.types().find(|t| {
                t.kind() == Kind::FUNC
                    && t.name()
                        .is_ok_and(|n| want[n.as_bytes()].iter().all(|h| h.0 == m.name()))
            })?;
            Some((m, func.name().unwrap().to_owned()))
        })
        .unwrap();
    let target = set.find_attach_target(&func, Kind::FUNC).unwrap();
    assert!(matches!(target.owner, Owner::Module(m) if m.name() == module.name()));
    let qualified = format!("{}:{func}", module.name());
    let again = set.find_attach_target(&qualified, Kind::FUNC).unwrap();
    assert_eq!(again.type_id, target.type_id);
    assert!(target.attach_btf_obj_fd().is_none(), "sysfs: no fds");
    assert!(
        set.find_attach_target(&format!("vmlinux:{func}"), Kind::FUNC)
            .is_none()
    );
    let other = set
        .modules()
        .iter()
        .find(|m| m.name() != module.name())
        .unwrap();
    assert!(
        set.find_attach_target(&format!("{}:{func}", other.name()), Kind::FUNC)
            .is_none()
    );
    assert!(
        set.find_attach_target(&format!("no_such_module:{func}"), Kind::FUNC)
            .is_none()
    );
    let vfs_read = set.find_attach_target("vfs_read", Kind::FUNC).unwrap();
    assert!(matches!(vfs_read.owner, Owner::Vmlinux));
    assert_eq!(
        Some(vfs_read.type_id),
        set.vmlinux()
            .find_by_name_kind("vfs_read", Kind::FUNC)
            .map(|t| t.id())
    );
    assert_eq!(
        set.find_attach_target("vmlinux:vfs_read", Kind::FUNC)
            .map(|t| t.type_id),
        Some(vfs_read.type_id)
    );
}
