#!/bin/bash
# vm-timeout: 4200
# xen-netback in a network driver domain, the way Qubes OS runs it in
# sys-net: a PV guest, nd (guest test netback-domain), loads one copy of
# xen-netback, ours ($MODDIR: dom0 and the guests boot the same kernel) or
# the kernel's own, and serves the vif of a second guest, ng, whose vif
# line names nd as its backend.  In each round and copy: the copy is
# loaded in nd and proven live by build-id, ng is created, TCP runs from
# nd to ng and from ng to nd (iperf3, one stream), ng is destroyed and
# the copy unloaded; five rounds, the order alternating.  Over SECS
# seconds of steady transfer (tcp), the backend's cost per MB in the
# driver domain (bench-lib.sh with BENCH_COST_DOMAIN=nd: nd's own CPU
# accounting, nd's vCPU time as Xen accounts it, grant operations and
# their hypercalls, notifications, interrupts).  The counters are read through nd's agent, whose shell
# costs nd a little CPU inside each window, the same for both copies.
set -uo pipefail
# shellcheck source=../../vm/lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=../../vm/lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"
# shellcheck source=../../vm/lib/bench-lib.sh
. "$REPO/tests/vm/lib/bench-lib.sh"

ROUNDS=5
SECS=5
RAMP=2
nd_ip=10.98.0.1 ng_ip=10.98.0.2
tmp=$(mktemp -d)
cleanup() {
	guest_destroy ng
	guest_destroy nd
	rm -rf "$tmp"
	rmmod brd 2>/dev/null
	true
}
# shellcheck disable=SC2154 # rc is set by the trap itself
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

# The two copies, for nd: a cpio archive on a RAM disk, nd's xvdb.
declare -A want
mkdir -p "$tmp/mods/ours" "$tmp/mods/in-tree"
cp "$MODDIR/xen-netback/xen-netback.ko" "$tmp/mods/ours/" || { fail "our xen-netback is built"; exit 1; }
in_tree=$(modinfo -n xen-netback)
case $in_tree in
*.xz) xz -dc "$in_tree" ;;
*.zst) zstd -qdc "$in_tree" ;;
*) cat "$in_tree" ;;
esac >"$tmp/mods/in-tree/xen-netback.ko"
for copy in ours in-tree; do
	want[$copy]=$(build_id_of_ko "$tmp/mods/$copy/xen-netback.ko")
done
rmmod brd 2>/dev/null
if ! modprobe brd rd_nr=1 rd_size=16384 || ! udevadm settle || [[ ! -b /dev/ram0 ]] ||
	! (cd "$tmp/mods" && find . | cpio -o -H newc --quiet) | dd of=/dev/ram0 bs=64k status=none; then
	fail "the copies on a RAM disk for the driver domain"
	exit 1
fi

if ! guest_create nd --test netback-domain --wait 'memory=384' 'driver_domain=1' \
	"disk=['phy:/dev/ram0,xvdb,r']" || ! guest_wait_console nd '^GUEST-IDLE' 120 >/dev/null; then
	fail "driver domain nd boots and starts its agent"
	exit 1
fi
nd=$(guest_domid nd)
check "driver domain nd (domain $nd) runs dom0's kernel" \
	test "$(gexec nd 30 uname -r)" = "$KVER"
check "nd unpacks the copies from xvdb" \
	gexec nd 60 'mkdir -p /mods && cd /mods && cpio -id </dev/xvdb 2>/dev/null && ls ours in-tree'
export BENCH_COST_DOMAIN=nd
bench_cost_setup || fail "kprobes counting grant operations and notifications in nd"

# nd_load COPY: COPY's xen-netback loaded in nd, proven by build-id (the
# sysfs note: a 12-byte header, "GNU\0", then the id).
nd_load() {
	local hex
	gexec nd 30 "insmod /mods/$1/xen-netback.ko" >/dev/null || return 1
	hex=$(gexec nd 30 'od -An -v -tx1 /sys/module/xen_netback/notes/.note.gnu.build-id') || return 1
	hex=${hex// /}
	[[ -n ${want[$1]} && ${hex:32:$((2 * 16#${hex:8:2}))} == "${want[$1]}" ]]
}

# tcp COPY ROUND NAME GUEST IP COUNTER: one iperf3 stream from GUEST to
# the server at IP, left running; when it has had RAMP seconds, nd counts
# over SECS seconds (bench_cost_steady), the MB from its vif's COUNTER
# (vif_tx_bytes: to ng; vif_rx_bytes: from ng) at the same instants as
# its CPU time; then the stream is stopped, and one already gone fails
# the round.
tcp() {
	local copy=$1 round=$2 name=$3 mbps
	if ! gexec_bg "$4" iperf3 "iperf3 -c $5 -t $BENCH_UNTIL_STOPPED"; then
		fail "$copy round $round: $name starts"
		return 1
	fi
	sleep "$RAMP"
	bench_cost_steady "$copy" "$name" "$round" "$SECS" '^vif[0-9]+\.[0-9]+-q' "$6" 1000000
	if ! gexec_bg_stop "$4" iperf3; then
		fail "$copy round $round: $name ran through the window"
		return 1
	fi
	mbps=$(_bench_per "$bench_rate" 0.125)
	bench_keep "$copy" "$name" "$round" "$mbps"
	note "$copy round $round: $name $mbps Mbit/s"
}

# serve COPY ROUND: ng on nd's copy, both transfers.
serve() {
	local copy=$1 round=$2 ng be n=0
	if ! guest_create ng --test netback-agent --wait --ip "$ng_ip/24" "vif=['backend=nd']" ||
		! guest_wait_console ng '^GUEST-IDLE' 120 >/dev/null; then
		fail "$copy round $round: guest ng boots with its vif in nd"
		guest_destroy ng
		return 1
	fi
	ng=$(guest_domid ng)
	# A ping fails at once while nd has no route to ng yet: pace the
	# tries.  (One line: the agent's xenstore-read escapes newlines.)
	if gexec nd 60 "n=0; until ping -c 1 -W 1 $ng_ip >/dev/null 2>&1; do n=\$((n + 1)); [ \$n -lt 25 ] || exit 1; sleep 1; done" >/dev/null; then
		pass "$copy round $round: nd serves ng's vif (nd pings ng)"
		bench_cost_idle "$copy" "$round" "$SECS"
		tcp "$copy" "$round" tcp_to_guest nd "$ng_ip" vif_tx_bytes
		tcp "$copy" "$round" tcp_from_guest ng "$nd_ip" vif_rx_bytes
	else
		fail "$copy round $round: nd pings ng" "nd: $(gexec nd 20 "ping -c 2 -W 2 $ng_ip 2>&1 | tail -n 2; ip neigh; grep -i vif /proc/interrupts; grep : /proc/net/dev | tail -n 1") ng: $(gexec ng 20 "ping -c 2 -W 2 $nd_ip 2>&1 | tail -n 2; ip neigh; grep -i eth /proc/interrupts; grep : /proc/net/dev | tail -n 1")"
	fi
	guest_destroy ng
	# What "xl devd" would do in nd: the dead guest's backend goes.
	be=/local/domain/$nd/backend/vif/$ng
	xenstore-exists "$be" && xenstore-rm "$be"
	until ! gexec nd 10 'ls /sys/class/net | grep -q ^vif' >/dev/null; do
		[[ $n -lt 30 ]] || { fail "$copy round $round: ng's vif leaves nd"; return 1; }
		n=$((n + 1))
		sleep 1
	done
}

for ((round = 1; round <= ROUNDS; round++)); do
	order="ours in-tree"
	[[ $((round % 2)) -eq 0 ]] && order="in-tree ours"
	for copy in $order; do
		bench_dom0_sound "$copy round $round" || exit 1
		if ! nd_load "$copy"; then
			fail "$copy xen-netback loaded in nd and live (round $round)"
		else
			serve "$copy" "$round"
		fi
		gexec nd 30 'rmmod xen_netback' >/dev/null ||
			fail "rmmod $copy xen-netback in nd (round $round)"
	done
done

bench_idle_metrics netback-driver-domain
for name in tcp_to_guest tcp_from_guest; do
	bench_metric netback-driver-domain "$name" Mbit/s rate
	bench_cost_metrics netback-driver-domain "$name" MB
done
