//! The Debian kernel corpus: vmlinux and every module's BTF from the
//! current `linux-image-amd64` package, extracted by
//! `scripts/fetch-corpus.sh`, with type counts from bpftool.

mod common;

use btf_core::Btf;
use std::collections::BTreeMap;
use std::path::Path;

fn read_tsv(path: &Path) -> BTreeMap<String, u32> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .map(|l| {
            let (k, v) = l.split_once('\t').expect("two columns");
            (k.to_string(), v.parse().expect("a count"))
        })
        .collect()
}

#[test]
fn vmlinux_counts_match_bpftool() {
    let Some(dir) = common::corpus() else { return };
    let bytes = std::fs::read(dir.join("vmlinux.btf")).unwrap();
    let mut vmlinux = Btf::parse(&bytes).unwrap();
    vmlinux.index_names();
    let kinds = common::exercise(&vmlinux);
    assert_eq!(kinds, read_tsv(&dir.join("vmlinux-kinds.tsv")));
    assert_eq!(
        vmlinux.type_count(),
        read_tsv(&dir.join("counts.tsv"))["vmlinux"]
    );
}

#[test]
fn every_module_parses_on_vmlinux_with_bpftools_count() {
    let Some(dir) = common::corpus() else { return };
    let counts = read_tsv(&dir.join("counts.tsv"));
    let bytes = std::fs::read(dir.join("vmlinux.btf")).unwrap();
    let mut vmlinux = Btf::parse(&bytes).unwrap();
    vmlinux.index_names();
    let mut modules = 0;
    let mut types = 0u64;
    for (name, &want) in counts.iter().filter(|(n, _)| *n != "vmlinux") {
        let path = dir.join("modules").join(format!("{name}.btf"));
        let blob = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut module =
            Btf::parse_split(&blob, &vmlinux).unwrap_or_else(|e| panic!("module {name}: {e}"));
        assert_eq!(module.type_count(), want, "module {name}");
        assert_eq!(
            module.first_id().get(),
            vmlinux.type_count() + 1,
            "module {name}"
        );
        module.index_names();
        common::exercise(&module);
        modules += 1;
        types += u64::from(want);
    }
    assert!(modules > 1000, "only {modules} modules in the corpus");
    eprintln!("{modules} modules, {types} types, all parsed on vmlinux");
}

#[test]
fn modules_read_the_same_in_the_other_byte_order() {
    let Some(dir) = common::corpus() else { return };
    let counts = read_tsv(&dir.join("counts.tsv"));
    let le_bytes = std::fs::read(dir.join("vmlinux.btf")).unwrap();
    let be_bytes = common::swap_blob(&le_bytes);
    let (le, be) = (
        Btf::parse(&le_bytes).unwrap(),
        Btf::parse(&be_bytes).unwrap(),
    );
    // Every 20th module keeps this test short; the parse test covers all.
    for name in counts.keys().filter(|n| *n != "vmlinux").step_by(20) {
        let blob = std::fs::read(dir.join("modules").join(format!("{name}.btf"))).unwrap();
        let swapped = common::swap_blob(&blob);
        let a = Btf::parse_split(&blob, &le).unwrap();
        let b = Btf::parse_split(&swapped, &be).unwrap();
        for id in a.type_ids() {
            assert_eq!(
                common::describe(&a, id),
                common::describe(&b, id),
                "module {name}"
            );
        }
    }
}

#[test]
fn parse_splits_agrees_with_parse_split_on_every_module() {
    let Some(dir) = common::corpus() else { return };
    let bytes = std::fs::read(dir.join("vmlinux.btf")).unwrap();
    let vmlinux = Btf::parse(&bytes).unwrap();
    let mut blobs = Vec::new();
    for (i, name) in common::module_names(&dir).iter().enumerate() {
        let blob = std::fs::read(dir.join("modules").join(format!("{name}.btf"))).unwrap();
        // Among them, every 50th in the other byte order (refused: not the
        // base's order) and cut inside its type section, every 70th with a
        // record's kind out of range.
        if i % 50 == 0 {
            blobs.push((format!("{name} swapped"), common::swap_blob(&blob)));
            let mut cut = blob.clone();
            cut.truncate(blob.len() / 2);
            let (hdr_len, type_off) = (u32_at(&blob, 4), u32_at(&blob, 8));
            let type_len = (cut.len() - hdr_len - type_off) as u32;
            cut[12..16].copy_from_slice(&type_len.to_le_bytes());
            cut[16..20].copy_from_slice(&type_len.to_le_bytes());
            cut[20..24].copy_from_slice(&0u32.to_le_bytes());
            blobs.push((format!("{name} cut"), cut));
        }
        if i % 70 == 0 {
            let mut bad = blob.clone();
            let at = u32_at(&blob, 4) + u32_at(&blob, 8) + 7;
            bad[at] = 0x7f;
            blobs.push((format!("{name} kind"), bad));
        }
        blobs.push((name.clone(), blob));
    }
    let parsed = Btf::parse_splits(blobs.iter().map(|(_, b)| b.as_slice()), &vmlinux);
    assert_eq!(parsed.len(), blobs.len());
    let mut failed = 0;
    for ((name, blob), result) in blobs.iter().zip(&parsed) {
        common::same_as_parse_split(result, blob, &vmlinux, name);
        failed += usize::from(result.is_err());
    }
    // The cut and bad-kind copies fail, and so do the swapped ones (a
    // split must be in its base's order); every real module parses.
    for ((name, _), result) in blobs.iter().zip(&parsed) {
        if name.ends_with(" swapped") {
            assert_eq!(
                result.as_ref().err(),
                Some(&btf_core::Error::SplitEndianMismatch {
                    split: btf_core::Endian::Big,
                    base: btf_core::Endian::Little,
                }),
                "{name}"
            );
        }
    }
    assert_eq!(
        failed,
        blobs
            .iter()
            .filter(|(n, _)| n.ends_with(" cut") || n.ends_with(" kind") || n.ends_with(" swapped"))
            .count()
    );
    eprintln!("{} blobs, {failed} refused, as parse_split", blobs.len());
}

fn u32_at(blob: &[u8], at: usize) -> usize {
    u32::from_le_bytes(blob[at..at + 4].try_into().unwrap()) as usize
}
