/* CO-RE against real kernels: local flavours of vmlinux types, some of
 * which match Debian's 6.12 vmlinux and the running kernel and some of
 * which do not (guarded accesses, poisoned instructions), bitfields of
 * task_struct, a member the kernel keeps in an anonymous struct
 * (mm_struct.pgd), array elements, loads whose size differs in the
 * kernel, and 64-bit enums (netdev_priv_flags is an ENUM64 in Debian's
 * kernel and a 32-bit ENUM in newer ones). */
#include "core.h"

typedef int pid_t;

struct mm_struct {
	unsigned long *pgd;
	unsigned long task_size;
} __core;

struct sched_entity {
	unsigned long long vruntime;
} __core;

struct task_struct {
	unsigned int __state;
	unsigned int flags;
	int prio;
	unsigned int sched_reset_on_fork : 1;
	unsigned int in_execve : 1;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct mm_struct *mm;
	char comm[16];
	struct sched_entity se;
} __core;

/* Before 5.14 the state was `long state`. */
struct task_struct___old {
	long state;
	int pid;
} __core;

/* Wider than the kernel's: unsigned (safe to narrow) and signed (not). */
struct task_struct___wide {
	unsigned long flags;
	long prio;
} __core;

/* A member no kernel has. */
struct mm_struct___future {
	unsigned long no_such_member;
} __core;

struct no_such_struct {
	int x;
} __core;

enum netdev_priv_flags {
	IFF_TX_SKB_NO_LINEAR = 2147483648ULL,
	IFF_CHANGE_PROTO_DOWN = 4294967296ULL,
};

enum ib_uverbs_device_cap_flags {
	IB_UVERBS_DEVICE_RAW_SCATTER_FCS = 17179869184ULL,
};

enum bpf_func_id___mine {
	BPF_FUNC_probe_read_kernel = 113,
	BPF_FUNC_no_such_helper = 999,
};

SEC("kprobe/fields") int fields(struct task_struct *t)
{
	int pid = 0, tgid = 0;
	char c = 0;
	unsigned long *pgd = 0;
	struct task_struct *parent = 0;

	probe_read(&pid, sizeof(pid), __builtin_preserve_access_index(&t->pid));
	probe_read(&tgid, sizeof(tgid), __builtin_preserve_access_index(&t->tgid));
	probe_read(&c, sizeof(c), __builtin_preserve_access_index(&t->comm[3]));
	probe_read(&parent, sizeof(parent), __builtin_preserve_access_index(&t->real_parent));
	probe_read(&pgd, sizeof(pgd), __builtin_preserve_access_index(&t->mm->pgd));
	return pid + tgid + c + (long)pgd + field_byte_size(t->comm) +
	       field_byte_offset(t->se.vruntime) + field_signed(t->prio) +
	       field_byte_size(t->flags) + (long)parent;
}

SEC("kprobe/bits") int bits(struct task_struct *t)
{
	return field_byte_offset(t->in_execve) + field_byte_size(t->in_execve) +
	       field_lshift(t->in_execve) + field_rshift(t->in_execve) +
	       field_signed(t->in_execve) + field_lshift(t->sched_reset_on_fork) +
	       field_rshift(t->sched_reset_on_fork) +
	       field_byte_offset(t->sched_reset_on_fork);
}

SEC("kprobe/flavours") int flavours(struct task_struct *t)
{
	struct task_struct___old *o = (void *)t;
	struct mm_struct___future *f = 0;
	long state = 0, x = 0;

	if (field_exists(o->state))
		probe_read(&state, sizeof(state), __builtin_preserve_access_index(&o->state));
	if (field_exists(f->no_such_member))
		probe_read(&x, sizeof(x), __builtin_preserve_access_index(&f->no_such_member));
	return state + x + field_exists(o->pid) + field_byte_offset(o->pid);
}

SEC("kprobe/loads") int loads(struct task_struct___wide *w)
{
	/* Direct loads: LDX instructions carry the relocations. */
	return w->flags + w->prio;
}

SEC("kprobe/types") int types(void *ctx)
{
	return type_exists(struct task_struct___old) +
	       type_matches(struct task_struct___old) +
	       type_matches(struct sched_entity) + type_size(struct task_struct) +
	       type_id_target(struct task_struct) + type_exists(struct no_such_struct) +
	       type_id_target(struct no_such_struct) + type_size(struct mm_struct) +
	       type_id_local(struct mm_struct) + type_exists(pid_t) + type_size(pid_t) +
	       type_matches(enum netdev_priv_flags);
}

SEC("kprobe/enums") int enums(void *ctx)
{
	return enumval_exists(enum netdev_priv_flags, IFF_CHANGE_PROTO_DOWN) +
	       enumval_value(enum netdev_priv_flags, IFF_CHANGE_PROTO_DOWN) +
	       enumval_value(enum netdev_priv_flags, IFF_TX_SKB_NO_LINEAR) +
	       enumval_value(enum ib_uverbs_device_cap_flags,
			     IB_UVERBS_DEVICE_RAW_SCATTER_FCS) +
	       enumval_exists(enum bpf_func_id___mine, BPF_FUNC_no_such_helper) +
	       enumval_value(enum bpf_func_id___mine, BPF_FUNC_probe_read_kernel) +
	       enumval_value(enum bpf_func_id___mine, BPF_FUNC_no_such_helper);
}

char _license[] SEC("license") = "GPL";
