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
# writes read back intact in the guest and in dom0.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"

g=bb-held
dm=bb-held
kmod=$REPO/build/tests/kmod/$(uname -r)/dm-holdref.ko
cleanup() {
	guest_destroy "$g"
	dmsetup remove --noudevsync "$dm" 2>/dev/null
	rmmod dm_holdref 2>/dev/null
	rmmod brd 2>/dev/null
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

[[ -f $kmod ]] || { fail "dm-holdref built for $(uname -r)" "$kmod missing (make -C tests)"; exit 1; }
bb_brd 1 16 || { fail "brd RAM disk /dev/ram0"; exit 1; }
if ! modprobe dm-mod || ! insmod "$kmod" ||
	! dmsetup create --noudevsync "$dm" --table "0 $((16 * 2048)) holdref /dev/ram0"; then
	fail "dm-holdref over /dev/ram0"
	exit 1
fi
dev=/dev/$(dmsetup info -c --noheadings -o blkdevname "$dm")
# held: dm-holdref's counts, "held H changed C unreadable U".
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
read -r _ h _ c _ u <<<"$(held)"
note "dm-holdref: $(held)"
if [[ ${h:-0} -ge 512 && $c == 0 && $u == 0 ]]; then
	pass "every page dm-holdref held still had its data when let go ($h pages held, none changed or unmapped)"
else
	fail "no page changed or unmapped while dm-holdref held it" \
		"held '${h:-}' (want >= 512, 2 MiB of pages), changed '${c:-}', unreadable '${u:-}'"
fi
guest_destroy "$g"
bb_pcheck "dom0 finds the guest's pattern under dm-holdref" /dev/ram0 0 2 held
