#!/bin/bash
# After every other test: dom0's kernel log shows no oops, BUG, WARN,
# lockdep or memory-corruption report, whatever the tests did to it.
# shellcheck source=../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

pattern='BUG:|WARNING:|Oops|general protection|Call Trace:|refcount_t:|list_(add|del) corruption|possible circular locking|sleeping function called|UBSAN:|KASAN:|kmemleak'
dmesg >"$TEST_LOGDIR/dmesg.log"
if grep -Eq "$pattern" "$TEST_LOGDIR/dmesg.log"; then
	fail "dom0 kernel log is clean" \
		"$(grep -Em3 "$pattern" "$TEST_LOGDIR/dmesg.log" | tr '\n' ' ')"
else
	pass "dom0 kernel log is clean: no oops, BUG, WARN or corruption report"
fi
