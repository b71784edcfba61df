/* Decoding and encoding fuzz_hv_transitions inputs (fz_hvt.h). Operands come from tables of what
 * the kvm algorithm and the interrupt models care about (x2APIC MSRs of SDM Table 11-6, xAPIC
 * offsets of Table 11-1, I/O APIC registers, the VMM's ports, CPUID leaves, vectors), from values
 * built out of register fields (an LVT entry with its mode and mask, an ICR with its shorthand, a
 * TMICT), or raw. The encoder writes every value raw, so decode(encode(op)) == op and the seed
 * generator cannot drift from the decoder. */
#include "fz_hvt.h"

#include <hvsim/hv_registry.h>
#include <hvsim/lapic.h>

#include <string.h>

#define N(t) (sizeof(t) / sizeof((t)[0]))

static const char *const op_names[FZ_HVT_OP_COUNT] = {
    "msr_read",     "msr_write",  "apic_base", "xapic_read", "xapic_write", "ioapic_read",
    "ioapic_write", "ioapic_rte", "eoi",       "out",        "in",          "cpuid",
    "insn",         "rdpmc",      "compute",   "mov_cr",     "vmcall",      "handler",
    "main",         "repeat",     "line",      "msi",        "host",        "vmx",
};

static const char *const cpus[] = {"intel-icelake-server", "intel-sapphirerapids", "kvm-nested"};

/* SDM Table 11-6 x2APIC MSRs, IA32_APIC_BASE, IA32_TSC_DEADLINE, the MSRs kvm_exit.c emulates
 * (TSC, EFER, PAT, MISC_ENABLE, FEATURE_CONTROL, SPEC_CTRL, ARCH_CAPABILITIES), and the vPMU's
 * (kvm_pmu.c: IA32_PMC0/1, IA32_PERFEVTSEL0/1, IA32_FIXED_CTR0, IA32_FIXED_CTR_CTRL,
 * IA32_PERF_GLOBAL_STATUS/CTRL/OVF_CTRL, IA32_A_PMC0, IA32_PERF_CAPABILITIES) */
static const uint64_t msrs[] = {
    0x802, 0x803, 0x808, 0x80a, 0x80b, 0x80d, 0x80f, 0x810, 0x817,      0x818, 0x820, 0x827,
    0x828, 0x82f, 0x830, 0x832, 0x833, 0x834, 0x835, 0x836, 0x837,      0x838, 0x839, 0x83e,
    0x83f, 0x1b,  0x6e0, 0x10,  0x277, 0x1a0, 0x3a,  0x48,  0xc0000080, 0x10a, 0xc1,  0xc2,
    0x186, 0x187, 0x309, 0x38d, 0x38e, 0x38f, 0x390, 0x4c1, 0x345,
};

/* SDM Table 11-1 xAPIC offsets */
static const uint64_t xapic_offsets[] = {0x020, 0x030, 0x080, 0x0a0, 0x0b0, 0x0d0, 0x0e0, 0x0f0,
                                         0x100, 0x170, 0x180, 0x200, 0x270, 0x280, 0x300, 0x310,
                                         0x320, 0x350, 0x360, 0x370, 0x380, 0x390, 0x3e0};
static const uint8_t sizes[] = {4, 4, 4, 4, 4, 1, 2, 8};
/* IOREGSEL, IOWIN, EOI (82093AA 3.0; the EOI register of version 0x20) and two reserved */
static const uint64_t ioapic_offsets[] = {0x00, 0x10, 0x40, 0x20, 0x04};
/* ID, version, arbitration, the first and last entries' halves, past the table */
static const uint64_t ioapic_indexes[] = {0x00, 0x01, 0x02, 0x10, 0x11, 0x14,
                                          0x15, 0x24, 0x25, 0x3e, 0x3f, 0x40};
/* debugcon, POST, isa-debug-exit, COM1, pc-testdev IRQ lines 0..23 (kvm_exit.c) */
static const uint64_t ports[] = {0xe9,   0x80,   0xf4,   0x3f8,  0x2000, 0x2001, 0x2002,
                                 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
                                 0x200a, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2010,
                                 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2016, 0x2017};
/* basic, topology, XSAVE, KVM signature and features, the timing leaf, extended, beyond */
static const uint64_t leaves[] = {0x0,        0x1,        0xb,        0xd,
                                  0x40000000, 0x40000001, 0x40000010, 0x80000000,
                                  0x80000001, 0x80000008, 0x4000000f, 0x80000009};
/* the vectors seeds use, an illegal one (< 16), the top ones */
static const uint64_t vectors[] = {0x20, 0x30, 0x31, 0x32, 0x40, 0x41, 0x50,
                                   0x80, 0xec, 0xef, 0xfe, 0xff, 0x0f, 0x10};
/* TMICT counts (bus ticks), TSC deadlines (TSC ticks at 2 GHz: 0 disarms, 1 is past) */
static const uint32_t tmicts[] = {0, 1, 10, 100, 1000, 10000, 100000, 1000000};
static const uint64_t deadlines[] = {0, 1, 2000, 20000, 200000, 2000000, 0xffffffffff, UINT64_MAX};
/* IA32_APIC_BASE: xAPIC (BSP), x2APIC (BSP), disabled, EXTD without EN (invalid), the AP forms,
 * a moved base, a reserved bit */
static const uint64_t apic_bases[] = {0xfee00900, 0xfee00d00, 0x0,        0xfee00500,
                                      0xfee00800, 0xfee00c00, 0xfed00900, 0xfee00901};
static const uint64_t values[] = {0,      1,       0xff,    0x100,   0x1ff,      0x10ff,
                                  0x11ff, 0x10000, 0x20000, 0x40000, 0xffffffff, UINT64_MAX};
static const uint64_t computes[] = {1, 10, 100, 1000, 10000, 50000};
static const uint64_t repeats[] = {2, 3, 10, 100, 1000};
/* CR0 (the boot value, with WP/AM, without PG, without PE, CD|NW), CR4 (the boot value, +PGE,
 * PAE only, none, +VMXE), CR3, CR8 */
static const uint64_t cr_values[] = {0x80000031, 0x80050033, 0x00000031, 0x80000030, 0xe0000031,
                                     0x620,      0x6a0,      0x20,       0x0,        0x2620,
                                     0x1e0000,   0xf,        0x1};
static const uint8_t crs[] = {0, 3, 4, 8};
/* MONITOR/INVLPG addresses: a code page, the IDT, the xAPIC page, unmapped, non-canonical */
static const uint64_t lin_addrs[] = {0x8000, 0x2000, 0xfee00000, 0x40000000, 0x8000000000000000};
/* MWAIT hints (C1, C1E, C6, invalid C-state) and XCR0 values (x87, x87|SSE, +AVX, SSE without
 * x87, AVX without SSE, +AVX-512 state) for XCR 0 and 1 */
static const uint64_t mwait_hints[] = {0x00, 0x01, 0x20, 0xf0};
static const uint64_t xcr0s[] = {0x1, 0x3, 0x7, 0x2, 0x5, 0xe7, 0x0};
/* TDCALL leaves (TDX ABI): TDG.VP.VMCALL, TDG.VP.INFO, TDG.VP.VEINFO.GET, TDG.MEM.PAGE.ACCEPT,
 * TDG.VM.RD */
static const uint64_t tdcall_leaves[] = {0, 1, 3, 6, 7};
/* SEAMCALL leaves (TDX ABI): TDH.VP.ENTER, TDH.MNG.ADDCX, TDH.MNG.CREATE, TDH.SYS.INIT,
 * TDH.SYS.LP.INIT; a non-TD guest's SEAMCALL exits whatever the leaf */
static const uint64_t seamcall_leaves[] = {0, 1, 9, 33, 35};
/* KVM_HC_VAPIC_POLL_IRQ 1, KVM_HC_KICK_CPU 5, KVM_HC_SEND_IPI 10, KVM_HC_SCHED_YIELD 11 */
static const uint64_t hypercalls[] = {0, 1, 5, 10, 11, 12};
static const uint64_t dts[] = {0, 1000, 5000, 20000, 50000, 100000, 250000};
static const uint64_t msi_dests[] = {0, 1, 0xff, 3};
/* guest pages: code, IDT, GDT, a 2 MiB machine's stacks and page tables, the first page */
static const uint64_t zap_pages[] = {0x8000,   0x9000,   0x2000,   0x1000,
                                     0x1db000, 0x1df000, 0x1e0000, 0x0};

const char *fz_hvt_cpu_name(uint8_t cpu)
{
	return cpus[cpu % N(cpus)];
}

const char *fz_hvt_op_name(uint8_t kind)
{
	return kind < FZ_HVT_OP_COUNT ? op_names[kind] : "?";
}

static const struct hvsim_hv_ops *kvm_ops(void)
{
	return hvsim_hv_builtin("kvm");
}

/* ---- the configuration: a quirk byte counts from the quirk's default, so zeros are upstream ----
 */

static size_t quirk_values(const struct hvsim_hv_ops *kvm, size_t q)
{
	return kvm && q < kvm->n_quirks ? kvm->quirks[q].n_values : 1;
}

static size_t quirk_default(const struct hvsim_hv_ops *kvm, size_t q)
{
	for (size_t i = 0; kvm && q < kvm->n_quirks && i < kvm->quirks[q].n_values; i++)
		if (strcmp(kvm->quirks[q].values[i], kvm->quirks[q].def) == 0)
			return i;
	return 0;
}

static void config_decode(struct fz_in *in, struct fz_hvt_config *c)
{
	const struct hvsim_hv_ops *kvm = kvm_ops();
	uint8_t m = fz_u8(in);

	memset(c, 0, sizeof(*c));
	c->vcpus = 1 + (m & 1);
	c->split = m & 2;
	c->apicv = m & 4;
	c->ioapic_11 = m & 8;
	c->cpu = (uint8_t)(((m >> 4) & 3) % N(cpus));
	/* bits 7:6 were never set in a committed input: with both clear, kinds decode as before */
	c->nested = m & 0x40;
	c->vmx_ops = m & 0xc0;
	c->code = fz_choose(in, FZ_HVT_CODE_ONE_IN) == FZ_HVT_CODE_ONE_IN - 1;
	for (size_t q = 0; q < FZ_HVT_QUIRK_SLOTS; q++) {
		size_t n = quirk_values(kvm, q);

		c->quirk[q] = (uint8_t)((quirk_default(kvm, q) + fz_choose(in, n)) % n);
	}
}

void fz_hvt_encode_config(struct fz_out *o, const struct fz_hvt_config *c)
{
	const struct hvsim_hv_ops *kvm = kvm_ops();

	fz_put(o,
	       (uint64_t)((c->vcpus == 2) | c->split << 1 | c->apicv << 2 | c->ioapic_11 << 3 |
	                  (c->cpu % N(cpus)) << 4 | c->nested << 6 |
	                  (c->vmx_ops && !c->nested) << 7),
	       1);
	fz_put_choose(o, FZ_HVT_CODE_ONE_IN, c->code ? FZ_HVT_CODE_ONE_IN - 1 : 0);
	for (size_t q = 0; q < FZ_HVT_QUIRK_SLOTS; q++) {
		size_t n = quirk_values(kvm, q);

		fz_put_choose(o, n, (c->quirk[q] % n + n - quirk_default(kvm, q)) % n);
	}
}

void fz_hvt_config_default(struct fz_hvt_config *c)
{
	const struct hvsim_hv_ops *kvm = kvm_ops();

	memset(c, 0, sizeof(*c));
	c->vcpus = 1;
	for (size_t q = 0; q < FZ_HVT_QUIRK_SLOTS; q++)
		c->quirk[q] = (uint8_t)quirk_default(kvm, q);
}

bool fz_hvt_config_quirk(struct fz_hvt_config *c, const char *name, const char *value)
{
	const struct hvsim_hv_ops *kvm = kvm_ops();

	for (size_t q = 0; kvm && q < kvm->n_quirks && q < FZ_HVT_QUIRK_SLOTS; q++)
		for (size_t i = 0;
		     strcmp(kvm->quirks[q].name, name) == 0 && i < kvm->quirks[q].n_values; i++)
			if (strcmp(kvm->quirks[q].values[i], value) == 0) {
				c->quirk[q] = (uint8_t)i;
				return true;
			}
	return false;
}

/* ---- operand decoders ---- */

static uint8_t dec_vector(struct fz_in *in)
{
	return (uint8_t)fz_pick(in, vectors, N(vectors));
}

static void enc_vector(struct fz_out *o, uint8_t v)
{
	fz_put_pick(o, vectors, N(vectors), v);
}

/* An LVT entry: vector, delivery mode, polarity, trigger, mask (SDM Figure 11-8); f's low bits
 * pick the timer mode for LVTT (one-shot, periodic, TSC-deadline, reserved). */
static uint32_t lvt_value(uint32_t msr, uint8_t f, uint8_t vector)
{
	uint32_t masked = f & 0x80 ? LAPIC_LVT_MASKED : 0;

	if (msr == 0x832)
		return vector | (uint32_t)(f & 3) << LAPIC_LVT_TIMER_SHIFT | masked;
	return vector | (uint32_t)(f & 7) << 8 | (f & 8 ? 1u << 13 : 0) | (f & 16 ? 1u << 15 : 0) |
	       masked;
}

/* An ICR value: vector, delivery mode, destination mode, level, trigger, shorthand, destination
 * (SDM Figure 11-12, x2APIC layout: destination in bits 63:32). */
static uint64_t icr_value(uint8_t f, uint8_t vector, uint8_t dest)
{
	return vector | (uint64_t)(f & 7) << 8 | (f & 8 ? LAPIC_ICR_DEST_LOGICAL : 0) |
	       (f & 16 ? 0 : LAPIC_ICR_LEVEL) | (f & 32 ? LAPIC_ICR_TRIGGER : 0) |
	       (uint64_t)((f >> 6) & 3) << LAPIC_ICR_SH_SHIFT | (uint64_t)dest << 32;
}

/* A value shaped for the register at x2APIC MSR msr (xAPIC offsets map to msr 0x800 + off/16). */
static uint64_t typed_value(uint32_t msr, uint8_t f, uint8_t vector, uint8_t x)
{
	switch (msr) {
	case 0x808: return f;                                                     /* TPR */
	case 0x80b: return 0;                                                     /* EOI */
	case 0x80f: return vector | (f & 1 ? 0 : 0x100u) | (f & 2 ? 0x1000u : 0); /* SPIV */
	case 0x830: return icr_value(f, vector, x);
	case 0x831: return (uint64_t)x << 24;     /* xAPIC ICR high */
	case 0x838: return tmicts[f % N(tmicts)]; /* TMICT */
	case 0x83e: return f & 0xb;               /* TDCR */
	case 0x83f: return vector;                /* SELF IPI */
	case 0x6e0: return deadlines[f % N(deadlines)];
	case 0x1b: return apic_bases[f % N(apic_bases)];
	case 0x82f:
	case 0x832:
	case 0x833:
	case 0x834:
	case 0x835:
	case 0x836:
	case 0x837: return lvt_value(msr, f, vector);
	default: return (uint64_t)f << 8 | vector;
	}
}

/* Raw, shaped for the register, or from the value table. */
static uint64_t dec_value(struct fz_in *in, uint32_t msr)
{
	uint8_t f, vector, x;

	switch (fz_choose(in, 3)) {
	case 0: return fz_u64(in);
	case 1:
		f = fz_u8(in);
		vector = dec_vector(in);
		x = fz_u8(in);
		return typed_value(msr, f, vector, x);
	default: return fz_pick(in, values, N(values));
	}
}

static void enc_value(struct fz_out *o, uint64_t v)
{
	fz_put_choose(o, 3, 0);
	fz_put(o, v, 8);
}

static uint64_t clamp_count(uint64_t raw, uint64_t max)
{
	return raw % max + 1;
}

static uint64_t dec_count(struct fz_in *in, const uint64_t *t, size_t n, uint64_t max)
{
	size_t i = fz_choose(in, n + 1);

	return i < n ? t[i] : clamp_count(fz_u64(in), max);
}

static void enc_count(struct fz_out *o, const uint64_t *t, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] == v) {
			fz_put_choose(o, n + 1, i);
			return;
		}
	fz_put_choose(o, n + 1, n);
	fz_put(o, v - 1, 8);
}

static uint8_t dec_size(struct fz_in *in)
{
	return sizes[fz_choose(in, N(sizes))];
}

static void enc_size(struct fz_out *o, uint8_t size)
{
	size_t i = 0;

	while (i < N(sizes) && sizes[i] != size)
		i++;
	fz_put_choose(o, N(sizes), i < N(sizes) ? i : 0);
}

static uint8_t dec_io_size(struct fz_in *in)
{
	return (uint8_t)(1u << fz_choose(in, 3));
}

static void enc_io_size(struct fz_out *o, uint8_t size)
{
	fz_put_choose(o, 3, size == 4 ? 2 : size == 2 ? 1 : 0);
}

/* An I/O APIC redirection entry's low dword: vector, delivery mode, destination mode, polarity,
 * trigger, mask (82093AA 3.2.4), or raw. */
static uint32_t dec_rte(struct fz_in *in)
{
	uint8_t f;

	if (fz_choose(in, 2) == 0)
		return fz_u32(in);
	f = fz_u8(in);
	return dec_vector(in) | (uint32_t)(f & 7) << 8 | (f & 8 ? 1u << 11 : 0) |
	       (f & 16 ? 1u << 13 : 0) | (f & 32 ? 1u << 15 : 0) | (f & 64 ? 1u << 16 : 0);
}

static void dec_ioapic_write(struct fz_in *in, struct fz_hvt_op *op)
{
	op->size = 4;
	switch (fz_choose(in, 4)) {
	case 0:
		op->reg = 0x00;
		op->value = fz_pick(in, ioapic_indexes, N(ioapic_indexes)) & 0xff;
		break;
	case 1:
		op->reg = 0x10;
		op->value = dec_rte(in);
		break;
	case 2:
		op->reg = 0x40;
		op->value = dec_vector(in);
		break;
	default:
		op->reg = fz_u8(in);
		op->value = fz_u32(in);
		break;
	}
}

static void dec_msi(struct fz_in *in, struct fz_hvt_op *op)
{
	uint64_t dest = fz_pick(in, msi_dests, N(msi_dests)) & 0xff;
	uint8_t f = fz_u8(in), vector = dec_vector(in);

	/* SDM 11.11.1 address (destination, destination mode), 11.11.2 data (vector, delivery
	 * mode, level, trigger) */
	op->value = 0xfee00000u | dest << 12 | (f & 1 ? 4u : 0);
	op->value2 = vector | (uint64_t)((f >> 1) & 7) << 8 | (f & 16 ? 1u << 14 : 0) |
	             (f & 32 ? 1u << 15 : 0);
}

static void dec_host(struct fz_in *in, struct fz_hvt_op *op)
{
	op->sub = (uint8_t)fz_choose(in, FZ_HOST_COUNT);
	op->vcpu = (int8_t)((int)fz_choose(in, 3) - 1);
	if (op->sub == FZ_HOST_ZAP)
		op->value = fz_pick(in, zap_pages, N(zap_pages));
}

static void dec_guest(struct fz_in *in, struct fz_hvt_op *op)
{
	switch (op->kind) {
	case FZ_HVT_MSR_READ: op->reg = (uint32_t)fz_pick(in, msrs, N(msrs)); break;
	case FZ_HVT_MSR_WRITE:
		op->reg = (uint32_t)fz_pick(in, msrs, N(msrs));
		op->value = dec_value(in, op->reg);
		break;
	case FZ_HVT_APIC_BASE: op->value = fz_pick(in, apic_bases, N(apic_bases)); break;
	case FZ_HVT_XAPIC_READ:
	case FZ_HVT_XAPIC_WRITE:
		op->reg = (uint32_t)fz_pick(in, xapic_offsets, N(xapic_offsets)) & 0xfff;
		op->size = dec_size(in);
		if (op->kind == FZ_HVT_XAPIC_WRITE)
			op->value = dec_value(in, 0x800 + (op->reg >> 4));
		break;
	case FZ_HVT_IOAPIC_READ:
		op->reg = (uint32_t)fz_pick(in, ioapic_offsets, N(ioapic_offsets)) & 0xff;
		op->size = 4;
		break;
	case FZ_HVT_IOAPIC_WRITE: dec_ioapic_write(in, op); break;
	case FZ_HVT_IOAPIC_RTE:
		op->reg = (uint32_t)fz_choose(in, FZ_HVT_GSIS);
		op->value = dec_rte(in);
		op->value2 = (uint64_t)fz_u8(in) << 24;
		break;
	case FZ_HVT_EOI:
		op->sub = (uint8_t)fz_choose(in, FZ_EOI_COUNT);
		if (op->sub == FZ_EOI_IOAPIC)
			op->vector = dec_vector(in);
		break;
	default: break;
	}
}

static void dec_insn(struct fz_in *in, struct fz_hvt_op *op)
{
	op->sub = (uint8_t)fz_choose(in, FZ_INSN_COUNT);
	switch (op->sub) {
	case FZ_INSN_MONITOR:
		op->value = fz_pick(in, lin_addrs, N(lin_addrs));
		op->reg = fz_u8(in);
		op->value2 = fz_u8(in);
		break;
	case FZ_INSN_MWAIT:
		op->value2 = fz_pick(in, mwait_hints, N(mwait_hints)) & UINT32_MAX;
		op->reg = fz_u8(in);
		break;
	case FZ_INSN_INVLPG: op->value = fz_pick(in, lin_addrs, N(lin_addrs)); break;
	case FZ_INSN_TDCALL: op->value = fz_pick(in, tdcall_leaves, N(tdcall_leaves)); break;
	case FZ_INSN_SEAMCALL: op->value = fz_pick(in, seamcall_leaves, N(seamcall_leaves)); break;
	case FZ_INSN_XSETBV:
		op->reg =
		    fz_u8(in) & 1 ? 1 : 0; /* XCR0, or XCR1 (#GP unless XINUSE is supported) */
		op->value = fz_pick(in, xcr0s, N(xcr0s));
		break;
	default: break;
	}
}

static void dec_guest2(struct fz_in *in, struct fz_hvt_op *op)
{
	switch (op->kind) {
	case FZ_HVT_OUT:
	case FZ_HVT_IN:
		op->reg = (uint32_t)fz_pick(in, ports, N(ports)) & 0xffff;
		op->size = dec_io_size(in);
		if (op->kind == FZ_HVT_OUT)
			op->value = fz_u32(in);
		break;
	case FZ_HVT_CPUID:
		op->reg = (uint32_t)fz_pick(in, leaves, N(leaves));
		op->value2 = fz_u8(in);
		break;
	case FZ_HVT_INSN: dec_insn(in, op); break;
	case FZ_HVT_RDPMC: op->reg = fz_u8(in); break;
	case FZ_HVT_COMPUTE:
		op->value = dec_count(in, computes, N(computes), FZ_HVT_COMPUTE_MAX);
		break;
	case FZ_HVT_MOV_CR:
		op->cr = crs[fz_choose(in, N(crs))];
		op->value = fz_pick(in, cr_values, N(cr_values));
		break;
	case FZ_HVT_VMCALL: op->value = fz_pick(in, hypercalls, N(hypercalls)); break;
	default: break;
	}
}

/* Handlers exist for vectors 32..255 (docs/scenario-format.md "Scripts"). */
static uint8_t dec_handler_vector(struct fz_in *in)
{
	uint64_t v = fz_pick(in, vectors, N(vectors));

	return (uint8_t)(v >= 32 && v <= 255 ? v : 32 + v % 224);
}

static void dec_op(struct fz_in *in, const struct fz_hvt_config *cfg, struct fz_hvt_op *op)
{
	memset(op, 0, sizeof(*op));
	/* FZ_HVT_VMX is the last kind: without vmx_ops the count and so every kind byte's meaning
	 * stay what they were before it was added */
	op->kind = (uint8_t)fz_choose(in, cfg->vmx_ops ? FZ_HVT_OP_COUNT : FZ_HVT_VMX);
	if (op->kind <= FZ_HVT_EOI) {
		dec_guest(in, op);
		return;
	}
	if (op->kind <= FZ_HVT_VMCALL) {
		dec_guest2(in, op);
		return;
	}
	switch (op->kind) {
	case FZ_HVT_HANDLER: op->vector = dec_handler_vector(in); break;
	case FZ_HVT_REPEAT:
		op->value = dec_count(in, repeats, N(repeats), FZ_HVT_REPEAT_MAX);
		break;
	case FZ_HVT_VMX: fz_hvt_vmx_decode(in, cfg, op); break;
	case FZ_HVT_LINE:
	case FZ_HVT_MSI:
	case FZ_HVT_HOST:
		op->dt_ns = fz_pick(in, dts, N(dts)) % FZ_HVT_DT_MAX_NS;
		if (op->kind == FZ_HVT_LINE) {
			op->reg = (uint32_t)fz_choose(in, FZ_HVT_GSIS);
			op->value = fz_choose(in, 2);
		} else if (op->kind == FZ_HVT_MSI) {
			dec_msi(in, op);
		} else {
			dec_host(in, op);
		}
		break;
	default: break;
	}
}

void fz_hvt_decode(const uint8_t *data, size_t size, struct fz_hvt_input *hin)
{
	struct fz_in in;

	fz_init(&in, data, size);
	config_decode(&in, &hin->cfg);
	hin->n_ops = 0;
	for (unsigned i = 0; fz_more(&in, &i, FZ_HVT_OPS_MAX);)
		dec_op(&in, &hin->cfg, &hin->ops[hin->n_ops++]);
}

/* ---- encoding ---- */

static void enc_ioapic_write(struct fz_out *o, const struct fz_hvt_op *op)
{
	fz_put_choose(o, 4, 3);
	fz_put(o, op->reg, 1);
	fz_put(o, op->value, 4);
}

static void enc_guest(struct fz_out *o, const struct fz_hvt_op *op)
{
	switch (op->kind) {
	case FZ_HVT_MSR_READ: fz_put_pick(o, msrs, N(msrs), op->reg); break;
	case FZ_HVT_MSR_WRITE:
		fz_put_pick(o, msrs, N(msrs), op->reg);
		enc_value(o, op->value);
		break;
	case FZ_HVT_APIC_BASE: fz_put_pick(o, apic_bases, N(apic_bases), op->value); break;
	case FZ_HVT_XAPIC_READ:
	case FZ_HVT_XAPIC_WRITE:
		fz_put_pick(o, xapic_offsets, N(xapic_offsets), op->reg);
		enc_size(o, op->size);
		if (op->kind == FZ_HVT_XAPIC_WRITE)
			enc_value(o, op->value);
		break;
	case FZ_HVT_IOAPIC_READ: fz_put_pick(o, ioapic_offsets, N(ioapic_offsets), op->reg); break;
	case FZ_HVT_IOAPIC_WRITE: enc_ioapic_write(o, op); break;
	case FZ_HVT_IOAPIC_RTE:
		fz_put_choose(o, FZ_HVT_GSIS, op->reg);
		fz_put_choose(o, 2, 0);
		fz_put(o, op->value, 4);
		fz_put(o, op->value2 >> 24, 1);
		break;
	case FZ_HVT_EOI:
		fz_put_choose(o, FZ_EOI_COUNT, op->sub);
		if (op->sub == FZ_EOI_IOAPIC)
			enc_vector(o, op->vector);
		break;
	default: break;
	}
}

static void enc_insn(struct fz_out *o, const struct fz_hvt_op *op)
{
	fz_put_choose(o, FZ_INSN_COUNT, op->sub);
	switch (op->sub) {
	case FZ_INSN_MONITOR:
		fz_put_pick(o, lin_addrs, N(lin_addrs), op->value);
		fz_put(o, op->reg, 1);
		fz_put(o, op->value2, 1);
		break;
	case FZ_INSN_MWAIT:
		fz_put_pick(o, mwait_hints, N(mwait_hints), op->value2);
		fz_put(o, op->reg, 1);
		break;
	case FZ_INSN_INVLPG: fz_put_pick(o, lin_addrs, N(lin_addrs), op->value); break;
	case FZ_INSN_TDCALL: fz_put_pick(o, tdcall_leaves, N(tdcall_leaves), op->value); break;
	case FZ_INSN_SEAMCALL:
		fz_put_pick(o, seamcall_leaves, N(seamcall_leaves), op->value);
		break;
	case FZ_INSN_XSETBV:
		fz_put(o, op->reg, 1);
		fz_put_pick(o, xcr0s, N(xcr0s), op->value);
		break;
	default: break;
	}
}

static void enc_guest2(struct fz_out *o, const struct fz_hvt_op *op)
{
	size_t cr = 0;

	switch (op->kind) {
	case FZ_HVT_OUT:
	case FZ_HVT_IN:
		fz_put_pick(o, ports, N(ports), op->reg);
		enc_io_size(o, op->size);
		if (op->kind == FZ_HVT_OUT)
			fz_put(o, op->value, 4);
		break;
	case FZ_HVT_CPUID:
		fz_put_pick(o, leaves, N(leaves), op->reg);
		fz_put(o, op->value2, 1);
		break;
	case FZ_HVT_INSN: enc_insn(o, op); break;
	case FZ_HVT_RDPMC: fz_put(o, op->reg, 1); break;
	case FZ_HVT_COMPUTE: enc_count(o, computes, N(computes), op->value); break;
	case FZ_HVT_MOV_CR:
		while (cr < N(crs) && crs[cr] != op->cr)
			cr++;
		fz_put_choose(o, N(crs), cr < N(crs) ? cr : 0);
		fz_put_pick(o, cr_values, N(cr_values), op->value);
		break;
	case FZ_HVT_VMCALL: fz_put_pick(o, hypercalls, N(hypercalls), op->value); break;
	default: break;
	}
}

static void enc_event(struct fz_out *o, const struct fz_hvt_op *op)
{
	uint64_t dest = (op->value >> 12) & 0xff, d = op->value2;

	fz_put_pick(o, dts, N(dts), op->dt_ns);
	if (op->kind == FZ_HVT_LINE) {
		fz_put_choose(o, FZ_HVT_GSIS, op->reg);
		fz_put_choose(o, 2, op->value != 0);
	} else if (op->kind == FZ_HVT_MSI) {
		fz_put_pick(o, msi_dests, N(msi_dests), dest);
		fz_put(o,
		       (uint64_t)((op->value & 4) != 0) | ((d >> 8) & 7) << 1 |
		           ((d >> 14) & 1) << 4 | ((d >> 15) & 1) << 5,
		       1);
		enc_vector(o, (uint8_t)d);
	} else {
		fz_put_choose(o, FZ_HOST_COUNT, op->sub);
		fz_put_choose(o, 3, (size_t)(op->vcpu + 1));
		if (op->sub == FZ_HOST_ZAP)
			fz_put_pick(o, zap_pages, N(zap_pages), op->value);
	}
}

void fz_hvt_encode(struct fz_out *o, const struct fz_hvt_op *op)
{
	fz_put_choose(o, FZ_HVT_OP_COUNT, op->kind);
	if (op->kind <= FZ_HVT_EOI)
		enc_guest(o, op);
	else if (op->kind <= FZ_HVT_VMCALL)
		enc_guest2(o, op);
	else if (op->kind == FZ_HVT_HANDLER)
		fz_put_pick(o, vectors, N(vectors), op->vector);
	else if (op->kind == FZ_HVT_REPEAT)
		enc_count(o, repeats, N(repeats), op->value);
	else if (op->kind == FZ_HVT_VMX)
		fz_hvt_vmx_encode(o, op);
	else if (op->kind >= FZ_HVT_LINE)
		enc_event(o, op);
}
