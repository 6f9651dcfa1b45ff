#!/bin/bash
# vm-timeout: 540
# An HVM guest (type="hvm": hvmloader and SeaBIOS, QEMU from
# qemu-system-xen as its device model in dom0, a client of the project's
# xen-gntdev and xen-evtchn) whose PV disk and NIC (blkfront and netfront
# in the HVM guest, after the emulated ones are unplugged) are served by
# the project's backends: the same checks as the PVH guest. Under QEMU's
# emulation of SVM it takes minutes to boot.
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
dm=$(pgrep -f "xen-qemu-system-i386.*-xen-domid $(guest_domid "$g")" | head -n 1)
fds=$(ls -l "/proc/${dm:-none}/fd" 2>/dev/null)
if [[ $fds == */dev/xen/gntdev* && $fds == */dev/xen/evtchn* ]]; then
	pass "its device model (pid $dm) runs in dom0 with /dev/xen/gntdev and /dev/xen/evtchn open"
else
	fail "its device model runs in dom0 with /dev/xen/gntdev and /dev/xen/evtchn open" "pid '${dm:-none}'"
fi
mg_disk_and_net "$g" 10.99.0.22 /dev/ram0
