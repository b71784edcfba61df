/* Verifies the loader's JSON paths (sim/json_check.c): they are kept as segments and printed only
 * for a failure, and print as before: keys and indices in order, keys escaped as JSON string
 * content, popping restores the parent, and a path longer than JC_PATH_MAX is cut there (also
 * deeper than the segments kept). Each test pushes segments and reads jc_path or the error. */
#include <criterion/criterion.h>

#include "../sim/json_check.h"

#include <string.h>

Test(json_check, path_prints_keys_and_indices_in_order)
{
	struct hvsim_error err = {0};
	struct jc c;
	char path[JC_PATH_MAX];

	jc_init(&c, "f.json", &err);
	jc_push_key(&c, "guest");
	jc_push_key(&c, "script");
	jc_push_index(&c, 12);
	jc_push_key(&c, "op");
	jc_path(&c, path, sizeof(path));
	cr_assert_str_eq(path, "$.guest.script[12].op");
}

Test(json_check, pop_returns_to_the_parent_path)
{
	struct hvsim_error err = {0};
	struct jc c;
	char path[JC_PATH_MAX];
	size_t saved;

	jc_init(&c, "f.json", &err);
	jc_push_key(&c, "runs");
	saved = jc_push_index(&c, 0);
	jc_push_key(&c, "seed");
	jc_pop(&c, saved);
	jc_path(&c, path, sizeof(path));
	cr_assert_str_eq(path, "$.runs");
}

Test(json_check, failure_names_the_path_with_the_key_escaped)
{
	struct hvsim_error err = {0};
	struct jc c;

	jc_init(&c, "f.json", &err);
	jc_push_key(&c, "a\"b\nc");
	jc_fail_text(&c, "x", "y");
	cr_assert_str_eq(err.msg, "f.json: $.a\\\"b\\nc: expected y, found x", "got %s", err.msg);
}

Test(json_check, path_deeper_than_its_buffer_is_cut_at_the_buffer)
{
	struct hvsim_error err = {0};
	struct jc c;
	char path[JC_PATH_MAX];

	jc_init(&c, "f.json", &err);
	for (size_t i = 0; i < 3 * JC_DEPTH_MAX; i++)
		jc_push_index(&c, i);
	jc_path(&c, path, sizeof(path));
	cr_assert_eq(strlen(path), JC_PATH_MAX - 1, "cut at %d bytes, got %zu", JC_PATH_MAX - 1,
	             strlen(path));
	cr_assert(strncmp(path, "$[0][1][2]", 10) == 0, "starts at the root: %.20s", path);
}
