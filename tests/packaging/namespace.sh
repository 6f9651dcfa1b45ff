# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2154,SC2034 # variables and helpers: run's
#
# Part 3 of tests/packaging/run, sourced by it in a private mount namespace
# (unshare --mount): /lib/modules, /usr/src, /var/lib/dkms and
# /usr/lib/depmod.d are scratch directories here, so DKMS, the kernel
# hooks, `make install`, the .deb's scripts and rpm -i work for real
# without touching the host's.  Kernels: the installed 6.1 and 6.12 build
# trees, and copies of the 6.1 one with an edited configuration (as in
# tests/build-refusals).  Never delete anything under $ns from here: the
# host's /usr/src is mounted inside it.
k61=$XDB_K61 k612=$XDB_K612 ns=$XDB_NS rpm_file=$XDB_RPM deb_file=$XDB_DEB
real61=$(readlink -f "/lib/modules/$k61/build")
real612=$(readlink -f "/lib/modules/$k612/build")

# --- kernels -------------------------------------------------------------------
# fake RELEASE SED: a copy of the 6.1 build tree with SED applied to its
# configuration (auto.conf for kbuild, .config for dkms).
fake() {
	local d=$ns/trees/$1 l
	mkdir -p "$ns/trees"
	cp -a "$real61" "$d"
	# Its relative links (scripts, tools) must still reach the host's.
	find "$d" -type l | while read -r l; do
		ln -sfn "$(readlink -f "$real61/${l#"$d"/}")" "$l"
	done
	sed -i "$2" "$d/include/config/auto.conf" "$d/.config"
}
kernel() { # SET RELEASE BUILD-TREE: /lib/modules/RELEASE/build in SET
	mkdir -p "$ns/$1/$2"
	ln -s "$3" "$ns/$1/$2/build"
}
declare -A why desc # expected reason for a skip (nothing: must build)
order=()
add() { # RELEASE SED DESCRIPTION REASON
	fake "$1" "$2"
	kernel all "$1" "$ns/trees/$1"
	desc[$1]=$3 why[$1]=$4
	order+=("$1")
}
k_nodom0=6.1.0-901-xdbtest-nodom0
k_old=5.4.0-930-xdbtest-old
add $k_nodom0 '/^CONFIG_XEN_DOM0=/d' "no CONFIG_XEN_DOM0 (like Debian's cloud kernel)" \
	"no CONFIG_XEN_DOM0=y"
kernel all "$k61" "$real61"
desc[$k61]="installed, Xen dom0 support" why[$k61]=
order+=("$k61")
add 6.1.0-902-xdbtest-nobackend '/^CONFIG_XEN_BACKEND=/d' "no CONFIG_XEN_BACKEND" \
	"no CONFIG_XEN_BACKEND=y"
j=0
for m in "${all_modules[@]}"; do
	j=$((j + 1))
	o=${option_of[$m]}
	if shipped "$m"; then
		add "6.1.0-91$j-xdbtest-$m-y" "s/^$o=.*/$o=y/" "$o=y (in-tree $m built in)" \
			"$m is built into it ($o=y)"
	else
		add "6.1.0-91$j-xdbtest-$m-y" "s/^$o=.*/$o=y/" \
			"$o=y ($m built in, not one of ours yet)" ""
	fi
done
add $k_old 's/^$//' "release 5.4 (older than 6.1)" "Linux $k_old is older than 6.1"
# A series never seen is tried like any other.
add 9.99.0-940-xdbtest-future 's/^$//' "release 9.99 (a series never seen)" ""
# A kernel whose API our sources do not compile against (a macro renames a
# function they call): its hook skips ours, naming the compiler's first
# error, rather than fail the kernel update.
k_broken=6.1.0-941-xdbtest-broken
add $k_broken 's/^$//' "an API our sources do not compile against" \
	"the build failed (/usr/src/linux-headers-"
echo '#define xenbus_read_driver_state(...) xdbtest_broken_api()' \
	>>"$ns/trees/$k_broken/include/generated/autoconf.h"
# A smaller set for the install methods: two good kernels, two to skip.
kernel small "$k61" "$real61"
kernel small "$k612" "$real612"
kernel small $k_nodom0 "$ns/trees/$k_nodom0"
kernel small $k_old "$ns/trees/$k_old"
# As on Fedora: the 6.1 kernel with its in-tree Xen backend modules.
declare -A intree
kernel fedora "$k61" "$real61"
for m in "${all_modules[@]}"; do
	intree[$m]=$(modinfo -k "$k61" -n "$m")
	f=$ns/fedora/$k61/${intree[$m]#/lib/modules/"$k61"/}
	mkdir -p "${f%/*}"
	cp "${intree[$m]}" "$f"
	cp "${intree[$m]}" "$ns/intree-$m.ko"
done
cp /lib/modules/"$k61"/modules.{order,builtin,builtin.modinfo} "$ns/fedora/$k61/"

# --- scratch system directories -----------------------------------------------
# /usr/src: a tmpfs holding the host's entries (the kernel headers).
mkdir -p "$ns/hostsrc" "$ns/dkms"
if ! mount --bind /usr/src "$ns/hostsrc" || ! mount -t tmpfs xdb-usr-src /usr/src; then
	fail "namespace: cannot mount a scratch /usr/src"
	exit 1
fi
for e in "$ns/hostsrc"/*; do
	n=/usr/src/${e##*/}
	if [ -L "$e" ]; then
		ln -s "$(readlink "$e")" "$n"
	else
		if [ -d "$e" ]; then mkdir "$n"; else touch "$n"; fi
		mount --bind "$e" "$n"
	fi
done
mount --bind "$ns/dkms" /var/lib/dkms
# rpm -i writes /usr/lib/depmod.d, which must exist to be mounted over;
# run removes it afterwards if it is ours.
[ -d /usr/lib/depmod.d ] || { mkdir /usr/lib/depmod.d && touch "$ns/created-depmod.d"; }
mount -t tmpfs xdb-depmod.d /usr/lib/depmod.d
use_kernels() { # SET
	mount --bind "$ns/$1" /lib/modules
}
stage() { # the sources where dkms add looks for them
	rm -rf "/usr/src/$name-$version"
	packaging/stage-src "/usr/src/$name-$version"
}
nothing_left() { # true when DKMS and /lib/modules hold nothing of ours
	[ -z "$(dkms status -m "$name" 2>/dev/null)" ] &&
		[ -z "$(find /lib/modules/ -path '*/updates/*' -name 'xen-*.ko*')" ]
}
# installed_ok LOG KERNEL: DKMS installed ours for KERNEL, and modinfo finds
# them under updates/dkms with the project's version.
installed_ok() {
	local m f
	[ "$(dkms_state "$2")" = installed ] || { echo "dkms status: '$(dkms_state "$2")'"; return 1; }
	for m in "${modules[@]}"; do
		f=$(modinfo -k "$2" -n "$m")
		[[ $f == /lib/modules/$2/updates/dkms/$m.ko* ]] || { echo "$m: $f"; return 1; }
		[ "$(modinfo -F version "$f")" = "$version" ] || { echo "$m: version"; return 1; }
	done
}
skipped_ok() { # LOG KERNEL: nothing built for KERNEL
	[ -z "$(dkms_state "$2")" ] && [ ! -e "/lib/modules/$2/updates" ]
}

# --- Debian's kernel hook, on every kind of kernel -----------------------------
use_kernels all
stage
run ns-hook dkms add -m "$name" -v "$version"
for k in "${order[@]}"; do
	l=$(log "ns-hook-$k")
	# What linux-headers-<release>.postinst runs.
	run-parts --report --exit-on-error --arg="$k" /etc/kernel/header_postinst.d >"$l" 2>&1
	rc=$?
	if [ -n "${why[$k]}" ]; then
		line=$(grep -m1 "not for kernel $k: " "$l")
		[ $rc = 0 ] && skipped_ok "$l" "$k" && [[ $line == *"${why[$k]}"* ]]
		result $? "kernel hook for $k (${desc[$k]}) succeeds and skips ours: '$line'" \
			"exit $rc, $(log "ns-hook-$k")"
	else
		reason=$(installed_ok "$l" "$k")
		[ $rc = 0 ] && [ -z "$reason" ]
		result $? "kernel hook for $k (${desc[$k]}) builds and installs ours" \
			"exit $rc $reason, $(log "ns-hook-$k")"
	fi
done
l=$(log ns-build-skip)
dkms build -m "$name" -v "$version" -k $k_nodom0 >"$l" 2>&1
rc=$?
[ $rc = 77 ] && grep -q "not for kernel $k_nodom0: no CONFIG_XEN_DOM0=y" "$l"
result $? "dkms build for a kernel without dom0 support: status 77 (skipped) and why" "exit $rc, $l"
run ns-hook dkms remove -m "$name" -v "$version" --all && nothing_left
result $? "dkms remove --all takes ours off every kernel" "$(log ns-hook)"
rm -rf "/usr/src/$name-$version"

# --- make install / make uninstall ---------------------------------------------
use_kernels small
small_ok() { # LOG: installed for the two good kernels, the two others skipped
	local k r
	for k in "$k61" "$k612"; do
		r=$(installed_ok "$1" "$k") || { echo "$k: $r"; return 1; }
	done
	for k in $k_nodom0 $k_old; do
		skipped_ok "$1" "$k" || { echo "$k built"; return 1; }
	done
}
run ns-make-install make install && r=$(small_ok "$(log ns-make-install)") &&
	grep -q "skipped (see above why): .*$k_nodom0" "$(log ns-make-install)"
result $? "make install: DKMS builds and installs ours for $k61 and $k612, skips $k_nodom0 and $k_old" \
	"${r:-} $(log ns-make-install)"
run ns-make-install make uninstall && nothing_left && ! ls -d /usr/src/"$name"-* 2>/dev/null
result $? "make uninstall: nothing of ours left in DKMS, /lib/modules or /usr/src" "$(log ns-make-install)"

# --- the .deb's maintainer scripts --------------------------------------------
mkdir -p "$ns/deb" "$ns/debctl"
dpkg-deb -x "$deb_file" "$ns/deb" && dpkg-deb -e "$deb_file" "$ns/debctl"
cp -a "$ns/deb/usr/src/$name-$version" /usr/src/
# All kernels, as on a first install from a chroot; on a booted system
# dh_dkms's postinst builds for the running and the newest kernel.
autoinstall_all_kernels=1 run ns-deb "$ns/debctl/postinst" configure &&
	r=$(small_ok "$(log ns-deb)") && [ "$(grep -c '^Skipped\.' "$(log ns-deb)")" = 2 ]
result $? "deb postinst (dh_dkms): builds and installs ours for $k61 and $k612, 'Skipped.' $k_nodom0 and $k_old" \
	"${r:-} $(log ns-deb)"
run ns-deb "$ns/debctl/prerm" remove && nothing_left
result $? "deb prerm: dkms remove, nothing of ours left" "$(log ns-deb)"
rm -rf "/usr/src/$name-$version"

# --- the .rpm's scriptlets, through rpm itself --------------------------------
rpmdb=(--dbpath "$ns/rpmdb" --nodeps)
run ns-rpm rpm -i "${rpmdb[@]}" "$rpm_file" && r=$(small_ok "$(log ns-rpm)") &&
	grep -q "$name: kernel $k_nodom0 skipped" "$(log ns-rpm)" &&
	grep -q "$name: kernel $k_old skipped" "$(log ns-rpm)" &&
	[ -f "/usr/lib/depmod.d/$name.conf" ]
result $? "rpm -i: %post builds and installs ours for $k61 and $k612, skips $k_nodom0 and $k_old" \
	"${r:-} $(log ns-rpm)"
run ns-rpm rpm -i --replacepkgs "${rpmdb[@]}" "$rpm_file" && r=$(small_ok "$(log ns-rpm)")
result $? "rpm -i --replacepkgs (reinstall): still installed (%preun removes on erase only)" \
	"${r:-} $(log ns-rpm)"
run ns-rpm rpm -e "${rpmdb[@]}" "$name-dkms" && nothing_left &&
	[ ! -e "/usr/src/$name-$version" ] && [ ! -e "/usr/lib/depmod.d/$name.conf" ]
result $? "rpm -e: %preun dkms remove; nothing of ours left (DKMS, /lib/modules, /usr/src, depmod.d)" \
	"$(log ns-rpm)"

# --- DKMS as on Fedora, and the depmod.d override -------------------------------
printf 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=41\n' >"$ns/os-release"
mount --bind "$ns/os-release" "$(readlink -f /etc/os-release)"
use_kernels fedora
run ns-fedora depmod -a "$k61"
stage
where() { modinfo -k "$k61" -n "$1"; }
run ns-fedora dkms add -m "$name" -v "$version" &&
	run ns-fedora dkms install -m "$name" -v "$version" -k "$k61"
ok=$?
for m in "${modules[@]}"; do
	[ "$(where "$m")" = "/lib/modules/$k61/extra/$m.ko" ] && [ ! -e "${intree[$m]}" ] || ok=1
done
result $ok "DKMS as on Fedora installs ours in extra/ and moves the in-tree ones aside" "$(log ns-fedora)"
# intree_live MODULE: modinfo finds the in-tree module (dkms 3.0.10 puts it
# back under updates/, newer dkms where it was), not ours.
intree_live() {
	cmp -s "$(where "$1")" "$ns/intree-$1.ko" && [ ! -e "/lib/modules/$k61/extra/$1.ko" ]
}
run ns-fedora dkms uninstall -m "$name" -v "$version" -k "$k61"
ok=$?
for m in "${modules[@]}"; do
	intree_live "$m" || ok=1
done
result $ok "DKMS as on Fedora: dkms uninstall puts the in-tree modules back: $(where xen-evtchn)" \
	"$(log ns-fedora)"
run ns-fedora dkms install -m "$name" -v "$version" -k "$k61"
# Now the in-tree files come back (a kernel package reinstalled, or a dkms
# that does not move them) next to ours, and depmod ranks kernel/ first:
# without the override the in-tree copy wins.  Modules not ours yet get a
# stand-in in extra/ and the line the spec will write once they are.
for m in "${all_modules[@]}"; do
	mkdir -p "${intree[$m]%/*}"
	cp "$ns/intree-$m.ko" "${intree[$m]}"
	shipped "$m" || cp "$ns/intree-$m.ko" "/lib/modules/$k61/extra/$m.ko"
done
echo "search kernel extra" >/usr/lib/depmod.d/00-xdbtest-order.conf
run ns-fedora depmod -a "$k61"
[ "$(where xen-evtchn)" = "${intree[xen-evtchn]}" ]
result $? "without the override, depmod can prefer the in-tree module to ours in extra/: $(where xen-evtchn)"
(cd "$ns" && rpm2cpio "$rpm_file" | cpio -id --quiet "./usr/lib/depmod.d/$name.conf")
cp "$ns/usr/lib/depmod.d/$name.conf" /usr/lib/depmod.d/
for m in "${all_modules[@]}"; do
	shipped "$m" || echo "override $m * extra" >>"/usr/lib/depmod.d/$name.conf"
done
run ns-fedora depmod -a "$k61"
for m in "${all_modules[@]}"; do
	shipped "$m" && what="ours" || what="a stand-in, with the line the spec writes once it is ours"
	[ "$(where "$m")" = "/lib/modules/$k61/extra/$m.ko" ] && [ -e "${intree[$m]}" ]
	result $? "with the rpm's depmod.d override, modinfo -n $m points at extra/$m.ko ($what), \
the in-tree one present" "$(where "$m")"
done
for m in "${all_modules[@]}"; do
	shipped "$m" || rm -f "/lib/modules/$k61/extra/$m.ko"
done
rm -f /usr/lib/depmod.d/*.conf
run ns-fedora dkms remove -m "$name" -v "$version" --all
ok=$?
for m in "${all_modules[@]}"; do
	intree_live "$m" || ok=1
done
[ $ok = 0 ] && [ -z "$(dkms status -m "$name")" ] && [ -z "$(ls -A "/lib/modules/$k61/extra" 2>/dev/null)" ]
result $? "DKMS as on Fedora: dkms remove leaves the in-tree modules, nothing of ours" "$(log ns-fedora)"
