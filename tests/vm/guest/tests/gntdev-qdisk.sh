#!/bin/sh
# Guest side of 40-gntdev-qdisk: xvda is served by QEMU's user-space disk
# backend in dom0 (xen-block, through dom0's /dev/xen/gntdev). Once dom0
# writes data/go (it reads its counters first), read the region dom0 filled
# (32 MiB on, 8 MiB) and check it against the same pattern, then write our
# own pattern at offset 0 (16 MiB) and read it back, all with O_DIRECT so
# that every byte crosses the ring; data/done tells dom0 we are through.
# Patterns: one 512-byte line per sector, numbered per region, with a per-run seed
# (gntdev_seed= on the command line), made by busybox awk on both sides.
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

seed=
# shellcheck disable=SC2013 # the command line is words
for arg in $(cat /proc/cmdline); do
	case $arg in gntdev_seed=*) seed=${arg#gntdev_seed=} ;; esac
done
[ -n "$seed" ] || { gfail "gntdev_seed on the command line" "missing"; exit 1; }

# pattern TAG SECTORS: one 512-byte line per sector.
pattern() {
	awk -v s="$seed" -v t="$1" -v n="$2" 'BEGIN {
		for (i = 0; i < n; i++)
			printf "%08x %10d %-10s %-480s\n", i, s, t, "xen-gntdev qdisk test pattern"
	}'
}
MiB=1048576
# stamp WHAT: guest uptime on the console, to see where the time goes.
stamp() { echo "# $(cut -d' ' -f1 /proc/uptime) $*"; }

size=$(blockdev --getsize64 /dev/xvda 2>&1)
if [ "$size" = $((64 * MiB)) ]; then
	gpass "xvda is the 64 MiB image ($size bytes)"
else
	gfail "xvda is the 64 MiB image" "size '$size'"
fi

n=0
until [ "$(xenstore-read data/go 2>/dev/null)" = 1 ]; do
	n=$((n + 1))
	[ $n -lt 600 ] || { gfail "dom0 says go" "no data/go after 60 s"; exit 1; }
	sleep 0.1
done

stamp "go"
# dom0 -> guest: what dom0 wrote into the image file, read through QEMU.
want=$(pattern dom0 $((8 * MiB / 512)) | md5sum | cut -d' ' -f1)
got=$(dd if=/dev/xvda bs=64k skip=512 count=128 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
if [ "$got" = "$want" ]; then
	gpass "O_DIRECT read of dom0's 8 MiB at 32 MiB: md5 $got as expected"
else
	gfail "O_DIRECT read of dom0's 8 MiB at 32 MiB" "md5 $got, want $want"
fi

stamp "read dom0's region"
# guest -> disk -> guest.
pattern guest $((16 * MiB / 512)) >/tmp/pattern
want=$(md5sum </tmp/pattern | cut -d' ' -f1)
stamp "pattern made"
if out=$(dd if=/tmp/pattern of=/dev/xvda bs=64k oflag=direct conv=fsync,notrunc 2>&1); then
	gpass "O_DIRECT write of 16 MiB at 0 (and flush)"
else
	gfail "O_DIRECT write of 16 MiB at 0" "$(echo "$out" | tail -n 1)"
fi
rm -f /tmp/pattern
stamp "written"
got=$(dd if=/dev/xvda bs=64k count=256 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
if [ "$got" = "$want" ]; then
	gpass "O_DIRECT read back of the 16 MiB: md5 $got as written"
else
	gfail "O_DIRECT read back of the 16 MiB" "md5 $got, want $want"
fi
stamp "read back"
xenstore-write data/done 1
exit "$guest_failed"
