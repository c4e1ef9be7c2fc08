/*
 * category.c - the axes of vmtp-chart's charts (SPEC §6): categories, one
 * flow in one direction named as libvmtp's flow.h names it (L2, L3 fixed,
 * L3 floating, Upload, Download, Native; intra- and inter-node apart, IPv6
 * flows apart from IPv4 ones), and series (TCP, UDP and Multicast per
 * packet size), and the order a report shows them in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvmtp/flow.h"

#include "chart.h"
#include "model.h"

int
cat_init(
    struct chart_cat *cat, const char *desc, const char *target, int reverse)
{
	struct flow_name name;

	memset(cat, 0, sizeof(*cat));
	if (flow_name_init(&name, desc, flow_family_of(target), reverse) != 0)
		return -1;
	cat->group = name.group;
	cat->rank = name.rank;
	cat->label = name.label;
	cat->tic = name.tic;
	cat->desc = strdup(desc);
	return cat->desc == NULL ? -1 : 0;
}

int
cat_copy(struct chart_cat *to, const struct chart_cat *from)
{
	*to = (struct chart_cat){strdup(from->label), strdup(from->tic),
	    strdup(from->desc), from->group, from->rank};
	return to->label == NULL || to->tic == NULL || to->desc == NULL ? -1
	                                                                : 0;
}

void
cat_clear(struct chart_cat *cat)
{
	free(cat->label);
	free(cat->tic);
	free(cat->desc);
}

void
cats_free(struct chart_cat *cats, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cat_clear(&cats[i]);
	free(cats);
}

size_t
cat_find(const struct chart_cat *cats, size_t n, const char *label)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(cats[i].label, label) == 0)
			break;
	return i;
}

/* Orders A (first seen SA) and B (SB) as the report shows them. */
static int
cat_cmp(
    const struct chart_cat *a, size_t sa, const struct chart_cat *b, size_t sb)
{
	if (a->group != b->group)
		return a->group - b->group;
	if (a->group != FLOW_GROUP_OTHER && a->rank != b->rank)
		return a->rank - b->rank;
	return sa < sb ? -1 : sa > sb;
}

void
cats_sort(struct chart_cat *cats, size_t *seen, size_t n, size_t *map)
{
	size_t i, j;

	/* insertion sort: a result has a handful of categories */
	for (i = 1; i < n; i++) {
		struct chart_cat c = cats[i];
		size_t s = seen[i];

		for (j = i;
		     j > 0 && cat_cmp(&c, s, &cats[j - 1], seen[j - 1]) < 0;
		     j--) {
			cats[j] = cats[j - 1];
			seen[j] = seen[j - 1];
		}
		cats[j] = c;
		seen[j] = s;
	}
	for (i = 0; i < n; i++)
		map[seen[i]] = i;
}

static int
series_cmp(const void *pa, const void *pb)
{
	const struct chart_series *a = pa;
	const struct chart_series *b = pb;

	if (a->kind != b->kind)
		return a->kind - b->kind;
	return a->pkt_size < b->pkt_size ? -1 : a->pkt_size > b->pkt_size;
}

void
series_sort(struct chart_series *series, size_t n)
{
	if (n > 0)
		qsort(series, n, sizeof(*series), series_cmp);
}

void
series_free(struct chart_series *series, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(series[i].name);
	free(series);
}

size_t
series_find(const struct chart_series *series, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(series[i].name, name) == 0)
			break;
	return i;
}

int
series_name(struct chart_series *s, int tcp_sizes)
{
	const char *word =
	    s->kind == CHART_KIND_MULTICAST ? "Multicast" : "UDP";
	int rc;

	if (s->kind != CHART_KIND_TCP && s->pkt_size < 0)
		rc = asprintf(&s->name, "%s", word);
	else if (s->kind != CHART_KIND_TCP)
		rc = asprintf(&s->name, "%s %lld", word, s->pkt_size);
	else if (tcp_sizes > 1 && s->pkt_size >= 0)
		rc = asprintf(&s->name, "TCP %lld", s->pkt_size);
	else
		rc = asprintf(&s->name, "TCP");
	if (rc < 0) {
		s->name = NULL;
		return -1;
	}
	return 0;
}
