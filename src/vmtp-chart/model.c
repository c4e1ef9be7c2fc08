/*
 * model.c - result documents become the report of vmtp-chart (SPEC §6):
 * one result per document (result.c), named for the legends, several
 * compared side by side (compare.c), under one title.  model.h says which
 * file does which part of the model.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/err.h"

#include "chart.h"
#include "mesh.h"
#include "model.h"

double
model_num(const json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *
model_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int
mem_close(FILE *mem, char **buf)
{
	int bad = ferror(mem);

	if (fclose(mem) != 0 || bad || *buf == NULL) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

/* Names the results of REP, numbering those that share a name. */
static int
name_results(struct chart_report *rep)
{
	size_t i, j;
	char *name;

	/* a result without description, date or run: its number */
	for (i = 0; i < rep->nresults; i++)
		if (rep->results[i].name == NULL &&
		    asprintf(&rep->results[i].name, "result %zu", i + 1) < 0) {
			rep->results[i].name = NULL;
			return -1;
		}
	/* two results with one name: number them so legends differ */
	for (i = 0; i < rep->nresults; i++) {
		for (j = 0; j < rep->nresults; j++) {
			if (i != j && strcmp(rep->results[i].name,
			                  rep->results[j].name) == 0)
				break;
		}
		if (j == rep->nresults)
			continue;
		if (asprintf(&name, "%s #%zu", rep->results[i].name, i + 1) < 0)
			return -1;
		free(rep->results[i].name);
		rep->results[i].name = name;
	}
	return 0;
}

int
chart_tcp_sizes(const json_t *docs, double *first)
{
	return result_tcp_sizes(docs, first);
}

struct chart_report *
chart_report_new(
    int proto, int detail, int tcp_sizes, size_t ndocs, struct vmtp_err *err)
{
	struct chart_report *rep = calloc(1, sizeof(*rep));

	if (rep == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		return NULL;
	}
	rep->proto = proto;
	rep->detail = detail;
	rep->tcp_sizes = tcp_sizes;
	rep->lean = ndocs >= CHART_TREND_MIN && !detail;
	return rep;
}

int
chart_report_add(struct chart_report *rep, json_t *docs, struct vmtp_err *err)
{
	struct chart_mesh_scan mesh = {0};
	json_t *doc;
	size_t i;
	void *p;

	json_array_foreach (docs, i, doc) {
		p = array_grow(
		    rep->results, rep->nresults, sizeof(*rep->results));
		if (p == NULL)
			return err_set(err, VMTP_EXIT_FAIL, "out of memory");
		rep->results = p;
		memset(&rep->results[rep->nresults], 0, sizeof(*rep->results));
		rep->nresults++;
		if (result_build(&rep->results[rep->nresults - 1], doc,
		        rep->proto, rep->tcp_sizes, rep->lean, &mesh,
		        err) != 0) {
			chart_mesh_scan_clear(&mesh);
			return -1;
		}
		/* the document goes once charted: its mesh is read now */
		rep->results[rep->nresults - 1].mesh = chart_mesh_new(doc,
		    &mesh,
		    rep->mesh_share > 0 ? rep->mesh_share : MESH_LOW_DEFAULT,
		    err);
		chart_mesh_scan_clear(&mesh);
		if (err->exit != VMTP_EXIT_OK)
			return -1;
	}
	return 0;
}

int
chart_report_finish(
    struct chart_report *rep, const char *title, struct vmtp_err *err)
{
	int rc;

	/* a lean report has no sections to show */
	if (rep->lean && !CHART_IS_TREND(rep))
		return err_set(err, VMTP_EXIT_FAIL,
		    "the inputs changed while they were read");
	if (name_results(rep) != 0)
		goto oom;
	if (rep->nresults > 1 && compare_build(rep) != 0)
		goto oom;
	if (CHART_IS_TREND(rep) && trend_build(rep) != 0)
		goto oom;
	if (title != NULL)
		rc = asprintf(&rep->title, "%s", title);
	else if (rep->nresults == 1)
		rc = asprintf(
		    &rep->title, "vmtp results: %s", rep->results[0].name);
	else
		rc = asprintf(&rep->title, "vmtp results: %zu runs compared",
		    rep->nresults);
	if (rc < 0) {
		rep->title = NULL;
		goto oom;
	}
	return 0;
oom:
	return err_set(err, VMTP_EXIT_FAIL, "out of memory");
}

void
chart_report_free(struct chart_report *rep)
{
	size_t i;

	if (rep == NULL)
		return;
	for (i = 0; i < rep->nresults; i++)
		result_clear(&rep->results[i]);
	free(rep->results);
	compare_clear(&rep->compare);
	trend_clear(&rep->trend);
	free(rep->title);
	free(rep);
}
