#!/bin/bash
# vm-timeout: 300
# bench-boot: --unloaded xen-gntdev --no-toolstack
# xen-gntdev, ours against the kernel's own, in one boot: the module is
# left unloaded at bring-up (its bench-boot line says --unloaded xen-gntdev
# --no-toolstack), then each copy is loaded in turn and
# build/tests/gntdev_bench measures it.  Five rounds, the order flipping
# each time so neither copy always runs first (single runs of a copy
# differ by several percent: map_64 17.1 to 18.2 us/grant in one boot).
# METRIC lines give each copy's median and range and the ratio of the
# medians with the range of the per-round ratios; > 1 means ours is
# faster.
set -uo pipefail
# shellcheck source=../../vm/lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=../../vm/lib/bench-lib.sh
. "$REPO/tests/vm/lib/bench-lib.sh"

bench=$REPO/build/tests/gntdev_bench
ours=$MODDIR/xen-gntdev/xen-gntdev.ko
modprobe xen-gntalloc || { fail "modprobe xen-gntalloc"; exit 1; }
[[ -f $ours ]] || { fail "our xen-gntdev is built" "$ours missing"; exit 1; }

# load COPY: ours or in-tree, proven live by build-id.
load() { load_copy "$1" xen-gntdev; }

declare -A units
for round in 1 2 3 4 5; do
	order="ours in-tree"
	[[ $((round % 2)) == 0 ]] && order="in-tree ours"
	for copy in $order; do
		bench_dom0_sound "$copy round $round" || exit 1
		if ! load "$copy"; then
			fail "load $copy xen-gntdev (round $round)"
			rmmod xen_gntdev 2>/dev/null
			continue
		fi
		# On the same vCPU for both copies, wherever the scheduler would go.
		out=$(taskset -c 1 "$bench" 2 2>&1)
		rc=$?
		echo "$out" | sed "s/^\(PASS\|FAIL\): gntdev-bench: /\1: gntdev-bench: $copy round $round: /"
		[[ $rc -le 1 ]] || fail "gntdev_bench on $copy" "exited $rc"
		rmmod xen_gntdev || fail "rmmod $copy xen-gntdev"
		while read -r _ name value unit; do
			bench_keep "$copy" "$name" "$round" "$value"
			units[$name]=$unit
		done < <(echo "$out" | grep '^BENCH: ')
	done
done

for name in map_1 map_64 copy_from_foreign copy_to_foreign; do
	unit=${units[$name]:-?} kind=rate
	[[ $unit == us/grant ]] && kind="time"
	bench_metric gntdev "$name" "$unit" "$kind"
done
