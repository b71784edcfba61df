/* VM exits, second half: the VM-exit MSR-store list (SDM 28.4), loading host state (SDM 28.5),
 * checking the VM-exit MSR-load list (SDM 28.6, the owner applies it) and VMX aborts (SDM 28.7).
 * Host state goes to a struct cpu_state built from the state at the exit (VM exits leave the
 * general-purpose registers but RSP, CR2 and DR0-DR6 as they were) and to the processor's mode.
 * Values the SDM calls undefined (unusable host data segments) are base 0, limit 0. A list longer
 * than IA32_VMX_MISC's recommended maximum is a failure (the SDM allows any behaviour). */
#include "vmx_int.h"

#include <hvsim/exit_reason.h>

#include <string.h>

#define SDM_SAVE_MSR  "SDM 28.4 \"Saving MSRs\""
#define SDM_HOST_LOAD "SDM 28.5 \"Loading Host State\""
#define SDM_EXIT_MSR  "SDM 28.6 \"Loading MSRs\""
#define SDM_ABORT     "SDM 28.7 \"VMX Aborts\""

/* CR0 bits a VM exit does not modify: ET, CD, NW, 63:32, 28:19, 17, 15:6 (SDM 28.5.1) */
#define CR0_EXIT_KEEP  (UINT64_C(0x7ffaffd0) | UINT64_C(0xffffffff00000000))
#define DR7_INIT       UINT64_C(0x400)
#define RFLAGS_INIT    RFLAGS_FIXED1
#define GDT_IDT_LIMIT  0xffffu
#define TR_LIMIT       0x67u
#define AR_HOST_CODE   (0xbu | AR_S | AR_P | AR_G)         /* execute/read accessed, DPL 0 */
#define AR_HOST_DATA   (0x3u | AR_S | AR_P | AR_DB | AR_G) /* read/write accessed, DPL 0 */
#define AR_HOST_TR     (0xbu | AR_P)                       /* busy 32-bit TSS */
#define VMCS_ABORT_OFF 4 /* VMX-abort indicator, bytes 7:4 (SDM 25.2) */

static uint32_t list_max(const struct vmx_cpu *cpu)
{
	return VMX_MISC_MAX_MSR_LIST(vmx_caps_msr(&cpu->caps, MSR_IA32_VMX_MISC));
}

/* SDM 28.4 "Saving MSRs": each entry in order gets RDMSR of its index in bits 127:64 */
bool vmx_exit_store_msrs(struct vmx_cpu *cpu, const struct vmcs *v, struct vmx_exit_effects *fx)
{
	uint64_t addr = VF(v, VM_EXIT_MSR_STORE_ADDR), count = VF(v, VM_EXIT_MSR_STORE_COUNT);

	for (uint64_t i = 0; i < count; i++) {
		uint64_t lo, value = 0, pa = addr + 16 * i;

		if (i >= list_max(cpu) || !vmx_mem_read(cpu, pa, &lo, 8) ||
		    vmx_msr_list_store_bad(cpu, lo))
			return false;
		if (cpu->msr_read.read &&
		    !cpu->msr_read.read(cpu->msr_read.ctx, (uint32_t)lo, &value))
			return false;
		if (!vmx_mem_write(cpu, pa + 8, &value, 8))
			return false;
		fx->msr_stored++;
	}
	if (count)
		vmx_step_emit(cpu, "VM exit: MSRs stored", SDM_SAVE_MSR, 0, count);
	return true;
}

/* SDM 28.7: the indicator goes to bytes 7:4 of the VMCS region; the processor shuts down. */
void vmx_exit_abort(struct vmx_cpu *cpu, const struct vmcs *v, uint32_t indicator,
                    struct vmx_exit_effects *fx)
{
	vmx_mem_write(cpu, v->pa + VMCS_ABORT_OFF, &indicator, sizeof(indicator));
	memset(&cpu->nr, 0, sizeof(cpu->nr));
	fx->abort = indicator;
	vmx_step_emit(cpu, "VMX abort", SDM_ABORT, 0, indicator);
}

/* SDM 28.6: every entry must pass the rules (the owner writes them after host state) */
static bool check_msr_load(const struct vmx_cpu *cpu, const struct vmcs *v,
                           struct vmx_exit_effects *fx)
{
	uint64_t addr = VF(v, VM_EXIT_MSR_LOAD_ADDR), count = VF(v, VM_EXIT_MSR_LOAD_COUNT);

	for (uint64_t i = 0; i < count; i++) {
		uint64_t e[2];

		if (i >= list_max(cpu) || !vmx_mem_read(cpu, addr + 16 * i, e, sizeof(e)) ||
		    vmx_msr_list_load_bad(cpu, e[0], e[1]))
			return false;
	}
	fx->msr_load_addr = addr;
	fx->msr_load_count = (uint32_t)count;
	return true;
}

/* SDM 28.5.1 "Loading Host Control Registers, Debug Registers, MSRs" */
static void host_control_regs(const struct vmx_cpu *cpu, const struct vmcs *v,
                              const struct vmx_ctls *c, struct cpu_state *h)
{
	bool wide = (c->exit & EXIT_HOST_ADDR_SPACE_SIZE) != 0;
	uint64_t pa_mask = (cpu->caps.maxphyaddr == 0 || cpu->caps.maxphyaddr >= 52)
	                       ? (UINT64_C(1) << 52) - 1
	                       : (UINT64_C(1) << cpu->caps.maxphyaddr) - 1;

	h->cr0 = (h->cr0 & CR0_EXIT_KEEP) | (VF(v, HOST_CR0) & ~CR0_EXIT_KEEP);
	h->cr3 = VF(v, HOST_CR3) & pa_mask;
	h->cr4 = wide ? VF(v, HOST_CR4) | CR4_PAE : VF(v, HOST_CR4) & ~CR4_PCIDE;
	h->dr7 = DR7_INIT;
	h->debugctl = 0;
	h->sysenter_cs = VF(v, HOST_IA32_SYSENTER_CS) & UINT32_MAX;
	h->sysenter_esp = vmx_canonicalize(&cpu->caps, VF(v, HOST_IA32_SYSENTER_ESP));
	h->sysenter_eip = vmx_canonicalize(&cpu->caps, VF(v, HOST_IA32_SYSENTER_EIP));
	h->efer = wide ? h->efer | EFER_LMA | EFER_LME : h->efer & ~(EFER_LMA | EFER_LME);
	if (c->exit & EXIT_LOAD_IA32_EFER)
		h->efer = VF(v, HOST_IA32_EFER);
	if (c->exit & EXIT_LOAD_PERF_GLOBAL_CTRL)
		h->perf_global_ctrl = VF(v, HOST_IA32_PERF_GLOBAL_CTRL);
	if (c->exit & EXIT_LOAD_IA32_PAT)
		h->pat = VF(v, HOST_IA32_PAT);
}

/* SDM 28.5.2 "Loading Host Segment and Descriptor-Table Registers" */
static void host_segments(const struct vmx_cpu *cpu, const struct vmcs *v, bool wide,
                          struct cpu_state *h)
{
	static const uint8_t data[] = {SEG_ES, SEG_SS, SEG_DS, SEG_FS, SEG_GS};
	static const uint16_t sel_idx[] = {[SEG_ES] = VMCS_IDX_HOST_ES_SELECTOR,
	                                   [SEG_SS] = VMCS_IDX_HOST_SS_SELECTOR,
	                                   [SEG_DS] = VMCS_IDX_HOST_DS_SELECTOR,
	                                   [SEG_FS] = VMCS_IDX_HOST_FS_SELECTOR,
	                                   [SEG_GS] = VMCS_IDX_HOST_GS_SELECTOR};

	for (size_t i = 0; i < sizeof(data); i++) {
		struct cpu_segment *s = &h->seg[data[i]];

		s->selector = (uint16_t)v->f[sel_idx[data[i]]];
		s->base = 0;
		s->limit = s->selector ? UINT32_MAX : 0;
		s->ar = s->selector ? AR_HOST_DATA : AR_UNUSABLE | (data[i] == SEG_SS ? AR_DB : 0);
	}
	if (wide || h->seg[SEG_FS].selector)
		h->seg[SEG_FS].base = vmx_canonicalize(&cpu->caps, VF(v, HOST_FS_BASE));
	if (wide || h->seg[SEG_GS].selector)
		h->seg[SEG_GS].base = vmx_canonicalize(&cpu->caps, VF(v, HOST_GS_BASE));
	h->seg[SEG_CS] = (struct cpu_segment){(uint16_t)VF(v, HOST_CS_SELECTOR), 0, UINT32_MAX,
	                                      AR_HOST_CODE | (wide ? AR_L : AR_DB)};
	h->seg[SEG_TR] = (struct cpu_segment){(uint16_t)VF(v, HOST_TR_SELECTOR),
	                                      vmx_canonicalize(&cpu->caps, VF(v, HOST_TR_BASE)),
	                                      TR_LIMIT, AR_HOST_TR};
	h->seg[SEG_LDTR] = (struct cpu_segment){0, 0, 0, AR_UNUSABLE};
	h->gdtr =
	    (struct cpu_dtable){vmx_canonicalize(&cpu->caps, VF(v, HOST_GDTR_BASE)), GDT_IDT_LIMIT};
	h->idtr =
	    (struct cpu_dtable){vmx_canonicalize(&cpu->caps, VF(v, HOST_IDTR_BASE)), GDT_IDT_LIMIT};
}

/* SDM 28.5.4: a host with PAE paging (CR4.PAE, "host address-space size" 0) loads its PDPTEs
 * from host CR3, and a bad one is VMX abort 2. */
static bool host_pdptes(const struct vmx_cpu *cpu, bool wide, struct cpu_state *h)
{
	if (wide || !(h->cr4 & CR4_PAE) || !(h->cr0 & CR0_PG))
		return true;
	for (unsigned i = 0; i < 4; i++) {
		vmx_mem_read(cpu, (h->cr3 & 0xffffffe0u) + 8 * i, &h->pdpte[i], 8);
		if (vmx_pae_pdpte_bad(&cpu->caps, h->pdpte[i]))
			return false;
	}
	return true;
}

/* SDM 28.5.5: active, no STI/MOV-SS blocking, no pending debug exceptions; NMI blocking only
 * from an exit an NMI caused (SDM 27.8: a failed entry keeps the state from before it). */
static void host_nonreg(const struct vmx_ctls *c, const struct vmx_exit_info *x,
                        const struct cpu_state *g, struct cpu_state *h, struct vmx_exit_effects *fx)
{
	bool nmi_exit = x->reason == EXIT_REASON_EXCEPTION_NMI &&
	                (x->intr_info & INTR_INFO_VALID) &&
	                INTR_INFO_TYPE(x->intr_info) == INTR_TYPE_NMI;
	bool physical = !(c->pin & PIN_NMI_EXITING) || (x->reason & VMX_EXIT_REASON_ENTRY_FAIL);
	uint32_t nmi = physical ? g->interruptibility & CPU_INTR_BLOCK_NMI : 0;

	h->activity = CPU_ACTIVITY_ACTIVE;
	h->interruptibility =
	    (nmi_exit ? CPU_INTR_BLOCK_NMI : nmi) | (g->interruptibility & CPU_INTR_BLOCK_SMI);
	h->pending_dbg = 0;
	fx->nmi_blocked = nmi_exit;
}

static void set_root_mode(struct vmx_cpu *cpu, const struct cpu_state *h, bool wide)
{
	cpu->mode.cpl = 0;
	cpu->mode.cr0 = h->cr0;
	cpu->mode.cr4 = h->cr4;
	cpu->mode.efer = h->efer;
	cpu->mode.rflags = h->rflags;
	cpu->mode.cs_l = wide;
	cpu->mode.blocked_by_mov_ss = false;
}

void vmx_exit_load_host(struct vmx_cpu *cpu, const struct vmcs *v, const struct vmx_ctls *c,
                        const struct vmx_exit_info *x, const struct cpu_state *g,
                        struct vmx_exit_effects *fx)
{
	bool wide = (c->exit & EXIT_HOST_ADDR_SPACE_SIZE) != 0;
	struct cpu_state *h = &fx->host;

	if ((g->efer & EFER_LMA) && !wide) {
		vmx_exit_abort(cpu, v, VMX_ABORT_HOST_ADDR_SIZE, fx);
		return;
	}
	*h = *g;
	host_control_regs(cpu, v, c, h);
	host_segments(cpu, v, wide, h);
	h->rip = VF(v, HOST_RIP);
	h->gpr[GPR_RSP] = VF(v, HOST_RSP);
	h->rflags = RFLAGS_INIT;
	host_nonreg(c, x, g, h, fx);
	if (!host_pdptes(cpu, wide, h)) {
		vmx_exit_abort(cpu, v, VMX_ABORT_HOST_PDPTE, fx);
		return;
	}
	set_root_mode(cpu, h, wide);
	vmx_step_emit(cpu, "VM exit: host state loaded", SDM_HOST_LOAD, 0, h->rip);
	if (!check_msr_load(cpu, v, fx)) {
		vmx_exit_abort(cpu, v, VMX_ABORT_LOAD_HOST_MSR, fx);
		return;
	}
	if (fx->msr_load_count)
		vmx_step_emit(cpu, "VM exit: MSR-load list checked", SDM_EXIT_MSR, 0,
		              fx->msr_load_count);
}
