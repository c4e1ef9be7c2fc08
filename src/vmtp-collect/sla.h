/*
 * sla.h - SLA verdicts on the samples of a run (beyond the original tool;
 * SPEC §4 sla record).
 *
 * An expression is "[flow=SCOPE:]METRIC OP NUMBER", OP one of >= <= > <
 * ==.  METRIC is tcp_gbps (mean over the TCP samples), udp_gbps (highest
 * UDP sample), udp_loss (highest UDP loss_rate, percent), icmp_avg_ms
 * (mean of rtt_avg_ms), icmp_max_ms (highest rtt_max_ms) or retrans (sum
 * over the TCP samples).  SCOPE is a flow id or a flow label: L2, L3
 * fixed, L3 floating, Upload, Download or Native, optionally followed by
 * intra or inter, then IPv6 for the IPv6 flows (libvmtp/flow.h labels): a
 * scope without IPv6 judges IPv4 flows only, one with it IPv6 flows only,
 * so a scope judges what it judged before IPv6 flows existed.  Each flow
 * direction (a flow's reverse samples apart
 * from its forward ones) is judged on its own; samples with an error do
 * not count.
 */
#ifndef VMTP_COLLECT_SLA_H
#define VMTP_COLLECT_SLA_H

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/rec.h"

struct sla;

/*
 * Parses EXPR (copied).  Returns a new expression, or NULL with ERR set:
 * VMTP_EXIT_USAGE naming EXPR and what is wrong, VMTP_EXIT_FAIL when out
 * of memory.
 */
struct sla *sla_parse(const char *expr, struct vmtp_err *err);

/* Frees S; NULL is allowed. */
void sla_free(struct sla *s);

/*
 * Judges S on RECORDS (borrowed: the run's flow and sample records, in
 * order, packed or not (rec_pack())) and appends one sla record, packed
 * (into SPILL, or in memory when it is NULL), per flow direction in its scope
 * that has data for the metric to OUT:
 * {"type":"sla",
 * "run", "expr", "flow", "label", "direction" (reverse only), "value", "pass"}.
 * When no flow in scope has data, appends one record with "flow" and "value"
 * null and "pass" false: an SLA that nothing measured is not met.  Does this
 * per run tag.  Returns the number of failed verdicts, or -1 with ERR set when
 * out of memory.
 */
int sla_judge(const struct sla *s, const json_t *records,
    struct rec_spill *spill, json_t *out, struct vmtp_err *err);

#endif
