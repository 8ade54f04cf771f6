# Test programs, fixtures and test runners; included by the top-level Makefile.
PROG_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls
PROGS_C := $(filter-out tests/progs/leaky.c tests/progs/nofp.c,$(wildcard tests/progs/*.c))
PROGS_CXX := $(wildcard tests/progs/*.cpp)
PROG_BINS := $(patsubst tests/progs/%.c,$(OUT)/progs/%,$(PROGS_C)) \
	     $(patsubst tests/progs/%.cpp,$(OUT)/progs/%,$(PROGS_CXX)) \
	     $(OUT)/progs/leaky $(OUT)/progs/libleakylib.so \
	     $(OUT)/progs/leaky_jemalloc $(OUT)/progs/leaky_tcmalloc $(OUT)/progs/leaky_static \
	     $(OUT)/progs/leaky_musl $(OUT)/progs/leaky_nopie $(OUT)/progs/leaky_dynsym \
	     $(OUT)/progs/leaky_debuglink \
	     $(OUT)/progs/goleak $(OUT)/progs/goleak_stripped $(OUT)/progs/goheap \
	     $(OUT)/progs/gofds \
	     $(OUT)/progs/goheap_stripped $(OUT)/progs/goheap_pie $(OUT)/progs/goleak.test \
	     $(OUT)/progs/goleak_stripped.test \
	     $(OUT)/progs/nofp \
	     $(OUT)/progs/leak_cases_jemalloc $(OUT)/progs/leak_cases_tcmalloc \
	     $(OUT)/progs/leak_cases_musl $(OUT)/progs/leak_cases_cxx_cow

$(OUT)/progs:
	mkdir -p $@

$(OUT)/progs/libleakylib.so: tests/progs/lib/leakylib.c | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) -shared -fPIC $< -o $@

$(OUT)/progs/leaky: tests/progs/leaky.c $(OUT)/progs/libleakylib.so | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) $< -o $@ -L$(OUT)/progs -lleakylib -Wl,-rpath,'$$ORIGIN' -lpthread

# The same leaks under other allocators, and in a static executable.
LEAKY_ALL := tests/progs/leaky.c tests/progs/lib/leakylib.c
$(OUT)/progs/leaky_jemalloc: $(LEAKY_ALL) | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) $(LEAKY_ALL) -o $@ -ljemalloc -lpthread

$(OUT)/progs/leaky_tcmalloc: $(LEAKY_ALL) | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) $(LEAKY_ALL) -o $@ -ltcmalloc -lpthread

$(OUT)/progs/leaky_static: $(LEAKY_ALL) | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) -static $(LEAKY_ALL) -o $@ -lpthread

# The leak check's categories under the other allocators.
$(OUT)/progs/leak_cases_jemalloc: tests/progs/leak_cases.c | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) $< -o $@ -ljemalloc -lpthread

$(OUT)/progs/leak_cases_tcmalloc: tests/progs/leak_cases.c | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) $< -o $@ -ltcmalloc -lpthread

$(OUT)/progs/leak_cases_musl: tests/progs/leak_cases.c | $(OUT)/progs
	musl-gcc $(PROG_CFLAGS) $< -o $@ -lpthread

# C++'s strings of the ABI before C++11 (reference-counted, pointed to 24 bytes in).
$(OUT)/progs/leak_cases_cxx_cow: tests/progs/leak_cases_cxx.cpp | $(OUT)/progs
	$(CXX) $(PROG_CFLAGS) -D_GLIBCXX_USE_CXX11_ABI=0 $< -o $@ -lpthread

# Non-PIE; stripped with its functions exported (.dynsym only); stripped with
# its debug info in a separate file found through .gnu_debuglink.
$(OUT)/progs/leaky_nopie: tests/progs/leaky.c $(OUT)/progs/libleakylib.so | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) -fno-pie -no-pie $< -o $@ -L$(OUT)/progs -lleakylib \
		-Wl,-rpath,'$$ORIGIN' -lpthread

$(OUT)/progs/leaky_dynsym: tests/progs/leaky.c $(OUT)/progs/libleakylib.so | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) -rdynamic $< -o $@ -L$(OUT)/progs -lleakylib \
		-Wl,-rpath,'$$ORIGIN' -lpthread
	strip --strip-all $@

$(OUT)/progs/leaky_debuglink $(OUT)/progs/.debug/leaky_debuglink.debug &: $(OUT)/progs/leaky
	mkdir -p $(OUT)/progs/.debug
	objcopy --only-keep-debug $< $(OUT)/progs/.debug/leaky_debuglink.debug
	objcopy --strip-all --add-gnu-debuglink=$(OUT)/progs/.debug/leaky_debuglink.debug \
		$< $(OUT)/progs/leaky_debuglink

# musl (Debian's musl-tools): its loader is its libc.so, with malloc in it.
$(OUT)/progs/leaky_musl: $(LEAKY_ALL) | $(OUT)/progs
	musl-gcc $(PROG_CFLAGS) $(LEAKY_ALL) -o $@ -lpthread

# Built as distributions build libraries: no frame pointers (--unwind dwarf tests).
$(OUT)/progs/nofp: tests/progs/nofp.c $(OUT)/progs/libleakylib.so | $(OUT)/progs
	$(CC) -O2 -g -fomit-frame-pointer $< -o $@ -lpthread

# A Go program (GOPATH mode: no module, no network).
$(OUT)/progs/goleak: tests/progs/goleak/main.go | $(OUT)/progs
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go build -o $@ $<

$(OUT)/progs/gofds: tests/progs/gofds/main.go | $(OUT)/progs
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go build -o $@ $<

$(OUT)/progs/goheap: tests/progs/goheap/main.go | $(OUT)/progs
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go build -o $@ $<

# Position-independent and stripped: its .gopclntab lies in .data.rel.ro, its text
# start left for a relocation to fill in.
$(OUT)/progs/goheap_pie: tests/progs/goheap/main.go | $(OUT)/progs
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go build -buildmode=pie \
		-ldflags="-s -w" -o $@ $<

# A Go test binary (go test -c) whose tests leave goroutines running.
$(OUT)/progs/goleak.test: tests/progs/goleaktest/leak_test.go | $(OUT)/progs
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go test -c -o $@ ./tests/progs/goleaktest

$(OUT)/progs/goleak_stripped.test: tests/progs/goleaktest/leak_test.go | $(OUT)/progs
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go test -c -ldflags="-s -w" -o $@ \
		./tests/progs/goleaktest

# The same programs as production ships Go: no .symtab, no DWARF.
$(OUT)/progs/%_stripped: tests/progs/%/main.go | $(OUT)/progs
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go build -ldflags="-s -w" -o $@ $<

$(OUT)/progs/%: tests/progs/%.c | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) $< -o $@ -lpthread

$(OUT)/progs/%: tests/progs/%.cpp | $(OUT)/progs
	$(CXX) $(PROG_CFLAGS) $< -o $@ -lpthread

progs: $(PROG_BINS)

# Symbolizer fixtures: PIE, non-PIE, shared library, stripped + separate debug, C++.
FIX := $(OUT)/fixtures
FIX_SRC := tests/unit/fixtures
FIXTURES := $(FIX)/fixture_pie $(FIX)/fixture_nopie $(FIX)/fixture_stripped \
	    $(FIX)/.debug/fixture_stripped.debug $(FIX)/fixture_cxx $(FIX)/libfixture.so \
	    $(FIX)/libcfi_fixture.so $(FIX)/libcfi_noindex.so $(FIX)/go_fixture \
	    $(FIX)/go_fixture_stripped

$(FIX) $(FIX)/.debug:
	mkdir -p $@

$(FIX)/libfixture.so: $(FIX_SRC)/fixture_lib.c | $(FIX)
	$(CC) -g -O1 -shared -fPIC $< -o $@

$(FIX)/fixture_pie: $(FIX_SRC)/fixture.c $(FIX)/libfixture.so
	$(CC) -g -O1 -fPIE -pie $< -o $@ -L$(FIX) -lfixture -Wl,-rpath,'$$ORIGIN'

$(FIX)/fixture_nopie: $(FIX_SRC)/fixture.c $(FIX)/libfixture.so
	$(CC) -g -O1 -fno-pie -no-pie $< -o $@ -L$(FIX) -lfixture -Wl,-rpath,'$$ORIGIN'

# Debug info moved out to .debug/, found through .gnu_debuglink.
$(FIX)/fixture_stripped $(FIX)/.debug/fixture_stripped.debug &: $(FIX_SRC)/fixture.c $(FIX)/libfixture.so | $(FIX)/.debug
	$(CC) -g -O1 $< -o $(FIX)/fixture_stripped.full -L$(FIX) -lfixture -Wl,-rpath,'$$ORIGIN'
	objcopy --only-keep-debug $(FIX)/fixture_stripped.full $(FIX)/.debug/fixture_stripped.debug
	objcopy --strip-all --add-gnu-debuglink=$(FIX)/.debug/fixture_stripped.debug \
		$(FIX)/fixture_stripped.full $(FIX)/fixture_stripped
	rm -f $(FIX)/fixture_stripped.full

# Hand-written call frame information with a known truth (test_unwind_table.c).
$(FIX)/libcfi_fixture.so: $(FIX_SRC)/cfi_fixture.S | $(FIX)
	$(CC) -shared -nostdlib -Wl,--eh-frame-hdr $< -o $@

$(FIX)/libcfi_noindex.so: $(FIX_SRC)/cfi_fixture.S | $(FIX)
	$(CC) -shared -nostdlib -Wl,--no-eh-frame-hdr $< -o $@

$(FIX)/fixture_cxx: $(FIX_SRC)/fixture_cxx.cpp | $(FIX)
	$(CXX) -g -O1 $< -o $@

# A Go program with its symbol table and DWARF, and the same stripped as
# production ships it (test_gopclntab.c: .gopclntab names both alike).
$(FIX)/go_fixture: tests/progs/goleak/main.go | $(FIX)
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go build -o $@ $<

$(FIX)/go_fixture_stripped: tests/progs/goleak/main.go | $(FIX)
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go build -ldflags="-s -w" -o $@ $<

UNIT_SRCS := $(wildcard tests/unit/test_*.c tests/unit/*/test_*.c)
$(OUT)/unit_tests: $(UNIT_SRCS) tests/unit/fixture_run.c $(OUT)/libleaksnoop.a
	$(CC) $(CFLAGS) -Itests/unit $(UNIT_SRCS) tests/unit/fixture_run.c $(OUT)/libleaksnoop.a \
		$(LDLIBS) -lcriterion -o $@

# Unit tests need no privileges; integration tests load BPF (root).  The
# include order of user/'s stages is checked first (scripts/check-layers.sh).
unit: $(OUT)/unit_tests $(FIXTURES) $(OUT)/progs/leaky
	scripts/check-layers.sh
	$(OUT)/unit_tests

# The flame-graph test drives Debian's chromium with playwright-core (npm registry).
PLAYWRIGHT := $(OUT)/node/node_modules/playwright-core/package.json
$(PLAYWRIGHT):
	mkdir -p $(OUT)/node
	npm install --prefix $(OUT)/node --no-audit --no-fund --silent playwright-core@1.65.1

integration: leaksnoop progs $(PLAYWRIGHT)
	python3 -m unittest discover -s tests/integration -v

# Fuzzing (libFuzzer + AddressSanitizer): the parsers that read files a target controls
# (its maps, its ELF and DWARF) and the files `leaksnoop diff` reads.  Each target runs
# FUZZ_SECONDS from its corpus in tests/fuzz/corpus/; new inputs are kept there.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := procmaps elf json diff
FUZZ_LIB := user/target/procmaps.c user/target/elf_module.c user/symbols/debuginfo.c \
	    user/attach/probe_point.c user/diff/json_reader.c user/diff/diff.c \
	    user/collect/unwind_table.c
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Iuser

$(OUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	mkdir -p $(OUT)/fuzz
	$(CLANG) $(FUZZ_FLAGS) $< $(FUZZ_LIB) -lelf -ldw -lz -lcapstone -o $@

fuzz: $(patsubst %,$(OUT)/fuzz/fuzz_%,$(FUZZ_TARGETS))
	for t in $(FUZZ_TARGETS); do \
		mkdir -p tests/fuzz/corpus/$$t; \
		$(OUT)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
			-print_final_stats=1 tests/fuzz/corpus/$$t || exit 1; \
	done
