#!/bin/bash
# vm-timeout: 600
# Traffic through xen-netback between dom0 and a 2-vcpu guest with two
# queues: iperf3 TCP in both directions with 1 and 4 streams (all queues
# must carry traffic: the guest's per-queue interrupt counts all rise), UDP
# both ways, random data checked by md5 both ways; over IPv6, TCP and md5
# with the guest's IPv6 transmit checksum offload on, off (ethtool -K)
# and on again; then MTU 9000 with
# scatter-gather: 8972-byte pings both ways arrive unfragmented (the IP
# fragmentation counters at both ends do not move), TCP and md5 again;
# pktgen's burst and clone_skb refused on the vif.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"

g=nb-traffic
ip=10.99.0.3
restore_bridge() {
	ip link set xenbr0 mtu 1500 2>/dev/null || true
	ip -6 addr del fd99::1/64 dev xenbr0 2>/dev/null || true
}
trap 'rc=$?; restore_bridge; (exit $rc); _vm_exit' EXIT

# The vif's MTU comes from the vif's mtu= through vif-bridge; the guest's
# eth0 stays at 1500 until the MTU 9000 part.
nb_guest "$g" "$ip" 2 "vif=['bridge=xenbr0,mtu=9000']" || exit 1
domid=$(guest_domid "$g")
vif=vif$domid.0
note "$g is domain $domid"

# queue_irqs: "QUEUE COUNT" per netfront queue, from the guest's
# /proc/interrupts (netfront names them vif0-qN-tx/-rx, or vif0-qN with one
# event channel per queue).
queue_irqs() {
	gexec "$g" 10 "awk '\$NF ~ /^vif0-q[0-9]+(-tx|-rx)?\$/ { s = 0; for (i = 2; i < NF; i++) if (\$i ~ /^[0-9]+\$/) s += \$i; q = \$NF; sub(/^vif0-q/, \"\", q); sub(/-.*/, \"\", q); t[q] += s } END { for (q in t) print q, t[q] }' /proc/interrupts"
}
irq0=$(queue_irqs) || true
note "guest interrupts per queue before: $irq0"

nb_iperf "TCP dom0 -> guest, 1 stream" "$ip" 3 -P 1 || true
nb_iperf "TCP dom0 -> guest, 4 streams" "$ip" 3 -P 4 || true
nb_iperf "TCP guest -> dom0, 1 stream" "$ip" 3 -P 1 -R || true
nb_iperf "TCP guest -> dom0, 4 streams" "$ip" 3 -P 4 -R || true

irq1=$(queue_irqs) || true
note "guest interrupts per queue after: $irq1"
nq=$(xenstore-read "$(nb_frontend "$domid")/multi-queue-num-queues" 2>/dev/null || echo 1)
busy=0
for ((q = 0; q < nq; q++)); do
	a=$(awk -v q=$q '{ for (i = 1; i < NF; i += 2) if ($i == q) print $(i + 1) }' <<<"$irq0")
	b=$(awk -v q=$q '{ for (i = 1; i < NF; i += 2) if ($i == q) print $(i + 1) }' <<<"$irq1")
	[[ -n $a && -n $b && $((b - a)) -ge 10 ]] && busy=$((busy + 1))
done
if [[ $nq -ge 2 && $busy -eq $nq ]]; then
	pass "all $nq queues carried traffic (guest interrupts per queue: $irq0 -> $irq1)"
else
	fail "all queues carry traffic" "$busy of $nq queues busy: $irq0 -> $irq1"
fi

nb_iperf "UDP dom0 -> guest" "$ip" 3 -u -b 20M -l 1400 || true
nb_iperf "UDP guest -> dom0" "$ip" 3 -u -b 20M -l 1400 -R || true

nb_md5_roundtrip "offloads on" "$g" "$ip" 4194304 || true

# Checksum offload. netfront fixes IPv4 transmit checksum offload and
# receive checksumming on; what ethtool can turn off is IPv6 transmit
# checksum offload (and with it TCPv6 segmentation): the guest then sends
# IPv6 packets with full checksums instead of partial ones. So this part
# runs over IPv6, with offloads on, off and on again.
ip6=fd99::3
ip -6 addr add fd99::1/64 dev xenbr0 nodad 2>/dev/null || true
# busybox ip knows no "nodad": turn duplicate address detection off first.
if out=$(gexec "$g" 10 "sysctl -w net.ipv6.conf.eth0.accept_dad=0 && ip -6 addr add $ip6/64 dev eth0"); then
	pass "IPv6: guest address $ip6"
else
	fail "IPv6: guest address $ip6" "$out"
fi
sleep 2
check "IPv6: dom0 pings the guest at $ip6" busybox ping -c 2 -W 5 "$ip6" || true
nb_iperf "IPv6, offloads on: TCP dom0 -> guest" "$ip6" 3 || true
nb_iperf "IPv6, offloads on: TCP guest -> dom0" "$ip6" 3 -R || true
nb_md5_roundtrip "IPv6, offloads on" "$g" "$ip6" 4194304 || true

# ethtool_is STATE: the guest's eth0 has IPv6 transmit checksumming STATE.
ethtool_is() {
	local out
	out=$(gexec "$g" 10 "ethtool -k eth0 | grep tx-checksum-ipv6") || return 1
	[[ $out == *"tx-checksum-ipv6: $1"* ]]
}
if out=$(gexec "$g" 10 "ethtool -K eth0 tx off; true") && ethtool_is off; then
	pass "guest: ethtool -K eth0 tx off turns IPv6 checksum offload off"
else
	fail "guest: ethtool -K eth0 tx off turns IPv6 checksum offload off" "$out"
fi
nb_iperf "IPv6, checksum offload off: TCP dom0 -> guest" "$ip6" 3 || true
nb_iperf "IPv6, checksum offload off: TCP guest -> dom0" "$ip6" 3 -R || true
nb_md5_roundtrip "IPv6, checksum offload off" "$g" "$ip6" 4194304 || true
if out=$(gexec "$g" 10 "ethtool -K eth0 tx on; true") && ethtool_is on; then
	pass "guest: ethtool -K eth0 tx on turns it on again"
else
	fail "guest: ethtool -K eth0 tx on turns it on again" "$out"
fi
nb_iperf "IPv6, checksum offload on again: TCP guest -> dom0" "$ip6" 3 -R || true
ip -6 addr del fd99::1/64 dev xenbr0 2>/dev/null || true

# --- MTU 9000 ---------------------------------------------------------------
# snmp_ip TEXT FIELD: FIELD of the "Ip:" lines of /proc/net/snmp in TEXT.
snmp_ip() {
	awk -v f="$2" '{ n = 0; for (i = 1; i <= NF; i++) if ($i == "Ip:") { n++; k = 0 } else if (n == 1) h[++k] = $i; else if (n == 2) v[h[++k]] = $i } END { print v[f] }' <<<"$1"
}
guest_snmp() { gexec "$g" 10 grep '^Ip:' /proc/net/snmp; }
dom0_snmp() { grep '^Ip:' /proc/net/snmp | tr '\n' ' '; }

ip link set xenbr0 mtu 9000 || true
out=$(gexec "$g" 10 "ip link set eth0 mtu 9000 && cat /sys/class/net/eth0/mtu") || true
if [[ $out == 9000 && $(cat "/sys/class/net/$vif/mtu") == 9000 && $(cat /sys/class/net/xenbr0/mtu) == 9000 ]]; then
	pass "MTU 9000 on the guest's eth0, $vif and xenbr0"
else
	fail "MTU 9000 on the guest's eth0, $vif and xenbr0" "eth0 '$out', $vif $(cat "/sys/class/net/$vif/mtu"), xenbr0 $(cat /sys/class/net/xenbr0/mtu)"
fi
gs0=$(guest_snmp) || true
ds0=$(dom0_snmp)
check "MTU 9000: dom0 pings the guest with 8972 bytes" busybox ping -c 3 -W 5 -s 8972 "$ip" || true
if out=$(gexec "$g" 30 "ping -c 3 -W 5 -s 8972 $NB_BR_IP"); then
	pass "MTU 9000: the guest pings dom0 with 8972 bytes"
else
	fail "MTU 9000: the guest pings dom0 with 8972 bytes" "$out"
fi
gs1=$(guest_snmp) || true
ds1=$(dom0_snmp)
frag="dom0 FragCreates $(snmp_ip "$ds0" FragCreates)->$(snmp_ip "$ds1" FragCreates) ReasmReqds $(snmp_ip "$ds0" ReasmReqds)->$(snmp_ip "$ds1" ReasmReqds), guest FragCreates $(snmp_ip "$gs0" FragCreates)->$(snmp_ip "$gs1" FragCreates) ReasmReqds $(snmp_ip "$gs0" ReasmReqds)->$(snmp_ip "$gs1" ReasmReqds)"
if [[ -n $(snmp_ip "$gs1" ReasmReqds) && $(snmp_ip "$ds0" FragCreates) == "$(snmp_ip "$ds1" FragCreates)" &&
	$(snmp_ip "$ds0" ReasmReqds) == "$(snmp_ip "$ds1" ReasmReqds)" &&
	$(snmp_ip "$gs0" FragCreates) == "$(snmp_ip "$gs1" FragCreates)" &&
	$(snmp_ip "$gs0" ReasmReqds) == "$(snmp_ip "$gs1" ReasmReqds)" ]]; then
	pass "MTU 9000: the 9000-byte packets went whole, no IP fragments ($frag)"
else
	fail "MTU 9000: the 9000-byte packets go whole" "$frag"
fi
nb_iperf "MTU 9000: TCP dom0 -> guest" "$ip" 3 || true
nb_iperf "MTU 9000: TCP guest -> dom0" "$ip" 3 -R || true
nb_md5_roundtrip "MTU 9000" "$g" "$ip" 4194304 || true

# pktgen hands a device one skb several times (burst, clone_skb) only if
# the device allows it (IFF_TX_SKB_SHARING, which ether_setup sets): ours
# keeps each queued skb on its own lists, so it must refuse (in-tree's vif
# takes both).
pg=/proc/net/pktgen
if [[ $VM_MODULES == in-tree ]]; then
	note "pktgen: not checked on the in-tree module"
elif ! modprobe pktgen; then
	fail "modprobe pktgen"
elif ! { echo "add_device $vif" >"$pg/kpktgend_0" && echo "count 1" >"$pg/$vif"; } 2>/dev/null; then
	fail "pktgen takes $vif" "$(dmesg | grep -i pktgen | tail -n 2)"
else
	for setting in "burst 2" "clone_skb 1"; do
		if echo "$setting" >"$pg/$vif" 2>/dev/null; then
			fail "pktgen: $setting is refused on $vif" "it was taken"
		else
			pass "pktgen: $setting is refused on $vif"
		fi
	done
	echo rem_device_all >"$pg/kpktgend_0" || true
fi
modprobe -r pktgen 2>/dev/null || true

if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "still there after 60 s"
fi
