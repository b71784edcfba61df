/* The nested-VMX instruction oracle: L1's VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD,
 * VMWRITE, INVEPT and INVVPID, which an algorithm emulates for its guest hypervisor, run again on a
 * shadow SDM-faithful VMX processor with the capabilities the algorithm reported; what L1 can
 * observe (SDM 31.2 "Conventions": the RFLAGS of VMsucceed/VMfail, an exception, RIP past the
 * instruction, VMREAD's and VMPTRST's stored values) is compared when the algorithm enters L1
 * again. VMLAUNCH and VMRESUME are the nested-entry differential's (vmx_nested.c); the shadow
 * follows its agreed outcome. Not modelled: 32-bit operand forms, VMCS shadowing, L2
 * (exit-information fields an L2 exit would write are not compared after an accepted entry), #PF
 * (an operand outside guest RAM is #GP(0), linear = guest-physical). docs/nested-differential.md
 * "The instruction oracle". */
#include "vmx_shadow_int.h"

#include "../models/vmx/vmx_int.h"

#include <hvsim/hv_vmx.h>
#include <hvsim/vmx_ctrl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHADOW_VMCS_MAX 64u /* VMCS regions L1 may use (KVM's vmcs12 store holds as many) */
#define FLAGS_VMX       UINT64_C(0x8d5) /* CF PF AF ZF SF OF: SDM 31.2 */
#define FLAG_CF         UINT64_C(0x1)
#define FLAG_ZF         UINT64_C(0x40)
#define SS_DPL(ar)      (((ar) >> 5) & 3u)
#define CS_L            (UINT32_C(1) << 13)
#define FEATURE_CONTROL UINT64_C(0x5) /* lock, VMXON outside SMX: the VMX model's default */
#define VECTOR_UD       6u
#define VECTOR_GP       13u
#define TEXT_MAX        96
#define ENC_TYPE(enc)   (((enc) >> 10) & 3u) /* SDM 25.11.2 "VMREAD, VMWRITE, and Encodings" */

enum shadow_pending {
	SHADOW_PEND_NONE = 0,
	SHADOW_PEND_INSN,  /* exp holds an executed instruction's outcome, compared at entry */
	SHADOW_PEND_ENTRY, /* L1's VMLAUNCH/VMRESUME waits for the nested-entry differential */
};

enum shadow_dest { DEST_NONE = 0, DEST_REG, DEST_MEM };

/* What L1 must observe after the instruction, as the shadow executed it. */
struct shadow_expect {
	uint8_t insn;          /* enum guest_vmx_insn */
	uint8_t dest;          /* enum shadow_dest: where VMREAD/VMPTRST store res.value */
	uint8_t reg;           /* DEST_REG: the GPR */
	uint8_t size;          /* bytes stored */
	bool compare_value;    /* false: VMREAD of an exit-information field after L2 ran */
	uint64_t addr;         /* DEST_MEM: guest-physical address */
	uint64_t rip;          /* the instruction's address */
	uint64_t next_rip;     /* the next instruction's */
	uint64_t rflags;       /* RFLAGS after it (VMsucceed/VMfail flags) */
	struct vmx_result res; /* the outcome; value: what VMREAD/VMPTRST store */
};

struct vmx_shadow {
	struct vmx_cpu *cpu;      /* L1's VMX processor */
	struct vmcs_store *store; /* its VMCS regions (VMCS data lives in memory on hardware) */
	bool stopped;             /* state unknown: no more checks on this vCPU */
	bool l2_ran;              /* an L1 entry was accepted: L2's exits were not seen */
	uint8_t pending;          /* enum shadow_pending */
	uint64_t checks;          /* comparisons made so far */
	struct shadow_expect exp;
	uint64_t active[SHADOW_VMCS_MAX]; /* VMCS regions VMPTRLD made active, not VMCLEARed */
	unsigned n_active;
};

/* What L1 observes of the algorithm's emulation when it enters L1 again. */
struct shadow_seen {
	bool fault;     /* a hardware exception is injected */
	uint8_t vector; /* its vector */
	uint64_t rip, rflags, value;
};

static const char *insn_name(unsigned insn)
{
	static const char *const names[GVMX_COUNT] = {
	    "VMXON",   "VMXOFF",   "VMCLEAR",  "VMPTRLD", "VMPTRST", "VMREAD",
	    "VMWRITE", "VMLAUNCH", "VMRESUME", "INVEPT",  "INVVPID",
	};

	return insn < GVMX_COUNT ? names[insn] : "VMX";
}

static unsigned model_id(unsigned insn)
{
	static const uint8_t ids[GVMX_COUNT] = {
	    VMX_INSN_VMXON,    VMX_INSN_VMXOFF, VMX_INSN_VMCLEAR, VMX_INSN_VMPTRLD,
	    VMX_INSN_VMPTRST,  VMX_INSN_VMREAD, VMX_INSN_VMWRITE, VMX_INSN_VMLAUNCH,
	    VMX_INSN_VMRESUME, VMX_INSN_INVEPT, VMX_INSN_INVVPID,
	};

	return insn < GVMX_COUNT ? ids[insn] : VMX_INSN_COUNT;
}

static bool guest_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	return hvsim_guest_read(ctx, pa, buf, len) == HVSIM_OK;
}

/* ---- lifetime ---- */

void vmx_shadow_destroy(struct vmx_shadow *s)
{
	if (!s)
		return;
	vmx_cpu_destroy(s->cpu);
	vmcs_store_destroy(s->store);
	free(s);
}

static struct vmx_shadow *shadow_create(hvsim_vm *vm, const struct vmx_caps *caps)
{
	struct vmx_mem mem = {.read = guest_read, .ctx = vm};
	struct vmx_shadow *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->store = vmcs_store_create(SHADOW_VMCS_MAX);
	if (s->store)
		s->cpu = vmx_cpu_create(caps, &mem, s->store);
	if (!s->cpu) {
		vmx_shadow_destroy(s);
		return NULL;
	}
	return s;
}

static void stop(hvsim_vcpu *v, struct vmx_shadow *s, const char *why)
{
	s->stopped = true;
	s->pending = SHADOW_PEND_NONE;
	vcpu_emit(v, "nested_insn_stop", TRACE_VERBOSE, "reason", why);
}

static bool caps_equal(const struct vmx_caps *a, const struct vmx_caps *b)
{
	return strcmp(a->name, b->name) == 0 && memcmp(a->msr, b->msr, sizeof(a->msr)) == 0 &&
	       a->present == b->present && a->maxphyaddr == b->maxphyaddr &&
	       a->linear_bits == b->linear_bits &&
	       a->perf_global_ctrl_valid == b->perf_global_ctrl_valid &&
	       a->debugctl_valid == b->debugctl_valid && a->efer_valid == b->efer_valid &&
	       a->seam == b->seam;
}

/* New capabilities: a new processor over the same VMCS regions, outside VMX operation (KVM
 * refuses to change them after VMXON); changed in VMX operation, the state is unknown. */
static enum hvsim_status recreate(hvsim_vcpu *v, const struct vmx_caps *caps)
{
	struct vmx_shadow *s = v->shadow;
	struct vmx_mem mem = {.read = guest_read, .ctx = v->vm};
	struct vmx_cpu *cpu = vmx_cpu_create(caps, &mem, s->store);

	if (!cpu)
		return HVSIM_E_NOMEM;
	if (vmx_cpu_in_vmx_operation(s->cpu) && !s->stopped)
		stop(v, s, "capabilities changed in VMX operation");
	vmx_cpu_destroy(s->cpu);
	s->cpu = cpu;
	return HVSIM_OK;
}

enum hvsim_status hvsim_vmx_nested_caps(hvsim_vcpu *v, const struct vmx_caps *caps)
{
	if (!v)
		return HVSIM_E_INPUT;
	if (!caps) {
		vmx_shadow_destroy(v->shadow);
		v->shadow = NULL;
		return HVSIM_OK;
	}
	if (!v->vmx)
		return HVSIM_E_UNSUPPORTED;
	if (v->shadow)
		return caps_equal(vmx_cpu_caps(v->shadow->cpu), caps) ? HVSIM_OK
		                                                      : recreate(v, caps);
	v->shadow = shadow_create(v->vm, caps);
	return v->shadow ? HVSIM_OK : HVSIM_E_NOMEM;
}

bool vmx_shadow_checking(const hvsim_vcpu *v)
{
	return v->shadow && !v->shadow->stopped;
}

uint64_t vmx_shadow_checks(const hvsim_vcpu *v)
{
	return v->shadow ? v->shadow->checks : 0;
}

/* ---- at the exit: the instruction on the shadow ---- */

static uint64_t vmcs_get(const hvsim_vcpu *v, uint32_t encoding)
{
	uint64_t value = 0;

	vmx_vmcs_get(v->vmx, encoding, &value);
	return value;
}

/* A control register as L1 reads it: bits the guest/host mask owns come from the read shadow
 * (SDM 26.3 "Changes to Instruction Behavior in VMX Non-Root Operation"). */
static uint64_t l1_cr(const hvsim_vcpu *v, uint64_t cr, uint32_t mask_enc, uint32_t shadow_enc)
{
	uint64_t mask = vmcs_get(v, mask_enc);

	return (cr & ~mask) | (vmcs_get(v, shadow_enc) & mask);
}

/* L1's processor state at the instruction, as the VMX instructions' checks read it. */
static void set_mode(const hvsim_vcpu *v, struct vmx_shadow *s)
{
	const struct cpu_state *g = &v->vmx_guest;
	struct vmx_cpu_mode m;

	memset(&m, 0, sizeof(m));
	m.cpl = (uint8_t)SS_DPL(g->seg[SEG_SS].ar);
	m.cr0 = l1_cr(v, g->cr0, VMCS_CR0_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW);
	m.cr4 = l1_cr(v, g->cr4, VMCS_CR4_GUEST_HOST_MASK, VMCS_CR4_READ_SHADOW);
	m.efer = g->efer;
	m.rflags = g->rflags;
	m.cs_l = (g->seg[SEG_CS].ar & CS_L) != 0;
	m.blocked_by_mov_ss = (g->interruptibility & CPU_INTR_BLOCK_MOV_SS) != 0;
	m.feature_control = FEATURE_CONTROL;
	vmx_cpu_set_mode(s->cpu, &m);
}

/* The source memory operand: m64 (VMXON, VMCLEAR, VMPTRLD), VMWRITE's r/m, the INVEPT/INVVPID
 * descriptor (m128). False when it is not in guest RAM. */
static bool fetch(hvsim_vcpu *v, const struct guest_op *op, uint64_t opnd[2])
{
	size_t len = 8;

	switch (op->u.vmx.insn) {
	case GVMX_VMXOFF:
	case GVMX_VMPTRST:
	case GVMX_VMREAD: return true;
	case GVMX_VMWRITE:
		if (!op->u.vmx.mem) {
			opnd[0] = op->u.vmx.value;
			return true;
		}
		len = op->u.vmx.size == 4 ? 4 : 8;
		break;
	case GVMX_INVEPT:
	case GVMX_INVVPID: len = 16; break;
	default: break;
	}
	return op->u.vmx.mem && hvsim_guest_read(v->vm, op->u.vmx.addr, opnd, len) == HVSIM_OK;
}

static void run_insn(struct vmx_cpu *cpu, const struct guest_op *op, const uint64_t opnd[2],
                     struct vmx_result *res)
{
	uint64_t field = op->u.vmx.field;

	switch (op->u.vmx.insn) {
	case GVMX_VMXON: vmx_plain_vmxon(cpu, opnd[0], res); break;
	case GVMX_VMXOFF: vmx_plain_vmxoff(cpu, res); break;
	case GVMX_VMCLEAR: vmx_plain_vmclear(cpu, opnd[0], res); break;
	case GVMX_VMPTRLD: vmx_plain_vmptrld(cpu, opnd[0], res); break;
	case GVMX_VMPTRST: vmx_plain_vmptrst(cpu, res); break;
	case GVMX_VMREAD: vmx_plain_vmread(cpu, field, res); break;
	case GVMX_VMWRITE: vmx_plain_vmwrite(cpu, field, opnd[0], res); break;
	case GVMX_INVEPT: vmx_plain_invept(cpu, field, opnd[0], opnd[1], res); break;
	default: vmx_plain_invvpid(cpu, field, opnd[0], opnd[1], res); break;
	}
}

static void operand_fault(struct vmx_result *res, const char *cond)
{
	memset(res, 0, sizeof(*res));
	res->outcome = VMX_FAULT_GP;
	res->check = "nested_insn_operand";
	res->cond = cond;
	res->cite = "hvsim: #GP(0) for #PF, outside guest RAM";
}

/* VMREAD and VMPTRST store their value after succeeding; a destination outside guest RAM faults
 * and the instruction changes nothing (it changed nothing else). */
static void set_dest(hvsim_vcpu *v, struct vmx_shadow *s, const struct guest_op *op)
{
	struct shadow_expect *e = &s->exp;
	uint64_t probe;
	unsigned insn = op->u.vmx.insn;

	if (e->res.outcome != VMX_SUCCEED || (insn != GVMX_VMREAD && insn != GVMX_VMPTRST))
		return;
	e->size = insn == GVMX_VMREAD && op->u.vmx.size == 4 ? 4 : 8;
	e->compare_value =
	    insn == GVMX_VMPTRST || !s->l2_ran || ENC_TYPE(op->u.vmx.field) != VMCS_TYPE_RO_DATA;
	if (insn == GVMX_VMREAD && !op->u.vmx.mem) {
		e->dest = DEST_REG;
		e->reg = op->u.vmx.reg1;
		return;
	}
	e->dest = DEST_MEM;
	e->addr = op->u.vmx.addr;
	if (hvsim_guest_read(v->vm, e->addr, &probe, e->size) != HVSIM_OK) {
		operand_fault(&e->res, "destination outside guest RAM");
		e->dest = DEST_NONE;
	}
}

static bool active_has(const struct vmx_shadow *s, uint64_t pa)
{
	for (unsigned i = 0; i < s->n_active; i++)
		if (s->active[i] == pa)
			return true;
	return false;
}

/* Follows which regions this processor holds active: VMPTRLD adds, VMCLEAR removes (SDM 25.1
 * "Overview"). False when the set is full (the shadow then cannot tell sharing). */
static bool active_follow(struct vmx_shadow *s, unsigned insn, uint64_t pa)
{
	if (insn == GVMX_VMCLEAR) {
		for (unsigned i = 0; i < s->n_active; i++)
			if (s->active[i] == pa)
				s->active[i] = s->active[--s->n_active];
		return true;
	}
	if (active_has(s, pa))
		return true;
	if (s->n_active == SHADOW_VMCS_MAX)
		return false;
	s->active[s->n_active++] = pa;
	return true;
}

/* SDM 25.11.1 "Software Use of Virtual-Machine Control Structures": no VMCS should be active on
 * more than one logical processor; one that is "may become corrupted". Its launch state and data
 * then have no one SDM value (an algorithm keeps one copy per VM, each shadow its own), so the
 * shadows of the processors that share it stop: the one that made it active with VMPTRLD and the
 * others holding it (a VMCLEAR elsewhere changes what they hold). A stopped shadow keeps the
 * regions it held when it stopped: its processor may still hold them (a VMCLEAR elsewhere stopped
 * it without making them inactive there), and a region it gave up since only stops a shadow
 * early, never gives a finding. */
static void shared_vmcs(hvsim_vcpu *v, struct vmx_shadow *s, unsigned insn, uint64_t pa)
{
	bool shared = false;

	for (unsigned i = 0; i < v->vm->n_vcpus; i++) {
		hvsim_vcpu *o = &v->vm->vcpus[i];

		if (o == v || !o->shadow || !active_has(o->shadow, pa))
			continue;
		if (!o->shadow->stopped)
			stop(o, o->shadow, "a VMCS active on two logical processors");
		shared = true;
	}
	if (shared && insn == GVMX_VMPTRLD)
		stop(v, s, "a VMCS active on two logical processors");
}

/* VMPTRLD and VMCLEAR that succeeded on the shadow: the regions each processor holds. */
static void follow_regions(hvsim_vcpu *v, struct vmx_shadow *s, const uint64_t *opnd)
{
	unsigned insn = s->exp.insn;

	if ((insn != GVMX_VMPTRLD && insn != GVMX_VMCLEAR) || s->exp.res.outcome != VMX_SUCCEED)
		return;
	if (!active_follow(s, insn, opnd[0]))
		stop(v, s, "more active VMCS regions than the shadow follows");
	else
		shared_vmcs(v, s, insn, opnd[0]);
}

static void execute(hvsim_vcpu *v, struct vmx_shadow *s, const struct guest_op *op)
{
	struct shadow_expect *e = &s->exp;
	uint64_t opnd[2] = {0, 0};

	memset(e, 0, sizeof(*e));
	e->insn = op->u.vmx.insn;
	e->rip = op->rip;
	e->next_rip = op->rip + op->len;
	/* SDM 31.3 "VMX Instructions": #UD, #GP(0), VMXON's VMfail(15) and INVEPT/INVVPID's type
	 * come before the memory operand is read */
	if (vmx_plain_insn_fails_before_operand(s->cpu, model_id(e->insn), op->u.vmx.field) ||
	    fetch(v, op, opnd)) {
		run_insn(s->cpu, op, opnd, &e->res);
	} else if (e->insn == GVMX_VMWRITE) {
		/* VMWRITE's operation does not say when its source is read: against VMfailInvalid
		 * and the field checks, a source outside RAM has no one SDM outcome. Not compared,
		 * and the shadow executes nothing (#GP and VMfailInvalid change no state). */
		s->pending = SHADOW_PEND_NONE;
		return;
	} else {
		operand_fault(&e->res, "memory operand outside guest RAM");
	}
	set_dest(v, s, op);
	e->rflags = vmx_result_rflags(&e->res, v->vmx_guest.rflags);
	s->pending = SHADOW_PEND_INSN;
	if (e->res.outcome == VMX_INTERNAL_ERROR)
		stop(v, s, "the shadow's VMCS store is full");
	else
		follow_regions(v, s, opnd);
}

void vmx_shadow_exit(hvsim_vcpu *v, const struct guest_op *op)
{
	struct vmx_shadow *s = v->shadow;
	unsigned insn = op->u.vmx.insn;

	if (!s || s->stopped || op->kind != GOP_VMX || insn >= GVMX_COUNT)
		return;
	set_mode(v, s);
	if (insn != GVMX_VMLAUNCH && insn != GVMX_VMRESUME) {
		execute(v, s, op);
		return;
	}
	memset(&s->exp, 0, sizeof(s->exp));
	s->exp.insn = (uint8_t)insn;
	s->exp.rip = op->rip;
	s->exp.next_rip = op->rip + op->len;
	s->pending = SHADOW_PEND_ENTRY;
}

/* ---- VMLAUNCH / VMRESUME: the differential's outcome ---- */

void vmx_shadow_nested_entry(hvsim_vcpu *v, bool launch, bool agree, const struct vmx_result *hw)
{
	struct vmx_shadow *s = v->shadow;
	struct vmx_result res;

	if (!s || s->stopped || s->pending != SHADOW_PEND_ENTRY)
		return;
	s->pending = SHADOW_PEND_NONE;
	if (!agree) {
		stop(v, s, "the nested-entry differential disagreed");
		return;
	}
	/* the instruction's own checks (launch state, MOV-SS) on the shadow, the VM-entry checks'
	 * result taken from the differential, and the state changes that follow */
	vmx_plain_vmentry_known(s->cpu, launch, hw, &res);
	if (!vmx_result_same(&res, hw)) {
		stop(v, s, "the shadow's launch state or mode differs from the differential's");
		return;
	}
	if (res.outcome == VMX_ENTERED)
		s->l2_ran = true;
}

/* No differential for L1's VMLAUNCH/VMRESUME (an algorithm that decided it without one): the
 * shadow executes it; decided before the VM-entry checks it is compared like the others, else the
 * shadow cannot know what L1 got. */
static void entry_without_differential(hvsim_vcpu *v, struct vmx_shadow *s)
{
	struct shadow_expect *e = &s->exp;

	if (e->insn == GVMX_VMLAUNCH)
		vmx_plain_vmlaunch(s->cpu, &e->res);
	else
		vmx_plain_vmresume(s->cpu, &e->res);
	if (e->res.outcome == VMX_ENTERED || e->res.outcome == VMX_ENTRY_FAIL_EXIT) {
		stop(v, s, "L1's VM entry was not given to the nested-entry differential");
		return;
	}
	e->rflags = vmx_result_rflags(&e->res, v->vmx_guest.rflags);
	s->pending = SHADOW_PEND_INSN;
}

/* ---- at the next entry: the comparison ---- */

static void observe(hvsim_vcpu *v, const struct shadow_expect *e, struct shadow_seen *g)
{
	uint64_t intr = vmcs_get(v, VMCS_VM_ENTRY_INTR_INFO_FIELD);

	memset(g, 0, sizeof(*g));
	g->fault = (intr & INTR_INFO_VALID) && INTR_INFO_TYPE(intr) == INTR_TYPE_HW_EXCEPTION;
	g->vector = (uint8_t)INTR_INFO_VECTOR(intr);
	g->rip = vmcs_get(v, VMCS_GUEST_RIP);
	g->rflags = vmcs_get(v, VMCS_GUEST_RFLAGS);
	if (e->dest == DEST_REG)
		g->value = e->reg == GPR_RSP ? vmcs_get(v, VMCS_GUEST_RSP)
		                             : v->be->get_gpr(v->be_ctx, e->reg);
	else if (e->dest == DEST_MEM)
		hvsim_guest_read(v->vm, e->addr, &g->value, e->size);
	if (e->size == 4)
		g->value = (uint32_t)g->value;
}

static uint8_t fault_vector(enum vmx_outcome o)
{
	return o == VMX_FAULT_UD ? VECTOR_UD : VECTOR_GP;
}

static bool is_fault(enum vmx_outcome o)
{
	return o == VMX_FAULT_UD || o == VMX_FAULT_GP;
}

static bool agrees(const struct shadow_expect *e, const struct shadow_seen *g)
{
	if (is_fault(e->res.outcome))
		return g->fault && g->vector == fault_vector(e->res.outcome) && g->rip == e->rip;
	return !g->fault && g->rip == e->next_rip &&
	       (g->rflags & FLAGS_VMX) == (e->rflags & FLAGS_VMX) &&
	       (e->dest == DEST_NONE || !e->compare_value || g->value == e->res.value);
}

/* SDM 31.2: the flags L1 tests after a VMX instruction. */
static const char *flags_name(uint64_t rflags)
{
	uint64_t f = rflags & FLAGS_VMX;

	if (f == 0)
		return "VMsucceed";
	if (f == FLAG_CF)
		return "VMfailInvalid";
	if (f == FLAG_ZF)
		return "VMfailValid";
	return "flags";
}

static void describe_seen(const struct shadow_expect *e, const struct shadow_seen *g, char *buf,
                          size_t cap)
{
	int n;

	if (g->fault)
		n = snprintf(buf, cap, "%s",
		             g->vector == VECTOR_UD   ? "#UD"
		             : g->vector == VECTOR_GP ? "#GP(0)"
		                                      : "exception");
	else
		n = snprintf(buf, cap, "%s rflags 0x%llx", flags_name(g->rflags),
		             (unsigned long long)(g->rflags & FLAGS_VMX));
	if (n > 0 && (size_t)n < cap && !g->fault && e->dest != DEST_NONE)
		n += snprintf(buf + n, cap - (size_t)n, " value 0x%llx",
		              (unsigned long long)g->value);
	if (n > 0 && (size_t)n < cap && g->rip != (g->fault ? e->rip : e->next_rip))
		snprintf(buf + n, cap - (size_t)n, " rip 0x%llx", (unsigned long long)g->rip);
}

static void describe_expected(const struct shadow_expect *e, char *buf, size_t cap)
{
	const struct vmx_result *r = &e->res;
	int n = snprintf(buf, cap, "%s", vmx_outcome_name(r->outcome));

	if (n > 0 && (size_t)n < cap && r->outcome == VMX_FAIL_VALID)
		n += snprintf(buf + n, cap - (size_t)n, " %u", r->error);
	if (n > 0 && (size_t)n < cap && e->dest != DEST_NONE)
		n += snprintf(buf + n, cap - (size_t)n, " value 0x%llx",
		              (unsigned long long)r->value);
	if (n > 0 && (size_t)n < cap && r->check)
		snprintf(buf + n, cap - (size_t)n, " %s", r->check);
}

static void mismatch(hvsim_vcpu *v, const struct shadow_expect *e, const struct shadow_seen *g)
{
	char mine[TEXT_MAX], hw[TEXT_MAX], detail[2 * TEXT_MAX + 64];
	struct trace_ev ev;

	describe_seen(e, g, mine, sizeof(mine));
	describe_expected(e, hw, sizeof(hw));
	trace_ev_init(&ev, v->now, (int32_t)v->index, "nested_insn");
	trace_ev_str(&ev, "insn", insn_name(e->insn));
	trace_ev_hex(&ev, "rip", e->rip);
	trace_ev_str(&ev, "hv", mine);
	trace_ev_str(&ev, "hw", hw);
	vm_emit(v->vm, &ev);
	snprintf(detail, sizeof(detail), "%s: %s: %s; hardware: %s", insn_name(e->insn),
	         v->vm->hv->name, mine, hw);
	vm_finding(v->vm, (int32_t)v->index, v->now, "nested_insn_mismatch", detail);
}

void vmx_shadow_entry(hvsim_vcpu *v)
{
	struct vmx_shadow *s = v->shadow;
	struct shadow_seen g;

	if (!s || s->stopped || s->pending == SHADOW_PEND_NONE)
		return;
	if (s->pending == SHADOW_PEND_ENTRY)
		entry_without_differential(v, s);
	if (s->pending != SHADOW_PEND_INSN)
		return;
	s->pending = SHADOW_PEND_NONE;
	s->checks++;
	observe(v, &s->exp, &g);
	if (agrees(&s->exp, &g))
		return;
	mismatch(v, &s->exp, &g);
	/* the algorithm's state and the shadow's now differ in ways L1 has not seen yet: rather
	 * than a cascade of findings from one bug, this vCPU is not checked again */
	stop(v, s, "nested_insn_mismatch");
}

/* ---- snapshots ---- */

struct vmx_shadow *vmx_shadow_clone(const struct vmx_shadow *s)
{
	struct vmx_shadow *c = malloc(sizeof(*c));

	if (!c)
		return NULL;
	*c = *s;
	c->store = vmcs_store_clone(s->store);
	c->cpu = c->store ? vmx_cpu_clone(s->cpu) : NULL;
	if (!c->cpu) {
		vmx_shadow_destroy(c);
		return NULL;
	}
	return c;
}

enum hvsim_status vmx_shadow_restore(hvsim_vcpu *v, const struct vmx_shadow *snap)
{
	struct vmx_shadow *s;

	if (!snap) {
		vmx_shadow_destroy(v->shadow);
		v->shadow = NULL;
		return HVSIM_OK;
	}
	if (!v->shadow && !(v->shadow = shadow_create(v->vm, vmx_cpu_caps(snap->cpu))))
		return HVSIM_E_NOMEM;
	s = v->shadow;
	if (!vmcs_store_assign(s->store, snap->store))
		return HVSIM_E_NOMEM;
	vmx_cpu_assign(s->cpu, snap->cpu);
	s->stopped = snap->stopped;
	s->l2_ran = snap->l2_ran;
	s->pending = snap->pending;
	s->checks = snap->checks;
	s->exp = snap->exp;
	memcpy(s->active, snap->active, sizeof(s->active));
	s->n_active = snap->n_active;
	return HVSIM_OK;
}
