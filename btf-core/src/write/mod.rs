//! Building and encoding BTF (work in progress).
