#!/bin/bash
# vm-timeout: 480
# The HVM guest of 72-guests-hvm, whose device model (QEMU from
# qemu-system-xen in dom0) is also a client of the project's xen-gntdev
# and xen-evtchn: a disk hot plugged with backendtype=qdisk is served by
# it, written and read back by the guest, found by dom0 after its detach.
# The guest's own disk and NIC are 72's checks.
# Work in progress, out of make check: in two runs of five (6.12, 6.1)
# the guest died as the qdisk was attached, with Xen's "d1v0 Triple fault -
# invoking HVM shutdown action 1" and no oops in the guest; not yet
# understood (QEMU's emulated SVM, or the guest's grants as this QEMU
# maps them through our gntdev).
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/guests-lib.sh
. "$REPO/tests/vm/lib/guests-lib.sh"

g=mg-hvm-qdisk
trap 'rc=$?; guest_destroy "$g"; rmmod brd 2>/dev/null; (exit $rc); _vm_exit' EXIT
bb_brd 2 32 || { fail "brd RAM disks /dev/ram0-1"; exit 1; }
mg_guest "$g" 10.99.0.22 hvm /dev/ram0 || exit 1
domid=$(guest_domid "$g")
mg_device_model "$g"

# The device model as a backend: a disk hot plugged with
# backendtype=qdisk is served by this QEMU (its xen-block maps the guest's
# grants through our /dev/xen/gntdev), hot plugged so that it has no
# emulated IDE twin.
qdisk_be=/local/domain/0/backend/qdisk/$domid/${BB_DEVID[xvdb]}
qdisk_attach() { timeout 60 xl block-attach "$1" "format=raw,vdev=xvdb,access=rw,backendtype=qdisk,target=$2"; }
if check "xl block-attach $g a qdisk xvdb on /dev/ram1" qdisk_attach "$g" /dev/ram1; then
	mg_in_guest "xvdb appears in the guest" "$g" '[ -b /dev/xvdb ]'
	if nb_xs_wait "$qdisk_be/state" 4 30 && nb_xs_wait "$(bb_fe "$domid" xvdb)/state" 4 30; then
		pass "the qdisk xvdb is Connected at both ends ($qdisk_be)"
	else
		fail "the qdisk xvdb is Connected at both ends" "backend state '$(bb_key "$qdisk_be/state")', frontend '$(bb_key "$(bb_fe "$domid" xvdb)/state")'"
	fi
	fds=$(ls -l "/proc/${dm:-none}/fd" 2>/dev/null)
	ls -l "/proc/${dm:-none}/fd" >"$TEST_LOGDIR/qemu-dm.fds" 2>&1
	if [[ $fds == *' /dev/xen/gntdev'* && $fds == *' /dev/xen/evtchn'* ]] &&
		grep -q ' /dev/xen/gntdev$' "/proc/${dm:-none}/maps" 2>/dev/null; then
		pass "the device model has /dev/xen/gntdev and /dev/xen/evtchn open and the guest's ring mapped through gntdev"
	else
		fail "the device model has /dev/xen/gntdev and /dev/xen/evtchn open and the guest's ring mapped through gntdev" "see tests/$TEST_NAME/qemu-dm.fds"
	fi
	mg_write "the guest writes to the qdisk xvdb" "$g" xvdb 4 &&
		mg_readback "the guest reads the qdisk xvdb back" "$g" xvdb 4
	if check "xl block-detach $g xvdb" timeout 60 xl block-detach "$g" xvdb; then
		mg_in_guest "xvdb disappears from the guest" "$g" '[ ! -e /sys/block/xvdb ]'
		if out=$(mg_absent "$qdisk_be" "$(bb_fe "$domid" xvdb)"); then
			pass "the qdisk xvdb is gone from xenstore"
		else
			fail "the qdisk xvdb is gone from xenstore" "$out"
		fi
		mg_dom0_readback "dom0 finds the data the guest wrote on the qdisk xvdb on /dev/ram1" /dev/ram1 "$g" xvdb 4
	fi
fi
if ! guest_domid "$g" >/dev/null; then
	# Seen in two runs of five (as xl block-attach began): Xen said
	# "d1v0 Triple fault - invoking HVM shutdown action 1", the guest's
	# console showed no oops. Cause not known.
	fail "guest $g is still running after the qdisk checks" \
		"it is gone; Xen says: '$(xl dmesg | grep -m 1 -E "d${domid}v[0-9]+ ")'; see xen/xl-$g.log"
	exit 1
fi
pass "guest $g is still running after the qdisk checks"
