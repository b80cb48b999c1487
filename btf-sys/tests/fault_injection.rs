//! Fault injection: a fake kernel with several modules fails the N-th call
//! of each command and the N-th reservation of each kind (names, bytes, the
//! module list, logs), for every N along a full run. For every N: no
//! descriptor leaks, none is used or closed after its close, and everything
//! that completed is still returned, byte for byte.

#![forbid(unsafe_code)]
#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

mod common;
mod fake_kernel;

use btf_core::Kind;
use btf_sys::{
    Alloc, BtfId, Command, Discovery, Error, KernelBtf, LoadOptions, MAX_BTF_BYTES, MAX_NAME_BYTES,
    ModuleBtf, ModuleFailure, Owner, btf_ids, load_btf, open_btfs,
};
use common::BtfWriter;
use fake_kernel::{FakeKernel, Fault, Hit, Object, Op, Quirk, Scenario};

/// vmlinux, a user BTF, five modules (one corrupt, one that grows, one
/// whose name is under-reported) and an id that vanishes.
fn scenario() -> Scenario {
    let mut vm = BtfWriter::base();
    let int = vm.int("int", 4);
    vm.structure("task_struct", 4, &[("pid", int, 0)]);
    let vmlinux = vm.finish();
    let module = |types: &[&str]| {
        let mut w = BtfWriter::split_on(&vm);
        for name in types {
            w.structure(name, 4, &[("x", int, 0)]);
        }
        w.finish()
    };
    let modules = [
        (
            3,
            "mod_a",
            module(&["mod_a_ops", "shared_ops"]),
            Quirk::None,
        ),
        (
            5,
            "mod_b",
            module(&["mod_b_ops", "shared_ops"]),
            Quirk::Grows,
        ),
        (6, "mod_c", vec![0; 40], Quirk::None),
        (8, "mod_d", module(&["mod_d_ops"]), Quirk::None),
        (
            9,
            "mod_e_with_a_long_name",
            module(&["mod_e_ops"]),
            Quirk::NameGrows,
        ),
    ];
    let mut user = BtfWriter::base();
    user.int("int", 4);
    let mut objects = vec![
        Object {
            id: 1,
            name: "vmlinux".into(),
            kernel_btf: true,
            bytes: vmlinux.clone(),
            quirk: Quirk::None,
        },
        Object {
            id: 2,
            name: String::new(),
            kernel_btf: false,
            bytes: user.finish(),
            quirk: Quirk::None,
        },
        Object {
            id: 4,
            name: "mod_gone".into(),
            kernel_btf: true,
            bytes: module(&["gone_ops"]),
            quirk: Quirk::Vanishes,
        },
    ];
    let mut sysfs = Vec::new();
    for (id, name, bytes, quirk) in modules {
        sysfs.push((name.to_string(), bytes.clone()));
        objects.push(Object {
            id,
            name: name.into(),
            kernel_btf: true,
            bytes,
            quirk,
        });
    }
    Scenario {
        objects,
        vmlinux,
        sysfs,
        listing_eperm: false,
        load_log: String::new(),
        reports_true_size: true,
    }
}

fn unprivileged() -> Scenario {
    Scenario {
        listing_eperm: true,
        ..scenario()
    }
}

/// What identifies a module or a failure across runs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Id(u32),
    Name(String),
    Listing(Option<u32>),
    SysfsNames,
}

fn module_key(module: &ModuleBtf) -> Key {
    match module.id() {
        Some(id) => Key::Id(id.get()),
        None => Key::Name(module.name().into()),
    }
}

fn failure_key(failure: &ModuleFailure) -> Key {
    match (&failure.error, failure.id, &failure.name) {
        (
            Error::Syscall {
                command: Command::BtfGetNextId,
                id,
                ..
            },
            _,
            _,
        ) => Key::Listing(id.map(BtfId::get)),
        (Error::Sysfs { .. }, None, None) => Key::SysfsNames,
        (_, Some(id), _) => Key::Id(id.get()),
        (_, None, Some(name)) => Key::Name(name.clone()),
        (error, None, None) => panic!("failure without id or name: {error}"),
    }
}

/// The observable result of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    modules: Vec<Key>,
    failures: Vec<Key>,
    vmlinux_id: Option<u32>,
}

fn outcome(set: &KernelBtf) -> Outcome {
    let mut failures: Vec<Key> = set.failures().iter().map(failure_key).collect();
    failures.sort();
    Outcome {
        modules: set.modules().iter().map(module_key).collect(),
        failures,
        vmlinux_id: set.vmlinux_id().map(BtfId::get),
    }
}

/// The outcome expected when the injected fault hit `hit`, or `None` when
/// the whole load must fail.
fn expected(baseline: &Outcome, hit: &Hit, vanished: bool) -> Option<Outcome> {
    let without = |key: &Key| {
        let mut out = baseline.clone();
        out.modules.retain(|k| k != key);
        out.failures.retain(|k| k != key);
        if !vanished {
            out.failures.push(key.clone());
            out.failures.sort();
        }
        out
    };
    match hit {
        Hit::Object(id) => {
            let mut out = without(&Key::Id(*id));
            if *id == 1 {
                out.vmlinux_id = None;
            }
            Some(out)
        }
        Hit::Sysfs(name) => Some(without(&Key::Name(name.clone()))),
        Hit::Listing(start) => {
            let upto = |key: &Key| matches!(key, Key::Id(id) if id <= start);
            let mut failures: Vec<Key> = baseline
                .failures
                .iter()
                .filter(|k| upto(k))
                .cloned()
                .collect();
            failures.push(Key::Listing(BtfId::new(*start).map(BtfId::get)));
            failures.sort();
            Some(Outcome {
                modules: baseline
                    .modules
                    .iter()
                    .filter(|k| upto(k))
                    .cloned()
                    .collect(),
                failures,
                vmlinux_id: baseline.vmlinux_id.filter(|_| *start >= 1),
            })
        }
        Hit::SysfsNames => Some(Outcome {
            modules: Vec::new(),
            failures: vec![Key::SysfsNames],
            vmlinux_id: None,
        }),
        Hit::Vmlinux | Hit::Load => None,
    }
}

/// Checks that every module returned is whole and byte-identical.
fn check_modules(set: &KernelBtf, scenario: &Scenario) {
    let vmlinux = set.vmlinux();
    assert_eq!(vmlinux.type_count(), 2);
    for module in set.modules() {
        let (_, bytes) = scenario
            .sysfs
            .iter()
            .find(|(name, _)| name == module.name())
            .expect("a known module");
        assert!(
            module.bytes() == bytes.as_slice(),
            "{} differs",
            module.name()
        );
        let btf = module.btf();
        assert_eq!(btf.first_id().get(), 3);
        let own = format!("{}_ops", &module.name()[..5]);
        let found = set.find_type(&own).expect("the module's own type");
        assert!(matches!(found.owner, Owner::Module(m) if m.name() == module.name()));
    }
}

/// Loads through `fake` and checks one run against the baseline.
fn check_run(
    scenario: &Scenario,
    fault: Fault,
    options: LoadOptions,
    baseline: &Outcome,
) -> Option<Hit> {
    let fake = FakeKernel::new(scenario.clone(), fault);
    let result = KernelBtf::load_with(&fake, options);
    let hit = fake.hit()?;
    let vanished = matches!(
        fault,
        Fault::Call {
            errno: libc::ENOENT,
            ..
        }
    );
    let context = format!("{fault:?} hit {hit:?}");
    match (result, expected(baseline, &hit, vanished)) {
        (Ok(set), Some(want)) => {
            assert_eq!(outcome(&set), want, "{context}");
            let new = set
                .failures()
                .iter()
                .find(|f| Some(failure_key(f)) == expected_key(&hit));
            if !vanished {
                let new = new.unwrap_or_else(|| panic!("{context}: no failure reported"));
                match fault {
                    Fault::Call { errno, .. } => {
                        assert_eq!(
                            new.error.raw_os_error(),
                            Some(errno),
                            "{context}: {}",
                            new.error
                        )
                    }
                    Fault::Alloc { what, .. } => assert!(
                        matches!(new.error, Error::OutOfMemory { what: w, .. } if w == what),
                        "{context}: {}",
                        new.error
                    ),
                    Fault::None => {}
                }
            }
            check_modules(&set, scenario);
            fake.check_fds(&set, options.keep_fds);
            drop(set);
        }
        (Err(error), None) => {
            assert!(matches!(hit, Hit::Vmlinux), "{context}: {error}");
        }
        (Ok(set), None) => panic!("{context}: loaded {:?}, expected an error", outcome(&set)),
        (Err(error), Some(_)) => panic!("{context}: {error}"),
    }
    assert_eq!(fake.open_fds(), Vec::<u32>::new(), "{context}: fds leaked");
    assert_eq!(fake.violations(), Vec::<String>::new(), "{context}");
    Some(hit)
}

/// The key of the failure that the fault at `hit` must produce.
fn expected_key(hit: &Hit) -> Option<Key> {
    match hit {
        Hit::Object(id) => Some(Key::Id(*id)),
        Hit::Sysfs(name) => Some(Key::Name(name.clone())),
        Hit::Listing(start) => Some(Key::Listing(BtfId::new(*start).map(BtfId::get))),
        Hit::SysfsNames => Some(Key::SysfsNames),
        Hit::Vmlinux | Hit::Load => None,
    }
}

/// The baseline run, with its fd checks.
fn baseline(scenario: &Scenario, options: LoadOptions) -> Outcome {
    let fake = FakeKernel::new(scenario.clone(), Fault::None);
    let set = KernelBtf::load_with(&fake, options).expect("baseline load");
    check_modules(&set, scenario);
    fake.check_fds(&set, options.keep_fds);
    let out = outcome(&set);
    drop(set);
    assert!(fake.open_fds().is_empty());
    assert!(fake.violations().is_empty(), "{:?}", fake.violations());
    out
}

/// Fails the N-th call of each of `ops` and the N-th reservation of each of
/// `allocs`, for every N until the run has fewer; returns the number of runs.
fn every_fault(
    scenario: &Scenario,
    options: LoadOptions,
    ops: &[Op],
    errno: i32,
    allocs: &[Alloc],
) -> usize {
    let base = baseline(scenario, options);
    let mut runs = 0;
    let faults = ops
        .iter()
        .map(|&op| {
            Box::new(move |nth| Fault::Call { op, nth, errno }) as Box<dyn Fn(usize) -> Fault>
        })
        .chain(allocs.iter().map(|&what| {
            Box::new(move |nth| Fault::Alloc { what, nth }) as Box<dyn Fn(usize) -> Fault>
        }));
    for fault in faults {
        let mut nth = 1;
        while check_run(scenario, fault(nth), options, &base).is_some() {
            nth += 1;
            runs += 1;
            assert!(nth < 1000, "runaway");
        }
        assert!(nth > 1, "{:?} never happened", fault(1));
    }
    runs
}

const BY_ID_ALLOCS: [Alloc; 3] = [Alloc::Name, Alloc::Bytes, Alloc::Modules];

#[test]
fn baseline_by_id() {
    let scenario = scenario();
    let fake = FakeKernel::new(scenario.clone(), Fault::None);
    let set = KernelBtf::load_with(&fake, LoadOptions::new()).expect("load");
    assert_eq!(set.discovery(), Discovery::ById);
    let out = outcome(&set);
    assert_eq!(
        out.modules,
        vec![Key::Id(3), Key::Id(5), Key::Id(8), Key::Id(9)]
    );
    assert_eq!(out.failures, vec![Key::Id(6)]);
    assert_eq!(out.vmlinux_id, Some(1));
    let failure = &set.failures()[0];
    assert_eq!(failure.name.as_deref(), Some("mod_c"));
    assert!(
        matches!(failure.error, Error::Parse { .. }),
        "{}",
        failure.error
    );
    // Names of vmlinux and 5 modules, mod_e's twice (ENOSPC); bytes of 5
    // modules, mod_b's twice (it grew).
    assert_eq!(fake.allocs(Alloc::Name), 7);
    assert_eq!(fake.allocs(Alloc::Bytes), 6);
    assert_eq!(
        set.module("mod_e_with_a_long_name").map(ModuleBtf::id),
        Some(BtfId::new(9))
    );
    // Lookups say where a type lives.
    assert!(matches!(
        set.find_type("task_struct").map(|f| f.owner),
        Some(Owner::Vmlinux)
    ));
    let owners: Vec<String> = set
        .find_types("shared_ops")
        .map(|f| f.owner.name().to_owned())
        .collect();
    assert_eq!(owners, ["mod_a", "mod_b"]);
    assert!(set.find_type_kind("shared_ops", Kind::STRUCT).is_some());
    assert!(set.find_type_kind("shared_ops", Kind::INT).is_none());
    assert!(set.find_type("no_such_type").is_none());
    // A module is viewed on its own set's vmlinux, always: the view's base
    // is those bytes, whatever other set exists.
    let other = KernelBtf::load_with(&fake, LoadOptions::new()).expect("load again");
    for module in set.modules() {
        let view = module.btf();
        let base = view.base().expect("a split");
        assert!(std::ptr::eq(base.bytes(), &set.vmlinux_bytes()[..]));
        assert!(!std::ptr::eq(base.bytes(), &other.vmlinux_bytes()[..]));
    }
    // Found types come with a view of their owner.
    let found = set
        .find_type_kind("shared_ops", Kind::STRUCT)
        .expect("found");
    assert_eq!(
        found.ty().expect("its type").name().expect("named"),
        "shared_ops"
    );
    assert_eq!(found.btf().first_id().get(), 3);
}

/// Attach targets as libbpf's `find_kernel_btf_id` finds them: vmlinux
/// first, then the modules in order; `module:name` only there; the
/// module's kept fd lent as `attach_btf_obj_fd`, vmlinux's as none.
#[test]
fn attach_targets_lend_their_module_fd() {
    let scenario = scenario();
    let fake = FakeKernel::new(scenario, Fault::None);
    let set = KernelBtf::load_with(&fake, LoadOptions::new().keep_fds(true)).expect("load");
    let target = set
        .find_attach_target("shared_ops", Kind::STRUCT)
        .expect("found");
    assert!(matches!(target.owner, Owner::Module(m) if m.name() == "mod_a"));
    assert_eq!(target.btf_obj_id(&set), BtfId::new(3));
    let fd = target.attach_btf_obj_fd().expect("mod_a's fd is kept");
    assert_eq!(fake.identify(&fd), Ok(3));
    let b = set
        .find_attach_target("mod_b:shared_ops", Kind::STRUCT)
        .expect("in mod_b");
    assert!(matches!(b.owner, Owner::Module(m) if m.name() == "mod_b"));
    assert_eq!(fake.identify(&b.attach_btf_obj_fd().expect("kept")), Ok(5));
    // Each module's ids continue vmlinux's: both hold shared_ops at id 4.
    let Owner::Module(mod_b) = b.owner else {
        unreachable!()
    };
    let view = mod_b.btf();
    let ty = view.type_by_id(b.type_id).expect("mod_b's type");
    assert_eq!(ty.name().expect("named"), "shared_ops");
    let task = set
        .find_attach_target("task_struct", Kind::STRUCT)
        .expect("vmlinux");
    assert!(matches!(task.owner, Owner::Vmlinux));
    assert!(task.attach_btf_obj_fd().is_none());
    assert_eq!(task.btf_obj_id(&set), BtfId::new(1));
    for missing in [
        "mod_d:shared_ops",
        "vmlinux:shared_ops",
        "mod:shared_ops",
        "mod_a:task_struct",
        "shared_ops:",
    ] {
        assert!(
            set.find_attach_target(missing, Kind::STRUCT).is_none(),
            "{missing}"
        );
    }
    assert!(set.find_attach_target("shared_ops", Kind::FUNC).is_none());
    drop(set);
    assert!(fake.open_fds().is_empty());
}

#[test]
fn by_id_every_call_fails_in_turn() {
    let scenario = scenario();
    for keep_fds in [true, false] {
        let options = LoadOptions::new().keep_fds(keep_fds);
        let runs = every_fault(&scenario, options, &Op::BY_ID, libc::EIO, &[]);
        assert!(runs > 30, "only {runs} runs");
    }
}

#[test]
fn by_id_every_open_vanishes_in_turn() {
    let scenario = scenario();
    let options = LoadOptions::new().keep_fds(true);
    every_fault(&scenario, options, &[Op::GetFdById], libc::ENOENT, &[]);
}

#[test]
fn by_id_every_allocation_fails_in_turn() {
    let scenario = scenario();
    for keep_fds in [true, false] {
        let options = LoadOptions::new().keep_fds(keep_fds);
        let runs = every_fault(&scenario, options, &[], 0, &BY_ID_ALLOCS);
        assert!(runs > 10, "only {runs} runs");
    }
}

#[test]
fn sysfs_every_call_and_allocation_fails_in_turn() {
    let scenario = unprivileged();
    let options = LoadOptions::new().keep_fds(true);
    let base = baseline(&scenario, options);
    let names = ["mod_a", "mod_b", "mod_d", "mod_e_with_a_long_name"];
    assert_eq!(base.modules, names.map(|n| Key::Name(n.into())));
    assert_eq!(base.failures, vec![Key::Name("mod_c".into())]);
    // The first listing fails with EIO rather than EPERM: no fallback.
    let runs = every_fault(
        &scenario,
        options,
        &Op::SYSFS,
        libc::EIO,
        &[Alloc::Bytes, Alloc::Modules],
    );
    assert!(runs > 15, "only {runs} runs");
}

#[test]
fn listing_eperm_falls_back_to_sysfs() {
    let fault = Fault::Call {
        op: Op::GetNextId,
        nth: 1,
        errno: libc::EPERM,
    };
    let fake = FakeKernel::new(scenario(), fault);
    let set = KernelBtf::load_with(&fake, LoadOptions::new().keep_fds(true)).expect("load");
    assert_eq!(set.discovery(), Discovery::Sysfs);
    assert_eq!(set.modules().len(), 4);
    assert!(set.modules().iter().all(|m| m.fd().is_none()));
    let fake = FakeKernel::new(scenario(), fault);
    let error = KernelBtf::load_with(&fake, LoadOptions::new().discovery(Discovery::ById))
        .expect_err("by id only");
    assert!(matches!(error, Error::PermissionDenied { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "BPF_BTF_GET_NEXT_ID: listing btf objects needs CAP_SYS_ADMIN: {}",
            std::io::Error::from_raw_os_error(libc::EPERM)
        )
    );
}

#[test]
fn iterators_skip_vanished_ids_and_report_eperm() {
    let fake = FakeKernel::new(scenario(), Fault::None);
    let ids: Vec<u32> = btf_ids(&fake).map(|id| id.expect("id").get()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 8, 9]);
    let opened: Vec<u32> = open_btfs(&fake)
        .map(|item| item.expect("open").0.get())
        .collect();
    assert_eq!(opened, [1, 2, 3, 5, 6, 8, 9]);
    assert!(fake.open_fds().is_empty());

    let fake = FakeKernel::new(unprivileged(), Fault::None);
    let mut ids = btf_ids(&fake);
    assert!(matches!(
        ids.next(),
        Some(Err(Error::PermissionDenied { .. }))
    ));
    assert!(ids.next().is_none());
}

#[test]
fn huge_reported_sizes_are_refused_before_allocating() {
    let mut scenario = scenario();
    for object in &mut scenario.objects {
        object.quirk = match object.id {
            3 => Quirk::HugeName,
            8 => Quirk::HugeSize,
            _ => object.quirk,
        };
    }
    let fake = FakeKernel::new(scenario, Fault::None);
    let set = KernelBtf::load_with(&fake, LoadOptions::new().keep_fds(true)).expect("load");
    let out = outcome(&set);
    assert_eq!(out.modules, vec![Key::Id(5), Key::Id(9)]);
    assert_eq!(out.failures, vec![Key::Id(3), Key::Id(6), Key::Id(8)]);
    let too_large = |id: u32| {
        let failure = set
            .failures()
            .iter()
            .find(|f| f.id == BtfId::new(id))
            .expect("failure");
        match &failure.error {
            Error::TooLarge {
                what, bytes, limit, ..
            } => (
                failure.name.clone(),
                *what,
                *bytes,
                *limit,
                failure.error.to_string(),
            ),
            other => panic!("btf id {id}: {other}"),
        }
    };
    let (name, what, bytes, limit, text) = too_large(3);
    assert_eq!(name, None);
    assert_eq!(
        (what, bytes, limit),
        (Alloc::Name, 1 << 32, MAX_NAME_BYTES + 1)
    );
    assert_eq!(
        text,
        "the name for btf id 3 would take 4294967296 bytes, more than the limit of 4097"
    );
    let (name, what, bytes, limit, _) = too_large(8);
    assert_eq!(name.as_deref(), Some("mod_d"));
    assert_eq!(
        (what, bytes, limit),
        (Alloc::Bytes, u32::MAX as usize, MAX_BTF_BYTES)
    );
    // Nothing was reserved for either: names of vmlinux and 4 modules (mod_e
    // twice), bytes of 3 modules (mod_b twice).
    assert_eq!(fake.allocs(Alloc::Name), 6);
    assert_eq!(fake.allocs(Alloc::Bytes), 4);
    fake.check_fds(&set, true);
    drop(set);
    assert!(fake.open_fds().is_empty());

    // read_btf says the same for one object.
    let fd = btf_sys::open_btf(&fake, BtfId::new(8).expect("id")).expect("open");
    assert!(matches!(
        btf_sys::read_btf(&fake, &fd),
        Err(Error::TooLarge {
            what: Alloc::Bytes,
            ..
        })
    ));
}

#[test]
fn ledger_catches_a_leak() {
    let fake = FakeKernel::new(scenario(), Fault::None);
    let mut set = KernelBtf::load_with(&fake, LoadOptions::new().keep_fds(true)).expect("load");
    let fd = set.modules_mut()[0].take_fd().expect("fd");
    std::mem::forget(fd); // deliberately leaked
    drop(set);
    assert_eq!(fake.open_fds(), [3], "the ledger sees the leaked fd");
}

#[test]
fn ledger_ignores_copies_held_by_another_process() {
    // A child started while a descriptor is open holds a copy of it (here
    // as its stdin): once this process drops its own, the descriptor is
    // closed as far as the library is concerned, though the pipe is not.
    use std::os::fd::AsFd;
    let fake = FakeKernel::new(scenario(), Fault::None);
    let fd = btf_sys::open_btf(&fake, BtfId::new(3).expect("id")).expect("open");
    let copy = fd.as_fd().try_clone_to_owned().expect("dup");
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .stdin(std::process::Stdio::from(copy))
        .spawn()
        .expect("spawn sleep");
    assert_eq!(fake.open_fds(), [3], "still open here");
    drop(fd);
    let open = fake.open_fds();
    child.kill().expect("kill sleep");
    child.wait().expect("reap sleep");
    assert_eq!(open, Vec::<u32>::new(), "only the child holds it");
    assert_eq!(fake.violations(), Vec::<String>::new());
}

fn bad_load_scenario(reports_true_size: bool) -> Scenario {
    Scenario {
        load_log: "[1] STRUCT bad size=4 vlen=1\n".repeat(4000) + "[1] STRUCT bad Invalid member\n",
        reports_true_size,
        ..scenario()
    }
}

#[test]
fn load_retries_with_a_larger_log() {
    for reports_true_size in [true, false] {
        let scenario = bad_load_scenario(reports_true_size);
        let fake = FakeKernel::new(scenario.clone(), Fault::None);
        let error = load_btf(&fake, b"bad btf").expect_err("refused");
        assert_eq!(error.verifier_log(), Some(scenario.load_log.as_str()));
        assert!(
            error
                .to_string()
                .ends_with("verifier log ends: [1] STRUCT bad Invalid member")
        );
        // No log, a 64 KiB log (too small), then one that fits.
        assert_eq!(fake.calls(Op::Load), 3);
        assert!(fake.open_fds().is_empty());

        let fd = load_btf(&fake, b"good").expect("loaded");
        assert_eq!(btf_sys::btf_info(&fake, &fd).expect("info").id.get(), 101);
        assert_eq!(fake.open_fds(), [101]);
        drop(fd);
        assert!(fake.open_fds().is_empty());
    }
}

/// A log longer than the 16 MiB limit: the error is the refusal's errno
/// (not the log's ENOSPC) and the log says it was cut.
#[test]
fn a_log_beyond_the_limit_is_cut_and_the_real_errno_kept() {
    for (reports_true_size, calls) in [(true, 3), (false, 10)] {
        let scenario = Scenario {
            load_log: "[1] STRUCT bad size=4 vlen=1\n".repeat(600_000),
            reports_true_size,
            ..scenario()
        };
        let fake = FakeKernel::new(scenario, Fault::None);
        let error = load_btf(&fake, b"bad btf").expect_err("refused");
        assert_eq!(error.raw_os_error(), Some(libc::EINVAL), "{error}");
        let log = error.verifier_log().expect("a log");
        assert!(log.starts_with(
            "(verifier log cut at 16 MiB; the kernel had more)\n[1] STRUCT bad size=4 vlen=1\n"
        ));
        // This fake keeps the start of a log that does not fit, as kernels
        // before 6.4 do: the last line shown is where the cut fell.
        assert!(
            error
                .to_string()
                .contains("verifier log ends: [1] STRUCT bad"),
            "{error}"
        );
        assert_eq!(
            fake.calls(Op::Load),
            calls,
            "reports_true_size {reports_true_size}"
        );
        assert!(fake.open_fds().is_empty());
    }
}

#[test]
fn load_every_call_and_allocation_fails_in_turn() {
    let scenario = bad_load_scenario(true);
    for bytes in [&b"bad btf"[..], b"good"] {
        for nth in 1.. {
            let fake = FakeKernel::new(
                scenario.clone(),
                Fault::Call {
                    op: Op::Load,
                    nth,
                    errno: libc::EIO,
                },
            );
            let result = load_btf(&fake, bytes);
            if fake.hit().is_none() {
                break;
            }
            // A failed first attempt (no log) is retried with a log: the
            // good bytes then load, the bad ones fail with the verifier's
            // EINVAL. A failed attempt with a log is the answer.
            match (result, nth, bytes == b"good") {
                (Ok(fd), 1, true) => {
                    assert_eq!(fake.open_fds(), [101]);
                    drop(fd);
                }
                (Err(error), 1, false) => assert_eq!(error.raw_os_error(), Some(libc::EINVAL)),
                (Err(error), _, _) => assert_eq!(error.raw_os_error(), Some(libc::EIO), "{error}"),
                (Ok(_), _, _) => panic!("load {nth} failed, yet the bytes loaded"),
            }
            assert!(fake.open_fds().is_empty());
        }
        for nth in 1.. {
            let fake = FakeKernel::new(
                scenario.clone(),
                Fault::Alloc {
                    what: Alloc::Log,
                    nth,
                },
            );
            let result = load_btf(&fake, bytes);
            if fake.hit().is_none() {
                break;
            }
            assert!(matches!(
                result,
                Err(Error::OutOfMemory {
                    what: Alloc::Log,
                    ..
                })
            ));
            assert!(fake.open_fds().is_empty());
        }
    }
}
