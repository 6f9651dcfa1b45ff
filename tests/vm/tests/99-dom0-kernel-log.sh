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
# shellcheck source=../lib/kernel-log.sh
. "$REPO/tests/vm/lib/kernel-log.sh"
expected=("$LOGDIR"/tests/*/kernel-log-expected)
kernel_log_filter "${expected[@]}" <"$log" >"$TEST_LOGDIR/dmesg.log"
declared=$(($(grep -ac 'WARNING:' "$log") - $(grep -ac 'WARNING:' "$TEST_LOGDIR/dmesg.log")))
[[ $declared -eq 0 ]] ||
	note "$declared WARNING reports left out: core-kernel ones that tests provoke on purpose and declare (tests/*/kernel-log-expected)"
if grep -aEq "$KERNEL_LOG_BAD" "$TEST_LOGDIR/dmesg.log"; then
	fail "dom0 kernel log is clean" \
		"$(grep -aEm3 "$KERNEL_LOG_BAD" "$TEST_LOGDIR/dmesg.log" | tr '\n' ' ')"
else
	pass "dom0 kernel log is clean: no oops, BUG, WARN, lockup or corruption report ($streamed lines)"
fi

# On a debug kernel (run --debug): the reports counted by kind, kmemleak
# asked what the run leaked since bring-up, and each facility shown to
# have been on to the end (zero reports from one that was off prove
# nothing).
[[ ${VM_DEBUG:-0} -eq 1 ]] || exit 0
dbg=/sys/kernel/debug
kinds=(
	"lockdep|possible (circular|recursive) locking|inconsistent lock state|suspicious RCU usage|irq lock inversion|lock held when returning|held lock freed|bad unlock balance"
	"atomic-sleep|sleeping function called from invalid context|scheduling while atomic"
	"KFENCE|BUG: KFENCE:"
	"slub_debug|BUG [^ :]+ \\(|Redzone overwritten|Poison overwritten|Object already free"
	"debugobjects|ODEBUG:"
	"hung-task or lockup|blocked for more than|soft lockup|rcu.*stall"
)
for k in "${kinds[@]}"; do
	name=${k%%|*} pat=${k#*|}
	n=$(grep -acE "$pat" "$TEST_LOGDIR/dmesg.log")
	if [[ $n -eq 0 ]]; then
		pass "debug kernel: 0 $name reports"
	else
		fail "debug kernel: 0 $name reports" "$n: $(grep -aEm2 "$pat" "$TEST_LOGDIR/dmesg.log" | tr '\n' ' ')"
	fi
done

if echo scan >$dbg/kmemleak && echo scan >$dbg/kmemleak; then
	cp $dbg/kmemleak "$TEST_LOGDIR/kmemleak.txt"
	n=$(grep -c '^unreferenced object' "$TEST_LOGDIR/kmemleak.txt")
	if [[ $n -eq 0 ]]; then
		pass "debug kernel: kmemleak finds nothing leaked since bring-up"
	else
		fail "debug kernel: kmemleak finds nothing leaked since bring-up" \
			"$n objects (tests/$TEST_NAME/kmemleak.txt)"
	fi
else
	fail "debug kernel: kmemleak scans" "it turned itself off (see the kernel log)"
fi

if grep -Eq '^ *debug_locks: +1$' /proc/lockdep_stats; then
	pass "debug kernel: lockdep stayed on ($(awk '/lock-classes:/ {print $2}' /proc/lockdep_stats) lock classes)"
else
	fail "debug kernel: lockdep stayed on" "$(grep debug_locks /proc/lockdep_stats)"
fi
kfence_allocs=$(awk -F': ' '/^total allocations/ {print $2}' $dbg/kfence/stats)
if grep -qx 'enabled: 1' $dbg/kfence/stats && [[ ${kfence_allocs:-0} -gt 0 ]]; then
	pass "debug kernel: KFENCE on ($kfence_allocs allocations guarded)"
else
	fail "debug kernel: KFENCE on" "$(tr '\n' ' ' <$dbg/kfence/stats)"
fi
slub=$(cat /sys/kernel/slab/kmalloc-64/{sanity_checks,red_zone,poison} | tr -d '\n')
if [[ $slub == 111 ]]; then
	pass "debug kernel: slub_debug checks, red zones and poison on (kmalloc-64)"
else
	fail "debug kernel: slub_debug on" "kmalloc-64 sanity_checks, red_zone, poison: $slub"
fi
