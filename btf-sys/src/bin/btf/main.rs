//! `btf`: the running kernel's BTF at a glance.
//!
//! - `btf` (or `btf summary`): vmlinux and every module found (by id, or
//!   through sysfs when unprivileged), types per kind, bytes, time taken.
//! - `btf list`: BTF objects, one per line, as `bpftool btf list` prints
//!   them (`[name]` marks kernel BTF).
//! - `btf find NAME`: which object (vmlinux or a module) defines a type.
//! - `btf dump SOURCE [--base FILE] [--format raw|c]`: every type of a blob,
//!   byte for byte as `bpftool btf dump … format raw` (or `format c`, a
//!   vmlinux.h) prints them. SOURCE is
//!   a raw BTF file, an ELF file (vmlinux, a module, a BPF object; gzip, zstd
//!   or xz compressed too), `/sys/kernel/btf/<module>` (on the kernel's
//!   vmlinux unless `--base` says otherwise) or `id:N` (a kernel BTF object).
//!
//! - `btf reloc OBJ.o [--btf FILE [--module FILE]...]`: every CO-RE
//!   relocation of a BPF object resolved against a kernel's BTF (the
//!   running kernel's by default), as libbpf resolves it.
//! - `btf diff OLD NEW [--base-old F] [--base-new F]`: what changed
//!   between two blobs' named types, matched by kind and name (`--format
//!   json`, `--type NAME`, `--layout-only`).
//! - `btf validate FILE [--base FILE] [--kernel PROFILE] [--all]`: whether
//!   the kernel would load the blob with `BPF_BTF_LOAD`, and why not.
//! - `btf min OBJ.o... [--btf FILE [--base FILE]] -o OUT [--split BASE_OUT]`:
//!   the minimal BTF the objects' CO-RE relocations need
//!   (`bpftool gen min_core_btf`), for vmlinux or a module split on it.
//!
//! Errors are one line on stderr and exit status 1.

#![forbid(unsafe_code)]

mod check;
mod diff;
mod dump;
mod elf;
mod min;
mod reloc;
mod source;
mod validate;

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use btf_core::{Btf, Kind};
use btf_sys::{Discovery, KernelBtf, Linux, LoadOptions, Owner};
use clap::{Parser, Subcommand};

/// The running kernel's BTF: summary, object list, type lookup, dumps.
#[derive(Parser)]
#[command(name = "btf", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Summarise vmlinux and module BTF (the default)
    Summary {
        /// Read modules from /sys/kernel/btf even when privileged
        #[arg(long)]
        sysfs: bool,
        /// List every module (by default, the five largest)
        #[arg(long)]
        modules: bool,
    },
    /// List BTF objects like `bpftool btf list` (needs CAP_SYS_ADMIN)
    List,
    /// Tell which object (vmlinux or a module) defines a type
    Find {
        /// The type's name
        name: String,
        /// Read modules from /sys/kernel/btf even when privileged
        #[arg(long)]
        sysfs: bool,
    },
    /// Print every type of a blob as `bpftool btf dump … format raw|c` does
    Dump {
        /// A raw BTF or ELF file (gzip/zstd/xz too), /sys/kernel/btf/<name>,
        /// or id:N for a kernel BTF object
        source: String,
        /// The base of split BTF (raw BTF or ELF); modules from
        /// /sys/kernel/btf or by id default to /sys/kernel/btf/vmlinux
        #[arg(long, short = 'B', value_name = "FILE")]
        base: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = dump::Format::Raw)]
        format: dump::Format,
        /// Stop with an error past this many bytes of output (K, M, G
        /// suffixes; "unlimited"). Default: 64M + 16 bytes per byte of
        /// BTF, far above any real kernel's dump; a crafted blob of a few
        /// hundred bytes can otherwise expand to gigabytes
        #[arg(long, value_name = "BYTES", value_parser = dump::parse_max_output)]
        max_output: Option<dump::MaxOutput>,
    },
    /// Resolve a BPF object's CO-RE relocations against a kernel's BTF, as
    /// libbpf does when it loads the object
    Reloc {
        /// A BPF object (clang -target bpf)
        object: PathBuf,
        /// The kernel's vmlinux BTF (raw or ELF); default: the running
        /// kernel, with its modules
        #[arg(long, value_name = "FILE")]
        btf: Option<PathBuf>,
        /// A module's BTF, split on --btf; repeat for more
        #[arg(long, value_name = "FILE")]
        module: Vec<PathBuf>,
        /// Search the modules for every type, not only when vmlinux has no
        /// candidate (libbpf's rule)
        #[arg(long)]
        all_modules: bool,
        /// Exit 1 when an instruction is poisoned (a field or type the
        /// kernel lacks, reached unless a guard keeps it from running)
        #[arg(long)]
        strict: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t = reloc::Format::Text)]
        format: reloc::Format,
    },
    /// Whether a BPF object's CO-RE relocations resolve on each of many
    /// kernels (files, directories, BTFHub tar archives): a matrix
    Check(check::Args),
    /// What changed between two blobs' named types (two kernels, two
    /// builds of a module): sizes, members, enum values, prototypes
    Diff {
        /// The old blob: a raw BTF or ELF file (compressed too),
        /// /sys/kernel/btf/<name>, or id:N
        old: String,
        /// The new blob, likewise
        new: String,
        /// The base of OLD, when it is split BTF
        #[arg(long, value_name = "FILE")]
        base_old: Option<PathBuf>,
        /// The base of NEW, when it is split BTF
        #[arg(long, value_name = "FILE")]
        base_new: Option<PathBuf>,
        /// Only this type (`struct sk_buff`, or a name) and the named types
        /// it holds by value (members, arrays, typedefs; not pointees);
        /// repeat for more
        #[arg(long = "type", value_name = "NAME")]
        types: Vec<String>,
        /// Only layout: struct and union sizes and member offsets, sizes
        /// and presence
        #[arg(long)]
        layout_only: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t = diff::Format::Text)]
        format: diff::Format,
    },
    /// Write the minimal BTF that BPF objects' CO-RE relocations need, as
    /// `bpftool gen min_core_btf` does (for libbpf's btf_custom_path)
    Min {
        /// BPF objects (clang -target bpf)
        #[arg(required = true)]
        objects: Vec<PathBuf>,
        /// The kernel's BTF (raw or ELF): vmlinux, or a module's split BTF
        /// with --base; default: the running kernel's vmlinux
        #[arg(long, value_name = "FILE")]
        btf: Option<PathBuf>,
        /// The vmlinux --btf is split on (then relocations resolve as on a
        /// kernel with that module loaded: vmlinux first)
        #[arg(long, value_name = "FILE")]
        base: Option<PathBuf>,
        /// Where to write the minimal BTF (one standalone blob, or with
        /// --split the module's minimal split)
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        out: PathBuf,
        /// With --base: write a minimal base here and, to OUT, a minimal
        /// split on it, instead of one standalone blob
        #[arg(long, value_name = "BASE_OUT")]
        split: Option<PathBuf>,
    },
    /// Tell whether the kernel would load a blob (BPF_BTF_LOAD), and why not
    Validate {
        /// A raw BTF or ELF file (gzip/zstd/xz too), /sys/kernel/btf/<name>,
        /// or id:N
        file: String,
        /// The base of split BTF (raw BTF or ELF)
        #[arg(long, short = 'B', value_name = "FILE")]
        base: Option<PathBuf>,
        /// The kernel's rules: running (default), newest, or a release
        /// (6.18); prefix kernel: for the kernel's own BTF (no resolve pass)
        #[arg(long, value_name = "PROFILE")]
        kernel: Option<String>,
        /// List every reason, not only the kernel's first
        #[arg(long)]
        all: bool,
    },
}

/// A failure of the tool: one line for stderr.
enum Failure {
    Btf(btf_sys::Error),
    Io(io::Error),
    Message(String),
}

impl From<btf_sys::Error> for Failure {
    fn from(error: btf_sys::Error) -> Failure {
        Failure::Btf(error)
    }
}

impl From<io::Error> for Failure {
    fn from(error: io::Error) -> Failure {
        Failure::Io(error)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Cmd::Summary {
        sysfs: false,
        modules: false,
    }) {
        Cmd::Summary { sysfs, modules } => buffered(|out| summary(out, sysfs, modules)),
        Cmd::List => buffered(list),
        Cmd::Find { name, sysfs } => buffered(|out| find(out, &name, sysfs)),
        Cmd::Reloc {
            object,
            btf,
            module,
            all_modules,
            strict,
            format,
        } => reloc::run(&reloc::Args {
            object: &object,
            btf: btf.as_deref(),
            modules: &module,
            all_modules,
            strict,
            format,
        }),
        Cmd::Check(args) => return check::main(&args),
        Cmd::Diff {
            old,
            new,
            base_old,
            base_new,
            types,
            layout_only,
            format,
        } => {
            let opts = btf_core::diff::DiffOptions::default()
                .types(types)
                .layout_only(layout_only);
            diff::run(
                (&old, base_old.as_deref()),
                (&new, base_new.as_deref()),
                &opts,
                format,
            )
        }
        Cmd::Dump {
            source,
            base,
            format,
            max_output,
        } => dump::run(
            &source,
            base.as_deref(),
            format,
            max_output.unwrap_or(dump::MaxOutput::Default),
        ),
        Cmd::Validate {
            file,
            base,
            kernel,
            all,
        } => validate::run(&file, base.as_deref(), kernel.as_deref(), all),
        Cmd::Min {
            objects,
            btf,
            base,
            out,
            split,
        } => min::run(&min::Args {
            objects: &objects,
            btf: btf.as_deref(),
            base: base.as_deref(),
            out: &out,
            split: split.as_deref(),
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `btf list | head`: the reader left, nothing is wrong.
        Err(Failure::Io(error)) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(failure) => {
            let text = match failure {
                Failure::Btf(error) => error.to_string(),
                Failure::Io(error) => error.to_string(),
                Failure::Message(text) => text,
            };
            eprintln!("btf: {text}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a report that writes through a buffer on the locked stdout.
fn buffered(
    report: impl FnOnce(&mut BufWriter<io::StdoutLock<'static>>) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut out = BufWriter::new(io::stdout().lock());
    report(&mut out)?;
    out.flush().map_err(Failure::Io)
}

fn load(sysfs: bool) -> Result<(KernelBtf, Duration), Failure> {
    let discovery = if sysfs {
        Discovery::Sysfs
    } else {
        Discovery::Auto
    };
    let start = Instant::now();
    let set = KernelBtf::load_with(&Linux, LoadOptions::new().discovery(discovery))?;
    let elapsed = start.elapsed();
    for failure in set.failures() {
        // The error names the id when it has one; the module's name is
        // known only to the failure.
        match &failure.name {
            Some(name) => eprintln!("btf: warning: skipped {name}: {}", failure.error),
            None => eprintln!("btf: warning: skipped: {}", failure.error),
        }
    }
    Ok((set, elapsed))
}

/// Adds one count per type of `btf` (its own types only) to `per_kind`.
fn count_kinds(btf: &Btf<'_>, per_kind: &mut [u64; 256]) {
    for ty in btf.types() {
        if let Some(slot) = per_kind.get_mut(usize::from(ty.kind().get())) {
            *slot = slot.saturating_add(1);
        }
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `bytes` for a person: `812 B`, `27.4 KiB`, `5.2 MiB`.
fn human_bytes(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    // Display only: precision beyond f64's 53 bits does not matter here.
    #[allow(clippy::cast_precision_loss)]
    let value = bytes as f64;
    if value < KIB {
        format!("{bytes} B")
    } else if value < KIB * KIB {
        format!("{:.1} KiB", value / KIB)
    } else if value < KIB * KIB * KIB {
        format!("{:.1} MiB", value / (KIB * KIB))
    } else {
        format!("{:.1} GiB", value / (KIB * KIB * KIB))
    }
}

/// `n` with thousands separated: `125,872`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Why a set has no module BTF, from what `/proc/modules` and
/// `/sys/kernel/btf` show.
fn why_no_modules(set: &KernelBtf) -> String {
    if !set.failures().is_empty() {
        return format!(
            "every module failed to load ({} failures, on stderr)",
            set.failures().len()
        );
    }
    let loaded = match std::fs::read_to_string("/proc/modules") {
        Ok(text) => text.lines().count(),
        Err(_) => return "this kernel has no loadable modules (no /proc/modules)".to_owned(),
    };
    if loaded == 0 {
        return "no module is loaded (/proc/modules is empty)".to_owned();
    }
    let in_sysfs = std::fs::read_dir(source::SYSFS_DIR).map(|dir| {
        dir.filter_map(Result::ok)
            .filter(|entry| entry.file_name() != "vmlinux")
            .count()
    });
    match in_sysfs {
        Ok(0) => format!(
            "{loaded} modules are loaded but none carries BTF (a kernel built \
             without CONFIG_DEBUG_INFO_BTF_MODULES, or modules built without BTF)"
        ),
        Ok(n) => format!(
            "{n} module BTF files are in {} but none could be read (permissions?)",
            source::SYSFS_DIR
        ),
        Err(error) => format!("{}: {error}", source::SYSFS_DIR),
    }
}

/// The kernel release, as `uname -r` prints it.
fn kernel_release() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    Some(text.trim().to_owned())
}

fn summary(out: &mut impl Write, sysfs: bool, every_module: bool) -> Result<(), Failure> {
    let (set, load_time) = load(sysfs)?;
    let vmlinux = set.vmlinux();
    let mut per_kind = [0u64; 256];
    count_kinds(&vmlinux, &mut per_kind);

    // Each module's own types: (name, id, bytes, types).
    let mut modules = Vec::with_capacity(set.modules().len());
    for module in set.modules() {
        let btf = module.btf();
        count_kinds(&btf, &mut per_kind);
        modules.push((module, module.bytes().len() as u64, btf.type_count()));
    }

    let release = kernel_release().map_or_else(String::new, |r| format!("Linux {r}: "));
    let how = match set.discovery() {
        Discovery::ById => "modules found by btf id (bpf(2), as root)",
        _ => "modules read from /sys/kernel/btf (bpf(2) by id needs CAP_SYS_ADMIN)",
    };
    writeln!(
        out,
        "{release}the running kernel's BTF, {how}; loaded in {:.1} ms",
        millis(load_time)
    )?;
    writeln!(out)?;

    let vmlinux_bytes = set.vmlinux_bytes().len() as u64;
    let id = set
        .vmlinux_id()
        .map_or_else(String::new, |id| format!("btf id {id}, "));
    let how = if set.vmlinux_bytes().is_mapped() {
        "mapped from"
    } else {
        "read from"
    };
    writeln!(
        out,
        "  vmlinux  {:>10}  {:>9} types  {id}{how} {}",
        human_bytes(vmlinux_bytes),
        grouped(u64::from(vmlinux.type_count())),
        source::SYSFS_VMLINUX
    )?;
    if modules.is_empty() {
        writeln!(out, "  modules  none: {}", why_no_modules(&set))?;
    } else {
        let bytes: u64 = modules.iter().map(|(_, bytes, _)| bytes).sum();
        let types: u64 = modules.iter().map(|&(_, _, types)| u64::from(types)).sum();
        writeln!(
            out,
            "  modules  {:>10}  {:>9} types  in {} loaded modules, each split on vmlinux",
            human_bytes(bytes),
            grouped(types),
            modules.len()
        )?;
        let mut largest: Vec<_> = modules.iter().collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.name().cmp(b.0.name())));
        let shown = if every_module { largest.len() } else { 5 };
        for &&(module, bytes, types) in largest.iter().take(shown) {
            let id = module
                .id()
                .map_or_else(String::new, |id| format!("  (btf id {id})"));
            writeln!(
                out,
                "    {:<22} {:>10}  {:>9} types{id}",
                module.name(),
                human_bytes(bytes),
                grouped(u64::from(types))
            )?;
        }
        if largest.len() > shown {
            writeln!(
                out,
                "    … and {} more (`btf summary --modules` lists them all)",
                largest.len() - shown
            )?;
        }
    }
    if !set.failures().is_empty() {
        writeln!(
            out,
            "  failed   {} modules could not be read (reasons on stderr)",
            set.failures().len()
        )?;
    }

    writeln!(out)?;
    let mut kinds: Vec<(u8, u64)> = (0..=u8::MAX)
        .zip(per_kind.iter().copied())
        .filter(|&(_, count)| count > 0)
        .collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    writeln!(out, "  types per kind, all objects:")?;
    for row in kinds.chunks(4) {
        let cells: Vec<String> = row
            .iter()
            .map(|&(kind, count)| {
                format!("{:<11}{:>8}", Kind::new(kind).to_string(), grouped(count))
            })
            .collect();
        writeln!(out, "    {}", cells.join("   "))?;
    }

    writeln!(out)?;
    writeln!(out, "next:")?;
    // Run through the `cargo btf` alias, the tool is not on PATH: say so.
    let tool = if std::env::var_os("CARGO_PKG_NAME").is_some_and(|name| name == "btf-sys") {
        "cargo btf"
    } else {
        "btf"
    };
    let example = modules
        .first()
        .map_or("<module>", |(module, _, _)| module.name());
    let module = format!("dump /sys/kernel/btf/{example}");
    for (command, what) in [
        (
            "find task_struct",
            "which object defines a type, and its id",
        ),
        (
            "dump /sys/kernel/btf/vmlinux",
            "every type, as bpftool's format raw",
        ),
        (
            "dump /sys/kernel/btf/vmlinux --format c",
            "C declarations: a vmlinux.h",
        ),
        (module.as_str(), "a module's own types, split on vmlinux"),
        (
            "list",
            "every BTF object by id, as bpftool lists them (root)",
        ),
        (
            "reloc PROG.bpf.o",
            "a BPF object's CO-RE relocations against this kernel",
        ),
        (
            "diff OLD.btf /sys/kernel/btf/vmlinux",
            "what changed between two kernels' types",
        ),
        (
            "validate FILE.btf",
            "whether this kernel would load it, and why not",
        ),
        (
            "min PROG.bpf.o -o PROG.min.btf",
            "the little BTF its CO-RE relocations need",
        ),
    ] {
        writeln!(out, "  {:<50} {what}", format!("{tool} {command}"))?;
    }
    Ok(())
}

fn list(out: &mut impl Write) -> Result<(), Failure> {
    for item in btf_sys::open_btfs(&Linux) {
        let (_, fd) = item?;
        let info = btf_sys::btf_info(&Linux, &fd)?;
        let name = if info.kernel_btf {
            format!("[{}]", info.name)
        } else if info.name.is_empty() {
            "<anon>".to_owned()
        } else {
            info.name
        };
        writeln!(out, "{}: name {name}  size {}B", info.id, info.size)?;
    }
    Ok(())
}

fn find(out: &mut impl Write, name: &str, sysfs: bool) -> Result<(), Failure> {
    let (set, _) = load(sysfs)?;
    let mut found = false;
    for hit in set.find_types(name) {
        found = true;
        let owner = match hit.owner {
            Owner::Vmlinux => "vmlinux".to_owned(),
            Owner::Module(module) => match module.id() {
                Some(id) => format!("module {} (btf id {id})", module.name()),
                None => format!("module {}", module.name()),
            },
        };
        writeln!(out, "[{}] {} '{name}' in {owner}", hit.id, hit.kind)?;
    }
    if found {
        Ok(())
    } else {
        Err(Failure::Message(format!(
            "no type named '{name}' in vmlinux or any module"
        )))
    }
}
