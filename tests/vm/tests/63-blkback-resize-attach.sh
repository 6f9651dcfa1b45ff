#!/bin/bash
# vm-timeout: 480
# xen-blkback while the guest runs: online resize and hot plug.
# Resize: xvda is a loop device over a 32 MiB file on tmpfs; dom0 grows the
# file to 48 MiB and tells loop (losetup -c). The backend must publish the
# new size in "sectors" and the guest see it in /sys/block/xvda/size (the
# guest keeps doing I/O meanwhile, as a backend may look at the size when
# it serves requests); the guest then writes past the old end, and the
# data it wrote before and after is in the file.
# Read-only while connected: blockdev --setro on the loop device; the
# guest's writes fail and leave the data as it was, reads go on, and
# after --setrw writes land again.
# Hot plug: xl block-attach of a RAM disk as xvdb, which the guest sees
# with dom0's data on it, writes to and loses on xl block-detach (backend
# xenstore dir and sysfs vbd gone, dom0 finds what the guest wrote); then
# attached and detached once more with the data still there.  Then a
# hotplug script that writes physical-device as a path, and one that
# writes a number beyond dev_t's range: the backend says so in xenstore
# (Closing, error/...), and the device detaches.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"

g=bb-resize
dir=/var/tmp/bb-resize
loopdev=
cleanup() {
	guest_destroy "$g"
	[[ -n $loopdev ]] && losetup -d "$loopdev"
	mountpoint -q "$dir" && umount "$dir"
	rmmod brd 2>/dev/null
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

bb_brd 1 16 || { fail "brd RAM disk /dev/ram0"; exit 1; }
bb_pwrite /dev/ram0 0 8 dom0
bb_tmpfs "$dir" 64 || { fail "tmpfs for the loop file"; exit 1; }
loopdev=$(bb_loop "$dir/disk.img" 32) || { fail "loop device over disk.img"; exit 1; }
bb_guest "$g" "disk=['phy:$loopdev,xvda,w']" || exit 1
domid=$(guest_domid "$g")
be=$(bb_be "$domid" xvda)
bb_connected "xvda connected" "$domid" xvda

# --- online resize --------------------------------------------------------
gcheck "guest writes its pattern at 0-8 MiB" "$g" 120 pwrite xvda 0 8 before
truncate -s $((48 * MiB)) "$dir/disk.img"
check "losetup -c: loop takes the file's new size" losetup -c "$loopdev" || true
want=$((48 * 2048))
# The guest reads a block every 0.3 s until it sees the new size (30 s).
gcheck "guest sees xvda grow to $want sectors" "$g" 60 \
	'for i in $(seq 100); do dd if=/dev/xvda of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null; [ "$(cat /sys/block/xvda/size)" = '"$want"' ] && exit 0; sleep 0.3; done; echo "size $(cat /sys/block/xvda/size)"; exit 1'
got=$(bb_key "$be/sectors")
if [[ $got == "$want" ]]; then
	pass "backend's sectors is the new size ($got)"
else
	fail "backend's sectors is the new size" "'$got', want $want"
fi
bb_connected "xvda still connected after the resize" "$domid" xvda
gcheck "guest writes past the old end (32-40 MiB)" "$g" 120 pwrite xvda 32 8 after
gcheck "guest reads both patterns back" "$g" 60 "pcheck xvda 0 8 before && pcheck xvda 32 8 after"

# --- read-only while connected --------------------------------------------
# blockdev --setro: the block layer only warns about writes to such a
# device, so the backend must refuse them itself (in-tree takes them).
md5_16=$(bb_md5 "$loopdev" 16 1)
check "blockdev --setro $loopdev" blockdev --setro "$loopdev" || true
gcheck "guest's write to xvda made read-only fails" "$g" 60 "! pwrite xvda 16 1 ro"
if [[ $(bb_md5 "$loopdev" 16 1) == "$md5_16" ]]; then
	pass "the refused write did not land (16-17 MiB as it was)"
else
	fail "the refused write does not land" "16-17 MiB changed"
fi
gcheck "guest still reads xvda" "$g" 60 "pcheck xvda 0 8 before"
check "blockdev --setrw $loopdev" blockdev --setrw "$loopdev" || true
gcheck "guest writes xvda again once it is read-write" "$g" 120 "pwrite xvda 16 1 rw"
bb_pcheck "dom0 finds that write at 16-17 MiB" "$loopdev" 16 1 rw

# --- xl block-attach / block-detach ---------------------------------------
# attach_cycle ROUND: attach /dev/ram0 as xvdb and check the guest sees it.
attach() {
	if check "round $1: xl block-attach $g phy:/dev/ram0,xvdb,w" xl block-attach "$g" 'phy:/dev/ram0,xvdb,w'; then
		gcheck "round $1: xvdb appears in the guest" "$g" 60 \
			'for i in $(seq 150); do [ -b /dev/xvdb ] && exit 0; sleep 0.2; done; exit 1'
		bb_connected "round $1: xvdb connected" "$domid" xvdb
	fi
}
detach() {
	check "round $1: xl block-detach $g xvdb" timeout 60 xl block-detach "$g" xvdb || true
	gcheck "round $1: xvdb gone from the guest" "$g" 60 \
		'for i in $(seq 150); do [ -e /sys/block/xvdb ] || exit 0; sleep 0.2; done; exit 1'
	local n=0 sys
	sys=$(bb_sysfs "$domid" xvdb)
	while { xenstore-exists "$(bb_be "$domid" xvdb)" 2>/dev/null || [[ -e $sys ]]; } && [[ $n -lt 50 ]]; do
		sleep 0.2
		n=$((n + 1))
	done
	if xenstore-exists "$(bb_be "$domid" xvdb)" 2>/dev/null || [[ -e $sys ]]; then
		fail "round $1: xvdb's backend gone from xenstore and sysfs" "still there after 10 s"
	else
		pass "round $1: xvdb's backend gone from xenstore and sysfs"
	fi
}
attach 1
gcheck "round 1: guest reads dom0's pattern on xvdb" "$g" 60 pcheck xvdb 0 8 dom0
gcheck "round 1: guest writes its pattern at 8 MiB of xvdb" "$g" 60 pwrite xvdb 8 4 hotplug
detach 1
bb_pcheck "round 1: dom0 finds the guest's pattern on the detached RAM disk" /dev/ram0 8 4 hotplug
attach 2
gcheck "round 2: guest reads both patterns on xvdb again" "$g" 60 "pcheck xvdb 0 8 dom0 && pcheck xvdb 8 4 hotplug"
detach 2

# --- a hotplug script's mistake: physical-device as a path, or too big ----
# The backend must refuse it in xenstore (state Closing, the reason under
# error/), where the toolstack looks, rather than wait for ever; the
# device may then go on to Closed, or away, on its own.  0:100000 has a
# minor beyond dev_t's 20 bits: taken as it is, it names 1:0, /dev/ram0.
bad=/var/tmp/bb-bad-physical
bec=$(bb_be "$domid" xvdc)
errc=/local/domain/0/error/${bec#/local/domain/0/}/error
# (Neither waiting, 2, nor connected, 4: Closing, Closed or already gone.)
_refused() { [[ $(bb_key "$bec/state") != [24] && $(bb_key "$errc") == *physical-device* ]]; }
_gone() { ! xenstore-exists "$bec" 2>/dev/null; }
for phys in /dev/ram0 0:100000; do
	printf '#!/bin/sh\n[ "$1" = add ] || exit 0\nxenstore-write "$XENBUS_PATH/physical-device" %s "$XENBUS_PATH/hotplug-status" connected\n' "$phys" >"$bad"
	chmod +x "$bad"
	out=$(timeout 60 xl block-attach "$g" "phy:/dev/ram0,xvdc,w,script=$bad" 2>&1)
	xlrc=$?
	if xs_wait 15 /local/domain/0 _refused; then
		pass "a physical-device of $phys is refused: state $(bb_key "$bec/state"), error '$(bb_key "$errc")'; xl block-attach exited $xlrc: $(tail -n 1 <<<"$out")"
	else
		fail "a physical-device of $phys is refused in xenstore" "state $(bb_key "$bec/state"), error '$(bb_key "$errc")'"
	fi
	timeout 60 xl block-detach "$g" xvdc >/dev/null 2>&1
	if xs_wait 10 "$bec" _gone; then
		pass "the refused xvdc ($phys) detached"
	else
		fail "the refused xvdc ($phys) detached" "its backend directory still there after 10 s"
	fi
	xenstore-rm "$errc" 2>/dev/null
done
rm -f "$bad"
gcheck "xvda unaffected by the hot plug" "$g" 60 "pcheck xvda 0 8 before && pcheck xvda 32 8 after"

gsh "$g" 10 exit
guest_shutdown "$g" 60 || { fail "xl shutdown -w $g" "still there after 60 s"; guest_destroy "$g"; }
bb_pcheck "dom0 finds the guest's first pattern in the file" "$dir/disk.img" 0 8 before
bb_pcheck "dom0 finds the pattern written past the old end in the file" "$dir/disk.img" 32 8 after
