/* The machine's VMX hardware: the CPU profile, one VMX logical processor per vCPU, the VMCS store
 * and the host pages algorithms allocate for VMX regions, bitmaps and virtual-APIC pages. The VMX
 * instruction services run the instructions' second compilation (vmx_plain_*, hvsim/vmx.h: same
 * source, not coverage-instrumented in fuzzing builds), hand the architectural outcome back and
 * trace failures; the VM-entry and VM-exit runtime lives in vmx_run.c. */
#include "vmx_hw.h"
#include "vmx_shadow_int.h"

#include <hvsim/hv_vmx.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VMCS_STORE_CAPACITY 4096
#define CR0_ET              (UINT64_C(1) << 4)

static bool mem_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	return hvsim_host_read(ctx, pa, buf, len) == HVSIM_OK;
}

static bool mem_write(void *ctx, uint64_t pa, const void *buf, size_t len)
{
	return hvsim_host_write(ctx, pa, buf, len) == HVSIM_OK;
}

enum hvsim_status vmx_hw_init(hvsim_vm *vm, struct hvsim_error *err)
{
	const char *cpu = vm->sc->machine.cpu;
	struct vmx_mem mem = {.read = mem_read, .write = mem_write, .ctx = vm};
	char names[256] = "generic";
	const char *const *n;

	if (strcmp(cpu, "generic") == 0)
		return HVSIM_OK;
	if (vmx_profile_load(cpu, &vm->vmx_caps, err) != HVSIM_OK) {
		for (n = vmx_profile_names(); *n; n++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), ", %s", *n);
		return hvsim_error_set(
		    err, HVSIM_E_INPUT,
		    "%s: $.machine.cpu: expected a CPU profile (%s), found \"%s\"", vm->sc->file,
		    names, cpu);
	}
	vm->vmcs_store = vmcs_store_create(VMCS_STORE_CAPACITY);
	if (!vm->vmcs_store)
		return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory");
	for (unsigned i = 0; i < vm->n_vcpus; i++) {
		vm->vcpus[i].vmx = vmx_cpu_create(&vm->vmx_caps, &mem, vm->vmcs_store);
		if (!vm->vcpus[i].vmx)
			return hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory");
		/* CR0.ET is hardwired to 1 (SDM Vol. 3 2.5) and VM entry leaves it (SDM 27.3.2.1)
		 */
		vm->vcpus[i].vmx_guest.cr0 = CR0_ET;
	}
	vm->has_vmx = true;
	return HVSIM_OK;
}

void vmx_hw_fini(hvsim_vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->n_vcpus; i++) {
		vmx_cpu_destroy(vm->vcpus[i].vmx);
		vmx_shadow_destroy(vm->vcpus[i].shadow);
	}
	vmcs_store_destroy(vm->vmcs_store);
	free(vm->host_mem);
}

bool hvsim_vmx_supported(const hvsim_vm *vm)
{
	return vm->has_vmx;
}

const struct vmx_caps *hvsim_vmx_caps(const hvsim_vm *vm)
{
	return vm->has_vmx ? &vm->vmx_caps : NULL;
}

enum hvsim_status hvsim_host_alloc(hvsim_vm *vm, size_t pages, uint64_t *hpa)
{
	size_t need = vm->host_pages + pages;
	uint8_t *mem;

	if (pages == 0 || need > HVSIM_HOST_MEM_MAX_PAGES)
		return HVSIM_E_NOMEM;
	mem = realloc(vm->host_mem, need * HVSIM_PAGE_SIZE);
	if (!mem)
		return HVSIM_E_NOMEM;
	memset(mem + vm->host_pages * HVSIM_PAGE_SIZE, 0, pages * HVSIM_PAGE_SIZE);
	vm->host_mem = mem;
	*hpa = HVSIM_HOST_MEM_BASE + (uint64_t)vm->host_pages * HVSIM_PAGE_SIZE;
	vm->host_pages = need;
	return HVSIM_OK;
}

/* The bytes behind [hpa, hpa+len), or NULL when they are not all guest RAM or all host pages. */
static uint8_t *backing(hvsim_vm *vm, uint64_t hpa, size_t len)
{
	uint64_t host_size = (uint64_t)vm->host_pages * HVSIM_PAGE_SIZE;

	if (hpa < vm->mem_size && len <= vm->mem_size - hpa)
		return vm->mem + hpa;
	if (hpa >= HVSIM_HOST_MEM_BASE && hpa - HVSIM_HOST_MEM_BASE < host_size &&
	    len <= host_size - (hpa - HVSIM_HOST_MEM_BASE))
		return vm->host_mem + (hpa - HVSIM_HOST_MEM_BASE);
	return NULL;
}

enum hvsim_status hvsim_host_read(hvsim_vm *vm, uint64_t hpa, void *buf, size_t len)
{
	uint8_t *p = backing(vm, hpa, len);

	if (!p)
		return HVSIM_E_INPUT;
	memcpy(buf, p, len);
	return HVSIM_OK;
}

enum hvsim_status hvsim_host_write(hvsim_vm *vm, uint64_t hpa, const void *buf, size_t len)
{
	uint8_t *p = backing(vm, hpa, len);

	if (!p)
		return HVSIM_E_INPUT;
	memcpy(p, buf, len);
	if (hpa < vm->mem_size)
		mem_track_mark(&vm->track, hpa, len);
	return HVSIM_OK;
}

/* Traces an instruction that did not succeed: what a hypervisor developer must see. */
void vmx_hw_trace_fail(hvsim_vcpu *v, const char *insn, uint64_t operand,
                       const struct vmx_result *res)
{
	struct trace_ev e;

	trace_ev_init(&e, v->now, (int32_t)v->index, "vmfail");
	trace_ev_str(&e, "insn", insn);
	trace_ev_str(&e, "outcome", vmx_outcome_name(res->outcome));
	trace_ev_hex(&e, "operand", operand);
	if (res->outcome == VMX_FAIL_VALID)
		trace_ev_num(&e, "error", res->error);
	if (res->outcome == VMX_ENTRY_FAIL_EXIT) {
		trace_ev_hex(&e, "exit_reason", res->exit_reason);
		trace_ev_hex(&e, "qualification", res->exit_qual);
	}
	if (res->check)
		trace_ev_str(&e, "check", res->check);
	if (res->item)
		trace_ev_str(&e, "item", res->item);
	vm_emit(v->vm, &e);
}

static bool no_vmx(hvsim_vcpu *v, struct vmx_result *res)
{
	if (v->vmx)
		return false;
	memset(res, 0, sizeof(*res));
	res->outcome = VMX_FAULT_UD; /* CPUID.1:ECX.VMX[bit 5] = 0 (SDM 31.3 VMXON "Operation") */
	return true;
}

void hvsim_vmxon(hvsim_vcpu *v, uint64_t pa, struct vmx_result *res)
{
	if (!no_vmx(v, res))
		vmx_plain_vmxon(v->vmx, pa, res);
	vmx_hw_trace_result(v, "VMXON", pa, res);
}

void hvsim_vmxoff(hvsim_vcpu *v, struct vmx_result *res)
{
	if (!no_vmx(v, res))
		vmx_plain_vmxoff(v->vmx, res);
	vmx_hw_trace_result(v, "VMXOFF", 0, res);
}

void hvsim_vmclear(hvsim_vcpu *v, uint64_t pa, struct vmx_result *res)
{
	if (!no_vmx(v, res))
		vmx_plain_vmclear(v->vmx, pa, res);
	vmx_hw_trace_result(v, "VMCLEAR", pa, res);
}

void hvsim_vmptrld(hvsim_vcpu *v, uint64_t pa, struct vmx_result *res)
{
	if (!no_vmx(v, res))
		vmx_plain_vmptrld(v->vmx, pa, res);
	vmx_hw_trace_result(v, "VMPTRLD", pa, res);
}

void hvsim_vmptrst(hvsim_vcpu *v, struct vmx_result *res)
{
	if (!no_vmx(v, res))
		vmx_plain_vmptrst(v->vmx, res);
	vmx_hw_trace_result(v, "VMPTRST", 0, res);
}

void hvsim_vmread(hvsim_vcpu *v, uint64_t field, struct vmx_result *res)
{
	if (!no_vmx(v, res))
		vmx_plain_vmread(v->vmx, field, res);
	vmx_hw_trace_result(v, "VMREAD", field, res);
}

void hvsim_vmwrite(hvsim_vcpu *v, uint64_t field, uint64_t value, struct vmx_result *res)
{
	struct trace_ev e;

	if (!no_vmx(v, res))
		vmx_plain_vmwrite(v->vmx, field, value, res);
	vmx_hw_trace_result(v, "VMWRITE", field, res);
	if (res->outcome != VMX_SUCCEED)
		return;
	trace_ev_init(&e, v->now, (int32_t)v->index, "vmwrite");
	e.level = TRACE_VERBOSE;
	trace_ev_str(&e, "field", vmcs_field_name(field));
	trace_ev_hex(&e, "value", value);
	vm_emit(v->vm, &e);
}

void hvsim_invept(hvsim_vcpu *v, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                  struct vmx_result *res)
{
	if (!no_vmx(v, res))
		vmx_plain_invept(v->vmx, type, desc_lo, desc_hi, res);
	vmx_hw_trace_result(v, "INVEPT", type, res);
}

void hvsim_invvpid(hvsim_vcpu *v, uint64_t type, uint64_t desc_lo, uint64_t desc_hi,
                   struct vmx_result *res)
{
	if (!no_vmx(v, res))
		vmx_plain_invvpid(v->vmx, type, desc_lo, desc_hi, res);
	vmx_hw_trace_result(v, "INVVPID", type, res);
}

uint64_t hvsim_vmread64(hvsim_vcpu *v, uint64_t field)
{
	struct vmx_result res;

	hvsim_vmread(v, field, &res);
	return res.outcome == VMX_SUCCEED ? res.value : 0;
}
