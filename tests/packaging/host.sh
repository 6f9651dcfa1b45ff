# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154,SC2034 # variables and helpers: run's
#
# Part 4 of tests/packaging/run, sourced by it: the .deb on the host, and
# the automatic rebuild when a new kernel's headers are installed.  Holds
# the VM test bed's lock throughout: the VM tests share /lib/modules, and
# what DKMS installs there would change what they load.  Everything it
# installs is removed again, also when interrupted (host_restore, from
# run's EXIT trap).

exec 8>"${VM_LOCK:-/tmp/xen-vm-test.lock}"
if ! flock -n 8; then
	echo "packaging: waiting for the VM test bed's lock (a VM run on this machine)..."
	lock_wait=$SECONDS
	flock 8
	lock_wait=$((SECONDS - lock_wait))
fi

installed_pkgs() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort
}
registered() { dkms status -m "$name" 2>/dev/null; }

# Only on a host where nothing of ours is installed: this part removes it all.
theirs=$(
	registered
	ls -d /usr/src/"$name"-* 2>/dev/null
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$name-dkms" 2>/dev/null | grep '^i'
	for d in /lib/modules/*; do ours_in "${d##*/}"; done
)
if [ -n "$theirs" ]; then
	fail "host: $name is installed on this host already ($(echo "$theirs" | head -n 1)...;" \
		"make uninstall or dpkg -P $name-dkms): host checks not run, nothing touched"
	return
fi
pkgs_before=$(installed_pkgs)
kdirs_before=$(ls /lib/modules)
added_pkgs=()

# Puts the host back as it was: our package, DKMS registration and sources,
# the kernel packages installed here, and what depmod left of their
# /lib/modules directories.  Safe to run twice.
host_restore() {
	local v k
	if dpkg-query -W -f='${db:Status-Abbrev}' "$name-dkms" 2>/dev/null | grep -q '^[ihu]'; then
		run host-restore dpkg -P "$name-dkms"
	fi
	for v in $(registered | sed -n "s|^$name/\([^,:]*\).*|\1|p" | sort -u); do
		run host-restore dkms remove -m "$name" -v "$v" --all
	done
	rm -rf /usr/src/"$name"-*
	if [ ${#added_pkgs[@]} != 0 ]; then
		DEBIAN_FRONTEND=noninteractive run host-restore apt-get purge -y -q "${added_pkgs[@]}"
		added_pkgs=()
	fi
	for k in /lib/modules/*; do
		k=${k##*/}
		grep -qxF "$k" <<<"$kdirs_before" && continue
		# Only depmod's files may be left: no module, no package's file.
		[ -z "$(find "/lib/modules/$k" -name '*.ko*')" ] &&
			! dpkg -S "/lib/modules/$k" >/dev/null 2>&1 &&
			rm -rf "/lib/modules/${k:?}"
	done
}
host_cleanup=host_restore

# ours_live KERNEL [in-tree]: DKMS installed ours for KERNEL and modinfo
# finds them under updates/dkms, with the project's version and built for
# that kernel; with "in-tree", the kernel's own modules are still in place
# behind them.
ours_live() {
	local m f
	[ "$(dkms_state "$1")" = installed ] || { echo "dkms status: '$(dkms_state "$1")'"; return 1; }
	for m in "${modules[@]}"; do
		f=$(modinfo -k "$1" -n "$m")
		[[ $f == /lib/modules/$1/updates/dkms/$m.ko* ]] || { echo "$m: $f"; return 1; }
		[ "$(modinfo -F version "$f")" = "$version" ] || { echo "$m: version"; return 1; }
		[ "$(modinfo -F vermagic "$f" | cut -d' ' -f1)" = "$1" ] || { echo "$m: vermagic"; return 1; }
		[ -z "${2:-}" ] || [ -e "${intree_before[$1/$m]:-/none}" ] ||
			{ echo "$m: in-tree module gone"; return 1; }
	done
}
declare -A intree_before
for k in "$k61" "$k612"; do
	for m in "${modules[@]}"; do
		intree_before[$k/$m]=$(modinfo -k "$k" -n "$m" 2>/dev/null)
	done
done

# --- the .deb ------------------------------------------------------------------
run host-deb dpkg -i "$deb_file"
result $? "dpkg -i ${deb_file##*/}" "$(log host-deb)"
for k in "$k61" "$k612"; do
	r=$(ours_live "$k" in-tree)
	result $? "deb: DKMS built ours for $k; modinfo -n: $(modinfo -k "$k" -n xen-evtchn), version \
$version, in front of ${intree_before[$k/xen-evtchn]}" "$r"
done

# --- the automatic rebuild: a new kernel's headers -------------------------------
new=
for p in $(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' |
	cut -d' ' -f1 | sort -V); do
	grep -qxF "$p" <<<"$pkgs_before" || new=$p
done
if [ -z "$new" ]; then
	fail "auto-rebuild: no linux-headers-6.1.0-N-amd64 that is not installed in the archive"
else
	newk=${new#linux-headers-}
	l=$(log host-new-kernel)
	pkgs_deb=$(installed_pkgs)
	DEBIAN_FRONTEND=noninteractive run host-new-kernel \
		apt-get install -y -q --no-install-recommends "$new"
	rc=$?
	mapfile -t added_pkgs < <(comm -13 <(echo "$pkgs_deb") <(installed_pkgs))
	r=$(ours_live "$newk")
	[ $rc = 0 ] && [ -z "$r" ] &&
		grep -q "dkms: running auto installation service for kernel $newk" "$l"
	result $? "auto-rebuild: installing $new (not installed before; with ${added_pkgs[*]}) \
ran DKMS from /etc/kernel/header_postinst.d, which built and installed ours for $newk: \
$(cd "/lib/modules/$newk" 2>/dev/null && find updates -name '*.ko*' | sort | xargs), dkms status \
'$(dkms_state "$newk")', vermagic $newk, version $version" "exit $rc $r, $l"
	[ -n "$vm" ] && . "$top/tests/packaging/vm.sh"
	# What a kernel's removal does before its files go (linux-image prerm).
	run host-new-kernel /etc/kernel/prerm.d/dkms "$newk" &&
		[ -z "$(dkms_state "$newk")" ] && [ -z "$(ours_in "$newk")" ]
	result $? "the kernel-removal hook (/etc/kernel/prerm.d/dkms) takes ours off $newk" "$l"
	DEBIAN_FRONTEND=noninteractive run host-new-kernel apt-get purge -y -q "${added_pkgs[@]}"
	rc=$?
	result $rc "apt-get purge ${added_pkgs[*]}" "$l"
	[ $rc != 0 ] || added_pkgs=()
fi

# --- removing the .deb -------------------------------------------------------------
run host-deb dpkg -P "$name-dkms"
ok=$?
[ -z "$(registered)" ] && ! ls -d /usr/src/"$name"-* >/dev/null 2>&1 || ok=1
for d in /lib/modules/*; do [ -z "$(ours_in "${d##*/}")" ] || ok=1; done
for k in "$k61" "$k612"; do
	for m in "${modules[@]}"; do
		[ "$(modinfo -k "$k" -n "$m")" = "${intree_before[$k/$m]}" ] || ok=1
	done
done
result $ok "dpkg -P $name-dkms: nothing of ours in DKMS, /lib/modules or /usr/src; modinfo -n \
xen-evtchn is the in-tree $(modinfo -k "$k61" -n xen-evtchn) again" "$(log host-deb)"

host_restore
[ "$(installed_pkgs)" = "$pkgs_before" ] && [ "$(ls /lib/modules)" = "$kdirs_before" ] &&
	[ -z "$(registered)" ]
result $? "host left as found: same packages, same /lib/modules, nothing registered with DKMS" \
	"$(log host-restore)"
exec 8>&-
