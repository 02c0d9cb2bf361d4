/*
 * Replay plans, masks and comparison (see replay_plan.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "replay_plan.h"

int
replay_plan_build(const struct replay_flow *f, struct replay_plan *plan)
{
	uint64_t sent[2] = { 0, 0 };
	uint64_t base = f->first_timestamp_ns;

	memset(plan, 0, sizeof(*plan));
	plan->client_bytes = f->stream[REPLAY_CLIENT].length;
	plan->server_bytes = f->stream[REPLAY_SERVER].length;
	if (f->turn_count == 0)
		return 0;
	plan->client = calloc(f->turn_count, sizeof(*plan->client));
	plan->server = calloc(f->turn_count, sizeof(*plan->server));
	if (plan->client == NULL || plan->server == NULL) {
		replay_plan_free(plan);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < f->turn_count; i++) {
		const struct replay_turn *t = &f->turns[i];
		enum replay_dir other = t->dir == REPLAY_CLIENT ? REPLAY_SERVER
								 : REPLAY_CLIENT;
		struct replay_step *st = t->dir == REPLAY_CLIENT
			? &plan->client[plan->client_steps++]
			: &plan->server[plan->server_steps++];

		sent[t->dir] = t->offset + t->length;
		st->need = sent[other];
		st->upto = sent[t->dir];
		st->ts_ns = t->timestamp_ns > base ? t->timestamp_ns - base : 0;
		if (t->dir == REPLAY_SERVER &&
		    f->stream[REPLAY_CLIENT].fin_seen &&
		    f->stream[REPLAY_CLIENT].fin_timestamp_ns < t->timestamp_ns)
			plan->client_fin_first = true;
	}
	return 0;
}

void
replay_plan_free(struct replay_plan *plan)
{
	free(plan->client);
	free(plan->server);
	plan->client = plan->server = NULL;
	plan->client_steps = plan->server_steps = 0;
}

/* One mask rule. */
struct mask_rule {
	int64_t flow;			/* -1: every flow */
	bool header;
	char name[64];			/* header name */
	struct replay_range range;	/* byte range */
};

struct replay_mask {
	struct mask_rule *rules;
	uint32_t count;
};

void
replay_mask_free(struct replay_mask *m)
{
	if (m == NULL)
		return;
	free(m->rules);
	free(m);
}

/* Parse one rule line (comment and blanks removed); false if malformed. */
static bool
mask_parse_rule(char *line, struct mask_rule *r)
{
	char flow[32], what[64], extra[8];
	unsigned long long a, b;
	char *end;
	int n;

	memset(r, 0, sizeof(*r));
	n = sscanf(line, "%31s %63s %63s %7s", flow, what, r->name, extra);
	if (n < 2 || n > 3)
		return false;
	if (strcmp(flow, "*") == 0) {
		r->flow = -1;
	} else {
		errno = 0;
		a = strtoull(flow, &end, 10);
		if (errno != 0 || *end != '\0' || flow[0] == '-' || a > UINT32_MAX)
			return false;
		r->flow = (int64_t)a;
	}
	if (n == 3) {
		if (strcmp(what, "header") != 0 || strchr(r->name, ':') != NULL)
			return false;
		r->header = true;
		return true;
	}
	if (sscanf(what, "%llu-%llu%7s", &a, &b, extra) != 2 || a >= b ||
	    what[0] == '-')
		return false;
	r->range.start = a;
	r->range.end = b;
	return true;
}

struct replay_mask *
replay_mask_load(const char *path, char *err, size_t errlen)
{
	struct replay_mask *m;
	char line[512];
	unsigned lineno = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto nomem;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *hash = strchr(line, '#'), *p = line;
		struct mask_rule r, *grown;

		lineno++;
		if (hash != NULL)
			*hash = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			continue;
		if (!mask_parse_rule(p, &r)) {
			p[strcspn(p, "\r\n")] = '\0';
			snprintf(err, errlen, "%s:%u: '%s' is not 'FLOW START-END' or 'FLOW header NAME' (FLOW: an index or *)",
				 path, lineno, p);
			replay_mask_free(m);
			fclose(f);
			return NULL;
		}
		grown = realloc(m->rules, (m->count + 1) * sizeof(*grown));
		if (grown == NULL)
			goto nomem;
		m->rules = grown;
		m->rules[m->count++] = r;
	}
	fclose(f);
	return m;
nomem:
	snprintf(err, errlen, "%s: out of memory", path);
	replay_mask_free(m);
	fclose(f);
	return NULL;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct replay_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Append a range, growing the array by doubling. */
static int
ranges_push(struct replay_range **v, uint32_t *n, uint32_t *cap,
	    uint64_t start, uint64_t end)
{
	if (*n == *cap) {
		uint32_t c = *cap ? *cap * 2 : 8;
		struct replay_range *g = realloc(*v, c * sizeof(*g));

		if (g == NULL)
			return -ENOMEM;
		*v = g;
		*cap = c;
	}
	(*v)[(*n)++] = (struct replay_range){ start, end };
	return 0;
}

/* The value ranges of every "name:" line of a stream. */
static int
header_ranges(const struct replay_stream *s, const char *name,
	      struct replay_range **v, uint32_t *n, uint32_t *cap)
{
	size_t nl = strlen(name);

	for (uint64_t i = 0; i + nl < s->length; i++) {
		uint64_t j;

		if (i > 0 && s->data[i - 1] != '\n')
			continue;
		if (strncasecmp((const char *)s->data + i, name, nl) != 0 ||
		    s->data[i + nl] != ':')
			continue;
		j = i + nl + 1;
		while (j < s->length && s->data[j] == ' ')
			j++;
		i = j;
		while (j < s->length && s->data[j] != '\r' && s->data[j] != '\n')
			j++;
		if (j > i && ranges_push(v, n, cap, i, j) != 0)
			return -ENOMEM;
		i = j;
	}
	return 0;
}

int
replay_mask_ranges(const struct replay_mask *m, const struct replay_flow *f,
		   struct replay_range **out, uint32_t *count)
{
	struct replay_range *v = NULL;
	uint32_t n = 0, cap = 0, merged = 0;

	*out = NULL;
	*count = 0;
	if (m == NULL)
		return 0;
	for (uint32_t i = 0; i < m->count; i++) {
		const struct mask_rule *r = &m->rules[i];
		int rc;

		if (r->flow >= 0 && (uint64_t)r->flow != f->index)
			continue;
		if (r->header)
			rc = header_ranges(&f->stream[REPLAY_SERVER], r->name,
					   &v, &n, &cap);
		else
			rc = ranges_push(&v, &n, &cap, r->range.start, r->range.end);
		if (rc != 0) {
			free(v);
			return rc;
		}
	}
	if (n == 0) {
		free(v);
		return 0;
	}
	qsort(v, n, sizeof(*v), range_cmp);
	for (uint32_t i = 1; i < n; i++) {
		if (v[i].start <= v[merged].end) {
			if (v[i].end > v[merged].end)
				v[merged].end = v[i].end;
		} else {
			v[++merged] = v[i];
		}
	}
	*out = v;
	*count = merged + 1;
	return 0;
}

bool
replay_compare(enum replay_compare_mode mode, const uint8_t *expected,
	       uint64_t expected_len, const struct replay_range *ranges,
	       uint32_t count, uint64_t offset, const uint8_t *got,
	       uint64_t len, uint64_t *diff)
{
	uint64_t end = offset + len;
	uint64_t cmp_end = end < expected_len ? end : expected_len;
	uint64_t pos = offset;
	uint32_t r = 0;

	if (mode != REPLAY_COMPARE_LENGTH) {
		while (pos < cmp_end) {
			uint64_t stop = cmp_end;

			if (mode == REPLAY_COMPARE_MASK) {
				while (r < count && ranges[r].end <= pos)
					r++;
				if (r < count && ranges[r].start <= pos) {
					pos = ranges[r].end;
					continue;
				}
				if (r < count && ranges[r].start < stop)
					stop = ranges[r].start;
			}
			if (memcmp(expected + pos, got + (pos - offset),
				   stop - pos) != 0) {
				while (expected[pos] == got[pos - offset])
					pos++;
				*diff = pos;
				return false;
			}
			pos = stop;
		}
	}
	if (end > expected_len) {
		*diff = offset > expected_len ? offset : expected_len;
		return false;
	}
	return true;
}
