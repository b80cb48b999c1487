//! `btf_core::elf`: BTF sections of ELF files, zero-copy, 32/64-bit, both
//! byte orders; kernel-image-like, module-like and real BPF objects (built
//! with `llc` when it is installed), checked against bpftool's own ELF
//! reading.
#![cfg(feature = "elf")]

mod common;
mod dump_common;
mod elf_fixtures;

use btf_core::elf::{BtfSection, BtfSections, ElfError};
use btf_core::{Btf, Endian};
use dump_common::{TempDir, assert_same_dump, bpftool_raw, ours};
use elf_fixtures::{BPF_IR, Section, elf};
use std::process::Command;

const EM_X86_64: u16 = 62;
const EM_386: u16 = 3;
const EM_S390: u16 = 22;
const EM_BPF: u16 = 247;
const SHF_ALLOC: u64 = 2;
const SHF_COMPRESSED: u64 = 1 << 11;

/// Whether `inner` lies inside `outer` (the slice was not copied).
fn within(inner: &[u8], outer: &[u8]) -> bool {
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    o.start <= i.start && i.end <= o.end
}

fn tiny(endian: Endian) -> Vec<u8> {
    btf_core::testing::tiny_blob_in(endian)
}

#[test]
fn every_class_and_byte_order() {
    for is_64 in [false, true] {
        for big in [false, true] {
            let endian = if big { Endian::Big } else { Endian::Little };
            let btf = tiny(endian);
            let ext = b"\x9f\xeb\x01\x00ext-bytes".to_vec();
            let base = tiny(Endian::Little);
            let file = elf(
                is_64,
                big,
                if is_64 { EM_S390 } else { EM_386 },
                &[
                    Section::progbits(".text", b"\x90\x90"),
                    Section::progbits(".BTF", &btf),
                    Section::progbits(".BTF.ext", &ext),
                    Section::progbits(".BTF.base", &base),
                ],
            );
            let what = format!("is_64={is_64} big={big}");
            let found = BtfSections::parse(&file).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(found.btf(), &btf[..], "{what}");
            assert!(within(found.btf(), &file), "{what}: copied");
            assert_eq!(found.btf_ext(), Some(&ext[..]), "{what}");
            assert_eq!(found.btf_base(), Some(&base[..]), "{what}");
            assert_eq!(found.endian(), endian);
            assert_eq!(found.is_64(), is_64);
            assert_eq!(found.machine(), if is_64 { EM_S390 } else { EM_386 });
            let off = found.btf_file_offset() as usize;
            assert_eq!(&file[off..off + btf.len()], &btf[..]);
            let parsed = Btf::parse(found.btf()).unwrap();
            assert_eq!(parsed.endian(), endian);
            assert_eq!(parsed.type_count(), 5);

            // At an odd address too: nothing needs alignment.
            let mut shifted = vec![0u8; file.len() + 1];
            shifted[1..].copy_from_slice(&file);
            let again = BtfSections::parse(&shifted[1..]).unwrap();
            assert_eq!(again.btf(), &btf[..], "{what}, unaligned");
        }
    }
}

#[test]
fn optional_sections_may_be_missing() {
    let btf = tiny(Endian::Little);
    let file = elf(true, false, EM_X86_64, &[Section::progbits(".BTF", &btf)]);
    let found = BtfSections::parse(&file).unwrap();
    assert_eq!(found.btf(), &btf[..]);
    assert_eq!(found.btf_ext(), None);
    assert_eq!(found.btf_base(), None);
}

#[test]
fn errors_say_what_and_where() {
    assert_eq!(
        BtfSections::parse(b"\x9f\xeb\x01\x00"),
        Err(ElfError::NotElf { len: 4 })
    );
    assert_eq!(
        BtfSections::parse(b"").unwrap_err().to_string(),
        "not an elf file (no elf magic in 0 bytes)"
    );

    let btf = tiny(Endian::Little);
    let no_btf = elf(true, false, EM_X86_64, &[Section::progbits(".text", b"x")]);
    let err = BtfSections::parse(&no_btf).unwrap_err();
    assert_eq!(err, ElfError::NoBtf { sections: 3 });
    assert_eq!(err.to_string(), "no .BTF section among the 3 elf sections");

    // Truncated inside the header: object's message comes through.
    let good = elf(false, true, EM_386, &[Section::progbits(".BTF", &btf)]);
    let err = BtfSections::parse(&good[..30]).unwrap_err();
    assert!(matches!(err, ElfError::Malformed { .. }), "{err:?}");
    assert!(err.to_string().starts_with("malformed elf file: "), "{err}");
    // Section headers cut off.
    let err = BtfSections::parse(&good[..good.len() - 10]).unwrap_err();
    assert!(matches!(err, ElfError::Malformed { .. }), "{err:?}");

    let nobits = elf(
        true,
        false,
        EM_X86_64,
        &[Section {
            name: ".BTF",
            sh_type: 8,
            flags: 0,
            data: &btf,
        }],
    );
    assert_eq!(
        BtfSections::parse(&nobits),
        Err(ElfError::NoData {
            section: BtfSection::Btf,
            index: 1
        })
    );

    let compressed = elf(
        false,
        false,
        EM_386,
        &[
            Section::progbits(".BTF", &btf),
            Section {
                name: ".BTF.ext",
                sh_type: 1,
                flags: SHF_COMPRESSED,
                data: b"zz",
            },
        ],
    );
    let err = BtfSections::parse(&compressed).unwrap_err();
    assert_eq!(
        err,
        ElfError::Compressed {
            section: BtfSection::BtfExt,
            index: 2
        }
    );
    assert_eq!(
        err.to_string(),
        "elf section .BTF.ext (index 2) is compressed, which is not supported"
    );

    // A .BTF whose size runs past the end of the file: patch sh_size of
    // section 1 (64-bit little-endian header table at e_shoff).
    let mut bad = elf(true, false, EM_X86_64, &[Section::progbits(".BTF", &btf)]);
    let shoff = u64::from_le_bytes(bad[40..48].try_into().unwrap()) as usize;
    let size_at = shoff + 64 + 32;
    bad[size_at..size_at + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let err = BtfSections::parse(&bad).unwrap_err();
    let ElfError::OutOfBounds {
        section,
        index,
        size,
        file_len,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (section, index, size, file_len),
        (BtfSection::Btf, 1, 1 << 40, bad.len())
    );
    assert!(err.to_string().contains("runs past the end"), "{err}");
}

/// A kernel-image-like ELF (the real vmlinux.btf of the corpus in an
/// allocated `.BTF` section among others) and module-like ELFs of every
/// class and byte order: bpftool reads each file with libbpf's own ELF code,
/// and our dump of the section we find must match.
#[test]
fn synthetic_elf_files_match_bpftool() {
    if !common::require(dump_common::have_bpftool(), "bpftool") {
        return;
    }
    let tmp = TempDir::new("elf-synth");
    let mut compared = 0;
    let vmlinux = common::corpus().and_then(|dir| std::fs::read(dir.join("vmlinux.btf")).ok());
    if let Some(v) = &vmlinux {
        let file = elf(
            true,
            false,
            EM_X86_64,
            &[
                Section {
                    name: ".text",
                    sh_type: 1,
                    flags: SHF_ALLOC | 4,
                    data: &[0xcc; 64],
                },
                Section {
                    name: ".BTF",
                    sh_type: 1,
                    flags: SHF_ALLOC,
                    data: v,
                },
                Section::progbits(".comment", b"GCC\0"),
            ],
        );
        let path = tmp.write("vmlinux.elf", &file);
        let found = BtfSections::parse(&file).unwrap();
        let btf = Btf::parse(found.btf()).unwrap();
        assert_same_dump(&ours(&btf), &bpftool_raw(&path, None), "vmlinux-like ELF");
        compared += 1;
    }
    for is_64 in [false, true] {
        for big in [false, true] {
            let endian = if big { Endian::Big } else { Endian::Little };
            let blob = tiny(endian);
            let file = elf(is_64, big, EM_BPF, &[Section::progbits(".BTF", &blob)]);
            let path = tmp.write(&format!("t-{is_64}-{big}.o"), &file);
            let found = BtfSections::parse(&file).unwrap();
            let btf = Btf::parse(found.btf()).unwrap();
            assert_same_dump(
                &ours(&btf),
                &bpftool_raw(&path, None),
                &format!("ELF is_64={is_64} big={big}"),
            );
            compared += 1;
        }
    }
    eprintln!("{compared} synthetic ELF files dump as bpftool dumps them");
}

/// A real BPF object, from LLVM IR with debug info, built by `llc` for
/// both byte orders: `.BTF` and `.BTF.ext` are found and the dump matches
/// bpftool's dump of the object file.
#[test]
fn bpf_objects_from_llc() {
    let llc = Command::new("llc").arg("--version").output();
    // .ci/run installs Debian's llvm; elsewhere a missing llc skips, saying so.
    if !common::require(llc.is_ok_and(|o| o.status.success()), "llc (Debian's llvm)") {
        return;
    }
    if !common::require(dump_common::have_bpftool(), "bpftool") {
        return;
    }
    let tmp = TempDir::new("elf-llc");
    let ir = tmp.write("prog.ll", BPF_IR.as_bytes());
    for (arch, endian) in [("bpfel", Endian::Little), ("bpfeb", Endian::Big)] {
        let obj = tmp.0.join(format!("prog-{arch}.o"));
        assert!(
            elf_fixtures::llc(&ir, arch, &obj),
            "llc could not build a {arch} object"
        );
        let file = std::fs::read(&obj).unwrap();
        let found = BtfSections::parse(&file).unwrap_or_else(|e| panic!("{arch}: {e}"));
        assert_eq!(found.machine(), EM_BPF);
        assert_eq!(found.endian(), endian);
        assert!(found.is_64());
        let ext = found.btf_ext().expect(".BTF.ext in a BPF object");
        assert!(ext.len() > 8 && within(ext, &file));
        let btf = Btf::parse(found.btf()).unwrap();
        assert_eq!(btf.endian(), endian);
        let theirs = bpftool_raw(&obj, None);
        assert!(
            String::from_utf8_lossy(&theirs).contains("FUNC 'prog'"),
            "{arch}"
        );
        assert_same_dump(&ours(&btf), &theirs, &format!("llc {arch} object"));
    }
}

/// Every `.ko` of the corpus: `.BTF` is found, in place, and is exactly
/// the `modules/<name>.btf` the corpus script cut out with objcopy. (The
/// dump of each is compared with bpftool's in `tests/dump.rs`.)
#[test]
fn corpus_ko_sections_equal_objcopy() {
    let Some(dir) = common::corpus() else {
        return;
    };
    let mut names: Vec<_> = std::fs::read_dir(dir.join("ko"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|n| n.strip_suffix(".ko").map(str::to_owned))
        .collect();
    names.sort();
    let checked = dump_common::par_map(&names, |_, chunk| {
        chunk
            .iter()
            .map(|name| {
                let ko = std::fs::read(dir.join("ko").join(format!("{name}.ko"))).unwrap();
                let found = BtfSections::parse(&ko).unwrap_or_else(|e| panic!("{name}.ko: {e}"));
                let want = std::fs::read(dir.join("modules").join(format!("{name}.btf"))).unwrap();
                assert!(found.btf() == &want[..], "{name}.ko: .BTF differs");
                assert!(within(found.btf(), &ko));
                assert_eq!((found.machine(), found.is_64()), (EM_X86_64, true));
                assert_eq!(found.btf_ext(), None, "{name}.ko");
            })
            .collect::<Vec<()>>()
    });
    assert!(checked.len() > 1000);
    eprintln!("{} .ko files: .BTF found in place", checked.len());
}
