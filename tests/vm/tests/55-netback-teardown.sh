#!/bin/bash
# vm-timeout: 600
# xen-netback cleans up: a guest destroyed ("xl destroy") in the middle of
# traffic leaves no vif in dom0 and no backend in xenstore, and, over
# several such guests, dom0's memory (free pages, unreclaimable slab,
# after dropping caches) comes back to what it was after the first one (a
# warm-up, which the kernel's first-use allocations may keep). A guest's
# vif unbound from the driver and bound again while the guest stays
# connected goes on where it was. Then, with no vif left, the module unloads and leaves nothing (no module, no vif
# driver, no backend directory), loads again (the same copy as before) and
# serves a new guest.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"

ip=10.99.0.9
CYCLES=5
# meminfo FIELD: its value in kB (the caller drops the caches first).
meminfo() { awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo; }
# free_kb: memory no driver holds, in kB. Free pages as /proc/zoneinfo
# gives them, the buddy allocator's (nr_free_pages, per-CPU counter
# deltas folded in first) and those on the per-CPU lists (count:), in
# one read: the kernel moves megabytes at a time between the two, and
# MemFree and the lists read from two files gave states that should be
# equal -1.7 to +2.9 MB apart. Plus what user space and files hold: page cache (dom0's
# root is in RAM, and every guest adds to the logs there), anonymous
# memory (xenstored, xenconsoled) and reclaimable slab (dentries,
# inodes); plus the balloon, which grant-mapping pages come from and go
# back to. A backend's pages still held, kmalloc and vmalloc memory are
# in none of these.
free_kb() {
	local f n=0
	for f in Cached Buffers AnonPages SReclaimable; do
		n=$((n + $(meminfo "$f")))
	done
	echo 1 >/proc/sys/vm/stat_refresh
	echo $((n + $(balloon_kb) + $(awk '$1 == "nr_free_pages" || $1 == "count:" { n += $2 } END { print n * 4 }' /proc/zoneinfo)))
}
# balloon_kb: pages in the balloon (low and high memory).
balloon_kb() {
	local d=/sys/devices/system/xen_memory/xen_memory0/info
	echo $(($(cat "$d/low_kb") + $(cat "$d/high_kb")))
}
# settled_free: drop the caches, then the middle of three free_kb
# readings 2 s apart (all three go to the test's log).
settled_free() {
	local i r=()
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for i in 1 2 3; do
		sleep 2
		r+=("$(free_kb)")
	done
	note "free_kb readings: ${r[*]}" >&2
	printf '%s\n' "${r[@]}" | sort -n | sed -n 2p
}

# cycle N: a guest with traffic running, destroyed mid-traffic.
cycle() {
	local g=nb-teardown$1 domid vif ipid
	nb_guest "$g" "$ip" 2 || return 1
	domid=$(guest_domid "$g")
	vif=vif$domid.0
	timeout 60 iperf3 -c "$ip" -t 30 -P 2 --bidir >/dev/null 2>&1 &
	ipid=$!
	sleep 4
	local tx
	tx=$(cat "/sys/class/net/$vif/statistics/tx_bytes" 2>/dev/null || echo 0)
	xl destroy "$g"
	kill "$ipid" 2>/dev/null || true
	wait 2>/dev/null || true
	if nb_vif_gone "$vif"; then
		pass "guest $1: $vif gone after xl destroy mid-traffic ($tx bytes had gone to the guest)"
	else
		fail "guest $1: $vif gone after xl destroy mid-traffic" "still there after 10 s"
	fi
	if xenstore-exists "$(nb_backend "$domid")" 2>/dev/null; then
		fail "guest $1: backend directory removed" "$(nb_backend "$domid") still there"
	else
		pass "guest $1: backend directory removed"
	fi
}

cycle 1 || exit 1
free0=$(settled_free) slab0=$(meminfo SUnreclaim)
cp /proc/meminfo "$TEST_LOGDIR/meminfo.before"
note "after the warm-up guest: free $free0 kB (balloon $(balloon_kb) kB), SUnreclaim $slab0 kB"
for ((i = 2; i <= CYCLES; i++)); do
	cycle "$i" || exit 1
done
free1=$(settled_free) slab1=$(meminfo SUnreclaim)
# Freed memory can come back late (deferred work): a leak never does.
for ((i = 0; i < 6 && free0 - free1 >= 3072; i++)); do
	sleep 5
	free1=$(settled_free)
done
cp /proc/meminfo "$TEST_LOGDIR/meminfo.after"
note "after $((CYCLES - 1)) more guests: free $free1 kB (balloon $(balloon_kb) kB), SUnreclaim $slab1 kB"
echo "METRIC: dom0 memory over $((CYCLES - 1)) destroyed guests: free memory $((free0 - free1)) kB less, SUnreclaim $((slab1 - slab0)) kB more"
# What a leak would leave over four guests passes these bounds: the
# kernel's copy maps grants into 2 MiB of pages per guest, ours queues up
# to 1 MiB of frames per guest (two queues), and each holds its state in
# slab. Readings of states that should be equal differ by up to 1.8 MB.
if [[ $((free0 - free1)) -lt 3072 ]]; then
	pass "dom0 free memory back to its baseline ($free0 -> $free1 kB)"
else
	fail "dom0 free memory back to its baseline" "$free0 -> $free1 kB"
	# Where it went: each /proc/meminfo line that moved by 256 kB or more.
	awk 'NR == FNR { a[$1] = $2; next } ($2 - a[$1]) ^ 2 >= 65536 {
		printf "#   %s %+d kB\n", $1, $2 - a[$1] }' \
		"$TEST_LOGDIR/meminfo.before" "$TEST_LOGDIR/meminfo.after"
fi
if [[ $((slab1 - slab0)) -lt 512 ]]; then
	pass "dom0 unreclaimable slab back to its baseline ($slab0 -> $slab1 kB)"
else
	fail "dom0 unreclaimable slab back to its baseline" "$slab0 -> $slab1 kB"
fi

# --- the driver unbound and bound again, its guest connected ----------------
# As a module reload does it: the guest's netfront stays connected, and the
# backend, bound again, takes its rings up where they stood.  The rings'
# indices by then lie far past a ring's size, so a backend that started
# over from index 0 refuses them (or answers stale requests).  The
# toolstack's hotplug script does not run again: its part (the new vif into
# the bridge, hotplug-status) is done here by hand.
# nb_ring_refs FRONTEND: its queues' ring references, in one line.
nb_ring_refs() {
	xenstore-ls "$1" 2>/dev/null | awk '$1 ~ /ring-ref$/ { printf "%s ", $3 }'
}
rebind() {
	local g=nb-rebind domid vif be fe dev n=0 st refs0 refs1
	nb_guest "$g" "$ip" 2 || return 1
	domid=$(guest_domid "$g")
	vif=vif$domid.0 be=$(nb_backend "$domid") fe=$(nb_frontend "$domid")
	dev=vif-$domid-0
	# Four streams each way, so that both queues carry traffic.
	nb_iperf "rebind: TCP dom0 -> guest before" "$ip" 3 -P 4 || return 1
	nb_iperf "rebind: TCP guest -> dom0 before" "$ip" 3 -P 4 -R || return 1
	refs0=$(nb_ring_refs "$fe")
	nb_iperf_idle "$ip" || true
	note "rebind: $vif took $(cat "/sys/class/net/$vif/statistics/rx_packets") frames from the guest and gave it $(cat "/sys/class/net/$vif/statistics/tx_packets"): past a ring's 256 slots"
	echo "$dev" >/sys/bus/xen-backend/drivers/vif/unbind || { fail "rebind: unbind $dev" "write refused"; return 1; }
	if nb_vif_gone "$vif"; then
		pass "rebind: unbinding $dev takes $vif away"
	else
		fail "rebind: unbinding $dev takes $vif away" "still there"
	fi
	st=$(xenstore-read "$fe/state")
	if [[ $st == 4 ]]; then
		pass "rebind: the frontend stays connected while unbound (state 4)"
	else
		fail "rebind: the frontend stays connected while unbound" "state $st"
	fi
	echo "$dev" >/sys/bus/xen-backend/drivers/vif/bind || { fail "rebind: bind $dev" "write refused"; return 1; }
	while [[ ! -e /sys/class/net/$vif && $n -lt 50 ]]; do
		sleep 0.2
		n=$((n + 1))
	done
	ip link set "$vif" master xenbr0 up && xenstore-write "$be/hotplug-status" connected
	if nb_xs_wait "$be/state" 4 30; then
		pass "rebind: bound again, the backend connects (state 4)"
	else
		fail "rebind: bound again, the backend connects" "state $(xenstore-read "$be/state" 2>&1)"
	fi
	nb_iperf "rebind: TCP dom0 -> guest after" "$ip" 3
	nb_iperf "rebind: TCP guest -> dom0 after" "$ip" 3 -R
	nb_iperf_idle "$ip" || true
	# The same rings: the frontend did not connect anew meanwhile.
	st=$(xenstore-read "$fe/state") refs1=$(nb_ring_refs "$fe")
	if [[ $st == 4 && -n $refs0 && $refs1 == "$refs0" ]]; then
		pass "rebind: the frontend kept its connection and its rings ($refs0)"
	else
		fail "rebind: the frontend kept its connection and its rings" "state $st, ring refs '$refs0' before, '$refs1' after"
	fi
	guest_destroy "$g"
	nb_vif_gone "$vif" || fail "rebind: $vif gone with its guest" "still there"
}
rebind || true

# --- unload and load again ---------------------------------------------------
live=$(build_id_live xen-netback)
note "xen-netback build-id note before the unload: $live"
if compgen -G "/sys/class/net/vif*" >/dev/null; then
	fail "no vif left before the unload" "$(compgen -G "/sys/class/net/vif*" | tr "\n" " ")"
fi
if check "rmmod xen_netback with no vif" rmmod xen_netback; then
	left=''
	[[ -e /sys/module/xen_netback ]] && left+=" /sys/module/xen_netback"
	[[ -e /sys/bus/xen-backend/drivers/vif ]] && left+=" the xen-backend vif driver"
	compgen -G "/sys/bus/xen-backend/devices/vif-*" >/dev/null && left+=" vif devices on xen-backend"
	[[ -n $(xenstore-list /local/domain/0/backend/vif 2>/dev/null) ]] && left+=" backend/vif entries"
	if [[ -z $left ]]; then
		pass "nothing left after the unload"
	else
		fail "nothing left after the unload" "still:$left"
	fi
fi
check "load the $VM_MODULES xen-netback again" load_module_under_test xen-netback || exit 1
now=$(build_id_live xen-netback)
if [[ $now == "$live" ]] && module_live_is_under_test xen-netback; then
	pass "the same xen-netback copy ($VM_MODULES) is live again ($now)"
else
	fail "the same xen-netback copy ($VM_MODULES) is live again" "build-id note $live before, $now now"
fi
g=nb-reloaded
nb_guest "$g" "$ip" 1 || exit 1
check "the reloaded module serves a new guest: dom0 pings it" busybox ping -c 3 -W 5 "$ip" || true
if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "still there after 60 s"
fi
