/* Host file access for the runner: reading scenario files, finding scenarios in directories, the
 * wall clock for the summaries. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX_BYTES (64u << 20)

char *cli_read_file(const char *path, size_t *len, struct hvsim_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size;

	if (!f) {
		hvsim_error_set(err, HVSIM_E_IO, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		hvsim_error_set(err, HVSIM_E_IO, "%s: cannot read: %s", path, strerror(errno));
	} else if ((unsigned long)size > FILE_MAX_BYTES) {
		hvsim_error_set(err, HVSIM_E_INPUT, "%s: larger than %u MiB", path,
		                FILE_MAX_BYTES >> 20);
	} else if (!(buf = malloc((size_t)size + 1))) {
		hvsim_error_set(err, HVSIM_E_NOMEM, "%s: out of memory", path);
	} else if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		hvsim_error_set(err, HVSIM_E_IO, "%s: short read", path);
		free(buf);
		buf = NULL;
	} else {
		buf[size] = '\0';
		*len = (size_t)size;
	}
	fclose(f);
	return buf;
}

bool cli_file_exists(void *ctx, const char *path)
{
	struct stat st;

	(void)ctx;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

struct hvsim_scenario *cli_load_scenario(const char *path, bool check_goldens,
                                         struct hvsim_error *err)
{
	struct scenario_io io = {.exists = cli_file_exists, .check_goldens = check_goldens};
	struct hvsim_scenario *sc = NULL;
	size_t len = 0;
	char *text = cli_read_file(path, &len, err);

	if (!text)
		return NULL;
	hvsim_scenario_parse(path, text, len, &io, &sc, err);
	free(text);
	return sc;
}

struct list {
	char **v;
	size_t n, cap;
};

static bool list_add(struct list *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return false;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(s);
	return l->v[l->n++] != NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool walk(const char *dir, struct list *out, struct hvsim_error *err, unsigned depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool ok = true;

	if (!d) {
		hvsim_error_set(err, HVSIM_E_IO, "%s: cannot open directory: %s", dir,
		                strerror(errno));
		return false;
	}
	while (ok && (e = readdir(d))) {
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 16)
			ok = walk(path, out, err, depth + 1);
		else if (S_ISREG(st.st_mode) && ends_with(e->d_name, ".json"))
			ok = list_add(out, path) ||
			     hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory") == HVSIM_OK;
	}
	closedir(d);
	return ok;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **cli_collect(char **paths, int n, size_t *count, struct hvsim_error *err)
{
	struct list l = {0};
	bool ok = true;

	for (int i = 0; i < n && ok; i++) {
		struct stat st;
		char path[4096];
		size_t len = strlen(paths[i]);

		snprintf(path, sizeof(path), "%.*s",
		         (int)(len > 1 && paths[i][len - 1] == '/' ? len - 1 : len), paths[i]);
		if (stat(path, &st) != 0) {
			hvsim_error_set(err, HVSIM_E_INPUT, "%s: no such file or directory", path);
			ok = false;
		} else if (S_ISDIR(st.st_mode)) {
			ok = walk(path, &l, err, 0);
		} else {
			ok = list_add(&l, path) ||
			     hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory") == HVSIM_OK;
		}
	}
	if (!ok) {
		cli_free_list(l.v, l.n);
		return NULL;
	}
	qsort(l.v, l.n, sizeof(char *), cmp_path);
	*count = l.n;
	return l.v ? l.v : calloc(1, sizeof(char *));
}

void cli_free_list(char **list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

double cli_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool cli_isatty(FILE *f)
{
	return isatty(fileno(f));
}
