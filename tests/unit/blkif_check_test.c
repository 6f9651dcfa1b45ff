// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test of xen-blkback/request_check.c: hostile and valid blkif
 * requests against a virtual disk's limits, then random requests whose
 * accepted descriptions must stay within the disk.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "request_check.h"

static const struct xdb_disk_limits disk = {
	.sectors = 1 << 20,		/* 512 MiB */
	.block_sectors = 1,
	.max_indirect_segs = 256,
	.discard = true,
};

static struct blkif_request rw(uint8_t op, unsigned int nseg, uint64_t sector)
{
	struct blkif_request r;
	unsigned int i;

	memset(&r, 0, sizeof(r));
	r.operation = op;
	r.u.rw.nr_segments = nseg;
	r.u.rw.id = 0x1234;
	r.u.rw.sector_number = sector;
	for (i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
		r.u.rw.seg[i].gref = 100 + i;
		r.u.rw.seg[i].first_sect = 0;
		r.u.rw.seg[i].last_sect = 7;
	}
	return r;
}

static int check(const struct blkif_request *r,
		 const struct xdb_disk_limits *lim, struct xdb_io *io)
{
	memset(io, 0xa5, sizeof(*io));	/* no field may stay unset */
	return xdb_check_request(r, lim, io);
}

static void test_rw(void)
{
	struct xdb_disk_limits ro = disk, big = disk;
	struct blkif_request r;
	struct xdb_io io;
	int st;

	r = rw(BLKIF_OP_READ, 1, 0);
	st = check(&r, &disk, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.kind == XDB_IO_READ &&
	      io.nr_sectors == 8 && io.id == 0x1234 && io.nr_segs == 1 &&
	      io.nr_indirect_pages == 0, "read of one page accepted");
	r = rw(BLKIF_OP_WRITE, 11, disk.sectors - 88);
	st = check(&r, &disk, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.kind == XDB_IO_WRITE &&
	      io.nr_sectors == 88, "write of 11 pages ending at the disk's end accepted");
	r = rw(BLKIF_OP_WRITE, 11, disk.sectors - 87);
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR,
	      "write one sector past the end refused");
	r = rw(BLKIF_OP_READ, 1, UINT64_MAX - 3);
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR,
	      "read whose extent overflows 64 bits refused");
	big.sectors = UINT64_MAX;
	r = rw(BLKIF_OP_READ, 1, UINT64_MAX - 3);
	CHECK(check(&r, &big, &io) == BLKIF_RSP_ERROR,
	      "read wrapping past 2^64 on a huge disk refused");
	r = rw(BLKIF_OP_READ, 0, 0);
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR,
	      "read of 0 segments refused");
	r = rw(BLKIF_OP_WRITE, 12, 0);
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR,
	      "write of 12 segments refused");
	r = rw(BLKIF_OP_READ, 255, 0);
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR,
	      "read of 255 segments refused");
	r = rw(BLKIF_OP_READ, 2, 0);
	r.u.rw.seg[1].last_sect = 8;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR,
	      "last_sect 8 (past the page) refused");
	r = rw(BLKIF_OP_READ, 2, 0);
	r.u.rw.seg[1].first_sect = 5;
	r.u.rw.seg[1].last_sect = 4;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR,
	      "last_sect < first_sect refused");
	r = rw(BLKIF_OP_READ, 2, 0);
	r.u.rw.seg[0].first_sect = 3;
	r.u.rw.seg[1].last_sect = 0;
	st = check(&r, &disk, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.nr_sectors == 6,
	      "partial segments add up (5 + 1 sectors)");

	ro.readonly = true;
	r = rw(BLKIF_OP_READ, 1, 0);
	CHECK(check(&r, &ro, &io) == BLKIF_RSP_OKAY, "read of a read-only disk accepted");
	r = rw(BLKIF_OP_WRITE, 1, 0);
	CHECK(check(&r, &ro, &io) == BLKIF_RSP_ERROR, "write to a read-only disk refused");
	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	CHECK(check(&r, &ro, &io) == BLKIF_RSP_ERROR, "flush of a read-only disk refused");
	r = rw(BLKIF_OP_WRITE_BARRIER, 1, 0);
	CHECK(check(&r, &ro, &io) == BLKIF_RSP_ERROR, "barrier write to a read-only disk refused");

	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, UINT64_MAX);
	st = check(&r, &disk, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.kind == XDB_IO_FLUSH && io.nr_segs == 0 &&
	      io.sector == 0 && io.nr_sectors == 0,
	      "flush without data accepted, whatever its sector (Linux sends ~0)");
	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 3, 16);
	st = check(&r, &disk, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.nr_sectors == 24,
	      "flush with data (a FUA write) accepted");
	r = rw(BLKIF_OP_WRITE_BARRIER, 1, 0);
	st = check(&r, &disk, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.kind == XDB_IO_BARRIER, "barrier write accepted");
}

static void test_alignment(void)
{
	struct xdb_disk_limits k4 = disk;
	struct blkif_request r;
	struct xdb_io io;

	k4.block_sectors = 8;
	r = rw(BLKIF_OP_READ, 2, 8);
	CHECK(check(&r, &k4, &io) == BLKIF_RSP_OKAY, "4 KiB-sector disk: aligned read accepted");
	r = rw(BLKIF_OP_READ, 1, 1);
	CHECK(check(&r, &k4, &io) == BLKIF_RSP_ERROR, "4 KiB-sector disk: misaligned start refused");
	r = rw(BLKIF_OP_READ, 1, 0);
	r.u.rw.seg[0].last_sect = 3;
	CHECK(check(&r, &k4, &io) == BLKIF_RSP_ERROR, "4 KiB-sector disk: half-block segment refused");
}

static void test_other(void)
{
	struct xdb_disk_limits nod = disk, sec = disk, ro = disk;
	struct blkif_request r;
	struct xdb_io io;
	int st;

	memset(&r, 0, sizeof(r));
	r.operation = 4;		/* reserved */
	r.u.other.id = 77;
	st = check(&r, &disk, &io);
	CHECK(st == BLKIF_RSP_EOPNOTSUPP && io.id == 77 && io.operation == 4,
	      "unknown operation 4: EOPNOTSUPP, id echoed");
	r.operation = 0xff;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_EOPNOTSUPP, "unknown operation 255: EOPNOTSUPP");

	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_DISCARD;
	r.u.discard.id = 9;
	r.u.discard.sector_number = 2048;
	r.u.discard.nr_sectors = 4096;
	r.u.discard.flag = BLKIF_DISCARD_SECURE;
	st = check(&r, &disk, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.kind == XDB_IO_DISCARD && io.id == 9 &&
	      io.nr_sectors == 4096 && !io.secure,
	      "discard accepted; secure flag ignored where not offered");
	sec.secure_discard = true;
	st = check(&r, &sec, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.secure, "secure discard where offered");
	nod.discard = false;
	CHECK(check(&r, &nod, &io) == BLKIF_RSP_EOPNOTSUPP, "discard not offered: EOPNOTSUPP");
	ro.readonly = true;
	CHECK(check(&r, &ro, &io) == BLKIF_RSP_ERROR, "discard on a read-only disk refused");
	nod.readonly = true;
	CHECK(check(&r, &nod, &io) == BLKIF_RSP_ERROR,
	      "discard on a read-only disk without discard: ERROR, as in-tree");
	r.u.discard.nr_sectors = 0;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR, "discard of 0 sectors refused");
	r.u.discard.nr_sectors = UINT64_MAX - 100;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR, "discard overflowing 64 bits refused");
	r.u.discard.sector_number = disk.sectors;
	r.u.discard.nr_sectors = 1;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR, "discard past the end refused");
}

static void test_indirect(void)
{
	struct xdb_disk_limits noind = disk, ro = disk, many = disk;
	struct blkif_request r;
	struct xdb_io io;
	int st;

	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_INDIRECT;
	r.u.indirect.indirect_op = BLKIF_OP_WRITE;
	r.u.indirect.nr_segments = 256;
	r.u.indirect.id = 5;
	r.u.indirect.indirect_grefs[0] = 42;
	st = check(&r, &disk, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.kind == XDB_IO_WRITE && io.nr_segs == 256 &&
	      io.nr_indirect_pages == 1 && io.indirect_grefs[0] == 42 && io.id == 5 &&
	      io.operation == BLKIF_OP_WRITE,
	      "indirect write of 256 segments: one indirect page, answered as a write");
	r.u.indirect.nr_segments = 257;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR, "indirect over the advertised maximum refused");
	many.max_indirect_segs = XDB_MAX_INDIRECT_SEGS;
	r.u.indirect.nr_segments = 513;
	st = check(&r, &many, &io);
	CHECK(st == BLKIF_RSP_OKAY && io.nr_indirect_pages == 2, "513 segments: two indirect pages");
	r.u.indirect.nr_segments = 0xffff;
	CHECK(check(&r, &many, &io) == BLKIF_RSP_ERROR, "65535 segments refused");
	r.u.indirect.nr_segments = 0;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR, "indirect with 0 segments refused");
	r.u.indirect.nr_segments = 8;
	r.u.indirect.indirect_op = BLKIF_OP_FLUSH_DISKCACHE;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR, "indirect wrapping a flush refused");
	r.u.indirect.indirect_op = BLKIF_OP_INDIRECT;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR, "indirect wrapping indirect refused");
	r.u.indirect.indirect_op = BLKIF_OP_DISCARD;
	CHECK(check(&r, &disk, &io) == BLKIF_RSP_ERROR, "indirect wrapping a discard refused");
	r.u.indirect.indirect_op = BLKIF_OP_WRITE;
	ro.readonly = true;
	CHECK(check(&r, &ro, &io) == BLKIF_RSP_ERROR, "indirect write to a read-only disk refused");
	noind.max_indirect_segs = 0;
	CHECK(check(&r, &noind, &io) == BLKIF_RSP_EOPNOTSUPP, "indirect not offered: EOPNOTSUPP");
}

static void test_indirect_segments(void)
{
	struct blkif_request_segment seg[300];
	struct xdb_io io;
	unsigned int i;

	for (i = 0; i < 300; i++) {
		seg[i].gref = i;
		seg[i].first_sect = 0;
		seg[i].last_sect = 7;
	}
	memset(&io, 0, sizeof(io));
	io.nr_segs = 300;
	io.sector = 0;
	CHECK(xdb_check_segments(seg, &disk, &io) == BLKIF_RSP_OKAY &&
	      io.nr_sectors == 2400, "300 fetched segments: 2400 sectors");
	io.sector = disk.sectors - 2399;
	CHECK(xdb_check_segments(seg, &disk, &io) == BLKIF_RSP_ERROR,
	      "fetched segments running past the end refused");
	io.sector = 0;
	seg[299].last_sect = 9;
	CHECK(xdb_check_segments(seg, &disk, &io) == BLKIF_RSP_ERROR,
	      "a bad segment deep in an indirect page refused");
}

/* Random requests: whatever is accepted must lie on the disk. */
static void test_random(void)
{
	struct xdb_disk_limits lim = disk;
	unsigned int i, accepted = 0, bad = 0;
	struct blkif_request r;
	struct xdb_io io;

	srand(1);
	lim.sectors = 4096;
	for (i = 0; i < 200000; i++) {
		unsigned char *p = (unsigned char *)&r;
		unsigned int j;

		for (j = 0; j < sizeof(r); j++)
			p[j] = rand();
		r.operation = rand() % 8;
		if (rand() % 2) {
			/* Plausible values, so that some get through. */
			r.u.rw.nr_segments = rand() % 13;
			r.u.rw.sector_number = rand() % 5000;
			for (j = 0; j < BLKIF_MAX_SEGMENTS_PER_REQUEST; j++) {
				r.u.rw.seg[j].first_sect = rand() % 9;
				r.u.rw.seg[j].last_sect = rand() % 9;
			}
			r.u.discard.nr_sectors = rand() % 5000;
		}
		if (check(&r, &lim, &io) != BLKIF_RSP_OKAY)
			continue;
		accepted++;
		if (io.nr_indirect_pages) {
			if (io.nr_segs == 0 || io.nr_segs > lim.max_indirect_segs ||
			    io.nr_indirect_pages > BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST)
				bad++;
			continue;
		}
		if (io.sector > lim.sectors || io.nr_sectors > lim.sectors - io.sector ||
		    io.nr_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST)
			bad++;
		for (j = 0; j < io.nr_segs && io.kind != XDB_IO_DISCARD; j++)
			if (io.seg[j].last_sect > 7 ||
			    io.seg[j].first_sect > io.seg[j].last_sect)
				bad++;
	}
	CHECK(accepted > 1000 && bad == 0,
	      "200000 random requests: %u accepted, %u outside the disk's limits",
	      accepted, bad);
}

int main(void)
{
	test_rw();
	test_alignment();
	test_other();
	test_indirect();
	test_indirect_segments();
	test_random();
	return unit_failed ? 1 : 0;
}
