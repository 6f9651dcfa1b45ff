#!/bin/sh
# Guest side of tests/bench/vm/50-netback-driver-domain.sh: a network
# driver domain, as Qubes OS runs sys-net.  dom0 loads a copy of
# xen-netback here through the agent (the copies come on xvdb); this
# script stands in for "xl devd", the daemon a driver domain runs for its
# backends' hotplug: each vif its netback creates gets 10.98.0.1/24 and
# is brought up, then its backend gets hotplug-status = connected, which
# netback waits for before it connects.  Then netback-agent's iperf3
# server and command agent.
# guest-programs: iperf3
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

(
	xs_watch_open backend/vif
	while :; do
		for fe in $(xenstore-list backend/vif 2>/dev/null); do
			for dev in $(xenstore-list "backend/vif/$fe" 2>/dev/null); do
				be=backend/vif/$fe/$dev nic=vif$fe.$dev
				# The toolstack writes it empty; a value is ours.
				[ -z "$(xenstore-read "$be/hotplug-status" 2>/dev/null)" ] || continue
				[ -e "/sys/class/net/$nic" ] || continue
				if ip addr add 10.98.0.1/24 dev "$nic" && ip link set "$nic" up; then
					xenstore-write "$be/hotplug-status" connected
				else
					xenstore-write "$be/hotplug-status" error
				fi
				echo "GUEST-HOTPLUG: $nic" >/dev/console
			done
		done
		# An event or the time; if the watch ended, poll.
		# shellcheck disable=SC3045 # busybox sh has read -t
		read -r -t 5 _ <&3 || sleep 0.2
	done
) </dev/null >/dev/null 2>&1 &
gpass "hotplug stand-in started"

# shellcheck source=SCRIPTDIR/netback-agent.sh
. /tests/netback-agent.sh
