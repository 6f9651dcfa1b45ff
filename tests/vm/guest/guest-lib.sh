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

# xs_watch_open PATH: a xenstore watch on PATH whose events come on fd 3,
# a line each (the first at once); XS_WATCH_PID is its process.  Waiting
# on it instead of polling spares the guest two process spawns per poll,
# CPU that the I/O under test needs.  Without a watch fd 3 is at its end,
# and the caller's "read ... || sleep" polls.
xs_watch_open() {
	fifo=/tmp/xs-watch.$(echo "$1" | tr / _)
	if mkfifo "$fifo"; then
		xenstore-watch "$1" >"$fifo" 2>/dev/null &
		XS_WATCH_PID=$!
		exec 3<"$fifo"
		rm -f "$fifo"
	else
		exec 3</dev/null
	fi
}
