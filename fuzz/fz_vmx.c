/* The VMX machine of fuzz_vmcs_entry (fz_vmx.h): pristine machines per CPU profile with the
 * known-good VMCS, copied into the live machine for every input; simulated memory with dirty-page
 * tracking so a reset copies only what the previous input wrote. The known-good configuration is
 * the one docs/vmx-model.md describes for the VMX tests: the controls the profile requires plus
 * EPT, VPID, TPR shadow, I/O and MSR bitmaps; a 64-bit host; a 64-bit guest with flat segments. */
#include "fz_vmx.h"
#include "harness.h"

#include "../models/vmx/vmx_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define PAGE        UINT64_C(0x1000)
#define FNV_OFFSET  UINT64_C(0xcbf29ce484222325)
#define PAT_DEFAULT UINT64_C(0x0007040600070406)
#define EFER_LONG   UINT64_C(0xd01) /* SCE, LME, LMA, NXE */
#define AR_CODE64   0xa09bu         /* type 11, S, DPL 0, P, L, G */
#define AR_DATA     0xc093u         /* type 3, S, DPL 0, P, D/B, G */
#define AR_TSS64    0x008bu         /* busy 64-bit TSS, P */

_Static_assert(VMCS_IDX_COUNT <= 256, "fz_vmx_before.fields holds every VMCS field");

/* A pristine machine per profile: process state of the harness (one input at a time). */
struct pristine {
	bool made;
	uint8_t *mem;
	struct vmcs_store *store;
	struct vmx_cpu *cpu;
};

static struct pristine pristine[FZ_VMX_PROFILES_MAX];

/* Pages whose pristine contents differ between profiles: the revision words of the fixture's
 * regions. A change of profile copies these; every other page is the same in all. */
#define PAGE_BIT(pa) (UINT64_C(1) << ((pa) / PAGE))
#define PROFILE_PAGES                                                                       \
	(PAGE_BIT(FZ_VMX_PA_VMXON) | PAGE_BIT(FZ_VMX_PA_VMCS) | PAGE_BIT(FZ_VMX_PA_VMCS2) | \
	 PAGE_BIT(FZ_VMX_PA_SHADOW_VMCS))

unsigned fz_vmx_profile_count(void)
{
	const char *const *names = vmx_profile_names();
	unsigned n = 0;

	while (names[n] && n < FZ_VMX_PROFILES_MAX)
		n++;
	return n;
}

static bool mem_read(void *ctx, uint64_t pa, void *buf, size_t len)
{
	const uint8_t *mem = ctx;

	if (pa >= FZ_VMX_MEM_BYTES || len > FZ_VMX_MEM_BYTES - pa)
		return false;
	memcpy(buf, mem + pa, len);
	return true;
}

/* The model never writes memory; a write would go unnoticed by the dirty tracking. */
static bool mem_write_refused(void *ctx, uint64_t pa, const void *buf, size_t len)
{
	(void)ctx, (void)pa, (void)buf, (void)len;
	return false;
}

static void set(struct vmx_cpu *cpu, uint32_t enc, uint64_t v)
{
	vmx_vmcs_set(cpu, enc, v);
}

/* Controls: what the profile requires plus what the configuration uses, within allowed-1. */
static void program_controls(struct vmx_cpu *cpu)
{
	const struct vmx_caps *c = vmx_cpu_caps(cpu);
	uint32_t proc = PROC_HLT_EXITING | PROC_USE_TPR_SHADOW | PROC_USE_IO_BITMAPS |
	                PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY;
	uint32_t proc2 = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_ENABLE_RDTSCP;
	uint32_t exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_LOAD_IA32_EFER |
	                EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_EFER;
	uint32_t entry = ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT;
	uint32_t pin = PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS;

	set(cpu, VMCS_PIN_BASED_VM_EXEC_CONTROL,
	    (vmx_caps_pin_must1(c) | pin) & vmx_caps_pin_may1(c));
	set(cpu, VMCS_CPU_BASED_VM_EXEC_CONTROL,
	    (vmx_caps_proc_must1(c) | proc) & vmx_caps_proc_may1(c));
	set(cpu, VMCS_SECONDARY_VM_EXEC_CONTROL,
	    (vmx_caps_proc2_must1(c) | proc2) & vmx_caps_proc2_may1(c));
	set(cpu, VMCS_VM_EXIT_CONTROLS, (vmx_caps_exit_must1(c) | exit) & vmx_caps_exit_may1(c));
	set(cpu, VMCS_VM_ENTRY_CONTROLS,
	    (vmx_caps_entry_must1(c) | entry) & vmx_caps_entry_may1(c));
}

static const struct {
	uint32_t enc;
	uint64_t value;
} fixed_fields[] = {
    /* control addresses */
    {VMCS_IO_BITMAP_A, FZ_VMX_PA_IO_A},
    {VMCS_IO_BITMAP_B, FZ_VMX_PA_IO_B},
    {VMCS_MSR_BITMAP, FZ_VMX_PA_MSR_BITMAP},
    {VMCS_VIRTUAL_APIC_PAGE_ADDR, FZ_VMX_PA_VAPIC},
    {VMCS_APIC_ACCESS_ADDR, FZ_VMX_PA_APIC_ACCESS},
    {VMCS_POSTED_INTR_DESC_ADDR, FZ_VMX_PA_PI_DESC},
    {VMCS_POSTED_INTR_NV, 0xf2},
    {VMCS_EPT_POINTER, FZ_VMX_PA_EPT_PML4 | EPTP_WALK_4 | EPTP_MT_WB},
    {VMCS_VIRTUAL_PROCESSOR_ID, 1},
    {VMCS_PML_ADDRESS, FZ_VMX_PA_PML},
    {VMCS_EPTP_LIST_ADDRESS, FZ_VMX_PA_EPTP_LIST},
    {VMCS_VMREAD_BITMAP, FZ_VMX_PA_VMREAD_BM},
    {VMCS_VMWRITE_BITMAP, FZ_VMX_PA_VMWRITE_BM},
    {VMCS_VE_INFO_ADDRESS, FZ_VMX_PA_VE_INFO},
    {VMCS_VM_EXIT_MSR_STORE_ADDR, FZ_VMX_PA_MSR_AREA},
    {VMCS_VM_EXIT_MSR_LOAD_ADDR, FZ_VMX_PA_MSR_AREA},
    {VMCS_VM_ENTRY_MSR_LOAD_ADDR, FZ_VMX_PA_MSR_AREA},
    /* host state */
    {VMCS_HOST_CR3, FZ_VMX_PA_HOST_CR3},
    {VMCS_HOST_CS_SELECTOR, 0x10},
    {VMCS_HOST_SS_SELECTOR, 0x18},
    {VMCS_HOST_TR_SELECTOR, 0x40},
    {VMCS_HOST_TR_BASE, UINT64_C(0xffff800000003000)},
    {VMCS_HOST_GDTR_BASE, UINT64_C(0xffff800000001000)},
    {VMCS_HOST_IDTR_BASE, UINT64_C(0xffff800000002000)},
    {VMCS_HOST_RIP, UINT64_C(0xffffffff81000000)},
    {VMCS_HOST_RSP, UINT64_C(0xffff800000010000)},
    {VMCS_HOST_IA32_EFER, EFER_LONG},
    {VMCS_HOST_IA32_PAT, PAT_DEFAULT},
    /* guest state */
    {VMCS_GUEST_CR3, FZ_VMX_PA_GUEST_CR3},
    {VMCS_GUEST_DR7, 0x400},
    {VMCS_GUEST_RFLAGS, RFLAGS_FIXED1},
    {VMCS_GUEST_RIP, 0x401000},
    {VMCS_GUEST_RSP, 0x8000},
    {VMCS_GUEST_IA32_EFER, EFER_LONG},
    {VMCS_GUEST_IA32_PAT, PAT_DEFAULT},
    {VMCS_VMCS_LINK_POINTER, UINT64_MAX},
    {VMCS_GUEST_CS_SELECTOR, 0x08},
    {VMCS_GUEST_CS_LIMIT, 0xffffffff},
    {VMCS_GUEST_CS_AR_BYTES, AR_CODE64},
    {VMCS_GUEST_TR_SELECTOR, 0x18},
    {VMCS_GUEST_TR_LIMIT, 0x67},
    {VMCS_GUEST_TR_AR_BYTES, AR_TSS64},
    {VMCS_GUEST_TR_BASE, 0x5000},
    {VMCS_GUEST_LDTR_AR_BYTES, AR_UNUSABLE},
    {VMCS_GUEST_GDTR_BASE, 0x1000},
    {VMCS_GUEST_GDTR_LIMIT, 0x7f},
    {VMCS_GUEST_IDTR_BASE, 0x2000},
    {VMCS_GUEST_IDTR_LIMIT, 0xfff},
};

static void program_state(struct vmx_cpu *cpu)
{
	static const uint32_t data_segs[][3] = {
	    {VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR_BYTES},
	    {VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR_BYTES},
	    {VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR_BYTES},
	    {VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR_BYTES},
	    {VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR_BYTES},
	};
	const struct vmx_caps *c = vmx_cpu_caps(cpu);
	uint64_t cr0 = vmx_caps_msr(c, MSR_IA32_VMX_CR0_FIXED0) | CR0_WP | 0x12;   /* MP, ET */
	uint64_t cr4 = vmx_caps_msr(c, MSR_IA32_VMX_CR4_FIXED0) | CR4_PAE | 0x600; /* OSFXSR.. */

	for (size_t i = 0; i < sizeof(fixed_fields) / sizeof(fixed_fields[0]); i++)
		set(cpu, fixed_fields[i].enc, fixed_fields[i].value);
	for (size_t i = 0; i < sizeof(data_segs) / sizeof(data_segs[0]); i++) {
		set(cpu, data_segs[i][0], 0x10);
		set(cpu, data_segs[i][1], 0xffffffff);
		set(cpu, data_segs[i][2], AR_DATA);
	}
	set(cpu, VMCS_HOST_CR0, cr0);
	set(cpu, VMCS_HOST_CR4, cr4);
	set(cpu, VMCS_GUEST_CR0, cr0);
	set(cpu, VMCS_GUEST_CR4, cr4);
}

static bool put32(uint8_t *mem, uint64_t pa, uint32_t v)
{
	memcpy(mem + pa, &v, sizeof(v));
	return true;
}

/* VMXON, VMCLEAR and VMPTRLD of the fixture's regions, then the known-good VMCS. */
static enum hvsim_status fixture(struct pristine *p, struct hvsim_error *err)
{
	uint32_t rev = vmx_caps_revision(vmx_cpu_caps(p->cpu));
	struct vmx_result r;

	put32(p->mem, FZ_VMX_PA_VMXON, rev);
	put32(p->mem, FZ_VMX_PA_VMCS, rev);
	put32(p->mem, FZ_VMX_PA_VMCS2, rev);
	put32(p->mem, FZ_VMX_PA_SHADOW_VMCS, rev | 0x80000000u);
	vmx_vmxon(p->cpu, FZ_VMX_PA_VMXON, &r);
	if (r.outcome == VMX_SUCCEED)
		vmx_vmclear(p->cpu, FZ_VMX_PA_VMCS, &r);
	if (r.outcome == VMX_SUCCEED)
		vmx_vmptrld(p->cpu, FZ_VMX_PA_VMCS, &r);
	if (r.outcome != VMX_SUCCEED)
		return hvsim_error_set(err, HVSIM_E_INPUT, "fixture: %s at %s",
		                       vmx_outcome_name(r.outcome), r.cond ? r.cond : "?");
	program_controls(p->cpu);
	program_state(p->cpu);
	return HVSIM_OK;
}

static enum hvsim_status make_pristine(unsigned profile, struct hvsim_error *err)
{
	struct pristine *p = &pristine[profile];
	struct vmx_caps caps;
	struct vmx_mem ops;
	enum hvsim_status st;

	st = vmx_profile_load(vmx_profile_names()[profile], &caps, err);
	if (st != HVSIM_OK)
		return st;
	p->mem = calloc(1, FZ_VMX_MEM_BYTES);
	p->store = vmcs_store_create(FZ_VMX_STORE_CAP);
	ops = (struct vmx_mem){mem_read, mem_write_refused, p->mem};
	p->cpu = p->mem && p->store ? vmx_cpu_create(&caps, &ops, p->store) : NULL;
	st = p->cpu ? fixture(p, err) : hvsim_error_set(err, HVSIM_E_NOMEM, "out of memory");
	if (st != HVSIM_OK) {
		vmx_cpu_destroy(p->cpu);
		vmcs_store_destroy(p->store);
		free(p->mem);
		memset(p, 0, sizeof(*p));
		return st;
	}
	p->made = true;
	return HVSIM_OK;
}

enum hvsim_status fz_vmx_create(struct fz_vmx_sys *s)
{
	struct vmx_caps caps;
	struct hvsim_error err;

	memset(s, 0, sizeof(*s));
	if (fz_vmx_profile_count() == 0 ||
	    vmx_profile_load(vmx_profile_names()[0], &caps, &err) != HVSIM_OK)
		return HVSIM_E_INPUT;
	s->mem = calloc(1, FZ_VMX_MEM_BYTES);
	s->store = vmcs_store_create(FZ_VMX_STORE_CAP);
	s->memops = (struct vmx_mem){mem_read, mem_write_refused, s->mem};
	s->cpu = s->mem && s->store ? vmx_cpu_create(&caps, &s->memops, s->store) : NULL;
	if (!s->cpu) {
		fz_vmx_destroy(s);
		return HVSIM_E_NOMEM;
	}
	s->dirty = ~UINT64_C(0); /* the first load copies all of memory */
	s->profile = UINT32_MAX;
	return HVSIM_OK;
}

void fz_vmx_destroy(struct fz_vmx_sys *s)
{
	vmx_cpu_destroy(s->cpu);
	vmcs_store_destroy(s->store);
	free(s->mem);
	memset(s, 0, sizeof(*s));
}

/* Copies the pristine machine: memory pages written since (all when the profile changes), the
 * store's regions, then the processor with its pointers turned to the live memory and store. */
static void copy_in(struct fz_vmx_sys *s, const struct pristine *p, unsigned profile)
{
	if (s->profile != profile)
		s->dirty |= PROFILE_PAGES;
	for (unsigned pg = 0; pg < FZ_VMX_PAGES; pg++)
		if (s->dirty & (UINT64_C(1) << pg))
			memcpy(s->mem + pg * PAGE, p->mem + pg * PAGE, PAGE);
	s->dirty = 0;
	s->store->count = vmcs_store_reserve(s->store, p->store->count) ? p->store->count : 0;
	memcpy(s->store->vmcs, p->store->vmcs, s->store->count * sizeof(struct vmcs));
	*s->cpu = *p->cpu;
	s->cpu->mem = s->memops;
	s->cpu->store = s->store;
	s->profile = profile;
}

enum hvsim_status fz_vmx_load(struct fz_vmx_sys *s, unsigned profile, struct hvsim_error *err)
{
	unsigned n = fz_vmx_profile_count();
	enum hvsim_status st;

	if (n == 0)
		return hvsim_error_set(err, HVSIM_E_INPUT, "no VMX profile embedded");
	profile %= n;
	if (!pristine[profile].made && (st = make_pristine(profile, err)) != HVSIM_OK)
		return st;
	copy_in(s, &pristine[profile], profile);
	memset(&s->stats, 0, sizeof(s->stats));
	memset(&s->last_entry, 0, sizeof(s->last_entry));
	s->entry_seen = false;
	s->hash = FNV_OFFSET;
	s->bad = NULL;
	s->why[0] = '\0';
	return HVSIM_OK;
}

uint64_t fz_vmx_fixture_value(const struct fz_vmx_sys *s, size_t i)
{
	const struct pristine *p = &pristine[s->profile < FZ_VMX_PROFILES_MAX ? s->profile : 0];
	const struct vmcs *v = p->made ? vmcs_store_find_const(p->store, FZ_VMX_PA_VMCS) : NULL;

	return v && i < VMCS_IDX_COUNT ? v->f[i] : 0;
}

const struct vmx_cpu_mode *fz_vmx_fixture_mode(const struct fz_vmx_sys *s)
{
	const struct pristine *p = &pristine[s->profile < FZ_VMX_PROFILES_MAX ? s->profile : 0];

	return p->made ? vmx_cpu_mode(p->cpu) : vmx_cpu_mode(s->cpu);
}

bool fz_vmx_mem_write(struct fz_vmx_sys *s, uint64_t pa, const void *buf, size_t len)
{
	if (pa >= FZ_VMX_MEM_BYTES || len > FZ_VMX_MEM_BYTES - pa || len == 0)
		return false;
	memcpy(s->mem + pa, buf, len);
	for (uint64_t pg = pa / PAGE; pg <= (pa + len - 1) / PAGE; pg++)
		s->dirty |= UINT64_C(1) << pg;
	return true;
}

void fz_vmx_flag(struct fz_vmx_sys *s, const char *kind, const char *fmt, ...)
{
	va_list ap;

	if (s->bad)
		return;
	s->bad = kind;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

void fz_vmx_mix(struct fz_vmx_sys *s, uint64_t v)
{
	fz_mix(&s->hash, v);
}

void fz_vmx_before_take(const struct fz_vmx_sys *s, struct fz_vmx_before *b)
{
	const struct vmx_cpu *cpu = s->cpu;
	const struct vmcs *cur = NULL;

	b->in_vmx = cpu->in_vmx;
	b->vmxon_ptr = cpu->vmxon_ptr;
	b->current = cpu->current_vmcs;
	b->n_regions = cpu->store->count;
	for (size_t i = 0; i < b->n_regions && i < FZ_VMX_STORE_CAP; i++) {
		b->region_pa[i] = cpu->store->vmcs[i].pa;
		b->launched[i] = cpu->store->vmcs[i].launched;
	}
	if (cpu->current_vmcs != VMX_INVALID_VMCS_PTR)
		cur = vmcs_store_find_const(cpu->store, cpu->current_vmcs);
	b->has_current = cur != NULL;
	if (cur)
		memcpy(b->fields, cur->f, sizeof(cur->f));
}
