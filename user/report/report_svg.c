// SPDX-License-Identifier: MIT
/*
 * -f svg: a self-contained interactive flame graph of one report.  Frames
 * grow upward from the root, each as wide as its share of the chosen sample
 * type (--sample).  Embedded script, no network: click a frame to zoom into
 * it, click the root or "Reset zoom" to zoom out, "Search" highlights frames
 * whose name matches a regular expression; hovering shows name, value, count
 * and share (also as a native tooltip).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

#define SVG_WIDTH 1200
#define FRAME_HEIGHT 17
#define MARGIN_TOP 48
#define MARGIN_BOTTOM 40

struct flame_node {
	const char *name;
	char owned_name[96]; /* for frames without a symbol */
	int64_t value;       /* of the chosen sample type */
	int64_t objects;     /* blocks (inuse or alloc, as the type) */
	struct flame_node *children, *next;
};

static struct flame_node *child_named(struct flame_node *parent, const char *name)
{
	struct flame_node *c;

	for (c = parent->children; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->owned_name, sizeof(c->owned_name), "%s", name);
	c->name = c->owned_name;
	c->next = parent->children;
	parent->children = c;
	return c;
}

static void frame_name(const struct frame *f, char *buf, size_t size)
{
	const char *base = f->module ? strrchr(f->module, '/') : NULL;

	if (f->symbol)
		snprintf(buf, size, "%s", f->symbol);
	else if (f->module)
		snprintf(buf, size, "[%s+0x%" PRIx64 "]", base ? base + 1 : f->module, f->offset);
	else
		snprintf(buf, size, "[0x%" PRIx64 "]", f->addr);
}

static int64_t objects_of(const struct report_stack *s, enum sample_type type)
{
	return type == SAMPLE_ALLOC_SPACE || type == SAMPLE_ALLOC_OBJECTS ?
		(int64_t)s->row->sample->stats.alloc_count : s->row->count;
}

/* Outermost frame first, so the root's children are where threads start. */
static int build_tree(const struct report *r, struct flame_node *root)
{
	char name[96];

	for (size_t i = 0; i < r->stack_count; i++) {
		const struct report_stack *s = &r->stacks[i];
		int64_t value = sample_value(s, r->sample), objects = objects_of(s, r->sample);
		struct flame_node *node = root;

		if (value <= 0)
			continue;
		root->value += value;
		root->objects += objects;
		node = child_named(node, kind_name(s->row->sample->key.kind));
		if (!node)
			return -ENOMEM;
		node->value += value;
		node->objects += objects;
		for (size_t d = s->depth; d-- > 0;) {
			frame_name(&s->frames[d], name, sizeof(name));
			node = child_named(node, name);
			if (!node)
				return -ENOMEM;
			node->value += value;
			node->objects += objects;
		}
	}
	return 0;
}

static int depth_of(const struct flame_node *n)
{
	int deepest = 0;

	for (const struct flame_node *c = n->children; c; c = c->next) {
		int d = depth_of(c);

		if (d > deepest)
			deepest = d;
	}
	return deepest + 1;
}

static void free_tree(struct flame_node *n)
{
	struct flame_node *c = n->children, *next;

	for (; c; c = next) {
		next = c->next;
		free_tree(c);
		free(c);
	}
}

static void write_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*s, out);
		}
	}
}

/* Warm colours by name, stable from one report to the next. */
static void colour_of(const char *name, char *buf, size_t size)
{
	unsigned hash = 2166136261u;

	for (const char *p = name; *p; p++)
		hash = (hash ^ (unsigned char)*p) * 16777619u;
	snprintf(buf, size, "rgb(%u,%u,%u)", 205 + hash % 50, 80 + (hash >> 8) % 130,
		 40 + (hash >> 16) % 50);
}

struct svg_layout {
	FILE *out;
	const struct report *r;
	int64_t total;
	int height;
	const char *unit;
};

static void write_frame(struct svg_layout *l, const struct flame_node *n, double x, int level)
{
	double width = l->total ? (double)n->value / (double)l->total : 0;
	int y = l->height - MARGIN_BOTTOM - (level + 1) * FRAME_HEIGHT;
	char fill[32], value[32];
	double child_x = x;

	colour_of(n->name, fill, sizeof(fill));
	if (l->r->sample == SAMPLE_INUSE_SPACE || l->r->sample == SAMPLE_ALLOC_SPACE)
		human_bytes((double)n->value, value, sizeof(value));
	else
		snprintf(value, sizeof(value), "%" PRId64, n->value);
	fprintf(l->out, "<g class=\"f\" data-x=\"%.9f\" data-w=\"%.9f\" data-name=\"", x, width);
	write_escaped(l->out, n->name);
	fprintf(l->out, "\" data-info=\"%s%s, %" PRId64 " objects, %.2f%%\"><title>", value, l->unit,
		n->objects, 100.0 * width);
	write_escaped(l->out, n->name);
	fprintf(l->out, " (%s%s, %" PRId64 " objects, %.2f%%)</title>", value, l->unit, n->objects,
		100.0 * width);
	fprintf(l->out, "<rect x=\"%.3f\" y=\"%d\" width=\"%.3f\" height=\"%d\" fill=\"%s\" rx=\"2\"/>"
		"<text x=\"%.3f\" y=\"%d\"></text></g>\n", x * SVG_WIDTH, y,
		width * SVG_WIDTH, FRAME_HEIGHT - 1, fill, x * SVG_WIDTH + 3, y + 12);
	for (const struct flame_node *c = n->children; c; c = c->next) {
		write_frame(l, c, child_x, level + 1);
		child_x += l->total ? (double)c->value / (double)l->total : 0;
	}
}

/* Zoom, search and labels: plain DOM, so any browser runs it offline. */
static const char flame_script[] =
"<script type=\"text/ecmascript\"><![CDATA[\n"
"var W = %d, frames = [], details, matched;\n"
"function label(g, x, w) {\n"
"  var t = g.querySelector('text'), name = g.getAttribute('data-name');\n"
"  var fit = Math.floor((w * W - 6) / 7);\n"
"  t.textContent = fit < 3 ? '' : (name.length <= fit ? name : name.slice(0, fit - 2) + '..');\n"
"}\n"
"function place(g, x, w) {\n"
"  var r = g.querySelector('rect'), t = g.querySelector('text');\n"
"  r.setAttribute('x', x * W); r.setAttribute('width', Math.max(w * W, 0));\n"
"  t.setAttribute('x', x * W + 3); label(g, x, w);\n"
"  g.style.display = w * W < 0.1 ? 'none' : '';\n"
"}\n"
"function zoom(g) {\n"
"  var x0 = +g.getAttribute('data-x'), w0 = +g.getAttribute('data-w');\n"
"  var y0 = +g.querySelector('rect').getAttribute('y');\n"
"  frames.forEach(function (f) {\n"
"    var x = +f.getAttribute('data-x'), w = +f.getAttribute('data-w');\n"
"    var y = +f.querySelector('rect').getAttribute('y');\n"
"    var inside = x >= x0 - 1e-12 && x + w <= x0 + w0 + 1e-12 && y <= y0;\n"
"    var ancestor = y > y0 && x <= x0 + 1e-12 && x + w >= x0 + w0 - 1e-12;\n"
"    if (!inside && !ancestor) { f.style.display = 'none'; return; }\n"
"    place(f, inside ? (x - x0) / w0 : 0, inside ? w / w0 : 1);\n"
"    f.style.opacity = inside ? 1 : 0.5;\n"
"  });\n"
"  document.getElementById('unzoom').style.opacity = 1;\n"
"}\n"
"function unzoom() {\n"
"  frames.forEach(function (f) { f.style.opacity = 1;\n"
"    place(f, +f.getAttribute('data-x'), +f.getAttribute('data-w')); });\n"
"  document.getElementById('unzoom').style.opacity = 0.3;\n"
"}\n"
"function search(term) {\n"
"  if (term === undefined) term = prompt('Search frames (regular expression):', '');\n"
"  if (term === null) return;\n"
"  var re = new RegExp(term), share = 0, spans = [];\n"
"  frames.forEach(function (f) {\n"
"    var hit = term !== '' && re.test(f.getAttribute('data-name'));\n"
"    var r = f.querySelector('rect');\n"
"    if (!r.getAttribute('data-fill')) r.setAttribute('data-fill', r.getAttribute('fill'));\n"
"    r.setAttribute('fill', hit ? 'rgb(230,0,230)' : r.getAttribute('data-fill'));\n"
"    f.classList.toggle('match', hit);\n"
"    if (!hit) return;\n"
"    var x = +f.getAttribute('data-x'), w = +f.getAttribute('data-w');\n"
"    if (!spans.some(function (s) { return x >= s[0] && x + w <= s[1] + 1e-12; })) {\n"
"      spans.push([x, x + w]); share += w; }\n"
"  });\n"
"  matched.textContent = term === '' ? '' : 'Matched: ' + (100 * share).toFixed(2) + '%%';\n"
"}\n"
"window.addEventListener('load', function () {\n"
"  details = document.getElementById('details'); matched = document.getElementById('matched');\n"
"  frames = Array.prototype.slice.call(document.querySelectorAll('g.f'));\n"
"  frames.forEach(function (f) {\n"
"    label(f, +f.getAttribute('data-x'), +f.getAttribute('data-w'));\n"
"    f.addEventListener('click', function () {\n"
"      if (f.getAttribute('data-w') >= 1 - 1e-9) unzoom(); else zoom(f); });\n"
"    f.addEventListener('mouseover', function () {\n"
"      details.textContent = f.getAttribute('data-name') + ': ' + f.getAttribute('data-info'); });\n"
"    f.addEventListener('mouseout', function () { details.textContent = ' '; });\n"
"  });\n"
"  document.getElementById('unzoom').addEventListener('click', unzoom);\n"
"  document.getElementById('search').addEventListener('click', function () { search(); });\n"
"});\n"
"]]></script>\n";

static const char *const sample_names[] = {
	"inuse_space", "inuse_objects", "alloc_space", "alloc_objects",
};

void report_write_svg(FILE *out, const struct report *r)
{
	struct flame_node root = { .name = "all" };
	struct svg_layout l = { .out = out, .r = r };
	int err = build_tree(r, &root);
	char total[32];

	l.total = root.value;
	l.height = MARGIN_TOP + MARGIN_BOTTOM + depth_of(&root) * FRAME_HEIGHT;
	l.unit = r->sample == SAMPLE_INUSE_SPACE || r->sample == SAMPLE_ALLOC_SPACE ? "" : " blocks";
	fprintf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n", SVG_WIDTH, l.height, SVG_WIDTH, l.height);
	fputs("<style>text { font: 12px monospace; fill: #000; pointer-events: none; }"
	      " g.f { cursor: pointer; } g.f:hover rect { stroke: #000; stroke-width: 0.5; }"
	      " .ui { font: 14px sans-serif; cursor: pointer; pointer-events: all; }</style>\n", out);
	fprintf(out, flame_script, SVG_WIDTH);
	fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fafafa\"/>\n");
	fprintf(out, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" style=\"font: 17px sans-serif\">"
		"leaksnoop: pid %d (", SVG_WIDTH / 2, (int)r->pid);
	write_escaped(out, r->comm);
	fprintf(out, "), %s, %s in all</text>\n", sample_names[r->sample],
		r->sample == SAMPLE_INUSE_SPACE || r->sample == SAMPLE_ALLOC_SPACE ?
		human_bytes((double)root.value, total, sizeof(total)) :
		(snprintf(total, sizeof(total), "%" PRId64, root.value), total));
	fprintf(out, "<text id=\"unzoom\" class=\"ui\" x=\"10\" y=\"38\" style=\"opacity:0.3\">"
		"Reset zoom</text>\n<text id=\"search\" class=\"ui\" x=\"%d\" y=\"38\" "
		"text-anchor=\"end\">Search</text>\n<text id=\"matched\" x=\"%d\" y=\"%d\" "
		"text-anchor=\"end\"> </text>\n<text id=\"details\" x=\"10\" y=\"%d\"> </text>\n",
		SVG_WIDTH - 10, SVG_WIDTH - 10, l.height - 14, l.height - 14);
	if (!err && root.value > 0)
		write_frame(&l, &root, 0, 0);
	fputs("</svg>\n", out);
	free_tree(&root);
	fflush(out);
}

int report_write_svg_file(const char *path, const struct report *r)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), err = 0;
	FILE *out;

	if (fd < 0)
		return -errno;
	out = fdopen(fd, "w");
	if (!out) {
		close(fd);
		return -errno;
	}
	report_write_svg(out, r);
	if (ferror(out))
		err = -EIO;
	if (fclose(out) && !err)
		err = -errno;
	return err;
}
