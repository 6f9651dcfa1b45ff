#!/bin/sh
# Guest side of the 6N-blkback-* tests: a command server that dom0 drives
# through this guest's xenstore (dom0's half is tests/vm/lib/blkback-lib.sh),
# so that one guest can do I/O between dom0's steps (resize, attach, save).
# dom0 writes data/bb-cmd = "SEQ SHELL-COMMAND"; we run the command (it may
# use the functions below), then write data/bb-out (the end of its output)
# and data/bb-ack = "SEQ STATUS". The command "exit" ends the server.
# Patterns: one 512-byte line per sector holding the absolute sector number,
# the run's seed (blkback_seed= on the command line) and a tag, so data that
# lands at the wrong place or is stale is caught; dom0 makes the same ones.
# guest-programs: fio
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

seed=
# shellcheck disable=SC2013 # the command line is words
for arg in $(cat /proc/cmdline); do
	case $arg in blkback_seed=*) seed=${arg#blkback_seed=} ;; esac
done
[ -n "$seed" ] || { gfail "blkback_seed on the command line" "missing"; exit 1; }

# pattern FIRST_SECTOR SECTORS TAG
pattern() {
	awk -v s="$seed" -v f="$1" -v n="$2" -v t="$3" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "%010d %10d %-10.10s %-478s\n", f + i, s, t, "xen-blkback test pattern"
	}'
}
# pwrite DEV OFF_MIB LEN_MIB TAG: the pattern at OFF, O_DIRECT, then a flush.
pwrite() {
	pattern $(($2 * 2048)) $(($3 * 2048)) "$4" >/tmp/pat || return 1
	out=$(dd if=/tmp/pat of="/dev/$1" bs=64k seek=$(($2 * 16)) oflag=direct conv=notrunc,fsync 2>&1)
	rc=$?
	rm -f /tmp/pat
	echo "$out" | grep -v records
	return $rc
}
# md5at DEV OFF_MIB LEN_MIB: md5 of that region, read with O_DIRECT.
md5at() {
	dd if="/dev/$1" bs=64k skip=$(($2 * 16)) count=$(($3 * 16)) iflag=direct 2>/dev/null |
		md5sum | cut -d' ' -f1
}
# pcheck DEV OFF_MIB LEN_MIB TAG: the region holds that pattern.  The
# pattern's md5 is kept for the next check of the same region: making it
# (awk, under TCG) costs more than reading the disk.
pcheck() {
	f=/tmp/pmd5.$2.$3.$4
	[ -s "$f" ] || pattern $(($2 * 2048)) $(($3 * 2048)) "$4" | md5sum | cut -d' ' -f1 >"$f"
	want=$(cat "$f")
	got=$(md5at "$1" "$2" "$3")
	[ "$got" = "$want" ] || { echo "md5 $got, want $want"; return 1; }
	echo "md5 $got as expected"
}
# vfio DEV FIO-OPTION...: a fio job that writes, then reads back and checks
# every block (crc32c); its output goes to the console for the logs.
vfio() {
	dev=$1
	shift
	fio --name=bb --filename="/dev/$dev" --direct=1 --ioengine=libaio \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --randrepeat=0 \
		"$@" >/tmp/fio.out 2>&1
	rc=$?
	sed 's/^/# fio: /' /tmp/fio.out >/dev/console
	grep -iE 'err=|verify|bad|error' /tmp/fio.out | head -n 5
	grep -E '^ +(READ|WRITE):' /tmp/fio.out
	return $rc
}
# vfio_bg DEV FIO-OPTION...: vfio in the background; vfio_wait gets its end.
vfio_bg() {
	rm -f /tmp/bg.rc /tmp/bg.out
	(
		vfio "$@" >/tmp/bg.out 2>&1
		echo $? >/tmp/bg.rc
	) </dev/null >/dev/null 2>&1 &
	echo "started"
}
vfio_wait() {
	n=0
	# Once a second: each look spawns a process, CPU fio needs.
	while [ ! -f /tmp/bg.rc ]; do
		n=$((n + 1))
		[ $n -le "$1" ] || { echo "still running after $1 s"; return 124; }
		sleep 1
	done
	cat /tmp/bg.out
	return "$(cat /tmp/bg.rc)"
}

# fioperf DEV RW BS IODEPTH SECS: "IOPS KiB/s" of a timed fio job (the
# benchmark, tests/bench/vm/20-blkback.sh; fio's terse format 3: read
# bandwidth and IOPS are fields 7 and 8, write 48 and 49).
fioperf() {
	fio --name=perf --filename="/dev/$1" --direct=1 --ioengine=libaio --rw="$2" \
		--bs="$3" --iodepth="$4" --runtime="$5" --time_based --ramp_time=1 \
		--output-format=terse --terse-version=3 |
		awk -F';' '{ printf "%d %d\n", $8 + $49, $7 + $48 }'
}

# The server looks for a command after each change of data/bb-cmd (a
# watch) and at least every 5 s, should a watch be lost.
xs_watch_open data/bb-cmd
xenstore-write data/bb-ready 1
last=
idle=0
while :; do
	cmd=$(xenstore-read data/bb-cmd 2>/dev/null)
	seq=${cmd%% *}
	if [ -z "$cmd" ] || [ "$seq" = "$last" ]; then
		# dom0 silent for 10 minutes: it is gone, stop.
		[ $idle -lt 600 ] || { gfail "blkback server" "no command for 600 s"; break; }
		# shellcheck disable=SC3045 # busybox sh has read -t
		if ! read -r -t 5 _ <&3; then
			# The time, or the watch ended: then poll.
			idle=$((idle + 5))
			sleep 0.2
		fi
		continue
	fi
	idle=0
	last=$seq
	body=${cmd#* }
	[ "$body" = exit ] && { xenstore-write data/bb-ack "$seq 0"; break; }
	echo "# bb $seq: $body"
	out=$( (eval "$body") 2>&1 </dev/null)
	rc=$?
	echo "$out" | tail -n 20 | sed "s/^/# bb $seq: /"
	xenstore-write data/bb-out "$(echo "$out" | tail -n 12 | cut -c 1-200)"
	xenstore-write data/bb-ack "$seq $rc"
done
[ -z "${XS_WATCH_PID:-}" ] || kill "$XS_WATCH_PID"
exit "$guest_failed"
