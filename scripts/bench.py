#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make bench`: what tracing costs the target, leaksnoop against its peers.

Every configuration runs the same workload (bench/workload.c), alternating
round by round so that drift on a noisy machine hits all of them alike:

  untraced        the workload alone
  bpftrace        bench/memleak.bt, bcc memleak's algorithm, attached with -p
  heaptrack       in-process LD_PRELOAD tracer, launch mode
  leaksnoop       leaksnoop -p (exact)
  leaksnoop -s N  leaksnoop -p, one allocation in N recorded
  leaksnoop --growth  no per-call probe: new pages per stack from page faults
  floor entry     empty probes at the functions' entries (where the peers probe)
  floor chosen    empty probes where leaksnoop probes

It prints median/min/max ns per operation, the overhead over untraced, ratios
of leaksnoop's overhead to each peer and floor, leaksnoop's own CPU time and
memory, the start and stop times of -c /usr/bin/true (beside valgrind's on
it), -p and system-wide, BPF map memory per outstanding block and report
times with 100k and 1M outstanding blocks, the leak check's hold and time to
a verdict for 1 GiB in 1M blocks and for 10M small blocks (valgrind's whole
run on the first beside it, and the raw copy rate of /proc/PID/mem as the
copy's floor); and writes everything to build/bench.json.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LEAKSNOOP = os.path.join(ROOT, "leaksnoop")
WORKLOAD = os.path.join(ROOT, "build", "bench", "workload")
WORKLOAD_CXX = os.path.join(ROOT, "build", "bench", "workload_cxx")
MEMLEAK_BT = os.path.join(ROOT, "bench", "memleak.bt")
THREAD_CHURN = os.path.join(ROOT, "build", "bench", "thread_churn")
GO_CHURN = os.path.join(ROOT, "build", "bench", "gochurn")
FORK_CHURN = os.path.join(ROOT, "build", "bench", "fork_churn")
FD_CHURN = os.path.join(ROOT, "build", "bench", "fd_churn")
GO_HEAP = os.path.join(ROOT, "build", "bench", "goheap")
BIG_HEAP = os.path.join(ROOT, "build", "progs", "big_heap")
LATE_ALLOC = os.path.join(ROOT, "build", "progs", "late_alloc")
HOST_LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"


def libc_path():
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "/libc.so" in path:
                return path
    raise SystemExit("bench: cannot find libc.so")


class Workload:
    """The workload started with --wait, released once the tracer is attached."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(argv + ["--wait"], stdout=subprocess.PIPE, text=True,
                                     env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError("workload did not start: %r" % line)
        self.pid = self.proc.pid

    def run(self):
        os.kill(self.pid, signal.SIGUSR1)
        for line in self.proc.stdout:
            if line.startswith("ns_per_op"):
                value = float(line.split()[1])
                self.proc.wait()
                return value
        raise RuntimeError("workload gave no result")


def wait_for(path_or_proc, needle, timeout, read):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if needle in read():
            return True
        if path_or_proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def stop(proc):
    """SIGINT the tracer; return its CPU seconds and peak RSS in KiB."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def run_attached(argv, tracer_argv, ready_text, settle, workdir):
    """One run under a tracer attached with -p: (ns per op, tracer cpu s, tracer rss KiB)."""
    work = Workload(argv)
    log = os.path.join(workdir, "tracer.log")
    with open(log, "w") as out:
        tracer = subprocess.Popen([a.replace("{pid}", str(work.pid)) for a in tracer_argv],
                                  stdout=out, stderr=subprocess.STDOUT)

    def read():
        with open(log) as f:
            return f.read()

    try:
        if not wait_for(tracer, ready_text, 60, read):
            raise RuntimeError("tracer did not attach: " + read()[-500:])
        time.sleep(settle)
        result = work.run()
    finally:
        work.proc.kill()
        work.proc.wait()
    cpu, rss = stop(tracer)
    return result, cpu, rss


def run_untraced(argv):
    work = Workload(argv)
    return work.run(), 0.0, 0


def run_heaptrack(argv, workdir):
    proc = subprocess.run(["heaptrack", "-o", os.path.join(workdir, "heaptrack")] + argv,
                          capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("ns_per_op"):
            return float(line.split()[1]), 0.0, 0
    raise RuntimeError("heaptrack run failed: " + proc.stdout[-300:] + proc.stderr[-300:])


def configurations(args, libc):
    leaks = [LEAKSNOOP, "-p", "{pid}", "-f", "json", "-w", "/dev/null", "60"]
    configs = [
        ("untraced", lambda argv, d: run_untraced(argv)),
        ("leaksnoop", lambda argv, d: run_attached(argv, leaks, "Tracing", 0.2, d)),
        ("leaksnoop -s %d" % args.sample_rate,
         lambda argv, d: run_attached(argv, leaks[:3] + ["-s", str(args.sample_rate)] + leaks[3:],
                                      "Tracing", 0.2, d)),
        ("leaksnoop --unwind dwarf", lambda argv, d: run_attached(
            argv, leaks[:3] + ["--unwind", "dwarf"] + leaks[3:], "Tracing", 0.2, d)),
        ("leaksnoop --growth", lambda argv, d: run_attached(
            argv, leaks[:3] + ["--growth"] + leaks[3:], "Tracing", 0.2, d)),
        ("floor chosen", lambda argv, d: run_attached(
            argv, [LEAKSNOOP, "-p", "{pid}", "--floor", "chosen", "60"], "Tracing", 0.2, d)),
        ("floor entry", lambda argv, d: run_attached(
            argv, [LEAKSNOOP, "-p", "{pid}", "--floor", "entry", "60"], "Tracing", 0.2, d)),
    ]
    if shutil.which("bpftrace"):
        configs.append(("bpftrace memleak", lambda argv, d: run_attached(
            argv, ["bpftrace", "-p", "{pid}", MEMLEAK_BT, libc], "Attaching", 1.5, d)))
    if shutil.which("heaptrack"):
        configs.append(("heaptrack", lambda argv, d: run_heaptrack(argv, d)))
    return configs


def workload_argv(kind, traced, args):
    ops = {"pairs": (args.pairs_untraced, args.pairs), "mixed": (args.mixed_untraced, args.mixed),
           "cxx": (args.mixed_untraced, args.mixed)}[kind][1 if traced else 0]
    if kind == "pairs":
        return [WORKLOAD, "pairs", str(ops)]
    if kind == "mixed":
        return [WORKLOAD, "mixed", str(ops), str(args.threads)]
    return [WORKLOAD_CXX, str(ops), str(args.threads)]


def measure_overhead(kind, rounds, configs, args):
    samples = {name: [] for name, _ in configs}
    cpu = {name: [] for name, _ in configs}
    rss = {name: [] for name, _ in configs}
    for r in range(rounds):
        for name, runner in configs:
            with tempfile.TemporaryDirectory() as workdir:
                # Growth mode probes no call: it runs the untraced workload's length.
                argv = workload_argv(kind, name not in ("untraced", "leaksnoop --growth"), args)
                ns, seconds, kib = runner(argv, workdir)
            samples[name].append(ns)
            cpu[name].append(seconds)
            rss[name].append(kib)
            print("  [%s round %d] %-18s %10.1f ns/op" % (kind, r + 1, name, ns), flush=True)
    return samples, cpu, rss


def summarize(kind, samples, cpu, rss, args):
    base = statistics.median(samples["untraced"])
    table = {}
    for name, values in samples.items():
        med = statistics.median(values)
        table[name] = {"median_ns": med, "min_ns": min(values), "max_ns": max(values),
                       "overhead_ns": med - base, "runs": values,
                       "tracer_cpu_s": statistics.median(cpu[name]),
                       "tracer_rss_kib": max(rss[name])}
    ours = table["leaksnoop"]["overhead_ns"]
    ratios = {}
    for name, row in table.items():
        if name.startswith("leaksnoop") or name == "untraced" or row["overhead_ns"] <= 0:
            continue
        ratios[name] = ours / row["overhead_ns"]
    sampled = "leaksnoop -s %d" % args.sample_rate
    if sampled in table and table[sampled]["overhead_ns"] > 0:
        ratios["sampled / default"] = table[sampled]["overhead_ns"] / ours
    if "leaksnoop --unwind dwarf" in table:
        ratios["dwarf / default"] = table["leaksnoop --unwind dwarf"]["overhead_ns"] / ours
    print("\n%s: ns per %s (median of %d, min..max), overhead over untraced" %
          (kind, "malloc+free pair" if kind == "pairs" else "operation", len(samples["untraced"])))
    for name, row in table.items():
        print("  %-20s %10.1f  (%9.1f .. %9.1f)  overhead %10.1f ns" %
              (name, row["median_ns"], row["min_ns"], row["max_ns"], row["overhead_ns"]))
    if "leaksnoop --growth" in table:
        share = 100.0 * table["leaksnoop --growth"]["overhead_ns"] / base
        table["leaksnoop --growth"]["overhead_percent"] = share
        print("  growth mode: %+.1f%% of the untraced time" % share)
    # Rounds alternate the configurations: a round's ratio is paired, so slow
    # drift of the machine cancels out; their median is the steadier figure.
    paired = {}
    for name, row in table.items():
        if name in ratios and name != "sampled / default":
            per_round = [(o - base) / (x - base) for o, x in
                         zip(samples["leaksnoop"], samples[name]) if x > base]
            if per_round:
                paired[name] = statistics.median(per_round)
    print("  leaksnoop's overhead as a multiple of (ratio of medians; median of paired rounds):")
    for name, ratio in ratios.items():
        if name in paired:
            print("    %-22s %6.2fx  %6.2fx" % (name, ratio, paired[name]))
        else:
            print("    %-22s %6.2fx" % (name, ratio))
    # The traps are the floor's; what leaksnoop adds on top is its own work.
    own = {}
    if "floor chosen" in table:
        floor = table["floor chosen"]["overhead_ns"]
        own = {name: table[name]["overhead_ns"] - floor
               for name in ("leaksnoop", sampled, "leaksnoop --unwind dwarf") if name in table}
        print("  above the floor (leaksnoop's own work, the traps left out):")
        for name, ns in own.items():
            print("    %-22s %6.0f ns" % (name, ns))
        if sampled in own and own["leaksnoop"] > 0:
            ratios["sampled / default above the floor"] = own[sampled] / own["leaksnoop"]
            print("    sampled / default      %6.2fx" % ratios["sampled / default above the floor"])
    return {"table": table, "ratios": ratios, "paired_ratios": paired, "above_floor_ns": own}


def measure_growth(kinds, rounds, args):
    """--growth against untraced, back to back, on longer runs.

    Its cost is a few page faults per run, far below the spread of the main
    rounds' short runs; pairing each growth run with the untraced run before
    it, on runs five times as long, measures it instead of the noise.
    """
    longer = argparse.Namespace(**vars(args))
    longer.pairs_untraced *= 5
    longer.mixed_untraced *= 5
    tracer = [LEAKSNOOP, "-p", "{pid}", "--growth", "-f", "json", "-w", "/dev/null", "60"]
    # --escalate while the workload does not grow (it frees what it allocates): the
    # same probes, one comparison per report; both report every second so it is asked.
    every_second = tracer[:-1] + ["1"]
    escalating = every_second[:4] + ["--escalate"] + every_second[4:]
    results = {}
    for kind in kinds:
        argv = workload_argv(kind, False, longer)
        untraced, growth, reporting, escalate = [], [], [], []
        for _ in range(rounds):
            untraced.append(run_untraced(argv)[0])
            for times, command in ((growth, tracer), (reporting, every_second),
                                   (escalate, escalating)):
                with tempfile.TemporaryDirectory() as workdir:
                    times.append(run_attached(argv, command, "Tracing", 0.2, workdir)[0])
        per_round = [100.0 * (g - u) / u for u, g in zip(untraced, growth)]
        escalate_ratio = [e / g for g, e in zip(reporting, escalate)]
        results[kind] = {"untraced_ns": untraced, "growth_ns": growth,
                         "growth_every_second_ns": reporting, "escalate_ns": escalate,
                         "paired_percent": statistics.median(per_round),
                         "escalate_over_growth": statistics.median(escalate_ratio)}
        print("  %-6s untraced %7.2f ns, --growth %7.2f ns: %+.1f%% (median of %d paired "
              "rounds; %+.1f%% .. %+.1f%%)" %
              (kind, statistics.median(untraced), statistics.median(growth),
               statistics.median(per_round), rounds, min(per_round), max(per_round)), flush=True)
        print("  %-6s --growth --escalate, nothing grows, reports every second %7.2f ns: "
              "%.3fx --growth (paired median; %.3fx .. %.3fx)" %
              (kind, statistics.median(escalate), statistics.median(escalate_ratio),
               min(escalate_ratio), max(escalate_ratio)), flush=True)
    return results


def measure_churn(rounds):
    """Cost of thread and goroutine tracking: create+join / go+exit, per operation."""
    leaks = [LEAKSNOOP, "-p", "{pid}", "-f", "json", "-w", "/dev/null", "60"]
    cases = {
        "threads": ([THREAD_CHURN, "20000"], [
            ("untraced", None), ("leaksnoop --no-threads", leaks[:3] + ["--no-threads"] + leaks[3:]),
            ("leaksnoop", leaks),
            ("leaksnoop --children-when-seen", leaks[:3] + ["--children-when-seen"] + leaks[3:])]),
        "goroutines": ([GO_CHURN, "-n", "200000"], [("untraced", None), ("leaksnoop", leaks)]),
        # Children inherit the probes inside fork: traced from their first instruction.
        "forks": ([FORK_CHURN, "2000"], [
            ("untraced", None), ("leaksnoop", leaks),
            ("leaksnoop --children-when-seen", leaks[:3] + ["--children-when-seen"] + leaks[3:])]),
    }
    out = {}
    for name, (argv, configs) in cases.items():
        samples = {label: [] for label, _ in configs}
        for _ in range(rounds):
            for label, tracer in configs:
                with tempfile.TemporaryDirectory() as d:
                    if tracer is None:
                        ns, _, _ = run_untraced(argv)
                    else:
                        ns, _, _ = run_attached(argv, tracer, "Tracing", 0.2, d)
                samples[label].append(ns)
        medians = {label: statistics.median(v) for label, v in samples.items()}
        print("  %s churn, ns per %s (median of %d):" %
              (name, {"threads": "create+join", "goroutines": "go+exit",
                      "forks": "fork+malloc+exit+wait"}[name], rounds))
        for label, med in medians.items():
            print("    %-24s %10.1f  (+%.1f)" % (label, med, med - medians["untraced"]))
        out[name] = {"samples": samples, "medians": medians}
    return out


def program_ns(prefixes):
    """Mean run time (ns) of the loaded BPF programs whose names start with one of
    prefixes, over those that ran, from the kernel's own count (bpf_stats)."""
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True)
    times = {}
    for p in json.loads(out.stdout or "[]"):
        if p.get("name", "").startswith(prefixes) and p.get("run_cnt", 0) > 1000:
            times[p["name"]] = p["run_time_ns"] / p["run_cnt"]
    return times


def bpf_stats(enabled):
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write("1" if enabled else "0")


def measure_fd_programs(pairs=300000):
    """The BPF time per call of --fds's programs and of an empty one on the same
    tracepoints, in an untraced process beside the tracer and in the target: the
    kernel's own count, steady where this machine's wall clock is not (both include
    the two clock reads the count itself takes)."""
    argv = [FD_CHURN, str(pairs)]
    runs = {"--fds": [LEAKSNOOP, "-p", "{pid}", "--fds", "-f", "json", "-w", "/dev/null", "60"],
            "empty": [LEAKSNOOP, "-p", "{pid}", "--floor", "fds", "60"]}
    out = {}
    bpf_stats(True)
    try:
        for label, tracer_argv in runs.items():
            for where in ("untraced", "target"):
                with tempfile.TemporaryDirectory() as d:
                    if where == "target":
                        work = Workload(argv)
                        pid = work.pid
                    else:
                        sleeper = subprocess.Popen(["sleep", "600"])
                        pid = sleeper.pid
                    log = os.path.join(d, "tracer.log")
                    with open(log, "w") as f:
                        tracer = subprocess.Popen([a.replace("{pid}", str(pid))
                                                   for a in tracer_argv],
                                                  stdout=f, stderr=subprocess.STDOUT)
                    try:
                        if not wait_for(tracer, "Tracing", 60, lambda: open(log).read()):
                            raise RuntimeError("tracer did not attach")
                        if where == "target":
                            work.run()
                        else:
                            run_untraced(argv)
                        out[(label, where)] = program_ns(("fd_", "floor_"))
                    finally:
                        stop(tracer)
                        if where == "target":
                            work.proc.kill()
                            work.proc.wait()
                        else:
                            sleeper.kill()
                            sleeper.wait()
    finally:
        bpf_stats(False)
    print("  BPF time per call (bpf_stats, ns; the count's own clock reads in each):")
    for (label, where), times in out.items():
        print("    %-6s %-9s %s" % (label, where, ", ".join(
            "%s %.1f" % (name, ns) for name, ns in sorted(times.items()))))
    return {"%s %s" % key: value for key, value in out.items()}


def measure_fds(rounds, pairs=100000, best_of=3):
    """--fds: what an open+close pair costs the traced target, and what the system
    call tracepoints cost a process leaksnoop does not trace (they fire machine-wide):
    untraced alone, untraced while another process is traced with and without --fds,
    traced with and without.  Each sample is the fastest of `best_of` rounds of `pairs`
    in one process (noise only slows a round); the costs are medians over the rounds
    of the differences within each round, whose five runs follow one another."""
    argv = [FD_CHURN, str(pairs), str(best_of)]
    fds = [LEAKSNOOP, "-p", "{pid}", "--fds", "-f", "json", "-w", "/dev/null", "60"]
    plain = fds[:3] + fds[4:]
    floor = [LEAKSNOOP, "-p", "{pid}", "--floor", "fds", "60"]
    samples = {"untraced": [], "untraced, another traced": [],
               "untraced, another traced --fds": [], "untraced, floor beside": [],
               "traced": [], "traced --fds": [], "traced by the floor": []}

    def beside(tracer_argv):
        """The churn untraced while the tracer runs on a sleeping process."""
        sleeper = subprocess.Popen(["sleep", "600"])
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "tracer.log")
            with open(log, "w") as out:
                tracer = subprocess.Popen([a.replace("{pid}", str(sleeper.pid))
                                           for a in tracer_argv],
                                          stdout=out, stderr=subprocess.STDOUT)
            try:
                if not wait_for(tracer, "Tracing", 60, lambda: open(log).read()):
                    raise RuntimeError("tracer did not attach")
                time.sleep(0.2)
                return run_untraced(argv)[0]
            finally:
                stop(tracer)
                sleeper.kill()
                sleeper.wait()

    for _ in range(rounds):
        samples["untraced"].append(run_untraced(argv)[0])
        samples["untraced, another traced"].append(beside(plain))
        samples["untraced, another traced --fds"].append(beside(fds))
        samples["untraced, floor beside"].append(beside(floor))
        with tempfile.TemporaryDirectory() as d:
            samples["traced by the floor"].append(run_attached(argv, floor, "Tracing", 0.2, d)[0])
        with tempfile.TemporaryDirectory() as d:
            samples["traced"].append(run_attached(argv, plain, "Tracing", 0.2, d)[0])
        with tempfile.TemporaryDirectory() as d:
            samples["traced --fds"].append(run_attached(argv, fds, "Tracing", 0.2, d)[0])
    medians = {label: statistics.median(v) for label, v in samples.items()}

    def paired(a, b, per=1.0):
        """Median over rounds of (b - a) / per, and its range."""
        diffs = [(y - x) / per for x, y in zip(samples[a], samples[b])]
        return statistics.median(diffs), min(diffs), max(diffs)

    print("  open+close pairs, ns per pair (median of %d rounds, each the best of %d):"
          % (rounds, best_of))
    for label, med in medians.items():
        print("    %-32s %8.1f  (+%.1f)" % (label, med, med - medians["untraced"]))
    # leaksnoop's mmap tracepoints put every process's system calls on the kernel's
    # traced path already; --fds adds its programs' runs on top of that.
    per_syscall = paired("untraced, another traced", "untraced, another traced --fds", 2)
    per_syscall_all = paired("untraced", "untraced, another traced --fds", 2)
    target = paired("traced", "traced --fds")
    # An empty program on the same tracepoints: what the kernel's tracepoint path costs.
    floor_untraced = paired("untraced", "untraced, floor beside", 2)
    floor_target = paired("untraced", "traced by the floor")
    print("    an untraced process pays %+.1f ns per system call for --fds (rounds %+.1f to "
          "%+.1f; %+.1f ns with leaksnoop's other tracepoints); the target %+.1f ns per "
          "pair (rounds %+.1f to %+.1f)" % (per_syscall + per_syscall_all[:1] + target))
    print("    the floor, an empty program on the same tracepoints: %+.1f ns per system call "
          "of an untraced process, %+.1f ns per pair of the target"
          % (floor_untraced[0], floor_target[0]))
    return {"samples": samples, "medians": medians, "untraced_ns_per_syscall": per_syscall[0],
            "untraced_ns_per_syscall_all": per_syscall_all[0],
            "target_ns_per_pair": target[0], "floor_ns_per_syscall": floor_untraced[0],
            "floor_ns_per_pair": floor_target[0]}


def measure_go_reports(rounds, buckets=10000, goroutines=100000):
    """A Go report read from outside: `buckets` memory-profile buckets and `goroutines`
    parked goroutines (bench/goheap, stripped).  Report time, and what the target pays per
    allocation while traced (no probe per allocation: a ratio near 1), paired rounds."""
    proc = subprocess.Popen([GO_HEAP, "-buckets", str(buckets), "-goroutines", str(goroutines)],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("ready"):
        raise RuntimeError("goheap did not start: %r" % line)

    def allocation_ns():
        os.kill(proc.pid, signal.SIGUSR1)
        for out in proc.stdout:
            if out.startswith("ns_per_op"):
                return float(out.split()[1])
        raise RuntimeError("goheap gave no result")

    def traced_rounds(interval, workdir):
        """Allocation rounds under leaksnoop reporting every `interval` s: (ns, reports)."""
        out, err_path = os.path.join(workdir, "r.json"), os.path.join(workdir, "err")
        with open(err_path, "w") as err:
            tracer = subprocess.Popen([LEAKSNOOP, "-p", str(proc.pid), "-f", "json", "-w", out,
                                       str(interval)], stderr=err)
            if not wait_for(tracer, "Tracing", 60, lambda: open(err_path).read()):
                raise RuntimeError("leaksnoop did not attach: " + open(err_path).read())
            ns = [allocation_ns() for _ in range(rounds)]
            time.sleep(3.5)
            cpu, rss = stop(tracer)
        return ns, read_json_lines(out), rss

    with tempfile.TemporaryDirectory() as d:
        # Paired: untraced, traced with no report during the rounds, traced reporting each second.
        untraced = [allocation_ns() for _ in range(rounds)]
        quiet, _, _ = traced_rounds(600, d)
        busy, reports, rss = traced_rounds(1, d)
        untraced += [allocation_ns() for _ in range(rounds)]
    proc.kill()
    proc.wait()
    times = [r["report_ms"] for r in reports]
    row = {"buckets": buckets, "goroutines": goroutines,
           "report_ms_median": statistics.median(times), "report_ms_max": max(times),
           "reports": len(times), "tracer_rss_kib": rss,
           "alloc_ns_untraced": statistics.median(untraced),
           "alloc_ns_traced": statistics.median(quiet),
           "alloc_ns_reporting": statistics.median(busy),
           "go_heap_stacks": reports[-1].get("go_heap", {}).get("stacks"),
           "goroutines_seen": sum(g["count"] for g in reports[-1]["goroutines"])}
    row["alloc_ratio"] = row["alloc_ns_traced"] / row["alloc_ns_untraced"]
    row["alloc_ratio_reporting"] = row["alloc_ns_reporting"] / row["alloc_ns_untraced"]
    print("  %d buckets and %d goroutines read at each report: %.1f ms median (max %.1f, %d "
          "reports), leaksnoop RSS %.1f MiB" %
          (row["go_heap_stacks"] or 0, row["goroutines_seen"], row["report_ms_median"],
           row["report_ms_max"], row["reports"], rss / 1024.0))
    print("  the target per allocation (medians; min..max): untraced %.1f ns (%.1f..%.1f, %d "
          "rounds), traced %.1f ns (%.1f..%.1f; ratio %.3f: no probe per allocation), while "
          "reporting every second %.1f ns (%.1f..%.1f; ratio %.3f: the reads share the CPUs)" %
          (row["alloc_ns_untraced"], min(untraced), max(untraced), len(untraced),
           row["alloc_ns_traced"], min(quiet), max(quiet), row["alloc_ratio"],
           row["alloc_ns_reporting"], min(busy), max(busy), row["alloc_ratio_reporting"]),
          flush=True)
    return row


def detach_children_gone(timeout=30):
    """Wait until no leaksnoop-close child is closing a previous run's events."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if subprocess.run(["pgrep", "-x", "leaksnoop-close"], capture_output=True).returncode:
            return
        time.sleep(0.05)


def timed_run(argv, stop_after_tracing):
    """(seconds from exec to the Tracing line, seconds from the stop to exit) for one run.

    stop_after_tracing: SIGINT once tracing (-p, system-wide); otherwise the
    command ends by itself (-c /usr/bin/true) and the stop is counted from the
    Tracing line, which is printed just before the command is let go.
    """
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tracing = None
    for line in proc.stderr:
        if line.startswith("Tracing"):
            tracing = time.monotonic()
            break
    if tracing is None:
        proc.wait()
        raise RuntimeError("no Tracing line from %s" % " ".join(argv))
    stop = tracing
    if stop_after_tracing:
        stop = time.monotonic()
        proc.send_signal(signal.SIGINT)
    proc.stderr.read()
    proc.wait()
    return tracing - started, time.monotonic() - stop


def measure_lifecycle(rounds):
    """Start (exec to Tracing) and stop (command exit or Ctrl-C to exit) in three modes,
    valgrind on the same short command alongside; each run after the previous one's
    events are gone, and once more back to back, when they are not."""
    sleeper = subprocess.Popen(["sleep", "100000"])
    modes = [
        ("-c /usr/bin/true", [LEAKSNOOP, "-f", "json", "-w", "/dev/null", "-c", "/usr/bin/true"], False),
        ("-p (idle process)", [LEAKSNOOP, "-f", "json", "-w", "/dev/null", "-p", str(sleeper.pid)], True),
        ("system-wide", [LEAKSNOOP, "-f", "json", "-w", "/dev/null", "--no-threads"], True),
    ]
    results = {}
    try:
        for name, argv, interrupt in modes:
            starts, stops, totals, valgrind, back = [], [], [], [], []
            for _ in range(rounds):
                detach_children_gone()
                begin = time.monotonic()
                start, stop = timed_run(argv, interrupt)
                totals.append(time.monotonic() - begin)
                starts.append(start)
                stops.append(stop)
                if not interrupt and shutil.which("valgrind"):
                    begin = time.monotonic()
                    subprocess.run(["valgrind", "-q", "--leak-check=full", "/usr/bin/true"],
                                   capture_output=True)
                    valgrind.append(time.monotonic() - begin)
            # The kernel still tearing down the previous run's events delays the next attach.
            for _ in range(2):
                begin = time.monotonic()
                timed_run(argv, interrupt)
                back.append(time.monotonic() - begin)
            row = {"start_s": statistics.median(starts), "stop_s": statistics.median(stops),
                   "total_s": statistics.median(totals), "starts": starts, "stops": stops,
                   "back_to_back_total_s": max(back)}
            if valgrind:
                row["valgrind_total_s"] = statistics.median(valgrind)
            results[name] = row
            print("  %-18s start %.3f s, stop %.3f s, whole run %.3f s (medians of %d)%s; "
                  "back to back, the slower of 2: %.2f s" %
                  (name, row["start_s"], row["stop_s"], row["total_s"], rounds,
                   ", valgrind %.3f s" % row["valgrind_total_s"] if valgrind else "",
                   row["back_to_back_total_s"]), flush=True)
    finally:
        sleeper.kill()
        sleeper.wait()
        detach_children_gone()
    return results


def attach_system_wide():
    """(seconds from exec to the Tracing line, leaksnoop's peak RSS in KiB then, seconds
    from the stop until the kernel has removed every probe) of one system-wide run,
    stopped once tracing, started once the previous run's probes are all gone (a removal
    still under way slows an attach)."""
    detach_children_gone(600)
    started = time.monotonic()
    proc = subprocess.Popen([LEAKSNOOP, "-f", "json", "-w", "/dev/null", "--no-threads"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if line.startswith("Tracing"):
            break
    seconds = time.monotonic() - started
    with open("/proc/%d/status" % proc.pid) as f:
        hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    stopped = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.stderr.read()
    proc.wait()
    detach_children_gone(600)
    return seconds, hwm, time.monotonic() - stopped


def start_containers(copies):
    """One sleeping process per libc copy, each in a mount namespace where the copy is
    bound over the host's libc: what a node with that many container images runs."""
    sleepers = [subprocess.Popen(["unshare", "-m", "sh", "-c", "mount --bind %s %s && exec sleep "
                                  "100000" % (copy, HOST_LIBC)]) for copy in copies]
    for sleeper in sleepers:  # mapped once sleep runs
        while not os.path.exists("/proc/%d/exe" % sleeper.pid) or \
                os.readlink("/proc/%d/exe" % sleeper.pid) != "/usr/bin/sleep":
            time.sleep(0.01)
    return sleepers


def measure_containers(rounds, count=50):
    """System-wide attach with `count` processes each on a libc file of its own, paired
    round by round with attach on the host's files alone."""
    alone, with_files = [], []
    with tempfile.TemporaryDirectory() as d:
        copies = [os.path.join(d, "libc-%d.so.6" % i) for i in range(count)]
        for copy in copies:
            shutil.copy(HOST_LIBC, copy)
        for _ in range(rounds):
            sleepers = start_containers(copies)
            try:
                with_files.append(attach_system_wide())
            finally:
                for sleeper in sleepers:
                    sleeper.kill()
                    sleeper.wait()
            alone.append(attach_system_wide())
    seconds, rss, gone = ([statistics.median(x[i] for x in runs) for runs in (alone, with_files)]
                          for i in range(3))
    print("  system-wide attach, host files only: %.3f s, leaksnoop peak RSS %.1f MiB, every "
          "probe removed %.1f s after the stop (medians of %d)" %
          (seconds[0], rss[0] / 1024.0, gone[0], rounds))
    print("  with %d more libc files in use:       %.3f s, %.1f MiB, removed after %.1f s: per "
          "file +%.1f ms of attach, +%.0f KiB, +%.2f s of removal (in the background)" %
          (count, seconds[1], rss[1] / 1024.0, gone[1], (seconds[1] - seconds[0]) * 1000 / count,
           (rss[1] - rss[0]) / count, (gone[1] - gone[0]) / count))
    return {"files": count, "alone_s": seconds[0], "with_files_s": seconds[1],
            "alone_rss_kib": rss[0], "with_files_rss_kib": rss[1], "alone_removed_s": gone[0],
            "with_files_removed_s": gone[1], "alone": alone, "with_files": with_files}


def measure_late_gap(rounds, count=5000):
    """An allocator dlopen'd after attach and called at once, one malloc every 20 us
    (tests/progs/late_alloc --tight): how many calls went by before its probes were there,
    as the program sees it, beside the delay leaksnoop reports."""
    lib = "libtcmalloc_minimal.so.4"
    missed, reported = [], []
    for _ in range(rounds):
        detach_children_gone()
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "report")
            target = subprocess.Popen([LATE_ALLOC, "--wait", "--tight", str(count), lib],
                                      stdout=subprocess.PIPE, text=True)
            target.stdout.readline()
            tracer = subprocess.Popen([LEAKSNOOP, "-p", str(target.pid), "-o", "0", "-T", "1000",
                                       "-f", "json", "-w", out, "1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for line in tracer.stderr:
                if line.startswith("Tracing"):
                    break
            target.send_signal(signal.SIGUSR1)
            while target.stdout.readline().strip() != "done":
                pass
            time.sleep(1.5)
            tracer.send_signal(signal.SIGINT)
            tracer.stderr.read()
            tracer.wait()
            target.kill()
            target.wait()
            final = read_json_lines(out)[-1]
            seen = sum(s["allocs"] for s in final["stacks"]
                       if any(f.get("symbol") == "tight_site" for f in s["frames"]))
            missed.append(count - seen)
            reported.extend(a["probed_after_ms"] for a in final.get("late_allocators", []))
    period_us = 20
    print("  dlopen'd allocator called at once: %d of %d calls (one per %d us) before its probes "
          "(median of %d: ~%.1f ms); leaksnoop's probed_after_ms median %.1f" %
          (statistics.median(missed), count, period_us, rounds,
           statistics.median(missed) * period_us / 1000.0,
           statistics.median(reported) if reported else float("nan")))
    return {"missed": missed, "period_us": period_us, "probed_after_ms": reported}


def copy_floor(pid, nbytes):
    """Seconds to read nbytes of pid's largest writable mapping through /proc/PID/mem."""
    largest = (0, 0)
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if fields[1].startswith("rw") and end - start > largest[1] - largest[0]:
                largest = (start, end)
    chunk, done = 1 << 24, 0
    begin = time.monotonic()
    with open("/proc/%d/mem" % pid, "rb", buffering=0) as mem:
        while done < min(nbytes, largest[1] - largest[0]):
            mem.seek(largest[0] + done)
            done += len(mem.read(min(chunk, largest[1] - largest[0] - done)))
    return (time.monotonic() - begin) * nbytes / max(done, 1)


def leak_check_once(count, size, lost, check):
    """leaksnoop -c big_heap, ended by SIGINT once it holds every block: the final
    report's leak check, the tracer's peak RSS, the copy floor on the same target."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        argv = [LEAKSNOOP, "-f", "json", "-w", out, "-o", "0", "--max-allocs",
                str(max(1 << 20, count * 2)), "3600"] + (["--leak-check"] if check else []) + \
            ["-c", "%s %d %d %d" % (BIG_HEAP, count, size, lost)]
        tracer = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True)
        for line in tracer.stdout:
            if line.startswith("ready"):
                break
        target = int(subprocess.run(["pgrep", "-P", str(tracer.pid), "big_heap"],
                                    capture_output=True, text=True).stdout.split()[0])
        floor = copy_floor(target, count * size) if check else None
        begin = time.monotonic()
        tracer.send_signal(signal.SIGINT)
        tracer.stdout.read()  # the command's lines until it is killed
        _, _, usage = os.wait4(tracer.pid, 0)
        wall = time.monotonic() - begin
        report = read_json_lines(out)[-1]
    return {"check": report.get("leak_check"), "final_report_s": wall,
            "rss_kib": usage.ru_maxrss, "copy_floor_s": floor}


def read_json_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def measure_leak_check(quick):
    """The leak check on 1 GiB in 1M blocks and on 10M blocks of 16 bytes: how long the
    target is held, the time to a verdict (hold + mark), the tracer's extra memory."""
    results = {}
    cases = [("1 GiB in 1M blocks", 1 << 20, 1024, 1000)]
    if not quick:
        cases.append(("10M blocks of 16 B", 10000000, 16, 1000))
    for name, count, size, lost in cases:
        plain = leak_check_once(count, size, lost, False)
        checked = leak_check_once(count, size, lost, True)
        lc = checked["check"]
        gib = lc["copied_bytes"] / float(1 << 30)
        row = {"frozen_ms": lc["frozen_ms"], "mark_ms": lc["mark_ms"],
               "verdict_s": (lc["frozen_ms"] + lc["mark_ms"]) / 1000.0,
               "copied_bytes": lc["copied_bytes"], "scanned_bytes": lc["scanned_bytes"],
               "held_s_per_gib": lc["frozen_ms"] / 1000.0 / gib,
               "copy_floor_s_per_gib": checked["copy_floor_s"] / (count * size / float(1 << 30)),
               "definitely_lost_allocs": lc["definitely_lost_allocs"],
               "extra_rss_mib": (checked["rss_kib"] - plain["rss_kib"]) / 1024.0,
               "rss_mib": checked["rss_kib"] / 1024.0}
        if count <= (1 << 20) and shutil.which("valgrind") and not quick:
            begin = time.monotonic()
            subprocess.run(["valgrind", "-q", "--leak-check=full", BIG_HEAP, str(count),
                            str(size), str(lost), "exit"], capture_output=True)
            row["valgrind_whole_run_s"] = time.monotonic() - begin
        results[name] = row
        print("  %-20s held %.0f ms (%.2f s/GiB copied; /proc/PID/mem alone %.2f s/GiB), "
              "verdict in %.2f s (mark %.0f ms), %d lost found of %d, tracer +%.0f MiB "
              "(RSS %.0f MiB)%s" %
              (name, row["frozen_ms"], row["held_s_per_gib"], row["copy_floor_s_per_gib"],
               row["verdict_s"], row["mark_ms"], row["definitely_lost_allocs"], lost,
               row["extra_rss_mib"], row["rss_mib"],
               "; valgrind, which must run the program from its start: %.1f s" %
               row["valgrind_whole_run_s"] if "valgrind_whole_run_s" in row else ""),
              flush=True)
    return results


def bpf_maps():
    out = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True).stdout
    return json.loads(out or "[]")


def map_memory(pid, preexisting):
    """Kernel memory of the maps of leaksnoop `pid`: by owner when bpftool can tell, else
    every map made since the ids in `preexisting` (the bench runs one leaksnoop at a time)."""
    total = 0
    for m in bpf_maps():
        owners = [p.get("pid") for p in m.get("pids", [])]
        if (owners and pid in owners) or (not owners and m["id"] not in preexisting):
            total += m.get("bytes_memlock", 0)
    return total


def measure_reports(blocks):
    """Report time and BPF map memory with `blocks` outstanding 32-byte blocks."""
    work = Workload([WORKLOAD, "hold", str(blocks), "--linger"])
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "r.json")
        err = open(os.path.join(d, "err"), "w")
        preexisting = {m["id"] for m in bpf_maps()}
        tracer = subprocess.Popen([LEAKSNOOP, "-p", str(work.pid), "-o", "0", "-f", "json",
                                   "-w", out, "1"], stderr=err)
        time.sleep(1.5)
        os.kill(work.pid, signal.SIGUSR1)
        for line in work.proc.stdout:
            if line.startswith("ns_per_op"):
                break
        time.sleep(3.5)
        memory = map_memory(tracer.pid, preexisting)
        cpu, rss = stop(tracer)
        work.proc.kill()
        work.proc.wait()
        with open(out) as f:
            reports = [json.loads(line) for line in f if line.strip()]
    full = [r for r in reports if r["totals"]["outstanding_allocs"] >= blocks]
    times = [r["report_ms"] for r in full]
    return {"blocks": blocks, "reports": len(full),
            "report_ms_median": statistics.median(times) if times else None,
            "report_ms_max": max(times) if times else None,
            "map_bytes": memory, "tracer_rss_kib": rss, "tracer_cpu_s": cpu}


BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled"


def bpf_stats_off():
    """Turn the kernel's per-program run-time statistics off for the run; returns the setting.

    With them on, every BPF program run also reads the clock twice, which
    adds the same to leaksnoop and to the floors and so shrinks every ratio.
    """
    try:
        with open(BPF_STATS) as f:
            setting = f.read().strip()
        with open(BPF_STATS, "w") as f:
            f.write("0")
        return setting
    except OSError:
        return None


def restore_bpf_stats(setting):
    if setting not in (None, "0"):
        with open(BPF_STATS, "w") as f:
            f.write(setting)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=150000, help="pairs per traced run")
    parser.add_argument("--pairs-untraced", type=int, default=20000000)
    parser.add_argument("--mixed", type=int, default=200000, help="operations per thread, traced")
    parser.add_argument("--mixed-untraced", type=int, default=2000000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sample-rate", type=int, default=64)
    parser.add_argument("--quick", action="store_true", help="2 rounds, pairs only")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench: run as root (it loads BPF programs)")
    stats_setting = bpf_stats_off()
    try:
        run_bench(args)
    finally:
        restore_bpf_stats(stats_setting)


def check_targets(results, args):
    """Print each of the cost targets with what this run measured, and whether it is met."""
    rows = []

    def target(name, value, met):
        rows.append({"target": name, "measured": value, "met": met})
        print("  %-7s %-52s %s" % ("met" if met else "NOT MET", name, value))

    print("\n== targets", flush=True)
    sampled = "leaksnoop -s %d" % args.sample_rate
    for kind, workload in results["workloads"].items():
        ratios, paired = workload["ratios"], workload["paired_ratios"]
        if "floor chosen" in ratios:
            target("%s: at most 1.25x the chosen floor" % kind,
                   "%.2fx (paired %.2fx)" % (ratios["floor chosen"],
                                             paired.get("floor chosen", float("nan"))),
                   ratios["floor chosen"] <= 1.25)
        if "bpftrace memleak" in ratios:
            target("%s: at most 1/5 of the bpftrace script" % kind,
                   "%.2fx" % ratios["bpftrace memleak"], ratios["bpftrace memleak"] <= 0.2)
        above = workload["above_floor_ns"]
        if "sampled / default" in ratios and sampled in above and above["leaksnoop"] > 0:
            own = above[sampled] / above["leaksnoop"]
            target("%s: -s %d below the default" % (kind, args.sample_rate),
                   "%.2fx overall, %.2fx above the floor" % (ratios["sampled / default"], own),
                   ratios["sampled / default"] < 1.0 and own <= 0.5)
    for kind, growth in results.get("growth_paired", {}).items():
        target("%s: --growth under 1%% of the untraced time" % kind,
               "%+.1f%% (median of paired rounds)" % growth["paired_percent"],
               growth["paired_percent"] < 1.0)
        target("%s: --escalate costs nothing while nothing grows" % kind,
               "%.3fx --growth (paired median)" % growth["escalate_over_growth"],
               growth["escalate_over_growth"] < 1.02)
    if "fds" in results:
        fds = results["fds"]
        target("--fds: an untraced process pays under 100 ns per system call",
               "%+.1f ns (%+.1f with the other tracepoints)" %
               (fds["untraced_ns_per_syscall"], fds["untraced_ns_per_syscall_all"]),
               fds["untraced_ns_per_syscall"] < 100)
        target("--fds: the target pays under 1 us per open+close",
               "%+.1f ns" % fds["target_ns_per_pair"], fds["target_ns_per_pair"] < 1000)
        programs = fds.get("programs", {})
        empty = programs.get("empty untraced", {}).get("floor_syscall")
        untraced = programs.get("--fds untraced", {})
        target_progs = programs.get("--fds target", {})
        if empty and len(untraced) == 2 and len(target_progs) == 2:
            above = sum(untraced.values()) / 2 - empty
            target("--fds: its programs add under 100 ns to an empty one's per system call "
                   "of an untraced process (bpf_stats)", "%+.1f ns" % above, above < 100)
            above = sum(target_progs.values()) - 2 * empty
            target("--fds: its programs add under 1 us to an empty one's per open+close "
                   "of the target (bpf_stats)", "%+.1f ns" % above, above < 1000)
    for name, row in results.get("lifecycle", {}).items():
        limit = 1.0 if name == "system-wide" else 0.5
        target("%s: start and stop each under %.1f s" % (name, limit),
               "start %.3f s, stop %.3f s" % (row["start_s"], row["stop_s"]),
               row["start_s"] < 0.5 and row["stop_s"] < limit)
    for name, row in results.get("leak_check", {}).items():
        target("leak check, %s: held at most 1 s per GiB copied" % name,
               "%.2f s/GiB" % row["held_s_per_gib"], row["held_s_per_gib"] <= 1.0)
        if name.startswith("1 GiB"):
            target("leak check, %s: verdict within 10 s" % name,
                   "%.2f s" % row["verdict_s"], row["verdict_s"] <= 10.0)
    million = results["reports"][-1]
    target("report with %d outstanding blocks under 200 ms" % million["blocks"],
           "%.2f ms at most" % (million["report_ms_max"] or 0),
           million["report_ms_max"] is not None and million["report_ms_max"] < 200)
    return rows


def run_bench(args):
    started = time.time()
    libc = libc_path()
    configs = configurations(args, libc)
    results = {"machine": os.uname().release, "libc": libc, "workloads": {}}

    kinds = [("pairs", args.rounds)] if args.quick else \
        [("pairs", args.rounds), ("mixed", args.rounds), ("cxx", args.rounds)]
    for kind, rounds in kinds:
        chosen = configs if kind == "pairs" else \
            [c for c in configs if c[0] in ("untraced", "leaksnoop", "floor chosen",
                                             "leaksnoop --growth",
                                             "leaksnoop -s %d" % args.sample_rate,
                                             "bpftrace memleak")]
        print("\n== %s workload" % kind, flush=True)
        samples, cpu, rss = measure_overhead(kind, 2 if args.quick else rounds, chosen, args)
        results["workloads"][kind] = summarize(kind, samples, cpu, rss, args)

    if not args.quick:
        print("\n== growth mode, paired with untraced runs 5x as long", flush=True)
        results["growth_paired"] = measure_growth([kind for kind, _ in kinds], 8, args)

    print("\n== start and stop", flush=True)
    results["lifecycle"] = measure_lifecycle(3 if args.quick else 7)

    print("\n== containers and allocators loaded after attach", flush=True)
    results["containers"] = measure_containers(1 if args.quick else 3)
    results["late_allocator"] = measure_late_gap(3 if args.quick else 7)

    print("\n== descriptors (--fds)", flush=True)
    results["fds"] = measure_fds(3 if args.quick else 7)
    results["fds"]["programs"] = measure_fd_programs()

    print("\n== thread and goroutine tracking", flush=True)
    results["churn"] = measure_churn(2 if args.quick else 3)

    print("\n== Go: the runtime's heap profile and goroutine list, read from outside", flush=True)
    results["go_reports"] = measure_go_reports(3 if args.quick else 9)

    print("\n== report cost with many outstanding blocks", flush=True)
    scale = [measure_reports(100000), measure_reports(1000000)]
    def ms(value):
        return "?" if value is None else "%.2f" % value

    for row in scale:
        print("  %8d blocks: report %s ms (max %s), BPF maps %.1f MiB, leaksnoop RSS %.1f MiB" %
              (row["blocks"], ms(row["report_ms_median"]), ms(row["report_ms_max"]),
               row["map_bytes"] / 1048576.0, row["tracer_rss_kib"] / 1024.0))
    # The block table is allocated whole at load: the cost is per block of capacity.
    per_block = scale[1]["map_bytes"] / 1000000.0
    print("  BPF map memory with 1M outstanding blocks: %.1f bytes per block (all maps)" % per_block)
    results["reports"] = scale

    print("\n== leak check (--leak-check)", flush=True)
    results["leak_check"] = measure_leak_check(args.quick)
    results["map_bytes_per_block"] = per_block
    results["targets"] = check_targets(results, args)
    results["seconds"] = time.time() - started

    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    with open(os.path.join(ROOT, "build", "bench.json"), "w") as f:
        json.dump(results, f, indent=1)
    print("\nresults: build/bench.json (%.0f s)" % results["seconds"])


if __name__ == "__main__":
    main()
