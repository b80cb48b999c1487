//! Formatting of types as bpftool's `format raw` prints them (work in progress).
