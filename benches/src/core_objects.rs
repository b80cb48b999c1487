//! The CO-RE test objects and the differential check of our relocation
//! engine against libbpf's, shared by `tests/core_reloc.rs` and
//! `benches/core_reloc.rs`.
//!
//! [`build`] compiles `btf-core/tests/ext_progs/{core,kernel}.c` with
//! clang-19 for the host's byte order (libbpf refuses to patch a foreign
//! object's instructions); [`build_program`] any one of them, and
//! [`Kselftests`] the kernel's selftests. [`compare`] relocates an object with
//! `btf_core::reloc::relocate_object` and with libbpf 1.7
//! (`bpf_object__prepare`, then `bpf_program__insns`, subprograms
//! appended) and checks that every instruction is the same. Instructions
//! libbpf changes for other reasons than CO-RE (helper and subprogram call
//! immediates, map `ld_imm64`s) are compared without those fields; every
//! CO-RE-relocated instruction is compared whole, and must be reached.
//! [`compare_full`] also says where our relocated instructions sit in
//! each program libbpf prepared, for running them
//! (`crate::core_selftests`).

use crate::ffi::{Prepared, libbpf_prepare_on};
use btf_core::Btf;
use btf_core::ext::BpfObject;
use btf_core::reloc::{Patched, Targets, relocate_object};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The test programs' sources: `btf-core/tests/ext_progs`.
pub const PROGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../btf-core/tests/ext_progs");

/// A directory removed, with what it holds, on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/btf-<tag>-<pid>`.
    ///
    /// # Panics
    ///
    /// If it cannot be created.
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("btf-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether `clang-19 --version` runs.
pub fn have_clang() -> bool {
    Command::new("clang-19")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds the test programs (`core.c`, `kernel.c`) into `dir` for the
/// host's byte order; returns each one's name and object path.
///
/// # Panics
///
/// If clang-19 cannot run or fails.
pub fn build(dir: &Path) -> Vec<(String, PathBuf)> {
    ["core", "kernel"]
        .iter()
        .map(|name| (name.to_string(), build_program(dir, name)))
        .collect()
}

/// Builds `btf-core/tests/ext_progs/<name>.c` into `dir/<name>.o` for the
/// host's byte order; returns the object's path.
///
/// # Panics
///
/// If clang-19 cannot run or fails.
pub fn build_program(dir: &Path, name: &str) -> PathBuf {
    let target = if cfg!(target_endian = "little") {
        "bpfel"
    } else {
        "bpfeb"
    };
    let out = dir.join(format!("{name}.o"));
    let status = Command::new("clang-19")
        .args(["-g", "-O2", "-target", target, "-c"])
        .arg(Path::new(PROGS).join(format!("{name}.c")))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("clang-19 runs");
    assert!(status.success(), "clang-19 {name}.c");
    out
}

/// A clang-19 set up to build the kernel's BPF selftests
/// (`tools/testing/selftests/bpf` of a kernel source tree): `vmlinux.h`
/// written by bpftool from the running kernel, `<bpf/…>` from
/// libbpf-sys's vendored libbpf (or `BTF_LIBBPF_HEADERS`).
pub struct Kselftests {
    selftests: PathBuf,
    progs: PathBuf,
    inc: PathBuf,
}

impl Kselftests {
    /// Sets up the include directory under `work`.
    ///
    /// # Errors
    ///
    /// What is missing: the selftests' `progs`, libbpf's headers, bpftool
    /// or `/sys/kernel/btf/vmlinux`, or clang-19.
    pub fn new(selftests: &Path, work: &Path) -> Result<Kselftests, String> {
        let progs = selftests.join("progs");
        if !progs.is_dir() {
            return Err(format!("no {}", progs.display()));
        }
        if !have_clang() {
            return Err("needs clang-19".into());
        }
        let inc = work.join("include");
        let io = |e: std::io::Error| format!("{}: {e}", inc.display());
        std::fs::create_dir_all(inc.join("gnu")).map_err(io)?;
        // glibc's headers pick stubs-32.h for a target that is not x86_64.
        std::fs::write(inc.join("gnu/stubs-32.h"), "").map_err(io)?;
        // <bpf/bpf_helpers.h> and friends: libbpf-sys's vendored libbpf.
        let headers = match std::env::var_os("BTF_LIBBPF_HEADERS") {
            Some(dir) => PathBuf::from(dir),
            None => {
                let home = std::env::var_os("CARGO_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
                    .ok_or("neither CARGO_HOME nor HOME is set")?;
                std::fs::read_dir(home.join("registry/src"))
                    .map_err(|e| format!("the cargo registry: {e}"))?
                    .flatten()
                    .map(|d| d.path().join("libbpf-sys-1.7.0+v1.7.0/libbpf/src"))
                    .find(|p| p.join("bpf_helpers.h").is_file())
                    .ok_or("no libbpf-sys 1.7.0 sources in the cargo registry")?
            }
        };
        // A directory used before keeps its link: make it point here.
        let link = inc.join("bpf");
        if link.symlink_metadata().is_ok() {
            std::fs::remove_file(&link).map_err(io)?;
        }
        std::os::unix::fs::symlink(&headers, &link).map_err(io)?;
        let vmlinux_h = Command::new("bpftool")
            .args([
                "btf",
                "dump",
                "file",
                "/sys/kernel/btf/vmlinux",
                "format",
                "c",
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .ok_or("needs bpftool and /sys/kernel/btf/vmlinux (for vmlinux.h)")?;
        // Rewritten only when it changed (the object cache of
        // `core_selftests` hashes it anyway).
        let vmlinux_h_path = inc.join("vmlinux.h");
        if std::fs::read(&vmlinux_h_path).ok().as_deref() != Some(&vmlinux_h.stdout[..]) {
            std::fs::write(&vmlinux_h_path, vmlinux_h.stdout).map_err(io)?;
        }
        Ok(Kselftests {
            selftests: selftests.to_path_buf(),
            progs,
            inc,
        })
    }

    /// The selftests' `progs` directory.
    pub fn progs(&self) -> &Path {
        &self.progs
    }

    /// Compiles `src` into `out`; whether clang-19 succeeded.
    pub fn compile(&self, src: &Path, out: &Path) -> bool {
        self.command(src, out).status().is_ok_and(|s| s.success())
    }

    /// The clang-19 command [`compile`](Self::compile) runs.
    pub fn command(&self, src: &Path, out: &Path) -> Command {
        let mut cmd = Command::new("clang-19");
        cmd.args(["-g", "-O2", "-target", "bpfel", "-D__TARGET_ARCH_x86", "-c"])
            .arg("-I")
            .arg(&self.inc)
            .arg("-idirafter")
            .arg("/usr/include/x86_64-linux-gnu")
            .arg("-I")
            .arg(&self.progs)
            .arg("-I")
            .arg(&self.selftests)
            .arg(src)
            .arg("-o")
            .arg(out);
        cmd
    }

    /// The selftests' directory.
    pub fn selftests(&self) -> &Path {
        &self.selftests
    }
}

/// Builds `progs/<source>` of the selftests at `selftests` into `dir`
/// (see [`Kselftests`]); returns the object's path.
///
/// # Errors
///
/// What is missing, or that clang-19 failed.
pub fn build_kselftest(selftests: &Path, source: &str, dir: &Path) -> Result<PathBuf, String> {
    let ks = Kselftests::new(selftests, dir)?;
    let out = dir.join(source.replace(".c", ".o"));
    if ks.compile(&ks.progs().join(source), &out) {
        Ok(out)
    } else {
        Err(format!("clang-19 failed on {source}"))
    }
}

/// A function of the object: its section, first instruction and length.
#[derive(Clone, Debug)]
struct Func {
    name: String,
    section: usize,
    start: usize,
    len: usize,
}

fn functions(obj: &BpfObject<'_>) -> Vec<Func> {
    let btf = obj.btf();
    let mut out = Vec::new();
    for site in obj.func_infos() {
        let program = site.program();
        let starts: Vec<(usize, String)> = site
            .iter()
            .map(|(i, _, f)| {
                let name = btf.type_by_id(f.type_id).unwrap().name().unwrap();
                (i, name.to_owned())
            })
            .collect();
        for (k, (start, name)) in starts.iter().enumerate() {
            let end = starts
                .get(k + 1)
                .map_or(program.insns().len(), |(next, _)| *next);
            out.push(Func {
                name: name.clone(),
                section: program.index(),
                start: *start,
                len: end - start,
            });
        }
    }
    out
}

const CALL: u8 = 0x85;
const LD_IMM64: u8 = 0x18;

/// Whether CO-RE relocated instruction `index` of `section` (whose code
/// is `ours`): it is relocated, or it is the second half of a relocated
/// `ld_imm64`.
fn is_core(
    relocated: &BTreeSet<(usize, usize)>,
    section: usize,
    ours: &[u8],
    index: usize,
) -> bool {
    relocated.contains(&(section, index))
        || (index > 0
            && relocated.contains(&(section, index - 1))
            && ours[(index - 1) * 8] == LD_IMM64)
}

/// How many instructions differ between libbpf's `theirs` (from
/// position `at`) and our `ours` (`func`'s), masking what libbpf changes
/// besides CO-RE: call immediates and map `ld_imm64`s, unless CO-RE
/// relocated (`relocated`, instruction indices in the section).
fn diffs(
    theirs: &[[u8; 8]],
    at: usize,
    ours: &[u8],
    func: &Func,
    relocated: &BTreeSet<(usize, usize)>,
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut skip_next = false;
    for k in 0..func.len {
        let index = func.start + k;
        let Some(t) = theirs.get(at + k) else {
            out.push(index);
            continue;
        };
        let o: [u8; 8] = ours[index * 8..index * 8 + 8].try_into().unwrap();
        let core = is_core(relocated, func.section, ours, index);
        // A map `ld_imm64` gets its source register and both immediates
        // from libbpf (the object has an ELF relocation there instead).
        let same = if core {
            t == &o
        } else if skip_next {
            t[0] == o[0] && t[1] == o[1] && t[2..4] == o[2..4]
        } else if o[0] == CALL {
            t[..4] == o[..4]
        } else if o[0] == LD_IMM64 {
            t[0] == o[0] && t[1] & 0xf == o[1] & 0xf && t[2..4] == o[2..4]
        } else {
            t == &o
        };
        skip_next = !core && o[0] == LD_IMM64;
        if !same {
            out.push(index);
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What [`compare_full`] found, both engines agreeing.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// How many CO-RE-relocated instructions were compared.
    pub compared: usize,
    /// How many relocations the object has.
    pub relos: usize,
    /// The relocations by kind and patch.
    pub patches: BTreeMap<String, usize>,
    /// When both engines failed (at the same relocation): our error.
    pub failed: Option<String>,
    /// For each program libbpf prepared (by name): our CO-RE-relocated
    /// instructions, each at its position in libbpf's instruction array
    /// for the program (its function, then the subprograms libbpf
    /// appended).
    pub ours: BTreeMap<String, Vec<(usize, [u8; 8])>>,
    /// Our relocations by the target (`vmlinux` or a module's name) their
    /// matching candidate lies in.
    pub matched_in: BTreeMap<String, usize>,
    /// The candidates libbpf reported finding (its debug log), by target.
    pub libbpf_candidates_in: BTreeMap<String, usize>,
}

/// As [`compare_full`]; returns how many relocated instructions were
/// compared, the relocation count, and the relocations by kind and patch
/// (all 0 when both engines fail at the same relocation).
///
/// # Panics
///
/// As [`compare_full`].
pub fn compare(
    label: &str,
    obj_path: &Path,
    file: &[u8],
    target_path: &Path,
    target: &Btf<'_>,
) -> (usize, usize, BTreeMap<String, usize>) {
    let c = compare_full(label, obj_path, file, target_path, target);
    (c.compared, c.relos, c.patches)
}

/// Relocates the object at `obj_path` (whose bytes are `file`) against
/// `target` (the BTF at `target_path`) with our engine and with libbpf
/// (`bpf_object__prepare`), and checks that every instruction of every
/// program libbpf prepared equals ours (see the module's docs). When both
/// engines fail, they must fail at the same relocation
/// ([`Comparison::failed`]; the counts are 0).
///
/// # Panics
///
/// On any difference, when only one engine fails, or when libbpf cannot
/// open the object (prepare needs root: it probes bpf(2)).
pub fn compare_full(
    label: &str,
    obj_path: &Path,
    file: &[u8],
    target_path: &Path,
    target: &Btf<'_>,
) -> Comparison {
    let tname = target_path.display().to_string();
    let targets = Targets::named(&tname, target);
    compare_targets(label, obj_path, file, Some(target_path), &targets)
}

/// As [`compare_full`], with our engine relocating against `targets` and
/// libbpf against `libbpf_target` (`None`: the running kernel with its
/// modules, [`crate::ffi::libbpf_prepare_on`]); both must be the same
/// BTF for the comparison to mean anything.
///
/// # Panics
///
/// As [`compare_full`].
pub fn compare_targets(
    label: &str,
    obj_path: &Path,
    file: &[u8],
    libbpf_target: Option<&Path>,
    targets: &Targets<'_>,
) -> Comparison {
    let prepared: Prepared = libbpf_prepare_on(obj_path, libbpf_target)
        .unwrap_or_else(|(e, log)| panic!("{label}: open: errno {e}\n{log}"));
    let obj = BpfObject::parse(file).unwrap();
    let ours = relocate_object(targets, &obj);
    let libbpf_failed = prepared
        .log
        .lines()
        .find(|l| l.contains("failed to relocate"))
        .map(str::to_owned);
    let ours = match (ours, libbpf_failed) {
        (Ok(r), None) => r,
        (Err(e), Some(line)) => {
            // Both fail: at the same relocation.
            let want = format!("relo #{}: failed to relocate", e.record);
            assert!(
                line.contains(&want),
                "{label}: we fail with\n{e}\nlibbpf: {line}"
            );
            eprintln!("{label}: both fail:\n{e}\nlibbpf: {line}");
            return Comparison {
                failed: Some(e.to_string()),
                ..Comparison::default()
            };
        }
        (Ok(_), Some(line)) => panic!("{label}: libbpf fails, we do not: {line}\n{}", prepared.log),
        (Err(e), None) => panic!("{label}: we fail, libbpf does not:\n{e}\n{}", prepared.log),
    };
    assert_eq!(prepared.err, 0, "{label}: prepare failed\n{}", prepared.log);
    let funcs = functions(&obj);
    let relocated: BTreeSet<(usize, usize)> =
        ours.outcomes.iter().map(|o| (o.section, o.insn)).collect();
    let code_of = |section: usize| -> Vec<u8> {
        match ours.section(section) {
            Some(s) => s.code.clone(),
            None => {
                let p = obj.program_by_index(section).unwrap();
                let at = p.file_offset() as usize;
                file[at..at + p.insns().len() * 8].to_vec()
            }
        }
    };
    let mut covered: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut ours_at = BTreeMap::new();
    for prog in &prepared.programs {
        let mut at_positions = Vec::new();
        // Our CO-RE-relocated instructions of `f`, placed from `at`.
        let mut take = |at: usize, f: &Func, code: &[u8]| {
            for k in 0..f.len {
                let index = f.start + k;
                if is_core(&relocated, f.section, code, index) {
                    let insn: [u8; 8] = code[index * 8..index * 8 + 8].try_into().unwrap();
                    at_positions.push((at + k, insn));
                }
            }
        };
        let main = funcs
            .iter()
            .find(|f| f.name == prog.name)
            .unwrap_or_else(|| panic!("{label}: no function {}", prog.name));
        let code = code_of(main.section);
        let d = diffs(&prog.insns, 0, &code, main, &relocated);
        assert!(
            d.is_empty(),
            "{label}: program {} differs at section insns {d:?}\nlibbpf: {}\nours:   {}",
            prog.name,
            d.first()
                .map_or(String::new(), |&i| hex(&prog.insns[i - main.start])),
            d.first()
                .map_or(String::new(), |&i| hex(&code[i * 8..i * 8 + 8])),
        );
        covered.extend((main.start..main.start + main.len).map(|i| (main.section, i)));
        take(0, main, &code);
        // Subprograms appended by libbpf: found through pseudo-calls.
        let mut starts = BTreeSet::new();
        for (i, insn) in prog.insns.iter().enumerate() {
            if insn[0] == CALL && insn[1] >> 4 == 1 {
                let imm = i32::from_le_bytes(insn[4..8].try_into().unwrap());
                let to = (i as i64 + 1 + i64::from(imm)) as usize;
                if to >= main.len {
                    starts.insert(to);
                }
            }
        }
        for at in starts {
            let best = funcs
                .iter()
                .map(|f| {
                    (
                        diffs(&prog.insns, at, &code_of(f.section), f, &relocated),
                        f,
                    )
                })
                .min_by_key(|(d, _)| d.len())
                .unwrap();
            assert!(
                best.0.is_empty(),
                "{label}: program {}: the subprogram at {at} (closest: {}) differs at {:?}",
                prog.name,
                best.1.name,
                best.0
            );
            let f = best.1;
            covered.extend((f.start..f.start + f.len).map(|i| (f.section, i)));
            take(at, f, &code_of(f.section));
        }
        ours_at.insert(prog.name.clone(), at_positions);
    }
    let mut patches = BTreeMap::new();
    for o in &ours.outcomes {
        assert!(
            covered.contains(&(o.section, o.insn)),
            "{label}: relocated insn {} of section {} is in no program libbpf prepared",
            o.insn,
            o.section
        );
        let key = match o.patched {
            Patched::Imm { .. } => "imm",
            Patched::Offset { size: None, .. } => "offset",
            Patched::Offset { size: Some(_), .. } => "offset+size",
            Patched::Imm64 { .. } => "imm64",
            Patched::Poisoned { mem_size: true, .. } => "poisoned (mem size)",
            Patched::Poisoned { .. } => "poisoned",
        };
        *patches.entry(format!("{} {key}", o.relo.kind)).or_default() += 1;
    }
    // Where each engine found its candidates, by target name: ours, the
    // target of each relocation's matching candidate; libbpf's, from its
    // log ("found target candidate [id] struct x in [bpf_testmod]").
    let mut matched_in = BTreeMap::new();
    for o in &ours.outcomes {
        if let Some(c) = &o.resolution.target {
            let name = match (c.target as usize).checked_sub(1) {
                None => targets.vmlinux().name(),
                Some(i) => targets.modules()[i].name(),
            };
            *matched_in.entry(name.to_owned()).or_default() += 1;
        }
    }
    let mut libbpf_candidates_in = BTreeMap::new();
    for l in prepared.log.lines() {
        if l.contains("found target candidate")
            && let Some(name) = l.rsplit(" in [").next().and_then(|r| r.strip_suffix(']'))
        {
            *libbpf_candidates_in.entry(name.to_owned()).or_default() += 1;
        }
    }
    Comparison {
        compared: relocated.len(),
        relos: ours.outcomes.len(),
        patches,
        failed: None,
        ours: ours_at,
        matched_in,
        libbpf_candidates_in,
    }
}
