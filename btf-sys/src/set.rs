//! The running kernel's BTF: vmlinux plus every module, each module parsed
//! as split BTF on vmlinux (libbpf's `load_module_btfs`), all parsed once
//! and kept.
//!
//! Ownership does the cleanup: a [`ModuleBtf`] is built in one expression
//! once its id, name, bytes, parse and (optional) fd all exist, so a failure
//! at any step drops exactly the parts made so far, each once, and the other
//! modules are kept.

mod names;

use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use btf_core::{Btf, BtfBuf, Kind, Type, TypeId};

use self::names::SetNames;

use crate::error::{Alloc, Error};
use crate::id::BtfId;
use crate::ids::btf_ids;
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
    /// Handed over as bytes ([`KernelBtf::from_blobs`]): no ids, no fds.
    /// What a set made that way reports; given to
    /// [`KernelBtf::load_with`], it means [`Discovery::Auto`].
    Given,
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

/// A module's BTF: id, name, its parse (kept), and optionally its fd.
///
/// The bytes are split BTF on the vmlinux of the [`KernelBtf`] it came
/// from, which the module holds; [`ModuleBtf::btf`] lends a view.
#[derive(Debug)]
pub struct ModuleBtf {
    id: Option<BtfId>,
    name: String,
    btf: BtfBuf<KernelBytes>,
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
        self.btf.bytes()
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

    /// The parsed view, split on its set's vmlinux: O(1), from the parse
    /// made at load (its id index, and the name index and whatever lookups
    /// learn, shared by every view).
    pub fn btf(&self) -> Btf<'_> {
        self.btf.btf()
    }

    /// The kept parse: bytes, index, and the shared vmlinux it is split on.
    pub fn btf_buf(&self) -> &BtfBuf<KernelBytes> {
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

impl<'a> Owner<'a> {
    /// `"vmlinux"` or the module's name.
    pub fn name(&self) -> &'a str {
        match self {
            Owner::Vmlinux => "vmlinux",
            Owner::Module(module) => &module.name,
        }
    }
}

/// A type found by name across vmlinux and the modules: where it lives,
/// its id and kind, and a view of it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FoundType<'a> {
    /// Where it lives.
    pub owner: Owner<'a>,
    /// Its id (in the owner's id space: module ids continue vmlinux's).
    pub id: TypeId,
    /// Its kind.
    pub kind: Kind,
    btf: Btf<'a>,
}

impl<'a> FoundType<'a> {
    /// The owner's view: vmlinux's, or the module's split on it.
    pub fn btf(&self) -> &Btf<'a> {
        &self.btf
    }

    /// The type itself (members, size, name, …).
    ///
    /// # Errors
    /// None in practice: the id came from this view's own types (or is
    /// `void`); [`btf_core::Error::NoSuchType`] should the owner's storage
    /// give other bytes than it was parsed from.
    pub fn ty(&self) -> Result<Type<'_>, btf_core::Error> {
        self.btf.type_by_id(self.id)
    }
}

/// Where a BPF program attaches (fentry/fexit, `tp_btf`, LSM, iterators):
/// the BTF object holding the target and the target's type id, as libbpf's
/// `find_kernel_btf_id` answers with `attach_btf_obj_fd` and
/// `attach_btf_id`.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct AttachTarget<'a> {
    /// The object holding the target.
    pub owner: Owner<'a>,
    /// The target's type id (a FUNC, or the TYPEDEF of a raw tracepoint).
    pub type_id: TypeId,
}

impl<'a> AttachTarget<'a> {
    /// The BTF object id of the owner, when the set was loaded by id.
    pub fn btf_obj_id(&self, set: &KernelBtf) -> Option<BtfId> {
        match self.owner {
            Owner::Vmlinux => set.vmlinux_id,
            Owner::Module(module) => module.id,
        }
    }

    /// The fd to pass as `attach_btf_obj_fd`: `None` for vmlinux (the
    /// kernel's default, fd 0 in the UAPI), the module's kept fd otherwise
    /// (`None` when the set was loaded without [`LoadOptions::keep_fds`] or
    /// the fd was taken).
    pub fn attach_btf_obj_fd(&self) -> Option<BorrowedFd<'a>> {
        match self.owner {
            Owner::Vmlinux => None,
            Owner::Module(module) => module.fd.as_ref().map(AsFd::as_fd),
        }
    }
}

/// vmlinux and module BTF of the running kernel, parsed once and kept.
///
/// vmlinux is parsed at load, and the modules all at once on it
/// ([`Btf::parse_splits`]); each keeps its id index. Lookups by name across
/// the whole set ([`find_type`](Self::find_type),
/// [`find_type_kind`](Self::find_type_kind),
/// [`find_types`](Self::find_types),
/// [`find_attach_target`](Self::find_attach_target)) answer from one hash
/// index of every name in the set, built on the first lookup (a few tens
/// of milliseconds for a distribution kernel with all its modules) and
/// kept: no lookup scans. A `KernelBtf` is `Send + Sync`; share it with
/// `Arc` for the life of a loader.
///
/// ```no_run
/// use btf_core::Kind;
/// let set = btf_sys::KernelBtf::load()?;
/// if let Some(found) = set.find_type("nft_expr_ops") {
///     let size = found.btf().size_of(found.id);
///     println!("[{}] {} in {}: {size:?} bytes", found.id, found.kind, found.owner.name());
/// }
/// // An fentry target in a module, as libbpf names it.
/// if let Some(target) = set.find_attach_target("nf_tables:nft_do_chain", Kind::FUNC) {
///     println!("{} [{}]", target.owner.name(), target.type_id);
/// }
/// for failure in set.failures() {
///     eprintln!("skipped {:?}: {}", failure.name, failure.error);
/// }
/// # Ok::<(), btf_sys::Error>(())
/// ```
#[derive(Debug)]
pub struct KernelBtf {
    vmlinux: Arc<BtfBuf<KernelBytes>>,
    vmlinux_id: Option<BtfId>,
    vmlinux_fd: Option<BtfFd>,
    modules: Vec<ModuleBtf>,
    failures: Vec<ModuleFailure>,
    discovery: Discovery,
    names: OnceLock<SetNames>,
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
    /// read otherwise) and every module BTF, through `kernel`; parses
    /// vmlinux, then every module at once on it.
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
        let vmlinux = BtfBuf::parse(vmlinux_bytes).map_err(|source| Error::Parse {
            name: "vmlinux".into(),
            id: None,
            source,
        })?;
        let mut scan = Scan {
            keep_fds: options.keep_fds,
            vmlinux_id: None,
            vmlinux_fd: None,
            read: Vec::new(),
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
            Discovery::Auto | Discovery::Given => match scan.scan_ids(kernel) {
                Ok(()) => Discovery::ById,
                Err(Error::PermissionDenied { .. }) => {
                    scan.scan_sysfs(kernel);
                    Discovery::Sysfs
                }
                Err(error) => return Err(error),
            },
        };
        let vmlinux = Arc::new(vmlinux);
        let Scan {
            vmlinux_id,
            vmlinux_fd,
            read,
            modules,
            mut failures,
            ..
        } = scan;
        let modules = parse_modules(&vmlinux, read, modules, &mut failures);
        Ok(KernelBtf {
            vmlinux,
            vmlinux_id,
            vmlinux_fd,
            modules,
            failures,
            discovery,
            names: OnceLock::new(),
        })
    }

    /// A set from BTF in hand: vmlinux and `(name, bytes)` of each module,
    /// say from a directory of another kernel's BTF, or from memory the
    /// caller already holds (`Arc<[u8]>` converts into [`KernelBytes`]
    /// without a copy). Parsed as [`load_with`](Self::load_with) parses:
    /// vmlinux, then every module at once on it; a module that does not
    /// parse is listed in [`failures`](Self::failures) with its name.
    /// [`discovery`](Self::discovery) is [`Discovery::Given`]; no ids or
    /// fds.
    ///
    /// # Errors
    /// [`Error::Parse`] when vmlinux does not parse.
    pub fn from_blobs(
        vmlinux: KernelBytes,
        modules: impl IntoIterator<Item = (String, KernelBytes)>,
    ) -> Result<KernelBtf, Error> {
        let vmlinux = BtfBuf::parse(vmlinux).map_err(|source| Error::Parse {
            name: "vmlinux".into(),
            id: None,
            source,
        })?;
        let read: Vec<Read> = modules
            .into_iter()
            .map(|(name, bytes)| Read {
                id: None,
                name,
                bytes,
                fd: None,
            })
            .collect();
        let room = Vec::with_capacity(read.len());
        let vmlinux = Arc::new(vmlinux);
        let mut failures = Vec::new();
        let modules = parse_modules(&vmlinux, read, room, &mut failures);
        Ok(KernelBtf {
            vmlinux,
            vmlinux_id: None,
            vmlinux_fd: None,
            modules,
            failures,
            discovery: Discovery::Given,
            names: OnceLock::new(),
        })
    }

    /// The parsed vmlinux, in O(1): also the base of every module's view.
    pub fn vmlinux(&self) -> Btf<'_> {
        self.vmlinux.btf()
    }

    /// The kept parse of vmlinux, shared by every module (an `Arc`, to
    /// split more BTF on it, e.g. a module loaded later).
    pub fn vmlinux_buf(&self) -> &Arc<BtfBuf<KernelBytes>> {
        &self.vmlinux
    }

    /// The raw vmlinux bytes.
    pub fn vmlinux_bytes(&self) -> &KernelBytes {
        self.vmlinux.storage()
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
        self.find_types_where(name, None, None).next()
    }

    /// As [`KernelBtf::find_type`], of kind `kind` only.
    pub fn find_type_kind(&self, name: &str, kind: Kind) -> Option<FoundType<'_>> {
        self.find_types_where(name, Some(kind), None).next()
    }

    /// Every owner's type named `name`, at most one per owner (vmlinux, then
    /// each module's own types): modules may define types of the same name.
    pub fn find_types<'a>(&'a self, name: &str) -> impl Iterator<Item = FoundType<'a>> + use<'a> {
        self.find_types_where(name, None, None)
    }

    /// The attach target `target` of kind `kind` (`FUNC` for
    /// fentry/fexit/LSM/iterators, `TYPEDEF` for `tp_btf`'s
    /// `btf_trace_<name>`), as libbpf's `find_kernel_btf_id` finds it:
    /// `function` is looked up in vmlinux, then in each module's own types
    /// in module order; `module:function` only in that module (exactly that
    /// name; libbpf compares only the first `strlen(module)` bytes of each
    /// module's name) and `vmlinux:function` only in vmlinux.
    pub fn find_attach_target(&self, target: &str, kind: Kind) -> Option<AttachTarget<'_>> {
        let (only, name) = match target.split_once(':') {
            Some(("vmlinux", name)) => (Some(Only::Vmlinux), name),
            Some((module, name)) => (Some(Only::Module(module)), name),
            None => (None, target),
        };
        let found = self.find_types_where(name, Some(kind), only).next()?;
        Some(AttachTarget {
            owner: found.owner,
            type_id: found.id,
        })
    }

    /// The set-wide index of names, built on first use.
    fn names(&self) -> &SetNames {
        self.names.get_or_init(|| {
            let blobs: Vec<Btf<'_>> = std::iter::once(self.vmlinux())
                .chain(self.modules.iter().map(ModuleBtf::btf))
                .collect();
            SetNames::build(&blobs)
        })
    }

    /// The bytes of blob `blob` of the set: 0 for vmlinux, `i + 1` for
    /// module `i`.
    fn blob_bytes(&self, blob: u32) -> &[u8] {
        match blob.checked_sub(1) {
            None => self.vmlinux.bytes(),
            Some(i) => self
                .modules
                .get(i as usize)
                .map_or(&[][..], ModuleBtf::bytes),
        }
    }

    fn find_types_where<'a>(
        &'a self,
        name: &str,
        kind: Option<Kind>,
        only: Option<Only<'_>>,
    ) -> impl Iterator<Item = FoundType<'a>> + use<'a> {
        // "void" is id 0 of every blob, found in vmlinux (as
        // `Btf::find_by_name` finds it).
        let void = (name == "void"
            && kind.is_none_or(|k| k == Kind::VOID)
            && !matches!(only, Some(Only::Module(_))))
        .then(|| FoundType {
            owner: Owner::Vmlinux,
            id: TypeId::new(0),
            kind: Kind::VOID,
            btf: self.vmlinux(),
        });
        let only_owner = match only {
            None => None,
            Some(Only::Vmlinux) => Some(Some(0)),
            Some(Only::Module(module)) => Some(
                self.modules
                    .iter()
                    .position(|m| m.name == module)
                    .and_then(|i| u32::try_from(i + 1).ok()),
            ),
        };
        let bytes_of = |blob| self.blob_bytes(blob);
        let hits = match only_owner {
            // A module that is not in the set holds nothing.
            Some(None) => None,
            Some(Some(owner)) => Some(self.names().hits(&bytes_of, name, kind, Some(owner))),
            None => Some(self.names().hits(&bytes_of, name, kind, None)),
        };
        let found = hits.into_iter().flatten().filter_map(move |hit| {
            let (owner, btf) = match hit.owner.checked_sub(1) {
                None => (Owner::Vmlinux, self.vmlinux()),
                Some(i) => {
                    let module = self.modules.get(i as usize)?;
                    (Owner::Module(module), module.btf())
                }
            };
            Some(FoundType {
                owner,
                id: hit.id,
                kind: hit.kind,
                btf,
            })
        });
        void.into_iter().chain(found)
    }
}

/// Where an attach target is looked up.
#[derive(Clone, Copy)]
enum Only<'n> {
    Vmlinux,
    Module(&'n str),
}

/// A module read but not yet parsed: parsed with the others at the end of
/// the scan.
struct Read {
    id: Option<BtfId>,
    name: String,
    bytes: KernelBytes,
    fd: Option<BtfFd>,
}

/// Parses every module read on `vmlinux` at once ([`Btf::parse_splits`]);
/// each becomes a [`ModuleBtf`] in `modules` (reserved for all of them
/// while they were read, so that no allocation can fail here), or a
/// failure with its id and name.
fn parse_modules(
    vmlinux: &Arc<BtfBuf<KernelBytes>>,
    read: Vec<Read>,
    mut modules: Vec<ModuleBtf>,
    failures: &mut Vec<ModuleFailure>,
) -> Vec<ModuleBtf> {
    let base = vmlinux.btf();
    let indexes: Vec<_> = Btf::parse_splits(read.iter().map(|m| &m.bytes[..]), &base)
        .into_iter()
        .map(|parsed| parsed.map(Btf::into_index))
        .collect();
    for (module, index) in read.into_iter().zip(indexes) {
        let Read {
            id,
            name,
            bytes: blob,
            fd,
        } = module;
        let btf =
            index.and_then(|index| BtfBuf::with_index(blob, index, Some(Arc::clone(vmlinux))));
        match btf {
            // Within the capacity reserved for it: no allocation.
            Ok(btf) => modules.push(ModuleBtf { id, name, btf, fd }),
            Err(source) => failures.push(ModuleFailure {
                id,
                error: Error::Parse {
                    name: name.clone(),
                    id,
                    source,
                },
                name: Some(name),
            }),
        }
    }
    modules
}

/// What loading has found so far; its parts become the [`KernelBtf`].
struct Scan {
    keep_fds: bool,
    vmlinux_id: Option<BtfId>,
    vmlinux_fd: Option<BtfFd>,
    read: Vec<Read>,
    /// Room for every module read, reserved as the list of reads grows.
    modules: Vec<ModuleBtf>,
    failures: Vec<ModuleFailure>,
}

/// One BTF object listed by id.
enum Listed {
    Module(Read),
    Vmlinux(Option<BtfFd>),
    /// User BTF, or an id that vanished.
    Other,
}

impl Scan {
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
        let raw = query(kernel, fd.as_borrowed(), some).map_err(|error| (None, error))?;
        if raw.kernel_btf == 0 {
            return Ok(Listed::Other);
        }
        let name = read_name(kernel, fd.as_borrowed(), some, raw.name_len)
            .map_err(|error| (None, error))?;
        if name == "vmlinux" {
            return Ok(Listed::Vmlinux(self.keep_fds.then_some(fd)));
        }
        let bytes = match read_bytes(kernel, fd.as_borrowed(), some, raw.btf_size) {
            Ok(bytes) => bytes,
            Err(error) => return Err((Some(name), error)),
        };
        Ok(Listed::Module(Read {
            id: some,
            name,
            bytes: KernelBytes::from(bytes),
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
                Ok(bytes) => {
                    let module = Read {
                        id: None,
                        name,
                        bytes: KernelBytes::from(bytes),
                        fd: None,
                    };
                    self.push(kernel, module);
                }
                Err(error) => self.fail(None, Some(name), error),
            }
        }
    }

    fn read_sysfs<K: Kernel + ?Sized>(&self, kernel: &K, name: &str) -> Result<Vec<u8>, Error> {
        let sysfs_error = |source| Error::Sysfs {
            path: PathBuf::from(crate::sys::VMLINUX_PATH).with_file_name(name),
            source,
        };
        let size = kernel.sysfs_size(name).map_err(sysfs_error)?;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let mut bytes = reserved_buffer(kernel, Alloc::Bytes, None, size)?;
        kernel.sysfs_read(name, &mut bytes).map_err(sysfs_error)?;
        Ok(bytes)
    }

    /// Adds a module, or drops it (closing its fd, once) and reports it when
    /// the list cannot grow.
    fn push<K: Kernel + ?Sized>(&mut self, kernel: &K, module: Read) {
        // The list of reads and the room for the modules they become grow
        // together (the room is checked too: its reservation may have failed
        // after the list's), so that turning reads into modules cannot fail.
        if self.read.len() == self.read.capacity() || self.read.len() >= self.modules.capacity() {
            let grow = self.read.capacity().max(4);
            let bytes = grow.saturating_mul(size_of::<Read>() + size_of::<ModuleBtf>());
            let reserved = kernel
                .before_reserve(Alloc::Modules, bytes)
                .and_then(|()| self.read.try_reserve(grow))
                .and_then(|()| self.modules.try_reserve(self.read.capacity()));
            if let Err(source) = reserved {
                let Read { id, name, .. } = module;
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
        self.read.push(module);
    }

    fn fail(&mut self, id: Option<BtfId>, name: Option<String>, error: Error) {
        self.failures.push(ModuleFailure { id, name, error });
    }
}
