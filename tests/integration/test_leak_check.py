# SPDX-License-Identifier: MIT
"""--leak-check: per allocation site, the same definitely / indirectly /
possibly lost and still reachable bytes as valgrind's memcheck gives for the
same program (run here, --xml), at the command's exit with -c and on a
running process with -p; under glibc, jemalloc, tcmalloc and musl; C++
strings, vectors, new[] and multiple inheritance.  And the hold: a target
never left stopped, its signals delivered, its output unchanged, when
leaksnoop is killed during a check or the target is under a debugger; the CI
gate (--error-exitcode, --suppressions, the SUMMARY line)."""
import collections
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from harness import LEAKSNOOP, LeaksnoopTest, Run, Target, prog

VERDICTS = ("definitely_lost", "indirectly_lost", "possibly_lost", "reachable")
VALGRIND_KINDS = {"Leak_DefinitelyLost": "definitely_lost",
                  "Leak_IndirectlyLost": "indirectly_lost",
                  "Leak_PossiblyLost": "possibly_lost",
                  "Leak_StillReachable": "reachable"}

# The allocation sites of tests/progs/leak_cases.c and leak_cases_cxx.cpp.
C_SITES = ("cache_entry", "dropped", "list_head", "list_node", "interior_only", "cycle_node",
           "on_thread_stack", "in_tls", "in_mapping")
CXX_SITES = ("make_string", "make_vector", "make_objects", "make_derived", "make_lost")


def valgrind_sites(argv, sites):
    """{site: {verdict: bytes}} from valgrind's loss records, its exit-time frees off."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as xml:
        subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=all",
                        "--run-libc-freeres=no", "--run-cxx-freeres=no", "--xml=yes",
                        "--xml-file=" + xml.name] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        root = ET.parse(xml.name).getroot()
    found = collections.defaultdict(collections.Counter)
    for error in root.iter("error"):
        verdict = VALGRIND_KINDS.get(error.findtext("kind"))
        if not verdict:
            continue
        functions = [f.findtext("fn") or "" for f in error.find("stack").iter("frame")]
        what = error.find("xwhat")
        # "144 (48 direct, 96 indirect) bytes...": the record's own blocks are the direct ones.
        direct = re.search(r"\(([\d,]+) direct", what.findtext("text"))
        leaked = int(direct.group(1).replace(",", "")) if direct else \
            int(what.findtext("leakedbytes"))
        for name in sites:
            if name in functions:
                found[name][verdict] += leaked
    return {name: dict(found[name]) for name in sites}


def leaksnoop_sites(report, sites):
    """{site: {verdict: bytes}} from a report's per-stack reachability."""
    found = collections.defaultdict(collections.Counter)
    for stack in report["stacks"]:
        if stack["kind"] != "heap" or "reachability" not in stack:
            continue
        functions = [f.get("symbol", "") for f in stack["frames"]]
        for name in sites:
            if name in functions:
                for verdict in VERDICTS:
                    if stack["reachability"][verdict]["bytes"]:
                        found[name][verdict] += stack["reachability"][verdict]["bytes"]
    return {name: dict(found[name]) for name in sites}


def read_text(path):
    with open(path) as f:
        return f.read()


def held_by(report, function):
    """Bytes the heap stacks through function hold."""
    return sum(s["outstanding_bytes"] for s in report["stacks"]
               if s["kind"] == "heap" and function in [f.get("symbol") for f in s["frames"]])


def status_field(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
    return None


class Ticker:
    """tests/progs/big_heap: 1 GiB in 1M blocks, a tick every 20 ms on stdout."""

    def __init__(self, count=1 << 20, size=1024, mode=None):
        self.out = tempfile.NamedTemporaryFile(mode="w+")
        self.proc = subprocess.Popen([prog("big_heap"), str(count), str(size)] +
                                     (["0", mode] if mode else []), stdout=self.out)
        self.pid = self.proc.pid
        deadline = time.time() + 60
        while "ready" not in self.lines() and time.time() < deadline:
            time.sleep(0.05)

    def lines(self):
        with open(self.out.name) as f:
            return f.read().split("\n")

    def ticks(self):
        return [int(line.split()[1]) for line in self.lines() if line.startswith("tick")]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.out.close()


def wait_held_by(pid, tracer, timeout=30):
    """Until tracer ptrace-holds pid (the leak check's hold has begun)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if status_field(pid, "TracerPid") == str(tracer):
            return True
        time.sleep(0.001)
    return False


class LeakCheck(LeaksnoopTest):
    def check_command(self, name, *options):
        run = Run(["--leak-check", "-T", "1000"] + list(options) + ["-c", prog(name)])
        try:
            status = run.wait(120)
            return status, run.reports()[-1], run.stderr()
        finally:
            run.close()

    def assert_sites_match_valgrind(self, name, sites, truth_of=None, options=()):
        status, report, stderr = self.check_command(name, *options)
        self.assertEqual(status, 0, stderr)
        truth = valgrind_sites([prog(truth_of or name)], sites)
        self.assertEqual(leaksnoop_sites(report, sites), truth)
        return report, stderr

    def test_categories_at_exit_equal_valgrinds_per_site(self):
        report, stderr = self.assert_sites_match_valgrind("leak_cases", C_SITES)
        # The truth as the program builds it, so that valgrind agreeing is no accident.
        self.assertEqual(leaksnoop_sites(report, ("dropped", "list_head", "list_node",
                                                  "cycle_node", "interior_only")),
                         {"dropped": {"definitely_lost": 600},
                          "list_head": {"definitely_lost": 48},
                          "list_node": {"indirectly_lost": 96},
                          "cycle_node": {"definitely_lost": 64, "indirectly_lost": 64},
                          "interior_only": {"possibly_lost": 300}})
        check = report["leak_check"]
        self.assertGreater(check["frozen_ms"], 0)
        self.assertGreater(check["scanned_bytes"], 0)
        self.assertFalse(check["allocator_memory_scanned"])
        for stack in report["stacks"]:  # the four categories sum to what a stack holds
            if "reachability" in stack:
                self.assertEqual(sum(stack["reachability"][v]["bytes"] for v in VERDICTS),
                                 stack["outstanding_bytes"])
                self.assertEqual(sum(stack["reachability"][v]["allocs"] for v in VERDICTS),
                                 stack["outstanding_allocs"])
        lost = check["definitely_lost_bytes"] + check["indirectly_lost_bytes"]
        lost_allocs = check["definitely_lost_allocs"] + check["indirectly_lost_allocs"]
        self.assertIn("SUMMARY: leaksnoop: %d bytes leaked in %d allocations." %
                      (lost, lost_allocs), stderr)

    def test_other_allocators_give_the_same_verdicts(self):
        for allocator in ("jemalloc", "tcmalloc", "musl"):
            with self.subTest(allocator=allocator):
                self.assert_sites_match_valgrind("leak_cases_" + allocator, C_SITES,
                                                 truth_of="leak_cases")

    def test_cxx_strings_vectors_new_arrays_and_bases_are_not_lost(self):
        for name, heuristics in (("leak_cases_cxx", ("newarray", "multipleinheritance")),
                                 ("leak_cases_cxx_cow", ("stdstring", "newarray",
                                                         "multipleinheritance"))):
            with self.subTest(program=name):
                # libstdc++ keeps no frame pointers: its callers, the sites, need CFI.
                report, _ = self.assert_sites_match_valgrind(name, CXX_SITES,
                                                             options=("--unwind", "dwarf"))
                sites = leaksnoop_sites(report, CXX_SITES)
                for site in ("make_string", "make_vector", "make_objects", "make_derived"):
                    self.assertEqual(list(sites[site]), ["reachable"], site)
                self.assertEqual(sites["make_lost"], {"definitely_lost": 128})
                via = report["leak_check"]["reachable_via_heuristic"]
                for heuristic in heuristics:
                    self.assertEqual(via[heuristic], 1, heuristic)

    def test_attached_mid_life_a_table_from_before_attach_keeps_its_blocks(self):
        sites = C_SITES + ("in_old_table",)
        truth = valgrind_sites([prog("leak_cases")], C_SITES)
        truth["in_old_table"] = {"reachable": 176}  # only the table from before attach has it
        for suffix in ("", "_tcmalloc", "_musl", "_jemalloc"):
            with self.subTest(program="leak_cases" + suffix):
                target = Target("leak_cases" + suffix)
                try:
                    report = self.trace_released(target, ["--leak-check"])
                finally:
                    target.close()
                found = leaksnoop_sites(report, sites)
                self.assertTrue(report["leak_check"]["allocator_memory_scanned"])
                if suffix != "_jemalloc":
                    self.assertEqual(found, truth)
                    continue
                # jemalloc's thread caches keep stale pointers to the blocks they handed
                # out, and mid-life its metadata is scanned: leaks can be missed, but
                # nothing reachable is ever called lost.
                for site in sites:
                    self.assertEqual(sum(found[site].values()), sum(truth[site].values()), site)
                    if "reachable" in truth[site]:
                        self.assertEqual(list(found[site]), ["reachable"], site)

    def test_error_exitcode_suppressions_and_a_malformed_file(self):
        status, report, stderr = self.check_command("leak_cases", "--error-exitcode", "23")
        self.assertEqual(status, 23, stderr)
        self.assertIn("SUMMARY: leaksnoop: 872 bytes leaked in 8 allocations.", stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".supp") as supp:
            supp.write("# known leaks\nleak:dropped\nleak:^list_*\n\nleak:cycle_node$\n")
            supp.flush()
            status, report, stderr = self.check_command(
                "leak_cases", "--error-exitcode", "23", "--suppressions", supp.name)
            self.assertEqual(status, 0, stderr)  # the command's own status
            self.assertIn("SUMMARY: leaksnoop: 0 bytes leaked in 0 allocations.", stderr)
            self.assertEqual(report["leak_check"]["suppressed_bytes"], 600 + 144 + 128)
            suppressed = [s["suppressed"] for s in report["stacks"] if "suppressed" in s]
            self.assertEqual(sorted(set(suppressed)), ["^list_*", "cycle_node$", "dropped"])
        with tempfile.NamedTemporaryFile("w", suffix=".supp") as bad:
            bad.write("leak:ok\nlek:typo\n")
            bad.flush()
            out = subprocess.run([LEAKSNOOP, "--leak-check", "--suppressions", bad.name,
                                  "-c", "true"], capture_output=True, text=True)
            self.assertEqual(out.returncode, 2)
            self.assertEqual(out.stderr.count("\n"), 1, out.stderr)
            self.assertIn(bad.name + ":2: expected 'leak:PATTERN'", out.stderr)

    def test_error_exitcode_for_goroutines_left_running_at_the_commands_exit(self):
        # goleak ends in `select {}`: once its leaked goroutines block too, Go's deadlock
        # detector makes it exit (status 2) with them still there.
        run = Run(["1", "--error-exitcode", "7", "-c", prog("goleak")])
        try:
            self.assertEqual(run.wait(60), 7, run.stderr())
            stderr = run.stderr()
        finally:
            run.close()
        # 30 on a channel, 20 in a select; the runtime's own goroutines are not counted.
        self.assertIn("leaksnoop: 50 goroutines still running at exit", stderr)
        run = Run(["1", "-c", prog("goleak")])
        try:
            self.assertEqual(run.wait(60), 2, run.stderr())  # without it, the command's own
        finally:
            run.close()

    def test_error_exitcode_for_leaked_threads_unless_suppressed(self):
        def status_with(*options):
            with tempfile.NamedTemporaryFile("w+") as out:
                run = Run(["1", "--error-exitcode", "5"] + list(options) +
                          ["-c", prog("threads")], stdout=out)
                try:
                    run.wait_tracing()
                    deadline = time.time() + 30
                    while "done" not in read_text(out.name) and time.time() < deadline:
                        time.sleep(0.05)
                    pid = int(subprocess.run(["pgrep", "-P", str(run.proc.pid), "threads"],
                                             capture_output=True, text=True).stdout.split()[0])
                    os.kill(pid, signal.SIGTERM)
                    return run.wait(60), run.stderr()
                finally:
                    run.close()

        status, stderr = status_with()
        self.assertEqual(status, 5, stderr)
        self.assertIn("threads leaked", stderr)
        # Threads still running when the command exits were never joined either.
        with tempfile.NamedTemporaryFile("w", suffix=".supp") as supp:
            supp.write("leak:leak_site\nleak:blocked_site\nleak:pool_site\n")
            supp.flush()
            status, stderr = status_with("--suppressions", supp.name)
        self.assertEqual(status, 128 + signal.SIGTERM, stderr)  # the command's own
        self.assertNotIn("threads leaked", stderr)

    def test_a_target_under_a_debugger_is_reported_without_verdicts(self):
        target = Target("leak_cases")
        tracer = subprocess.Popen(["strace", "-q", "-o", "/dev/null", "-p", str(target.pid)])
        try:
            deadline = time.time() + 10
            while status_field(target.pid, "TracerPid") == "0" and time.time() < deadline:
                time.sleep(0.02)
            report = self.trace_released(target, ["--leak-check"])
            self.assertIn("PID %d is being traced by PID %d" % (target.pid, tracer.pid),
                          report["leak_check"]["skipped"])
            self.assertNotIn("reachability", str(report["stacks"]))
            self.assertEqual(held_by(report, "dropped"), 600)  # the report goes on
        finally:
            tracer.terminate()
            tracer.wait()
            target.close()

    def test_ptrace_denied_is_one_line_and_the_report_goes_on(self):
        target = Target("leak_cases")
        try:
            run = Run(["-p", str(target.pid), "-o", "0", "--leak-check", "-T", "100", "1"],
                      wrapper=[prog("deny_ptrace")])
            try:
                run.wait_tracing()
                target.release()
                target.wait_done()
                time.sleep(2.2)
                self.assertEqual(run.stop(), 0, run.stderr())
                report, stderr = run.reports()[-1], run.stderr()
            finally:
                run.close()
            self.assertIsNone(target.proc.poll())
            self.assertEqual(status_field(target.pid, "TracerPid"), "0")
        finally:
            target.close()
        self.assertIn("Operation not permitted (CAP_SYS_PTRACE needed",
                      report["leak_check"]["skipped"])
        self.assertEqual(stderr.count("leak check skipped"), 1, stderr)
        self.assertEqual(held_by(report, "dropped"), 600)

    def hold_then(self, act):
        """leaksnoop -p on big_heap; act(run, ticker) once its check holds the target."""
        ticker = Ticker()
        run = Run(["-p", str(ticker.pid), "--leak-check", "1"])
        try:
            run.wait_tracing()
            self.assertTrue(wait_held_by(ticker.pid, run.proc.pid), run.stderr())
            act(run, ticker)
            return run, ticker
        except BaseException:
            run.close()
            ticker.close()
            raise

    def assert_runs_on(self, ticker):
        """Its ticks go on, one after the other, and nothing holds it."""
        before = len(ticker.ticks())
        time.sleep(0.5)
        ticks = ticker.ticks()
        self.assertGreater(len(ticks), before + 5)
        self.assertEqual(ticks, list(range(1, len(ticks) + 1)))
        self.assertEqual(status_field(ticker.pid, "TracerPid"), "0")
        self.assertNotIn(status_field(ticker.pid, "State")[0], "tT")

    def test_sigkill_during_the_hold_leaves_the_target_running(self):
        run, ticker = self.hold_then(lambda run, _: run.proc.kill())
        try:
            run.wait(30)
            self.assert_runs_on(ticker)
        finally:
            run.close()
            ticker.close()
        time.sleep(0.5)  # the killed tracer's links are released by the kernel

    def test_a_signal_during_the_hold_is_delivered_after_it(self):
        run, ticker = self.hold_then(lambda _, t: os.kill(t.pid, signal.SIGUSR1))
        try:
            deadline = time.time() + 10
            while "signal 1" not in ticker.lines() and time.time() < deadline:
                time.sleep(0.02)
            self.assertIn("signal 1", ticker.lines())
            self.assertEqual(run.stop(), 0, run.stderr())
            self.assertIn("leak_check", run.reports()[-1])
            self.assert_runs_on(ticker)
        finally:
            run.close()
            ticker.close()

    def test_a_target_that_forks_all_the_time_is_checked_and_runs_on(self):
        ticker = Ticker(100000, 1024, "fork")
        run = Run(["-p", str(ticker.pid), "--leak-check", "1"])
        try:
            run.wait_tracing()
            time.sleep(3.5)
            self.assertEqual(run.stop(), 0, run.stderr())
            checks = [r["leak_check"] for r in run.reports()]
            self.assert_runs_on(ticker)
            self.assertNotIn("fork failed", ticker.lines())
            children = subprocess.run(["pgrep", "-P", str(ticker.pid)], capture_output=True,
                                      text=True).stdout.split()
            self.assertEqual(children, [])  # every child ran, exited and was reaped
        finally:
            run.close()
            ticker.close()
        self.assertGreaterEqual(len([c for c in checks if "frozen_ms" in c]), 3, checks)

    def test_a_target_killed_during_the_hold_ends_the_run_cleanly(self):
        run, ticker = self.hold_then(lambda _, t: t.proc.kill())
        try:
            self.assertEqual(run.wait(60), 0, run.stderr())
            self.assertTrue(run.reports()[-1]["final"])
        finally:
            run.close()
            ticker.close()

    def test_go_tool_pprof_ranks_the_leaks_by_lost_space(self):
        from test_pprof import flat, pprof
        with tempfile.TemporaryDirectory() as d:
            profile = os.path.join(d, "heap.pb.gz")
            out = subprocess.run([LEAKSNOOP, "--leak-check", "-f", "pprof", "-w", profile,
                                  "-c", prog("leak_cases")], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            lost = pprof("-sample_index=lost_space", "-top", "-unit=B", profile)
            self.assertEqual(flat(lost, "dropped"), "600B")
            self.assertEqual(flat(lost, "list_node"), "96B")   # indirectly lost
            self.assertIn(flat(lost, "cache_entry"), (None, "0"))  # reachable: no lost node
            possibly = pprof("-sample_index=possibly_lost_space", "-top", "-unit=B", profile)
            self.assertEqual(flat(possibly, "interior_only"), "300B")
            self.assertEqual(flat(pprof("-sample_index=inuse_space", "-top", "-unit=B", profile),
                                  "cache_entry"), "400B")

    def test_metrics_carry_the_last_checks_verdicts(self):
        from test_live import fetch, free_port
        target = Target("leak_cases")
        port = free_port()
        run = Run(["-p", str(target.pid), "-o", "0", "--leak-check", "--listen",
                   "127.0.0.1:%d" % port, "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(2.5)  # a periodic report, with its check, after the last allocation
            metrics = fetch("http://127.0.0.1:%d/metrics" % port).decode()
            self.assertEqual(run.stop(), 0, run.stderr())
        finally:
            run.close()
            target.close()
        found = {line.split("{")[0].split(" ")[0]: float(line.rsplit(" ", 1)[1])
                 for line in metrics.splitlines() if line and not line.startswith("#")}
        self.assertEqual(found["leaksnoop_definitely_lost_bytes"], 712)
        self.assertEqual(found["leaksnoop_indirectly_lost_bytes"], 160)
        self.assertIn('leaksnoop_stack_lost_bytes{', metrics)
        self.assertGreater(found["leaksnoop_leak_check_frozen_seconds"], 0)
        lint = subprocess.run(["promtool", "check", "metrics"], input=metrics,
                              capture_output=True, text=True)
        self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)

    def test_periodic_checks_of_a_command_it_traces_all_along(self):
        """-c: the command is ptrace'd for its exit already; every second's check
        interrupts it and lets it go, its signals still delivered, its ticks unbroken."""
        with tempfile.NamedTemporaryFile("w+") as out:
            run = Run(["-o", "0", "--leak-check", "1", "-c",
                       "%s 100000 1024 10" % prog("big_heap")], stdout=out)
            try:
                run.wait_tracing()
                time.sleep(1.5)
                pid = int(subprocess.run(["pgrep", "-P", str(run.proc.pid), "big_heap"],
                                         capture_output=True, text=True).stdout.split()[0])
                for _ in range(6):
                    os.kill(pid, signal.SIGUSR1)
                    time.sleep(0.45)
                self.assertEqual(run.stop(), 0, run.stderr())
                reports = run.reports()
            finally:
                run.close()
            out.seek(0)
            lines = out.read().split("\n")
        ticks = [int(line.split()[1]) for line in lines if line.startswith("tick")]
        self.assertEqual(ticks, list(range(1, len(ticks) + 1)))
        self.assertEqual([line for line in lines if line.startswith("signal")][-1], "signal 6")
        checked = [r["leak_check"] for r in reports if "frozen_ms" in r["leak_check"]]
        self.assertGreaterEqual(len(checked), 3)
        for check in checked:
            self.assertEqual(check["definitely_lost_allocs"], 10)
            # the blocks, their table and stdio's buffer for stdout
            self.assertEqual(check["reachable_allocs"], 100000 + 2)

    def test_leak_check_options_are_checked(self):
        for args, message in ((["--leak-check"], "give one -p PID or -c CMD"),
                              (["--leak-check", "-s", "10", "-c", "true"], "not with -s"),
                              (["--sort", "lost", "-c", "true"], "add --leak-check"),
                              (["--error-exitcode", "0", "-c", "true"], "1 to 255"),
                              (["--leak-check-max-bytes", "lots", "-c", "true"], "expected bytes")):
            out = subprocess.run([LEAKSNOOP] + args, capture_output=True, text=True)
            self.assertEqual(out.returncode, 2, args)
            self.assertIn(message, out.stderr)
            self.assertEqual(out.stderr.count("\n"), 1, out.stderr)

    def test_past_max_bytes_the_check_is_skipped_and_said_once(self):
        status, report, stderr = self.check_command("leak_cases", "--leak-check-max-bytes", "1M")
        self.assertEqual(status, 0, stderr)
        self.assertIn("more than --leak-check-max-bytes", report["leak_check"]["skipped"])
        self.assertEqual(held_by(report, "dropped"), 600)
        self.assertEqual(stderr.count("leak check skipped"), 1, stderr)
        self.assertNotIn("SUMMARY:", stderr)


if __name__ == "__main__":
    unittest.main()
