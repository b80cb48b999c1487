//! `modules`: `btf_sys::KernelBtf` loading against a fake kernel whose
//! objects and failures the input chooses.
//!
//! The fake is btf-sys's own test double (`btf-sys/tests/fake_kernel`),
//! which hands out each descriptor as the read end of a pipe and keeps a
//! ledger of them, with one injected fault of its own; a wrapper here adds
//! as many more as the input asks: failing the N-th call of any command with
//! any errno, failing the N-th reservation of any kind, and lying in the
//! N-th info reply (BTF size, name length, `kernel_btf`), the N-th id
//! listing, or a sysfs file size. The objects (ids, names, `kernel_btf`,
//! quirks, sysfs presence) are chosen by the input; their bytes are the
//! real Debian modules rebased onto the small distilled vmlinux in
//! `fuzz/data/` (cut, flipped, or replaced by raw bytes at will).
//!
//! Checked after every load, by id or by sysfs, with or without kept fds:
//!
//! - fd accounting: the fds the set holds are live fds of the right objects
//!   and no others are open; after the set is dropped (and after an error)
//!   none is open, and the ledger saw no use or close of a closed fd;
//! - complete modules survive: every module whose calls all succeeded (no
//!   injected failure or lie touched it or the listing before it) and whose
//!   bytes parse on vmlinux is in the result, with its id, name and bytes;
//! - every module returned has a view on vmlinux;
//! - then `open_btfs` + `read_btf` over the same fake, and `load_btf`, leak
//!   nothing either.
#![no_main]
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

#[path = "../../btf-sys/tests/fake_kernel/mod.rs"]
mod fake_kernel;

use arbitrary::Arbitrary;
use btf_core::{Btf, BtfIndex};
use btf_sys::{
    Alloc, BorrowedBtfFd, BtfFd, BtfId, Discovery, Kernel, KernelBtf, KernelBytes, LoadOptions,
    LoadRejected, RawBtfInfo, load_btf, open_btfs, read_btf,
};
use fake_kernel::{FakeKernel, Fault, Hit, Object, Op, Quirk, Scenario};
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::collections::TryReserveError;
use std::io;

static BASE: &[u8] = include_bytes!("../data/base.btf");
static MODULES: [&[u8]; 6] = [
    include_bytes!("../data/module-0.btf"),
    include_bytes!("../data/module-1.btf"),
    include_bytes!("../data/module-2.btf"),
    include_bytes!("../data/module-3.btf"),
    include_bytes!("../data/module-4.btf"),
    include_bytes!("../data/module-5.btf"),
];

const OPS: [Op; 8] = [
    Op::GetNextId,
    Op::GetFdById,
    Op::GetInfo,
    Op::Load,
    Op::SysfsNames,
    Op::SysfsSize,
    Op::SysfsRead,
    Op::SysfsVmlinux,
];
const ALLOCS: [Alloc; 4] = [Alloc::Name, Alloc::Bytes, Alloc::Modules, Alloc::Log];
const ERRNOS: [i32; 12] = [
    libc::EPERM,
    libc::ENOENT,
    libc::EINTR,
    libc::EIO,
    libc::ENOMEM,
    libc::EINVAL,
    libc::ENOSPC,
    libc::EBADF,
    libc::EFAULT,
    libc::EACCES,
    libc::E2BIG,
    libc::EAGAIN,
];

#[derive(Arbitrary, Debug)]
struct Input {
    keep_fds: bool,
    discovery: u8,
    listing_eperm: bool,
    vmlinux_cut: Option<u16>,
    objects: Vec<ObjIn>,
    fault: FaultIn,
    chaos: Vec<ChaosIn>,
    take_fd: Option<u8>,
    load: Option<LoadIn>,
}

#[derive(Arbitrary, Debug)]
struct ObjIn {
    gap: u8,
    name: NameIn,
    kernel_btf: bool,
    blob: BlobIn,
    quirk: u8,
    in_sysfs: bool,
}

#[derive(Arbitrary, Debug)]
enum NameIn {
    Module(u8),
    Vmlinux,
    Empty,
    Other(String),
}

#[derive(Arbitrary, Debug)]
enum BlobIn {
    Module(u8),
    Cut(u8, u16),
    Flip(u8, u16, u8),
    Base,
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum FaultIn {
    None,
    Call { op: u8, nth: u8, errno: u8 },
    Alloc { what: u8, nth: u8 },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum ChaosIn {
    Fail { op: u8, nth: u8, errno: u8 },
    Alloc { what: u8, nth: u8 },
    SizeLie { nth: u8, delta: i16 },
    NameLie { nth: u8, delta: i8 },
    NotKernel { nth: u8 },
    NextId { nth: u8, id: u8 },
    SysfsSize { nth: u8, size: u16 },
}

#[derive(Arbitrary, Debug)]
struct LoadIn {
    bad: bool,
    blob: u8,
    log: String,
    reports_true_size: bool,
}

fn reserve_error() -> TryReserveError {
    Vec::<u8>::new()
        .try_reserve(usize::MAX)
        .expect_err("usize::MAX bytes cannot be reserved")
}

fn errno(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

/// The fake, with the input's extra failures and lies. Records what each
/// one touched.
struct Chaos<'a> {
    fake: &'a FakeKernel,
    plan: &'a [ChaosIn],
    calls: RefCell<[usize; 8]>,
    allocs: RefCell<[usize; 4]>,
    infos: RefCell<usize>,
    sizes: RefCell<usize>,
    next_ids: RefCell<usize>,
    current: RefCell<Option<Hit>>,
    tainted: RefCell<Vec<Hit>>,
}

impl<'a> Chaos<'a> {
    fn new(fake: &'a FakeKernel, plan: &'a [ChaosIn]) -> Chaos<'a> {
        Chaos {
            fake,
            plan,
            calls: RefCell::new([0; 8]),
            allocs: RefCell::new([0; 4]),
            infos: RefCell::new(0),
            sizes: RefCell::new(0),
            next_ids: RefCell::new(0),
            current: RefCell::new(None),
            tainted: RefCell::new(Vec::new()),
        }
    }

    fn taint(&self, hit: Option<Hit>) {
        if let Some(hit) = hit {
            self.tainted.borrow_mut().push(hit);
        }
    }

    /// Counts a call of `op` about `about`; fails it when the plan says so.
    fn call(&self, op: Op, about: Option<Hit>) -> io::Result<()> {
        let k = OPS.iter().position(|&o| o == op).unwrap();
        let n = {
            let mut calls = self.calls.borrow_mut();
            calls[k] += 1;
            calls[k]
        };
        *self.current.borrow_mut() = about.clone();
        for c in self.plan {
            if let ChaosIn::Fail { op, nth, errno: e } = *c
                && usize::from(op) % OPS.len() == k
                && usize::from(nth) == n
            {
                self.taint(about);
                return Err(errno(ERRNOS[usize::from(e) % ERRNOS.len()]));
            }
        }
        Ok(())
    }

    fn tainted(&self, hit: &Hit) -> bool {
        self.tainted.borrow().contains(hit)
    }

    /// Whether a listing failure or lie may have hidden object `id`.
    fn listing_cut_before(&self, id: u32) -> bool {
        self.tainted
            .borrow()
            .iter()
            .any(|h| matches!(h, Hit::Listing(start) if *start < id))
    }
}

impl btf_sys::TestKernel for Chaos<'_> {}

impl Kernel for Chaos<'_> {
    fn btf_get_next_id(&self, start_id: u32) -> io::Result<u32> {
        self.call(Op::GetNextId, Some(Hit::Listing(start_id)))?;
        let next = self.fake.btf_get_next_id(start_id)?;
        let n = {
            let mut c = self.next_ids.borrow_mut();
            *c += 1;
            *c
        };
        for c in self.plan {
            if let ChaosIn::NextId { nth, id } = *c
                && usize::from(nth) == n
            {
                self.taint(Some(Hit::Listing(start_id)));
                return Ok(u32::from(id));
            }
        }
        Ok(next)
    }

    fn btf_get_fd_by_id(&self, id: BtfId) -> io::Result<BtfFd> {
        self.call(Op::GetFdById, Some(Hit::Object(id.get())))?;
        self.fake.btf_get_fd_by_id(id)
    }

    fn btf_get_info(
        &self,
        fd: BorrowedBtfFd<'_>,
        btf: &mut [u8],
        name: &mut [u8],
    ) -> io::Result<RawBtfInfo> {
        let object = self.fake.identify(&fd).ok().map(Hit::Object);
        self.call(Op::GetInfo, object.clone())?;
        let mut info = self.fake.btf_get_info(fd, btf, name)?;
        let n = {
            let mut c = self.infos.borrow_mut();
            *c += 1;
            *c
        };
        for c in self.plan {
            match *c {
                ChaosIn::SizeLie { nth, delta } if usize::from(nth) == n => {
                    let lie = (i64::from(info.btf_size) + i64::from(delta)).clamp(0, 1 << 20);
                    info.btf_size = lie as u32;
                    self.taint(object.clone());
                }
                ChaosIn::NameLie { nth, delta } if usize::from(nth) == n => {
                    let lie = (i64::from(info.name_len) + i64::from(delta)).clamp(0, 4096);
                    info.name_len = lie as u32;
                    self.taint(object.clone());
                }
                ChaosIn::NotKernel { nth } if usize::from(nth) == n => {
                    info.kernel_btf = u32::from(info.kernel_btf == 0);
                    self.taint(object.clone());
                }
                _ => {}
            }
        }
        Ok(info)
    }

    fn btf_load(&self, btf: &[u8], log: &mut [u8], log_level: u32) -> Result<BtfFd, LoadRejected> {
        self.call(Op::Load, Some(Hit::Load))
            .map_err(|error| LoadRejected {
                error,
                log_true_size: 0,
            })?;
        self.fake.btf_load(btf, log, log_level)
    }

    fn sysfs_names(&self) -> io::Result<Vec<String>> {
        self.call(Op::SysfsNames, Some(Hit::SysfsNames))?;
        self.fake.sysfs_names()
    }

    fn sysfs_size(&self, name: &str) -> io::Result<u64> {
        self.call(Op::SysfsSize, Some(Hit::Sysfs(name.into())))?;
        let size = self.fake.sysfs_size(name)?;
        let n = {
            let mut c = self.sizes.borrow_mut();
            *c += 1;
            *c
        };
        for c in self.plan {
            // Only a hint: a wrong size must not lose the module.
            if let ChaosIn::SysfsSize { nth, size } = *c
                && usize::from(nth) == n
            {
                return Ok(u64::from(size));
            }
        }
        Ok(size)
    }

    fn sysfs_read(&self, name: &str, buf: &mut Vec<u8>) -> io::Result<()> {
        self.call(Op::SysfsRead, Some(Hit::Sysfs(name.into())))?;
        self.fake.sysfs_read(name, buf)
    }

    fn sysfs_vmlinux(&self) -> io::Result<KernelBytes> {
        self.call(Op::SysfsVmlinux, Some(Hit::Vmlinux))?;
        self.fake.sysfs_vmlinux()
    }

    fn before_reserve(&self, what: Alloc, bytes: usize) -> Result<(), TryReserveError> {
        let k = ALLOCS.iter().position(|&a| a == what).unwrap();
        let n = {
            let mut a = self.allocs.borrow_mut();
            a[k] += 1;
            a[k]
        };
        for c in self.plan {
            if let ChaosIn::Alloc { what, nth } = *c
                && usize::from(what) % ALLOCS.len() == k
                && usize::from(nth) == n
            {
                self.taint(self.current.borrow().clone());
                return Err(reserve_error());
            }
        }
        self.fake.before_reserve(what, bytes)
    }
}

fn blob(b: &BlobIn) -> Vec<u8> {
    let module = |i: u8| MODULES[usize::from(i) % MODULES.len()].to_vec();
    match b {
        BlobIn::Module(i) => module(*i),
        BlobIn::Cut(i, len) => {
            let mut v = module(*i);
            v.truncate(usize::from(*len));
            v
        }
        BlobIn::Flip(i, at, bit) => {
            let mut v = module(*i);
            let at = usize::from(*at) % v.len();
            v[at] ^= 1 << (bit % 8);
            v
        }
        BlobIn::Base => BASE.to_vec(),
        BlobIn::Raw(v) => v.clone(),
    }
}

fn scenario(input: &Input) -> Scenario {
    let mut objects = Vec::new();
    let mut sysfs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut id = 0u32;
    for o in input.objects.iter().take(8) {
        id += 1 + u32::from(o.gap % 4);
        let name = match &o.name {
            NameIn::Module(i) => format!("mod{}", i % 8),
            NameIn::Vmlinux => "vmlinux".into(),
            NameIn::Empty => String::new(),
            NameIn::Other(s) => s.chars().take(64).collect(),
        };
        let bytes = blob(&o.blob);
        // The fake subtracts for these quirks; keep it from underflowing.
        let quirk = match o.quirk % 6 {
            1 => Quirk::Vanishes,
            2 if bytes.len() >= 8 => Quirk::Grows,
            // A name of 3 bytes would be reported as empty, which no reader
            // can tell from a real empty name.
            3 if name.len() > 3 => Quirk::NameGrows,
            4 => Quirk::HugeSize,
            5 => Quirk::HugeName,
            _ => Quirk::None,
        };
        if o.in_sysfs && !sysfs.iter().any(|(n, _)| *n == name) {
            sysfs.push((name.clone(), bytes.clone()));
        }
        objects.push(Object {
            id,
            name,
            kernel_btf: o.kernel_btf,
            bytes,
            quirk,
        });
    }
    let mut vmlinux = BASE.to_vec();
    if let Some(cut) = input.vmlinux_cut {
        vmlinux.truncate(usize::from(cut));
    }
    let (load_log, reports_true_size) = match &input.load {
        Some(l) => (l.log.chars().take(4096).collect(), l.reports_true_size),
        None => (String::new(), true),
    };
    Scenario {
        objects,
        vmlinux,
        sysfs,
        listing_eperm: input.listing_eperm,
        load_log,
        reports_true_size,
    }
}

fn fault(f: &FaultIn) -> Fault {
    match *f {
        FaultIn::None => Fault::None,
        FaultIn::Call { op, nth, errno: e } => Fault::Call {
            op: OPS[usize::from(op) % OPS.len()],
            nth: usize::from(nth),
            errno: ERRNOS[usize::from(e) % ERRNOS.len()],
        },
        FaultIn::Alloc { what, nth } => Fault::Alloc {
            what: ALLOCS[usize::from(what) % ALLOCS.len()],
            nth: usize::from(nth),
        },
    }
}

/// Every module whose calls all succeeded is in the set, whole.
fn check_complete(set: &KernelBtf, scenario: &Scenario, chaos: &Chaos<'_>, hit: Option<&Hit>) {
    let vmlinux = set.vmlinux();
    let parses = |bytes: &[u8]| BtfIndex::build(bytes, Some(&vmlinux)).is_ok();
    let touched = |h: &Hit| chaos.tainted(h) || hit == Some(h);
    let cut =
        |id: u32| chaos.listing_cut_before(id) || matches!(hit, Some(Hit::Listing(s)) if *s < id);
    match set.discovery() {
        Discovery::Sysfs => {
            if touched(&Hit::SysfsNames) {
                return;
            }
            for (name, bytes) in &scenario.sysfs {
                if name == "vmlinux" || touched(&Hit::Sysfs(name.clone())) || !parses(bytes) {
                    continue;
                }
                let m = set
                    .modules()
                    .iter()
                    .find(|m| m.name() == name)
                    .unwrap_or_else(|| panic!("complete sysfs module {name:?} lost"));
                assert!(
                    m.bytes() == &bytes[..],
                    "sysfs module {name:?} bytes differ"
                );
                assert_eq!(m.id(), None);
            }
        }
        _ => {
            for o in &scenario.objects {
                let complete = o.kernel_btf
                    && o.name != "vmlinux"
                    && !o.name.contains('\0')
                    && !matches!(o.quirk, Quirk::Vanishes | Quirk::HugeSize | Quirk::HugeName)
                    && !touched(&Hit::Object(o.id))
                    && !cut(o.id)
                    && parses(&o.bytes);
                if !complete {
                    continue;
                }
                let m = set
                    .modules()
                    .iter()
                    .find(|m| m.id().map(BtfId::get) == Some(o.id))
                    .unwrap_or_else(|| panic!("complete module {} ({:?}) lost", o.id, o.name));
                assert_eq!(m.name(), o.name);
                assert!(m.bytes() == &o.bytes[..], "module {} bytes differ", o.id);
            }
        }
    }
    for m in set.modules() {
        let btf = m.btf();
        assert_eq!(btf.first_id().get(), vmlinux.last_id().get() + 1);
        let _ = btf.types().last();
        // The set-wide name index answers for the module's own names as
        // the module's view does (its lowest id of the name).
        for t in btf.types().take(4) {
            let Ok(name) = t.name() else { continue };
            if name.is_empty() || vmlinux.find_by_name(name).is_some() {
                continue;
            }
            let own = btf
                .find_own_by_name_bytes(name.as_bytes(), None)
                .map(|t| t.id());
            let hit = set.find_types(name).find(|f| f.owner.name() == m.name());
            assert_eq!(hit.map(|f| f.id), own, "{name} in {}", m.name());
        }
    }
    let _ = set.find_type("mod0_ops");
    let _ = set
        .failures()
        .iter()
        .map(|f| format!("{f:?} {}", f.error))
        .count();
}

/// The fake learns that a descriptor was closed from `EPIPE` on its own
/// end of the pipe; Rust's `main` ignores `SIGPIPE` for that, but
/// libFuzzer's `main` is C's, so ignore it here.
fn ignore_sigpipe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: setting a signal's disposition to SIG_IGN installs no
        // handler code; it is what Rust's own runtime does at start-up.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
    });
}

fuzz_target!(|input: Input| {
    ignore_sigpipe();
    let scenario = scenario(&input);
    let fake = FakeKernel::new(scenario.clone(), fault(&input.fault));
    let chaos = Chaos::new(&fake, &input.chaos[..input.chaos.len().min(8)]);
    let discovery = match input.discovery % 3 {
        0 => Discovery::Auto,
        1 => Discovery::ById,
        _ => Discovery::Sysfs,
    };
    let options = LoadOptions::new()
        .keep_fds(input.keep_fds)
        .discovery(discovery);

    match KernelBtf::load_with(&chaos, options) {
        Ok(mut set) => {
            fake.check_fds(&set, input.keep_fds);
            check_complete(&set, &scenario, &chaos, fake.hit().as_ref());
            if let Some(i) = input.take_fd
                && !set.modules().is_empty()
            {
                let len = set.modules().len();
                let taken = set.modules_mut()[usize::from(i) % len].take_fd();
                drop(taken);
                fake.check_fds(&set, false);
            }
            drop(set);
        }
        Err(error) => {
            let _ = format!("{error} {error:?}");
        }
    }
    assert_eq!(
        fake.open_fds(),
        Vec::<u32>::new(),
        "fds leaked by load_with"
    );
    assert_eq!(fake.violations(), Vec::<String>::new());

    // Listing and reading by hand.
    for (_, fd) in open_btfs(&chaos).take(16).flatten() {
        let _ = read_btf(&chaos, &fd).map(|o| o.bytes.len());
    }
    assert_eq!(
        fake.open_fds(),
        Vec::<u32>::new(),
        "fds leaked by open_btfs/read_btf"
    );

    if let Some(load) = &input.load {
        let bytes = if load.bad {
            b"bad btf".to_vec()
        } else {
            MODULES[usize::from(load.blob) % MODULES.len()].to_vec()
        };
        if let Ok(fd) = load_btf(&chaos, &bytes) {
            assert!(
                fake.identify(&fd).is_ok_and(|id| id > 100),
                "a loaded fd is live"
            );
        }
    }
    assert_eq!(fake.open_fds(), Vec::<u32>::new(), "fds leaked by load_btf");
    assert_eq!(fake.violations(), Vec::<String>::new());
    let _ = Btf::parse(BASE);
});
