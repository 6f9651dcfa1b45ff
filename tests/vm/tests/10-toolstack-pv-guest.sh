#!/bin/bash
# vm-timeout: 150
# The Xen toolstack on whatever xen-evtchn/xen-gntdev/xen-netback are
# loaded: xl create a PV guest with a NIC on xenbr0 (stock vif-bridge
# hotplug script), check its console (console ring + event channel through
# xenconsoled), xenstore in both directions, the network, then a clean
# "xl shutdown".
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

g=vmtest-pv
ip=10.99.0.2
if guest_create "$g" --test toolstack --wait --ip "$ip/24" "vif=['bridge=xenbr0']"; then
	pass "xl create $g"
else
	fail "xl create $g" "see tests/$TEST_NAME/$g.xl-create.log"
	exit 1
fi
domid=$(guest_domid "$g")
note "$g is domain $domid"

name=$(xenstore-read "/local/domain/$domid/name" || true)
if [[ $name == "$g" ]]; then
	pass "xenstore: /local/domain/$domid/name is $g"
else
	fail "xenstore: /local/domain/$domid/name" "got '$name', want '$g'"
fi

if guest_wait_console "$g" '^GUEST-READY' 90 >/dev/null; then
	pass "guest console shows GUEST-READY"
else
	fail "guest console shows GUEST-READY" "not within 90s, see xen/guest-$g.log"
	exit 1
fi
if guest_wait_console "$g" '^GUEST-IDLE' 60 >/dev/null; then
	guest_collect "$g" || true
else
	fail "guest test toolstack finishes" "no GUEST-IDLE within 60s"
fi

written=$(xenstore-read "/local/domain/$domid/data/vmtest" || true)
if [[ $written == "hello-from-$g" ]]; then
	pass "xenstore: dom0 reads the key the guest wrote"
else
	fail "xenstore: dom0 reads the key the guest wrote" "got '$written'"
fi

vif=vif$domid.0
if [[ $(cat "/sys/class/net/$vif/master/uevent" 2>/dev/null) == *INTERFACE=xenbr0* ]]; then
	pass "netback: $vif is a port of xenbr0"
else
	fail "netback: $vif is a port of xenbr0" "$(ip -br link 2>&1 | tr '\n' ' ')"
fi
# busybox: iputils-ping is not necessarily installed.
check "network: dom0 pings the guest at $ip" busybox ping -c 3 -W 5 "$ip" || true

if guest_shutdown "$g" 60; then
	pass "xl shutdown -w $g"
else
	fail "xl shutdown -w $g" "guest still there after 60s: $(xl list 2>&1 | tr '\n' ' ')"
fi
if guest_wait_console "$g" '^GUEST-POWEROFF' 5 >/dev/null; then
	pass "guest ran its poweroff on the shutdown request"
else
	fail "guest ran its poweroff on the shutdown request" "no GUEST-POWEROFF on its console"
fi
if xl list "$g" >/dev/null 2>&1; then
	fail "xl list no longer shows $g" "$(xl list 2>&1 | tr '\n' ' ')"
else
	pass "xl list no longer shows $g"
fi
if xenstore-exists "/local/domain/$domid" 2>/dev/null; then
	fail "xenstore: /local/domain/$domid removed" "still there"
else
	pass "xenstore: /local/domain/$domid removed"
fi
