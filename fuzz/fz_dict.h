/* Generated fuzzing dictionaries (libFuzzer/AFL++ format): built from the same tables the
 * decoders use, so a dictionary cannot drift from its harness. fuzz/fzgen writes them to
 * fuzz/T.dict; tests/test_fuzz_gen.c checks the committed files are what this produces. */
#ifndef HVSIM_FUZZ_DICT_H
#define HVSIM_FUZZ_DICT_H

#include <stdbool.h>
#include <stdio.h>

/* Writes the dictionary of target to out. False for a target without a generated dictionary or
 * when out fails. */
bool fz_dict_write(const char *target, FILE *out);

#endif
