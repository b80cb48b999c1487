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
//! Errors are one line on stderr and exit status 1.

#![forbid(unsafe_code)]

mod dump;
mod source;

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
    let result = match cli.command.unwrap_or(Cmd::Summary { sysfs: false }) {
        Cmd::Summary { sysfs } => buffered(|out| summary(out, sysfs)),
        Cmd::List => buffered(list),
        Cmd::Find { name, sysfs } => buffered(|out| find(out, &name, sysfs)),
        Cmd::Dump {
            source,
            base,
            format,
        } => dump::run(&source, base.as_deref(), format),
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

fn summary(out: &mut impl Write, sysfs: bool) -> Result<(), Failure> {
    let (set, load_time) = load(sysfs)?;
    let count_start = Instant::now();
    let vmlinux = set.vmlinux();
    let mut per_kind = [0u64; 256];
    count_kinds(&vmlinux, &mut per_kind);
    let mut bytes = set.vmlinux_bytes().len();
    let mut types = u64::from(vmlinux.type_count());

    let how = match set.discovery() {
        Discovery::ById => "by btf id",
        _ => "from /sys/kernel/btf (unprivileged)",
    };
    let id = set
        .vmlinux_id()
        .map_or_else(String::new, |id| format!("btf id {id}, "));
    let mapped = if set.vmlinux_bytes().is_mapped() {
        "mapped"
    } else {
        "read"
    };
    writeln!(
        out,
        "vmlinux: {id}{} bytes ({mapped}), {} types",
        set.vmlinux_bytes().len(),
        vmlinux.type_count()
    )?;
    writeln!(out, "modules: {} found {how}", set.modules().len())?;
    for module in set.modules() {
        let btf = module.btf(&vmlinux)?;
        count_kinds(&btf, &mut per_kind);
        bytes = bytes.saturating_add(module.bytes().len());
        types = types.saturating_add(u64::from(btf.type_count()));
        let id = module
            .id()
            .map_or_else(String::new, |id| format!(" (btf id {id})"));
        writeln!(
            out,
            "  {}{id}: {} bytes, {} types",
            module.name(),
            module.bytes().len(),
            btf.type_count()
        )?;
    }
    if !set.failures().is_empty() {
        writeln!(out, "failed: {} (see stderr)", set.failures().len())?;
    }
    let count_time = count_start.elapsed();
    writeln!(out, "types per kind:")?;
    for (kind, &count) in (0..=u8::MAX).zip(per_kind.iter()) {
        if count > 0 {
            writeln!(out, "  {:<12} {count:>8}", Kind::new(kind).to_string())?;
        }
    }
    writeln!(
        out,
        "total: {} objects, {bytes} bytes, {types} types; loaded in {:.1} ms, counted in {:.1} ms",
        set.modules().len().saturating_add(1),
        millis(load_time),
        millis(count_time)
    )?;
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
