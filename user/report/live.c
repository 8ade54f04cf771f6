// SPDX-License-Identifier: MIT
/*
 * --listen's HTTP/1.0 server (live.h): one request served at a time from
 * the reporting loop, with 2 s socket timeouts so that a slow client delays
 * a report by no more than that.  What it serves is rendered by the session (session_live.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "live.h"

static int parse_addr(const char *addr_port, struct sockaddr_storage *ss, socklen_t *len,
		      bool *loopback)
{
	char host[128];
	const char *colon = strrchr(addr_port, ':');
	char *end;
	long port;

	if (!colon || colon == addr_port || (size_t)(colon - addr_port) >= sizeof(host))
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -EINVAL;
	memcpy(host, addr_port, colon - addr_port);
	host[colon - addr_port] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		size_t hlen = strlen(host);

		if (hlen < 3 || host[hlen - 1] != ']')
			return -EINVAL;
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		*len = sizeof(*in6);
		return 0;
	}
	{
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (!strcmp(host, "localhost"))
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		*len = sizeof(*in);
	}
	return 0;
}

int live_listen(const char *addr_port, bool allow_public)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool loopback;
	int fd, one = 1, err = parse_addr(addr_port, &ss, &len, &loopback);

	if (err)
		return err;
	if (!loopback && !allow_public)
		return -EACCES;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

/* The path of "GET /path?query HTTP/1.1", without the query; NULL if not a GET. */
static char *request_path(char *request)
{
	char *path, *end;

	if (strncmp(request, "GET ", 4))
		return NULL;
	path = request + 4;
	end = path + strcspn(path, " ?\r\n");
	*end = '\0';
	return path;
}

void live_serve_one(int listen_fd, live_render_fn render, void *ctx)
{
	struct timeval timeout = { .tv_sec = 2 };
	struct live_response resp = { 404, "text/plain; charset=utf-8", NULL, 0 };
	char request[4096], header[256];
	size_t got = 0;
	char *path;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* A slow or silent client cannot stall the reports for more than this. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	while (got < sizeof(request) - 1) {
		ssize_t n = recv(fd, request + got, sizeof(request) - 1 - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
		request[got] = '\0';
		if (strstr(request, "\r\n\r\n") || strstr(request, "\n\n"))
			break;
	}
	request[got] = '\0';
	path = request_path(request);
	if (path)
		render(path, &resp, ctx);
	if (!resp.body) {
		resp.body = strdup(path ? "not found\n" : "only GET is served\n");
		resp.len = resp.body ? strlen(resp.body) : 0;
	}
	snprintf(header, sizeof(header),
		 "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n",
		 resp.status, resp.status == 200 ? "OK" : "Not Found", resp.content_type, resp.len);
	send_all(fd, header, strlen(header));
	send_all(fd, resp.body, resp.len);
	free(resp.body);
	close(fd);
}
