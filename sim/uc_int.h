/* The Unicorn backend's private layout (uc_cpu.c: engine, hooks and the run loop; uc_cache.c: the
 * per-block decode cache and the trap table; uc_mem.c: guest memory, page walks, MMIO and faults;
 * uc_regs.c: registers and event delivery; guest_setup_cpu.c: mode set-up). docs/vcpu-layer.md
 * has the design and the Unicorn 2.0.1 facts it rests on.
 *
 * Invariants:
 * - A trapped instruction never executes in Unicorn: every translation block is decoded (Zydis)
 *   before its first execution, either when Unicorn generates it (UC_HOOK_EDGE_GENERATED) or,
 *   for the first block of an engine, in the block hook. A trap site found then gets a one-address
 *   UC_HOOK_CODE; when the hook is new, the block's translation is dropped and the run restarts at
 *   the block start, which no instruction of the block has passed (the block hook runs before the
 *   translation block's own exit check).
 * - Traps carry the bytes they were decoded from; re-decoding a block (after self-modifying code
 *   made Unicorn retranslate it) refreshes or retires every trap inside it.
 * - Instructions are counted per block: the block hook counts the block whole as it starts; a
 *   stop inside it recounts up to the stopping instruction. No UC_HOOK_CODE covers ordinary code
 *   and uc_emu_start's count and timeout arguments are never used.
 * - until is 0 except on the rare precise-deadline path: Unicorn walks the guest page tables at
 *   until - 1 after every run, which for an unmapped address clobbers CR2 and the exception state.
 *   A deadline at most UC_STEP_MAX instructions into its block is stepped instead (uc_step.c):
 *   QEMU's interrupt shadow is set only for the run of one step, and a one-instruction
 *   translation at a block's start counts as that block's first instruction.
 * - MMIO and accesses outside RAM raise precise page faults (guest_setup.h); after each, the QEMU
 *   double-fault bookkeeping (old_exception) is reset through the saved context.
 * - The softmmu TLB holds only what hvsim's tables and the paging registers give now: every write
 *   to those tables flushes it (uc_pt_written, rebuilds, a restore that changed them), and so
 *   does every change of a paging register bit it depends on (uc_paging_read) and every CR3 load
 *   of tables the guest installed itself. */
#ifndef HVSIM_UC_INT_H
#define HVSIM_UC_INT_H

#include "backend.h"
#include "decode.h"

#include <unicorn/unicorn.h>

/* Why the current uc_emu_start stopped. */
enum uc_stop {
	UST_NONE = 0,
	UST_ARM,      /* new trap hooks: restart at stop_pc (block start) */
	UST_BUDGET,   /* the block at stop_pc would overrun the budget */
	UST_TRAP,     /* trapped instruction at stop_pc */
	UST_MMIO,     /* known MMIO instruction at stop_pc hit an MMIO region (op in pending) */
	UST_PF,       /* page fault at stop_pc, linear address stop_addr */
	UST_EXC,      /* another guest exception, vector stop_vec */
	UST_UD,       /* invalid opcode at stop_pc */
	UST_BAD,      /* access to unmapped memory at stop_addr */
	UST_NOPAGING, /* MMIO region reached with paging off */
	UST_INTERNAL, /* an hvsim-side failure inside a hook (why says) */
	UST_IF_WRITE, /* an instruction that may set RFLAGS.IF at stop_pc, under if_stop */
	UST_PT_WRITE, /* the block before stop_pc wrote hvsim's page tables: flush, go on */
};

#define UC_RECENT 256 /* direct-mapped block-lookup slots (power of two) */

/* A direct-mapped copy of a block's key and count, so the hot path chases no pointer. */
struct uc_recent {
	uint64_t pc;
	uint32_t size, icount; /* size 0: empty */
	const struct uc_block *b;
};

struct uc_block {
	uint64_t pc;      /* linear address; 0 with size 0: empty slot */
	uint32_t size;    /* bytes, as Unicorn reports them */
	uint32_t icount;  /* instructions */
	uint32_t off;     /* index of its first instruction offset in uc_cpu.offs */
	uint32_t span;    /* bytes decoded: size and a last instruction's bytes past it */
	uint8_t head_len; /* its first instruction's length and bytes: a translation of that */
	uint8_t head[15]; /* instruction alone (uc_step.c) counts as one of this block's */
};

struct uc_trap {
	uint64_t addr; /* linear address of the instruction */
	uint8_t cls;   /* enum dec_class; DEC_NONE: retired slot */
	bool used;     /* slot in use */
	bool hooked;   /* its UC_HOOK_CODE exists */
	bool always;   /* stops whatever the stop mask says (Unicorn cannot run it) */
	uint8_t nbytes;
	uint8_t bytes[15]; /* what it was decoded from */
	struct dec_insn d;
	uc_hook hook;
};

struct uc_cpu {
	uc_engine *uc;
	const struct be_machine *m;
	uint8_t mode;   /* enum guest_mode the vCPU was set up in */
	unsigned index; /* the vCPU's */

	/* decode cache (uc_cache.c): open addressing on pc, cleared on a flush */
	struct uc_block *blocks;
	size_t blocks_cap, blocks_used; /* cap: power of two */
	uint16_t *offs;                 /* instruction offsets within blocks */
	size_t offs_used, offs_cap;
	struct uc_trap *traps; /* open addressing on addr, never shrinks */
	size_t traps_cap, traps_used;
	uint32_t stop_mask;  /* GOP_BIT kinds that stop (set_stop_mask) */
	uint8_t *code_buf;   /* bytes of the block being decoded */
	bool flush_pending;  /* memory changed under the code: uc_keep_sync before the next run */
	bool flush_all;      /* the cache is full: uc_cache_flush before the next run */
	uint8_t *code_pages; /* bitmap of pages holding decoded code, NULL: none yet */
	uint64_t code_lo, code_hi; /* pages [code_lo, code_hi) span every mark; code_hi 0: none */
	uint8_t *shadow;           /* uc_keep.c: pages [shadow_lo, shadow_hi) as translated */
	uint64_t shadow_lo, shadow_hi; /* shadow NULL: none */

	/* the current run */
	uint64_t budget, done;      /* instructions allowed; retired, the executing block whole */
	uint64_t cur_start;         /* done before the executing block */
	uint64_t limit;             /* budget, or UINT64_MAX on the precise path */
	const struct uc_block *cur; /* block executing, NULL: none */
	struct uc_recent recent[UC_RECENT]; /* direct-mapped front of blocks, by pc */
	uint64_t until;                     /* 0, or the precise deadline address */
	bool precise;
	bool step; /* the next uc_emu_start runs one instruction first (uc_step.c) */
	bool stopping;
	uint8_t stop; /* enum uc_stop */
	uint64_t stop_pc, stop_addr;
	uint32_t stop_vec;
	struct guest_op pending; /* UST_MMIO: the operation */
	char why[128];

	/* pass-through of one stopped operation */
	uint64_t pass_addr;
	bool pass_armed;

	/* the next run only (arm_if_stop): stop before a DEC_IF_WRITE instruction, except the one
	 * at if_pass_addr when if_pass, which then runs alone */
	bool if_stop, if_pass;
	uint64_t if_pass_addr;

	/* registers (uc_regs.c): cache valid between runs */
	bool running; /* inside uc_emu_start: registers are read live */
	uint64_t gpr[GPR_COUNT];
	uint32_t gpr_valid, gpr_dirty;
	uint64_t rip;
	uint64_t cr2; /* the guest's CR2, restored after MMIO page faults */

	/* fault bookkeeping (uc_mem.c) */
	uc_context *ctx;
	size_t old_exception_off; /* byte offset of QEMU's old_exception in a uc_context */
	size_t hflags_off;        /* byte offset of QEMU's hflags in a uc_context, 0: unknown */
	uint64_t bad_addr;        /* UST_BAD */
	bool bad_write, bad_fetch;
	uint64_t ram_end; /* start of the catch-all MMIO mapping above RAM, 0: not mapped yet */
	bool tlb_stale;   /* a TLB flush is owed before the next uc_emu_start (uc_tlb_sync) */
	bool pt_written;  /* the guest stored into hvsim's paging area (uc_pt_written) */
	uint64_t pt_lo;   /* where that area starts (gs_pt_base), mem_size when RAM has none */

	/* translation memory (uc_cpu.c): Unicorn 2.0.1 never frees a dropped translation until its
	 * 1 GiB code buffer is full, and the flush it then does inside uc_emu_start crashes it */
	uint64_t generated;      /* translation blocks generated since creation */
	uint64_t since_tb_flush; /* of which since the last full flush */
	uint64_t tb_flush_at;    /* since_tb_flush that makes run_once flush (UC_TB_FLUSH_AT) */
	uint64_t tb_flushes;     /* full flushes done */
	bool scratch_rw; /* the TLB scratch page's write permission (uc_tlb_sync flips it) */
};

/* uc_cpu.c */
void uc_request_stop(struct uc_cpu *c, uint8_t why, uint64_t pc);
void uc_on_trap(uc_engine *uc, uint64_t addr, uint32_t size, void *ud);

/* uc_cache.c */
enum hvsim_status uc_cache_init(struct uc_cpu *c);
void uc_cache_fini(struct uc_cpu *c);
/* Forgets every decoded block (not the traps' hooks) and every Unicorn translation. Never inside a
 * hook: it frees the code Unicorn is running. */
void uc_cache_flush(struct uc_cpu *c);
/* Forgets the decoded blocks whose bytes overlap linear [lo, hi) and the trap sites there,
 * deleting their hooks (Unicorn scans every code hook at each hooked instruction, so stale sites
 * cost); sites come back as blocks are decoded again, MMIO sites at their next fault. The caller
 * drops Unicorn's translations of the range. Outside uc_emu_start only. Can't fail. */
void uc_cache_drop(struct uc_cpu *c, uint64_t lo, uint64_t hi);
const struct uc_block *uc_block_find(const struct uc_cpu *c, uint64_t pc);
/* Decodes the block Unicorn translated at pc (size bytes, icount 0 when unknown) and arms its
 * traps; *restart is set when a new hook means the block must be retranslated first. NULL when
 * the cache is full (c->flush_pending set) or the block cannot be read or decoded (c->why). */
const struct uc_block *uc_block_decode(struct uc_cpu *c, uint64_t pc, uint32_t size,
                                       uint32_t icount, bool *restart);
/* Index of the instruction at addr within b; false when addr is not an instruction start. */
bool uc_block_index(const struct uc_cpu *c, const struct uc_block *b, uint64_t addr,
                    uint32_t *index);
/* Address of instruction index (< icount) of b. */
uint64_t uc_block_addr(const struct uc_cpu *c, const struct uc_block *b, uint32_t index);
struct uc_trap *uc_trap_find(const struct uc_cpu *c, uint64_t addr);
/* True when [gpa, gpa+len) overlaps a page whose code was decoded since the last flush. */
bool uc_code_touched(const struct uc_cpu *c, uint64_t gpa, uint64_t len);
/* Records a MOV found to access MMIO as a trap site; *restart as for uc_block_decode. */
enum hvsim_status uc_trap_add_mmio(struct uc_cpu *c, uint64_t addr, const uint8_t *bytes,
                                   const struct dec_insn *d, bool *restart);

/* uc_mem.c */
/* A store into hvsim's paging area at [gpa, gpa+len) by the guest (running: the run stops at the
 * next block and goes on with an empty TLB) or by the VM (the next run starts with one): cached
 * translations never outlive the entries they came from, so a run does not depend on when the
 * TLB was last flushed (a snapshot's restore flushes it when it changed the tables or the paging
 * registers). True when the store was there. */
bool uc_pt_written(struct uc_cpu *c, uint64_t gpa, uint64_t len);
/* uc_pt_written for this vCPU's own store (the guest's, or an event frame it pushed), which the
 * other vCPUs' backends then hear of through the cross-modification path (be_xmod). */
bool uc_pt_stored(struct uc_cpu *c, uint64_t gpa, uint64_t len);
/* Reads or writes len bytes at a linear address through the guest's paging; false when any byte
 * is not RAM (a write then changed nothing). */
bool uc_read_linear(struct uc_cpu *c, uint64_t la, void *buf, size_t len);
bool uc_write_linear(struct uc_cpu *c, uint64_t la, const void *buf, size_t len);
/* The decoding mode the CPU is in now (CR0.PE, EFER.LMA, the CS descriptor's L and D bits). */
enum dec_mode uc_cpu_mode(struct uc_cpu *c);
/* Finds QEMU's old_exception in the saved context (needs a fresh engine); HVSIM_E_INTERNAL when
 * this Unicorn build lays it out differently. */
enum hvsim_status uc_calibrate(struct uc_cpu *c);
/* Clears QEMU's exception-in-flight state after hvsim handled a guest fault. */
void uc_reset_exception_state(struct uc_cpu *c);

/* uc_step.c: a deadline inside a translation block, run one instruction at a time. */
#define UC_STEP_MAX 16 /* instructions a deadline may lie inside its block to be stepped */
/* Finds QEMU's hflags in the saved context by running STI at la (mapped, writable code memory
 * the caller lends: code, 16 bytes) and checks that setting its interrupt-shadow bit makes the
 * next translation one instruction; leaves hflags_off 0 when either fails (deadlines are then
 * cut with until). Needs the engine fresh, in 64-bit mode with paging. */
void uc_step_calibrate(struct uc_cpu *c, uint64_t la, uint8_t *code);
/* Sets or clears the interrupt shadow in QEMU's hflags (hflags_off known); a run after a step
 * clears it, since a stop before the stepped instruction ran leaves it set. */
void uc_step_shadow(struct uc_cpu *c, bool on);
/* True when a translation at pc of size bytes and icount instructions is the first instruction
 * of the decoded block b alone, as its bytes are now. */
bool uc_step_is_head(struct uc_cpu *c, const struct uc_block *b, uint64_t pc, uint32_t size,
                     uint32_t icount);
/* Index of the MMIO region holding [gpa, gpa+len), or -1; *straddle when it holds part of it. */
int uc_mmio_region(const struct uc_cpu *c, uint64_t gpa, uint64_t len, bool *straddle);
/* Maps everything above RAM into Unicorn once (QEMU checks a linear address is mapped before it
 * walks the page tables that fault), then flushes the TLB after an MMIO map change. */
enum hvsim_status uc_mmio_sync(struct uc_cpu *c);
/* Hook: a known MMIO instruction is about to run; true when it hits MMIO (pending filled). */
bool uc_mmio_site_hits(struct uc_cpu *c, const struct uc_trap *t, uint64_t rip);
/* Turns a page fault at c->stop_pc into an operation or a finding. */
enum be_stop uc_handle_fault(struct uc_cpu *c, struct guest_op *op, const char **why);
enum hvsim_status uc_add_mem_hooks(struct uc_cpu *c);
/* Maps the scratch page uc_tlb_sync flips. HVSIM_E_NOMEM when Unicorn cannot. */
enum hvsim_status uc_tlb_init(struct uc_cpu *c);
/* The paging registers as far as the softmmu TLB's entries depend on them (uc_mem.c). */
struct uc_paging {
	uint64_t cr0, cr3, cr4, efer;
};

void uc_paging_read(struct uc_cpu *c, struct uc_paging *p);
/* The bits of control register cr (0, 3 or 4) that uc_paging_read keeps. */
uint64_t uc_paging_bits(unsigned cr, uint64_t value);
bool uc_paging_same(const struct uc_paging *a, const struct uc_paging *b);
/* Entries made under p go stale only through writes hvsim sees: paging is on, CR3 holds hvsim's
 * tables (guest_setup.h; a guest's own are not watched), and no protection key applies (SDM
 * 4.6.2: PKRU and IA32_PKRS are not compared). */
bool uc_paging_watched(const struct uc_cpu *c, const struct uc_paging *p);
/* Owes a drop of every softmmu TLB entry, paid by uc_tlb_sync before the guest runs again: the
 * flushes of one VM entry (CR0, CR3, CR4, a restore) cost one. Can't fail. */
void uc_tlb_flush(struct uc_cpu *c);
/* Pays an owed TLB flush. Call before every uc_emu_start. Can't fail. */
void uc_tlb_sync(struct uc_cpu *c);
/* Drops Unicorn's translations of guest-physical [gpa, gpa+len), whatever the guest's paging
 * (uc_ctl_remove_cache translates its start through paging, so paging is lifted meanwhile).
 * Between runs only. Never uc_ctl_flush_tlb: Unicorn 2.0.1's full flush costs ~150 ms. */
void uc_invalidate_phys(struct uc_cpu *c, uint64_t gpa, uint64_t len);
/* Lifts paging (returns CR0 to give to uc_paging_restore) for Unicorn calls that look code up
 * through it: uc_ctl_remove_cache, and uc_hook_del of a trap site, which drops the translations
 * the hook instrumented. Between runs only. Can't fail. */
uint64_t uc_paging_lift(struct uc_cpu *c);
void uc_paging_restore(struct uc_cpu *c, uint64_t cr0);

/* uc_keep.c */
/* Unicorn translated linear [la, la+len) from the bytes RAM holds now: keeps a copy. Can't fail
 * (out of memory, every code page counts as changed at the next sync). */
void uc_keep_note(struct uc_cpu *c, uint64_t la, uint64_t len);
/* Drops the translations, decoded blocks and trap sites of the code bytes that changed since they
 * were noted or last synced. Between runs only. Can't fail. */
void uc_keep_sync(struct uc_cpu *c);
/* Forgets every noted byte (after a full flush). Can't fail. */
void uc_keep_forget(struct uc_cpu *c);

/* uc_track.c */
/* Marks the pages hvsim's set-up wrote and adds the store hook. Call before any code is
 * translated: Unicorn compiles the slow store path that calls the hook only into blocks translated
 * after it exists. HVSIM_E_INTERNAL when Unicorn refuses it. */
enum hvsim_status uc_track_init(struct uc_cpu *c);

/* uc_regs.c */
uint64_t uc_gpr(struct uc_cpu *c, unsigned gpr);
void uc_set_gpr(struct uc_cpu *c, unsigned gpr, uint64_t v);
/* Writes dirty cached registers back before a run, then forgets the cache. */
void uc_regs_flush(struct uc_cpu *c);
void uc_regs_invalidate(struct uc_cpu *c);
uint64_t uc_reg(struct uc_cpu *c, int regid);
void uc_set_reg(struct uc_cpu *c, int regid, uint64_t v);
/* Register reader over the live engine (inside hooks) or the cache (between runs). */
void uc_dec_regs(struct uc_cpu *c, struct dec_regs *r);
/* The register and delivery entries of uc_backend_ops (struct guest_backend_ops contracts). */
uint64_t uc_be_get_gpr(void *ctx, unsigned gpr);
void uc_be_set_gpr(void *ctx, unsigned gpr, uint64_t value);
uint64_t uc_be_get_rip(void *ctx);
void uc_be_set_rip(void *ctx, uint64_t rip);
uint64_t uc_be_get_rflags(void *ctx);
void uc_be_set_rflags(void *ctx, uint64_t rflags);
bool uc_be_idt_gate(void *ctx, uint8_t vector, uint64_t *la, unsigned *len);
enum hvsim_status uc_be_deliver(void *ctx, uint8_t vector, uint8_t type, bool has_error,
                                uint32_t error_code);
bool uc_be_interruptible(void *ctx);
uint64_t uc_be_get_cr(void *ctx, unsigned cr);
void uc_be_set_cr(void *ctx, unsigned cr, uint64_t value);

/* guest_setup_cpu.c */
/* Puts a fresh engine into the scenario's mode with vCPU index's stack, RIP = entry. */
enum hvsim_status gs_cpu_setup(struct uc_cpu *c, uint8_t mode, uint64_t entry, unsigned index,
                               struct hvsim_error *err);

#endif
