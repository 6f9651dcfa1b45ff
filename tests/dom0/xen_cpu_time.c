// SPDX-License-Identifier: GPL-2.0
/*
 * xen_cpu_time DOMID: the CPU time Xen has accounted to a domain's vCPUs
 * (running time, its work on their hypercalls included), in microseconds,
 * printed as "xen_us=N".  `xl vcpu-list` shows the same time in 0.1 s
 * steps, which over a 5 s window of a benchmark is an error of a few
 * percent on its own; Xen keeps it in nanoseconds.  Read per vCPU:
 * xc_vcpu_getinfo() is in every libxenctrl, xc_domain_getinfo() left
 * with Xen 4.18.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>

/* A bound on the loop; vCPU ids end well before it. */
#define MAX_VCPUS 8192

int main(int argc, char **argv)
{
	unsigned long long total = 0;
	xc_vcpuinfo_t info;
	xc_interface *xch;
	unsigned long domid;
	unsigned int vcpu;
	char *end;

	if (argc != 2) {
		fprintf(stderr, "usage: xen_cpu_time DOMID\n");
		return 2;
	}
	errno = 0;
	domid = strtoul(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || domid >= DOMID_FIRST_RESERVED) {
		fprintf(stderr, "xen_cpu_time: bad domain id %s\n", argv[1]);
		return 2;
	}
	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		fprintf(stderr, "xen_cpu_time: xc_interface_open: %s\n",
			strerror(errno));
		return 1;
	}
	/* vCPUs 0 up to the first that is not there (offline ones count). */
	for (vcpu = 0; vcpu < MAX_VCPUS; vcpu++) {
		if (xc_vcpu_getinfo(xch, domid, vcpu, &info))
			break;
		total += info.cpu_time;
	}
	xc_interface_close(xch);
	if (!vcpu) {
		fprintf(stderr, "xen_cpu_time: no domain %lu\n", domid);
		return 1;
	}
	printf("xen_us=%llu\n", total / 1000);
	return 0;
}
