/* Private pieces of the scenario loader shared by its files. */
#ifndef HVSIM_SCENARIO_INT_H
#define HVSIM_SCENARIO_INT_H

#include <hvsim/scenario.h>

#include "json_check.h"

#define SCENARIO_STR_MAX    4096 /* description, provenance texts */
#define SCENARIO_PATH_MAX   1024
#define SCENARIO_MAX_RUNS   64
#define SCENARIO_MAX_EVENTS 100000
#define SCRIPT_MAX_ACTIONS  100000 /* per list */
#define SCRIPT_MAX_DEPTH    8      /* repeat nesting */

struct loader {
	struct jc jc;
	const struct scenario_io *io;
	struct hvsim_scenario *sc;
};

bool scenario_parse_guest(struct loader *ld, const cJSON *j);
bool scenario_parse_events(struct loader *ld, const cJSON *j);
/* Checks that a scenario-relative file exists (when io says how); path is obj.key. */
bool scenario_check_file(struct loader *ld, const cJSON *obj, const char *key, const char *rel);
void scenario_free_script(struct guest_script *s);

#endif
