# SPDX-License-Identifier: GPL-2.0-only
#
# Settings shared by every userspace Makefile.  Quiet rules: V=1 shows the
# full commands.  WERROR=1 turns warnings into errors (make check sets it).

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
BUILD ?= $(TOP)/build
# The one version of the library, the CLI, the .pc and the module.
VERSION := $(shell cat $(TOP)/VERSION)

CC ?= cc
CXX ?= c++
AR ?= ar
PKG_CONFIG ?= pkg-config

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wpointer-arith -Wno-unused-parameter
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif
OPTFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(OPTFLAGS) $(WARNINGS) -D_GNU_SOURCE -fno-strict-aliasing \
	-I$(TOP)/libvhostctl/include
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' '$(1)' '$(patsubst $(TOP)/%,%,$(2))'
endif

LIB_A := $(BUILD)/lib/libvhostctl.a
LIB_SAN_A := $(BUILD)/lib-san/libvhostctl.a
LIB_SO := $(BUILD)/lib/libvhostctl.so
