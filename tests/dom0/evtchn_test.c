// SPDX-License-Identifier: GPL-2.0
/*
 * evtchn_test: drives /dev/xen/evtchn in dom0 through every ioctl, read,
 * write, poll and SIGIO path and the errors the UAPI implies.  Two open
 * files bind the two ends of an interdomain channel from dom0 to itself.
 *
 * Usage: evtchn_test [--static=yes|no]
 *   --static says whether the kernel under test offers BIND_STATIC.
 * Prints "PASS: evtchn: ..." / "FAIL: evtchn: ..." lines; exits 1 on a FAIL.
 *
 * evtchn_test --fault-injection (a debug kernel only) fails each allocation
 * and user copy of open and the bind ioctls in turn (fail-nth).
 *
 * The guest event storm test runs it twice more:
 *   evtchn_test --storm-sink DOMID SECS     (dom0) binds a port for the
 *       guest, publishes it in the guest's xenstore (data/storm-port) and
 *       checks what the guest's storm costs dom0
 *   evtchn_test --storm-source PORT SECS    (guest) notifies that port as
 *       fast as it can for SECS seconds
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef uint16_t domid_t;	/* the UAPI header expects it from the includer */
#include <xen/evtchn.h>

#define CHECK_AREA "evtchn"
#include "check.h"

#ifndef IOCTL_EVTCHN_BIND_STATIC
/* Older UAPI headers on the build host lack it; the number is ABI. */
#define IOCTL_EVTCHN_BIND_STATIC _IOC(_IOC_NONE, 'E', 7, sizeof(unsigned int))
#endif

#define VIRQ_TBUF	4	/* a global VIRQ nothing in the test bed binds */
#define DEV		"/dev/xen/evtchn"

static int kernel_has_static;	/* --static=yes */



static void expect_errno(const char *what, int rc, int want)
{
	report(rc == -want, what, "got %d (%s), want -%s", rc,
	       rc < 0 ? strerror(-rc) : "success", strerror(want));
}

static int open_dev(const char *comm)
{
	char old[16];
	int fd;

	/* The irq name is "evtchn:<comm at open>": lets /proc/interrupts count. */
	prctl(PR_GET_NAME, old);
	prctl(PR_SET_NAME, comm);
	fd = open(DEV, O_RDWR);
	prctl(PR_SET_NAME, old);
	if (fd < 0) {
		printf("FAIL: evtchn: open %s: %s\n", DEV, strerror(errno));
		exit(1);
	}
	return fd;
}

static int bind_unbound(int fd, unsigned int dom)
{
	struct ioctl_evtchn_bind_unbound_port a = { .remote_domain = dom };

	return xioctl(fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &a);
}

static int bind_interdomain(int fd, unsigned int dom, unsigned int port)
{
	struct ioctl_evtchn_bind_interdomain a = {
		.remote_domain = dom, .remote_port = port,
	};

	return xioctl(fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &a);
}

static int bind_virq(int fd, unsigned int virq)
{
	struct ioctl_evtchn_bind_virq a = { .virq = virq };

	return xioctl(fd, IOCTL_EVTCHN_BIND_VIRQ, &a);
}

static int notify(int fd, unsigned int port)
{
	struct ioctl_evtchn_notify a = { .port = port };

	return xioctl(fd, IOCTL_EVTCHN_NOTIFY, &a);
}

static int unbind(int fd, unsigned int port)
{
	struct ioctl_evtchn_unbind a = { .port = port };

	return xioctl(fd, IOCTL_EVTCHN_UNBIND, &a);
}

static int restrict_domid(int fd, domid_t domid)
{
	struct ioctl_evtchn_restrict_domid a = { .domid = domid };

	return xioctl(fd, IOCTL_EVTCHN_RESTRICT_DOMID, &a);
}

static int bind_static(int fd, unsigned int port)
{
	unsigned int a = port;	/* struct ioctl_evtchn_bind { unsigned int port; } */

	return xioctl(fd, IOCTL_EVTCHN_BIND_STATIC, &a);
}

/* bind_static() from a child that gave up root, the file still open. */
static int bind_static_unprivileged(int fd, unsigned int port)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int rc = setuid(65534) ? -1000 : bind_static(fd, port);

		_exit(rc < 0 ? (-rc > 255 ? 255 : -rc) : 0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1000;
	return -WEXITSTATUS(st);
}

/* A connected pair: port *a on file fa fires when fb notifies *b, and back. */
static int make_pair(int fa, int fb, int *a, int *b)
{
	*a = bind_unbound(fa, 0);
	if (*a < 0)
		return *a;
	*b = bind_interdomain(fb, 0, *a);
	return *b < 0 ? *b : 0;
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* Interrupts delivered to irqs named "evtchn:<comm>", and how many such irqs. */
static long irq_count(const char *comm, int *nr_irqs)
{
	char line[1024], name[64];
	long total = 0;
	FILE *f;

	snprintf(name, sizeof(name), "evtchn:%s", comm);
	if (nr_irqs)
		*nr_irqs = 0;
	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *end = line + strcspn(line, "\n"), *p;
		size_t len = strlen(name);

		*end = 0;
		if ((size_t)(end - line) < len || strcmp(end - len, name) ||
		    (end - len > line && end[-len - 1] != ' '))
			continue;
		if (nr_irqs)
			(*nr_irqs)++;
		p = strchr(line, ':');
		while (p && *++p) {
			char *next;
			long v = strtol(p, &next, 10);

			if (next == p)
				break;
			total += v;
			p = next - 1;
		}
	}
	fclose(f);
	return total;
}

static int wait_irq_count(const char *comm, long target, int timeout_ms)
{
	long deadline = now_us() + timeout_ms * 1000L;

	while (irq_count(comm, NULL) < target) {
		if (now_us() > deadline)
			return -1;
		usleep(1000);
	}
	return 0;
}

static short poll_events(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	if (poll(&p, 1, timeout_ms) < 0)
		return -1;
	return p.revents;
}

static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/* Read one port without blocking: the port, or -errno. */
static int read_port(int fd)
{
	unsigned int port;
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	n = read(fd, &port, sizeof(port));
	fcntl(fd, F_SETFL, fl);
	if (n < 0)
		return -errno;
	return n == sizeof(port) ? (int)port : -EIO;
}

static int unmask(int fd, unsigned int port)
{
	return write(fd, &port, sizeof(port)) == sizeof(port) ? 0 : -errno;
}

/* An address no access may touch: for the EFAULT checks. */
static void *bad_pointer(void)
{
	return mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void test_loopback(void)
{
	int fa = open_dev("xt-loop-a"), fb = open_dev("xt-loop-b");
	int a, b, rc;
	unsigned int buf[4];
	long before;

	rc = make_pair(fa, fb, &a, &b);
	report(rc == 0 && a > 0 && b > 0, "bind unbound + interdomain return ports",
	       "rc %d a %d b %d", rc, a, b);
	if (rc)
		goto out;

	report(read_port(fa) == -EAGAIN, "O_NONBLOCK read of an empty ring is EAGAIN",
	       NULL);
	report(!(poll_events(fa, 0) & (POLLIN | POLLERR)) &&
	       (poll_events(fa, 0) & POLLOUT), "poll: idle file is writable only",
	       NULL);

	rc = notify(fb, b);
	report(rc == 0 && wait_readable(fa, 2000), "notify makes the peer readable",
	       "notify rc %d", rc);
	rc = read_port(fa);
	report(rc == a, "read returns the fired port", "got %d want %d", rc, a);
	report(read_port(fa) == -EAGAIN, "a port is read once", NULL);

	/* Late EOI: until written back, the port does not fire again. */
	before = irq_count("xt-loop-a", NULL);
	notify(fb, b);
	usleep(100000);
	report(!wait_readable(fa, 0) && irq_count("xt-loop-a", NULL) == before,
	       "a fired port stays masked until written back", NULL);
	report(unmask(fa, a) == 0, "write of the port succeeds", NULL);
	rc = wait_readable(fa, 2000) ? read_port(fa) : -ETIMEDOUT;
	report(rc == a, "writing the port back delivers the pending event",
	       "got %d", rc);
	unmask(fa, a);

	/* And the other direction. */
	notify(fa, a);
	rc = wait_readable(fb, 2000) ? read_port(fb) : -ETIMEDOUT;
	report(rc == b, "notify works in both directions", "got %d", rc);
	unmask(fb, b);

	/* Ownership: each file sees only its own ports. */
	expect_errno("NOTIFY of another file's port", notify(fb, a), ENOTCONN);
	expect_errno("UNBIND of another file's port", unbind(fb, a), ENOTCONN);
	expect_errno("NOTIFY of an out-of-range port", notify(fa, 0x7fffffff), EINVAL);
	expect_errno("UNBIND of an out-of-range port", unbind(fa, 0x7fffffff), EINVAL);

	/* Short and odd-sized reads and writes. */
	notify(fb, b);
	wait_readable(fa, 2000);
	report(read(fa, buf, 3) == 0, "read of fewer than 4 bytes returns 0", NULL);
	report(read(fa, bad_pointer(), sizeof(buf)) < 0 && errno == EFAULT,
	       "read into a bad buffer is EFAULT", NULL);
	report(read(fa, buf, 6) == 4 && buf[0] == (unsigned int)a,
	       "a port survives a faulting read; odd sizes round down", NULL);
	report(write(fa, buf, 0) == 0, "write of 0 bytes returns 0", NULL);
	report(write(fa, bad_pointer(), 4) < 0 && errno == EFAULT,
	       "write from a bad buffer is EFAULT", NULL);
	buf[0] = 0x7ffffff0;
	buf[1] = a;
	report(write(fa, buf, 8) == 8, "write ignores ports it does not own", NULL);

	expect_errno("unknown ioctl is ENOTTY",
		     xioctl(fa, _IOC(_IOC_NONE, 'E', 99, 0), NULL), ENOTTY);
	expect_errno("ioctl with a bad argument pointer is EFAULT",
		     xioctl(fa, IOCTL_EVTCHN_NOTIFY, bad_pointer()), EFAULT);
	expect_errno("interdomain to a domid above 16 bits",
		     bind_interdomain(fa, 0x10000, 1), EINVAL);
	expect_errno("unbound port for a domid above 16 bits",
		     bind_unbound(fa, 0x10000), EINVAL);
	rc = bind_interdomain(fa, 0, 0x7fffffff);
	report(rc < 0, "interdomain to a port that does not exist fails",
	       "got %d", rc);

	rc = unbind(fa, a);
	report(rc == 0, "UNBIND of an owned port", "rc %d", rc);
	expect_errno("NOTIFY after UNBIND", notify(fa, a), ENOTCONN);
	expect_errno("UNBIND twice", unbind(fa, a), ENOTCONN);
out:
	close(fa);
	close(fb);
}

static void *notify_later(void *arg)
{
	int *p = arg;

	usleep(200000);
	notify(p[0], p[1]);
	return NULL;
}

static volatile sig_atomic_t got_sigio;

static void on_sigio(int sig)
{
	(void)sig;
	got_sigio = 1;
}

static void test_blocking_and_sigio(void)
{
	int fa = open_dev("xt-block-a"), fb = open_dev("xt-block-b");
	int a, b, args[2];
	unsigned int port = 0;
	pthread_t t;
	long t0, waited;
	ssize_t n;

	if (make_pair(fa, fb, &a, &b)) {
		report(0, "blocking read setup", NULL);
		goto out;
	}
	args[0] = fb;
	args[1] = b;
	pthread_create(&t, NULL, notify_later, args);
	t0 = now_us();
	n = read(fa, &port, sizeof(port));
	waited = now_us() - t0;
	pthread_join(t, NULL);
	report(n == 4 && port == (unsigned int)a && waited >= 150000,
	       "blocking read waits for the event", "n %zd port %u after %ld us",
	       n, port, waited);
	unmask(fa, a);

	signal(SIGIO, on_sigio);
	fcntl(fa, F_SETOWN, getpid());
	fcntl(fa, F_SETFL, fcntl(fa, F_GETFL) | O_ASYNC);
	got_sigio = 0;
	notify(fb, b);
	for (int i = 0; i < 2000 && !got_sigio; i++)
		usleep(1000);
	report(got_sigio, "SIGIO is sent when a port fires (fasync)", NULL);
	fcntl(fa, F_SETFL, fcntl(fa, F_GETFL) & ~O_ASYNC);
	signal(SIGIO, SIG_DFL);
out:
	close(fa);
	close(fb);
}

/* Fire ports without reading them until the ring must overflow. */
static void test_overflow_and_reset(void)
{
	const char *comm = "xt-ovf-a";
	int fa = open_dev(comm), fb = open_dev("xt-ovf-b");
	int a, b, i, rc, ok = 1;
	short ev;

	if (make_pair(fa, fb, &a, &b)) {
		report(0, "overflow setup", NULL);
		goto out;
	}
	/* One port bound: the ring has its minimum of 64 slots. */
	for (i = 1; i <= 65 && ok; i++) {
		notify(fb, b);
		ok = wait_irq_count(comm, i, 2000) == 0;
		unmask(fa, a);	/* unmask without reading: queued again next time */
	}
	report(ok, "65 events delivered to one port", "stopped at %d", i);
	rc = read_port(fa);
	expect_errno("read after ring overflow is EFBIG", rc, EFBIG);
	ev = poll_events(fa, 0);
	report(ev == POLLERR, "poll reports POLLERR alone after overflow (as in-tree)",
	       "revents %#x", ev);

	rc = xioctl(fa, IOCTL_EVTCHN_RESET, NULL);
	report(rc == 0, "RESET", "rc %d", rc);
	ev = poll_events(fa, 0);
	report(!(ev & (POLLERR | POLLIN)) && read_port(fa) == -EAGAIN,
	       "RESET empties the ring and clears the overflow", "revents %#x", ev);

	unmask(fa, a);
	notify(fb, b);
	rc = wait_readable(fa, 2000) ? read_port(fa) : -ETIMEDOUT;
	report(rc == a, "the file works again after RESET", "got %d", rc);
out:
	close(fa);
	close(fb);
}

/* Many ports all pending at once: the ring grew to hold them all. */
static void test_ring_growth(void)
{
	enum { N = 300 };
	const char *comm = "xt-grow-a";
	int fa = open_dev(comm), fb = open_dev("xt-grow-b");
	static int a[N], b[N];
	static unsigned char seen[1 << 17];
	unsigned int buf[N + 8];
	int i, rc, got = 0, distinct = 0;
	ssize_t n;

	for (i = 0; i < N; i++) {
		rc = make_pair(fa, fb, &a[i], &b[i]);
		if (rc) {
			report(0, "bind 300 pairs", "pair %d: %d", i, rc);
			goto out;
		}
	}
	for (i = 0; i < N; i++)
		notify(fb, b[i]);
	rc = wait_irq_count(comm, N, 5000);
	report(rc == 0, "300 ports fire without being read", NULL);

	n = read(fa, buf, sizeof(buf));
	if (n > 0)
		got = n / 4;
	for (i = 0; i < got; i++) {
		if (buf[i] < sizeof(seen) && !seen[buf[i]]++)
			distinct++;
	}
	report(got == N && distinct == N,
	       "the ring grew: all 300 pending ports read back, no overflow",
	       "read %zd bytes (%s), %d distinct", n,
	       n < 0 ? strerror(errno) : "ok", distinct);
out:
	close(fa);
	close(fb);
}

static void test_restrict(void)
{
	int fa = open_dev("xt-restrict"), fb = open_dev("xt-restrict-b");
	int before, peer, rc;

	before = bind_unbound(fa, 0);
	peer = bind_interdomain(fb, 0, before);
	expect_errno("RESTRICT_DOMID to dom0 is refused", restrict_domid(fa, 0), EINVAL);
	expect_errno("RESTRICT_DOMID to a reserved domid is refused",
		     restrict_domid(fa, 0x7ff0), EINVAL);
	rc = restrict_domid(fa, 7);
	report(rc == 0, "RESTRICT_DOMID to domain 7", "rc %d", rc);
	expect_errno("a second RESTRICT_DOMID is refused", restrict_domid(fa, 8), EACCES);
	expect_errno("restricted: BIND_VIRQ", bind_virq(fa, VIRQ_TBUF), EACCES);
	expect_errno("restricted: BIND_UNBOUND_PORT", bind_unbound(fa, 7), EACCES);
	expect_errno("restricted: BIND_INTERDOMAIN to another domain",
		     bind_interdomain(fa, 0, peer), EACCES);
	rc = bind_interdomain(fa, 7, 1);
	report(rc < 0 && rc != -EACCES,
	       "restricted: BIND_INTERDOMAIN to its own domain reaches Xen",
	       "got %d", rc);
	expect_errno("restricted: BIND_STATIC", bind_static(fa, before),
		     kernel_has_static ? EACCES : ENOTTY);
	rc = notify(fa, before);
	report(rc == 0, "ports bound before RESTRICT_DOMID still notify", "rc %d", rc);
	close(fa);
	close(fb);
}

static void test_virq(void)
{
	int fa = open_dev("xt-virq-a"), fb = open_dev("xt-virq-b");
	int p, rc;

	p = bind_virq(fa, VIRQ_TBUF);
	report(p > 0, "BIND_VIRQ returns a port", "got %d", p);
	rc = bind_virq(fb, VIRQ_TBUF);
	report(rc == -EEXIST, "a global VIRQ binds only once", "got %d", rc);
	if (p > 0)
		unbind(fa, p);
	rc = bind_virq(fb, VIRQ_TBUF);
	report(rc > 0, "UNBIND closes the VIRQ's port: it binds again", "got %d", rc);
	expect_errno("BIND_VIRQ of an invalid VIRQ", bind_virq(fa, 100000), EINVAL);
	close(fa);
	close(fb);
	fb = open_dev("xt-virq-c");
	rc = bind_virq(fb, VIRQ_TBUF);
	report(rc > 0, "close releases the VIRQ", "got %d", rc);
	close(fb);
}

static void test_static(void)
{
	int fa = open_dev("xt-static-a"), fb = open_dev("xt-static-b");
	int a, b, rc;

	if (make_pair(fa, fb, &a, &b)) {
		report(0, "static setup", NULL);
		goto out;
	}
	rc = bind_static(fa, a);
	if (!kernel_has_static) {
		expect_errno("BIND_STATIC where the kernel lacks it", rc, ENOTTY);
		goto out;
	}
	expect_errno("BIND_STATIC of a port this file holds", rc, EISCONN);
	expect_errno("BIND_STATIC of a port another file holds", bind_static(fb, a), EBUSY);
	expect_errno("BIND_STATIC of an out-of-range port",
		     bind_static(fa, 0x7fffffff), EINVAL);
	expect_errno("BIND_STATIC without CAP_SYS_ADMIN (the file opened by root)",
		     bind_static_unprivileged(fb, b), EPERM);
	/* Unbinding an unbound port closes it: no longer Xen's to give. */
	rc = bind_unbound(fa, 0);
	if (rc > 0 && unbind(fa, rc) == 0)
		expect_errno("BIND_STATIC of a port Xen shows closed",
			     bind_static(fb, rc), EINVAL);
	else
		report(0, "BIND_STATIC of a closed port: setup", "unbound port %d", rc);
out:
	close(fa);
	close(fb);
}

/* Late EOI bounds what a notification storm costs the receiving side. */
static void test_storm(void)
{
	const char *comm = "xt-storm-a";
	int fa = open_dev(comm), fb = open_dev("xt-storm-b");
	int a, b, i;
	long before, after;

	if (make_pair(fa, fb, &a, &b)) {
		report(0, "storm setup", NULL);
		goto out;
	}
	before = irq_count(comm, NULL);
	for (i = 0; i < 100000; i++)
		notify(fb, b);
	usleep(100000);
	after = irq_count(comm, NULL);
	report(after - before == 1,
	       "100000 notifies with nobody reading cost one interrupt",
	       "%ld interrupts", after - before);
out:
	close(fa);
	close(fb);
}

static int nr_irqs(const char *comm)
{
	int n;

	irq_count(comm, &n);
	return n;
}

static void test_release(void)
{
	int fa, fb, a = 0, b = 0, i, pipefd[2];
	pid_t pid;
	char c;

	fa = open_dev("xt-rel-a");
	fb = open_dev("xt-rel-b");
	for (i = 0; i < 10; i++)
		make_pair(fa, fb, &a, &b);
	report(nr_irqs("xt-rel-a") == 10 && nr_irqs("xt-rel-b") == 10,
	       "20 bound ports have irqs", "%d + %d", nr_irqs("xt-rel-a"),
	       nr_irqs("xt-rel-b"));
	close(fa);
	close(fb);
	report(nr_irqs("xt-rel-a") == 0 && nr_irqs("xt-rel-b") == 0,
	       "close releases every port", NULL);

	if (pipe(pipefd))
		return;
	pid = fork();
	if (pid == 0) {
		fa = open_dev("xt-kill-a");
		fb = open_dev("xt-kill-b");
		for (i = 0; i < 10; i++)
			make_pair(fa, fb, &a, &b);
		notify(fb, b);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(pipefd[0], &c, 1) != 1)
		c = 0;
	report(c == 'x' && nr_irqs("xt-kill-a") == 10, "child bound 10 pairs", NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	report(nr_irqs("xt-kill-a") == 0 && nr_irqs("xt-kill-b") == 0,
	       "a killed process's ports are all released", NULL);
	close(pipefd[0]);
	close(pipefd[1]);
}

/*
 * Fault injection (a debug kernel: run --debug): /proc/thread-self/fail-nth
 * fails the nth allocation or user copy this thread makes, so n = 1, 2, ...
 * walks a call through each of its failure points, up to the first n the
 * call completes without reaching.  A failed call must return an errno,
 * give its port back to Xen and leave the file working.  Xen hands out the
 * lowest free port, so a port kept by mistake shows as the next bind on
 * the same file getting a higher one than before the walk.
 */
#define FAIL_NTH_MAX 2000

static int fail_nth_fd = -1;

/* Fail the nth fault point from now on; 0 disarms. */
static int fail_nth_set(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(fail_nth_fd, buf, len, 0) == len ? 0 : -1;
}

/* Whether the armed fault fired (the file then reads 0); disarms it. */
static int fail_nth_fired(void)
{
	char buf[16] = "";
	/* With one point left, this read's own copy-out is it, and fails. */
	ssize_t len = pread(fail_nth_fd, buf, sizeof(buf) - 1, 0);

	fail_nth_set(0);
	return len > 0 && atoi(buf) == 0;
}

/* The port the next bind on fd gets (it is bound and unbound), or -errno. */
static int lowest_free_port(int fd)
{
	int p = bind_unbound(fd, 0);

	if (p >= 0)
		unbind(fd, p);
	return p;
}

/*
 * lowest_free_port(), given up to a second to come down to @base: Xen
 * marks a fresh interdomain port pending, and (FIFO ABI) a closed port
 * stays busy until dom0's upcall has taken its event off the queue.
 */
static int settled_free_port(int fd, int base)
{
	int p = lowest_free_port(fd), i;

	for (i = 0; i < 100 && p > base; i++) {
		usleep(10000);
		p = lowest_free_port(fd);
	}
	return p;
}

/*
 * The second lowest free port (two are bound and unbound), given up to a
 * second to come down to @base2 like settled_free_port(): a port kept
 * open above the lowest shows here.
 */
static int settled_second_free_port(int fd, int base2)
{
	int a, b, i;

	for (i = 0; i < 100; i++) {
		if (i)
			usleep(10000);
		a = bind_unbound(fd, 0);
		b = bind_unbound(fd, 0);
		if (a >= 0)
			unbind(fd, a);
		if (b >= 0)
			unbind(fd, b);
		if (a < 0 || b < 0)
			return -1;
		if (base2 < 0 || b <= base2)
			break;
	}
	return b;
}

enum fi_bind { FI_UNBOUND, FI_INTERDOMAIN, FI_INTERDOMAIN_SELF, FI_VIRQ };

static int fi_do_bind(enum fi_bind which, int fd, int remote_port)
{
	switch (which) {
	case FI_UNBOUND:
		return bind_unbound(fd, 0);
	case FI_INTERDOMAIN:
		return bind_interdomain(fd, 0, remote_port);
	case FI_INTERDOMAIN_SELF:
		/* Xen's DOMID_SELF: its status names dom0 by its number. */
		return bind_interdomain(fd, 0x7ff0, remote_port);
	default:
		return bind_virq(fd, VIRQ_TBUF);
	}
}

/*
 * Whether the kernel logged, since the last call, that it left @port open
 * for domain 0: the one port a failed bind keeps, by design (an unbound
 * port whose irq could not be allocated; see README, "Differences").
 */
static int kmsg_fd = -1;

static int kmsg_says_left_open(int port)
{
	char rec[1024], want[64];
	ssize_t len;
	int found = 0;

	snprintf(want, sizeof(want), "port %d for domain 0 left open", port);
	for (;;) {
		len = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* records lost to wrapping: read on */
		if (len <= 0)
			break;
		rec[len] = '\0';
		found |= strstr(rec, want) != NULL;
	}
	return found;
}

static void fault_walk_bind(const char *what, enum fi_bind which)
{
	int fa = open_dev("xt-fi-a"), fb = open_dev("xt-fi-b");
	int remote = bind_unbound(fb, 0);	/* BIND_INTERDOMAIN's other end */
	int base = lowest_free_port(fa), next = base;
	int base2 = settled_second_free_port(fa, -1), next2;
	int n, rc = -1, fired = 1, points = 0, failed = 0, left_open = 0, err = 0;

	for (n = 1; n <= FAIL_NTH_MAX && fired; n++) {
		if (fail_nth_set(n)) {
			err = errno;
			break;
		}
		rc = fi_do_bind(which, fa, remote);
		fired = fail_nth_fired();
		points += fired;
		if (rc >= 0)
			unbind(fa, rc);
		else if (fired)
			failed++;
		else
			break;	/* failed with no fault injected */
		next = settled_free_port(fa, base);
		if (next > base && rc < 0 && which == FI_UNBOUND &&
		    kmsg_says_left_open(base)) {
			left_open++;
			base = next;
			continue;
		}
		if (next < 0 || next > base)
			break;
	}
	report(!err && remote >= 0 && base >= 0, "fault injection set-up",
	       "%s: fail-nth: %s", what, strerror(err));
	report(next >= 0 && next <= base,
	       "a failed bind gives its port back and leaves the file working",
	       "%s, fault %d: the next bind got %d, %d before the walk",
	       what, n, next, base);
	report(!fired && rc >= 0 && failed > 0,
	       "every fault point of a bind walked: each failure an errno",
	       "%s, fault %d: rc %d, fired %d, %d failed", what, n, rc, fired, failed);
	/* Ports left open by design move both marks: compared without them. */
	if (!left_open) {
		next2 = settled_second_free_port(fa, base2);
		report(base2 >= 0 && next2 >= 0 && next2 <= base2,
		       "no port kept open above the lowest free one either",
		       "%s: the second free port is %d, %d before the walk",
		       what, next2, base2);
	}
	printf("# %s: %d fault points, %d failed with an errno, %d left a port open with a warning\n",
	       what, points, failed, left_open);
	close(fa);
	close(fb);
}

/* open() under each fault: an errno or a file that binds. */
static void fault_walk_open(void)
{
	int probe = open_dev("xt-fi-open");
	int base = lowest_free_port(probe), next = base;
	int n, fd = -1, fired = 1, points = 0, failed = 0;

	for (n = 1; n <= FAIL_NTH_MAX && fired; n++) {
		if (fail_nth_set(n))
			break;
		fd = open(DEV, O_RDWR);
		fired = fail_nth_fired();
		points += fired;
		if (fd < 0 && !fired)
			break;
		if (fd < 0) {
			failed++;
			continue;
		}
		next = settled_free_port(fd, base);
		close(fd);
		if (next < 0 || next > base)
			break;
	}
	report(!fired && fd >= 0 && failed > 0 && next >= 0 && next <= base,
	       "open under every fault: an errno or a working file",
	       "fault %d: fd %d, fired %d, next port %d (base %d)", n, fd, fired,
	       next, base);
	printf("# open: %d fault points, %d failed with an errno\n", points, failed);
	close(probe);
}

static int test_fault_injection(void)
{
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fail_nth_fd < 0) {
		printf("FAIL: evtchn: fault injection: /proc/thread-self/fail-nth: %s\n",
		       strerror(errno));
		return 1;
	}
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg_fd < 0 || lseek(kmsg_fd, 0, SEEK_END) < 0) {
		printf("FAIL: evtchn: fault injection: /dev/kmsg: %s\n", strerror(errno));
		return 1;
	}
	fault_walk_open();
	fault_walk_bind("BIND_UNBOUND_PORT", FI_UNBOUND);
	fault_walk_bind("BIND_INTERDOMAIN", FI_INTERDOMAIN);
	fault_walk_bind("BIND_INTERDOMAIN to DOMID_SELF", FI_INTERDOMAIN_SELF);
	fault_walk_bind("BIND_VIRQ", FI_VIRQ);
	close(kmsg_fd);
	close(fail_nth_fd);
	return failures ? 1 : 0;
}

/* One notify round trip: fb -> fa, read, unmask, fa -> fb, read, unmask. */
static void bench_roundtrip(void)
{
	enum { ROUNDS = 2000 };
	int fa = open_dev("xt-rtt-a"), fb = open_dev("xt-rtt-b");
	unsigned int port;
	int a, b, i, ok = 1;
	long t0, dt;

	if (make_pair(fa, fb, &a, &b)) {
		report(0, "round trip setup", NULL);
		goto out;
	}
	t0 = now_us();
	for (i = 0; i < ROUNDS && ok; i++) {
		ok = notify(fb, b) == 0 &&
		     read(fa, &port, 4) == 4 && port == (unsigned int)a &&
		     unmask(fa, a) == 0 && notify(fa, a) == 0 &&
		     read(fb, &port, 4) == 4 && port == (unsigned int)b &&
		     unmask(fb, b) == 0;
	}
	dt = now_us() - t0;
	report(ok, "2000 notify round trips", "failed at round %d", i);
	if (ok)
		printf("METRIC: evtchn notify round trip %.1f us (%d rounds)\n",
		       (double)dt / ROUNDS, ROUNDS);
out:
	close(fa);
	close(fb);
}

/* Guest side of the storm: bind to dom0's port, notify it flat out. */
static int storm_source(unsigned int dom0_port, int secs)
{
	int fd = open(DEV, O_RDWR), port, i;
	long end, sent = 0;

	if (fd < 0) {
		printf("storm: open %s: %s\n", DEV, strerror(errno));
		return 1;
	}
	port = bind_interdomain(fd, 0, dom0_port);
	if (port < 0) {
		printf("storm: bind to dom0 port %u: %s\n", dom0_port,
		       strerror(-port));
		return 1;
	}
	end = now_us() + secs * 1000000L;
	while (now_us() < end) {
		for (i = 0; i < 1000; i++)
			notify(fd, port);
		sent += 1000;
	}
	printf("storm: %ld notifies in %d s\n", sent, secs);
	return 0;
}

/* Dom0 side of the storm: a masked port costs nothing, dom0 stays usable. */
static int storm_sink(int domid, int secs)
{
	const char *comm = "xt-gstorm";
	int fd = open_dev(comm), port, i, ok;
	long before, after, t0, t, worst = 0;
	char cmd[160];

	port = bind_unbound(fd, domid);
	report(port > 0, "bind an unbound port for the guest", "got %d", port);
	if (port <= 0)
		return 1;
	snprintf(cmd, sizeof(cmd),
		 "xenstore-write /local/domain/%d/data/storm-port %d", domid, port);
	report(system(cmd) == 0, "port published in the guest's xenstore", NULL);
	ok = wait_readable(fd, 90000) && read_port(fd) == port;
	report(ok, "the guest's first event arrives", NULL);
	if (!ok)
		return 1;

	/* Left masked while the guest storms: not one more interrupt. */
	before = irq_count(comm, NULL);
	for (t0 = now_us(); now_us() - t0 < secs * 1000000L;) {
		t = now_us();
		usleep(10000);
		t = now_us() - t - 10000;
		if (t > worst)
			worst = t;
	}
	after = irq_count(comm, NULL);
	report(after == before,
	      "a storming guest costs dom0 no interrupt while its port is masked",
	      "%ld interrupts", after - before);
	/*
	 * Worst overruns measured on the slow machine (6.1, 6.12, four runs):
	 * 6 to 111 ms, TCG's own jitter; a bound of 500 ms leaves 2x for a
	 * slower machine and 2x margin.  A dom0 CPU kept busy by the storm
	 * overruns by seconds.
	 */
	report(worst < 500000, "dom0 stays responsive during the storm",
	      "a 10 ms sleep overran by %ld us", worst);
	printf("METRIC: evtchn guest storm: worst 10 ms sleep overrun %ld us\n",
	       worst);

	/* Each write-back lets exactly one more event through. */
	for (i = 0, ok = 1; i < 20 && ok; i++) {
		unmask(fd, port);
		ok = wait_readable(fd, 5000) && read_port(fd) == port;
	}
	t = irq_count(comm, NULL) - after;
	report(ok && t == 20,
	      "during the storm each write-back lets exactly one event through",
	      "%d rounds, %ld interrupts", i, t);
	close(fd);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--storm-source"))
		return storm_source(atoi(argv[2]), atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "--fault-injection")) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return test_fault_injection();
	}
	if (argc == 4 && !strcmp(argv[1], "--storm-sink")) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return storm_sink(atoi(argv[2]), atoi(argv[3]));
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--static=yes"))
			kernel_has_static = 1;
		else if (strcmp(argv[i], "--static=no")) {
			fprintf(stderr, "usage: %s [--static=yes|no]\n"
				"       %s --fault-injection\n"
				"       %s --storm-sink DOMID SECS\n"
				"       %s --storm-source PORT SECS\n",
				argv[0], argv[0], argv[0], argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	test_loopback();
	test_blocking_and_sigio();
	test_overflow_and_reset();
	test_ring_growth();
	test_restrict();
	test_virq();
	test_static();
	test_storm();
	test_release();
	bench_roundtrip();

	return failures ? 1 : 0;
}
