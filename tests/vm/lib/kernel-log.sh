# shellcheck shell=bash
# kernel_log_filter FILE...: the kernel log on stdin without the WARNING
# reports ("cut here" to "end trace") whose WARNING line matches a pattern
# (an ERE per line) of the FILEs: core-kernel reports that a test provokes
# on purpose and declares in its $TEST_LOGDIR/kernel-log-expected, saying
# why.  Everything else passes through, so it still counts.
kernel_log_filter() {
	local pats
	pats=$(cat "$@" 2>/dev/null | grep -v '^#' | paste -sd '|')
	if [[ -z $pats ]]; then
		cat
		return
	fi
	awk -v pat="$pats" '
	/-+\[ cut here \]-+/ { inb = 1; buf = $0 ORS; warn = ""; next }
	inb {
		buf = buf $0 ORS
		if (warn == "" && /WARNING:/)
			warn = $0
		if (/---\[ end trace/) {
			if (!(warn != "" && warn ~ pat))
				printf "%s", buf
			inb = 0
			buf = ""
		}
		next
	}
	{ print }
	END { if (inb) printf "%s", buf }'
}
