//! Benchmarks for btf-core (work in progress).
