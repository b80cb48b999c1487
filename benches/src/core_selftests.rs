//! The kernel's own CO-RE selftests, run as libbpf's
//! `prog_tests/core_reloc.c` runs them, on our relocations.
//!
//! The sources come from Debian's `linux-source-6.12` package
//! (`scripts/fetch-kselftests.sh`, cached under `target/kselftests`):
//! `progs/test_core_reloc_*.c` are the programs, `progs/btf__core_reloc_*.c`
//! compiled are their target BTFs, and the table `test_cases[]` of
//! `prog_tests/core_reloc.c` says, for each case, which program meets
//! which target, what it reads (`input`) and what it must write (`output`)
//! or that it must fail to load (`fails`).
//!
//! - [`selftests_dir`] finds (or fetches) the sources.
//! - [`ObjectCache`] compiles them with clang-19 once: an object is reused
//!   while the contents of its source and of every header it included
//!   (clang's `-MD` list), clang's version and the command stay the same.
//! - [`table`] reads the table by compiling it: the table's own text and
//!   macros, cut out of `prog_tests/core_reloc.c`, with the selftests'
//!   `core_reloc_types.h`, into a host program that prints every case
//!   (so each expected output is the bytes the C compiler lays out, as
//!   the selftest's `memcmp` sees them).
//! - [`run_case`] relocates a case's program against its target with our
//!   engine and with libbpf and requires the same instructions
//!   ([`compare_full`]), then loads the program libbpf prepared with our
//!   CO-RE-relocated instructions written over it, attaches it, fires it
//!   with a syscall and reads what it wrote, as the selftest does.
//! - [`type_id_output`] computes the expected output of the two `type_id`
//!   cases, whose table entries leave it to setup functions (ported).

use crate::core_objects::{Comparison, Kselftests, compare_full, compare_targets};
use crate::ffi;
use btf_core::reloc::Targets;
use btf_core::{Btf, TypeId, TypeKind};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root directory.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The selftests' directory (`tools/testing/selftests/bpf`): the one
/// `BTF_KSELFTESTS` names, else the one `scripts/fetch-kselftests.sh`
/// fetches into `target/kselftests` (once; later runs find it there).
///
/// # Errors
///
/// Why the script failed (no apt, no network), with its output.
pub fn selftests_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("BTF_KSELFTESTS") {
        return Ok(PathBuf::from(dir));
    }
    let script = repo_root().join("scripts/fetch-kselftests.sh");
    let out = Command::new(&script)
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    match stdout.lines().last() {
        Some(dir) if out.status.success() => Ok(PathBuf::from(dir)),
        _ => Err(format!(
            "scripts/fetch-kselftests.sh failed ({}): {}",
            out.status,
            stderr.trim()
        )),
    }
}

/// The cache of compiled selftest objects: `target/kselftests/build`.
pub fn cache_dir() -> PathBuf {
    repo_root().join("target/kselftests/build")
}

/// Compiled selftest objects, reused while nothing they were built from
/// changed (see the module's docs).
pub struct ObjectCache<'k> {
    ks: &'k Kselftests,
    dir: PathBuf,
    clang: String,
}

/// A content hash: std's SipHash with fixed keys. It may differ between
/// Rust releases, which only costs a rebuild.
fn hash_of(parts: &[&[u8]]) -> String {
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

impl<'k> ObjectCache<'k> {
    /// A cache in `dir` for objects built by `ks`.
    ///
    /// # Errors
    ///
    /// When `dir` cannot be created or clang-19 does not run.
    pub fn new(ks: &'k Kselftests, dir: &Path) -> Result<ObjectCache<'k>, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let version = Command::new("clang-19")
            .arg("--version")
            .output()
            .map_err(|e| format!("clang-19: {e}"))?;
        Ok(ObjectCache {
            ks,
            dir: dir.to_path_buf(),
            clang: String::from_utf8_lossy(&version.stdout).into_owned(),
        })
    }

    /// The key of an object whose build command is `cmd` and whose
    /// dependency list (clang's `-MD` output) is `deps`: `None` when a
    /// listed file cannot be read.
    fn key(&self, cmd: &Command, deps: &str) -> Option<String> {
        let mut parts: Vec<Vec<u8>> = vec![self.clang.clone().into_bytes()];
        // The command without its output paths (they are temporary names).
        parts.extend(
            cmd.get_args()
                .map(|a| a.as_encoded_bytes().to_vec())
                .filter(|a| !a.ends_with(b".tmp")),
        );
        for dep in deps
            .split_whitespace()
            .filter(|w| *w != "\\" && !w.ends_with(':'))
        {
            parts.push(dep.as_bytes().to_vec());
            parts.push(std::fs::read(dep).ok()?);
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        Some(hash_of(&refs))
    }

    /// The object of `progs/<source>`: from the cache when it is current,
    /// else compiled now. Returns its path and whether it was compiled.
    ///
    /// # Errors
    ///
    /// clang-19's complaint, or a file that cannot be written.
    pub fn build(&self, source: &str) -> Result<(PathBuf, bool), String> {
        let stem = source.trim_end_matches(".c");
        let (obj, deps, key) = (
            self.dir.join(format!("{stem}.o")),
            self.dir.join(format!("{stem}.d")),
            self.dir.join(format!("{stem}.key")),
        );
        let src = self.ks.progs().join(source);
        let (obj_tmp, deps_tmp) = (
            self.dir.join(format!("{stem}.o.tmp")),
            self.dir.join(format!("{stem}.d.tmp")),
        );
        let mut cmd = self.ks.command(&src, &obj_tmp);
        cmd.arg("-MD").arg("-MF").arg(&deps_tmp);
        if obj.is_file()
            && let (Ok(d), Ok(k)) = (
                std::fs::read_to_string(&deps),
                std::fs::read_to_string(&key),
            )
            && self.key(&cmd, &d).as_deref() == Some(k.trim())
        {
            return Ok((obj, false));
        }
        let out = cmd
            .output()
            .map_err(|e| format!("clang-19 {source}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "clang-19 {source}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let d = std::fs::read_to_string(&deps_tmp).map_err(|e| format!("{stem}.d: {e}"))?;
        let k = self
            .key(&cmd, &d)
            .ok_or_else(|| format!("{stem}: a header clang listed cannot be read"))?;
        let io = |e: std::io::Error| format!("{}: {e}", self.dir.display());
        std::fs::rename(&obj_tmp, &obj).map_err(io)?;
        std::fs::rename(&deps_tmp, &deps).map_err(io)?;
        std::fs::write(&key, k).map_err(io)?;
        Ok((obj, true))
    }

    /// [`build`](Self::build) for each source, on as many threads as the
    /// machine has cores. Returns each source's object and how many were
    /// compiled (the others came from the cache).
    ///
    /// # Errors
    ///
    /// The first failure.
    pub fn build_all(
        &self,
        sources: &[String],
    ) -> Result<(BTreeMap<String, PathBuf>, usize), String> {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(source) = sources.get(i) else { break };
                        let r = self.build(source);
                        results
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((source.clone(), r));
                    }
                });
            }
        });
        let mut out = BTreeMap::new();
        let mut compiled = 0;
        for (source, r) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
            let (path, fresh) = r?;
            compiled += usize::from(fresh);
            out.insert(source, path);
        }
        Ok((out, compiled))
    }
}

/// What a case's table entry leaves to a setup function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setup {
    /// No setup: the entry's `output` is the expectation.
    None,
    /// `setup_type_id_case_success`: local and target type ids.
    TypeIdSuccess,
    /// `setup_type_id_case_failure`: local type ids, target ids 0.
    TypeIdFailure,
}

/// One entry of `test_cases[]` in `prog_tests/core_reloc.c`.
#[derive(Clone, Debug)]
pub struct Case {
    /// `case_name`.
    pub name: String,
    /// The program's source in `progs/` (from `bpf_obj_file`).
    pub object: String,
    /// The target BTF's source in `progs/` (from `btf_src_file`); `None`
    /// for the running kernel's BTF (or its modules').
    pub target: Option<String>,
    /// `prog_name`.
    pub prog: String,
    /// `raw_tp_name`: the raw tracepoint to attach to; `None` when the
    /// program's section says where (`tp_btf/…`).
    pub raw_tp: Option<String>,
    /// `fails`: loading must fail.
    pub fails: bool,
    /// `run_btfgen_fails`: `bpftool gen min_core_btf` cannot make a
    /// minimal target for this case (the btfgen variant skips it).
    pub btfgen_fails: bool,
    /// `needs_testmod`: the types live in the selftests' `bpf_testmod`.
    pub needs_testmod: bool,
    /// `relaxed_core_relocs`.
    pub relaxed: bool,
    /// The setup function, if any.
    pub setup: Setup,
    /// `input`: written at the start of the program's `data.in`.
    pub input: Vec<u8>,
    /// `output`: what the program must write to `data.out` (for the
    /// setup cases, zeros the setup fills in).
    pub output: Vec<u8>,
}

/// The table, as [`table`] read it.
#[derive(Clone, Debug)]
pub struct Table {
    /// Every case, in the table's order.
    pub cases: Vec<Case>,
    /// `struct core_reloc_type_id_output`'s fields: name and byte offset.
    pub type_id_fields: BTreeMap<String, usize>,
}

/// The host program that prints the table: the macros and
/// `struct core_reloc_test_case` (from `#define STRUCT_TO_CHAR_PTR` up to
/// the first function), stand-ins for the three functions the table
/// names, the table itself, and a `main` that prints one line per case.
fn table_program(core_reloc_c: &str) -> Result<String, String> {
    let lines: Vec<&str> = core_reloc_c.lines().collect();
    let find = |from: usize, what: &dyn Fn(&str) -> bool, name: &str| {
        lines
            .iter()
            .skip(from)
            .position(|l| what(l))
            .map(|i| i + from)
            .ok_or(format!("prog_tests/core_reloc.c has no {name}"))
    };
    let macros = find(
        0,
        &|l| l.starts_with("#define STRUCT_TO_CHAR_PTR"),
        "STRUCT_TO_CHAR_PTR",
    )?;
    let funcs = find(
        macros,
        &|l| l.starts_with("static int find_btf_type"),
        "find_btf_type",
    )?;
    let table = find(
        funcs,
        &|l| l.starts_with("static const struct core_reloc_test_case test_cases[]"),
        "test_cases[]",
    )?;
    let end = find(table, &|l| l.starts_with("};"), "end of test_cases[]")?;
    let mut c = String::from(
        "#define _GNU_SOURCE\n\
         #include <sys/types.h>\n\
         #include <stdbool.h>\n\
         #include <stddef.h>\n\
         #include <stdint.h>\n\
         #include <stdio.h>\n\
         #include <linux/types.h>\n\
         #include \"progs/core_reloc_types.h\"\n\
         #include \"bpf_testmod/bpf_testmod.h\"\n",
    );
    for l in &lines[macros..funcs] {
        c.push_str(l);
        c.push('\n');
    }
    c.push_str(
        "static int setup_type_id_case_success(struct core_reloc_test_case *t) { (void)t; return 0; }\n\
         static int setup_type_id_case_failure(struct core_reloc_test_case *t) { (void)t; return 0; }\n\
         static int __trigger_module_test_read(const struct core_reloc_test_case *t) { (void)t; return 0; }\n",
    );
    for l in &lines[table..=end] {
        c.push_str(l);
        c.push('\n');
    }
    c.push_str(
        r#"
static void hex(const char *p, int n)
{
	putchar('\t');
	if (!p || n <= 0) { putchar('-'); return; }
	for (int i = 0; i < n; i++)
		printf("%02x", (unsigned char)p[i]);
}
#define FIELD(f) printf("field\t%s\t%zu\n", #f, offsetof(struct core_reloc_type_id_output, f))
int main(void)
{
	for (size_t i = 0; i < sizeof(test_cases) / sizeof(test_cases[0]); i++) {
		const struct core_reloc_test_case *t = &test_cases[i];
		printf("case\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s", t->case_name,
		       t->bpf_obj_file, t->btf_src_file ? t->btf_src_file : "-",
		       t->prog_name, t->raw_tp_name ? t->raw_tp_name : "-",
		       t->fails, t->run_btfgen_fails, t->needs_testmod, t->relaxed_core_relocs,
		       !t->setup ? "-" : t->setup == setup_type_id_case_success ? "success"
		       : t->setup == setup_type_id_case_failure ? "failure" : "?");
		hex(t->input, t->input_len);
		hex(t->output, t->output_len);
		putchar('\n');
	}
	FIELD(local_anon_struct); FIELD(local_anon_union); FIELD(local_anon_enum);
	FIELD(local_anon_func_proto_ptr); FIELD(local_anon_void_ptr); FIELD(local_anon_arr);
	FIELD(local_struct); FIELD(local_union); FIELD(local_enum); FIELD(local_int);
	FIELD(local_struct_typedef); FIELD(local_func_proto_typedef); FIELD(local_arr_typedef);
	FIELD(targ_struct); FIELD(targ_union); FIELD(targ_enum); FIELD(targ_int);
	FIELD(targ_struct_typedef); FIELD(targ_func_proto_typedef); FIELD(targ_arr_typedef);
	return 0;
}
"#,
    );
    Ok(c)
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s == "-" {
        return Ok(Vec::new());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or(format!("bad hex {s:?}"))
        })
        .collect()
}

/// `x.bpf.o` (the table's names for objects) → `x.c`.
fn source_of(object: &str) -> String {
    format!("{}.c", object.trim_end_matches(".bpf.o"))
}

/// Reads `test_cases[]` of the selftests' `prog_tests/core_reloc.c` by
/// compiling it, with the host's C compiler (`cc`), into a program under
/// `work` that prints it (see the module's docs).
///
/// # Errors
///
/// When the file is not there or has changed shape, or `cc` fails.
pub fn table(ks: &Kselftests, work: &Path) -> Result<Table, String> {
    let selftests = ks.selftests();
    let path = selftests.join("prog_tests/core_reloc.c");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let program = table_program(&text)?;
    let io = |e: std::io::Error| format!("{}: {e}", work.display());
    std::fs::create_dir_all(work).map_err(io)?;
    let (src, exe) = (
        work.join("core_reloc_table.c"),
        work.join("core_reloc_table"),
    );
    std::fs::write(&src, program).map_err(io)?;
    let tools_include = selftests.join("../../../include");
    let out = Command::new("cc")
        .args(["-w", "-O0", "-I"])
        .arg(selftests)
        .arg("-I")
        .arg(&tools_include)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .map_err(|e| format!("cc: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cc {}: {}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let out = Command::new(&exe)
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    let mut cases = Vec::new();
    let mut type_id_fields = BTreeMap::new();
    let opt = |s: &str| (s != "-").then(|| s.to_owned());
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            [
                "case",
                name,
                obj,
                btf,
                prog,
                tp,
                fails,
                btfgen,
                testmod,
                relaxed,
                setup,
                input,
                output,
            ] => cases.push(Case {
                name: (*name).to_owned(),
                object: source_of(obj),
                target: opt(btf).map(|b| source_of(&b)),
                prog: (*prog).to_owned(),
                raw_tp: opt(tp),
                fails: *fails == "1",
                btfgen_fails: *btfgen == "1",
                needs_testmod: *testmod == "1",
                relaxed: *relaxed == "1",
                setup: match *setup {
                    "-" => Setup::None,
                    "success" => Setup::TypeIdSuccess,
                    "failure" => Setup::TypeIdFailure,
                    other => {
                        return Err(format!("case {name}: an unknown setup function ({other})"));
                    }
                },
                input: unhex(input)?,
                output: unhex(output)?,
            }),
            ["field", name, offset] => {
                let offset = offset
                    .parse()
                    .map_err(|_| format!("bad offset in {line:?}"))?;
                type_id_fields.insert((*name).to_owned(), offset);
            }
            _ => return Err(format!("the table program printed {line:?}")),
        }
    }
    if cases.is_empty() {
        return Err("the table program printed no case".into());
    }
    Ok(Table {
        cases,
        type_id_fields,
    })
}

/// The `.BTF` of the ELF object at `path`, or the raw BTF file at `path`.
///
/// # Panics
///
/// When the file cannot be read or has no BTF.
pub fn read_btf_bytes(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if bytes.starts_with(b"\x7fELF") {
        let found = btf_core::elf::BtfSections::parse(&bytes)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        found.btf().to_vec()
    } else {
        bytes
    }
}

/// The expected output of a `type_id` case: what the table's setup
/// function (`setup_type_id_case_local` then `…_success` or `…_failure`)
/// writes, computed the same way from the program's BTF (`local`, an
/// object) and the target's (`target`, an object or raw BTF).
///
/// # Errors
///
/// A type the setup function looks up by name that is missing (the
/// selftest's `find_btf_type` check), or a field the output lacks.
pub fn type_id_output(
    table: &Table,
    case: &Case,
    local: &Path,
    target: &Path,
) -> Result<Vec<u8>, String> {
    let mut out = case.output.clone();
    let mut set = |field: &str, value: i32| -> Result<(), String> {
        let at = *table
            .type_id_fields
            .get(field)
            .ok_or(format!("no field {field}"))?;
        out.get_mut(at..at + 4)
            .ok_or(format!("field {field} past the output"))?
            .copy_from_slice(&value.to_le_bytes());
        Ok(())
    };
    let local_bytes = read_btf_bytes(local);
    let btf = Btf::parse(&local_bytes).map_err(|e| format!("{}: {e}", local.display()))?;
    for field in [
        "local_anon_struct",
        "local_anon_union",
        "local_anon_enum",
        "local_anon_func_proto_ptr",
        "local_anon_void_ptr",
        "local_anon_arr",
    ] {
        set(field, -1)?;
    }
    let name_is = |id: TypeId, want: &str| {
        btf.type_by_id(id)
            .is_ok_and(|t| matches!(t.as_kind(), TypeKind::Int(_)) && t.name().ok() == Some(want))
    };
    // The anonymous types, by the markers in their first member or
    // enumerator (later ids win, as in the C loop).
    for t in btf.types() {
        if t.name_offset().get() != 0 {
            continue;
        }
        let id = t.id().get() as i32;
        match t.as_kind() {
            TypeKind::Struct(s)
                if s.members()
                    .next()
                    .is_some_and(|m| m.name().ok() == Some("marker_field")) =>
            {
                set("local_anon_struct", id)?;
            }
            TypeKind::Union(s)
                if s.members()
                    .next()
                    .is_some_and(|m| m.name().ok() == Some("marker_field")) =>
            {
                set("local_anon_union", id)?;
            }
            TypeKind::Enum(e)
                if e.values()
                    .next()
                    .is_some_and(|v| v.name().ok() == Some("MARKER_ENUM_VAL")) =>
            {
                set("local_anon_enum", id)?;
            }
            TypeKind::Ptr(to) => match btf.type_by_id(to).map(|p| p.as_kind()) {
                Ok(TypeKind::FuncProto(f)) if name_is(f.return_type(), "_Bool") => {
                    set("local_anon_func_proto_ptr", id)?;
                }
                Ok(TypeKind::Void) => set("local_anon_void_ptr", id)?,
                _ => {}
            },
            TypeKind::Array(a) if name_is(a.elem, "_Bool") => set("local_anon_arr", id)?,
            _ => {}
        }
    }
    // The named ones, with libbpf's `btf__find_by_name_kind` as the
    // setup functions use it.
    let named = [
        ("struct", "a_struct", 4),
        ("union", "a_union", 5),
        ("enum", "an_enum", 6),
        ("int", "int", 1),
        ("struct_typedef", "named_struct_typedef", 8),
        ("func_proto_typedef", "func_proto_typedef", 8),
        ("arr_typedef", "arr_typedef", 8),
    ];
    let lookup = |path: &Path, side: &str| -> Result<Vec<(String, i32)>, String> {
        let btf = ffi::LibbpfBtf::parse_file(&path_cstring(path))
            .map_err(|e| format!("btf__parse({}): errno {e}", path.display()))?;
        named
            .iter()
            .map(|(field, name, kind)| {
                let cname = std::ffi::CString::new(*name).expect("no NUL");
                let id = btf.find_by_name_kind(&cname, *kind).ok_or(format!(
                    "find_btf_type: no {name} (kind {kind}) in {}",
                    path.display()
                ))?;
                Ok((format!("{side}_{field}"), id as i32))
            })
            .collect()
    };
    for (field, id) in lookup(local, "local")? {
        set(&field, id)?;
    }
    match case.setup {
        Setup::TypeIdSuccess => {
            for (field, id) in lookup(target, "targ")? {
                set(&field, id)?;
            }
        }
        Setup::TypeIdFailure => {
            for (field, ..) in named {
                set(&format!("targ_{field}"), 0)?;
            }
        }
        Setup::None => return Err(format!("case {} has no setup function", case.name)),
    }
    Ok(out)
}

fn path_cstring(p: &Path) -> std::ffi::CString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes()).expect("a path without NUL")
}

/// How a case ended. The selftest's `fails` is one of the first two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A relocation failed outright (both engines, at the same one): ours
    /// says why.
    RelocationFailed(String),
    /// The kernel's verifier reached a poisoned instruction (a relocation
    /// with no valid target): libbpf's account of it.
    Poisoned(String),
    /// The kernel refused the program for another reason: the end of the
    /// log.
    Rejected(String),
    /// It loaded and ran: the first `output.len()` bytes of `data.out`.
    Output(Vec<u8>),
}

/// What [`run_case`] found.
#[derive(Clone, Debug)]
pub struct CaseRun {
    /// Our relocations against libbpf's (equal, or it panicked).
    pub comparison: Comparison,
    /// How the case ended.
    pub outcome: Outcome,
}

/// Offsets in the programs' `data` (`.bss`): `char in[256]; char
/// out[256]; bool skip; uint64_t my_pid_tgid;` (the last two only in the
/// programs that check them).
const DATA_OUT: usize = 256;
const DATA_SKIP: usize = 512;
const DATA_PID_TGID: usize = 520;

/// Runs `case` with its program built at `object` and its target BTF at
/// `target` (an object, or raw BTF): relocates with both engines and
/// requires the same instructions ([`compare_full`]), then loads,
/// attaches and fires the program as the selftest does (see the module's
/// docs) and reads `output_len` bytes of what it wrote. Needs root.
///
/// # Panics
///
/// On any difference between the engines, when the engines disagree on
/// failing, when the program cannot be attached or skips itself
/// (`data.skip`).
pub fn run_case(
    label: &str,
    case: &Case,
    object: &Path,
    target: &Path,
    output_len: usize,
) -> CaseRun {
    run_case_on(label, case, object, CaseTarget::File(target), output_len)
}

/// What a case's program is relocated against and how it is fired.
#[derive(Clone, Copy, Debug)]
pub enum CaseTarget<'p> {
    /// The BTF at this path (an object's `.BTF`, or raw BTF), libbpf's
    /// `btf_custom_path`; the program is fired by a syscall.
    File(&'p Path),
    /// The running kernel as a loader meets it, for the `needs_testmod`
    /// cases: libbpf without `btf_custom_path` (vmlinux, then the loaded
    /// modules' BTF by id); ours against `/sys/kernel/btf/vmlinux` with
    /// every other `/sys/kernel/btf/<module>` split on it. The program is
    /// fired as the selftest's `trigger_module_test_read` does it: a read
    /// of this many bytes from `/sys/kernel/bpf_testmod` (the module's
    /// tracepoint `bpf_testmod_test_read` reports the read's length).
    RunningKernel {
        /// The read's length ([`testmod_read_len`]).
        read_len: usize,
    },
}

/// The read length a `needs_testmod` case's trigger uses: the `len`
/// its expected output starts with (`struct core_reloc_module_output`'s
/// first member, a `long long`), as `__trigger_module_test_read` takes it.
pub fn testmod_read_len(case: &Case) -> Option<usize> {
    let len = case.output.get(..8)?;
    usize::try_from(i64::from_le_bytes(len.try_into().ok()?)).ok()
}

/// The running kernel's BTF as [`CaseTarget::RunningKernel`] reads it:
/// `/sys/kernel/btf/vmlinux`, then each module's file (by name).
fn running_kernel_btf() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new("/sys/kernel/btf");
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut modules: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "vmlinux")
        .collect();
    modules.sort();
    let mut out = vec![("vmlinux".to_owned(), read(&dir.join("vmlinux")))];
    out.extend(modules.into_iter().map(|m| {
        let bytes = read(&dir.join(&m));
        (m, bytes)
    }));
    out
}

/// As [`run_case`], against `target` (see [`CaseTarget`]).
///
/// # Panics
///
/// As [`run_case`]; with [`CaseTarget::RunningKernel`], also when
/// `/sys/kernel/btf` cannot be read or `/sys/kernel/bpf_testmod` opened.
pub fn run_case_on(
    label: &str,
    case: &Case,
    object: &Path,
    target: CaseTarget<'_>,
    output_len: usize,
) -> CaseRun {
    let file = std::fs::read(object).unwrap_or_else(|e| panic!("{}: {e}", object.display()));
    let comparison = match target {
        CaseTarget::File(target) => {
            let target_bytes = read_btf_bytes(target);
            let target_btf =
                Btf::parse(&target_bytes).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
            compare_full(label, object, &file, target, &target_btf)
        }
        CaseTarget::RunningKernel { .. } => {
            let blobs = running_kernel_btf();
            let vmlinux = Btf::parse(&blobs[0].1).unwrap_or_else(|e| panic!("vmlinux: {e}"));
            let modules: Vec<(&str, Btf<'_>)> = blobs[1..]
                .iter()
                .map(|(name, bytes)| {
                    let btf = Btf::parse_split(bytes, &vmlinux)
                        .unwrap_or_else(|e| panic!("/sys/kernel/btf/{name}: {e}"));
                    (name.as_str(), btf)
                })
                .collect();
            let mut targets = Targets::named("vmlinux", &vmlinux);
            for (name, btf) in &modules {
                targets = targets.with_module(name, btf);
            }
            compare_targets(label, object, &file, None, &targets)
        }
    };
    let pid_tgid = ffi::current_pid_tgid().to_le_bytes();
    let ours = &comparison.ours;
    let mut patch = |name: &str, insns: &mut Vec<[u8; 8]>| {
        for (at, insn) in ours.get(name).map(Vec::as_slice).unwrap_or_default() {
            let slot = insns
                .get_mut(*at)
                .unwrap_or_else(|| panic!("{label}: {name} has no instruction {at} now"));
            *slot = *insn;
        }
    };
    let (libbpf_target, mut trigger): (_, Box<dyn FnMut() + '_>) = match target {
        CaseTarget::File(path) => (
            Some(path),
            Box::new(|| std::thread::sleep(std::time::Duration::from_micros(1))),
        ),
        CaseTarget::RunningKernel { read_len } => (
            None,
            Box::new(move || {
                use std::io::Read;
                let path = "/sys/kernel/bpf_testmod";
                let mut f =
                    std::fs::File::open(path).unwrap_or_else(|e| panic!("{label}: {path}: {e}"));
                // What it reads (or that the read fails) does not matter:
                // the module's tracepoint fires with the read's length.
                let _ = f.read(&mut vec![0; read_len]);
            }),
        ),
    };
    let run = ffi::libbpf_load_and_run_on(
        object,
        libbpf_target,
        &mut patch,
        &case.prog,
        case.raw_tp.as_deref(),
        &[(0, &case.input), (DATA_PID_TGID, &pid_tgid)],
        &mut trigger,
    )
    .unwrap_or_else(|(e, log)| panic!("{label}: open: errno {e}\n{log}"));
    let outcome = if let Some(why) = &comparison.failed {
        assert_ne!(
            run.prepare_err, 0,
            "{label}: libbpf prepared this time\n{}",
            run.log
        );
        Outcome::RelocationFailed(why.lines().next().unwrap_or_default().to_owned())
    } else if run.prepare_err != 0 {
        panic!(
            "{label}: prepare failed this time: errno {}\n{}",
            run.prepare_err, run.log
        );
    } else if run.load_err != 0 {
        // libbpf rewrites the verifier's complaint about a poisoned call
        // (`invalid func unknown#195896080`) into this line.
        match run
            .log
            .lines()
            .find(|l| l.contains("failed to resolve CO-RE relocation"))
        {
            Some(line) => Outcome::Poisoned(line.trim().to_owned()),
            None => {
                let end: Vec<&str> = run.log.lines().rev().take(6).collect();
                Outcome::Rejected(format!(
                    "errno {}: {}",
                    run.load_err,
                    end.into_iter().rev().collect::<Vec<_>>().join(" | ")
                ))
            }
        }
    } else {
        assert_eq!(run.attach_err, 0, "{label}: attach failed\n{}", run.log);
        let bss = run.bss.as_deref().unwrap_or_default();
        assert_ne!(
            bss.get(DATA_SKIP),
            Some(&1),
            "{label}: the program skipped itself"
        );
        let out = bss
            .get(DATA_OUT..DATA_OUT + output_len)
            .unwrap_or_else(|| panic!("{label}: .bss of {} bytes has no output", bss.len()));
        Outcome::Output(out.to_vec())
    };
    CaseRun {
        comparison,
        outcome,
    }
}
