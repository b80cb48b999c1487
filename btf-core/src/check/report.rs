//! The relocation × kernel matrix: collected per kernel, printed as a
//! table (a column per kernel when there are few, the values with their
//! kernel counts when there are many), the failures explained, a summary,
//! or as JSON.

use crate::dump::JsonStr;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::{self, Write};

use super::{Cell, Checker, KernelCheck, Site};

/// Up to this many kernels, the text table has a column per kernel.
const COLUMNS: usize = 6;

/// How many kernel names a failure lists before `and N more`.
const NAMES: usize = 4;

/// One kernel's column: its name and what the check gave, or why it
/// could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The kernel's name (a path, an archive member).
    pub name: String,
    /// Its cells, or why its BTF could not be read.
    pub result: Result<KernelCheck, String>,
}

/// One object's relocations (rows) on many kernels (columns), in the
/// order the kernels were pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    sites: Vec<Site>,
    kernels: Vec<Column>,
}

/// Counts over a [`Matrix`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Kernels pushed.
    pub kernels: usize,
    /// Kernels on which no relocation fails.
    pub ok: usize,
    /// Kernels on which some relocation fails.
    pub failing: usize,
    /// Kernels whose BTF could not be read.
    pub unreadable: usize,
    /// Relocations (rows).
    pub relocations: usize,
    /// Relocations resolved on every readable kernel (none when no
    /// kernel could be read).
    pub resolved: usize,
    /// Relocations poisoned but guarded on some kernel, failing on none.
    pub guarded: usize,
    /// Relocations failing on some kernel.
    pub failing_relocations: usize,
}

impl Matrix {
    /// An empty matrix with `checker`'s relocations as rows.
    pub fn new(checker: &Checker<'_>) -> Matrix {
        Matrix {
            sites: checker.sites().to_vec(),
            kernels: Vec::new(),
        }
    }

    /// Adds a kernel's column: its check, or why it could not be read.
    pub fn push(&mut self, name: impl Into<String>, result: Result<KernelCheck, String>) {
        self.kernels.push(Column {
            name: name.into(),
            result,
        });
    }

    /// The rows.
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// The columns, in the order pushed.
    pub fn kernels(&self) -> &[Column] {
        &self.kernels
    }

    /// The counts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            kernels: self.kernels.len(),
            relocations: self.sites.len(),
            ..Summary::default()
        };
        for k in &self.kernels {
            match &k.result {
                Ok(check) if check.is_ok() => s.ok += 1,
                Ok(_) => s.failing += 1,
                Err(_) => s.unreadable += 1,
            }
        }
        for row in 0..self.sites.len() {
            let cells = self.row(row);
            if cells.clone().next().is_none() {
                // No kernel could be read: nothing to say of this row.
                continue;
            }
            if cells.clone().any(Cell::is_failure) {
                s.failing_relocations += 1;
            } else if cells.clone().any(|c| matches!(c, Cell::Guarded { .. })) {
                s.guarded += 1;
            } else {
                s.resolved += 1;
            }
        }
        s
    }

    /// The process exit status a CI job wants: 0 when every relocation
    /// resolves or is guarded on every kernel, 1 when one fails on some
    /// kernel, 2 when a kernel could not be read (or none was given).
    pub fn exit_code(&self) -> i32 {
        let s = self.summary();
        if s.unreadable > 0 || s.kernels == 0 {
            2
        } else if s.failing > 0 {
            1
        } else {
            0
        }
    }

    /// Row `row`'s cells on the readable kernels.
    fn row(&self, row: usize) -> impl Iterator<Item = &Cell> + Clone {
        self.kernels
            .iter()
            .filter_map(move |k| k.result.as_ref().ok()?.cells.get(row))
    }

    /// How a kernel is named in the failures: `[n]` beside a table with
    /// a column per kernel, its name otherwise.
    fn kernel_label(&self, i: usize) -> String {
        if self.kernels.len() <= COLUMNS {
            format!("[{}]", i + 1)
        } else {
            self.kernels
                .get(i)
                .map_or_else(String::new, |k| k.name.clone())
        }
    }

    fn write_table(&self, f: &mut impl Write) -> fmt::Result {
        let labels: Vec<String> = self.sites.iter().map(site_label).collect();
        let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let few = self.kernels.len() <= COLUMNS;
        if few {
            f.write_str("kernels:\n")?;
            for (i, k) in self.kernels.iter().enumerate() {
                write!(f, "  [{}] {}", i + 1, k.name)?;
                match &k.result {
                    Ok(c) if c.is_ok() => f.write_str(": ok\n")?,
                    Ok(c) => writeln!(f, ": {} failing", c.failures())?,
                    Err(e) => writeln!(f, ": unreadable: {e}")?,
                }
            }
            f.write_char('\n')?;
        }
        if self.sites.is_empty() {
            return f.write_str("the object has no CO-RE relocations\n");
        }
        // Columns: each kernel's cells as text, padded to the widest.
        let mut columns: Vec<(String, Vec<String>)> = Vec::new();
        if few {
            for (i, k) in self.kernels.iter().enumerate() {
                let cells: Vec<String> = (0..self.sites.len())
                    .map(|row| match &k.result {
                        Ok(c) => c.cells.get(row).map_or_else(String::new, short),
                        Err(_) => "-".into(),
                    })
                    .collect();
                columns.push((format!("[{}]", i + 1), cells));
            }
        } else {
            let readable = self.kernels.iter().filter(|k| k.result.is_ok()).count();
            let cells = (0..self.sites.len())
                .map(|row| distribution(self.row(row)))
                .collect();
            columns.push((format!("values on {readable} kernels"), cells));
        }
        let mut head_line = format!("{:<width$}", "relocation");
        let widths: Vec<usize> = columns
            .iter()
            .map(|(head, cells)| {
                cells
                    .iter()
                    .map(|c| c.chars().count())
                    .chain([head.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for ((head, _), w) in columns.iter().zip(&widths) {
            let _ = write!(head_line, "  {head:<w$}");
        }
        writeln!(f, "{}", head_line.trim_end())?;
        for (row, label) in labels.iter().enumerate() {
            let mut line = format!("{label:<width$}");
            for ((_, cells), w) in columns.iter().zip(&widths) {
                let cell = cells.get(row).map_or("", String::as_str);
                let _ = write!(line, "  {cell:<w$}");
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }

    fn write_failures(&self, f: &mut impl Write) -> fmt::Result {
        let mut any = false;
        for (row, site) in self.sites.iter().enumerate() {
            // (what, why) → the kernels, in order.
            let mut groups: Vec<(&'static str, &str, Vec<usize>)> = Vec::new();
            for (i, k) in self.kernels.iter().enumerate() {
                let Some(cell) = k.result.as_ref().ok().and_then(|c| c.cells.get(row)) else {
                    continue;
                };
                let what = match cell {
                    Cell::Unguarded { .. } => {
                        "poisoned and reachable: the verifier rejects the program"
                    }
                    Cell::Failed { .. } => "fails: libbpf does not load the object",
                    _ => continue,
                };
                let why = cell.why().unwrap_or_default();
                match groups.iter_mut().find(|g| g.0 == what && g.1 == why) {
                    Some(g) => g.2.push(i),
                    None => groups.push((what, why, alloc::vec![i])),
                }
            }
            for (what, why, kernels) in groups {
                if !any {
                    f.write_str("\nfailures:\n")?;
                    any = true;
                }
                writeln!(f, "  {}: {what}", site_label(site))?;
                let names: Vec<String> = kernels
                    .iter()
                    .take(NAMES)
                    .map(|&i| self.kernel_label(i))
                    .collect();
                let mut on = if kernels.len() == self.kernels.len() && kernels.len() > 1 {
                    "on every kernel".to_string()
                } else {
                    format!("on {}", names.join(", "))
                };
                if kernels.len() > NAMES && kernels.len() < self.kernels.len() {
                    let _ = write!(on, " and {} more", kernels.len() - NAMES);
                }
                writeln!(f, "    {on}: {why}")?;
            }
        }
        if self.kernels.len() > COLUMNS {
            let bad: Vec<&Column> = self
                .kernels
                .iter()
                .filter(|k| !k.result.as_ref().is_ok_and(KernelCheck::is_ok))
                .collect();
            if !bad.is_empty() {
                f.write_str("\nkernels that fail or cannot be read:\n")?;
                for k in bad.iter().take(20) {
                    match &k.result {
                        Ok(c) => writeln!(f, "  {}: {} failing", k.name, c.failures())?,
                        Err(e) => writeln!(f, "  {}: unreadable: {e}", k.name)?,
                    }
                }
                if bad.len() > 20 {
                    writeln!(
                        f,
                        "  … and {} more (--format json lists every one)",
                        bad.len() - 20
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Writes the matrix as one JSON object: `relocations` (each with its
    /// `section`, `insn`, `relo`, `kind` and `local`, the relocation in
    /// C), `kernels` (each with its `name`, `ok`, `error` when it could not
    /// be read, and one cell per relocation: `{"value": N}` with `"size":
    /// [old, new]` when a load changes size, or `{"guarded": why}`,
    /// `{"unguarded": why}`, `{"failed": why}`), and `summary`.
    ///
    /// # Errors
    ///
    /// The writer's.
    pub fn write_json(&self, out: &mut impl Write) -> fmt::Result {
        out.write_str("{\"relocations\":[")?;
        for (i, s) in self.sites.iter().enumerate() {
            if i > 0 {
                out.write_char(',')?;
            }
            write!(
                out,
                "{{\"section\":{},\"insn\":{},\"relo\":{},\"kind\":{},\"local\":{}}}",
                JsonStr(&s.section),
                s.insn,
                s.record,
                JsonStr(&s.relo.kind.to_string()),
                JsonStr(&s.what)
            )?;
        }
        out.write_str("],\"kernels\":[")?;
        for (i, k) in self.kernels.iter().enumerate() {
            if i > 0 {
                out.write_char(',')?;
            }
            write!(out, "{{\"name\":{}", JsonStr(&k.name))?;
            match &k.result {
                Err(e) => write!(out, ",\"ok\":false,\"error\":{},\"cells\":[]}}", JsonStr(e))?,
                Ok(c) => {
                    write!(out, ",\"ok\":{},\"cells\":[", c.is_ok())?;
                    for (j, cell) in c.cells.iter().enumerate() {
                        if j > 0 {
                            out.write_char(',')?;
                        }
                        match cell {
                            Cell::Resolved {
                                value,
                                size: Some((old, new)),
                            } => write!(out, "{{\"value\":{value},\"size\":[{old},{new}]}}")?,
                            Cell::Resolved { value, size: None } => {
                                write!(out, "{{\"value\":{value}}}")?;
                            }
                            Cell::Guarded { why } => {
                                write!(out, "{{\"guarded\":{}}}", JsonStr(why))?
                            }
                            Cell::Unguarded { why } => {
                                write!(out, "{{\"unguarded\":{}}}", JsonStr(why))?;
                            }
                            Cell::Failed { why } => write!(out, "{{\"failed\":{}}}", JsonStr(why))?,
                        }
                    }
                    out.write_str("]}")?;
                }
            }
        }
        let s = self.summary();
        write!(
            out,
            "],\"summary\":{{\"kernels\":{},\"ok\":{},\"failing\":{},\"unreadable\":{},\
             \"relocations\":{},\"resolved\":{},\"guarded\":{},\"failing_relocations\":{}}}}}",
            s.kernels,
            s.ok,
            s.failing,
            s.unreadable,
            s.relocations,
            s.resolved,
            s.guarded,
            s.failing_relocations
        )
    }
}

/// The table: a column per kernel up to six kernels (each value, or
/// `guarded`, `POISONED`, `FAILED`, `-` for an unreadable kernel), else
/// each relocation's values with how many kernels give each; then each
/// failure explained with the kernels it happens on, and a summary line.
impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_table(f)?;
        self.write_failures(f)?;
        let s = self.summary();
        writeln!(
            f,
            "\nsummary: {} kernels: {} ok, {} failing, {} unreadable; {} relocations: {} resolve \
             everywhere, {} guarded where missing, {} fail somewhere",
            s.kernels,
            s.ok,
            s.failing,
            s.unreadable,
            s.relocations,
            s.resolved,
            s.guarded,
            s.failing_relocations
        )
    }
}

/// `kprobe/fields insn #7 byte_off struct task_struct.pid (0:77)`.
fn site_label(s: &Site) -> String {
    format!("{} insn #{} {} {}", s.section, s.insn, s.relo.kind, s.what)
}

/// A cell in a column.
fn short(c: &Cell) -> String {
    match c {
        Cell::Resolved { value, .. } => value.to_string(),
        Cell::Guarded { .. } => "guarded".into(),
        Cell::Unguarded { .. } => "POISONED".into(),
        Cell::Failed { .. } => "FAILED".into(),
    }
}

/// A row's values with how many kernels give each, most common first
/// (`1264 ×320, 2456 ×178, POISONED ×2`).
fn distribution<'c>(cells: impl Iterator<Item = &'c Cell>) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for c in cells {
        let s = short(c);
        match seen.iter_mut().find(|(v, _)| *v == s) {
            Some((_, n)) => *n += 1,
            None => seen.push((s, 1)),
        }
    }
    // Stable: equal counts stay in order of first appearance.
    seen.sort_by_key(|&(_, n)| core::cmp::Reverse(n));
    let parts: Vec<String> = seen.iter().map(|(v, n)| format!("{v} ×{n}")).collect();
    parts.join(", ")
}
