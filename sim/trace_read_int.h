/* The trace reader's two paths (trace_read.c): trace_parse_line tries the canonical-form scanner
 * first and falls back to cJSON, so both must read a line the scanner accepts the same way. */
#ifndef HVSIM_TRACE_READ_INT_H
#define HVSIM_TRACE_READ_INT_H

#include <hvsim/trace.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_NUM_EXACT_MAX 9007199254740991ull /* 2^53 - 1: the largest integer a double holds */

/* Reads a line in the writer's canonical form into out, as trace_parse_line_json would; false for
 * any other line (trace_scan.c). */
bool trace_scan_line(const char *line, size_t len, struct trace_rec *out);
/* trace_parse_line through cJSON alone: every valid line, and the error of every invalid one. */
enum hvsim_status trace_parse_line_json(const char *line, size_t len, struct trace_rec *out,
                                        struct hvsim_error *err);
/* The first n bytes of src as a string in dst, truncated to cap - 1 bytes (cap > 0): what
 * snprintf(dst, cap, "%.*s", n, src) gives, without the format machinery (every field of every
 * line read passes here). */
void trace_copy_n(char *dst, size_t cap, const char *src, size_t n);
/* A "0x..." hex string of n bytes (lower-case digits, at most 64 significant bits) into *out. */
bool trace_hex_n(const char *s, size_t n, uint64_t *out);

#endif
