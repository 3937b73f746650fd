// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/*
 * The library's version, from the one VERSION file at the top of the tree:
 * the Makefile passes it as VHOSTCTL_VERSION_STRING.
 */
#include "internal.h"

#ifndef VHOSTCTL_VERSION_STRING
#error "VHOSTCTL_VERSION_STRING is set by the Makefile from VERSION"
#endif

VHC_EXPORT const char *vhostctl_version(void)
{
	return VHOSTCTL_VERSION_STRING;
}
