#!/bin/bash
# vm-timeout: 3600
# bench-boot: --unloaded xen-netback --icount 2
# xen-netback, ours against the kernel's own, in one boot: the module is
# left unloaded at bring-up, then each copy is loaded in turn (ours is
# $MODDIR/xen-netback/xen-netback.ko), serves a fresh 2-vcpu guest (two
# queues) and is unloaded again once the guest is gone. Five rounds
# alternate the order, A B, B A, A B, ..., so neither copy always runs
# first. Figures: iperf3 TCP throughput dom0 -> guest and guest -> dom0
# with 1 and 4 streams, counted over SECS seconds once the transfer has
# had RAMP seconds (bench_cost_steady: the vif's bytes, frames with their
# headers, so a little above iperf3's own figure), and the
# request/response latency of ICMP echo (average round trip of 40 pings,
# counted around the whole ping); with each, the backend's cost in dom0
# per MB (per echo for ping): dom0 CPU, Xen's dom0 time and interrupts,
# then over a second window (40 more echoes) grant operations and their
# hypercalls and notifications (bench-lib.sh). METRIC lines give each
# copy's median and range and the ratio of the medians with the range of
# the per-round ratios. A veth pair
# between two network namespaces in dom0 gives the limit without any Xen
# ring in the way. Without our build, only the in-tree copy is measured
# and the ratio checks fail. The bed runs on QEMU's instruction-counting
# clock (--icount 2): on it one TCP stream's rounds agree within 3% in
# speed and 6% in Xen-accounted time per MB (HISTORY.md).
set -uo pipefail
# shellcheck source=../../vm/lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=../../vm/lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"
# shellcheck source=../../vm/lib/bench-lib.sh
. "$REPO/tests/vm/lib/bench-lib.sh"

ours=$MODDIR/xen-netback/xen-netback.ko
ip=10.99.0.20
SECS=5
RAMP=2
ROUNDS=5
# The vifs' interrupts in /proc/interrupts (both copies name them so).
irqs='^vif[0-9]+\.[0-9]+-q'

# load COPY: ours or in-tree, proven live by build-id.
load() { load_copy "$1" xen-netback; }

# iperf_mbps IP SECS OPTIONS...: "Mbit/s MB" received in one iperf3 run,
# or fail.
iperf_mbps() {
	local ip=$1 secs=$2 json
	shift 2
	json=$(timeout $((secs + 30)) iperf3 -c "$ip" -t "$secs" -J "$@" 2>&1) || return 1
	jq -r '.end.sum_received | "\(.bits_per_second / 1e5 | floor / 10) \(.bytes / 1e6)"' <<<"$json"
}
# ping_us CMD...: average ICMP round trip in microseconds of CMD's pings.
ping_us() {
	"$@" | awk -F/ '/round-trip|rtt/ { split($0, a, "= "); split(a[2], b, "/"); printf "%d\n", b[2] * 1000 }' | grep .
}

# measure COPY ROUND: one guest on that copy, all figures.
measure() {
	local copy=$1 round=$2 g=nb-bench v name counter pid
	nb_guest "$g" "$ip" 2 || return 1
	bench_cost_idle "$copy" "$round" "$SECS"
	for spec in "${specs[@]}"; do
		name=${spec%%:*} counter=vif_tx_bytes
		[[ $spec == *-R* ]] && counter=vif_rx_bytes
		# shellcheck disable=SC2086 # the options are words
		timeout "$BENCH_UNTIL_STOPPED" iperf3 -c "$ip" -t "$BENCH_UNTIL_STOPPED" ${spec#*:} >/dev/null 2>&1 &
		pid=$!
		sleep "$RAMP"
		if ! kill -0 "$pid" 2>/dev/null; then
			fail "$copy round $round: iperf3 ${spec#*:} runs"
			continue
		fi
		bench_cost_steady "$copy" "$name" "$round" "$SECS" "$irqs" "$counter" 1000000
		if kill "$pid" 2>/dev/null; then
			v=$(_bench_per "$bench_rate" 0.125)
			note "$copy round $round: $name $v Mbit/s"
			bench_keep "$copy" "$name" "$round" "$v"
		else
			fail "$copy round $round: iperf3 ${spec#*:} ran through the window"
		fi
		wait "$pid"
		nb_iperf_idle "$ip" || fail "$copy round $round: the guest's iperf3 server ends the test"
	done
	bench_cost_begin "$irqs"
	if v=$(ping_us busybox ping -c 40 -i 0.1 -q "$ip"); then
		bench_cost_end "$copy" ping_rtt "$round" 40
		note "$copy round $round: ping_rtt $v us"
		bench_keep "$copy" ping_rtt "$round" "$v"
	else
		fail "$copy round $round: ping"
	fi
	# Its grant operations and notifications, over 40 more echoes.
	if bench_count_begin; then
		busybox ping -c 40 -i 0.1 -q "$ip" >/dev/null || fail "$copy round $round: ping, counted"
		bench_count_end "$copy" ping_rtt "$round" 40
	fi
	guest_shutdown "$g" 60 || guest_destroy "$g"
	local n=0
	while compgen -G "/sys/class/net/vif*" >/dev/null && [[ $n -lt 50 ]]; do
		sleep 0.2
		n=$((n + 1))
	done
}

# Placement: dom0's vCPU n on CPU n, for dom0's own accounting to compare.
if ! { xl vcpu-pin Domain-0 0 0 && xl vcpu-pin Domain-0 1 1; }; then
	fail "pin dom0's vCPUs"
fi
specs=("tcp_to_guest_1:-P 1" "tcp_to_guest_4:-P 4" "tcp_from_guest_1:-P 1 -R" "tcp_from_guest_4:-P 4 -R")
bench_cost_setup || fail "kprobes counting grant operations and notifications"
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
		bench_dom0_sound "$copy round $round" || exit 1
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
declare -A limit
if veth; then
	for spec in "${specs[@]}"; do
		ip netns exec nbB iperf3 -s -D -1 >/dev/null 2>&1
		sleep 0.5
		# shellcheck disable=SC2086 # the options are words
		v=$(ip netns exec nbA bash -c "$(declare -f iperf_mbps); iperf_mbps 10.97.0.2 $SECS ${spec#*:}") &&
			limit[${spec%%:*}]="${v%% *} Mbit/s"
	done
	v=$(ping_us ip netns exec nbA busybox ping -c 40 -i 0.1 -q 10.97.0.2) && limit[ping_rtt]="$v us"
	ip netns del nbA
	ip netns del nbB
else
	fail "veth pair between two namespaces"
fi

bench_idle_metrics netback
for spec in "${specs[@]}" ping_rtt; do
	name=${spec%%:*} unit=Mbit/s kind=rate per=MB
	[[ $name == ping_rtt ]] && unit=us kind=time per=echo
	note "$name: veth limit ${limit[$name]:-not measured}"
	bench_metric netback "$name" "$unit" "$kind"
	bench_cost_metrics netback "$name" "$per"
done
