//! ELF fixtures shared by btf-core's tests and the fuzz seed generator
//! (which includes this file by path): a minimal ELF writer, and LLVM IR of
//! a small BPF program for `llc` to compile with BTF.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::Command;

/// One section of a test ELF file.
pub struct Section<'a> {
    pub name: &'a str,
    /// `SHT_PROGBITS` (1), `SHT_NOBITS` (8), ...
    pub sh_type: u32,
    pub flags: u64,
    pub data: &'a [u8],
}

impl<'a> Section<'a> {
    pub fn progbits(name: &'a str, data: &'a [u8]) -> Section<'a> {
        Section {
            name,
            sh_type: 1,
            flags: 0,
            data,
        }
    }
}

/// Writes a minimal relocatable ELF file: header, the sections' data, a
/// `.shstrtab`, and the section header table (null section first).
pub fn elf(is_64: bool, big_endian: bool, machine: u16, sections: &[Section<'_>]) -> Vec<u8> {
    let put16 = |v: &mut Vec<u8>, x: u16| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let put32 = |v: &mut Vec<u8>, x: u32| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let put64 = |v: &mut Vec<u8>, x: u64| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let putw = |v: &mut Vec<u8>, x: u64| {
        if is_64 {
            put64(v, x)
        } else {
            put32(v, x as u32)
        }
    };
    let ehsize: u16 = if is_64 { 64 } else { 52 };
    let shentsize: u16 = if is_64 { 64 } else { 40 };

    // .shstrtab contents and name offsets.
    let mut shstrtab = vec![0u8];
    let mut names = Vec::new();
    for s in sections.iter().map(|s| s.name).chain([".shstrtab"]) {
        names.push(shstrtab.len() as u32);
        shstrtab.extend_from_slice(s.as_bytes());
        shstrtab.push(0);
    }

    // Lay out data after the header, 8-aligned.
    let mut body = Vec::new();
    let mut offsets = Vec::new();
    let base = u64::from(ehsize);
    for data in sections.iter().map(|s| s.data).chain([&shstrtab[..]]) {
        while !(base as usize + body.len()).is_multiple_of(8) {
            body.push(0);
        }
        offsets.push(base + body.len() as u64);
        body.extend_from_slice(data);
    }
    while !(base as usize + body.len()).is_multiple_of(8) {
        body.push(0);
    }
    let shoff = base + body.len() as u64;
    let shnum = sections.len() as u16 + 2;

    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF");
    out.push(if is_64 { 2 } else { 1 });
    out.push(if big_endian { 2 } else { 1 });
    out.push(1); // EV_CURRENT
    out.extend_from_slice(&[0; 9]);
    put16(&mut out, 1); // ET_REL
    put16(&mut out, machine);
    put32(&mut out, 1);
    putw(&mut out, 0); // entry
    putw(&mut out, 0); // phoff
    putw(&mut out, shoff);
    put32(&mut out, 0); // flags
    put16(&mut out, ehsize);
    put16(&mut out, 0); // phentsize
    put16(&mut out, 0); // phnum
    put16(&mut out, shentsize);
    put16(&mut out, shnum);
    put16(&mut out, shnum - 1); // shstrndx
    assert_eq!(out.len(), ehsize as usize);
    out.extend_from_slice(&body);

    let shdr = |out: &mut Vec<u8>, name: u32, ty: u32, flags: u64, off: u64, size: u64| {
        put32(out, name);
        put32(out, ty);
        putw(out, flags);
        putw(out, 0); // addr
        putw(out, off);
        putw(out, size);
        put32(out, 0); // link
        put32(out, 0); // info
        putw(out, 1); // addralign
        putw(out, 0); // entsize
    };
    shdr(&mut out, 0, 0, 0, 0, 0);
    for (i, s) in sections.iter().enumerate() {
        shdr(
            &mut out,
            names[i],
            s.sh_type,
            s.flags,
            offsets[i],
            s.data.len() as u64,
        );
    }
    shdr(
        &mut out,
        names[sections.len()],
        3, // SHT_STRTAB
        0,
        offsets[sections.len()],
        shstrtab.len() as u64,
    );
    out
}

/// `struct pair { int a; long b; } g; int counter;` and
/// `int prog(void *ctx) { return counter; }` in section "xdp", with the
/// debug info from which llc emits BTF.
pub const BPF_IR: &str = r#"
target datalayout = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"

%struct.pair = type { i32, i64 }

@g = dso_local global %struct.pair zeroinitializer, section ".data", align 8, !dbg !0
@counter = dso_local global i32 0, align 4, !dbg !20

define dso_local i32 @prog(ptr %ctx) section "xdp" !dbg !10 {
  %v = load i32, ptr @counter, align 4, !dbg !15
  ret i32 %v, !dbg !15
}

!llvm.dbg.cu = !{!2}
!llvm.module.flags = !{!7, !8}

!0 = !DIGlobalVariableExpression(var: !1, expr: !DIExpression())
!1 = distinct !DIGlobalVariable(name: "g", scope: !2, file: !3, line: 1, type: !16, isLocal: false, isDefinition: true)
!2 = distinct !DICompileUnit(language: DW_LANG_C99, file: !3, producer: "hand-written", isOptimized: true, runtimeVersion: 0, emissionKind: FullDebug, globals: !5)
!3 = !DIFile(filename: "prog.c", directory: "/tmp")
!4 = !{}
!5 = !{!0, !20}
!6 = !DIBasicType(name: "int", size: 32, encoding: DW_ATE_signed)
!7 = !{i32 2, !"Dwarf Version", i32 4}
!8 = !{i32 2, !"Debug Info Version", i32 3}
!9 = !DIDerivedType(tag: DW_TAG_pointer_type, baseType: null, size: 64)
!10 = distinct !DISubprogram(name: "prog", scope: !3, file: !3, line: 2, type: !11, scopeLine: 2, flags: DIFlagPrototyped, spFlags: DISPFlagDefinition | DISPFlagOptimized, unit: !2, retainedNodes: !4)
!11 = !DISubroutineType(types: !12)
!12 = !{!6, !9}
!15 = !DILocation(line: 3, column: 1, scope: !10)
!16 = distinct !DICompositeType(tag: DW_TAG_structure_type, name: "pair", file: !3, line: 1, size: 128, elements: !17)
!17 = !{!18, !19}
!18 = !DIDerivedType(tag: DW_TAG_member, name: "a", scope: !16, file: !3, line: 1, baseType: !6, size: 32)
!19 = !DIDerivedType(tag: DW_TAG_member, name: "b", scope: !16, file: !3, line: 1, baseType: !22, size: 64, offset: 64)
!20 = !DIGlobalVariableExpression(var: !21, expr: !DIExpression())
!21 = distinct !DIGlobalVariable(name: "counter", scope: !2, file: !3, line: 1, type: !6, isLocal: false, isDefinition: true)
!22 = !DIBasicType(name: "long", size: 64, encoding: DW_ATE_signed)
"#;

/// Compiles `ir` for `arch` (`bpfel`, `bpfeb`) into the object file `out`
/// with `llc`; false when llc is missing or fails. (LLVM 14 and 15 need
/// `-opaque-pointers` for `ptr`; later versions have no such flag.)
pub fn llc(ir: &Path, arch: &str, out: &Path) -> bool {
    [&[][..], &["-opaque-pointers"][..]].iter().any(|extra| {
        Command::new("llc")
            .args(*extra)
            .arg(format!("-march={arch}"))
            .args(["-filetype=obj", "-o"])
            .arg(out)
            .arg(ir)
            .output()
            .is_ok_and(|o| o.status.success())
    })
}
