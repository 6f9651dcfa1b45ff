#!/bin/bash
# vm-timeout: 600
# libvirt's Xen (libxl) driver on the project's backends: libvirtd started
# in dom0 (as its service would), "virsh -c xen:///system list" shows
# Domain-0; a PV guest defined from XML with a disk and an interface that
# the project's xen-blkback and xen-netback serve (stock hotplug scripts,
# run by libxl) writes data and pings; virsh save / restore (the data reads
# back equal, the network answers again); virsh setmem down and up (the
# guest's MemTotal follows); virsh attach-disk / attach-interface and their
# detach, seen in the guest and in xenstore; then a second guest created
# with virt-install passes the same disk and network checks.
# Needs, on the host (dom0's root): libvirt-daemon-driver-xen
# libvirt-clients virtinst (tests/vm/install-deps installs them).
set -uo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/netback-lib.sh
. "$REPO/tests/vm/lib/netback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/blkback-lib.sh
. "$REPO/tests/vm/lib/blkback-lib.sh"
# shellcheck source=SCRIPTDIR/../lib/guests-lib.sh
. "$REPO/tests/vm/lib/guests-lib.sh"

g=mg-virsh
ip=10.99.0.23
vi=mg-virt-install
vi_ip=10.99.0.24
dir=/var/tmp/mg-virsh
initrd=$GUEST_INITRD_DIR/guest-initrd-netback-agent.cpio
args="console=hvc0 guest_test=netback-agent guest_wait=1 guest_ip="
virsh() { timeout 120 /usr/bin/virsh -c xen:///system "$@"; }
cleanup() {
	virsh destroy "$g" >/dev/null 2>&1
	virsh destroy "$vi" >/dev/null 2>&1
	[[ -f /run/libvirtd.pid ]] && kill "$(cat /run/libvirtd.pid)" 2>/dev/null
	cp -r /var/log/libvirt "$TEST_LOGDIR/" 2>/dev/null
	mountpoint -q "$dir" && umount "$dir"
	rmmod brd 2>/dev/null
	true
}
trap 'rc=$?; cleanup; (exit $rc); _vm_exit' EXIT

# The hot plug commands, as mg_disk_hotplug and mg_nic_hotplug call them.
virsh_attach_disk() { virsh attach-disk "$1" "$2" xvdb --targetbus xen --sourcetype block --driver phy --live; }
virsh_detach_disk() { virsh detach-disk "$1" "$2" --live; }
virsh_attach_interface() { virsh attach-interface "$1" bridge xenbr0 --live; }
virsh_detach_interface() { virsh detach-interface "$1" bridge --mac "$3" --live; }
# virsh_shutdown NAME SECS: a clean shutdown; waits until the domain is gone.
virsh_shutdown() {
	local n=0
	virsh shutdown "$1" >/dev/null || return 1
	while guest_domid "$1" >/dev/null; do
		[[ $n -lt $(($2 * 2)) ]] || return 1
		sleep 0.5
		n=$((n + 1))
	done
}

# agent_up NAME: wait for the guest's agent (it was started by libvirt, not
# by guest_create); its console is logged by xenconsoled all the same.
agent_up() {
	if guest_wait_console "$1" '^GUEST-IDLE' 120 >/dev/null && gexec "$1" 30 true >/dev/null; then
		pass "guest $1 (domain $(guest_domid "$1")) boots and its agent answers"
	else
		fail "guest $1 boots and its agent answers" "see xen/guest-$1.log"
		return 1
	fi
}

bb_brd 4 32 || { fail "brd RAM disks /dev/ram0-3"; exit 1; }
bb_tmpfs "$dir" 400 || { fail "tmpfs for the save file"; exit 1; }

# --- libvirtd -----------------------------------------------------------------
# libvirtd's Xen driver names the host CPU after a model of libvirt's CPU
# map whose features are all among those Xen reports (xl info's hw_caps),
# and does not start without one: "x86Decode:2241 : internal error: Cannot
# find suitable CPU model for given data". Every x86 model of the map
# needs vme or sep: Xen hides sep on AMD CPUs (no SYSENTER in long mode),
# and QEMU's TCG emulates no vme, so the bed's emulated CPU fits none.
# When neither is there, dom0's copy of the map (its root is an overlay
# on a tmpfs) gains the qemu64 model without sep: what this CPU is.
cpu_map=/usr/share/libvirt/cpu_map
edx1=$(xl info | awk '$1 == "hw_caps" { split($3, w, ":"); print w[1] }')
if [[ -n $edx1 ]] && ((!(0x$edx1 & 0x802))) && [[ ! -e $cpu_map/x86_qemu64-nosep.xml ]]; then
	sed -e "s/name='qemu64'/name='qemu64-nosep'/" -e "/<feature name='sep'\/>/d" \
		"$cpu_map/x86_qemu64.xml" >"$cpu_map/x86_qemu64-nosep.xml"
	sed -i "/<include filename='x86_qemu64.xml'\/>/a <include filename='x86_qemu64-nosep.xml'/>" "$cpu_map/index.xml"
	if grep -q "x86_qemu64-nosep.xml" "$cpu_map/index.xml"; then
		note "Xen reports neither vme nor sep (CPUID 1 EDX $edx1): libvirt's CPU map gains qemu64-nosep"
	else
		fail "add qemu64-nosep to $cpu_map/index.xml" "no x86_qemu64.xml include there"
	fi
fi
# The package's postinst would have made the user its QEMU driver runs
# guests as; without it libvirtd does not start. Only in dom0's overlay.
getent passwd libvirt-qemu >/dev/null || useradd --system --no-create-home --user-group libvirt-qemu
mkdir -p /var/log/libvirt
LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" libvirtd --daemon --pid-file /run/libvirtd.pid
n=0
until out=$(virsh list --all 2>&1) || [[ $n -ge 60 ]]; do
	sleep 1
	n=$((n + 1))
done
if [[ $out =~ [[:space:]]0[[:space:]]+Domain-0[[:space:]]+running ]]; then
	pass "libvirtd $(libvirtd --version | awk '{ print $NF }') is up: virsh -c xen:///system list shows Domain-0 running"
	note "libvirt's host CPU: $(virsh capabilities | grep -m 1 '<model>' | tr -d ' ')"
else
	fail "virsh -c xen:///system list shows Domain-0" "$out"
	exit 1
fi

# --- a PV guest defined from XML ------------------------------------------------
cat >"$TEST_LOGDIR/$g.xml" <<XML
<domain type='xen'>
  <name>$g</name>
  <memory unit='MiB'>$MG_MEM</memory>
  <currentMemory unit='MiB'>$MG_MEM</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='xenpv'>linux</type>
    <kernel>$GUEST_KERNEL</kernel>
    <initrd>$initrd</initrd>
    <cmdline>$args$ip/24</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='block' device='disk'>
      <driver name='phy'/>
      <source dev='/dev/ram0'/>
      <target dev='xvda' bus='xen'/>
    </disk>
    <interface type='bridge'>
      <source bridge='xenbr0'/>
    </interface>
    <console type='pty'>
      <target type='xen' port='0'/>
    </console>
  </devices>
</domain>
XML
rm -f "$(guest_console "$g")"
check "virsh define $g.xml" virsh define "$TEST_LOGDIR/$g.xml" || exit 1
check "virsh start $g" virsh start "$g" || exit 1
agent_up "$g" || exit 1
domid=$(guest_domid "$g")
mg_connected "xvda and vif 0 Connected at both ends" "$domid"
mg_ours "xvda and vif 0 are served by the project's xen-blkback and xen-netback" "$domid"
mg_write "the guest writes to xvda" "$g" xvda 8
mg_readback "the guest reads xvda back" "$g" xvda 8
mg_ping "after virsh start" "$g" "$ip"

# --- save / restore -----------------------------------------------------------
check "virsh save $g" virsh save "$g" "$dir/$g.save" || exit 1
mg_gone "the saved domain $domid and its backends are gone" "$domid"
check "virsh restore" virsh restore "$dir/$g.save" || exit 1
rm -f "$dir/$g.save"
mg_after_restore "$g" "$ip"

# --- balloon ------------------------------------------------------------------
base=$(mg_memtotal "$g")
note "MemTotal at $MG_MEM MiB: $base kB"
mg_balloon "balloon down" "$g" "$base" 160 virsh setmem "$g" 160M --live
mg_balloon "balloon up" "$g" "$base" "$MG_MEM" virsh setmem "$g" "${MG_MEM}M" --live

# --- hot plug -----------------------------------------------------------------
mg_disk_hotplug "$g" /dev/ram1 virsh_attach_disk virsh_detach_disk
mg_nic_hotplug "$g" virsh_attach_interface virsh_detach_interface
mg_readback "after the hot plug: xvda still reads back" "$g" xvda 8

domid=$(guest_domid "$g")
check "virsh destroy $g" virsh destroy "$g"
mg_gone "domain $domid and its backends gone after virsh destroy" "$domid"
mg_dom0_readback "dom0 finds the guest's xvda data on /dev/ram0" /dev/ram0 "$g" xvda 8
check "virsh undefine $g" virsh undefine "$g" || true

# --- a PV guest made by virt-install ------------------------------------------------
rm -f "$(guest_console "$vi")"
check "virt-install --paravirt $vi" timeout 180 virt-install --connect xen:///system \
	--name "$vi" --paravirt --memory "$MG_MEM" --vcpus 1 --import \
	--boot "kernel=$GUEST_KERNEL,initrd=$initrd,kernel_args=$args$vi_ip/24" \
	--disk path=/dev/ram2,bus=xen,driver.name=phy --network bridge=xenbr0 \
	--graphics none --noautoconsole \
	--osinfo detect=on,require=off || exit 1
agent_up "$vi" || exit 1
mg_disk_and_net "$vi" "$vi_ip" /dev/ram2 virsh_shutdown
