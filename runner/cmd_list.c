/* hvsim list: the scenario library (provenance and runs), the built-in algorithms, their quirks. */
#include "suite.h"

#include <hvsim/hv_registry.h>

#include <getopt.h>
#include <string.h>

static const char list_usage[] =
    "usage: hvsim list [PATH...] [--algorithms] [--quirks]\n"
    "\n"
    "Lists the scenarios under PATH (default: scenarios) with their provenance and runs.\n"
    "\n"
    "  --algorithms  list the built-in hypervisor algorithms instead\n"
    "  --quirks      list every built-in algorithm's quirks, values, defaults and sources\n"
    "\n"
    "Exit status: 0 listed, 2 usage or input error.\n";

static void list_scenario(const struct hvsim_scenario *sc)
{
	printf("%s  (%s)\n", sc->name, sc->file);
	printf("  %s\n", sc->description);
	if (sc->provenance.patch)
		printf("  patch: %s\n", sc->provenance.patch);
	if (sc->provenance.link)
		printf("  link:  %s\n", sc->provenance.link);
	if (sc->provenance.note)
		printf("  note:  %s\n", sc->provenance.note);
	for (size_t r = 0; r < sc->n_runs; r++) {
		const struct scenario_run *run = &sc->runs[r];

		printf("  run %-12s expects ", run->name);
		for (size_t f = 0; f < run->n_findings; f++)
			printf("%s%s", f ? ", " : "", run->findings[f]);
		printf("%s\n", run->n_findings ? "" : "no findings");
	}
}

static void list_algorithms(bool quirks)
{
	const struct hvsim_hv_ops *hv;

	for (size_t i = 0; (hv = hvsim_hv_builtin_at(i)); i++) {
		printf("%-10s %s\n", hv->name, hv->description ? hv->description : "");
		for (size_t q = 0; quirks && q < hv->n_quirks; q++) {
			const struct hvsim_quirk_desc *d = &hv->quirks[q];

			printf("  quirk %s: ", d->name);
			for (size_t v = 0; v < d->n_values; v++)
				printf("%s%s", v ? " | " : "", d->values[v]);
			printf("  (default %s%s)\n    %s\n    from: %s\n", d->def,
			       d->reload && hv->reload ? "; a reload may change it" : "", d->doc,
			       d->provenance);
		}
	}
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"algorithms", no_argument, 0, 'a'},
	    {"quirks", no_argument, 0, 'q'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	char *def[] = {"scenarios"};
	bool algorithms = false, quirks = false;
	struct suite s;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': algorithms = true; break;
		case 'q': quirks = true; break;
		case 'h': fputs(list_usage, stdout); return EXIT_PASS;
		default: fputs(list_usage, stderr); return EXIT_USAGE;
		}
	}
	if (algorithms || quirks) {
		list_algorithms(quirks);
		return EXIT_PASS;
	}
	if (!suite_load(&s, optind < argc ? argv + optind : def, optind < argc ? argc - optind : 1,
	                false, NULL)) {
		suite_free(&s);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < s.n_scs; i++)
		list_scenario(s.scs[i]);
	suite_free(&s);
	return EXIT_PASS;
}
