/* Names of guest operation kinds, for traces. */
#include <hvsim/guest_op.h>

static const char *const kind_names[GOP_KIND_MAX] = {
	[GOP_NONE] = "none",     [GOP_CPUID] = "cpuid",     [GOP_RDMSR] = "rdmsr",
	[GOP_WRMSR] = "wrmsr",   [GOP_RDTSC] = "rdtsc",     [GOP_RDTSCP] = "rdtscp",
	[GOP_RDPMC] = "rdpmc",   [GOP_HLT] = "hlt",         [GOP_PAUSE] = "pause",
	[GOP_MONITOR] = "monitor", [GOP_MWAIT] = "mwait",   [GOP_IO] = "io",
	[GOP_VMCALL] = "vmcall", [GOP_VMMCALL] = "vmmcall", [GOP_TDCALL] = "tdcall",
	[GOP_INVLPG] = "invlpg", [GOP_INVD] = "invd",       [GOP_WBINVD] = "wbinvd",
	[GOP_XSETBV] = "xsetbv", [GOP_CR] = "cr",           [GOP_RDRAND] = "rdrand",
	[GOP_RDSEED] = "rdseed", [GOP_MMIO] = "mmio",
};

const char *guest_op_kind_name(unsigned kind)
{
	return kind < GOP_KIND_MAX && kind_names[kind] ? kind_names[kind] : "none";
}
