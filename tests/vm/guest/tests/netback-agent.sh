#!/bin/sh
# Guest side of the 5N-netback-* tests: an iperf3 server on every address,
# and an agent that runs the shell commands dom0 writes to our xenstore
# data/cmd ("SEQ COMMAND") and answers data/ack ("SEQ STATUS OUTPUT", the
# output on one line, its last 1000 bytes). The agent runs in the
# background, so that the guest then idles (guest_wait=1) and keeps serving
# dom0 until it shuts the guest down; it goes on after xl save/restore.
# guest-programs: iperf3 ethtool build/tests/nbhostile
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

if iperf3 -s -D >/dev/null 2>&1; then
	gpass "iperf3 server started"
else
	gfail "iperf3 server started" "iperf3 -s -D failed"
fi
# The agent looks for a command after each change of data/cmd (a watch)
# and at least every 5 s, should a watch be lost.
(
	xs_watch_open data/cmd
	last=
	while :; do
		cmd=$(xenstore-read data/cmd 2>/dev/null) || cmd=
		seq=${cmd%% *}
		if [ -n "$cmd" ] && [ "$seq" != "$last" ]; then
			last=$seq
			out=$(sh -c "${cmd#* }" 2>&1 </dev/null)
			rc=$?
			out=$(printf '%s' "$out" | tr '\n\134' '  ' | tail -c 1000)
			xenstore-write data/ack "$seq $rc $out"
			continue
		fi
		# An event or the time; if the watch ended, poll.
		# shellcheck disable=SC3045 # busybox sh has read -t
		read -r -t 5 _ <&3 || sleep 0.2
	done
) </dev/null >/dev/null 2>&1 &
gpass "agent started"
exit "$guest_failed"
