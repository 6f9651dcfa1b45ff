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
 * response: a valid read must succeed, every bad request must get the
 * status the in-tree blkback gives it (ERROR, or EOPNOTSUPP for an
 * unknown operation).  Then it floods the ring with
 * requests the backend refuses at once, refilling each slot as soon as
 * its answer comes, for a few seconds: every one must be answered, a
 * valid read must work afterwards, and dom0 checks (while we wait for it
 * in xenstore) that the backend took no more than a ring's worth of
 * requests in one pass.  Last, it moves req_prod far ahead of anything it
 * produced: the backend must stop serving the ring (no response to a
 * valid request after that).
 *
 * The disk must be read-only (writes, flushes and discards are attacks too)
 * and its first sector hold dom0's test pattern (it starts with the sector
 * number, "0000000000").  xenstore goes through the guest's xenstore-read
 * and xenstore-write.  Each check prints GUEST-PASS/GUEST-FAIL on
 * /dev/console.
 *
 * With --x86_32 it connects with protocol "x86_32-abi" instead, the ring
 * layout of a 32-bit PV guest (64-bit fields packed on 4-byte boundaries),
 * and checks that layout end to end: single-segment, multi-segment and
 * indirect reads return dom0's pattern sector for sector, and bad requests
 * get an error response carrying their id.  That run offers persistent
 * grants, so the backend keeps the data and indirect pages mapped.  Each
 * run needs its own vbd: the native run leaves its ring stopped.
 *
 * With --barrier-teardown, on a writable disk whose reads dom0 made slow,
 * it sends a read and right behind it a WRITE_BARRIER, which the backend
 * must hold until the read is done, signals the ring without pause for
 * 1.5 s (dom0 checks that the kernel held those events back as spurious),
 * and closes while the barrier is held: the backend must answer both,
 * exactly once, before it says Closing.  It tells dom0 of the close
 * (hostile-closing), which checks meanwhile that the backend's wait holds
 * up no other xenstore watch, and then sends a read on its second queue
 * (which served a write before), which the closing backend must not take
 * (no answer by its Closing).
 *
 * Usage: blkfront_hostile [--x86_32 | --barrier-teardown] DEVID.  Exits 0
 * if every check passed, 1 if one failed, 2 if it could not set up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
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

/*
 * The x86_32-abi layout, which <xen/io/blkif.h> yields only when compiled
 * for i386: this 64-bit program spells it out, pinned by the asserts below.
 */
struct blk32_request_rw {
	uint8_t nr_segments;
	blkif_vdev_t handle;
	uint64_t id;
	blkif_sector_t sector_number;
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
} __attribute__((packed));

struct blk32_request_indirect {
	uint8_t indirect_op;
	uint16_t nr_segments;
	uint64_t id;
	blkif_sector_t sector_number;
	blkif_vdev_t handle;
	uint16_t pad2;
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	uint64_t pad3;
} __attribute__((packed));

struct blk32_request {
	uint8_t operation;
	union {
		struct blk32_request_rw rw;
		struct blk32_request_indirect indirect;
	} u;
} __attribute__((packed));

struct blk32_response {
	uint64_t id;
	uint8_t operation;
	uint8_t pad;
	int16_t status;
} __attribute__((packed, aligned(4)));

DEFINE_RING_TYPES(blk32, struct blk32_request, struct blk32_response);

_Static_assert(sizeof(struct blk32_request) == 108, "x86_32 request is 108 bytes");
_Static_assert(offsetof(struct blk32_request, u.rw.id) == 4, "x86_32 rw id at 4");
_Static_assert(offsetof(struct blk32_request, u.rw.seg) == 20, "x86_32 segments at 20");
_Static_assert(offsetof(struct blk32_request, u.indirect.nr_segments) == 2,
	       "x86_32 indirect nr_segments at 2");
_Static_assert(offsetof(struct blk32_request, u.indirect.id) == 4, "x86_32 indirect id at 4");
_Static_assert(offsetof(struct blk32_request, u.indirect.indirect_grefs) == 24,
	       "x86_32 indirect grefs at 24");
_Static_assert(sizeof(struct blk32_response) == 12, "x86_32 response is 12 bytes");
_Static_assert(offsetof(struct blk32_response, status) == 10, "x86_32 status at 10");
_Static_assert(sizeof(union blk32_sring_entry) == 108, "x86_32 ring entries are 108 bytes");

#define PAGE		4096
#define SECTOR		512
/* data pages: [0] for I/O, [1] indirect segment list, [2..5] multi-segment */
#define NDATA		6
#define MULTI		2		/* first of the multi-segment pages */
#define RESPONSE_MS	5000

static FILE *console;
static int failed;
static char fe[64];			/* our frontend dir, relative */
static char be[256];			/* the backend's dir */
static int evtchn_fd;
static uint32_t port;
static blkif_front_ring_t ring;
/* --barrier-teardown: a second queue, its ring and event channel. */
static int two_queues;
static blkif_front_ring_t ring2;
static uint32_t port2;
static uint8_t *data;			/* NDATA granted pages */
static uint32_t data_gref[NDATA];
static uint64_t sectors;
static int abi32;			/* the x86_32-abi layout, not native */

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

/* wait_key PATH VALUE SECS: until PATH reads VALUE. */
static int wait_key(const char *path, const char *value, int secs)
{
	char val[32];

	for (int i = 0; i < secs * 10; i++) {
		if (!xs_read(path, val, sizeof(val)) && !strcmp(val, value))
			return 0;
		usleep(100000);
	}
	return -1;
}

/* wait_state DIR STATE SECS: until DIR/state reads STATE. */
static int wait_state(const char *dir, int state, int secs)
{
	char path[300], val[16];

	snprintf(path, sizeof(path), "%s/state", dir);
	snprintf(val, sizeof(val), "%d", state);
	return wait_key(path, val, secs);
}

/* A grant reference past any grant table this guest can have. */
#define UNGRANTED_REF	(1u << 30)

/* ---- setup ---- */

/* Grant a one-page ring to dom0 and set @r up on it; its grant in @gref. */
static int grant_ring(int fd, blkif_front_ring_t *r, uint32_t *gref)
{
	struct ioctl_gntalloc_alloc_gref one = {
		.domid = 0, .flags = GNTALLOC_FLAG_WRITABLE, .count = 1,
	};
	void *p;

	if (ioctl(fd, IOCTL_GNTALLOC_ALLOC_GREF, &one))
		return -1;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, one.index);
	if (p == MAP_FAILED)
		return -1;
	SHARED_RING_INIT((blkif_sring_t *)p);
	FRONT_RING_INIT(r, (blkif_sring_t *)p, PAGE);
	/* Same header and indexes either way; only the entries differ. */
	if (abi32)
		r->nr_ents = __RING_SIZE((struct blk32_sring *)p, PAGE);
	*gref = one.gref_ids[0];
	return 0;
}

static int grant_pages(void)
{
	size_t size = sizeof(struct ioctl_gntalloc_alloc_gref) +
		      NDATA * sizeof(uint32_t);
	struct ioctl_gntalloc_alloc_gref *op = calloc(1, size);
	int fd = open("/dev/xen/gntalloc", O_RDWR);
	uint32_t gref, gref2;

	if (fd < 0 || !op || grant_ring(fd, &ring, &gref))
		return -1;
	if (two_queues) {
		if (grant_ring(fd, &ring2, &gref2) ||
		    xs_write(fe, "queue-0/ring-ref", "%u", gref) ||
		    xs_write(fe, "queue-1/ring-ref", "%u", gref2))
			return -1;
	} else if (xs_write(fe, "ring-ref", "%u", gref)) {
		return -1;
	}
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

/* Our end of an event channel for dom0 to bind; its port in @p. */
static int offer_port(uint32_t *p)
{
	struct ioctl_evtchn_bind_unbound_port bind = { .remote_domain = 0 };
	int rc = ioctl(evtchn_fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &bind);

	if (rc < 0)
		return -1;
	*p = rc;
	return 0;
}

static int setup(const char *devid)
{
	char path[300], val[64];

	snprintf(fe, sizeof(fe), "device/vbd/%s", devid);
	snprintf(path, sizeof(path), "%s/backend", fe);
	if (xs_read(path, be, sizeof(be)))
		return -1;
	snprintf(path, sizeof(path), "%s/sectors", be);
	if (xs_read(path, val, sizeof(val)))
		return -1;
	sectors = strtoull(val, NULL, 10);
	evtchn_fd = open("/dev/xen/evtchn", O_RDWR);
	if (evtchn_fd < 0 || offer_port(&port) ||
	    (two_queues && offer_port(&port2)))
		return -1;
	/*
	 * Reconnect from Closed (where the unbound blkfront left the backend):
	 * Initialising first, and the backend InitWaits.
	 */
	if (wait_state(be, 6, 10) || xs_write(fe, "state", "1") ||
	    wait_state(be, 2, 10))
		return -1;
	/* The x86_32 pass lets the backend keep grants (indirect pages too). */
	if (grant_pages() ||
	    xs_write(fe, "feature-persistent", abi32 ? "1" : "0"))
		return -1;
	if (two_queues) {
		if (xs_write(fe, "queue-0/event-channel", "%u", port) ||
		    xs_write(fe, "queue-1/event-channel", "%u", port2) ||
		    xs_write(fe, "multi-queue-num-queues", "2"))
			return -1;
	} else if (xs_write(fe, "event-channel", "%u", port)) {
		return -1;
	}
	if (xs_write(fe, "protocol", abi32 ? "x86_32-abi" : "x86_64-abi") ||
	    xs_write(fe, "state", "3"))
		return -1;
	if (wait_state(be, 4, 10))
		return -1;
	return xs_write(fe, "state", "4");
}

/* ---- one request, one response ---- */

/* Milliseconds since @t0 (CLOCK_MONOTONIC). */
static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void notify_port(uint32_t p)
{
	struct ioctl_evtchn_notify n = { .port = p };

	ioctl(evtchn_fd, IOCTL_EVTCHN_NOTIFY, &n);
}

static void notify(void)
{
	notify_port(port);
}

/* The id and status of response slot @i, in the ring's layout. */
static void get_response(RING_IDX i, uint64_t *id, int *status)
{
	if (abi32) {
		struct blk32_sring *s = (struct blk32_sring *)ring.sring;
		struct blk32_response *r = &s->ring[i & (ring.nr_ents - 1)].rsp;

		*id = r->id;
		*status = r->status;
	} else {
		blkif_response_t *r = RING_GET_RESPONSE(&ring, i);

		*id = r->id;
		*status = r->status;
	}
}

/*
 * Wait for the response to request @id; returns its status, or 1 if none
 * came within RESPONSE_MS.  A response with another id is noted on the
 * console: with one request in flight it means a misplaced or garbled id.
 */
static int response(uint64_t id)
{
	struct timespec t0;
	struct pollfd pfd = { .fd = evtchn_fd, .events = POLLIN };
	uint32_t p;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		while (RING_HAS_UNCONSUMED_RESPONSES(&ring)) {
			uint64_t rid;
			int status;

			get_response(ring.rsp_cons++, &rid, &status);
			if (rid == id)
				return status;
			fprintf(console, "hostile frontend: note: response id %" PRIu64
				" status %d while waiting for id %" PRIu64 "\n",
				rid, status, id);
		}
		long ms = ms_since(&t0);

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

/* An indirect request on the next slot, its segment list in data page 1. */
static blkif_request_indirect_t *next_indirect(uint8_t op, uint16_t nr_segments)
{
	blkif_request_indirect_t *ind =
		(blkif_request_indirect_t *)next_request(BLKIF_OP_INDIRECT);

	memset(ind, 0, sizeof(*ind));
	ind->operation = BLKIF_OP_INDIRECT;
	ind->indirect_op = op;
	ind->nr_segments = nr_segments;
	ind->id = next_id;
	ind->indirect_grefs[0] = data_gref[1];
	return ind;
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

/*
 * expect_status WHAT STATUS WANT: the backend refused the request with
 * WANT, what the in-tree blkback answers: EOPNOTSUPP for an operation it
 * does not know, ERROR for everything else refused here (a read-only
 * disk refuses a discard before asking whether it could discard).
 */
static void expect_status(const char *what, int s, int want)
{
	if (s == want)
		report(1, what, "refused with %s", status_name(s));
	else
		report(0, what, "got %s (%d), want %s", status_name(s), s,
		       status_name(want));
}

static void expect_error(const char *what, int s)
{
	expect_status(what, s, BLKIF_RSP_ERROR);
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

#define FLOOD_MS	3000
#define FLOOD_MAX	1000000		/* requests, whatever the time */

/*
 * Keep the ring full of requests the backend refuses at once (unknown
 * operation), each slot refilled as soon as its answer is seen, without
 * waiting on events, for FLOOD_MS or FLOOD_MAX requests; then wait for
 * the last answers.  A backend that takes requests for as long as there
 * are any never leaves its loop meanwhile.  Every request must be
 * answered once, in order, with EOPNOTSUPP.
 */
static void flood(void)
{
	const char *what = "a ring kept full of refused requests for 3 s";
	struct pollfd pfd = { .fd = evtchn_fd, .events = POLLIN };
	uint64_t first = next_id, answered = 0, bad = 0, bad_id = 0, bad_want = 0;
	int bad_status = 0, producing = 1, notify_needed;
	struct timespec t0;
	long ms = 0, end_ms = 0;
	uint32_t p;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ms = ms_since(&t0);
		if (producing && (ms >= FLOOD_MS || next_id - first >= FLOOD_MAX)) {
			producing = 0;
			end_ms = ms;
		}
		if (producing) {
			while (ring.req_prod_pvt - ring.rsp_cons < RING_SIZE(&ring)) {
				next_request(0x77);
				next_id++;
				ring.req_prod_pvt++;
			}
			RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, notify_needed);
			if (notify_needed)
				notify();
		}
		while (RING_HAS_UNCONSUMED_RESPONSES(&ring)) {
			uint64_t rid;
			int status;

			get_response(ring.rsp_cons++, &rid, &status);
			if ((rid != first + answered ||
			     status != BLKIF_RSP_EOPNOTSUPP) &&
			    !bad++) {
				bad_id = rid;
				bad_want = first + answered;
				bad_status = status;
			}
			answered++;
		}
		if (producing)
			continue;
		/* Draining: the rest must come within RESPONSE_MS. */
		if (ring.rsp_cons == ring.req_prod_pvt || ms - end_ms >= RESPONSE_MS)
			break;
		ring.sring->rsp_event = ring.rsp_cons + 1;
		mb();	/* rsp_event set before we look at rsp_prod again */
		if (RING_HAS_UNCONSUMED_RESPONSES(&ring))
			continue;
		if (poll(&pfd, 1, 100) > 0 && read(evtchn_fd, &p, sizeof(p)) == sizeof(p))
			write(evtchn_fd, &p, sizeof(p));	/* unmask */
	}
	if (answered != next_id - first)
		report(0, what, "%" PRIu64 " of %" PRIu64 " requests answered",
		       answered, next_id - first);
	else if (bad)
		report(0, what, "%" PRIu64 " answers out of order or not errors, the first: id %"
		       PRIu64 " (want %" PRIu64 "), %s", bad, bad_id, bad_want,
		       status_name(bad_status));
	else
		report(1, what, "%" PRIu64 " requests in %ld ms, each answered once, in order, with EOPNOTSUPP",
		       answered, end_ms);
}

/*
 * Let dom0 check the backend while the vbd is ours: @key in our frontend
 * dir (holding @value) says we are done, dom0 answers with @key-checked.
 */
static void dom0_check(const char *key, unsigned long value, const char *what)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%s-checked", fe, key);
	if (xs_write(fe, key, "%lu", value) || wait_key(path, "1", 60))
		report(0, what, "no answer within 60 s");
}

/* The attacks, in the native layout; ends with the ring stopped. */
static void native_attacks(void)
{
	blkif_request_t *req;
	blkif_request_indirect_t *ind;
	blkif_request_discard_t *dis;
	struct blkif_request_segment *segs;

	valid_read("a valid 4 KiB read");

	req = next_request(0x77);
	expect_status("unknown operation 0x77", send(), BLKIF_RSP_EOPNOTSUPP);

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
	next_indirect(BLKIF_OP_READ, 4096);
	expect_error("indirect read with 4096 segments", send());

	next_indirect(BLKIF_OP_READ, 0);
	expect_error("indirect read with 0 segments", send());

	next_indirect(BLKIF_OP_FLUSH_DISKCACHE, 1);
	expect_error("indirect wrapping a flush", send());

	ind = next_indirect(BLKIF_OP_READ, 1);
	ind->indirect_grefs[0] = UNGRANTED_REF;
	expect_error("indirect read whose segment page is not granted", send());

	/* The disk is read-only: nothing that writes may pass. */
	memset(data, 0x5a, PAGE);
	next_request(BLKIF_OP_WRITE);
	expect_error("write to the read-only disk", send());

	next_indirect(BLKIF_OP_WRITE, 16);
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

	flood();
	valid_read("a valid read after the flood");
	/* dom0 reads the backend's statistics/max_pass. */
	dom0_check("hostile-flood", 1, "dom0 checked the backend after the flood");

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
}

/* ---- the x86_32-abi layout ---- */

/* A one-segment read of sector 0 into data page 0 on the next slot. */
static struct blk32_request *next_request32(uint8_t op)
{
	struct blk32_sring *s = (struct blk32_sring *)ring.sring;
	struct blk32_request *req = &s->ring[ring.req_prod_pvt & (ring.nr_ents - 1)].req;

	memset(req, 0, sizeof(*req));
	req->operation = op;
	req->u.rw.nr_segments = 1;
	req->u.rw.id = next_id;
	req->u.rw.seg[0] = (struct blkif_request_segment){ data_gref[0], 0, 7 };
	return req;
}

static struct blk32_request *next_indirect32(uint8_t op, uint16_t nr_segments)
{
	struct blk32_request *req = next_request32(BLKIF_OP_INDIRECT);

	memset(&req->u, 0, sizeof(req->u));
	req->u.indirect.indirect_op = op;
	req->u.indirect.nr_segments = nr_segments;
	req->u.indirect.id = next_id;
	req->u.indirect.indirect_grefs[0] = data_gref[1];
	return req;
}

/*
 * expect_read WHAT STATUS BUF FIRST N: the read succeeded and BUF holds
 * sectors FIRST..FIRST+N-1 of dom0's pattern, each starting with its number.
 */
static void expect_read(const char *what, int s, const uint8_t *buf,
			uint64_t first, unsigned int n)
{
	char want[12];

	if (s != BLKIF_RSP_OKAY) {
		report(0, what, "got %s (%d)", status_name(s), s);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "%010" PRIu64 " ", first + i);
		if (memcmp(buf + i * SECTOR, want, 11)) {
			report(0, what, "OKAY but sector %" PRIu64 " reads '%.11s'",
			       first + i, (const char *)buf + i * SECTOR);
			return;
		}
	}
	report(1, what, "OKAY, sectors %" PRIu64 "-%" PRIu64 " hold dom0's pattern",
	       first, first + n - 1);
}

static void x86_32_checks(void)
{
	uint8_t *multi = data + MULTI * PAGE;
	struct blkif_request_segment *segs;
	struct blk32_request *req;
	char path[300], val[32];
	unsigned int n;

	memset(data, 0xaa, PAGE);
	next_request32(BLKIF_OP_READ);
	expect_read("x86_32: a 1-segment read of sectors 0-7", send(), data, 0, 8);

	/* Four whole pages: sectors 8-39. */
	memset(multi, 0xaa, 4 * PAGE);
	req = next_request32(BLKIF_OP_READ);
	req->u.rw.nr_segments = 4;
	req->u.rw.sector_number = 8;
	for (int i = 0; i < 4; i++)
		req->u.rw.seg[i] = (struct blkif_request_segment){ data_gref[MULTI + i], 0, 7 };
	expect_read("x86_32: a 4-segment read of 4 pages", send(), multi, 8, 32);

	/* The direct maximum, one sector each, packed into consecutive slots. */
	memset(multi, 0xaa, 4 * PAGE);
	req = next_request32(BLKIF_OP_READ);
	req->u.rw.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST;
	req->u.rw.sector_number = 100;
	for (int i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		req->u.rw.seg[i] = (struct blkif_request_segment){
			data_gref[MULTI + i / 8], i % 8, i % 8 };
	expect_read("x86_32: an 11-segment read of one sector each", send(), multi,
		    100, BLKIF_MAX_SEGMENTS_PER_REQUEST);

	snprintf(path, sizeof(path), "%s/feature-max-indirect-segments", be);
	n = xs_read(path, val, sizeof(val)) ? 0 : strtoul(val, NULL, 10);
	if (n > 4 * PAGE / SECTOR)
		n = 4 * PAGE / SECTOR;
	if (n > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		/* One sector per segment over four pages: sectors 200-. */
		segs = (struct blkif_request_segment *)(data + PAGE);
		for (unsigned int i = 0; i < n; i++)
			segs[i] = (struct blkif_request_segment){
				data_gref[MULTI + i / 8], i % 8, i % 8 };
		memset(multi, 0xaa, 4 * PAGE);
		req = next_indirect32(BLKIF_OP_READ, n);
		req->u.indirect.sector_number = 200;
		expect_read("x86_32: an indirect read", send(), multi, 200, n);
	} else {
		fprintf(console, "hostile frontend: x86_32: no indirect read: "
			"feature-max-indirect-segments is '%s'\n", n ? val : "absent");
	}

	next_request32(0x77);
	expect_status("x86_32: unknown operation 0x77", send(), BLKIF_RSP_EOPNOTSUPP);

	req = next_request32(BLKIF_OP_READ);
	req->u.rw.nr_segments = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
	expect_error("x86_32: read with 12 segments", send());

	req = next_request32(BLKIF_OP_READ);
	req->u.rw.sector_number = sectors;
	expect_error("x86_32: read at the first sector past the end", send());

	req = next_request32(BLKIF_OP_READ);
	req->u.rw.sector_number = sectors - 4;
	expect_error("x86_32: read of 8 sectors straddling the end", send());

	memset(data, 0x5a, PAGE);
	next_request32(BLKIF_OP_WRITE);
	expect_error("x86_32: write to the read-only disk", send());

	next_indirect32(BLKIF_OP_READ, 4096);
	expect_error("x86_32: indirect read with 4096 segments", send());

	next_indirect32(BLKIF_OP_WRITE, 16);
	expect_error("x86_32: indirect write to the read-only disk", send());

	req = next_indirect32(BLKIF_OP_READ, 1);
	req->u.indirect.indirect_grefs[0] = UNGRANTED_REF;
	expect_error("x86_32: indirect read whose segment page is not granted", send());

	memset(data, 0xaa, PAGE);
	next_request32(BLKIF_OP_READ);
	expect_read("x86_32: a valid read after the bad requests", send(), data, 0, 8);
}

/* ---- a barrier held when the frontend closes ---- */

#define STORM_MS	1500
static unsigned long storm_sent;

/*
 * Signal the ring for @ms with nothing new on it; returns how many events
 * were sent.  While the backend holds a barrier it can take none of the
 * requests: each event must count as spurious, so that the kernel's late
 * EOI holds the storm back instead of waking the backend for every one.
 */
static unsigned long event_storm(int ms)
{
	struct timespec t0;
	unsigned long sent = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		notify();
		sent++;
	} while (ms_since(&t0) < ms);
	return sent;
}

/*
 * A 4 KiB read or write (@op) of sector 64 on the second queue's ring,
 * published and signalled.
 */
static uint64_t ring2_request(uint8_t op)
{
	blkif_request_t *req = RING_GET_REQUEST(&ring2, ring2.req_prod_pvt);
	uint64_t id = next_id++;

	memset(req, 0, sizeof(*req));
	req->operation = op;
	req->nr_segments = 1;
	req->id = id;
	req->sector_number = 64;
	req->seg[0].gref = data_gref[MULTI];
	req->seg[0].last_sect = 7;
	ring2.req_prod_pvt++;
	RING_PUSH_REQUESTS(&ring2);
	notify_port(port2);
	return id;
}

/* The second queue serves: a write on it is answered (dom0 slows reads only). */
static int ring2_works(void)
{
	const char *what = "barrier teardown: a write on the second queue is answered";
	uint64_t id = ring2_request(BLKIF_OP_WRITE);
	blkif_response_t *rsp;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!RING_HAS_UNCONSUMED_RESPONSES(&ring2) && ms_since(&t0) < 30000)
		usleep(10000);
	if (!RING_HAS_UNCONSUMED_RESPONSES(&ring2)) {
		report(0, what, "no answer within 30 s");
		return 0;
	}
	rmb();
	rsp = RING_GET_RESPONSE(&ring2, ring2.rsp_cons++);
	if (rsp->id != id || rsp->status != BLKIF_RSP_OKAY) {
		report(0, what, "id %" PRIu64 " (sent %" PRIu64 "), %s", (uint64_t)rsp->id, id,
		       status_name(rsp->status));
		return 0;
	}
	report(1, what, "in %ld ms", ms_since(&t0));
	return 1;
}

/*
 * dom0 made this disk's reads take seconds.  A read, then a barrier: the
 * barrier must wait for the read, so the backend holds it, while we send
 * it an event storm.  We close (Closing) while it holds it; the backend
 * stops the ring, and both requests, taken from the ring, must have
 * exactly one answer each once it says Closing.
 */
static void barrier_teardown(void)
{
	const char *what = "a barrier held behind a slow read when the frontend closes";
	const char *late = "a request on another queue after the close is not taken";
	uint64_t read_id, barrier_id;
	int reads = 0, barriers = 0, others = 0, read_status = 0, barrier_status = 0;
	blkif_request_t *req;
	char path[300], late_state[16] = "";

	if (!ring2_works())
		return;
	read_id = next_id;
	next_request(BLKIF_OP_READ);
	next_id++;
	ring.req_prod_pvt++;
	barrier_id = next_id;
	req = next_request(BLKIF_OP_WRITE_BARRIER);
	req->nr_segments = 0;	/* an empty barrier: writes nothing */
	req->sector_number = 0;
	next_id++;
	ring.req_prod_pvt++;
	RING_PUSH_REQUESTS(&ring);
	notify();
	/* Long enough for the backend to take both, well short of the read. */
	storm_sent = event_storm(STORM_MS);
	if (RING_HAS_UNCONSUMED_RESPONSES(&ring)) {
		report(0, what, "an answer came during the storm: the read was not slow, no barrier was held");
		return;
	}
	/*
	 * hostile-closing: dom0 checks that xenbus's watch thread goes on
	 * while the backend waits for the read (about 10 s more), which also
	 * shows that the backend has seen our Closing.
	 */
	if (xs_write(fe, "state", "5") || xs_write(fe, "hostile-closing", "1")) {
		report(0, what, "closing failed");
		return;
	}
	snprintf(path, sizeof(path), "%s/hostile-closing-checked", fe);
	if (wait_key(path, "1", 60))
		report(0, what, "dom0 did not check the close within 60 s");
	/*
	 * Then a read on the other queue: a backend told to close must take
	 * no more requests, on any ring, while it waits for the first one
	 * (still Connected then, or the check proves nothing).
	 */
	ring2_request(BLKIF_OP_READ);
	snprintf(path, sizeof(path), "%s/state", be);
	xs_read(path, late_state, sizeof(late_state));
	if (wait_state(be, 5, 60)) {
		report(0, what, "the backend did not go Closing within 60 s of ours");
		return;
	}
	rmb();	/* the backend's answers came before its Closing */
	while (RING_HAS_UNCONSUMED_RESPONSES(&ring)) {
		uint64_t rid;
		int status;

		get_response(ring.rsp_cons++, &rid, &status);
		if (rid == read_id) {
			reads++;
			read_status = status;
		} else if (rid == barrier_id) {
			barriers++;
			barrier_status = status;
		} else {
			others++;
		}
	}
	if (reads == 1 && barriers == 1 && !others)
		report(1, what, "the read answered %s, the barrier %s", status_name(read_status),
		       status_name(barrier_status));
	else
		report(0, what, "answers: %d for the read, %d for the barrier, %d with other ids",
		       reads, barriers, others);
	/* Everything taken was answered before Closing: this was not taken. */
	if (strcmp(late_state, "4"))
		report(0, late, "the backend said state '%s' before it was sent: too late to tell",
		       late_state);
	else if (RING_HAS_UNCONSUMED_RESPONSES(&ring2))
		report(0, late, "the backend answered it");
	else
		report(1, late, "no answer by the backend's Closing");
	xs_write(fe, "state", "6");
}

int main(int argc, char **argv)
{
	const char *tag = "";
	char what[64];
	int teardown = 0;

	console = fopen("/dev/console", "w");
	if (!console)
		console = stderr;
	if (argc == 3 && !strcmp(argv[1], "--x86_32")) {
		abi32 = 1;
		argv++;
		argc--;
	} else if (argc == 3 && !strcmp(argv[1], "--barrier-teardown")) {
		teardown = 1;
		two_queues = 1;
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: %s [--x86_32 | --barrier-teardown] DEVID\n", argv[0]);
		return 2;
	}
	if (abi32)
		tag = "x86_32: ";
	else if (teardown)
		tag = "barrier teardown: ";
	snprintf(what, sizeof(what), "%sconnect to the backend", tag);
	if (setup(argv[1])) {
		report(0, what, "%s (backend %s)", strerror(errno), be);
		return 2;
	}
	report(1, what, "%s, %" PRIu64 " sectors, ring of %u", be, sectors, RING_SIZE(&ring));
	if (abi32) {
		x86_32_checks();
	} else if (teardown) {
		barrier_teardown();
		/* dom0 reads the vbd's late-EOI counters (xenbus/ in sysfs). */
		dom0_check("hostile-storm", storm_sent,
			   "dom0 checked the backend after the event storm");
	} else {
		native_attacks();
	}
	xs_write(fe, "hostile-done", "1");
	return failed;
}
