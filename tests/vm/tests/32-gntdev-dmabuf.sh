#!/bin/bash
# vm-timeout: 240
# /dev/xen/gntdev's DMABUF ioctls (tests/dom0/gntdev_dmabuf_test.c): the
# grants of a PV guest (tests/guest/gntshare.c) exported as a dma-buf,
# read and written through its mmap(), waited for until released; a
# udmabuf (where the kernel has /dev/udmabuf: 6.12) imported to grants
# that gntdev maps back; every error; the driver's counters back at their
# baseline after each.
# shellcheck source=../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

ko=$MODDIR/xen-gntdev/xen-gntdev.ko
if [[ ! -f $ko || $(cat /sys/module/xen_gntdev/srcversion 2>/dev/null) != "$(modinfo -F srcversion "$ko")" ]]; then
	# Debian's in-tree build answers ENOTTY (30-gntdev-api checks that).
	fail "the project's xen-gntdev is loaded" "the DMABUF ioctls are ours"
	exit 1
fi
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug

guest_create share --test gntdev-share || { fail "guest share created"; exit 1; }
domid=$(guest_domid share) || { fail "guest share has a domid"; exit 1; }
"$REPO/build/tests/gntdev_dmabuf_test" "$domid"
rc=$?
# 1 means checks failed and said so; anything else is a crash.
[[ $rc -le 1 ]] || fail "gntdev_dmabuf_test" "exited $rc"
guest_wait_console share '^GUEST-DONE' 60 >/dev/null ||
	fail "guest share finished" "no GUEST-DONE"
guest_collect share || true
