#!/bin/sh
# Guest side of 21-evtchn-guest-storm: wait for the port dom0 publishes in
# this guest's xenstore, then notify it as fast as possible for 20 s.
# guest-programs: build/tests/evtchn_test
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

port=
for _ in $(seq 120); do
	port=$(xenstore-read data/storm-port 2>/dev/null) && break
	sleep 1
done
if [ -z "$port" ]; then
	gfail "dom0's storm port appears in xenstore" "not after 120 s"
	exit 1
fi
if out=$(evtchn_test --storm-source "$port" 20); then
	gpass "event storm sent to dom0 port $port: $out"
else
	gfail "event storm to dom0 port $port" "$out"
fi
exit "$guest_failed"
