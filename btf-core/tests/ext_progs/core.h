/* The CO-RE builtins as libbpf's bpf_core_read.h wraps them (values of
 * enum bpf_field_info_kind, bpf_type_id_kind, bpf_type_info_kind and
 * bpf_enum_value_kind), so the test programs need no libbpf headers. */
#define SEC(name) __attribute__((section(name), used))
#define __core __attribute__((preserve_access_index))
#define __noinline __attribute__((noinline))

#define field_byte_offset(f) __builtin_preserve_field_info(f, 0)
#define field_byte_size(f) __builtin_preserve_field_info(f, 1)
#define field_exists(f) __builtin_preserve_field_info(f, 2)
#define field_signed(f) __builtin_preserve_field_info(f, 3)
#define field_lshift(f) __builtin_preserve_field_info(f, 4)
#define field_rshift(f) __builtin_preserve_field_info(f, 5)
#define type_id_local(t) __builtin_btf_type_id(*(typeof(t) *)0, 0)
#define type_id_target(t) __builtin_btf_type_id(*(typeof(t) *)0, 1)
#define type_exists(t) __builtin_preserve_type_info(*(typeof(t) *)0, 0)
#define type_size(t) __builtin_preserve_type_info(*(typeof(t) *)0, 1)
#define type_matches(t) __builtin_preserve_type_info(*(typeof(t) *)0, 2)
#define enumval_exists(t, v) __builtin_preserve_enum_value(*(typeof(t) *)v, 0)
#define enumval_value(t, v) __builtin_preserve_enum_value(*(typeof(t) *)v, 1)

typedef unsigned int u32;
typedef unsigned long long u64;
static long (*probe_read)(void *dst, u32 size, const void *src) = (void *)4;
