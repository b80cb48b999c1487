/* A typical tracing tool's CO-RE reads, in the style of libbpf-tools
 * (execsnoop, opensnoop, tcpconnect, biolatency): the task and its
 * parent, credentials and namespaces, the command line, the file opened,
 * the socket connected, the packet sent, the cgroup. Local flavours hold
 * only the members read; `task_struct___pre514` is the pre-5.14 layout
 * the state read falls back to, guarded as such tools guard it. The
 * fields exist in Debian's 6.1 and 6.12 kernels and in 6.18. */
#include "core.h"

#define READ(dst, src) \
	probe_read(&(dst), sizeof(dst), __builtin_preserve_access_index(&(src)))

typedef unsigned short u16;
typedef unsigned char u8;
typedef struct { unsigned int val; } kuid_t;

struct qstr {
	u32 len;
	const unsigned char *name;
} __core;

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
} __core;

struct path {
	struct dentry *dentry;
} __core;

struct super_block {
	u32 s_dev;
	unsigned long s_magic;
} __core;

struct inode {
	unsigned short i_mode;
	kuid_t i_uid;
	unsigned long i_ino;
	long long i_size;
	struct super_block *i_sb;
} __core;

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	unsigned int f_mode;
	long long f_pos;
} __core;

struct cred {
	kuid_t uid;
	kuid_t euid;
} __core;

struct ns_common {
	unsigned int inum;
} __core;

struct pid_namespace {
	unsigned int level;
	struct ns_common ns;
} __core;

struct nsproxy {
	struct pid_namespace *pid_ns_for_children;
} __core;

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long total_vm;
} __core;

struct kernfs_node {
	u64 id;
} __core;

struct cgroup {
	int level;
	struct kernfs_node *kn;
} __core;

struct css_set {
	struct cgroup *dfl_cgrp;
} __core;

struct task_struct {
	unsigned int __state;
	unsigned int flags;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct mm_struct *mm;
	const struct cred *cred;
	struct nsproxy *nsproxy;
	struct css_set *cgroups;
	u64 start_time;
	int exit_code;
	char comm[16];
} __core;

struct task_struct___pre514 {
	long state;
} __core;

struct sock_common {
	unsigned int skc_daddr;
	unsigned int skc_rcv_saddr;
	u16 skc_dport;
	u16 skc_num;
	unsigned short skc_family;
	unsigned char skc_state;
} __core;

struct sock {
	struct sock_common __sk_common;
	u16 sk_protocol;
	int sk_rcvbuf;
	int sk_sndbuf;
} __core;

struct net_device {
	char name[16];
	int ifindex;
} __core;

struct sk_buff {
	struct sock *sk;
	struct net_device *dev;
	unsigned int len;
	unsigned int data_len;
	u16 protocol;
	u16 transport_header;
	u16 network_header;
	u32 mark;
	unsigned char *head;
} __core;

enum sock_type___mine {
	SOCK_STREAM = 1,
	SOCK_DGRAM = 2,
};

struct event {
	int pid, ppid, tgid, exit_code;
	unsigned int uid, euid, level, inum, flags;
	long state;
	u64 start, cgroup, args, mapped;
	char comm[16];
};

static __noinline long task_state(struct task_struct *t)
{
	struct task_struct___pre514 *old = (void *)t;
	unsigned int now = 0;
	long then = 0;

#ifndef UNGUARDED
	if (field_exists(t->__state)) {
		READ(now, t->__state);
		return now;
	}
#endif
	/* Built with -DUNGUARDED (a test), nothing keeps this from running. */
	READ(then, old->state);
	return then;
}

SEC("kprobe/exec") int exec(struct task_struct *t)
{
	struct event e = {};
	struct task_struct *parent = 0;
	const struct cred *cred = 0;
	struct nsproxy *ns = 0;
	struct pid_namespace *pidns = 0;
	struct mm_struct *mm = 0;
	struct css_set *cgroups = 0;
	struct cgroup *cgrp = 0;
	struct kernfs_node *kn = 0;
	unsigned long start = 0, end = 0;

	READ(e.pid, t->pid);
	READ(e.tgid, t->tgid);
	READ(e.comm, t->comm);
	READ(e.flags, t->flags);
	READ(e.start, t->start_time);
	READ(e.exit_code, t->exit_code);
	READ(parent, t->real_parent);
	READ(e.ppid, parent->tgid);
	READ(cred, t->cred);
	READ(e.uid, cred->uid.val);
	READ(e.euid, cred->euid.val);
	READ(ns, t->nsproxy);
	READ(pidns, ns->pid_ns_for_children);
	READ(e.level, pidns->level);
	READ(e.inum, pidns->ns.inum);
	READ(mm, t->mm);
	READ(start, mm->arg_start);
	READ(end, mm->arg_end);
	READ(e.mapped, mm->total_vm);
	e.args = end - start;
	READ(cgroups, t->cgroups);
	READ(cgrp, cgroups->dfl_cgrp);
	READ(kn, cgrp->kn);
	READ(e.cgroup, kn->id);
	e.state = task_state(t);
	return e.pid + e.ppid + e.uid + e.level + e.inum + e.args + e.cgroup +
	       e.state + e.comm[0] + e.flags + e.start + e.exit_code + e.mapped;
}

SEC("kprobe/open") int open(struct file *f)
{
	struct dentry *d = 0, *parent = 0;
	struct inode *inode = 0;
	struct super_block *sb = 0;
	const unsigned char *name = 0;
	unsigned int len = 0, flags = 0, mode = 0, dev = 0, uid = 0;
	unsigned short imode = 0;
	unsigned long ino = 0;
	long long size = 0, pos = 0;

	READ(d, f->f_path.dentry);
	READ(name, d->d_name.name);
	READ(len, d->d_name.len);
	READ(parent, d->d_parent);
	READ(inode, f->f_inode);
	READ(ino, inode->i_ino);
	READ(imode, inode->i_mode);
	READ(size, inode->i_size);
	READ(uid, inode->i_uid.val);
	READ(sb, inode->i_sb);
	READ(dev, sb->s_dev);
	READ(flags, f->f_flags);
	READ(mode, f->f_mode);
	READ(pos, f->f_pos);
	return (long)name + len + (long)parent + ino + imode + size + uid + dev +
	       flags + mode + pos;
}

SEC("kprobe/tcp_connect") int tcp_connect(struct sock *sk)
{
	unsigned int daddr = 0, saddr = 0;
	u16 dport = 0, sport = 0, family = 0, proto = 0;
	unsigned char state = 0;
	int rcvbuf = 0;

	READ(family, sk->__sk_common.skc_family);
	READ(daddr, sk->__sk_common.skc_daddr);
	READ(saddr, sk->__sk_common.skc_rcv_saddr);
	READ(dport, sk->__sk_common.skc_dport);
	READ(sport, sk->__sk_common.skc_num);
	READ(state, sk->__sk_common.skc_state);
	READ(proto, sk->sk_protocol);
	READ(rcvbuf, sk->sk_rcvbuf);
	if (enumval_exists(enum sock_type___mine, SOCK_DGRAM) &&
	    proto == enumval_value(enum sock_type___mine, SOCK_DGRAM))
		return 1;
	return daddr + saddr + dport + sport + family + proto + rcvbuf;
}

SEC("kprobe/xmit") int xmit(struct sk_buff *skb)
{
	struct net_device *dev = 0;
	struct sock *sk = 0;
	unsigned int len = 0, data_len = 0, mark = 0;
	u16 proto = 0, th = 0, nh = 0;
	int ifindex = 0;
	char name[16];

	READ(len, skb->len);
	READ(data_len, skb->data_len);
	READ(proto, skb->protocol);
	READ(th, skb->transport_header);
	READ(nh, skb->network_header);
	READ(mark, skb->mark);
	READ(dev, skb->dev);
	READ(ifindex, dev->ifindex);
	READ(name, dev->name);
	READ(sk, skb->sk);
	return len + data_len + proto + th + nh + mark + ifindex + name[0] +
	       (long)sk + type_size(struct sk_buff);
}

char _license[] SEC("license") = "GPL";
