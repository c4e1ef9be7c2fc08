/*
 * mesh.c - a mesh result as a sender x receiver matrix (see mesh.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "libvmtp/doc.h"

#include "chart.h"
#include "mesh.h"

/* throughput_kbps is Mbit/s x 1024 (SPEC §4): Gbps = kbps / 1048576 */
#define KBPS_PER_GBPS 1048576.0

void
chart_mesh_free(struct chart_mesh *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->hosts[i]);
	free(m->hosts);
	free(m->gbps);
	free(m->rtt_ms);
	free(m->low);
	free(m->low_out);
	free(m->low_in);
	free(m->worst);
	free(m->pairs);
	free(m);
}

/*
 * The name of one end of FLOW: the host part of AZ_KEY's placement
 * ("zone:host"), else IP_KEY's address, borrowed from FLOW (NULL when it
 * has neither).
 */
static const char *
end_name(const json_t *flow, const char *az_key, const char *ip_key)
{
	const char *az = json_string_value(json_object_get(flow, az_key));
	const char *colon;

	/* a zone alone ("nova", as a member sees it) names no host */
	colon = az != NULL ? strrchr(az, ':') : NULL;
	if (colon != NULL && colon[1] != '\0')
		return colon + 1;
	return json_string_value(json_object_get(flow, ip_key));
}

/* Names in natural order: compute-2 before compute-10, 10.0.0.9 before
 * 10.0.0.10. */
static int
cmp_str(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

int
chart_mesh_scan_flow(struct chart_mesh_scan *s, const json_t *flow)
{
	const char *ends[2];
	json_t *r, *p;
	size_t j, k;
	int e;

	if (json_object_get(flow, "round") == NULL)
		return 0;
	json_array_foreach (json_object_get(flow, "results"), j, r) {
		const char *proto =
		    json_string_value(json_object_get(r, "protocol"));

		if (proto == NULL || strcmp(proto, "ICMP") != 0)
			continue;
		json_array_foreach (json_object_get(r, "results"), k, p) {
			json_t *size = json_object_get(p, "packet_size");

			if (json_is_integer(size) &&
			    (!s->has_icmp_size ||
			        json_integer_value(size) < s->icmp_size)) {
				s->icmp_size = json_integer_value(size);
				s->has_icmp_size = 1;
			}
		}
	}
	if (s->hosts == NULL && (s->hosts = json_object()) == NULL)
		return -1;
	ends[0] = end_name(flow, "az_from", "ip_from");
	ends[1] = end_name(flow, "az_to", "ip_to");
	for (e = 0; e < 2; e++)
		if (ends[e] != NULL &&
		    json_object_set_new(s->hosts, ends[e], json_null()) != 0)
			return -1;
	return 0;
}

void
chart_mesh_scan_clear(struct chart_mesh_scan *s)
{
	json_decref(s->hosts);
	*s = (struct chart_mesh_scan){0};
}

/* The hosts of SCAN into M (sorted) and INDEX (name -> position).
 * Returns 0, or -1 when out of memory. */
static int
index_hosts(
    struct chart_mesh *m, const struct chart_mesh_scan *scan, json_t *index)
{
	const char *name;
	json_t *v;
	size_t i;

	m->n = json_object_size(scan->hosts);
	m->hosts = calloc(m->n + 1, sizeof(*m->hosts));
	if (m->hosts == NULL)
		return -1;
	i = 0;
	json_object_foreach (scan->hosts, name, v)
		if ((m->hosts[i++] = strdup(name)) == NULL)
			return -1;
	qsort(m->hosts, m->n, sizeof(*m->hosts), cmp_str);
	for (i = 0; i < m->n; i++)
		if (json_object_set_new(
		        index, m->hosts[i], json_integer((json_int_t)i)) != 0)
			return -1;
	return 0;
}

/* Adds FLOW's figures to the pair at AT: SUM and N of TCP Gbps and of
 * ICMP RTT at packet size SIZE. */
static void
add_flow(const json_t *flow, size_t at, long long size, double *tcp, int *ntcp,
    double *rtt, int *nrtt)
{
	json_t *r, *p;
	size_t j, k;

	json_array_foreach (json_object_get(flow, "results"), j, r) {
		const char *proto =
		    json_string_value(json_object_get(r, "protocol"));
		json_t *kbps = json_object_get(r, "throughput_kbps");

		if (proto == NULL || json_object_get(r, "error") != NULL ||
		    json_object_get(r, "direction") != NULL)
			continue;
		if (strcmp(proto, "TCP") == 0 && json_is_number(kbps)) {
			tcp[at] += json_number_value(kbps) / KBPS_PER_GBPS;
			ntcp[at]++;
		}
		if (strcmp(proto, "ICMP") != 0)
			continue;
		json_array_foreach (json_object_get(r, "results"), k, p) {
			json_t *avg = json_object_get(p, "rtt_avg_ms");

			if (json_integer_value(
			        json_object_get(p, "packet_size")) == size &&
			    json_is_number(avg)) {
				rtt[at] += json_number_value(avg);
				nrtt[at]++;
			}
		}
	}
}

/* The figures of every pair of DOC's flows into M (hosts found), the RTT
 * at packet SIZE.  Returns 0, or -1 when out of memory. */
static int
fill(struct chart_mesh *m, const json_t *doc, const json_t *index,
    long long size)
{
	size_t nn = m->n * m->n;
	int *ntcp = calloc(nn, sizeof(*ntcp));
	int *nrtt = calloc(nn, sizeof(*nrtt));
	json_t *flow = NULL;
	size_t i;
	int rc = -1;

	m->gbps = calloc(nn, sizeof(*m->gbps));
	m->rtt_ms = calloc(nn, sizeof(*m->rtt_ms));
	if (ntcp == NULL || nrtt == NULL || m->gbps == NULL ||
	    m->rtt_ms == NULL)
		goto out;
	for (i = 0; i < doc_flow_count(doc); i++) {
		const char *from, *to;

		json_decref(flow);
		if ((flow = doc_flow_at(doc, i)) == NULL)
			goto out;
		from = end_name(flow, "az_from", "ip_from");
		to = end_name(flow, "az_to", "ip_to");
		if (json_object_get(flow, "round") == NULL || from == NULL ||
		    to == NULL)
			continue;
		add_flow(flow,
		    (size_t)json_integer_value(json_object_get(index, from)) *
		            m->n +
		        (size_t)json_integer_value(json_object_get(index, to)),
		    size, m->gbps, ntcp, m->rtt_ms, nrtt);
	}
	for (i = 0; i < nn; i++) {
		m->gbps[i] = ntcp[i] > 0 ? m->gbps[i] / ntcp[i] : NAN;
		m->rtt_ms[i] = nrtt[i] > 0 ? m->rtt_ms[i] / nrtt[i] : NAN;
	}
	rc = 0;
out:
	json_decref(flow);
	free(ntcp);
	free(nrtt);
	return rc;
}

/*
 * Names the hosts that explain M's low pairs, worst first, into
 * M->worst: in turn, the host with the most low pairs not yet explained
 * (one low both as sender and as receiver first, then by name), while it
 * explains two or more; the low pairs left unexplained go to M->pairs.
 * LEFT is M->low copied, and is consumed.
 */
static void
rank_hosts(struct chart_mesh *m, unsigned char *left)
{
	size_t n = m->n;
	size_t h, k;

	for (;;) {
		size_t best = n;
		int best_score = 0, best_both = 0;

		for (h = 0; h < n; h++) {
			int out = 0, in = 0, both;

			for (k = 0; k < n; k++) {
				out += left[h * n + k];
				in += left[k * n + h];
			}
			both = out > 0 && in > 0;
			if (both > best_both ||
			    (both == best_both && out + in > best_score)) {
				best = h;
				best_score = out + in;
				best_both = both;
			}
		}
		if (best == n || best_score < 2)
			break;
		m->worst[m->nworst++] = best;
		for (k = 0; k < n; k++)
			left[best * n + k] = left[k * n + best] = 0;
	}
	for (h = 0; h < n * n; h++)
		if (left[h])
			m->pairs[m->npairs++] = h;
}

/* The median, threshold, low pairs and worst hosts of M.  Returns 0, or
 * -1 when out of memory. */
static int
judge(struct chart_mesh *m)
{
	size_t nn = m->n * m->n;
	double *v = malloc((nn + 1) * sizeof(*v));
	unsigned char *left;
	size_t nv = 0;
	size_t i, s, r;

	m->low = calloc(nn + 1, 1);
	m->low_out = calloc(m->n, sizeof(*m->low_out));
	m->low_in = calloc(m->n, sizeof(*m->low_in));
	m->worst = calloc(m->n, sizeof(*m->worst));
	m->pairs = calloc(nn + 1, sizeof(*m->pairs));
	if (v == NULL || m->low == NULL || m->low_out == NULL ||
	    m->low_in == NULL || m->worst == NULL || m->pairs == NULL) {
		free(v);
		return -1;
	}
	for (i = 0; i < nn; i++)
		if (!isnan(m->gbps[i]))
			v[nv++] = m->gbps[i];
	qsort(v, nv, sizeof(*v), cmp_double);
	m->median = nv == 0       ? NAN
	            : nv % 2 == 1 ? v[nv / 2]
	                          : (v[nv / 2 - 1] + v[nv / 2]) / 2;
	free(v);
	m->low_at = m->median * m->share;
	for (s = 0; s < m->n; s++)
		for (r = 0; r < m->n; r++) {
			double g = m->gbps[s * m->n + r];

			if (isnan(g) || !(g < m->low_at))
				continue;
			m->low[s * m->n + r] = 1;
			m->low_out[s]++;
			m->low_in[r]++;
		}
	left = malloc(nn + 1);
	if (left == NULL)
		return -1;
	memcpy(left, m->low, nn);
	rank_hosts(m, left);
	free(left);
	return 0;
}

struct chart_mesh *
chart_mesh_new(const json_t *doc, const struct chart_mesh_scan *scan,
    double share, struct vmtp_err *err)
{
	json_t *index = json_object();
	struct chart_mesh *m = calloc(1, sizeof(*m));

	if (m == NULL || index == NULL)
		goto oom;
	m->share = share;
	if (index_hosts(m, scan, index) != 0)
		goto oom;
	if (m->n < 2) {
		json_decref(index);
		chart_mesh_free(m);
		return NULL;
	}
	if (fill(m, doc, index, scan->has_icmp_size ? scan->icmp_size : -1) !=
	        0 ||
	    judge(m) != 0)
		goto oom;
	json_decref(index);
	return m;
oom:
	json_decref(index);
	chart_mesh_free(m);
	err_set(err, VMTP_EXIT_FAIL, "out of memory");
	return NULL;
}

/* Writes one matrix of M (VALUES with DECIMALS, low pairs marked '*'
 * when LOW) under TITLE to FP. */
static void
matrix_text(FILE *fp, const struct chart_mesh *m, const char *title,
    const double *values, int decimals, const unsigned char *low)
{
	int w = 9;
	size_t s, r;

	for (s = 0; s < m->n; s++)
		if ((int)strlen(m->hosts[s]) + 1 > w)
			w = (int)strlen(m->hosts[s]) + 1;
	fprintf(fp, "%s\n%-*s", title, w, "");
	for (r = 0; r < m->n; r++)
		fprintf(fp, " %*s", w, m->hosts[r]);
	putc('\n', fp);
	for (s = 0; s < m->n; s++) {
		fprintf(fp, "%-*s", w, m->hosts[s]);
		for (r = 0; r < m->n; r++) {
			double v = values[s * m->n + r];
			char cell[64];

			if (isnan(v))
				snprintf(cell, sizeof(cell), "-");
			else
				snprintf(cell, sizeof(cell), "%s%.*f",
				    low != NULL && low[s * m->n + r] ? "*" : "",
				    decimals, v);
			fprintf(fp, " %*s", w, cell);
		}
		putc('\n', fp);
	}
}

int
chart_mesh_has_rtt(const struct chart_mesh *m)
{
	size_t i;

	for (i = 0; i < m->n * m->n; i++)
		if (!isnan(m->rtt_ms[i]))
			return 1;
	return 0;
}

int
chart_mesh_summary(const struct chart_mesh *m, char **worst, char **pairs,
    struct vmtp_err *err)
{
	size_t len = 0, i;
	FILE *mem;

	*worst = *pairs = NULL;
	mem = open_memstream(worst, &len);
	if (mem == NULL)
		goto oom;
	if (m->nworst == 0)
		fprintf(mem,
		    m->npairs > 0 ? "none (no host is in two low pairs)"
		                  : "none below %.0f%% of the median",
		    m->share * 100);
	for (i = 0; i < m->nworst; i++) {
		size_t h = m->worst[i];

		fprintf(mem,
		    "%s%s (low as sender %d of %zu, as receiver %d of %zu)",
		    i > 0 ? "; " : "", m->hosts[h], m->low_out[h], m->n - 1,
		    m->low_in[h], m->n - 1);
	}
	if (mem_close(mem, worst) != 0)
		goto oom;
	if (m->npairs == 0)
		return 0;
	mem = open_memstream(pairs, &len);
	if (mem == NULL)
		goto oom;
	for (i = 0; i < m->npairs; i++)
		fprintf(mem, "%s%s -> %s", i > 0 ? ", " : "",
		    m->hosts[m->pairs[i] / m->n], m->hosts[m->pairs[i] % m->n]);
	if (mem_close(mem, pairs) == 0)
		return 0;
oom:
	free(*worst);
	free(*pairs);
	*worst = *pairs = NULL;
	return err_set(err, VMTP_EXIT_FAIL, "out of memory");
}

int
chart_mesh_text(FILE *fp, const struct chart_mesh *m, int tcp, int rtt,
    struct vmtp_err *err)
{
	char title[256];
	char *worst, *pairs;

	if (tcp) {
		snprintf(title, sizeof(title),
		    "Mesh of %zu hosts: TCP Gbps, sender (row) to receiver "
		    "(column); * below %.0f%% of the median (%.2f Gbps)",
		    m->n, m->share * 100, m->median);
		matrix_text(fp, m, title, m->gbps, MESH_GBPS_DECIMALS, m->low);
	}
	if (rtt && chart_mesh_has_rtt(m)) {
		if (tcp)
			putc('\n', fp);
		matrix_text(fp, m, "Mesh: ICMP RTT ms (average)", m->rtt_ms,
		    MESH_RTT_DECIMALS, NULL);
	}
	if (tcp) {
		if (chart_mesh_summary(m, &worst, &pairs, err) != 0)
			return -1;
		fprintf(fp, "\nWorst hosts: %s\n", worst);
		if (pairs != NULL)
			fprintf(fp, "Low pairs: %s\n", pairs);
		free(worst);
		free(pairs);
	}
	if (fflush(fp) != 0 || ferror(fp))
		return err_set(err, VMTP_EXIT_FAIL, "cannot write: %s",
		    strerror(errno != 0 ? errno : EIO));
	return 0;
}
