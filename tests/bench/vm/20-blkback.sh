#!/bin/bash
# vm-timeout: 9000
# bench-boot: --unloaded xen-blkback --icount 2
# xen-blkback, ours against the kernel's own: the module is left unloaded
# at bring-up, then each copy is loaded in turn (with the guest destroyed
# and the module removed in between), in six rounds ordered ours/in-tree,
# in-tree/ours, in-tree/ours, ours/in-tree, ours/in-tree, in-tree/ours, so
# that a drift over the boot weighs on both copies alike. A PV guest runs fio on a RAM disk (brd,
# filled first so that reads touch real pages): 4 KiB random reads and
# writes at iodepth 1 and 32 (IOPS), 1 MiB sequential reads and writes at
# iodepth 8 (MB/s), each run until stopped and measured over five seconds
# of steady state (measure). The vCPUs, the ring's thread and its
# interrupt are pinned the same way for both copies; unpinned, rounds moved
# by up to 46% with where Xen placed them. The same jobs on the RAM disk
# in dom0, run first, give the limit. Each copy's median round counts
# (on the host's clock, pinned, one round of ours against the next of
# in-tree still differed by -10% to +19%); METRIC lines give both
# figures and the ratio ours/in-tree (> 1: ours faster). Each round also notes the ring
# thread's CPU time per I/O and dom0's (bench-lib.sh), the backend's cost.
# The bed runs on QEMU's instruction-counting clock (--icount 2): on the
# host's clock a copy's windows of 4 KiB reads at iodepth 1 counted
# 5382-8606 I/Os in one boot, on this one 12284-12370 (HISTORY.md).
# If ours is not built, the kernel's is measured alone and the ratio
# checks fail.
set -uo pipefail
# shellcheck source=../../vm/lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=../../vm/lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"
# shellcheck source=../../vm/lib/bench-lib.sh
. "$REPO/tests/vm/lib/bench-lib.sh"

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

# load COPY: ours or in-tree, proven live by build-id.
load() { load_copy "$1" xen-blkback; }
# ring_ns: CPU time the ring's thread has used (ns).
ring_ns() {
	awk '{ print $1 }' "/proc/$ring_pid/schedstat" 2>/dev/null || echo 0
}
# figure UNIT "IOPS KIB/S": the number that counts for that unit (of
# fio's own output, for the limit in dom0).
figure() {
	local iops kib
	read -r iops kib <<<"$2"
	if [[ $1 == IOPS ]]; then echo "$iops"; else awk "BEGIN{printf \"%.1f\", $kib / 1024}"; fi
}
# bytes SIZE: fio's size (4k, 1m) in bytes.
bytes() {
	case $1 in
	*k) echo $((${1%k} * 1024)) ;;
	*m) echo $((${1%m} * 1048576)) ;;
	*) echo "$1" ;;
	esac
}
# sectors: the sectors the vbd has read and written (its statistics,
# which both copies keep under the same names).
sectors() {
	local r w
	r=$(bb_stat "$d" xvda rd_sect) w=$(bb_stat "$d" xvda wr_sect)
	echo $((${r:-0} + ${w:-0}))
}
# now_us: dom0's clock in microseconds.
now_us() { echo "${EPOCHREALTIME/./}"; }
# measure COPY ROUND NAME RW BS QD UNIT: one fio job in the guest, run
# until stopped, and over a window of SECS seconds of steady I/O its
# figure and its cost, the I/Os taken from the vbd's own sector counts,
# then over a second such window its grant operations and notifications
# (bench_count_steady: the probes that count them are armed only there).
# dom0 waits for those counts to move (fio's I/O has begun) and opens the
# window 1 s later; after it, fio is stopped, which must find it still
# running.  Counted around the whole guest command instead, the agent's
# round trip and fio's start weighed on the figure per I/O as much as the
# backend did; a job of fixed length missed the I/O altogether on a busy
# host, where the guest's agent and dom0's counting took longer than the
# job (3-10 s for each agent command).
measure() {
	local copy=$1 round=$2 name=$3 rw=$4 bs=$5 qd=$6 unit=$7 s0 s1 c0 c1 t0 t1 ios v c n scale
	if ! gsh "$g" 30 "rm -f /tmp/fio.pid; (exec fio --name=perf --filename=/dev/xvda --direct=1 --ioengine=libaio --rw=$rw --bs=$bs --iodepth=$qd --runtime=$BENCH_UNTIL_STOPPED --time_based --output=/dev/null) </dev/null >/dev/null 2>&1 & echo \$! >/tmp/fio.pid"; then
		fail "$copy round $round: fio $name starts in the guest" "$GOUT"
		return 1
	fi
	s0=$(sectors) n=0
	while [[ $(sectors) == "$s0" && $n -lt 300 ]]; do
		sleep 0.2
		n=$((n + 1))
	done
	[[ $n -lt 300 ]] || fail "$copy round $round: fio $name does I/O within 60 s"
	sleep 1
	bench_cost_begin blkif-backend
	s0=$(sectors) c0=$(ring_ns) t0=$(now_us)
	sleep "$secs"
	t1=$(now_us) c1=$(ring_ns) s1=$(sectors)
	ios=$(((s1 - s0) * 512 / $(bytes "$bs")))
	bench_cost_end "$copy" "$name" "$round" "$ios"
	bench_count_steady "$copy" "$name" "$round" "$secs" vbd_sect $(($(bytes "$bs") / 512))
	# SIGTERM: fio waits for what it has in flight, then ends (exit 1:
	# it did not; 2: it had ended already).
	gsh "$g" 90 "p=\$(cat /tmp/fio.pid); kill \$p || exit 2; n=0; while [ -e /proc/\$p ] && [ \"\$(awk '{ print \$3 }' /proc/\$p/stat 2>/dev/null)\" != Z ]; do n=\$((n + 1)); [ \$n -le 300 ] || exit 1; sleep 0.2; done"
	case $? in
	0) ;;
	2) fail "$copy round $round: fio $name ran through the window" "$GOUT"
		return 1 ;;
	*) fail "$copy round $round: fio $name ends when stopped" "$GOUT" ;;
	esac
	[[ $ios -gt 0 ]] || return 1
	# I/Os per second, or MiB per second (fio's "MB/s").
	scale=1
	[[ $unit == IOPS ]] || scale="$(bytes "$bs") / 1048576"
	v=$(awk "BEGIN { printf \"%.1f\", $ios * $scale * 1000000 / ($t1 - $t0) }")
	c=$(_bench_per $((c1 - c0)) $((ios * 1000)))
	note "round $round $copy $name: $v $unit, $ios I/Os in the ${secs} s window, ring thread CPU $c us/IO"
	bench_keep "$copy" "$name/ring-us" "$round" "$c"
	bench_keep "$copy" "$name" "$round" "$v"
}

# Placement: dom0's vCPU n on CPU n, the guest on CPU 1, the ring's thread
# and interrupt on dom0's vCPU 0 (the bed has 2 CPUs for 3 vCPUs).
if ! { xl vcpu-pin Domain-0 0 0 && xl vcpu-pin Domain-0 1 1; }; then
	fail "pin dom0's vCPUs"
fi
# pin_ring DOMID: the vbd's thread (its pid in ring_pid) and interrupt to
# dom0's vCPU 0.
ring_pid=
pin_ring() {
	local p comm irq
	ring_pid=
	for p in /proc/[0-9]*; do
		comm=$(cat "$p/comm" 2>/dev/null) || continue
		[[ $comm == "$1".xvda* || $comm == blkback."$1".xvda* ]] || continue
		ring_pid=${p#/proc/}
		taskset -p 1 "$ring_pid" >/dev/null || return 1
	done
	[[ -n $ring_pid ]] || return 1
	for irq in $(awk -F: '/blkif-backend/ { print $1 }' /proc/interrupts); do
		echo 1 >"/proc/irq/${irq// /}/smp_affinity" || return 1
	done
}

bb_brd 1 64 || { fail "brd RAM disk /dev/ram0"; exit 1; }
dd if=/dev/urandom of=/dev/ram0 bs=1M count=64 oflag=direct status=none

# The limit: the same jobs on the RAM disk in dom0 (and a warm-up).
declare -A limit
for j in "${jobs[@]}"; do
	read -r name rw bs qd unit <<<"$j"
	out=$(fio --name=perf --filename=/dev/ram0 --direct=1 --ioengine=libaio --rw="$rw" \
		--bs="$bs" --iodepth="$qd" --runtime="$secs" --time_based --ramp_time=1 \
		--output-format=terse --terse-version=3 | awk -F';' '{ printf "%d %d\n", $8 + $49, $7 + $48 }')
	limit[$name]="$(figure "$unit" "$out") $unit"
done

bench_cost_setup || fail "kprobes counting grant operations and notifications"
copies=(ours in-tree)
if [[ ! -f $ours ]]; then
	fail "our xen-blkback is built" "$ours missing: measuring the in-tree copy alone"
	copies=(in-tree)
fi
for round in 1 2 3 4 5 6; do
	order=("${copies[@]}")
	[[ $round =~ ^[236]$ && ${#copies[@]} == 2 ]] && order=(in-tree ours)
	for copy in "${order[@]}"; do
		bench_dom0_sound "$copy round $round" || exit 1
		if ! load "$copy"; then
			fail "load $copy xen-blkback (round $round)"
			rmmod xen_blkback 2>/dev/null
			continue
		fi
		if bb_guest "$g" "disk=['phy:/dev/ram0,xvda,w']" 'cpus="1"'; then
			d=$(guest_domid "$g") be=$(bb_be "$d" xvda) fe=$(bb_fe "$d" xvda)
			pin_ring "$d" || fail "pin the ring of $copy (round $round)"
			bench_cost_idle "$copy" "$round" "$secs"
			note "round $round $copy: persistent back $(bb_key "$be/feature-persistent") front $(bb_key "$fe/feature-persistent"), ring order $(bb_key "$fe/ring-page-order"), queues $(bb_key "$fe/multi-queue-num-queues") (empty: the default)"
			for j in "${jobs[@]}"; do
				read -r name rw bs qd unit <<<"$j"
				measure "$copy" "$round" "$name" "$rw" "$bs" "$qd" "$unit"
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

bench_idle_metrics blkback
for j in "${jobs[@]}"; do
	read -r name rw bs qd unit <<<"$j"
	note "$name: brd in dom0 ${limit[$name]:-not measured}"
	bench_metric blkback "$name" "$unit" rate
	bench_metric blkback "$name/ring-us" "ring thread CPU us/IO" cost
	bench_cost_metrics blkback "$name" IO
done
