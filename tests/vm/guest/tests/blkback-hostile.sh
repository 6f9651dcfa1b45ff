#!/bin/sh
# Guest side of 66-blkback-hostile-frontend: take xvdb away from the
# guest's blkfront (unbind), then be its frontend ourselves with
# blkfront_hostile (tests/guest/blkfront_hostile.c), which sends the bad
# requests and prints its own GUEST-PASS/GUEST-FAIL lines; then the same
# with xvdc in the x86_32-abi ring layout (blkfront_hostile --x86_32), and
# with xvdd, which dom0 has made slow by then, a barrier held at the close
# (blkfront_hostile --barrier-teardown).
# guest-programs: build/tests/blkfront_hostile
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

# hostile DISK DEVID [--x86_32]: unbind DISK, then attack it.  Autoprobe
# off: from 7.x on, xenbus re-creates a device whose frontend state goes
# back to Initialising, and blkfront would take the new one.
hostile() {
	if echo 0 >/sys/bus/xen/drivers_autoprobe &&
		echo "vbd-$2" >/sys/bus/xen/drivers/vbd/unbind; then
		gpass "$1 unbound from blkfront"
	else
		gfail "$1 unbound from blkfront" "echo vbd-$2 >/sys/bus/xen/drivers/vbd/unbind failed"
		return
	fi
	blkfront_hostile ${3:+"$3"} "$2"
	rc=$?
	# 1: a check failed and said so; anything else is a crash or no setup.
	[ $rc -le 1 ] || gfail "blkfront_hostile ${3:+$3 }$2" "exited with status $rc"
}
hostile xvdb 51728
# The 32-bit PV guest layout, on a disk of its own: the native run leaves
# xvdb's ring stopped.
hostile xvdc 51744 --x86_32
# A writable disk whose reads dom0 delays (after the flood of the native
# run, so that our blkfront probed it at full speed).
hostile xvdd 51760 --barrier-teardown
exit "$guest_failed"
