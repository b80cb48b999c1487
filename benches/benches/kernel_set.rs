//! The kernel's whole set of BTF as a loader holds it: Debian's vmlinux and
//! every one of its modules, served from memory as `/sys/kernel/btf` would
//! serve them.
//!
//! - `kernel_set_load`: `KernelBtf::load_with` (read every blob, as from
//!   sysfs: a copy each; parse vmlinux, then every module at once with
//!   `parse_splits`) and `KernelBtf::from_blobs` on the same bytes shared
//!   (no copy), against libbpf's `btf__new` of vmlinux and `btf__new_split`
//!   of each module on the same bytes (which copies them); and ours with
//!   the first lookup, which builds the set-wide name index.
//! - `kernel_set_find`: 300 lookups by name and kind across the set, as
//!   libbpf's `find_kernel_btf_id` makes them for attach targets: ours
//!   (one hash index of the set), the pre-#16 `KernelBtf` algorithm (each
//!   blob asked in turn; sort detection is now kept, which only speeds it)
//!   and libbpf (vmlinux's `btf__find_by_name_kind`, then each module's
//!   `btf__find_by_name_kind_own`; `find_kernel_btf_id` itself calls
//!   `btf__find_by_name_kind` on each module, which searches vmlinux again
//!   through the base, so libbpf's line here is faster than libbpf).
//!
//! All three must give the same answer to every lookup before anything is
//! timed.

use std::collections::TryReserveError;
use std::ffi::CString;
use std::hint::black_box;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use btf_benches::data;
use btf_benches::ffi::LibbpfBtf;
use btf_benches::ids;
use btf_core::{Kind, TypeId};
use btf_sys::{
    Alloc, BorrowedBtfFd, BtfFd, BtfId, Discovery, Kernel, KernelBtf, KernelBytes, LoadOptions,
    LoadRejected, Owner, RawBtfInfo,
};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};

/// `/sys/kernel/btf` in memory: vmlinux and the modules, by name.
struct MemorySysfs {
    vmlinux: Vec<u8>,
    /// Sorted by name.
    modules: Vec<(String, Vec<u8>)>,
}

impl MemorySysfs {
    fn file(&self, name: &str) -> io::Result<&[u8]> {
        self.modules
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .and_then(|i| self.modules.get(i))
            .map(|(_, bytes)| bytes.as_slice())
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }
}

fn no_bpf<T>() -> io::Result<T> {
    Err(io::Error::from_raw_os_error(libc::EPERM))
}

impl btf_sys::TestKernel for MemorySysfs {}

impl Kernel for MemorySysfs {
    fn btf_get_next_id(&self, _: u32) -> io::Result<u32> {
        no_bpf()
    }
    fn btf_get_fd_by_id(&self, _: BtfId) -> io::Result<BtfFd> {
        no_bpf()
    }
    fn btf_get_info(
        &self,
        _: BorrowedBtfFd<'_>,
        _: &mut [u8],
        _: &mut [u8],
    ) -> io::Result<RawBtfInfo> {
        no_bpf()
    }
    fn btf_load(&self, _: &[u8], _: &mut [u8], _: u32) -> Result<BtfFd, LoadRejected> {
        Err(LoadRejected {
            error: io::Error::from_raw_os_error(libc::EPERM),
            log_true_size: 0,
        })
    }
    fn sysfs_names(&self) -> io::Result<Vec<String>> {
        let mut names: Vec<String> = self.modules.iter().map(|(n, _)| n.clone()).collect();
        names.push("vmlinux".into());
        Ok(names)
    }
    fn sysfs_size(&self, name: &str) -> io::Result<u64> {
        self.file(name).map(|bytes| bytes.len() as u64)
    }
    fn sysfs_read(&self, name: &str, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.extend_from_slice(self.file(name)?);
        Ok(())
    }
    fn sysfs_vmlinux(&self) -> io::Result<KernelBytes> {
        Ok(KernelBytes::from(self.vmlinux.clone()))
    }
    fn before_reserve(&self, _: Alloc, _: usize) -> Result<(), TryReserveError> {
        Ok(())
    }
}

fn load(sysfs: &MemorySysfs) -> KernelBtf {
    KernelBtf::load_with(sysfs, LoadOptions::new().discovery(Discovery::Sysfs))
        .expect("the corpus loads")
}

fn group<'c>(c: &'c mut Criterion, name: &str) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_secs(1));
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    g
}

/// A lookup: name and kind, and where the answer is (0 for vmlinux, `i +
/// 1` for module `i`; the id).
struct Query {
    name: String,
    cname: CString,
    kind: Kind,
}

/// 300 lookups across the set: 120 names of vmlinux, 120 names only a
/// module has, 30 that do not exist, 30 real names with a kind they lack.
fn queries(set: &KernelBtf) -> Vec<Query> {
    let mut qs = Vec::new();
    let mut push = |name: &str, kind: Kind| {
        qs.push(Query {
            name: name.to_owned(),
            cname: CString::new(name).expect("no NUL in a type name"),
            kind,
        });
    };
    let vmlinux = set.vmlinux();
    let named: Vec<_> = vmlinux
        .types()
        .filter(|t| !t.name_bytes().is_empty())
        .collect();
    let step = (named.len() / 120).max(1);
    for t in named.iter().step_by(step).take(120) {
        push(t.name().expect("utf-8"), t.kind());
    }
    let mut module_only = Vec::new();
    for module in set.modules() {
        let btf = module.btf();
        if let Some(t) = btf.types().find(|t| {
            t.name()
                .is_ok_and(|n| !n.is_empty() && vmlinux.find_by_name(n).is_none())
        }) {
            module_only.push((t.name().expect("utf-8").to_owned(), t.kind()));
        }
    }
    let step = (module_only.len() / 120).max(1);
    for (name, kind) in module_only.iter().step_by(step).take(120) {
        push(name, *kind);
    }
    for t in named.iter().step_by(step.max(named.len() / 30)).take(30) {
        push(
            &format!("{}__no_such_type", t.name().expect("utf-8")),
            t.kind(),
        );
    }
    for t in named.iter().skip(7).step_by(named.len() / 30).take(30) {
        let other = if t.kind() == Kind::UNION {
            Kind::ENUM64
        } else {
            Kind::UNION
        };
        push(t.name().expect("utf-8"), other);
    }
    qs
}

/// Where `owner` is in the set: 0 for vmlinux, `i + 1` for module `i`.
fn owner_index(set: &KernelBtf, owner: Owner<'_>) -> usize {
    match owner {
        Owner::Vmlinux => 0,
        Owner::Module(m) => {
            1 + set
                .modules()
                .iter()
                .position(|x| std::ptr::eq(x, m))
                .expect("a module of the set")
        }
    }
}

fn ours(set: &KernelBtf, q: &Query) -> Option<(usize, TypeId)> {
    let found = set.find_type_kind(&q.name, q.kind)?;
    Some((owner_index(set, found.owner), found.id))
}

/// The pre-#16 `KernelBtf::find_type_kind`: vmlinux, then each module's
/// own types, a view at a time.
fn per_blob(set: &KernelBtf, q: &Query) -> Option<(usize, TypeId)> {
    if let Some(t) = set.vmlinux().find_by_name_kind(&q.name, q.kind) {
        return Some((0, t.id()));
    }
    set.modules().iter().enumerate().find_map(|(i, m)| {
        let btf = m.btf();
        let t = btf.find_own_by_name_bytes(q.name.as_bytes(), Some(q.kind))?;
        Some((i + 1, t.id()))
    })
}

fn libbpf(base: &LibbpfBtf<'_>, modules: &[LibbpfBtf<'_>], q: &Query) -> Option<(usize, TypeId)> {
    let kind = u32::from(q.kind.get());
    if let Some(id) = base.find_by_name_kind(&q.cname, kind) {
        return Some((0, TypeId::new(id)));
    }
    modules.iter().enumerate().find_map(|(i, m)| {
        let id = m.find_by_name_kind_own(&q.cname, kind)?;
        Some((i + 1, TypeId::new(id)))
    })
}

fn kernel_set(c: &mut Criterion) {
    let corpus = data::corpus();
    let mut modules = corpus.modules.clone();
    modules.sort_by(|a, b| a.0.cmp(&b.0));
    let sysfs = MemorySysfs {
        vmlinux: corpus.base.clone(),
        modules,
    };
    let set = load(&sysfs);
    assert!(
        set.failures().is_empty(),
        "{} failures, the first: {:?}",
        set.failures().len(),
        set.failures().first()
    );
    assert_eq!(set.modules().len(), corpus.modules.len());
    let lb_base = LibbpfBtf::new(&corpus.base).expect("libbpf parses vmlinux.btf");
    // In the set's order (sysfs: by name), so that answers name the same
    // module.
    let lb_modules: Vec<LibbpfBtf<'_>> = sysfs
        .modules
        .iter()
        .map(|(name, m)| {
            LibbpfBtf::new_split(m, &lb_base)
                .unwrap_or_else(|e| panic!("libbpf fails on module {name}: errno {e}"))
        })
        .collect();
    let qs = queries(&set);
    assert_eq!(qs.len(), ids::QUERIES);
    let mut hits = 0;
    for q in &qs {
        let want = ours(&set, q);
        assert_eq!(per_blob(&set, q), want, "reference: {} {}", q.name, q.kind);
        assert_eq!(
            libbpf(&lb_base, &lb_modules, q),
            want,
            "libbpf: {} {}",
            q.name,
            q.kind
        );
        hits += usize::from(want.is_some());
    }
    eprintln!(
        "kernel set: vmlinux + {} modules; {} lookups, {hits} found",
        set.modules().len(),
        qs.len()
    );

    // The same bytes, shared: what a loader holding them (or reading a
    // directory of another kernel's BTF) hands over, with no copy.
    let shared_vmlinux: Arc<[u8]> = Arc::from(&corpus.base[..]);
    let shared_modules: Vec<(String, Arc<[u8]>)> = sysfs
        .modules
        .iter()
        .map(|(name, bytes)| (name.clone(), Arc::from(&bytes[..])))
        .collect();
    let from_blobs = || {
        KernelBtf::from_blobs(
            KernelBytes::from(Arc::clone(&shared_vmlinux)),
            shared_modules
                .iter()
                .map(|(name, bytes)| (name.clone(), KernelBytes::from(Arc::clone(bytes)))),
        )
        .expect("the corpus parses")
    };
    let given = from_blobs();
    assert!(given.failures().is_empty());
    for q in &qs {
        let want = ours(&set, q);
        assert_eq!(ours(&given, q), want, "from_blobs: {} {}", q.name, q.kind);
    }

    let mut g = group(c, ids::SET_LOAD);
    g.throughput(Throughput::Elements(1 + corpus.modules.len() as u64));
    g.bench_function(ids::OURS_SET_LOAD, |b| b.iter(|| black_box(load(&sysfs))));
    g.bench_function(ids::OURS_SET_FROM_BLOBS, |b| {
        b.iter(|| black_box(from_blobs()))
    });
    g.bench_function(ids::OURS_SET_LOAD_FIND, |b| {
        b.iter(|| {
            let set = load(&sysfs);
            black_box(
                set.find_type_kind("task_struct", Kind::STRUCT)
                    .map(|f| f.id),
            );
            set
        })
    });
    g.bench_function(ids::LIBBPF_SET_LOAD, |b| {
        b.iter(|| {
            let base = LibbpfBtf::new(black_box(&corpus.base)).expect("vmlinux");
            let n: u32 = corpus
                .modules
                .iter()
                .map(|(_, m)| {
                    LibbpfBtf::new_split(black_box(m), &base)
                        .expect("module")
                        .type_cnt()
                })
                .sum();
            black_box(n)
        })
    });
    g.finish();

    let run = |find: &dyn Fn(&Query) -> Option<(usize, TypeId)>| {
        qs.iter().filter(|q| find(q).is_some()).count()
    };
    let mut g = group(c, ids::SET_FIND);
    g.throughput(Throughput::Elements(qs.len() as u64));
    g.bench_function(ids::OURS_SET_FIND, |b| {
        b.iter(|| run(&|q| ours(&set, black_box(q))))
    });
    g.bench_function(ids::REF_SET_FIND, |b| {
        b.iter(|| run(&|q| per_blob(&set, black_box(q))))
    });
    g.bench_function(ids::LIBBPF_SET_FIND, |b| {
        b.iter(|| run(&|q| libbpf(&lb_base, &lb_modules, black_box(q))))
    });
    g.finish();
}

criterion::criterion_group!(benches, kernel_set);
criterion::criterion_main!(benches);
