#!/bin/bash
# After every other test: dom0's kernel log shows no oops, BUG, WARN,
# lockup, lockdep or memory-corruption report, whatever the tests did to
# it.  Read from the copy dom0-run streams to the host since boot, which
# holds every line: the kernel's ring buffer may have wrapped.
# shellcheck source=../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

log=$LOGDIR/dom0-dmesg.log
streamed=$(grep -ac . "$log")
buffered=$(dmesg | grep -c .)
note "kernel log: $streamed lines streamed since boot, $buffered in the ring buffer"
if [[ $streamed -lt $buffered ]]; then
	fail "the streamed kernel log holds the whole ring buffer" "$streamed < $buffered lines"
fi
cp "$log" "$TEST_LOGDIR/dmesg.log"
if grep -aEq "$KERNEL_LOG_BAD" "$TEST_LOGDIR/dmesg.log"; then
	fail "dom0 kernel log is clean" \
		"$(grep -aEm3 "$KERNEL_LOG_BAD" "$TEST_LOGDIR/dmesg.log" | tr '\n' ' ')"
else
	pass "dom0 kernel log is clean: no oops, BUG, WARN, lockup or corruption report ($streamed lines)"
fi
