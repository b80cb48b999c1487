//! The walk over the type section keeps its own packed form of the record
//! layouts (sizes as shifts of two constants, references as one word per
//! kind) so that parsing stays near the cost of a bare offset walk. These
//! tests hold it to the record decoder, which is the one definition of the
//! layouts: on the running kernel, on every blob of the Debian corpus (one
//! by one and in `parse_splits`' lanes), and on hand-made corners with
//! every word of their type sections changed in turn, the walk must give
//! the decoder's offsets, or the decoder's first fault, for `parse` and for
//! `validate`.

mod common;

use btf_core::testing::{RawBlob, check_against_decoder};
use btf_core::{Btf, Endian};

fn agree(result: &btf_core::Result<Btf<'_>>, data: &[u8], base: Option<&Btf<'_>>, what: &str) {
    if let Err(e) = check_against_decoder(result, data, base) {
        panic!("{what}: the walk and the record decoder disagree: {e}");
    }
}

/// A base blob and its modules: each parsed on its own and all in lanes.
fn check_set(base_bytes: &[u8], modules: &[(String, Vec<u8>)]) {
    let base = Btf::parse(base_bytes);
    agree(&base, base_bytes, None, "vmlinux");
    let base = base.expect("vmlinux parses");
    for (name, bytes) in modules {
        agree(&Btf::parse_split(bytes, &base), bytes, Some(&base), name);
    }
    let batch = Btf::parse_splits(modules.iter().map(|(_, m)| m.as_slice()), &base);
    assert_eq!(batch.len(), modules.len());
    for (result, (name, bytes)) in batch.iter().zip(modules) {
        agree(
            result,
            bytes,
            Some(&base),
            &format!("{name} in parse_splits"),
        );
    }
}

#[test]
fn the_running_kernel() {
    let dir = std::path::Path::new("/sys/kernel/btf");
    let Ok(vmlinux) = std::fs::read(dir.join("vmlinux")) else {
        common::require(false, "a readable /sys/kernel/btf/vmlinux");
        return;
    };
    let mut modules = Vec::new();
    for entry in std::fs::read_dir(dir).expect("/sys/kernel/btf") {
        let entry = entry.expect("entry");
        if entry.file_name() != "vmlinux" {
            let name = entry.file_name().to_string_lossy().into_owned();
            modules.push((name, std::fs::read(entry.path()).expect("module BTF")));
        }
    }
    check_set(&vmlinux, &modules);
}

#[test]
fn the_debian_corpus() {
    let Some(dir) = common::corpus() else {
        return;
    };
    let vmlinux = std::fs::read(dir.join("vmlinux.btf")).expect("corpus vmlinux");
    let modules: Vec<(String, Vec<u8>)> = common::module_names(&dir)
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(format!("modules/{name}.btf"))).expect("module");
            (name, bytes)
        })
        .collect();
    assert!(modules.len() > 1000, "{} modules", modules.len());
    check_set(&vmlinux, &modules);
    // And the other byte order.
    let swapped = common::swap_blob(&vmlinux);
    agree(&Btf::parse(&swapped), &swapped, None, "vmlinux, swapped");
}

/// One record of every kind, and a kind sized by the layout section when
/// `layout` is set.
fn corners(endian: Endian, layout: bool) -> Vec<u8> {
    let mut b = RawBlob::new(endian);
    let n = b.str("n");
    b.ty(n, 1, false, 0, 4).word(0x0100_0020); // [1] int
    b.ty(0, 2, false, 0, 1); // [2] int *
    b.ty(0, 3, false, 0, 0).words(&[1, 1, 4]); // [3] int[4]
    b.ty(n, 4, true, 2, 8).words(&[n, 1, 3 << 24, n, 1, 32]); // [4] struct
    b.ty(n, 5, false, 1, 4).words(&[n, 1, 0]); // [5] union
    b.ty(n, 6, true, 2, 4).words(&[n, u32::MAX, n, 2]); // [6] enum
    b.ty(n, 7, true, 0, 0); // [7] fwd
    b.ty(n, 8, false, 0, 4); // [8] typedef
    b.ty(0, 9, false, 0, 1); // [9] volatile
    b.ty(0, 10, false, 0, 9); // [10] const
    b.ty(0, 11, false, 0, 2); // [11] restrict
    b.ty(n, 12, false, 1, 13); // [12] func
    b.ty(0, 13, false, 2, 1).words(&[n, 1, 0, 0]); // [13] func_proto
    b.ty(n, 14, false, 0, 1).word(1); // [14] var
    b.ty(n, 15, false, 1, 8).words(&[14, 0, 4]); // [15] datasec
    b.ty(n, 16, false, 0, 8); // [16] float
    b.ty(n, 17, false, 0, 4).word(1); // [17] decl_tag
    b.ty(n, 18, true, 0, 1); // [18] type_tag
    b.ty(n, 19, false, 1, 8).words(&[n, 0, 1]); // [19] enum64
    if layout {
        // [20] kind 20: 4 info bytes, 8 per element.
        b.ty(n, 20, false, 2, 7).words(&[9, 1, 2, 3, 4]);
        let mut entries = RawBlob::known_layout();
        entries.push((4, 8));
        b.layout(&entries);
    }
    b.build()
}

/// Every word of the type section of `blob`, set in turn to values that
/// move a kind, a `vlen`, a name or a type id across a boundary.
fn mutations(blob: &[u8], endian: Endian) -> impl Iterator<Item = Vec<u8>> + '_ {
    let header = btf_core::Header::parse(blob).expect("corner header");
    let start = (header.hdr_len + header.type_off) as usize;
    let words = header.type_len as usize / 4;
    const VALUES: [u32; 16] = [
        0,
        1,
        2,
        7,
        19,
        20,
        21,
        0x7f,
        0x00ff_ffff,
        0xffff_ffff,
        0x0300_0000,
        0x1300_0002,
        0x1400_0001,
        0x8400_0001,
        0x7f00_0000,
        0x0d00_0003,
    ];
    (0..words).flat_map(move |w| {
        VALUES.iter().map(move |&v| {
            let mut m = blob.to_vec();
            let at = start + 4 * w;
            m[at..at + 4].copy_from_slice(&endian.write_u32(v));
            m
        })
    })
}

#[test]
fn hand_made_corners_and_every_word_changed() {
    let mut checked = 0;
    for endian in [Endian::Little, Endian::Big] {
        for layout in [false, true] {
            let blob = corners(endian, layout);
            let parsed = Btf::parse(&blob);
            assert!(parsed.is_ok(), "{endian:?} {layout}: {:?}", parsed.err());
            agree(&parsed, &blob, None, "corners");
            // A split on it: one record of each kind again, ids shifted.
            let base = parsed.expect("corners");
            let mut split = RawBlob::split(endian, base.strings().len() as u32);
            let n = split.str("m");
            let first = base.last_id().get() + 1;
            split.ty(n, 4, false, 1, 4).words(&[n, first, 0]); // struct, member of type [first]
            split.ty(0, 3, false, 0, 0).words(&[first, 1, 2]);
            split.ty(n, 13, false, 1, first).words(&[n, 1]);
            let split = split.build();
            let mut splits = Vec::new();
            for m in mutations(&blob, endian) {
                agree(&Btf::parse(&m), &m, None, "a changed corner");
                checked += 1;
            }
            for m in mutations(&split, endian) {
                agree(
                    &Btf::parse_split(&m, &base),
                    &m,
                    Some(&base),
                    "a changed split",
                );
                splits.push(m);
            }
            // More than eight, so that they walk in lanes.
            let batch = Btf::parse_splits(splits.iter().map(Vec::as_slice), &base);
            for (result, m) in batch.iter().zip(&splits) {
                agree(result, m, Some(&base), "a changed split in parse_splits");
                checked += 1;
            }
        }
    }
    assert!(checked > 2000, "{checked} blobs");
}
