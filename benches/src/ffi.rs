//! All of the bench crate's `unsafe` code, in one place: libbpf's BTF API
//! (through `libbpf-sys`, which builds libbpf from source), its object
//! API (prepare, and for the kernel's CO-RE selftests load, attach, run),
//! glibc's `mallinfo2()`, and a counting global allocator.
//!
//! Everything here is wrapped in safe functions whose invariants are stated
//! once, on the type that owns the pointer.

use core::ffi::CStr;
use core::marker::PhantomData;
use core::ptr::NonNull;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The libbpf version `libbpf-sys` built, as `major.minor`.
pub fn libbpf_version() -> String {
    // SAFETY: both functions take no arguments and only return constants.
    let (major, minor) = unsafe {
        (
            libbpf_sys::libbpf_major_version(),
            libbpf_sys::libbpf_minor_version(),
        )
    };
    format!("{major}.{minor}")
}

/// A `struct btf` owned by libbpf, freed on drop.
///
/// Invariant: `ptr` came from a successful `btf__new` or `btf__new_split`
/// and has not been freed; for a split, the base (borrowed for `'b`)
/// outlives it, as libbpf requires.
pub struct LibbpfBtf<'b> {
    ptr: NonNull<libbpf_sys::btf>,
    _base: PhantomData<&'b LibbpfBtf<'b>>,
}

/// One type record as libbpf hands it out: `name_off`, `info`, and the
/// `size`/`type` union.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawRecord {
    /// Offset of the name in the string section.
    pub name_off: u32,
    /// Kind, vlen and kind flag.
    pub info: u32,
    /// Size or referenced type id, by kind.
    pub size_or_type: u32,
}

impl RawRecord {
    /// The kind, from `info` (7 bits as in the 2026 encoding; libbpf 1.7
    /// uses 5, which is the same for every kind it knows).
    #[inline]
    pub fn kind(self) -> u32 {
        (self.info >> 24) & 0x7f
    }
}

impl LibbpfBtf<'static> {
    /// `btf__new`: libbpf copies `data`, then parses and validates it.
    ///
    /// # Errors
    ///
    /// The `errno` libbpf reports.
    pub fn new(data: &[u8]) -> Result<LibbpfBtf<'static>, i32> {
        let size = u32::try_from(data.len()).map_err(|_| libc::EFBIG)?;
        // SAFETY: `data` is valid for `size` bytes for the duration of the
        // call; libbpf copies them and keeps no pointer into `data`.
        let ptr = unsafe { libbpf_sys::btf__new(data.as_ptr().cast(), size) };
        Self::from_raw(ptr)
    }
}

impl LibbpfBtf<'static> {
    /// `btf__parse(path, NULL)`: libbpf reads the file (raw BTF, or an
    /// ELF's `.BTF`) and parses it, as `bpf_object__prepare` does with a
    /// `btf_custom_path`.
    ///
    /// # Errors
    ///
    /// The `errno` libbpf reports.
    pub fn parse_file(path: &CStr) -> Result<LibbpfBtf<'static>, i32> {
        // SAFETY: `path` is NUL-terminated and outlives the call; a NULL
        // `btf_ext` out-pointer asks libbpf not to return one.
        let ptr = unsafe { libbpf_sys::btf__parse(path.as_ptr(), core::ptr::null_mut()) };
        Self::from_raw(ptr)
    }
}

impl<'b> LibbpfBtf<'b> {
    /// `btf__new_split`: a split on `base`, which must outlive it (the
    /// lifetime says so).
    ///
    /// # Errors
    ///
    /// The `errno` libbpf reports.
    pub fn new_split(data: &[u8], base: &'b LibbpfBtf<'_>) -> Result<LibbpfBtf<'b>, i32> {
        let size = u32::try_from(data.len()).map_err(|_| libc::EFBIG)?;
        // SAFETY: `data` is valid for `size` bytes during the call and is
        // copied; `base.ptr` is a live `struct btf` (type invariant) that the
        // returned value borrows for `'b`, so it outlives the split. libbpf
        // takes the base as `*mut` but does not modify a base it reads.
        let ptr =
            unsafe { libbpf_sys::btf__new_split(data.as_ptr().cast(), size, base.ptr.as_ptr()) };
        Self::from_raw(ptr)
    }

    fn from_raw(ptr: *mut libbpf_sys::btf) -> Result<LibbpfBtf<'b>, i32> {
        match NonNull::new(ptr) {
            // libbpf 1.x returns NULL with errno set on failure (and never an
            // ERR_PTR, since libbpf 1.0's strict mode is the only mode).
            None => Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)),
            Some(ptr) => Ok(LibbpfBtf {
                ptr,
                _base: PhantomData,
            }),
        }
    }

    /// `btf__type_cnt`: the number of ids, void and the base's included
    /// (the last id + 1).
    #[inline]
    pub fn type_cnt(&self) -> u32 {
        // SAFETY: `ptr` is live (type invariant).
        unsafe { libbpf_sys::btf__type_cnt(self.ptr.as_ptr()) }
    }

    /// `btf__type_by_id`, copied out of libbpf's record.
    #[inline]
    pub fn type_by_id(&self, id: u32) -> Option<RawRecord> {
        // SAFETY: `ptr` is live (type invariant); libbpf checks the id and
        // returns NULL for one out of range.
        let t = unsafe { libbpf_sys::btf__type_by_id(self.ptr.as_ptr(), id) };
        if t.is_null() {
            return None;
        }
        // SAFETY: a non-NULL result points at a record of at least 12 bytes
        // inside the blob libbpf owns, which lives as long as `self`; the
        // read makes no assumption about alignment, and every bit pattern is
        // a valid `btf_type`.
        let t = unsafe { t.read_unaligned() };
        Some(RawRecord {
            name_off: t.name_off,
            info: t.info,
            // SAFETY: both fields of the union are `u32`.
            size_or_type: unsafe { t.__bindgen_anon_1.size },
        })
    }

    /// `btf__name_by_offset`, as bytes (without the NUL).
    #[inline]
    pub fn name_by_offset(&self, off: u32) -> Option<&[u8]> {
        // SAFETY: `ptr` is live; libbpf checks the offset and returns NULL
        // when it is out of range.
        let s = unsafe { libbpf_sys::btf__name_by_offset(self.ptr.as_ptr(), off) };
        if s.is_null() {
            return None;
        }
        // SAFETY: a non-NULL result points into libbpf's string section,
        // which libbpf checked ends with a NUL, and lives as long as `self`.
        Some(unsafe { CStr::from_ptr(s) }.to_bytes())
    }

    /// `btf__find_by_name_kind`: the lowest id (base first) named `name`
    /// of `kind`.
    #[inline]
    pub fn find_by_name_kind(&self, name: &CStr, kind: u32) -> Option<u32> {
        // SAFETY: `ptr` is live and `name` is NUL-terminated.
        let id =
            unsafe { libbpf_sys::btf__find_by_name_kind(self.ptr.as_ptr(), name.as_ptr(), kind) };
        u32::try_from(id).ok()
    }

    /// `btf__find_by_name_kind_own`: as [`find_by_name_kind`](Self::find_by_name_kind),
    /// among this blob's own types only (not its base's).
    #[inline]
    pub fn find_by_name_kind_own(&self, name: &CStr, kind: u32) -> Option<u32> {
        // SAFETY: `ptr` is live and `name` is NUL-terminated; the function
        // is libbpf's (btf.c), declared below with its C signature.
        let id = unsafe { btf__find_by_name_kind_own(self.ptr.as_ptr(), name.as_ptr(), kind) };
        u32::try_from(id).ok()
    }

    /// `btf__resolve_size`.
    #[inline]
    pub fn resolve_size(&self, id: u32) -> Option<u64> {
        // SAFETY: `ptr` is live; libbpf checks the id.
        let n = unsafe { libbpf_sys::btf__resolve_size(self.ptr.as_ptr(), id) };
        u64::try_from(n).ok()
    }
}

/// What libbpf's C dumper writes into, through [`collect`].
struct Collected {
    out: Vec<u8>,
    scratch: Vec<u8>,
    /// A piece did not fit in `scratch`.
    overflow: bool,
}

unsafe extern "C" {
    /// libbpf's own-types lookup (btf.c; in libbpf's internal header, so
    /// libbpf-sys has no binding for it).
    fn btf__find_by_name_kind_own(
        btf: *const libbpf_sys::btf,
        type_name: *const core::ffi::c_char,
        kind: u32,
    ) -> i32;

    /// glibc's `vsnprintf`; on x86-64 a `va_list` argument is passed as a
    /// pointer to its tag, which is what libbpf hands the callback.
    fn vsnprintf(
        s: *mut core::ffi::c_char,
        n: usize,
        format: *const core::ffi::c_char,
        ap: *mut libbpf_sys::__va_list_tag,
    ) -> core::ffi::c_int;
}

/// libbpf's `btf_dump` print callback: formats one piece into `scratch` and
/// appends it to `out`.
///
/// # Safety
///
/// `ctx` is the `&mut Collected` given to `btf_dump__new`, and `format` and
/// `args` are the format string and arguments libbpf passes.
unsafe extern "C" fn collect(
    ctx: *mut core::ffi::c_void,
    format: *const core::ffi::c_char,
    args: *mut libbpf_sys::__va_list_tag,
) {
    // SAFETY: the caller passes back the `Collected` given to
    // `btf_dump__new`, which `c_dump` keeps alive and does not touch
    // while libbpf runs.
    let c = unsafe { &mut *ctx.cast::<Collected>() };
    // SAFETY: `scratch` is valid for its length; format and args come
    // from libbpf as a matching pair, used once.
    let n = unsafe { vsnprintf(c.scratch.as_mut_ptr().cast(), c.scratch.len(), format, args) };
    match usize::try_from(n) {
        Ok(n) if n < c.scratch.len() => c.out.extend_from_slice(&c.scratch[..n]),
        _ => c.overflow = true,
    }
}

impl LibbpfBtf<'_> {
    /// libbpf's BTF-to-C dumper: `btf_dump__dump_type` for each of `ids`
    /// in turn, on one `btf_dump` (so nothing is emitted twice), output
    /// collected.
    ///
    /// # Errors
    ///
    /// The first error `btf_dump__new` or `btf_dump__dump_type` returns
    /// (as a positive errno), with what was written before it.
    pub fn c_dump(&self, ids: impl IntoIterator<Item = u32>) -> Result<Vec<u8>, (i32, Vec<u8>)> {
        let mut c = Collected {
            out: Vec::new(),
            scratch: vec![0; 1 << 16],
            overflow: false,
        };
        let ctx: *mut Collected = &mut c;
        // SAFETY: `ptr` is live; the callback matches libbpf's printf
        // type; `ctx` points at `c`, which outlives the dumper (freed
        // below) and is only reached through `ctx` meanwhile.
        let d = unsafe {
            libbpf_sys::btf_dump__new(
                self.ptr.as_ptr(),
                Some(collect),
                ctx.cast(),
                core::ptr::null(),
            )
        };
        if d.is_null() {
            return Err((libc::EINVAL, Vec::new()));
        }
        let mut error = 0;
        for id in ids {
            // SAFETY: `d` is live until freed below.
            let r = unsafe { libbpf_sys::btf_dump__dump_type(d, id) };
            if r < 0 {
                error = -r;
                break;
            }
        }
        // SAFETY: `d` came from `btf_dump__new` and is freed once.
        unsafe { libbpf_sys::btf_dump__free(d) };
        assert!(!c.overflow, "a piece of libbpf's C dump exceeded 64 KiB");
        if error != 0 {
            return Err((error, c.out));
        }
        Ok(c.out)
    }
}

impl Drop for LibbpfBtf<'_> {
    fn drop(&mut self) {
        // SAFETY: `ptr` is live and owned by `self` (type invariant); any
        // split on it borrowed `self` and so has been dropped already.
        unsafe { libbpf_sys::btf__free(self.ptr.as_ptr()) }
    }
}

/// A `struct btf_ext` owned by libbpf, freed on drop.
///
/// Invariant: `ptr` came from a successful `btf_ext__new` and has not been
/// freed.
pub struct LibbpfBtfExt {
    ptr: NonNull<libbpf_sys::btf_ext>,
}

impl LibbpfBtfExt {
    /// `btf_ext__new`: libbpf copies `data`, checks it and swaps a
    /// foreign-order blob into the host's order.
    ///
    /// # Errors
    ///
    /// The `errno` libbpf reports.
    pub fn new(data: &[u8]) -> Result<LibbpfBtfExt, i32> {
        let size = u32::try_from(data.len()).map_err(|_| libc::EFBIG)?;
        // SAFETY: `data` is valid for `size` bytes for the duration of the
        // call; libbpf copies them and keeps no pointer into `data`.
        let ptr = unsafe { libbpf_sys::btf_ext__new(data.as_ptr(), size) };
        match NonNull::new(ptr) {
            None => Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)),
            Some(ptr) => Ok(LibbpfBtfExt { ptr }),
        }
    }

    /// The bytes as libbpf holds them after parsing, in the host's byte
    /// order (`btf_ext__set_endianness` to the host's, then
    /// `btf_ext__raw_data`), copied out.
    pub fn native_bytes(&mut self) -> Vec<u8> {
        let host = if cfg!(target_endian = "little") {
            libbpf_sys::BTF_LITTLE_ENDIAN
        } else {
            libbpf_sys::BTF_BIG_ENDIAN
        };
        // SAFETY: `ptr` is live (type invariant) and reached only through
        // `&mut self`.
        let r = unsafe { libbpf_sys::btf_ext__set_endianness(self.ptr.as_ptr(), host) };
        assert_eq!(r, 0, "btf_ext__set_endianness");
        let mut size = 0u32;
        // SAFETY: `ptr` is live; `size` is a valid out-pointer.
        let data = unsafe { libbpf_sys::btf_ext__raw_data(self.ptr.as_ptr(), &mut size) };
        assert!(!data.is_null(), "btf_ext__raw_data");
        // SAFETY: a non-NULL result points at `size` bytes libbpf owns,
        // alive until the next call on `self`; they are copied at once.
        unsafe { core::slice::from_raw_parts(data.cast::<u8>(), size as usize) }.to_vec()
    }
}

impl Drop for LibbpfBtfExt {
    fn drop(&mut self) {
        // SAFETY: `ptr` is live and owned by `self` (type invariant).
        unsafe { libbpf_sys::btf_ext__free(self.ptr.as_ptr()) }
    }
}

/// Everything libbpf printed while [`libbpf_prepare_log`] ran.
static LOG: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// libbpf's print callback for [`libbpf_prepare_log`]: every level,
/// formatted and appended to [`LOG`].
///
/// # Safety
///
/// `format` and `args` are the format string and arguments libbpf passes.
unsafe extern "C" fn log_print(
    _level: libbpf_sys::libbpf_print_level,
    format: *const core::ffi::c_char,
    args: *mut libbpf_sys::__va_list_tag,
) -> core::ffi::c_int {
    let mut buf = [0u8; 4096];
    // SAFETY: `buf` is valid for its length; format and args come from
    // libbpf as a matching pair, used once.
    let n = unsafe { vsnprintf(buf.as_mut_ptr().cast(), buf.len(), format, args) };
    if let Ok(n) = usize::try_from(n) {
        let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
        log.extend_from_slice(&buf[..n.min(buf.len() - 1)]);
    }
    n
}

/// Serialises the functions that install [`log_print`] (libbpf's print
/// callback is global).
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes what [`LOG`] holds.
fn take_log() -> String {
    String::from_utf8_lossy(&std::mem::take(
        &mut *LOG.lock().unwrap_or_else(|e| e.into_inner()),
    ))
    .into_owned()
}

fn path_cstring(p: &std::path::Path) -> std::ffi::CString {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes()).expect("path without NUL")
}

/// Every program of `obj` with its instructions as libbpf holds them now.
///
/// # Safety
///
/// `obj` is a live `bpf_object`, not used by anything else meanwhile.
unsafe fn read_programs(obj: *mut libbpf_sys::bpf_object) -> Vec<PreparedProgram> {
    let mut programs = Vec::new();
    let mut prog = core::ptr::null_mut();
    loop {
        // SAFETY: `obj` is live (caller); `prog` is null or the previous
        // program of `obj`.
        prog = unsafe { libbpf_sys::bpf_object__next_program(obj, prog) };
        if prog.is_null() {
            break;
        }
        // SAFETY: `prog` is a live program of `obj`; the strings it
        // returns are NUL-terminated and live as long as `obj`.
        let text = |p: *const core::ffi::c_char| unsafe {
            if p.is_null() {
                String::new()
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        // SAFETY: as above.
        let (name, section) = unsafe {
            (
                text(libbpf_sys::bpf_program__name(prog)),
                text(libbpf_sys::bpf_program__section_name(prog)),
            )
        };
        // SAFETY: `prog` is live; libbpf returns its instruction array
        // and count (null and 0 when it has none).
        let (ptr, cnt) = unsafe {
            (
                libbpf_sys::bpf_program__insns(prog),
                libbpf_sys::bpf_program__insn_cnt(prog) as usize,
            )
        };
        let insns = if ptr.is_null() || cnt == 0 {
            Vec::new()
        } else {
            // SAFETY: `ptr` points at `cnt` 8-byte `struct bpf_insn`s
            // owned by `obj`, copied at once.
            let bytes = unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), cnt * 8) };
            bytes
                .chunks_exact(8)
                .map(|c| <[u8; 8]>::try_from(c).expect("8 bytes"))
                .collect()
        };
        programs.push(PreparedProgram {
            name,
            section,
            insns,
        });
    }
    programs
}

/// Opens the BPF object at `object` with libbpf (`bpf_object__open_file`,
/// `btf_custom_path` = `target`), runs `bpf_object__prepare` (which
/// applies the CO-RE relocations against `target`; it needs bpf(2), so
/// root) and returns prepare's result with everything libbpf logged, at
/// every level, meanwhile. Calls are serialised: the print callback is
/// global.
///
/// # Errors
///
/// The errno of a failed open, with the log.
pub fn libbpf_prepare_log(
    object: &std::path::Path,
    target: &std::path::Path,
) -> Result<(i32, String), (i32, String)> {
    libbpf_prepare(object, target).map(|p| (p.err, p.log))
}

/// A program as libbpf holds it after `bpf_object__prepare`.
#[derive(Clone, Debug)]
pub struct PreparedProgram {
    /// `bpf_program__name`: its function's name.
    pub name: String,
    /// `bpf_program__section_name`.
    pub section: String,
    /// `bpf_program__insns`: its instructions (subprograms appended), each
    /// as the 8 bytes libbpf holds, in the host's byte order.
    pub insns: Vec<[u8; 8]>,
}

/// What [`libbpf_prepare`] saw.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// `-bpf_object__prepare()`: 0 or an errno.
    pub err: i32,
    /// Everything libbpf logged, at every level.
    pub log: String,
    /// Every (non-subprogram) program, in libbpf's order, read after
    /// prepare (whether or not it succeeded).
    pub programs: Vec<PreparedProgram>,
}

/// As [`libbpf_prepare_log`], and reads back each program's instructions
/// after `bpf_object__prepare`.
///
/// # Errors
///
/// The errno of a failed open, with the log.
pub fn libbpf_prepare(
    object: &std::path::Path,
    target: &std::path::Path,
) -> Result<Prepared, (i32, String)> {
    libbpf_prepare_on(object, Some(target))
}

/// As [`libbpf_prepare`]; with `target` `None`, no `btf_custom_path`:
/// libbpf relocates against the running kernel as a loader does, its
/// vmlinux BTF first, then (for a type vmlinux lacks) every loaded
/// module's BTF, which it reads by id through bpf(2).
///
/// # Errors
///
/// The errno of a failed open, with the log.
pub fn libbpf_prepare_on(
    object: &std::path::Path,
    target: Option<&std::path::Path>,
) -> Result<Prepared, (i32, String)> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (object, target) = (path_cstring(object), target.map(path_cstring));
    take_log();
    let opts = libbpf_sys::bpf_object_open_opts {
        sz: size_of::<libbpf_sys::bpf_object_open_opts>() as libbpf_sys::size_t,
        btf_custom_path: target.as_ref().map_or(core::ptr::null(), |t| t.as_ptr()),
        ..Default::default()
    };
    // SAFETY: `log_print` matches libbpf's callback type and only touches
    // `LOG`; the previous callback is restored below.
    let previous = unsafe { libbpf_sys::libbpf_set_print(Some(log_print)) };
    // SAFETY: both strings (the custom path may be NULL: none) are
    // NUL-terminated and outlive the object (libbpf copies the custom
    // path); `opts.sz` is its size.
    let obj = unsafe { libbpf_sys::bpf_object__open_file(object.as_ptr(), &opts) };
    let result = if obj.is_null() {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1))
    } else {
        // SAFETY: `obj` is live until closed, once, below.
        let r = unsafe { libbpf_sys::bpf_object__prepare(obj) };
        // SAFETY: `obj` is live; it is closed after this.
        let programs = unsafe { read_programs(obj) };
        // SAFETY: as above; nothing of `obj` is used after this.
        unsafe { libbpf_sys::bpf_object__close(obj) };
        Ok((-r, programs))
    };
    // SAFETY: restores what was there before.
    unsafe { libbpf_sys::libbpf_set_print(previous) };
    let log = take_log();
    match result {
        Ok((err, programs)) => Ok(Prepared { err, log, programs }),
        Err(e) => Err((e, log)),
    }
}

/// The current thread's ids as `bpf_get_current_pid_tgid()` gives them to
/// a BPF program: the process id (tgid) in the high half, the thread id
/// in the low half (as seen from the initial pid namespace; this process
/// must not be in another).
pub fn current_pid_tgid() -> u64 {
    // SAFETY: `gettid` takes no arguments and cannot fail.
    let tid = unsafe { libc::gettid() };
    (u64::from(std::process::id()) << 32) | u64::from(tid as u32)
}

/// What [`libbpf_load_and_run`] saw. Each stage runs only when the one
/// before succeeded: a non-zero errno ends the run.
#[derive(Clone, Debug, Default)]
pub struct LoadRun {
    /// `-bpf_object__prepare()`: 0 or an errno.
    pub prepare_err: i32,
    /// `-bpf_object__load()`: 0 or an errno (a verifier rejection is
    /// `EACCES` or `EINVAL`, with the verifier's log in `log`).
    pub load_err: i32,
    /// The errno of attaching the program, or 0.
    pub attach_err: i32,
    /// Everything libbpf logged, at every level.
    pub log: String,
    /// The object's `.bss` after the program ran.
    pub bss: Option<Vec<u8>>,
}

/// Runs a program of a BPF object as the kernel's CO-RE selftests do
/// (`prog_tests/core_reloc.c`): opens `object` with `btf_custom_path` =
/// `target`, runs `bpf_object__prepare` (CO-RE relocation, maps created),
/// hands each program's prepared instructions to `patch` (program name,
/// instructions) and installs what it leaves (`bpf_program__set_insns`),
/// loads the object into the kernel, writes `bss` (offset, bytes) into the
/// `.bss` map through `mmap`, attaches program `prog` (to raw tracepoint
/// `raw_tp`, or where its section says), makes a syscall from this thread
/// (a `nanosleep`, which fires `sys_enter`), detaches and reads `.bss`
/// back. Calls are serialised with [`libbpf_prepare`]'s. Needs root.
///
/// # Errors
///
/// The errno of a failed open, with the log.
///
/// # Panics
///
/// When the object has no program `prog` or no `.bss` map, or a write
/// falls outside the map.
pub fn libbpf_load_and_run(
    object: &std::path::Path,
    target: &std::path::Path,
    patch: &mut dyn FnMut(&str, &mut Vec<[u8; 8]>),
    prog: &str,
    raw_tp: Option<&str>,
    bss: &[(usize, &[u8])],
) -> Result<LoadRun, (i32, String)> {
    let mut syscall = || std::thread::sleep(std::time::Duration::from_micros(1));
    libbpf_load_and_run_on(object, Some(target), patch, prog, raw_tp, bss, &mut syscall)
}

/// As [`libbpf_load_and_run`], with `target` as in [`libbpf_prepare_on`]
/// (`None`: the running kernel and its modules) and `trigger` called,
/// on this thread, to fire the attached program.
///
/// # Errors
///
/// The errno of a failed open, with the log.
///
/// # Panics
///
/// As [`libbpf_load_and_run`].
pub fn libbpf_load_and_run_on(
    object: &std::path::Path,
    target: Option<&std::path::Path>,
    patch: &mut dyn FnMut(&str, &mut Vec<[u8; 8]>),
    prog: &str,
    raw_tp: Option<&str>,
    bss: &[(usize, &[u8])],
    trigger: &mut dyn FnMut(),
) -> Result<LoadRun, (i32, String)> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (object, target) = (path_cstring(object), target.map(path_cstring));
    let prog_name = std::ffi::CString::new(prog).expect("a name without NUL");
    let raw_tp = raw_tp.map(|t| std::ffi::CString::new(t).expect("a name without NUL"));
    take_log();
    let opts = libbpf_sys::bpf_object_open_opts {
        sz: size_of::<libbpf_sys::bpf_object_open_opts>() as libbpf_sys::size_t,
        btf_custom_path: target.as_ref().map_or(core::ptr::null(), |t| t.as_ptr()),
        ..Default::default()
    };
    // SAFETY: as in `libbpf_prepare`; restored below.
    let previous = unsafe { libbpf_sys::libbpf_set_print(Some(log_print)) };
    // SAFETY: as in `libbpf_prepare`.
    let obj = unsafe { libbpf_sys::bpf_object__open_file(object.as_ptr(), &opts) };
    let result = if obj.is_null() {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1))
    } else {
        // SAFETY: `obj` is live, used by this thread only, and closed once,
        // after the run.
        let run = unsafe { run_prepared(obj, patch, &prog_name, raw_tp.as_deref(), bss, trigger) };
        // SAFETY: as above; nothing of `obj` is used after this.
        unsafe { libbpf_sys::bpf_object__close(obj) };
        Ok(run)
    };
    // SAFETY: restores what was there before.
    unsafe { libbpf_sys::libbpf_set_print(previous) };
    let log = take_log();
    match result {
        Ok(run) => Ok(LoadRun { log, ..run }),
        Err(e) => Err((e, log)),
    }
}

/// [`libbpf_load_and_run`] on an opened object.
///
/// # Safety
///
/// `obj` is a live, opened and not yet prepared `bpf_object`, used by
/// nothing else meanwhile; the caller closes it.
unsafe fn run_prepared(
    obj: *mut libbpf_sys::bpf_object,
    patch: &mut dyn FnMut(&str, &mut Vec<[u8; 8]>),
    prog_name: &CStr,
    raw_tp: Option<&CStr>,
    bss: &[(usize, &[u8])],
    trigger: &mut dyn FnMut(),
) -> LoadRun {
    let mut run = LoadRun::default();
    let errno = |r: i32| if r < 0 { -r } else { 0 };
    // SAFETY: `obj` is live (caller).
    run.prepare_err = errno(unsafe { libbpf_sys::bpf_object__prepare(obj) });
    if run.prepare_err != 0 {
        return run;
    }
    // SAFETY: as above.
    let programs = unsafe { read_programs(obj) };
    for p in programs {
        let mut insns = p.insns;
        patch(&p.name, &mut insns);
        let name = std::ffi::CString::new(p.name).expect("a name without NUL");
        // SAFETY: `obj` is live; `name` is NUL-terminated.
        let prog = unsafe { libbpf_sys::bpf_object__find_program_by_name(obj, name.as_ptr()) };
        assert!(!prog.is_null(), "program {name:?} vanished");
        // SAFETY: `prog` is a live program of `obj`, not loaded yet;
        // `insns` holds `len` 8-byte instructions, which libbpf copies.
        let r = unsafe {
            libbpf_sys::bpf_program__set_insns(prog, insns.as_mut_ptr().cast(), insns.len() as _)
        };
        assert_eq!(r, 0, "bpf_program__set_insns({name:?})");
    }
    // SAFETY: `obj` is live and prepared.
    run.load_err = errno(unsafe { libbpf_sys::bpf_object__load(obj) });
    if run.load_err != 0 {
        return run;
    }
    // SAFETY: `obj` is live; the name is NUL-terminated.
    let map = unsafe { libbpf_sys::bpf_object__find_map_by_name(obj, c".bss".as_ptr()) };
    assert!(!map.is_null(), "the object has no .bss map");
    // SAFETY: `map` is a live map of the loaded `obj`.
    let (fd, size) = unsafe {
        (
            libbpf_sys::bpf_map__fd(map),
            libbpf_sys::bpf_map__value_size(map),
        )
    };
    let size = size as usize;
    // SAFETY: `sysconf` only reads a constant.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let len = size.div_ceil(page) * page;
    // SAFETY: maps `len` bytes of the map's value area (an mmapable array
    // of one element, page-rounded), shared with the kernel; unmapped below.
    let mem = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        )
    };
    assert!(
        mem != libc::MAP_FAILED,
        ".bss mmap: {}",
        std::io::Error::last_os_error()
    );
    let mem = mem.cast::<u8>();
    // SAFETY: `mem` is `len` writable bytes; no program runs yet.
    unsafe { core::ptr::write_bytes(mem, 0, len) };
    for (at, bytes) in bss {
        assert!(at + bytes.len() <= len, ".bss write at {at} past {len}");
        // SAFETY: checked to lie inside the mapping; the source is a
        // separate Rust slice.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), mem.add(*at), bytes.len()) };
    }
    // SAFETY: `obj` is live; the name is NUL-terminated.
    let prog = unsafe { libbpf_sys::bpf_object__find_program_by_name(obj, prog_name.as_ptr()) };
    assert!(!prog.is_null(), "no program {prog_name:?}");
    // SAFETY: `prog` is a loaded program of `obj`; the name is
    // NUL-terminated. A NULL result sets errno.
    let link = unsafe {
        match raw_tp {
            Some(tp) => libbpf_sys::bpf_program__attach_raw_tracepoint(prog, tp.as_ptr()),
            None => libbpf_sys::bpf_program__attach(prog),
        }
    };
    if link.is_null() {
        run.attach_err = std::io::Error::last_os_error().raw_os_error().unwrap_or(-1);
    } else {
        trigger();
        // Volatile reads: the kernel may still write this memory (other
        // processes' syscalls fire the program too, writing the same values).
        let out = (0..size)
            // SAFETY: `mem` holds `len` >= `size` readable bytes.
            .map(|i| unsafe { mem.add(i).read_volatile() })
            .collect();
        run.bss = Some(out);
        // SAFETY: `link` is live and destroyed once.
        unsafe { libbpf_sys::bpf_link__destroy(link) };
    }
    // SAFETY: `mem` is the mapping made above, `len` long, unmapped once.
    unsafe { libc::munmap(mem.cast(), len) };
    run
}

/// Turns libbpf's printing off (`libbpf_set_print(NULL)`), for the
/// timed loops; [`libbpf_prepare`] sets its own callback while it runs and
/// restores this.
pub fn libbpf_quiet() {
    // SAFETY: NULL is documented to turn printing off; nothing else runs.
    unsafe { libbpf_sys::libbpf_set_print(None) };
}

/// A BPF object file opened by libbpf, closed on drop.
///
/// Invariant: `ptr` came from a successful `bpf_object__open_file` and has
/// not been closed.
pub struct LibbpfObject {
    ptr: NonNull<libbpf_sys::bpf_object>,
}

impl LibbpfObject {
    /// `bpf_object__open_file(object)` with `btf_custom_path` = `target`
    /// (libbpf copies the path): reads and checks the ELF, its BTF and
    /// `.BTF.ext`; the target is read only by
    /// [`prepare`](Self::prepare).
    ///
    /// # Errors
    ///
    /// The `errno` libbpf reports.
    pub fn open(object: &CStr, target: &CStr) -> Result<LibbpfObject, i32> {
        let opts = libbpf_sys::bpf_object_open_opts {
            sz: size_of::<libbpf_sys::bpf_object_open_opts>() as libbpf_sys::size_t,
            btf_custom_path: target.as_ptr(),
            ..Default::default()
        };
        // SAFETY: both strings are NUL-terminated and outlive the call
        // (libbpf copies the custom path); `opts.sz` is its size.
        let ptr = unsafe { libbpf_sys::bpf_object__open_file(object.as_ptr(), &opts) };
        match NonNull::new(ptr) {
            None => Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)),
            Some(ptr) => Ok(LibbpfObject { ptr }),
        }
    }

    /// `bpf_object__prepare`: everything `bpf_object__load` does before
    /// loading programs, among which parsing the target BTF
    /// (`btf__parse(btf_custom_path)`) and applying the CO-RE relocations,
    /// but also a probe program load, loading the object's BTF into the
    /// kernel and creating its maps (bpf(2), so root). Returns 0 or the
    /// errno.
    pub fn prepare(&mut self) -> i32 {
        // SAFETY: `ptr` is live (type invariant), reached through `&mut`.
        -unsafe { libbpf_sys::bpf_object__prepare(self.ptr.as_ptr()) }
    }
}

impl Drop for LibbpfObject {
    fn drop(&mut self) {
        // SAFETY: `ptr` is live and owned by `self` (type invariant); it is
        // closed once, here.
        unsafe { libbpf_sys::bpf_object__close(self.ptr.as_ptr()) }
    }
}

/// Bytes glibc's allocator holds for the program right now: small chunks
/// in use (`uordblks`) plus mmapped chunks (`hblkhd`), from `mallinfo2()`.
/// Large blocks (above the 128 KiB mmap threshold) only show in `hblkhd`.
pub fn glibc_heap_in_use() -> usize {
    // SAFETY: `mallinfo2` takes no arguments and returns a struct by value;
    // it only reads the allocator's statistics.
    let m = unsafe { libc::mallinfo2() };
    m.uordblks.saturating_add(m.hblkhd)
}

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static TOTAL: AtomicUsize = AtomicUsize::new(0);
static CALLS: AtomicUsize = AtomicUsize::new(0);

/// A global allocator that forwards to [`System`] and counts: bytes live,
/// their peak since [`reset_peak`], bytes ever requested and calls.
/// Install it in a binary with `#[global_allocator]`.
pub struct Counting;

/// A snapshot of [`Counting`]'s counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// Bytes allocated and not yet freed.
    pub live: usize,
    /// The highest `live` since [`reset_peak`].
    pub peak: usize,
    /// Bytes requested in total (a `realloc` counts its new size).
    pub total: usize,
    /// Allocation calls (`alloc`, `alloc_zeroed`, `realloc`).
    pub calls: usize,
}

/// The counters now.
pub fn counters() -> Counters {
    Counters {
        live: LIVE.load(Ordering::SeqCst),
        peak: PEAK.load(Ordering::SeqCst),
        total: TOTAL.load(Ordering::SeqCst),
        calls: CALLS.load(Ordering::SeqCst),
    }
}

/// Sets the peak to the bytes live now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::SeqCst), Ordering::SeqCst);
}

fn grew(by: usize) {
    let live = LIVE.fetch_add(by, Ordering::SeqCst).saturating_add(by);
    PEAK.fetch_max(live, Ordering::SeqCst);
    TOTAL.fetch_add(by, Ordering::SeqCst);
    CALLS.fetch_add(1, Ordering::SeqCst);
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; the counters are atomics
// and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees (non-zero size).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator (that is,
        // `System`) returned, with its layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and `new_size` is the caller's valid size.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
            grew(new_size);
        }
        p
    }
}
