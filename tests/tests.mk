# Test programs and test runners; included by the top-level Makefile.
PROG_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls
PROGS_C := $(wildcard tests/progs/*.c)
PROGS_CXX := $(wildcard tests/progs/*.cpp)
PROG_BINS := $(patsubst tests/progs/%.c,$(OUT)/progs/%,$(PROGS_C)) \
	     $(patsubst tests/progs/%.cpp,$(OUT)/progs/%,$(PROGS_CXX))

$(OUT)/progs:
	mkdir -p $@

$(OUT)/progs/%: tests/progs/%.c | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) $< -o $@ -lpthread

$(OUT)/progs/%: tests/progs/%.cpp | $(OUT)/progs
	$(CXX) $(PROG_CFLAGS) $< -o $@ -lpthread

progs: $(PROG_BINS)
