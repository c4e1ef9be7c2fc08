/*
 * flow.c - flow descriptions and their labels (SPEC §1, §4); the contract
 * is in flow.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvmtp/flow.h"

const char *const flow_group_names[FLOW_GROUP_COUNT] = {"intra-node",
    "inter-node", "VM to VM", "external host", "native hosts", "other flows"};

const char *const flow_label_bases[] = {
    "L2", "L3 fixed", "L3 floating", "Upload", "Download", "Native", NULL};

/*
 * The kinds as the original wrote them, with the words that find them in a
 * description (the original matched words too: "same network", "fixed
 * IP", "External-VM"), and their short names.
 */
static const struct {
	const char *desc;  /* what vmtp-provision writes */
	const char *match; /* found anywhere in a description */
	const char *name;  /* the label's first words; the external's is
	                      its direction */
	const char *tic;   /* the name under the group's title */
	int rank;
} kinds[FLOW_KIND_OTHER] = {
    [FLOW_KIND_L2] = {"VM to VM same network fixed IP", "same network fixed IP",
        "L2", "L2", 0},
    [FLOW_KIND_L3_FIXED] = {"VM to VM different network fixed IP",
        "different network fixed IP", "L3 fixed", "L3 fixed", 2},
    [FLOW_KIND_L3_FLOATING] = {"VM to VM different network floating IP",
        "floating IP", "L3 floating", "L3 floating", 4},
    [FLOW_KIND_EXTERNAL] = {"External-VM", "External-VM", NULL, NULL, 0},
    [FLOW_KIND_NATIVE_INTRA] = {"Native intra-host", "Native intra",
        "Native intra", "intra-host", 0},
    [FLOW_KIND_NATIVE_INTER] = {"Native inter-host", "Native inter",
        "Native inter", "inter-host", 2},
};

static const char *const node_suffix[] = {[FLOW_NODE_ANY] = "",
    [FLOW_NODE_INTRA] = " (intra-node)",
    [FLOW_NODE_INTER] = " (inter-node)"};

static int
is_vm_kind(enum flow_kind kind)
{
	return kind == FLOW_KIND_L2 || kind == FLOW_KIND_L3_FIXED ||
	       kind == FLOW_KIND_L3_FLOATING;
}

char *
flow_desc_new(enum flow_kind kind, enum flow_node node)
{
	char *desc = NULL;

	if (kind < 0 || kind >= FLOW_KIND_OTHER)
		return NULL;
	if (asprintf(&desc, "%s%s", kinds[kind].desc,
	        is_vm_kind(kind) ? node_suffix[node] : "") < 0)
		return NULL;
	return desc;
}

/* The kind DESC names; native flows before the VM words, as "Native
 * inter-host" says nothing of networks. */
static enum flow_kind
kind_of(const char *desc)
{
	static const enum flow_kind order[] = {FLOW_KIND_EXTERNAL,
	    FLOW_KIND_NATIVE_INTRA, FLOW_KIND_NATIVE_INTER, FLOW_KIND_L2,
	    FLOW_KIND_L3_FIXED, FLOW_KIND_L3_FLOATING};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (strstr(desc, kinds[order[i]].match) != NULL)
			return order[i];
	return FLOW_KIND_OTHER;
}

enum flow_family
flow_family_of(const char *target)
{
	return target != NULL && strchr(target, ':') != NULL ? FLOW_FAMILY_IPV6
	                                                     : FLOW_FAMILY_IPV4;
}

static enum flow_node
node_of(const char *desc)
{
	if (strstr(desc, "intra-node") != NULL)
		return FLOW_NODE_INTRA;
	if (strstr(desc, "inter-node") != NULL)
		return FLOW_NODE_INTER;
	return FLOW_NODE_ANY;
}

int
flow_name_init(struct flow_name *name, const char *desc,
    enum flow_family family, int reverse)
{
	static const char *const node_word[] = {[FLOW_NODE_ANY] = "",
	    [FLOW_NODE_INTRA] = " intra",
	    [FLOW_NODE_INTER] = " inter"};
	enum flow_node node = FLOW_NODE_ANY;
	const char *base;
	const char *tic;
	const char *rev;
	const char *v6 = family == FLOW_FAMILY_IPV6 ? " " FLOW_LABEL_IPV6 : "";
	int six = family == FLOW_FAMILY_IPV6;

	memset(name, 0, sizeof(*name));
	if (desc == NULL)
		desc = "";
	name->kind = kind_of(desc);
	switch (name->kind) {
	case FLOW_KIND_EXTERNAL:
		/* the direction is in the name */
		base = tic = reverse ? "Download" : "Upload";
		reverse = 0;
		name->group = FLOW_GROUP_EXTERNAL;
		break;
	case FLOW_KIND_NATIVE_INTRA:
	case FLOW_KIND_NATIVE_INTER:
		base = kinds[name->kind].name;
		tic = kinds[name->kind].tic;
		name->group = FLOW_GROUP_NATIVE;
		break;
	case FLOW_KIND_OTHER:
		base = tic = desc;
		name->group = FLOW_GROUP_OTHER;
		break;
	default:
		base = tic = kinds[name->kind].name;
		node = node_of(desc);
		name->group = node == FLOW_NODE_INTRA   ? FLOW_GROUP_INTRA
		              : node == FLOW_NODE_INTER ? FLOW_GROUP_INTER
		                                        : FLOW_GROUP_VM;
		break;
	}
	/* kinds step by 2, a direction by 2 of those, IPv6 by 1: "L2",
	 * "L2 IPv6", "L2 rev", "L2 IPv6 rev", "L3 fixed", ... */
	if (name->kind == FLOW_KIND_EXTERNAL)
		name->rank = (base[0] == 'D') * 2 + six;
	else if (name->kind != FLOW_KIND_OTHER)
		name->rank =
		    kinds[name->kind].rank * 2 + (reverse != 0) * 2 + six;
	rev = reverse ? " rev" : "";
	if (asprintf(&name->label, "%s%s%s%s", base, node_word[node], v6, rev) <
	    0)
		name->label = NULL;
	if (asprintf(&name->tic, "%s%s%s", tic, v6, rev) < 0)
		name->tic = NULL;
	if (name->label == NULL || name->tic == NULL) {
		flow_name_clear(name);
		return -1;
	}
	return 0;
}

void
flow_name_clear(struct flow_name *name)
{
	if (name == NULL)
		return;
	free(name->label);
	free(name->tic);
	memset(name, 0, sizeof(*name));
}

char *
flow_label(const char *desc, enum flow_family family, int reverse)
{
	struct flow_name name;
	char *label;

	if (flow_name_init(&name, desc, family, reverse) != 0)
		return NULL;
	label = name.label;
	name.label = NULL;
	flow_name_clear(&name);
	return label;
}
