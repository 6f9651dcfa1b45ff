#!/bin/sh
# Guest side of 10-toolstack-pv-guest: use xenstore from inside the guest
# (the guest's xenbus connection to dom0's xenstored).
# shellcheck source=SCRIPTDIR/../guest-lib.sh
. /lib/guest-lib.sh

if name=$(xenstore-read name) && [ -n "$name" ]; then
	gpass "xenstore-read name gives '$name'"
else
	gfail "xenstore-read name" "failed"
fi
# A relative path is under the guest's own /local/domain/<domid>.
if xenstore-write data/vmtest "hello-from-$name"; then
	gpass "xenstore-write data/vmtest"
else
	gfail "xenstore-write data/vmtest" "failed"
fi
exit "$guest_failed"
