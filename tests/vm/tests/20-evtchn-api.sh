#!/bin/bash
# /dev/xen/evtchn: every ioctl, read/write/poll/SIGIO path and errno, and a
# notify round-trip figure, by tests/dom0/evtchn_test.c on the loaded module;
# on a debug kernel, the failure paths of open and the binds too.
# shellcheck source=../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

static=no
grep -qs HAVE_IOCTL_EVTCHN_BIND_STATIC "$MODDIR/compat/probes.h" && static=yes
note "BIND_STATIC expected: $static"

"$REPO/build/tests/evtchn_test" --static=$static
rc=$?
# 1 means checks failed and said so; anything else is a crash.
[[ $rc -le 1 ]] || fail "evtchn_test" "exited $rc"
# On a debug kernel, every allocation and user copy of open and the binds
# fails in turn (dom0-run has fault injection ready for fail-nth).
if [[ ${VM_DEBUG:-0} -eq 1 ]]; then
	# The core makes an irq's /proc entries best effort, and warns when it
	# frees an irq whose entries an injected fault kept from being made
	# (delayed_free_irq -> unregister_irq_proc), whichever module bound it.
	echo 'at fs/proc/generic.c:[0-9]+ remove_proc_entry' >"$TEST_LOGDIR/kernel-log-expected"
	"$REPO/build/tests/evtchn_test" --fault-injection
	fi_rc=$?
	[[ $fi_rc -le 1 ]] || fail "evtchn_test --fault-injection" "exited $fi_rc"
	[[ $rc -ne 0 ]] || rc=$fi_rc
else
	note "fault injection: only on a debug kernel (make check-debug)"
fi
exit "$rc"
