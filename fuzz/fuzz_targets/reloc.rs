//! `reloc`: the input is a BPF object (an ELF file with `.BTF` and
//! `.BTF.ext`); seeds are clang-19 builds of the CO-RE test programs, which
//! the fuzzer mutates.
//!
//! `BpfObject::parse` reads the program sections, `.BTF` and `.BTF.ext`
//! (every record mapped to an instruction); every record is walked and
//! described; then every CO-RE relocation is resolved and patched with
//! `reloc::relocate_object` against two targets: the object's own BTF,
//! and the distilled vmlinux of `fuzz/data/base.btf` (with every module
//! search mode). A relocation may fail, with an error; nothing may panic,
//! and a relocated section keeps its length (patching rewrites
//! instructions in place).
#![no_main]

use btf_core::Btf;
use btf_core::ext::BpfObject;
use btf_core::reloc::{self, ModuleSearch, Targets};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static BASE: LazyLock<Btf<'static>> = LazyLock::new(|| {
    Btf::parse(include_bytes!("../data/base.btf")).expect("fuzz/data/base.btf parses")
});

fn relocate(object: &BpfObject<'_>, targets: &Targets<'_>) {
    match reloc::relocate_object(targets, object) {
        Ok(done) => {
            for section in &done.sections {
                assert_eq!(
                    section.code.len(),
                    section.program.insns().len() * 8,
                    "a relocated section changed length"
                );
            }
            for outcome in &done.outcomes {
                let _ = outcome.explain(object.btf(), targets);
                assert!(done.section(outcome.section).is_some());
            }
        }
        Err(failure) => {
            let _ = format!("{failure} {failure:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let object = match BpfObject::parse(data) {
        Ok(object) => object,
        Err(e) => {
            let _ = format!("{e} {e:?}");
            return;
        }
    };
    let local = object.btf();
    for program in object.programs() {
        let _ = (program.name(), program.insns().iter().count());
    }
    if let Some(ext) = object.ext() {
        for block in ext.core_relos().blocks() {
            for relo in block.records() {
                let _ = reloc::relo_in_c(local, &relo);
                let _ = relo.access_spec(local).map(|spec| spec.iter().count());
            }
        }
        let _ = ext.func_infos().record_count() + ext.line_infos().record_count();
    }
    // Against itself: every local type is its own candidate.
    relocate(&object, &Targets::named("self", local));
    // Against a small vmlinux, with itself as a module, in each search mode.
    for search in [
        ModuleSearch::WhenVmlinuxHasNone,
        ModuleSearch::Always,
        ModuleSearch::Never,
    ] {
        let targets = Targets::named("vmlinux", &BASE)
            .with_module("self", local)
            .module_search(search);
        relocate(&object, &targets);
    }
});
