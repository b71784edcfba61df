/* The VMX instructions of vmx_insn.c and vmx_inv.c compiled a second time, unchanged, under the
 * names below (vmx_plain_vmwrite, ...; vmx_int.h), INVEPT's EPTP rules taken from
 * vmx_entry_plain.c's copy of the checks. Fuzzing builds leave this file out of coverage
 * instrumentation (fuzz/coverage-ignore.txt), so that fuzz_vmcs_entry's determinism rerun, which
 * executes an input a second time with these and the plain VM entry, pays neither edge counters
 * nor comparison callbacks, and adds no hit counts to the input's coverage. Nothing is modelled
 * here: same source, same results and effects. */

#define vmx_vmxon                     vmx_plain_vmxon
#define vmx_vmxoff                    vmx_plain_vmxoff
#define vmx_vmptrld                   vmx_plain_vmptrld
#define vmx_vmptrst                   vmx_plain_vmptrst
#define vmx_vmclear                   vmx_plain_vmclear
#define vmx_vmread                    vmx_plain_vmread
#define vmx_vmwrite                   vmx_plain_vmwrite
#define vmx_invept                    vmx_plain_invept
#define vmx_invvpid                   vmx_plain_invvpid
#define vmx_eptp_invalid              vmx_plain_eptp_invalid
#define vmx_insn_fails_before_operand vmx_plain_insn_fails_before_operand
#define vmx_inv_fails_before_desc     vmx_plain_inv_fails_before_desc

#include "vmx_insn.c"

#include "vmx_inv.c"
