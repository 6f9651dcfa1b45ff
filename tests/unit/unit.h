/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal check reporting for the user-space unit tests. */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>

static int unit_failed;

#define CHECK(cond, ...)						\
	do {								\
		int ok_ = !!(cond);					\
									\
		printf("%s: unit: ", ok_ ? "PASS" : "FAIL");		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		if (!ok_)						\
			unit_failed++;					\
	} while (0)

#endif
