# shellcheck shell=bash
# dom0 half of the xen-blkback VM tests (tests/vm/tests/6N-blkback-*.sh),
# sourced after dom0-lib.sh. Their guests run the command server
# tests/vm/guest/tests/blkback.sh, which dom0 drives through xenstore with
# gsh. Black box: everything here works on any blkback, in-tree or ours.

# The run's seed: the guest gets it on its command line (bb_guest), so both
# sides make the same patterns.
BB_SEED=${BB_SEED:-$((RANDOM * 32768 + RANDOM))}
MiB=1048576
# Device ids of xvda to xvde (blkif.h: major 202, minor 16 * n).
declare -A BB_DEVID=([xvda]=51712 [xvdb]=51728 [xvdc]=51744 [xvdd]=51760 [xvde]=51776)

# bb_pattern FIRST_SECTOR SECTORS TAG: the guest's pattern, byte for byte.
bb_pattern() {
	busybox awk -v s="$BB_SEED" -v f="$1" -v n="$2" -v t="$3" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "%010d %10d %-10.10s %-478s\n", f + i, s, t, "xen-blkback test pattern"
	}'
}
# bb_pwrite DEV-OR-FILE OFF_MIB LEN_MIB TAG: the pattern at OFF (direct I/O
# on a device, so that the guest's backend cannot see stale cache).
bb_pwrite() {
	local flag=oflag=direct
	[[ -b $1 ]] || flag=
	bb_pattern $(($2 * 2048)) $(($3 * 2048)) "$4" |
		dd of="$1" bs=64k seek=$(($2 * 16)) $flag conv=notrunc,fsync status=none
}
# bb_md5 DEV-OR-FILE OFF_MIB LEN_MIB: md5 of that region.
bb_md5() {
	local flag=iflag=direct
	[[ -b $1 ]] || flag=
	dd if="$1" bs=64k skip=$(($2 * 16)) count=$(($3 * 16)) $flag status=none | md5sum | cut -d' ' -f1
}
# bb_pmd5 OFF_MIB LEN_MIB TAG: md5 the pattern must have there.
bb_pmd5() { bb_pattern $(($1 * 2048)) $(($2 * 2048)) "$3" | md5sum | cut -d' ' -f1; }
# bb_pcheck WHAT DEV-OR-FILE OFF_MIB LEN_MIB TAG: a check that the region
# holds the pattern.
bb_pcheck() {
	local got want
	got=$(bb_md5 "$2" "$3" "$4") want=$(bb_pmd5 "$3" "$4" "$5")
	if [[ $got == "$want" ]]; then
		pass "$1"
	else
		fail "$1" "md5 $got, want $want"
	fi
}

# bb_guest NAME [--cmdline S] [xl-cfg-line...]: a guest running the
# command server; waits until it serves. The guest's console and its
# commands' output are in xen/guest-NAME.log. A guest that does not come
# up is created once more, after an INFO line that says why: under TCG a
# guest has, about once in a hundred boots and with the kernel's own
# backends too, hung or died while booting.
bb_guest() {
	local name=$1 domid cmdline="blkback_seed=$BB_SEED" try why
	shift
	if [[ ${1:-} == --cmdline ]]; then
		cmdline+=" $2"
		shift 2
	fi
	for try in 1 2; do
		if ! guest_create "$name" --test blkback --wait --cmdline "$cmdline" 'memory=384' "$@"; then
			fail "xl create $name" "see tests/$TEST_NAME/$name.xl-create.log"
			return 1
		fi
		domid=$(guest_domid "$name")
		xs_wait 150 "/local/domain/$domid/data/bb-ready" _bb_ready "$domid"
		if [[ $(xenstore-read "/local/domain/$domid/data/bb-ready" 2>/dev/null) == 1 ]]; then
			# Not in a subshell: gsh counts its commands (_bb_seq).
			if _bb_disks "$name" "$domid"; then
				pass "guest $name (domain $domid) is up with its disks: $_bb_disks_out"
				_bb_live[$name]=$domid
				return 0
			fi
			fail "guest $name (domain $domid) has its disks" "$_bb_disks_out"
			return 1
		fi
		{
			xenstore-ls -f "/local/domain/0/backend/vbd/$domid"
			xenstore-ls -f "/local/domain/$domid/device"
		} >"$TEST_LOGDIR/$name.$domid.xenstore" 2>&1
		why="$(guest_why "$name" "$domid"); disks: $(_bb_states "$domid")"
		guest_destroy "$name"
		[[ $try -eq 2 ]] || guest_retry "$name" "$domid" "not serving within 150 s: $why"
	done
	fail "guest $name boots and serves" "not serving within 150 s, twice: $why (see tests/$TEST_NAME/$name.*)"
	return 1
}
# guest_end_hook NAME (called by guest_shutdown and guest_destroy): a guest
# bb_guest started must not have failed on its own: no GUEST-FAIL line
# (its server's) on its console; _guest_end has read its kernel's.
declare -A _bb_live=()
guest_end_hook() {
	local name=$1 line n=0
	[[ -n ${_bb_live[$name]:-} ]] || return 0
	unset "_bb_live[$name]"
	while IFS= read -r line; do
		fail "guest $name fails on its own: ${line:0:200}"
		n=$((n + 1))
	done < <(tr -d '\r' <"$(guest_console "$name")" 2>/dev/null |
		grep -E 'GUEST-FAIL' | head -n 5)
	[[ $n -gt 0 ]] || pass "guest $name: no GUEST-FAIL on its console"
}

# _bb_disks NAME DOMID: every disk the guest was given is connected at both
# ends and is, in the guest and as the backend announced it, the size of
# its backing device in dom0; _bb_disks_out says which ("xvda 131072
# sectors, ...") or what is wrong.
_bb_disks() {
	local name=$1 be=/local/domain/0/backend/vbd/$2 d dev st fst sec want got
	_bb_disks_out=''
	for d in $(xenstore-list "$be" 2>/dev/null); do
		dev=$(xenstore-read "$be/$d/dev" 2>/dev/null)
		st=$(xenstore-read "$be/$d/state" 2>/dev/null)
		fst=$(xenstore-read "/local/domain/$2/device/vbd/$d/state" 2>/dev/null)
		sec=$(xenstore-read "$be/$d/sectors" 2>/dev/null)
		want=$(blockdev --getsz "$(xenstore-read "$be/$d/params" 2>/dev/null)" 2>/dev/null)
		if [[ $st != 4 || $fst != 4 ]]; then
			_bb_disks_out="${dev:-vbd $d}: backend state ${st:-none}, frontend state ${fst:-none}, not 4"
			return 1
		fi
		if ! gsh "$name" 30 "cat /sys/block/$dev/size"; then
			_bb_disks_out="$dev: the guest has no /sys/block/$dev: $GOUT"
			return 1
		fi
		got=${GOUT%% *}
		if [[ -z $want || $sec != "$want" || $got != "$want" ]]; then
			_bb_disks_out="$dev: backing device ${want:-unknown} sectors, the backend announced ${sec:-none}, the guest sees $got"
			return 1
		fi
		_bb_disks_out+="${_bb_disks_out:+, }$dev $sec sectors"
	done
	[[ -n $_bb_disks_out ]] && return 0
	_bb_disks_out="no disk under $be"
	return 1
}
# _bb_states DOMID: each of its disks' backend and frontend states.
_bb_states() {
	local d be=/local/domain/0/backend/vbd/$1 out=''
	for d in $(xenstore-list "$be" 2>/dev/null); do
		out+="$d backend $(xenstore-read "$be/$d/state" 2>/dev/null) frontend $(xenstore-read "/local/domain/$1/device/vbd/$d/state" 2>/dev/null), "
	done
	echo "${out:-none}"
}
# _bb_ready DOMID: its server is ready, or it is gone (no use waiting).
_bb_ready() {
	[[ $(xenstore-read "/local/domain/$1/data/bb-ready" 2>/dev/null) == 1 ]] ||
		! xenstore-exists "/local/domain/$1" 2>/dev/null
}

_bb_seq=0
# gsh NAME SECS COMMAND: run the shell COMMAND in guest NAME's server (it
# may use the server's functions: pwrite, pcheck, md5at, vfio...). GOUT is
# the end of its output; the status is the command's (124: no answer in
# SECS, 125: the guest is gone).  A benchmark sets GSH_QUIET to the seconds
# its job surely takes: dom0 does not even look (spawn xenstore clients)
# then.  Each command's time goes to the test's log ("# gsh N: Ts of
# SECS"), the measure that bounds are based on.
gsh() {
	local name=$1 secs domid dir ack t0=$SECONDS
	secs=$(guest_secs "$2")
	shift 2
	GOUT=
	domid=$(guest_domid "$name") || return 125
	dir=/local/domain/$domid/data
	_bb_seq=$((_bb_seq + 1))
	xenstore-write "$dir/bb-cmd" "$_bb_seq $*"
	sleep "${GSH_QUIET:-0}"
	if ! xs_wait "$secs" "$dir/bb-ack" _gsh_answered "$dir" "$domid"; then
		GOUT="no answer within $secs s"
		note "gsh $_bb_seq: no answer in $secs s: $*"
		return 124
	fi
	note "gsh $_bb_seq: $((SECONDS - t0))s of $secs: $*"
	if [[ $ack == gone ]]; then
		GOUT="guest gone"
		return 125
	fi
	GOUT=$(xenstore-read "$dir/bb-out" 2>/dev/null | tr '\n' ' ')
	return "${ack#* }"
}
# _gsh_answered DIR DOMID: gsh's ack (its caller's variable) answers
# _bb_seq, or is "gone" with the guest.
_gsh_answered() {
	ack=$(xenstore-read "$1/bb-ack" 2>/dev/null)
	[[ ${ack%% *} == "$_bb_seq" ]] && return 0
	xenstore-exists "/local/domain/$2" 2>/dev/null && return 1
	ack=gone
}
# gcheck WHAT NAME SECS COMMAND: a check that COMMAND succeeds in the guest.
gcheck() {
	local what=$1 rc=0
	shift
	gsh "$@" || rc=$?
	if [[ $rc -eq 0 ]]; then
		pass "$what"
	else
		fail "$what" "guest command '${*:3}' exited $rc: $GOUT"
	fi
	return "$rc"
}

# bb_be DOMID DISK / bb_fe DOMID DISK: backend and frontend xenstore dirs.
bb_be() { echo "/local/domain/0/backend/vbd/$1/${BB_DEVID[$2]}"; }
bb_fe() { echo "/local/domain/$1/device/vbd/${BB_DEVID[$2]}"; }
# bb_sysfs DOMID DISK: the backend's sysfs device directory.
bb_sysfs() { echo "/sys/bus/xen-backend/devices/vbd-$1-${BB_DEVID[$2]}"; }
# bb_stat DOMID DISK NAME: one of its statistics counters.
bb_stat() { cat "$(bb_sysfs "$1" "$2")/statistics/$3" 2>/dev/null; }
# bb_no_eoi_delay WHAT DOMID DISK: a check that the kernel never held back
# the disk's events as a storm (xenbus/jiffies_eoi_delayed is 0).  A Linux
# frontend notifies only with new requests, so the backend must never call
# two of its events in a row spurious.
bb_no_eoi_delay() {
	bb_eoi_stats "$2" "$3"
	note "$3: events $BB_EVENTS, spurious $BB_SPURIOUS, EOI delayed $BB_DELAYED jiffies"
	if [[ $BB_DELAYED == 0 ]]; then
		pass "$1"
	else
		fail "$1" "xenbus/jiffies_eoi_delayed '$BB_DELAYED' (spurious_events $BB_SPURIOUS)"
	fi
}
# bb_eoi_stats DOMID DISK: the kernel's late-EOI counters of the disk's
# backend device (xenbus/ in sysfs) into BB_EVENTS, BB_SPURIOUS and
# BB_DELAYED (jiffies), each "?" if unreadable.
bb_eoi_stats() {
	local x
	x=$(bb_sysfs "$1" "$2")/xenbus
	BB_EVENTS=$(cat "$x/events" 2>/dev/null) || BB_EVENTS='?'
	BB_SPURIOUS=$(cat "$x/spurious_events" 2>/dev/null) || BB_SPURIOUS='?'
	BB_DELAYED=$(cat "$x/jiffies_eoi_delayed" 2>/dev/null) || BB_DELAYED='?'
}
# bb_key PATH: a xenstore value, empty if absent.
bb_key() { xenstore-read "$1" 2>/dev/null || true; }
# bb_connected WHAT DOMID DISK: a check that backend and frontend are in
# state 4 (Connected).
bb_connected() {
	local be fe
	be=$(bb_key "$(bb_be "$2" "$3")/state") fe=$(bb_key "$(bb_fe "$2" "$3")/state")
	if [[ $be == 4 && $fe == 4 ]]; then
		pass "$1"
	else
		fail "$1" "backend state '$be', frontend state '$fe'"
	fi
}
# bb_loop FILE MIB: a loop device over a new sparse FILE of MIB MiB (printed).
bb_loop() {
	modprobe loop && truncate -s $(($2 * MiB)) "$1" && losetup -f --show "$1"
}
# bb_tmpfs DIR MIB: a private tmpfs for backing files (punch-hole capable).
bb_tmpfs() {
	mkdir -p "$1" && mount -t tmpfs -o "size=$2M,mode=0700" tmpfs "$1"
}
# bb_brd COUNT MIB: COUNT RAM disks of MIB MiB each (/dev/ram0...), fresh:
# an earlier test may have loaded brd with other sizes.
bb_brd() {
	local n=0
	# A backend closes its disk when its teardown ends, which can be just
	# after the guest is gone.
	while [[ -d /sys/module/brd ]] && ! rmmod brd 2>/dev/null && [[ $n -lt 100 ]]; do
		sleep 0.1
		n=$((n + 1))
	done
	modprobe brd rd_nr="$1" rd_size=$(($2 * 1024)) && udevadm settle 2>/dev/null
	[[ -b /dev/ram$(($1 - 1)) ]]
}
# bb_zero WHAT DEV-OR-FILE OFF_MIB LEN_MIB: a check that the region is zeros.
bb_zero() {
	local got want
	got=$(bb_md5 "$2" "$3" "$4")
	want=$(head -c $(($4 * MiB)) /dev/zero | md5sum | cut -d' ' -f1)
	if [[ $got == "$want" ]]; then
		pass "$1"
	else
		fail "$1" "not all zeros (md5 $got)"
	fi
}
# bb_grants: how many grant entries of guests Xen shows as in use (mapped by
# a backend), from its 'g' debug key; the console ring of Xen is cleared
# first so that only this dump is counted.
bb_grants() {
	xl dmesg -c >/dev/null
	xl debug-keys g
	sleep 0.5
	xl dmesg | tee -a "$TEST_LOGDIR/xen-grants.log" | grep -c '^(XEN) *\[0x'
}
