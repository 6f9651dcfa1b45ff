#!/bin/bash
# vm-timeout: 900
# More of the hostile frontend (tests/guest/nbhostile.c) against
# xen-netback, on the second vif of a guest whose netfront let go of it,
# for the hazards 56-netback-hostile leaves (protocol-hazards.md):
#   XSA-270: control ring requests with a hash mapping whose off + len
#     wraps, len beyond a page, queue numbers >= the number of queues, a
#     bad grant, a mapping size too large, unknown types: each an error
#     status (1..3), while valid requests before and after succeed and
#     the vif still transmits; once the vif is disabled (fatal tx error)
#     its control ring is not served, the event counted spurious;
#   XSA-432: a 128-byte frame in 18 slots arrives intact; in the head
#     plus 18 slots it is dropped with errors or arrives intact; so does
#     a 146-byte one whose last 18 bytes sit alone at the ends of 18
#     pages (packed, not given a page each);
#   multicast control: with request-multicast-control, frames to a group
#     the frontend joined (MCAST_ADD extra) reach its receive ring, those
#     to another group do not, nor the first after MCAST_DEL; nor those
#     netconsole on xenbr0 sends to the other group through netpoll;
#   receive buffers with a grant reference the guest never made: frames
#     sent to them are answered with errors and counted as dropped, not
#     as sent;
#   XSA-39: seeded random bytes in every tx request with req_prod within
#     or beyond the ring, a fresh connection each: after each the vif is
#     either disabled (carrier off, the probe unanswered) or answers a
#     probe that reaches dom0;
#   XSA-392/424: a frontend that posts no receive buffer, or one, while
#     dom0 floods its vif past the qdisc for longer than the stall
#     timeout: the carrier goes off in time, dom0's free memory does not
#     fall by more than 32 MiB; once the frontend posts buffers the
#     carrier comes back and frames reach it; once it closes everything
#     is released (backend Closed, memory back, the vif works again).
# xen-netback is reloaded with short receive timeouts for this (no vif
# exists when the test starts) and with its defaults at the end. Dom0
# must not warn or oops (the runner checks its kernel log).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"

nbframes=$REPO/build/tests/nbframes
stall_ms=8000
drain_ms=2000
MiB=1024

# --- xen-netback with short receive timeouts ------------------------------
# reload PARAMS...: xen-netback again, the copy under test, with PARAMS;
# then that copy must be the live one.
reload() {
	local i
	for i in $(seq 20); do
		compgen -G "/sys/class/net/vif*" >/dev/null || break
		sleep 0.5
	done
	rmmod xen_netback || return 1
	load_module_under_test xen-netback "$@" && module_live_is_under_test xen-netback
}
if reload rx_stall_timeout_msecs=$stall_ms rx_drain_timeout_msecs=$drain_ms &&
	[[ $(cat /sys/module/xen_netback/parameters/rx_stall_timeout_msecs) == "$stall_ms" ]]; then
	pass "xen-netback reloaded with rx_stall_timeout_msecs=$stall_ms rx_drain_timeout_msecs=$drain_ms ($VM_MODULES copy)"
else
	fail "xen-netback reloaded with short receive timeouts" "$(cat /sys/module/xen_netback/parameters/rx_stall_timeout_msecs 2>&1)"
	exit 1
fi

g=nb-hostile2
ip=10.99.0.11
nb_guest "$g" "$ip" 1 "vif=['bridge=xenbr0','bridge=xenbr0']" || exit 1
domid=$(guest_domid "$g")
data=/local/domain/$domid/data
note "$g is domain $domid"

nb_take 1 || exit 1
vif_stat() { cat "/sys/class/net/$vif/statistics/$1" 2>/dev/null || echo 0; }
rx_packets() { vif_stat rx_packets; }
carrier() { cat "/sys/class/net/$vif/carrier" 2>/dev/null || echo gone; }
# field NAME: NAME=value from the RESULT line in $res.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }

# once ATTACK: a one-shot nbhostile run (attack, then a probe); sets res.
once() {
	local out
	res=
	if ! out=$(gexec "$g" 120 "nbhostile $devid $*"); then
		fail "$1: nbhostile ran" "$out"
		return 1
	fi
	res=$(grep -o 'RESULT .*' <<<"$out" | head -n 1)
	note "$1: $res"
}

# --- stepped runs: nbhostile in the background, dom0 acts at its steps -----
# start ATTACK...: nbhostile in the guest's background.
start() {
	xenstore-rm "$data/nbh-step" 2>/dev/null || true
	xenstore-rm "$data/nbh-go" 2>/dev/null || true
	gexec "$g" 10 "nbhostile $devid $* >/tmp/nbh.out 2>&1 &" >/dev/null
}
# at STEP [SECS]: wait until nbhostile has reached STEP.
at() { nb_xs_wait "$data/nbh-step" "$1" "${2:-60}"; }
go() { xenstore-write "$data/nbh-go" "$1"; }
# finish WHAT: wait for the end of the run; sets res.
finish() {
	local out
	res=
	at "done" 60 || { fail "$1: nbhostile finished" "step $(xenstore-read "$data/nbh-step" 2>&1)"; return 1; }
	out=$(gexec "$g" 10 "cat /tmp/nbh.out")
	res=$(grep -o 'RESULT .*' <<<"$out" | head -n 1)
	note "$1: $res"
	[[ -n $res ]] || { fail "$1: nbhostile reported" "$out"; return 1; }
}

# --- XSA-270: control ring -------------------------------------------------
r0=0 r1=0
start ctrl
if at connected 60; then
	note "ctrl: frontend $(xenstore-ls "$(nb_frontend "$domid" "$devid")" 2>&1 | grep -E 'ctrl|state' | tr -s ' \n' ' ')"
	note "ctrl: $(grep -E "$vif" /proc/interrupts | awk '{ print $NF, $2 + $3 }' | tr '\n' ' ')"
	r0=$(rx_packets)
	go connected
	at probed 120 && r1=$(rx_packets)
	go probed
fi
finish ctrl || true
bad=''
for k in getsize setsize map map_after getsize_after; do
	v=$(field "$k")
	[[ ${v%%/*} == 0 ]] || bad+=" $k=$v"
done
max=$(sed -n 's/.* getsize=0\/\([0-9]*\).*/\1/p' <<<"$res")
if [[ -z $bad && ${max:-0} -gt 0 ]]; then
	pass "ctrl: valid requests succeed: mapping size $max set, a full mapping and a partial one accepted, ring alive after the attacks"
else
	fail "ctrl: valid control requests succeed" "${bad:-getsize data ${max:-none}}; $res"
fi
for k in setsize_big setsize_huge map_wrap map_wrap2 map_end map_page map_queue map_queue_big map_gref type0 type99; do
	v=$(field "$k")
	if [[ $v =~ ^[123]$ ]]; then
		pass "ctrl: $k answered with error status $v"
	else
		fail "ctrl: $k answered with an error status (1..3)" "got '${v:-nothing}'"
	fi
done
if [[ $(field probe) == okay && $((r1 - r0)) -eq 1 ]]; then
	pass "ctrl: the vif still transmits after the control ring attacks"
else
	fail "ctrl: the vif still transmits after the control ring attacks" "probe $(field probe), $vif rx_packets +$((r1 - r0))"
fi
check "ctrl: dom0 still pings the guest" busybox ping -c 1 -W 5 "$ip" || true

# A vif disabled for a fatal tx error no longer serves its control ring:
# the guest's request there goes unanswered and its event counts as
# spurious (late EOI), as events of the disabled rings do.
xbdir=/sys/bus/xen-backend/devices/vif-$domid-$devid/xenbus
c=1 sp0=0 sp1=0
start ctrldis
if at disabled 60; then
	for i in $(seq 50); do
		c=$(carrier)
		[[ $c == 0 ]] && break
		sleep 0.1
	done
	sp0=$(cat "$xbdir/spurious_events")
	go disabled
	at asked 60 && sp1=$(cat "$xbdir/spurious_events")
	go asked
fi
if finish ctrldis; then
	if [[ $(field before) == 0 && $c == 0 && $(field after) == - && $sp1 -gt $sp0 ]]; then
		pass "ctrldis: once disabled (carrier off) the control ring's request is not served, its event spurious ($sp0 -> $sp1)"
	else
		fail "ctrldis: a disabled vif's control ring is not served" "before $(field before), carrier $c, after '$(field after)', spurious_events $sp0 -> $sp1"
	fi
fi
nb_fresh || exit 1

# --- XSA-432: 18 tiny slots, and the head plus 18 --------------------------
# tiny ATTACK: the frame as dom0 sees it on the vif, while nbhostile runs.
tiny() {
	local cap
	cap=$(mktemp)
	"$nbframes" recv "$vif" 40 >"$cap" &
	local pid=$!
	sleep 1
	once "$1" || true
	sleep 1
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	seen=$(cat "$cap")
	rm -f "$cap"
	note "$1: dom0 saw $seen"
}
tiny tiny18
if [[ $(field bad) =~ ^0(,0)*$ && $seen == "frames=1 intact=1 lens=128" && $(field probe) == okay ]]; then
	pass "tiny18: 128 bytes in 18 slots answered OKAY and arrived intact, the probe too"
else
	fail "tiny18: 128 bytes in 18 slots arrive intact" "bad slots $(field bad), dom0 saw '$seen', probe $(field probe)"
fi
tiny tiny19
b=$(field bad)
# 19 slots are within in-tree's limits (18 after the first), so ours too.
if [[ $(field probe) == okay && $b =~ ^0(,0)*$ && $seen == "frames=1 intact=1 lens=128" ]]; then
	pass "tiny19: head plus 18 slots of 128 bytes answered OKAY and arrived intact, the probe too"
else
	fail "tiny19: head plus 18 slots of 128 bytes arrive intact" "bad slots '$b', dom0 saw '$seen', probe $(field probe)"
fi
# 18 one-byte slots each at the end of its page, after a first slot that
# fills the head: packed into one page of frags (tx_layout.h), intact.
tiny tinyends
if [[ $(field bad) =~ ^0(,0)*$ && $seen == "frames=1 intact=1 lens=146" && $(field probe) == okay ]]; then
	pass "tinyends: 146 bytes, 18 of them alone at the ends of their pages, answered OKAY and arrived intact"
else
	fail "tinyends: 146 bytes, 18 of them at the ends of their pages, arrive intact" "bad slots $(field bad), dom0 saw '$seen', probe $(field probe)"
fi

# --- multicast control -----------------------------------------------------
# netconsole_to MAC: netconsole on xenbr0 sends to MAC through every port
# by netpoll, which transmits with interrupts off; the vif must take such
# frames too, its multicast filter's lock included (lockdep checks that on
# the debug kernel).  Three lines are logged at a level the consoles print.
ncdir=/sys/kernel/config/netconsole/xnb57
netconsole_to() {
	local d0 d1 err level i
	# The module brings configfs, which must be loaded before its mount.
	modprobe netconsole || true
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config || true
	if ! err=$({ mkdir "$ncdir" && echo xenbr0 >"$ncdir/dev_name" &&
		echo 10.99.0.1 >"$ncdir/local_ip" && echo 10.99.0.99 >"$ncdir/remote_ip" &&
		echo "$1" >"$ncdir/remote_mac" && echo 1 >"$ncdir/enabled"; } 2>&1); then
		fail "netconsole on xenbr0 enabled" "$err $(dmesg | grep -E 'netconsole|netpoll' | tail -n 2 | tr '\n' ' ')"
		rmdir "$ncdir" 2>/dev/null || true
		return 0
	fi
	d0=$(vif_stat tx_dropped)
	read -r level _ </proc/sys/kernel/printk
	echo 8 >/proc/sys/kernel/printk
	for i in 1 2 3; do
		echo "<6>57-netback-hostile-rx-ctrl: netconsole line $i" >/dev/kmsg
	done
	echo "$level" >/proc/sys/kernel/printk
	for i in $(seq 20); do
		d1=$(vif_stat tx_dropped)
		((d1 - d0 >= 3)) && break
		sleep 0.1
	done
	echo 0 >"$ncdir/enabled"
	rmdir "$ncdir"
	if ((d1 - d0 >= 3)); then
		pass "netconsole on xenbr0 to $1: $vif filtered its lines ($((d1 - d0)) frames dropped)"
	else
		fail "netconsole on xenbr0 to $1: $vif filters its lines" "tx_dropped $d0 -> $d1"
	fi
}
G1=03:99:00:00:00:01 G2=03:99:00:00:00:02 K=8
start mcast
if at joined 60; then
	"$nbframes" send xenbr0 "$G1" "$K" 100 >/dev/null
	"$nbframes" send xenbr0 "$G2" "$K" 100 >/dev/null
	netconsole_to "$G2"
	go joined
	if at left 60; then
		"$nbframes" send xenbr0 "$G1" "$K" 100 >/dev/null
		"$nbframes" send xenbr0 "$G2" "$K" 100 >/dev/null
		go left
	fi
fi
if finish mcast; then
	if [[ $(field add) == 0 && $(field del) == 0 ]]; then
		pass "mcast: MCAST_ADD and MCAST_DEL extras answered OKAY"
	else
		fail "mcast: MCAST_ADD and MCAST_DEL extras answered OKAY" "add $(field add), del $(field del)"
	fi
	if [[ $(field g1) == "$K" ]]; then
		pass "mcast: all $K frames to the joined group $G1 reached the guest's ring"
	else
		fail "mcast: the $K frames to the joined group reach the guest" "$(field g1) arrived"
	fi
	if [[ $(field g2) == 0 ]]; then
		pass "mcast: none of the $K frames to the other group $G2 reached it"
	else
		fail "mcast: frames to a group not joined are filtered" "$(field g2) arrived"
	fi
	if [[ $(field g1del) == 0 && $(field g2del) == 0 ]]; then
		pass "mcast: after MCAST_DEL neither group reaches it"
	else
		fail "mcast: after MCAST_DEL the group is filtered" "$(field g1del) of $G1, $(field g2del) of $G2 arrived"
	fi
	# The filter holds 64 groups (in-tree too); a 65th is refused.
	if [[ $(field fill) == 64 && $(field over) == -1 ]]; then
		pass "mcast: 64 groups added answered OKAY, a 65th ERROR"
	else
		fail "mcast: 64 groups added answered OKAY, a 65th ERROR" "$(field fill) OKAY of 64, the 65th $(field over)"
	fi
fi

# --- receive buffers whose grant the guest never made -----------------------
p0=0 p1=0 d0=0 d1=0
start rxbadref
if at posted 60; then
	p0=$(vif_stat tx_packets) d0=$(vif_stat tx_dropped)
	"$nbframes" send "$vif" ff:ff:ff:ff:ff:ff 4 100 >/dev/null
	t0=$SECONDS
	while [[ $(($(vif_stat tx_dropped) - d0)) -lt 4 && $((SECONDS - t0)) -lt 10 ]]; do
		sleep 0.2
	done
	p1=$(vif_stat tx_packets) d1=$(vif_stat tx_dropped)
	go posted
fi
if finish rxbadref; then
	if [[ $((d1 - d0)) -ge 4 && $p1 == "$p0" && $(field err) -ge 4 ]]; then
		pass "rxbadref: frames into buffers never granted are answered with errors ($(field err)) and counted dropped (+$((d1 - d0))), not sent (tx_packets +0)"
	else
		fail "rxbadref: frames into buffers never granted count as dropped, not sent" "tx_dropped +$((d1 - d0)), tx_packets +$((p1 - p0)), guest err=$(field err)"
	fi
fi

# --- XSA-39: garbage on the tx ring ------------------------------------------
# Seeds 1 and 2 put req_prod within the ring, 4 far beyond it.
for seed in 1 2 4; do
	r0=$(rx_packets)
	start garbage "$seed"
	if ! at judge 90; then
		fail "garbage $seed: nbhostile reached its verdict" "step $(xenstore-read "$data/nbh-step" 2>&1)"
		break
	fi
	c=$(carrier)
	r1=$(rx_packets)
	go judge
	finish "garbage $seed" || break
	if [[ $(field probe) == okay && $r1 -gt $r0 ]]; then
		pass "garbage $seed: the vif still answers (req_prod $(field prod), $(field answered) slots answered, probe OKAY after $(field tries) tries, reached dom0)"
	elif [[ $(field probe) != okay && $c == 0 ]]; then
		pass "garbage $seed: the vif disabled itself (req_prod $(field prod), $(field answered) slots answered, carrier off)"
		nb_fresh || exit 1
	else
		fail "garbage $seed: the vif is disabled or still answers" "probe $(field probe), carrier $c, $vif rx_packets +$((r1 - r0)); $res"
		nb_fresh || exit 1
	fi
done
check "garbage: dom0 still pings the guest" busybox ping -c 1 -W 5 "$ip" || true

# --- XSA-392: a frontend that never takes what dom0 sends --------------------
# dom0's free memory in KiB, page cache dropped.
memfree() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '/^MemFree:|^Cached:/ { s += $2 } END { print s }' /proc/meminfo
}
# stall ATTACK LEN: flood the vif with LEN-byte frames while ATTACK holds it.
stall() {
	local a=$1 len=$2 m0 m1 m2 t0 toff='' secs flood fpid
	start "$a"
	if ! at stalling 60; then
		fail "$a: nbhostile connected" "step $(xenstore-read "$data/nbh-step" 2>&1)"
		return 1
	fi
	[[ $len -le 1500 ]] || ip link set dev "$vif" mtu 9000
	m0=$(memfree)
	secs=$(((stall_ms + drain_ms) / 1000 + 8))
	flood=$(mktemp)
	t0=$SECONDS
	"$nbframes" flood "$vif" "$secs" "$len" >"$flood" &
	fpid=$!
	while kill -0 "$fpid" 2>/dev/null; do
		[[ -z $toff && $(carrier) == 0 ]] && toff=$((SECONDS - t0))
		sleep 0.2
	done
	wait "$fpid" || true
	m1=$(memfree)
	note "$a: flood of $len-byte frames for ${secs}s: $(cat "$flood"); carrier off after ${toff:-never} s; MemFree+Cached $m0 -> $m1 kB"
	rm -f "$flood"
	if [[ -n $toff && $toff -le $((stall_ms / 1000 + 10)) ]]; then
		pass "$a: the carrier went off ${toff}s into the flood (stall timeout $((stall_ms / 1000))s)"
	else
		fail "$a: the carrier goes off within the stall timeout + 10 s" "carrier off after ${toff:-never} s"
	fi
	if [[ $((m0 - m1)) -le $((32 * MiB)) ]]; then
		pass "$a: dom0 lost no more than 32 MiB during the flood ($(((m0 - m1) / 1024)) MiB)"
	else
		fail "$a: dom0 loses no more than 32 MiB during the flood" "MemFree+Cached $m0 -> $m1 kB"
	fi
	# The guest posts buffers: the stalled queue must come back by itself,
	# with no queued frame left (the drain timeout drops them, the thread
	# looks once a second) to wake its thread instead.
	sleep $((drain_ms / 1000 + 2))
	go stalling
	toff=''
	if at posted 60; then
		t0=$SECONDS
		while [[ $(carrier) != 1 && $((SECONDS - t0)) -lt 15 ]]; do
			sleep 0.2
		done
		if [[ $(carrier) == 1 ]]; then
			toff=$((SECONDS - t0))
			"$nbframes" send "$vif" ff:ff:ff:ff:ff:ff 4 100 >/dev/null
		fi
		go posted
	fi
	if finish "$a"; then
		if [[ $(field rx) -le ${3:-0} ]]; then
			pass "$a: the guest's ring got $(field rx) responses, no more than its buffers"
		else
			fail "$a: no more responses than posted buffers" "rx=$(field rx)"
		fi
		if [[ -n $toff && $(field after) -ge 4 ]]; then
			pass "$a: buffers posted, the carrier came back in ${toff}s and the guest got $(field after) responses"
		else
			fail "$a: the carrier comes back once the guest posts buffers, and frames flow" "carrier $(carrier) ${toff:+after ${toff}s}, after=$(field after)"
		fi
	fi
	if nb_xs_wait "$be/state" 6 20; then
		pass "$a: the backend closed after the frontend did"
	else
		fail "$a: the backend closes after the frontend" "state $(xenstore-read "$be/state" 2>&1)"
	fi
	[[ $len -le 1500 ]] || ip link set dev "$vif" mtu 1500
	m2=$(memfree)
	if [[ $((m0 - m2)) -le $((8 * MiB)) ]]; then
		pass "$a: dom0's memory back after the close ($m0 -> $m2 kB)"
	else
		fail "$a: dom0's memory back after the close" "MemFree+Cached $m0 -> $m2 kB"
	fi
	tiny tiny18
	if [[ $seen == "frames=1 intact=1 lens=128" && $(field probe) == okay ]]; then
		pass "$a: the vif works again for the next connection (a frame arrives intact)"
	else
		fail "$a: the vif works again for the next connection" "dom0 saw '$seen', probe $(field probe)"
	fi
}
stall rxstall0 1000 0 || true
# One buffer posted, frames that need two: the ring always one short.
stall rxstall1 8000 1 || true
check "stall: dom0 still pings the guest" busybox ping -c 1 -W 5 "$ip" || true

if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "still there after 60 s"
fi
if reload && [[ $(cat /sys/module/xen_netback/parameters/rx_stall_timeout_msecs) != "$stall_ms" ]]; then
	pass "xen-netback reloaded with its default receive timeouts"
else
	fail "xen-netback reloaded with its default receive timeouts" "$(cat /sys/module/xen_netback/parameters/rx_stall_timeout_msecs 2>&1)"
fi
