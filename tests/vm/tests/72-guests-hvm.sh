#!/bin/bash
# vm-timeout: 480
# An HVM guest (type="hvm": hvmloader and SeaBIOS, QEMU from
# qemu-system-xen as its device model in dom0) whose PV disk and NIC
# (blkfront and netfront in the HVM guest, after the emulated ones are
# unplugged) are served by the project's backends: the same checks as the
# PVH guest. The device model's event channels (its I/O requests) go
# through the project's xen-evtchn. Under QEMU's emulation of SVM the
# guest boots in about 30 s. The device model serving a qdisk through our
# xen-gntdev to this guest is tests/vm/wip/74-guests-hvm-qdisk.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/guests-lib.sh
. "$REPO/tests/vm/lib/guests-lib.sh"

g=mg-hvm
trap 'rc=$?; guest_destroy "$g"; rmmod brd 2>/dev/null; (exit $rc); _vm_exit' EXIT
bb_brd 1 32 || { fail "brd RAM disk /dev/ram0"; exit 1; }
mg_guest "$g" 10.99.0.22 hvm /dev/ram0 || exit 1
if mg_device_model "$g"; then
	ls -l "/proc/$dm/fd" >"$TEST_LOGDIR/qemu-dm.fds" 2>&1
	if grep -q ' /dev/xen/evtchn$' "$TEST_LOGDIR/qemu-dm.fds"; then
		pass "the device model has /dev/xen/evtchn open (ours)"
	else
		fail "the device model has /dev/xen/evtchn open" "see tests/$TEST_NAME/qemu-dm.fds"
	fi
fi

mg_disk_and_net "$g" 10.99.0.22 /dev/ram0
