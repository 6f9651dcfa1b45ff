#!/bin/bash
# vm-timeout: 480
# One PV guest through the whole life xl gives it, with a disk (xvda on a
# RAM disk, stock "block" hotplug script) and a NIC (xenbr0, stock
# "vif-bridge") served by the project's backends: create; data written by
# the guest reads back equal and the network answers again after xl save /
# xl restore; xl mem-set down and back up, with the guest's own MemTotal
# following; xl block-attach/-detach and network-attach/-detach, seen
# appearing and disappearing in the guest and in xenstore; xl destroy,
# after which the domain and its backends are gone and dom0 finds the
# guest's data on the RAM disk.
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/guests-lib.sh
. "$REPO/tests/vm/lib/guests-lib.sh"

g=mg-xl
ip=10.99.0.20
dir=/var/tmp/mg-xl
cleanup() {
	guest_destroy "$g"
	mountpoint -q "$dir" && umount "$dir"
	rmmod brd 2>/dev/null
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

# The hot plug commands, as mg_disk_hotplug and mg_nic_hotplug call them.
xl_block_attach() { timeout 60 xl block-attach "$1" "phy:$2,xvdb,w"; }
xl_block_detach() { timeout 60 xl block-detach "$1" "$2"; }
xl_network_attach() { timeout 60 xl network-attach "$1" bridge=xenbr0; }
xl_network_detach() { timeout 60 xl network-detach "$1" "$2"; }

bb_brd 2 32 || { fail "brd RAM disks /dev/ram0, /dev/ram1"; exit 1; }
bb_tmpfs "$dir" 400 || { fail "tmpfs for the save file"; exit 1; }

# --- create -------------------------------------------------------------------
mg_guest "$g" "$ip" pv /dev/ram0 || exit 1
domid=$(guest_domid "$g")
mg_connected "xvda and vif 0 Connected at both ends" "$domid"
mg_ours "xvda and vif 0 are served by the project's xen-blkback and xen-netback" "$domid"
mg_write "the guest writes to xvda" "$g" xvda 8
mg_readback "the guest reads xvda back" "$g" xvda 8
mg_ping "after xl create" "$g" "$ip"

# --- save / restore -----------------------------------------------------------
check "xl save $g" timeout 180 xl save "$g" "$dir/$g.save" || exit 1
mg_gone "the saved domain $domid and its backends are gone" "$domid"
check "xl restore" timeout 180 xl restore "$dir/$g.save" || exit 1
rm -f "$dir/$g.save"
mg_after_restore "$g" "$ip"

# --- balloon ------------------------------------------------------------------
base=$(mg_memtotal "$g")
note "MemTotal at $MG_MEM MiB: $base kB"
mg_balloon "balloon down" "$g" "$base" 160 xl mem-set "$g" 160m
mg_balloon "balloon up" "$g" "$base" "$MG_MEM" xl mem-set "$g" "${MG_MEM}m"

# --- hot plug -----------------------------------------------------------------
mg_disk_hotplug "$g" /dev/ram1 xl_block_attach xl_block_detach
mg_nic_hotplug "$g" xl_network_attach xl_network_detach
mg_readback "after the hot plug: xvda still reads back" "$g" xvda 8
mg_ping "after the hot plug" "$g" "$ip"

# --- destroy ------------------------------------------------------------------
domid=$(guest_domid "$g")
check "xl destroy $g" xl destroy "$g"
mg_gone "domain $domid and its backends gone after xl destroy" "$domid"
mg_dom0_readback "dom0 finds the guest's xvda data on /dev/ram0" /dev/ram0 "$g" xvda 8
