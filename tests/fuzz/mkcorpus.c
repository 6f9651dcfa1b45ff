// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the fuzz targets' seed corpus (tests/fuzz/corpus/<target>/):
 * valid requests and packets of each kind, so that fuzzing starts from
 * inputs that get through the validators.  `make -C tests fuzz-corpus`
 * runs it; the files are kept in the tree.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "ctrl_check.h"
#include "fuzz.h"
#include "request_check.h"
#include "tx_parse.h"

static const char *top;

static void put(const char *target, const char *name, const void *a,
		size_t alen, const void *b, size_t blen)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", top, target, name);
	f = fopen(path, "w");
	if (!f || fwrite(a, 1, alen, f) != alen ||
	    (blen && fwrite(b, 1, blen, f) != blen) || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* A 512 MiB disk of 512-byte blocks with discard and indirect requests. */
static struct fz_blk_hdr disk(void)
{
	return (struct fz_blk_hdr){
		.flags = FZ_BLK_DISCARD | FZ_BLK_SECURE,
		.block_shift = 0,
		.max_indirect_segs = 256,
		.sectors = 1 << 20,
	};
}

static struct blkif_request rw(u8 op, unsigned int nseg, u64 sector)
{
	struct blkif_request r;
	unsigned int i;

	memset(&r, 0, sizeof(r));
	r.operation = op;
	r.u.rw.nr_segments = nseg;
	r.u.rw.handle = 51712;		/* xvda */
	r.u.rw.id = 0x1000 + op;
	r.u.rw.sector_number = sector;
	for (i = 0; i < nseg; i++) {
		r.u.rw.seg[i].gref = 8 + i;
		r.u.rw.seg[i].first_sect = 0;
		r.u.rw.seg[i].last_sect = 7;
	}
	return r;
}

static void blk(const char *name, const struct fz_blk_hdr *h,
		const struct blkif_request *r, const void *segs, size_t len)
{
	unsigned char buf[sizeof(*h) + sizeof(*r)];

	memcpy(buf, h, sizeof(*h));
	memcpy(buf + sizeof(*h), r, sizeof(*r));
	put("request_check", name, buf, sizeof(buf), segs, len);
}

static void request_check_seeds(void)
{
	struct blkif_request_segment seg[256];
	struct fz_blk_hdr h = disk();
	struct blkif_request r;
	unsigned int i;

	r = rw(BLKIF_OP_READ, 1, 2048);
	blk("read-1seg", &h, &r, NULL, 0);
	/* 11 segments, the first and last partial, ending at the disk's end. */
	r = rw(BLKIF_OP_WRITE, 11, (1 << 20) - 80);
	r.u.rw.seg[0].first_sect = 2;
	r.u.rw.seg[10].last_sect = 1;
	blk("write-11seg-to-end", &h, &r, NULL, 0);
	r = rw(BLKIF_OP_FLUSH_DISKCACHE, 0, ~0ULL);
	blk("flush-nodata", &h, &r, NULL, 0);

	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_DISCARD;
	r.u.discard.flag = BLKIF_DISCARD_SECURE;
	r.u.discard.id = 0x2000;
	r.u.discard.sector_number = 4096;
	r.u.discard.nr_sectors = 8192;
	blk("discard-secure", &h, &r, NULL, 0);

	/* A read on a 4 KiB-sector disk: whole blocks only. */
	h.block_shift = 3;
	r = rw(BLKIF_OP_READ, 2, 64);
	blk("read-4k-disk", &h, &r, NULL, 0);
	h = disk();

	/* Indirect write: 256 segments, one indirect page, carried too. */
	memset(&r, 0, sizeof(r));
	r.operation = BLKIF_OP_INDIRECT;
	r.u.indirect.indirect_op = BLKIF_OP_WRITE;
	r.u.indirect.nr_segments = 256;
	r.u.indirect.id = 0x3000;
	r.u.indirect.sector_number = 8192;
	r.u.indirect.handle = 51712;
	r.u.indirect.indirect_grefs[0] = 300;
	memset(seg, 0, sizeof(seg));	/* padding too: same bytes every time */
	for (i = 0; i < 256; i++) {
		seg[i].gref = 400 + i;
		seg[i].first_sect = 0;
		seg[i].last_sect = 7;
	}
	blk("indirect-write-256seg", &h, &r, seg, sizeof(seg));
}

static void tx(const char *name, const struct xen_netif_tx_request *s,
	       unsigned int n)
{
	struct fz_tx_hdr h = { .fatal_slots = 1 };	/* 20, the default */

	put("tx_parse", name, &h, sizeof(h), s, n * sizeof(*s));
}

static struct xen_netif_tx_request slot(u16 offset, u16 size, u16 flags,
					u16 id)
{
	return (struct xen_netif_tx_request){
		.gref = 200 + id, .offset = offset, .size = size,
		.flags = flags, .id = id,
	};
}

static struct xen_netif_tx_request extra(u8 type, u8 flags)
{
	struct xen_netif_tx_request s;
	struct xen_netif_extra_info ex;

	memset(&ex, 0, sizeof(ex));
	ex.type = type;
	ex.flags = flags;
	switch (type) {
	case XEN_NETIF_EXTRA_TYPE_GSO:
		ex.u.gso.size = 1448;
		ex.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
		break;
	case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
		memcpy(ex.u.mcast.addr, "\x01\x00\x5e\x00\x00\xfb", 6);
		break;
	case XEN_NETIF_EXTRA_TYPE_HASH:
		ex.u.hash.type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
		memcpy(ex.u.hash.value, "\x12\x34\x56\x78", 4);
		break;
	}
	memset(&s, 0, sizeof(s));
	memcpy(&s, &ex, sizeof(ex));
	return s;
}

static void tx_parse_seeds(void)
{
	struct xen_netif_tx_request s[XEN_NETIF_NR_SLOTS_MIN];
	unsigned int i;

	s[0] = slot(128, 98, XEN_NETTXF_csum_blank | XEN_NETTXF_data_validated, 1);
	tx("1slot", s, 1);

	/* 3000 bytes: 500 in the first slot, half way into its page, then
	 * 1500 and 1000.
	 */
	s[0] = slot(2048, 3000, XEN_NETTXF_more_data, 1);
	s[1] = slot(0, 1500, XEN_NETTXF_more_data, 2);
	s[2] = slot(96, 1000, 0, 3);
	tx("3slot", s, 3);

	/* A TCPv4 GSO frame: GSO extra, then three data slots. */
	s[0] = slot(0, 9000, XEN_NETTXF_extra_info | XEN_NETTXF_more_data |
		    XEN_NETTXF_csum_blank, 1);
	s[1] = extra(XEN_NETIF_EXTRA_TYPE_GSO, 0);
	s[2] = slot(0, 4096, XEN_NETTXF_more_data, 2);
	s[3] = slot(0, 4096, 0, 3);
	tx("gso-extra-3slot", s, 4);

	/* Two chained extras (hash, GSO) on a one-slot frame. */
	s[0] = slot(0, 1514, XEN_NETTXF_extra_info, 1);
	s[1] = extra(XEN_NETIF_EXTRA_TYPE_HASH, XEN_NETIF_EXTRA_FLAG_MORE);
	s[2] = extra(XEN_NETIF_EXTRA_TYPE_GSO, 0);
	tx("hash-gso-extras-1slot", s, 3);

	/* Multicast filter request: an extra, no frame. */
	s[0] = slot(0, 0, XEN_NETTXF_extra_info, 1);
	s[1] = extra(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0);
	tx("mcast-add", s, 2);

	/* The legacy limit: 18 data slots, tiny ones after the first. */
	s[0] = slot(0, 100, XEN_NETTXF_more_data, 1);
	for (i = 1; i < XEN_NETIF_NR_SLOTS_MIN; i++)
		s[i] = slot(i * 64, 1, i + 1 < XEN_NETIF_NR_SLOTS_MIN ?
			    XEN_NETTXF_more_data : 0, i + 1);
	tx("18slot", s, XEN_NETIF_NR_SLOTS_MIN);
}

static struct xen_netif_ctrl_request ctrl(u16 id, u16 type, u32 d0, u32 d1,
					  u32 d2)
{
	return (struct xen_netif_ctrl_request){
		.id = id, .type = type, .data = { d0, d1, d2 },
	};
}

/* What Linux netfront sends for 4 queues, and the limits around it. */
static void ctrl_check_seeds(void)
{
	struct fz_ctrl_hdr h = { .alg = 0, .size = 0, .nr_queues = 4 };
	struct xen_netif_ctrl_request r[8];

	r[0] = ctrl(1, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM,
		    XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0);
	r[1] = ctrl(2, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0);
	r[2] = ctrl(3, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XNB_HASH_TYPES, 0,
		    0);
	r[3] = ctrl(4, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 8, XNB_HASH_KEY_MAX,
		    0);
	r[4] = ctrl(5, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0);
	r[5] = ctrl(6, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE,
		    XNB_HASH_MAPPING_MAX, 0, 0);
	r[6] = ctrl(7, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 16, 64, 0);
	r[7] = ctrl(8, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 32, 64, 64);
	put("ctrl_check", "netfront-4-queues", &h, sizeof(h), r, sizeof(r));

	h.alg = XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
	h.size = XNB_HASH_MAPPING_MAX;
	r[0] = ctrl(1, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 16, 1, 0xffffffff);
	r[1] = ctrl(2, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 16, 0x40000001, 0);
	r[2] = ctrl(3, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 8, 41, 0);
	r[3] = ctrl(4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 1, 0, 0);
	r[4] = ctrl(5, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 16, 1, 1);
	put("ctrl_check", "xsa-270", &h, sizeof(h), r, 5 * sizeof(r[0]));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
		return 2;
	}
	top = argv[1];
	request_check_seeds();
	tx_parse_seeds();
	ctrl_check_seeds();
	return 0;
}
