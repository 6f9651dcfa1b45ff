# shellcheck shell=bash
# Helpers for dom0-side tests, tests/vm/tests/<name>.sh. A test starts with
#   . "$REPO/tests/vm/lib/dom0-lib.sh"
# and reports each check with pass/fail. dom0-run exports:
#   REPO    the repository (same path as on the host)
#   KVER    the running dom0 kernel release
#   MODDIR  $REPO/build/$KVER, where the project's modules are built
#   VMLINUZ the dom0 kernel's image (/boot/vmlinuz-$KVER for a Debian kernel)
#   KCONFIG its configuration (/boot/config-$KVER for a Debian kernel)
#   LOGDIR  the run's log directory (kept on the host after the run)
#   TEST_NAME  this test's name
# and this file adds:
#   TEST_LOGDIR   $LOGDIR/tests/$TEST_NAME, for files a test wants to keep
#   GUEST_KERNEL  the guest kernel (dom0's, or run's --guest-kernel),
#                 uncompressed by run (build/vm/KVER/vmlinux), or $VMLINUZ
#   GUEST_VMLINUZ its compressed image, for HVM guests (default $VMLINUZ)

: "${REPO:?run tests through tests/vm/run}"
: "${TEST_NAME:=$(basename "$0" .sh)}"
TEST_LOGDIR=$LOGDIR/tests/$TEST_NAME
GUEST_KERNEL=${GUEST_KERNEL:-$VMLINUZ}
GUEST_VMLINUZ=${GUEST_VMLINUZ:-$VMLINUZ}
mkdir -p "$TEST_LOGDIR"

_vm_fails=0

# guest_secs SECS: the time a guest gets to answer a command (gexec, gsh),
# at least GUEST_MIN_WAIT: a bound only ends the wait for an answer that
# is not coming, and with the host's other core busy a guest's "ls" once
# took over 10 s (50, 6.1).
GUEST_MIN_WAIT=30
guest_secs() { echo $(($1 < GUEST_MIN_WAIT ? GUEST_MIN_WAIT : $1)); }

# shellcheck source=SCRIPTDIR/module-id.sh
. "$REPO/tests/vm/lib/module-id.sh"

# pass WHAT / fail WHAT [REASON]: one line per check, read by dom0-run.
pass() { echo "PASS: $*"; }
fail() {
	local what=$1
	shift
	echo "FAIL: $what${1:+: $*}"
	_vm_fails=$((_vm_fails + 1))
}
# note MSG: free text for the test's log only (not a check).
note() { echo "# $*"; }

# check WHAT CMD...: run CMD; pass if it succeeds, else fail with the end of
# its output. Returns CMD's status (under "set -e" a failed check ends the
# test after reporting; add "|| true" to go on).
check() {
	local what=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [[ $rc -eq 0 ]]; then
		pass "$what"
	else
		[[ -z $out ]] || out=": $(echo "$out" | tail -n 3 | tr '\n' ' ')"
		fail "$what" "'$*' exited $rc$out"
	fi
	return "$rc"
}

# A script that reported a failure exits non-zero even if its last command
# succeeded.
_vm_exit() {
	local rc=$? g
	# Guests that went by themselves (a guest test that powers off).
	for g in "${!_guest_live[@]}"; do _guest_kernel_clean "$g"; done
	if [[ $rc -eq 0 && $_vm_fails -gt 0 ]]; then exit 1; fi
}
trap _vm_exit EXIT

# xs_wait SECS PATH CMD...: run CMD until it succeeds, again after each
# change of the xenstore PATH (or its children) and at least every 5 s, for
# up to SECS seconds.  A watch instead of a poll: under emulation the two
# processes a poll spawns take CPU from the guests and backends under test.
xs_wait() {
	local secs=$1 path=$2 deadline fd pid rc=1 left
	shift 2
	deadline=$((SECONDS + secs))
	exec {fd}< <(exec xenstore-watch "$path" 2>/dev/null)
	pid=$!
	while :; do
		if "$@"; then
			rc=0
			break
		fi
		left=$((deadline - SECONDS))
		[[ $left -gt 0 ]] || break
		[[ $left -le 5 ]] || left=5
		# An event, or the time; if the watch ended, poll instead.
		read -r -t "$left" -u "$fd" _ || [[ $? -gt 128 ]] || sleep 0.2
	done
	kill "$pid" 2>/dev/null
	exec {fd}<&-
	return "$rc"
}

# guest_console NAME: path of the guest's console log (written by xenconsoled).
# GUEST_DIED_ERE: a line of it that says the guest's kernel oopsed, hit a
# BUG or panicked (bench_dom0_sound reads dom0's log with it too).
GUEST_DIED_ERE='Kernel panic|BUG:|Oops'
guest_console() { echo "/var/log/xen/guest-$1.log"; }

# bed_flags_fault: reads a kernel log; prints " (EFLAGS X: ...)" for the
# first register dump whose EFLAGS holds a bit no x86 CPU sets (the
# must-be-zero ones of 0xffc08028): the test bed's CPU emulation, seen with
# the kernel's own modules alone too (tests/vm/README.md).
bed_flags_fault() {
	local f
	while read -r f; do
		if (((16#$f & 16#ffc08028) != 0)); then
			echo " (EFLAGS $f: bits no x86 CPU sets, the bed's CPU emulation)"
			return 0
		fi
	done < <(grep -oE 'EFLAGS: [0-9a-f]+' | cut -d' ' -f2)
	return 1
}

# guest_domid NAME: the guest's domain id (fails if there is no such guest).
guest_domid() { xl domid "$1" 2>/dev/null; }

# guest_create NAME [options] [xl-cfg-line...]
# Creates a PV guest running the guest initramfs (tests/vm/guest). Options:
#   --test T       run tests/vm/guest/tests/T.sh in the guest, then power off
#   --wait         stay up after the test (or with no test) until shut down
#   --ip CIDR      address for the guest's eth0 (needs a vif line)
#   --cmdline S    more guest kernel command line
# Each xl-cfg-line ("key=value") replaces the default line with the same key
# or is added, e.g. "memory=512" "vif=['bridge=xenbr0']"
# "disk=['phy:/dev/ram0,xvda,w']". The config and xl's output are kept in
# $TEST_LOGDIR. A PV guest is waited for until its init runs (GUEST-BOOT
# on its console), and created once more if it has not within 60 s.
guest_create() {
	local name=$1 test='' wait=0 ip='' cmdline='' initrd line key
	shift
	while [[ $# -gt 0 ]]; do
		case $1 in
		--test) test=$2; shift 2 ;;
		--wait) wait=1; shift ;;
		--ip) ip=$2; shift 2 ;;
		--cmdline) cmdline=$2; shift 2 ;;
		*) break ;;
		esac
	done
	# Guest tests that need big programs get their own initramfs.
	initrd=$GUEST_INITRD_DIR/guest-initrd.cpio
	[[ -n $test && -f $GUEST_INITRD_DIR/guest-initrd-$test.cpio ]] &&
		initrd=$GUEST_INITRD_DIR/guest-initrd-$test.cpio
	# An HVM guest's kernel also writes to its emulated serial port, kept
	# in NAME.serial.log: its console log is empty until the PV console
	# is up, and an HVM guest has been seen silent until then (72).
	local serial=''
	[[ " $* " == *' type="hvm" '* ]] && serial=$TEST_LOGDIR/$name.serial.log
	local extra="${serial:+console=ttyS0 }console=hvc0${test:+ guest_test=$test}${ip:+ guest_ip=$ip}"
	[[ $wait -eq 1 ]] && extra+=" guest_wait=1"
	[[ ${VM_LIMIT_SCALE:-1} -eq 1 ]] || extra+=" guest_limit_scale=$VM_LIMIT_SCALE"
	extra+=${cmdline:+ $cmdline}
	local -a cfg=(
		"name=\"$name\""
		'type="pv"'
		"kernel=\"$GUEST_KERNEL\""
		"ramdisk=\"$initrd\""
		"extra=\"$extra\""
		'memory=256'
		'vcpus=1'
		'on_poweroff="destroy"'
		'on_reboot="destroy"'
		'on_crash="destroy"'
	)
	[[ -z $serial ]] || cfg+=("serial=\"file:$serial\"")
	for line in "$@"; do
		key=${line%%=*}
		key=${key// /}
		local i found=0
		for i in "${!cfg[@]}"; do
			if [[ ${cfg[i]%%=*} == "$key" ]]; then
				cfg[i]=$line
				found=1
			fi
		done
		[[ $found -eq 1 ]] || cfg+=("$line")
	done
	printf '%s\n' "${cfg[@]}" >"$TEST_LOGDIR/$name.cfg"
	local try domid why
	for try in 1 2; do
		# A fresh console log, so old markers of a same-named guest
		# cannot match.
		rm -f "$(guest_console "$name")"
		if ! xl create "$TEST_LOGDIR/$name.cfg" >"$TEST_LOGDIR/$name.xl-create.log" 2>&1; then
			note "xl create $name failed:"
			sed 's/^/#   /' "$TEST_LOGDIR/$name.xl-create.log"
			return 1
		fi
		_guest_live[$name]=1
		# Under TCG a PV guest's kernel has, rarely, oopsed before
		# its init ran (no frontend loaded yet): create it once more.
		grep -qx 'type="pv"' "$TEST_LOGDIR/$name.cfg" || return 0
		domid=$(guest_domid "$name")
		guest_wait_console "$name" '^GUEST-BOOT' 60 >/dev/null && return 0
		why=$(guest_why "$name" "$domid")
		guest_destroy "$name"
		if [[ $try -eq 2 ]]; then
			echo "INFO: guest $name (domain $domid) did not reach its init within 60 s, twice: $why"
			return 1
		fi
		guest_retry "$name" "$domid" "did not reach its init within 60 s: $why"
	done
}

# guest_wait_console NAME REGEX TIMEOUT: wait until a line of the guest's
# console matches the extended REGEX (carriage returns removed); prints the
# line. Fails at TIMEOUT seconds, or early when the guest is gone.
guest_wait_console() {
	local name=$1 re=$2 deadline=$((SECONDS + $3)) log gone=0
	log=$(guest_console "$name")
	while :; do
		if tr -d '\r' <"$log" 2>/dev/null | grep -E -m 1 -- "$re"; then
			return 0
		fi
		if [[ $gone -eq 1 ]]; then
			note "guest $name is gone and its console never matched '$re'"
			return 1
		fi
		if [[ $SECONDS -ge $deadline ]]; then
			note "timed out after $3s waiting for '$re' on $name's console"
			return 1
		fi
		# Look once more after the guest has gone: the log may lag a little.
		guest_domid "$name" >/dev/null || gone=1
		sleep 0.5
	done
}

# guest_collect NAME: turn the guest's GUEST-PASS / GUEST-FAIL console lines
# into checks of this test. Fails if any failed or there were none.
guest_collect() {
	local name=$1 line n=0 bad=0
	while IFS= read -r line; do
		case $line in
		GUEST-PASS:*) pass "guest $name:${line#GUEST-PASS:}"; n=$((n + 1)) ;;
		GUEST-FAIL:*) fail "guest $name:${line#GUEST-FAIL:}"; n=$((n + 1)); bad=1 ;;
		esac
	done < <(tr -d '\r' <"$(guest_console "$name")" 2>/dev/null)
	if [[ $n -eq 0 ]]; then
		fail "guest $name" "no GUEST-PASS or GUEST-FAIL line on its console"
		return 1
	fi
	return "$bad"
}

# guest_shutdown NAME [TIMEOUT]: clean shutdown through xenstore (the guest
# kernel runs /sbin/poweroff), then wait until the domain is gone: "xl
# shutdown -w" returns once it has shut down, before xl has destroyed it.
guest_shutdown() {
	local deadline=$((SECONDS + ${2:-60}))
	_guest_end "$1"
	timeout "${2:-60}" xl shutdown -w "$1" >/dev/null 2>&1 || return 1
	while guest_domid "$1" >/dev/null; do
		[[ $SECONDS -lt $deadline ]] || return 1
		sleep 0.5
	done
}

# guest_why NAME DOMID: one line on why guest NAME (domain DOMID) did not
# come up: whether it is still there, Xen's last line about the domain
# and its console's last panic, oops or GUEST-FAIL line, else its last
# line; the console is kept as NAME.console.DOMID.log in the test's logs
# (the next guest of that name overwrites it).
guest_why() {
	local name=$1 domid=$2 state=gone xen last log
	log=$(guest_console "$name")
	cp "$log" "$TEST_LOGDIR/$name.console.$domid.log" 2>/dev/null
	guest_domid "$name" >/dev/null && state="still there"
	xen=$(xl dmesg 2>/dev/null | grep -E " d${domid}v[0-9]+ |[Dd]omain ${domid}\b|\(d${domid}\) " | tail -n 1)
	last=$(tr -d '\r' <"$log" 2>/dev/null | grep -E "$GUEST_DIED_ERE|GUEST-FAIL" | tail -n 1)
	[[ -n $last ]] || last=$(tr -d '\r' <"$log" 2>/dev/null | grep -v '^[[:space:]]*$' | tail -n 1)
	echo -n "$state; Xen: ${xen:-nothing on it}; console: ${last:0:160}"
	log=$TEST_LOGDIR/$name.serial.log
	if [[ -f $log ]]; then
		cp "$log" "$TEST_LOGDIR/$name.serial.$domid.log"
		last=$(tr -d '\r' <"$log" | grep -v '^[[:space:]]*$' | tail -n 1)
		echo -n "; serial: ${last:0:160}"
	fi
	echo
}

# guest_crash_context NAME: after a guest's kernel died, the lines of its
# console that say where (the first report's header, RIP and call trace,
# at most 30), as INFO lines in the test's output, which is all a CI log
# keeps; the whole console is kept as NAME.crash.console.log.
guest_crash_context() {
	local log
	log=$(guest_console "$1")
	cp "$log" "$TEST_LOGDIR/$1.crash.console.log" 2>/dev/null
	tr -d '\r' <"$log" 2>/dev/null |
		sed -En "/$GUEST_DIED_ERE/,\$p" |
		grep -E 'Oops|BUG:|Comm:|RIP:|Call Trace|Code:|^\[ *[0-9.]+\] +[<?]? *[A-Za-z_][A-Za-z0-9_.]*\+0x|Kernel panic' |
		head -n 30 | sed "s/^/INFO: guest $1 console: /"
}

# guest_bed_fault NAME DOMID: which documented fault of the test bed
# (README.md, known hazards) kept guest NAME from coming up, if one did.
# Both strike before the guest's init runs, so before any frontend has
# talked to a backend of ours:
#   - Xen's "dDOMIDv0 Triple fault" (HVM and PVH guests);
#   - the guest kernel's own oops or panic (seen in a usermode-helper).
# Anything else, a silent hang included, is not the bed's.
guest_bed_fault() {
	local con
	con=$(tr -d '\r' 2>/dev/null <"$(guest_console "$1")") || return 0
	grep -q '^GUEST-BOOT' <<<"$con" && return 1
	if xl dmesg 2>/dev/null | grep -qE " d$2v[0-9]+ Triple fault"; then
		echo "a triple fault before the guest's init"
	elif grep -qE "$GUEST_DIED_ERE" <<<"$con"; then
		echo "the guest kernel died before its init"
	else
		return 1
	fi
}
# guest_retry NAME DOMID WHY: guest NAME is created once more: an INFO line
# that tests/check counts, and a FAIL unless a fault of the bed was why, so
# that an intermittent fault of ours is never retried away.
guest_retry() {
	local fault
	if fault=$(guest_bed_fault "$1" "$2"); then
		echo "INFO: retry: guest $1 (domain $2) created again after $fault: $3"
	else
		echo "INFO: retry: guest $1 (domain $2) created again: $3"
		fail "guest $1 comes up at the first try" "$3 (no documented fault of the test bed)"
	fi
}

# guest_destroy NAME: hard stop; no error if the guest does not exist.
guest_destroy() {
	_guest_end "$1"
	xl destroy "$1" >/dev/null 2>&1 || true
}

# Guests guest_create made in this shell whose console is still to be read
# (by _guest_end, or by _vm_exit for one that went by itself).
declare -A _guest_live=()

# _guest_kernel_clean NAME: once per guest_create, a guest whose init ran
# must not have oopsed, hit a BUG or panicked: its memory is what our
# backends write into, and a guest may live on after an oops that killed
# only one of its processes.  One that died before its init is the bed's
# (guest_create retries it).
_guest_kernel_clean() {
	local con bad
	[[ -n ${_guest_live[$1]:-} ]] || return 0
	unset "_guest_live[$1]"
	con=$(tr -d '\r' 2>/dev/null <"$(guest_console "$1")") || return 0
	grep -q '^GUEST-BOOT' <<<"$con" || return 0
	bad=$(grep -E -m 1 "$GUEST_DIED_ERE" <<<"$con" || true)
	if [[ -z $bad ]]; then
		pass "guest $1: its kernel logged no oops, BUG or panic"
	else
		fail "guest $1: its kernel logged no oops, BUG or panic" \
			"${bad:0:200}$(bed_flags_fault <<<"$con")"
		guest_crash_context "$1"
	fi
}

# _guest_end NAME: as a guest goes, its kernel's log is read (once per
# guest_create), then a library's checks of it (its guest_end_hook, if it
# defines one: blkback-lib.sh reads the console).
_guest_end() {
	_guest_kernel_clean "$1"
	if declare -F guest_end_hook >/dev/null; then
		guest_end_hook "$1"
	fi
	return 0
}
