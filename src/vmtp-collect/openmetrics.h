/*
 * openmetrics.h - a run's results in the OpenMetrics text format, which
 * the Prometheus text parser also reads (vmtp-collect --openmetrics; SPEC
 * §6): for node_exporter's textfile collector, or to push to a
 * Pushgateway.
 *
 * One gauge family per figure, each with # HELP, # TYPE and # UNIT, in
 * base units (bytes per second, seconds, ratios); one series per flow,
 * protocol, packet size and direction, labelled with the run tag, the
 * flow's label (libvmtp/flow.h), its id, and its client and server hosts
 * (name and placement); then the time of each run; then "# EOF".  Series
 * carry no timestamp of their own (the textfile collector refuses them):
 * the run's time is the vmtp_run_timestamp_seconds gauge.
 */
#ifndef VMTP_COLLECT_OPENMETRICS_H
#define VMTP_COLLECT_OPENMETRICS_H

#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"

/*
 * Writes the results of RECORDS (the records read, in order, packed or
 * not (rec_pack()): run, host, flow and sample records are used, others
 * ignored) to FP.  A series is
 * the mean of its samples (TCP: over the loops); an error sample counts in
 * vmtp_errors only.  Returns 0, or -1 with ERR set when out of memory,
 * or -1 with errno set and ERR untouched when FP cannot be written (the
 * caller names the file).
 */
int openmetrics_write(FILE *fp, const json_t *records, struct vmtp_err *err);

#endif
