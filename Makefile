# SPDX-License-Identifier: GPL-2.0
#
# xen-dom0-backends: Xen dom0 backend drivers as out-of-tree modules.
#
#   make              build for every installed kernel with a build tree
#   make KVER=x       ... for kernel release x (/lib/modules/x/build)
#   make KDIR=dir     ... for the kernel build tree in dir
#   make W=1          ... with extra warnings (any kbuild variable passes on)
#   make lint         sparse and checkpatch
#   make check        what CI runs: unit tests, lint, packaging, then each
#                     Xen VM test on one of the 6.1 and 6.12 dom0 kernels;
#                     ends with "N passed, M failed"
#   make check-full   the same with every VM test on both kernels (before an
#                     issue is resolved)
#   make check-debug  every VM test on a debug dom0 kernel built from
#                     linux-source-6.12 (lockdep, KFENCE, kmemleak...; the
#                     first build takes some 40 minutes, then it is kept)
#   make install      DKMS add/build/install for every kernel with headers
#   make uninstall    remove it from DKMS (the in-tree modules come back)
#   make bench        benchmarks, ours against the in-tree modules in one
#                     VM boot per dom0 kernel (ratios in METRIC: lines)
#   make dkms         in-place build for one kernel (used by dkms.conf)
#   make clean
#
# Each kernel gets its own copy of the sources under build/<release>/, so
# builds for several kernels do not overwrite each other's objects.

# What a build needs; also what DKMS gets under /usr/src.
SRC_ITEMS := Kbuild Makefile VERSION dkms.conf compat xen-evtchn xen-gntdev xen-blkback \
	xen-netback
BUILD     := $(CURDIR)/build

ifneq ($(KDIR),)
KVERS := $(or $(KVER),$(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null))
else ifneq ($(KVER),)
KVERS := $(KVER)
else
KVERS := $(notdir $(patsubst %/build,%,$(wildcard /lib/modules/*/build)))
endif
kdir_of = $(or $(KDIR),/lib/modules/$(1)/build)

.PHONY: all modules dkms dkms-clean install uninstall lint check check-full check-debug \
	bench tests \
	clean $(KVERS)

all modules: $(KVERS)
	@test -n "$(KVERS)" || { echo "no kernel build tree found: install linux-headers or set KDIR=" >&2; exit 1; }

$(KVERS):
	@mkdir -p $(BUILD)/$@
	@cp -a --update $(SRC_ITEMS) $(BUILD)/$@/
	$(MAKE) -C $(call kdir_of,$@) M=$(BUILD)/$@ modules

dkms:
	$(MAKE) -C $(call kdir_of,$(KVER)) M=$(CURDIR) modules

dkms-clean:
	$(MAKE) -C $(call kdir_of,$(KVER)) M=$(CURDIR) clean

install:
	packaging/dkms-install $(SRC_ITEMS)

uninstall:
	packaging/dkms-install --uninstall

lint:
	tests/lint $(KVERS)

tests:
	$(MAKE) -C tests

# The tests install what they need first (Debian 12, as root; a quick
# no-op once done), then build for the kernels that brings, a job per CPU.
check:
	tests/install-deps
	$(MAKE) -j$(shell nproc 2>/dev/null || echo 1) all tests
	tests/check

check-full:
	tests/install-deps
	$(MAKE) -j$(shell nproc 2>/dev/null || echo 1) all tests
	XDB_LANE=full tests/check

check-debug:
	tests/install-deps
	tests/check-debug

bench: all tests
	tests/bench/run --kernel 6.1
	tests/bench/run --kernel 6.12

clean:
	rm -rf $(BUILD)
	$(MAKE) -C tests clean
