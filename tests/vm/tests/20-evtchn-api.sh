#!/bin/bash
# /dev/xen/evtchn: every ioctl, read/write/poll/SIGIO path and errno, and a
# notify round-trip figure, by tests/dom0/evtchn_test.c on the loaded module.
# shellcheck source=../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

static=no
grep -qs HAVE_IOCTL_EVTCHN_BIND_STATIC "$MODDIR/compat/probes.h" && static=yes
note "BIND_STATIC expected: $static"

"$REPO/build/tests/evtchn_test" --static=$static
rc=$?
# 1 means checks failed and said so; anything else is a crash.
[[ $rc -le 1 ]] || fail "evtchn_test" "exited $rc"
exit "$rc"
