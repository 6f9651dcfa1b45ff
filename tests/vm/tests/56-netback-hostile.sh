#!/bin/bash
# vm-timeout: 840
# A hostile frontend against xen-netback: the guest has two vifs; its own
# netfront lets go of the second (unbound in sysfs) and nbhostile
# (tests/guest/nbhostile.c) plays netfront on it, one connection per
# attack of protocol-hazards.md, each followed by a well-formed probe
# packet. Required of the backend:
#   fatal (req_prod far ahead, offset + size past the page, 24 slots, an
#     extra of type 0 or unknown, GSO size 0): the vif stops (the probe is
#     never answered) and nothing reaches dom0's stack;
#   drop (19 slots, slot sizes that do not add up, a runt): error
#     responses for every slot of the bad packet, nothing of it reaches
#     dom0, and the probe is answered OKAY and arrives;
#   survive (zero-size fragments, XSA-448; headers in 1-byte slots,
#     XSA-423): whatever it does, dom0 stays up.
# After every attack the guest's other vif still works; after a drop the
# next connection on the same vif works again, after a fatal error the
# vif is replaced (network-detach, network-attach: the kernel's copy keeps
# a stopped vif stopped until it is created again). A probe-only run
# before and after shows that the probe does get through a healthy vif.
# Dom0 must not warn or oops (the runner checks its kernel log during the
# test).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"

g=nb-hostile
ip=10.99.0.10
nb_guest "$g" "$ip" 1 "vif=['bridge=xenbr0','bridge=xenbr0']" || exit 1
domid=$(guest_domid "$g")
note "$g is domain $domid"

nb_take 1 || exit 1
rx_packets() { cat "/sys/class/net/$vif/statistics/rx_packets" 2>/dev/null || echo 0; }

# run ATTACK CLASS: one nbhostile connection; judge by CLASS.
run() {
	local a=$1 class=$2 out res bad probe r0 r1 d
	r0=$(rx_packets)
	if ! out=$(gexec "$g" 90 "nbhostile $devid $a"); then
		fail "$a: nbhostile ran" "$out"
		return 1
	fi
	r1=$(rx_packets)
	d=$((r1 - r0))
	res=$(grep -o 'RESULT .*' <<<"$out" | head -n 1)
	bad=$(sed -n 's/.* bad=\([^ ]*\).*/\1/p' <<<"$res")
	probe=$(sed -n 's/.* probe=\([a-z]*\).*/\1/p' <<<"$res")
	note "$a: $res; $vif rx_packets +$d"
	last_probe=$probe
	case $class in
	baseline)
		if [[ $probe == okay && $d -eq 1 ]]; then
			pass "$a: a well-formed packet is answered OKAY and reaches dom0"
		else
			fail "$a: a well-formed packet is answered OKAY and reaches dom0" "probe $probe, $vif rx_packets +$d"
		fi
		;;
	fatal)
		if [[ $probe == none && $d -eq 0 ]]; then
			pass "$a: fatal: the vif stopped (probe unanswered), nothing reached dom0 (bad slots: $bad)"
		else
			fail "$a: fatal: the vif stops, nothing reaches dom0" "probe $probe, $vif rx_packets +$d, bad slots $bad"
		fi
		;;
	drop)
		# Every slot answered ("-": none), none of them OKAY (0).
		if [[ -n $bad && ,$bad, != *,-,* && ,$bad, != *,0,* && $probe == okay && $d -eq 1 ]]; then
			pass "$a: dropped with error responses ($bad), the probe still works and only it reached dom0"
		else
			fail "$a: dropped with error responses, the vif keeps working" "bad slots '$bad', probe $probe, $vif rx_packets +$d"
		fi
		;;
	survive)
		pass "$a: handled without harm to dom0 (bad slots $bad, probe $probe, $vif rx_packets +$d)"
		;;
	esac
	check "$a: dom0 still pings the guest through its other vif" busybox ping -c 1 -W 5 "$ip" || true
}

run none baseline
for a in slots19 sizes runt; do run "$a" drop || true; done
for a in zerofrag tinyhdr; do
	run "$a" survive || true
	# If it stopped the vif, the fatal ones below need a fresh one.
	[[ $last_probe == okay ]] || nb_fresh || exit 1
done
for a in far offset slots24 extra0 extra9 gso0; do
	run "$a" fatal || true
	nb_fresh || exit 1
done
run none baseline || true

if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "still there after 60 s"
fi
if compgen -G "/sys/class/net/vif$domid.*" >/dev/null; then
	fail "the guest's vifs are gone" "$(compgen -G "/sys/class/net/vif$domid.*" | tr '\n' ' ')"
else
	pass "the guest's vifs are gone"
fi
