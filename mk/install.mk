# SPDX-License-Identifier: GPL-2.0-only
#
# Where make install puts things; each may be set on the command line, and
# DESTDIR stages the whole tree somewhere else (packaging, tests).

PREFIX ?= /usr/local
EXEC_PREFIX ?= $(PREFIX)
BINDIR ?= $(EXEC_PREFIX)/bin
LIBDIR ?= $(EXEC_PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
# DKMS looks for module sources in /usr/src only, whatever the prefix.
DKMS_SRCDIR ?= /usr/src/vhostctl-$(VERSION)

INSTALL ?= install
# Removes the named directories when empty, and their empty parents, but
# only inside a DESTDIR staging tree: a live system's shared directories
# (/usr/local/lib, ...) stay.
prune_dirs = $(if $(DESTDIR),$(TOP)/mk/prune-dirs.sh "$(DESTDIR)" $(1))
