#!/bin/sh
# Guest side of 66-blkback-hostile-frontend: take xvdb away from the
# guest's blkfront (unbind), then be its frontend ourselves with
# blkfront_hostile (tests/guest/blkfront_hostile.c), which sends the bad
# requests and prints its own GUEST-PASS/GUEST-FAIL lines.
# guest-programs: build/tests/blkfront_hostile
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

devid=51728
if echo "vbd-$devid" >/sys/bus/xen/drivers/vbd/unbind; then
	gpass "xvdb unbound from blkfront"
else
	gfail "xvdb unbound from blkfront" "echo vbd-$devid >/sys/bus/xen/drivers/vbd/unbind failed"
	exit 1
fi
blkfront_hostile $devid
rc=$?
# 1: a check failed and said so; anything else is a crash or no setup.
[ $rc -le 1 ] || gfail "blkfront_hostile" "exited with status $rc"
exit "$guest_failed"
