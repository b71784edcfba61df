/* Decoding and encoding the operations of fuzz_pmu_msr (fz_pmu.h), and the configuration byte.
 * MSR numbers come from a table of every PMU MSR of both vendors (with the first number past each
 * range) or raw; WRMSR values raw, from a table of edge values, or shaped for the register they
 * are meant for (an event select with event, umask and flags; FIXED_CTR_CTRL nibbles; a counter
 * value just below the wrap; a global-MSR bit set); RDPMC's ECX a GP index, a fixed index with
 * ECX[30], or raw. The encoder writes the form the decoder reads back, shaped values raw. */
#include "fz_pmu.h"

#include <string.h>

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* SDM Vol. 4 Table 2-2 and APM 13.2: every PMU MSR, and the first number past each range */
static const uint64_t msrs[] = {
    0xC1,       0xC2,       0xC3,       0xC4,       0xC5,       0xC6,       0xC7,       0xC8,
    0xC9,       0x186,      0x187,      0x188,      0x189,      0x18A,      0x18B,      0x18C,
    0x18D,      0x18E,      0x309,      0x30A,      0x30B,      0x30C,      0x30D,      0x345,
    0x38D,      0x38E,      0x38F,      0x390,      0x391,      0x392,      0x393,      0x4C1,
    0x4C2,      0x4C5,      0x4C8,      0x4C9,      0xC0010000, 0xC0010001, 0xC0010002, 0xC0010003,
    0xC0010004, 0xC0010005, 0xC0010006, 0xC0010007, 0xC0010200, 0xC0010201, 0xC0010202, 0xC0010203,
    0xC0010206, 0xC0010207, 0xC0010208, 0xC0010209, 0xC001020A, 0xC001020B, 0xC001020C, 0xC0000300,
    0xC0000301, 0xC0000302, 0xC0000303, 0xC0000304,
};

/* Edge values: sign bit of a legacy write, widths 32/40/48, reserved high bits, all ones */
static const uint64_t values[] = {
    0,
    ~UINT64_C(0),
    1,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFF,
    UINT64_C(0xFFFFFFFFFF),
    UINT64_C(0xFFFFFFFFFFFF),
    UINT64_C(0x1000000000000),
    UINT64_C(0x8000000000000000),
    UINT64_C(0x4000000000000000),
    UINT64_C(0x700000000) | 0xFF,
    UINT64_C(0xF000000FF),
    UINT64_C(0x3F),
    0x4300C0,
    0x43003C,
    0x53003C,
    0x4301C4,
    0xBBB,
    0xBBBB,
};

/* Event select / umask pairs: Intel's architectural events (SDM 21.2.1.2), AMD's core events */
static const uint16_t events[][2] = {
    {0x3C, 0x00}, {0xC0, 0x00}, {0x3C, 0x01}, {0x2E, 0x4F},  {0x2E, 0x41},
    {0xC4, 0x00}, {0xC5, 0x00}, {0xA4, 0x01}, {0x76, 0x00},  {0xC2, 0x00},
    {0xC3, 0x00}, {0x00, 0x00}, {0x76, 0x01}, {0x1C0, 0x00},
};

/* ---- The configuration byte ---- */

static unsigned profile_count(void)
{
	unsigned n = 0;

	for (const char *const *p = pmu_profile_names(); *p && n < FZ_PMU_PROFILES; p++)
		n++;
	return n;
}

unsigned fz_pmu_config_index(uint8_t b)
{
	unsigned n = profile_count();

	return (b % n) * FZ_PMU_VARIANTS + (b / n) % FZ_PMU_VARIANTS;
}

void fz_pmu_config_from(uint8_t b, struct pmu_config *cfg)
{
	unsigned idx = fz_pmu_config_index(b);
	struct pmu_config c;
	char why[128];

	pmu_profile(pmu_profile_names()[idx / FZ_PMU_VARIANTS], cfg);
	c = *cfg;
	if (c.vendor != PMU_VENDOR_INTEL)
		return;
	switch (idx % FZ_PMU_VARIANTS) {
	case 1: c.perf_capabilities &= ~PMU_CAP_FW_WRITE; break;
	case 2:
		c.n_gp = (uint8_t)(c.n_gp > 1 ? c.n_gp - 1 : 1);
		c.n_fixed = (uint8_t)(c.n_fixed ? c.n_fixed - 1 : 0);
		break;
	case 3: c.gp_width = 64; break;
	default: break;
	}
	if (pmu_config_valid(&c, why, sizeof(why)))
		*cfg = c;
}

/* ---- Decoding ---- */

static uint64_t dec_evtsel(struct fz_in *in)
{
	const uint16_t *e = events[fz_choose(in, N(events))];
	uint8_t f = fz_u8(in);
	uint64_t v = (uint64_t)(e[0] & 0xFF) | (uint64_t)(e[0] >> 8) << 32 | (uint64_t)e[1] << 8;

	/* f: 0 USR, 1 OS, 2 EDGE, 3 INT, 4 EN, 5 INV, 6 AnyThread/PC, 7 a CMASK byte follows */
	v |= (f & 1 ? PMU_EVTSEL_USR : 0) | (f & 2 ? PMU_EVTSEL_OS : 0) |
	     (f & 4 ? PMU_EVTSEL_EDGE : 0) | (f & 8 ? PMU_EVTSEL_INT : 0) |
	     (f & 16 ? PMU_EVTSEL_EN : 0) | (f & 32 ? PMU_EVTSEL_INV : 0) |
	     (f & 64 ? PMU_EVTSEL_ANY : 0);
	if (f & 128)
		v |= (uint64_t)fz_u8(in) << 24;
	return v;
}

/* A global-MSR value: GP bits, fixed bits at 32, optionally one high status bit */
static uint64_t dec_global(struct fz_in *in)
{
	uint64_t v = fz_u8(in) | (uint64_t)(fz_u8(in) & 0xF) << PMU_GLOBAL_FIXED_SHIFT;
	uint8_t hi = fz_u8(in);

	return hi & 0x80 ? v | UINT64_C(1) << (hi & 63) : v;
}

static uint64_t dec_value(struct fz_in *in, const struct pmu_config *cfg)
{
	switch (fz_choose(in, 6)) {
	case 0: return fz_u64(in);
	case 1: return fz_pick(in, values, N(values));
	case 2: return dec_evtsel(in);
	case 3: return fz_u16(in);
	case 4:
		return (cfg->gp_width >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << cfg->gp_width) - 1) -
		       fz_u8(in);
	default: return dec_global(in);
	}
}

static uint32_t dec_ecx(struct fz_in *in)
{
	switch (fz_choose(in, 3)) {
	case 0: return fz_u8(in) & 0xF;
	case 1: return PMU_RDPMC_FIXED | (fz_u8(in) & 7);
	default: return fz_u32(in);
	}
}

static uint64_t dec_count(struct fz_in *in, struct pmu_replay_op *op)
{
	op->sub = (uint8_t)fz_choose(in, 5);
	switch (op->sub) {
	case 0: return fz_u8(in);
	case 1: return fz_u16(in);
	case 2: return fz_u32(in);
	case 3: return fz_u64(in);
	default: op->ctr = fz_u8(in) & 0xF; return fz_u8(in);
	}
}

void fz_pmu_decode(struct fz_in *in, const struct pmu_config *cfg, struct pmu_replay_op *op)
{
	uint8_t f;

	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)fz_choose(in, PMU_REPLAY_OP_COUNT);
	switch (op->kind) {
	case PMU_REPLAY_RDMSR: op->msr = (uint32_t)fz_pick(in, msrs, N(msrs)); break;
	case PMU_REPLAY_WRMSR:
		op->msr = (uint32_t)fz_pick(in, msrs, N(msrs));
		op->value = dec_value(in, cfg);
		break;
	case PMU_REPLAY_RDPMC:
		op->msr = dec_ecx(in);
		f = fz_u8(in);
		op->cpl = f & 3;
		op->pce = f & 4;
		break;
	case PMU_REPLAY_COUNT:
		op->event = (uint8_t)fz_choose(in, PMU_EV_COUNT);
		op->cpl = fz_u8(in) & 3;
		op->value = dec_count(in, op);
		break;
	default: break;
	}
}

/* ---- Resolution ---- */

void fz_pmu_resolve(const struct pmu *p, struct pmu_replay_op *op)
{
	const struct pmu_config *c = pmu_get_config(p);
	bool fixed = op->ctr & 8;
	unsigned width = fixed ? c->fixed_width : c->gp_width;
	uint64_t mask;

	if (op->kind != PMU_REPLAY_COUNT || op->sub != 4)
		return;
	mask = width >= 64 ? ~UINT64_C(0) : width ? (UINT64_C(1) << width) - 1 : 0;
	op->value = mask - pmu_counter_value(p, fixed, op->ctr & 7) + op->value;
	op->sub = 3;
	op->ctr = 0;
}

/* ---- Encoding ---- */

void fz_pmu_encode(struct fz_out *o, const struct pmu_replay_op *op)
{
	fz_put_choose(o, PMU_REPLAY_OP_COUNT, op->kind);
	switch (op->kind) {
	case PMU_REPLAY_RDMSR: fz_put_pick(o, msrs, N(msrs), op->msr); break;
	case PMU_REPLAY_WRMSR:
		fz_put_pick(o, msrs, N(msrs), op->msr);
		fz_put_choose(o, 6, 0);
		fz_put(o, op->value, 8);
		break;
	case PMU_REPLAY_RDPMC:
		fz_put_choose(o, 3, 2);
		fz_put(o, op->msr, 4);
		fz_put(o, op->cpl | (op->pce ? 4u : 0u), 1);
		break;
	case PMU_REPLAY_COUNT:
		fz_put_choose(o, PMU_EV_COUNT, op->event);
		fz_put(o, op->cpl, 1);
		if (op->sub == 4) {
			fz_put_choose(o, 5, 4);
			fz_put(o, op->ctr, 1);
			fz_put(o, op->value, 1);
		} else {
			fz_put_choose(o, 5, 3);
			fz_put(o, op->value, 8);
		}
		break;
	default: break;
	}
}
