/*
 * cloud.h - vmtp-provision's cloud mode (SPEC §1, §6): the VMTP topology
 * built through the OpenStack APIs, every created resource tagged,
 * journalled and written as a `resource` record before the next step.
 */
#ifndef VMTP_PROVISION_CLOUD_H
#define VMTP_PROVISION_CLOUD_H

#include <signal.h>
#include <stdio.h>

#include <jansson.h>

#include "libvmtp/err.h"
#include "libvmtp/os.h"

/* cloud_opts.mesh: one VM on every compute host. */
#define CLOUD_MESH_ALL (-1)

struct cloud_opts {
	const json_t *cfg;    /* the loaded configuration (borrowed) */
	const char *tag;      /* the run tag */
	const char *az;       /* availability zone, or NULL (cfg) */
	const char *hyper[2]; /* [AZ:]HOST of the server, of the clients */
	int inter_node_only;
	int same_network_only;
	/* --mesh: this many VMs (CLOUD_MESH_ALL: one per compute host), one
	 * network (or one each: mesh_l3), every pair measured both ways in
	 * rounds; 0: the VMTP topology */
	int mesh;
	/* --mesh-path l3: each mesh VM on a network of its own, all on the
	 * run's router, and the flows between them through it */
	int mesh_l3;
	const char *reuse_network; /* provider network name, or NULL */
	const char *vnic_type;     /* normal, direct, macvtap; NULL: normal */
	/* slaac, dhcpv6-stateful or dhcpv6-stateless: an IPv6 subnet beside
	 * each IPv4 one; NULL: IPv4 only */
	const char *ipv6_mode;
	int no_floatingip;     /* VMs reached at their fixed IPs */
	int no_dhcp;           /* subnets made without DHCP */
	int config_drive;      /* servers booted with a config drive */
	const char *user_data; /* Nova user data, base64; NULL: none */
	int keep_on_error;
	int delete_image;  /* an image uploaded for the run goes with it */
	json_t *run;       /* the run record to complete and write (borrowed) */
	json_t *external;  /* the external host record, or NULL (borrowed) */
	int ssh_attempts;  /* SSH tries per VM (ssh_retry_count) */
	int poll_attempts; /* API polls while VMs boot (generic_retry_count) */
	/* set by a signal handler: stop, roll back */
	const volatile sig_atomic_t *cancel;
};

/*
 * Builds the topology: discovers the external network, image, flavor and
 * compute hosts; creates key pair, security group, networks, subnets,
 * router, VMs (all booted at once) and floating IPs; waits for SSH on all
 * VMs; then writes the run, host and flow records to OUT.  On failure
 * (or cancel) deletes what it created unless keep_on_error, and returns -1
 * with ERR set to the API's own message; 0 on success.
 */
int cloud_provision(struct os_session *s, const struct cloud_opts *o, FILE *out,
    struct vmtp_err *err);

#endif
