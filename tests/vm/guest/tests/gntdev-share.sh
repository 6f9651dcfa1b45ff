#!/bin/sh
# Guest side of 30-gntdev-api: grant 32 pages and an event channel to dom0
# and check, on dom0's requests, what its gntdev did with them (see
# tests/guest/gntshare.c). gntshare prints its own GUEST-PASS/GUEST-FAIL.
# guest-programs: build/tests/gntshare
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

# dom0 silent for 180 s (longer on a debug dom0): it is gone.
gntshare 32 $((180 * ${GUEST_LIMIT_SCALE:-1}))
rc=$?
# 1: a check failed and said so; anything else is a crash or a lost dom0.
[ $rc -le 1 ] || gfail "gntshare" "exited with status $rc"
exit "$guest_failed"
