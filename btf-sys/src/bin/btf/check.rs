//! `btf check OBJ.o [KERNEL]... [--base FILE] [--format text|json]
//! [--jobs N]`: whether each CO-RE relocation of a BPF object resolves on
//! each kernel, and to what.
//!
//! A KERNEL is a file (raw BTF, a vmlinux or other ELF file with `.BTF`,
//! either compressed with gzip, zstd or xz), a directory (every such file
//! under it, recursively, in name order), or a tar archive (plain, or
//! compressed with gzip, zstd or xz, as BTFHub ships kernels:
//! `*.btf.tar.xz`), read as a stream: nothing is unpacked to disk, and
//! only the member in hand is in memory. With no KERNEL, the running
//! kernel (vmlinux and its modules, as libbpf searches them).
//!
//! Kernels are checked on every core: each worker takes the next file,
//! and a worker that streams an archive hands its members to idle workers
//! (checking one itself when all are busy). Exit status: 0 when every
//! relocation resolves, or is poisoned where a guard keeps it from
//! running, on every kernel; 1 when some relocation fails on some kernel;
//! 2 when the object or a kernel cannot be read.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use btf_core::Btf;
use btf_core::check::{Checker, KernelCheck, Matrix};
use btf_core::ext::BpfObject;
use btf_core::reloc::{Target, Targets};
use btf_sys::KernelBtf;

use crate::source::{self, Compression};
use crate::{Failure, reloc};

/// The output formats `--format` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// The matrix, the failures explained, a summary
    Text,
    /// One JSON object, for tools
    Json,
}

/// What `btf check` takes.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// A BPF object (clang -target bpf)
    object: PathBuf,
    /// Kernels: BTF or vmlinux files (gzip/zstd/xz too), directories of
    /// them, tar archives (.tar, .tar.gz, .tar.zst, .tar.xz: BTFHub's
    /// *.btf.tar.xz). Default: the running kernel, with its modules
    kernels: Vec<PathBuf>,
    /// Each KERNEL is split BTF (a module's) on this base
    #[arg(long, value_name = "FILE")]
    base: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Worker threads (default: one per core)
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

/// The most bytes one archive member may hold: a kernel's BTF is a few
/// MiB, a vmlinux with debug info under 1 GiB.
const MAX_MEMBER: u64 = source::MAX_DECOMPRESSED;

/// Runs `btf check`; prints its own errors.
pub(crate) fn main(args: &Args) -> ExitCode {
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(failure) => {
            let text = match failure {
                Failure::Btf(e) => e.to_string(),
                Failure::Io(e) => e.to_string(),
                Failure::Message(text) => text,
            };
            eprintln!("btf: {text}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<u8, Failure> {
    let shown = args.object.display().to_string();
    let object_bytes = source::read_file(&args.object)?;
    let object =
        BpfObject::parse(&object_bytes).map_err(|e| Failure::Message(format!("{shown}: {e}")))?;
    let checker = Checker::from_object(&object);
    let mut matrix = Matrix::new(&checker);
    let header;
    if args.kernels.is_empty() {
        if args.base.is_some() {
            return Err(Failure::Message(
                "--base needs KERNEL files (split BTF on it)".into(),
            ));
        }
        let set = KernelBtf::load()?;
        let vmlinux = set.vmlinux();
        let views: Vec<(&str, Btf<'_>)> =
            set.modules().iter().map(|m| (m.name(), m.btf())).collect();
        let mut targets = Targets::named("vmlinux", &vmlinux);
        for (name, view) in &views {
            targets = targets.with_module(name, view);
        }
        matrix.push(
            format!("the running kernel ({})", source::SYSFS_DIR),
            Ok(checker.check_targets(&targets)),
        );
        header = format!(
            "{shown}: {} CO-RE relocations on the running kernel\n\n",
            checker.sites().len()
        );
    } else {
        let inputs = expand(&args.kernels)?;
        let base_bytes = match &args.base {
            Some(path) => Some(source::read_file(path)?),
            None => None,
        };
        let base = match (&base_bytes, &args.base) {
            (Some(bytes), Some(path)) => {
                let what = format!("base {}", path.display());
                Some(
                    Btf::parse(reloc::btf_of(&what, bytes)?)
                        .map_err(|e| Failure::Message(format!("{what}: {e}")))?,
                )
            }
            _ => None,
        };
        let jobs = args
            .jobs
            .or_else(|| std::thread::available_parallelism().ok().map(Into::into))
            .unwrap_or(1)
            .max(1);
        let found = check_all(&checker, base.as_ref(), &inputs, jobs);
        if found.results.is_empty() {
            return Err(Failure::Message(format!(
                "no kernel BTF found in {}{}",
                args.kernels
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                found
                    .skipped
                    .first()
                    .map_or_else(String::new, |s| format!(" ({s})"))
            )));
        }
        if !found.skipped.is_empty() {
            eprintln!(
                "btf: skipped {} files that are not BTF, ELF or tar (first: {})",
                found.skipped.len(),
                found.skipped.first().map_or("", String::as_str)
            );
        }
        for (name, result) in found.results {
            matrix.push(name, result);
        }
        header = format!(
            "{shown}: {} CO-RE relocations on {} kernels\n\n",
            checker.sites().len(),
            matrix.kernels().len()
        );
    }
    let mut text = String::new();
    match args.format {
        Format::Text => {
            text.push_str(&header);
            text.push_str(&matrix.to_string());
        }
        Format::Json => {
            // Writing into a String cannot fail.
            let _ = matrix.write_json(&mut text);
            text.push('\n');
        }
    }
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(u8::try_from(matrix.exit_code()).unwrap_or(2))
}

/// A file to read: its path, and how it is named in the output.
struct Input {
    path: PathBuf,
    /// Whether it was named on the command line (else found in a
    /// directory): a named file that is no kernel is an error, a found one
    /// is skipped.
    named: bool,
}

/// The files the KERNEL arguments name: files as given, directories
/// walked recursively in name order.
fn expand(args: &[PathBuf]) -> Result<Vec<Input>, Failure> {
    let mut out = Vec::new();
    for arg in args {
        let meta = std::fs::metadata(arg)
            .map_err(|e| Failure::Message(format!("{}: {e}", arg.display())))?;
        if meta.is_dir() {
            walk(arg, &mut out)?;
        } else {
            out.push(Input {
                path: arg.clone(),
                named: true,
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Input>) -> Result<(), Failure> {
    let failed = |e: io::Error| Failure::Message(format!("{}: {e}", dir.display()));
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(failed)?
        .collect::<Result<_, _>>()
        .map_err(failed)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(failed)?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
            out.push(Input { path, named: false });
        }
    }
    Ok(())
}

/// What the workers found: each kernel's name and check, in input order
/// (archive members in archive order), and the files that were no kernel.
struct Found {
    results: Vec<(String, Result<KernelCheck, String>)>,
    skipped: Vec<String>,
}

/// A kernel's bytes in memory, waiting for a worker.
struct Member {
    /// (input, member) order.
    key: (usize, usize),
    name: String,
    bytes: Vec<u8>,
}

/// The work shared by the workers.
struct Shared<'a> {
    inputs: &'a [Input],
    next_input: AtomicUsize,
    queue: Mutex<Queue>,
    ready: Condvar,
    /// How many members may wait in the queue.
    capacity: usize,
    results: Mutex<Vec<Done>>,
}

struct Queue {
    members: VecDeque<Member>,
    /// Workers streaming an archive (which may still add members).
    streaming: usize,
}

/// One kernel checked (or found unreadable), or a file skipped.
enum Done {
    Kernel {
        key: (usize, usize),
        name: String,
        result: Result<KernelCheck, String>,
    },
    Skipped {
        key: (usize, usize),
        what: String,
    },
}

/// Checks every kernel of `inputs` on `jobs` threads.
fn check_all(
    checker: &Checker<'_>,
    base: Option<&Btf<'_>>,
    inputs: &[Input],
    jobs: usize,
) -> Found {
    let shared = Shared {
        inputs,
        next_input: AtomicUsize::new(0),
        queue: Mutex::new(Queue {
            members: VecDeque::new(),
            streaming: 0,
        }),
        ready: Condvar::new(),
        capacity: jobs.saturating_mul(2),
        results: Mutex::new(Vec::new()),
    };
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| worker(&shared, checker, base));
        }
    });
    let mut done = shared
        .results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|d| match d {
        Done::Kernel { key, .. } | Done::Skipped { key, .. } => *key,
    });
    // An archive that held one kernel (BTFHub's) is named by itself.
    let mut per_input = vec![0usize; inputs.len()];
    for d in &done {
        if let Done::Kernel { key, .. } = d
            && let Some(n) = per_input.get_mut(key.0)
        {
            *n += 1;
        }
    }
    let mut found = Found {
        results: Vec::new(),
        skipped: Vec::new(),
    };
    for d in done {
        match d {
            Done::Kernel { key, name, result } => {
                let name = match inputs.get(key.0) {
                    Some(input) if per_input.get(key.0) == Some(&1) => {
                        input.path.display().to_string()
                    }
                    _ => name,
                };
                found.results.push((name, result));
            }
            Done::Skipped { what, .. } => found.skipped.push(what),
        }
    }
    found
}

fn worker(shared: &Shared<'_>, checker: &Checker<'_>, base: Option<&Btf<'_>>) {
    let record = |d: Done| {
        shared
            .results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(d);
    };
    let check = |m: Member| {
        let result = check_bytes(checker, base, &m.name, &m.bytes);
        record(Done::Kernel {
            key: m.key,
            name: m.name,
            result,
        });
    };
    loop {
        // Members waiting first: they hold memory.
        let waiting = {
            let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.members.pop_front()
        };
        if let Some(m) = waiting {
            shared.ready.notify_all();
            check(m);
            continue;
        }
        let i = shared.next_input.fetch_add(1, Ordering::Relaxed);
        if let Some(input) = shared.inputs.get(i) {
            read_input(shared, i, input, &check, &record);
            continue;
        }
        // No file left: wait for members while an archive is streaming.
        let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(m) = q.members.pop_front() {
                drop(q);
                shared.ready.notify_all();
                check(m);
                break;
            }
            if q.streaming == 0 {
                return;
            }
            q = shared.ready.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Reads input `i`: one kernel, checked here, or an archive whose
/// members go to the queue (or are checked here when it is full).
fn read_input(
    shared: &Shared<'_>,
    i: usize,
    input: &Input,
    check: &impl Fn(Member),
    record: &impl Fn(Done),
) {
    let shown = input.path.display().to_string();
    let kernel_error = |e: String| {
        record(Done::Kernel {
            key: (i, 0),
            name: shown.clone(),
            result: Err(e),
        });
    };
    let opened = match open(&input.path) {
        Ok(o) => o,
        Err(e) => return kernel_error(e),
    };
    match opened {
        Opened::Kernel => match source::read_file(&input.path) {
            Ok(bytes) => check(Member {
                key: (i, 0),
                name: shown,
                bytes,
            }),
            Err(Failure::Message(e)) => kernel_error(e),
            Err(Failure::Io(e)) => kernel_error(format!("{shown}: {e}")),
            Err(Failure::Btf(e)) => kernel_error(format!("{shown}: {e}")),
        },
        Opened::Other(head) => {
            let what = format!("{shown} (starts with {})", hex(&head));
            if input.named {
                kernel_error(format!(
                    "{what}: not BTF, an ELF file or a tar archive, compressed or not"
                ));
            } else {
                record(Done::Skipped { key: (i, 0), what });
            }
        }
        Opened::Tar(stream) => {
            {
                let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
                q.streaming += 1;
            }
            let result = stream_tar(shared, i, &shown, stream, check, record);
            {
                let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
                q.streaming -= 1;
            }
            shared.ready.notify_all();
            if let Err(e) = result {
                record(Done::Kernel {
                    key: (i, usize::MAX),
                    name: format!("{shown}: the rest"),
                    result: Err(e),
                });
            }
        }
    }
}

/// Each regular member of a tar stream, to the queue or checked here.
fn stream_tar(
    shared: &Shared<'_>,
    i: usize,
    shown: &str,
    stream: Box<dyn Read + '_>,
    check: &impl Fn(Member),
    record: &impl Fn(Done),
) -> Result<(), String> {
    let failed = |e: io::Error| format!("{shown}: {e}");
    let mut archive = tar::Archive::new(stream);
    for (j, entry) in archive.entries().map_err(failed)?.enumerate() {
        let mut entry = entry.map_err(failed)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = format!("{shown}:{}", entry.path_bytes().escape_ascii());
        let size = entry.size();
        if size > MAX_MEMBER {
            record(Done::Kernel {
                key: (i, j),
                name,
                result: Err(format!("{size} bytes, more than {MAX_MEMBER}")),
            });
            continue;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        entry.read_to_end(&mut bytes).map_err(failed)?;
        let bytes = match Compression::detect(&bytes) {
            Some(c) => match source::decompress(c, &bytes) {
                Ok(b) => b,
                Err(e) => {
                    record(Done::Kernel {
                        key: (i, j),
                        name,
                        result: Err(e.to_string()),
                    });
                    continue;
                }
            },
            None => bytes,
        };
        if !is_kernel(&bytes) {
            record(Done::Skipped {
                key: (i, j),
                what: format!("{name} (starts with {})", hex(&bytes)),
            });
            continue;
        }
        let member = Member {
            key: (i, j),
            name,
            bytes,
        };
        let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        if q.members.len() < shared.capacity {
            q.members.push_back(member);
            drop(q);
            shared.ready.notify_all();
        } else {
            drop(q);
            check(member);
        }
    }
    Ok(())
}

/// Checks one kernel's bytes (raw BTF or ELF).
fn check_bytes(
    checker: &Checker<'_>,
    base: Option<&Btf<'_>>,
    name: &str,
    bytes: &[u8],
) -> Result<KernelCheck, String> {
    let blob = reloc::btf_of(name, bytes).map_err(|f| match f {
        Failure::Message(m) => m,
        Failure::Io(e) => e.to_string(),
        Failure::Btf(e) => e.to_string(),
    })?;
    match base {
        None => {
            let btf = Btf::parse(blob).map_err(|e| e.to_string())?;
            Ok(checker.check(&btf))
        }
        Some(base) => {
            let btf = Btf::parse_split(blob, base).map_err(|e| e.to_string())?;
            let vmlinux = Target::with_index_of("vmlinux", base, |t| checker.wants(t));
            let targets = Targets::from_target(vmlinux).with_module(name, &btf);
            Ok(checker.check_targets(&targets))
        }
    }
}

/// What a file holds, judged by its first bytes (decompressed).
enum Opened {
    /// Raw BTF or ELF, maybe compressed: read whole.
    Kernel,
    /// A tar archive: the decompressed stream, from its start.
    Tar(Box<dyn Read>),
    /// Neither: its first bytes.
    Other(Vec<u8>),
}

fn is_kernel(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x9f, 0xeb])
        || bytes.starts_with(&[0xeb, 0x9f])
        || bytes.starts_with(b"\x7fELF")
}

/// A tar header's `ustar` magic (POSIX `ustar\0`, GNU `ustar `).
fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

fn open(path: &Path) -> Result<Opened, String> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut raw = BufReader::with_capacity(1 << 16, file);
    let magic = raw.fill_buf().map_err(|e| format!("{shown}: {e}"))?;
    let compression = Compression::detect(magic);
    let mut stream: Box<dyn Read> = match compression {
        None => Box::new(raw),
        Some(Compression::Gzip) => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        Some(Compression::Zstd) => Box::new(
            zstd::stream::read::Decoder::with_buffer(raw).map_err(|e| format!("{shown}: {e}"))?,
        ),
        Some(Compression::Xz) => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(raw)),
    };
    let mut head = Vec::with_capacity(512);
    (&mut stream)
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| format!("{shown}: {e}"))?;
    if is_tar(&head) {
        Ok(Opened::Tar(Box::new(io::Cursor::new(head).chain(stream))))
    } else if is_kernel(&head) {
        Ok(Opened::Kernel)
    } else {
        Ok(Opened::Other(head))
    }
}

/// The first bytes of `bytes` in hex, for messages.
fn hex(bytes: &[u8]) -> String {
    let start: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    start.join(" ")
}
