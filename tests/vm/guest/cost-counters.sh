#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# cost-counters.sh setup | arm | disarm | snap IRQ_ERE [last]: the
# counters of a backend's cost, in the domain that runs the backend (dom0,
# or a driver domain: a guest's initramfs has this file as
# /lib/cost-counters.sh).  POSIX sh, for busybox.  Used by
# tests/vm/lib/bench-lib.sh.
#
# setup: kprobes, defined but not armed, on the grant-table functions
# both copies of each backend use (gnttab_map_refs, gnttab_unmap_refs,
# gnttab_batch_copy: one hypercall each) and on notify_remote_via_irq;
# task names are not recorded.
#
# arm: a histogram trigger on each, which arms the probe and counts
# calls and the grant operations they carry from zero, writing nothing to
# the trace buffer.  Keyed by CPU: keyed by pid, the table filled up in a
# long run (softirqs count under whatever process they interrupt, and
# every awk the bench starts is one), and the hits of new pids were
# dropped.  disarm: the triggers removed, which disarms the probes: a
# probe's handler runs in every call, and the copy that calls a probed
# function more would pay more for it in a window that times the work.
#
# snap IRQ_ERE [last]: the counters now, "NAME=VALUE" words: cpu_us
# (the time all CPUs were not idle, below), at_ms (the domain's
# monotonic clock then, to time the window by)
# and the work the backends have done, read at the same instant (vbd_sect:
# sectors the vbds read and wrote; vif_rx_bytes and vif_tx_bytes: bytes
# the vifs took from and gave to their guests), MAP_calls and MAP_ops
# for each probe (0 while disarmed), irqs (the /proc/interrupts lines
# whose name matches IRQ_ERE).
tr=/sys/kernel/tracing
# shellcheck disable=SC2016 # $argN are the kprobe's own
probes='map gnttab_map_refs n=$arg4:u32
unmap gnttab_unmap_refs n=$arg4:u32
copy gnttab_batch_copy n=$arg2:u32
notify notify_remote_via_irq'

# triggers PREFIX: each probe's name and its trigger, PREFIX before it
# ("!" removes a trigger).
triggers() {
	echo "$probes" | while read -r name fn arg; do
		vals=hitcount
		[ -z "$arg" ] || vals=hitcount,n
		echo "$name $1hist:keys=common_cpu:vals=$vals"
	done
}

case ${1:-} in
setup)
	[ -e $tr/kprobe_events ] || mount -t tracefs nodev $tr || exit 1
	# Enabling an event also starts the recording of task names, which
	# hooks the scheduler's tracepoints: every arm and disarm would then
	# live-patch its hottest code (ttwu_do_activate, __schedule).  A
	# dom0 died of that patching on a busy host (HISTORY.md, "int3");
	# the histograms are keyed by CPU and need no names.
	echo 0 >$tr/options/record-cmd || exit 1
	echo "$probes" | while read -r name fn arg; do
		echo "p:xdbcost/$name $fn $arg" >>$tr/kprobe_events || exit 1
	done
	;;
arm | disarm)
	prefix=
	[ "$1" = arm ] || prefix=!
	# Every trigger is tried: a disarm after a partial arm still
	# removes those that were set.
	triggers "$prefix" | {
		bad=0
		while read -r name trigger; do
			echo "$trigger" >"$tr/events/xdbcost/$name/trigger" || bad=1
		done
		exit $bad
	}
	;;
snap)
	# The CPU time is the domain's time less its idle time: the CPUs
	# online times the time elapsed (timer_list's clock, in ns), less the
	# idle and iowait time of /proc/stat (measured at each idle entry and
	# exit, shown in USER_HZ: 10 ms) and its steal time (Xen's count of
	# the time a vCPU was ready to run but another ran on its CPU, taken
	# at each tick).  Its user, system, irq and softirq parts are not
	# used: each tick charges a whole tick to whatever runs when it
	# comes, which misses short bursts, and with the instruction-counting
	# clock (tests/vm/run --icount) the tick fell in step with the I/O
	# and gave one blkback less dom0 CPU than its ring thread had.
	# Read first, or with "last" after the rest: the counting window
	# then leaves out what this script itself costs.
	# One awk for all, so that the work and the CPU time are read
	# together; a vif's rx is what its guest sent.
	cpu() {
		set -- /proc/uptime /proc/stat
		for f in /sys/bus/xen-backend/devices/vbd-*/statistics/rd_sect \
			/sys/bus/xen-backend/devices/vbd-*/statistics/wr_sect \
			/sys/class/net/vif*/statistics/rx_bytes \
			/sys/class/net/vif*/statistics/tx_bytes; do
			[ ! -e "$f" ] || set -- "$@" "$f"
		done
		awk 'BEGIN {
				while ((getline l <"/proc/timer_list") > 0)
					if (l ~ /^now at [0-9]+ nsecs/) { split(l, w, " "); now = w[3] / 1000; break }
				close("/proc/timer_list")
			}
			FILENAME == "/proc/uptime" { if (!now) now = $1 * 1000000; next }
			FILENAME == "/proc/stat" {
				if ($1 == "cpu") idle = ($5 + $6 + $9) * 10000
				else if ($1 ~ /^cpu[0-9]/) cpus++
				next
			}
			FILENAME ~ /_sect$/ { sect += $1; next }
			FILENAME ~ /rx_bytes$/ { rx += $1; next }
			{ tx += $1 }
			END { printf "cpu_us=%.0f at_ms=%.0f vbd_sect=%.0f vif_rx_bytes=%.0f vif_tx_bytes=%.0f ", cpus * now - idle, now / 1000, sect, rx, tx }' "$@"
	}
	[ "${3:-}" = last ] || cpu
	for name in map unmap copy notify; do
		awk -v name="$name" '/hitcount:/ {
			for (i = 1; i < NF; i++) {
				if ($i == "hitcount:") h += $(i + 1)
				if ($i == "n:") n += $(i + 1)
			}
		} END { printf "%s_calls=%d %s_ops=%d ", name, h, name, n }' \
			"$tr/events/xdbcost/$name/hist" 2>/dev/null ||
			printf '%s_calls=0 %s_ops=0 ' "$name" "$name"
	done
	ERE=${2:-^$} awk '$NF ~ ENVIRON["ERE"] {
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
	} END { printf "irqs=%d ", n }' /proc/interrupts
	[ "${3:-}" != last ] || cpu
	echo
	;;
*)
	echo "usage: $0 setup | arm | disarm | snap IRQ_ERE [last]" >&2
	exit 2
	;;
esac
