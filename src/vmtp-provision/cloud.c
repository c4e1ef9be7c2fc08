/*
 * cloud.c - vmtp-provision's cloud mode (see cloud.h; SPEC §1, §6): the
 * stages of a run in order, and the rollback when one fails.  What each
 * stage does lives in its own file (cloud-int.h lists them).
 *
 * The run waits for the cloud about as long as the cloud takes to boot a
 * VM: steps that do not depend on each other run side by side, each on a
 * connection of its own (run_tasks), and the VMs are booted as soon as
 * their key pair, security group and networks exist; the rules, the
 * router and the floating IPs are made while they boot, and each floating
 * IP goes to its VM's port as soon as that port exists.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/cli.h"
#include "libvmtp/err.h"
#include "libvmtp/journal.h"
#include "libvmtp/log.h"
#include "libvmtp/os.h"
#include "libvmtp/rec.h"
#include "libvmtp/res.h"

#include "cloud-int.h"

/* The most steps of one stage: the VMs, or the rules (IPv4 and IPv6) with
 * the router, the ports and the network details. */
#define MAX_TASKS (MAX_VMS + 2 * N_SG_RULES + 4 + MAX_UNTAGGED)

/*
 * Makes the topology in stages, each stage's steps side by side: what the
 * VMs need (key pair, security group, networks); the VMs; while they
 * boot, the rules, the router, the run record's details, the VMs' ports
 * and the tags of the networks and subnets; the floating IPs, on those
 * ports; then the wait for ACTIVE (floating IPs whose port came late are
 * placed on the way) and SSH.
 * The VMs go alone so that an API server serving one request at a time
 * starts them first.
 */
static int
build(struct cloud *c, struct vmtp_err *err)
{
	const struct cloud_opts *o = c->o;
	struct task t[MAX_TASKS];
	int own = o->reuse_network == NULL; /* networks, router, floating IPs */
	int rules = o->ipv6_mode != NULL ? 2 * N_SG_RULES : N_SG_RULES;
	int n = 0, i;

	add_task(t, &n, make_keypair, 0);
	add_task(t, &n, make_secgroup, 0);
	if (o->mesh != 0 && c->vms[0].host < 0)
		add_task(t, &n, make_group, 0);
	for (i = 0; own && i < c->nets; i++)
		add_task(t, &n, make_network, i);
	c->defer_tags = 1;
	if (run_tasks(c, t, n, err) != 0 || cancelled(c, err) != 0)
		return -1;
	c->defer_tags = 0;
	n = 0;
	for (i = 0; i < c->nvm; i++)
		add_task(t, &n, boot_vm, i);
	if (run_tasks(c, t, n, err) != 0 || cancelled(c, err) != 0)
		return -1;
	n = 0;
	if (own) {
		add_task(t, &n, make_router, 0);
		add_task(t, &n, find_ports, 0);
	}
	for (i = 0; c->sg_created && i < rules; i++)
		add_task(t, &n, make_rule, i);
	add_task(t, &n, describe_network, 0);
	for (i = 0; i < c->nuntagged; i++)
		add_task(t, &n, tag_later, i);
	if (run_tasks(c, t, n, err) != 0) {
		vm_error_first(c, err);
		return -1;
	}
	if (cancelled(c, err) != 0)
		return -1;
	n = 0;
	for (i = 0; own && !o->no_floatingip && i < c->nvm; i++)
		add_task(t, &n, make_fip, i);
	if (run_tasks(c, t, n, err) != 0) {
		vm_error_first(c, err);
		return -1;
	}
	if (cancelled(c, err) != 0 || rec_write(c->out, o->run, err) != 0)
		return -1;
	return wait_ready(c, err);
}

/*
 * After a failure: deletes what the run made (its records to the output),
 * unless --keep-on-error; the journal goes once nothing is left.  Errors
 * here are logged, not returned: the run's own error is the one to see.
 */
static void
rollback(struct cloud *c)
{
	struct vmtp_err e = VMTP_ERR_INIT;

	if (json_array_size(c->made) == 0) {
		journal_remove(c->tag, &e);
		return;
	}
	if (c->o->keep_on_error) {
		log_warn("--keep-on-error: what this run made stays; "
		         "vmtp-cleanup --tag %s removes it",
		    c->tag);
		return;
	}
	log_info("rolling back what this run created");
	if (res_delete_all(c->s, NULL, c->made, c->out, cli_note_deleted, &e) ==
	    0)
		journal_remove(c->tag, &e);
	else
		log_error("rollback incomplete: vmtp-cleanup --tag %s "
		          "finishes it",
		    c->tag);
}

/* Frees what C holds (not C). */
static void
cloud_clear(struct cloud *c)
{
	char **s[] = {&c->ext_net, &c->image, &c->flavor, &c->keypair,
	    &c->server_name, &c->client_name, &c->key_path, &c->known_hosts,
	    &c->sg_id, &c->sg_name, &c->router, &c->group_id, &c->encap};
	size_t k;
	int i;

	for (i = 0; i < MAX_WORKERS; i++)
		os_session_free(c->workers[i].s);
	for (k = 0; k < sizeof(s) / sizeof(s[0]); k++)
		free(*s[k]);
	for (i = 0; i < MAX_NETS; i++) {
		free(c->net_id[i]);
		free(c->net_name[i]);
		free(c->subnet_id[i]);
		free(c->subnet6_id[i]);
	}
	for (i = 0; i < MAX_VMS; i++) {
		struct vm *v = &c->vms[i];

		free(v->name);
		free(v->id);
		free(v->ip);
		free(v->ipv6);
		free(v->fip);
		free(v->az);
		free(v->host_key);
		free(v->fingerprint);
		free(v->port);
		free(v->fip_id);
	}
	pthread_mutex_destroy(&c->lock);
	if (c->journal != NULL)
		fclose(c->journal);
	json_decref(c->hosts);
	json_decref(c->made);
	json_decref(c->defaults);
}

int
cloud_provision(struct os_session *s, const struct cloud_opts *o, FILE *out,
    struct vmtp_err *err)
{
	struct cloud c;
	char *dir = NULL;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.o = o;
	c.out = out;
	c.tag = o->tag;
	c.nets =
	    o->same_network_only || o->reuse_network != NULL || o->mesh ? 1 : 2;
	c.made = json_array();
	pthread_mutex_init(&c.lock, NULL);
	c.defaults = cfg_load_defaults(err);
	dir = journal_dir(err);
	if (c.made == NULL || c.defaults == NULL || dir == NULL)
		goto out;
	c.known_hosts = str_fmt(err, "%s/%s.known_hosts", dir, c.tag);
	/* the names first: a name too long costs no cloud resource */
	if (c.known_hosts == NULL ||
	    run_name(&c, "vm_name_server", "server", VM_NAME_MAX,
	        &c.server_name, err) != 0 ||
	    run_name(&c, "vm_name_client", "client", CLIENT_NAME_MAX,
	        &c.client_name, err) != 0 ||
	    run_name(&c, "public_key_name", "key", KEYPAIR_NAME_MAX, &c.keypair,
	        err) != 0)
		goto out;
	c.journal = journal_open(c.tag, err);
	if (c.journal == NULL)
		goto out;
	if (o->no_floatingip && o->reuse_network == NULL)
		log_info("no floating IPs: the VMs are reached at their fixed "
		         "IPs, and the floating-IP flow is measured to the "
		         "server's fixed IP");
	/* the reused network first: one that does not fit costs nothing */
	if ((o->reuse_network != NULL &&
	        use_network(&c, o->reuse_network, err) != 0) ||
	    discover(&c, err) != 0 || cancelled(&c, err) != 0 ||
	    plan_vms(&c, err) != 0 || build(&c, err) != 0 ||
	    write_hosts_flows(&c, err) != 0) {
		rollback(&c);
		goto out;
	}
	rc = 0;
out:
	cloud_clear(&c);
	free(dir);
	return rc;
}
