/*
 * controller.h - vmtp-provision --controller-node (SPEC §4 run record, §5):
 * what the cloud's controller node says about itself, read over SSH into
 * the run record as the original tool reported it.
 */
#ifndef VMTP_PROVISION_CONTROLLER_H
#define VMTP_PROVISION_CONTROLLER_H

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/ssh.h"

/*
 * Logs in to the controller node with SO and adds to RUN what its files
 * say: `distro` (/etc/os-release), `openstack_version` (the version of the
 * installed nova, neutron or keystone Python distribution, the first
 * found, with its release; see hostinfo_openstack_release()) and
 * `cpu_info` (/proc/cpuinfo).  What cannot be read is left out, a debug
 * line saying why.  Returns 0; 1 with ERR set when the controller cannot
 * be reached or logged in to, or the session is lost (what was read before
 * stays in RUN); -1 with ERR set when out of memory.
 */
int controller_describe(
    const struct ssh_opts *so, json_t *run, struct vmtp_err *err);

#endif
