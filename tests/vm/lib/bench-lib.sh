# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Benchmarks' common part (tests/bench/vm/*.sh), sourced after dom0-lib.sh:
# figures kept per round and reported as the median with the spread, and
# the backend's own cost measured in dom0 around a piece of work.
#
# Every round's figure is kept; a METRIC line gives each copy's median and
# range and the ratio of the medians with the range of the per-round
# ratios (ours against the in-tree copy of the same round), never a best
# round, which would hide the collapses users hit.

declare -A _bench_vals

# bench_keep COPY NAME ROUND VALUE: one round's figure.
bench_keep() {
	_bench_vals[$1/$2]+=" $3:$4"
}

# bench_dom0_sound WHEN: true while dom0's kernel has logged no oops since
# its boot (each bench has a boot of its own); else a FAIL naming the first
# report (and the bed's fault, if bed_flags_fault sees it): the rounds
# after it would measure a broken kernel, so the caller stops.  Narrower
# than the runner's check after the test (KERNEL_LOG_BAD), which still
# fails the bench on a warning or stall: those leave the kernel working.
bench_dom0_sound() {
	local log first
	log=$(dmesg)
	first=$(grep -m 1 -E "$GUEST_DIED_ERE|general protection|exc_debug_kernel" <<<"$log") || return 0
	fail "dom0's kernel sound before $1" "${first:0:200}$(bed_flags_fault <<<"$log")"
	return 1
}

# _bench_stats "R:V ...": "median min max" of the values, or nothing.
_bench_stats() {
	tr ' ' '\n' <<<"$1" | sed -n 's/^[0-9]*://p' | sort -g |
		awk 'function f(x) {
			return x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.3f", x)
		}
		{ v[NR] = $1 }
		END {
			if (!NR) exit
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%s %s %s\n", f(m), f(v[1]), f(v[NR])
		}'
}

# _bench_ratios "R:V ..." "R:V ..." KIND: "min max n" of the per-round
# ratios (KIND as for bench_metric), over the rounds both copies have.
_bench_ratios() {
	awk -v a="$1" -v b="$2" -v kind="$3" '
	BEGIN {
		na = split(a, x, " "); nb = split(b, y, " ")
		for (i = 1; i <= nb; i++) { split(y[i], p, ":"); in_tree[p[1]] = p[2] }
		for (i = 1; i <= na; i++) {
			split(x[i], p, ":")
			if (!(p[1] in in_tree) || p[2] + 0 == 0 || in_tree[p[1]] + 0 == 0) continue
			r = kind == "time" ? in_tree[p[1]] / p[2] : p[2] / in_tree[p[1]]
			if (!n || r < lo) lo = r
			if (!n || r > hi) hi = r
			n++
		}
		if (n) printf "%.2f %.2f %d\n", lo, hi, n
	}'
}

# bench_metric BENCH NAME UNIT KIND: the METRIC line of NAME, and a check
# that both copies were measured.  KIND: "rate" (higher is faster; speed
# ratio ours/in-tree), "time" (lower is faster; speed ratio in-tree/ours)
# or "cost" (lower is cheaper; cost ratio ours/in-tree, < 1: ours
# cheaper).
bench_metric() {
	local bench=$1 name=$2 unit=$3 kind=$4 o i om omin omax im imin imax rlo rhi rn ratio what
	o=${_bench_vals[ours/$name]:-} i=${_bench_vals[in-tree/$name]:-}
	read -r om omin omax < <(_bench_stats "$o")
	read -r im imin imax < <(_bench_stats "$i")
	what="speed ratio ours/in-tree"
	[[ $kind == cost ]] && what="cost ratio ours/in-tree"
	if [[ -z ${om:-} || -z ${im:-} ]]; then
		echo "METRIC: $bench $name: ours ${om:-not measured}, in-tree ${im:-not measured} $unit, $what n/a"
		fail "benchmark $name measured for both copies"
		return 1
	fi
	read -r rlo rhi rn < <(_bench_ratios "$o" "$i" "$kind")
	if awk "BEGIN { exit !($om == 0 || $im == 0) }"; then
		ratio=n/a
	elif [[ $kind == time ]]; then
		ratio=$(awk "BEGIN { printf \"%.2f\", $im / $om }")
	else
		ratio=$(awk "BEGIN { printf \"%.2f\", $om / $im }")
	fi
	echo "METRIC: $bench $name: ours $om $unit ($omin-$omax), in-tree $im $unit ($imin-$imax), $what $ratio (per round ${rlo:-?}-${rhi:-?}, ${rn:-0} rounds)"
	pass "benchmark $name measured for both copies"
}

# The backend's cost, counted around a piece of work in the domain that
# runs the backend, BENCH_COST_DOMAIN (default Domain-0; a driver
# domain's counters are read through its agent, gexec):
# - its CPU time as its own kernel accounts it (the time its CPUs were
#   not idle: cost-counters.sh), all of it: the ring threads, softirq,
#   interrupts, workqueues, and whatever else ran (the same for both
#   copies);
# - its vCPU time as Xen accounts it (build/tests/xen_cpu_time, in
#   microseconds; xl vcpu-list shows it in 0.1 s steps), which includes
#   the hypervisor's work on its hypercalls;
# - interrupts of the backend's event channels (/proc/interrupts lines
#   whose name matches the bench's ERE);
# and, in a window of their own (bench_count_*) after the timed one, with
# the same work still going:
# - calls of the grant-table functions both copies use and the grant
#   operations they carry, and notifications sent (kprobes with histogram
#   triggers: tests/vm/guest/cost-counters.sh).  The probes are armed only
#   there: each probed call runs the probe's handler, and the copy that
#   makes more of those calls (in-tree maps and unmaps what ours copies)
#   paid more for them inside the timed windows, which biased the CPU
#   figures and the speed ratios in ours' favour until 2026-12-06.
_bench_counters=$REPO/tests/vm/guest/cost-counters.sh

# _bench_run ARG...: cost-counters.sh ARG... in BENCH_COST_DOMAIN.
_bench_run() {
	if [[ ${BENCH_COST_DOMAIN:-Domain-0} == Domain-0 ]]; then
		sh "$_bench_counters" "$@"
	else
		gexec "$BENCH_COST_DOMAIN" 30 "sh /lib/cost-counters.sh $(printf '%q ' "$@")"
	fi
}

# _bench_domid: the id of BENCH_COST_DOMAIN (an xl call for a driver
# domain, about 0.3 s under TCG: made outside the counting windows).
_bench_domid() {
	if [[ ${BENCH_COST_DOMAIN:-Domain-0} == Domain-0 ]]; then
		echo 0
	else
		xl domid "$BENCH_COST_DOMAIN" 2>/dev/null
	fi
}

# _bench_xen DOMID: the domain's vCPU time as Xen accounts it,
# "xen_us=N", and when it was read, "xen_at_ms=N" (the middle of the
# read).
_bench_xen_cpu=$REPO/build/tests/xen_cpu_time
_bench_xen() {
	local t0=${EPOCHREALTIME/./} t1
	"$_bench_xen_cpu" "$1"
	t1=${EPOCHREALTIME/./}
	echo "xen_at_ms=$(((t0 + t1) / 2000))"
}

# bench_cost_setup: the kprobes, not armed; fails if the kernel cannot
# have them (counts are then missing from the METRIC lines).  It
# checks first that the Xen-accounted time read to the microsecond agrees
# with xl vcpu-list's, read between two such readings (each vCPU's time
# there rounded to a tenth of a second).
bench_cost_setup() {
	local before after xl slack domid dom=${BENCH_COST_DOMAIN:-Domain-0}
	domid=$(_bench_domid)
	before=$(_bench_xen "$domid" | sed -n 's/^xen_us=//p')
	read -r xl slack < <(xl vcpu-list "$dom" 2>/dev/null |
		awk 'NR > 1 { t += $6; n++ } END { if (n) printf "%.0f %d\n", t * 1000000, n * 50000 }')
	after=$(_bench_xen "$domid" | sed -n 's/^xen_us=//p')
	if [[ -n $before && -n $after && -n $xl ]] &&
		((before - slack <= xl && xl <= after + slack)); then
		pass "Xen-accounted time of $dom: xen_cpu_time agrees with xl vcpu-list"
	else
		fail "Xen-accounted time of $dom: xen_cpu_time agrees with xl vcpu-list" \
			"xen_cpu_time ${before:-none} and ${after:-none} us around xl's ${xl:-none}"
	fi
	_bench_run setup >/dev/null
}

# _bench_snap IRQ_ERE begin|end DOMID: the counters now, "NAME=VALUE"
# words.  The domain's CPU time is read last at the beginning of a window
# and first at its end, Xen's time for it just inside those, and the task
# list outside: at about 0.3 s under TCG, the task list would otherwise
# weigh on the window as much as the work.  (Until 2026-12-05 Xen's time
# came from xl vcpu-list, read outside the window and scaled to it, with
# the counters' own run inside: dom0's background was 84-87 ms per second
# Xen-accounted, against 23-28 read this way.)
_bench_snap() {
	if [[ $2 == begin ]]; then
		_bench_run snap "$1" last
		_bench_xen "$3"
	else
		_bench_xen "$3"
		_bench_run snap "$1"
	fi
}

# _bench_per VALUE UNITS: VALUE per unit.
_bench_per() {
	awk "BEGIN { printf \"%.3f\", $1 / $2 }"
}

# _bench_tasks: "COMM TICKS" of every task in dom0 (user and system
# time, digits in names folded: kworker/N:N-kblockd), and the parts of
# /proc/stat's cpu line as "[user] TICKS" and so on: where a difference
# lies.  Tasks that ended within the window count in those parts only.
_bench_tasks() {
	[[ ${BENCH_COST_DOMAIN:-Domain-0} == Domain-0 ]] || return 0
	awk '/^cpu / { printf "[user] %d\n[system] %d\n[irq] %d\n[softirq] %d\n", $2 + $3, $4, $7, $8 }' /proc/stat
	cat /proc/[0-9]*/stat 2>/dev/null | awk '{
		# The name is in brackets and may hold spaces: fields after it.
		s = $0; sub(/^[0-9]+ \(/, "", s); i = match(s, /\) [A-Z] /)
		if (!i) next
		name = substr(s, 1, i - 1); gsub(/[0-9]+/, "N", name); gsub(/ /, "_", name)
		split(substr(s, i + 2), f, " ")
		t[name] += f[12] + f[13]
	} END { for (k in t) print k, t[k] }'
}

# _bench_note_tasks WHAT: a note of the tasks and /proc/stat parts that
# used the most CPU since bench_cost_begin, "NAME TICKS, ..." (ticks of
# 10 ms); nothing where the task list is not read (a driver domain).
_bench_note_tasks() {
	[[ -n $_bench_tasks_at ]] || return 0
	note "$1: CPU by task (ticks): $(awk 'NR == FNR { t0[$1] = $2; next } { d = $2 - t0[$1]; if (d > 0) print d, $1 }' \
		<(echo "$_bench_tasks_at") <(_bench_tasks) | sort -rn | head -n 8 |
		awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }')"
}

declare -A _bench_at
_bench_tasks_at=
# bench_cost_begin IRQ_ERE [notasks]: start counting; with notasks,
# without the task list (its note would span the counting's own run).
bench_cost_begin() {
	local w
	_bench_at=()
	_bench_tasks_at=
	[[ ${2:-} == notasks ]] || _bench_tasks_at=$(_bench_tasks)
	_bench_at[domid]=$(_bench_domid)
	for w in $(_bench_snap "$1" begin "${_bench_at[domid]}"); do _bench_at[${w%%=*}]=${w#*=}; done
	_bench_at[ere]=$1
}

# _bench_delta: the counters' change since bench_cost_begin, in the
# caller's associative array delta.
_bench_delta() {
	local w k
	local -A now
	for w in $(_bench_snap "${_bench_at[ere]}" end "${_bench_at[domid]}"); do now[${w%%=*}]=${w#*=}; done
	for k in "${!now[@]}"; do delta[$k]=$((now[$k] - ${_bench_at[$k]:-0})); done
	# Xen's window lies inside the CPU time's, shorter by the counters'
	# start and end (seconds through a driver domain's agent): scaled to
	# the CPU time's window, the Xen-accounted time is that of the same
	# work.
	if [[ ${delta[xen_at_ms]:-0} -gt 0 && ${delta[at_ms]:-0} -gt 0 ]]; then
		delta[xen_us]=$((delta[xen_us] * delta[at_ms] / delta[xen_at_ms]))
	fi
}

# bench_cost_idle COPY ROUND SECS: the background in the backend's
# domain, its CPU and Xen-accounted time per second over SECS seconds of
# nothing but the counting itself, kept as idle/cpu-us and idle/xen-us:
# what the cost figures hold beside the backend's work.
bench_cost_idle() {
	local copy=$1 round=$2 secs=$3 cpu xen
	local -A delta
	bench_cost_begin '^$'
	sleep "$secs"
	_bench_delta
	cpu=$(_bench_per "${delta[cpu_us]}" "$secs") xen=$(_bench_per "${delta[xen_us]}" "$secs")
	bench_keep "$copy" idle/cpu-us "$round" "$cpu"
	bench_keep "$copy" idle/xen-us "$round" "$xen"
	note "round $round $copy: background $cpu us CPU, $xen us Xen-accounted per second"
	_bench_note_tasks "round $round $copy background"
}

# bench_cost_end COPY NAME ROUND UNITS: keep, for that round, the cost of
# the work since bench_cost_begin per unit of work (UNITS of them: I/Os,
# MB, transactions) (_bench_cost_keep).
bench_cost_end() {
	local -A delta
	_bench_delta
	_bench_cost_keep "$@"
}

# What bench_cost_steady's callers give a workload as its duration: it
# runs until they stop it, however long a loaded bed takes to reach the
# stop (four guests' agents on a one-vCPU dom0 took over a minute).
# shellcheck disable=SC2034 # the benchmarks read it
BENCH_UNTIL_STOPPED=3600

# bench_cost_steady COPY NAME ROUND SECS IRQ_ERE COUNTER DIVISOR: the
# cost of work that is already running and past its ramp, counted over
# SECS seconds, its units the change of one of the backends' own work
# counters (cost-counters.sh: vbd_sect, vif_rx_bytes, vif_tx_bytes)
# divided by DIVISOR, read at the same instants as the CPU time; the
# units per second in bench_rate.  Then, over SECS seconds more, its
# grant operations and notifications (bench_count_steady).  Around a
# whole guest command instead, the agents' round trips and the workload's
# start weigh on the figure per unit as much as the backend does, and
# more on the copy that did less work.
bench_cost_steady() {
	local copy=$1 name=$2 round=$3 secs=$4 units
	local -A delta
	bench_cost_begin "$5" notasks
	sleep "$secs"
	_bench_delta
	units=$(_bench_per "${delta[$6]:-0}" "$7")
	# shellcheck disable=SC2034 # the benchmarks read it
	bench_rate=$(_bench_per "$units" "$secs")
	_bench_cost_keep "$copy" "$name" "$round" "$units"
	bench_count_steady "$copy" "$name" "$round" "$secs" "$6" "$7"
}

# _bench_keep_per COPY NAME ROUND UNITS K=TOTAL...: each TOTAL per unit,
# kept as NAME/K; the words "K VALUE ..." in _bench_kept for the
# caller's note.  Not run in a subshell: bench_keep's table must keep the
# values.
_bench_kept=
_bench_keep_per() {
	local copy=$1 name=$2 round=$3 units=$4 kv v
	shift 4
	_bench_kept=
	for kv; do
		v=$(_bench_per "${kv#*=}" "$units")
		bench_keep "$copy" "$name/${kv%%=*}" "$round" "$v"
		_bench_kept+=" ${kv%%=*} $v"
	done
}

# _bench_cost_keep COPY NAME ROUND UNITS: from the caller's delta, NAME's
# cost per unit in a timed window: NAME/cpu-us, NAME/xen-us and
# NAME/irqs; and a note of which tasks used the CPU.
_bench_cost_keep() {
	local copy=$1 name=$2 round=$3 units=$4
	_bench_note_tasks "round $round $copy $name"
	awk "BEGIN { exit !($units > 0) }" || return 0
	_bench_keep_per "$@" "cpu-us=${delta[cpu_us]}" "xen-us=${delta[xen_us]}" "irqs=${delta[irqs]}"
	note "round $round $copy $name per unit ($units):$_bench_kept"
}

declare -A _bench_count_at
# bench_count_begin: arm the probes and start counting; fails (the probes
# disarmed) if they cannot be armed.
bench_count_begin() {
	local w
	_bench_count_at=()
	if ! _bench_run arm >/dev/null; then
		_bench_run disarm >/dev/null 2>&1
		return 1
	fi
	for w in $(_bench_run snap '^$'); do _bench_count_at[${w%%=*}]=${w#*=}; done
}

# _bench_count_delta: the counters' change since bench_count_begin, in
# the caller's associative array delta; the probes disarmed after (a
# FAIL if they stay armed: they would weigh on the timed windows).
_bench_count_delta() {
	local w
	for w in $(_bench_run snap '^$'); do delta[${w%%=*}]=$((${w#*=} - ${_bench_count_at[${w%%=*}]:-0})); done
	_bench_run disarm >/dev/null || fail "cost probes disarmed after a count window"
}

# bench_count_end COPY NAME ROUND UNITS: keep, for that round, the counts
# since bench_count_begin per unit of work (_bench_count_keep).
bench_count_end() {
	local -A delta
	_bench_count_delta
	_bench_count_keep "$@"
}

# bench_count_steady COPY NAME ROUND SECS COUNTER DIVISOR: the counts of
# work that is still running, over SECS seconds, its units as for
# bench_cost_steady.
bench_count_steady() {
	local copy=$1 name=$2 round=$3 secs=$4 units
	local -A delta
	bench_count_begin || return 0
	sleep "$secs"
	_bench_count_delta
	units=$(_bench_per "${delta[$5]:-0}" "$6")
	_bench_count_keep "$copy" "$name" "$round" "$units"
}

# _bench_count_keep COPY NAME ROUND UNITS: from the caller's delta,
# NAME's counts per unit: NAME/grant-ops (mapped, unmapped and copied),
# NAME/grant-calls (their hypercalls) and NAME/notifications.
_bench_count_keep() {
	local copy=$1 name=$2 round=$3 units=$4
	awk "BEGIN { exit !($units > 0) }" || return 0
	_bench_keep_per "$@" \
		"grant-ops=$((delta[map_ops] + delta[unmap_ops] + delta[copy_ops]))" \
		"grant-calls=$((delta[map_calls] + delta[unmap_calls] + delta[copy_calls]))" \
		"notifications=${delta[notify_calls]}"
	note "round $round $copy $name counted per unit ($units):$_bench_kept; grant ops in all: map ${delta[map_ops]}, unmap ${delta[unmap_ops]}, copy ${delta[copy_ops]}"
}

# bench_cost_metrics BENCH NAME UNIT: the cost METRIC lines of NAME, per
# UNIT ("IO", "MB", "transaction").
bench_cost_metrics() {
	local dom=dom0
	[[ ${BENCH_COST_DOMAIN:-Domain-0} == Domain-0 ]] || dom=$BENCH_COST_DOMAIN
	bench_metric "$1" "$2/cpu-us" "$dom CPU us/$3" cost
	bench_metric "$1" "$2/xen-us" "Xen-accounted $dom us/$3" cost
	bench_metric "$1" "$2/grant-ops" "grant ops/$3" cost
	bench_metric "$1" "$2/grant-calls" "grant hypercalls/$3" cost
	bench_metric "$1" "$2/notifications" "notifications/$3" cost
	bench_metric "$1" "$2/irqs" "interrupts/$3" cost
}

# bench_idle_metrics BENCH: the METRIC lines of the background that
# bench_cost_idle measured, per second.
bench_idle_metrics() {
	local dom=dom0
	[[ ${BENCH_COST_DOMAIN:-Domain-0} == Domain-0 ]] || dom=$BENCH_COST_DOMAIN
	bench_metric "$1" idle/cpu-us "$dom background CPU us/s" cost
	bench_metric "$1" idle/xen-us "$dom background Xen-accounted us/s" cost
}
