#!/bin/bash
# vm-timeout: 240
# A PVH guest (type="pvh": hardware-virtualised, no device model) whose
# disk and NIC are served by the project's backends through the stock
# hotplug scripts: both Connected, the guest's data reads back equal
# (inside, and in dom0 after a clean shutdown), pings both ways.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/guests-lib.sh
. "$REPO/tests/vm/lib/guests-lib.sh"

g=mg-pvh
trap 'rc=$?; guest_destroy "$g"; rmmod brd 2>/dev/null; (exit $rc); _vm_exit' EXIT
bb_brd 1 32 || { fail "brd RAM disk /dev/ram0"; exit 1; }
mg_guest "$g" 10.99.0.21 pvh /dev/ram0 || exit 1
mg_disk_and_net "$g" 10.99.0.21 /dev/ram0
