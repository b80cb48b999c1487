//! A fake kernel for fault injection: BTF objects, sysfs files, and a
//! ledger of every descriptor it hands out.
//!
//! Each descriptor is the read end of a fresh pipe; the fake keeps the
//! write end. Writing a byte tells whether the read end is still open
//! anywhere (`BrokenPipe` once it is closed), and the pipe's inode names the
//! object behind any descriptor the library passes back. "Anywhere" includes
//! a child between `fork` and `exec` (a test harness, a symbolizer), which
//! holds copies of every descriptor for a moment; so an open read end also
//! has to be one this process holds (`/proc/self/fd`, opened for reading)
//! to count as open. A double close
//! shows up because the number freed by the first close is taken by the
//! next descriptor opened (the lowest free number): the second close then
//! closes a descriptor the ledger still expects open, and the check of every
//! live descriptor's identity (inode) and state finds it.

#![allow(
    dead_code,
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::cell::RefCell;
use std::collections::{HashMap, TryReserveError};
use std::fs::File;
use std::io::{self, PipeWriter, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

use btf_sys::{
    Alloc, BorrowedBtfFd, BtfFd, BtfId, Kernel, KernelBtf, KernelBytes, LoadRejected, RawBtfInfo,
};

/// A call of the fake, counted for fault injection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    GetNextId,
    GetFdById,
    GetInfo,
    Load,
    SysfsNames,
    SysfsSize,
    SysfsRead,
    SysfsVmlinux,
}

impl Op {
    pub const BY_ID: [Op; 4] = [Op::GetNextId, Op::GetFdById, Op::GetInfo, Op::SysfsVmlinux];
    pub const SYSFS: [Op; 5] = [
        Op::GetNextId,
        Op::SysfsNames,
        Op::SysfsSize,
        Op::SysfsRead,
        Op::SysfsVmlinux,
    ];
}

/// Odd behaviour of one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quirk {
    None,
    /// Listed, but `ENOENT` when opened (unloaded meanwhile).
    Vanishes,
    /// The first size query reports 8 bytes less than the real size.
    Grows,
    /// The first query reports a name 3 bytes shorter (so `ENOSPC`).
    NameGrows,
    /// Every query reports a size of 4 GiB - 1 bytes (a lie).
    HugeSize,
    /// Every query reports a name of 4 GiB - 1 bytes (a lie).
    HugeName,
}

#[derive(Clone, Debug)]
pub struct Object {
    pub id: u32,
    pub name: String,
    pub kernel_btf: bool,
    pub bytes: Vec<u8>,
    pub quirk: Quirk,
}

#[derive(Clone, Debug, Default)]
pub struct Scenario {
    pub objects: Vec<Object>,
    pub vmlinux: Vec<u8>,
    /// `/sys/kernel/btf/<name>` besides vmlinux.
    pub sysfs: Vec<(String, Vec<u8>)>,
    /// Listing ids fails with `EPERM` (unprivileged).
    pub listing_eperm: bool,
    /// The verifier log text of a refused load, and whether the kernel
    /// reports `log_true_size`.
    pub load_log: String,
    pub reports_true_size: bool,
}

/// The failure to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    Call { op: Op, nth: usize, errno: i32 },
    Alloc { what: Alloc, nth: usize },
}

/// What the injected failure concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hit {
    /// An object by id.
    Object(u32),
    /// Listing ids, after `start_id`.
    Listing(u32),
    /// A sysfs module file.
    Sysfs(String),
    /// Listing `/sys/kernel/btf`.
    SysfsNames,
    /// vmlinux's sysfs file.
    Vmlinux,
    /// A load.
    Load,
}

struct Ledger {
    object: u32,
    inode: u64,
    writer: PipeWriter,
    closed: bool,
}

#[derive(Default)]
struct State {
    calls: HashMap<Op, usize>,
    allocs: HashMap<Alloc, usize>,
    fds: Vec<Ledger>,
    violations: Vec<String>,
    current: Option<Hit>,
    hit: Option<Hit>,
    queried: Vec<u32>,
    next_loaded_id: u32,
}

pub struct FakeKernel {
    scenario: Scenario,
    fault: Fault,
    state: RefCell<State>,
}

fn errno(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

/// The inodes of the pipe read ends this process holds: the descriptors in
/// `/proc/self/fd` that name a pipe and were opened read-only.
fn held_pipe_read_ends() -> io::Result<Vec<u64>> {
    let mut held = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let entry = entry?;
        // The directory's own descriptor is gone by the time it is read.
        let Ok(link) = std::fs::read_link(entry.path()) else {
            continue;
        };
        let inode = link
            .to_str()
            .and_then(|l| l.strip_prefix("pipe:["))
            .and_then(|l| l.strip_suffix(']'))
            .and_then(|n| n.parse::<u64>().ok());
        let Some(inode) = inode else { continue };
        let fd = entry.file_name();
        let Ok(info) =
            std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.to_string_lossy()))
        else {
            continue;
        };
        let flags = info
            .lines()
            .find_map(|line| line.strip_prefix("flags:"))
            .and_then(|f| u32::from_str_radix(f.trim(), 8).ok());
        if flags.is_some_and(|f| f & 0o3 == 0) {
            held.push(inode);
        }
    }
    Ok(held)
}

fn inode_of(fd: impl AsFd) -> io::Result<u64> {
    let dup = fd.as_fd().try_clone_to_owned()?;
    Ok(File::from(dup).metadata()?.ino())
}

fn reserve_error() -> TryReserveError {
    Vec::<u8>::new()
        .try_reserve(usize::MAX)
        .expect_err("usize::MAX bytes cannot be reserved")
}

impl FakeKernel {
    pub fn new(scenario: Scenario, fault: Fault) -> FakeKernel {
        FakeKernel {
            scenario,
            fault,
            state: RefCell::new(State {
                next_loaded_id: 100,
                ..State::default()
            }),
        }
    }

    /// Counts a call; fails it when it is the one to fail.
    fn tick(&self, op: Op, about: Hit) -> io::Result<()> {
        let mut state = self.state.borrow_mut();
        let count = state.calls.entry(op).or_insert(0);
        *count += 1;
        let count = *count;
        state.current = Some(about.clone());
        match self.fault {
            Fault::Call {
                op: fail,
                nth,
                errno: code,
            } if fail == op && nth == count => {
                state.hit = Some(about);
                Err(errno(code))
            }
            _ => Ok(()),
        }
    }

    /// The injected failure, once it happened.
    pub fn hit(&self) -> Option<Hit> {
        self.state.borrow().hit.clone()
    }

    /// How many times each call was made.
    pub fn calls(&self, op: Op) -> usize {
        self.state.borrow().calls.get(&op).copied().unwrap_or(0)
    }

    /// How many reservations of each kind were made.
    pub fn allocs(&self, what: Alloc) -> usize {
        self.state.borrow().allocs.get(&what).copied().unwrap_or(0)
    }

    /// Everything the ledger found wrong so far.
    pub fn violations(&self) -> Vec<String> {
        self.state.borrow().violations.clone()
    }

    /// Probes every descriptor: returns the objects of those still open.
    pub fn open_fds(&self) -> Vec<u32> {
        let mut state = self.state.borrow_mut();
        let mut open = Vec::new();
        let mut violations = Vec::new();
        let mut held: Option<Vec<u64>> = None;
        for entry in state.fds.iter_mut().filter(|entry| !entry.closed) {
            match entry.writer.write(&[0]) {
                Ok(_) => {
                    let held = held.get_or_insert_with(|| {
                        held_pipe_read_ends().unwrap_or_else(|error| {
                            violations.push(format!("reading /proc/self/fd: {error}"));
                            Vec::new()
                        })
                    });
                    if held.contains(&entry.inode) {
                        open.push(entry.object);
                    } else {
                        // Open only in another process (a child before its
                        // exec): closed here, and it cannot come back.
                        entry.closed = true;
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::BrokenPipe => entry.closed = true,
                Err(error) => violations.push(format!(
                    "the fake's own end for object {} is broken: {error}",
                    entry.object
                )),
            }
        }
        state.violations.extend(violations);
        open
    }

    /// The object behind `fd`, which must be a live descriptor of the fake.
    /// Asserts that the fds `set` holds are live fds of the right objects
    /// and the only ones open; with `keep_fds`, that every module read by
    /// id kept its fd.
    pub fn check_fds(&self, set: &KernelBtf, keep_fds: bool) {
        let mut held = Vec::new();
        if let Some(fd) = set.vmlinux_fd() {
            let object = self.identify(fd).expect("vmlinux fd is live");
            assert_eq!(set.vmlinux_id().map(BtfId::get), Some(object));
            held.push(object);
        }
        for module in set.modules() {
            match module.fd() {
                Some(fd) => {
                    let object = self.identify(fd).expect("module fd is live");
                    assert_eq!(
                        Some(object),
                        module.id().map(BtfId::get),
                        "fd of another object"
                    );
                    held.push(object);
                }
                None => assert!(
                    !keep_fds || module.id().is_none(),
                    "module {:?} lost its fd",
                    module.name()
                ),
            }
        }
        let mut open = self.open_fds();
        open.sort_unstable();
        held.sort_unstable();
        assert_eq!(open, held, "open fds are exactly the ones the set holds");
    }

    pub fn identify(&self, fd: &impl AsFd) -> Result<u32, String> {
        let inode = inode_of(fd).map_err(|error| format!("fstat of a held fd: {error}"))?;
        let mut state = self.state.borrow_mut();
        let entry = state
            .fds
            .iter_mut()
            .find(|entry| entry.inode == inode)
            .ok_or_else(|| format!("fd with inode {inode} was not made by the fake"))?;
        // Only this descriptor's pipe is probed: a full `open_fds` (which
        // reads /proc) on every call would slow the fuzz target tenfold.
        if !entry.closed && entry.writer.write(&[0]).is_err() {
            entry.closed = true;
        }
        if entry.closed {
            return Err(format!(
                "fd of object {} is used after it was closed",
                entry.object
            ));
        }
        Ok(entry.object)
    }

    fn object(&self, id: u32) -> Option<&Object> {
        self.scenario.objects.iter().find(|object| object.id == id)
    }

    fn new_fd(&self, object: u32) -> io::Result<BtfFd> {
        let (reader, writer) = io::pipe()?;
        let inode = inode_of(&reader)?;
        self.state.borrow_mut().fds.push(Ledger {
            object,
            inode,
            writer,
            closed: false,
        });
        Ok(BtfFd::from_owned_fd(OwnedFd::from(reader)))
    }

    fn violation(&self, text: String) -> io::Error {
        self.state.borrow_mut().violations.push(text);
        errno(libc::EBADF)
    }
}

impl btf_sys::TestKernel for FakeKernel {}

impl Kernel for FakeKernel {
    fn btf_get_next_id(&self, start_id: u32) -> io::Result<u32> {
        self.tick(Op::GetNextId, Hit::Listing(start_id))?;
        if self.scenario.listing_eperm {
            return Err(errno(libc::EPERM));
        }
        self.scenario
            .objects
            .iter()
            .map(|object| object.id)
            .filter(|&id| id > start_id)
            .min()
            .ok_or_else(|| errno(libc::ENOENT))
    }

    fn btf_get_fd_by_id(&self, id: BtfId) -> io::Result<BtfFd> {
        let id = id.get();
        self.tick(Op::GetFdById, Hit::Object(id))?;
        match self.object(id) {
            Some(object) if object.quirk != Quirk::Vanishes => self.new_fd(id),
            _ => Err(errno(libc::ENOENT)),
        }
    }

    fn btf_get_info(
        &self,
        fd: BorrowedBtfFd<'_>,
        btf: &mut [u8],
        name: &mut [u8],
    ) -> io::Result<RawBtfInfo> {
        let id = self.identify(&fd).map_err(|text| self.violation(text))?;
        self.tick(Op::GetInfo, Hit::Object(id))?;
        let object = self
            .object(id)
            .cloned()
            .or_else(|| self.loaded_object(id))
            .ok_or_else(|| self.violation(format!("object {id} unknown")))?;
        let first_query = {
            let mut state = self.state.borrow_mut();
            let first = !state.queried.contains(&id);
            if first {
                state.queried.push(id);
            }
            first
        };
        let real = object.bytes.len() as u32;
        let copied = btf.len().min(object.bytes.len());
        btf[..copied].copy_from_slice(&object.bytes[..copied]);
        let btf_size = match object.quirk {
            Quirk::Grows if first_query => real - 8,
            Quirk::HugeSize => u32::MAX,
            _ => real,
        };
        let name_len = match object.quirk {
            Quirk::NameGrows if first_query => object.name.len() as u32 - 3,
            Quirk::HugeName => u32::MAX,
            _ => object.name.len() as u32,
        };
        let info = RawBtfInfo {
            btf_size,
            id,
            name_len,
            kernel_btf: u32::from(object.kernel_btf),
        };
        if name.is_empty() {
            return Ok(info);
        }
        let bytes = object.name.as_bytes();
        if name.len() > bytes.len() {
            name[..bytes.len()].copy_from_slice(bytes);
            name[bytes.len()] = 0;
            Ok(info)
        } else {
            let keep = name.len() - 1;
            name[..keep].copy_from_slice(&bytes[..keep]);
            name[keep] = 0;
            Err(errno(libc::ENOSPC))
        }
    }

    fn btf_load(&self, btf: &[u8], log: &mut [u8], log_level: u32) -> Result<BtfFd, LoadRejected> {
        let rejected = |error, log_true_size| LoadRejected {
            error,
            log_true_size,
        };
        self.tick(Op::Load, Hit::Load).map_err(|e| rejected(e, 0))?;
        if btf.starts_with(b"bad") {
            let text = self.scenario.load_log.as_bytes();
            let needed = text.len() as u32 + 1;
            let reported = if self.scenario.reports_true_size {
                needed
            } else {
                0
            };
            if log.is_empty() || log_level == 0 {
                return Err(rejected(errno(libc::EINVAL), reported));
            }
            if log.len() < text.len() + 1 {
                let keep = log.len() - 1;
                log[..keep].copy_from_slice(&text[..keep]);
                log[keep] = 0;
                return Err(rejected(errno(libc::ENOSPC), reported));
            }
            log[..text.len()].copy_from_slice(text);
            log[text.len()] = 0;
            return Err(rejected(errno(libc::EINVAL), reported));
        }
        let id = {
            let mut state = self.state.borrow_mut();
            state.next_loaded_id += 1;
            state.next_loaded_id
        };
        self.new_fd(id).map_err(|e| rejected(e, 0))
    }

    fn sysfs_names(&self) -> io::Result<Vec<String>> {
        self.tick(Op::SysfsNames, Hit::SysfsNames)?;
        let mut names: Vec<String> = self.scenario.sysfs.iter().map(|(n, _)| n.clone()).collect();
        names.push("vmlinux".into());
        names.sort();
        Ok(names)
    }

    fn sysfs_size(&self, name: &str) -> io::Result<u64> {
        self.tick(Op::SysfsSize, Hit::Sysfs(name.into()))?;
        self.sysfs_file(name).map(|bytes| bytes.len() as u64)
    }

    fn sysfs_read(&self, name: &str, buf: &mut Vec<u8>) -> io::Result<()> {
        self.tick(Op::SysfsRead, Hit::Sysfs(name.into()))?;
        buf.extend_from_slice(self.sysfs_file(name)?);
        Ok(())
    }

    fn sysfs_vmlinux(&self) -> io::Result<KernelBytes> {
        self.tick(Op::SysfsVmlinux, Hit::Vmlinux)?;
        Ok(KernelBytes::from(self.scenario.vmlinux.clone()))
    }

    fn before_reserve(&self, what: Alloc, _bytes: usize) -> Result<(), TryReserveError> {
        let mut state = self.state.borrow_mut();
        let count = state.allocs.entry(what).or_insert(0);
        *count += 1;
        let count = *count;
        match self.fault {
            Fault::Alloc { what: fail, nth } if fail == what && nth == count => {
                state.hit = state.current.clone().or(Some(Hit::Load));
                Err(reserve_error())
            }
            _ => Ok(()),
        }
    }
}

impl FakeKernel {
    fn sysfs_file(&self, name: &str) -> io::Result<&[u8]> {
        self.scenario
            .sysfs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, bytes)| bytes.as_slice())
            .ok_or_else(|| errno(libc::ENOENT))
    }

    /// Objects made by `btf_load`: user BTF with no name.
    fn loaded_object(&self, id: u32) -> Option<Object> {
        (id > 100).then(|| Object {
            id,
            name: String::new(),
            kernel_btf: false,
            bytes: b"loaded".to_vec(),
            quirk: Quirk::None,
        })
    }
}
