#!/bin/bash
# vm-timeout: 420
# /dev/xen/gntdev under load (tests/dom0/gntdev_stress.c), on pages a PV
# guest grants to dom0 (tests/guest/gntshare.c, as in 30-gntdev-api):
# thousands of map/mmap/unmap cycles, hundreds of processes SIGKILLed while
# mapping and while mapped, then the guest destroyed while dom0 processes
# hold its grants mapped. After each phase the driver's counters and dom0's
# memory are back to their baseline; the destroyed domain must leave `xl
# list` once the processes exit (no zombie); the bed fails the test on any
# kernel WARNING/BUG/Oops in dom0's log.
# shellcheck source=../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

stats=/sys/kernel/debug/xen-gntdev/stats
args=(--in-tree)
if [[ $VM_MODULES != in-tree ]]; then
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	# Before the guest exists: xenstored and xenconsoled map its rings.
	read -r _ maps _ mapped < <(tr '\n' ' ' <"$stats")
	args=("$maps" "$mapped")
	note "counters before the guest: maps $maps, grant_mappings $mapped"
fi

guest_create stress --test gntdev-share || { fail "guest stress created"; exit 1; }
domid=$(guest_domid stress) || { fail "guest stress has a domid"; exit 1; }
"$REPO/build/tests/gntdev_stress" "$domid" "${args[@]}"
rc=$?
# 1 means checks failed and said so; anything else is a crash.
[[ $rc -le 1 ]] || fail "gntdev_stress" "exited $rc"
