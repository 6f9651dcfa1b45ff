// SPDX-License-Identifier: GPL-2.0
/*
 * gntshare: the guest side of the gntdev VM test (30-gntdev-api).  Runs in
 * a PV guest, grants NPAGES pages to dom0 through the guest's
 * /dev/xen/gntalloc, fills them with a known pattern, and opens an unbound
 * event channel for dom0 (for the unmap-notify events).  It publishes, under
 * its own /local/domain/<domid>/data/:
 *
 *   gnt-domid   its domain id
 *   gnt-refs    the grant references, page 0 first, space separated
 *   gnt-port    the unbound port dom0 may bind to
 *   gnt-ready   "1", written last
 *
 * and then obeys dom0: dom0 writes data/gnt-cmd = "SEQ VERB ARGS...", the
 * guest does it and answers data/gnt-ack = "SEQ ok" or "SEQ fail: WHY".
 * Checks also print GUEST-PASS/GUEST-FAIL lines on the console.  Verbs:
 *
 *   fill                      every page back to the base pattern
 *   base PAGE OFF LEN         bytes [OFF, OFF+LEN) hold the base pattern
 *   check PAGE SEED OFF LEN   bytes [OFF, OFF+LEN) hold dom0's pattern SEED
 *   cleared PAGE OFF          the byte at OFF is 0, its neighbours intact
 *   event                     an event arrives on the port (within 10 s)
 *   noevent                   no event is pending (waits 0.5 s)
 *   done                      exit
 *
 * Usage: gntshare NPAGES IDLE_SECONDS.  Exits 0 if every check passed, 1 if
 * one failed, 2 if it could not set up or dom0 sent no command for
 * IDLE_SECONDS (dom0 is gone; a debug dom0 needs longer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef uint16_t domid_t;	/* the UAPI headers expect it from the includer */
#include <xen/evtchn.h>
#include <xen/gntalloc.h>

#define PAGE		4096
#define MAGIC		0x47534852u	/* "GSHR": the first word of each page */

/*
 * Patterns, the same in tests/dom0/gntdev_test.c.  Page i, byte j: the
 * base pattern the guest writes, and the one dom0 writes with a seed.  The
 * (j >> 8) terms keep them from repeating every 256 bytes, so a copy that
 * lands a multiple of 256 bytes off is still caught.
 */
static uint8_t base_byte(unsigned int page, unsigned int j)
{
	if (j < 8) {
		uint32_t w[2] = { MAGIC, page };

		return ((const uint8_t *)w)[j];
	}
	return (page * 7 + j + (j >> 8) * 3) & 0xff;
}

static uint8_t dom0_byte(unsigned int seed, unsigned int j)
{
	return (seed * 31 + j * 5 + (j >> 8)) & 0xff;
}

static unsigned int npages;
static long idle_limit_ms;	/* dom0 silent this long: give up */
static uint8_t *pages;		/* the granted pages, mmap()ed from gntalloc */
static int evtchn_fd;
static int failed;

/* ---- xenstore over /dev/xen/xenbus (no libxenstore in the guest) ---- */

struct xsd_sockmsg {
	uint32_t type, req_id, tx_id, len;
};

enum { XS_READ = 2, XS_WRITE = 11, XS_ERROR = 16 };

static int xs_fd = -1;

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += n;
	}
	return 0;
}

/*
 * One request and its reply.  Returns the reply's length (its body, NUL
 * terminated, in @out), or -1 for an error reply or a broken connection.
 */
static int xs_request(uint32_t type, const char *a, const char *b,
		      char *out, size_t outlen)
{
	char msg[4096];
	struct xsd_sockmsg h = { .type = type };
	size_t la = strlen(a) + 1, lb = b ? strlen(b) : 0;
	char body[4096];

	if (sizeof(h) + la + lb > sizeof(msg))
		return -1;
	h.len = la + lb;
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), a, la);
	if (lb)
		memcpy(msg + sizeof(h) + la, b, lb);
	if (write(xs_fd, msg, sizeof(h) + la + lb) != (ssize_t)(sizeof(h) + la + lb))
		return -1;
	if (read_full(xs_fd, &h, sizeof(h)) || h.len >= sizeof(body) ||
	    read_full(xs_fd, body, h.len))
		return -1;
	body[h.len] = 0;
	if (h.type == XS_ERROR)
		return -1;
	if (out && outlen) {
		size_t n = h.len < outlen - 1 ? h.len : outlen - 1;

		memcpy(out, body, n);
		out[n] = 0;
	}
	return h.len;
}

/* Relative paths are under our own /local/domain/<domid>. */
static int xs_read(const char *path, char *out, size_t outlen)
{
	return xs_request(XS_READ, path, NULL, out, outlen) < 0 ? -1 : 0;
}

static int xs_write(const char *path, const char *value)
{
	return xs_request(XS_WRITE, path, value, NULL, 0) < 0 ? -1 : 0;
}

/* ---- reporting ---- */

static char why[256];		/* the reason of the last failed command */

static void gpass(const char *fmt, ...)
{
	va_list ap;

	printf("GUEST-PASS: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void gfail(const char *what)
{
	printf("GUEST-FAIL: %s: %s\n", what, why);
	fflush(stdout);
	failed = 1;
}

static int fail_why(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the commands ---- */

static void fill_all(void)
{
	for (unsigned int i = 0; i < npages; i++)
		for (unsigned int j = 0; j < PAGE; j++)
			pages[i * PAGE + j] = base_byte(i, j);
}

static int range_ok(unsigned int page, unsigned int off, unsigned int len)
{
	if (page >= npages || off > PAGE || len > PAGE - off)
		return fail_why("page %u bytes [%u, +%u) out of range", page,
				off, len);
	return 0;
}

/* Compare bytes against a pattern; seed < 0 means the base pattern. */
static int verify(unsigned int page, int seed, unsigned int off,
		  unsigned int len)
{
	const uint8_t *p = pages + (size_t)page * PAGE;

	if (range_ok(page, off, len))
		return -1;
	for (unsigned int j = off; j < off + len; j++) {
		uint8_t want = seed < 0 ? base_byte(page, j) : dom0_byte(seed, j);

		if (p[j] != want)
			return fail_why("page %u byte %u is 0x%02x, want 0x%02x",
					page, j, p[j], want);
	}
	return 0;
}

static int cleared(unsigned int page, unsigned int off)
{
	const uint8_t *p = pages + (size_t)page * PAGE;

	if (range_ok(page, off, 1))
		return -1;
	if (p[off] != 0)
		return fail_why("page %u byte %u is 0x%02x, not cleared", page,
				off, p[off]);
	/* Only that byte: the rest of the page is the base pattern. */
	if (verify(page, -1, 0, off) || verify(page, -1, off + 1, PAGE - off - 1))
		return -1;
	return 0;
}

/* Wait up to @ms for an event on our port; 1 if one came (and is acked). */
static int wait_event(int ms)
{
	struct pollfd pfd = { .fd = evtchn_fd, .events = POLLIN };
	uint32_t port;

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	if (read(evtchn_fd, &port, sizeof(port)) != sizeof(port))
		return 0;
	/* Writing the port back unmasks it for the next event. */
	if (write(evtchn_fd, &port, sizeof(port)) != sizeof(port))
		return 0;
	return 1;
}

/* Run one command; 0 ok, -1 failed (why says why), 1 for "done". */
static int run(const char *cmd)
{
	unsigned int page, off, len;
	int seed, rc;

	if (!strcmp(cmd, "done"))
		return 1;
	if (!strcmp(cmd, "fill")) {
		fill_all();
		return 0;
	}
	if (sscanf(cmd, "base %u %u %u", &page, &off, &len) == 3) {
		rc = verify(page, -1, off, len);
		if (rc)
			gfail(cmd);
		else
			gpass("%s: page %u bytes [%u, +%u) keep the base pattern",
			      cmd, page, off, len);
		return rc;
	}
	if (sscanf(cmd, "check %u %d %u %u", &page, &seed, &off, &len) == 4) {
		rc = verify(page, seed, off, len);
		if (rc)
			gfail(cmd);
		else
			gpass("%s: page %u bytes [%u, +%u) hold what dom0 wrote",
			      cmd, page, off, len);
		return rc;
	}
	if (sscanf(cmd, "cleared %u %u", &page, &off) == 2) {
		rc = cleared(page, off);
		if (rc)
			gfail(cmd);
		else
			gpass("%s: dom0's unmap cleared page %u byte %u, only it",
			      cmd, page, off);
		return rc;
	}
	if (!strcmp(cmd, "event")) {
		rc = wait_event(10000) ? 0 : fail_why("no event in 10 s");
		if (rc)
			gfail(cmd);
		else
			gpass("%s: dom0's unmap notify event arrived", cmd);
		return rc;
	}
	if (!strcmp(cmd, "noevent")) {
		rc = wait_event(500) ? fail_why("an event arrived") : 0;
		if (rc)
			gfail(cmd);
		else
			gpass("%s: no stray event", cmd);
		return rc;
	}
	return fail_why("unknown command");
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll data/gnt-cmd for new sequence numbers and answer each. */
static int serve(void)
{
	char cmd[256], ack[320];
	long seq, last = 0, idle_since = now_ms();
	int n, rc;

	for (;;) {
		if (xs_read("data/gnt-cmd", cmd, sizeof(cmd)) == 0 &&
		    sscanf(cmd, "%ld %n", &seq, &n) == 1 && seq != last) {
			last = seq;
			idle_since = now_ms();
			rc = run(cmd + n);
			if (rc < 0)
				snprintf(ack, sizeof(ack), "%ld fail: %s", seq, why);
			else
				snprintf(ack, sizeof(ack), "%ld ok", seq);
			if (xs_write("data/gnt-ack", ack)) {
				fprintf(stderr, "gntshare: cannot write data/gnt-ack\n");
				return 2;
			}
			if (rc == 1)
				return failed;
			continue;
		}
		if (now_ms() - idle_since > idle_limit_ms) {
			fail_why("no command from dom0 for %ld s", idle_limit_ms / 1000);
			gfail("dom0 drives the test");
			return 2;
		}
		usleep(20000);
	}
}

/* ---- set-up ---- */

static int share_pages(uint32_t *refs)
{
	size_t size = sizeof(struct ioctl_gntalloc_alloc_gref) +
		      (npages - 1) * sizeof(uint32_t);
	struct ioctl_gntalloc_alloc_gref *op = calloc(1, size);
	int fd = open("/dev/xen/gntalloc", O_RDWR);

	if (fd < 0 || !op)
		return fail_why("open /dev/xen/gntalloc: %s", strerror(errno));
	op->domid = 0;
	op->flags = GNTALLOC_FLAG_WRITABLE;
	op->count = npages;
	if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op))
		return fail_why("ALLOC_GREF of %u pages: %s", npages,
				strerror(errno));
	pages = mmap(NULL, (size_t)npages * PAGE, PROT_READ | PROT_WRITE,
		     MAP_SHARED, fd, op->index);
	if (pages == MAP_FAILED)
		return fail_why("mmap of the granted pages: %s", strerror(errno));
	memcpy(refs, op->gref_ids, npages * sizeof(uint32_t));
	free(op);
	/* fd stays open: closing it with the mapping in place is fine too. */
	return 0;
}

static int open_port(void)
{
	struct ioctl_evtchn_bind_unbound_port op = { .remote_domain = 0 };
	int port;

	evtchn_fd = open("/dev/xen/evtchn", O_RDWR);
	if (evtchn_fd < 0)
		return fail_why("open /dev/xen/evtchn: %s", strerror(errno));
	port = ioctl(evtchn_fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &op);
	if (port < 0)
		return fail_why("BIND_UNBOUND_PORT for dom0: %s", strerror(errno));
	return port;
}

static int publish(const uint32_t *refs, int port)
{
	char domid[16], buf[16], *list;
	size_t len = 0;

	if (xs_read("domid", domid, sizeof(domid)))
		return fail_why("cannot read our domid from xenstore");
	list = malloc(npages * 12 + 1);
	if (!list)
		return fail_why("out of memory");
	list[0] = 0;
	for (unsigned int i = 0; i < npages; i++)
		len += sprintf(list + len, "%s%u", i ? " " : "", refs[i]);
	snprintf(buf, sizeof(buf), "%d", port);
	if (xs_write("data/gnt-domid", domid) || xs_write("data/gnt-refs", list) ||
	    xs_write("data/gnt-port", buf) || xs_write("data/gnt-ready", "1"))
		return fail_why("cannot write our keys to xenstore");
	free(list);
	gpass("granted %u pages to dom0 (refs %u..), port %d, as domain %s",
	      npages, refs[0], port, domid);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t *refs;
	long idle_s;
	int port;

	setvbuf(stdout, NULL, _IOLBF, 0);
	npages = argc == 3 ? strtoul(argv[1], NULL, 0) : 0;
	idle_s = argc == 3 ? strtol(argv[2], NULL, 0) : 0;
	if (npages < 1 || npages > 1024 || idle_s < 1 || idle_s > 3600) {
		fprintf(stderr, "usage: %s NPAGES (1..1024) IDLE_SECONDS (1..3600)\n",
			argv[0]);
		return 2;
	}
	idle_limit_ms = idle_s * 1000;
	refs = calloc(npages, sizeof(*refs));
	xs_fd = open("/dev/xen/xenbus", O_RDWR);
	if (!refs || xs_fd < 0) {
		fail_why("open /dev/xen/xenbus: %s", strerror(errno));
		gfail("set-up");
		return 2;
	}
	if (share_pages(refs) || (port = open_port()) < 0) {
		gfail("set-up");
		return 2;
	}
	fill_all();
	if (publish(refs, port)) {
		gfail("set-up");
		return 2;
	}
	return serve();
}
