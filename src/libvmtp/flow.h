/*
 * flow.h - what a flow is called (SPEC §1, §4): the flow descriptions the
 * original VMTP wrote, which vmtp-provision writes in flow records, and the
 * one label each description gets in charts (vmtp-chart) and SLA verdicts
 * (vmtp-collect --sla).  Nothing else in vmtp spells a description.
 *
 * A description is a kind ("VM to VM same network fixed IP") and, for VM
 * flows, the placement read back from the cloud (" (intra-node)").  Its
 * label is the kind's short name, the placement, " IPv6" for a flow over
 * IPv6, and " rev" for the reverse direction: "L3 fixed inter rev", "L2
 * intra IPv6 rev".  The external flow is named by its direction instead
 * ("Upload", "Download"); a description vmtp does not know is its own
 * label.  An IPv6 flow has the description of its IPv4 twin: its address
 * family is that of its target (SPEC §4), so every name below takes it.
 */
#ifndef VMTP_FLOW_H
#define VMTP_FLOW_H

/* The kinds of flow, in the order a report shows them within a group. */
enum flow_kind {
	FLOW_KIND_L2,           /* VM to VM, one network, fixed IP */
	FLOW_KIND_L3_FIXED,     /* VM to VM across the router, fixed IP */
	FLOW_KIND_L3_FLOATING,  /* VM to VM across the router, floating IP */
	FLOW_KIND_EXTERNAL,     /* the external host and a VM, both ways */
	FLOW_KIND_NATIVE_INTRA, /* host to host on one host */
	FLOW_KIND_NATIVE_INTER, /* host to host across two hosts */
	FLOW_KIND_OTHER,        /* a description vmtp does not know */
	FLOW_KIND_COUNT
};

/* The address family of a flow: that of its target ("ip_to"). */
enum flow_family { FLOW_FAMILY_IPV4, FLOW_FAMILY_IPV6 };

/* The word a label of an IPv6 flow has after its placement. */
#define FLOW_LABEL_IPV6 "IPv6"

/*
 * Returns the family of a flow whose target is TARGET: IPv6 when it holds
 * a ':', else IPv4 (also for NULL, as a flow without a target is charted
 * as the IPv4 flows always were).
 */
enum flow_family flow_family_of(const char *target);

/* Where the two ends of a VM flow run, as read back from the cloud. */
enum flow_node { FLOW_NODE_ANY, FLOW_NODE_INTRA, FLOW_NODE_INTER };

/* Groups of flows, in the order reports show them. */
enum flow_group {
	FLOW_GROUP_INTRA,    /* VM to VM on one compute node */
	FLOW_GROUP_INTER,    /* VM to VM across two compute nodes */
	FLOW_GROUP_VM,       /* VM to VM, placement not stated */
	FLOW_GROUP_EXTERNAL, /* external host <-> VM: Upload, Download */
	FLOW_GROUP_NATIVE,   /* host to host, no cloud */
	FLOW_GROUP_OTHER,    /* a description vmtp does not know */
	FLOW_GROUP_COUNT
};

/* The groups' titles: "intra-node", "inter-node", ... */
extern const char *const flow_group_names[FLOW_GROUP_COUNT];

/*
 * The labels' first words an SLA scope may name, NULL-terminated: "L2",
 * "L3 fixed", "L3 floating", "Upload", "Download", "Native".
 */
extern const char *const flow_label_bases[];

/* A description read: what a report needs to place and name a flow. */
struct flow_name {
	enum flow_kind kind;
	enum flow_group group;
	int rank;    /* order inside the group: kind, then forward first,
	                each IPv6 flow right after its IPv4 twin */
	char *label; /* "L3 fixed intra rev", "L2 inter IPv6", "Download",
	                or the desc */
	char *tic;   /* the label under its group's title: "L3 fixed rev",
	                "L2 IPv6", "intra-host" */
};

/*
 * Returns the description of a flow of KIND at NODE ("VM to VM same
 * network fixed IP (inter-node)"; NODE is ignored for kinds other than the
 * VM to VM ones), as a string the caller frees, or NULL when out of memory
 * or KIND is FLOW_KIND_OTHER.
 */
char *flow_desc_new(enum flow_kind kind, enum flow_node node);

/*
 * Reads DESC (NULL reads as "") of a flow of FAMILY for the REVERSE
 * (non-zero) or forward direction into *NAME, whose strings the caller
 * frees with flow_name_clear().  Returns 0, or -1 when out of memory with
 * *NAME cleared.
 */
int flow_name_init(struct flow_name *name, const char *desc,
    enum flow_family family, int reverse);

/* Frees the strings of NAME and zeroes it; NULL-safe. */
void flow_name_clear(struct flow_name *name);

/*
 * Returns the label of DESC of a flow of FAMILY in the REVERSE or forward
 * direction, as flow_name_init() names it, as a string the caller frees,
 * or NULL when out of memory.
 */
char *flow_label(const char *desc, enum flow_family family, int reverse);

#endif
