/* CO-RE against types that only kernel modules have, in Debian's 6.1
 * kernel: veth's private structs (struct veth_priv, veth_rq,
 * veth_rq_stats and veth_stats are in veth.ko's BTF alone), nf_tables'
 * struct nft_table (bitfields; nf_tables.ko has it, and other nft modules
 * carry identical copies: 37 modules in all) and enum nft_verdicts
 * (negative values). Every relocation here has its target in a module
 * BTF split on vmlinux, found only because vmlinux has no candidate.
 * Local layouts and enumerator values differ from the kernel's on
 * purpose, so that most relocations change their instruction; a member
 * and a struct no module has, and a struct that exists but does not
 * match (type_matches wants as many members), give 0 or a poisoned
 * (guarded) instruction. Built and checked by benches/tests/core_reloc.rs
 * and, inside a VM running that kernel, by btf-sys/tests/vm/run.sh. */
#include "core.h"

typedef _Bool bool;
typedef unsigned short u16;

struct net_device;

struct veth_stats {
	u64 rx_drops;
	u64 peer_tq_xdp_xmit_err;
} __core;

struct veth_rq_stats {
	struct veth_stats vs;
} __core;

struct veth_rq {
	struct net_device *dev;
	struct veth_rq_stats stats;
	bool rx_notify_masked;
} __core;

struct veth_priv {
	struct net_device *peer;
	struct veth_rq *rq;
	unsigned int requested_headroom;
} __core;

/* A member veth_priv does not have, and a struct no module has. */
struct veth_priv___future {
	unsigned long no_such_member;
} __core;

struct veth_no_such_struct {
	int x;
} __core;

struct nft_table {
	u64 handle;
	u32 use;
	u16 family : 6;
	u16 flags : 8;
	u16 genmask : 2;
	char *name;
} __core;

enum nft_verdicts {
	NFT_JUMP = 30,
	NFT_GOTO = 40,
};

enum nft_verdicts___future {
	NFT_NO_SUCH_VERDICT = 7,
};

SEC("kprobe/veth") int veth(struct veth_priv *p)
{
	struct veth_rq *rq = 0;
	unsigned int headroom = 0;
	u64 xmit_err = 0;
	bool masked = 0;

	probe_read(&rq, sizeof(rq), __builtin_preserve_access_index(&p->rq));
	probe_read(&headroom, sizeof(headroom),
		   __builtin_preserve_access_index(&p->requested_headroom));
	probe_read(&xmit_err, sizeof(xmit_err),
		   __builtin_preserve_access_index(&rq->stats.vs.peer_tq_xdp_xmit_err));
	probe_read(&masked, sizeof(masked),
		   __builtin_preserve_access_index(&rq->rx_notify_masked));
	return headroom + xmit_err + masked + field_byte_offset(rq->dev) +
	       field_byte_size(p->requested_headroom) + field_exists(p->peer) +
	       field_byte_offset(rq->stats.vs.rx_drops);
}

SEC("kprobe/veth_types") int veth_types(void *ctx)
{
	return type_exists(struct veth_priv) + type_size(struct veth_priv) +
	       type_size(struct veth_rq) + type_id_target(struct veth_rq) +
	       type_matches(struct veth_stats) + type_exists(struct veth_no_such_struct);
}

SEC("kprobe/veth_guarded") int veth_guarded(struct veth_priv *p)
{
	struct veth_priv___future *f = (void *)p;
	unsigned long x = 0;

	if (field_exists(f->no_such_member))
		probe_read(&x, sizeof(x), __builtin_preserve_access_index(&f->no_such_member));
	return x;
}

SEC("kprobe/nft") int nft(struct nft_table *t)
{
	/* A direct load too: the LDX carries the relocation. */
	return t->use + field_byte_offset(t->handle) + field_byte_offset(t->flags) +
	       field_byte_size(t->flags) + field_lshift(t->flags) + field_rshift(t->flags) +
	       field_signed(t->family) + field_lshift(t->genmask) +
	       field_rshift(t->genmask) + type_size(struct nft_table);
}

SEC("kprobe/nft_enums") int nft_enums(void *ctx)
{
	return enumval_value(enum nft_verdicts, NFT_GOTO) +
	       enumval_value(enum nft_verdicts, NFT_JUMP) +
	       enumval_exists(enum nft_verdicts, NFT_GOTO) +
	       enumval_exists(enum nft_verdicts___future, NFT_NO_SUCH_VERDICT);
}

char _license[] SEC("license") = "GPL";
