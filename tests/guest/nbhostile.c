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
 *   offset    a slot whose offset + size crosses the page end
 *   slots19   19 slots (above the legacy 18, below the fatal 20)
 *   slots24   24 slots (above the fatal limit)
 *   sizes     following slots larger than what the first slot announced
 *   runt      a 10-byte packet, shorter than an Ethernet header
 *   extra0    an extra info slot of type 0 (none)
 *   extra9    an extra info slot of an unknown type
 *   gso0      a GSO extra with size 0
 *   zerofrag  a first slot announcing 60 bytes, then 17 fragments of size 0
 *   tinyhdr   a 200-byte packet whose first 60 bytes come in 1-byte slots
 * Exit status: 0 after a report, 2 if it could not connect.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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
#define NPAGES		(2 + NDATA)	/* tx ring, rx ring, data */
#define PROBE_LEN	60
#define MAX_SLOTS	32

static char fe[64];		/* device/vif/N */
static char be[256];		/* the backend's directory */
static uint8_t *mem;
static uint32_t refs[NPAGES];
static netif_tx_front_ring_t tx;
static netif_rx_front_ring_t rx;
static int evfd;
static unsigned int port;

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

	memset(mem, 0, NPAGES * PAGE);
	SHARED_RING_INIT((netif_tx_sring_t *)mem);
	FRONT_RING_INIT(&tx, (netif_tx_sring_t *)mem, PAGE);
	SHARED_RING_INIT((netif_rx_sring_t *)(mem + PAGE));
	FRONT_RING_INIT(&rx, (netif_rx_sring_t *)(mem + PAGE), PAGE);
	for (i = 2; i < NPAGES; i++)
		memset(mem + i * PAGE, 0xa5, PAGE);
}

static void connect_backend(void)
{
	static const char * const stale[] = {
		"event-channel-tx", "event-channel-rx", "multi-queue-num-queues",
		"queue-0", "queue-1", "queue-2", "queue-3", "ctrl-ring-ref",
		"event-channel-ctrl", "feature-gso-tcpv6", "feature-ipv6-csum-offload",
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
	if (xs_writef(fe, "tx-ring-ref", "%u", refs[0]) ||
	    xs_writef(fe, "rx-ring-ref", "%u", refs[1]) ||
	    xs_writef(fe, "event-channel", "%u", port) ||
	    xs_writef(fe, "request-rx-copy", "1") ||
	    xs_writef(fe, "feature-rx-notify", "1") ||
	    xs_writef(fe, "feature-sg", "1") ||
	    xs_writef(fe, "feature-gso-tcpv4", "1"))
		die("write ring details");
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
	} else if (!strcmp(a, "slots19")) {
		chain(19, 19 * 64, 64);
	} else if (!strcmp(a, "slots24")) {
		chain(24, 24 * 64, 64);
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
	} else {
		fprintf(stderr, "nbhostile: unknown attack %s\n", a);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	char bad[MAX_SLOTS * 4 + 8] = "-", pr[16];
	const char *verdict;
	RING_IDX from;

	if (argc != 3) {
		fprintf(stderr, "usage: nbhostile DEVID ATTACK\n");
		return 2;
	}
	snprintf(fe, sizeof(fe), "device/vif/%s", argv[1]);
	setup();
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
	if (pr[0] == '-')
		verdict = "none";
	else
		verdict = atoi(pr) == NETIF_RSP_OKAY ? "okay" : "error";
	printf("RESULT attack=%s bad=%s probe=%s\n", argv[2], bad, verdict);
	fflush(stdout);
	disconnect_backend();
	return 0;
}
