/*
 * text.c - the report as aligned terminal tables (SPEC §6, --format
 * text): the same tables as the HTML report, without charts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvmtp/err.h"

#include "chart.h"
#include "mesh.h"
#include "model.h"

/* Columns a UTF-8 string takes on a terminal (one per code point). */
static size_t
width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static void
cell(FILE *fp, const char *s, size_t w, int right, int last)
{
	size_t pad = w - width(s);

	if (right)
		fprintf(fp, "%*s%s", (int)pad, "", s);
	else if (last)
		fputs(s, fp);
	else
		fprintf(fp, "%s%*s", s, (int)pad, "");
}

/* A verdict cell: PASSED green, FAILED red (ANSI SGR) when COLOUR. */
static void
verdict_cell(FILE *fp, const char *s, size_t w, int last, int colour)
{
	const char *sgr = strcmp(s, "PASSED") == 0   ? "\033[32m"
	                  : strcmp(s, "FAILED") == 0 ? "\033[1;31m"
	                                             : NULL;

	if (!colour || sgr == NULL) {
		cell(fp, s, w, 0, last);
		return;
	}
	fprintf(fp, "%s%s\033[0m", sgr, s);
	if (!last)
		fprintf(fp, "%*s", (int)(w - width(s)), "");
}

static int
table_write(FILE *fp, const struct chart_table *t, int head, int colour)
{
	size_t *w = calloc((size_t)t->ncols + 1, sizeof(*w));
	size_t r;
	int c;

	if (w == NULL)
		return -1;
	for (c = 0; c < t->ncols; c++)
		w[c] = head ? width(t->head[c]) : 0;
	for (r = 0; r < t->nrows; r++) {
		const struct chart_row *row = &t->rows[r];

		for (c = 0; c < (row->error ? 2 : t->ncols); c++)
			if (width(row->cells[c]) > w[c])
				w[c] = width(row->cells[c]);
	}
	fprintf(fp, "%s\n", t->title);
	if (head) {
		fputs("  ", fp);
		for (c = 0; c < t->ncols; c++) {
			cell(fp, t->head[c], w[c], t->numeric[c],
			    c + 1 == t->ncols);
			fputs(c + 1 < t->ncols ? "  " : "\n", fp);
		}
	}
	for (r = 0; r < t->nrows; r++) {
		const struct chart_row *row = &t->rows[r];

		fputs("  ", fp);
		if (row->error) {
			cell(fp, row->cells[0], w[0], 0, 0);
			fputs("  ", fp);
			cell(fp, row->cells[1], w[1], 0, 0);
			fprintf(fp, "  error: %s\n", row->cells[2]);
			continue;
		}
		for (c = 0; c < t->ncols; c++) {
			if (c + 1 == t->verdict)
				verdict_cell(fp, row->cells[c], w[c],
				    c + 1 == t->ncols, colour);
			else
				cell(fp, row->cells[c], w[c], t->numeric[c],
				    c + 1 == t->ncols);
			fputs(c + 1 < t->ncols ? "  " : "\n", fp);
		}
	}
	fputc('\n', fp);
	free(w);
	return 0;
}

static void
rule(FILE *fp, const char *title, char ch)
{
	size_t i, n = width(title);

	fprintf(fp, "%s\n", title);
	for (i = 0; i < n; i++)
		fputc(ch, fp);
	fputs("\n\n", fp);
}

/*
 * Writes RES's mesh matrices (mesh.h) that --protocol PROTO shows to FP
 * when it is a mesh result.  Returns 0, or -1 with ERR set.
 */
static int
mesh_write(
    FILE *fp, const struct chart_result *res, int proto, struct vmtp_err *err)
{
	int tcp = result_shown(proto, "TCP");
	int rtt = result_shown(proto, "ICMP");

	if (res->mesh == NULL || (!tcp && !rtt))
		return 0;
	if (chart_mesh_text(fp, res->mesh, tcp, rtt, err) != 0)
		return -1;
	fputc('\n', fp);
	return 0;
}

int
text_write(
    FILE *fp, const struct chart_report *rep, int colour, struct vmtp_err *err)
{
	size_t i;

	rule(fp, rep->title, '=');
	if (CHART_IS_TREND(rep)) {
		if ((rep->trend.table.nrows > 0 &&
		        table_write(fp, &rep->trend.table, 1, colour) != 0) ||
		    table_write(fp, &rep->trend.runs, 1, colour) != 0)
			goto oom;
	} else if (rep->nresults > 1 && rep->compare.table.nrows > 0 &&
	           table_write(fp, &rep->compare.table, 1, colour) != 0)
		goto oom;
	for (i = 0; (!CHART_IS_TREND(rep) || rep->detail) && i < rep->nresults;
	     i++) {
		const struct chart_result *res = &rep->results[i];

		rule(fp, res->name, '-');
		if (res->props.nrows > 0 &&
		    table_write(fp, &res->props, 0, colour) != 0)
			goto oom;
		if (res->flows.nrows > 0 &&
		    table_write(fp, &res->flows, 1, colour) != 0)
			goto oom;
		if (res->numbers.nrows > 0 &&
		    table_write(fp, &res->numbers, 1, colour) != 0)
			goto oom;
		if (res->persec.nrows > 0 &&
		    table_write(fp, &res->persec, 1, colour) != 0)
			goto oom;
		if (res->icmp.nrows > 0 &&
		    table_write(fp, &res->icmp, 1, colour) != 0)
			goto oom;
		if (mesh_write(fp, res, rep->proto, err) != 0)
			return -1;
	}
	if (ferror(fp))
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot write the report: %s", strerror(errno));
	return 0;
oom:
	return err_set(err, VMTP_EXIT_FAIL, "out of memory");
}
