/* SPDX-License-Identifier: MIT */
/*
 * --listen's HTTP endpoint.
 */
#ifndef LS_LIVE_H
#define LS_LIVE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * --listen: a small HTTP/1.0 endpoint served from the reporting loop, one
 * request at a time (scrapers and `go tool pprof` make one request per
 * scrape).  It binds to loopback unless told the address may be public.
 */

/* Parse "ADDR:PORT" ("localhost", IPv4, or "[IPv6]") and listen; fd or -errno.
 * -EACCES: the address is not loopback and allow_public is false. */
int live_listen(const char *addr_port, bool allow_public);

/* A response: a body the renderer allocated (freed by live_serve_one). */
struct live_response {
	int status;               /* 200, 404 */
	const char *content_type;
	char *body;
	size_t len;
};

/* Fill *resp for path ("/metrics", "/debug/pprof/heap", ...). */
typedef void (*live_render_fn)(const char *path, struct live_response *resp, void *ctx);

/* Accept one connection on listen_fd, read its request and answer it. */
void live_serve_one(int listen_fd, live_render_fn render, void *ctx);

#endif
