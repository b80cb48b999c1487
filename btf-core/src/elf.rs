//! Finding `.BTF`, `.BTF.ext` and `.BTF.base` in ELF files (work in progress).
