/*
 * gmond.c - fetch and parse gmond's XML (see gmond.h; SPEC §4, §6).
 *
 * gmond answers a TCP connection on its tcp_accept_channel by writing its
 * whole state as XML and closing.  The XML is read with libxml2 into a
 * tree; nothing here scans XML by hand.
 *
 * libxml2 is loaded when a gmond is polled, not linked: with ICU, which it
 * pulls in, it is about 2 MiB of every vmtp-collect's resident memory.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "libvmtp/dynlib.h"
#include "libvmtp/err.h"

#include "cpu.h"
#include "gmond.h"

/* gmond dumps a few kB per host; more than this is not a gmond */
#define GMOND_MAX_XML (64L * 1024 * 1024)

/* the library Debian's libxml2 installs */
#define XML_SONAME "libxml2.so.2"

/* libxml2's functions that we call, once loaded */
static struct {
	void *lib;
	__typeof__(xmlInitParser) *init;
	__typeof__(xmlCleanupParser) *cleanup;
	__typeof__(xmlReadMemory) *read_memory;
	__typeof__(xmlGetLastError) *last_error;
	__typeof__(xmlDocGetRootElement) *root_element;
	__typeof__(xmlGetProp) *get_prop;
	__typeof__(xmlFreeDoc) *free_doc;
	xmlFreeFunc *free; /* libxml2's variable xmlFree */
} x;

/* Loads libxml2 once.  Returns 0, or -1 with ERR set. */
static int
load(struct vmtp_err *err)
{
	static const struct dynlib_sym syms[] = {
	    DYNLIB_SYM(x, init, xmlInitParser),
	    DYNLIB_SYM(x, cleanup, xmlCleanupParser),
	    DYNLIB_SYM(x, read_memory, xmlReadMemory),
	    DYNLIB_SYM(x, last_error, xmlGetLastError),
	    DYNLIB_SYM(x, root_element, xmlDocGetRootElement),
	    DYNLIB_SYM(x, get_prop, xmlGetProp),
	    DYNLIB_SYM(x, free_doc, xmlFreeDoc),
	    DYNLIB_SYM(x, free, xmlFree),
	};

	return dynlib_load(&x.lib, XML_SONAME, "libxml2", syms,
	    sizeof(syms) / sizeof(syms[0]), &x, err);
}

int
gmond_init(struct vmtp_err *err)
{
	if (load(err) != 0)
		return -1;
	x.init();
	return 0;
}

void
gmond_cleanup(void)
{
	if (x.lib != NULL)
		x.cleanup();
}

/* Returns 1 when NODE is an element named NAME. */
static int
is_elem(const xmlNode *node, const char *name)
{
	return node->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)node->name, name) == 0;
}

/*
 * Parses attribute NAME of NODE as a finite number into *V; 0, or -1 with
 * *V unchanged.
 */
static int
attr_number(xmlNode *node, const char *name, double *v)
{
	xmlChar *s = x.get_prop(node, (const xmlChar *)name);
	char *end = NULL;
	double d;
	int rc = -1;

	if (s != NULL && s[0] != '\0') {
		errno = 0;
		d = strtod((const char *)s, &end);
		if (*end == '\0' && errno == 0 && d == d && d < 1e300 &&
		    d > -1e300) {
			*v = d;
			rc = 0;
		}
	}
	(*x.free)(s);
	return rc;
}

/*
 * Reads one HOST element into R.  Returns 1 when it has an IP and all three
 * CPU metrics, 0 when it does not.
 */
static int
read_host(xmlNode *host, double t, struct cpu_reading *r)
{
	xmlChar *ip = x.get_prop(host, (const xmlChar *)"IP");
	int have = 0; /* bit per metric found */
	double num = 0;
	double v;
	xmlNode *m;

	memset(r, 0, sizeof(*r));
	if (ip == NULL || ip[0] == '\0' ||
	    strlen((const char *)ip) >= sizeof(r->host)) {
		(*x.free)(ip);
		return 0;
	}
	snprintf(r->host, sizeof(r->host), "%s", (const char *)ip);
	(*x.free)(ip);
	for (m = host->children; m != NULL; m = m->next) {
		xmlChar *name;

		if (!is_elem(m, "METRIC"))
			continue;
		name = x.get_prop(m, (const xmlChar *)"NAME");
		if (name == NULL)
			continue;
		if (strcmp((const char *)name, "cpu_user") == 0 &&
		    attr_number(m, "VAL", &r->user) == 0)
			have |= 1;
		else if (strcmp((const char *)name, "cpu_system") == 0 &&
		         attr_number(m, "VAL", &r->system) == 0)
			have |= 2;
		else if (strcmp((const char *)name, "cpu_num") == 0 &&
		         attr_number(m, "VAL", &v) == 0 && v >= 1 && v <= 1e6) {
			num = v;
			have |= 4;
		}
		(*x.free)(name);
	}
	if (have != 7)
		return 0;
	r->num = (long)num;
	r->t = t;
	cpu_reading_set_load(r);
	return 1;
}

/* Growable array of readings for the walk. */
struct readings {
	struct cpu_reading *v;
	size_t n, cap;
};

/*
 * Walks the children of NODE: GRIDs hold GRIDs and CLUSTERs, CLUSTERs and
 * the root hold HOSTs.  Returns 0, or -1 when out of memory.
 */
static int
walk(xmlNode *node, double t, struct readings *acc)
{
	xmlNode *c;

	for (c = node->children; c != NULL; c = c->next) {
		if (is_elem(c, "GRID") || is_elem(c, "CLUSTER")) {
			if (walk(c, t, acc) != 0)
				return -1;
		} else if (is_elem(c, "HOST")) {
			struct cpu_reading r;

			if (!read_host(c, t, &r))
				continue;
			if (acc->n == acc->cap) {
				size_t cap = acc->cap != 0 ? acc->cap * 2 : 8;
				struct cpu_reading *v =
				    realloc(acc->v, cap * sizeof(*v));

				if (v == NULL)
					return -1;
				acc->v = v;
				acc->cap = cap;
			}
			acc->v[acc->n++] = r;
		}
	}
	return 0;
}

long
gmond_parse(const char *buf, size_t len, double t, struct cpu_reading **out,
    struct vmtp_err *err)
{
	struct readings acc = {NULL, 0, 0};
	xmlDoc *doc = NULL;
	xmlNode *root;
	long rc = -1;

	*out = NULL;
	if (load(err) != 0)
		return -1;
	if (len > (size_t)GMOND_MAX_XML) {
		err_set(err, VMTP_EXIT_DATA, "XML larger than %ld bytes",
		    GMOND_MAX_XML);
		goto out;
	}
	/* no network, no entity expansion: the internal DTD is only read */
	doc = x.read_memory(buf, (int)len, "gmond.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL) {
		const xmlError *e = x.last_error();

		err_set(err, VMTP_EXIT_DATA, "malformed XML: line %d: %.200s",
		    e != NULL ? e->line : 0,
		    e != NULL && e->message != NULL ? e->message : "error");
		/* libxml2's messages end with a newline */
		len = strlen(err->msg);
		while (len > 0 &&
		       (err->msg[len - 1] == '\n' || err->msg[len - 1] == ' '))
			err->msg[--len] = '\0';
		goto out;
	}
	root = x.root_element(doc);
	if (root == NULL || !is_elem(root, "GANGLIA_XML")) {
		err_set(err, VMTP_EXIT_DATA, "not gmond XML (no GANGLIA_XML)");
		goto out;
	}
	if (walk(root, t, &acc) != 0) {
		err_set(err, VMTP_EXIT_FAIL, "out of memory");
		goto out;
	}
	*out = acc.v;
	acc.v = NULL;
	rc = (long)acc.n;
out:
	free(acc.v);
	if (doc != NULL)
		x.free_doc(doc);
	return rc;
}

/* Seconds left until DEADLINE (CLOCK_MONOTONIC), as poll()'s timeout. */
static int
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms < 0 ? 0 : ms > 600000 ? 600000 : (int)ms;
}

/*
 * Waits until FD has EVENTS, DEADLINE passes or *CANCEL is set, looking at
 * CANCEL every 100 ms.  Returns 1 when ready, 0 at the deadline, -1 with
 * errno set (ECANCELED when cancelled).
 */
static int
wait_fd(int fd, short events, const struct timespec *deadline,
    const atomic_int *cancel)
{
	for (;;) {
		struct pollfd p = {fd, events, 0};
		int left = ms_left(deadline);
		int n;

		if (cancel != NULL && atomic_load(cancel)) {
			errno = ECANCELED;
			return -1;
		}
		n = poll(&p, 1, left < 100 ? left : 100);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
		if (n == 0 && left <= 100)
			return 0;
	}
}

/* Connects FD (non-blocking) to AI by DEADLINE.  0, or -1 with errno. */
static int
connect_by(int fd, const struct addrinfo *ai, const struct timespec *deadline,
    const atomic_int *cancel)
{
	socklen_t len = sizeof(int);
	int soerr = 0;
	int n;

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -1;
	n = wait_fd(fd, POLLOUT, deadline, cancel);
	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

int
gmond_fetch(const char *host, const char *port, double timeout,
    const atomic_int *cancel, char **buf, size_t *len, struct vmtp_err *err)
{
	struct addrinfo hints = {0};
	struct addrinfo *res = NULL;
	struct addrinfo *ai;
	struct timespec deadline;
	char *data = NULL;
	size_t n = 0, cap = 0;
	int fd = -1;
	int rc = -1;
	int saved;
	int gai;

	*buf = NULL;
	*len = 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)timeout;
	deadline.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai != 0) {
		err_set(err, VMTP_EXIT_FAIL, "cannot resolve: %s",
		    gai_strerror(gai));
		goto out;
	}
	/* each address of the name in turn, as long as time is left */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd >= 0 && connect_by(fd, ai, &deadline, cancel) == 0)
			break;
		saved = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
		errno = saved;
	}
	if (fd < 0) {
		err_set(
		    err, VMTP_EXIT_FAIL, "cannot connect: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t got;
		int ready;

		if (n + 1 >= cap) {
			size_t bigger = cap != 0 ? cap * 2 : 65536;
			char *v;

			if (bigger > (size_t)GMOND_MAX_XML + 1) {
				err_set(err, VMTP_EXIT_FAIL,
				    "more than %ld bytes of XML",
				    GMOND_MAX_XML);
				goto out;
			}
			v = realloc(data, bigger);
			if (v == NULL) {
				err_set(err, VMTP_EXIT_FAIL, "out of memory");
				goto out;
			}
			data = v;
			cap = bigger;
		}
		ready = wait_fd(fd, POLLIN, &deadline, cancel);
		if (ready == 0) {
			err_set(err, VMTP_EXIT_FAIL,
			    "no complete answer within %g s", timeout);
			goto out;
		}
		got = ready < 0 ? -1 : read(fd, data + n, cap - n - 1);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got < 0) {
			err_set(err, VMTP_EXIT_FAIL, "cannot read: %s",
			    strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	data[n] = '\0';
	*buf = data;
	*len = n;
	data = NULL;
	rc = 0;
out:
	free(data);
	if (fd >= 0)
		close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}
