# Fuzzing (docs/fuzzing.md), included by the Makefile. A harness is a fuzz/fuzz_*.c file; the other
# files in fuzz/ are shared. Three builds of each harness:
#   make fuzz         build-fuzz/fuzz/T (clang, libFuzzer + ASan + UBSan) and build-fuzz/fuzz/T-replay
#   make fuzz-afl     build-afl/fuzz/T (afl-clang-fast with AFL++'s libFuzzer-compatible driver)
#   make fuzz-fast    build-fuzznosan/fuzz/T (clang, libFuzzer, -O2, no sanitizers): the rates of
#                     docs/fuzzing.md "Measurements" (fuzz/rate.sh)
#   make fuzz-replay  build-asan/fuzz/T-replay (any compiler, ASan + UBSan, no fuzzer), then replays
#                     every seed corpus and committed crash reproducer: part of `make check`
#   make fuzz-smoke   each harness under libFuzzer for FUZZ_SMOKE_S seconds through `hvsim fuzz`

FUZZ_HARNESS_SRC := $(sort $(filter-out fuzz/fuzz_common.c,$(wildcard fuzz/fuzz_*.c)))
FUZZ_TARGETS     := $(FUZZ_HARNESS_SRC:fuzz/%.c=%)
# The harness-independent parts (every fuzz/fz_*.c: reader, export builder, each harness's model
# glue and named invariants); the unit tests link them too (tests/test_fuzz_*.c).
FUZZ_LIB_SRC     := $(sort $(wildcard fuzz/fz_*.c))
FUZZ_LIB_OBJ     := $(FUZZ_LIB_SRC:%.c=$(BUILD)/%.o)
# Harnesses link the shared parts as an archive, so each takes only the modules it uses (their
# coverage counters are libFuzzer's feature space: all of them made every execution scan ten times
# as many counters for fuzz_lapic_ioapic).
FUZZ_LIB_A       := $(BUILD)/fuzz/libfz.a
FUZZ_SHARED_OBJ  := $(BUILD)/fuzz/fuzz_common.o $(FUZZ_LIB_A)
FUZZ_BINS        := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
FUZZ_REPLAY_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%-replay)
FUZZ_SMOKE_S     ?= 20
FUZZ_ASAN_OPT    := -O1 -g -fno-omit-frame-pointer
FUZZ_ASAN_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all
# Invariant checks are not coverage-instrumented (fuzz/coverage-ignore.txt says why).
FUZZ_COV_IGNORE  := -fsanitize-coverage-ignorelist=$(CURDIR)/fuzz/coverage-ignore.txt
# Without a sanitizer, libFuzzer's own memcmp/strcmp interceptors are linked into the executable
# and exported, so they also caught every memcmp inside Unicorn's translator (5% of
# fuzz_hv_transitions, comparisons of no use to the fuzzer). Hidden, they still see hvsim's own
# calls (bound inside the executable); shared libraries get libc's. ASan exports its own
# interceptors and needs to: those builds keep them.
FUZZ_NOSAN_LDFLAGS := -Wl,--exclude-libs,libclang_rt.fuzzer_interceptors-x86_64.a

# Engine plumbing that runs at every slice and exit of fuzz_hv_transitions keeps its edges in
# libFuzzer builds but not comparison tracing: its comparisons are of state bits, op kinds and
# times (in the trace encoder, the characters of every line), never input values the fuzzer
# could copy, and their callbacks were a quarter of the harness's time. (The models keep theirs:
# the model-level harnesses learn values from them.)
# Their indirect calls (backend and algorithm operations) follow the configuration, so they go
# too. The same for the VMX model's VM-exit, guest-state load, event injection and non-root event
# evaluation, which only fuzz_hv_transitions (and the loader harness) link: control-bit tests and
# state copies at every exit and entry, 8% of that harness's time in callbacks. The VM-entry
# checks and the instruction-exit decisions (MSR and I/O bitmaps, CR masks) keep theirs. So does
# fuzz_hv_transitions's decoder, which reads the input; its builders and kept-machine cache, which
# walk what the decoder made (2% of the harness's time in callbacks), do not.
FUZZ_NO_CMP_SRC  := sim/vcpu.c sim/vm.c sim/emit.c sim/oracle.c sim/script.c sim/vmx_hw.c \
		    sim/trace.c sim/vmx_nonroot.c sim/vmx_run.c models/vmx/vmx_exit.c \
		    models/vmx/vmx_exit_host.c models/vmx/vmx_exit_info.c \
		    models/vmx/vmx_entry_load.c models/vmx/vmx_event_inject.c \
		    models/vmx/vmx_nonroot.c models/vmx/vmx_nonroot_event.c \
		    fuzz/fz_hvt_build.c fuzz/fz_hvt_direct.c fuzz/fz_hvt_cache.c
FUZZ_NO_CMP      := -fno-sanitize-coverage=trace-cmp,indirect-calls
$(FUZZ_NO_CMP_SRC:%.c=$(BUILD)/%.o): CFLAGS += $(if $(findstring fuzzer-no-link,$(SAN)),$(FUZZ_NO_CMP))
ifneq ($(findstring fuzzer-no-link,$(SAN)),)
$(FUZZ_NO_CMP_SRC:%.c=$(BUILD)/%.o): fuzz/fuzz.mk # the list and the flags live here
endif

TEST_OBJ += $(FUZZ_LIB_OBJ)

.PHONY: fuzz fuzz-afl fuzz-fast fuzz-replay fuzz-smoke fuzz-bins fuzz-replay-bins fuzz-clean fuzz-gen

# The libFuzzer binary: libFuzzer supplies main(). seq_record.c wraps the harness's entry point
# (it records the inputs under HVSIM_FUZZ_SEQUENCE, fz_seq.h).
$(FUZZ_BINS): $(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/seq_record.o $(FUZZ_SHARED_OBJ) \
	      $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $(FUZZ_LDFLAGS) -fsanitize=fuzzer -Wl,--wrap=LLVMFuzzerTestOneInput \
	  -o $@ $^ $(LDLIBS)

# The plain replay binary: replay_main.c supplies main(); seq_replay.c its --sequence command.
$(FUZZ_REPLAY_BINS): $(BUILD)/fuzz/%-replay: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay_main.o \
		     $(BUILD)/fuzz/seq_replay.o $(FUZZ_SHARED_OBJ) $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The generator of seeds and dictionaries (fuzz/fzgen.c); `make fuzz-gen` rewrites the committed
# outputs (tests/test_fuzz_gen.c fails when they are stale).
FUZZ_GEN := $(BUILD)/fuzz/fzgen
FUZZ_GEN_DICTS := fuzz_lapic_ioapic fuzz_vmcs_entry fuzz_hv_transitions fuzz_pmu_msr \
		  fuzz_tdx_seamcall
$(FUZZ_GEN): $(BUILD)/fuzz/fzgen.o $(FUZZ_LIB_OBJ) $(LIB_A)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

fuzz-gen: deps
	@$(MAKE) --no-print-directory $(FUZZ_GEN)
	$(FUZZ_GEN) seeds fuzz/corpus
	@for t in $(FUZZ_GEN_DICTS); do $(FUZZ_GEN) dict $$t > fuzz/$$t.dict || exit 1; done

$(FUZZ_LIB_A): $(FUZZ_LIB_OBJ)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

fuzz-bins: $(FUZZ_BINS) $(FUZZ_REPLAY_BINS)
fuzz-replay-bins: $(FUZZ_REPLAY_BINS)

# The library is compiled with coverage instrumentation (fuzzer-no-link) into its own directory.
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang OPT="$(FUZZ_ASAN_OPT)" \
	  SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all $(FUZZ_COV_IGNORE)" \
	  fuzz-bins

fuzz-fast: deps
	@$(MAKE) --no-print-directory BUILD=build-fuzznosan CC=clang OPT=-O2 \
	  SAN="-fsanitize=fuzzer-no-link $(FUZZ_COV_IGNORE)" FUZZ_LDFLAGS="$(FUZZ_NOSAN_LDFLAGS)" \
	  fuzz-bins

fuzz-afl: deps
	@$(MAKE) --no-print-directory BUILD=build-afl CC=afl-clang-fast OPT="$(FUZZ_ASAN_OPT)" \
	  SAN="$(FUZZ_ASAN_SAN) $(FUZZ_COV_IGNORE)" fuzz-bins

# Same flags as `make asan`, so both share build-asan's objects.
fuzz-replay: deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="$(FUZZ_ASAN_OPT)" SAN="$(FUZZ_ASAN_SAN)" \
	  fuzz-replay-bins
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1 fuzz/replay.sh build-asan

fuzz-smoke: fuzz
	@$(MAKE) --no-print-directory build
	@for t in $(FUZZ_TARGETS); do \
	  $(HVSIM) fuzz $$t --time $(FUZZ_SMOKE_S) --jobs 1 || exit 1; done

fuzz-clean:
	rm -rf build-fuzz build-fuzznosan build-afl fuzz/out
clean: fuzz-clean

-include $(FUZZ_LIB_OBJ:.o=.d) $(BUILD)/fuzz/fuzz_common.d $(BUILD)/fuzz/replay_main.d \
	 $(BUILD)/fuzz/seq_record.d $(BUILD)/fuzz/seq_replay.d $(FUZZ_HARNESS_SRC:%.c=$(BUILD)/%.d) \
	 $(BUILD)/fuzz/fzgen.d
