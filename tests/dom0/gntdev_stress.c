// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev_stress: /dev/xen/gntdev under load, against pages a PV guest
 * grants to dom0 (tests/guest/gntshare.c, as for gntdev_test).  Three
 * phases, each ending with the driver's debugfs counters back at their
 * baseline and dom0's memory, since the phase began and since the start,
 * within a tolerance that a leak of half a page per cycle would exceed:
 *
 *   cycles   thousands of map, mmap, munmap and unmap cycles in one
 *            process: 1 to 32 grants, read-only and read-write, both
 *            teardown orders, with and without unmap notify (clear byte
 *            and event), every mapping's pages read back
 *   kills    children SIGKILLed at random moments while they cycle, and
 *            while they hold up to 64 grants mapped with notify set
 *   destroy  `xl destroy` of the guest while dom0 processes hold its
 *            grants mapped, read them, keep mapping and copying; Xen keeps
 *            the dying domain until they let go, and once they exit (or
 *            are killed) it must disappear from `xl list`
 *
 * Usage: gntdev_stress DOMID MAPS0 MAPPED0 | gntdev_stress DOMID --in-tree
 * MAPS0 and MAPPED0 are the counters before the guest existed: after the
 * guest is gone, xenstored's and xenconsoled's maps of its rings are gone
 * too.  --in-tree: the kernel's own module, which has no counters (for
 * comparison, under tests/vm/run --in-tree); the rest is checked.  Prints "PASS: gntdev-stress: ..." / "FAIL: ..." lines and "# "
 * notes with the figures; exits 1 on a FAIL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* The UAPI headers expect these from the includer. */
typedef uint16_t domid_t;
typedef uint32_t grant_ref_t;
#include <xen/evtchn.h>
#include <xen/gntdev.h>

#define CHECK_AREA "gntdev-stress"
#include "check.h"
#include "gntdev_stats.h"
#include "gntshare.h"

#define GNTCOPY_source_gref	(1 << 0)	/* ABI: xen/interface/grant_table.h */

#define DEV		"/dev/xen/gntdev"
#define CYCLES		4000
#define KILLS		500	/* of each kind */
#define MAX_GRANTS	64	/* most grants a cycle or child maps at once */
#define WARMUP_GRANTS	1024	/* more than any phase holds at once */

static int notify_port;		/* dom0's end of the guest's port */
static int have_stats = 1;	/* 0 with --in-tree */

/* ---- counters and memory ---- */

/* The counters equal @want, within 5 s (the last unmaps may be deferred). */
static void expect_stats(const char *what, const struct stats *want)
{
	struct stats s = { -1, -1, -1 };

	if (!have_stats)
		return;
	for (int i = 0; i < 100; i++) {
		if (!stats_read(&s) && s.maps == want->maps &&
		    s.mapped == want->mapped)
			break;
		usleep(50000);
	}
	report(s.maps == want->maps && s.mapped == want->mapped, what,
	       "maps %ld, grant_mappings %ld; want %ld, %ld", s.maps,
	       s.mapped, want->maps, want->mapped);
}

/*
 * Memory a leak would take away: free plus page cache (both after caches
 * are dropped, so that a log file's growth is not taken for a leak), and
 * unreclaimable slab, in KiB.  Free counts the pages parked in the per-cpu
 * free lists too: MemFree leaves them out, and they swing by megabytes as
 * a thousand processes come and go.
 */
struct mem {
	long avail, slab;
};

static long meminfo(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

/* Pages in the per-cpu free lists, in KiB: /proc/zoneinfo's "count:"s. */
static long percpu_free_kib(void)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	char line[256];
	long sum = 0, n;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &n) == 1)
			sum += n;
	fclose(f);
	return sum * (PAGE / 1024);
}

static void mem_read_once(struct mem *m)
{
	char buf[8192];
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ssize_t n;

	if (fd >= 0) {
		sync();
		if (write(fd, "3", 1) != 1)
			printf("# drop_caches: %s\n", strerror(errno));
		close(fd);
	}
	fd = open("/proc/meminfo", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	m->avail = meminfo(buf, "\nMemFree:") + meminfo(buf, "\nBuffers:") +
		   meminfo(buf, "\nCached:") + percpu_free_kib();
	m->slab = meminfo(buf, "\nSUnreclaim:");
}

/* The best of a few readings: frees by RCU and workqueues settle. */
static void mem_read(struct mem *m)
{
	struct mem r;

	mem_read_once(m);
	for (int i = 0; i < 4; i++) {
		usleep(300000);
		mem_read_once(&r);
		if (r.avail > m->avail)
			m->avail = r.avail;
		if (r.slab < m->slab)
			m->slab = r.slab;
	}
}

/* After the warm-up, and at the end of the last phase checked. */
static struct mem mem_base, mem_last;

/*
 * Neither figure moved by half a page per cycle or more over @cycles
 * cycles since @from (a phase's start, or the baseline for the whole run).
 */
static void expect_mem(const char *what, const struct mem *from, long cycles)
{
	long tol = cycles * (PAGE / 1024) / 2;
	struct mem m;

	mem_read(&m);
	printf("# %s: free+cache %+ld KiB, unreclaimable slab %+ld KiB "
	       "(tolerance %ld KiB: half a page per cycle)\n", what,
	       m.avail - from->avail, m.slab - from->slab, tol);
	report(from->avail - m.avail < tol && m.slab - from->slab < tol,
	       what, "free+cache %+ld KiB, unreclaimable slab %+ld KiB, "
	       "tolerance %ld KiB", m.avail - from->avail,
	       m.slab - from->slab, tol);
	mem_last = m;
}

/* ---- gntdev ---- */

/* MAP_GRANT_REF of @n of the guest's pages from @first on, wrapping. */
static int map_pages(int fd, unsigned int first, unsigned int n,
		     uint64_t *index)
{
	struct ioctl_gntdev_map_grant_ref *op;
	int rc;

	op = calloc(1, sizeof(*op) + n * sizeof(op->refs[0]));
	if (!op)
		return -ENOMEM;
	op->count = n;
	for (unsigned int i = 0; i < n; i++) {
		op->refs[i].domid = domid;
		op->refs[i].ref = refs[(first + i) % npages];
	}
	rc = xioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, op);
	*index = op->index;
	free(op);
	return rc;
}

static int unmap_index(int fd, uint64_t index, uint32_t count)
{
	struct ioctl_gntdev_unmap_grant_ref op = { .index = index, .count = count };

	return xioctl(fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &op);
}

static int set_notify(int fd, uint64_t index, uint32_t action)
{
	struct ioctl_gntdev_unmap_notify op = {
		.index = index, .action = action,
		.event_channel_port = notify_port,
	};

	return xioctl(fd, IOCTL_GNTDEV_SET_UNMAP_NOTIFY, &op);
}

/* Page @i of a mapping of guest pages from @first on starts as they do. */
static int page_ok(const volatile uint8_t *p, unsigned int first, unsigned int i)
{
	unsigned int page = (first + i) % npages;

	for (unsigned int j = 0; j < 8; j++)
		if (p[(size_t)i * PAGE + j] != base_byte(page, j))
			return 0;
	return 1;
}

static char why[200];

/*
 * One cycle, its shape chosen by @i: map @n grants from guest page @first,
 * mmap (read-only every fifth), read every page, maybe set an unmap
 * notify, then munmap and UNMAP_GRANT_REF in either order.  0 if all
 * worked and read right, else -1 with the reason in why.
 */
static int cycle(int fd, unsigned int i)
{
	unsigned int n = i % 3 ? 1 + i % 32 : 1;
	unsigned int first = i % npages;
	int ro = i % 5 == 4, rc;
	uint8_t *p;
	uint64_t index;

	rc = map_pages(fd, first, n, &index);
	if (rc) {
		snprintf(why, sizeof(why), "MAP_GRANT_REF of %u: %s", n,
			 strerror(-rc));
		return -1;
	}
	p = mmap(NULL, (size_t)n * PAGE, PROT_READ | (ro ? 0 : PROT_WRITE),
		 MAP_SHARED, fd, index);
	if (p == MAP_FAILED) {
		snprintf(why, sizeof(why), "mmap of %u: %s", n, strerror(errno));
		unmap_index(fd, index, n);
		return -1;
	}
	rc = 0;
	for (unsigned int k = 0; k < n && !rc; k++)
		if (!page_ok(p, first, k)) {
			snprintf(why, sizeof(why), "page %u of %u reads wrong",
				 k, n);
			rc = -1;
		}
	/* Clear the last byte of the last page (never read back here). */
	if (!ro && i % 4 == 1 &&
	    set_notify(fd, index + (uint64_t)n * PAGE - 1,
		       UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT)) {
		snprintf(why, sizeof(why), "SET_UNMAP_NOTIFY: %s", strerror(errno));
		rc = -1;
	}
	if (i % 2) {
		munmap(p, (size_t)n * PAGE);
		if (unmap_index(fd, index, n) && !rc) {
			snprintf(why, sizeof(why), "UNMAP_GRANT_REF: %s",
				 strerror(errno));
			rc = -1;
		}
	} else {
		if (unmap_index(fd, index, n) && !rc) {
			snprintf(why, sizeof(why), "UNMAP_GRANT_REF (mmap()ed): %s",
				 strerror(errno));
			rc = -1;
		}
		munmap(p, (size_t)n * PAGE);
	}
	return rc;
}

static int open_dev(void)
{
	int fd = open(DEV, O_RDWR);

	if (fd < 0) {
		printf("FAIL: " CHECK_AREA ": open %s: %s\n", DEV, strerror(errno));
		exit(1);
	}
	return fd;
}

/* ---- phase 1: cycles in one process ---- */

static void phase_cycles(const struct stats *base)
{
	int fd = open_dev(), bad = 0;
	double t = now();

	for (unsigned int i = 0; i < CYCLES; i++) {
		if (cycle(fd, i) && bad++ < 3)
			printf("# cycle %u: %s\n", i, why);
		/* A new file now and then: close() with maps listed. */
		if (i % 500 == 499) {
			uint64_t index;

			map_pages(fd, i, 4, &index);
			close(fd);
			fd = open_dev();
		}
	}
	close(fd);
	t = now() - t;
	printf("# %d cycles in %.1f s, %.0f us each\n", CYCLES, t,
	       t * 1e6 / CYCLES);
	report(!bad, "4000 map/mmap/unmap cycles of 1 to 32 grants, read-only "
	       "and read-write, with and without unmap notify, read right",
	       "%d failed", bad);
	expect_stats("after the cycles the counters are back to the baseline",
		     base);
	expect_mem("after the cycles dom0's memory is back to the baseline",
		   &mem_base, CYCLES);
	guest_check("the unmap notifications reached the guest", "event");
	guest("fill");
}

/* ---- phase 2: processes killed while mapping and while mapped ---- */

/* Child: cycle until killed. */
static void __attribute__((noreturn)) child_cycling(unsigned int seed)
{
	int fd = open(DEV, O_RDWR);

	for (unsigned int i = seed; fd >= 0; i++)
		cycle(fd, i);
	_exit(1);
}

/*
 * Child: hold 1-4 maps of up to MAX_GRANTS grants mmap()ed, notify set on
 * the first, then tell the parent (a byte on @ready) and wait to be killed.
 */
static void __attribute__((noreturn)) child_holding(unsigned int seed, int ready)
{
	int fd = open(DEV, O_RDWR);
	unsigned int maps = 1 + seed % 4;

	for (unsigned int m = 0; fd >= 0 && m < maps; m++) {
		unsigned int n = 1 + (seed * 7 + m * 13) % MAX_GRANTS;
		uint64_t index;
		uint8_t *p;

		if (map_pages(fd, seed + m, n, &index))
			_exit(1);
		p = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, index);
		if (p == MAP_FAILED || !page_ok(p, seed + m, n - 1))
			_exit(1);
		if (!m && set_notify(fd, index + PAGE - 1,
				     UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT))
			_exit(1);
	}
	if (fd < 0 || write(ready, "", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static void phase_kills(const struct stats *base)
{
	int early = 0, unready = 0, pfd[2], st;
	double t = now();
	pid_t pid;

	srand(1);
	for (unsigned int i = 0; i < KILLS; i++) {
		pid = fork();
		if (pid == 0)
			child_cycling(i * 11);
		if (pid < 0)
			break;
		/* 0 to 40 ms: in open(), an ioctl, mmap(), munmap()... */
		usleep(rand() % 40000);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		if (!WIFSIGNALED(st))
			early++;
	}
	report(!early, "500 processes killed at random points of their cycles",
	       "%d exited before the kill", early);

	for (unsigned int i = 0; i < KILLS; i++) {
		char c;

		if (pipe(pfd))
			break;
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			child_holding(i, pfd[1]);
		}
		close(pfd[1]);
		if (pid < 0 || read(pfd[0], &c, 1) != 1)
			unready++;
		close(pfd[0]);
		if (pid < 0)
			break;
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	report(!unready, "500 processes killed while holding up to 4 maps of "
	       "up to 64 grants mmap()ed with unmap notify",
	       "%d could not set up", unready);
	printf("# %u kills in %.1f s\n", 2 * KILLS, now() - t);
	expect_stats("after the kills the counters are back to the baseline",
		     base);
	expect_mem("after the kills dom0's memory is back to where it was "
		   "before them", &mem_last, 2 * KILLS);
	guest_check("the killed processes' notifications reached the guest",
		    "event");
	guest_check("the guest is well after the kills", "fill");
}

/* ---- phase 3: the guest destroyed under dom0's mappings ---- */

/* 1 if `xl list` shows domain @id (alive or dying). */
static int domain_listed(unsigned int id)
{
	char line[256];
	unsigned int d;
	int found = 0;
	FILE *p = popen("xl list 2>/dev/null", "r");

	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		if (sscanf(line, "%*s %u", &d) == 1 && d == id)
			found = 1;
	pclose(p);
	return found;
}

/*
 * Holders, each forked with a pipe to say it is ready (a byte) and one that
 * reaches EOF when it should stop.  Exit status 0: it did its part.
 */
enum holder { READER, SINGLES, CYCLER, COPIER, NHOLDERS };

static const char *const holder_what[NHOLDERS] = {
	"a process reading all the guest's pages through one map",
	"a process holding 64 single-grant maps",
	"a process mapping and unmapping in a loop",
	"a process copying from a grant in a loop",
};

/* READER: every page mapped, notify set; the pages must stay readable. */
static int hold_reader(int ready, int stop)
{
	int fd = open(DEV, O_RDWR), rc = 0;
	uint64_t index;
	uint8_t *p;
	char c;

	if (fd < 0 || map_pages(fd, 0, npages, &index))
		return 1;
	p = mmap(NULL, (size_t)npages * PAGE, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, index);
	if (p == MAP_FAILED ||
	    set_notify(fd, index + PAGE - 1, UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT))
		return 1;
	if (write(ready, "", 1) != 1)
		return 1;
	fcntl(stop, F_SETFL, O_NONBLOCK);
	while (read(stop, &c, 1) < 0 && errno == EAGAIN) {
		for (unsigned int i = 0; i < npages; i++)
			if (!page_ok(p, 0, i))
				rc = 2;
		usleep(10000);
	}
	return rc;	/* exit() unmaps */
}

static int hold_singles(int ready)
{
	int fd = open(DEV, O_RDWR);

	for (unsigned int i = 0; fd >= 0 && i < 64; i++) {
		uint64_t index;
		uint8_t *p;

		if (map_pages(fd, i, 1, &index))
			return 1;
		p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, index);
		if (p == MAP_FAILED || !page_ok(p, i, 0))
			return 1;
	}
	if (fd < 0 || write(ready, "", 1) != 1)
		return 1;
	for (;;)
		pause();	/* SIGKILLed */
}

/*
 * CYCLER and COPIER go on while the domain dies and after; what Xen still
 * grants then is its business, they must just neither crash nor hang.
 */
static int hold_loop(int ready, int stop, int copy)
{
	static uint8_t buf[PAGE];
	int fd = open(DEV, O_RDWR), said = 0;
	unsigned int i = 0, ok = 0, failed = 0;
	char c;

	if (fd < 0)
		return 1;
	fcntl(stop, F_SETFL, O_NONBLOCK);
	while (read(stop, &c, 1) < 0 && errno == EAGAIN) {
		int good;

		if (copy) {
			struct gntdev_grant_copy_segment seg = {
				.source.foreign = {
					.ref = refs[i % npages], .offset = 0,
					.domid = domid,
				},
				.dest.virt = buf,
				.len = PAGE,
				.flags = GNTCOPY_source_gref,
			};
			struct ioctl_gntdev_grant_copy op = {
				.count = 1, .segments = &seg,
			};

			good = !xioctl(fd, IOCTL_GNTDEV_GRANT_COPY, &op) &&
			       !seg.status && page_ok(buf, i % npages, 0);
		} else {
			good = !cycle(fd, i);
		}
		good ? ok++ : failed++;
		if (good && !said)
			said = write(ready, "", 1) == 1;
		i++;
	}
	printf("# %s: %u ok, %u failed (the domain died on the way)\n",
	       copy ? "copier" : "cycler", ok, failed);
	return said ? 0 : 1;
}

static pid_t start_holder(enum holder h, int *stop_w)
{
	int ready[2], stop[2];
	pid_t pid;
	char c;

	if (pipe(ready) || pipe(stop))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(stop[1]);
		switch (h) {
		case READER:
			_exit(hold_reader(ready[1], stop[0]));
		case SINGLES:
			_exit(hold_singles(ready[1]));
		case CYCLER:
			_exit(hold_loop(ready[1], stop[0], 0));
		default:
			_exit(hold_loop(ready[1], stop[0], 1));
		}
	}
	close(ready[1]);
	close(stop[0]);
	*stop_w = stop[1];
	if (pid > 0 && read(ready[0], &c, 1) != 1) {
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(ready[0]);
	return pid;
}

static void phase_destroy(const struct stats *pre_guest)
{
	pid_t pid[NHOLDERS];
	int stop[NHOLDERS], st, rc, listed;
	char cmd[64];
	double t;

	for (int h = 0; h < NHOLDERS; h++) {
		pid[h] = start_holder(h, &stop[h]);
		report(pid[h] > 0, holder_what[h], "it could not set up");
	}

	snprintf(cmd, sizeof(cmd), "xl destroy %u", domid);
	rc = system(cmd);
	report(rc == 0, "xl destroy of the guest while dom0 maps its grants",
	       "exit status %d", rc);
	sleep(1);
	listed = domain_listed(domid);
	report(listed == 1, "Xen keeps the dying domain while its grants are mapped",
	       "not in xl list");
	/* The holders go on meanwhile: reading, mapping, copying. */
	sleep(2);

	kill(pid[SINGLES], SIGKILL);
	for (int h = 0; h < NHOLDERS; h++)
		close(stop[h]);
	for (int h = 0; h < NHOLDERS; h++) {
		if (pid[h] <= 0)
			continue;
		waitpid(pid[h], &st, 0);
		if (h == SINGLES)
			report(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
			       "the holder of 64 maps is killed", "status 0x%x", st);
		else
			report(WIFEXITED(st) && !WEXITSTATUS(st),
			       h == READER ? "the guest's pages stay readable "
			       "until unmapped, and the reader exits" :
			       h == CYCLER ? "the mapping loop goes on through "
			       "the domain's death, and exits" :
			       "the copy loop goes on through the domain's "
			       "death, and exits", "status 0x%x", st);
	}

	t = now();
	while ((listed = domain_listed(domid)) == 1 && now() - t < 30)
		usleep(200000);
	printf("# the domain was gone %.1f s after the holders exited\n",
	       now() - t);
	report(listed == 0, "the destroyed domain goes away once dom0's "
	       "processes let go (no zombie in xl list)", "still listed after 30 s");
	expect_stats("the counters are back to where they were before the guest",
		     pre_guest);
	expect_mem("at the end dom0's memory is back to the baseline",
		   &mem_base, CYCLES + 2 * KILLS);
}

/* ---- set-up ---- */

/*
 * Map more than any phase holds at once, and let go: the ballooned pages
 * that back grant maps come from dom0's memory the first time and are kept
 * for reuse, so the memory baseline is taken after this.
 */
static int warm_up(void)
{
	int fd = open_dev();
	uint64_t index;
	void *p;

	if (map_pages(fd, 0, WARMUP_GRANTS, &index))
		return -1;
	p = mmap(NULL, (size_t)WARMUP_GRANTS * PAGE, PROT_READ, MAP_SHARED,
		 fd, index);
	if (p == MAP_FAILED)
		return -1;
	munmap(p, (size_t)WARMUP_GRANTS * PAGE);
	close(fd);
	return 0;
}

static int bind_guest_port(void)
{
	struct ioctl_evtchn_bind_interdomain op = {
		.remote_domain = domid, .remote_port = guest_port,
	};
	int efd = open("/dev/xen/evtchn", O_RDWR);

	return efd < 0 ? -errno : xioctl(efd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &op);
}

int main(int argc, char **argv)
{
	struct stats base = { 0, 0, 0 }, pre_guest = { 0, 0, 0 };

	if (argc == 3 && !strcmp(argv[2], "--in-tree")) {
		have_stats = 0;
	} else if (argc == 4) {
		pre_guest.maps = strtol(argv[2], NULL, 10);
		pre_guest.mapped = strtol(argv[3], NULL, 10);
	} else {
		fprintf(stderr, "usage: %s DOMID MAPS0 MAPPED0 | DOMID --in-tree\n",
			argv[0]);
		return 2;
	}
	domid = strtoul(argv[1], NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (gntshare_read(32))
		return 1;
	notify_port = bind_guest_port();
	report(notify_port > 0, "dom0 binds the guest's port", "got %d",
	       notify_port);
	if (notify_port <= 0)
		return 1;
	report(!warm_up(), "warm-up map of 1024 grants", "%s", strerror(errno));
	if (have_stats && stats_read(&base)) {
		printf("FAIL: " CHECK_AREA ": read %s: %s\n", STATS, strerror(errno));
		return 1;
	}
	mem_read(&mem_base);
	printf("# baseline: maps %ld, grant_mappings %ld; free+cache %ld KiB, "
	       "unreclaimable slab %ld KiB\n", base.maps, base.mapped,
	       mem_base.avail, mem_base.slab);

	phase_cycles(&base);
	phase_kills(&base);
	phase_destroy(&pre_guest);
	return failures ? 1 : 0;
}
