/*
 * gnuplot-only.c - the least a program that draws with gnuplot pays, for
 * bench/chart-200: it runs gnuplot the way vmtp-chart does (found in PATH,
 * "gnuplot /dev/stdin", the script through a pipe, its SVG back through
 * another), writes what gnuplot printed to a file and waits for it, and
 * does nothing else: no input to read, no report to make.
 *
 * Usage: gnuplot-only SCRIPT OUT; exits 0, or 1 with a message.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Reads all of FD into a new buffer of *LEN bytes; NULL on error. */
static char *
slurp(int fd, size_t *len)
{
	size_t cap = 65536;
	char *buf = malloc(cap);
	ssize_t n;

	*len = 0;
	while (buf != NULL && (n = read(fd, buf + *len, cap - *len)) > 0) {
		*len += (size_t)n;
		if (*len == cap) {
			char *p = realloc(buf, cap * 2);

			if (p == NULL)
				free(buf);
			buf = p;
			cap *= 2;
		}
	}
	return buf;
}

int
main(int argc, char **argv)
{
	char *av[] = {"gnuplot", "/dev/stdin", NULL};
	posix_spawn_file_actions_t fa;
	int in[2], out[2], fd, status;
	char *script, *svg;
	size_t slen, len;
	pid_t pid;
	FILE *fp;

	if (argc != 3) {
		fputs("usage: gnuplot-only SCRIPT OUT\n", stderr);
		return 1;
	}
	fd = open(argv[1], O_RDONLY);
	script = fd >= 0 ? slurp(fd, &slen) : NULL;
	if (script == NULL || pipe2(in, O_CLOEXEC) != 0 ||
	    pipe2(out, O_CLOEXEC) != 0 ||
	    posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, in[0], 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, out[1], 1) != 0 ||
	    posix_spawnp(&pid, "gnuplot", &fa, NULL, av, environ) != 0) {
		perror("gnuplot-only");
		return 1;
	}
	close(in[0]);
	close(out[1]);
	/* a script of a few KiB fits in the pipe */
	if (write(in[1], script, slen) != (ssize_t)slen) {
		perror("gnuplot-only: write");
		return 1;
	}
	close(in[1]);
	svg = slurp(out[0], &len);
	if (svg == NULL || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fputs("gnuplot-only: gnuplot failed\n", stderr);
		return 1;
	}
	fp = fopen(argv[2], "w");
	if (fp == NULL || fwrite(svg, 1, len, fp) != len || fclose(fp) != 0) {
		perror(argv[2]);
		return 1;
	}
	free(script);
	free(svg);
	return 0;
}
