#!/bin/bash
# vm-timeout: 600
# bench-boot: --unloaded xen-netback
# xen-netback, ours against the kernel's own, in one boot: the module is
# left unloaded at bring-up, then each copy is loaded in turn (ours is
# $MODDIR/xen-netback/xen-netback.ko), serves a fresh 2-vcpu guest (two
# queues) and is unloaded again once the guest is gone. Rounds alternate
# the order, A B, B A, A B, so neither copy always runs first; each copy's
# best figure counts, which filters out load from outside the VM. Figures:
# iperf3 TCP throughput dom0 -> guest and guest -> dom0 with 1 and 4
# streams, and the request/response latency of ICMP echo (average round
# trip of 40 pings). A veth pair between two network namespaces in dom0
# gives the limit without any Xen ring in the way. Ratios > 1 mean ours is
# faster. Without our build, only the in-tree copy is measured and the
# ratio checks fail.
set -uo pipefail
# shellcheck source=../../vm/lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=../../vm/lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"

ours=$MODDIR/xen-netback/xen-netback.ko
ip=10.99.0.20
SECS=4
ROUNDS=3

# load COPY: ours or in-tree, proven live by build-id.
load() { load_copy "$1" xen-netback; }

declare -A best
# record COPY NAME VALUE UNIT: keep the best value (lower for us).
record() {
	local key=$1/$2
	if [[ -z ${best[$key]:-} ]] ||
		{ [[ $4 == us ]] && awk "BEGIN{exit !($3 < ${best[$key]})}"; } ||
		{ [[ $4 != us ]] && awk "BEGIN{exit !($3 > ${best[$key]})}"; }; then
		best[$key]=$3
	fi
	best[unit/$2]=$4
}

# iperf_mbps IP SECS OPTIONS...: received Mbit/s of one iperf3 run, or fail.
iperf_mbps() {
	local ip=$1 secs=$2 json
	shift 2
	json=$(timeout $((secs + 30)) iperf3 -c "$ip" -t "$secs" -J "$@" 2>&1) || return 1
	jq -r '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' <<<"$json"
}
# ping_us CMD...: average ICMP round trip in microseconds of CMD's pings.
ping_us() {
	"$@" | awk -F/ '/round-trip|rtt/ { split($0, a, "= "); split(a[2], b, "/"); printf "%d\n", b[2] * 1000 }' | grep .
}

# measure COPY ROUND: one guest on that copy, all figures.
measure() {
	local copy=$1 g=nb-bench v
	nb_guest "$g" "$ip" 2 || return 1
	for spec in "tcp_to_guest_1:-P 1" "tcp_to_guest_4:-P 4" "tcp_from_guest_1:-P 1 -R" "tcp_from_guest_4:-P 4 -R"; do
		# shellcheck disable=SC2086 # the options are words
		if v=$(iperf_mbps "$ip" "$SECS" ${spec#*:}); then
			echo "# $copy round $2: ${spec%%:*} $v Mbit/s"
			record "$copy" "${spec%%:*}" "$v" Mbit/s
		else
			fail "$copy round $2: iperf3 ${spec#*:}"
		fi
	done
	if v=$(ping_us busybox ping -c 40 -i 0.1 -q "$ip"); then
		echo "# $copy round $2: ping_rtt $v us"
		record "$copy" ping_rtt "$v" us
	else
		fail "$copy round $2: ping"
	fi
	guest_shutdown "$g" 60 || guest_destroy "$g"
	local n=0
	while compgen -G "/sys/class/net/vif*" >/dev/null && [[ $n -lt 50 ]]; do
		sleep 0.2
		n=$((n + 1))
	done
}

copies="ours in-tree"
if [[ ! -f $ours ]]; then
	note "our xen-netback is not built ($ours): in-tree only"
	copies=in-tree
	ROUNDS=2
fi
for ((round = 1; round <= ROUNDS; round++)); do
	order=$copies
	[[ $((round % 2)) -eq 0 && $copies == "ours in-tree" ]] && order="in-tree ours"
	for copy in $order; do
		if ! load "$copy"; then
			fail "load $copy xen-netback (round $round)"
			rmmod xen_netback 2>/dev/null
			continue
		fi
		measure "$copy" "$round" || fail "$copy round $round: measured"
		rmmod xen_netback || fail "rmmod $copy xen-netback (round $round)"
	done
done

# The limit: a veth pair between two namespaces, the same measurements.
veth() {
	ip netns add nbA && ip netns add nbB &&
		ip link add nbva netns nbA type veth peer name nbvb netns nbB &&
		ip -n nbA addr add 10.97.0.1/24 dev nbva && ip -n nbB addr add 10.97.0.2/24 dev nbvb &&
		ip -n nbA link set nbva up && ip -n nbB link set nbvb up &&
		ip -n nbA link set lo up && ip -n nbB link set lo up
}
if veth; then
	for spec in "tcp_to_guest_1:-P 1" "tcp_to_guest_4:-P 4" "tcp_from_guest_1:-P 1 -R" "tcp_from_guest_4:-P 4 -R"; do
		ip netns exec nbB iperf3 -s -D -1 >/dev/null 2>&1
		sleep 0.5
		# shellcheck disable=SC2086 # the options are words
		v=$(ip netns exec nbA bash -c "$(declare -f iperf_mbps); iperf_mbps 10.97.0.2 $SECS ${spec#*:}") &&
			record veth "${spec%%:*}" "$v" Mbit/s
	done
	v=$(ping_us ip netns exec nbA busybox ping -c 40 -i 0.1 -q 10.97.0.2) && record veth ping_rtt "$v" us
	ip netns del nbA
	ip netns del nbB
else
	fail "veth pair between two namespaces"
fi

for name in tcp_to_guest_1 tcp_to_guest_4 tcp_from_guest_1 tcp_from_guest_4 ping_rtt; do
	o=${best[ours/$name]:-} i=${best[in-tree/$name]:-} l=${best[veth/$name]:-?} unit=${best[unit/$name]:-}
	if [[ -z $i ]]; then
		fail "benchmark $name measured on the in-tree xen-netback"
		continue
	fi
	if [[ -z $o ]]; then
		echo "METRIC: netback $name: in-tree $i $unit, ours not measured, veth limit $l $unit"
		fail "benchmark $name: ratio ours/in-tree" "ours not measured$([[ -f $ours ]] && echo " (load or run failed)" || echo " ($ours not built)")"
		continue
	fi
	if [[ $unit == us ]]; then
		ratio=$(awk "BEGIN{printf \"%.2f\", $i / $o}")
	else
		ratio=$(awk "BEGIN{printf \"%.2f\", $o / $i}")
	fi
	echo "METRIC: netback $name: ours $o $unit, in-tree $i $unit, speed ratio ours/in-tree $ratio, veth limit $l $unit"
	pass "benchmark $name measured for both copies"
done
