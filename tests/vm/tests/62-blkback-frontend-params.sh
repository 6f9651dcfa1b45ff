#!/bin/bash
# vm-timeout: 750
# xen-blkback against blkfronts that ask for different things (the guest's
# xen_blkfront module parameters, given on its command line): persistent
# grants off and on, indirect descriptors off (max_indirect_segments=0)
# and on, a single-page ring and a 4-page ring, one queue and two.
# For each: the disk connects; the frontend's requests (feature-persistent,
# ring-page-order with ring-ref0..N, multi-queue-num-queues) are what the
# parameters ask within what the backend offers; the guest's queue limits
# show indirect descriptors in use or not (max_segments above 11 or 11);
# with persistent grants the guest's pages stay mapped by dom0 after the
# I/O, without them only the rings are (Xen's grant table dump); fio with
# crc32c verify and a guest pattern that dom0 then finds on the RAM disk.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"

cleanup() {
	guest_destroy bb-params
	rmmod brd 2>/dev/null
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT
bb_brd 1 64 || { fail "brd RAM disk /dev/ram0"; exit 1; }

# config NAME PERSISTENT INDIRECT ORDER QUEUES: one guest with those
# blkfront parameters (2 vCPUs) on /dev/ram0.
config() {
	local name=$1 per=$2 ind=$3 ord=$4 nq=$5 g=bb-params
	local domid be fe want got n
	note "--- $name: feature_persistent=$per max_indirect_segments=$ind max_ring_page_order=$ord max_queues=$nq"
	bb_guest "$g" --cmdline \
		"xen_blkfront.feature_persistent=$per xen_blkfront.max_indirect_segments=$ind xen_blkfront.max_ring_page_order=$ord xen_blkfront.max_queues=$nq" \
		'memory=512' 'vcpus=2' "disk=['phy:/dev/ram0,xvda,w']" || return 1
	domid=$(guest_domid "$g")
	be=$(bb_be "$domid" xvda) fe=$(bb_fe "$domid" xvda)
	xenstore-ls -f "$be" >"$TEST_LOGDIR/$name-backend.xenstore" 2>&1
	xenstore-ls -f "$fe" >"$TEST_LOGDIR/$name-frontend.xenstore" 2>&1
	bb_connected "$name: connected" "$domid" xvda

	got=$(bb_key "$fe/feature-persistent")
	if [[ $got == "$per" && $(bb_key "$be/feature-persistent") == 1 ]]; then
		pass "$name: frontend feature-persistent $got, backend offers 1"
	else
		fail "$name: feature-persistent" "frontend '$got' (want $per), backend '$(bb_key "$be/feature-persistent")'"
	fi
	# Multi-page rings: ring-page-order and ring-ref0..N-1 (per queue
	# directory with several queues); a single page: ring-ref.
	want=$ord
	[[ $(bb_key "$be/max-ring-page-order") -lt $want ]] && want=$(bb_key "$be/max-ring-page-order")
	n=$nq
	[[ $(bb_key "$be/multi-queue-max-queues") -lt $n ]] && n=$(bb_key "$be/multi-queue-max-queues")
	local qdir=$fe
	[[ $n -gt 1 ]] && qdir=$fe/queue-0
	if [[ $want -eq 0 ]]; then
		xenstore-exists "$qdir/ring-ref" 2>/dev/null && got=1-page || got=missing
		[[ $(bb_key "$fe/ring-page-order") =~ ^0?$ ]] || got="ring-page-order $(bb_key "$fe/ring-page-order")"
		want=1-page
	else
		got="order $(bb_key "$fe/ring-page-order")"
		xenstore-exists "$qdir/ring-ref$(((1 << want) - 1))" 2>/dev/null || got+=", no ring-ref$(((1 << want) - 1))"
		want="order $want"
	fi
	if [[ $got == "$want" ]]; then
		pass "$name: ring of $want"
	else
		fail "$name: ring of $want" "got $got (see tests/$TEST_NAME/$name-frontend.xenstore)"
	fi
	got=$(bb_key "$fe/multi-queue-num-queues")
	if [[ ${got:-1} == "$n" ]]; then
		pass "$name: $n queue(s)"
	else
		fail "$name: $n queue(s)" "multi-queue-num-queues '$got'"
	fi
	# Indirect: blkfront uses min(its parameter, the backend's offer),
	# and none at all at 11 or less.
	want=$(bb_key "$be/feature-max-indirect-segments")
	[[ ${want:-0} -gt $ind ]] && want=$ind
	[[ $want -le 11 ]] && want=11
	gsh "$g" 10 cat /sys/block/xvda/queue/max_segments
	if [[ $GOUT == "$want"* ]]; then
		pass "$name: guest's max_segments $want (indirect $([[ $want -gt 11 ]] && echo on || echo off))"
	else
		fail "$name: guest's max_segments $want" "got '$GOUT'"
	fi

	gcheck "$name: fio random 4k-1m writes, iodepth 32, verified" "$g" 300 \
		vfio xvda --rw=randwrite --bsrange=4k-1m --iodepth=32 --size=8m --offset=0
	gcheck "$name: fio sequential 1m reads after 1m writes, iodepth 8, verified" "$g" 300 \
		vfio xvda --rw=write --bs=1m --iodepth=8 --size=8m --offset=8m
	gcheck "$name: guest writes its pattern at 16 MiB" "$g" 120 pwrite xvda 16 4 "$name"
	gcheck "$name: guest reads it back" "$g" 60 pcheck xvda 16 4 "$name"
	n=$(bb_grants)
	note "$name: $n grant entries in use after the I/O"
	# Rings (at most 2 queues x 16 pages) + console + xenstore: 34. The
	# I/O above touched far more pages than that.
	if [[ $per == 1 && $n -gt 64 ]] || [[ $per == 0 && $n -le 34 ]]; then
		pass "$name: $n grants still mapped after the I/O, as persistent grants $([[ $per == 1 ]] && echo on || echo off) make it"
	else
		fail "$name: grants still mapped after the I/O" "$n with feature_persistent=$per (see tests/$TEST_NAME/xen-grants.log)"
	fi
	gsh "$g" 10 exit
	guest_shutdown "$g" 60 || { fail "$name: xl shutdown -w" "still there after 60 s"; guest_destroy "$g"; }
	bb_pcheck "$name: dom0 finds the guest's pattern on /dev/ram0" /dev/ram0 16 4 "$name"
}

# With persistent grants blkfront allocates a page for every grant a full
# ring can use (requests x (segments + indirect pages) x queues): 64 x 129 x
# 2 pages for "full" is 64 MiB, which the guest's 512 MiB must hold.
config plain 0 0 0 1
config full 1 128 1 2
config mixed 1 0 2 2
config nopersist 0 256 4 2
