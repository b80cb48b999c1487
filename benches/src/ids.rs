//! Benchmark names: criterion group ids and function ids, shared by the
//! bench and the `report` tool so the README table can be regenerated from
//! `target/criterion`.

/// Parse (and index) `/sys/kernel/btf/vmlinux`.
pub const PARSE: &str = "parse_vmlinux";
/// Little-endian-only framing walk vs btf-core's two-order walk.
pub const NATIVE: &str = "native_vs_both_orders";
/// Every id, one lookup each.
pub const BY_ID: &str = "type_by_id_all";
/// Lookups by name and kind on the running kernel (not sorted by name).
pub const FIND_UNSORTED: &str = "find_unsorted";
/// The same lookups on a name-sorted copy.
pub const FIND_SORTED: &str = "find_sorted";
/// Parsing the name-sorted copy (libbpf checks sortedness while parsing).
pub const PARSE_SORTED: &str = "parse_sorted";
/// Every module of the Debian corpus on one shared base.
pub const CORPUS: &str = "corpus_modules";
/// Iterate every type and touch kind, name and size.
pub const WALK: &str = "walk_types";
/// Format every type as bpftool's raw dump.
pub const DUMP: &str = "dump_raw";
/// Group: every type of vmlinux as C declarations.
pub const DUMP_C: &str = "dump_c";

/// The bare offset walk (count only).
pub const BARE: &str = "bare_walk";
/// The bare offset walk, storing offsets into a freshly allocated vector.
pub const BARE_OFFSETS: &str = "bare_walk+offsets";
/// [`crate::walks::framing_walk`]: every record checked, no element.
pub const FRAMING: &str = "framing_walk";
/// The little-endian-only framing parse.
pub const NATIVE_LE: &str = "native_le_parse";

/// `Btf::parse`.
pub const OURS_PARSE: &str = "ours/parse";
/// `Btf::parse` then `Btf::validate`: every element checked, as libbpf's
/// `btf__new` checks them.
pub const OURS_PARSE_VALIDATE: &str = "ours/parse+validate";
/// `Btf::parse` then `index_names`.
pub const OURS_PARSE_INDEX: &str = "ours/parse+index_names";
/// `Btf::parse_unindexed`.
pub const OURS_UNINDEXED: &str = "ours/parse_unindexed";
/// `Btf::parse_unindexed` on a big-endian copy.
pub const OURS_UNINDEXED_BE: &str = "ours/parse_unindexed_big_endian";
/// `btf__new`.
pub const LIBBPF_NEW: &str = "libbpf/btf__new";
/// `btf_rs::Btf::from_bytes`.
pub const BTFRS_FROM_BYTES: &str = "btf-rs/from_bytes";

/// btf-core.
pub const OURS: &str = "ours";
/// libbpf.
pub const LIBBPF: &str = "libbpf";
/// btf-rs.
pub const BTFRS: &str = "btf-rs";

/// Lookups through the hash index (`index_names` done once beforehand).
pub const OURS_INDEX: &str = "ours/index_names";
/// Lookups with no index on unsorted BTF: a linear scan.
pub const OURS_SCAN: &str = "ours/scan";
/// Lookups with no index on sorted BTF: binary search.
pub const OURS_BSEARCH: &str = "ours/binary_search";
/// `btf__find_by_name_kind` (a scan on unsorted BTF).
pub const LIBBPF_FIND: &str = "libbpf/btf__find_by_name_kind";
/// `btf__find_by_name_kind` on sorted BTF (binary search).
pub const LIBBPF_BSEARCH: &str = "libbpf/binary_search";
/// `resolve_ids_by_name`, filtered by kind.
pub const BTFRS_FIND: &str = "btf-rs/resolve_ids_by_name";

/// `Btf::parse` then `is_sorted_by_name` (our sortedness check is lazy).
pub const OURS_PARSE_SORTED: &str = "ours/parse+is_sorted_by_name";
/// `btf__new`, which runs `btf_check_sorted` itself.
pub const LIBBPF_NEW_SORTED: &str = "libbpf/btf__new";

/// `Btf::parse_split` for every module.
pub const OURS_SPLIT: &str = "ours/parse_split";
/// `Btf::parse_splits` of every module in one call.
pub const OURS_SPLITS: &str = "ours/parse_splits";
/// `Btf::parse_split` then `Btf::validate` for every module.
pub const OURS_SPLIT_VALIDATE: &str = "ours/parse_split+validate";
/// `btf__new_split` for every module.
pub const LIBBPF_SPLIT: &str = "libbpf/btf__new_split";
/// `btf_rs::Btf::from_split_bytes` for every module.
pub const BTFRS_SPLIT: &str = "btf-rs/from_split_bytes";

/// `dump::write_raw` into a reused `Vec<u8>`.
pub const OURS_WRITE_RAW: &str = "ours/write_raw";
/// `Btf::parse` then `dump::write_raw`.
pub const OURS_PARSE_WRITE_RAW: &str = "ours/parse+write_raw";
/// `bpftool btf dump file … format raw > /dev/null`, a whole process.
pub const BPFTOOL_RAW: &str = "bpftool/process";
/// `dump::write_c` into a `Vec`, a fresh dumper each time.
pub const OURS_WRITE_C: &str = "ours/write_c";
/// libbpf's `btf_dump__new` and `btf_dump__dump_type` for every id.
pub const LIBBPF_BTF_DUMP: &str = "libbpf/btf_dump";

/// Group: loading vmlinux and every module of the Debian corpus as one set.
pub const SET_LOAD: &str = "kernel_set_load";
/// Group: lookups by name and kind across that whole set.
pub const SET_FIND: &str = "kernel_set_find";
/// `KernelBtf::load_with` on an in-memory sysfs of the corpus.
pub const OURS_SET_LOAD: &str = "ours/KernelBtf::load";
/// `KernelBtf::from_blobs` on the same bytes, shared (no copy).
pub const OURS_SET_FROM_BLOBS: &str = "ours/KernelBtf::from_blobs";
/// `KernelBtf::load_with`, then one lookup (which builds the set-wide
/// name index).
pub const OURS_SET_LOAD_FIND: &str = "ours/KernelBtf::load+first_find";
/// `btf__new` of vmlinux and `btf__new_split` of every module.
pub const LIBBPF_SET_LOAD: &str = "libbpf/btf__new+btf__new_split";
/// `KernelBtf::find_type_kind` (set-wide index, built beforehand).
pub const OURS_SET_FIND: &str = "ours/find_type_kind";
/// The pre-#16 `KernelBtf` algorithm on today's views: vmlinux's
/// `find_by_name_kind`, then each module's `find_own_by_name_bytes`.
pub const REF_SET_FIND: &str = "reference/per_blob_lookup";
/// vmlinux's `btf__find_by_name_kind`, then each module's
/// `btf__find_by_name_kind_own`.
pub const LIBBPF_SET_FIND: &str = "libbpf/find_by_name_kind";

/// The number of lookups in the find benches.
pub const QUERIES: usize = 300;

/// Group: every CO-RE test object relocated against Debian's vmlinux.
pub const RELOC_OBJECTS: &str = "core_reloc_objects";
/// Group: candidate search across vmlinux and every corpus module.
pub const RELOC_CANDIDATES: &str = "core_reloc_candidates";
/// `BpfObject::parse` of each object's bytes, then `relocate_object`
/// against `Targets` built once over vmlinux parsed once.
pub const OURS_RELOC_WHOLE: &str = "ours/parse+relocate";
/// `Btf::parse` of the target, `Targets::new` (its index built on the
/// first relocation), then as [`OURS_RELOC_WHOLE`].
pub const OURS_RELOC_COLD: &str = "ours/parse_target+parse+relocate";
/// `relocate_object` of each object, parsed beforehand.
pub const OURS_RELOC_ONLY: &str = "ours/relocate";
/// `bpf_object__open_file` (`btf_custom_path`), `bpf_object__prepare`,
/// `bpf_object__close`, for each object.
pub const LIBBPF_RELOC_WHOLE: &str = "libbpf/open+prepare+close";
/// `btf__parse` of the target file, once per object: what libbpf's
/// prepare spends re-parsing the kernel BTF.
pub const LIBBPF_RELOC_PARSE: &str = "libbpf/btf__parse_target";
/// `bpf_object__open_file` and `bpf_object__close` for each object, no
/// prepare.
pub const LIBBPF_RELOC_OPEN: &str = "libbpf/open+close";
/// `Targets::candidates` of each relocation's root type, vmlinux alone,
/// index built beforehand.
pub const OURS_CANDS_VMLINUX: &str = "ours/vmlinux";
/// The same across vmlinux and every module (`ModuleSearch::Always`),
/// indexes built beforehand.
pub const OURS_CANDS_MODULES: &str = "ours/all_modules";
/// vmlinux alone, on fresh `Targets`: the first search builds the index.
pub const OURS_CANDS_VMLINUX_FIRST: &str = "ours/vmlinux+index_build";
/// Every module, on fresh `Targets`: the first search builds every
/// module's index.
pub const OURS_CANDS_MODULES_FIRST: &str = "ours/all_modules+index_build";

/// Group: the kernel-exact check of vmlinux against `btf__new`.
pub const KCHECK: &str = "kernel_check_vmlinux";
/// `kernel_check::check_bytes` (what `Btf::check_as_kernel` runs) with the
/// running kernel's profile, `Loader::User`: `BPF_BTF_LOAD`'s rules, the
/// resolve pass included.
pub const OURS_KCHECK_USER: &str = "ours/check_as_kernel(user)";
/// The same with `Loader::Kernel`: the rules for the kernel's own BTF (no
/// resolve pass).
pub const OURS_KCHECK_KERNEL: &str = "ours/check_as_kernel(kernel)";
