/* The script backend: a guest made of recorded actions instead of code. Each exit-worthy action
 * becomes the guest_op a real instruction would produce, with the registers that instruction reads
 * (RCX for RDMSR, EDX:EAX for WRMSR, ...) set, at a synthetic RIP. Like hardware, the action counts
 * as executed only once the hypervisor moves RIP past it; a hypervisor that forgets re-executes it.
 * Interrupts run the script's handler for the vector and return with an implicit IRET. Stores (the
 * store action, a vmx action's memory operand) write guest RAM directly, as a MOV that never exits;
 * a store outside RAM or into an MMIO region stops the vCPU (a guest_bad_access). */
#include "backend.h"
#include "mem_track.h"

#include <hvsim/scenario.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES_MAX       48 /* repeat nesting plus nested handlers */
#define HANDLER_RIP_BASE 0x40000000u
#define RFLAGS_IF        (UINT64_C(1) << 9)
#define RFLAGS_FIXED     (UINT64_C(1) << 1) /* bit 1 always reads 1 (SDM 2.3 "System Flags") */

enum frame_kind { FR_LIST, FR_REPEAT, FR_HANDLER };

struct frame {
	const struct script_action *list;
	size_t n, pc;
	uint64_t iters_left; /* FR_REPEAT: passes still to run after this one */
	uint8_t kind;
	uint64_t base;    /* synthetic code address of the frame's actions */
	uint64_t ret_rip; /* FR_HANDLER: where IRET returns */
	uint64_t ret_rflags;
	uint64_t compute_left; /* instructions left of the frame's current compute action, 0: none
	                        * started; per frame, so a handler never inherits an interrupted
	                        * compute */
};

struct script_cpu {
	const struct guest_script *s;
	const struct be_machine *m; /* the RAM that stores write */
	char why[96];               /* a bad store's description */
	struct frame st[FRAMES_MAX];
	unsigned depth;
	uint64_t gpr[GPR_COUNT];
	uint64_t rip, rflags;
	uint64_t step; /* actions executed: the synthetic RIP of the next one */
	bool at_op;
	bool if_stop; /* arm_if_stop: the next run ends once an instruction has set IF */
	struct guest_op op;
};

void *script_backend_create(const struct guest_script *s, uint64_t base_rip,
                            const struct be_machine *m)
{
	struct script_cpu *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->s = s;
	c->m = m;
	c->rflags = RFLAGS_FIXED | RFLAGS_IF;
	c->st[0] =
	    (struct frame){.list = s->main, .n = s->n_main, .kind = FR_LIST, .base = base_rip};
	c->depth = 1;
	c->rip = base_rip;
	return c;
}

static void destroy(void *ctx)
{
	free(ctx);
}

static uint64_t next_rip(struct script_cpu *c)
{
	return c->st[c->depth - 1].base + ((c->step & 0xffffff) << 4);
}

/* The action at the top of the stack, after unwinding finished lists; NULL when the script ended.
 */
static const struct script_action *current(struct script_cpu *c)
{
	while (c->depth) {
		struct frame *f = &c->st[c->depth - 1];

		if (f->pc < f->n)
			return &f->list[f->pc];
		if (f->kind == FR_REPEAT && f->iters_left) {
			f->iters_left--;
			f->pc = 0;
			continue;
		}
		if (f->kind == FR_HANDLER) { /* implicit IRET */
			c->rip = f->ret_rip;
			c->rflags = f->ret_rflags;
		}
		if (--c->depth == 0)
			return NULL;
		if (f->kind != FR_HANDLER)
			c->st[c->depth - 1].pc++;
	}
	return NULL;
}

static void advance(struct script_cpu *c)
{
	c->st[c->depth - 1].pc++;
	c->step++;
	c->rip = next_rip(c);
}

/* Accounts for the operation we stopped at: done if the hypervisor moved RIP past it. */
static enum be_stop settle(struct script_cpu *c, const char **why)
{
	if (!c->at_op)
		return BE_BUDGET;
	c->at_op = false;
	if (c->rip == c->op.rip + c->op.len) {
		advance(c);
		return BE_BUDGET;
	}
	if (c->rip == c->op.rip)
		return BE_BUDGET;
	*why = "a scripted guest cannot continue at a RIP the hypervisor moved elsewhere";
	return BE_FAULT;
}

static void set_edx_eax(struct script_cpu *c, uint64_t v)
{
	c->gpr[GPR_RAX] = (uint32_t)v;
	c->gpr[GPR_RDX] = v >> 32;
}

static void op_io(struct script_cpu *c, const struct script_action *a, struct guest_op *op)
{
	op->kind = GOP_IO;
	op->u.io.port = (uint16_t)a->index;
	op->u.io.size = a->size;
	op->u.io.in = a->op == SOP_IN;
	op->u.io.imm = a->index < 0x100;
	op->len = op->u.io.imm ? 2 : 1;
	if (op->u.io.size == 2)
		op->len++; /* operand-size prefix */
	if (!op->u.io.imm)
		c->gpr[GPR_RDX] = a->index;
	if (!op->u.io.in) {
		op->u.io.value = (uint32_t)a->value;
		c->gpr[GPR_RAX] = a->value;
	}
}

static void op_mmio(struct script_cpu *c, const struct script_action *a, struct guest_op *op)
{
	op->kind = GOP_MMIO;
	op->len = a->size == 8 ? 3 : a->size == 2 ? 3 : 2; /* mov [rbx], eax / rax / ax */
	op->u.mmio.gpa = a->addr;
	op->u.mmio.size = a->size;
	op->u.mmio.write = a->op == SOP_MMIO_WRITE;
	op->u.mmio.gpr = GPR_RAX;
	c->gpr[GPR_RBX] = a->addr;
	if (op->u.mmio.write) {
		op->u.mmio.value = a->value;
		c->gpr[GPR_RAX] = a->value;
	}
}

/* The instructions of the later script ops, with their operands in the registers they read: the
 * encodings' lengths are those of the forms a compiler emits (MONITOR 0F 01 C8, MWAIT 0F 01 C9,
 * INVLPG [RAX] 0F 01 38, INVD 0F 08, XSETBV 0F 01 D1, RDRAND/RDSEED RAX with REX.W). */
static bool make_other_op(struct script_cpu *c, const struct script_action *a, struct guest_op *op)
{
	op->len = 3;
	switch (a->op) {
	case SOP_MONITOR:
	case SOP_MWAIT:
		op->kind = a->op == SOP_MONITOR ? GOP_MONITOR : GOP_MWAIT;
		op->u.mwait.addr = a->op == SOP_MONITOR ? a->addr : 0;
		op->u.mwait.ecx = a->index;
		op->u.mwait.eax = a->op == SOP_MWAIT ? a->sub : 0;
		c->gpr[GPR_RAX] = a->op == SOP_MONITOR ? a->addr : a->sub;
		c->gpr[GPR_RCX] = a->index;
		if (a->op == SOP_MONITOR)
			c->gpr[GPR_RDX] = a->sub;
		return true;
	case SOP_INVLPG:
		op->kind = GOP_INVLPG;
		op->u.invlpg.addr = a->addr;
		c->gpr[GPR_RAX] = a->addr;
		return true;
	case SOP_INVD:
		op->kind = GOP_INVD;
		op->len = 2;
		return true;
	case SOP_XSETBV:
		op->kind = GOP_XSETBV;
		op->u.xsetbv.xcr = a->index;
		op->u.xsetbv.value = a->value;
		c->gpr[GPR_RCX] = a->index;
		set_edx_eax(c, a->value);
		return true;
	default: /* SOP_RDRAND, SOP_RDSEED */
		op->kind = a->op == SOP_RDRAND ? GOP_RDRAND : GOP_RDSEED;
		op->len = 4;
		op->u.rand.gpr = GPR_RAX;
		op->u.rand.size = 8;
		return true;
	}
}

/* Whether [gpa, gpa+len) is guest RAM outside every MMIO region (a store there never exits). */
static bool ram_store_ok(const struct be_machine *m, uint64_t gpa, uint64_t len)
{
	if (!m || gpa > m->mem_size || len > m->mem_size - gpa)
		return false;
	for (unsigned i = 0; i < SIM_MMIO_MAX; i++)
		if (m->mmio[i].size && gpa < m->mmio[i].gpa + m->mmio[i].size &&
		    m->mmio[i].gpa < gpa + len)
			return false;
	return true;
}

/* Writes the low len bytes of v at gpa (little-endian); false, with c->why, when it cannot. */
static bool store(struct script_cpu *c, uint64_t gpa, uint64_t v, unsigned len)
{
	if (!ram_store_ok(c->m, gpa, len)) {
		snprintf(c->why, sizeof(c->why), "store to 0x%llx outside RAM or into MMIO",
		         (unsigned long long)gpa);
		return false;
	}
	for (unsigned i = 0; i < len; i++)
		c->m->mem[gpa + i] = (uint8_t)(v >> (8 * i));
	if (c->m->track)
		mem_track_mark(c->m->track, gpa, len);
	return true;
}

/* A vmx action's stores, as its code form does them before the instruction (mov rax, imm64;
 * mov [r11], rax, and for an m128 descriptor its high quadword at r11 + 8). */
static bool vmx_store(struct script_cpu *c, const struct script_action *a)
{
	bool m128 = a->sub == GVMX_INVEPT || a->sub == GVMX_INVVPID;
	bool reg_form =
	    a->sub >= GVMX_COUNT || a->sub == GVMX_VMXOFF || a->sub == GVMX_VMLAUNCH ||
	    a->sub == GVMX_VMRESUME ||
	    ((a->sub == GVMX_VMREAD || a->sub == GVMX_VMWRITE) && !(a->flags & SCRIPT_VMX_MEM));

	if (!(a->flags & SCRIPT_VMX_STORE) || reg_form)
		return true;
	if (!store(c, a->addr, a->value, 8) || (m128 && !store(c, a->addr + 8, a->value2, 8)))
		return false;
	c->gpr[GPR_RAX] = m128 ? a->value2 : a->value;
	return true;
}

/* A VMX instruction in the forms fz_hvt_code.c assembles (SDM Vol. 2 ch. 6): the memory operand
 * at [R11], VMREAD/VMWRITE's field and INVEPT/INVVPID's type in RCX, VMREAD's register destination
 * and VMWRITE's register source RAX; the operands as VM-exit instruction information describes
 * them (SDM 28.2.4). Lengths: VMXON/VMCLEAR [r11] 5 (prefix, REX, 0F C7 /6), VMPTRLD/VMPTRST 4,
 * VMREAD/VMWRITE 3 with registers, 4 with [r11], INVEPT/INVVPID 6, the others 3 (0F 01 C2..C4). */
static void op_vmx(struct script_cpu *c, const struct script_action *a, struct guest_op *op)
{
	static const uint8_t lens[GVMX_COUNT] = {5, 3, 5, 4, 4, 3, 3, 3, 3, 6, 6};
	uint8_t insn = a->sub < GVMX_COUNT ? (uint8_t)a->sub : GVMX_VMXOFF;
	bool rw = insn == GVMX_VMREAD || insn == GVMX_VMWRITE;
	bool mem = rw ? (a->flags & SCRIPT_VMX_MEM) != 0 : lens[insn] > 3; /* m64, m128 */

	op->kind = GOP_VMX;
	op->len = (uint8_t)(lens[insn] + (mem && rw));
	op->u.vmx.insn = insn;
	op->u.vmx.reg1 = op->u.vmx.reg2 = op->u.vmx.base = op->u.vmx.index = GPR_COUNT;
	op->u.vmx.seg = 3; /* DS */
	op->u.vmx.size = 8;
	if (mem) {
		op->u.vmx.mem = true;
		op->u.vmx.base = GPR_R11;
		op->u.vmx.scale = 1;
		op->u.vmx.addr_size = 8;
		op->u.vmx.addr = a->addr;
		c->gpr[GPR_R11] = a->addr;
	}
	if (rw || insn == GVMX_INVEPT || insn == GVMX_INVVPID) {
		op->u.vmx.reg2 = GPR_RCX;
		op->u.vmx.field = a->field;
		c->gpr[GPR_RCX] = a->field;
	}
	if (!mem && rw)
		op->u.vmx.reg1 = GPR_RAX;
	if (!mem && insn == GVMX_VMWRITE) {
		op->u.vmx.value = a->value;
		c->gpr[GPR_RAX] = a->value;
	}
}

/* Fills op for an exit-worthy action; false for actions that are not operations. */
static bool make_op(struct script_cpu *c, const struct script_action *a, struct guest_op *op)
{
	memset(op, 0, sizeof(*op));
	op->rip = c->rip;
	op->len = 2;
	switch (a->op) {
	case SOP_CPUID:
		op->kind = GOP_CPUID;
		op->u.cpuid.leaf = a->index;
		op->u.cpuid.subleaf = a->sub;
		c->gpr[GPR_RAX] = a->index;
		c->gpr[GPR_RCX] = a->sub;
		return true;
	case SOP_RDMSR:
	case SOP_WRMSR:
		op->kind = a->op == SOP_RDMSR ? GOP_RDMSR : GOP_WRMSR;
		op->u.msr.index = a->index;
		c->gpr[GPR_RCX] = a->index;
		if (a->op == SOP_WRMSR) {
			op->u.msr.value = a->value;
			set_edx_eax(c, a->value);
		}
		return true;
	case SOP_IN:
	case SOP_OUT: op_io(c, a, op); return true;
	case SOP_MMIO_READ:
	case SOP_MMIO_WRITE: op_mmio(c, a, op); return true;
	case SOP_RDTSC: op->kind = GOP_RDTSC; return true;
	case SOP_RDTSCP:
		op->kind = GOP_RDTSCP;
		op->len = 3;
		return true;
	case SOP_RDPMC:
		op->kind = GOP_RDPMC;
		op->u.rdpmc.ecx = a->index;
		c->gpr[GPR_RCX] = a->index;
		return true;
	case SOP_HLT:
		op->kind = GOP_HLT;
		op->len = 1;
		return true;
	case SOP_PAUSE: op->kind = GOP_PAUSE; return true;
	case SOP_VMCALL:
	case SOP_TDCALL:
	case SOP_SEAMCALL:
		op->kind = a->op == SOP_VMCALL   ? GOP_VMCALL
		           : a->op == SOP_TDCALL ? GOP_TDCALL
		                                 : GOP_SEAMCALL;
		op->len = a->op == SOP_VMCALL ? 3 : 4;
		c->gpr[GPR_RAX] = a->value;
		return true;
	case SOP_WBINVD: op->kind = GOP_WBINVD; return true;
	case SOP_MONITOR:
	case SOP_MWAIT:
	case SOP_INVLPG:
	case SOP_INVD:
	case SOP_XSETBV:
	case SOP_RDRAND:
	case SOP_RDSEED: return make_other_op(c, a, op);
	case SOP_VMX: op_vmx(c, a, op); return true;
	case SOP_MOV_CR:
		op->kind = GOP_CR;
		op->len = a->cr == 8 ? 4 : 3;
		op->u.cr.cr = a->cr;
		op->u.cr.access = CR_ACCESS_MOV_TO_CR;
		op->u.cr.gpr = GPR_RAX;
		op->u.cr.value = a->value;
		c->gpr[GPR_RAX] = a->value;
		return true;
	default: return false;
	}
}

/* Non-operation actions; returns instructions retired (at most budget). */
static uint64_t do_local(struct script_cpu *c, const struct script_action *a, uint64_t budget)
{
	struct frame *f = &c->st[c->depth - 1];
	uint64_t n;

	switch (a->op) {
	case SOP_COMPUTE:
		if (!f->compute_left)
			f->compute_left = a->value;
		n = f->compute_left < budget ? f->compute_left : budget;
		f->compute_left -= n;
		if (!f->compute_left)
			advance(c);
		return n;
	case SOP_STI:
		c->rflags |= RFLAGS_IF;
		advance(c);
		return 1;
	case SOP_CLI:
		c->rflags &= ~RFLAGS_IF;
		advance(c);
		return 1;
	case SOP_STORE: /* run() checked and wrote it */ advance(c); return 1;
	case SOP_REPEAT:
		if (c->depth == FRAMES_MAX)
			return 0;
		c->st[c->depth] = (struct frame){.list = a->body,
		                                 .n = a->n_body,
		                                 .iters_left = a->count - 1,
		                                 .kind = FR_REPEAT,
		                                 .base = c->st[c->depth - 1].base};
		c->depth++;
		return 0;
	default: return 0;
	}
}

/* Under arm_if_stop, a run stops where a run of budget 1 would next see RFLAGS.IF set: after the
 * first instruction retired with IF 1. A scripted guest sets IF with STI, and with the implicit
 * IRET at a handler's end, which retires nothing itself and is followed by one instruction of the
 * next action in the same run, as with a budget of 1. */
static bool open_window(const struct script_cpu *c)
{
	return c->if_stop && (c->rflags & RFLAGS_IF);
}

static enum be_stop run(void *ctx, uint64_t budget, struct guest_op *op, uint64_t *retired,
                        const char **why)
{
	struct script_cpu *c = ctx;
	enum be_stop st = settle(c, why);
	uint64_t done = 0, guard = 0, n;

	*retired = 0;
	if (st != BE_BUDGET)
		return st;
	while (done < budget) {
		const struct script_action *a = current(c);

		if (!a)
			st = BE_DONE;
		else if ((a->op == SOP_STORE && !store(c, a->addr, a->value, a->size)) ||
		         (a->op == SOP_VMX && !vmx_store(c, a)))
			st = BE_BAD_ACCESS;
		else if (make_op(c, a, op))
			st = BE_OP;
		if (st == BE_BAD_ACCESS)
			*why = c->why;
		if (st != BE_BUDGET)
			break;
		n = do_local(c, a, open_window(c) ? 1 : budget - done);
		done += n;
		if (n && open_window(c))
			break;
		/* repeat frames retire nothing; the depth cap bounds how often that can happen */
		if (++guard > FRAMES_MAX + budget) {
			*why = "script nesting exceeded the frame stack";
			st = BE_FAULT;
			break;
		}
	}
	if (st == BE_OP) {
		c->at_op = true;
		c->op = *op;
	}
	c->if_stop = false;
	*retired = done;
	return st;
}

static void arm_if_stop(void *ctx)
{
	((struct script_cpu *)ctx)->if_stop = true;
}

static uint64_t get_gpr(void *ctx, unsigned gpr)
{
	struct script_cpu *c = ctx;

	return gpr < GPR_COUNT ? c->gpr[gpr] : 0;
}

static void set_gpr(void *ctx, unsigned gpr, uint64_t value)
{
	struct script_cpu *c = ctx;

	if (gpr < GPR_COUNT)
		c->gpr[gpr] = value;
}

static uint64_t get_rip(void *ctx)
{
	return ((struct script_cpu *)ctx)->rip;
}

static void set_rip(void *ctx, uint64_t rip)
{
	((struct script_cpu *)ctx)->rip = rip;
}

static uint64_t get_rflags(void *ctx)
{
	return ((struct script_cpu *)ctx)->rflags;
}

static void set_rflags(void *ctx, uint64_t rflags)
{
	((struct script_cpu *)ctx)->rflags = rflags | RFLAGS_FIXED;
}

static const struct script_handler *find_handler(const struct guest_script *s, uint8_t vector)
{
	for (size_t i = 0; i < s->n_handlers; i++)
		if (s->handlers[i].vector == vector)
			return &s->handlers[i];
	return NULL;
}

static enum hvsim_status deliver(void *ctx, uint8_t vector, uint8_t type, bool has_error,
                                 uint32_t error_code)
{
	struct script_cpu *c = ctx;
	const struct script_handler *h = find_handler(c->s, vector);
	const char *why = NULL;

	(void)has_error;
	(void)error_code;
	if (settle(c, &why) != BE_BUDGET || c->depth >= FRAMES_MAX)
		return HVSIM_E_INPUT;
	/* Handlers exist for vectors 32..255 only: an exception finds no gate, which on hardware
	 * ends in a triple fault (SDM 6.15 #NP, #DF). Returning at once would restart the faulting
	 * action, an endless loop that takes no virtual time. */
	if (type == BE_EV_HW_EXCEPTION && !h)
		return HVSIM_E_INPUT;
	if (!h || h->n == 0)
		return HVSIM_OK; /* an empty handler is an immediate IRET */
	c->st[c->depth++] = (struct frame){.list = h->actions,
	                                   .n = h->n,
	                                   .kind = FR_HANDLER,
	                                   .base = HANDLER_RIP_BASE + ((uint64_t)vector << 24),
	                                   .ret_rip = c->rip,
	                                   .ret_rflags = c->rflags};
	c->rflags &= ~RFLAGS_IF; /* interrupt gate (SDM 6.12.1.3) */
	c->rip = next_rip(c);
	return HVSIM_OK;
}

static bool interruptible(void *ctx)
{
	return ((struct script_cpu *)ctx)->rflags & RFLAGS_IF;
}

/* The whole CPU is plain state: its pointers lead into the parsed script, which outlives the VM. */
static void *snapshot(void *ctx)
{
	struct script_cpu *c = malloc(sizeof(*c));

	if (c)
		*c = *(const struct script_cpu *)ctx;
	return c;
}

static enum hvsim_status restore(void *ctx, const void *snap)
{
	*(struct script_cpu *)ctx = *(const struct script_cpu *)snap;
	return HVSIM_OK;
}

bool script_backend_rebind(void *ctx, const struct guest_script *s)
{
	struct script_cpu *c = ctx;
	struct frame *f = &c->st[0];

	if (c->depth != 1 || c->step || c->at_op || f->pc || f->compute_left)
		return false;
	c->s = s;
	f->list = s->main;
	f->n = s->n_main;
	return true;
}

const struct guest_backend_ops script_backend_ops = {
    .name = "script",
    .destroy = destroy,
    .run = run,
    .get_gpr = get_gpr,
    .set_gpr = set_gpr,
    .get_rip = get_rip,
    .set_rip = set_rip,
    .get_rflags = get_rflags,
    .set_rflags = set_rflags,
    .deliver = deliver,
    .interruptible = interruptible,
    .arm_if_stop = arm_if_stop,
    .snapshot = snapshot,
    .restore = restore,
    .snapshot_free = free,
};
