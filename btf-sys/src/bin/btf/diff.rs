//! `btf diff OLD NEW [--base-old F] [--base-new F] [--type NAME]...
//! [--layout-only] [--format text|json]`: what changed between two
//! kernels' (or modules') named types.

use std::io::{self, Write};
use std::path::Path;

use btf_core::diff::{self, DiffOptions};

use crate::Failure;

/// The output formats `--format` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// The report a person reads, types spelled in C
    Text,
    /// One JSON object, for tools
    Json,
}

/// Prints the diff of `old` and `new` (each parsed as `btf dump` parses a
/// source, on its own base).
pub(crate) fn run(
    old: (&str, Option<&Path>),
    new: (&str, Option<&Path>),
    opts: &DiffOptions,
    format: Format,
) -> Result<(), Failure> {
    let report = crate::dump::with_btf(old.0, old.1, |a, _| {
        crate::dump::with_btf(new.0, new.1, |b, _| Ok(diff::diff(a, b, opts)))
    })?;
    let mut text = String::new();
    match format {
        Format::Text => {
            use std::fmt::Write as _;
            let _ = write!(text, "{report}");
        }
        Format::Json => {
            // Writing into a String cannot fail.
            let _ = diff::write_json(&report, &mut text);
            text.push('\n');
        }
    }
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
