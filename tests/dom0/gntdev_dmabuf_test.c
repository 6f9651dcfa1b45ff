// SPDX-License-Identifier: GPL-2.0
/*
 * gntdev_dmabuf_test: the DMABUF ioctls of /dev/xen/gntdev, in dom0,
 * against pages a PV guest granted (tests/guest/gntshare.c):
 *
 *   EXP_FROM_REFS    the guest's grants as a dma-buf; its mmap() reads
 *                    the guest's pages, and a write reaches the guest
 *   EXP_WAIT_RELEASED  ETIMEDOUT while a reference is held, 0 once the
 *                    last one goes, ENOENT after
 *   IMP_TO_REFS      a udmabuf (memfd pages; where /dev/udmabuf exists)
 *                    granted to dom0 itself; gntdev maps those grants and
 *                    sees the memfd's bytes, and the memfd sees writes
 *   IMP_RELEASE      ends the grants; a page still mapped stays intact
 *
 * and every error path; the driver's counters back at the baseline after
 * each.  Usage: gntdev_dmabuf_test DOMID.  Prints "PASS: gntdev-dmabuf:
 * ..." / "FAIL: ..." lines; exits 1 on a FAIL.
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
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/udmabuf.h>

/* The UAPI headers expect these from the includer. */
typedef uint16_t domid_t;
typedef uint32_t grant_ref_t;
#include <xen/gntdev.h>

#define CHECK_AREA "gntdev-dmabuf"
#include "check.h"
#include "gntdev_stats.h"
#include "gntshare.h"

#define DEV		"/dev/xen/gntdev"
#define LIMIT		"/sys/module/xen_gntdev/parameters/limit"
#define BAD_REF		0x7fffffffu	/* beyond any grant table */
#define NEXP		8		/* guest pages exported */
#define NIMP		4		/* memfd pages imported */

static int pv;			/* PV dom0: user + kernel mapping per page */

static void expect_errno(const char *what, int rc, int want)
{
	report(rc == -want, what, "got %s (%d), want %s",
	       rc < 0 ? strerror(-rc) : "success", rc, strerror(want));
}

/* ---- debugfs counters ---- */

static struct stats base;

/* The counters equal the baseline plus @dmaps, @dmapped, within 3 s. */
static void expect_stats(const char *what, long dmaps, long dmapped)
{
	struct stats s = { -1, -1, -1 };

	for (int i = 0; i < 60; i++) {
		if (!stats_read(&s) && s.maps == base.maps + dmaps &&
		    s.mapped == base.mapped + dmapped)
			break;
		usleep(50000);
	}
	report(s.maps == base.maps + dmaps && s.mapped == base.mapped + dmapped,
	       what, "maps %+ld, grant_mappings %+ld; want %+ld, %+ld",
	       s.maps - base.maps, s.mapped - base.mapped, dmaps, dmapped);
}

/* The imports held past their release are the baseline plus @d, within 3 s. */
static void expect_held(const char *what, long d)
{
	struct stats s = { -1, -1, -1 };

	for (int i = 0; i < 60; i++) {
		if (!stats_read(&s) && s.imp_held == base.imp_held + d)
			break;
		usleep(50000);
	}
	report(s.imp_held == base.imp_held + d, what,
	       "dmabuf_imports_held %+ld; want %+ld", s.imp_held - base.imp_held, d);
}

/* ---- the ioctls ---- */

/* EXP_FROM_REFS of @n refs of domain @dom; the dma-buf's fd, or -errno. */
static int export_refs(int fd, uint32_t flags, uint32_t dom,
		       const uint32_t *r, unsigned int n)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs *op;
	int rc;

	op = calloc(1, sizeof(*op) + n * sizeof(op->refs[0]));
	if (!op)
		return -ENOMEM;
	op->flags = flags;
	op->count = n;
	op->domid = dom;
	memcpy(op->refs, r, n * sizeof(op->refs[0]));
	rc = xioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, op);
	if (!rc)
		rc = op->fd;
	free(op);
	return rc;
}

static int wait_released(int fd, int buf, uint32_t ms)
{
	struct ioctl_gntdev_dmabuf_exp_wait_released op = {
		.fd = buf, .wait_to_ms = ms,
	};

	return xioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_WAIT_RELEASED, &op);
}

/* IMP_TO_REFS of dma-buf @buf's @n pages for @dom, refs into @r. */
static int import_buf(int fd, int buf, uint32_t dom, unsigned int n,
		      uint32_t reserved, uint32_t *r)
{
	struct ioctl_gntdev_dmabuf_imp_to_refs *op;
	int rc;

	op = calloc(1, sizeof(*op) + n * sizeof(op->refs[0]));
	if (!op)
		return -ENOMEM;
	op->fd = buf;
	op->count = n;
	op->domid = dom;
	op->reserved = reserved;
	rc = xioctl(fd, IOCTL_GNTDEV_DMABUF_IMP_TO_REFS, op);
	if (!rc && r)
		memcpy(r, op->refs, n * sizeof(op->refs[0]));
	free(op);
	return rc;
}

static int import_release(int fd, int buf, uint32_t reserved)
{
	struct ioctl_gntdev_dmabuf_imp_release op = {
		.fd = buf, .reserved = reserved,
	};

	return xioctl(fd, IOCTL_GNTDEV_DMABUF_IMP_RELEASE, &op);
}

/* MAP_GRANT_REF of @n grants of @dom and mmap() read-write; NULL on error. */
static uint8_t *gntdev_map(int fd, uint32_t dom, const uint32_t *r,
			   unsigned int n, uint64_t *index)
{
	struct ioctl_gntdev_map_grant_ref *op;
	uint8_t *p = NULL;

	op = calloc(1, sizeof(*op) + n * sizeof(op->refs[0]));
	if (!op)
		return NULL;
	op->count = n;
	for (unsigned int i = 0; i < n; i++) {
		op->refs[i].domid = dom;
		op->refs[i].ref = r[i];
	}
	if (!xioctl(fd, IOCTL_GNTDEV_MAP_GRANT_REF, op)) {
		*index = op->index;
		p = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, op->index);
		if (p == MAP_FAILED)
			p = NULL;
	}
	free(op);
	return p;
}

static void gntdev_unmap(int fd, uint8_t *p, uint64_t index, unsigned int n)
{
	struct ioctl_gntdev_unmap_grant_ref op = { .index = index, .count = n };

	munmap(p, (size_t)n * PAGE);
	xioctl(fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &op);
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

/* Guest pages [0, n) hold their base pattern at @p; else 0 and why. */
static int is_base(const uint8_t *p, unsigned int n, char *why, size_t len)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = 0; j < PAGE; j++)
			if (p[(size_t)i * PAGE + j] != base_byte(i, j)) {
				snprintf(why, len, "page %u byte %u is 0x%02x, want 0x%02x",
					 i, j, p[(size_t)i * PAGE + j], base_byte(i, j));
				return 0;
			}
	return 1;
}

/* ---- export ---- */

static void test_export(void)
{
	int fd = open_dev(), buf, rc;
	char why[160] = "";
	uint8_t *p, *q;
	double t;
	pid_t pid;

	buf = export_refs(fd, 0, domid, refs, NEXP);
	report(buf >= 0, "EXP_FROM_REFS of 8 of the guest's grants gives a dma-buf fd",
	       "%s", strerror(-buf));
	if (buf < 0) {
		close(fd);
		return;
	}
	report(fcntl(buf, F_GETFD) == FD_CLOEXEC, "the dma-buf fd is close-on-exec",
	       NULL);
	expect_stats("the export maps the grants for the kernel only", 1, NEXP);

	p = mmap(NULL, NEXP * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, buf, 0);
	report(p != MAP_FAILED, "mmap of the dma-buf", "%s", strerror(errno));
	if (p != MAP_FAILED) {
		expect_stats("the mmap adds the user mappings", 1,
			     NEXP * (pv ? 2 : 1));
		report(is_base(p, NEXP, why, sizeof(why)),
		       "the dma-buf reads the guest's pages", "%s", why);
		for (unsigned int j = 0; j < PAGE; j++)
			p[3 * PAGE + j] = dom0_byte(71, j);
		guest_check("a write through the dma-buf reaches the guest",
			    "check 3 71 0 %u", PAGE);
		guest("fill");
		q = mmap(NULL, NEXP * PAGE, PROT_READ, MAP_SHARED, buf, 0);
		report(q == MAP_FAILED && errno == EINVAL,
		       "a second mmap of the dma-buf is refused (EINVAL)",
		       "%s", q == MAP_FAILED ? strerror(errno) : "it worked");
		if (q != MAP_FAILED)
			munmap(q, NEXP * PAGE);
	}

	t = now();
	rc = wait_released(fd, buf, 300);
	expect_errno("EXP_WAIT_RELEASED while the fd is open times out", rc,
		     ETIMEDOUT);
	report(now() - t >= 0.25, "after waiting the time asked", "%.2f s",
	       now() - t);

	/* A child keeps the last reference for a while: its copy of the fd. */
	pid = fork();
	if (pid == 0) {
		usleep(500000);
		_exit(0);
	}
	if (p != MAP_FAILED)
		munmap(p, NEXP * PAGE);
	close(buf);
	expect_stats("the fd's holders keep the export mapped", 1, NEXP);
	t = now();
	rc = wait_released(fd, buf, 10000);
	report(rc == 0 && now() - t > 0.2,
	       "EXP_WAIT_RELEASED of the closed fd returns once the last holder exits",
	       "got %d after %.2f s", rc, now() - t);
	waitpid(pid, NULL, 0);
	expect_stats("the released dma-buf unmaps its grants", 0, 0);
	expect_errno("EXP_WAIT_RELEASED after the release", wait_released(fd, buf, 100),
		     ENOENT);

	/* Closing the gntdev file first: the dma-buf lives on. */
	buf = export_refs(fd, 0, domid, refs + 8, 4);
	close(fd);
	p = buf < 0 ? MAP_FAILED : mmap(NULL, 4 * PAGE, PROT_READ, MAP_SHARED, buf, 0);
	report(p != MAP_FAILED && p[0] == base_byte(8, 0) &&
	       p[4 * PAGE - 1] == base_byte(11, PAGE - 1),
	       "an export outlives the gntdev file it came from", "%s",
	       p == MAP_FAILED ? strerror(errno) : "reads wrong");
	if (p != MAP_FAILED)
		munmap(p, 4 * PAGE);
	if (buf >= 0)
		close(buf);
	expect_stats("and lets go when closed", 0, 0);
}

#define TAINTED	"/proc/sys/kernel/tainted"

/*
 * With the limit raised by the administrator, an export whose refs cannot
 * be allocated at all (2^30 of them: 4 GiB) is ENOMEM, without a kernel
 * warning (taint W, 512).  Only the header is passed: the kernel must
 * fail before it reads any ref.
 */
static void huge_export(int fd)
{
	struct ioctl_gntdev_dmabuf_exp_from_refs op = {
		.count = 1U << 30, .domid = domid,
	};
	unsigned int limit = 0;
	long t0 = read_long(TAINTED);
	FILE *f = fopen(LIMIT, "r+");
	int rc, restored;

	if (!f || fscanf(f, "%u", &limit) != 1 || fseek(f, 0, SEEK_SET) ||
	    fprintf(f, "%u\n", 0xffffffffU) < 0 || fflush(f)) {
		report(0, "raise the limit for a huge export", "%s", strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	rc = xioctl(fd, IOCTL_GNTDEV_DMABUF_EXP_FROM_REFS, &op);
	restored = !fseek(f, 0, SEEK_SET) && fprintf(f, "%u\n", limit) > 0 &&
		   !fclose(f);
	report(restored, "the limit restored", "%s", strerror(errno));
	expect_errno("EXP_FROM_REFS of 2^30 refs under a raised limit", rc, ENOMEM);
	/* An earlier warning hides this one; 99-dom0-kernel-log fails on it. */
	if (t0 >= 0 && (t0 & 512))
		printf("# gntdev-dmabuf: the kernel had warned before: no taint check\n");
	else
		report(t0 >= 0 && !(read_long(TAINTED) & 512),
		       "and the kernel did not warn about it",
		       "taint %ld before, %ld after", t0, read_long(TAINTED));
}

static void test_export_errors(void)
{
	int fd = open_dev(), buf;
	uint32_t bad[2] = { refs[0], BAD_REF };
	unsigned int limit = 0;
	FILE *f = fopen(LIMIT, "r");

	if (!f || fscanf(f, "%u", &limit) != 1)
		limit = 65536;
	if (f)
		fclose(f);
	expect_errno("EXP_FROM_REFS with GNTDEV_DMA_FLAG_WC (not honoured)",
		     export_refs(fd, GNTDEV_DMA_FLAG_WC, domid, refs, 1), EINVAL);
	expect_errno("EXP_FROM_REFS with GNTDEV_DMA_FLAG_COHERENT (not honoured)",
		     export_refs(fd, GNTDEV_DMA_FLAG_COHERENT, domid, refs, 1),
		     EINVAL);
	expect_errno("EXP_FROM_REFS with an undefined flag",
		     export_refs(fd, 1 << 2, domid, refs, 1), EINVAL);
	expect_errno("EXP_FROM_REFS of 0 refs", export_refs(fd, 0, domid, refs, 0),
		     EINVAL);
	{
		int rc = export_refs(fd, 0, domid | 0x10000, refs, 1);

		expect_errno("EXP_FROM_REFS of a domain id above 16 bits (in-tree: truncated)",
			     rc, EINVAL);
		if (rc >= 0)
			close(rc);
	}
	{
		uint32_t *many = calloc(limit + 1, sizeof(*many));

		for (unsigned int i = 0; many && i <= limit; i++)
			many[i] = refs[i % npages];
		expect_errno("EXP_FROM_REFS of more refs than the limit",
			     many ? export_refs(fd, 0, domid, many, limit + 1) :
			     -ENOMEM, EINVAL);
		free(many);
	}
	expect_errno("EXP_FROM_REFS with a bad ref", export_refs(fd, 0, domid, bad, 2),
		     EINVAL);
	expect_errno("EXP_FROM_REFS of a domain that does not exist",
		     export_refs(fd, 0, 32000, refs, 1), EINVAL);
	huge_export(fd);
	expect_stats("failed exports hold nothing", 0, 0);

	expect_errno("EXP_WAIT_RELEASED of an fd never exported",
		     wait_released(fd, 999, 100), ENOENT);
	expect_errno("EXP_WAIT_RELEASED of the gntdev fd itself",
		     wait_released(fd, fd, 100), ENOENT);
	/* Another file's export is not this file's to wait for. */
	{
		int other = open_dev();

		buf = export_refs(other, 0, domid, refs, 1);
		expect_errno("EXP_WAIT_RELEASED of another file's export",
			     buf < 0 ? buf : wait_released(fd, buf, 100), ENOENT);
		if (buf >= 0)
			close(buf);
		close(other);
	}
	close(fd);
	expect_stats("and the counters are back", 0, 0);
}

/* ---- import ---- */

/* A udmabuf of @n pages of a fresh memfd, mapped at *mem; -errno if none. */
static int make_udmabuf(unsigned int n, int *memfd, uint8_t **mem)
{
	struct udmabuf_create c = { .flags = UDMABUF_FLAGS_CLOEXEC };
	int dev, buf;

	*memfd = memfd_create("gntdev-dmabuf", MFD_ALLOW_SEALING);
	if (*memfd < 0 || ftruncate(*memfd, (off_t)n * PAGE) ||
	    fcntl(*memfd, F_ADD_SEALS, F_SEAL_SHRINK))
		return -errno;
	*mem = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    *memfd, 0);
	if (*mem == MAP_FAILED)
		return -errno;
	for (unsigned int i = 0; i < n * PAGE; i++)
		(*mem)[i] = dom0_byte(90 + i / PAGE, i % PAGE);
	dev = open("/dev/udmabuf", O_RDWR);
	if (dev < 0)
		return -errno;
	c.memfd = *memfd;
	c.size = (uint64_t)n * PAGE;
	buf = xioctl(dev, UDMABUF_CREATE, &c);
	close(dev);
	return buf;
}

/* Close udmabuf @buf and its memfd, mapped at @mem (nothing if @buf < 0). */
static void free_udmabuf(int buf, int memfd, uint8_t *mem)
{
	if (buf < 0)
		return;
	close(buf);
	munmap(mem, NIMP * PAGE);
	close(memfd);
}

static void test_import(void)
{
	int fd = open_dev(), memfd = -1, buf, rc, ok;
	uint32_t r[NIMP];
	uint8_t *mem = NULL, *p;
	uint64_t index;

	buf = make_udmabuf(NIMP, &memfd, &mem);
	if (buf == -ENOENT) {
		printf("# no /dev/udmabuf in this kernel: the import of a "
		       "udmabuf is not tested here\n");
		close(fd);
		return;
	}
	report(buf >= 0, "a udmabuf of 4 memfd pages", "%s", strerror(-buf));
	if (buf < 0) {
		close(fd);
		return;
	}
	rc = import_buf(fd, buf, 0, NIMP, 0, r);
	report(rc == 0, "IMP_TO_REFS of the udmabuf, granted to dom0", "%s",
	       strerror(-rc));
	if (rc) {
		close(fd);
		return;
	}
	p = gntdev_map(fd, 0, r, NIMP, &index);
	report(p != NULL, "gntdev maps the grants IMP_TO_REFS gave", "%s",
	       strerror(errno));
	if (p) {
		report(!memcmp(p, mem, NIMP * PAGE),
		       "they show the memfd's bytes", NULL);
		uint8_t want = dom0_byte(92, 5) ^ 0xff;

		p[2 * PAGE + 5] = want;
		report(mem[2 * PAGE + 5] == want,
		       "a write through the grant reaches the memfd", NULL);
		p[2 * PAGE + 5] = dom0_byte(92, 5);
	}

	/* Release while dom0 still maps a grant: the page must stay intact. */
	rc = import_release(fd, buf, 0);
	report(rc == 0, "IMP_RELEASE while the grants are still mapped", "%s",
	       strerror(-rc));
	if (p)
		expect_held("the released import is held while mapped", 1);
	close(buf);
	munmap(mem, NIMP * PAGE);
	close(memfd);
	if (p) {
		ok = 1;
		for (unsigned int i = 0; i < NIMP * PAGE; i++)
			if (p[i] != dom0_byte(90 + i / PAGE, i % PAGE))
				ok = 0;
		report(ok, "the pages stay intact while mapped, with the memfd "
		       "and udmabuf gone", NULL);
		gntdev_unmap(fd, p, index, NIMP);
		expect_held("the held import ends once unmapped", 0);
	}
	expect_errno("IMP_RELEASE of a buffer no longer imported",
		     import_release(fd, buf, 0), ENOENT);
	close(fd);
	expect_stats("the import and its mappings hold nothing", 0, 0);
}

/*
 * An import and an export are named by their fd's number once that fd is
 * closed, also when the number has been reused for a dma-buf that is
 * neither (in-tree names them by number alone).
 */
static void test_fd_reused(void)
{
	int fd = open_dev(), memfd, memfd2, buf, other, exp, keep, rc;
	uint8_t *mem, *mem2;
	uint32_t r[NIMP];

	buf = make_udmabuf(NIMP, &memfd, &mem);
	other = make_udmabuf(NIMP, &memfd2, &mem2);
	if (buf < 0 || other < 0) {
		printf("# no two udmabufs: fd reuse is not tested here\n");
		goto out;
	}
	rc = import_buf(fd, buf, domid, NIMP, 0, r);
	report(rc == 0, "IMP_TO_REFS of a udmabuf, granted to the guest", "%s",
	       strerror(-rc));
	/* Closes the imported fd and gives its number to the other buffer. */
	if (!rc && dup2(other, buf) == buf) {
		rc = import_release(fd, buf, 0);
		report(rc == 0,
		       "IMP_RELEASE by the number of an fd reused for another dma-buf",
		       "%s", strerror(-rc));
	}

	/* A copy of the fd keeps the export alive: the wait must time out. */
	exp = export_refs(fd, 0, domid, refs, NIMP);
	report(exp >= 0, "an export", "%s", strerror(-exp));
	keep = exp >= 0 ? dup(exp) : -1;
	if (keep >= 0 && dup2(other, exp) == exp) {
		expect_errno("EXP_WAIT_RELEASED by the number of an fd reused for another dma-buf finds the export, still held",
			     wait_released(fd, exp, 300), ETIMEDOUT);
		close(exp);
	}
	if (keep >= 0)
		close(keep);
out:
	free_udmabuf(buf, memfd, mem);
	free_udmabuf(other, memfd2, mem2);
	close(fd);
	expect_stats("the reused numbers' import and export hold nothing", 0, 0);
	expect_held("nothing is held after them", 0);
}

/* Errors of IMP_TO_REFS and IMP_RELEASE; an export is the dma-buf. */
static void test_import_errors(void)
{
	int fd = open_dev(), buf, memfd = memfd_create("x", 0);
	uint32_t r[NIMP];
	uint8_t *mem = NULL;

	expect_errno("IMP_TO_REFS of a closed fd", import_buf(fd, 999, 0, 1, 0, r),
		     EBADF);
	expect_errno("IMP_TO_REFS of an fd that is no dma-buf",
		     import_buf(fd, memfd, 0, 1, 0, r), EINVAL);
	buf = export_refs(fd, 0, domid, refs, NIMP);
	report(buf >= 0, "an export to import", "%s", strerror(-buf));
	expect_errno("IMP_TO_REFS of 0 pages", import_buf(fd, buf, 0, 0, 0, r),
		     EINVAL);
	expect_errno("IMP_TO_REFS of fewer pages than the buffer has",
		     import_buf(fd, buf, 0, NIMP - 1, 0, r), EINVAL);
	expect_errno("IMP_TO_REFS of more pages than the buffer has",
		     import_buf(fd, buf, 0, NIMP + 1, 0, r), EINVAL);
	expect_errno("IMP_TO_REFS with reserved set",
		     import_buf(fd, buf, 0, NIMP, 1, r), EINVAL);
	expect_errno("IMP_TO_REFS for a reserved domain id (DOMID_SELF)",
		     import_buf(fd, buf, 0x7ff0, NIMP, 0, r), EINVAL);
	expect_errno("IMP_RELEASE of a buffer never imported",
		     import_release(fd, buf, 0), ENOENT);
	expect_errno("IMP_RELEASE with reserved set",
		     import_release(fd, buf, 1), EINVAL);
	/*
	 * A PV dom0 cannot grant what it maps of another domain: importing
	 * an export of the guest's own grants is refused (the frames named
	 * by the mapping are the guest's, or swiotlb's had it bounced them).
	 */
	if (pv)
		expect_errno("IMP_TO_REFS of an export (the guest's frames) on PV",
			     import_buf(fd, buf, domid, NIMP, 0, r), EOPNOTSUPP);
	if (buf >= 0)
		close(buf);
	close(memfd);
	/* An import left to close(): the file's release ends it. */
	buf = make_udmabuf(NIMP, &memfd, &mem);
	if (buf >= 0) {
		report(!import_buf(fd, buf, domid, NIMP, 0, r),
		       "IMP_TO_REFS of a udmabuf, granted to the guest", NULL);
		free_udmabuf(buf, memfd, mem);
	}
	close(fd);
	expect_stats("close ends the import and the export goes", 0, 0);
	expect_held("nothing is held after the close", 0);
}

int main(int argc, char **argv)
{
	char buf[16];
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DOMID\n", argv[0]);
		return 2;
	}
	domid = strtoul(argv[1], NULL, 10);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(STATS, R_OK))
		mount("none", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (stats_read(&base)) {
		printf("FAIL: " CHECK_AREA ": read %s: %s\n", STATS, strerror(errno));
		return 1;
	}
	f = fopen("/sys/hypervisor/guest_type", "r");
	pv = !f || (fgets(buf, sizeof(buf), f) && !strncmp(buf, "PV", 2));
	if (f)
		fclose(f);
	if (gntshare_read(32))
		return 1;

	test_export();
	test_export_errors();
	test_import();
	test_import_errors();
	test_fd_reused();

	guest_send("done");
	expect_stats("at the end the counters are back to the baseline", 0, 0);
	return failures ? 1 : 0;
}
