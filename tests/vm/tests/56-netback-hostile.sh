#!/bin/bash
# vm-timeout: 840
# A hostile frontend against xen-netback: the guest has two vifs; its own
# netfront lets go of the second (unbound in sysfs) and nbhostile
# (tests/guest/nbhostile.c) plays netfront on it, one connection per
# attack of protocol-hazards.md, each followed by a well-formed probe
# packet. Required of the backend:
#   deliver (19 slots, within in-tree's limits; zero-size fragments,
#     XSA-448; headers in 1-byte slots, XSA-423): every slot OKAY, the
#     frame and the probe reach dom0;
#   fatal (req_prod far ahead, req_prod set back under a partial packet,
#     offset + size past the page, 22 and 24 slots, an extra of type 0 or
#     unknown, GSO size 0): the vif disables
#     itself, seen as the reason in xenstore (error/<backend>/error), the
#     carrier off and the message in dom0's log; the probe is never
#     answered and nothing reaches dom0's stack;
#   drop (20 and 21 slots, slot sizes that do not add up, a runt): error
#     responses for every slot of the bad packet, nothing of it reaches
#     dom0, and the probe is answered OKAY and arrives;
#   throttle (XSA-332: rx req_prod set back and forth, an event each
#     time, with one event channel and with split ones): the backend
#     flags those events spurious, so the kernel holds back their EOIs
#     (the device's xenbus/ counters show it), and the vif still works.
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
	local a=$1 class=$2 out res bad probe r0 r1 d l0
	r0=$(rx_packets)
	# The vif's name comes back with each fresh vif: count new lines only.
	l0=$(dmesg | grep -cF "$vif: frontend of domain $domid disabled: " || true)
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
		# What disabling a vif produces, each seen, not only silence:
		# the reason in xenstore, the carrier off, the message in dom0's
		# log; and the probe unanswered, nothing in dom0's stack.
		local err=/local/domain/0/error/${be#/local/domain/0/}/error why carrier logged
		xs_wait 20 "$err" _nb_xs_is "$err" "" || true
		why=$(xenstore-read "$err" 2>/dev/null)
		carrier=$(cat "/sys/class/net/$vif/carrier" 2>/dev/null)
		logged=$(dmesg | grep -cF "$vif: frontend of domain $domid disabled: " || true)
		if [[ $why == *"frontend disabled: "* && $carrier == 0 && $logged -gt $l0 &&
			$probe == none && $d -eq 0 ]]; then
			pass "$a: fatal: '$why' in xenstore, carrier off, logged; probe unanswered, nothing reached dom0 (bad slots: $bad)"
		else
			fail "$a: fatal: the vif disabled (xenstore error, carrier off, logged), nothing reaches dom0" \
				"xenstore '$why', carrier '$carrier', log lines $l0 -> $logged, probe $probe, $vif rx_packets +$d, bad slots $bad"
		fi
		;;
	deliver)
		# Every slot answered OKAY, the frame and the probe in dom0.
		if [[ $bad =~ ^0(,0)*$ && $probe == okay && $d -eq 2 ]]; then
			pass "$a: delivered (every slot OKAY), the probe too"
		else
			fail "$a: delivered, every slot OKAY" "bad slots '$bad', probe $probe, $vif rx_packets +$d"
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
	esac
	check "$a: dom0 still pings the guest through its other vif" busybox ping -c 1 -W 5 "$ip" || true
}

run none baseline
# Slot limits as in-tree's (fatal_skb_slots 20): 19 pass, 20 and 21 drop,
# 22 are fatal.
run slots19 deliver || true
for a in slots20 slots21 sizes runt; do run "$a" drop || true; done
# Legal if odd (XSA-448's zero-size fragments; headers over 1-byte slots).
for a in zerofrag tinyhdr; do
	run "$a" deliver || true
	# If it stopped the vif, the fatal ones below need a fresh one.
	[[ $last_probe == okay ]] || nb_fresh || exit 1
done
# txback: before the vif disabled itself for it, a guest writing its tx
# req_prod back and forth under a partial packet had NAPI poll on with
# nothing to take, a dom0 CPU for as long as it liked.
for a in far txback offset slots22 slots24 extra0 extra9 gso0; do
	run "$a" fatal || true
	nb_fresh || exit 1
done

# --- XSA-332: rx req_prod back and forth --------------------------------------
# nbhostile rxflip (stepped: it writes data/nbh-step and waits for dom0 to
# write the same to data/nbh-go) sets its rx req_prod one past its last
# request and back, an rx event after each write, about one a millisecond,
# at most 2000 flips or 4 s, while a frame that needs two receive slots
# waits in dom0.  No flip lets that frame move, so the backend must call
# every event spurious (the first may count: its producer is new), and the
# kernel then holds back the EOI of every second spurious event in a row
# by a jiffy (its delayed EOI counts as a real one and starts the count
# again), the guest's events of that jiffy making one.  Measured on 6.12
# (HZ 250), one channel: 2000 flips in 3982 ms, events +926, spurious
# +925, EOIs held back +462 jiffies; split: 1820 flips in 4001 ms, +922,
# +921, +460.  So not most flips but about 46% show up as spurious
# events, and the bounds are a quarter of the flips for those and an
# eighth for the jiffies held back, with every second spurious event
# held back.  A backend that calls each changed req_prod work (the old
# xnb_rx_event()) got 1991 events for 2000 flips, 7 spurious, 0 jiffies
# held back (split: 1874 for 1888, 12, 1).
data=/local/domain/$domid/data
nbframes=$REPO/build/tests/nbframes
hz=$(sed -n 's/^CONFIG_HZ=//p' "$KCONFIG")
hz=${hz:-250}
step_at() { nb_xs_wait "$data/nbh-step" "$1" "${2:-60}"; }
step_go() { xenstore-write "$data/nbh-go" "$1"; }
# evcount: events, spurious events and jiffies of held-back EOIs so far.
evcount() {
	local x=/sys/bus/xen-backend/devices/vif-$domid-$devid/xenbus
	echo "$(cat "$x/events") $(cat "$x/spurious_events") $(cat "$x/jiffies_eoi_delayed")"
}
# field NAME: NAME=value from the RESULT line in $res.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }

# big WHAT: queue an 8000-byte broadcast (two receive slots) on the vif.
big() {
	local out
	out=$("$nbframes" send "$vif" ff:ff:ff:ff:ff:ff 1 8000 2>&1) || true
	[[ $out == "sent=1 errors=0" ]] || fail "$1: an 8000-byte frame queued for the guest" "nbframes: $out"
}
# rxflip ATTACK: one run of rxflip or rxflip-split, judged.
rxflip() {
	local a=$1 out c0 c1 e0 s0 j0 e1 s1 j1 de ds dj r0 r1 flips
	xenstore-rm "$data/nbh-step" 2>/dev/null || true
	xenstore-rm "$data/nbh-go" 2>/dev/null || true
	r0=$(rx_packets)
	gexec "$g" 10 "nbhostile $devid $a >/tmp/nbh.out 2>&1 &" >/dev/null
	if ! step_at connected; then
		fail "$a: nbhostile connected" "step $(xenstore-read "$data/nbh-step" 2>&1)"
		return 1
	fi
	big "$a"
	sleep 1
	c0=$(evcount)
	step_go connected
	step_at flipped 30 && c1=$(evcount)
	# The first may have expired (rx_drain_timeout_msecs) on a slow bed.
	big "$a"
	step_go flipped
	if ! step_at "done" 60; then
		fail "$a: nbhostile finished" "step $(xenstore-read "$data/nbh-step" 2>&1)"
		return 1
	fi
	r1=$(rx_packets)
	out=$(gexec "$g" 10 "cat /tmp/nbh.out")
	res=$(grep -o 'RESULT .*' <<<"$out" | head -n 1)
	read -r e0 s0 j0 <<<"$c0"
	read -r e1 s1 j1 <<<"${c1:-$c0}"
	de=$((e1 - e0)) ds=$((s1 - s0)) dj=$((j1 - j0)) flips=$(field flips)
	note "$a: $res; during the flips: events +$de, spurious +$ds, EOIs held back +$dj jiffies (HZ $hz); $vif rx_packets +$((r1 - r0))"
	if [[ -z $res || $(field rsp) != 0 ]]; then
		fail "$a: the waiting frame stays queued through the flips" "responses $(field rsp); $out"
		return 1
	fi
	if [[ $de -ge 2 && $ds -ge $((de - 1)) && $((4 * ds)) -ge ${flips:-1} ]]; then
		pass "$a: every event of the $flips flips but at most the first flagged spurious ($ds of $de)"
	else
		fail "$a: the events of the flips are flagged spurious, at least a quarter of the flips" "$ds of $de events spurious ($flips flips)"
	fi
	if [[ $((8 * dj)) -ge ${flips:-1} && $((2 * dj + 2)) -ge $ds ]]; then
		pass "$a: late EOI held the channel back $dj jiffies (HZ $hz), every second spurious event"
	else
		fail "$a: late EOI holds back every second spurious event, an eighth of the flips in jiffies" "EOIs held back $dj jiffies for $ds spurious events, $flips flips"
	fi
	if [[ $(field big) -ge 1 && $(field probe) == okay && $((r1 - r0)) -eq 1 ]]; then
		pass "$a: the vif still works: the waiting frame arrived once buffers came, the probe was answered OKAY and reached dom0"
	else
		fail "$a: the vif still works after the flips" "big frames $(field big), probe $(field probe), $vif rx_packets +$((r1 - r0))"
	fi
}
# Only the queued frame may wait on the vif: out of the bridge, no IPv6
# of its own, so that nothing small gets ahead of it and is delivered.
ip link set dev "$vif" nomaster
v6=/proc/sys/net/ipv6/conf/$vif/disable_ipv6
[[ ! -e $v6 ]] || echo 1 >"$v6"
ip link set dev "$vif" mtu 9000
for a in rxflip rxflip-split; do rxflip "$a" || true; done
ip link set dev "$vif" mtu 1500
[[ ! -e $v6 ]] || echo 0 >"$v6"
ip link set dev "$vif" master xenbr0
# For comparison: the guest's own netfront on its first vif.
x=/sys/bus/xen-backend/devices/vif-$domid-0/xenbus
note "vif $domid.0 (netfront): events $(cat "$x/events"), spurious $(cat "$x/spurious_events"), EOIs held back $(cat "$x/jiffies_eoi_delayed") jiffies"

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
