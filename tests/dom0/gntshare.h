/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dom0 side of tests/guest/gntshare.c: the guest's grants and port,
 * read from its xenstore (data/gnt-*), the commands it obeys, and the
 * patterns it fills its pages with.  Shared by the dom0 test programs that
 * work on a gntshare guest.
 */
#ifndef DOM0_GNTSHARE_H
#define DOM0_GNTSHARE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096
#define MAGIC		0x47534852u	/* "GSHR": first word of a guest page */
#define NPAGES_MAX	1024

static unsigned int domid;		/* the guest */
static unsigned int npages;		/* pages it granted */
static uint32_t refs[NPAGES_MAX];
static unsigned int guest_port;		/* its unbound port for dom0 */

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read /local/domain/<domid>/data/KEY; 0 on success. */
static inline int xs_read(const char *key, char *out, size_t len)
{
	char cmd[160];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd),
		 "xenstore-read /local/domain/%u/data/%s 2>/dev/null", domid, key);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	ok = fgets(out, len, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return -1;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

static inline int xs_write(const char *key, const char *value)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd),
		 "xenstore-write /local/domain/%u/data/%s '%s'", domid, key, value);
	return system(cmd) == 0 ? 0 : -1;
}

static char guest_why[300];	/* the guest's answer to a failed command */
static long guest_seq;		/* of the last command */

/* Send the guest a command (see gntshare.c); 0 on success. */
static inline int guest_send(const char *cmd)
{
	char msg[300];

	snprintf(msg, sizeof(msg), "%ld %s", ++guest_seq, cmd);
	if (xs_write("gnt-cmd", msg)) {
		snprintf(guest_why, sizeof(guest_why), "cannot write data/gnt-cmd");
		return -1;
	}
	return 0;
}

/*
 * Have the guest run a command and wait for its answer.  Returns 1 if it
 * answered ok; else 0, with guest_why saying why.
 */
static inline int guest(const char *fmt, ...)
{
	char cmd[256], ack[320];
	double deadline = now() + 30;	/* "event" waits 10 s */
	long got;
	int n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (guest_send(cmd))
		return 0;
	while (now() < deadline) {
		if (!xs_read("gnt-ack", ack, sizeof(ack)) &&
		    sscanf(ack, "%ld %n", &got, &n) == 1 && got == guest_seq) {
			snprintf(guest_why, sizeof(guest_why), "'%s': %s", cmd,
				 ack + n);
			return !strcmp(ack + n, "ok");
		}
		usleep(50000);
	}
	snprintf(guest_why, sizeof(guest_why), "'%s': no answer in 30 s", cmd);
	return 0;
}

/* A check the guest makes: the command's answer is the verdict. */
#define guest_check(what, ...) \
	report(guest(__VA_ARGS__), what, "%s", guest_why)

/*
 * Wait (up to 90 s) for the guest's data/gnt-ready, then read its grant
 * references and port.  0 if it published at least @min grants and a port.
 */
static inline int gntshare_read(unsigned int min)
{
	char buf[NPAGES_MAX * 12], *s, *end;

	for (int i = 0; xs_read("gnt-ready", buf, sizeof(buf)); i++) {
		if (i == 180) {
			printf("FAIL: " CHECK_AREA ": the guest publishes its "
			       "grants: no data/gnt-ready after 90 s\n");
			return -1;
		}
		usleep(500000);
	}
	if (xs_read("gnt-refs", buf, sizeof(buf)))
		return -1;
	for (s = buf; npages < NPAGES_MAX; s = end) {
		unsigned long r = strtoul(s, &end, 10);

		if (end == s)
			break;
		refs[npages++] = r;
	}
	if (xs_read("gnt-port", buf, sizeof(buf)))
		return -1;
	guest_port = strtoul(buf, NULL, 10);
	report(npages >= min && guest_port > 0,
	       "the guest published its grants and a port",
	       "%u grants (want %u), port %u", npages, min, guest_port);
	return npages >= min && guest_port > 0 ? 0 : -1;
}

/*
 * The page patterns (the same in gntshare.c).  Page i, byte j: the base
 * pattern the guest writes, and the one dom0 writes with a seed.
 */
static inline uint8_t base_byte(unsigned int page, unsigned int j)
{
	if (j < 8) {
		uint32_t w[2] = { MAGIC, page };

		return ((const uint8_t *)w)[j];
	}
	return (page * 7 + j + (j >> 8) * 3) & 0xff;
}

static inline uint8_t dom0_byte(unsigned int seed, unsigned int j)
{
	return (seed * 31 + j * 5 + (j >> 8)) & 0xff;
}

#endif
