// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev_bench: the cost of /dev/xen/gntdev's two paths, measured on pages
 * dom0 grants to itself through /dev/xen/gntalloc (no guest or toolstack
 * needed, so the module under test can be swapped within one boot).
 *
 *   map+mmap+munmap+unmap of 1 grant per request, and of 64 per request
 *   GRANT_COPY of whole pages, foreign to local and local to foreign
 *
 * Every mapping and copy is checked against the pages' pattern, so a fast
 * wrong answer fails.  Prints "BENCH: <name> <value> <unit>" lines and
 * "PASS:/FAIL: gntdev-bench: ..." checks; exits 1 on a failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef uint16_t domid_t;	/* the UAPI headers expect it from the includer */
typedef uint32_t grant_ref_t;
#include <xen/gntalloc.h>
#include <xen/gntdev.h>

#include "gntalloc_self.h"

#define NPAGES		256
#define PAGE		4096
#define BATCH		64
#define GNTCOPY_source_gref	(1 << 0)	/* ABI: xen/interface/grant_table.h */
#define GNTCOPY_dest_gref	(1 << 1)

static int failures;
static uint32_t refs[NPAGES];
static unsigned char *shared;	/* the granted pages, through gntalloc */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check(int ok, const char *what)
{
	printf("%s: gntdev-bench: %s\n", ok ? "PASS" : "FAIL", what);
	if (!ok)
		failures++;
}

static unsigned char pattern(unsigned int page, unsigned int off)
{
	return (unsigned char)(page * 13 + off * 7 + 1);
}

/* Grant NPAGES of our own pages to ourselves and fill them. */
static int grant_pages(void)
{
	int fd;		/* stays open: the grants live as long as we do */

	shared = gntalloc_self(NPAGES, refs, &fd);
	if (shared == MAP_FAILED)
		return -1;
	for (unsigned int p = 0; p < NPAGES; p++)
		for (unsigned int o = 0; o < PAGE; o++)
			shared[p * PAGE + o] = pattern(p, o);
	return 0;
}

/* Time spent in each step of map_round, when timing them (seconds). */
static int time_steps;
static double step_time[4];
static const char *const step_name[4] = { "map_ioctl", "mmap", "read+munmap", "unmap_ioctl" };

static void step_done(unsigned int step, double *t)
{
	double t1;

	if (!time_steps)
		return;
	t1 = now();
	step_time[step] += t1 - *t;
	*t = t1;
}

/* Map @n grants starting at page @first, check them, unmap; 0 if right. */
static int map_round(int gnt, unsigned int first, unsigned int n)
{
	double t = time_steps ? now() : 0;
	struct ioctl_gntdev_map_grant_ref *map;
	struct ioctl_gntdev_unmap_grant_ref unmap = { 0 };
	static unsigned char buf[sizeof(*map) + BATCH * sizeof(map->refs[0])];
	unsigned char *va;
	int bad = 0;

	map = (void *)buf;
	map->count = n;
	for (unsigned int i = 0; i < n; i++) {
		map->refs[i].domid = 0;
		map->refs[i].ref = refs[(first + i) % NPAGES];
	}
	if (ioctl(gnt, IOCTL_GNTDEV_MAP_GRANT_REF, map))
		return -1;
	step_done(0, &t);
	va = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, gnt,
		  map->index);
	step_done(1, &t);
	if (va == MAP_FAILED) {
		bad = 1;
	} else {
		for (unsigned int i = 0; i < n; i++) {
			unsigned int p = (first + i) % NPAGES;

			bad |= va[i * PAGE + 100] != pattern(p, 100);
		}
		munmap(va, n * PAGE);
	}
	step_done(2, &t);
	unmap.index = map->index;
	unmap.count = n;
	if (ioctl(gnt, IOCTL_GNTDEV_UNMAP_GRANT_REF, &unmap))
		bad = 1;
	step_done(3, &t);
	return bad ? -1 : 0;
}

static void bench_map(int gnt, unsigned int per_request, double seconds)
{
	unsigned long grants = 0;
	double t0 = now(), t = 0;
	int ok = 1;

	while (ok) {
		for (int k = 0; k < 16 && ok; k++) {
			ok = map_round(gnt, grants % NPAGES, per_request) == 0;
			grants += per_request;
		}
		t = now() - t0;
		if (t >= seconds)
			break;
	}
	printf("BENCH: map_%u %.2f us/grant\n", per_request, t * 1e6 / grants);
	check(ok, per_request == 1 ? "map+mmap+munmap+unmap, 1 grant per request, data right" :
	      "map+mmap+munmap+unmap, 64 grants per request, data right");
}

/*
 * Where a map's time goes, step by step, over @rounds further rounds: the
 * timing calls are kept out of the BENCH figures above.
 */
static void time_map_steps(int gnt, unsigned int per_request, unsigned int rounds)
{
	memset(step_time, 0, sizeof(step_time));
	time_steps = 1;
	for (unsigned int k = 0; k < rounds; k++)
		if (map_round(gnt, k * per_request % NPAGES, per_request))
			break;
	time_steps = 0;
	printf("# steps of map_%u, us per request:", per_request);
	for (unsigned int i = 0; i < 4; i++)
		printf(" %s %.1f", step_name[i], step_time[i] * 1e6 / rounds);
	printf("\n");
}

static void bench_copy(int gnt, int to_foreign, double seconds)
{
	static struct gntdev_grant_copy_segment seg[BATCH];
	static unsigned char local[BATCH * PAGE];
	struct ioctl_gntdev_grant_copy op = { .count = BATCH, .segments = seg };
	unsigned long bytes = 0, first = 0;
	double t0 = now(), t = 0;
	int ok = 1;

	do {
		for (unsigned int i = 0; i < BATCH; i++) {
			unsigned int p = (first + i) % NPAGES;

			memset(&seg[i], 0, sizeof(seg[i]));
			seg[i].len = PAGE;
			if (to_foreign) {
				seg[i].source.virt = local + i * PAGE;
				seg[i].dest.foreign.ref = refs[p];
				seg[i].dest.foreign.domid = 0;
				seg[i].flags = GNTCOPY_dest_gref;
				/* What we write is the pattern: pages stay checkable. */
				memcpy(local + i * PAGE, shared + p * PAGE, PAGE);
			} else {
				seg[i].source.foreign.ref = refs[p];
				seg[i].source.foreign.domid = 0;
				seg[i].dest.virt = local + i * PAGE;
				seg[i].flags = GNTCOPY_source_gref;
			}
		}
		if (ioctl(gnt, IOCTL_GNTDEV_GRANT_COPY, &op)) {
			ok = 0;
			break;
		}
		for (unsigned int i = 0; i < BATCH; i++) {
			unsigned int p = (first + i) % NPAGES;

			ok &= seg[i].status == 0;
			if (!to_foreign)
				ok &= local[i * PAGE + 4000] == pattern(p, 4000);
		}
		bytes += BATCH * PAGE;
		first += BATCH;
		t = now() - t0;
	} while (ok && t < seconds);
	printf("BENCH: copy_%s %.1f MB/s\n", to_foreign ? "to_foreign" : "from_foreign",
	       bytes / t / 1e6);
	check(ok, to_foreign ? "GRANT_COPY local to foreign, statuses okay" :
	      "GRANT_COPY foreign to local, data right");
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	int gnt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (grant_pages()) {
		printf("FAIL: gntdev-bench: grant %d pages to dom0 via gntalloc: %s\n",
		       NPAGES, strerror(errno));
		return 1;
	}
	gnt = open("/dev/xen/gntdev", O_RDWR);
	if (gnt < 0) {
		printf("FAIL: gntdev-bench: open /dev/xen/gntdev: %s\n", strerror(errno));
		return 1;
	}
	bench_map(gnt, 1, seconds);
	bench_map(gnt, BATCH, seconds);
	time_map_steps(gnt, 1, 500);
	time_map_steps(gnt, BATCH, 200);
	bench_copy(gnt, 0, seconds);
	bench_copy(gnt, 1, seconds);
	close(gnt);
	return failures ? 1 : 0;
}
