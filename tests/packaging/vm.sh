# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154,SC2034 # variables and helpers: run's and host.sh's
#
# tests/packaging/run --vm: sourced by host.sh once DKMS has built our
# modules for the new kernel $newk from its headers alone.  Installs that
# kernel's image and boots it as dom0 in the VM test bed (tests/vm/run),
# which, with no build/$newk of the project, loads what modprobe finds:
# the copies DKMS installed under updates/dkms.  host.sh removes the image
# again with the headers.  The tests are those that give a guest its
# console, NIC and disk (make check runs all of them on our own build).

img=linux-image-$newk
l=$(log host-vm)
DEBIAN_FRONTEND=noninteractive run host-vm apt-get install -y -q --no-install-recommends "$img"
rc=$?
mapfile -t added_pkgs < <(comm -13 <(echo "$pkgs_deb") <(installed_pkgs))
result $rc "vm: apt-get install $img (dkms status for $newk: $(dkms_state "$newk"))" "$l"
if [ -e "build/$newk" ]; then
	fail "vm: build/$newk exists: a project build for the kernel DKMS built for means this is no fresh kernel"
elif [ $rc = 0 ]; then
	# This run holds the bed's lock; the nested run takes its own.
	VM_LOCK=$tmp/vm.lock tests/vm/run --kernel "$newk" --modules installed 10-toolstack-pv-guest \
		51-netback-traffic 60-blkback-data 99-dom0-kernel-log \
		>"$(log host-vm-run)" 2>&1
	rc=$?
	while read -r line; do
		case $line in
		PASS:*) pass "vm on $newk, DKMS-built modules: ${line#PASS: }" ;;
		FAIL:*) fail "vm on $newk, DKMS-built modules: ${line#FAIL: }" ;;
		esac
	done < <(grep -E '^(PASS|FAIL): ' "$(log host-vm-run)")
	results=build/vm/logs/$newk/results
	ok=0
	for m in "${modules[@]}"; do
		grep -q "PASS: bringup: ${m//-/_} is the installed copy /lib/modules/$newk/updates/dkms/$m.ko " \
			"$results" 2>/dev/null || ok=1
	done
	# The VM tests' own results are the lines above; this is about which
	# copies ran.
	[ "$(cat "build/vm/logs/$newk/status" 2>/dev/null)" = "done" ] && [ $ok = 0 ]
	result $? "vm: dom0 $newk booted and ran the modules DKMS built for it (updates/dkms: \
${modules[*]})" "exit $rc, $(log host-vm-run), $results"
fi
