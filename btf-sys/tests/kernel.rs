//! Tests against the running kernel (root only; see `common::have_root`).
//!
//! Every test holds `SERIAL` so the open-fd counts of one test are not
//! disturbed by another, and checks that the process's descriptor count
//! returns to its start value after every drop.

#![forbid(unsafe_code)]

mod common;

use std::sync::Mutex;

use btf_sys::{
    BtfFd, BtfId, Discovery, Error, KernelBtf, Linux, LoadOptions, Owner, btf_ids, btf_info,
    load_btf, open_btf, open_btfs, read_btf,
};
use common::{BtfWriter, have_root, open_fds};

static SERIAL: Mutex<()> = Mutex::new(());

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A small valid user BTF: `int` and `struct <name> { int x; }`.
fn small_btf(name: &str) -> Vec<u8> {
    let mut w = BtfWriter::base();
    let int = w.int("int", 4);
    w.structure(name, 4, &[("x", int, 0)]);
    w.finish()
}

#[test]
fn vmlinux_by_id_matches_sysfs() {
    let _serial = serial();
    if !have_root("vmlinux_by_id_matches_sysfs") {
        return;
    }
    let start = open_fds();
    let ids: Vec<BtfId> = btf_ids(&Linux)
        .collect::<Result<_, _>>()
        .expect("list btf ids");
    assert!(!ids.is_empty(), "no btf objects");
    assert!(
        ids.windows(2).all(|w| matches!(w, [a, b] if a < b)),
        "ids not increasing"
    );
    assert_eq!(open_fds(), start, "listing leaves no fds");

    let mut vmlinux = None;
    for item in open_btfs(&Linux) {
        let (id, fd) = item.expect("open btf");
        let info = btf_info(&Linux, &fd).expect("btf info");
        assert_eq!(info.id, id);
        if info.kernel_btf && info.name == "vmlinux" {
            vmlinux = Some(read_btf(&Linux, &fd).expect("read vmlinux"));
        }
    }
    assert_eq!(open_fds(), start, "every opened fd is closed");
    let vmlinux = vmlinux.expect("vmlinux among the btf objects");
    let sysfs = std::fs::read(VMLINUX).expect("read sysfs vmlinux");
    assert_eq!(vmlinux.info.size as usize, sysfs.len());
    assert!(vmlinux.bytes == sysfs, "vmlinux by id differs from sysfs");
}

#[test]
fn loaded_btf_reads_back_identical() {
    let _serial = serial();
    if !have_root("loaded_btf_reads_back_identical") {
        return;
    }
    let start = open_fds();
    let bytes = small_btf(&format!("btf_sys_test_{}", std::process::id()));
    {
        let fd = load_btf(&Linux, &bytes).expect("load small btf");
        assert_eq!(open_fds(), start + 1);
        let info = btf_info(&Linux, &fd).expect("info of loaded btf");
        assert!(!info.kernel_btf);
        assert_eq!(info.size as usize, bytes.len());

        let listed = btf_ids(&Linux).any(|id| matches!(id, Ok(id) if id == info.id));
        assert!(listed, "loaded btf id {} not listed", info.id);

        let again = open_btf(&Linux, info.id).expect("open loaded btf by id");
        assert_eq!(open_fds(), start + 2);
        let object = read_btf(&Linux, &again).expect("read loaded btf");
        assert_eq!(object.info.id, info.id);
        assert!(object.bytes == bytes, "bytes read back differ");

        let clone = fd.try_clone().expect("clone fd");
        assert_eq!(open_fds(), start + 3);
        drop(clone);
        drop(again);
        assert_eq!(open_fds(), start + 1);
    }
    assert_eq!(open_fds(), start, "fd closed on drop");
}

#[test]
fn foreign_fds_are_checked_before_info() {
    let _serial = serial();
    if !have_root("foreign_fds_are_checked_before_info") {
        return;
    }
    let start = open_fds();
    {
        // Not a BTF object: refused before the kernel sees our buffers.
        let file = std::fs::File::open("/dev/null").expect("open /dev/null");
        let fd = BtfFd::from_owned_fd(std::os::fd::OwnedFd::from(file));
        let error = btf_info(&Linux, &fd).expect_err("/dev/null is no btf");
        assert_eq!(error.raw_os_error(), Some(libc::EBADFD), "{error}");
        // A BTF fd that went through OwnedFd is recognised as one.
        let loaded = load_btf(&Linux, &small_btf("btf_sys_foreign")).expect("load");
        let wrapped = BtfFd::from(std::os::fd::OwnedFd::from(loaded));
        let info = btf_info(&Linux, &wrapped).expect("info through the check");
        assert!(!info.kernel_btf);
    }
    assert_eq!(open_fds(), start);
}

/// A descriptor another library owns (libbpf's `btf__fd`, aya's) is lent as
/// a `BorrowedFd`: read through, checked to be BTF, and never closed here.
#[test]
fn borrowed_fds_are_read_and_left_open() {
    use std::os::fd::AsFd;
    let _serial = serial();
    if !have_root("borrowed_fds_are_read_and_left_open") {
        return;
    }
    let start = open_fds();
    {
        // "Theirs": an OwnedFd this crate no longer knows came from BPF_BTF_LOAD.
        let blob = small_btf("btf_sys_borrowed");
        let theirs = std::os::fd::OwnedFd::from(load_btf(&Linux, &blob).expect("load"));
        let info = btf_info(&Linux, theirs.as_fd()).expect("info of a lent fd");
        let object = read_btf(&Linux, theirs.as_fd()).expect("bytes of a lent fd");
        assert_eq!(object.info.id, info.id);
        assert_eq!(object.bytes, blob);
        assert_eq!(open_fds(), start + 1, "lending opens and closes nothing");
        // Still theirs and still open: usable again.
        assert_eq!(btf_info(&Linux, theirs.as_fd()).expect("again").id, info.id);
        // A lent descriptor that is not BTF is refused before the kernel
        // writes through it.
        let null = std::fs::File::open("/dev/null").expect("open /dev/null");
        let error = read_btf(&Linux, null.as_fd()).expect_err("/dev/null is no btf");
        assert_eq!(error.raw_os_error(), Some(libc::EBADFD), "{error}");
    }
    assert_eq!(open_fds(), start, "only the owners closed their fds");
}

#[test]
fn rejected_btf_carries_verifier_log() {
    let _serial = serial();
    if !have_root("rejected_btf_carries_verifier_log") {
        return;
    }
    let start = open_fds();
    // A struct member pointing at type 5, which does not exist.
    let mut w = BtfWriter::base();
    w.structure("bad", 4, &[("x", 5, 0)]);
    let error = load_btf(&Linux, &w.finish()).expect_err("kernel must refuse");
    assert!(matches!(error, Error::Load { .. }), "{error}");
    assert_eq!(error.raw_os_error(), Some(libc::EINVAL));
    let log = error.verifier_log().expect("a log");
    assert!(!log.is_empty(), "empty verifier log");
    assert!(error.to_string().starts_with("BPF_BTF_LOAD: "), "{error}");
    assert_eq!(open_fds(), start);
}

#[test]
fn open_vanished_id_names_command_and_id() {
    let _serial = serial();
    if !have_root("open_vanished_id_names_command_and_id") {
        return;
    }
    let start = open_fds();
    // Load and close a BTF: its id is then free (and never reused).
    let id = {
        let fd = load_btf(&Linux, &small_btf("btf_sys_gone")).expect("load");
        btf_info(&Linux, &fd).expect("info").id
    };
    // The kernel frees the object asynchronously (RCU); wait for it.
    let mut error = None;
    for _ in 0..200 {
        match open_btf(&Linux, id) {
            Ok(fd) => drop(fd),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let error = error.expect("closed btf id vanishes");
    assert_eq!(error.raw_os_error(), Some(libc::ENOENT));
    assert_eq!(
        error.to_string(),
        format!(
            "BPF_BTF_GET_FD_BY_ID for btf id {id}: {}",
            std::io::Error::from_raw_os_error(libc::ENOENT)
        )
    );
    assert_eq!(open_fds(), start);
}

fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse::<u32>().ok());
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}

#[test]
fn kernel_set_by_id() {
    let _serial = serial();
    if !have_root("kernel_set_by_id") {
        return;
    }
    let start = open_fds();
    {
        let options = LoadOptions::new().keep_fds(true).discovery(Discovery::ById);
        let set = KernelBtf::load_with(&Linux, options).expect("load kernel btf");
        assert_eq!(set.discovery(), Discovery::ById);
        assert!(set.failures().is_empty(), "{:?}", set.failures());
        let id = set.vmlinux_id().expect("vmlinux id");
        let fd = set.vmlinux_fd().expect("vmlinux fd kept");
        assert_eq!(btf_info(&Linux, fd).expect("info").id, id);
        if kernel_at_least(6, 16) {
            assert!(set.vmlinux_bytes().is_mapped(), "vmlinux not mapped");
        }
        let sysfs = std::fs::read(VMLINUX).expect("read sysfs vmlinux");
        assert!(**set.vmlinux_bytes() == *sysfs);
        assert!(set.vmlinux().type_count() > 1000);
        let found = set.find_type("task_struct").expect("task_struct");
        assert!(matches!(found.owner, Owner::Vmlinux));
        assert_eq!(found.kind, btf_core::Kind::STRUCT);
        for module in set.modules() {
            let on_disk = std::fs::read(format!("/sys/kernel/btf/{}", module.name()))
                .expect("module sysfs file");
            assert!(module.bytes() == on_disk, "{} differs", module.name());
            assert!(module.fd().is_some());
            let vmlinux = set.vmlinux();
            let btf = module.btf();
            assert!(btf.first_id() > vmlinux.last_id());
        }
        assert_eq!(open_fds(), start + 1 + set.modules().len());
    }
    assert_eq!(open_fds(), start, "set drop closes every fd");
    {
        let set = KernelBtf::load().expect("load without fds");
        assert!(set.vmlinux_fd().is_none());
        assert_eq!(open_fds(), start);
    }
    assert_eq!(open_fds(), start);
}

#[test]
fn kernel_set_from_sysfs() {
    let _serial = serial();
    let start = open_fds();
    let options = LoadOptions::new()
        .keep_fds(true)
        .discovery(Discovery::Sysfs);
    let set = KernelBtf::load_with(&Linux, options).expect("load from sysfs");
    assert_eq!(set.discovery(), Discovery::Sysfs);
    assert!(set.vmlinux_id().is_none());
    let names: Vec<String> = std::fs::read_dir("/sys/kernel/btf")
        .expect("list sysfs btf")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name != "vmlinux")
        .collect();
    assert_eq!(set.modules().len(), names.len());
    assert!(
        set.modules()
            .iter()
            .all(|m| m.fd().is_none() && m.id().is_none())
    );
    drop(set);
    assert_eq!(open_fds(), start);
}

/// Runs `unprivileged_child` as user `nobody`: listing ids fails with
/// `EPERM`, and the kernel set falls back to sysfs.
#[test]
fn unprivileged_falls_back_to_sysfs() {
    use std::os::unix::process::CommandExt;
    let _serial = serial();
    if !have_root("unprivileged_falls_back_to_sysfs") {
        return;
    }
    // A copy in a private directory under /tmp that `nobody` may enter:
    // the build tree may be under a directory closed to other users.
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("btf-sys-unprivileged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("make a directory for the child");
    let exe = dir.join("kernel-test");
    std::fs::copy(std::env::current_exe().expect("test executable"), &exe).expect("copy test");
    for (path, mode) in [(&dir, 0o755), (&exe, 0o755)] {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let output = std::process::Command::new(&exe)
        .args(["--exact", "unprivileged_child", "--nocapture"])
        .env("BTF_SYS_UNPRIVILEGED_CHILD", "1")
        .current_dir("/")
        .uid(65534)
        .gid(65534)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let output = output.expect("run the test as nobody");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{text}");
    assert!(text.contains("1 passed"), "child did not run:\n{text}");
    assert!(text.contains("child: sysfs fallback ok"), "{text}");
}

#[test]
fn unprivileged_child() {
    if std::env::var_os("BTF_SYS_UNPRIVILEGED_CHILD").is_none() {
        return;
    }
    let start = open_fds();
    let first = btf_ids(&Linux).next().expect("one listing result");
    assert!(
        matches!(first, Err(Error::PermissionDenied { .. })),
        "{first:?}"
    );
    let set = KernelBtf::load_with(&Linux, LoadOptions::new().keep_fds(true))
        .expect("load through sysfs");
    assert_eq!(set.discovery(), Discovery::Sysfs);
    assert!(set.vmlinux().type_count() > 1000);
    assert!(set.failures().is_empty(), "{:?}", set.failures());
    let error = KernelBtf::load_with(&Linux, LoadOptions::new().discovery(Discovery::ById))
        .expect_err("by id needs privileges");
    assert!(matches!(error, Error::PermissionDenied { .. }), "{error}");
    drop(set);
    assert_eq!(open_fds(), start);
    println!("child: sysfs fallback ok");
}
