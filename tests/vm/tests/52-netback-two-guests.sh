#!/bin/bash
# vm-timeout: 240
# Two guests talking through xenbr0 (each through its own xen-netback vif,
# the bridge forwarding between them): pings both ways, iperf3 TCP from
# each to the other, and 1 MiB of random data from one to the other with
# equal md5 at both ends.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"

g1=nb-peer1 ip1=10.99.0.4
g2=nb-peer2 ip2=10.99.0.5
nb_guest "$g1" "$ip1" 1 || exit 1
nb_guest "$g2" "$ip2" 1 || exit 1
note "$g1 is domain $(guest_domid "$g1"), $g2 is domain $(guest_domid "$g2")"

if out=$(gexec "$g1" 30 "ping -c 3 -W 5 $ip2"); then
	pass "$g1 pings $g2"
else
	fail "$g1 pings $g2" "$out"
fi
if out=$(gexec "$g2" 30 "ping -c 3 -W 5 -s 1400 $ip1"); then
	pass "$g2 pings $g1 with 1400-byte packets"
else
	fail "$g2 pings $g1 with 1400-byte packets" "$out"
fi

# guest_iperf FROM TO-IP: iperf3 TCP from guest FROM to the server at TO-IP.
guest_iperf() {
	local out mbps
	out=$(gexec "$1" 60 "iperf3 -c $2 -t 3 -f m | grep receiver")
	mbps=$(awk '{ for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }' <<<"$out")
	if [[ -n $mbps ]] && awk -v m="$mbps" 'BEGIN { exit !(m > 0) }'; then
		pass "TCP $1 -> $2: $mbps Mbit/s"
		echo "METRIC: TCP guest to guest: $mbps Mbit/s"
	else
		fail "TCP $1 -> $2" "$out"
	fi
}
guest_iperf "$g1" "$ip2"
guest_iperf "$g2" "$ip1"

want=$(gexec "$g1" 20 "head -c 1048576 /dev/urandom >/tmp/tx && md5sum </tmp/tx") || true
want=${want%% *}
# The listener's stdin stays open: busybox nc half-closes its side when its
# stdin ends, and a busybox nc sender exits when it sees that.  Nothing of
# the job may hold the agent's output pipe, or the agent waits for it.
gexec "$g2" 10 "{ sleep 120 | nc -l -p 5103 >/tmp/rx; } >/dev/null 2>&1 &" >/dev/null || true
sleep 1
gexec "$g1" 10 "nc $ip2 5103 </tmp/tx >/dev/null 2>&1 &" >/dev/null || true
got=$(gexec "$g2" 60 "i=0; while [ \$(wc -c </tmp/rx) -lt 1048576 ] && [ \$i -lt 200 ]; do sleep 0.2; i=\$((i + 1)); done; echo \$(md5sum </tmp/rx) \$(wc -c </tmp/rx) bytes") || true
if [[ ${#want} -eq 32 && ${got%% *} == "$want" ]]; then
	pass "1 MiB from $g1 to $g2, md5 equal"
else
	fail "1 MiB from $g1 to $g2" "sent md5 '$want', received '$got'"
fi

for g in "$g1" "$g2"; do
	if guest_shutdown "$g" 60; then
		pass "xl shutdown -w $g"
	else
		fail "xl shutdown -w $g" "still there after 60 s"
	fi
done
