#!/bin/bash
# vm-timeout: 600
# xen-blkback moves data correctly: a PV guest with 2 vCPUs (so blkfront
# asks for 2 queues) and two disks, xvda a RAM disk (brd) and xvdb a loop
# device over a file on tmpfs. Checked: both connect; the backend's xenstore
# keys are there and agree with dom0's device (sectors, sector sizes, info,
# flush from the write cache, discard from the device's discard support,
# persistent grants, indirect segments, multi-page rings, queues) and the
# frontend got more than one queue; sysfs physical_device and mode; then per
# disk: the guest reads a pattern dom0 wrote, fio with crc32c verify
# (random 4 KiB-1 MiB at iodepth 64 in two jobs, random 4 KiB at iodepth 1,
# sequential 1 MiB at iodepth 16), the guest writes its own pattern; the
# statistics counters grow by at least what was moved; after the guest is
# gone dom0 finds the guest's pattern and its own where they belong and
# untouched regions still zero.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"

g=bb-data
dir=/var/tmp/bb-data
loopdev=
cleanup() {
	guest_destroy "$g"
	[[ -n $loopdev ]] && losetup -d "$loopdev"
	mountpoint -q "$dir" && umount "$dir"
	rmmod brd 2>/dev/null
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

bb_brd 1 64 || { fail "brd RAM disk /dev/ram0"; exit 1; }
bb_tmpfs "$dir" 80 || { fail "tmpfs for the loop file"; exit 1; }
loopdev=$(bb_loop "$dir/disk.img" 64) || { fail "loop device over $dir/disk.img"; exit 1; }
declare -A dev=([xvda]=/dev/ram0 [xvdb]=$loopdev)
# What each disk's dom0 side is, for the checks (loop: the file itself).
declare -A back=([xvda]=/dev/ram0 [xvdb]=$dir/disk.img)
for d in xvda xvdb; do
	bb_pwrite "${back[$d]}" 48 4 dom0
done
note "seed $BB_SEED, xvda ${dev[xvda]}, xvdb ${dev[xvdb]}"

bb_guest "$g" 'vcpus=2' "disk=['phy:${dev[xvda]},xvda,w','phy:${dev[xvdb]},xvdb,w']" || exit 1
domid=$(guest_domid "$g")

for d in xvda xvdb; do
	be=$(bb_be "$domid" "$d") fe=$(bb_fe "$domid" "$d") sys=$(bb_sysfs "$domid" "$d")
	blk=$(basename "${dev[$d]}")
	q=/sys/block/$blk/queue
	xenstore-ls -f "$be" >"$TEST_LOGDIR/$d-backend.xenstore" 2>&1
	xenstore-ls -f "$fe" >"$TEST_LOGDIR/$d-frontend.xenstore" 2>&1
	bb_connected "$d: backend and frontend connected" "$domid" "$d"

	missing=
	for k in feature-flush-cache feature-persistent feature-max-indirect-segments \
		max-ring-page-order multi-queue-max-queues sector-size physical-sector-size \
		sectors info; do
		xenstore-exists "$be/$k" 2>/dev/null || missing+=" $k"
	done
	if [[ -z $missing ]]; then
		pass "$d: backend advertises flush, persistent, indirect, ring order, queues, sizes, info"
	else
		fail "$d: backend keys present" "missing:$missing"
	fi
	want_sectors=$(($(blockdev --getsize64 "${dev[$d]}") / 512))
	got="$(bb_key "$be/sectors") $(bb_key "$be/sector-size") $(bb_key "$be/physical-sector-size") $(bb_key "$be/info")"
	want="$want_sectors $(cat "$q/logical_block_size") $(cat "$q/physical_block_size") 0"
	if [[ $got == "$want" ]]; then
		pass "$d: sectors, sector-size, physical-sector-size, info are dom0's device's ($got)"
	else
		fail "$d: sectors, sector-size, physical-sector-size, info" "got '$got', want '$want'"
	fi
	[[ $(cat "$q/write_cache") == "write back" ]] && wc=1 || wc=0
	if [[ $(bb_key "$be/feature-flush-cache") == "$wc" ]]; then
		pass "$d: feature-flush-cache $wc as dom0's device has $(cat "$q/write_cache")"
	else
		fail "$d: feature-flush-cache" "'$(bb_key "$be/feature-flush-cache")', device has $(cat "$q/write_cache")"
	fi
	[[ $(cat "$q/discard_max_bytes") -gt 0 ]] && dsc=1 || dsc=0
	fd=$(bb_key "$be/feature-discard")
	if [[ ${fd:-0} == "$dsc" ]]; then
		pass "$d: feature-discard ${fd:-absent} as dom0's device (discard_max_bytes $(cat "$q/discard_max_bytes"))"
	else
		fail "$d: feature-discard" "'$fd', dom0's device discard_max_bytes $(cat "$q/discard_max_bytes")"
	fi
	if [[ $dsc == 1 ]]; then
		if xenstore-exists "$be/discard-granularity" 2>/dev/null && xenstore-exists "$be/discard-alignment" 2>/dev/null; then
			pass "$d: discard-granularity $(bb_key "$be/discard-granularity"), discard-alignment $(bb_key "$be/discard-alignment")"
		else
			fail "$d: discard-granularity and discard-alignment present with feature-discard"
		fi
	fi
	ind=$(bb_key "$be/feature-max-indirect-segments") ord=$(bb_key "$be/max-ring-page-order")
	mq=$(bb_key "$be/multi-queue-max-queues") per=$(bb_key "$be/feature-persistent")
	if [[ $per == 1 && ${ind:-0} -gt 11 && ${ord:-0} -ge 1 && ${mq:-0} -ge 2 ]]; then
		pass "$d: persistent $per, indirect $ind segments, ring order <= $ord, queues <= $mq"
	else
		fail "$d: persistent, indirect > 11, ring order >= 1, queues >= 2" \
			"feature-persistent '$per', indirect '$ind', max-ring-page-order '$ord', multi-queue-max-queues '$mq'"
	fi
	nq=$(bb_key "$fe/multi-queue-num-queues")
	if [[ $nq == 2 ]] && xenstore-exists "$fe/queue-1/event-channel" 2>/dev/null; then
		pass "$d: the 2-vCPU guest connected 2 queues (queue-0, queue-1)"
	else
		fail "$d: the guest connected 2 queues" "multi-queue-num-queues '$nq', see tests/$TEST_NAME/$d-frontend.xenstore"
	fi
	pd=$(printf '%x:%x' "$(stat -L -c '0x%t' "${dev[$d]}")" "$(stat -L -c '0x%T' "${dev[$d]}")")
	if [[ $(cat "$sys/physical_device" 2>/dev/null) == "$pd" && $(cat "$sys/mode" 2>/dev/null) == w ]]; then
		pass "$d: sysfs physical_device $pd, mode w"
	else
		fail "$d: sysfs physical_device and mode" \
			"'$(cat "$sys/physical_device" 2>&1)' (want $pd), '$(cat "$sys/mode" 2>&1)' (want w)"
	fi
done

for d in xvda xvdb; do
	declare -A s0=()
	for c in rd_req wr_req rd_sect wr_sect oo_req; do s0[$c]=$(bb_stat "$domid" "$d" "$c"); done
	gcheck "$d: guest reads dom0's pattern at 48 MiB" "$g" 60 pcheck "$d" 48 4 dom0
	gcheck "$d: fio random 4k-1m writes, iodepth 64, 2 jobs, verified" "$g" 300 \
		vfio "$d" --rw=randwrite --bsrange=4k-1m --iodepth=64 --numjobs=2 \
		--size=8m --offset_increment=8m
	gcheck "$d: fio random 4k writes, iodepth 1, verified" "$g" 300 \
		vfio "$d" --rw=randwrite --bs=4k --iodepth=1 --size=2m --offset=16m
	gcheck "$d: fio sequential 1m writes, iodepth 16, verified" "$g" 300 \
		vfio "$d" --rw=write --bs=1m --iodepth=16 --size=8m --offset=20m
	gcheck "$d: guest writes its pattern at 32 MiB" "$g" 120 pwrite "$d" 32 8 guest
	gcheck "$d: guest reads its pattern back" "$g" 60 pcheck "$d" 32 8 guest
	bad=
	for c in rd_req wr_req rd_sect wr_sect oo_req; do
		s1=$(bb_stat "$domid" "$d" "$c")
		[[ -n $s1 && -n ${s0[$c]} ]] || { bad+=" $c missing"; continue; }
		note "$d statistics/$c ${s0[$c]} -> $s1"
		case $c in
		# fio wrote and read back 26 MiB, the patterns are 4 MiB read
		# and 8 MiB written and read; in sectors.
		rd_sect) [[ $((s1 - s0[$c])) -ge $(((4 + 26 + 8) * 2048)) ]] || bad+=" $c +$((s1 - s0[$c]))" ;;
		wr_sect) [[ $((s1 - s0[$c])) -ge $(((26 + 8) * 2048)) ]] || bad+=" $c +$((s1 - s0[$c]))" ;;
		rd_req | wr_req) [[ $((s1 - s0[$c])) -ge 100 ]] || bad+=" $c +$((s1 - s0[$c]))" ;;
		esac
	done
	if [[ -z $bad ]]; then
		pass "$d: statistics rd_req, wr_req, rd_sect, wr_sect grew by at least the I/O done"
	else
		fail "$d: statistics" "$bad"
	fi
	bb_no_eoi_delay "$d: the frontend's events were never held back as spurious" "$domid" "$d"
done

gsh "$g" 10 exit
if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "still there after 60 s"
	guest_destroy "$g"
fi
for d in xvda xvdb; do
	bb_pcheck "$d: dom0 finds the guest's pattern at 32 MiB" "${back[$d]}" 32 8 guest
	bb_pcheck "$d: dom0's own pattern at 48 MiB intact" "${back[$d]}" 48 4 dom0
	bb_zero "$d: untouched 28-32 MiB still zero" "${back[$d]}" 28 4
	bb_zero "$d: untouched 52-64 MiB still zero" "${back[$d]}" 52 12
done
