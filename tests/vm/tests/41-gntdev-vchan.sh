#!/bin/bash
# vm-timeout: 150
# A real user-space client of our /dev/xen/gntdev: libxenvchan, through
# Xen's vchan-socket-proxy. The guest is the vchan server (it grants its
# ring page with gntalloc); dom0 is the client, so libxenvchan maps the
# guest's page through our gntdev (xengnttab_map_grant_ref_notify: a map,
# an mmap and an unmap notification that clears cli_live and signals the
# client's event channel, bound through our xen-evtchn).
# Round 1: 1 MiB of random bytes each way at once, md5 compared at both
# ends. Round 2: a connected client holds exactly one more gntdev map
# (stats and its /proc/PID/maps), then is killed with SIGKILL: only the
# unmap notification can tell the guest's server, which must close within
# 10 s. The stats go back to their baseline after each client and after
# the guest.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

g=gntdev-vchan
proxy=/usr/lib/xen-4.17/bin/vchan-socket-proxy
N=1048576
d=/tmp/gntdev-vchan
stats=/sys/kernel/debug/xen-gntdev/stats

stat_get() { awk -v k="$1" '$1 == k { print $2 }' "$stats"; }
# stats_back MAPS GM SECS: wait until the stats read MAPS and GM again.
stats_back() {
	local n=0
	while [[ $(stat_get maps) != "$1" || $(stat_get grant_mappings) != "$2" ]]; do
		[[ $n -lt $(($3 * 10)) ]] || return 1
		sleep 0.1
		n=$((n + 1))
	done
}
# xs_wait PATH VALUE SECS: wait until xenstore PATH reads VALUE ("" = exists).
xs_wait() {
	local n=0 v
	while :; do
		v=$(xenstore-read "$1" 2>/dev/null) && [[ -z $2 || $v == "$2" ]] && { echo "$v"; return 0; }
		[[ $n -lt $(($3 * 10)) ]] || return 1
		guest_domid "$g" >/dev/null || return 1
		sleep 0.1
		n=$((n + 1))
	done
}

cpid=
cleanup() {
	[[ -n $cpid ]] && kill -KILL "$cpid" 2>/dev/null
	guest_destroy "$g"
	rm -rf "$d"
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
[[ -r $stats ]] || { fail "our gntdev's debugfs stats" "no $stats"; exit 1; }
[[ -x $proxy ]] || { fail "$proxy is installed" "missing (xen-utils-4.17)"; exit 1; }
rm -rf "$d"
mkdir -p "$d"
maps0=$(stat_get maps) gm0=$(stat_get grant_mappings)
note "gntdev stats baseline: maps $maps0 grant_mappings $gm0"

if ! guest_create "$g" --test gntdev-vchan --wait; then
	fail "xl create $g" "see tests/$TEST_NAME/$g.xl-create.log"
	exit 1
fi
domid=$(guest_domid "$g")
base=/local/domain/$domid/data
note "$g is domain $domid"
if ! guest_wait_console "$g" '^GUEST-READY' 90 >/dev/null; then
	fail "guest $g boots" "no GUEST-READY within 90 s"
	exit 1
fi
if ! txmd5=$(xs_wait "$base/vchan-tx-md5" "" 30); then
	fail "guest publishes the md5 of what it will send" "no $base/vchan-tx-md5"
	exit 1
fi
# The guest's server is up once its ring is in xenstore.
xs_wait "$base/vchan/event-channel" "" 30 >/dev/null ||
	fail "guest's vchan server writes $base/vchan" "no event-channel node after 30 s"
maps1=$(stat_get maps) gm1=$(stat_get grant_mappings)
note "gntdev stats with the guest up, no vchan client: maps $maps1 grant_mappings $gm1"

# --- round 1: 1 MiB each way ------------------------------------------------
head -c $N /dev/urandom >"$d/tx"
amd5=$(md5sum <"$d/tx" | cut -d' ' -f1)
xenstore-write "$base/vchan-rx-want" "$amd5"
mkfifo "$d/in1"
: >"$d/rx"
# Our side's input stays open until the guest's 1 MiB has arrived (the
# proxy stops reading the vchan at the end of its input) and the guest has
# all of ours: a proxy that meets the end of its input with bytes still
# unsent writes them, then waits for one more event, which never comes if
# the guest has nothing left to say (it hung to its timeout in CI).
(
	cat "$d/tx"
	n=0
	while [[ ($(stat -c %s "$d/rx") -lt $N ||
		$(xenstore-read "$base/vchan-rx-done" 2>/dev/null) != 1) && $n -lt 900 ]]; do
		sleep 0.1
		n=$((n + 1))
	done
) >"$d/in1" &
t0=$SECONDS
timeout 100 "$proxy" -m client "$domid" "$base/vchan" - <"$d/in1" >"$d/rx" 2>"$d/proxy1.err"
rc=$?
wait
note "round 1 took $((SECONDS - t0)) s"
[[ $rc -eq 0 && ! -s $d/proxy1.err ]] ||
	fail "round 1: vchan-socket-proxy client" "exited $rc: $(head -c 300 "$d/proxy1.err")"
got=$(md5sum <"$d/rx" | cut -d' ' -f1)
size=$(stat -c %s "$d/rx")
if [[ $size -eq $N && $got == "$txmd5" ]]; then
	pass "round 1: guest -> dom0: 1 MiB, md5 $got as the guest sent"
else
	fail "round 1: guest -> dom0" "$size bytes, md5 $got, the guest sent md5 $txmd5"
fi
if grmd5=$(xs_wait "$base/vchan-rx-md5" "" 30) && [[ $grmd5 == "$amd5" ]]; then
	pass "round 1: dom0 -> guest: 1 MiB, the guest got md5 $grmd5 as sent"
else
	fail "round 1: dom0 -> guest" "the guest got md5 '${grmd5:-}', dom0 sent $amd5"
fi
if stats_back "$maps1" "$gm1" 10; then
	pass "round 1: the client's map is gone after it exits (maps $maps1, grant_mappings $gm1)"
else
	fail "round 1: the client's map is gone after it exits" "maps $(stat_get maps) grant_mappings $(stat_get grant_mappings), want $maps1 $gm1"
fi

# --- round 2: a connected client, then SIGKILL ------------------------------
mkfifo "$d/in2"
exec 4<>"$d/in2"
"$proxy" -m client "$domid" "$base/vchan2" - <"$d/in2" >"$d/out2" 2>"$d/proxy2.err" 4>&- &
cpid=$!
line="vchan2-hello-$RANDOM$RANDOM"
echo "$line" >&4
if xs_wait "$base/vchan2-line" "$line" 30 >/dev/null; then
	pass "round 2: the guest's server got '$line' from dom0's client"
else
	fail "round 2: the guest's server got '$line'" "not within 30 s: $(head -c 300 "$d/proxy2.err")"
fi
maps2=$(stat_get maps) gm2=$(stat_get grant_mappings)
if [[ $maps2 -eq $((maps1 + 1)) && $gm2 -gt $gm1 ]]; then
	pass "round 2: the connected client holds one gntdev map (maps $maps1 -> $maps2, grant_mappings $gm1 -> $gm2)"
else
	fail "round 2: the connected client holds one gntdev map" "maps $maps1 -> $maps2, grant_mappings $gm1 -> $gm2"
fi
nmaps=$(grep -c ' /dev/xen/gntdev$' "/proc/$cpid/maps" 2>/dev/null)
if [[ $nmaps -eq 1 ]]; then
	pass "round 2: the client has the guest's page mmapped from /dev/xen/gntdev"
else
	fail "round 2: the client has the guest's page mmapped from /dev/xen/gntdev" "$nmaps mappings in /proc/$cpid/maps"
fi
if [[ $(xenstore-read "$base/vchan2-closed" 2>/dev/null) == 1 ]]; then
	fail "round 2: the guest's server is still connected before the kill" "it already closed"
fi
kill -KILL "$cpid"
wait "$cpid" 2>/dev/null
cpid=
t0=$SECONDS
if xs_wait "$base/vchan2-closed" 1 10 >/dev/null; then
	pass "round 2: SIGKILLed client: the unmap notification told the guest's server within $((SECONDS - t0)) s"
else
	fail "round 2: SIGKILLed client: the unmap notification tells the guest's server" "still connected after 10 s"
fi
exec 4>&-
if stats_back "$maps1" "$gm1" 10; then
	pass "round 2: the killed client's map is gone (maps $maps1, grant_mappings $gm1)"
else
	fail "round 2: the killed client's map is gone" "maps $(stat_get maps) grant_mappings $(stat_get grant_mappings), want $maps1 $gm1"
fi

guest_wait_console "$g" '^GUEST-IDLE' 30 >/dev/null || fail "guest test finishes" "no GUEST-IDLE"
guest_collect "$g" || true
if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "still there after 60 s"
	guest_destroy "$g"
fi
if stats_back "$maps0" "$gm0" 10; then
	pass "gntdev stats back to baseline after the guest (maps $maps0, grant_mappings $gm0)"
else
	fail "gntdev stats back to baseline after the guest" "maps $(stat_get maps) grant_mappings $(stat_get grant_mappings), want $maps0 $gm0"
fi
