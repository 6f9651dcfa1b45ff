# shellcheck shell=bash
# Helpers for the xen-netback tests (tests/vm/tests/5N-netback-*.sh), on top
# of dom0-lib.sh. Their guests run guest/tests/netback-agent.sh: an iperf3
# server, and a command loop that runs what dom0 writes to the guest's
# xenstore data/cmd, so that one guest serves a whole test.
# The tests are black-box: they hold for the kernel's xen-netback and ours.

# shellcheck disable=SC2034 # used by the tests that source this
NB_BR_IP=10.99.0.1

# nb_guest NAME IP [VCPUS] [xl-cfg-line...]: create a guest running the
# agent with eth0 at IP/24 on xenbr0 (unless a vif= line says otherwise),
# and wait until its agent answers (NB_BOOT_SECS, default 120 s: an HVM
# guest under emulation needs more). A guest that does not come up is
# created once more, after an INFO line that says why (see bb_guest; an
# HVM or PVH guest has also died booting with a triple fault).
nb_guest() {
	local name=$1 ip=$2 vcpus=${3:-1} boot=${NB_BOOT_SECS:-120} try domid why
	shift 3 || shift $#
	for try in 1 2; do
		if ! guest_create "$name" --test netback-agent --wait --ip "$ip/24" \
			"vcpus=$vcpus" "vif=['bridge=xenbr0']" "$@"; then
			fail "xl create $name" "see tests/$TEST_NAME/$name.xl-create.log"
			return 1
		fi
		domid=$(guest_domid "$name")
		guest_wait_console "$name" '^GUEST-IDLE' "$boot" >/dev/null && break
		why=$(guest_why "$name" "$domid")
		guest_destroy "$name"
		if [[ $try -eq 2 ]]; then
			fail "guest $name boots and starts its agent" "no GUEST-IDLE within $boot s, twice: $why"
			return 1
		fi
		guest_retry "$name" "$domid" "not up within $boot s: $why"
	done
	guest_collect "$name" || return 1
	if ! gexec "$name" 30 true >/dev/null; then
		fail "guest $name agent answers" "no answer"
		return 1
	fi
}

# gexec NAME SECS CMD...: run CMD (by sh) in guest NAME through its agent
# (one line without tabs: the agent's xenstore-read escapes both);
# prints its output (newlines turned into spaces, the last 1000 bytes) and
# returns its status, 255 if no answer came within SECS.
gexec() {
	local name=$1 secs domid ack seq
	secs=$(guest_secs "$2")
	shift 2
	domid=$(guest_domid "$name") || { echo "no guest $name"; return 255; }
	# Unique in subshells too (a counter would not survive $(gexec ...)).
	seq=$(date +%s%N)
	xenstore-write "/local/domain/$domid/data/cmd" "$seq $*" || return 255
	if ! xs_wait "$secs" "/local/domain/$domid/data/ack" _gexec_answered "$domid"; then
		echo "no answer from $name's agent within ${secs}s"
		return 255
	fi
	ack=${ack#"$seq "}
	echo "${ack#* }"
	return "${ack%% *}"
}
# _gexec_answered DOMID: gexec's ack (its caller's variable) answers seq.
_gexec_answered() {
	ack=$(xenstore-read "/local/domain/$1/data/ack" 2>/dev/null) && [[ $ack == "$seq "* ]]
}

# gexec_bg GUEST NAME CMD: CMD left running in the background in GUEST,
# its pid in /tmp/NAME.pid there.
gexec_bg() {
	gexec "$1" 30 "(exec $3) </dev/null >/dev/null 2>&1 & echo \$! >/tmp/$2.pid" >/dev/null
}
# gexec_bg_stop GUEST NAME: stop it (SIGTERM); fails if it had already
# ended.
gexec_bg_stop() {
	gexec "$1" 30 "kill \$(cat /tmp/$2.pid)" >/dev/null
}
# gexec_bg_wait GUEST NAME SECS: it ends by itself within SECS seconds
# (gone, or a zombie its reaper has not collected yet).
gexec_bg_wait() {
	gexec "$1" $(($3 + 30)) "p=\$(cat /tmp/$2.pid); n=0; while [ \"\$(awk '{ print \$3 }' /proc/\$p/stat 2>/dev/null)\" != Z ] && [ -e /proc/\$p ]; do n=\$((n + 1)); [ \$n -le $(($3 * 5)) ] || exit 1; sleep 0.2; done" >/dev/null
}

# nb_backend DOMID [DEVID]: the backend's xenstore directory of a vif.
nb_backend() { echo "/local/domain/0/backend/vif/$1/${2:-0}"; }
# nb_frontend DOMID [DEVID]: the frontend's.
nb_frontend() { echo "/local/domain/$1/device/vif/${2:-0}"; }

# nb_xs_wait PATH VALUE SECS: wait until PATH reads VALUE ("" = exists).
nb_xs_wait() {
	xs_wait "$3" "$1" _nb_xs_is "$1" "$2"
}
# _nb_xs_is PATH VALUE: nb_xs_wait's condition.
_nb_xs_is() {
	local v
	v=$(xenstore-read "$1" 2>/dev/null) && [[ -z $2 || $v == "$2" ]]
}

# The hostile-netfront tests (56, 57) take over vifs of their guest $g
# (domain $domid); nb_take and nb_fresh set devid, be (the backend's
# xenstore directory) and vif (dom0's device) to the vif in use.
# nb_take DEVID: make the guest's netfront let go of vif DEVID.  From 7.x
# on, the guest's xenbus re-creates a device whose frontend state goes back
# to Initialising ("state reset occurred, reconnecting"), as nbhostile's
# does, and netfront would take the new one: drivers_autoprobe 0 keeps it
# unbound.
# shellcheck disable=SC2154 # g and domid are the caller's
nb_take() {
	local out
	devid=$1 be=$(nb_backend "$domid" "$1") vif=vif$domid.$1
	if out=$(gexec "$g" 30 "echo 0 >/sys/bus/xen/drivers_autoprobe && echo vif-$devid >/sys/bus/xen/drivers/vif/unbind && ! ls -d /sys/bus/xen/drivers/vif/vif-$devid 2>/dev/null") &&
		nb_xs_wait "$be/state" 6 20; then
		pass "the guest's netfront let go of vif $devid (backend Closed)"
	else
		fail "the guest's netfront lets go of vif $devid" "$out; backend state $(xenstore-read "$be/state" 2>&1)"
		return 1
	fi
}
# nb_fresh: replace the vif in use by a new one, taken over in turn (the
# kernel's xen-netback keeps a disabled vif stopped until it is created).
# shellcheck disable=SC2154 # g and domid are the caller's
nb_fresh() {
	local out d
	if ! out=$(timeout 60 xl network-detach "$g" "$devid" 2>&1); then
		fail "xl network-detach of the attacked vif $devid" "$out"
		return 1
	fi
	if ! out=$(timeout 60 xl network-attach "$g" bridge=xenbr0 2>&1); then
		fail "xl network-attach of a fresh vif" "$out"
		return 1
	fi
	d=$(xl network-list "$g" 2>/dev/null | awk 'NR > 1 { d = $1 } END { print d }')
	# Autoprobe is off since nb_take: netfront takes the new vif on demand.
	out=$(gexec "$g" 30 "for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/bus/xen/devices/vif-$d ] && break; sleep 1; done; echo vif-$d >/sys/bus/xen/drivers/vif/bind") || {
		fail "the guest's netfront binds the fresh vif $d" "$out"
		return 1
	}
	nb_xs_wait "$(nb_frontend "$domid" "$d")/state" 4 30 || {
		fail "the guest's netfront connects the fresh vif $d" "frontend state $(xenstore-read "$(nb_frontend "$domid" "$d")/state" 2>&1)"
		return 1
	}
	nb_take "$d"
}

# nb_vif_gone VIF: wait up to 10 s for dom0's net device VIF to go away.
nb_vif_gone() {
	local n=0
	while [[ -e /sys/class/net/$1 && $n -lt 50 ]]; do
		sleep 0.2
		n=$((n + 1))
	done
	[[ ! -e /sys/class/net/$1 ]]
}

# nb_udp_rcvbuf_errors: UDP datagrams (IPv4 and IPv6) dom0's sockets
# have dropped for a full receive buffer since boot.
nb_udp_rcvbuf_errors() {
	local v4 v6
	v4=$(awk '$1 == "Udp:" { if (n++) print $col; else for (i = 2; i <= NF; i++)
		if ($i == "RcvbufErrors") col = i }' /proc/net/snmp)
	v6=$(awk '$1 == "Udp6RcvbufErrors" { print $2 }' /proc/net/snmp6 2>/dev/null)
	echo $((${v4:-0} + ${v6:-0}))
}

# nb_vifs_rx_dropped: frames from guests that dom0's vifs dropped, summed.
nb_vifs_rx_dropped() {
	cat /sys/class/net/vif*/statistics/rx_dropped 2>/dev/null |
		awk '{ s += $1 } END { print s + 0 }'
}

# nb_iperf WHAT IP SECS [iperf3 options...]: one iperf3 run from dom0 to
# the server at IP (-R: the server sends). Passes if the receiver got at
# least NB_IPERF_MIN_MBPS (TCP) or NB_UDP_MIN_MBPS with under
# NB_UDP_MAX_LOSS % lost (UDP); prints a METRIC line and leaves the Mbit/s
# in NB_MBPS.
# The bounds, from 51 and 54 in three full runs on 6.1 and 6.12 (slow
# machine): TCP 65-894 Mbit/s over 33 runs, the slowest IPv6 with
# checksum offload off, guest -> dom0; UDP at -b 20M 7.7-13.7 Mbit/s
# received, with 0-5.8 % lost and once 41 % (dom0 -> guest, the guest's
# vCPU starved: the loss is its socket's, not the vif's).  TCP and UDP
# must reach a quarter of the slowest run seen (2x for a slower machine,
# 2x margin); a backend that stalls or drops moves far less.  A debug
# dom0 (slub_debug, KFENCE and kmemleak on every skb) moved TCP at
# 26-482 Mbit/s and UDP at 7.5 in 51 (2026-12-04; 7.0 and 2.6 with debug
# guests): a quarter of the slowest there.
NB_IPERF_MIN_MBPS=16
NB_UDP_MIN_MBPS=2
if [[ ${VM_DEBUG:-0} -ne 0 ]]; then
	NB_IPERF_MIN_MBPS=2
	NB_UDP_MIN_MBPS=0.6
fi
# With -R the loss is judged without the datagrams dom0's own socket
# dropped for a full buffer: a slow dom0 receiver, not the vif (a debug
# dom0 lost 57 % in 51 on 2026-12-07; in the next run 1588 datagrams of
# its 50 % were its socket's, a few more than iperf3 counted lost).  As
# that count may cover more than the vif's frames, a rise in the vifs'
# own rx_dropped then fails the run.
NB_UDP_MAX_LOSS=50
nb_iperf() {
	local what=$1 ip=$2 secs=$3 json bps bytes lost sock0 sock=0 dropped=
	local vif0 vif
	shift 3
	NB_MBPS=0
	sock0=$(nb_udp_rcvbuf_errors)
	vif0=$(nb_vifs_rx_dropped)
	json=$(timeout $((secs + 30)) iperf3 -c "$ip" -t "$secs" -J "$@" 2>&1)
	if [[ " $* " == *" -u "* ]]; then
		bytes=$(jq -r '.end.sum.bytes // 0' <<<"$json" 2>/dev/null)
		bps=$(jq -r '.end.sum.bits_per_second // 0' <<<"$json" 2>/dev/null)
		lost=$(jq -r '.end.sum.lost_percent // 100' <<<"$json" 2>/dev/null)
		if [[ " $* " == *" -R "* ]]; then
			sock=$(($(nb_udp_rcvbuf_errors) - sock0))
			vif=$(($(nb_vifs_rx_dropped) - vif0))
			dropped=" besides $sock datagrams dom0's full socket dropped; the vifs dropped $vif"
			lost=$(jq -r --argjson s "$sock" \
				'.end.sum | if .packets > 0 then [(.lost_packets - $s)
				 * 100 / .packets, 0] | max else 100 end' \
				<<<"$json" 2>/dev/null)
			# What the socket's count may cover must not be the vif's.
			[[ $vif -eq 0 ]] || lost=100
		fi
	else
		bytes=$(jq -r '.end.sum_received.bytes // 0' <<<"$json" 2>/dev/null)
		bps=$(jq -r '.end.sum_received.bits_per_second // 0' <<<"$json" 2>/dev/null)
		lost=0
	fi
	NB_MBPS=$(awk -v b="${bps:-0}" 'BEGIN { printf "%.1f", b / 1e6 }')
	local min=$NB_IPERF_MIN_MBPS
	[[ " $* " == *" -u "* ]] && min=$NB_UDP_MIN_MBPS
	if [[ ${bytes:-0} =~ ^[0-9]+$ && ${bytes:-0} -gt 0 ]] &&
		awk -v l="${lost:-100}" -v r="$NB_MBPS" -v min="$min" -v max="$NB_UDP_MAX_LOSS" \
			'BEGIN { exit !(l < max && r >= min) }'; then
		pass "$what: $NB_MBPS Mbit/s ($bytes bytes${lost:+, ${lost}% lost}$dropped)"
		echo "METRIC: $what: $NB_MBPS Mbit/s"
		return 0
	fi
	fail "$what" "received ${bytes:-?} bytes ($NB_MBPS Mbit/s, at least $min wanted), ${lost:-?}% lost$dropped: $(jq -r '.error // empty' <<<"$json" 2>/dev/null || head -c 300 <<<"$json")"
	return 1
}

# nb_iperf_idle IP: the iperf3 server at IP has closed every connection
# of a stopped test (dom0 has none left established or waiting for its
# close), so that the next test does not find it busy.
nb_iperf_idle() {
	local n=0
	while [[ -n $(ss -Htn state established state fin-wait-1 state fin-wait-2 dst "$1") ]]; do
		[[ $n -lt 100 ]] || return 1
		sleep 0.1
		n=$((n + 1))
	done
}

# nb_md5_roundtrip WHAT NAME IP BYTES: BYTES of random data from dom0 to
# the guest and back over TCP (busybox nc in the guest, bash's /dev/tcp in
# dom0); passes if both ends got exactly what was sent.
nb_md5_roundtrip() {
	local what=$1 name=$2 ip=$3 n=$4 f want got out
	f=$(mktemp -d)
	head -c "$n" /dev/urandom >"$f/tx"
	want=$(md5sum <"$f/tx" | cut -d' ' -f1)
	# A listener left by an earlier failed run would take the connection.
	gexec "$name" 10 "killall nc 2>/dev/null; rm -f /tmp/rx; nc -l -p 5101 >/tmp/rx </dev/null 2>/dev/null &" >/dev/null
	sleep 1
	if ! timeout 60 bash -c "cat '$f/tx' >/dev/tcp/$ip/5101"; then
		fail "$what: dom0 -> guest" "could not send"
		rm -rf "$f"
		return 1
	fi
	out=$(gexec "$name" 30 "i=0; while [ \$(wc -c </tmp/rx) -lt $n ] && [ \$i -lt 100 ]; do sleep 0.2; i=\$((i + 1)); done; md5sum </tmp/rx")
	got=${out%% *}
	if [[ $got == "$want" ]]; then
		pass "$what: dom0 -> guest, $n bytes, md5 equal"
	else
		fail "$what: dom0 -> guest" "guest md5 '$out', sent $want"
	fi
	gexec "$name" 10 "killall nc 2>/dev/null; nc -l -p 5102 </tmp/rx >/dev/null 2>/dev/null &" >/dev/null
	sleep 1
	timeout 60 bash -c "head -c $n </dev/tcp/$ip/5102 >'$f/rx'" || true
	got=$(md5sum <"$f/rx" | cut -d' ' -f1)
	if [[ $got == "$want" ]]; then
		pass "$what: guest -> dom0, $n bytes, md5 equal"
	else
		fail "$what: guest -> dom0" "$(stat -c %s "$f/rx") bytes, md5 $got, want $want"
	fi
	rm -rf "$f"
}
