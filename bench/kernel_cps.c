/*
 * The Linux kernel's side of bench/cps.sh: connect / 100 B request /
 * 100 B response / close over loopback, with epoll, the same work
 * wskdp-gen's embedded run does.
 *
 *   kernel_cps server PORT
 *   kernel_cps client ADDR PORT CONCURRENCY SECONDS
 *
 * The client keeps CONCURRENCY connections in flight and prints
 * "completed=N secs=S cps=R failed=F". Build: cc -O2 -o kernel_cps
 * kernel_cps.c. A benchmark tool, not part of the build.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 100

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
server(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct epoll_event ev, evs[256];
	int one = 1, lfd, ep;
	char buf[4096];

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 4096) != 0) {
		perror("bind/listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening on %d\n", port);
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd) {
				int c;

				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					ev.events = EPOLLIN;
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			for (;;) {
				ssize_t r = read(fd, buf, sizeof(buf));

				if (r > 0) {
					/* One answer per 100 B request. */
					for (ssize_t k = 0; k < r / MSG; k++)
						if (write(fd, buf, MSG) != MSG)
							break;
					continue;
				}
				if (r == 0 || errno != EAGAIN)
					close(fd);
				break;
			}
		}
	}
}

struct cconn {
	int fd;
	int got;
};

static int
client(const char *addr, int port, int conc, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct epoll_event ev, evs[256];
	struct cconn *cs = calloc(conc, sizeof(*cs));
	long completed = 0, failed = 0;
	char req[MSG], buf[4096];
	int ep = epoll_create1(0), open_n = 0, one = 1;
	double t0 = now_s(), end = t0 + secs;
	bool stopping = false;

	inet_pton(AF_INET, addr, &a.sin_addr);
	memset(req, 'r', sizeof(req));
	for (;;) {
		double t = now_s();

		if (t >= end)
			stopping = true;
		for (int i = 0; !stopping && i < conc; i++) {
			if (cs[i].fd > 0)
				continue;
			cs[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			cs[i].got = 0;
			setsockopt(cs[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (connect(cs[i].fd, (struct sockaddr *)&a, sizeof(a)) != 0 &&
			    errno != EINPROGRESS) {
				close(cs[i].fd);
				cs[i].fd = 0;
				failed++;
				continue;
			}
			ev.events = EPOLLOUT | EPOLLIN;
			ev.data.u32 = (uint32_t)i;
			epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
			open_n++;
		}
		if (stopping && open_n == 0)
			break;
		int n = epoll_wait(ep, evs, 256, 100);

		for (int k = 0; k < n; k++) {
			struct cconn *c = &cs[evs[k].data.u32];

			if (c->fd <= 0)
				continue;
			if (evs[k].events & (EPOLLERR | EPOLLHUP)) {
				failed++;
				goto done;
			}
			if ((evs[k].events & EPOLLOUT) && c->got == 0) {
				if (write(c->fd, req, MSG) != MSG) {
					failed++;
					goto done;
				}
				c->got = -1;	/* request sent */
				ev.events = EPOLLIN;
				ev.data.u32 = evs[k].data.u32;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				continue;
			}
			if (evs[k].events & EPOLLIN) {
				ssize_t r = read(c->fd, buf, sizeof(buf));

				if (r <= 0) {
					if (r < 0 && errno == EAGAIN)
						continue;
					failed++;
					goto done;
				}
				c->got = (c->got < 0 ? 0 : c->got) + (int)r;
				if (c->got < MSG)
					continue;
				completed++;
				goto done;
			}
			continue;
done:
			close(c->fd);
			c->fd = 0;
			open_n--;
		}
	}
	printf("completed=%ld secs=%.3f cps=%.0f failed=%ld\n", completed,
	       now_s() - t0, completed / (now_s() - t0), failed);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return server(atoi(argv[2]));
	if (argc == 6 && strcmp(argv[1], "client") == 0)
		return client(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: %s server PORT | client ADDR PORT CONCURRENCY SECONDS\n", argv[0]);
	return 2;
}
