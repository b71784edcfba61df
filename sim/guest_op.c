/* Names of guest operation kinds, for traces. */
#include <hvsim/guest_op.h>

static const char *const kind_names[GOP_KIND_MAX] = {
    [GOP_NONE] = "none",         [GOP_CPUID] = "cpuid",     [GOP_RDMSR] = "rdmsr",
    [GOP_WRMSR] = "wrmsr",       [GOP_RDTSC] = "rdtsc",     [GOP_RDTSCP] = "rdtscp",
    [GOP_RDPMC] = "rdpmc",       [GOP_HLT] = "hlt",         [GOP_PAUSE] = "pause",
    [GOP_MONITOR] = "monitor",   [GOP_MWAIT] = "mwait",     [GOP_IO] = "io",
    [GOP_VMCALL] = "vmcall",     [GOP_VMMCALL] = "vmmcall", [GOP_TDCALL] = "tdcall",
    [GOP_SEAMCALL] = "seamcall", [GOP_INVLPG] = "invlpg",   [GOP_INVD] = "invd",
    [GOP_WBINVD] = "wbinvd",     [GOP_XSETBV] = "xsetbv",   [GOP_CR] = "cr",
    [GOP_RDRAND] = "rdrand",     [GOP_RDSEED] = "rdseed",   [GOP_MMIO] = "mmio",
    [GOP_VMX] = "vmx",
};

static const char *const vmx_names[GVMX_COUNT] = {
    [GVMX_VMXON] = "vmxon",     [GVMX_VMXOFF] = "vmxoff",     [GVMX_VMCLEAR] = "vmclear",
    [GVMX_VMPTRLD] = "vmptrld", [GVMX_VMPTRST] = "vmptrst",   [GVMX_VMREAD] = "vmread",
    [GVMX_VMWRITE] = "vmwrite", [GVMX_VMLAUNCH] = "vmlaunch", [GVMX_VMRESUME] = "vmresume",
    [GVMX_INVEPT] = "invept",   [GVMX_INVVPID] = "invvpid",
};

const char *guest_op_kind_name(unsigned kind)
{
	return kind < GOP_KIND_MAX && kind_names[kind] ? kind_names[kind] : "none";
}

const char *guest_vmx_insn_name(unsigned insn)
{
	return insn < GVMX_COUNT ? vmx_names[insn] : "none";
}
