#!/bin/bash
# vm-timeout: 900
# bench-boot: --unloaded xen-blkback
# xen-blkback, ours against the kernel's own: the module is left unloaded
# at bring-up, then each copy is loaded in turn (with the guest destroyed
# and the module removed in between), in three rounds whose order flips
# so neither copy always goes first. A PV guest runs fio on a RAM disk (brd,
# filled first so that reads touch real pages): 4 KiB random reads and
# writes at iodepth 1 and 32 (IOPS), 1 MiB sequential reads and writes at
# iodepth 8 (MB/s), five seconds each (TCG is slow; from one round to the
# next a figure moves by up to 15%, hence three). The same jobs on the
# RAM disk in dom0 give the limit. Each copy's best round counts; METRIC
# lines give both figures and the ratio ours/in-tree (> 1: ours faster).
# If ours is not built, the kernel's is measured alone and the ratio
# checks fail.
set -uo pipefail
# shellcheck source=../../vm/lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=../../vm/lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"

ours=$MODDIR/xen-blkback/xen-blkback.ko
g=bb-bench
secs=5
# name rw bs iodepth unit
jobs=(
	"randread-4k-qd1 randread 4k 1 IOPS"
	"randread-4k-qd32 randread 4k 32 IOPS"
	"randwrite-4k-qd1 randwrite 4k 1 IOPS"
	"randwrite-4k-qd32 randwrite 4k 32 IOPS"
	"read-1m-qd8 read 1m 8 MB/s"
	"write-1m-qd8 write 1m 8 MB/s"
)
cleanup() {
	guest_destroy "$g"
	rmmod brd 2>/dev/null
	true
}
# shellcheck disable=SC2154 # rc is set by the trap itself
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

# load COPY: ours or in-tree; check that copy is the live one.
load() {
	if [[ $1 == ours ]]; then insmod "$ours"; else modprobe xen-blkback; fi || return 1
	local live want=none
	live=$(cat /sys/module/xen_blkback/srcversion 2>/dev/null || echo in-tree)
	[[ -f $ours ]] && want=$(modinfo -F srcversion "$ours")
	[[ ($1 == ours && $live == "$want") || ($1 == in-tree && $live != "$want") ]]
}
# dom0_irqs: events the vbd's event channels brought dom0, over all CPUs
# (both copies name their interrupt blkif-backend).
dom0_irqs() {
	awk '/blkif-backend/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts
}
# figure UNIT "IOPS KIB/S": the number that counts for that unit.
figure() {
	local iops kib
	read -r iops kib <<<"$2"
	if [[ $1 == IOPS ]]; then echo "$iops"; else awk "BEGIN{printf \"%.1f\", $kib / 1024}"; fi
}
# keep KEY VALUE: the best (highest) value per key.
declare -A best
keep() {
	if [[ -z ${best[$1]:-} ]] || awk "BEGIN{exit !($2 > ${best[$1]})}"; then best[$1]=$2; fi
}

bb_brd 1 64 || { fail "brd RAM disk /dev/ram0"; exit 1; }
dd if=/dev/urandom of=/dev/ram0 bs=1M count=64 oflag=direct status=none

copies=(ours in-tree)
if [[ ! -f $ours ]]; then
	fail "our xen-blkback is built" "$ours missing: measuring the in-tree copy alone"
	copies=(in-tree)
fi
for round in 1 2 3; do
	order=("${copies[@]}")
	[[ $round == 2 && ${#copies[@]} == 2 ]] && order=(in-tree ours)
	for copy in "${order[@]}"; do
		if ! load "$copy"; then
			fail "load $copy xen-blkback (round $round)"
			rmmod xen_blkback 2>/dev/null
			continue
		fi
		if bb_guest "$g" "disk=['phy:/dev/ram0,xvda,w']"; then
			d=$(guest_domid "$g") be=$(bb_be "$d" xvda) fe=$(bb_fe "$d" xvda)
			note "round $round $copy: persistent back $(bb_key "$be/feature-persistent") front $(bb_key "$fe/feature-persistent"), ring order $(bb_key "$fe/ring-page-order"), queues $(bb_key "$fe/multi-queue-num-queues") (empty: the default)"
			for j in "${jobs[@]}"; do
				read -r name rw bs qd unit <<<"$j"
				d0=$(dom0_irqs)
				if GSH_QUIET=$((secs + 1)) gsh "$g" $((secs * 3 + 30)) fioperf xvda "$rw" "$bs" "$qd" "$secs" &&
					[[ $GOUT =~ ^[0-9]+\ [0-9]+ ]]; then
					v=$(figure "$unit" "$GOUT")
					ios=$(($(cut -d' ' -f1 <<<"$GOUT") * (secs + 1)))
					note "round $round $copy $name: $v $unit, dom0 events/IO $(awk "BEGIN{printf \"%.2f\", ($(dom0_irqs) - $d0) / $ios}")"
					keep "$copy/$name" "$v"
				else
					fail "$copy round $round: fio $name in the guest" "$GOUT"
				fi
			done
			gsh "$g" 10 exit
		fi
		guest_destroy "$g"
		n=0
		while compgen -G '/sys/bus/xen-backend/devices/vbd-*' >/dev/null && [[ $n -lt 50 ]]; do
			sleep 0.2
			n=$((n + 1))
		done
		rmmod xen_blkback || fail "rmmod $copy xen-blkback (round $round)"
	done
done

# The limit: the same jobs on the RAM disk in dom0.
for j in "${jobs[@]}"; do
	read -r name rw bs qd unit <<<"$j"
	out=$(fio --name=perf --filename=/dev/ram0 --direct=1 --ioengine=libaio --rw="$rw" \
		--bs="$bs" --iodepth="$qd" --runtime="$secs" --time_based --ramp_time=1 \
		--output-format=terse --terse-version=3 | awk -F';' '{ printf "%d %d\n", $8 + $49, $7 + $48 }')
	best[dom0/$name]=$(figure "$unit" "$out")
done

for j in "${jobs[@]}"; do
	read -r name rw bs qd unit <<<"$j"
	o=${best[ours/$name]:-} i=${best[in-tree/$name]:-} l=${best[dom0/$name]:-}
	if [[ -n $o && -n $i ]]; then
		ratio=$(awk "BEGIN{printf \"%.2f\", $o / $i}")
		echo "METRIC: blkback $name: ours $o $unit, in-tree $i $unit, speed ratio ours/in-tree $ratio (brd in dom0: $l $unit)"
		pass "benchmark $name measured for both copies"
	else
		echo "METRIC: blkback $name: ours ${o:-not measured}, in-tree ${i:-not measured} $unit, speed ratio ours/in-tree n/a (brd in dom0: $l $unit)"
		fail "benchmark $name ratio ours/in-tree" "ours ${o:-not measured}, in-tree ${i:-not measured}"
	fi
done
