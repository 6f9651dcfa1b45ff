#!/bin/bash
# vm-timeout: 480
# "xl save" and "xl restore" of a 2-vcpu guest in the middle of an iperf3
# transfer from dom0: xen-netback tears the vif down and connects the
# restored guest's new one (Connected, in xenbr0, several queues again);
# the guest keeps its address, the TCP connection that was running
# recovers and the transfer completes; pings, a fresh iperf3 both ways and
# random data with equal md5 work afterwards.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"

g=nb-save
ip=10.99.0.8
img=/var/tmp/$g.save
ipid=
trap 'rc=$?; [[ -n $ipid ]] && kill "$ipid" 2>/dev/null; rm -f "$img"; (exit $rc); _vm_exit' EXIT

nb_guest "$g" "$ip" 2 || exit 1
old=$(guest_domid "$g")
note "$g is domain $old"

# The transfer runs long enough to span the save and the restore.
timeout 300 iperf3 -c "$ip" -t 20 -b 20M -J >"$TEST_LOGDIR/iperf-across.json" 2>&1 &
ipid=$!
sleep 5
t0=$SECONDS
if out=$(timeout 120 xl save "$g" "$img" 2>&1); then
	pass "xl save $g mid-transfer ($((SECONDS - t0)) s)"
else
	fail "xl save $g" "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
	exit 1
fi
n=0
while [[ -e /sys/class/net/vif$old.0 && $n -lt 50 ]]; do
	sleep 0.2
	n=$((n + 1))
done
if [[ -e /sys/class/net/vif$old.0 ]]; then
	fail "vif$old.0 gone after the save" "still there"
else
	pass "vif$old.0 gone after the save"
fi
t0=$SECONDS
if out=$(timeout 120 xl restore "$img" 2>&1); then
	pass "xl restore $g ($((SECONDS - t0)) s)"
else
	fail "xl restore $g" "$(tail -n 3 <<<"$out" | tr '\n' ' ')"
	exit 1
fi
rm -f "$img"
domid=$(guest_domid "$g")
be=$(nb_backend "$domid")
fe=$(nb_frontend "$domid")
note "restored as domain $domid"
if nb_xs_wait "$be/state" 4 30 && nb_xs_wait "$fe/state" 4 30; then
	pass "restored guest's vif: backend and frontend Connected"
else
	fail "restored guest's vif Connected" "backend $(xenstore-read "$be/state" 2>&1), frontend $(xenstore-read "$fe/state" 2>&1)"
fi
nq=$(xenstore-read "$fe/multi-queue-num-queues" 2>/dev/null || echo 0)
if [[ $nq =~ ^[0-9]+$ && $nq -ge 2 ]]; then
	pass "restored guest's vif has $nq queues again"
else
	fail "restored guest's vif has several queues" "multi-queue-num-queues '$nq'"
fi
if [[ $(readlink "/sys/class/net/vif$domid.0/master" 2>/dev/null) == */xenbr0 ]]; then
	pass "vif$domid.0 is in xenbr0"
else
	fail "vif$domid.0 is in xenbr0" "$(ip -br link 2>&1 | tr '\n' ' ')"
fi

if wait "$ipid"; then
	bytes=$(jq -r '.end.sum_received.bytes // 0' "$TEST_LOGDIR/iperf-across.json")
	if [[ $bytes -gt 1048576 ]]; then
		pass "the iperf3 transfer across save/restore completed ($bytes bytes received)"
	else
		fail "the iperf3 transfer across save/restore" "only $bytes bytes received"
	fi
else
	fail "the iperf3 transfer across save/restore completes" "$(jq -r '.error // empty' "$TEST_LOGDIR/iperf-across.json" 2>&1 | head -c 300)"
fi
ipid=

out=$(gexec "$g" 30 "ip -4 addr show dev eth0") || true
if [[ $out == *"inet $ip/24"* ]]; then
	pass "the guest kept its address $ip"
else
	fail "the guest kept its address $ip" "$out"
fi
check "dom0 pings the restored guest" busybox ping -c 3 -W 5 "$ip" || true
if out=$(gexec "$g" 30 "ping -c 3 -W 5 $NB_BR_IP"); then
	pass "the restored guest pings dom0"
else
	fail "the restored guest pings dom0" "$out"
fi
nb_iperf "after restore: TCP dom0 -> guest" "$ip" 3 -P 2 || true
nb_iperf "after restore: TCP guest -> dom0" "$ip" 3 -P 2 -R || true
nb_md5_roundtrip "after restore" "$g" "$ip" 2097152 || true

if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "still there after 60 s"
fi
