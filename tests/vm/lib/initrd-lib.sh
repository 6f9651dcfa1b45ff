# shellcheck shell=bash
# Helpers shared by the dom0 and guest initramfs builders (host side).
# Each initramfs is a plain directory tree packed with cpio; modules and
# programs are copied from the host, which has the same kernels installed.

# initrd_skeleton DIR: empty tree with a static busybox as the only program.
initrd_skeleton() {
	local dir=$1 bb
	bb=$(command -v busybox || true)
	# ldd fails on a static binary; a dynamic busybox would need its libc.
	if [[ -z $bb ]] || ldd "$bb" >/dev/null 2>&1; then
		echo "initrd: need a static busybox (apt-get install busybox-static)" >&2
		return 1
	fi
	rm -rf "$dir"
	mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,run,tmp,mnt,lib/modules}
	cp "$bb" "$dir/bin/busybox"
	# Applet links are made at build time so /init can use them directly.
	local applet
	for applet in $("$dir/bin/busybox" --list); do
		[[ -e $dir/bin/$applet ]] || ln -s busybox "$dir/bin/$applet"
	done
	: >"$dir/etc/modules.order"
}

# initrd_add_modules DIR KVER MODULE...: copy each module and everything it
# depends on, in load order, decompressed (busybox insmod cannot read .ko.xz),
# and list them in DIR/etc/modules.order for /init to insmod.
initrd_add_modules() {
	local dir=$1 kver=$2 mod line path base
	shift 2
	for mod in "$@"; do
		# --show-depends takes one module per call (further words are parameters).
		# VM_MODROOT: a kernel's modules installed under another root.
		modprobe ${VM_MODROOT:+-d "$VM_MODROOT"} -S "$kver" --show-depends "$mod" | while read -r line; do
			case $line in
			builtin*) continue ;;
			insmod\ *) path=${line#insmod } path=${path%% *} ;;
			*) continue ;;
			esac
			base=$(basename "$path")
			base=${base%.xz} base=${base%.zst} base=${base%.gz}
			grep -qxF "$base" "$dir/etc/modules.order" && continue
			case $path in
			*.xz) xz -dc "$path" >"$dir/lib/modules/$base" ;;
			*.zst) zstd -qdc "$path" >"$dir/lib/modules/$base" ;;
			*.gz) gzip -dc "$path" >"$dir/lib/modules/$base" ;;
			*) cp "$path" "$dir/lib/modules/$base" ;;
			esac
			echo "$base" >>"$dir/etc/modules.order"
		done
		[[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "initrd: module $mod not found for $kver" >&2; return 1; }
	done
}

# initrd_add_program DIR PROGRAM...: copy host programs (name or path) to
# DIR/usr/bin with the shared libraries ldd reports, at their host paths.
initrd_add_program() {
	local dir=$1 prog path lib
	shift
	for prog in "$@"; do
		path=$(command -v "$prog" || true)
		[[ -n $path && -x $path ]] || { echo "initrd: program $prog not installed on the host" >&2; return 1; }
		mkdir -p "$dir/usr/bin"
		cp -L "$path" "$dir/usr/bin/$(basename "$path")"
		# ldd prints "libx.so => /path (addr)" and "/lib64/ld-linux... (addr)".
		for lib in $(ldd "$path" 2>/dev/null | grep -o '/[^ ]*' || true); do
			[[ -e $dir$lib ]] && continue
			mkdir -p "$dir$(dirname "$lib")"
			cp -L "$lib" "$dir$lib"
		done
	done
}

# initrd_pack DIR OUT: newc cpio, uncompressed: the VM runs under emulation,
# where unpacking is cheap and decompressing is not.
initrd_pack() {
	local dir=$1 out=$2
	mkdir -p "$(dirname "$out")"
	(cd "$dir" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$out.tmp"
	mv "$out.tmp" "$out"
}
