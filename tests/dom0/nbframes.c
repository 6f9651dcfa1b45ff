// SPDX-License-Identifier: GPL-2.0
/*
 * nbframes: raw Ethernet frames on a dom0 interface, for the netback VM
 * tests (57-netback-hostile-rx-ctrl).
 *
 *   nbframes send IFACE DSTMAC COUNT LEN
 *	COUNT frames of LEN bytes to DSTMAC (ethertype 0x88b5), 20 ms apart.
 *	Prints "sent=N errors=E".
 *   nbframes flood IFACE SECS LEN
 *	Broadcast frames of LEN bytes for SECS seconds as fast as the device
 *	takes them, past the qdisc (PACKET_QDISC_BYPASS: the driver's
 *	transmit is called directly, also while its carrier is off).
 *	Prints "sent=N errors=E".
 *   nbframes recv IFACE SECS
 *	Frames of ethertype 0x88b6 that arrive on IFACE within SECS seconds,
 *	checked against the pattern nbhostile writes (payload byte i is
 *	(7 * i + 1) & 0xff).  Prints "frames=N intact=M lens=L1,L2,...",
 *	also when ended early by SIGTERM.
 * Exit status 0, or 2 on a setup error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETH_P_SEND	0x88b5
#define ETH_P_PATTERN	0x88b6
#define MAX_FRAME	9100

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "nbframes: %s: %s\n", what, strerror(errno));
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_socket(const char *ifname, int proto, struct sockaddr_ll *sa)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));

	if (fd < 0)
		die("socket(AF_PACKET)");
	memset(sa, 0, sizeof(*sa));
	sa->sll_family = AF_PACKET;
	sa->sll_protocol = htons(proto);
	sa->sll_ifindex = if_nametoindex(ifname);
	if (!sa->sll_ifindex)
		die(ifname);
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)))
		die("bind");
	return fd;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned int b[6], i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5]) != 6)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

static unsigned int frame_len(const char *s)
{
	unsigned int len = atoi(s);

	if (len < 60 || len > MAX_FRAME) {
		fprintf(stderr, "nbframes: length %s not in 60..%d\n", s, MAX_FRAME);
		exit(2);
	}
	return len;
}

static void fill(unsigned char *f, const unsigned char *dst, unsigned int len)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x0d\x00", 6);
	f[12] = ETH_P_SEND >> 8;
	f[13] = ETH_P_SEND & 0xff;
	memset(f + 14, 0x5a, len - 14);
}

static int send_frames(int argc, char **argv)
{
	static unsigned char f[MAX_FRAME];
	unsigned char dst[6];
	struct sockaddr_ll sa;
	unsigned long sent = 0, errors = 0;
	unsigned int count, len, i;
	int fd;

	if (argc != 6 || parse_mac(argv[3], dst)) {
		fprintf(stderr, "usage: nbframes send IFACE DSTMAC COUNT LEN\n");
		return 2;
	}
	count = atoi(argv[4]);
	len = frame_len(argv[5]);
	fd = open_socket(argv[2], ETH_P_SEND, &sa);
	fill(f, dst, len);
	for (i = 0; i < count; i++) {
		f[14] = i;
		if (send(fd, f, len, 0) == (ssize_t)len)
			sent++;
		else
			errors++;
		usleep(20000);
	}
	printf("sent=%lu errors=%lu\n", sent, errors);
	return 0;
}

static int flood(int argc, char **argv)
{
	static unsigned char f[MAX_FRAME];
	static const unsigned char bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct sockaddr_ll sa;
	unsigned long sent = 0, errors = 0, n;
	double end;
	int fd, one = 1;
	unsigned int len;

	if (argc != 5) {
		fprintf(stderr, "usage: nbframes flood IFACE SECS LEN\n");
		return 2;
	}
	len = frame_len(argv[4]);
	fd = open_socket(argv[2], ETH_P_SEND, &sa);
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		die("PACKET_QDISC_BYPASS");
	fill(f, bcast, len);
	end = now() + atof(argv[3]);
	for (n = 0; ; n++) {
		if (!(n % 256) && now() >= end)
			break;
		if (send(fd, f, len, MSG_DONTWAIT) == (ssize_t)len) {
			sent++;
		} else {
			/* A busy or stopped device: give it a moment. */
			errors++;
			if (!(errors % 64))
				usleep(1000);
		}
	}
	printf("sent=%lu errors=%lu\n", sent, errors);
	return 0;
}

static int recv_frames(int argc, char **argv)
{
	static unsigned char f[MAX_FRAME];
	char lens[512] = "";
	size_t lo = 0;
	struct sockaddr_ll sa;
	struct sigaction act = { .sa_handler = on_term };
	unsigned long frames = 0, intact = 0;
	double end;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: nbframes recv IFACE SECS\n");
		return 2;
	}
	/* All protocols: a bridge port's frames reach only such taps. */
	fd = open_socket(argv[2], ETH_P_ALL, &sa);
	/* No SA_RESTART: the signal ends the poll below. */
	sigaction(SIGTERM, &act, NULL);
	end = now() + atof(argv[3]);
	while (!stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		double left = end - now();
		ssize_t n;
		int ok = 1;

		if (left <= 0)
			break;
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		n = recvfrom(fd, f, sizeof(f), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n < 14 || from.sll_pkttype == PACKET_OUTGOING ||
		    f[12] != ETH_P_PATTERN >> 8 || f[13] != (ETH_P_PATTERN & 0xff))
			continue;
		frames++;
		for (ssize_t i = 14; i < n && ok; i++)
			ok = f[i] == (unsigned char)(7 * (i - 14) + 1);
		intact += ok;
		if (lo + 16 < sizeof(lens))
			lo += snprintf(lens + lo, sizeof(lens) - lo, "%s%zd",
				       lo ? "," : "", n);
	}
	printf("frames=%lu intact=%lu lens=%s\n", frames, intact, lens[0] ? lens : "-");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return send_frames(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "flood"))
		return flood(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "recv"))
		return recv_frames(argc, argv);
	fprintf(stderr, "usage: nbframes send|flood|recv IFACE ...\n");
	return 2;
}
