#!/bin/bash
# vm-timeout: 240
# Hot-plugging NICs into a running guest: "xl network-attach" creates a
# second vif (backend Connected, hotplug-status connected, the vif in
# xenbr0, a new NIC in the guest) that carries traffic (dom0 pings the
# guest's address on it on a second subnet, and the new vif's counters
# prove the packets went that way); "xl network-detach" removes it at both
# ends and from xenstore while the first vif keeps working. Twice, so that
# a re-attach after a detach works too.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"

g=nb-hotplug
ip=10.99.0.6
ip link set xenbr0 up
ip addr add 10.98.0.1/24 dev xenbr0 2>/dev/null || true
trap 'rc=$?; ip addr del 10.98.0.1/24 dev xenbr0 2>/dev/null; (exit $rc); _vm_exit' EXIT

nb_guest "$g" "$ip" 1 || exit 1
domid=$(guest_domid "$g")
note "$g is domain $domid"
# Each guest NIC answers ARP only for its own address, so that traffic to
# the second subnet has to use the attached NIC.
gexec "$g" 10 "sysctl -w net.ipv4.conf.all.arp_ignore=1" >/dev/null || true

for round in 1 2; do
	before=$(gexec "$g" 10 "ls /sys/class/net") || true
	if ! out=$(timeout 60 xl network-attach "$g" bridge=xenbr0 2>&1); then
		fail "round $round: xl network-attach" "$out"
		break
	fi
	devid=$(xl network-list "$g" 2>/dev/null | awk 'NR > 1 { d = $1 } END { print d }')
	be=$(nb_backend "$domid" "$devid")
	vif=vif$domid.$devid
	note "round $round: attached devid $devid"
	if nb_xs_wait "$be/state" 4 30 && nb_xs_wait "$(nb_frontend "$domid" "$devid")/state" 4 30; then
		pass "round $round: attached vif $devid: backend and frontend Connected"
	else
		fail "round $round: attached vif $devid Connected" "backend $(xenstore-read "$be/state" 2>&1), frontend $(xenstore-read "$(nb_frontend "$domid" "$devid")/state" 2>&1)"
	fi
	if nb_xs_wait "$be/hotplug-status" connected 30 && [[ $(readlink "/sys/class/net/$vif/master" 2>/dev/null) == */xenbr0 ]]; then
		pass "round $round: $vif is in xenbr0, hotplug-status connected"
	else
		fail "round $round: $vif is in xenbr0, hotplug-status connected" "$(xenstore-read "$be/hotplug-status" 2>&1); $(ip -br link 2>&1 | tr '\n' ' ')"
	fi
	# The new NIC: the one in the guest's list now that was not before.
	nic=$(gexec "$g" 20 "i=0; while [ \$(ls /sys/class/net | wc -l) -le $(wc -w <<<"$before") ] && [ \$i -lt 50 ]; do sleep 0.2; i=\$((i + 1)); done; ls /sys/class/net") || true
	nic=$(comm -13 <(tr ' ' '\n' <<<"$before" | sort) <(tr ' ' '\n' <<<"$nic" | sort) | grep . || true)
	if [[ $nic == eth* ]]; then
		pass "round $round: the guest sees a new NIC $nic"
	else
		fail "round $round: the guest sees a new NIC" "before '$before', now '$nic'"
		continue
	fi
	gexec "$g" 10 "ip addr add 10.98.0.7/24 dev $nic && ip link set $nic up" >/dev/null || true
	# Each attach brings a new MAC: forget the last round's.
	ip neigh flush to 10.98.0.7 dev xenbr0 2>/dev/null || true
	tx0=$(cat "/sys/class/net/$vif/statistics/tx_packets" 2>/dev/null || echo 0)
	if check "round $round: dom0 pings the guest through the attached vif" busybox ping -c 3 -W 5 10.98.0.7; then
		tx1=$(cat "/sys/class/net/$vif/statistics/tx_packets" 2>/dev/null || echo 0)
		if [[ $((tx1 - tx0)) -ge 3 ]]; then
			pass "round $round: the pings went through $vif ($((tx1 - tx0)) packets to the guest)"
		else
			fail "round $round: the pings went through $vif" "its tx_packets went $tx0 -> $tx1"
		fi
	fi

	if ! out=$(timeout 60 xl network-detach "$g" "$devid" 2>&1); then
		fail "round $round: xl network-detach $devid" "$out"
		continue
	fi
	if nb_vif_gone "$vif"; then
		pass "round $round: $vif gone from dom0 after network-detach"
	else
		fail "round $round: $vif gone from dom0 after network-detach" "still there after 10 s"
	fi
	out=$(gexec "$g" 20 "i=0; while [ -e /sys/class/net/$nic ] && [ \$i -lt 50 ]; do sleep 0.2; i=\$((i + 1)); done; ls /sys/class/net") || true
	if [[ " $out " != *" $nic "* ]]; then
		pass "round $round: $nic gone from the guest"
	else
		fail "round $round: $nic gone from the guest" "guest has $out"
	fi
	if xenstore-exists "$be" 2>/dev/null; then
		fail "round $round: backend directory $be removed" "$(xenstore-ls "$be" 2>&1 | head -n 5 | tr '\n' ' ')"
	else
		pass "round $round: backend directory $be removed"
	fi
	check "round $round: the first vif still works after the detach" busybox ping -c 2 -W 5 "$ip" || true
done

if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "still there after 60 s"
fi
