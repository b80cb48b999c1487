//! `btf reloc OBJ.o [--btf FILE [--module FILE]...] [--all-modules]
//! [--strict] [--format text|json]`: every CO-RE relocation of a BPF
//! object, resolved against a kernel's BTF as libbpf resolves them.
//!
//! `--format json` prints one array with an object per relocation, in the
//! text's order: `section` (the program section), `insn` (the instruction
//! index in it), `relo` (the record's index in `.BTF.ext`), `kind`
//! (libbpf's name), `local` (the access in C), `target` (the type it
//! resolved to and where, or `null`), `old` and `new` (the values libbpf
//! logs), `poisoned`, and `reason` (why, for a poisoned instruction, else
//! `null`).

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use btf_core::Btf;
use btf_core::dump::JsonStr;
use btf_core::ext::BpfObject;
use btf_core::reloc::{self, ModuleSearch, Outcome, Patched, Targets};
use btf_sys::KernelBtf;

use crate::Failure;
use crate::source;

/// The output formats `--format` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// One line per relocation
    Text,
    /// One JSON object, for tools
    Json,
}

/// What `btf reloc` was asked.
pub(crate) struct Args<'a> {
    pub(crate) object: &'a Path,
    pub(crate) btf: Option<&'a Path>,
    pub(crate) modules: &'a [PathBuf],
    pub(crate) all_modules: bool,
    pub(crate) strict: bool,
    pub(crate) format: Format,
}

/// The `.BTF` of a raw BTF or ELF file's bytes.
pub(crate) fn btf_of<'b>(what: &str, bytes: &'b [u8]) -> Result<&'b [u8], Failure> {
    if bytes.starts_with(b"\x7fELF") {
        Ok(btf_core::elf::BtfSections::parse(bytes)
            .map_err(|e| Failure::Message(format!("{what}: {e}")))?
            .btf())
    } else {
        source::check_btf_magic(what, bytes)?;
        Ok(bytes)
    }
}

/// Relocates the object against the kernel's BTF (given as files, or the
/// running kernel's with its modules) and prints each relocation.
pub(crate) fn run(args: &Args<'_>) -> Result<(), Failure> {
    let shown = args.object.display().to_string();
    let object_bytes = source::read_file(args.object)?;
    let object =
        BpfObject::parse(&object_bytes).map_err(|e| Failure::Message(format!("{shown}: {e}")))?;
    let search = if args.all_modules {
        ModuleSearch::Always
    } else {
        ModuleSearch::WhenVmlinuxHasNone
    };
    match args.btf {
        Some(path) => {
            let what = path.display().to_string();
            let bytes = source::read_file(path)?;
            let vmlinux = Btf::parse(btf_of(&what, &bytes)?)
                .map_err(|e| Failure::Message(format!("{what}: {e}")))?;
            let mut module_bytes = Vec::new();
            for module in args.modules {
                module_bytes.push((module.display().to_string(), source::read_file(module)?));
            }
            let mut views = Vec::new();
            for (name, bytes) in &module_bytes {
                let view = Btf::parse_split(btf_of(name, bytes)?, &vmlinux)
                    .map_err(|e| Failure::Message(format!("{name}: {e}")))?;
                views.push((name.as_str(), view));
            }
            let mut targets = Targets::named("vmlinux", &vmlinux).module_search(search);
            for (name, view) in &views {
                targets = targets.with_module(name, view);
            }
            report(args, &object, &targets)
        }
        None => {
            if !args.modules.is_empty() {
                return Err(Failure::Message(
                    "--module needs --btf (the vmlinux it is split on)".into(),
                ));
            }
            let set = KernelBtf::load()?;
            let vmlinux = set.vmlinux();
            let views: Vec<(&str, Btf<'_>)> =
                set.modules().iter().map(|m| (m.name(), m.btf())).collect();
            let mut targets = Targets::named("vmlinux", &vmlinux).module_search(search);
            for (name, view) in &views {
                targets = targets.with_module(name, view);
            }
            report(args, &object, &targets)
        }
    }
}

/// The section name of an outcome.
fn section_name<'o>(object: &BpfObject<'o>, outcome: &Outcome) -> &'o str {
    object
        .program_by_index(outcome.section)
        .and_then(|p| p.name())
        .unwrap_or("?")
}

/// What was done to the instruction, for a person.
fn patched_text(patched: &Patched) -> String {
    match *patched {
        Patched::Imm { from, to } => format!("imm {from} → {to}"),
        Patched::Offset {
            from,
            to,
            size: None,
        } => format!("off {from} → {to}"),
        Patched::Offset {
            from,
            to,
            size: Some((old, new)),
        } => format!("off {from} → {to}, size {old} → {new}"),
        Patched::Imm64 { from, to } => format!("imm64 {from} → {to}"),
        Patched::Poisoned { .. } => "poisoned".into(),
    }
}

fn report(args: &Args<'_>, object: &BpfObject<'_>, targets: &Targets<'_>) -> Result<(), Failure> {
    let relocated = reloc::relocate_object(targets, object).map_err(|failure| {
        Failure::Message(format!("{}: {failure}", args.object.display()).replace('\n', "; "))
    })?;
    let local = object.btf();
    let mut text = String::new();
    let mut poisoned = 0usize;
    if args.format == Format::Json {
        text.push('[');
    }
    for (i, outcome) in relocated.outcomes.iter().enumerate() {
        let r = &outcome.resolution;
        let what = reloc::relo_in_c(local, &outcome.relo);
        let target = r.target.and_then(|cand| {
            let t = targets.get(cand.target)?;
            Some(format!(
                "{} in {}",
                reloc::type_in_c(t.btf(), cand.id),
                t.name()
            ))
        });
        poisoned += usize::from(r.poison);
        // Why a poisoned instruction is poisoned: the explanation's lines
        // after its first (which repeats the relocation).
        let why = r.poison.then(|| {
            outcome
                .explain(local, targets)
                .lines()
                .skip(1)
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("; ")
        });
        match args.format {
            Format::Text => {
                let _ = write!(
                    text,
                    "{} insn #{} {}: {what} → {}: ",
                    section_name(object, outcome),
                    outcome.insn,
                    outcome.relo.kind,
                    target.as_deref().unwrap_or("no target"),
                );
                match &why {
                    Some(why) => {
                        let _ = writeln!(text, "poisoned ({why})");
                    }
                    None => {
                        let _ = writeln!(
                            text,
                            "{} → {} ({})",
                            r.orig_val,
                            r.new_val,
                            patched_text(&outcome.patched)
                        );
                    }
                }
            }
            Format::Json => {
                if i > 0 {
                    text.push(',');
                }
                let _ = write!(
                    text,
                    "{{\"section\":{},\"insn\":{},\"relo\":{},\"kind\":{},\"local\":{},\"target\":",
                    JsonStr(section_name(object, outcome)),
                    outcome.insn,
                    outcome.record,
                    JsonStr(&outcome.relo.kind.to_string()),
                    JsonStr(&what),
                );
                match &target {
                    Some(t) => {
                        let _ = write!(text, "{}", JsonStr(t));
                    }
                    None => text.push_str("null"),
                }
                let _ = write!(
                    text,
                    ",\"old\":{},\"new\":{},\"poisoned\":{},\"reason\":",
                    r.orig_val, r.new_val, r.poison
                );
                match &why {
                    Some(why) => {
                        let _ = write!(text, "{}}}", JsonStr(why));
                    }
                    None => text.push_str("null}"),
                }
            }
        }
    }
    match args.format {
        Format::Json => text.push_str("]\n"),
        Format::Text => {
            let _ = writeln!(
                text,
                "{} relocations, {poisoned} poisoned (an instruction a guard such as bpf_core_field_exists must keep from running)",
                relocated.outcomes.len()
            );
        }
    }
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    if args.strict && poisoned > 0 {
        return Err(Failure::Message(format!(
            "{}: {poisoned} poisoned instructions (--strict)",
            args.object.display()
        )));
    }
    Ok(())
}
