#!/bin/bash
# vm-timeout: 300
# xen-netback's side of the xenstore handshake with a real netfront: a
# 2-vcpu guest on xenbr0 through the stock vif-bridge hotplug script. The
# backend advertises its features (sg, gso v4/v6, ipv6 checksum offload,
# rx-copy, split event channels, multi-queue, control ring, multicast
# control), both ends reach Connected, the guest uses more than one queue
# (queue-N directories, one queue per netdev queue at each end), the
# hotplug script reports connected and put the vif in the bridge, and
# pings go both ways. A bad xdp-headroom asked for again and again is
# refused within a rate limit. After a clean shutdown the vif and the
# backend's xenstore directory are gone.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"

g=nb-xs
ip=10.99.0.2
nb_guest "$g" "$ip" 2 "vif=['bridge=xenbr0,script=vif-bridge']" || exit 1
domid=$(guest_domid "$g")
be=$(nb_backend "$domid")
fe=$(nb_frontend "$domid")
vif=vif$domid.0
note "$g is domain $domid; backend $be"
xenstore-ls -f "$be" >"$TEST_LOGDIR/backend.xs" 2>&1 || true
xenstore-ls -f "$fe" >"$TEST_LOGDIR/frontend.xs" 2>&1 || true

# xs_is WHAT PATH WANT: the key reads exactly WANT.
xs_is() {
	local v
	v=$(xenstore-read "$2" 2>/dev/null) || v='<missing>'
	if [[ $v == "$3" ]]; then pass "$1: ${2##*/} = $3"; else fail "$1: ${2##*/}" "'$v', want '$3'"; fi
}

for k in feature-sg feature-gso-tcpv4 feature-gso-tcpv6 feature-ipv6-csum-offload \
	feature-rx-copy feature-split-event-channels feature-ctrl-ring \
	feature-multicast-control; do
	xs_is "backend advertises" "$be/$k" 1
done
maxq=$(xenstore-read "$be/multi-queue-max-queues" 2>/dev/null || echo 0)
if [[ $maxq =~ ^[0-9]+$ && $maxq -ge 2 ]]; then
	pass "backend advertises multi-queue-max-queues = $maxq (dom0 has $(nproc) cpus)"
else
	fail "backend advertises multi-queue-max-queues >= 2" "'$maxq' (dom0 has $(nproc) cpus)"
fi

xs_is "backend" "$be/state" 4
xs_is "frontend" "$fe/state" 4
xs_is "vif-bridge hotplug script" "$be/hotplug-status" connected

nq=$(xenstore-read "$fe/multi-queue-num-queues" 2>/dev/null || echo 0)
if [[ $nq =~ ^[0-9]+$ && $nq -ge 2 ]]; then
	pass "frontend uses multi-queue-num-queues = $nq"
else
	fail "frontend uses multi-queue-num-queues > 1" "'$nq'"
	nq=1
fi
for ((q = 0; q < nq; q++)); do
	if xenstore-exists "$fe/queue-$q/tx-ring-ref" && xenstore-exists "$fe/queue-$q/rx-ring-ref" &&
		{ xenstore-exists "$fe/queue-$q/event-channel-tx" || xenstore-exists "$fe/queue-$q/event-channel"; }; then
		pass "frontend queue-$q has its rings and event channel(s)"
	else
		fail "frontend queue-$q has its rings and event channel(s)" "$(xenstore-ls "$fe/queue-$q" 2>&1 | tr '\n' ' ')"
	fi
done
ntx=$(find "/sys/class/net/$vif/queues" -maxdepth 1 -name 'tx-*' 2>/dev/null | wc -l)
if [[ $ntx -eq $nq ]]; then
	pass "dom0's $vif has $nq tx queues"
else
	fail "dom0's $vif has $nq tx queues" "it has $ntx"
fi
out=$(gexec "$g" 10 'ls -d /sys/class/net/eth0/queues/tx-* | wc -l') || true
if [[ $out == "$nq" ]]; then
	pass "the guest's eth0 has $nq tx queues"
else
	fail "the guest's eth0 has $nq tx queues" "$out"
fi

mac=$(xenstore-read "$fe/mac" 2>/dev/null || true)
out=$(gexec "$g" 10 cat /sys/class/net/eth0/address) || true
if [[ -n $mac && $out == "$mac" ]]; then
	pass "the guest's eth0 has the MAC from xenstore ($mac)"
else
	fail "the guest's eth0 has the MAC from xenstore" "eth0 '$out', xenstore '$mac'"
fi

if [[ $(cat "/sys/class/net/$vif/operstate" 2>/dev/null) == up ]]; then
	pass "$vif is up"
else
	fail "$vif is up" "operstate '$(cat "/sys/class/net/$vif/operstate" 2>&1)'"
fi
if [[ $(readlink "/sys/class/net/$vif/master" 2>/dev/null) == */xenbr0 ]]; then
	pass "vif-bridge put $vif in xenbr0"
else
	fail "vif-bridge put $vif in xenbr0" "$(ip -br link 2>&1 | tr '\n' ' ')"
fi

check "dom0 pings the guest at $ip" busybox ping -c 3 -W 5 "$ip" || true
check "dom0 pings the guest with 1400-byte packets" busybox ping -c 3 -W 5 -s 1400 "$ip" || true
if out=$(gexec "$g" 30 "ping -c 3 -W 5 $NB_BR_IP"); then
	pass "the guest pings dom0 at $NB_BR_IP"
else
	fail "the guest pings dom0 at $NB_BR_IP" "$out"
fi

# A bad xdp-headroom asked for again and again: netfront asks for a
# headroom by writing it and then its state Reconfiguring (7), and a guest
# can write its state as often as it likes.  Dom0 writes the frontend's
# keys here as such a guest would, state 7 100 times (the kernel runs the
# backend's handler for each write unless one is still pending), waits
# for Reconfigured (8), then writes Connected (4): once the backend says
# Connected no Reconfiguring is left to answer.  What it logged must stay
# within a rate limit (10 lines per 5 s, so 10 per started 5 s of the
# run, plus 10), not a line and a xenstore error write per write, and at
# least one line says the value was refused.
n0=$(dmesg | grep -c 'xdp-headroom 5000 ignored' || true)
t0=$SECONDS
xenstore-write "$fe/xdp-headroom" 5000
for ((i = 0; i < 100; i++)); do
	xenstore-write "$fe/state" 7
done
nb_xs_wait "$be/state" 8 30 && xenstore-write "$fe/state" 4
if nb_xs_wait "$be/state" 4 30; then
	n1=$(dmesg | grep -c 'xdp-headroom 5000 ignored' || true)
	t=$((SECONDS - t0))
	most=$((10 * (t / 5 + 2)))
	if [[ $((n1 - n0)) -ge 1 && $((n1 - n0)) -le $most ]]; then
		pass "100 requests of a bad xdp-headroom in $t s: refused, $((n1 - n0)) log lines (at most $most), Connected again"
	else
		fail "100 requests of a bad xdp-headroom in $t s: refused within a rate limit" "$((n1 - n0)) log lines, at most $most"
	fi
else
	fail "Reconfigured, then Connected again, after 100 requests of a bad xdp-headroom" "backend state $(xenstore-read "$be/state" 2>&1)"
fi
xenstore-write "$fe/xdp-headroom" 0
check "dom0 pings the guest after the reconfiguration" busybox ping -c 3 -W 5 "$ip" || true

if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "still there after 60 s"
	guest_destroy "$g"
fi
if nb_vif_gone "$vif"; then
	pass "$vif is gone after the shutdown"
else
	fail "$vif is gone after the shutdown" "still there after 10 s"
fi
if xenstore-exists "$be" 2>/dev/null; then
	fail "backend directory $be removed" "still there"
else
	pass "backend directory $be removed"
fi
