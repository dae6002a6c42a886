# GNU make. `make` builds the library and tools, `make test` builds and runs
# every test, then the aarch64 tests under qemu (`make test-aarch64`),
# `make demo` runs the quick-start demo. Set CXX to change compiler.

# Every core by default, unless the command line says otherwise (-jN) or a
# parent make already shares its job slots with this one.
ifeq (,$(filter -j%,$(MAKEFLAGS))$(findstring jobserver,$(MAKEFLAGS)))
  MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif

# `make` alone builds `all`, whatever rule comes first below.
.DEFAULT_GOAL := all

CXX      ?= g++
BUILD    ?= build
# The one place the version is set: the library (nystrom::version(),
# nystrom_version(), through a define), the tools' --version, the shared
# library's file name and nystrom.pc.
VERSION  ?= 0.1.0
SOVERSION := $(firstword $(subst ., ,$(VERSION)))
OPT      ?= -O2
CXXFLAGS ?=
LDFLAGS  ?=
ARCH     := $(shell $(CXX) -dumpmachine)

# Debug information: full by default; the builds that only run the tests
# take less (-g1, line tables, for the sanitizers' stack traces; none for the
# aarch64 build), which makes each of those compile about a third faster.
DEBUG    ?= -g
COMMON := -std=c++17 -Wall -Wextra $(OPT) $(DEBUG) -Iinclude -Isrc -pthread -MMD -MP $(CXXFLAGS)

# Each instruction set's kernels are compiled with their own flags and only
# called after the run-time CPU check picks them (src/kernels/dispatch.cpp).
ISA_DIRS_x86     := avx2 avx512
ISA_DIRS_aarch64 := neon neon_dot
ifneq (,$(findstring x86_64,$(ARCH)))
  ISA_DIRS := $(ISA_DIRS_x86)
else ifneq (,$(findstring aarch64,$(ARCH)))
  ISA_DIRS := $(ISA_DIRS_aarch64)
else
  ISA_DIRS :=
endif
ALL_ISA_DIRS := avx2 avx512 neon neon_dot

FLAGS_avx2   := -mavx2 -mfma -mf16c
FLAGS_avx512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mfma -mf16c
FLAGS_neon   :=
# The SDOT micro-kernels carry their own target attribute (armv8.2-a+dotprod),
# so no code of the folder's headers can pick up the dot product.
FLAGS_neon_dot :=

LIB_SRC := $(filter-out $(foreach d,$(ALL_ISA_DIRS),src/kernels/$(d)/%), $(shell find src -name '*.cpp' | sort)) \
           $(foreach d,$(ISA_DIRS),$(sort $(wildcard src/kernels/$(d)/*.cpp)))
LIB_OBJ := $(LIB_SRC:%.cpp=$(BUILD)/obj/%.o)
LIB     := $(BUILD)/libnystrom.a
SO_REAL := libnystrom.so.$(VERSION)
SO_NAME := libnystrom.so.$(SOVERSION)
SHLIB   := $(BUILD)/$(SO_REAL)

# The library's objects serve both libraries: position-independent (needed
# by the shared one; no measurable cost in the static one, see README
# "Install") and with only the public API visible (NYSTROM_API in the
# headers; src/libnystrom.map then keeps the shared library's table to the
# nystrom names).
LIB_FLAGS := -fPIC -fvisibility=hidden -fvisibility-inlines-hidden
$(LIB_OBJ): EXTRA_FLAGS := $(LIB_FLAGS)
# Objects built with other flags (an older build folder, another OPT) are
# rebuilt: the flags are a prerequisite, through a file rewritten only when
# they change.
$(BUILD)/flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(filter-out ccache,$(CXX)) $(COMMON) $(LIB_FLAGS)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@
$(LIB_OBJ): $(BUILD)/flags

# tests/<layer>/test_*.cpp, one folder per layer of src/ (and tools/cli).
# A build whose runs choose suites by source file (the aarch64 and sanitized
# ones) compiles only those files: TEST_ONLY and TEST_OMIT take doctest's
# file filters (-sf, -sfe) as they are; empty TEST_ONLY keeps every file.
TEST_ONLY ?=
TEST_OMIT ?=
comma := ,
# doctest's file filters ("*tests/kernels/*,*tests/cli/x.cpp") as make
# patterns ("tests/kernels/% tests/cli/x.cpp").
sf_patterns = $(patsubst %*,%%,$(patsubst *%,%,$(subst $(comma), ,$(1))))
TEST_ALL := $(sort $(wildcard tests/*/test_*.cpp))
TEST_SRC := tests/test_main.cpp $(filter-out $(call sf_patterns,$(TEST_OMIT)),\
              $(if $(TEST_ONLY),$(filter $(call sf_patterns,$(TEST_ONLY)),$(TEST_ALL)),$(TEST_ALL)))
TEST_OBJ := $(TEST_SRC:%.cpp=$(BUILD)/obj/%.o)
TEST_BIN := $(BUILD)/nystrom-tests
# The binary is relinked when the choice of files changes.
$(BUILD)/test-files: FORCE
	@mkdir -p $(dir $@)
	@echo '$(TEST_SRC)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

# The bench is built with the others: tests/cli checks its command line.
TOOLS := $(BUILD)/nystrom-convert $(BUILD)/nystrom $(BUILD)/nystrom-bench

# SHARED=0 leaves the shared library out (the static aarch64 test build).
SHARED ?= 1
.PHONY: all bench deps test test-native test-aarch64 build-aarch64 demo clean check-layers FORCE
all: $(LIB) $(if $(filter 1,$(SHARED)),$(SHLIB)) $(TOOLS)

# version.o gets the version as a define; the stamp file, rewritten only
# when the version changes, rebuilds it (and only it) then.
$(BUILD)/version: FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@
$(BUILD)/obj/src/runtime/version.o: $(BUILD)/version
$(BUILD)/obj/src/runtime/version.o: EXTRA_FLAGS := $(LIB_FLAGS) -DNYSTROM_VERSION='"$(VERSION)"'

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(COMMON) $(ISA_FLAGS) $(EXTRA_FLAGS) -c $< -o $@

$(foreach d,$(ALL_ISA_DIRS),$(eval $(BUILD)/obj/src/kernels/$(d)/%.o: ISA_FLAGS := $(FLAGS_$(d))))
# Tests (and the fuzz targets and seed maker) include their shared support
# headers (tests/support.h, ...) by name. Their objects take line tables
# only (-g1, the last -g option wins) where the rest has full debug
# information: a test's failure names its line, and the 64 test files
# compile about a third faster.
TEST_DEBUG ?= $(if $(filter -g,$(DEBUG)),-g1)
# Likewise the test objects' optimization (TEST_OPT, after OPT: the last -O
# option wins): what the suite checks is the library and the tools, which
# keep OPT, while the test files are mostly assertion code (doctest's
# expression templates), and their compile is most of each build's time.
# -O1 where OPT is -O2 or -O3 (measured, CPU time a test file: -O2 5-10 s,
# -O1 4-5 s); the sanitized builds take -O0 (SAN_TEST_OPT below: with g++
# and ASan 16-20 s at -O1, 7-9 s at -O0; clang with TSan 8-10 s and 3-4 s).
TEST_OPT ?= $(if $(filter -O2 -O3,$(OPT)),-O1)
$(BUILD)/obj/tests/%.o: EXTRA_FLAGS := -Itests $(TEST_DEBUG) $(TEST_OPT)

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# libnystrom.so.X.Y.Z with SONAME libnystrom.so.X, and the two links to it
# that the loader and the linker look for. -Bsymbolic-functions: the
# library's own calls to its exported functions go direct, not through the
# PLT (hidden ones always do).
$(SHLIB): $(LIB_OBJ) src/libnystrom.map
	$(CXX) -shared -pthread -Wl,-soname,$(SO_NAME) -Wl,--version-script=src/libnystrom.map -Wl,--no-undefined \
	  -Wl,-Bsymbolic-functions \
	  $(LIB_OBJ) -o $@ $(LDFLAGS)
	ln -sf $(SO_REAL) $(BUILD)/$(SO_NAME)
	ln -sf $(SO_NAME) $(BUILD)/libnystrom.so

# A tool is every .cpp of its folder under tools/, linked with the library.
tool_obj = $(patsubst %.cpp,$(BUILD)/obj/%.o,$(sort $(wildcard tools/$(1)/*.cpp)))

$(BUILD)/nystrom-convert: $(call tool_obj,convert) $(LIB)
	$(CXX) $(COMMON) $^ -o $@ $(LDFLAGS)

$(BUILD)/nystrom: $(call tool_obj,cli) $(LIB)
	$(CXX) $(COMMON) $^ -o $@ $(LDFLAGS)

bench: $(BUILD)/nystrom-bench

$(BUILD)/nystrom-bench: $(call tool_obj,bench) $(LIB)
	$(CXX) $(COMMON) $^ -o $@ $(LDFLAGS)

$(TEST_BIN): $(TEST_OBJ) $(LIB) $(BUILD)/test-files
	$(CXX) $(COMMON) $(TEST_OBJ) $(LIB) -o $@ $(LDFLAGS)

# A build of another folder under $(BUILD) (aarch64, asan, tsan, fuzz) holds
# a lock for its time: .ci/run starts those builds early, in the background,
# and a make that reaches one still running waits for it, then finds it done.
locked = mkdir -p $(BUILD) && flock $(BUILD)/.$(1).lock

# Every package the tests need, installed in one step before anything builds
# (each test target's only prerequisite, so nothing runs beside it; the
# builds and runs follow in sub-makes).
DEPS_GROUPS := native install $(if $(findstring aarch64,$(ARCH)),,aarch64)
deps:
	@bash tests/ensure_deps.sh $(DEPS_GROUPS)

# Under .ci/run (CI_T0 set: its start, in seconds since the epoch), each
# step prints an elapsed-time marker as .ci/run's own stages do.
ci_stage = @if [ -n "$${CI_T0:-}" ]; then echo "== ci: $(1) at $$(($$(date +%s) - CI_T0)) s"; fi

test: deps
	$(call ci_stage,test-native)
	$(MAKE) test-native
	$(call ci_stage,test-install)
	$(MAKE) test-install
	$(call ci_stage,test-aarch64)
	$(MAKE) test-aarch64
	$(call ci_stage,test-aarch64 done)

# The Python module's test (tests/python/) runs with Debian's python3 over
# this build's shared library and tools.
PYTHON ?= /usr/bin/python3
test-native: check-layers all $(BUILD)/nystrom-bench $(TEST_BIN)
	NYSTROM_BUILD=$(BUILD) $(TEST_BIN)
	NYSTROM_BUILD=$(BUILD) $(PYTHON) tests/python/test_nystrom.py

# Which folder may include which (tests/check_layers.sh): the tools use only
# include/nystrom/*.h, src/format/ nothing of text/, and so on.
check-layers:
	@bash tests/check_layers.sh

# The NEON kernels, run for real on an x86 host: the library, tools and tests
# cross-built for aarch64 (static, so qemu-user needs no aarch64 libraries)
# into $(BUILD)/aarch64 and run under qemu-aarch64, tools included (tests/
# support.h puts NYSTROM_TOOL_PREFIX before each). Whole test folders are
# chosen (doctest's source-file filter): every kernel, the threads, the model
# end to end with the reference cases, the tokenizers and the text commands
# (char is unsigned there). The readers of outside data (format/, convert/)
# and the C API do not depend on the instruction set and run natively only.
# qemu's default CPU has the dot product, so the kernel folder runs again on
# a Cortex-A53, which lacks it.
AARCH64_CXX   := aarch64-linux-gnu-g++
AARCH64_QEMU  := qemu-aarch64
AARCH64_SUITES := *tests/kernels/*,*tests/runtime/*,*tests/model/*,*tests/text/*,*tests/cli/*
# Classifying the 2000 held-out ListOps expressions takes minutes under
# emulation and adds nothing the reference cases do not already run on NEON;
# nor does timing base-size forwards for the scaling chart or the bench's
# --json report, whose fields do not depend on the instruction set, nor
# compare-attention's check on a long ListOps expression (its figures
# against run's, 1.5 minutes emulated).
AARCH64_EXCLUDE := *tests/cli/test_listops.cpp,*tests/cli/test_bench_scaling.cpp,*tests/cli/test_bench_json.cpp
AARCH64_EXCLUDE_CASES := compare-attention: a long ListOps expression*
# The Cortex-A53 run is there for what the dot product's absence changes:
# the choice of level and every neon-level kernel running on a CPU that
# would fault on an SDOT. The default CPU already ran the neon level through
# every kernel test (the tests take each level the CPU supports), so the two
# large f32 GEMM cases, minutes under emulation, are not run twice.
# Inside the suites, a few cases run less under an emulator
# (test::under_emulator(), NYSTROM_TOOL_PREFIX set): the f32 gemm_blocked
# cases and the model's determinism case leave out the scalar level
# (portable C++, run in full natively and sanitized) and determinism
# neon_dot's f32 twin of neon; the quantized models' cosine case takes 3
# ListOps expressions (natively 50). Each says why in its comment.
AARCH64_NODOT_SUITES := *tests/kernels/*
AARCH64_NODOT_EXCLUDE_CASES := gemm kernels: gemm_blocked matches ref::gemm across*,gemm kernels: gemm_blocked gives bit-identical*
ifneq (,$(findstring aarch64,$(ARCH)))
build-aarch64:
test-aarch64:
	@echo "test-aarch64: $(CXX) targets aarch64 already, so make test ran the NEON kernels natively"
else
# The build alone is a target too: .ci/run starts it early.
build-aarch64: deps
	$(call locked,aarch64) $(MAKE) CXX=$(AARCH64_CXX) BUILD=$(BUILD)/aarch64 LDFLAGS=-static SHARED=0 DEBUG=-g0 \
	  TEST_ONLY='$(AARCH64_SUITES)' TEST_OMIT='$(AARCH64_EXCLUDE)' all $(BUILD)/aarch64/nystrom-tests
test-aarch64: build-aarch64
	$(MAKE) --output-sync=target aarch64-run-default aarch64-run-a53
endif

# The two emulated runs, side by side: qemu-user emulates each guest thread
# on one host thread and most tests run on one, so on a 2-core machine the
# Cortex-A53 run costs almost no wall time beside the longer default one.
# (--output-sync keeps each run's output together.)
.PHONY: aarch64-run-default aarch64-run-a53
aarch64-run-default:
	NYSTROM_BUILD=$(BUILD)/aarch64 NYSTROM_TOOL_PREFIX=$(AARCH64_QEMU) \
	  $(AARCH64_QEMU) $(BUILD)/aarch64/nystrom-tests -sf='$(AARCH64_SUITES)' -sfe='$(AARCH64_EXCLUDE)' \
	  -tce='$(AARCH64_EXCLUDE_CASES)'
	$(call ci_stage,aarch64-run-default done)
aarch64-run-a53:
	QEMU_CPU=cortex-a53 NYSTROM_BUILD=$(BUILD)/aarch64 NYSTROM_TOOL_PREFIX=$(AARCH64_QEMU) \
	  $(AARCH64_QEMU) $(BUILD)/aarch64/nystrom-tests -sf='$(AARCH64_NODOT_SUITES)' \
	  -tce='$(AARCH64_NODOT_EXCLUDE_CASES)'
	$(call ci_stage,aarch64-run-a53 done)

demo: all
	bash tools/demo.sh

clean:
	rm -rf $(BUILD)

# Only this build's dependency files (the sanitizer and fuzz builds nest
# under $(BUILD) with their own).
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ----------------------------------------------------- sanitizers and fuzzing
# `make test-asan`: library, tools and the whole suite built with ASan+UBSan
# into $(BUILD)/asan; the CLI tests run the sanitized tools (NYSTROM_BUILD).
# `make test-tsan`: the same with ThreadSanitizer (clang++) into
# $(BUILD)/tsan. `make fuzz`: the libFuzzer targets of tests/fuzz/ (one per
# reader of outside data) built with clang++ and ASan+UBSan into
# $(BUILD)/fuzz, each run for FUZZ_SECONDS (tests/fuzz/run.sh). Sanitizer
# reports go to files under <build dir>/reports, so that one from a tool a
# test runs is not lost in its captured stderr; any report fails the target.
ASAN_CXX     ?= $(CXX)
TSAN_CXX     ?= clang++
FUZZ_CXX     ?= clang++
SAN_OPT      ?= -O1
SAN_TEST_OPT ?= -O0
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := json hf_config safetensors npy model_file zip pickle torch_bin tokenizer_json spiece_model vocab_files
ASAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN_FLAGS   := -fsanitize=thread -fno-omit-frame-pointer
ASAN_RUN_OPTIONS := abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1
UBSAN_RUN_OPTIONS := abort_on_error=1:halt_on_error=1:print_stacktrace=1
TSAN_RUN_OPTIONS := halt_on_error=1:abort_on_error=1:second_deadlock_stack=1

# What the sanitized suites run. The sanitizers look for memory and thread
# errors along code paths, which the suite's small cases already walk; the
# ListOps figures (4000 classifications of up to 2000 tokens through the
# tools, minutes natively and tens of minutes sanitized) and the bench's
# timed base-size forwards (scaling chart, --json report) add accuracy and
# timing checks only, so those run natively alone. TSan runs the suites whose code runs threads
# (the pool, kernels, model, sessions, C API, converter and the tools); the
# tokenizers, the file-format readers and the fuzz regressions run on one
# thread and are covered by ASan and the fuzzers.
# Likewise inside the suites (test::under_sanitizer()): the quantized
# models' cosine case on the trained ListOps checkpoint takes 3 expressions
# (natively 50), the same code paths.
SAN_EXCLUDE := *tests/cli/test_listops.cpp,*tests/cli/test_bench_scaling.cpp,*tests/cli/test_bench_json.cpp
TSAN_SUITES := *tests/kernels/*,*tests/runtime/*,*tests/model/*,*tests/api/*,*tests/convert/*,*tests/cli/*

# Runs a test binary ($1) in build dir $2, then fails on any sanitizer report.
define run_sanitized
	@rm -rf $(2)/reports && mkdir -p $(2)/reports
	ASAN_OPTIONS=$(ASAN_RUN_OPTIONS):log_path=$(abspath $(2))/reports/asan \
	UBSAN_OPTIONS=$(UBSAN_RUN_OPTIONS):log_path=$(abspath $(2))/reports/ubsan \
	TSAN_OPTIONS=$(TSAN_RUN_OPTIONS):log_path=$(abspath $(2))/reports/tsan \
	NYSTROM_BUILD=$(2) $(1); rc=$$?; \
	if [ -n "$$(ls -A $(2)/reports)" ]; then \
	  for f in $(2)/reports/*; do echo "== sanitizer report $$f"; cat "$$f"; done; exit 1; fi; \
	exit $$rc
endef

# Each build alone is a target too (build-asan, build-tsan, build-fuzz): .ci/run
# starts them early, beside the test runs.
.PHONY: test-asan test-tsan fuzz fuzz-targets clang-deps build-asan build-tsan build-fuzz
clang-deps:
	@bash tests/ensure_deps.sh native clang

build-asan: deps
	$(call locked,asan) $(MAKE) CXX=$(ASAN_CXX) BUILD=$(BUILD)/asan OPT=$(SAN_OPT) TEST_OPT=$(SAN_TEST_OPT) DEBUG=-g1 CXXFLAGS='$(CXXFLAGS) $(ASAN_FLAGS)' SHARED=0 \
	  TEST_OMIT='$(SAN_EXCLUDE)' all $(BUILD)/asan/nystrom-tests
test-asan: build-asan
	$(call run_sanitized,$(BUILD)/asan/nystrom-tests -sfe='$(SAN_EXCLUDE)',$(BUILD)/asan)

build-tsan: clang-deps
	$(call locked,tsan) $(MAKE) CXX=$(TSAN_CXX) BUILD=$(BUILD)/tsan OPT=$(SAN_OPT) TEST_OPT=$(SAN_TEST_OPT) DEBUG=-g1 CXXFLAGS='$(CXXFLAGS) $(TSAN_FLAGS)' SHARED=0 \
	  TEST_ONLY='$(TSAN_SUITES)' TEST_OMIT='$(SAN_EXCLUDE)' all $(BUILD)/tsan/nystrom-tests
test-tsan: build-tsan
	$(call run_sanitized,$(BUILD)/tsan/nystrom-tests -sf='$(TSAN_SUITES)' -sfe='$(SAN_EXCLUDE)',$(BUILD)/tsan)

build-fuzz: clang-deps
	$(call locked,fuzz) $(MAKE) CXX=$(FUZZ_CXX) BUILD=$(BUILD)/fuzz OPT=$(SAN_OPT) DEBUG=-g1 \
	  CXXFLAGS='$(CXXFLAGS) $(ASAN_FLAGS) -fsanitize=fuzzer-no-link' fuzz-targets
fuzz: build-fuzz
	bash tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Run inside the sub-make above, where $(BUILD) is the fuzz build dir.
fuzz-targets: $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%) $(BUILD)/make_seeds
.SECONDARY: $(FUZZ_TARGETS:%=$(BUILD)/obj/tests/fuzz/fuzz_%.o)

$(BUILD)/fuzz_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(LIB)
	$(CXX) $(COMMON) -fsanitize=fuzzer $^ -o $@ $(LDFLAGS)

$(BUILD)/make_seeds: $(BUILD)/obj/tests/fuzz/make_seeds.o $(LIB)
	$(CXX) $(COMMON) $^ -o $@ $(LDFLAGS)

# ------------------------------------------------------------ installation
# `make install [PREFIX=/usr/local] [DESTDIR=]`: libnystrom.a, the shared
# library, the public headers, nystrom.pc and nystrom-cxx.pc, the tools and
# the Python module (into PYTHONDIR), each file listed in
# PREFIX/share/nystrom/install-manifest; `make uninstall` removes what that
# list names and the folders install made (tools/install.sh). `make
# test-install` installs into a scratch prefix, builds tools/examples/
# against both libraries with nothing but cc, c++ and pkg-config, and
# uninstalls.
PREFIX    ?= /usr/local
PYTHONDIR ?= $(PREFIX)/lib/python3/dist-packages

INSTALL_TOOLS := $(TOOLS) $(BUILD)/nystrom-bench

.PHONY: install uninstall test-install version
version:
	@echo $(VERSION)

install: $(LIB) $(SHLIB) $(INSTALL_TOOLS)
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' PYTHONDIR='$(PYTHONDIR)' VERSION='$(VERSION)' \
	  SO_REAL='$(SO_REAL)' SO_NAME='$(SO_NAME)' BUILD='$(BUILD)' bash tools/install.sh install

uninstall:
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' bash tools/install.sh uninstall

test-install: deps
	$(MAKE) all bench
	NYSTROM_BUILD=$(BUILD) MAKE='$(MAKE)' bash tests/install_test.sh
