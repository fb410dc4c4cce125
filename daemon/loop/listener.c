// SPDX-License-Identifier: MIT
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 4096

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(s4->sin_port));
	}
}

static int open_one(const struct pxd_conf_addr *addr, int *out)
{
	int one = 1;
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	/* TCP_NODELAY on the listener is inherited by accepted sockets: each
	 * answer is one send, and Nagle would hold a pipelined second one. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&addr->ss, addr->len) || listen(fd, LISTEN_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

/*
 * SO_REUSEPORT would let a second pixeld (or anything of the same user) join
 * the port and silently take part of the traffic: bind once without it
 * first, so a port already in use is an error, not a shared one.
 */
static int port_free(const struct pxd_conf_addr *addr)
{
	int one = 1;
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (const struct sockaddr *)&addr->ss, addr->len))
		rc = -errno;
	close(fd);
	return rc;
}

int pxd_listener_open(struct pxd_conf_addr *addr, unsigned n, int *fds, char *err, size_t errlen)
{
	int rc;

	rc = port_free(addr);
	if (rc == -EADDRINUSE) {
		snprintf(err, errlen,
			 "cannot listen on %s: another process has this port (is "
			 "another pixeld running?); stop it or choose another with "
			 "--listen/--admin",
			 addr->text);
		return rc;
	}

	for (unsigned i = 0; i < n; i++)
		fds[i] = -1;
	for (unsigned i = 0; i < n; i++) {
		rc = open_one(addr, &fds[i]);
		if (rc) {
			snprintf(
			    err, errlen, "cannot listen on %s: %s%s", addr->text, strerror(-rc),
			    rc == -EADDRINUSE ? "; another process has this port: stop it or "
						"choose another with --listen/--admin"
			    : rc == -EACCES ? "; ports below 1024 need root or CAP_NET_BIND_SERVICE"
					    : "");
			for (unsigned k = 0; k < i; k++)
				close(fds[k]);
			return rc;
		}
		if (i == 0) {
			/* Resolve port 0 once so every thread's socket shares it. */
			addr->len = sizeof(addr->ss);
			getsockname(fds[0], (struct sockaddr *)&addr->ss, &addr->len);
			addr_text(&addr->ss, addr->text, sizeof(addr->text));
		}
	}
	return 0;
}
