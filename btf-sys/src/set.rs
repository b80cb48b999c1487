//! The running kernel's BTF: vmlinux plus every module, each module parsed
//! as split BTF on vmlinux (libbpf's `load_module_btfs`).
//!
//! Ownership does the cleanup: a [`ModuleBtf`] is built in one expression
//! once its id, name, bytes, index and (optional) fd all exist, so a failure
//! at any step drops exactly the parts made so far, each once, and the other
//! modules are kept.

use core::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use btf_core::{Btf, BtfIndex, Kind, TypeId};

use crate::error::{Alloc, Error};
use crate::ids::{BtfId, btf_ids};
use crate::info::{query, read_bytes, read_name, reserved_buffer};
use crate::kernel::{Kernel, KernelBytes, Linux};
use crate::sys::BtfFd;

/// Where module BTF is found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Discovery {
    /// By id, and from sysfs when listing ids is not permitted (`EPERM`).
    #[default]
    Auto,
    /// By id only (bpf(2), needs `CAP_SYS_ADMIN`): modules get ids and fds.
    ById,
    /// From `/sys/kernel/btf/<module>` only (no privileges): no ids, no fds.
    Sysfs,
}

/// How [`KernelBtf::load_with`] works.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Keep each module's (and vmlinux's) BTF fd open, for loaders that pass
    /// it as `attach_btf_obj_fd` or in fd arrays. Default: close them.
    pub keep_fds: bool,
    /// Where module BTF is found. Default: [`Discovery::Auto`].
    pub discovery: Discovery,
}

impl LoadOptions {
    /// The defaults: no fds kept, automatic discovery.
    pub fn new() -> LoadOptions {
        LoadOptions::default()
    }

    /// Sets [`LoadOptions::keep_fds`].
    pub fn keep_fds(self, keep_fds: bool) -> LoadOptions {
        LoadOptions { keep_fds, ..self }
    }

    /// Sets [`LoadOptions::discovery`].
    pub fn discovery(self, discovery: Discovery) -> LoadOptions {
        LoadOptions { discovery, ..self }
    }
}

/// A module's BTF: id, name, bytes, the parsed index, and optionally its fd.
///
/// The bytes are split BTF on the vmlinux of the [`KernelBtf`] it came from;
/// get the parsed view with [`ModuleBtf::btf`].
#[derive(Debug)]
pub struct ModuleBtf {
    set: SetToken,
    id: Option<BtfId>,
    name: String,
    bytes: Vec<u8>,
    index: BtfIndex,
    fd: Option<BtfFd>,
}

impl ModuleBtf {
    /// The BTF object id; `None` when found through sysfs.
    pub fn id(&self) -> Option<BtfId> {
        self.id
    }

    /// The module's name, e.g. `"nf_tables"`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The raw split BTF bytes, byte-identical to `/sys/kernel/btf/<name>`.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The open BTF fd, when the set was loaded with
    /// [`LoadOptions::keep_fds`] by id (and not taken).
    pub fn fd(&self) -> Option<&BtfFd> {
        self.fd.as_ref()
    }

    /// Takes the fd out (the module keeps everything else).
    pub fn take_fd(&mut self) -> Option<BtfFd> {
        self.fd.take()
    }

    /// The parsed view, split on `vmlinux`, which must come from the same
    /// [`KernelBtf`] ([`KernelBtf::vmlinux`]).
    ///
    /// # Errors
    /// [`Error::WrongBase`] for another set's vmlinux; [`Error::Parse`] if
    /// btf-core rejects the stored index (it does not for a set it built).
    pub fn btf<'a>(&'a self, vmlinux: &'a VmlinuxBtf<'a>) -> Result<Btf<'a>, Error> {
        if !vmlinux.set.is(&self.set) {
            return Err(Error::WrongBase);
        }
        Btf::with_index(&self.bytes, Some(&vmlinux.btf), &self.index).map_err(|source| {
            Error::Parse {
                name: self.name.clone(),
                id: self.id,
                source,
            }
        })
    }
}

/// The parsed vmlinux of a [`KernelBtf`]; dereferences to [`Btf`] and is the
/// base for its modules' views.
#[derive(Debug)]
pub struct VmlinuxBtf<'a> {
    set: &'a SetToken,
    btf: Btf<'a>,
}

impl<'a> Deref for VmlinuxBtf<'a> {
    type Target = Btf<'a>;

    fn deref(&self) -> &Btf<'a> {
        &self.btf
    }
}

/// A module whose BTF could not be read or parsed (or a listing error,
/// with no name and the id listing stopped after).
#[derive(Debug)]
#[non_exhaustive]
pub struct ModuleFailure {
    /// The BTF object id, when known.
    pub id: Option<BtfId>,
    /// The module's name, when it was read.
    pub name: Option<String>,
    /// What went wrong.
    pub error: Error,
}

/// Which BTF object a type found by name lives in.
#[derive(Clone, Copy, Debug)]
pub enum Owner<'a> {
    /// vmlinux.
    Vmlinux,
    /// A module.
    Module(&'a ModuleBtf),
}

impl Owner<'_> {
    /// `"vmlinux"` or the module's name.
    pub fn name(&self) -> &str {
        match self {
            Owner::Vmlinux => "vmlinux",
            Owner::Module(module) => module.name(),
        }
    }
}

/// A type found by name across vmlinux and the modules.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct FoundType<'a> {
    /// Where it lives.
    pub owner: Owner<'a>,
    /// Its id (in the owner's id space: module ids continue vmlinux's).
    pub id: TypeId,
    /// Its kind.
    pub kind: Kind,
}

/// vmlinux and module BTF of the running kernel.
///
/// ```no_run
/// let set = btf_sys::KernelBtf::load()?;
/// if let Some(found) = set.find_type("nft_expr_ops") {
///     println!("[{}] {} in {}", found.id, found.kind, found.owner.name());
/// }
/// for failure in set.failures() {
///     eprintln!("skipped {:?}: {}", failure.name, failure.error);
/// }
/// # Ok::<(), btf_sys::Error>(())
/// ```
#[derive(Debug)]
pub struct KernelBtf {
    set: SetToken,
    vmlinux_bytes: KernelBytes,
    vmlinux_index: BtfIndex,
    vmlinux_id: Option<BtfId>,
    vmlinux_fd: Option<BtfFd>,
    modules: Vec<ModuleBtf>,
    failures: Vec<ModuleFailure>,
    discovery: Discovery,
}

/// Tells sets apart, so a module is never viewed on another set's vmlinux:
/// one allocation per [`KernelBtf`], shared by its modules, compared by
/// address. A module keeps it alive, so no later set can reuse the address
/// while the module exists.
#[derive(Clone, Debug, Default)]
struct SetToken(Arc<()>);

impl SetToken {
    fn is(&self, other: &SetToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl KernelBtf {
    /// Loads the running kernel's BTF with the default [`LoadOptions`].
    ///
    /// # Errors
    /// As [`KernelBtf::load_with`].
    pub fn load() -> Result<KernelBtf, Error> {
        KernelBtf::load_with(&Linux, LoadOptions::default())
    }

    /// Loads vmlinux (mapped from `/sys/kernel/btf/vmlinux` where allowed,
    /// read otherwise) and every module BTF, through `kernel`.
    ///
    /// A module that fails is listed in [`KernelBtf::failures`] with its
    /// name and id, and the others are returned.
    ///
    /// # Errors
    /// [`Error::Sysfs`] or [`Error::Parse`] when vmlinux cannot be read or
    /// parsed; [`Error::PermissionDenied`] for [`Discovery::ById`] without
    /// privileges.
    pub fn load_with<K: Kernel + ?Sized>(
        kernel: &K,
        options: LoadOptions,
    ) -> Result<KernelBtf, Error> {
        let vmlinux_bytes = kernel.sysfs_vmlinux().map_err(|source| Error::Sysfs {
            path: PathBuf::from(crate::sys::VMLINUX_PATH),
            source,
        })?;
        let parse_error = |source| Error::Parse {
            name: "vmlinux".into(),
            id: None,
            source,
        };
        let vmlinux_index = BtfIndex::build(&vmlinux_bytes, None).map_err(parse_error)?;
        let vmlinux = Btf::with_index(&vmlinux_bytes, None, &vmlinux_index).map_err(parse_error)?;
        let mut scan = Scan {
            set: SetToken::default(),
            keep_fds: options.keep_fds,
            vmlinux: &vmlinux,
            vmlinux_id: None,
            vmlinux_fd: None,
            modules: Vec::new(),
            failures: Vec::new(),
        };
        let discovery = match options.discovery {
            Discovery::Sysfs => {
                scan.scan_sysfs(kernel);
                Discovery::Sysfs
            }
            Discovery::ById => {
                scan.scan_ids(kernel)?;
                Discovery::ById
            }
            Discovery::Auto => match scan.scan_ids(kernel) {
                Ok(()) => Discovery::ById,
                Err(Error::PermissionDenied { .. }) => {
                    scan.scan_sysfs(kernel);
                    Discovery::Sysfs
                }
                Err(error) => return Err(error),
            },
        };
        let Scan {
            set,
            vmlinux_id,
            vmlinux_fd,
            modules,
            failures,
            ..
        } = scan;
        Ok(KernelBtf {
            set,
            vmlinux_bytes,
            vmlinux_index,
            vmlinux_id,
            vmlinux_fd,
            modules,
            failures,
            discovery,
        })
    }

    /// The parsed vmlinux, also the base of every module's view.
    pub fn vmlinux(&self) -> VmlinuxBtf<'_> {
        // `load_with` attached this index to these (immutable) bytes once
        // already; attaching is deterministic, so it cannot fail now.
        let btf = Btf::with_index(&self.vmlinux_bytes, None, &self.vmlinux_index)
            .unwrap_or_else(|_| unreachable!("the vmlinux index was attached at load"));
        VmlinuxBtf {
            set: &self.set,
            btf,
        }
    }

    /// The raw vmlinux bytes.
    pub fn vmlinux_bytes(&self) -> &KernelBytes {
        &self.vmlinux_bytes
    }

    /// vmlinux's BTF object id, when modules were found by id.
    pub fn vmlinux_id(&self) -> Option<BtfId> {
        self.vmlinux_id
    }

    /// vmlinux's open BTF fd, when loaded by id with
    /// [`LoadOptions::keep_fds`].
    pub fn vmlinux_fd(&self) -> Option<&BtfFd> {
        self.vmlinux_fd.as_ref()
    }

    /// The modules, in id order (by id) or name order (sysfs).
    pub fn modules(&self) -> &[ModuleBtf] {
        &self.modules
    }

    /// The modules, mutably (to take fds).
    pub fn modules_mut(&mut self) -> &mut [ModuleBtf] {
        &mut self.modules
    }

    /// The module named `name`.
    pub fn module(&self, name: &str) -> Option<&ModuleBtf> {
        self.modules.iter().find(|module| module.name == name)
    }

    /// The BTF objects (by id) or sysfs files that could not be read or
    /// parsed, each with its id and name where known, and a listing error if
    /// listing stopped early. vmlinux by id is among them if reading its
    /// name failed; vmlinux's bytes always come from sysfs.
    pub fn failures(&self) -> &[ModuleFailure] {
        &self.failures
    }

    /// How the modules were found: [`Discovery::ById`] or
    /// [`Discovery::Sysfs`].
    pub fn discovery(&self) -> Discovery {
        self.discovery
    }

    /// The first type named `name`: vmlinux first, then each module's own
    /// types, in module order.
    pub fn find_type(&self, name: &str) -> Option<FoundType<'_>> {
        self.find_types_where(name, None).next()
    }

    /// As [`KernelBtf::find_type`], of kind `kind` only.
    pub fn find_type_kind(&self, name: &str, kind: Kind) -> Option<FoundType<'_>> {
        self.find_types_where(name, Some(kind)).next()
    }

    /// Every owner's type named `name`, at most one per owner (vmlinux, then
    /// each module's own types): modules may define types of the same name.
    pub fn find_types<'a, 'n>(
        &'a self,
        name: &'n str,
    ) -> impl Iterator<Item = FoundType<'a>> + use<'a, 'n> {
        self.find_types_where(name, None)
    }

    fn find_types_where<'a, 'n>(
        &'a self,
        name: &'n str,
        kind: Option<Kind>,
    ) -> impl Iterator<Item = FoundType<'a>> + use<'a, 'n> {
        let vmlinux = self.vmlinux();
        let found = match kind {
            // find_by_name knows "void" (id 0).
            None => vmlinux.find_by_name(name),
            Some(kind) => vmlinux.find_by_name_kind(name, kind),
        };
        let in_vmlinux = found.map(|t| FoundType {
            owner: Owner::Vmlinux,
            id: t.id(),
            kind: t.kind(),
        });
        // Each module's own types only: vmlinux was searched above.
        let in_modules = self.modules.iter().filter_map(move |module| {
            let btf = module.btf(&vmlinux).ok()?;
            let found = btf.find_own_by_name_bytes(name.as_bytes(), kind)?;
            Some(FoundType {
                owner: Owner::Module(module),
                id: found.id(),
                kind: found.kind(),
            })
        });
        in_vmlinux.into_iter().chain(in_modules)
    }
}

/// What loading has found so far; its parts become the [`KernelBtf`].
struct Scan<'v> {
    set: SetToken,
    keep_fds: bool,
    vmlinux: &'v Btf<'v>,
    vmlinux_id: Option<BtfId>,
    vmlinux_fd: Option<BtfFd>,
    modules: Vec<ModuleBtf>,
    failures: Vec<ModuleFailure>,
}

/// One BTF object listed by id.
enum Listed {
    Module(ModuleBtf),
    Vmlinux(Option<BtfFd>),
    /// User BTF, or an id that vanished.
    Other,
}

impl Scan<'_> {
    /// Lists ids; only a refused first listing is an error.
    fn scan_ids<K: Kernel + ?Sized>(&mut self, kernel: &K) -> Result<(), Error> {
        let mut last = None;
        for id in btf_ids(kernel) {
            let id = match id {
                Ok(id) => id,
                Err(error @ Error::PermissionDenied { .. }) => return Err(error),
                Err(error) => {
                    self.fail(last, None, error);
                    break;
                }
            };
            last = Some(id);
            match self.read_by_id(kernel, id) {
                Ok(Listed::Module(module)) => self.push(kernel, module),
                Ok(Listed::Vmlinux(fd)) => {
                    self.vmlinux_id = Some(id);
                    self.vmlinux_fd = fd;
                }
                Ok(Listed::Other) => {}
                Err((name, error)) => self.fail(Some(id), name, error),
            }
        }
        Ok(())
    }

    /// Opens and reads one object; on failure, the name if it was read.
    fn read_by_id<K: Kernel + ?Sized>(
        &self,
        kernel: &K,
        id: BtfId,
    ) -> Result<Listed, (Option<String>, Error)> {
        let some = Some(id);
        let fd = match kernel.btf_get_fd_by_id(id) {
            Ok(fd) => fd,
            // Unloaded between listing and opening.
            Err(error) if error.raw_os_error() == Some(libc::ENOENT) => return Ok(Listed::Other),
            Err(source) => {
                return Err((
                    None,
                    Error::Syscall {
                        command: crate::error::Command::BtfGetFdById,
                        id: some,
                        source,
                    },
                ));
            }
        };
        let raw = query(kernel, &fd, some).map_err(|error| (None, error))?;
        if raw.kernel_btf == 0 {
            return Ok(Listed::Other);
        }
        let name = read_name(kernel, &fd, some, raw.name_len).map_err(|error| (None, error))?;
        if name == "vmlinux" {
            return Ok(Listed::Vmlinux(self.keep_fds.then_some(fd)));
        }
        let bytes = match read_bytes(kernel, &fd, some, raw.btf_size) {
            Ok(bytes) => bytes,
            Err(error) => return Err((Some(name), error)),
        };
        let index = match BtfIndex::build(&bytes, Some(self.vmlinux)) {
            Ok(index) => index,
            Err(source) => {
                let error = Error::Parse {
                    name: name.clone(),
                    id: some,
                    source,
                };
                return Err((Some(name), error));
            }
        };
        Ok(Listed::Module(ModuleBtf {
            set: self.set.clone(),
            id: some,
            name,
            bytes,
            index,
            fd: self.keep_fds.then_some(fd),
        }))
    }

    /// Reads `/sys/kernel/btf/<module>` for every module there.
    fn scan_sysfs<K: Kernel + ?Sized>(&mut self, kernel: &K) {
        let names = match kernel.sysfs_names() {
            Ok(names) => names,
            Err(source) => {
                let path = PathBuf::from(crate::sys::VMLINUX_PATH)
                    .parent()
                    .map(PathBuf::from)
                    .unwrap_or_default();
                self.fail(None, None, Error::Sysfs { path, source });
                return;
            }
        };
        for name in names {
            if name == "vmlinux" {
                continue;
            }
            match self.read_sysfs(kernel, &name) {
                Ok((bytes, index)) => {
                    let module = ModuleBtf {
                        set: self.set.clone(),
                        id: None,
                        name,
                        bytes,
                        index,
                        fd: None,
                    };
                    self.push(kernel, module);
                }
                Err(error) => self.fail(None, Some(name), error),
            }
        }
    }

    fn read_sysfs<K: Kernel + ?Sized>(
        &self,
        kernel: &K,
        name: &str,
    ) -> Result<(Vec<u8>, BtfIndex), Error> {
        let sysfs_error = |source| Error::Sysfs {
            path: PathBuf::from(crate::sys::VMLINUX_PATH).with_file_name(name),
            source,
        };
        let size = kernel.sysfs_size(name).map_err(sysfs_error)?;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let mut bytes = reserved_buffer(kernel, Alloc::Bytes, None, size)?;
        kernel.sysfs_read(name, &mut bytes).map_err(sysfs_error)?;
        let index = BtfIndex::build(&bytes, Some(self.vmlinux)).map_err(|source| Error::Parse {
            name: name.into(),
            id: None,
            source,
        })?;
        Ok((bytes, index))
    }

    /// Adds a module, or drops it (closing its fd, once) and reports it when
    /// the list cannot grow.
    fn push<K: Kernel + ?Sized>(&mut self, kernel: &K, module: ModuleBtf) {
        if self.modules.len() == self.modules.capacity() {
            let grow = self.modules.capacity().max(4);
            let bytes = grow.saturating_mul(size_of::<ModuleBtf>());
            let reserved = kernel
                .before_reserve(Alloc::Modules, bytes)
                .and_then(|()| self.modules.try_reserve(grow));
            if let Err(source) = reserved {
                let ModuleBtf { id, name, .. } = module;
                let error = Error::OutOfMemory {
                    what: Alloc::Modules,
                    id,
                    bytes,
                    source,
                };
                self.fail(id, Some(name), error);
                return;
            }
        }
        self.modules.push(module);
    }

    fn fail(&mut self, id: Option<BtfId>, name: Option<String>, error: Error) {
        self.failures.push(ModuleFailure { id, name, error });
    }
}
