/* Helpers of the VMX runtime tests (see test_vmx_rt.h): no tests here. */
#include <criterion/criterion.h>

#include <string.h>

#include "test_vmx_rt.h"

void vrt_enter(struct vfx *x, struct cpu_state *g, struct vmx_entry_effects *fx)
{
	struct vmx_result r;

	memset(g, 0, sizeof(*g));
	vmx_vmlaunch(x->cpu, &r);
	cr_assert_eq(r.outcome, VMX_ENTERED, "VMLAUNCH: wanted entered, got %s from %s [%s]",
	             vmx_outcome_name(r.outcome), r.check ? r.check : "-", r.cond ? r.cond : "-");
	cr_assert(vmx_entry_load(x->cpu, VRT_TSC, g, fx), "vmx_entry_load");
}

void vrt_exit(struct vfx *x, const struct vmx_exit_info *e, const struct cpu_state *g,
              struct vmx_exit_effects *fx)
{
	cr_assert(vmx_exit(x->cpu, e, g, VRT_TSC + 100, fx), "vmx_exit");
	cr_assert_eq(fx->abort, 0, "exit reason %u: unexpected VMX abort %u", e->reason, fx->abort);
}

struct guest_op vrt_op(uint8_t kind)
{
	struct guest_op op;

	memset(&op, 0, sizeof(op));
	op.kind = kind;
	op.len = VRT_LEN;
	op.rip = VRT_RIP;
	return op;
}

struct guest_op vrt_io(uint16_t port, uint8_t size, bool in)
{
	struct guest_op op = vrt_op(GOP_IO);

	op.u.io.port = port;
	op.u.io.size = size;
	op.u.io.in = in;
	return op;
}

struct guest_op vrt_msr(uint8_t kind, uint32_t index, uint64_t value)
{
	struct guest_op op = vrt_op(kind);

	op.u.msr.index = index;
	op.u.msr.value = value;
	return op;
}

struct guest_op vrt_cr(uint8_t cr, uint8_t access, uint8_t gpr, uint64_t value)
{
	struct guest_op op = vrt_op(GOP_CR);

	op.u.cr.cr = cr;
	op.u.cr.access = access;
	op.u.cr.gpr = gpr;
	op.u.cr.value = value;
	return op;
}

struct guest_op vrt_mmio(uint64_t gpa, uint8_t size, bool write, uint64_t value)
{
	struct guest_op op = vrt_op(GOP_MMIO);

	op.u.mmio.gpa = gpa;
	op.u.mmio.size = size;
	op.u.mmio.write = write;
	op.u.mmio.value = value;
	op.u.mmio.gpr = GPR_RAX;
	return op;
}

void vrt_ctl(struct vfx *x, unsigned word, uint32_t bits, bool on)
{
	static const uint32_t enc[] = {
	    VMCS_PIN_BASED_VM_EXEC_CONTROL, VMCS_CPU_BASED_VM_EXEC_CONTROL,
	    VMCS_SECONDARY_VM_EXEC_CONTROL, VMCS_VM_EXIT_CONTROLS, VMCS_VM_ENTRY_CONTROLS};

	if (on)
		vfx_or(x, enc[word], bits);
	else
		vfx_clear(x, enc[word], bits);
}

void vrt_bitmap_set(struct vfx *x, uint64_t pa, unsigned n)
{
	uint8_t byte = 0;

	cr_assert(x->memops.read(x->mem, pa + n / 8, &byte, 1), "bitmap read");
	byte |= (uint8_t)(1u << (n % 8));
	vfx_write(x, pa + n / 8, &byte, 1);
}

void vrt_apicv(struct vfx *x, bool posted)
{
	vrt_ctl(x, VRT_PROC, PROC_USE_TPR_SHADOW, true);
	vrt_ctl(x, VRT_PROC2,
	        PROC2_VIRT_APIC_ACCESSES | PROC2_APIC_REGISTER_VIRT | PROC2_VIRT_INTR_DELIVERY,
	        true);
	vrt_ctl(x, VRT_PIN, PIN_POSTED_INTERRUPTS, posted);
	vfx_set(x, VMCS_TPR_THRESHOLD, 0);
}

bool vrt_run(struct vfx *x, const struct guest_op *op, const struct cpu_state *g,
             struct vmx_op_result *r)
{
	return vmx_op_exits(x->cpu, op, g, VRT_TSC, r);
}

void vrt_log_hook(void *ctx, const struct vmx_step *step)
{
	struct vrt_log *log = ctx;

	if (log->n < VRT_LOG_MAX)
		log->s[log->n++] = *step;
}

int vrt_log_find(const struct vrt_log *log, const char *name, int from)
{
	for (unsigned i = from < 0 ? 0 : (unsigned)from; i < log->n; i++)
		if (strcmp(log->s[i].name, name) == 0)
			return (int)i;
	return -1;
}
