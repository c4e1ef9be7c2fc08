/*
 * records.c - how vmtp-provision's cloud mode describes what it made
 * (SPEC §4): a host record per VM, the flows of SPEC §1 labelled by the
 * placement the API reports, and the run record's network details.
 */
#include <string.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/err.h"
#include "libvmtp/flow.h"
#include "libvmtp/mesh.h"
#include "libvmtp/rec.h"

#include "cloud-int.h"

/* Writes REC (stolen, NULL: out of memory) to the output. */
static int
emit(struct cloud *c, json_t *rec, struct vmtp_err *err)
{
	int rc;

	if (rec == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	rc = rec_write(c->out, rec, err);
	json_decref(rec);
	return rc;
}

/* The host record of VM V, with its placement; a new reference, or NULL
 * when out of memory. */
static json_t *
host_record(struct cloud *c, const struct vm *v)
{
	struct rec_ssh ssh = {vm_addr(v), 22,
	    cfg_str(c->o->cfg, "ssh_vm_username"), c->key_path,
	    or_empty(v->fingerprint)};
	json_t *rec =
	    rec_host_new(c->tag, v->name, v->role, &ssh, or_empty(v->ip));

	if (rec == NULL ||
	    (v->fip != NULL &&
	        json_object_set_new(rec, "floating_ip", json_string(v->fip))) ||
	    (v->ipv6 != NULL &&
	        json_object_set_new(rec, "ipv6", json_string(v->ipv6))) ||
	    json_object_set_new(rec, "az", json_string(or_empty(v->az))) != 0 ||
	    json_object_set_new(
	        rec, "network", json_string(c->net_name[v->net])) != 0 ||
	    json_object_set_new(rec, "server_id", json_string(v->id)) != 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/*
 * The server's address that flow K (0 same network, 1 different network,
 * 2 floating IP) of family V6 goes to: over IPv6 its IPv6 address (no
 * floating-IP flow); else its fixed IP, or for flow 2 its floating IP or,
 * with --no-floatingip, its fixed IP.  NULL when it has none.
 */
static const char *
flow_target(const struct cloud *c, int k, int v6)
{
	const struct vm *srv = &c->vms[0];

	if (v6)
		return k < 2 ? srv->ipv6 : NULL;
	if (k < 2 || (srv->fip == NULL && c->o->no_floatingip))
		return srv->ip;
	return srv->fip;
}

/*
 * The flows of SPEC §1 in the original's order: for each placement (intra
 * first), same network by fixed IP, different network by fixed IP, and by
 * floating IP (with --no-floatingip: the fixed IP, as the original
 * measured it); then the external host both ways; then, with IPv6, a twin
 * of each fixed-IP flow to the server's IPv6 address, so that the IPv4
 * flows keep their ids.  Labels come from the placement read back from the
 * API, not from what was asked.  Writes the flows of family V6 (0 or 1)
 * numbered from *ID.
 */
static int
write_vm_flows(struct cloud *c, int v6, int *id, struct vmtp_err *err)
{
	static const enum flow_kind what[] = {
	    FLOW_KIND_L2, FLOW_KIND_L3_FIXED, FLOW_KIND_L3_FLOATING};
	const struct vm *srv = &c->vms[0];
	int pass, i;

	for (pass = 1; pass >= 0; pass--) {
		for (i = 1; i < c->nvm; i++) {
			const struct vm *v = &c->vms[i];
			int intra = strcmp(or_empty(v->host_key),
			                or_empty(srv->host_key)) == 0;
			int k;

			if (intra != pass || (v6 && v->ipv6 == NULL))
				continue;
			for (k = v->net == 0 ? 0 : 1;
			     k <= (v->net == 0 ? 0 : 2); k++) {
				const char *target = flow_target(c, k, v6);

				if (target == NULL)
					continue;
				if (emit(c,
				        rec_flow_new(c->tag, ++*id, what[k],
				            intra ? FLOW_NODE_INTRA
				                  : FLOW_NODE_INTER,
				            v->name, srv->name, target, 0),
				        err) != 0)
					return -1;
			}
		}
	}
	return 0;
}

/*
 * The flows of a mesh: every pair of VMs (mesh.h) both ways, to the
 * server VM's fixed IP on their one network (or, with --mesh-path l3, on
 * its own network, through the router: the original's different-network
 * fixed-IP flow), each with its pair's round, labelled by the placement
 * read back.
 */
static int
write_mesh_flows(struct cloud *c, struct vmtp_err *err)
{
	struct mesh_pair pairs[MAX_VMS * (MAX_VMS - 1) / 2];
	int n = mesh_pairs(c->nvm, pairs);
	enum flow_kind kind = c->o->mesh_l3 ? FLOW_KIND_L3_FIXED : FLOW_KIND_L2;
	int id = 0;
	int i, way;

	for (i = 0; i < n; i++)
		for (way = 0; way < 2; way++) {
			const struct vm *cl =
			    &c->vms[way ? pairs[i].b : pairs[i].a];
			const struct vm *sv =
			    &c->vms[way ? pairs[i].a : pairs[i].b];
			int intra = strcmp(or_empty(cl->host_key),
			                or_empty(sv->host_key)) == 0;
			if (emit(c,
			        rec_mesh_flow_new(c->tag, ++id, kind,
			            intra ? FLOW_NODE_INTRA : FLOW_NODE_INTER,
			            cl->name, sv->name, or_empty(sv->ip),
			            pairs[i].round),
			        err) != 0)
				return -1;
		}
	return 0;
}

static int
write_flows(struct cloud *c, struct vmtp_err *err)
{
	const struct vm *srv = &c->vms[0];
	const char *ext;
	int id = 0;

	if (c->o->mesh != 0)
		return write_mesh_flows(c, err);
	if (write_vm_flows(c, 0, &id, err) != 0)
		return -1;
	/* the external host reaches the server by its floating IP, or, on a
	 * provider network or without floating IPs, at its own address */
	ext = srv->fip != NULL ? srv->fip
	      : c->o->reuse_network != NULL || c->o->no_floatingip
	          ? or_empty(srv->ip)
	          : NULL;
	if (c->o->external != NULL && ext != NULL &&
	    emit(c,
	        rec_flow_new(c->tag, ++id, FLOW_KIND_EXTERNAL, FLOW_NODE_ANY,
	            str(c->o->external, "name"), srv->name, ext, 1),
	        err) != 0)
		return -1;
	return write_vm_flows(c, 1, &id, err);
}

int
write_hosts_flows(struct cloud *c, struct vmtp_err *err)
{
	int i;

	for (i = 0; i < c->nvm; i++)
		if (emit(c, host_record(c, &c->vms[i]), err) != 0)
			return -1;
	if (c->o->external != NULL &&
	    rec_write(c->out, c->o->external, err) != 0)
		return -1;
	return write_flows(c, err);
}

/* The L2 agent's type is the first agent of a known data-path kind. */
int
describe_network(struct cloud *c, int unused, struct vmtp_err *err)
{
	json_t *run = c->o->run;
	struct vmtp_err e = VMTP_ERR_INIT;
	json_t *reply;
	json_t *a;
	size_t i;
	long st;

	(void)unused;
	(void)err;
	/* from the network's own record, read when it was made or found */
	if (c->encap != NULL)
		json_object_set_new(
		    run, "encapsulation", json_string(c->encap));
	reply = call(
	    c, "network", "GET", "/v2.0/agents", NULL, "list agents", &st, &e);
	if (st != 200) {
		json_decref(reply);
		return 0;
	}
	json_array_foreach (json_object_get(reply, "agents"), i, a) {
		const char *t = str(a, "agent_type");

		if (t != NULL && (strstr(t, "Open vSwitch") != NULL ||
		                     strstr(t, "Linux bridge") != NULL ||
		                     strstr(t, "OVN") != NULL ||
		                     strstr(t, "NIC Switch") != NULL)) {
			json_object_set_new(
			    run, "l2agent_type", json_string(t));
			break;
		}
	}
	json_decref(reply);
	return 0;
}
