/*
 * compare.c - several results side by side in vmtp-chart's report (SPEC
 * §6): the union of their categories and series, each result's mean Gbps
 * at each (category, series), and the comparison table, which first
 * shows the bandwidth limit of each result when one was measured under a
 * limit: figures under different limits do not compare.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "model.h"

/*
 * Adds to C the categories (with their first-seen order in *SEEN) and the
 * series of RES that C does not have yet.  Returns 0, or -1.
 */
static int
compare_union(
    struct chart_compare *c, size_t **seen, const struct chart_result *res)
{
	size_t i;
	void *p;

	for (i = 0; i < res->ncat; i++) {
		if (cat_find(c->cats, c->ncat, res->cats[i].label) < c->ncat)
			continue;
		if ((p = array_grow(c->cats, c->ncat, sizeof(*c->cats))) ==
		    NULL)
			return -1;
		c->cats = p;
		if ((p = array_grow(*seen, c->ncat, sizeof(**seen))) == NULL)
			return -1;
		*seen = p;
		(*seen)[c->ncat] = c->ncat;
		if (cat_copy(&c->cats[c->ncat++], &res->cats[i]) != 0)
			return -1;
	}
	for (i = 0; i < res->nser; i++) {
		if (series_find(c->series, c->nser, res->series[i].name) <
		    c->nser)
			continue;
		if ((p = array_grow(c->series, c->nser, sizeof(*c->series))) ==
		    NULL)
			return -1;
		c->series = p;
		c->series[c->nser] = res->series[i];
		c->series[c->nser].name = strdup(res->series[i].name);
		if (c->series[c->nser++].name == NULL)
			return -1;
	}
	return 0;
}

/* Makes the table of C: Flow, Series, then one column per result. */
static int
compare_table_init(struct chart_compare *c, const struct chart_report *rep)
{
	const char **head = calloc(rep->nresults + 2, sizeof(*head));
	int *numeric = calloc(rep->nresults + 2, sizeof(*numeric));
	size_t r;
	int rc = -1;

	if (head == NULL || numeric == NULL)
		goto out;
	head[0] = "Flow";
	head[1] = "Series";
	for (r = 0; r < rep->nresults; r++) {
		head[r + 2] = rep->results[r].name;
		numeric[r + 2] = 1;
	}
	rc = table_init(&c->table, "Comparison (Gbps)", (int)rep->nresults + 2,
	    head, numeric);
out:
	free(head);
	free(numeric);
	return rc;
}

/*
 * Fills the Gbps of category J, series I of C from each result of REP,
 * and adds their row when one has a figure.  CELLS (nresults + 2) and NUM
 * (nresults) are the caller's room for the row.  Returns 0, or -1.
 */
static int
compare_row(struct chart_compare *c, const struct chart_report *rep, size_t j,
    size_t i, const char **cells, char (*num)[TABLE_NUM_LEN])
{
	const size_t nr = rep->nresults;
	size_t r;
	int any = 0;

	cells[0] = c->cats[j].label;
	cells[1] = c->series[i].name;
	for (r = 0; r < nr; r++) {
		const struct chart_result *res = &rep->results[r];
		double *at = &c->gbps[(i * c->ncat + j) * nr + r];
		size_t rcat = cat_find(res->cats, res->ncat, c->cats[j].label);
		size_t rser =
		    series_find(res->series, res->nser, c->series[i].name);

		cells[r + 2] = NULL;
		if (rcat == res->ncat || rser == res->nser)
			continue;
		*at = res->gbps[rcat * res->nser + rser];
		cells[r + 2] = table_num(num[r], 3, *at);
		any |= cells[r + 2] != NULL;
	}
	if (!any)
		return 0;
	return table_add(&c->table, 0, (int)nr + 2, cells);
}

/*
 * Adds the row of each result's bandwidth limit ("none" where it had
 * none) to C's table when some result had one.  CELLS as compare_row().
 * Returns 0, or -1.
 */
static int
compare_limits(
    struct chart_compare *c, const struct chart_report *rep, const char **cells)
{
	const size_t nr = rep->nresults;
	size_t r;
	int any = 0;

	for (r = 0; r < nr; r++)
		any |= rep->results[r].limit != NULL;
	if (!any)
		return 0;
	cells[0] = "Bandwidth limit";
	cells[1] = NULL;
	for (r = 0; r < nr; r++)
		cells[r + 2] = rep->results[r].limit != NULL
		                   ? rep->results[r].limit
		                   : "none";
	return table_add(&c->table, 0, (int)nr + 2, cells);
}

int
compare_build(struct chart_report *rep)
{
	struct chart_compare *c = &rep->compare;
	const size_t nr = rep->nresults;
	size_t *seen = NULL;
	size_t *map = NULL;
	const char **cells = NULL;
	char(*num)[TABLE_NUM_LEN] = NULL;
	size_t i, j, r;
	int rc = -1;

	/* the union of categories and series, in report order */
	for (r = 0; r < nr; r++)
		if (compare_union(c, &seen, &rep->results[r]) != 0)
			goto out;
	map = calloc(c->ncat + 1, sizeof(*map));
	if (map == NULL)
		goto out;
	cats_sort(c->cats, seen, c->ncat, map);
	series_sort(c->series, c->nser);
	c->gbps = calloc(c->nser * c->ncat * nr + 1, sizeof(*c->gbps));
	cells = calloc(nr + 2, sizeof(*cells));
	num = calloc(nr + 1, sizeof(*num));
	if (c->gbps == NULL || cells == NULL || num == NULL ||
	    compare_table_init(c, rep) != 0 ||
	    compare_limits(c, rep, cells) != 0)
		goto out;
	for (i = 0; i < c->nser * c->ncat * nr; i++)
		c->gbps[i] = NAN;
	for (j = 0; j < c->ncat; j++)
		for (i = 0; i < c->nser; i++)
			if (compare_row(c, rep, j, i, cells, num) != 0)
				goto out;
	rc = 0;
out:
	free(seen);
	free(map);
	free(cells);
	free(num);
	return rc;
}

void
compare_clear(struct chart_compare *c)
{
	cats_free(c->cats, c->ncat);
	series_free(c->series, c->nser);
	free(c->gbps);
	table_clear(&c->table);
}
