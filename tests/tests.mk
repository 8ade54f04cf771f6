# Test programs, fixtures and test runners; included by the top-level Makefile.
PROG_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls
PROGS_C := $(filter-out tests/progs/leaky.c,$(wildcard tests/progs/*.c))
PROGS_CXX := $(wildcard tests/progs/*.cpp)
PROG_BINS := $(patsubst tests/progs/%.c,$(OUT)/progs/%,$(PROGS_C)) \
	     $(patsubst tests/progs/%.cpp,$(OUT)/progs/%,$(PROGS_CXX)) \
	     $(OUT)/progs/leaky $(OUT)/progs/libleakylib.so

$(OUT)/progs:
	mkdir -p $@

$(OUT)/progs/libleakylib.so: tests/progs/lib/leakylib.c | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) -shared -fPIC $< -o $@

$(OUT)/progs/leaky: tests/progs/leaky.c $(OUT)/progs/libleakylib.so | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) $< -o $@ -L$(OUT)/progs -lleakylib -Wl,-rpath,'$$ORIGIN' -lpthread

$(OUT)/progs/%: tests/progs/%.c | $(OUT)/progs
	$(CC) $(PROG_CFLAGS) $< -o $@ -lpthread

$(OUT)/progs/%: tests/progs/%.cpp | $(OUT)/progs
	$(CXX) $(PROG_CFLAGS) $< -o $@ -lpthread

progs: $(PROG_BINS)
