// SPDX-License-Identifier: MIT
/*
 * --listen's pages (report/live.c serves them): /metrics and
 * /debug/pprof/heap built from the maps as they are now, without advancing
 * the periodic reports' trends or sequence numbers.
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
	bool profile = !strcmp(path, "/debug/pprof/heap");

	if (!strcmp(path, "/")) {
		resp->status = 200;
		resp->body = strdup("leaksnoop: /metrics (Prometheus), /debug/pprof/heap (pprof)\n");
		resp->len = resp->body ? strlen(resp->body) : 0;
		return;
	}
	if ((!profile && strcmp(path, "/metrics")) ||
	    build_report(live->s, live->st, &r, false, false, false, profile))
		return;
	if (profile) {
		unsigned char *data;

		if (report_gzip_pprof(&r, &data, &resp->len))
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
