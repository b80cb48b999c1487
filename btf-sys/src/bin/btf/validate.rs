//! `btf validate FILE [--base FILE] [--kernel PROFILE] [--all]`: the
//! verdict `BPF_BTF_LOAD` would give, without loading anything.
//!
//! Exit status 0 when the kernel would accept the blob, 1 (with the
//! reason, or every reason with `--all`) when it would refuse it.

use std::path::Path;

use btf_core::Btf;
use btf_core::elf::BtfSections;
use btf_core::kernel_check::{KernelProfile, Loader, check_bytes_all};

use crate::Failure;
use crate::source;

/// How many reasons `--all` lists at most.
const ALL_LIMIT: usize = 100;

/// `--kernel`: `running` (the default), `newest`, or a release such as
/// `6.18` or `6.1.0-27-amd64`; a `kernel:` prefix checks with the rules
/// for the kernel's own BTF (no resolve pass).
pub(crate) fn profile(text: Option<&str>) -> Result<KernelProfile, Failure> {
    let text = text.unwrap_or("running");
    let (loader, release) = match text.strip_prefix("kernel:") {
        Some(rest) => (Loader::Kernel, rest),
        None => (Loader::User, text),
    };
    let profile = match release {
        "running" => btf_sys::running_kernel_profile()
            .map_err(|e| Failure::Message(format!("--kernel running: {e}")))?,
        "newest" => KernelProfile::NEWEST,
        other => KernelProfile::from_release(other).ok_or_else(|| {
            Failure::Message(format!(
                "--kernel {other}: not a kernel release (try 6.18, running or newest)"
            ))
        })?,
    };
    Ok(profile.with_loader(loader))
}

/// The `.BTF` of an ELF file, or the bytes themselves.
fn btf_of<'a>(name: &str, bytes: &'a [u8]) -> Result<&'a [u8], Failure> {
    if bytes.starts_with(b"\x7fELF") {
        return Ok(BtfSections::parse(bytes)
            .map_err(|error| Failure::Message(format!("{name}: {error}")))?
            .btf());
    }
    source::check_btf_magic(name, bytes)?;
    Ok(bytes)
}

pub(crate) fn run(
    file: &str,
    base: Option<&Path>,
    kernel: Option<&str>,
    all: bool,
) -> Result<(), Failure> {
    let profile = profile(kernel)?;
    let loaded = source::load(file)?;
    let blob = btf_of(file, &loaded.bytes)?;
    let base_path = base
        .map(|p| p.display().to_string())
        .or(loaded.default_base.map(str::to_owned));
    let base_bytes = match &base_path {
        Some(path) => Some(source::read_file(Path::new(path)).map_err(
            |failure| match failure {
                Failure::Message(text) => Failure::Message(format!("base {text}")),
                other => other,
            },
        )?),
        None => None,
    };
    let base_btf = match (&base_path, &base_bytes) {
        (Some(name), Some(bytes)) => {
            let blob = btf_of(&format!("base {name}"), bytes)?;
            Some(
                Btf::parse(blob)
                    .map_err(|error| Failure::Message(format!("base {name}: {error}")))?,
            )
        }
        _ => None,
    };
    let (major, minor) = profile.release();
    let rejects = check_bytes_all(
        blob,
        base_btf.as_ref(),
        &profile,
        if all { ALL_LIMIT } else { 1 },
    );
    let Some(first) = rejects.first() else {
        println!("{file}: Linux {major}.{minor} would accept it");
        return Ok(());
    };
    if all {
        for reject in &rejects {
            println!("{file}: {reject}");
        }
        return Err(Failure::Message(format!(
            "{file}: Linux {major}.{minor} would refuse it ({} reason{} listed, the first is the kernel's)",
            rejects.len(),
            if rejects.len() == 1 { "" } else { "s" }
        )));
    }
    Err(Failure::Message(format!(
        "{file}: Linux {major}.{minor} would refuse it: {first}"
    )))
}
