# shellcheck shell=bash
# Helpers for the managed-guest tests (tests/vm/tests/7N-guests-*.sh):
# guests of every type (PV, PVH, HVM) run by the standard tools (xl,
# virsh, virt-install) with a disk and a NIC that the project's backends
# serve through the stock hotplug scripts. Sourced after dom0-lib.sh,
# netback-lib.sh (the guests run its agent: gexec) and blkback-lib.sh
# (xenstore paths of disks, RAM disks). The checks look from both ends:
# data and memory figures read inside the guest, devices appearing and
# disappearing there, backend state in xenstore and sysfs.

# The guests' memory at creation, in MiB; ballooning goes down from there
# and back.
MG_MEM=256
# What each guest wrote: MG_SUM[NAME:DEV] is the md5 of its data on DEV.
declare -A MG_SUM=()

# mg_guest NAME IP TYPE DISK-DEV [xl-cfg-line...]: an xl guest of TYPE
# (pv, pvh or hvm) running the netback agent, with DISK-DEV as xvda and a
# NIC on xenbr0 at IP; waits until the agent answers. An HVM guest boots
# the compressed kernel (QEMU's direct kernel boot wants a bzImage) with
# QEMU as its device model, and has no display.
mg_guest() {
	local name=$1 ip=$2 type=$3 disk=$4 boot=120 got
	shift 4
	local -a cfg=("type=\"$type\"" "memory=$MG_MEM" "maxmem=$MG_MEM"
		"disk=['phy:$disk,xvda,w']")
	if [[ $type == hvm ]]; then
		cfg+=("kernel=\"$GUEST_VMLINUZ\"" 'vnc=0')
		boot=300
		# QEMU gives the guest an emulated twin of each NIC (unplugged
		# once the PV drivers start) on a tap device: "could not open
		# /dev/net/tun" without this, and nothing loads it here.
		modprobe tun || { fail "modprobe tun, for the device model's tap"; return 1; }
	fi
	NB_BOOT_SECS=$boot nb_guest "$name" "$ip" 1 "${cfg[@]}" "$@" || return 1
	got=$(gexec "$name" 20 cat /sys/hypervisor/guest_type) || true
	if [[ ${got,,} == "$type" ]]; then
		pass "guest $name (domain $(guest_domid "$name")) is up and its kernel says it is $got"
	else
		fail "guest $name is a $type guest" "its /sys/hypervisor/guest_type says '$got'"
	fi
}

# mg_device_model NAME: a check that guest NAME's device model (QEMU from
# qemu-system-xen) runs in dom0; sets dm to its pid and keeps its command
# line in the test's log directory.
mg_device_model() {
	local domid
	domid=$(guest_domid "$1")
	dm=$(pgrep -f -- "xen-qemu-system-i386 .*-xen-domid $domid( |$)" | head -n 1 || true)
	if [[ -z $dm ]]; then
		fail "its device model runs in dom0" "no process with -xen-domid $domid: $(pgrep -a qemu | tr '\n' ' ')"
		return 1
	fi
	pass "its device model runs in dom0 (pid $dm, $(readlink "/proc/$dm/exe"))"
	tr '\0' ' ' <"/proc/$dm/cmdline" >"$TEST_LOGDIR/qemu-dm.cmdline"
}

# mg_connected WHAT DOMID [DISK [VIF-DEVID]]: a check that the disk
# (default xvda) and the vif (default 0) are Connected (state 4) at both
# ends in xenstore, waiting up to 30 s; "-" skips one of them.
mg_connected() {
	local what=$1 domid=$2 disk=${3:-xvda} vif=${4:-0} p bad=''
	local -a paths=()
	[[ $disk == - ]] || paths+=("$(bb_be "$domid" "$disk")" "$(bb_fe "$domid" "$disk")")
	[[ $vif == - ]] || paths+=("$(nb_backend "$domid" "$vif")" "$(nb_frontend "$domid" "$vif")")
	for p in "${paths[@]}"; do
		nb_xs_wait "$p/state" 4 30 || bad+=" $p/state=$(bb_key "$p/state")"
	done
	if [[ -z $bad ]]; then
		pass "$what"
	else
		fail "$what" "not Connected:$bad"
	fi
}

# mg_ours WHAT DOMID: a check that the guest's xvda and first vif are bound
# to xen-blkback and xen-netback and that those are the copies under test
# (by build-id: module_live_is_under_test).
mg_ours() {
	local what=$1 domid=$2 dev mod why bad=''
	for dev in "vbd-$domid-${BB_DEVID[xvda]}:xen-blkback" "vif-$domid-0:xen-netback"; do
		mod=$(readlink -f "/sys/bus/xen-backend/devices/${dev%%:*}/driver/module" 2>/dev/null)
		mod=${mod##*/}
		if [[ $mod != "${dev#*:}" && $mod != "$(tr - _ <<<"${dev#*:}")" ]]; then
			bad+=" ${dev%%:*} is bound to '${mod:-nothing}';"
		elif ! why=$(module_live_is_under_test "${dev#*:}" 2>&1); then
			bad+=" $why;"
		fi
	done
	if [[ -z $bad ]]; then
		pass "$what"
	else
		fail "$what" "$bad"
	fi
}

# mg_write WHAT NAME DEV MIB: the guest writes MIB MiB of random data at the
# start of its DEV (O_DIRECT, then flushed) and remembers its md5.
mg_write() {
	local what=$1 name=$2 dev=$3 mib=$4 out
	# A failing dd prints its error before the md5, which then is no md5.
	out=$(gexec "$name" 120 "head -c $((mib * 1048576)) /dev/urandom >/tmp/w && { dd if=/tmp/w of=/dev/$dev bs=64k oflag=direct conv=fsync 2>/tmp/e || cat /tmp/e; } && md5sum </tmp/w; rm -f /tmp/w") || true
	out=${out%% *}
	if [[ $out =~ ^[0-9a-f]{32}$ ]]; then
		MG_SUM[$name:$dev]=$out
		pass "$what ($mib MiB, md5 $out)"
	else
		fail "$what" "guest said '$out'"
		return 1
	fi
}

# mg_readback WHAT NAME DEV MIB: a check that the guest reads (O_DIRECT)
# what it wrote with mg_write.
mg_readback() {
	local what=$1 name=$2 dev=$3 mib=$4 out
	out=$(gexec "$name" 120 "dd if=/dev/$dev bs=64k count=$((mib * 16)) iflag=direct 2>/dev/null | md5sum") || true
	if [[ ${out%% *} == "${MG_SUM[$name:$dev]:-none}" ]]; then
		pass "$what (md5 equal)"
	else
		fail "$what" "guest read md5 '${out%% *}', wrote ${MG_SUM[$name:$dev]:-nothing}"
	fi
}

# mg_dom0_readback WHAT BACKING NAME DEV MIB: a check that dom0 finds on
# the backing device what guest NAME wrote on its DEV.
mg_dom0_readback() {
	local got
	got=$(bb_md5 "$2" 0 "$5")
	if [[ $got == "${MG_SUM[$3:$4]:-none}" ]]; then
		pass "$1 (md5 equal)"
	else
		fail "$1" "md5 $got on $2, the guest wrote ${MG_SUM[$3:$4]:-nothing}"
	fi
}

# mg_ping WHAT NAME IP: checks that dom0 pings the guest at IP and the
# guest pings dom0 (a restored guest may take a few seconds to answer).
mg_ping() {
	local what=$1 name=$2 ip=$3 n=0 out
	until busybox ping -c 1 -W 2 "$ip" >/dev/null 2>&1; do
		n=$((n + 1))
		[[ $n -lt 10 ]] || break
	done
	check "$what: dom0 pings the guest" busybox ping -c 3 -W 5 "$ip" || true
	if out=$(gexec "$name" 30 "ping -c 3 -W 5 $NB_BR_IP"); then
		pass "$what: the guest pings dom0"
	else
		fail "$what: the guest pings dom0" "$out"
	fi
}

# mg_disk_and_net NAME IP BACKING [SHUTDOWN]: what every guest type must do
# with its backends: disk and NIC Connected and served by the project's
# modules, 8 MiB written and read back equal, pings both ways; then a
# clean shutdown (the SHUTDOWN command, default guest_shutdown: xl), after
# which the backends are gone and dom0 finds the data on BACKING.
mg_disk_and_net() {
	local name=$1 ip=$2 backing=$3 shutdown=${4:-guest_shutdown} domid
	domid=$(guest_domid "$name")
	mg_connected "xvda and vif 0 Connected at both ends" "$domid"
	mg_ours "xvda and vif 0 are served by the project's xen-blkback and xen-netback" "$domid"
	mg_write "the guest writes to xvda" "$name" xvda 8 &&
		mg_readback "the guest reads xvda back" "$name" xvda 8
	mg_ping "network" "$name" "$ip"
	if "$shutdown" "$name" 60; then
		pass "$shutdown $name: the guest shut down"
	else
		fail "$shutdown $name" "still there after 60 s"
		guest_destroy "$name"
	fi
	mg_gone "domain $domid's backends gone after the shutdown" "$domid"
	mg_dom0_readback "dom0 finds the guest's data on $backing" "$backing" "$name" xvda 8
}

# mg_memtotal NAME: the guest's MemTotal in kB.
mg_memtotal() {
	local out
	out=$(gexec "$1" 20 "awk '/^MemTotal:/ { print \$2 }' /proc/meminfo") || true
	echo "${out//[!0-9]/}"
}

# mg_balloon WHAT NAME BASE_KB MIB CMD...: run CMD (which sets the guest's
# memory target to MIB MiB), then a check that the guest's MemTotal, read
# inside, comes within 8 MiB of BASE_KB (its MemTotal at MG_MEM MiB) moved
# by the same amount, within 60 s.
mg_balloon() {
	local what=$1 name=$2 base=$3 mib=$4 want now deadline=$((SECONDS + 60))
	shift 4
	check "$what: $*" "$@" || return 1
	want=$((base + (mib - MG_MEM) * 1024))
	while :; do
		now=$(mg_memtotal "$name")
		[[ -n $now ]] && ((now - want <= 8192 && want - now <= 8192)) && break
		if [[ $SECONDS -ge $deadline ]]; then
			fail "$what: the guest's MemTotal follows" "${now:-?} kB, want $want +- 8192 kB"
			return 1
		fi
		sleep 1
	done
	pass "$what: the guest's MemTotal follows ($base -> $now kB, want $want)"
}

# mg_absent PATH...: wait up to 15 s until none of the xenstore or sysfs
# PATHs (sysfs ones start with /sys) exists; fails with the ones left.
mg_absent() {
	local n=0 p left
	while :; do
		left=''
		for p in "$@"; do
			if [[ $p == /sys/* ]]; then
				[[ ! -e $p ]] || left+=" $p"
			else
				! xenstore-exists "$p" 2>/dev/null || left+=" $p"
			fi
		done
		[[ -n $left && $n -lt 75 ]] || break
		sleep 0.2
		n=$((n + 1))
	done
	[[ -z $left ]] || { echo "still there:$left"; return 1; }
}

# mg_gone WHAT DOMID: a check that the domain and all its backend devices
# are gone from xenstore and sysfs.
mg_gone() {
	local out
	if out=$(mg_absent "/local/domain/$2" "/local/domain/0/backend/vbd/$2" \
		"/local/domain/0/backend/vif/$2" "/sys/class/net/vif$2.0" \
		"$(bb_sysfs "$2" xvda)"); then
		pass "$1"
	else
		fail "$1" "$out"
	fi
}

# mg_in_guest WHAT NAME COND: a check that the shell test COND becomes true
# in the guest within 30 s.
mg_in_guest() {
	local out
	if out=$(gexec "$2" 40 "i=0; until $3; do [ \$i -lt 150 ] || exit 1; sleep 0.2; i=\$((i + 1)); done"); then
		pass "$1"
	else
		fail "$1" "'$3' still false after 30 s${out:+: $out}"
	fi
}

# mg_disk_hotplug NAME BACKING ATTACH DETACH: hot plug of BACKING as xvdb
# with the tool's commands: the ATTACH command (a function or program;
# "$domid" is the guest's), the disk appears in the guest, Connected, the
# guest writes to it; the DETACH command, the disk disappears from the
# guest and its backend from xenstore and sysfs, dom0 finds the data.
mg_disk_hotplug() {
	local name=$1 backing=$2 attach=$3 detach=$4 domid out
	domid=$(guest_domid "$name")
	check "$attach $name $backing" "$attach" "$name" "$backing" || return 1
	mg_in_guest "xvdb appears in the guest" "$name" '[ -b /dev/xvdb ]'
	mg_connected "xvdb Connected at both ends" "$domid" xvdb -
	mg_write "the guest writes to the attached xvdb" "$name" xvdb 4 &&
		mg_readback "the guest reads xvdb back" "$name" xvdb 4
	check "$detach $name xvdb" "$detach" "$name" xvdb || return 1
	mg_in_guest "xvdb disappears from the guest" "$name" '[ ! -e /sys/block/xvdb ]'
	if out=$(mg_absent "$(bb_be "$domid" xvdb)" "$(bb_sysfs "$domid" xvdb)"); then
		pass "xvdb's backend gone from xenstore and sysfs"
	else
		fail "xvdb's backend gone from xenstore and sysfs" "$out"
	fi
	mg_dom0_readback "dom0 finds the data written on xvdb on $backing" "$backing" "$name" xvdb 4
}

# mg_nic_hotplug NAME ATTACH DETACH: hot plug of a second NIC on xenbr0
# with the tool's commands: ATTACH NAME, a new vif is Connected with its
# hotplug script done and a new NIC appears in the guest; DETACH NAME
# DEVID MAC, the NIC disappears from the guest, the vif from dom0 and
# its backend directory from xenstore.
mg_nic_hotplug() {
	local name=$1 attach=$2 detach=$3 domid before after devid mac be nic out
	domid=$(guest_domid "$name")
	before=$(xenstore-list "/local/domain/0/backend/vif/$domid" 2>/dev/null | sort)
	check "$attach $name" "$attach" "$name" || return 1
	after=$(xenstore-list "/local/domain/0/backend/vif/$domid" 2>/dev/null | sort)
	devid=$(comm -13 <(echo "$before") <(echo "$after") | head -n 1)
	if [[ -z $devid ]]; then
		fail "a new vif appears in xenstore" "backend vifs before '$before', after '$after'"
		return 1
	fi
	be=$(nb_backend "$domid" "$devid")
	mac=$(bb_key "$be/mac")
	mg_connected "vif $devid ($mac) Connected at both ends" "$domid" - "$devid"
	if nb_xs_wait "$be/hotplug-status" connected 30 &&
		[[ $(readlink "/sys/class/net/vif$domid.$devid/master" 2>/dev/null) == */xenbr0 ]]; then
		pass "vif$domid.$devid is in xenbr0 (vif-bridge ran)"
	else
		fail "vif$domid.$devid is in xenbr0" "hotplug-status '$(bb_key "$be/hotplug-status")'"
	fi
	# The guest's NIC with that MAC address.
	nic="for n in /sys/class/net/*; do [ \"\$(cat \$n/address)\" = $mac ] && echo \${n##*/}; done | grep ."
	mg_in_guest "a NIC with $mac appears in the guest" "$name" "$nic >/dev/null"
	check "$detach $name $devid $mac" "$detach" "$name" "$devid" "$mac" || return 1
	mg_in_guest "the NIC with $mac disappears from the guest" "$name" "! $nic >/dev/null"
	if out=$(mg_absent "$be" "/sys/class/net/vif$domid.$devid"); then
		pass "vif $devid's backend gone from xenstore and dom0"
	else
		fail "vif $devid's backend gone from xenstore and dom0" "$out"
	fi
}

# mg_after_restore NAME IP: a restored guest's devices are Connected again,
# it reads back what it wrote on xvda before the save, and pings work.
mg_after_restore() {
	local domid
	domid=$(guest_domid "$1")
	note "restored as domain $domid"
	mg_connected "after the restore: xvda and vif 0 Connected again" "$domid"
	mg_readback "after the restore: the guest reads back the data written before the save" "$1" xvda 8
	mg_ping "after the restore" "$1" "$2"
}
