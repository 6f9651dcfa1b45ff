#!/bin/bash
# vm-timeout: 200
# A guest notifies a port that dom0 user space holds through our
# /dev/xen/evtchn as fast as it can.  Late EOI keeps the port masked until
# user space writes it back, so the storm costs dom0 no interrupt and dom0
# stays responsive; each write-back lets exactly one event through.
set -uo pipefail
# shellcheck source=../lib/dom0-lib.sh
. "$REPO/tests/vm/lib/dom0-lib.sh"

guest_create storm --test evtchn-storm || exit 1
domid=$(guest_domid storm) || { fail "storm guest has a domid"; exit 1; }
"$REPO/build/tests/evtchn_test" --storm-sink "$domid" 8
rc=$?
[[ $rc -le 1 ]] || fail "evtchn_test --storm-sink" "exited $rc"
guest_wait_console storm '^GUEST-DONE' 120 >/dev/null ||
	fail "storm guest finished" "no GUEST-DONE"
guest_collect storm || true
