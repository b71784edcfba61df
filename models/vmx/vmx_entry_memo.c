/* The VM-entry memo (vmx_int.h "VM-entry memo"): per VMCS, which units of checks passed at their
 * last run and on which inputs, so that an entry runs only the units whose inputs changed. A
 * hypervisor resumes the same VMCS after nearly every exit, and between two entries the exit and
 * its handler change a few guest fields (RIP, RFLAGS, the injected event) that a few checks
 * read. */
#include "vmx_int.h"

#include <string.h>

/* A field added to either struct must join caps_equal or mode_equal. */
_Static_assert(sizeof(struct vmx_caps) == 256, "caps_equal compares every field");
_Static_assert(sizeof(struct vmx_cpu_mode) == 56, "mode_equal compares every field");

static bool caps_equal(const struct vmx_caps *a, const struct vmx_caps *b)
{
	return memcmp(a->name, b->name, sizeof(a->name)) == 0 &&
	       memcmp(a->msr, b->msr, sizeof(a->msr)) == 0 && a->present == b->present &&
	       a->maxphyaddr == b->maxphyaddr && a->linear_bits == b->linear_bits &&
	       a->perf_global_ctrl_valid == b->perf_global_ctrl_valid &&
	       a->debugctl_valid == b->debugctl_valid && a->efer_valid == b->efer_valid &&
	       a->seam == b->seam;
}

static bool mode_equal(const struct vmx_cpu_mode *a, const struct vmx_cpu_mode *b)
{
	return a->cpl == b->cpl && a->cr0 == b->cr0 && a->cr4 == b->cr4 && a->efer == b->efer &&
	       a->rflags == b->rflags && a->cs_l == b->cs_l && a->in_smm == b->in_smm &&
	       a->blocked_by_mov_ss == b->blocked_by_mov_ss && a->x2apic_mode == b->x2apic_mode &&
	       a->feature_control == b->feature_control;
}

/* The controls vmx_entry_ctx_init reads for every check (c->pin ... c->entry). */
static bool controls_equal(const uint64_t *val, const uint64_t *f)
{
	return val[VMCS_IDX_PIN_BASED_VM_EXEC_CONTROL] == f[VMCS_IDX_PIN_BASED_VM_EXEC_CONTROL] &&
	       val[VMCS_IDX_CPU_BASED_VM_EXEC_CONTROL] == f[VMCS_IDX_CPU_BASED_VM_EXEC_CONTROL] &&
	       val[VMCS_IDX_SECONDARY_VM_EXEC_CONTROL] == f[VMCS_IDX_SECONDARY_VM_EXEC_CONTROL] &&
	       val[VMCS_IDX_TERTIARY_VM_EXEC_CONTROL] == f[VMCS_IDX_TERTIARY_VM_EXEC_CONTROL] &&
	       val[VMCS_IDX_VM_EXIT_CONTROLS] == f[VMCS_IDX_VM_EXIT_CONTROLS] &&
	       val[VMCS_IDX_VM_ENTRY_CONTROLS] == f[VMCS_IDX_VM_ENTRY_CONTROLS];
}

/* The watched fields that differ from the slot's last entry. */
static void diff(struct vmx_memo_slot *s, const uint64_t *f)
{
	for (unsigned w = 0; w < VMCS_IDX_WORDS; w++) {
		uint64_t bits = 0;

		for (uint64_t left = s->watch[w]; left; left &= left - 1) {
			unsigned i = 64 * w + (unsigned)__builtin_ctzll(left);

			bits |= (uint64_t)(s->val[i] != f[i]) << (i % 64);
		}
		s->changed[w] = bits;
	}
}

void vmx_memo_forget_from(struct vmx_memo_slot *s, unsigned u)
{
	for (; u < VMX_MEMO_UNITS; u++)
		s->unit[u].passed = false;
}

void vmx_memo_clear(struct vmx_entry_memo *m)
{
	for (unsigned i = 0; i < VMX_MEMO_SLOTS; i++) {
		m->slot[i].pa = VMX_INVALID_VMCS_PTR;
		vmx_memo_forget_from(&m->slot[i], 0);
	}
	m->last = 0;
	m->skipped = 0;
}

struct vmx_memo_slot *vmx_memo_open(struct vmx_entry_memo *m, const struct vmx_entry_ctx *c,
                                    uint64_t pa)
{
	struct vmx_memo_slot *s;
	unsigned i = 0;

	while (i < VMX_MEMO_SLOTS && m->slot[i].pa != pa)
		i++;
	if (i == VMX_MEMO_SLOTS) { /* a new slot knows nothing: its fields are not read */
		i = (m->last + 1) % VMX_MEMO_SLOTS;
		m->last = i;
		s = &m->slot[i];
		s->pa = pa;
		vmx_memo_forget_from(s, 0);
		memset(s->watch, 0, sizeof(s->watch));
		memset(s->changed, 0, sizeof(s->changed));
		return s;
	}
	m->last = i;
	s = &m->slot[i];
	diff(s, c->vmcs_f);
	if (!controls_equal(s->val, c->vmcs_f) || s->vmxon_ptr != c->vmxon_ptr ||
	    !caps_equal(&s->caps, c->caps) || !mode_equal(&s->mode, c->mode))
		vmx_memo_forget_from(s, 0);
	return s;
}

bool vmx_memo_known(const struct vmx_memo_slot *s, unsigned u)
{
	const struct vmx_memo_unit *unit = &s->unit[u];
	uint64_t hit = 0;

	if (!unit->passed) /* its bitmap was never written, or is out of date */
		return false;
	for (unsigned w = 0; w < VMCS_IDX_WORDS; w++)
		hit |= unit->seen[w] & s->changed[w];
	return !hit;
}

void vmx_memo_passed(struct vmx_memo_slot *s, unsigned u)
{
	s->unit[u].passed = true;
	for (unsigned w = 0; w < VMCS_IDX_WORDS; w++)
		s->watch[w] |= s->unit[u].seen[w];
}

void vmx_memo_close(struct vmx_memo_slot *s, const struct vmx_entry_ctx *c)
{
	memcpy(s->val, c->vmcs_f, sizeof(s->val));
	s->caps = *c->caps;
	s->mode = *c->mode;
	s->vmxon_ptr = c->vmxon_ptr;
}
