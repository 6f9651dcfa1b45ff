#!/bin/bash
# vm-timeout: 480
# xen-blkback across xl save / xl restore in the middle of I/O: the guest
# runs a verifying fio job (random 4 KiB-1 MiB writes at iodepth 32, then
# reads everything back against crc32c, 40 times over: about a minute) on a
# RAM disk when dom0 saves it.
# The backend must let go of the disk (backend dir and sysfs vbd gone), take
# the restored guest's new rings, and the fio job must finish with every
# block verified; a pattern the guest wrote before the save reads back the
# same afterwards and dom0 finds it on the RAM disk at the end.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"

g=bb-save
dir=/var/tmp/bb-save
cleanup() {
	guest_destroy "$g"
	mountpoint -q "$dir" && umount "$dir"
	rmmod brd 2>/dev/null
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

bb_brd 1 64 || { fail "brd RAM disk /dev/ram0"; exit 1; }
bb_tmpfs "$dir" 400 || { fail "tmpfs for the save file"; exit 1; }
bb_guest "$g" 'memory=320' 'vcpus=2' "disk=['phy:/dev/ram0,xvda,w']" || exit 1
domid=$(guest_domid "$g")
bb_connected "xvda connected" "$domid" xvda
gcheck "guest writes its pattern at 48 MiB" "$g" 120 pwrite xvda 48 8 presave
gcheck "a verifying fio job starts in the guest" "$g" 30 \
	vfio_bg xvda --rw=randwrite --bsrange=4k-1m --iodepth=32 --size=32m --offset=0 --loops=40
sleep 3
gcheck "the fio job is still running when the save starts" "$g" 10 '[ ! -f /tmp/bg.rc ]'
w0=$(bb_stat "$domid" xvda wr_req)
bb_no_eoi_delay "the frontend's events were never held back as spurious" "$domid" xvda
note "wr_req $w0 when the save starts"
if check "xl save $g in the middle of the fio job" timeout 180 xl save "$g" "$dir/$g.save"; then
	sys=$(bb_sysfs "$domid" xvda)
	if ! xenstore-exists "$(bb_be "$domid" xvda)" 2>/dev/null && [[ ! -e $sys ]]; then
		pass "the saved guest's backend is gone from xenstore and sysfs"
	else
		fail "the saved guest's backend is gone" "$(bb_be "$domid" xvda) or $sys still there"
	fi
	check "xl restore" timeout 180 xl restore "$dir/$g.save" || exit 1
	rm -f "$dir/$g.save"
	domid=$(guest_domid "$g")
	note "restored as domain $domid"
	n=0
	until [[ $(bb_key "$(bb_be "$domid" xvda)/state") == 4 && $(bb_key "$(bb_fe "$domid" xvda)/state") == 4 ]] || [[ $n -ge 150 ]]; do
		sleep 0.2
		n=$((n + 1))
	done
	bb_connected "xvda connected again after the restore" "$domid" xvda
	if ! gcheck "the fio job finishes after the restore with every block verified" "$g" 400 vfio_wait 380; then
		# Seen once in CI, never here: what was stuck, for next time.
		note "backend: $(for c in rd_req wr_req oo_req; do echo -n "$c $(bb_stat "$domid" xvda "$c") "; done)"
		gsh "$g" 60 'echo "inflight $(cat /sys/block/xvda/inflight)"; tail -n 5 /tmp/bg.out'
		note "guest: $GOUT"
	fi
	bb_no_eoi_delay "the restored frontend's events were never held back as spurious" "$domid" xvda
	gcheck "the pattern written before the save reads back" "$g" 60 pcheck xvda 48 8 presave
	gcheck "the restored guest writes a new pattern" "$g" 120 pwrite xvda 40 4 restored
	gsh "$g" 10 exit
	guest_shutdown "$g" 60 || { fail "xl shutdown -w $g" "still there after 60 s"; guest_destroy "$g"; }
	bb_pcheck "dom0 finds the pattern from before the save" /dev/ram0 48 8 presave
	bb_pcheck "dom0 finds the pattern from after the restore" /dev/ram0 40 4 restored
fi
