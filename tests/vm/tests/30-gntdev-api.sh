#!/bin/bash
# vm-timeout: 180
# /dev/xen/gntdev: every ioctl, mmap() path and error, against pages a PV
# guest grants to dom0 (tests/dom0/gntdev_test.c in dom0,
# tests/guest/gntshare.c in the guest): mapping, reading and writing them,
# read-only and private mappings, partial munmap, mremap, MADV_DONTNEED,
# fork, kernel access through the mapping, the unmap notifications on
# munmap, close and SIGKILL, GRANT_COPY, a 65536-grant map that must let a
# real-time thread on its CPU run while mapped and unmapped, a 262144-grant
# mmap() that a SIGKILL must cut short, and the driver's counters back at
# their baseline after each. Takes ~30 s after the guest is up.
# shellcheck source=../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

# The project's module has counters in debugfs; under "run --in-tree" the
# kernel's own module runs the same checks without them, for comparison.
opt=--in-tree
if [[ $VM_MODULES != in-tree ]]; then
	opt=
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
fi
note "xen_gntdev under test: ${opt:-the project build}"
# The 65536-grant map is of dom0's own pages, granted through gntalloc.
modprobe xen-gntalloc || fail "modprobe xen-gntalloc"

guest_create share --test gntdev-share || { fail "guest share created"; exit 1; }
domid=$(guest_domid share) || { fail "guest share has a domid"; exit 1; }
"$REPO/build/tests/gntdev_test" ${opt:+"$opt"} "$domid"
rc=$?
# 1 means checks failed and said so; anything else is a crash.
[[ $rc -le 1 ]] || fail "gntdev_test" "exited $rc"
guest_wait_console share '^GUEST-DONE' 60 >/dev/null ||
	fail "guest share finished" "no GUEST-DONE"
guest_collect share || true
