// SPDX-License-Identifier: GPL-2.0
/*
 * Ring access for every request layout (see abi.h): requests are copied out
 * of the shared ring once, into the native struct blkif_request that the
 * rest of the driver validates and uses; responses are built zeroed in
 * private memory, padding included, and copied into the ring whole.
 */
#include <linux/build_bug.h>
#include <linux/string.h>

#include "abi.h"

static_assert(sizeof(struct xdb_x86_32_request) == 108);
static_assert(sizeof(struct xdb_x86_32_response) == 12);
static_assert(offsetof(struct xdb_x86_32_response, status) == 10);
static_assert(sizeof(struct xdb_x86_32_request_indirect) == 63);

void xdb_abi_init_ring(union xdb_back_ring *ring, enum xdb_abi abi,
		       void *sring, unsigned int size)
{
	if (abi == XDB_ABI_X86_32)
		BACK_RING_INIT(&ring->x86_32,
			       (struct xdb_x86_32_sring *)sring, size);
	else
		BACK_RING_INIT(&ring->native, (struct blkif_sring *)sring,
			       size);
}

unsigned int xdb_abi_ring_size(const union xdb_back_ring *ring,
			       enum xdb_abi abi)
{
	return abi == XDB_ABI_X86_32 ? RING_SIZE(&ring->x86_32) :
				       RING_SIZE(&ring->native);
}

static void x86_32_to_native(const struct xdb_x86_32_request *src,
			     struct blkif_request *dst)
{
	unsigned int i;

	memset(dst, 0, sizeof(*dst));
	dst->operation = src->operation;
	switch (src->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
	case BLKIF_OP_FLUSH_DISKCACHE:
	case BLKIF_OP_WRITE_BARRIER:
		dst->u.rw.nr_segments = src->u.rw.nr_segments;
		dst->u.rw.handle = src->u.rw.handle;
		dst->u.rw.id = src->u.rw.id;
		dst->u.rw.sector_number = src->u.rw.sector_number;
		for (i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
			dst->u.rw.seg[i] = src->u.rw.seg[i];
		break;
	case BLKIF_OP_DISCARD:
		dst->u.discard.flag = src->u.discard.flag;
		dst->u.discard.id = src->u.discard.id;
		dst->u.discard.sector_number = src->u.discard.sector_number;
		dst->u.discard.nr_sectors = src->u.discard.nr_sectors;
		break;
	case BLKIF_OP_INDIRECT:
		dst->u.indirect.indirect_op = src->u.indirect.indirect_op;
		dst->u.indirect.nr_segments = src->u.indirect.nr_segments;
		dst->u.indirect.id = src->u.indirect.id;
		dst->u.indirect.sector_number = src->u.indirect.sector_number;
		dst->u.indirect.handle = src->u.indirect.handle;
		for (i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
			dst->u.indirect.indirect_grefs[i] =
				src->u.indirect.indirect_grefs[i];
		break;
	default:
		dst->u.other.id = src->u.other.id;
		break;
	}
}

/* Copy request idx out of the shared ring, once (RING_COPY_REQUEST). */
void xdb_abi_copy_request(union xdb_back_ring *ring, enum xdb_abi abi,
			  RING_IDX idx, struct blkif_request *req)
{
	struct xdb_x86_32_request req32;

	if (abi == XDB_ABI_X86_32) {
		RING_COPY_REQUEST(&ring->x86_32, idx, &req32);
		x86_32_to_native(&req32, req);
	} else {
		RING_COPY_REQUEST(&ring->native, idx, req);
	}
}

/* Write the next response slot; the caller pushes and notifies. */
void xdb_abi_put_response(union xdb_back_ring *ring, enum xdb_abi abi,
			  u64 id, u8 operation, s16 status)
{
	union {
		struct blkif_response native;
		struct xdb_x86_32_response x86_32;
	} rsp;
	RING_IDX slot = ring->native.rsp_prod_pvt;

	memset(&rsp, 0, sizeof(rsp));	/* padding included */
	if (abi == XDB_ABI_X86_32) {
		rsp.x86_32.id = id;
		rsp.x86_32.operation = operation;
		rsp.x86_32.status = status;
		memcpy(RING_GET_RESPONSE(&ring->x86_32, slot), &rsp.x86_32,
		       sizeof(rsp.x86_32));
	} else {
		rsp.native.id = id;
		rsp.native.operation = operation;
		rsp.native.status = status;
		memcpy(RING_GET_RESPONSE(&ring->native, slot), &rsp.native,
		       sizeof(rsp.native));
	}
	ring->native.rsp_prod_pvt = slot + 1;
}
