// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for xen-blkback/request_check.c, built as it is: a
 * virtual disk and a native-layout request come from the input (see
 * fuzz.h).  What the validator accepts must be an I/O the disk can take,
 * what it refuses must be invalid, and its answer must name the request.
 */
#include <string.h>

#include "fuzz.h"
#include "request_check.h"

#define SECTORS_PER_PAGE	(4096 / 512)

/* The limits as xenbus.c and params.c would set them. */
static void limits(const struct fz_blk_hdr *h, struct xdb_disk_limits *lim)
{
	unsigned int n = h->max_indirect_segs;

	memset(lim, 0, sizeof(*lim));
	lim->sectors = h->sectors;
	lim->block_sectors = 1u << (h->block_shift % 4);
	/* xdb_indirect_limit(): 11 or less turns indirect requests off. */
	if (n <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
		n = 0;
	if (n > XDB_MAX_INDIRECT_SEGS)
		n = XDB_MAX_INDIRECT_SEGS;
	lim->max_indirect_segs = n;
	lim->readonly = h->flags & FZ_BLK_READONLY;
	lim->discard = h->flags & FZ_BLK_DISCARD;
	lim->secure_discard = h->flags & FZ_BLK_SECURE;
}

/*
 * The rule, written independently of the validator: every segment inside
 * its page and whole logical blocks, the extent aligned and on the disk.
 */
static bool extent_ok(const struct blkif_request_segment *seg,
		      unsigned int nr, u64 sector,
		      const struct xdb_disk_limits *lim, u64 *total)
{
	unsigned int bs = lim->block_sectors, i;
	bool ok = sector % bs == 0;

	*total = 0;
	for (i = 0; i < nr; i++) {
		unsigned int first = seg[i].first_sect, last = seg[i].last_sect;

		if (last >= SECTORS_PER_PAGE || first > last ||
		    first % bs || (last + 1) % bs)
			return false;
		*total += last - first + 1;
	}
	return ok && sector <= lim->sectors && *total <= lim->sectors - sector;
}

static void check_accepted_extent(const struct blkif_request_segment *seg,
				  const struct xdb_disk_limits *lim,
				  const struct xdb_io *io)
{
	unsigned int i;
	u64 total;

	for (i = 0; i < io->nr_segs; i++)
		FUZZ_CHECK(seg[i].last_sect < SECTORS_PER_PAGE &&
			   seg[i].first_sect <= seg[i].last_sect,
			   "accepted segment %u is not inside its page (%u..%u)",
			   i, seg[i].first_sect, seg[i].last_sect);
	FUZZ_CHECK(extent_ok(seg, io->nr_segs, io->sector, lim, &total),
		   "accepted extent %llu+%llu is not on a %llu-sector disk in whole blocks",
		   (unsigned long long)io->sector,
		   (unsigned long long)io->nr_sectors,
		   (unsigned long long)lim->sectors);
	FUZZ_CHECK(total == io->nr_sectors,
		   "segments add up to %llu sectors, io says %llu",
		   (unsigned long long)total,
		   (unsigned long long)io->nr_sectors);
}

/* The response must carry the id and operation the frontend matches. */
static void check_echo(const struct blkif_request *req, const struct xdb_io *io)
{
	u64 id = req->u.other.id;
	u8 op = req->operation;

	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		id = req->u.rw.id;
		break;
	case BLKIF_OP_DISCARD:
		id = req->u.discard.id;
		break;
	case BLKIF_OP_INDIRECT:
		id = req->u.indirect.id;
		op = req->u.indirect.indirect_op;
		break;
	}
	FUZZ_CHECK(io->id == id && io->operation == op,
		   "response id/operation %llx/%u, request's %llx/%u",
		   (unsigned long long)io->id, io->operation,
		   (unsigned long long)id, op);
}

static void check_rw(const struct blkif_request *req,
		     const struct xdb_disk_limits *lim,
		     const struct xdb_io *io, int st)
{
	static const enum xdb_io_kind kinds[] = {
		[BLKIF_OP_READ] = XDB_IO_READ,
		[BLKIF_OP_WRITE] = XDB_IO_WRITE,
		[BLKIF_OP_WRITE_BARRIER] = XDB_IO_BARRIER,
		[BLKIF_OP_FLUSH_DISKCACHE] = XDB_IO_FLUSH,
	};
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	enum xdb_io_kind kind = kinds[req->operation];
	unsigned int n = req->u.rw.nr_segments, i;
	u64 total;

	/* An aligned copy: the request is packed. */
	memcpy(seg, req->u.rw.seg, sizeof(seg));
	if (st != BLKIF_RSP_OKAY) {
		/* Refused: something about it must be wrong. */
		FUZZ_CHECK((lim->readonly && kind != XDB_IO_READ) ||
			   n > BLKIF_MAX_SEGMENTS_PER_REQUEST ||
			   (n == 0 && (kind == XDB_IO_READ || kind == XDB_IO_WRITE)) ||
			   (n && !extent_ok(seg, n,
					    req->u.rw.sector_number, lim, &total)),
			   "a valid op %u request of %u segments at %llu refused",
			   req->operation, n,
			   (unsigned long long)req->u.rw.sector_number);
		return;
	}
	FUZZ_CHECK(io->kind == kind, "op %u accepted as kind %d",
		   req->operation, io->kind);
	FUZZ_CHECK(!lim->readonly || kind == XDB_IO_READ,
		   "op %u accepted on a read-only disk", req->operation);
	FUZZ_CHECK(io->nr_segs == n && n <= BLKIF_MAX_SEGMENTS_PER_REQUEST &&
		   io->nr_indirect_pages == 0 && !io->secure,
		   "accepted %u segments as %u (%u indirect pages)",
		   n, io->nr_segs, io->nr_indirect_pages);
	if (n == 0) {
		FUZZ_CHECK(kind == XDB_IO_FLUSH || kind == XDB_IO_BARRIER,
			   "op %u without data accepted", req->operation);
		FUZZ_CHECK(io->sector == 0 && io->nr_sectors == 0,
			   "flush without data has an extent");
		return;
	}
	FUZZ_CHECK(io->sector == req->u.rw.sector_number,
		   "sector changed on the way");
	/* The I/O uses io->seg: it must be the request's, unchanged. */
	for (i = 0; i < n; i++)
		FUZZ_CHECK(!memcmp(&io->seg[i], &seg[i], sizeof(seg[i])),
			   "segment %u changed on the way", i);
	check_accepted_extent(io->seg, lim, io);
}

static void check_discard(const struct blkif_request *req,
			  const struct xdb_disk_limits *lim,
			  const struct xdb_io *io, int st)
{
	u64 sector = req->u.discard.sector_number;
	u64 n = req->u.discard.nr_sectors;
	unsigned int bs = lim->block_sectors;
	bool valid = n && sector <= lim->sectors && n <= lim->sectors - sector &&
		     sector % bs == 0 && n % bs == 0;

	/* As in-tree: a read-only disk refuses with ERROR, offered or not. */
	FUZZ_CHECK((st == BLKIF_RSP_EOPNOTSUPP) == (!lim->discard && !lim->readonly),
		   "discard answered %d where %s%s", st,
		   lim->discard ? "offered" : "not offered",
		   lim->readonly ? ", read-only" : "");
	if (st != BLKIF_RSP_OKAY) {
		FUZZ_CHECK(!lim->discard || lim->readonly || !valid,
			   "a valid discard of %llu+%llu refused",
			   (unsigned long long)sector, (unsigned long long)n);
		return;
	}
	FUZZ_CHECK(!lim->readonly, "discard accepted on a read-only disk");
	FUZZ_CHECK(valid && io->kind == XDB_IO_DISCARD &&
		   io->sector == sector && io->nr_sectors == n &&
		   io->nr_segs == 0 && io->nr_indirect_pages == 0,
		   "accepted discard %llu+%llu is not on the disk in whole blocks",
		   (unsigned long long)sector, (unsigned long long)n);
	FUZZ_CHECK(io->secure == (lim->secure_discard &&
				  (req->u.discard.flag & BLKIF_DISCARD_SECURE)),
		   "secure erase %d where offered %d, asked %d", io->secure,
		   lim->secure_discard, req->u.discard.flag);
}

/* The segments of an accepted indirect request, from the input's tail. */
static void check_indirect_segs(const struct xdb_disk_limits *lim,
				const struct xdb_io *accepted,
				const u8 *data, size_t size)
{
	struct blkif_request_segment *seg;
	size_t len = accepted->nr_segs * sizeof(*seg);
	struct xdb_io io = *accepted;
	u64 total;
	int st;

	/* Exactly nr_segs on the heap, so ASan sees any read past them. */
	seg = calloc(accepted->nr_segs, sizeof(*seg));
	if (!seg)
		abort();
	memcpy(seg, data, size < len ? size : len);
	st = xdb_check_segments(seg, lim, &io);
	FUZZ_CHECK(st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR,
		   "indirect segments answered %d", st);
	FUZZ_CHECK(io.nr_segs == accepted->nr_segs &&
		   io.sector == accepted->sector,
		   "segment check changed the request");
	if (st == BLKIF_RSP_OKAY)
		check_accepted_extent(seg, lim, &io);
	else
		FUZZ_CHECK(!extent_ok(seg, io.nr_segs, io.sector, lim, &total),
			   "valid indirect segments refused");
	free(seg);
}

static void check_indirect(const struct blkif_request *req,
			   const struct xdb_disk_limits *lim,
			   const struct xdb_io *io, int st,
			   const u8 *rest, size_t rest_size)
{
	unsigned int op = req->u.indirect.indirect_op;
	unsigned int n = req->u.indirect.nr_segments, i;
	bool data = op == BLKIF_OP_READ || op == BLKIF_OP_WRITE;

	/* Not offered: EOPNOTSUPP, unless the wrapped operation is bad anyway. */
	FUZZ_CHECK((st == BLKIF_RSP_EOPNOTSUPP) ==
		   (lim->max_indirect_segs == 0 && data),
		   "indirect op %u answered %d, max_indirect_segs %u",
		   op, st, lim->max_indirect_segs);
	if (st != BLKIF_RSP_OKAY) {
		FUZZ_CHECK(!data || n == 0 || n > lim->max_indirect_segs ||
			   (lim->readonly && op != BLKIF_OP_READ),
			   "a valid indirect op %u of %u segments refused", op, n);
		return;
	}
	FUZZ_CHECK(data && io->kind == (op == BLKIF_OP_READ ? XDB_IO_READ :
					XDB_IO_WRITE),
		   "indirect op %u accepted as kind %d", op, io->kind);
	FUZZ_CHECK(!lim->readonly || op == BLKIF_OP_READ,
		   "indirect write accepted on a read-only disk");
	FUZZ_CHECK(io->nr_segs == n && n >= 1 && n <= lim->max_indirect_segs &&
		   n <= XDB_MAX_INDIRECT_SEGS,
		   "indirect of %u segments accepted as %u (limit %u)",
		   n, io->nr_segs, lim->max_indirect_segs);
	FUZZ_CHECK(io->nr_indirect_pages ==
		   (n + XDB_SEGS_PER_INDIRECT_PAGE - 1) / XDB_SEGS_PER_INDIRECT_PAGE &&
		   io->nr_indirect_pages <= BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
		   "%u segments in %u indirect pages", n, io->nr_indirect_pages);
	FUZZ_CHECK(io->sector == req->u.indirect.sector_number,
		   "sector changed on the way");
	for (i = 0; i < io->nr_indirect_pages; i++)
		FUZZ_CHECK(io->indirect_grefs[i] == req->u.indirect.indirect_grefs[i],
			   "indirect gref %u changed on the way", i);
	check_indirect_segs(lim, io, rest, rest_size);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct xdb_disk_limits lim;
	struct blkif_request req;
	struct fz_blk_hdr h;
	struct xdb_io io;
	size_t head = sizeof(h) + sizeof(req);
	int st;

	if (size < head)
		return 0;
	memcpy(&h, data, sizeof(h));
	memcpy(&req, data + sizeof(h), sizeof(req));
	limits(&h, &lim);

	memset(&io, 0xa5, sizeof(io));	/* no field may stay unset */
	st = xdb_check_request(&req, &lim, &io);
	FUZZ_CHECK(st == BLKIF_RSP_OKAY || st == BLKIF_RSP_ERROR ||
		   st == BLKIF_RSP_EOPNOTSUPP, "status %d", st);
	check_echo(&req, &io);

	switch (req.operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		FUZZ_CHECK(st != BLKIF_RSP_EOPNOTSUPP, "op %u EOPNOTSUPP",
			   req.operation);
		check_rw(&req, &lim, &io, st);
		break;
	case BLKIF_OP_DISCARD:
		check_discard(&req, &lim, &io, st);
		break;
	case BLKIF_OP_INDIRECT:
		check_indirect(&req, &lim, &io, st, data + head, size - head);
		break;
	default:
		FUZZ_CHECK(st == BLKIF_RSP_EOPNOTSUPP,
			   "unknown op %u answered %d", req.operation, st);
	}
	return 0;
}
