// SPDX-License-Identifier: GPL-2.0
/* Unit tests of xen-evtchn's pending-port ring (xen-evtchn/evtchn_ring.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtchn_ring.h"
#include "unit.h"

/* Drain everything through evtchn_ring_chunk, as read() does. */
static unsigned int drain(struct evtchn_ring *r, u32 *out, unsigned int max)
{
	unsigned int want = evtchn_ring_pending(r), done = 0, n;
	u32 *first;

	if (want > max)
		want = max;
	while (done < want) {
		n = evtchn_ring_chunk(r, r->cons + done, want - done, &first);
		memcpy(out + done, first, n * sizeof(u32));
		done += n;
	}
	r->cons += done;
	return done;
}

static void test_fill_and_overflow(void)
{
	struct evtchn_ring r = { .slot = calloc(4, sizeof(u32)), .size = 4 };
	u32 out[8];
	unsigned int i;

	for (i = 0; i < 4; i++)
		CHECK(evtchn_ring_push(&r, 10 + i), "push %u into a 4-slot ring", i);
	CHECK(!evtchn_ring_push(&r, 99) && r.overflow, "fifth push overflows");
	CHECK(drain(&r, out, 8) == 4 && out[0] == 10 && out[3] == 13,
	      "drained in order");
	CHECK(r.overflow, "overflow is sticky after draining");
	evtchn_ring_reset(&r);
	CHECK(!r.overflow && evtchn_ring_pending(&r) == 0, "reset clears it");
	free(r.slot);
}

static void test_wrap(void)
{
	struct evtchn_ring r = { .slot = calloc(8, sizeof(u32)), .size = 8 };
	u32 out[8];
	unsigned int round, i, ok = 1;

	/* Many laps, partial drains: every port comes out once, in order. */
	for (round = 0; round < 1000; round++) {
		for (i = 0; i < 5; i++)
			ok &= evtchn_ring_push(&r, round * 5 + i);
		ok &= drain(&r, out, 5) == 5;
		for (i = 0; i < 5; i++)
			ok &= out[i] == round * 5 + i;
	}
	CHECK(ok, "1000 laps around an 8-slot ring keep order");

	/* Counters wrap around UINT_MAX too. */
	r.prod = r.cons = 0xfffffffeu;
	for (i = 0; i < 6; i++)
		ok &= evtchn_ring_push(&r, i);
	ok &= drain(&r, out, 8) == 6 && out[0] == 0 && out[5] == 5;
	CHECK(ok, "prod and cons wrap at 2^32");
	free(r.slot);
}

static void test_move(void)
{
	struct evtchn_ring r = { .slot = calloc(4, sizeof(u32)), .size = 4 };
	u32 out[16], *old;
	unsigned int i;
	int ok = 1;

	/* Pending entries straddle the end of the old array. */
	r.prod = r.cons = 3;
	for (i = 0; i < 4; i++)
		evtchn_ring_push(&r, 100 + i);
	old = evtchn_ring_move(&r, calloc(16, sizeof(u32)), 16);
	free(old);
	CHECK(r.size == 16 && evtchn_ring_pending(&r) == 4 && !r.overflow,
	      "move keeps the pending count");
	for (i = 0; i < 12; i++)
		ok &= evtchn_ring_push(&r, 200 + i);
	CHECK(ok && !evtchn_ring_push(&r, 1), "moved ring holds 16 then overflows");
	CHECK(drain(&r, out, 16) == 16 && out[0] == 100 && out[3] == 103 &&
	      out[4] == 200 && out[15] == 211, "order survives the move");
	free(r.slot);
}

static void test_empty(void)
{
	struct evtchn_ring r = { 0 };

	CHECK(evtchn_ring_pending(&r) == 0, "a fresh ring is empty");
	CHECK(!evtchn_ring_push(&r, 1) && r.overflow,
	      "a ring with no slots refuses pushes");
}

int main(void)
{
	test_fill_and_overflow();
	test_wrap();
	test_move();
	test_empty();
	return unit_failed ? 1 : 0;
}
