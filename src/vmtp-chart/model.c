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
#include "model.h"

void *
model_grow(void *p, size_t n, size_t size)
{
	/* room for element n (0-based), doubling at powers of two */
	if (n > 0 && (n & (n - 1)) != 0)
		return p;
	return realloc(p, (n == 0 ? 1 : n * 2) * size);
}

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

/* Names result I of REP for legends: description, else date, else run. */
static int
name_result(struct chart_report *rep, size_t i)
{
	static const char *const keys[] = {
	    "test_description", "date", "run_id"};
	const json_t *doc = rep->results[i].doc;
	size_t k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *name = model_str(doc, keys[k]);

		if (name != NULL && name[0] != '\0') {
			rep->results[i].name = strdup(name);
			return rep->results[i].name == NULL ? -1 : 0;
		}
	}
	if (asprintf(&rep->results[i].name, "result %zu", i + 1) < 0) {
		rep->results[i].name = NULL;
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

	for (i = 0; i < rep->nresults; i++)
		if (name_result(rep, i) != 0)
			return -1;
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

struct chart_report *
chart_report_new(
    json_t *docs, int proto, const char *title, struct vmtp_err *err)
{
	struct chart_report *rep = calloc(1, sizeof(*rep));
	int tcp_sizes;
	json_t *doc;
	size_t i;
	int rc;

	if (rep == NULL)
		goto oom;
	rep->proto = proto;
	rep->results = calloc(json_array_size(docs) + 1, sizeof(*rep->results));
	if (rep->results == NULL)
		goto oom;
	tcp_sizes = result_tcp_sizes(docs);
	json_array_foreach (docs, i, doc) {
		rep->nresults++;
		if (result_build(
		        &rep->results[i], doc, proto, tcp_sizes, err) != 0)
			goto fail;
	}
	if (name_results(rep) != 0)
		goto oom;
	if (rep->nresults > 1 && compare_build(rep) != 0)
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
	return rep;
oom:
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
fail:
	chart_report_free(rep);
	return NULL;
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
	free(rep->title);
	free(rep);
}
