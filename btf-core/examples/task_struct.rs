//! Parses the running kernel's BTF, finds `struct task_struct` and prints
//! each member's name, byte offset and size.
//!
//! `cargo run -p btf-core --example task_struct [PATH]`

use btf_core::{Btf, Kind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into());
    let bytes = std::fs::read(&path)?;
    let vmlinux = Btf::parse(&bytes)?;
    let task = vmlinux
        .find_by_name_kind("task_struct", Kind::STRUCT)
        .ok_or("no struct task_struct")?;
    println!("struct task_struct: {} bytes", vmlinux.size_of(task.id())?);
    for m in task.members().into_iter().flatten() {
        let size = vmlinux
            .size_of(m.ty())
            .map_or("?".to_string(), |s| s.to_string());
        let name = if m.name()?.is_empty() {
            "(anon)"
        } else {
            m.name()?
        };
        match m.bitfield_size() {
            0 => println!(
                "  {:<32} offset {:>5}  size {size}",
                name,
                m.bit_offset() / 8
            ),
            bits => println!("  {:<32} bit {:>8}  bits {bits}", name, m.bit_offset()),
        }
    }
    Ok(())
}
