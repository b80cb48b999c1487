//! `btf min OBJ.o... [--btf FILE [--base FILE]] -o OUT [--split BASE_OUT]`:
//! the minimal BTF the objects' CO-RE relocations need, as
//! `bpftool gen min_core_btf` writes it, for vmlinux or for a module's BTF
//! split on it (see `btf_core::min`).

use std::io::Write;
use std::path::{Path, PathBuf};

use btf_core::Btf;
use btf_core::ext::BpfObject;
use btf_core::min::{Form, MinError, Minimized, Minimizer};
use btf_sys::{Kernel, KernelBytes, Linux, MappedFile};

use crate::Failure;
use crate::source;

/// What `btf min` was asked.
pub(crate) struct Args<'a> {
    pub(crate) objects: &'a [PathBuf],
    pub(crate) btf: Option<&'a Path>,
    pub(crate) base: Option<&'a Path>,
    pub(crate) out: &'a Path,
    pub(crate) split: Option<&'a Path>,
}

/// The running kernel's vmlinux, the default target.
const RUNNING: &str = "/sys/kernel/btf/vmlinux";

/// The `.BTF` of a raw BTF or ELF file's bytes.
fn btf_of<'b>(what: &str, bytes: &'b [u8]) -> Result<&'b [u8], Failure> {
    if bytes.starts_with(b"\x7fELF") {
        Ok(btf_core::elf::BtfSections::parse(bytes)
            .map_err(|e| Failure::Message(format!("{what}: {e}")))?
            .btf())
    } else {
        source::check_btf_magic(what, bytes)?;
        Ok(bytes)
    }
}

/// An input's bytes: a regular file mapped (see [`MappedFile`]), the
/// running kernel's vmlinux mapped where the kernel allows it (6.16+), or
/// anything else read (and decompressed) into memory.
enum Input {
    Mapped(MappedFile),
    Kernel(KernelBytes),
    Read(Vec<u8>),
}

impl Input {
    /// Lets go of the input: a mapped file's lease ends now, and its
    /// mapping with the process (see [`MappedFile::unmap_at_exit`]), which
    /// `btf min` is about to end.
    fn let_go(self) {
        match self {
            Input::Mapped(map) => map.unmap_at_exit(),
            Input::Kernel(_) | Input::Read(_) => {}
        }
    }
}

impl std::ops::Deref for Input {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Input::Mapped(map) => map,
            Input::Kernel(bytes) => bytes,
            Input::Read(bytes) => bytes,
        }
    }
}

/// Maps or reads an input: `whole` when every byte of it is about to be
/// read (a target BTF), not for a BPF object, of which only the BTF
/// sections and headers are.
fn read_input(path: &Path, whole: bool) -> Result<Input, Failure> {
    if path == Path::new(RUNNING) {
        let bytes = Linux
            .sysfs_vmlinux()
            .map_err(|e| Failure::Message(format!("{RUNNING}: {e}")))?;
        return Ok(Input::Kernel(bytes));
    }
    if let Ok(map) = MappedFile::open(path, whole)
        && source::Compression::detect(&map).is_none()
    {
        return Ok(Input::Mapped(map));
    }
    // Compressed, or not mappable (a pipe, a file open for writing, ...):
    // read as every other command reads it.
    Ok(Input::Read(source::read_file(path)?))
}

/// Leaves `value`'s memory to the exit of the process, which `btf min`
/// is about to reach: the kernel frees it then with the whole address
/// space, for less than freeing it now costs (vmlinux's id index is
/// 0.4 MB of its own mapping).
fn leave_to_exit<T>(value: T) {
    std::mem::forget(value);
}

/// Writes `bytes` to `path` in one write. An existing regular file is
/// overwritten in place and then cut to length, rather than truncated
/// first: its blocks are reused instead of freed and allocated again
/// (which on ext4 also starts a flush when the file is closed, and with
/// `discard` waits for the device).
fn write(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let failed = |e: std::io::Error| Failure::Message(format!("{}: {e}", path.display()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    let metadata = file.metadata().map_err(failed)?;
    if metadata.is_file() && metadata.len() != bytes.len() as u64 {
        file.set_len(bytes.len() as u64).map_err(failed)?;
    }
    Ok(())
}

/// Minimises the target BTF for the objects, writes it, and says what was
/// written.
pub(crate) fn run(args: &Args<'_>) -> Result<(), Failure> {
    let sysfs_module = args.btf.is_some_and(source::is_sysfs_module);
    if args.split.is_some() && args.base.is_none() && !sysfs_module {
        return Err(Failure::Message(
            "--split writes a minimal base and a minimal split: it needs --base (the vmlinux --btf is split on)".into(),
        ));
    }
    // The inputs are let go (unmapped, their leases ended) before the
    // output is written, which may be one of them.
    let min = minimise(args)?;
    let btf_name = args.btf.unwrap_or(Path::new(RUNNING)).display().to_string();
    let base = base_of(args);
    // One write to stdout, after one write per output file.
    let mut report = match (args.split, min.splits.first()) {
        (Some(base_out), Some(split)) => {
            write(base_out, &min.btf)?;
            write(args.out, split)?;
            format!(
                "wrote {} ({} bytes) split on {} ({} bytes): {} types\n",
                args.out.display(),
                split.len(),
                base_out.display(),
                min.btf.len(),
                min.type_count()
            )
        }
        _ => {
            write(args.out, &min.btf)?;
            format!(
                "wrote {}: {} types, {} bytes\n",
                args.out.display(),
                min.type_count(),
                min.btf.len()
            )
        }
    };
    let objects = args.objects.len();
    report.push_str(&format!(
        "{} relocations of {} object{} resolve against it as against {}\n",
        min.relocations(),
        objects,
        if objects == 1 { "" } else { "s" },
        match base {
            Some(base) => format!("{} then {}", base.display(), btf_name),
            None => btf_name,
        }
    ));
    print!("{report}");
    Ok(())
}

/// The base the target is split on: `--base`, or the running vmlinux for
/// a module from /sys/kernel/btf (as `btf dump` takes it).
fn base_of<'a>(args: &Args<'a>) -> Option<&'a Path> {
    args.base
        .or_else(|| (args.btf.is_some_and(source::is_sysfs_module)).then_some(Path::new(RUNNING)))
}

/// Maps or reads the inputs, parses them and minimises the target.
fn minimise(args: &Args<'_>) -> Result<Minimized, Failure> {
    let mut files = Vec::with_capacity(args.objects.len());
    for path in args.objects {
        files.push((path.display().to_string(), read_input(path, false)?));
    }
    let mut objects = Vec::with_capacity(files.len());
    for (name, bytes) in &files {
        objects
            .push(BpfObject::parse(bytes).map_err(|e| Failure::Message(format!("{name}: {e}")))?);
    }
    let btf_path = args.btf.unwrap_or(Path::new(RUNNING));
    let btf_name = btf_path.display().to_string();
    let btf_bytes = read_input(btf_path, true)?;
    let named = |e: MinError| match e {
        MinError::Reloc { object, failure } => {
            let name = files.get(object).map_or("?", |(n, _)| n.as_str());
            Failure::Message(format!("{name}: {failure}").replace('\n', "; "))
        }
        other => Failure::Message(other.to_string()),
    };
    let min = match base_of(args) {
        None => {
            let vmlinux = Btf::parse(btf_of(&btf_name, &btf_bytes)?).map_err(|e| {
                Failure::Message(format!(
                    "{btf_name}: {e} (a module's split BTF needs its vmlinux: --base FILE)"
                ))
            })?;
            if vmlinux.is_split() {
                return Err(Failure::Message(format!(
                    "{btf_name}: split BTF needs --base"
                )));
            }
            let min = Minimizer::new(&vmlinux).run(&objects).map_err(named);
            leave_to_exit(vmlinux);
            min
        }
        Some(base_path) => {
            let base_name = base_path.display().to_string();
            let base_bytes = read_input(base_path, true)?;
            let vmlinux = Btf::parse(btf_of(&base_name, &base_bytes)?)
                .map_err(|e| Failure::Message(format!("{base_name} (the base): {e}")))?;
            let module = Btf::parse_split(btf_of(&btf_name, &btf_bytes)?, &vmlinux)
                .map_err(|e| Failure::Message(format!("{btf_name} (split on {base_name}): {e}")))?;
            let form = if args.split.is_some() {
                Form::Split
            } else {
                Form::Standalone
            };
            let name = btf_path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("module");
            let min = Minimizer::new(&vmlinux)
                .with_module(name, &module)
                .form(form)
                .run(&objects)
                .map_err(named);
            leave_to_exit(module);
            leave_to_exit(vmlinux);
            base_bytes.let_go();
            min
        }
    };
    drop(objects);
    for (_, input) in files {
        input.let_go();
    }
    btf_bytes.let_go();
    min
}
