/* The hvsim command line: shared pieces of the subcommands. The runner is the only layer that
 * touches the host: files, the terminal, the environment, processes and the wall clock. */
#ifndef HVSIM_CLI_H
#define HVSIM_CLI_H

#include <hvsim/hv.h>
#include <hvsim/scenario.h>
#include <hvsim/vm.h>

#include <stdio.h>

/* Exit statuses, documented in --help and the README. */
enum cli_exit {
	EXIT_PASS = 0,
	EXIT_MISMATCH = 1, /* a golden mismatch or an unexpected/missing finding */
	EXIT_USAGE = 2,    /* bad command line or bad input file */
	EXIT_INTERNAL = 3, /* hvsim itself failed */
};

/* io.c */
/* Reads a whole file; NULL with err set on failure. *len excludes the added NUL. */
char *cli_read_file(const char *path, size_t *len, struct hvsim_error *err);
bool cli_file_exists(void *ctx, const char *path);
/* Loads and validates a scenario file; check_goldens as for struct scenario_io. */
struct hvsim_scenario *cli_load_scenario(const char *path, bool check_goldens,
                                         struct hvsim_error *err);
/* Finds every *.json scenario under paths (files or directories, recursively), sorted. */
char **cli_collect(char **paths, int n, size_t *count, struct hvsim_error *err);
void cli_free_list(char **list, size_t n);
double cli_wall_ms(void);
bool cli_isatty(FILE *f);

/* Parses a decimal or 0x-hex unsigned 64-bit number; false on junk or overflow. */
bool cli_parse_u64(const char *s, uint64_t *out);

/* plugin.c */
/* Loads an algorithm from a shared object; NULL with err set. The object stays loaded. */
const struct hvsim_hv_ops *cli_load_plugin(const char *path, struct hvsim_error *err);

/* exec.c: one run of one scenario. */
struct exec_opts {
	const struct hvsim_hv_ops *hv; /* NULL: the scenario's built-in algorithm */
	bool has_seed;
	uint64_t seed;
	enum trace_level level;
	const char *trace_path; /* NULL: no trace file */
	bool progress;          /* show a progress line on stderr */
};

struct exec_result {
	enum cli_exit status; /* EXIT_PASS unless the run failed or findings differ */
	struct hvsim_summary sum;
	double wall_ms;
	char msg[HVSIM_ERR_MSG_MAX]; /* the error or the findings difference */
};

void cli_exec(const struct hvsim_scenario *sc, size_t run, const struct exec_opts *o,
              struct exec_result *r);
/* Compares the run's findings with what it expects; writes the difference into msg. */
bool cli_findings_match(const struct scenario_run *run, const struct hvsim_summary *s, char *msg,
                        size_t cap);
void cli_print_summary(FILE *f, const struct hvsim_scenario *sc, size_t run,
                       const struct exec_opts *o, const struct exec_result *r);
/* "k1=v1 k2=v2" of the quirks the run selects into buf: every quirk with its value (defaults
 * included), or with selected_only those the scenario or run names; "-" when none. */
void cli_quirk_list(const struct hvsim_scenario *sc, size_t run, const struct hvsim_hv_ops *hv,
                    bool selected_only, char *buf, size_t cap);
const struct hvsim_hv_ops *cli_algorithm(const struct hvsim_scenario *sc,
                                         const struct hvsim_hv_ops *plugin);

/* golden.c */
enum golden_result {
	GOLDEN_MATCH = 0,
	GOLDEN_DIFFER = 1,
	GOLDEN_ERROR = 2, /* a file could not be read */
};
/* Compares two trace files line by line; on a difference prints the first divergent line number,
 * three lines of context before it, the expected and the actual line to out. */
enum golden_result cli_golden_compare(const char *golden, const char *actual, FILE *out,
                                      struct hvsim_error *err);

/* Subcommands: argc/argv start at the subcommand name. */
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_bless(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_fuzz(int argc, char **argv);

#endif
