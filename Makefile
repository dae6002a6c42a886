# GNU make. `make` builds the library and tools, `make test` builds and runs
# every test, then the aarch64 tests under qemu (`make test-aarch64`),
# `make demo` runs the quick-start demo. Set CXX to change compiler.

CXX      ?= g++
BUILD    ?= build
OPT      ?= -O2
CXXFLAGS ?=
LDFLAGS  ?=
ARCH     := $(shell $(CXX) -dumpmachine)

COMMON := -std=c++17 -Wall -Wextra $(OPT) -g -Iinclude -Isrc -pthread -MMD -MP $(CXXFLAGS)

# Each instruction set's kernels are compiled with their own flags and only
# called after the run-time CPU check picks them (src/kernels/dispatch.cpp).
ISA_DIRS_x86     := avx2 avx512
ISA_DIRS_aarch64 := neon
ifneq (,$(findstring x86_64,$(ARCH)))
  ISA_DIRS := $(ISA_DIRS_x86)
else ifneq (,$(findstring aarch64,$(ARCH)))
  ISA_DIRS := $(ISA_DIRS_aarch64)
else
  ISA_DIRS :=
endif
ALL_ISA_DIRS := avx2 avx512 neon

FLAGS_avx2   := -mavx2 -mfma -mf16c
FLAGS_avx512 := -mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c
FLAGS_neon   :=

LIB_SRC := $(filter-out $(foreach d,$(ALL_ISA_DIRS),src/kernels/$(d)/%), $(shell find src -name '*.cpp' | sort)) \
           $(foreach d,$(ISA_DIRS),$(sort $(wildcard src/kernels/$(d)/*.cpp)))
LIB_OBJ := $(LIB_SRC:%.cpp=$(BUILD)/obj/%.o)
LIB     := $(BUILD)/libnystrom.a

TEST_SRC := $(sort $(wildcard tests/*.cpp))
TEST_OBJ := $(TEST_SRC:%.cpp=$(BUILD)/obj/%.o)
TEST_BIN := $(BUILD)/nystrom-tests

TOOLS := $(BUILD)/nystrom-convert $(BUILD)/nystrom

.PHONY: all bench test test-aarch64 check-test-deps check-aarch64-deps demo clean
all: $(LIB) $(TOOLS)

$(BUILD)/obj/%.o: %.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(COMMON) $(ISA_FLAGS) -c $< -o $@

$(foreach d,$(ALL_ISA_DIRS),$(eval $(BUILD)/obj/src/kernels/$(d)/%.o: ISA_FLAGS := $(FLAGS_$(d))))

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/nystrom-convert: $(BUILD)/obj/tools/convert/main.o $(LIB)
	$(CXX) $(COMMON) $^ -o $@ $(LDFLAGS)

$(BUILD)/nystrom: $(BUILD)/obj/tools/cli/main.o $(LIB)
	$(CXX) $(COMMON) $^ -o $@ $(LDFLAGS)

bench: $(BUILD)/nystrom-bench

$(BUILD)/nystrom-bench: $(BUILD)/obj/tools/bench/main.o $(LIB)
	$(CXX) $(COMMON) $^ -o $@ $(LDFLAGS)

$(TEST_BIN): $(TEST_OBJ) $(LIB)
	$(CXX) $(COMMON) $^ -o $@ $(LDFLAGS)

$(TEST_OBJ): | check-test-deps

check-test-deps:
	@bash tests/ensure_deps.sh

test: check-aarch64-deps all $(TEST_BIN)
	NYSTROM_BUILD=$(BUILD) $(TEST_BIN)
	$(MAKE) test-aarch64

# The NEON kernels, run for real on an x86 host: the library, tools and tests
# cross-built for aarch64 (static, so qemu-user needs no aarch64 libraries)
# into $(BUILD)/aarch64 and run under qemu-aarch64, tools included (tests/
# support.h puts NYSTROM_TOOL_PREFIX before each). The tests chosen reach
# every NEON kernel and the end-to-end reference cases, in about a minute.
AARCH64_CXX   := aarch64-linux-gnu-g++
AARCH64_QEMU  := qemu-aarch64
AARCH64_TESTS := *kernel*,*reference*,dispatch:*,cpu features:*,determinism:*,isa caps:*
ifneq (,$(findstring aarch64,$(ARCH)))
check-aarch64-deps:
test-aarch64:
	@echo "test-aarch64: $(CXX) targets aarch64 already, so make test ran the NEON kernels natively"
else
check-aarch64-deps:
	@bash tests/ensure_deps.sh aarch64

test-aarch64: check-aarch64-deps
	$(MAKE) CXX=$(AARCH64_CXX) BUILD=$(BUILD)/aarch64 LDFLAGS=-static all $(BUILD)/aarch64/nystrom-tests
	NYSTROM_BUILD=$(BUILD)/aarch64 NYSTROM_TOOL_PREFIX=$(AARCH64_QEMU) \
	  $(AARCH64_QEMU) $(BUILD)/aarch64/nystrom-tests -tc='$(AARCH64_TESTS)'
endif

demo: all
	bash tools/demo.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
