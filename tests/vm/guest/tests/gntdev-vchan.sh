#!/bin/sh
# Guest side of 41-gntdev-vchan: the libxenvchan server (its ring page is
# granted to dom0 through /dev/xen/gntalloc); dom0 is the client and maps
# it through its /dev/xen/gntdev. vchan-socket-proxy in "-" mode moves
# stdin/stdout over the vchan.
# Round 1: send 1 MiB of our random bytes (md5 in data/vchan-tx-md5) while
# receiving dom0's 1 MiB, check it against the md5 dom0 wrote in
# data/vchan-rx-want, report ours in data/vchan-rx-md5; data/vchan-rx-done
# says all of dom0's bytes are here, so that dom0 may end its input.
# Round 2: a second server; record the first line dom0 sends in
# data/vchan2-line, then wait for dom0's client to be killed: only its
# gntdev's unmap notification (clear cli_live, send the event) tells the
# server, which then closes its stdout; data/vchan2-closed says so.
# guest-programs: /usr/lib/xen-4.17/bin/vchan-socket-proxy
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

N=1048576
domid=$(xenstore-read domid)
base=/local/domain/$domid/data
stamp() { echo "# $(cut -d' ' -f1 /proc/uptime) $*"; }

head -c $N /dev/urandom >/tmp/tx
xenstore-write data/vchan-tx-md5 "$(md5sum </tmp/tx | cut -d' ' -f1)"
mkfifo /tmp/back
stamp "round 1: server up"
# Our stdout goes back into the proxy's stdin; the group keeps that open
# until the proxy has closed its stdout (dom0's client went away).
# shellcheck disable=SC2094 # /tmp/back is a fifo: the loop is the point
vchan-socket-proxy -m server 0 "$base/vchan" - </tmp/back 2>/tmp/proxy1.err | {
	cat /tmp/tx &
	head -c $N >/tmp/rx
	xenstore-write data/vchan-rx-done 1
	wait
	cat >/dev/null
} >/tmp/back
stamp "round 1: server done"
[ ! -s /tmp/proxy1.err ] || gfail "round 1: vchan-socket-proxy server" "$(cat /tmp/proxy1.err)"
got=$(md5sum </tmp/rx | cut -d' ' -f1)
xenstore-write data/vchan-rx-md5 "$got"
want=$(xenstore-read data/vchan-rx-want 2>/dev/null)
if [ "$(wc -c </tmp/rx)" -eq $N ] && [ "$got" = "$want" ]; then
	gpass "round 1: received dom0's 1 MiB over the vchan, md5 $got"
else
	gfail "round 1: received dom0's 1 MiB over the vchan" "$(wc -c </tmp/rx) bytes, md5 $got, dom0 sent md5 '$want'"
fi

# Round 2. Our own writer on the input fifo, so that the proxy's stdin never
# ends: only the vchan closing can end this server.
mkfifo /tmp/in2
exec 3<>/tmp/in2
stamp "round 2: server up"
vchan-socket-proxy -m server 0 "$base/vchan2" - </tmp/in2 2>/tmp/proxy2.err 3>&- | {
	head -n 1 >/tmp/line2
	xenstore-write data/vchan2-line "$(cat /tmp/line2)"
	cat >/dev/null
	xenstore-write data/vchan2-closed 1
} 3>&- &
n=0
until [ "$(xenstore-read data/vchan2-closed 2>/dev/null)" = 1 ]; do
	n=$((n + 1))
	if [ $n -ge 600 ]; then
		gfail "round 2: server sees the killed client go" "not within 60 s"
		break
	fi
	sleep 0.1
done
# Without a writer the proxy's stdin ends, which ends it if nothing else did.
exec 3>&-
wait
stamp "round 2: server done"
[ ! -s /tmp/proxy2.err ] || gfail "round 2: vchan-socket-proxy server" "$(cat /tmp/proxy2.err)"
[ $n -ge 600 ] || gpass "round 2: server saw the killed client go (after line '$(cat /tmp/line2)')"
exit "$guest_failed"
