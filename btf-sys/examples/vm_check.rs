//! The test program `btf-sys/tests/vm/run.sh` runs inside a VM whose kernel
//! has real modules loaded: it checks module BTF found by id against
//! `/sys/kernel/btf`, and the sysfs fallback without privileges.
//!
//! ```text
//! vm_check root --dir DIR [--expect m1,m2,...]   # as root; saves what it read by id in DIR
//! vm_check user --dir DIR [--expect m1,m2,...]   # unprivileged; compares with DIR
//! ```
//!
//! Every check prints one line, `VMCHECK PASS [who] ...` or
//! `VMCHECK FAIL [who] ...`; `VMCHECK MODULES [who] expected=N found=M`
//! reports the module count; the last line is
//! `VMCHECK TALLY [who] N passed, M failed`. Exit status 0 only when nothing
//! failed.
//!
//! Build it static: `cargo build --release -p btf-sys --example vm_check
//! --target x86_64-unknown-linux-musl`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use btf_core::Btf;
use btf_sys::{
    BtfId, Discovery, Error, KernelBtf, Linux, LoadOptions, Owner, btf_ids, btf_info, open_btf,
    read_btf,
};

const SYSFS: &str = "/sys/kernel/btf";

/// BTF blobs by module (or file) name.
type Blobs = BTreeMap<String, Vec<u8>>;

struct Tally {
    who: &'static str,
    passed: u32,
    failed: u32,
}

impl Tally {
    fn check(&mut self, ok: bool, what: impl Display) -> bool {
        if ok {
            self.passed += 1;
            println!("VMCHECK PASS [{}] {what}", self.who);
        } else {
            self.failed += 1;
            println!("VMCHECK FAIL [{}] {what}", self.who);
        }
        ok
    }

    fn pass(&mut self, what: impl Display) {
        self.check(true, what);
    }

    fn fail(&mut self, what: impl Display) {
        self.check(false, what);
    }

    /// `Ok(v)` passes and gives `v`; `Err(e)` fails with `e`.
    fn ok<T, E: Display>(&mut self, result: Result<T, E>, what: impl Display) -> Option<T> {
        match result {
            Ok(value) => {
                self.pass(what);
                Some(value)
            }
            Err(error) => {
                self.fail(format_args!("{what}: {error}"));
                None
            }
        }
    }

    fn note(&self, what: impl Display) {
        println!("VMCHECK NOTE [{}] {what}", self.who);
    }
}

struct Args {
    user: bool,
    dir: PathBuf,
    expect: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let user = match args.next().as_deref() {
        Some("root") => false,
        Some("user") => true,
        other => {
            return Err(format!(
                "first argument must be root or user, not {other:?}"
            ));
        }
    };
    let mut dir = None;
    let mut expect = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => dir = args.next().map(PathBuf::from),
            "--expect" => {
                let list = args.next().unwrap_or_default();
                expect = list
                    .split(',')
                    .filter(|name| !name.is_empty())
                    .map(|name| name.replace('-', "_"))
                    .collect();
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let dir = dir.ok_or("--dir DIR is required")?;
    Ok(Args { user, dir, expect })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("vm_check: {error}");
            return ExitCode::from(2);
        }
    };
    let mut tally = Tally {
        who: if args.user { "user" } else { "root" },
        passed: 0,
        failed: 0,
    };
    if args.user {
        as_user(&mut tally, &args);
    } else {
        as_root(&mut tally, &args);
    }
    println!(
        "VMCHECK TALLY [{}] {} passed, {} failed",
        tally.who, tally.passed, tally.failed
    );
    if tally.failed == 0 && tally.passed > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Every file in /sys/kernel/btf, read whole.
fn read_sysfs(tally: &mut Tally) -> Option<Blobs> {
    let read = || -> std::io::Result<Blobs> {
        let mut files = BTreeMap::new();
        for entry in fs::read_dir(SYSFS)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            files.insert(name, fs::read(entry.path())?);
        }
        Ok(files)
    };
    let files = tally.ok(read(), format_args!("read every file in {SYSFS}"))?;
    tally.note(format_args!(
        "{SYSFS}: {}",
        files
            .iter()
            .map(|(name, bytes)| format!("{name}({})", bytes.len()))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    Some(files)
}

fn module_names(files: &Blobs) -> BTreeSet<String> {
    files
        .keys()
        .filter(|name| *name != "vmlinux")
        .cloned()
        .collect()
}

fn list(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(",")
}

/// Checks the expected modules are among `found` and prints the count line.
fn check_expected(tally: &mut Tally, expect: &[String], found: &BTreeSet<String>, how: &str) {
    let missing: Vec<&str> = expect
        .iter()
        .filter(|name| !found.contains(*name))
        .map(String::as_str)
        .collect();
    println!(
        "VMCHECK MODULES [{}] expected={} found={} ({how})",
        tally.who,
        expect.len(),
        found.len()
    );
    tally.check(
        missing.is_empty() && found.len() >= expect.len() && !found.is_empty(),
        format_args!(
            "{how}: all {} inserted modules found among {} (missing: [{}])",
            expect.len(),
            found.len(),
            missing.join(",")
        ),
    );
}

/// The number of open fds of this process.
fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

/// A field of /proc/self/status, e.g. `Uid`.
fn status_field(field: &str) -> Option<String> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key == field).then(|| value.trim().to_owned())
    })
}

/// Parses every module split on `vmlinux` with btf-core directly; the
/// type counts by name.
fn parse_modules(
    tally: &mut Tally,
    vmlinux: &Btf<'_>,
    modules: &Blobs,
    how: &str,
) -> BTreeMap<String, u32> {
    let mut counts = BTreeMap::new();
    for (name, bytes) in modules {
        match Btf::parse_split(bytes, vmlinux) {
            Ok(btf) => {
                let first = btf.first_id().get();
                let expected_first = vmlinux.last_id().get() + 1;
                if tally.check(
                    first == expected_first && btf.is_split(),
                    format_args!(
                        "{how}: {name} parses split on vmlinux: {} types from id {first} (want first id {expected_first})",
                        btf.type_count()
                    ),
                ) {
                    counts.insert(name.clone(), btf.type_count());
                }
            }
            Err(error) => tally.fail(format_args!(
                "{how}: {name} does not parse on vmlinux: {error}"
            )),
        }
    }
    counts
}

/// Checks a loaded set's modules: names, bytes, ids, fds, parsed views.
fn check_set(
    tally: &mut Tally,
    set: &KernelBtf,
    how: &str,
    want: &Blobs,
    ids: Option<&BTreeMap<String, BtfId>>,
    counts: &BTreeMap<String, u32>,
) {
    for failure in set.failures() {
        tally.fail(format_args!(
            "{how}: reported failure for {:?} (id {:?}): {}",
            failure.name, failure.id, failure.error
        ));
    }
    tally.check(
        set.failures().is_empty(),
        format_args!("{how}: no module failures ({})", set.failures().len()),
    );
    let names: BTreeSet<String> = set.modules().iter().map(|m| m.name().to_owned()).collect();
    let want_names: BTreeSet<String> = want.keys().cloned().collect();
    tally.check(
        names == want_names && names.len() == set.modules().len(),
        format_args!(
            "{how}: module names [{}] == [{}] ({} modules)",
            list(&names),
            list(&want_names),
            set.modules().len()
        ),
    );
    let vmlinux = set.vmlinux();
    for module in set.modules() {
        let name = module.name();
        let want_id = ids.and_then(|ids| ids.get(name).copied());
        let bytes_ok = want.get(name).is_some_and(|bytes| bytes == module.bytes());
        let btf = module.btf();
        let (parsed_ok, types) = (
            counts.get(name) == Some(&btf.type_count())
                && btf.first_id().get() == vmlinux.last_id().get() + 1,
            btf.type_count().to_string(),
        );
        tally.check(
            module.id() == want_id && bytes_ok && parsed_ok && module.fd().is_none(),
            format_args!(
                "{how}: {name}: id {:?} (want {:?}), {} bytes identical: {bytes_ok}, view on vmlinux: {types} types (btf-core alone: {:?})",
                module.id().map(BtfId::get),
                want_id.map(BtfId::get),
                module.bytes().len(),
                counts.get(name)
            ),
        );
    }
}

/// `find_types` must answer, for a name a module defines, that module —
/// also when vmlinux defines the same name.
fn check_find_types(tally: &mut Tally, set: &KernelBtf) {
    let vmlinux = set.vmlinux();
    for module in set.modules() {
        let btf = module.btf();
        let mut unique = None;
        let mut shared = None;
        for ty in btf.types() {
            let Ok(name) = ty.name() else { continue };
            if name.is_empty() {
                continue;
            }
            let in_vmlinux = vmlinux.find_by_name(name).is_some();
            let slot = if in_vmlinux { &mut shared } else { &mut unique };
            if slot.is_none() {
                *slot = Some((name.to_owned(), ty.id(), ty.kind()));
            }
            if unique.is_some() && shared.is_some() {
                break;
            }
        }
        for (name, id, kind) in unique.into_iter().chain(shared) {
            let owners: Vec<String> = set
                .find_types(&name)
                .map(|found| format!("{}:{}", found.owner.name(), found.id.get()))
                .collect();
            let hit = set.find_types(&name).any(|found| {
                matches!(found.owner, Owner::Module(m) if m.name() == module.name())
                    && found.id == id
                    && found.kind == kind
            });
            tally.check(
                hit,
                format_args!(
                    "find_types({name:?}) includes {}:{} (a {kind} it defines{}): got [{}]",
                    module.name(),
                    id.get(),
                    if vmlinux.find_by_name(&name).is_some() {
                        ", vmlinux has the name too"
                    } else {
                        ""
                    },
                    owners.join(" ")
                ),
            );
        }
    }
}

fn as_root(tally: &mut Tally, args: &Args) {
    let Some(sysfs) = read_sysfs(tally) else {
        return;
    };
    let Some(sysfs_vmlinux) = sysfs.get("vmlinux") else {
        tally.fail(format_args!("{SYSFS}/vmlinux exists"));
        return;
    };
    let sysfs_modules: Blobs = sysfs
        .iter()
        .filter(|(name, _)| *name != "vmlinux")
        .map(|(name, bytes)| (name.clone(), bytes.clone()))
        .collect();
    let Some(vmlinux) = tally.ok(Btf::parse(sysfs_vmlinux), "sysfs vmlinux parses") else {
        return;
    };
    tally.note(format_args!("vmlinux: {} types", vmlinux.type_count()));

    // Every BTF object by id.
    let fds_before = open_fds();
    let mut listed = Vec::new();
    for id in btf_ids(&Linux) {
        match id {
            Ok(id) => listed.push(id),
            Err(error) => {
                tally.fail(format_args!("listing btf ids: {error}"));
                break;
            }
        }
    }
    tally.check(
        !listed.is_empty(),
        format_args!(
            "BPF_BTF_GET_NEXT_ID lists {} ids: {:?}",
            listed.len(),
            listed.iter().map(|id| id.get()).collect::<Vec<_>>()
        ),
    );
    let mut by_id: BTreeMap<String, (BtfId, Vec<u8>)> = BTreeMap::new();
    for &id in &listed {
        let fd = match open_btf(&Linux, id) {
            Ok(fd) => fd,
            Err(error) => {
                tally.fail(format_args!("open btf id {id}: {error}"));
                continue;
            }
        };
        let object = match read_btf(&Linux, &fd) {
            Ok(object) => object,
            Err(error) => {
                tally.fail(format_args!("read btf id {id}: {error}"));
                continue;
            }
        };
        let info = object.info;
        if info.id != id || info.size as usize != object.bytes.len() {
            tally.fail(format_args!(
                "btf id {id}: info says id {} size {}, read {} bytes",
                info.id,
                info.size,
                object.bytes.len()
            ));
        }
        if !info.kernel_btf {
            tally.note(format_args!(
                "btf id {id} is user BTF {:?}, skipped",
                info.name
            ));
            continue;
        }
        if let Some((other, _)) = by_id.insert(info.name.clone(), (id, object.bytes)) {
            tally.fail(format_args!(
                "btf ids {other} and {id} are both named {:?}",
                info.name
            ));
        }
    }
    tally.check(
        open_fds() == fds_before,
        format_args!(
            "fds back to {fds_before} after reading every id (now {})",
            open_fds()
        ),
    );

    // vmlinux by id.
    let vmlinux_id = by_id.get("vmlinux").map(|(id, _)| *id);
    match by_id.get("vmlinux") {
        Some((id, bytes)) => tally.check(
            bytes == sysfs_vmlinux,
            format_args!(
                "vmlinux by id {id}: {} bytes, identical to {SYSFS}/vmlinux ({} bytes): {}",
                bytes.len(),
                sysfs_vmlinux.len(),
                bytes == sysfs_vmlinux
            ),
        ),
        None => tally.check(false, "vmlinux found by id"),
    };

    // Modules by id: identical to sysfs, and they parse on vmlinux.
    let by_id_modules: Blobs = by_id
        .iter()
        .filter(|(name, _)| *name != "vmlinux")
        .map(|(name, (_, bytes))| (name.clone(), bytes.clone()))
        .collect();
    let ids: BTreeMap<String, BtfId> = by_id
        .iter()
        .filter(|(name, _)| *name != "vmlinux")
        .map(|(name, (id, _))| (name.clone(), *id))
        .collect();
    for (name, (id, bytes)) in by_id.iter().filter(|(name, _)| *name != "vmlinux") {
        let sysfs_bytes = sysfs.get(name);
        tally.check(
            sysfs_bytes == Some(bytes),
            format_args!(
                "module {name} by id {id}: {} bytes, identical to {SYSFS}/{name} ({:?} bytes)",
                bytes.len(),
                sysfs_bytes.map(Vec::len)
            ),
        );
    }
    let id_names: BTreeSet<String> = by_id_modules.keys().cloned().collect();
    let sysfs_names = module_names(&sysfs);
    tally.check(
        id_names == sysfs_names,
        format_args!(
            "modules by id [{}] == modules in {SYSFS} [{}]",
            list(&id_names),
            list(&sysfs_names)
        ),
    );
    check_expected(tally, &args.expect, &id_names, "by id");
    let counts = parse_modules(tally, &vmlinux, &by_id_modules, "by id");

    // KernelBtf::load, by id.
    if let Some(set) = tally.ok(KernelBtf::load(), "KernelBtf::load() as root") {
        tally.check(
            set.discovery() == Discovery::ById,
            format_args!("load(): discovery {:?} == ById", set.discovery()),
        );
        tally.check(
            set.vmlinux_id().is_some() && set.vmlinux_id() == vmlinux_id,
            format_args!(
                "load(): vmlinux id {:?} == {:?}",
                set.vmlinux_id(),
                vmlinux_id
            ),
        );
        tally.check(
            &set.vmlinux_bytes()[..] == sysfs_vmlinux.as_slice()
                && set.vmlinux().type_count() == vmlinux.type_count(),
            format_args!(
                "load(): vmlinux {} bytes (mapped: {}) identical to sysfs, {} types",
                set.vmlinux_bytes().len(),
                set.vmlinux_bytes().is_mapped(),
                set.vmlinux().type_count()
            ),
        );
        check_set(
            tally,
            &set,
            "load() by id",
            &by_id_modules,
            Some(&ids),
            &counts,
        );
        check_find_types(tally, &set);
    }

    // With fds kept: each fd is the module's object; all closed on drop.
    let fds_before = open_fds();
    let options = LoadOptions::new().keep_fds(true);
    if let Some(set) = tally.ok(
        KernelBtf::load_with(&Linux, options),
        "KernelBtf::load_with(keep_fds) as root",
    ) {
        let mut good = 0;
        for module in set.modules() {
            let info = module.fd().map(|fd| btf_info(&Linux, fd));
            match info {
                Some(Ok(info))
                    if Some(info.id) == module.id()
                        && info.name == module.name()
                        && info.kernel_btf
                        && info.size as usize == module.bytes().len() =>
                {
                    good += 1;
                }
                other => tally.fail(format_args!(
                    "keep_fds: {} (id {:?}): fd info {other:?}",
                    module.name(),
                    module.id()
                )),
            }
        }
        tally.check(
            good == set.modules().len() && good == by_id_modules.len(),
            format_args!(
                "keep_fds: {good} of {} module fds name their module by id and size",
                set.modules().len()
            ),
        );
        let vmlinux_info = set.vmlinux_fd().map(|fd| btf_info(&Linux, fd));
        tally.check(
            matches!(&vmlinux_info, Some(Ok(info)) if info.name == "vmlinux" && Some(info.id) == vmlinux_id),
            format_args!("keep_fds: vmlinux fd info {vmlinux_info:?}"),
        );
        let held = open_fds();
        drop(set);
        tally.check(
            open_fds() == fds_before,
            format_args!(
                "keep_fds: {held} fds open while held, {} after drop (before: {fds_before})",
                open_fds()
            ),
        );
    }

    // Sysfs discovery works as root too, with no ids.
    let options = LoadOptions::new().discovery(Discovery::Sysfs);
    if let Some(set) = tally.ok(
        KernelBtf::load_with(&Linux, options),
        "KernelBtf::load_with(Discovery::Sysfs) as root",
    ) {
        tally.check(
            set.discovery() == Discovery::Sysfs && set.vmlinux_id().is_none(),
            format_args!(
                "sysfs as root: discovery {:?}, vmlinux id {:?}",
                set.discovery(),
                set.vmlinux_id()
            ),
        );
        check_set(tally, &set, "sysfs as root", &sysfs_modules, None, &counts);
    }

    save(tally, &args.dir, sysfs_vmlinux, &by_id_modules);
}

/// Leaves what root read by id for the unprivileged run.
fn save(tally: &mut Tally, dir: &Path, vmlinux: &[u8], modules: &Blobs) {
    let write = || -> std::io::Result<()> {
        fs::create_dir_all(dir)?;
        fs::write(dir.join("vmlinux.btf"), vmlinux)?;
        for (name, bytes) in modules {
            fs::write(dir.join(format!("{name}.btf")), bytes)?;
        }
        let names: Vec<&str> = modules.keys().map(String::as_str).collect();
        fs::write(dir.join("names"), names.join("\n") + "\n")
    };
    tally.ok(
        write(),
        format_args!(
            "saved {} modules read by id in {}",
            modules.len(),
            dir.display()
        ),
    );
}

/// What the root run saved: vmlinux and the modules by name.
fn load_saved(dir: &Path) -> std::io::Result<(Vec<u8>, Blobs)> {
    let vmlinux = fs::read(dir.join("vmlinux.btf"))?;
    let mut modules = BTreeMap::new();
    for name in fs::read_to_string(dir.join("names"))?.lines() {
        if !name.is_empty() {
            modules.insert(name.to_owned(), fs::read(dir.join(format!("{name}.btf")))?);
        }
    }
    Ok((vmlinux, modules))
}

fn as_user(tally: &mut Tally, args: &Args) {
    let uid = status_field("Uid").unwrap_or_default();
    let caps = status_field("CapEff").unwrap_or_default();
    let unprivileged = !uid.is_empty()
        && uid.split_whitespace().all(|id| id != "0")
        && caps.trim_start_matches('0').is_empty();
    tally.check(
        unprivileged,
        format_args!("running unprivileged: Uid {uid:?}, CapEff {caps:?}"),
    );
    let Some((saved_vmlinux, by_id)) = tally.ok(
        load_saved(&args.dir),
        format_args!("read what root saved in {}", args.dir.display()),
    ) else {
        return;
    };
    tally.check(
        !by_id.is_empty(),
        format_args!("root found {} modules by id", by_id.len()),
    );
    let Some(sysfs) = read_sysfs(tally) else {
        return;
    };
    let sysfs_modules: Blobs = sysfs
        .iter()
        .filter(|(name, _)| *name != "vmlinux")
        .map(|(name, bytes)| (name.clone(), bytes.clone()))
        .collect();
    tally.check(
        sysfs_modules == by_id,
        format_args!(
            "{SYSFS} as user: [{}] identical to root's by id [{}]",
            list(&sysfs_modules.keys().cloned().collect()),
            list(&by_id.keys().cloned().collect())
        ),
    );

    // Listing ids is refused, as EPERM, and opening an id too.
    let first = btf_ids(&Linux).next();
    tally.check(
        matches!(first, Some(Err(Error::PermissionDenied { .. }))),
        format_args!("btf_ids() as user: first item {first:?} is PermissionDenied"),
    );
    if let Some(id) = BtfId::new(1) {
        let opened = open_btf(&Linux, id);
        tally.check(
            matches!(&opened, Err(error) if error.raw_os_error() == Some(libc::EPERM)),
            format_args!("open_btf(1) as user: {opened:?} is EPERM"),
        );
    }
    let by_id_only = KernelBtf::load_with(&Linux, LoadOptions::new().discovery(Discovery::ById));
    tally.check(
        matches!(by_id_only, Err(Error::PermissionDenied { .. })),
        format_args!(
            "load_with(Discovery::ById) as user: {:?} is PermissionDenied",
            by_id_only.as_ref().map(|set| set.modules().len())
        ),
    );

    let Some(vmlinux) = tally.ok(Btf::parse(&saved_vmlinux), "saved vmlinux parses") else {
        return;
    };
    let counts = parse_modules(tally, &vmlinux, &by_id, "sysfs as user");

    // KernelBtf::load falls back to sysfs and gives what root found by id.
    let Some(set) = tally.ok(KernelBtf::load(), "KernelBtf::load() as user") else {
        return;
    };
    tally.check(
        set.discovery() == Discovery::Sysfs
            && set.vmlinux_id().is_none()
            && set.vmlinux_fd().is_none(),
        format_args!(
            "load() as user: discovery {:?} == Sysfs, vmlinux id {:?}",
            set.discovery(),
            set.vmlinux_id()
        ),
    );
    tally.check(
        &set.vmlinux_bytes()[..] == saved_vmlinux.as_slice(),
        format_args!(
            "load() as user: vmlinux {} bytes identical to root's by id",
            set.vmlinux_bytes().len()
        ),
    );
    let found: BTreeSet<String> = set.modules().iter().map(|m| m.name().to_owned()).collect();
    check_expected(tally, &args.expect, &found, "sysfs fallback");
    check_set(tally, &set, "load() as user", &by_id, None, &counts);
    check_find_types(tally, &set);
}
