/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PASS/FAIL reporting shared by the dom0 test programs.  The includer
 * defines CHECK_AREA, the word after "PASS: " ("evtchn", "gntdev").
 */
#ifndef DOM0_CHECK_H
#define DOM0_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>

static int failures;

/* The details' format is checked: a wrong argument crashes a failing check. */
__attribute__((format(printf, 3, 4)))
static void report(int ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("%s: " CHECK_AREA ": %s", ok ? "PASS" : "FAIL", what);
	if (!ok && fmt) {
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	fflush(stdout);
	if (!ok)
		failures++;
}

/* An ioctl's result: the return value, or -errno. */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int rc = ioctl(fd, cmd, arg);

	return rc < 0 ? -errno : rc;
}

/* The number a file (sysfs, procfs) holds, or -1. */
static inline long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

#endif
