#!/bin/bash
# vm-timeout: 360
# xen-blkback and a page still held after its write completed.  A network
# block device's zero-copy send (iSCSI, rbd, DRBD) keeps a write's pages
# until the peer has the data, and the write may complete first: a backend
# that unmaps the grant then, and maps the next grant into the same page,
# has dom0 send that other grant's data, or read a page with no mapping.
# dm-holdref (tests/kmod/, a test-only device-mapper target) stands in for
# one under xvda: it holds each page a write carries for 100 ms after the
# write, then checks that the page still has the bytes written.  The
# guest's blkfront runs without persistent grants, so that every request's
# grants are mapped and unmapped.  Required: dm-holdref held pages (the
# precondition), found none changed and none unmapped, and the guest's
# writes read back intact in the guest and in dom0.  Then the same for a
# persistent grant unmapped at teardown: a guest with persistent grants
# writes one block, which dm-holdref holds for 6 s, and is destroyed
# meanwhile.  Last, the same for one unmapped because it went unused
# (persistent_grant_unused_seconds, set to 1 for it), with the guest still
# running: a thread is seen waiting in gnttab_unmap_refs_sync() while the
# page is held, and the block reads back in the guest and in dom0.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"

g=bb-held
dm=bb-held
kmod=$REPO/build/tests/kmod/$(uname -r)/dm-holdref.ko
unused=/sys/module/xen_blkback/parameters/persistent_grant_unused_seconds
unused0=
cleanup() {
	guest_destroy "$g"
	[[ -z $unused0 ]] || echo "$unused0" >"$unused"
	dmsetup remove --noudevsync "$dm" 2>/dev/null
	rmmod dm_holdref 2>/dev/null
	rmmod brd 2>/dev/null
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

[[ -f $kmod ]] || { fail "dm-holdref built for $(uname -r)" "$kmod missing (make -C tests)"; exit 1; }
bb_brd 1 16 || { fail "brd RAM disk /dev/ram0"; exit 1; }
# holdref [HOLD_MS]: a new dm-holdref over /dev/ram0 (default hold 100
# ms), its device in $dev; the test ends if it cannot be made.
holdref() {
	dmsetup remove --noudevsync "$dm" 2>/dev/null
	if ! dmsetup create --noudevsync "$dm" --table "0 $((16 * 2048)) holdref /dev/ram0 ${1:-}"; then
		fail "dm-holdref over /dev/ram0${1:+, holding for $1 ms}"
		exit 1
	fi
	dev=/dev/$(dmsetup info -c --noheadings -o blkdevname "$dm")
}
# block_in_dom0 WHAT SECTOR TAG: the 4 KiB block at SECTOR of /dev/ram0
# holds the guest's pattern.
block_in_dom0() {
	local got want
	got=$(dd if=/dev/ram0 bs=4k skip=$(($2 / 8)) count=1 iflag=direct status=none | md5sum)
	want=$(bb_pattern "$2" 8 "$3" | md5sum)
	if [[ $got == "$want" ]]; then
		pass "$1"
	else
		fail "$1" "md5 ${got%% *}, want ${want%% *}"
	fi
}
if ! modprobe dm-mod || ! insmod "$kmod"; then
	fail "dm-holdref loaded"
	exit 1
fi
holdref
# held: dm-holdref's counts, "held H changed C unreadable U pending P".
held() { dmsetup status "$dm" | sed -n 's/.* holdref //p'; }

bb_guest "$g" --cmdline "xen_blkfront.feature_persistent=0" "disk=['phy:$dev,xvda,w']" || exit 1
domid=$(guest_domid "$g")
bb_connected "xvda connected over dm-holdref" "$domid" xvda
per=$(bb_key "$(bb_fe "$domid" xvda)/feature-persistent")
if [[ $per == 0 ]]; then
	pass "the frontend asks for no persistent grants: each request is mapped and unmapped"
else
	fail "the frontend asks for no persistent grants" "feature-persistent '$per'"
fi

gcheck "guest writes its pattern at 0-2 MiB" "$g" 180 pwrite xvda 0 2 held
gcheck "guest reads it back" "$g" 120 pcheck xvda 0 2 held
# The last holds end 100 ms after their write; a backend that did not wait
# for them may have answered before.
sleep 1
read -r _ h _ c _ u _ <<<"$(held)"
note "dm-holdref: $(held)"
if [[ ${h:-0} -ge 512 && $c == 0 && $u == 0 ]]; then
	pass "every page dm-holdref held still had its data when let go ($h pages held, none changed or unmapped)"
else
	fail "no page changed or unmapped while dm-holdref held it" \
		"held '${h:-}' (want >= 512, 2 MiB of pages), changed '${c:-}', unreadable '${u:-}'"
fi
guest_destroy "$g"
bb_pcheck "dom0 finds the guest's pattern under dm-holdref" /dev/ram0 0 2 held

# Persistent grants stay mapped after their requests, and a ring unmaps
# them all when it is torn down: that unmap too must wait for a page still
# held.  One 4 KiB write (one request, one grant) on a new dm-holdref that
# holds for 6 s, and the guest destroyed while the page is held.
hold_ms=6000
holdref "$hold_ms"
bb_guest "$g" "disk=['phy:$dev,xvda,w']" || exit 1
domid=$(guest_domid "$g")
be=$(bb_be "$domid" xvda)
per="$(bb_key "$(bb_fe "$domid" xvda)/feature-persistent") $(bb_key "$be/feature-persistent")"
if [[ $per == "1 1" ]]; then
	pass "both ends use persistent grants: the write's grant stays mapped after it"
else
	fail "both ends use persistent grants" "frontend, backend: '$per'"
fi
gcheck "guest writes one 4 KiB block (sector 8192)" "$g" 120 \
	"pattern 8192 8 persist >/tmp/p && dd if=/tmp/p of=/dev/xvda bs=4k seek=1024 count=1 oflag=direct conv=notrunc 2>/dev/null"
read -r _ h _ c _ u _ p <<<"$(held)"
xl destroy "$g" >/dev/null 2>&1
note "dm-holdref when the guest was destroyed: $(held)"
if [[ ${p:-0} -ge 1 ]]; then
	pass "the write's page was still held when the guest was destroyed (pending $p)"
else
	fail "the write's page is still held when the guest is destroyed" \
		"pending '${p:-}' (the guest's answer came more than $hold_ms ms after its write)"
fi
# The vbd's teardown ends by closing its disk (the device goes at once;
# the wait for the page is the teardown's own, off the xenbus thread).
n=0
while [[ $(dmsetup info -c --noheadings -o open "$dm" 2>/dev/null | tr -d ' ') != 0 &&
	$n -lt 300 ]]; do
	sleep 0.1
	n=$((n + 1))
done
[[ $n -lt 300 ]] || fail "the vbd's teardown closes its disk within 30 s of the destroy"
read -r _ h _ c _ u _ p <<<"$(held)"
note "dm-holdref after the teardown: $(held)"
if [[ ${h:-0} -ge 1 && $c == 0 && $u == 0 && $p == 0 ]]; then
	pass "the persistent grant was unmapped only after dm-holdref let its page go ($h held, none changed or unmapped)"
else
	fail "the persistent grant stays mapped while dm-holdref holds its page" \
		"held '${h:-}', changed '${c:-}', unreadable '${u:-}', pending '${p:-}' after the vbd went"
fi
guest_destroy "$g"
block_in_dom0 "dom0 finds the guest's block under dm-holdref" 8192 persist

# An idle persistent grant is unmapped with the guest running: one block
# written, the grant idle after a second, its page held for 6 s.
# waiting_unmap: the names of the threads waiting for pages to unmap.
waiting_unmap() {
	local f
	grep -l gnttab_unmap_refs_sync /proc/[0-9]*/stack 2>/dev/null |
		while read -r f; do cat "${f%/stack}/comm"; done
}
holdref "$hold_ms"
if ! unused0=$(cat "$unused") || ! echo 1 >"$unused"; then
	fail "persistent_grant_unused_seconds set to 1"
	exit 1
fi
bb_guest "$g" "disk=['phy:$dev,xvda,w']" || exit 1
gcheck "guest writes one 4 KiB block (sector 16384)" "$g" 120 \
	"pattern 16384 8 idle >/tmp/p && dd if=/tmp/p of=/dev/xvda bs=4k seek=2048 count=1 oflag=direct conv=notrunc 2>/dev/null"
waiter='' n=0
while [[ $n -lt 50 ]]; do
	read -r _ h _ c _ u _ p <<<"$(held)"
	[[ ${p:-0} -ge 1 ]] || break
	waiter=$(waiting_unmap)
	[[ -z $waiter ]] || break
	sleep 0.1
	n=$((n + 1))
done
note "dm-holdref while the grant idled: $(held)"
if [[ -n $waiter ]]; then
	pass "the idle grant's unmap waits for the held page (${waiter//$'\n'/ } in gnttab_unmap_refs_sync, pending $p)"
else
	fail "the idle grant's unmap waits for the held page" \
		"no thread waited in gnttab_unmap_refs_sync while pending was '${p:-}'"
fi
n=0
while [[ -n $(waiting_unmap) || $(held) != *" pending 0" ]] && [[ $n -lt 150 ]]; do
	sleep 0.1
	n=$((n + 1))
done
read -r _ h _ c _ u _ p <<<"$(held)"
note "dm-holdref after the hold: $(held)"
if [[ ${h:-0} -ge 1 && $c == 0 && $u == 0 && $p == 0 && -z $(waiting_unmap) ]]; then
	pass "the idle grant was unmapped only after dm-holdref let its page go ($h held, none changed or unmapped)"
else
	fail "the idle grant stays mapped while dm-holdref holds its page" \
		"held '${h:-}', changed '${c:-}', unreadable '${u:-}', pending '${p:-}', waiting '$(waiting_unmap)'"
fi
gcheck "the guest reads its block back" "$g" 120 \
	"pattern 16384 8 idle >/tmp/p && dd if=/dev/xvda bs=4k skip=2048 count=1 iflag=direct 2>/dev/null | cmp - /tmp/p"
guest_destroy "$g"
block_in_dom0 "dom0 finds the guest's idle-purged block" 16384 idle
