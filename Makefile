# leaksnoop: BPF objects with clang, skeletons with bpftool, the loader with gcc.
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
OUT := build
PREFIX ?= /usr/local

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation -std=gnu11 -D_GNU_SOURCE \
	  -Iinclude -Iuser -I$(OUT)
LDLIBS := -lbpf -lelf -ldw -lz -lcapstone -lstdc++ -lm
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Ivmlinux -Iinclude -Wall

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
# user/ by stage, in the order a record flows (README, "How it works"): each
# folder's files are built from a wildcard; user/ itself holds what wires them.
USER_STAGES := common target attach collect symbols verdict report diff
STAGE_SRCS := $(foreach d,$(USER_STAGES),$(wildcard user/$(d)/*.c))
USER_HDRS := $(wildcard user/*.h) $(foreach d,$(USER_STAGES),$(wildcard user/$(d)/*.h))
# The stages and the options parser go into a library the unit tests link.
LIB_SRCS := $(STAGE_SRCS) user/options.c
TOOL_SRCS := $(filter-out user/options.c,$(wildcard user/*.c))
LIB_OBJS := $(patsubst user/%.c,$(OUT)/%.o,$(LIB_SRCS))
TOOL_OBJS := $(patsubst user/%.c,$(OUT)/%.o,$(TOOL_SRCS))

# Keep the BPF objects and skeletons between builds.
.SECONDARY:

.PHONY: all clean test unit integration demo run-demo deps vmlinux bench install progs fuzz
all: leaksnoop

$(OUT):
	mkdir -p $(OUT)

$(OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.bpf.h) include/leaksnoop.h vmlinux/vmlinux.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

$(OUT)/%.o: user/%.c $(USER_HDRS) include/leaksnoop.h $(SKELS) | $(OUT)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libleaksnoop.a: $(LIB_OBJS)
	ar rcs $@ $^

leaksnoop: $(TOOL_OBJS) $(OUT)/libleaksnoop.a
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# vmlinux.h is committed; regenerate it from the running kernel's BTF.
vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

deps:
	scripts/install-deps.sh

include tests/tests.mk

# The README's two commands: each installs what is missing, then builds.
# `demo` traces the bundled leaky program (tests/progs/demo.c) for 6 seconds.
demo: deps
	$(MAKE) run-demo

run-demo: leaksnoop $(OUT)/progs/demo
	./leaksnoop -c "$(OUT)/progs/demo 6" 2 3

test: deps
	$(MAKE) unit integration

# The binary, its man page, the always-on systemd unit (growth mode, the live
# endpoint on loopback) and Prometheus alerting rules for what it serves.
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: leaksnoop
	install -D -m 0755 leaksnoop $(DESTDIR)$(PREFIX)/sbin/leaksnoop
	install -D -m 0644 scripts/ops/leaksnoop.8 $(DESTDIR)$(PREFIX)/share/man/man8/leaksnoop.8
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' scripts/ops/leaksnoop@.service \
		> $(DESTDIR)$(UNITDIR)/leaksnoop@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/leaksnoop@.service
	install -D -m 0644 scripts/ops/leaksnoop.rules.yml \
		$(DESTDIR)$(PREFIX)/share/leaksnoop/leaksnoop.rules.yml

clean:
	rm -rf $(OUT) leaksnoop

# Benchmark: overhead against the peers and the probe floors (scripts/bench.py).
BENCH_FLAGS := -O2 -g -fno-omit-frame-pointer
$(OUT)/bench/workload: bench/workload.c
	mkdir -p $(OUT)/bench
	$(CC) $(BENCH_FLAGS) $< -o $@ -lpthread

$(OUT)/bench/workload_cxx: bench/workload_cxx.cpp
	mkdir -p $(OUT)/bench
	$(CXX) $(BENCH_FLAGS) $< -o $@ -lpthread

$(OUT)/bench/thread_churn: bench/thread_churn.c
	mkdir -p $(OUT)/bench
	$(CC) $(BENCH_FLAGS) $< -o $@ -lpthread

$(OUT)/bench/fork_churn: bench/fork_churn.c
	mkdir -p $(OUT)/bench
	$(CC) $(BENCH_FLAGS) $< -o $@

$(OUT)/bench/fd_churn: bench/fd_churn.c
	mkdir -p $(OUT)/bench
	$(CC) $(BENCH_FLAGS) $< -o $@

$(OUT)/bench/gochurn: bench/gochurn/main.go
	mkdir -p $(OUT)/bench
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go build -o $@ $<

$(OUT)/bench/goheap: bench/goheap/main.go
	mkdir -p $(OUT)/bench
	GO111MODULE=off GOCACHE=$(abspath $(OUT))/gocache go build -ldflags="-s -w" -o $@ $<

bench:
	scripts/install-deps.sh --bench
	$(MAKE) leaksnoop $(OUT)/bench/workload $(OUT)/bench/workload_cxx $(OUT)/bench/thread_churn \
		$(OUT)/bench/fork_churn $(OUT)/bench/fd_churn \
		$(OUT)/progs/big_heap $(OUT)/progs/late_alloc \
		$(OUT)/bench/gochurn $(OUT)/bench/goheap
	scripts/bench.py $(BENCH_ARGS)
