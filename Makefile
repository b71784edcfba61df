# hvsim build. `make` builds the libraries and bin/hvsim; `make check` runs every test; `make run`
# replays the scenario library. Both install missing Debian packages first (scripts/deps.sh).
# Variables: CC (gcc or clang), BUILD (object directory), OPT (optimisation flags), PREFIX, DESTDIR.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2 -g
PREFIX  ?= /usr/local
DESTDIR ?=
SAN     ?=

PKGS     := unicorn libcjson
CPPFLAGS := -Iinclude -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
CFLAGS   := -std=c11 $(WARN) -Wmissing-prototypes -fPIC $(OPT) $(SAN) -MMD -MP
TCFLAGS  := -std=c11 $(WARN) $(OPT) $(SAN) -MMD -MP
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lunicorn -lcjson) -lZydis -lm
LDFLAGS  := $(SAN)

# Quiet build lines ("  CC  sim/vm.c"); V=1 shows the full commands.
Q        := $(if $(V),,@)
say       = $(if $(V),,@printf '  %-5s %s\n' $(1) $(2))

LIB_DIRS := sim models models/vmx models/tdx hv hv/kvm
LIB_SRC  := $(sort $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)

# ---- VMX CPU profiles embedded into the library (begin) ----
# profiles/*.json become string literals in a generated source (tools/embed.c, built first with
# the same compiler), so models never read files; tools/profile_tables.c, linked with the strict
# parser (models/vmx/vmx_profile.c), parses them once at build time into a const table of parsed
# capabilities that models/vmx/vmx_profile_table.c loads (a profile that does not parse fails the
# build). The generators are built without the build's sanitizer flags.
PROFILE_JSON := $(sort $(wildcard profiles/*.json))
PROFILE_GEN  := $(BUILD)/gen/vmx_profiles_data.c
PROFILE_OBJ  := $(BUILD)/gen/vmx_profiles_data.o
EMBED_TOOL   := $(BUILD)/tools/embed
PROFILE_CAPS_GEN := $(BUILD)/gen/vmx_profiles_caps.c
PROFILE_CAPS_OBJ := $(BUILD)/gen/vmx_profiles_caps.o
PROFILE_TOOL     := $(BUILD)/tools/profile_tables
PROFILE_TOOL_SRC := tools/profile_tables.c models/vmx/vmx_profile.c models/vmx/vmx_caps.c \
		    models/vmx/vmcs_fields.c sim/base.c
LIB_OBJ      += $(PROFILE_OBJ) $(PROFILE_CAPS_OBJ)
# (rules: see the second part of this block, after the object rules)
# ---- VMX CPU profiles embedded into the library (end) ----
CLI_SRC  := $(sort $(wildcard runner/*.c))
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(sort $(wildcard tests/*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
GUEST_SRC := $(sort $(wildcard scenarios/guest/*.S))
GUEST_BIN := $(GUEST_SRC:%.S=%.bin)

LIB_A   := $(BUILD)/libhvsim.a
LIB_SO  := $(BUILD)/libhvsim.so
HVSIM   := $(if $(filter build,$(BUILD)),bin/hvsim,$(BUILD)/bin/hvsim)
TESTS   := $(BUILD)/tests/unit
EXAMPLES := $(BUILD)/examples/libexample_hv.so $(BUILD)/examples/libexample_hv_badabi.so

# `make` alone builds the library and the CLI, whatever the included makefiles define first.
.DEFAULT_GOAL := all

# Fuzzing: harness builds, `make fuzz`, `fuzz-smoke`, `fuzz-replay` (part of check and asan).
include fuzz/fuzz.mk

.PHONY: all build tests deps check unit scenarios run asan bench install uninstall clean format format-check guests
# Public targets check the Debian packages first, then build in a sub-make so that a parallel build
# never compiles before the headers are installed.
all: deps
	@$(MAKE) --no-print-directory build

build: $(LIB_A) $(LIB_SO) $(HVSIM) guests
	@:

deps:
	@scripts/deps.sh

guests: $(GUEST_BIN)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(TCFLAGS) -c $< -o $@

# Objects built with a coverage ignore list (the fuzz builds) depend on it: an edit rebuilds them.
COV_IGNORE_DEP := $(if $(findstring coverage-ignorelist,$(SAN)),fuzz/coverage-ignore.txt)
$(BUILD)/%.o: %.c $(COV_IGNORE_DEP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# ---- VMX CPU profiles embedded into the library, rules (begin) ----
$(EMBED_TOOL): tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O2 -o $@ $<

$(PROFILE_GEN): $(EMBED_TOOL) $(PROFILE_JSON)
	@mkdir -p $(dir $@)
	$(EMBED_TOOL) $@ $(PROFILE_JSON)

$(PROFILE_OBJ): $(PROFILE_GEN)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(PROFILE_TOOL): $(PROFILE_TOOL_SRC) $(PROFILE_GEN) $(wildcard include/hvsim/*.h models/vmx/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=c11 $(WARN) -O2 -o $@ $(PROFILE_TOOL_SRC) $(PROFILE_GEN) -lcjson

$(PROFILE_CAPS_GEN): $(PROFILE_TOOL)
	$(PROFILE_TOOL) $@

$(PROFILE_CAPS_OBJ): $(PROFILE_CAPS_GEN)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
# ---- VMX CPU profiles embedded into the library, rules (end) ----

$(LIB_A): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(LIB_SO): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) -shared -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(HVSIM): $(CLI_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $(CLI_OBJ) -Wl,--whole-archive $(LIB_A) -Wl,--no-whole-archive $(LDLIBS) -ldl

# Guest programs: preprocessed assembly linked at their load address, then flattened. Always the
# GNU assembler (through gcc), whatever CC is: goldens record guest RIPs, so the bytes must not
# depend on the compiler building hvsim.
GUEST_CC := gcc
scenarios/guest/%.bin: scenarios/guest/%.S scenarios/guest/runtime.h scenarios/guest/guest.ld
	$(call say,AS,$<)
	$(Q)mkdir -p $(BUILD)
	$(Q)$(GUEST_CC) -c -nostdlib -ffreestanding -Iscenarios/guest -o $(BUILD)/guest-$*.o $<
	$(Q)ld -T scenarios/guest/guest.ld -o $(BUILD)/guest-$*.elf $(BUILD)/guest-$*.o
	$(Q)objcopy -O binary $(BUILD)/guest-$*.elf $@

$(TESTS): $(TEST_OBJ) $(LIB_A)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(LIB_A) -lcriterion $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB_A) $(LDLIBS)

# Unit tests, then the scenario/golden suite (which includes the determinism check).
check: deps
	@$(MAKE) --no-print-directory build tests
	@echo "== unit tests"
	@$(TESTS) --jobs 2 --short-filename
	@HVSIM=$(HVSIM) tests/scenarios.sh
	@echo "== malformed scenarios"
	@HVSIM=$(HVSIM) tests/malformed.sh
	@echo "== command line"
	@HVSIM=$(HVSIM) EXAMPLES=$(BUILD)/examples tests/cli.sh
	@tests/install.sh
	@echo "== fuzz reproducers and seed corpora"
	@fuzz/coverage-ignore-check.sh
	@$(MAKE) --no-print-directory fuzz-replay

tests: $(TESTS) $(EXAMPLES)
	@:

# The example plug-in algorithm, and a copy built with a wrong ABI version for the loader's test.
$(BUILD)/examples/libexample_hv.so: examples/example_hv.c $(wildcard include/hvsim/*.h)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -shared -o $@ $<
$(BUILD)/examples/libexample_hv_badabi.so: examples/example_hv.c $(wildcard include/hvsim/*.h)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DEXAMPLE_WRONG_ABI -shared -o $@ $<

unit: deps
	@$(MAKE) --no-print-directory build tests
	@$(TESTS) --jobs 2 --short-filename

scenarios: all
	HVSIM=$(HVSIM) tests/scenarios.sh

run: all
	@$(HVSIM) check --table scenarios

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer. Sanitizer reports go to files:
# Criterion runs each test in a forked child whose leak report would not fail the test, so any file
# left in the report directory fails the target.
ASAN_BUILD := build-asan
# Leaks inside third-party libraries that LeakSanitizer must not count (fuzz/lsan.supp).
LSAN_ENV := LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0

asan: deps
	rm -rf $(ASAN_BUILD)/reports && mkdir -p $(ASAN_BUILD)/reports
	$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" build tests
	ASAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/reports/asan:detect_leaks=1 $(LSAN_ENV) \
	UBSAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/reports/ubsan:print_stacktrace=1 \
	  $(ASAN_BUILD)/tests/unit --jobs 2 --short-filename
	ASAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/reports/asan:detect_leaks=1 $(LSAN_ENV) \
	UBSAN_OPTIONS=log_path=$(CURDIR)/$(ASAN_BUILD)/reports/ubsan:print_stacktrace=1 \
	  sh -c 'HVSIM=$(ASAN_BUILD)/bin/hvsim tests/scenarios.sh && HVSIM=$(ASAN_BUILD)/bin/hvsim tests/malformed.sh && HVSIM=$(ASAN_BUILD)/bin/hvsim EXAMPLES=$(ASAN_BUILD)/examples tests/cli.sh' 
	@$(MAKE) --no-print-directory fuzz-replay
	@if [ -n "$$(ls -A $(ASAN_BUILD)/reports)" ]; then \
	  echo "asan: sanitizer reports:"; cat $(ASAN_BUILD)/reports/*; exit 1; \
	else echo "asan: no sanitizer reports"; fi

bench: all
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/hvsim
	install -m 755 $(HVSIM) $(DESTDIR)$(PREFIX)/bin/hvsim
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/libhvsim.a
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/libhvsim.so
	install -m 644 include/hvsim/*.h $(DESTDIR)$(PREFIX)/include/hvsim/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/^#define HVSIM_VERSION "\(.*\)"/\1/p' include/hvsim/base.h)|g' \
	  hvsim.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/hvsim.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/hvsim $(DESTDIR)$(PREFIX)/lib/libhvsim.a \
	  $(DESTDIR)$(PREFIX)/lib/libhvsim.so $(DESTDIR)$(PREFIX)/lib/pkgconfig/hvsim.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/hvsim

clean:
	rm -rf build build-asan bin scenarios/guest/*.bin

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Fails when a source file differs from what clang-format makes of it (not part of check: the
# layout clang-format gives varies between its versions; the tree is formatted with version 14).
format-check:
	@command -v clang-format >/dev/null || { echo "format-check: clang-format is not installed (apt-get install clang-format)"; exit 2; }
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && echo "format-check: every .c and .h file is formatted"

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
