/* Test utility (test_files.h): whole files into memory, lines of a trace by content. */
#include "test_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *test_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = f ? malloc(TEST_FILE_MAX + 1) : NULL;

	*len = buf ? fread(buf, 1, TEST_FILE_MAX, f) : 0;
	if (buf)
		buf[*len] = '\0';
	if (f)
		fclose(f);
	return buf;
}

char *test_lines_with(const char *text, const char *needle)
{
	char *out = calloc(1, strlen(text) + 1);
	size_t len = 0, k = strlen(needle);

	for (const char *p = text; out && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (memmem(p, n, needle, k)) {
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
	}
	return out;
}
