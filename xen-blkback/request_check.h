/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Validation of blkif requests, as plain functions of plain memory: a
 * request already copied out of the shared ring goes in, a verdict and a
 * description of the I/O come out.  No kernel calls, so tests/unit builds
 * this file as it is and feeds it hostile requests.
 */
#ifndef XDB_REQUEST_CHECK_H
#define XDB_REQUEST_CHECK_H

#include <linux/types.h>
#include <xen/interface/io/blkif.h>

/* Segment descriptors one indirect page holds. */
#define XDB_SEGS_PER_INDIRECT_PAGE \
	(4096 / sizeof(struct blkif_request_segment))
/* The most segments an indirect request can carry at all. */
#define XDB_MAX_INDIRECT_SEGS \
	(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * XDB_SEGS_PER_INDIRECT_PAGE)

/* What the checks need to know about the virtual disk. */
struct xdb_disk_limits {
	u64 sectors;			/* capacity, in 512-byte sectors */
	unsigned int block_sectors;	/* logical block size / 512 */
	unsigned int max_indirect_segs;	/* 0: indirect requests refused */
	bool readonly;
	bool discard;
	bool secure_discard;
};

enum xdb_io_kind {
	XDB_IO_READ,
	XDB_IO_WRITE,
	XDB_IO_FLUSH,		/* flush, then the write (if any) with FUA */
	XDB_IO_BARRIER,		/* as FLUSH, ordered after all earlier I/O */
	XDB_IO_DISCARD,
};

struct xdb_io {
	u64 id;			/* echoed in the response */
	u8 operation;		/* echoed in the response */
	enum xdb_io_kind kind;
	u64 sector;
	u64 nr_sectors;		/* discard: from the request; I/O: summed */
	bool secure;		/* discard: secure erase */
	unsigned int nr_segs;
	unsigned int nr_indirect_pages;	/* 0: segments are in seg[] */
	grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

int xdb_check_request(const struct blkif_request *req,
		      const struct xdb_disk_limits *lim, struct xdb_io *io);
int xdb_check_segments(const struct blkif_request_segment *seg,
		       const struct xdb_disk_limits *lim, struct xdb_io *io);

#endif /* XDB_REQUEST_CHECK_H */
