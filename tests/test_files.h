/* Test utility: reading committed files and picking trace lines, for the tests that compare a
 * harness, a reproducer or a run with what is on disk. */
#ifndef HVSIM_TEST_FILES_H
#define HVSIM_TEST_FILES_H

#include <stddef.h>
#include <stdint.h>

#define TEST_FILE_MAX (1u << 20) /* bytes test_slurp reads at most */

/* The first TEST_FILE_MAX bytes of path, NUL-terminated (malloc'd; *len excludes the NUL); NULL
 * when path cannot be opened or memory runs out. */
uint8_t *test_slurp(const char *path, size_t *len);
/* The lines of text that contain needle, in order, each with its newline (malloc'd; NULL when
 * memory runs out). */
char *test_lines_with(const char *text, const char *needle);

#endif
