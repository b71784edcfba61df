/* Verifies scenario_parse_tree (sim/scenario_tree.h): loading a parsed JSON tree gives what
 * hvsim_scenario_parse gives for the tree's text, for a valid scenario (the loaded fields) and
 * for an invalid one (status and the whole error message naming file, path, expected, found). */
#include <criterion/criterion.h>

#include "../sim/scenario_tree.h"

#include <cjson/cJSON.h>
#include <string.h>

static const char valid[] =
    "{\"hvsim\":1,\"name\":\"tree\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"vcpus\":2,\"memory_mib\":3},\"hypervisor\":{\"algorithm\":\"minimal\"},"
    "\"guest\":{\"script\":{\"main\":[{\"op\":\"cpuid\",\"leaf\":\"0x1\"},{\"op\":\"hlt\"}]}},"
    "\"events\":[{\"at_ns\":500,\"irq_line\":{\"gsi\":3,\"level\":1}}],"
    "\"runs\":[{\"name\":\"r\",\"seed\":9,\"golden\":\"g.jsonl\"}]}";

static const char invalid[] =
    "{\"hvsim\":1,\"name\":\"tree\",\"description\":\"d\",\"provenance\":{\"note\":\"n\"},"
    "\"machine\":{\"vcpus\":\"two\"},\"hypervisor\":{\"algorithm\":\"minimal\"},"
    "\"guest\":{\"script\":{\"main\":[]}},\"runs\":[{\"name\":\"r\",\"golden\":\"g.jsonl\"}]}";

static const struct scenario_io io = {.exists = NULL, .check_goldens = false};

Test(scenario_tree, a_tree_loads_as_its_text_does)
{
	struct hvsim_scenario *a = NULL, *b = NULL;
	struct hvsim_error ea = {0}, eb = {0};
	cJSON *root = cJSON_Parse(valid);

	cr_assert_not_null(root);
	cr_assert_eq(hvsim_scenario_parse("t.json", valid, strlen(valid), &io, &a, &ea), HVSIM_OK,
	             "text: %s", ea.msg);
	cr_assert_eq(scenario_parse_tree("t.json", root, &io, &b, &eb), HVSIM_OK, "tree: %s",
	             eb.msg);
	cr_expect_str_eq(b->name, a->name);
	cr_expect_eq(b->machine.vcpus, a->machine.vcpus, "vcpus %u vs %u", b->machine.vcpus,
	             a->machine.vcpus);
	cr_expect_eq(b->machine.memory_mib, a->machine.memory_mib);
	cr_expect_eq(b->n_events, a->n_events, "events %zu vs %zu", b->n_events, a->n_events);
	cr_expect_eq(b->guest.script.n_main, a->guest.script.n_main);
	cr_expect_eq(b->runs[0].seed, a->runs[0].seed);
	hvsim_scenario_free(a);
	hvsim_scenario_free(b);
	cJSON_Delete(root);
}

Test(scenario_tree, a_bad_tree_is_refused_with_the_text_message)
{
	struct hvsim_scenario *a = NULL, *b = NULL;
	struct hvsim_error ea = {0}, eb = {0};
	cJSON *root = cJSON_Parse(invalid);

	cr_assert_not_null(root);
	cr_expect_eq(hvsim_scenario_parse("t.json", invalid, strlen(invalid), &io, &a, &ea),
	             HVSIM_E_INPUT);
	cr_expect_eq(scenario_parse_tree("t.json", root, &io, &b, &eb), HVSIM_E_INPUT);
	cr_expect_null(b);
	cr_expect_str_eq(eb.msg, ea.msg);
	cJSON_Delete(root);
}
