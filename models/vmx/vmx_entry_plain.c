/* VM entry and its checks compiled a second time: vmx_entry.c and the check tables of
 * vmx_check_*.c, unchanged, under the names below (vmx_plain_check_entry, vmx_plain_vmlaunch,
 * vmx_plain_vmresume; vmx_int.h). Fuzzing builds leave this file out of coverage
 * instrumentation (fuzz/coverage-ignore.txt), so a caller that evaluates the checks again on a
 * state they were already run on (the entry_checks_pure rerun, a repeated VM entry of
 * fuzz_vmcs_entry) pays neither edge counters nor comparison callbacks. Nothing is modelled
 * here: same source, same results and effects, check names and conditions equal as strings. */

#define vmx_check_count              vmx_plain_check_count
#define vmx_check_at                 vmx_plain_check_at
#define vmx_fail_at                  vmx_plain_fail_at
#define vmx_entry_ctx_init           vmx_plain_entry_ctx_init
#define vmx_check_entry              vmx_plain_check_entry
#define vmx_vmlaunch                 vmx_plain_vmlaunch
#define vmx_vmresume                 vmx_plain_vmresume
#define vmx_vmentry_with_caps        vmx_plain_vmentry_with_caps
#define vmx_vmentry_known            vmx_plain_vmentry_known
#define vmx_eptp_invalid             vmx_plain_eptp_invalid
#define vmx_checks_ctrl              vmx_plain_checks_ctrl
#define vmx_checks_ctrl_count        vmx_plain_checks_ctrl_count
#define vmx_checks_host              vmx_plain_checks_host
#define vmx_checks_host_count        vmx_plain_checks_host_count
#define vmx_checks_guest             vmx_plain_checks_guest
#define vmx_checks_guest_count       vmx_plain_checks_guest_count
#define vmx_checks_guest_seg         vmx_plain_checks_guest_seg
#define vmx_checks_guest_seg_count   vmx_plain_checks_guest_seg_count
#define vmx_checks_guest_state       vmx_plain_checks_guest_state
#define vmx_checks_guest_state_count vmx_plain_checks_guest_state_count
#define vmx_checks_msr               vmx_plain_checks_msr
#define vmx_checks_msr_count         vmx_plain_checks_msr_count

#include "vmx_entry.c"

#include "vmx_check_ctrl.c"
#include "vmx_check_guest.c"
#include "vmx_check_guest_seg.c"
#include "vmx_check_guest_state.c"
#include "vmx_check_host.c"
#include "vmx_check_msr.c"
