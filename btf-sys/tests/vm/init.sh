#!/bin/busybox sh
# shellcheck shell=dash
# /init of the initramfs run.sh builds (busybox-static): inserts the modules
# listed in /modules.order (dependencies first), runs vm_check as root and as
# an unprivileged user, and powers off. run.sh reads the VMCHECK-INIT lines.
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
chmod 1777 /tmp
echo "VMCHECK-INIT boot $(uname -r) $(nproc) cpu"

while read -r name; do
    if insmod "/lib/modules/vmcheck/$name.ko"; then
        echo "VMCHECK-INIT insmod $name ok"
    else
        echo "VMCHECK-INIT insmod $name failed"
    fi
done </modules.order
# shellcheck disable=SC2012
echo "VMCHECK-INIT btf $(ls /sys/kernel/btf | tr '\n' ' ')"

EXPECT=$(cat /modules.expect)
/bin/vm_check root --dir /tmp/vmcheck --expect "$EXPECT"
echo "VMCHECK-INIT exit root $?"
chmod -R a+rX /tmp/vmcheck 2>/dev/null
su -s /bin/sh nobody -c "/bin/vm_check user --dir /tmp/vmcheck --expect '$EXPECT'"
echo "VMCHECK-INIT exit user $?"

# `btf dump` of every object through sysfs (modules on the default vmlinux
# base) and by id, as root, and through sysfs as nobody: one sha256 each.
for path in /sys/kernel/btf/*; do
    name=${path##*/}
    echo "VMCHECK-DUMP sysfs $name $(/bin/btf dump "/sys/kernel/btf/$name" | sha256sum | cut -d' ' -f1)"
    echo "VMCHECK-DUMP user $name $(su -s /bin/sh nobody -c "/bin/btf dump /sys/kernel/btf/$name" | sha256sum | cut -d' ' -f1)"
done
/bin/btf list | while read -r id rest; do
    name=${rest#*[}
    name=${name%%]*}
    echo "VMCHECK-DUMP id $name $(/bin/btf dump "id:${id%:}" | sha256sum | cut -d' ' -f1)"
done

# CO-RE on module types: `btf reloc` of module.o against the running
# kernel and its modules (by id as root, through sysfs as nobody), each
# output line prefixed for run.sh.
reloc_start=$(date +%s)
/bin/btf reloc /lib/core/module.o 2>&1 | sed 's/^/VMCHECK-RELOC root /'
su -s /bin/sh nobody -c "/bin/btf reloc /lib/core/module.o" 2>&1 | sed 's/^/VMCHECK-RELOC user /'
echo "VMCHECK-INIT reloc took $(($(date +%s) - reloc_start))s"

echo "VMCHECK-INIT done"
sync
poweroff -f
