#!/bin/bash
# vm-timeout: 300
# xen-blkback against a frontend that breaks the protocol: the guest
# unbinds its blkfront from xvdb, a read-only RAM disk holding dom0's
# pattern, and drives it with tests/guest/blkfront_hostile: unknown
# operation, 0 and 12 segments, indirect requests with 4096 or 0 segments,
# wrapping a flush or with an ungranted segment page, last_sect 8 or below
# first_sect, reads past the end, straddling it or overflowing 64 bits,
# writes (direct and indirect), flush, barrier, discard and secure discard
# of the read-only disk, each of which must get an error response while
# valid reads before and after work; then it keeps the ring full of
# requests refused at once for 3 s, refilling each slot as its answer
# comes, and dom0 checks that the backend took at most a ring's worth in
# one pass (statistics/max_pass), while a valid read still works after;
# and finally req_prod 1000 requests ahead, after which the backend must
# stop serving that ring, saying why in xenstore's error node. Then the same program drives xvdc, a second
# read-only RAM disk with the pattern, with protocol x86_32-abi (the 32-bit
# PV guest ring layout) and persistent grants: 1-, 4-, 11-segment and
# indirect reads must return the pattern, bad requests (an ungranted
# segment page among them) an error carrying their id. Last, on xvdd, a
# writable RAM disk behind dm-delay whose reads dom0 slows to 12 s after
# the flood: a read, a WRITE_BARRIER that must wait for it, 1.5 s of events
# with nothing the backend can take, which the kernel must hold back as
# spurious (late EOI), and a close while the backend holds the barrier;
# both must be answered, once, before the backend says Closing, and while
# the backend waits for the read, xenbus's watch thread must go on serving
# other devices (dom0 rewrites xvdb's physical-device: the backend's
# warning about it must come before xvdd's Closing), and a read the guest
# sends after on xvdd's second queue must not be taken.  dom0
# must survive (the bed fails the test on any kernel WARNING/BUG), the RAM
# disks must be unchanged, and the backend must go away cleanly with the
# guest.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"

g=bb-hostile
slow=bb-hostile-slow
cleanup() {
	guest_destroy "$g"
	dmsetup remove --noudevsync "$slow" 2>/dev/null
	rmmod brd 2>/dev/null
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

# slow_table MS: a dm-delay table over /dev/ram2 delaying reads by MS
# (writes, and so flushes, not).
slow_table() { echo "0 $((16 * 2048)) delay /dev/ram2 0 $1 /dev/ram2 0 0"; }

bb_brd 3 16 || { fail "brd RAM disks /dev/ram0 to /dev/ram2"; exit 1; }
bb_pwrite /dev/ram0 0 16 dom0
bb_pwrite /dev/ram1 0 16 dom0
md5=$(bb_md5 /dev/ram0 0 16)
md5_32=$(bb_md5 /dev/ram1 0 16)
# No udev here: the dm device's node is the kernel's own /dev/dm-N.
if modprobe dm-delay && dmsetup create --noudevsync "$slow" --table "$(slow_table 0)"; then
	slowdev=/dev/$(dmsetup info -c --noheadings -o blkdevname "$slow")
else
	fail "dm-delay device over /dev/ram2"
	exit 1
fi
if guest_create "$g" --test blkback-hostile \
	"disk=['phy:/dev/ram0,xvdb,r','phy:/dev/ram1,xvdc,r','phy:$slowdev,xvdd,w']"; then
	pass "xl create $g"
else
	fail "xl create $g" "see tests/$TEST_NAME/$g.xl-create.log"
	exit 1
fi
domid=$(guest_domid "$g")

# The flood: the guest waits (hostile-flood in xvdb's frontend dir) until
# dom0 has read max_pass, which a one-page native ring bounds by 32
# requests (32 << ring-page-order for a larger one).
fe=$(bb_fe "$domid" xvdb)
_flooded() { [[ $(bb_key "$fe/hostile-flood") == 1 ]] || ! guest_domid "$g" >/dev/null; }
xs_wait 150 "$fe/hostile-flood" _flooded
if [[ $(bb_key "$fe/hostile-flood") == 1 ]]; then
	order=$(bb_key "$fe/ring-page-order")
	size=$((32 << ${order:-0}))
	mp=$(bb_stat "$domid" xvdb max_pass)
	if [[ $mp =~ ^[0-9]+$ ]] && ((mp > 0 && mp <= size)); then
		pass "the backend took at most a ring's worth of the flood in one pass (statistics/max_pass $mp, ring $size)"
	else
		fail "the backend took at most a ring's worth of the flood in one pass" "statistics/max_pass '$mp', ring $size"
	fi
	# xvdd's reads are slow from now on, for the barrier held at the
	# close: long enough for dom0's check below on a debug kernel too.
	if dmsetup suspend --noudevsync "$slow" &&
		dmsetup reload --noudevsync "$slow" --table "$(slow_table 12000)" &&
		dmsetup resume --noudevsync "$slow"; then
		note "xvdd ($slowdev) delays its reads by 12 s from now on"
	else
		fail "xvdd's reads delayed by 12 s" "dmsetup failed"
	fi
	xenstore-write "$fe/hostile-flood-checked" 1
else
	fail "the guest floods xvdb's ring" "no hostile-flood in $fe within 150 s"
fi
# The close: the backend waits for xvdd's slow read before it says
# Closing, and must do so away from xenbus's watch thread, which serves
# every device's xenstore watches.  A watch of another vbd proves it free:
# xvdb's physical-device rewritten makes the backend warn (it keeps its
# disk), and that warning must come while xvdd's backend still waits
# (state 4, Connected).  The old value goes back after.
fed=$(bb_fe "$domid" xvdd)
# (hostile-storm: the guest got past its close without telling, a failure
# it reports itself.)
_closing() {
	[[ -n $(bb_key "$fed/hostile-closing") || -n $(bb_key "$fed/hostile-storm") ]] ||
		! guest_domid "$g" >/dev/null
}
xs_wait 150 "$fed/hostile-closing" _closing
if [[ -n $(bb_key "$fed/hostile-closing") ]]; then
	bed=$(bb_be "$domid" xvdd) beb=$(bb_be "$domid" xvdb)
	phys=$(bb_key "$beb/physical-device")
	warned="vbd $domid/${BB_DEVID[xvdb]}: physical-device changed to fe:fe"
	before=$(bb_key "$bed/state")
	xenstore-write "$beb/physical-device" fe:fe
	n=0
	until dmesg | grep -qF "$warned" || [[ $n -ge 100 ]]; do
		sleep 0.1
		n=$((n + 1))
	done
	after=$(bb_key "$bed/state")
	seen=$(dmesg | grep -cF "$warned")
	xenstore-write "$beb/physical-device" "$phys"
	what="a close waiting for slow I/O holds up no other device's xenstore watch"
	why="xvdd's backend state $before before, $after once xvdb's watch warned ($seen warnings)"
	if [[ $seen -ge 1 && $before == 4 && $after == 4 ]]; then
		pass "$what ($why)"
	else
		fail "$what" "$why"
	fi
	# The guest's next request (on its second queue) must not be taken.
	xenstore-write "$fed/hostile-closing-checked" 1
else
	fail "the guest closes xvdd while its barrier is held" "no hostile-closing in $fed within 150 s"
fi
# The event storm: while its barrier waited for the slow read, the guest
# signalled xvdd's ring for 1.5 s with nothing the backend could take.
# Each event must count as spurious, so that the kernel's late EOI held
# them back (xenbus/jiffies_eoi_delayed above 0) instead of waking the
# backend for every one.
_stormed() { [[ -n $(bb_key "$fed/hostile-storm") ]] || ! guest_domid "$g" >/dev/null; }
xs_wait 150 "$fed/hostile-storm" _stormed
sent=$(bb_key "$fed/hostile-storm")
if [[ -n $sent ]]; then
	bb_eoi_stats "$domid" xvdd
	what="an event storm while a barrier is held: the kernel holds it back"
	why="guest sent $sent events; the backend took $BB_EVENTS, spurious $BB_SPURIOUS, EOI delayed $BB_DELAYED jiffies"
	if [[ $sent =~ ^[0-9]+$ && $BB_DELAYED =~ ^[0-9]+$ ]] && ((sent >= 100 && BB_DELAYED > 0)); then
		pass "$what ($why)"
	else
		fail "$what" "$why"
	fi
	xenstore-write "$fed/hostile-storm-checked" 1
else
	fail "the guest storms xvdd's event channel" "no hostile-storm in $fed within 150 s"
fi
guest_wait_console "$g" '^GUEST-DONE' 150 >/dev/null || fail "guest finishes its attacks" "no GUEST-DONE within 150 s"
# The guest saw no answer after req_prod jumped 1000 ahead; the backend's
# own verdict says why: the ring's error in xenstore.
be=$(bb_be "$domid" xvdb)
err=$(xenstore-read "/local/domain/0/error/${be#/local/domain/0/}/error" 2>/dev/null)
st=$(xenstore-read "$be/state" 2>/dev/null)
if [[ $err == *"impossible request producer index"* ]]; then
	pass "req_prod 1000 ahead: the backend stopped the ring itself ('$err', state $st)"
else
	fail "req_prod 1000 ahead: the backend stops the ring, saying why" "error node '$err', backend state '$st'"
fi
xenstore-ls -f "$(bb_be "$domid" xvdb)" >"$TEST_LOGDIR/backend.xenstore" 2>&1
xenstore-ls -f "$(bb_be "$domid" xvdc)" >"$TEST_LOGDIR/backend-x86_32.xenstore" 2>&1
guest_collect "$g" || true
n=0
while guest_domid "$g" >/dev/null && [[ $n -lt 150 ]]; do
	sleep 0.2
	n=$((n + 1))
done
guest_domid "$g" >/dev/null && { fail "guest powers off" "still there after 30 s"; guest_destroy "$g"; }
n=0
while { xenstore-exists "/local/domain/0/backend/vbd/$domid" 2>/dev/null ||
	compgen -G "/sys/bus/xen-backend/devices/vbd-$domid-*" >/dev/null; } && [[ $n -lt 100 ]]; do
	sleep 0.2
	n=$((n + 1))
done
if xenstore-exists "/local/domain/0/backend/vbd/$domid" 2>/dev/null ||
	compgen -G "/sys/bus/xen-backend/devices/vbd-$domid-*" >/dev/null; then
	fail "the hostile guest's backend goes away with it" "still in xenstore or sysfs after 20 s"
else
	pass "the hostile guest's backend goes away with it"
fi
got=$(bb_md5 /dev/ram0 0 16)
if [[ $got == "$md5" ]]; then
	pass "the read-only RAM disk is unchanged (md5 $got)"
else
	fail "the read-only RAM disk is unchanged" "md5 $got, was $md5"
fi
got=$(bb_md5 /dev/ram1 0 16)
if [[ $got == "$md5_32" ]]; then
	pass "the x86_32 run's read-only RAM disk is unchanged (md5 $got)"
else
	fail "the x86_32 run's read-only RAM disk is unchanged" "md5 $got, was $md5_32"
fi
# dom0 still works: its block layer and xenstore answer.
check "dom0 still reads its RAM disk and xenstore" bash -c "dd if=/dev/ram0 of=/dev/null bs=1M count=1 iflag=direct status=none && xenstore-read /local/domain/0/name" || true
