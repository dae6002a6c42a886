# GNU make. `make` builds the library and tools, `make test` builds and runs
# every test, `make demo` runs the quick-start demo. Set CXX to change compiler.

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

.PHONY: all bench test check-test-deps demo clean
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

test: all $(TEST_BIN)
	$(TEST_BIN)

demo: all
	bash tools/demo.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
