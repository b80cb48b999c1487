//! Essential names: a type's name without its flavour suffix.

/// The length of `name`'s essential part: everything before its last
/// flavour separator, a `___` with a character other than `_` on each side
/// (`task_struct___old` → `task_struct`; `a____b` has none). The whole name
/// when there is none. libbpf's `bpf_core_essential_name_len`.
///
/// ```
/// use btf_core::reloc::essential_name;
/// assert_eq!(essential_name(b"task_struct___v2"), b"task_struct");
/// assert_eq!(essential_name(b"a___b___c"), b"a___b");
/// assert_eq!(essential_name(b"__u32"), b"__u32");
/// assert_eq!(essential_name(b"x____y"), b"x____y");
/// ```
pub fn essential_name(name: &[u8]) -> &[u8] {
    let len = name.len();
    let mut i = len.saturating_sub(5);
    if len >= 5 {
        loop {
            if is_flavour_sep(name, i) {
                return name.get(..=i).unwrap_or(name);
            }
            if i == 0 {
                break;
            }
            i -= 1;
        }
    }
    name
}

/// `X___Y` at `i`, where neither `X` nor `Y` is `_`.
fn is_flavour_sep(name: &[u8], i: usize) -> bool {
    matches!(
        name.get(i..i + 5),
        Some([x, b'_', b'_', b'_', y]) if *x != b'_' && *y != b'_'
    )
}

/// Whether two names are equal once their flavours are dropped.
pub(crate) fn essential_eq(a: &[u8], b: &[u8]) -> bool {
    essential_name(a) == essential_name(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libbpf_examples() {
        assert_eq!(essential_name(b""), b"");
        assert_eq!(essential_name(b"abc"), b"abc");
        assert_eq!(essential_name(b"s___1"), b"s");
        assert_eq!(essential_name(b"s___"), b"s___");
        assert_eq!(essential_name(b"___s"), b"___s");
        assert_eq!(essential_name(b"a___b___c"), b"a___b");
        assert_eq!(essential_name(b"_a___b"), b"_a");
        assert!(essential_eq(b"task___old", b"task___new"));
        assert!(!essential_eq(b"task", b"tas"));
    }
}
