#include "core.h"

struct inner {
	int a;
	u32 b : 3, c : 5;
	signed char d : 4;
};

struct task {
	int pid;
	struct inner in;
	long arr[4];
	struct task *parent;
} __core;

struct task___old {
	short pid;
} __core;

enum state { RUNNING = 0, SLEEPING = 1, STOPPED = 4 };
typedef struct task task_t;

SEC("kprobe/do_exit") int exit_probe(struct task *t)
{
	int pid = 0;
	long x = 0;

	probe_read(&pid, sizeof(pid), __builtin_preserve_access_index(&t->pid));
	probe_read(&x, sizeof(x), __builtin_preserve_access_index(&t->arr[2]));
	return pid + x + field_exists(t->in.c) + field_byte_size(t->in.c);
}

static __noinline int bits(struct task *t)
{
	return field_byte_offset(t->in.b) + field_signed(t->in.d) +
	       field_lshift(t->in.b) + field_rshift(t->in.b);
}

__noinline int old_pid(struct task___old *t)
{
	short pid = 0;

	if (field_exists(t->pid))
		probe_read(&pid, sizeof(pid), __builtin_preserve_access_index(&t->pid));
	return pid;
}

SEC("tracepoint/sched/sched_switch") int types(struct task *t)
{
	return bits(t) + old_pid((void *)t) + type_id_local(struct task) +
	       type_id_target(task_t) + type_exists(struct task) +
	       type_size(struct task) + type_matches(task_t) +
	       enumval_exists(enum state, STOPPED) +
	       enumval_value(enum state, STOPPED);
}

SEC("xdp") int parent_pid(struct task *t)
{
	struct task *p = 0;
	int pid = 0;

	probe_read(&p, sizeof(p), __builtin_preserve_access_index(&t->parent));
	probe_read(&pid, sizeof(pid), __builtin_preserve_access_index(&p->pid));
	return pid;
}

char _license[] SEC("license") = "GPL";
