/* Loading a scenario from an already parsed JSON tree: hvsim_scenario_parse without the text, for
 * code in the same build that builds scenarios as trees (the fuzz_hv_transitions harness builds
 * one per input and would otherwise print it and parse it back). The checks, error messages and
 * result are those of hvsim_scenario_parse on the tree's text. */
#ifndef HVSIM_SIM_SCENARIO_TREE_H
#define HVSIM_SIM_SCENARIO_TREE_H

#include <hvsim/scenario.h>

struct cJSON;

/* As hvsim_scenario_parse, from root (not modified, still the caller's). */
enum hvsim_status scenario_parse_tree(const char *file, const struct cJSON *root,
                                      const struct scenario_io *io, struct hvsim_scenario **out,
                                      struct hvsim_error *err);

#endif
