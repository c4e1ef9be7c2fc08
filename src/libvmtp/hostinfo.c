/*
 * hostinfo.c - os-release, /proc/cpuinfo and OpenStack service versions
 * read into the words of the run record (see hostinfo.h; SPEC §4, §5).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvmtp/hostinfo.h"

/* The releases in order from Liberty, the first whose services' major
 * versions each went up by one per release (before it, versions were
 * dates, and those services ran on Python 2, which the reader does not
 * ask).  A new release is one more name here. */
static const char *const releases[] = {"Liberty", "Mitaka", "Newton", "Ocata",
    "Pike", "Queens", "Rocky", "Stein", "Train", "Ussuri", "Victoria",
    "Wallaby", "Xena", "Yoga", "Zed", "2023.1 Antelope", "2023.2 Bobcat",
    "2024.1 Caracal", "2024.2 Dalmatian", "2025.1 Epoxy", "2025.2 Flamingo"};

/* Each service read, with its major version in Liberty. */
static const struct {
	const char *name;
	long liberty;
} services[] = {{"nova", 12}, {"neutron", 7}, {"keystone", 8}};

/* The start of the line after P's, or NULL at the end of the text. */
static const char *
next_line(const char *p)
{
	p = strchr(p, '\n');
	return p != NULL ? p + 1 : NULL;
}

int
hostinfo_os_release_get(const char *os, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p;
	size_t n = 0;
	char quote = '\0';

	out[0] = '\0';
	for (p = os; p != NULL && *p != '\0'; p = next_line(p)) {
		if (strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		p += klen + 1;
		if (*p == '"' || *p == '\'')
			quote = *p++;
		while (*p != '\0' && *p != '\n' && *p != quote) {
			/* only double quotes know escapes: \" \\ \$ \` */
			if (quote == '"' && *p == '\\' && p[1] != '\0' &&
			    p[1] != '\n')
				p++;
			if (n + 1 < size)
				out[n++] = *p;
			p++;
		}
		while (quote == '\0' && n > 0 &&
		       isspace((unsigned char)out[n - 1]))
			n--;
		out[n] = '\0';
		return 1;
	}
	return 0;
}

int
hostinfo_distro(const char *os, char *out, size_t size)
{
	char name[256];
	char version[128];

	if (!hostinfo_os_release_get(os, "NAME", name, sizeof(name)) ||
	    name[0] == '\0')
		return hostinfo_os_release_get(os, "PRETTY_NAME", out, size) &&
		       out[0] != '\0';
	hostinfo_os_release_get(os, "VERSION_ID", version, sizeof(version));
	snprintf(
	    out, size, "%s%s%s", name, version[0] != '\0' ? " " : "", version);
	return 1;
}

int
hostinfo_cpu(const char *cpuinfo, char *out, size_t size)
{
	static const char tag[] = "model name";
	char model[256] = "";
	const char *p;
	const char *v;
	long count = 0;
	size_t n;

	out[0] = '\0';
	for (p = cpuinfo; p != NULL && *p != '\0'; p = next_line(p)) {
		if (strncmp(p, tag, sizeof(tag) - 1) != 0)
			continue;
		v = p + sizeof(tag) - 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != ':')
			continue;
		if (count++ > 0)
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		n = strcspn(v, "\r\n");
		if (n >= sizeof(model))
			n = sizeof(model) - 1;
		memcpy(model, v, n);
		model[n] = '\0';
	}
	if (count == 0 || model[0] == '\0')
		return 0;
	snprintf(out, size, "%ld * %s", count, model);
	return 1;
}

/* Whether S is 1 to MAX characters all in ALLOWED (or alphanumeric). */
static int
plain(const char *s, size_t max, const char *allowed)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (n == max || (!isalnum((unsigned char)s[n]) &&
		                    strchr(allowed, s[n]) == NULL))
			return 0;
	return n > 0;
}

int
hostinfo_openstack_release(
    const char *service, const char *version, char *out, size_t size)
{
	size_t n_rel = sizeof(releases) / sizeof(releases[0]);
	size_t i;
	char *end;
	long major;

	out[0] = '\0';
	if (!plain(service, 32, "_-") || !plain(version, 64, ".+-_~") ||
	    !isdigit((unsigned char)version[0]))
		return -1;
	major = strtol(version, &end, 10);
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		long k = major - services[i].liberty;

		if (strcmp(service, services[i].name) != 0)
			continue;
		if ((*end != '.' && *end != '\0') || strstr(version, "dev") ||
		    k < 0 || (size_t)k >= n_rel)
			break;
		snprintf(
		    out, size, "%s (%s %s)", releases[k], service, version);
		return 1;
	}
	snprintf(out, size, "%s %s", service, version);
	return 0;
}
