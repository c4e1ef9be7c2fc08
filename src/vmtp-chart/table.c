/*
 * table.c - the tables of vmtp-chart's report (SPEC §6): a title, named
 * columns and rows of strings, numbers formatted once here so that the
 * HTML and the text format show the same figures.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "model.h"

const char *
table_num(char buf[TABLE_NUM_LEN], int decimals, double x)
{
	if (isnan(x))
		return NULL;
	if (decimals > TABLE_NUM_DECIMALS_MAX)
		decimals = TABLE_NUM_DECIMALS_MAX;
	snprintf(buf, TABLE_NUM_LEN, "%.*f", decimals, x);
	return buf;
}

int
table_init(struct chart_table *t, const char *title, int ncols,
    const char *const *head, const int *numeric)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->title = strdup(title);
	t->head = calloc((size_t)ncols, sizeof(*t->head));
	t->numeric = calloc((size_t)ncols, sizeof(*t->numeric));
	if (t->title == NULL || t->head == NULL || t->numeric == NULL)
		return -1;
	t->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		t->head[i] = strdup(head[i]);
		if (t->head[i] == NULL)
			return -1;
		t->numeric[i] = numeric != NULL && numeric[i];
	}
	return 0;
}

void
table_clear(struct chart_table *t)
{
	size_t i;
	int j;

	for (i = 0; i < t->nrows; i++) {
		int n = t->rows[i].error ? 3 : t->ncols;

		for (j = 0; j < n; j++)
			free(t->rows[i].cells[j]);
		free(t->rows[i].cells);
	}
	free(t->rows);
	for (j = 0; t->head != NULL && j < t->ncols; j++)
		free(t->head[j]);
	free(t->head);
	free(t->numeric);
	free(t->title);
	memset(t, 0, sizeof(*t));
}

int
table_add(struct chart_table *t, int error, int n, const char *const *cells)
{
	struct chart_row *rows =
	    array_grow(t->rows, t->nrows, sizeof(*t->rows));
	struct chart_row *row;
	int i;

	if (rows == NULL)
		return -1;
	t->rows = rows;
	row = &t->rows[t->nrows];
	row->error = error;
	row->cells = calloc((size_t)n, sizeof(*row->cells));
	if (row->cells == NULL)
		return -1;
	t->nrows++;
	for (i = 0; i < n; i++) {
		row->cells[i] = strdup(cells[i] != NULL ? cells[i] : "-");
		if (row->cells[i] == NULL)
			return -1;
	}
	return 0;
}

/* Drops column C of T: its cells, its head, and the verdict's place. */
static void
table_drop(struct chart_table *t, int c)
{
	size_t r;
	int i;

	for (r = 0; r < t->nrows; r++) {
		if (t->rows[r].error)
			continue;
		free(t->rows[r].cells[c]);
		for (i = c; i + 1 < t->ncols; i++)
			t->rows[r].cells[i] = t->rows[r].cells[i + 1];
	}
	free(t->head[c]);
	if (t->verdict == c + 1)
		t->verdict = 0;
	else if (t->verdict > c + 1)
		t->verdict--;
	for (i = c; i + 1 < t->ncols; i++) {
		t->head[i] = t->head[i + 1];
		t->numeric[i] = t->numeric[i + 1];
	}
	t->ncols--;
}

void
table_prune(struct chart_table *t, int first)
{
	size_t r;
	int c;

	for (c = t->ncols - 1; c >= first; c--) {
		int used = 0;

		for (r = 0; r < t->nrows && !used; r++)
			used = !t->rows[r].error &&
			       strcmp(t->rows[r].cells[c], "-") != 0;
		if (!used)
			table_drop(t, c);
	}
}
