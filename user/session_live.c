// SPDX-License-Identifier: MIT
/*
 * --listen's pages (report/live.c serves them): /metrics,
 * /debug/pprof/heap and (a Go target) /debug/pprof/goroutine built from the
 * maps and the target as they are now, without advancing the periodic
 * reports' trends or sequence numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/live.h"
#include "report/report.h"
#include "session_state.h"

void render_live(const char *path, struct live_response *resp, void *arg)
{
	struct live_context *live = arg;
	struct report r;
	bool heap = !strcmp(path, "/debug/pprof/heap");
	bool goroutines = !strcmp(path, "/debug/pprof/goroutine") && live->s->go_sites_fd >= 0;

	if (!strcmp(path, "/")) {
		resp->status = 200;
		resp->body = strdup(live->s->go_sites_fd >= 0 ?
				    "leaksnoop: /metrics (Prometheus), /debug/pprof/heap and "
				    "/debug/pprof/goroutine (pprof)\n" :
				    "leaksnoop: /metrics (Prometheus), /debug/pprof/heap (pprof)\n");
		resp->len = resp->body ? strlen(resp->body) : 0;
		return;
	}
	if ((!heap && !goroutines && strcmp(path, "/metrics")) ||
	    build_report(live->s, live->st, &(struct report_request){ .all_stacks = heap }, &r))
		return;
	if (heap || goroutines) {
		unsigned char *data;

		if ((heap ? report_gzip_pprof : report_gzip_goroutine_pprof)(&r, &data, &resp->len))
			return;
		resp->body = (char *)data;
		resp->content_type = "application/octet-stream";
	} else {
		FILE *out = open_memstream(&resp->body, &resp->len);

		if (!out)
			return;
		report_write_metrics(out, &r);
		fclose(out);
		resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	}
	resp->status = 200;
}
