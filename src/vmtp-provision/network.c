/*
 * network.c - what vmtp-provision's cloud mode makes for the VMs to meet
 * (SPEC §1, §6): the key pair, the security group and its rules, the
 * networks and subnets, the router, the floating IPs and the VMs' ports.
 * A configured resource is reused; what the run makes is journalled.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "libvmtp/cfg.h"
#include "libvmtp/err.h"
#include "libvmtp/journal.h"
#include "libvmtp/log.h"
#include "libvmtp/ports.h"
#include "libvmtp/proc.h"

#include "cloud-int.h"

/* Runs ssh-keygen for a fresh ed25519 key pair at PATH (no passphrase). */
static int
keygen(const char *path, const char *comment, struct vmtp_err *err)
{
	char *argv[] = {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
	    (char *)comment, "-f", (char *)path, NULL};
	struct proc_cmd cmd = {argv, "openssh-client", NULL, 0, 60};
	struct proc_out out;
	int rc = proc_run(&cmd, &out, err);

	proc_out_clear(&out);
	return rc;
}

/* Reads the first line of PATH into a new string; NULL with ERR set. */
static char *
read_line(const char *path, struct vmtp_err *err)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (fp == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "cannot open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	n = getline(&line, &cap, fp);
	fclose(fp);
	if (n <= 0) {
		free(line);
		err_set(err, VMTP_EXIT_FAIL, "%s is empty", path);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/*
 * The key files: the configured ones, else a fresh pair made in the state
 * folder.  Sets c->key_path; returns the public key file's path (a new
 * string) or NULL with ERR set.
 */
static char *
key_files(struct cloud *c, struct vmtp_err *err)
{
	const char *pub_file = cfg_str(c->o->cfg, "public_key_file");
	const char *priv_file = cfg_str(c->o->cfg, "private_key_file");
	char *dir = NULL;
	char *pub_path = NULL;

	if (pub_file != NULL && priv_file != NULL) {
		if (str_set(&c->key_path, priv_file, err) != 0)
			return NULL;
		return str_fmt(err, "%s", pub_file);
	}
	dir = journal_dir(err);
	if (dir == NULL ||
	    (c->key_path = str_fmt(err, "%s/%s.key", dir, c->tag)) == NULL ||
	    (pub_path = str_fmt(err, "%s.pub", c->key_path)) == NULL)
		goto out;
	/* a tag given again (--tag) starts with a fresh key */
	unlink(c->key_path);
	unlink(pub_path);
	if (keygen(c->key_path, c->tag, err) != 0) {
		free(pub_path);
		pub_path = NULL;
	}
out:
	free(dir);
	return pub_path;
}

/* The create_find of the key pair named ARG (its name is the run's). */
static json_t *
keypair_found(struct cloud *c, const void *arg, struct vmtp_err *err)
{
	char *q = http_escape(arg);
	char *path = q != NULL ? str_fmt(err, "/os-keypairs/%s", q) : NULL;
	json_t *reply = NULL;
	long st = -1;

	if (q == NULL)
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (path != NULL)
		reply = call(c, "compute", "GET", path, NULL,
		    "look for the key pair", &st, err);
	if (reply == NULL && st == 404) {
		err_clear(err);
		reply = json_null();
	}
	free(q);
	free(path);
	return reply;
}

int
make_keypair(struct cloud *c, int unused, struct vmtp_err *err)
{
	char *pub_path = NULL;
	char *pub = NULL;
	json_t *reply;
	int rc = -1;

	(void)unused;
	pub_path = key_files(c, err);
	if (pub_path == NULL)
		goto out;
	pub = read_line(pub_path, err);
	if (pub == NULL)
		goto out;
	reply = create(c, "compute", "/os-keypairs",
	    json_pack("{s:{s:s, s:s, s:s}}", "keypair", "name", c->keypair,
	        "public_key", pub, "type", "ssh"),
	    "create key pair", keypair_found, c->keypair, err);
	if (reply == NULL)
		goto out;
	json_decref(reply);
	rc = remember(c, "keypair", c->keypair, c->keypair, 1, NULL, err);
out:
	free(pub);
	free(pub_path);
	return rc;
}

/* The security group's rules: SSH, the tools' servers of libvmtp/ports.h,
 * ICMP. */
static const struct {
	const char *proto;
	int min, max;
} sg_rules[] = {{"tcp", 22, 22},
    {"tcp", VMTP_NUTTCP_PORT, VMTP_NUTTCP_LAST_PORT},
    {"udp", VMTP_NUTTCP_DATA_PORT, VMTP_NUTTCP_LAST_PORT},
    {"tcp", VMTP_IPERF3_PORT, VMTP_IPERF3_PORT},
    {"udp", VMTP_IPERF3_PORT, VMTP_IPERF3_PORT}, {"icmp", 0, 0}};

_Static_assert(sizeof(sg_rules) / sizeof(sg_rules[0]) == N_SG_RULES,
    "N_SG_RULES counts sg_rules");

int
make_secgroup(struct cloud *c, int unused, struct vmtp_err *err)
{
	json_t *sg = NULL;
	int own =
	    pick_name(c, "security_group_name", -1, "sg", &c->sg_name, err);

	(void)unused;
	if (own < 0)
		return -1;
	if (own) {
		int found =
		    neutron_find(c, "security-groups", c->sg_name, &sg, err);

		if (found < 0)
			return -1;
		if (found) {
			int rc = str_set(&c->sg_id, str(sg, "id"), err);

			json_decref(sg);
			return rc != 0 ? -1
			               : remember(c, "security_group",
			                     or_empty(c->sg_id), c->sg_name, 0,
			                     NULL, err);
		}
	}
	sg = neutron_create(c, "security-groups", "security_group",
	    "security_group", c->sg_name, json_object(), &c->sg_id, err);
	if (sg == NULL)
		return -1;
	json_decref(sg);
	c->sg_created = 1;
	return 0;
}

int
make_rule(struct cloud *c, int i, struct vmtp_err *err)
{
	int v6 = i >= N_SG_RULES;
	int k = v6 ? i - N_SG_RULES : i;
	/* Neutron's name for ICMP over IPv6 */
	const char *proto =
	    v6 && sg_rules[k].min == 0 ? "ipv6-icmp" : sg_rules[k].proto;
	json_t *r = json_pack("{s:s, s:s, s:s, s:s}", "security_group_id",
	    c->sg_id, "direction", "ingress", "ethertype", v6 ? "IPv6" : "IPv4",
	    "protocol", proto);
	struct neutron_item find;
	json_t *reply;
	/* "allow IPv6" PROTO (a word of sg_rules) and two ports (<= 65535)
	 * fit */
	char what[64];
	int rc;

	if (r != NULL && sg_rules[k].min > 0 &&
	    (json_object_set_new(
	         r, "port_range_min", json_integer(sg_rules[k].min)) != 0 ||
	        json_object_set_new(
	            r, "port_range_max", json_integer(sg_rules[k].max)) != 0)) {
		json_decref(r);
		r = NULL;
	}
	if (r == NULL)
		return err_set(err, VMTP_EXIT_FAIL, "out of memory");
	if (sg_rules[k].min == 0)
		snprintf(
		    what, sizeof(what), "allow %s%s", v6 ? "IPv6 " : "", proto);
	else
		snprintf(what, sizeof(what), "allow %s%s %d-%d",
		    v6 ? "IPv6 " : "", proto, sg_rules[k].min, sg_rules[k].max);
	find.coll = "security-group-rules";
	find.key = "security_group_rule";
	find.query = sg_rules[k].min == 0
	                 ? str_fmt(err,
	                       "security_group_id=%s&direction=ingress&"
	                       "ethertype=%s&protocol=%s",
	                       c->sg_id, v6 ? "IPv6" : "IPv4", proto)
	                 : str_fmt(err,
	                       "security_group_id=%s&direction=ingress&"
	                       "ethertype=%s&protocol=%s&port_range_min=%d&"
	                       "port_range_max=%d",
	                       c->sg_id, v6 ? "IPv6" : "IPv4", proto,
	                       sg_rules[k].min, sg_rules[k].max);
	if (find.query == NULL) {
		json_decref(r);
		return -1;
	}
	reply = create(c, "network", "/v2.0/security-group-rules",
	    json_pack("{s:o}", "security_group_rule", r), what, neutron_found,
	    &find, err);
	free((char *)find.query);
	if (reply == NULL)
		return -1;
	rc = remember(c, "security_group_rule",
	    str(json_object_get(reply, "security_group_rule"), "id"), what, 1,
	    c->sg_id, err);
	json_decref(reply);
	return rc;
}

/*
 * Learns the subnets of network I (c->net_id[I], read as NET) in one list
 * call: the first IPv4 one (c->subnet_id[I]; whether its DHCP is off goes
 * to c->nodhcp[I]) and the first IPv6 one (c->subnet6_id[I], NULL when
 * there is none).  A network of another project (a provider network) may
 * have subnets this user cannot list: both ids then stay NULL, which only
 * an IPv6 mode cannot do with.  Returns 0, or -1 with ERR set (also when
 * the network has no IPv4 subnet).
 */
static int
read_subnets(struct cloud *c, int i, const json_t *net, struct vmtp_err *err)
{
	char *path = str_fmt(err,
	    "/v2.0/subnets?network_id=%s&fields=id&fields=ip_version"
	    "&fields=enable_dhcp",
	    or_empty(c->net_id[i]));
	json_t *reply = NULL;
	json_t *sn;
	size_t k;
	int rc = -1;

	if (path != NULL)
		reply = call(c, "network", "GET", path, NULL,
		    "list the network's subnets", NULL, err);
	free(path);
	if (reply == NULL)
		return -1;
	json_array_foreach (json_object_get(reply, "subnets"), k, sn) {
		json_int_t version =
		    json_integer_value(json_object_get(sn, "ip_version"));

		if (version == 4 && c->subnet_id[i] == NULL) {
			if (str_set(&c->subnet_id[i], str(sn, "id"), err) != 0)
				goto out;
			c->nodhcp[i] =
			    json_is_false(json_object_get(sn, "enable_dhcp"));
		} else if (version == 6 && c->subnet6_id[i] == NULL &&
		           str_set(&c->subnet6_id[i], str(sn, "id"), err) != 0)
			goto out;
	}
	if (json_array_size(json_object_get(reply, "subnets")) == 0 &&
	    json_array_size(json_object_get(net, "subnets")) > 0) {
		if (c->o->ipv6_mode != NULL) {
			err_set(err, VMTP_EXIT_USAGE,
			    "--ipv6-mode: the subnets of network '%s' are not "
			    "visible to this user: its IPv6 subnet cannot be "
			    "checked",
			    or_empty(c->net_name[i]));
			goto out;
		}
	} else if (c->subnet_id[i] == NULL) {
		err_set(err, VMTP_EXIT_FAIL, "network %s has no IPv4 subnet",
		    or_empty(c->net_name[i]));
		goto out;
	}
	rc = 0;
out:
	json_decref(reply);
	return rc;
}

/* Takes network I from ITEM, an existing network of that name: its id,
 * encapsulation (network 0) and subnets (an IPv6 one with ipv6_mode). */
static int
reuse_network(struct cloud *c, int i, const json_t *item, struct vmtp_err *err)
{
	if (str_set(&c->net_id[i], str(item, "id"), err) != 0 ||
	    (i == 0 && str_set(&c->encap, str(item, "provider:network_type"),
	                   err) != 0) ||
	    read_subnets(c, i, item, err) != 0)
		return -1;
	if (c->o->ipv6_mode != NULL && c->subnet6_id[i] == NULL)
		return err_set(err, VMTP_EXIT_USAGE,
		    "network %s has no IPv6 subnet, which ipv6_mode needs",
		    c->net_name[i]);
	return remember(
	    c, "network", or_empty(c->net_id[i]), c->net_name[i], 0, NULL, err);
}

/*
 * Reads S, an IPv4 CIDR "a.b.c.d/len", into *BASE (the network's first
 * address, host order, host bits cleared) and *SIZE (its addresses).
 * Returns 0, or -1 when S is not one.
 */
static int
cidr4_parse(const char *s, uint64_t *base, uint64_t *size)
{
	const char *slash = s != NULL ? strchr(s, '/') : NULL;
	char addr[INET_ADDRSTRLEN];
	struct in_addr a;
	char *end;
	long len;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	/* a subnet has room for a gateway and a VM */
	if (inet_pton(AF_INET, addr, &a) != 1 || end == slash + 1 ||
	    *end != '\0' || errno != 0 || len < 1 || len > 30)
		return -1;
	*size = (uint64_t)1 << (32 - len);
	*base = (uint64_t)ntohl(a.s_addr) & ~(*size - 1);
	return 0;
}

char *
subnet_cidr(struct cloud *c, int i, struct vmtp_err *err)
{
	const json_t *list = cfg_get(c->o->cfg, "internal_cidr");
	size_t n = json_array_size(list);
	const json_t *cidr = json_array_get(list, (size_t)i);
	uint64_t base, size, b, sz;
	struct in_addr a;
	char addr[INET_ADDRSTRLEN];
	size_t k;
	int at;

	if (json_is_string(cidr))
		return str_fmt(err, "%s", json_string_value(cidr));
	if (!c->o->mesh_l3 || n == 0) {
		err_set(err, VMTP_EXIT_USAGE, "internal_cidr has no entry %d",
		    i + 1);
		return NULL;
	}
	for (k = 0; k < n; k++)
		if (cidr4_parse(json_string_value(json_array_get(list, k)), &b,
		        &sz) != 0) {
			err_set(err, VMTP_EXIT_USAGE,
			    "internal_cidr: '%s' is not an IPv4 network "
			    "(a.b.c.d/1 to /30) to continue from",
			    or_empty(
			        json_string_value(json_array_get(list, k))));
			return NULL;
		}
	/* the blocks after the last entry, of its size, none overlapping
	 * an entry of the list */
	cidr4_parse(
	    json_string_value(json_array_get(list, n - 1)), &base, &size);
	for (at = (int)n; at <= i; at++) {
		int clash;

		do {
			base += size;
			clash = 0;
			for (k = 0; k < n; k++) {
				cidr4_parse(
				    json_string_value(json_array_get(list, k)),
				    &b, &sz);
				clash |= base < b + sz && b < base + size;
			}
		} while (clash && base + size <= ((uint64_t)1 << 32));
		if (base + size > ((uint64_t)1 << 32)) {
			err_set(err, VMTP_EXIT_USAGE,
			    "internal_cidr: no room for %d networks after %s",
			    i + 1,
			    json_string_value(json_array_get(list, n - 1)));
			return NULL;
		}
	}
	a.s_addr = htonl((uint32_t)base);
	inet_ntop(AF_INET, &a, addr, sizeof(addr));
	return str_fmt(err, "%s/%d", addr, 32 - __builtin_ctzll(size));
}

/* Creates subnet I of network I, with CIDR subnet_cidr(I) (V6 0) or,
 * for its IPv6 subnet, internal_cidr_v6[I] and the IPv6 mode. */
static int
make_subnet(struct cloud *c, int i, int v6, struct vmtp_err *err)
{
	json_t *dns = cfg_get(c->o->cfg, "dns_nameservers");
	const json_t *cidr6 =
	    json_array_get(cfg_get(c->o->cfg, "internal_cidr_v6"), (size_t)i);
	char *cidr = NULL;
	/* "subnet", any int and "-v6" fit */
	char suffix[32];
	char *sub_name = NULL;
	json_t *attrs;
	json_t *item;
	int own;

	if (v6 && !json_is_string(cidr6))
		return err_set(err, VMTP_EXIT_USAGE,
		    "internal_cidr_v6 has no entry %d", i + 1);
	cidr = v6 ? str_fmt(err, "%s", json_string_value(cidr6))
	          : subnet_cidr(c, i, err);
	if (cidr == NULL)
		return -1;
	snprintf(suffix, sizeof(suffix), "subnet%d%s", i + 1, v6 ? "-v6" : "");
	own = pick_name(c,
	    v6 ? "internal_subnet_name_v6" : "internal_subnet_name", i, suffix,
	    &sub_name, err);
	if (own == 0 && v6) {
		/* the older spelling, when only it is the user's */
		char *old = NULL;

		own = pick_name(
		    c, "internal_subnet_name_ipv6", i, suffix, &old, err);
		if (own == 1) {
			free(sub_name);
			sub_name = old;
		} else
			free(old);
	}
	if (own < 0) {
		free(sub_name);
		free(cidr);
		return -1;
	}
	/* copies: steps on other threads read the configuration too, and a
	 * reference count is not to be shared between them; "o" steals the
	 * list, also when json_pack fails */
	dns = dns != NULL && !v6 ? json_deep_copy(dns) : json_array();
	attrs = json_pack("{s:s, s:i, s:s, s:o, s:b}", "network_id",
	    c->net_id[i], "ip_version", v6 ? 6 : 4, "cidr", cidr,
	    "dns_nameservers", dns, "enable_dhcp", !c->o->no_dhcp);
	/* Neutron takes an IPv6 mode on a subnet with DHCP only (main.c
	 * refuses --no-dhcp with it) */
	if (attrs != NULL && v6 &&
	    (json_object_set_new(
	         attrs, "ipv6_ra_mode", json_string(c->o->ipv6_mode)) != 0 ||
	        json_object_set_new(attrs, "ipv6_address_mode",
	            json_string(c->o->ipv6_mode)) != 0)) {
		json_decref(attrs);
		attrs = NULL;
	}
	item = neutron_create(c, "subnets", "subnet", "subnet", sub_name, attrs,
	    v6 ? &c->subnet6_id[i] : &c->subnet_id[i], err);
	free(sub_name);
	free(cidr);
	json_decref(item);
	return item != NULL ? 0 : -1;
}

int
make_network(struct cloud *c, int i, struct vmtp_err *err)
{
	/* "net" and any int fit */
	char suffix[32];
	json_t *item = NULL;
	int own, found = 0;

	snprintf(suffix, sizeof(suffix), "net%d", i + 1);
	own = pick_name(
	    c, "internal_network_name", i, suffix, &c->net_name[i], err);
	if (own < 0 || (own && (found = neutron_find(c, "networks",
	                            c->net_name[i], &item, err)) < 0))
		return -1;
	if (found) {
		int rc = reuse_network(c, i, item, err);

		json_decref(item);
		return rc;
	}
	item =
	    neutron_create(c, "networks", "network", "network", c->net_name[i],
	        json_pack("{s:b}", "admin_state_up", 1), &c->net_id[i], err);
	if (item == NULL)
		return -1;
	if (i == 0 &&
	    str_set(&c->encap, str(item, "provider:network_type"), err) != 0) {
		json_decref(item);
		return -1;
	}
	json_decref(item);
	if (make_subnet(c, i, 0, err) != 0)
		return -1;
	return c->o->ipv6_mode != NULL ? make_subnet(c, i, 1, err) : 0;
}

int
use_network(struct cloud *c, const char *name, struct vmtp_err *err)
{
	json_t *net = NULL;
	int found = neutron_find(c, "networks", name, &net, err);
	int rc;

	if (found <= 0) {
		if (found == 0)
			err_set(err, VMTP_EXIT_FAIL, "network '%s' not found",
			    name);
		return -1;
	}
	rc = str_set(&c->net_id[0], str(net, "id"), err) != 0 ||
	     str_set(&c->net_name[0], name, err) != 0 ||
	     str_set(&c->encap, str(net, "provider:network_type"), err) != 0;
	if (rc == 0)
		rc = read_subnets(c, 0, net, err);
	json_decref(net);
	if (rc != 0)
		return -1;
	if (c->o->ipv6_mode != NULL && c->subnet6_id[0] == NULL)
		return err_set(err, VMTP_EXIT_USAGE,
		    "--ipv6-mode: network '%s' has no IPv6 subnet", name);
	return remember(c, "network", or_empty(c->net_id[0]),
	    or_empty(c->net_name[0]), 0, NULL, err);
}

/* Gives router NAME (c->router) a leg on each subnet, IPv4 then IPv6; a
 * reused router (not CREATED) may have them already. */
static int
attach_subnets(
    struct cloud *c, const char *name, int created, struct vmtp_err *err)
{
	char *path = str_fmt(
	    err, "/v2.0/routers/%s/add_router_interface", or_empty(c->router));
	int rc = -1;
	int i, v6;

	for (i = 0; path != NULL && i < c->nets; i++)
		for (v6 = 0; v6 <= 1; v6++) {
			const char *subnet =
			    v6 ? c->subnet6_id[i] : c->subnet_id[i];
			char *leg = NULL;
			char *what = NULL;
			json_t *reply = NULL;
			long st = -1;

			if (subnet == NULL || (v6 && c->o->ipv6_mode == NULL))
				continue;
			leg = str_fmt(
			    err, "%s%s", c->net_name[i], v6 ? " IPv6" : "");
			if (leg != NULL)
				what = str_fmt(
				    err, "attach %s to router %s", leg, name);
			if (what != NULL)
				reply = call(c, "network", "PUT", path,
				    json_pack("{s:s}", "subnet_id", subnet),
				    what, &st, err);
			free(what);
			if (reply == NULL && leg != NULL && !created &&
			    st == 409) {
				err_clear(err);
				free(leg);
				continue;
			}
			if (reply == NULL || remember(c, "router_interface",
			                         str(reply, "port_id"), leg, 1,
			                         c->router, err) != 0) {
				json_decref(reply);
				free(leg);
				goto out;
			}
			json_decref(reply);
			free(leg);
		}
	rc = path != NULL ? 0 : -1;
out:
	free(path);
	return rc;
}

int
make_router(struct cloud *c, int unused, struct vmtp_err *err)
{
	char *name = NULL;
	json_t *item = NULL;
	int created = 1;
	int own, rc = -1;

	(void)unused;
	own = pick_name(c, "router_name", -1, "router", &name, err);
	if (own < 0)
		goto out;
	if (own) {
		int found = neutron_find(c, "routers", name, &item, err);

		if (found < 0)
			goto out;
		if (found) {
			created = 0;
			rc = str_set(&c->router, str(item, "id"), err);
			json_decref(item);
			if (rc != 0 ||
			    remember(c, "router", or_empty(c->router), name, 0,
			        NULL, err) != 0) {
				rc = -1;
				goto out;
			}
		}
	}
	if (created) {
		item = neutron_create(c, "routers", "router", "router", name,
		    json_pack("{s:{s:s}}", "external_gateway_info",
		        "network_id", c->ext_net),
		    &c->router, err);
		if (item == NULL)
			goto out;
		json_decref(item);
	}
	rc = attach_subnets(c, name, created, err);
out:
	free(name);
	return rc;
}

int
make_fip(struct cloud *c, int i, struct vmtp_err *err)
{
	struct vm *v = &c->vms[i];
	/* the description names the run and the VM: what finds it again */
	char *desc = str_fmt(err, "%s-%s", c->tag, or_empty(v->name));
	char *dq = desc != NULL ? http_escape(desc) : NULL;
	struct neutron_item find = {"floatingips", "floatingip", NULL};
	json_t *fip = desc != NULL
	                  ? json_pack("{s:s, s:s}", "floating_network_id",
	                        c->ext_net, "description", desc)
	                  : NULL;
	json_t *reply;
	int rc;

	if (desc == NULL || cancelled(c, err) != 0) {
		json_decref(fip);
		free(desc);
		return -1;
	}
	if (fip != NULL && v->port != NULL &&
	    json_object_set_new(fip, "port_id", json_string(v->port)) != 0)
		fip = NULL;
	if (dq != NULL)
		find.query = str_fmt(err, "description=%s", dq);
	if (find.query == NULL) {
		if (dq == NULL)
			err_set(err, VMTP_EXIT_FAIL, "out of memory");
		json_decref(fip);
		free(desc);
		free(dq);
		return -1;
	}
	reply = create(c, "network", "/v2.0/floatingips",
	    json_pack("{s:o}", "floatingip", fip), "create a floating IP",
	    neutron_found, &find, err);
	free(desc);
	free(dq);
	free((char *)find.query);
	if (reply == NULL)
		return -1;
	fip = json_object_get(reply, "floatingip");
	rc = str_set(&v->fip_id, str(fip, "id"), err) != 0 ||
	     str_set(&v->fip, str(fip, "floating_ip_address"), err) != 0;
	json_decref(reply);
	if (rc != 0)
		return -1;
	if (v->fip_id == NULL || v->fip == NULL)
		return err_set(err, VMTP_EXIT_FAIL,
		    "cannot create a floating IP: no id or address");
	if (remember(c, "floatingip", v->fip_id, v->fip, 1, NULL, err) != 0)
		return -1;
	v->fip_on = v->port != NULL;
	return tag_neutron(c, "floatingips", v->fip_id, err);
}

int
fip_attach(struct cloud *c, int i, struct vmtp_err *err)
{
	struct vm *v = &c->vms[i];
	char *path = str_fmt(err, "/v2.0/floatingips/%s", v->fip_id);
	char *what = str_fmt(err, "give %s floating IP %s", v->name, v->fip);
	json_t *reply = NULL;

	if (path != NULL && what != NULL)
		reply = call(c, "network", "PUT", path,
		    json_pack("{s:{s:s}}", "floatingip", "port_id", v->port),
		    what, NULL, err);
	free(path);
	free(what);
	if (reply == NULL)
		return -1;
	json_decref(reply);
	v->fip_on = 1;
	log_info("%s has floating IP %s", v->name, v->fip);
	return 0;
}

int
find_ports(struct cloud *c, int unused, struct vmtp_err *err)
{
	/* checked below: MAX_VMS server ids, UUIDs, fit */
	char path[128 + MAX_VMS * 48];
	size_t len;
	json_t *reply;
	json_t *p;
	size_t k;
	int i, n = 0;

	(void)unused;
	len = (size_t)snprintf(path, sizeof(path),
	    "/v2.0/ports?fields=id"
	    "&fields=device_id");
	for (i = 0; i < c->nvm; i++) {
		if (c->vms[i].port != NULL)
			continue;
		if (len < sizeof(path))
			len += (size_t)snprintf(path + len, sizeof(path) - len,
			    "&device_id=%s", c->vms[i].id);
		n++;
	}
	if (n == 0)
		return 0;
	if (len >= sizeof(path))
		return err_set(err, VMTP_EXIT_FAIL, "server ids too long");
	reply = call(c, "network", "GET", path, NULL,
	    "list the test servers' ports", NULL, err);
	if (reply == NULL)
		return -1;
	json_array_foreach (json_object_get(reply, "ports"), k, p) {
		const char *dev = str(p, "device_id");

		for (i = 0; i < c->nvm; i++)
			if (dev != NULL && c->vms[i].port == NULL &&
			    strcmp(dev, c->vms[i].id) == 0 &&
			    str_set(&c->vms[i].port, str(p, "id"), err) != 0) {
				json_decref(reply);
				return -1;
			}
	}
	json_decref(reply);
	return 0;
}
