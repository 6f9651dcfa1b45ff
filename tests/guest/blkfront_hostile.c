// SPDX-License-Identifier: GPL-2.0
/*
 * blkfront_hostile: a hand-made, misbehaving block frontend for the blkback
 * VM test 66-blkback-hostile-frontend.  Runs in a PV guest on a vbd that the
 * guest's own blkfront was unbound from (so the frontend xenstore directory
 * is ours to write): grants a one-page ring through /dev/xen/gntalloc,
 * offers an unbound event channel to dom0 through /dev/xen/evtchn, connects
 * to the backend (state Initialising, then Initialised with ring-ref,
 * event-channel and protocol), and sends the attacks of
 * /work/shared/protocol-hazards.md one request at a time, checking each
 * response: a valid read must succeed, every bad request must get
 * BLKIF_RSP_ERROR or BLKIF_RSP_EOPNOTSUPP.  Last, it moves req_prod far
 * ahead of anything it produced: the backend must stop serving the ring
 * (no response to a valid request after that).
 *
 * The disk must be read-only (writes, flushes and discards are attacks too)
 * and its first sector hold dom0's test pattern (it starts with the sector
 * number, "0000000000").  xenstore goes through the guest's xenstore-read
 * and xenstore-write.  Each check prints GUEST-PASS/GUEST-FAIL on
 * /dev/console.
 *
 * Usage: blkfront_hostile DEVID.  Exits 0 if every check passed, 1 if one
 * failed, 2 if it could not set up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

/* The Xen public headers' ring macros need the barriers from their user. */
#define mb()	__sync_synchronize()	/* full barriers: simple and enough */
#define rmb()	__sync_synchronize()	/* for a test */
#define wmb()	__sync_synchronize()	/* for a test */
#include <xen/grant_table.h>
#include <xen/io/blkif.h>

#define PAGE		4096
#define NDATA		2		/* data pages: [0] for I/O, [1] indirect */
#define RESPONSE_MS	5000

static FILE *console;
static int failed;
static char fe[64];			/* our frontend dir, relative */
static char be[256];			/* the backend's dir */
static int evtchn_fd;
static uint32_t port;
static blkif_front_ring_t ring;
static uint8_t *data;			/* NDATA granted pages */
static uint32_t data_gref[NDATA];
static uint64_t sectors;

static void report(int ok, const char *what, const char *fmt, ...)
{
	char why[256] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	if (ok) {
		fprintf(console, "GUEST-PASS: hostile frontend: %s%s%s\n", what,
			*why ? ": " : "", why);
	} else {
		fprintf(console, "GUEST-FAIL: hostile frontend: %s: %s\n", what, why);
		failed = 1;
	}
	fflush(console);
}

/* ---- xenstore through the guest's command line tools ---- */

static int xs_read(const char *path, char *out, size_t len)
{
	char cmd[512];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "xenstore-read '%s' 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	ok = fgets(out, len, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return -1;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

static int xs_write(const char *dir, const char *key, const char *fmt, ...)
{
	char cmd[512], val[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "xenstore-write '%s/%s' '%s'", dir, key, val);
	return system(cmd) == 0 ? 0 : -1;
}

/* wait_state DIR STATE: until DIR/state reads STATE (10 s). */
static int wait_state(const char *dir, int state)
{
	char path[300], val[32];

	snprintf(path, sizeof(path), "%s/state", dir);
	for (int i = 0; i < 100; i++) {
		if (!xs_read(path, val, sizeof(val)) && atoi(val) == state)
			return 0;
		usleep(100000);
	}
	return -1;
}

/* ---- setup ---- */

static int grant_pages(void)
{
	size_t size = sizeof(struct ioctl_gntalloc_alloc_gref) +
		      NDATA * sizeof(uint32_t);
	struct ioctl_gntalloc_alloc_gref *op = calloc(1, size);
	int fd = open("/dev/xen/gntalloc", O_RDWR);
	struct ioctl_gntalloc_alloc_gref one = {
		.domid = 0, .flags = GNTALLOC_FLAG_WRITABLE, .count = 1,
	};
	void *p;

	if (fd < 0 || !op)
		return -1;
	/* The ring page. */
	if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, &one))
		return -1;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, one.index);
	if (p == MAP_FAILED)
		return -1;
	SHARED_RING_INIT((blkif_sring_t *)p);
	FRONT_RING_INIT(&ring, (blkif_sring_t *)p, PAGE);
	if (xs_write(fe, "ring-ref", "%u", one.gref_ids[0]))
		return -1;
	/* The data pages. */
	op->domid = 0;
	op->flags = GNTALLOC_FLAG_WRITABLE;
	op->count = NDATA;
	if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, op))
		return -1;
	data = mmap(NULL, NDATA * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    op->index);
	if (data == MAP_FAILED)
		return -1;
	memcpy(data_gref, op->gref_ids, sizeof(data_gref));
	free(op);
	return 0;
}

static int setup(const char *devid)
{
	struct ioctl_evtchn_bind_unbound_port bind = { .remote_domain = 0 };
	char path[300], val[64];
	int rc;

	snprintf(fe, sizeof(fe), "device/vbd/%s", devid);
	snprintf(path, sizeof(path), "%s/backend", fe);
	if (xs_read(path, be, sizeof(be)))
		return -1;
	snprintf(path, sizeof(path), "%s/sectors", be);
	if (xs_read(path, val, sizeof(val)))
		return -1;
	sectors = strtoull(val, NULL, 10);
	evtchn_fd = open("/dev/xen/evtchn", O_RDWR);
	if (evtchn_fd < 0)
		return -1;
	rc = ioctl(evtchn_fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &bind);
	if (rc < 0)
		return -1;
	port = rc;
	/*
	 * Reconnect from Closed (where the unbound blkfront left the backend):
	 * Initialising first, and the backend InitWaits.
	 */
	if (wait_state(be, 6) || xs_write(fe, "state", "1") || wait_state(be, 2))
		return -1;
	if (grant_pages() || xs_write(fe, "feature-persistent", "0") ||
	    xs_write(fe, "event-channel", "%u", port) ||
	    xs_write(fe, "protocol", "x86_64-abi") || xs_write(fe, "state", "3"))
		return -1;
	if (wait_state(be, 4))
		return -1;
	return xs_write(fe, "state", "4");
}

/* ---- one request, one response ---- */

static void notify(void)
{
	struct ioctl_evtchn_notify n = { .port = port };

	ioctl(evtchn_fd, IOCTL_EVTCHN_NOTIFY, &n);
}

/*
 * Wait for the response to request @id; returns its status, or 1 if none
 * came within RESPONSE_MS.
 */
static int response(uint64_t id)
{
	struct timespec t0, t;
	struct pollfd pfd = { .fd = evtchn_fd, .events = POLLIN };
	uint32_t p;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		while (RING_HAS_UNCONSUMED_RESPONSES(&ring)) {
			blkif_response_t *r = RING_GET_RESPONSE(&ring, ring.rsp_cons);

			ring.rsp_cons++;
			if (r->id == id)
				return r->status;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;

		if (ms >= RESPONSE_MS)
			return 1;
		ring.sring->rsp_event = ring.rsp_cons + 1;
		mb();	/* rsp_event set before we look at rsp_prod again */
		if (RING_HAS_UNCONSUMED_RESPONSES(&ring))
			continue;
		if (poll(&pfd, 1, RESPONSE_MS - ms) > 0 &&
		    read(evtchn_fd, &p, sizeof(p)) == sizeof(p))
			write(evtchn_fd, &p, sizeof(p));	/* unmask */
	}
}

static uint64_t next_id = 1;

/* A read/write-shaped request on the next slot, all fields sane. */
static blkif_request_t *next_request(uint8_t op)
{
	blkif_request_t *req = RING_GET_REQUEST(&ring, ring.req_prod_pvt);

	memset(req, 0, sizeof(*req));
	req->operation = op;
	req->nr_segments = 1;
	req->handle = 0;
	req->id = next_id;
	req->sector_number = 0;
	req->seg[0].gref = data_gref[0];
	req->seg[0].first_sect = 0;
	req->seg[0].last_sect = 7;
	return req;
}

static int send(void)
{
	uint64_t id = next_id++;

	ring.req_prod_pvt++;
	RING_PUSH_REQUESTS(&ring);
	notify();	/* always: req_event is the backend's to set */
	return response(id);
}

static const char *status_name(int s)
{
	switch (s) {
	case BLKIF_RSP_OKAY: return "OKAY";
	case BLKIF_RSP_ERROR: return "ERROR";
	case BLKIF_RSP_EOPNOTSUPP: return "EOPNOTSUPP";
	case 1: return "no response";
	default: return "an unknown status";
	}
}

/* expect_error WHAT STATUS: the backend refused the request. */
static void expect_error(const char *what, int s)
{
	if (s == BLKIF_RSP_ERROR || s == BLKIF_RSP_EOPNOTSUPP)
		report(1, what, "refused with %s", status_name(s));
	else
		report(0, what, "got %s (%d), want ERROR or EOPNOTSUPP", status_name(s), s);
}

static void valid_read(const char *what)
{
	int s;

	memset(data, 0xaa, PAGE);
	next_request(BLKIF_OP_READ);
	s = send();
	if (s != BLKIF_RSP_OKAY)
		report(0, what, "got %s (%d)", status_name(s), s);
	else if (memcmp(data, "0000000000 ", 11))
		report(0, what, "OKAY but sector 0 starts with '%.11s'", (char *)data);
	else
		report(1, what, "OKAY, sector 0 holds dom0's pattern");
}

int main(int argc, char **argv)
{
	blkif_request_t *req;
	blkif_request_indirect_t *ind;
	blkif_request_discard_t *dis;
	struct blkif_request_segment *segs;

	console = fopen("/dev/console", "w");
	if (!console)
		console = stderr;
	if (argc != 2) {
		fprintf(stderr, "usage: %s DEVID\n", argv[0]);
		return 2;
	}
	if (setup(argv[1])) {
		report(0, "connect to the backend", "%s (backend %s)", strerror(errno), be);
		return 2;
	}
	report(1, "connect to the backend", "%s, %" PRIu64 " sectors, ring of %u",
	       be, sectors, RING_SIZE(&ring));

	valid_read("a valid 4 KiB read");

	req = next_request(0x77);
	expect_error("unknown operation 0x77", send());

	req = next_request(BLKIF_OP_READ);
	req->nr_segments = 0;
	expect_error("read with 0 segments", send());

	req = next_request(BLKIF_OP_READ);
	req->nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
	for (int i = 0; i < req->nr_segments && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		req->seg[i] = req->seg[0];
	expect_error("read with 12 segments (direct maximum 11)", send());

	req = next_request(BLKIF_OP_READ);
	req->seg[0].last_sect = 8;
	expect_error("last_sect 8 (a page has sectors 0-7)", send());

	req = next_request(BLKIF_OP_READ);
	req->seg[0].first_sect = 4;
	req->seg[0].last_sect = 2;
	expect_error("last_sect 2 < first_sect 4", send());

	req = next_request(BLKIF_OP_READ);
	req->sector_number = sectors;
	expect_error("read at the first sector past the end", send());

	req = next_request(BLKIF_OP_READ);
	req->sector_number = sectors - 4;
	expect_error("read of 8 sectors straddling the end", send());

	req = next_request(BLKIF_OP_READ);
	req->sector_number = UINT64_MAX - 3;
	expect_error("read whose sector + length overflows 64 bits", send());

	/* Indirect: the segment list lives in data page 1. */
	segs = (struct blkif_request_segment *)(data + PAGE);
	for (unsigned int i = 0; i < PAGE / sizeof(*segs); i++)
		segs[i] = (struct blkif_request_segment){ data_gref[0], 0, 7 };
	ind = (blkif_request_indirect_t *)next_request(BLKIF_OP_INDIRECT);
	memset(ind, 0, sizeof(*ind));
	ind->operation = BLKIF_OP_INDIRECT;
	ind->indirect_op = BLKIF_OP_READ;
	ind->nr_segments = 4096;
	ind->id = next_id;
	ind->indirect_grefs[0] = data_gref[1];
	expect_error("indirect read with 4096 segments", send());

	ind = (blkif_request_indirect_t *)next_request(BLKIF_OP_INDIRECT);
	memset(ind, 0, sizeof(*ind));
	ind->operation = BLKIF_OP_INDIRECT;
	ind->indirect_op = BLKIF_OP_READ;
	ind->nr_segments = 0;
	ind->id = next_id;
	ind->indirect_grefs[0] = data_gref[1];
	expect_error("indirect read with 0 segments", send());

	ind = (blkif_request_indirect_t *)next_request(BLKIF_OP_INDIRECT);
	memset(ind, 0, sizeof(*ind));
	ind->operation = BLKIF_OP_INDIRECT;
	ind->indirect_op = BLKIF_OP_FLUSH_DISKCACHE;
	ind->nr_segments = 1;
	ind->id = next_id;
	ind->indirect_grefs[0] = data_gref[1];
	expect_error("indirect wrapping a flush", send());

	/* The disk is read-only: nothing that writes may pass. */
	memset(data, 0x5a, PAGE);
	next_request(BLKIF_OP_WRITE);
	expect_error("write to the read-only disk", send());

	ind = (blkif_request_indirect_t *)next_request(BLKIF_OP_INDIRECT);
	memset(ind, 0, sizeof(*ind));
	ind->operation = BLKIF_OP_INDIRECT;
	ind->indirect_op = BLKIF_OP_WRITE;
	ind->nr_segments = 16;
	ind->id = next_id;
	ind->indirect_grefs[0] = data_gref[1];
	expect_error("indirect write of 16 segments to the read-only disk", send());

	req = next_request(BLKIF_OP_FLUSH_DISKCACHE);
	req->nr_segments = 0;
	expect_error("flush of the read-only disk", send());

	req = next_request(BLKIF_OP_WRITE_BARRIER);
	expect_error("barrier write to the read-only disk", send());

	dis = (blkif_request_discard_t *)next_request(BLKIF_OP_DISCARD);
	memset(dis, 0, sizeof(*dis));
	dis->operation = BLKIF_OP_DISCARD;
	dis->id = next_id;
	dis->sector_number = 0;
	dis->nr_sectors = 2048;
	expect_error("discard of 1 MiB of the read-only disk", send());

	dis = (blkif_request_discard_t *)next_request(BLKIF_OP_DISCARD);
	memset(dis, 0, sizeof(*dis));
	dis->operation = BLKIF_OP_DISCARD;
	dis->flag = BLKIF_DISCARD_SECURE;
	dis->id = next_id;
	dis->sector_number = 0;
	dis->nr_sectors = 2048;
	expect_error("secure discard of the read-only disk", send());

	/* After all that the ring still works. */
	valid_read("a valid read after the bad requests");

	/* A producer index far beyond anything produced: stop serving. */
	next_request(BLKIF_OP_READ);
	ring.req_prod_pvt += 1000;
	{
		int s = send();

		if (s == 1)
			report(1, "req_prod 1000 requests ahead", "the backend stopped serving the ring");
		else
			report(0, "req_prod 1000 requests ahead", "a response (%s) came back", status_name(s));
	}
	xs_write(fe, "hostile-done", "1");
	return failed;
}
