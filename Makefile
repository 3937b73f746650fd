# SPDX-License-Identifier: GPL-2.0-only
#
# vhostctl: the library, the CLI, the kernel module and the selftests.
#
#   make          build everything (fetches the test kernel headers once)
#   make check    install what is missing, build with -Werror, run the host
#                 tests, then the selftests in the test VM
#   make run      build, boot the test VM and show what vhostctl does
#   make stress   each host test STRESS_RUNS times pinned beside a CPU hog,
#                 then STRESS_BOOTS VM boots with the CPUs loaded
#   make install  the library, headers, .pc, man pages, the CLI and its
#                 completion, and the module's sources for DKMS; PREFIX,
#                 DESTDIR, LIBDIR, MANDIR, ... as in mk/install.mk
#   make uninstall  remove exactly what make install put there
#   make htmldocs the documentation as HTML, in build/htmldocs
#   make fuzz     each libFuzzer target FUZZ_TIME seconds (fuzz/, clang)
#   make soak     the reconnect soak: SOAK_KILLS (1000) backend kills per
#                 ring layout with requests in flight (not in make check)
#   V=1           show full commands

include mk/common.mk
include mk/install.mk

all: lib cli selftests kmod bench

deps:
	$(Q)tools/deps.sh

lib:
	$(Q)$(MAKE) --no-print-directory -C libvhostctl

cli: lib
	$(Q)$(MAKE) --no-print-directory -C tools/vhostctl

selftests: lib
	$(Q)eval "$$(tools/vm/ksft.sh)" && \
		$(MAKE) --no-print-directory -C selftests KSFT_INC="$$KSFT_INC"

bench: lib
	$(Q)if [ -f bench/Makefile ]; then $(MAKE) --no-print-directory -C bench; fi

# The module is built against the test kernel's headers, from the cache.
kmod:
	$(Q)if [ -f kmod/Kbuild ]; then \
		eval "$$(tools/vm/kernel.sh)" && \
		$(MAKE) --no-print-directory -C kmod KDIR="$$KDIR"; \
	fi

check:
	$(Q)tools/check.sh

# The module's sources go where DKMS builds them from, with the VERSION
# file that its Kbuild reads and a dkms.conf carrying the same version.
KMOD_SRC := $(wildcard kmod/Kbuild kmod/Makefile kmod/*.c kmod/*.h)
KMOD_SRC := $(filter-out %.mod.c,$(KMOD_SRC))

install: lib cli
	$(Q)$(MAKE) --no-print-directory -C libvhostctl install
	$(Q)$(MAKE) --no-print-directory -C tools/vhostctl install
	$(INSTALL) -d $(DESTDIR)$(DKMS_SRCDIR)
	$(INSTALL) -m 0644 $(KMOD_SRC) VERSION $(DESTDIR)$(DKMS_SRCDIR)/
	sed 's|@VERSION@|$(VERSION)|' dkms.conf >$(DESTDIR)$(DKMS_SRCDIR)/dkms.conf
	chmod 0644 $(DESTDIR)$(DKMS_SRCDIR)/dkms.conf

# The reST documentation as HTML; a warning fails the build.
htmldocs:
	$(Q)command -v sphinx-build >/dev/null || { echo "htmldocs: sphinx-build is missing:" \
		"run tools/deps.sh as root (python3-sphinx)" >&2; exit 1; }
	$(Q)sphinx-build -q -E -a -W --keep-going -b html -d $(BUILD)/htmldocs/.doctrees \
		Documentation $(BUILD)/htmldocs
	@echo "  HTML     $(patsubst $(TOP)/%,%,$(BUILD))/htmldocs/index.html"

uninstall:
	$(Q)$(MAKE) --no-print-directory -C libvhostctl uninstall
	$(Q)$(MAKE) --no-print-directory -C tools/vhostctl uninstall
	rm -f $(addprefix $(DESTDIR)$(DKMS_SRCDIR)/,$(notdir $(KMOD_SRC)) VERSION dkms.conf)
	-rmdir $(DESTDIR)$(DKMS_SRCDIR) 2>/dev/null
	$(call prune_dirs,$(DESTDIR)$(dir $(DKMS_SRCDIR)))

run:
	$(Q)tools/run.sh

# Flaky-test hunting: each host test STRESS_RUNS times pinned beside a CPU
# hog, then STRESS_BOOTS VM boots with every CPU loaded (tools/stress.sh).
stress: all
	$(Q)tools/stress.sh

# Coverage-guided fuzzing of every parser of peer input (fuzz/Makefile).
fuzz:
	$(Q)$(MAKE) --no-print-directory -C fuzz run

# The reconnect soak: the block backend killed SOAK_KILLS times per ring
# layout with requests in flight; every request completes exactly once, no
# fd or memory is leaked.
SOAK_KILLS ?= 1000
soak: lib
	$(Q)$(MAKE) --no-print-directory -C libvhostctl tests
	$(Q)BUILD=$(BUILD) VU_RECONNECT_KILLS=$(SOAK_KILLS) $(BUILD)/tests/vu_reconnect

clean:
	$(Q)$(MAKE) --no-print-directory -C libvhostctl clean
	$(Q)if [ -f kmod/Makefile ]; then $(MAKE) --no-print-directory -C kmod clean KDIR=/nonexistent 2>/dev/null || true; fi
	rm -rf $(BUILD)

.PHONY: all deps lib cli selftests kmod bench check run stress fuzz soak clean install uninstall htmldocs
