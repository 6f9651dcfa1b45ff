// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for xen-netback/ctrl_check.c, built as it is: a
 * sequence of control ring requests (see fuzz.h) is served against a
 * model of the vif's hash state, as hash.c applies them.  Whatever the
 * requests, every status is one netif.h defines, a refused request
 * changes nothing, every copy the driver would make stays inside the key
 * or the mapping table (the model's tables are exactly their size on the
 * heap, so ASan sees any step outside), and every queue picked exists.
 */
#include <string.h>

#include "fuzz.h"
#include "ctrl_check.h"

/* The most requests served from one input: a few rings' worth. */
#define FZ_CTRL_MAX_REQS	256

struct model {
	struct xnb_ctrl_state st;
	u32 flags;
	u8 *key;		/* XNB_HASH_KEY_MAX bytes */
	u32 *mapping;		/* XNB_HASH_MAPPING_MAX entries */
};

static void check_op(const struct model *m, u32 status,
		     const struct xnb_ctrl_op *op)
{
	FUZZ_CHECK(status == XEN_NETIF_CTRL_STATUS_SUCCESS ||
		   status == XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED ||
		   status == XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER ||
		   status == XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW,
		   "status %u", status);
	FUZZ_CHECK(status == XEN_NETIF_CTRL_STATUS_SUCCESS ||
		   (op->action == XNB_CTRL_ANSWER && !op->data),
		   "status %u yet action %d, data %u", status, op->action,
		   op->data);
	switch (op->action) {
	case XNB_CTRL_SET_ALG:
		FUZZ_CHECK(op->value == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE ||
			   op->value == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ,
			   "algorithm %u", op->value);
		break;
	case XNB_CTRL_SET_FLAGS:
		FUZZ_CHECK(m->st.alg != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
			   !(op->value & ~XNB_HASH_TYPES),
			   "flags %#x with algorithm %u", op->value, m->st.alg);
		break;
	case XNB_CTRL_SET_SIZE:
		FUZZ_CHECK(op->value <= XNB_HASH_MAPPING_MAX, "size %u",
			   op->value);
		break;
	case XNB_CTRL_COPY_KEY:
		FUZZ_CHECK(op->len <= XNB_HASH_KEY_MAX, "key of %u", op->len);
		break;
	case XNB_CTRL_COPY_MAPPING:
		FUZZ_CHECK((u64)op->off + op->len <= m->st.size,
			   "entries %u..%u of %u", op->off, op->off + op->len,
			   m->st.size);
		break;
	case XNB_CTRL_ANSWER:
		break;
	}
}

/* Apply @op as hash.c does; the grant's contents come from @ref. */
static void apply(struct model *m, const struct xnb_ctrl_op *op)
{
	u32 entries[XNB_HASH_MAPPING_MAX];
	u32 i;

	switch (op->action) {
	case XNB_CTRL_SET_ALG:
		m->st.alg = op->value;
		break;
	case XNB_CTRL_SET_FLAGS:
		m->flags = op->value;
		break;
	case XNB_CTRL_SET_SIZE:
		m->st.size = op->value;
		memset(m->mapping, 0, XNB_HASH_MAPPING_MAX * sizeof(u32));
		break;
	case XNB_CTRL_COPY_KEY:
		memset(m->key, 0, XNB_HASH_KEY_MAX);
		memset(m->key, op->ref, op->len);
		break;
	case XNB_CTRL_COPY_MAPPING:
		/* What the guest granted: queue numbers, some out of range. */
		for (i = 0; i < op->len; i++)
			entries[i] = (op->ref + i) % (FZ_CTRL_QUEUES_MAX + 2);
		if (xnb_ctrl_check_mapping(entries, op->len,
					   m->st.nr_queues) !=
		    XEN_NETIF_CTRL_STATUS_SUCCESS)
			break;
		for (i = 0; i < op->len; i++)
			FUZZ_CHECK(entries[i] < m->st.nr_queues,
				   "entry %u names queue %u of %u", i,
				   entries[i], m->st.nr_queues);
		memcpy(&m->mapping[op->off], entries, op->len * sizeof(u32));
		break;
	case XNB_CTRL_ANSWER:
		break;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct xen_netif_ctrl_request req;
	struct fz_ctrl_hdr h;
	struct xnb_ctrl_op op;
	struct model m;
	unsigned int queues;
	size_t n, i;
	u32 status;

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	m.st.alg = h.alg;
	m.st.size = h.size % (XNB_HASH_MAPPING_MAX + 1);
	m.st.nr_queues = h.nr_queues % (FZ_CTRL_QUEUES_MAX + 1);
	m.flags = 0;
	m.key = calloc(XNB_HASH_KEY_MAX, 1);
	m.mapping = calloc(XNB_HASH_MAPPING_MAX, sizeof(u32));
	if (!m.key || !m.mapping)
		abort();

	n = (size - sizeof(h)) / sizeof(req);
	if (n > FZ_CTRL_MAX_REQS)
		n = FZ_CTRL_MAX_REQS;
	for (i = 0; i < n; i++) {
		memcpy(&req, data + sizeof(h) + i * sizeof(req), sizeof(req));
		status = xnb_ctrl_check(&req, &m.st, &op);
		check_op(&m, status, &op);
		if (status == XEN_NETIF_CTRL_STATUS_SUCCESS)
			apply(&m, &op);
		/*
		 * Frames keep flowing between requests, each picking a
		 * queue, also while the vif has fewer queues than the
		 * mapping was set for.
		 */
		queues = 1 + req.id % FZ_CTRL_QUEUES_MAX;
		FUZZ_CHECK(xnb_ctrl_pick_queue(m.mapping, m.st.size,
					       req.data[0] ^ req.id, queues) <
			   queues, "queue past %u", queues);
	}
	free(m.key);
	free(m.mapping);
	return 0;
}
