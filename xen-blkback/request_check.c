// SPDX-License-Identifier: GPL-2.0
/*
 * Validation of blkif requests (see request_check.h).  Each function
 * returns a BLKIF_RSP_* status: OKAY when the I/O may go ahead, ERROR or
 * EOPNOTSUPP for the response otherwise.
 */
#include <linux/compiler.h>

#include "request_check.h"

#define SECTORS_PER_PAGE	(4096 / 512)

static bool io_may_write(const struct xdb_io *io)
{
	return io->kind != XDB_IO_READ;
}

/*
 * Does [sector, sector + n) lie on the disk, without overflowing?  The
 * size is read once: a resize may change it in between.
 */
static bool in_disk(u64 sector, u64 n, const struct xdb_disk_limits *lim)
{
	u64 size = READ_ONCE(lim->sectors);

	return sector <= size && n <= size - sector;
}

static bool block_aligned(u64 sectors, const struct xdb_disk_limits *lim)
{
	return sectors % lim->block_sectors == 0;
}

/* The kind of an operation that moves data (or may); false for others. */
static bool data_kind(u8 operation, enum xdb_io_kind *kind)
{
	switch (operation) {
	case BLKIF_OP_READ:
		*kind = XDB_IO_READ;
		return true;
	case BLKIF_OP_WRITE:
		*kind = XDB_IO_WRITE;
		return true;
	case BLKIF_OP_FLUSH_DISKCACHE:
		*kind = XDB_IO_FLUSH;
		return true;
	case BLKIF_OP_WRITE_BARRIER:
		*kind = XDB_IO_BARRIER;
		return true;
	}
	return false;
}

static int check_rw(const struct blkif_request *req,
		    const struct xdb_disk_limits *lim, struct xdb_io *io)
{
	unsigned int i;

	io->sector = req->u.rw.sector_number;
	io->nr_segs = req->u.rw.nr_segments;
	if (io->nr_segs == 0) {
		/* A flush or barrier may come without data; I/O may not. */
		if (io->kind == XDB_IO_READ || io->kind == XDB_IO_WRITE)
			return BLKIF_RSP_ERROR;
		/* Its sector means nothing (Linux frontends send ~0). */
		io->sector = 0;
		return BLKIF_RSP_OKAY;
	}
	if (io->nr_segs > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return BLKIF_RSP_ERROR;
	for (i = 0; i < io->nr_segs; i++)
		io->seg[i] = req->u.rw.seg[i];
	return xdb_check_segments(io->seg, lim, io);
}

static int check_indirect(const struct blkif_request *req,
			  const struct xdb_disk_limits *lim, struct xdb_io *io)
{
	unsigned int i;

	/* Frontends match the response against the wrapped operation. */
	io->operation = req->u.indirect.indirect_op;
	if (!data_kind(io->operation, &io->kind) ||
	    (io->kind != XDB_IO_READ && io->kind != XDB_IO_WRITE))
		return BLKIF_RSP_ERROR;
	if (lim->max_indirect_segs == 0)
		return BLKIF_RSP_EOPNOTSUPP;
	io->sector = req->u.indirect.sector_number;
	io->nr_segs = req->u.indirect.nr_segments;
	if (io->nr_segs == 0 || io->nr_segs > lim->max_indirect_segs ||
	    io->nr_segs > XDB_MAX_INDIRECT_SEGS)
		return BLKIF_RSP_ERROR;
	if (io_may_write(io) && lim->readonly)
		return BLKIF_RSP_ERROR;
	io->nr_indirect_pages = (io->nr_segs + XDB_SEGS_PER_INDIRECT_PAGE - 1) /
				XDB_SEGS_PER_INDIRECT_PAGE;
	for (i = 0; i < io->nr_indirect_pages; i++)
		io->indirect_grefs[i] = req->u.indirect.indirect_grefs[i];
	/* The segments themselves come later, from the indirect pages. */
	return BLKIF_RSP_OKAY;
}

static int check_discard(const struct blkif_request *req,
			 const struct xdb_disk_limits *lim, struct xdb_io *io)
{
	/* As in-tree: a read-only disk refuses it as a write would be. */
	if (lim->readonly)
		return BLKIF_RSP_ERROR;
	if (!lim->discard)
		return BLKIF_RSP_EOPNOTSUPP;
	io->sector = req->u.discard.sector_number;
	io->nr_sectors = req->u.discard.nr_sectors;
	/* Secure erase only where advertised; otherwise the flag is ignored. */
	io->secure = (req->u.discard.flag & BLKIF_DISCARD_SECURE) &&
		     lim->secure_discard;
	if (io->nr_sectors == 0 || !in_disk(io->sector, io->nr_sectors, lim))
		return BLKIF_RSP_ERROR;
	if (!block_aligned(io->sector, lim) ||
	    !block_aligned(io->nr_sectors, lim))
		return BLKIF_RSP_ERROR;
	return BLKIF_RSP_OKAY;
}

/*
 * Check a request copied from the ring and describe it in *io.  io->id and
 * io->operation are set whatever the verdict, for the response.
 */
int xdb_check_request(const struct blkif_request *req,
		      const struct xdb_disk_limits *lim, struct xdb_io *io)
{
	io->operation = req->operation;
	io->sector = 0;
	io->nr_sectors = 0;
	io->secure = false;
	io->nr_segs = 0;
	io->nr_indirect_pages = 0;

	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		io->id = req->u.rw.id;
		break;
	case BLKIF_OP_DISCARD:
		io->id = req->u.discard.id;
		io->kind = XDB_IO_DISCARD;
		return check_discard(req, lim, io);
	case BLKIF_OP_INDIRECT:
		io->id = req->u.indirect.id;
		return check_indirect(req, lim, io);
	default:
		io->id = req->u.other.id;
		return BLKIF_RSP_EOPNOTSUPP;
	}

	data_kind(req->operation, &io->kind);
	if (io_may_write(io) && lim->readonly)
		return BLKIF_RSP_ERROR;
	return check_rw(req, lim, io);
}

/*
 * Check io->nr_segs segments (private copies) and the extent they cover,
 * starting at io->sector; sets io->nr_sectors.
 */
int xdb_check_segments(const struct blkif_request_segment *seg,
		       const struct xdb_disk_limits *lim, struct xdb_io *io)
{
	u64 total = 0;
	unsigned int i;

	if (!block_aligned(io->sector, lim))
		return BLKIF_RSP_ERROR;
	for (i = 0; i < io->nr_segs; i++) {
		unsigned int first = seg[i].first_sect;
		unsigned int last = seg[i].last_sect;

		if (last >= SECTORS_PER_PAGE || first > last)
			return BLKIF_RSP_ERROR;
		if (!block_aligned(first, lim) || !block_aligned(last + 1, lim))
			return BLKIF_RSP_ERROR;
		total += last - first + 1;
	}
	io->nr_sectors = total;
	if (!in_disk(io->sector, total, lim))
		return BLKIF_RSP_ERROR;
	return BLKIF_RSP_OKAY;
}
