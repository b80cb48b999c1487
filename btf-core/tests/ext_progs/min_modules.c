/* CO-RE against kernel modules' BTF (split on vmlinux): local flavours of
 * types that only modules define (ext4, xfs, fuse, nf_tables, btrfs), a
 * path from a module struct into a vmlinux struct it holds by value
 * (ext4_inode_info.vfs_inode), module enums, type-based relocations, and
 * vmlinux types beside them. Against one module, the other modules'
 * relocations find no candidate and poison. */
#include "core.h"

typedef long long loff_t;

struct inode {
	unsigned long i_ino;
	unsigned int i_flags;
} __core;

struct ext4_inode_info {
	unsigned int i_flags;
	loff_t i_disksize;
	struct inode vfs_inode;
	unsigned int i_csum_seed;
} __core;

struct ext4_inode_info___future {
	int no_such_member;
} __core;

struct ext4_sb_info {
	unsigned long s_mount_opt;
} __core;

enum ext4_li_mode {
	EXT4_LI_MODE_PREFETCH_BBITMAP,
	EXT4_LI_MODE_ITABLE,
};

struct xfs_inode {
	unsigned long long i_ino;
} __core;

enum xfs_dinode_fmt {
	XFS_DINODE_FMT_EXTENTS = 2,
};

struct fuse_conn {
	unsigned int max_read;
	unsigned int minor;
} __core;

struct nft_table {
	unsigned long long handle;
	unsigned int use;
	unsigned short flags : 8;
} __core;

struct btrfs_inode {
	void *root;
} __core;

struct task_struct {
	int pid;
} __core;

SEC("kprobe/ext4") int ext4(struct ext4_inode_info *ei)
{
	struct ext4_inode_info___future *f = (void *)ei;
	long size = 0, ino = 0;

	probe_read(&size, sizeof(size), __builtin_preserve_access_index(&ei->i_disksize));
	probe_read(&ino, sizeof(ino), __builtin_preserve_access_index(&ei->vfs_inode.i_ino));
	return size + ino + field_byte_offset(ei->i_flags) + field_byte_size(ei->i_csum_seed) +
	       field_byte_offset(ei->vfs_inode.i_flags) + field_exists(f->no_such_member) +
	       type_exists(struct ext4_sb_info) + type_size(struct ext4_inode_info) +
	       type_matches(struct ext4_sb_info) +
	       enumval_value(enum ext4_li_mode, EXT4_LI_MODE_ITABLE);
}

SEC("kprobe/xfs") int xfs(struct xfs_inode *ip)
{
	return field_byte_offset(ip->i_ino) + field_byte_size(ip->i_ino) +
	       enumval_exists(enum xfs_dinode_fmt, XFS_DINODE_FMT_EXTENTS) +
	       enumval_value(enum xfs_dinode_fmt, XFS_DINODE_FMT_EXTENTS);
}

SEC("kprobe/fuse") int fuse(struct fuse_conn *fc)
{
	return field_byte_offset(fc->max_read) + field_byte_offset(fc->minor) +
	       type_size(struct fuse_conn);
}

SEC("kprobe/nft") int nft(struct nft_table *t)
{
	return field_byte_offset(t->handle) + field_byte_offset(t->use) +
	       field_lshift(t->flags) + field_rshift(t->flags) + type_id_target(struct nft_table);
}

SEC("kprobe/btrfs") int btrfs(struct btrfs_inode *bi)
{
	void *root = 0;

	probe_read(&root, sizeof(root), __builtin_preserve_access_index(&bi->root));
	return (long)root + type_exists(struct btrfs_inode);
}

SEC("kprobe/vmlinux") int vmlinux(struct task_struct *t)
{
	return field_byte_offset(t->pid) + type_id_target(struct task_struct);
}

char _license[] SEC("license") = "GPL";
