/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the libFuzzer targets and the seed corpus generator: the
 * layout of each target's input, and the invariant check.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#include <linux/types.h>

/*
 * A broken invariant aborts, so libFuzzer keeps the input as a crash; the
 * "invariant failed:" line is what tests/fuzz/run reports as the reason,
 * the condition goes on the next line, for the log only.
 */
#define FUZZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "invariant failed: ");		\
			fprintf(stderr, __VA_ARGS__);			\
			fprintf(stderr, "\n  condition: %s\n", #cond);	\
			abort();					\
		}							\
	} while (0)

/*
 * request_check input: this header (the virtual disk, so that the fuzzer
 * explores limits too), one struct blkif_request, then the segments of
 * an indirect request's pages (missing ones are zero: 1 sector each).
 */
#define FZ_BLK_READONLY		0x01
#define FZ_BLK_DISCARD		0x02
#define FZ_BLK_SECURE		0x04

struct fz_blk_hdr {
	u8 flags;		/* FZ_BLK_* */
	u8 block_shift;		/* logical block: 512 << (block_shift % 4) */
	u16 max_indirect_segs;	/* capped at XDB_MAX_INDIRECT_SEGS */
	u64 sectors;		/* disk size */
} __attribute__((__packed__));

/*
 * tx_parse input: fatal_skb_slots (mapped onto 19..64 as the module
 * clamps it), then whole struct xen_netif_tx_request slots.
 */
struct fz_tx_hdr {
	u8 fatal_slots;
} __attribute__((__packed__));

#define FZ_TX_FATAL_MIN		18
#define FZ_TX_FATAL_MAX		64

/*
 * ctrl_check input: the hash state a vif starts from (alg as written, size
 * mapped onto 0..XNB_HASH_MAPPING_MAX as the driver keeps it, nr_queues
 * onto 0..FZ_CTRL_QUEUES_MAX), then whole struct xen_netif_ctrl_request
 * requests, served in order.
 */
struct fz_ctrl_hdr {
	u32 alg;
	u8 size;
	u8 nr_queues;
} __attribute__((__packed__));

#define FZ_CTRL_QUEUES_MAX	16

#endif /* FUZZ_H */
