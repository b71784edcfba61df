/* The TDX module model's calls compiled a second time: tdx_module.c, tdx_sys.c, tdx_td.c,
 * tdx_mem.c, tdx_sept.c, tdx_teardown.c and tdx_enter.c, unchanged, under the names below
 * (tdx_plain_seamcall, tdx_plain_tdcall, tdx_plain_td_exit are the ones callers use; tdx_int.h).
 * Fuzzing builds leave this file out of coverage instrumentation (fuzz/coverage-ignore.txt), so
 * that fuzz_tdx_seamcall's determinism rerun, which executes an input a second time with these,
 * pays neither edge counters nor comparison callbacks, and adds no hit counts to the input's
 * coverage. Nothing is modelled here: same source, same results and effects. */

#define tdx_all_pkgs          tdx_plain_all_pkgs
#define tdx_copy              tdx_plain_copy
#define tdx_create            tdx_plain_create
#define tdx_destroy           tdx_plain_destroy
#define tdx_free_page_operand tdx_plain_free_page_operand
#define tdx_gpa_operand       tdx_plain_gpa_operand
#define tdx_kot_of            tdx_plain_kot_of
#define tdx_kot_peek          tdx_plain_kot_peek
#define tdx_lp_in_td          tdx_plain_lp_in_td
#define tdx_mem_leaf          tdx_plain_mem_leaf
#define tdx_page_assign       tdx_plain_page_assign
#define tdx_page_free         tdx_plain_page_free
#define tdx_page_info         tdx_plain_page_info
#define tdx_page_operand      tdx_plain_page_operand
#define tdx_reset             tdx_plain_reset
#define tdx_seamcall          tdx_plain_seamcall
#define tdx_sept_leaf         tdx_plain_sept_leaf
#define tdx_sept_present      tdx_plain_sept_present
#define tdx_sept_walk         tdx_plain_sept_walk
#define tdx_sys_leaf          tdx_plain_sys_leaf
#define tdx_sys_state         tdx_plain_sys_state
#define tdx_td_exit           tdx_plain_td_exit
#define tdx_td_keyed          tdx_plain_td_keyed
#define tdx_td_leaf           tdx_plain_td_leaf
#define tdx_tdcall            tdx_plain_tdcall
#define tdx_tdr_operand       tdx_plain_tdr_operand
#define tdx_tdvpr_operand     tdx_plain_tdvpr_operand
#define tdx_teardown_leaf     tdx_plain_teardown_leaf
#define tdx_vcpu_running      tdx_plain_vcpu_running
#define tdx_vp_enter          tdx_plain_vp_enter
#define tdx_wrote_clear       tdx_plain_wrote_clear

#include "tdx_module.c"

#include "tdx_enter.c"
#include "tdx_mem.c"
#include "tdx_sept.c"
#include "tdx_sys.c"
#include "tdx_td.c"
#include "tdx_teardown.c"
