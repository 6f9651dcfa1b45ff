# shellcheck shell=sh disable=SC2034
# Helpers for guest-side tests (tests/vm/guest/tests/<name>.sh, run by the
# guest's init with busybox sh). Source it with: . /lib/guest-lib.sh
# Each check prints a marker that dom0's guest_collect turns into a check.

gpass() { echo "GUEST-PASS: $*"; }
gfail() {
	what=$1
	shift
	echo "GUEST-FAIL: $what${1:+: $*}"
	guest_failed=1
}
guest_failed=0
# End a test with: exit $guest_failed
