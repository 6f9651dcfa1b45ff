# shellcheck shell=bash
# Which copy of a kernel module is live: GNU build-ids of module files and
# of loaded modules.  Sourced by dom0-run (bring-up) and dom0-lib.sh (tests
# that reload a module); needs KVER and MODDIR.

# build_id_of_ko FILE: GNU build-id of a module file (.ko, .ko.xz, .ko.zst).
build_id_of_ko() {
	local f=$1 tmp
	case $f in
	*.xz | *.zst | *.gz)
		tmp=$(mktemp)
		case $f in
		*.xz) xz -dc "$f" >"$tmp" ;;
		*.zst) zstd -qdc "$f" >"$tmp" ;;
		*.gz) gzip -dc "$f" >"$tmp" ;;
		esac
		readelf -n "$tmp" 2>/dev/null | awk '/Build ID:/ {print $3}'
		rm -f "$tmp"
		;;
	*) readelf -n "$f" 2>/dev/null | awk '/Build ID:/ {print $3}' ;;
	esac
}

# build_id_live NAME: build-id of the loaded module, from its sysfs note
# (12-byte note header, "GNU\0", then the id).
build_id_live() {
	local note=/sys/module/${1//-/_}/notes/.note.gnu.build-id hex
	[[ -r $note ]] || return 0
	hex=$(od -An -v -tx1 "$note" | tr -d ' \n')
	echo "${hex:32:$((2 * 16#${hex:8:2}))}"
}

# VM_MODULES: which copy of the four modules the run tests (tests/vm/run
# --modules): "ours" (build/KVER), "in-tree" (the kernel's own, under
# /lib/modules/KVER/kernel/) or "installed" (what modprobe finds: a DKMS
# install of ours).
VM_MODULES=${VM_MODULES:-ours}

# module_copy_file MODULE: the file the copy under test comes from.
module_copy_file() {
	if [[ $VM_MODULES == ours ]]; then
		echo "$MODDIR/$1/$1.ko"
	else
		modinfo -n "$1" 2>/dev/null
	fi
}
# module_live_is_under_test MODULE: the live MODULE is the copy this run
# tests, by GNU build-id (and, for the in-tree copy, its place under
# kernel/); says why not on stderr.
module_live_is_under_test() {
	local m=$1 f live want
	f=$(module_copy_file "$m")
	live=$(build_id_live "$m")
	want=$(build_id_of_ko "$f")
	case $VM_MODULES in
	in-tree) [[ $f == /lib/modules/$KVER/kernel/* ]] || { echo "$m: modprobe's copy $f is not the kernel's own" >&2; return 1; } ;;
	installed) [[ $f == /lib/modules/$KVER/updates/* || $f == /lib/modules/$KVER/extra/* ]] || { echo "$m: modprobe's copy $f is not a DKMS install" >&2; return 1; } ;;
	esac
	[[ -n $live && $live == "$want" ]] && return 0
	echo "$m: live build-id '${live:-none}' is not $f's '${want:-none}'" >&2
	return 1
}
# load_module_under_test MODULE [PARAM...]: load the copy this run tests.
load_module_under_test() {
	local m=$1
	shift
	if [[ $VM_MODULES == ours ]]; then
		insmod "$MODDIR/$m/$m.ko" "$@"
	else
		modprobe "$m" "$@"
	fi
}
# load_copy COPY MODULE [PARAM...]: load COPY ("ours" or "in-tree") of
# MODULE and prove it live by build-id (benchmarks compare the two so; an
# older copy of ours installed by DKMS is never taken for the in-tree one).
load_copy() {
	local VM_MODULES=$1
	shift
	load_module_under_test "$@" && module_live_is_under_test "$1"
}
