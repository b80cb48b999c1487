//! Runs one case of the kernel's CO-RE selftests
//! (`btf_benches::core_selftests::run_case`) on this process's main
//! thread, for the cases whose program compares its task's pid with its
//! tgid (`test_core_reloc_kernel.c`): a test harness runs tests on other
//! threads. `benches/tests/core_reloc.rs` runs it.
//!
//! ```text
//! core_selftest_case OBJECT TARGET|- PROG RAW_TP|- INPUT_HEX|- OUTPUT_LEN [COMM [READ_LEN]]
//! ```
//!
//! With COMM, the process's name is set to it first (the selftest's is
//! `test_progs`). TARGET `-` is the running kernel with its modules, for
//! the `needs_testmod` cases (`core_selftests::CaseTarget::RunningKernel`):
//! the program is fired by reading READ_LEN bytes from
//! `/sys/kernel/bpf_testmod`, not by a syscall, and some relocation must
//! resolve in bpf_testmod's BTF, for both engines. Prints what the engines
//! found to stderr, then one line: `output HEX`, or `relocation WHY`,
//! `poisoned WHY` or `rejected WHY` (see `core_selftests::Outcome`); a
//! difference between libbpf's relocations and ours is a panic (exit
//! status 101).

use btf_benches::core_selftests::{Case, CaseTarget, Outcome, Setup, run_case_on};
use std::path::Path;

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [object, target, prog, raw_tp, input, output_len, rest @ ..] = args.as_slice() else {
        eprintln!(
            "usage: core_selftest_case OBJECT TARGET|- PROG RAW_TP|- INPUT_HEX|- OUTPUT_LEN \
             [COMM [READ_LEN]]"
        );
        std::process::exit(2);
    };
    if let Some(comm) = rest.first() {
        std::fs::write("/proc/self/comm", comm).expect("set the process's name");
    }
    let output_len: usize = output_len.parse().expect("OUTPUT_LEN");
    let case = Case {
        name: prog.clone(),
        object: object.clone(),
        target: Some(target.clone()),
        prog: prog.clone(),
        raw_tp: (raw_tp != "-").then(|| raw_tp.clone()),
        fails: false,
        btfgen_fails: false,
        needs_testmod: false,
        relaxed: false,
        setup: Setup::None,
        input: unhex(input),
        output: vec![0; output_len],
    };
    let label = format!("{prog} ({object} against {target})");
    let target = if target == "-" {
        let read_len = rest
            .get(1)
            .and_then(|n| n.parse().ok())
            .expect("TARGET - needs COMM and READ_LEN");
        CaseTarget::RunningKernel { read_len }
    } else {
        CaseTarget::File(Path::new(target))
    };
    let kernel = matches!(target, CaseTarget::RunningKernel { .. });
    let run = run_case_on(&label, &case, Path::new(object), target, output_len);
    let c = &run.comparison;
    eprintln!(
        "{label}: {} relocations, {} instructions as libbpf's; ours matched in {:?}, libbpf's \
         candidates in {:?}",
        c.relos, c.compared, c.matched_in, c.libbpf_candidates_in
    );
    if kernel {
        // The point of these cases: types found in bpf_testmod's BTF, by both.
        assert!(
            c.matched_in.contains_key("bpf_testmod")
                && c.libbpf_candidates_in.contains_key("bpf_testmod"),
            "{label}: no relocation resolved in bpf_testmod"
        );
    }
    match run.outcome {
        Outcome::Output(out) => {
            let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
            println!("output {hex}");
        }
        Outcome::RelocationFailed(why) => println!("relocation {why}"),
        Outcome::Poisoned(why) => println!("poisoned {why}"),
        Outcome::Rejected(why) => println!("rejected {}", why.replace('\n', " ")),
    }
}
