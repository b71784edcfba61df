/* hvsim: the command-line entry point. Dispatches to the subcommands. */
#include "cli.h"

#include <string.h>

static const char usage[] =
    "usage: hvsim COMMAND [OPTIONS] [ARGS]\n"
    "\n"
    "Deterministic instruction-level x86 virtualization simulator for testing hypervisor logic.\n"
    "\n"
    "Commands:\n"
    "  run SCENARIO     run a scenario, write its trace, print a summary\n"
    "  check [PATH...]  run scenarios and compare their traces with the goldens\n"
    "  bless SCENARIO.. show how traces differ from the goldens, then rewrite the goldens\n"
    "  list [PATH]      list scenarios, their provenance and runs; algorithms and quirks\n"
    "  fuzz TARGET      run a fuzzing harness (make fuzz), list or export its findings\n"
    "\n"
    "Options: --help (also after a command), --version\n"
    "\n"
    "Exit status: 0 pass, 1 golden mismatch or unexpected finding, 2 usage or input error,\n"
    "3 internal error.\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage, cmd ? stdout : stderr);
		return cmd ? EXIT_PASS : EXIT_USAGE;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("hvsim %s\n", hvsim_version());
		return EXIT_PASS;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "bless") == 0)
		return cmd_bless(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(cmd, "fuzz") == 0)
		return cmd_fuzz(argc - 1, argv + 1);
	fprintf(stderr, "hvsim: unknown command \"%s\" (try hvsim --help)\n", cmd);
	return EXIT_USAGE;
}
