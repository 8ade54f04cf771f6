# SPDX-License-Identifier: MIT
"""Goroutines per `go` statement, from outside a running Go program (tests/progs/goleak),
built as is and stripped as production ships Go; checked against the program's own
goroutine profile."""
import json
import os
import subprocess
import tempfile
import time
import unittest

from go_profiles import goroutine_groups, leaksnoop_groups, pprof_samples
from harness import LEAKSNOOP, LeaksnoopTest, Run, Target, frames_of, free_port, prog


def go_site(report, function):
    for group in report["goroutines"]:
        if frames_of(group)[:1] == [function]:
            return group
    return None


class Goroutines(LeaksnoopTest):
    def test_live_goroutines_per_go_statement_match_the_program(self):
        target = Target("goleak")
        run = Run(["-p", str(target.pid), "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.5)
            self.assertEqual(run.stop(), 0, run.stderr())
            final = run.reports()[-1]
            channel = go_site(final, "main.leakOnChannel")
            select = go_site(final, "main.leakOnSelect")
            quick = go_site(final, "main.finishQuickly")
            self.assertEqual((channel["count"], channel["created"], channel["exited"]), (30, 30, 0))
            self.assertEqual((select["count"], select["created"], select["exited"]), (20, 20, 0))
            self.assertEqual((quick["count"], quick["created"], quick["exited"]), (0, 50, 50))
            # The runtime starts goroutines of its own (GC workers): totals add up the sites,
            # those alive at attach included.
            self.assertEqual(final["totals"]["goroutines_live"]
                             + final["totals"]["goroutines_preexisting"],
                             sum(g["count"] for g in final["goroutines"]))
            self.assertEqual(final["totals"]["goroutines_preexisting"],
                             sum(g["preexisting"] for g in final["goroutines"]))
            # Where they wait, as the runtime has it.
            self.assertEqual(channel["states"], {"chan receive": 30})
            self.assertEqual(select["states"], {"select": 20})
            self.assertEqual(channel["waiting_in"]["symbol"], "main.leakOnChannel.func1")
            self.assertEqual(select["waiting_in"]["symbol"], "main.leakOnSelect.func1")
            with open(channel["waiting_in"]["file"]) as f:
                self.assertIn("<-never", f.read().splitlines()[channel["waiting_in"]["line"] - 1])
            self.assertGreaterEqual(final["totals"]["goroutines_live"], 50)
            self.assertGreater(final["totals"]["goroutines_preexisting"], 0)
            # The go statement itself, with its line, then its callers.
            top = channel["frames"][0]
            self.assertTrue(top["file"].endswith("goleak/main.go"), top)
            with open(top["file"]) as f:
                self.assertIn("go func()", f.read().splitlines()[top["line"] - 1])
            self.assertEqual(frames_of(channel)[1], "main.main")
            # The heap of a Go program is not probed: no return probes in Go code.
            self.assertEqual(final["allocator"], "go")
            self.assertFalse([s for s in final["stacks"] if s["kind"] == "heap"])
        finally:
            run.close()
            target.close()

    def traced_groups(self, program, early=10):
        """leaksnoop -p on goleak started with `early` goroutines before attach; the final
        report and the program's own goroutine profile written when it is done."""
        with tempfile.TemporaryDirectory() as tmp:
            stacks = os.path.join(tmp, "stacks")
            target = Target(program, "-early", str(early), "-stacks", stacks)
            run = Run(["-p", str(target.pid), "1"])
            try:
                run.wait_tracing()
                target.release()
                target.wait_done()
                time.sleep(1.5)
                self.assertEqual(run.stop(), 0, run.stderr())
                with open(stacks) as f:
                    return run.reports()[-1], goroutine_groups(f.read())
            finally:
                run.close()
                target.close()

    def check_against_own_profile(self, final, own):
        """Every group of the program's own goroutine profile, per creation site: count,
        states, where they wait and the go statement's file:line."""
        ours = leaksnoop_groups(final)
        self.assertEqual(set(own), {"main.leakEarly", "main.leakOnChannel", "main.leakOnSelect",
                                    "os/signal.Notify.func1.1"})
        for creator, truth in own.items():
            group = ours[creator]
            self.assertEqual(group["count"], truth["count"], creator)
            self.assertEqual(group["states"], dict(truth["states"]), creator)
            if truth["states"].keys() == {"syscall"}:
                # In a system call its registers are live: no parked stack to walk.
                self.assertNotIn("waiting_in", group)
                continue
            self.assertEqual(group["waiting_in"]["symbol"], truth["waiting"].most_common(1)[0][0])
            self.assertEqual(group["waiting_in_count"], truth["waiting"].most_common(1)[0][1])
            self.assertEqual((group["frames"][0]["file"], group["frames"][0]["line"]),
                             (truth["file"], truth["line"]), creator)
        # Started before attach: all ten "preexisting", none created since.
        early = ours["main.leakEarly"]
        self.assertEqual((early["count"], early["preexisting"], early["created"]), (10, 10, 0))
        self.assertEqual(ours["main.leakOnChannel"]["preexisting"], 0)

    def test_goroutines_alive_at_attach_are_grouped_as_the_program_sees_them(self):
        final, own = self.traced_groups("goleak")
        self.check_against_own_profile(final, own)

    def test_a_stripped_program_is_traced_alike(self):
        final, own = self.traced_groups("goleak_stripped")
        self.check_against_own_profile(final, own)
        self.assertEqual(final["allocator"], "go")
        # Named from .gopclntab, with lines: the same as the unstripped build's.
        unstripped, _ = self.traced_groups("goleak")
        for creator, group in leaksnoop_groups(unstripped).items():
            if creator.startswith("main."):
                stripped = leaksnoop_groups(final)[creator]
                self.assertEqual(frames_of(stripped), frames_of(group))
                self.assertEqual([f.get("line") for f in stripped["frames"]],
                                 [f.get("line") for f in group["frames"]])

    def test_goroutine_profile_is_served(self):
        target = Target("goleak_stripped")
        port = free_port()
        run = Run(["-p", str(target.pid), "--listen", "127.0.0.1:%d" % port, "100"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.2)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "goroutine.pb.gz")
                subprocess.run(["curl", "-sf", "-o", path,
                                f"http://127.0.0.1:{port}/debug/pprof/goroutine"], check=True)
                samples = pprof_samples(path, sample_values=1)
                traces = subprocess.run(["go", "tool", "pprof", "-traces", path],
                                        capture_output=True, text=True, check=True).stdout
            self.assertEqual(samples[(30,)], 1)
            self.assertEqual(samples[(20,)], 1)
            self.assertRegex(traces, r"waiting_in:\s+main.leakOnChannel.func1\n\s+30\s+main.leakOnChannel\n")
        finally:
            run.close()
            target.close()

    def run_test_binary(self, binary, *options):
        """leaksnoop -c on a Go test binary: (exit status, stderr, final report)."""
        with tempfile.NamedTemporaryFile("w+") as out:
            run = Run(["1", "--error-exitcode", "9"] + list(options) +
                      ["-c", prog(binary) + " -test.v"], stdout=out)
            try:
                status = run.wait(60)
                out.seek(0)
                self.assertIn("--- PASS: TestClean", out.read())
                return status, run.stderr(), run.reports()[-1]
            finally:
                run.close()

    def test_a_go_test_binary_fails_on_goroutines_its_tests_leave_running(self):
        for binary in ("goleak.test", "goleak_stripped.test"):
            status, stderr, final = self.run_test_binary(binary)
            # 5 workers on a channel and a ticker loop in a select; the runtime's and the
            # testing package's own goroutines are not counted, nor TestClean's.
            self.assertEqual(status, 9, stderr)
            self.assertIn("leaksnoop: 6 goroutines still running at exit", stderr)
            workers = next(g for creator, g in leaksnoop_groups(final).items()
                           if creator.endswith("goleaktest.startWorkers"))
            self.assertEqual((workers["count"], workers["states"]), (5, {"chan receive": 5}))
            self.assertTrue(workers["waiting_in"]["symbol"].endswith("startWorkers.func1"))

    def test_suppressions_name_a_creation_site_or_the_frame_where_they_wait(self):
        with tempfile.NamedTemporaryFile("w", suffix=".supp") as supp:
            supp.write("# the ticker loop waits in startTicker.func1\n"
                       "leak:goleaktest.startTicker.func1\n")
            supp.flush()
            status, stderr, _ = self.run_test_binary("goleak_stripped.test",
                                                     "--suppressions", supp.name)
            self.assertEqual(status, 9, stderr)
            self.assertIn("leaksnoop: 5 goroutines still running at exit", stderr)
            supp.write("leak:goleaktest.startWorkers\n")
            supp.flush()
            status, stderr, _ = self.run_test_binary("goleak_stripped.test",
                                                     "--suppressions", supp.name)
            self.assertEqual(status, 0, stderr)
            self.assertNotIn("still running", stderr)

    def with_release(self, program, release, directory):
        """A copy of program whose .go.buildinfo names another Go release."""
        with open(prog(program), "rb") as f:
            data = bytearray(f.read())
        info = data.index(b"\xff Go buildinf:")
        length = data[info + 32]
        old = bytes(data[info + 33:info + 33 + length])
        self.assertTrue(old.startswith(b"go1.19") and len(release) == len(old), old)
        data[info + 33:info + 33 + length] = release
        path = os.path.join(directory, program)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o755)
        return path

    def test_a_release_without_a_layout_is_refused_by_name_unless_dwarf_has_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            stripped = self.with_release("goleak_stripped", b"go1.99.8", tmp)
            proc = subprocess.run([LEAKSNOOP, "-c", stripped, "1"], capture_output=True,
                                  text=True, timeout=60)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertIn("built with go1.99.8 and without DWARF: runtime.g's layout is known "
                          "here for go1.19 only", proc.stderr)
            self.assertEqual(proc.stderr.count("\n"), 1, proc.stderr)
            # With DWARF the layout is read from it, whatever the release says.
            full = self.with_release("goleak", b"go1.99.8", tmp)
            out = os.path.join(tmp, "report")
            proc = subprocess.run([LEAKSNOOP, "-c", full, "-f", "json", "-w", out, "1"],
                                  capture_output=True, text=True, timeout=60)
            # goleak's own status: Go's deadlock detector ends it (see test_leak_check.py).
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertNotIn("layout", proc.stderr)
            with open(out) as f:
                final = [json.loads(line) for line in f][-1]
            self.assertEqual(go_site(final, "main.leakOnChannel")["count"], 30)

    def test_go_allocation_rate_is_sampled_per_stack(self):
        target = Target("goleak")
        run = Run(["-p", str(target.pid), "--go-allocs", "-T", "50", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            self.assertEqual(run.stop(), 0, run.stderr())
            final = run.reports()[-1]
            garbage = [s for s in final["stacks"]
                       if s["kind"] == "go_alloc" and "main.allocGarbage" in frames_of(s)]
            estimate = sum(s["alloc_bytes"] for s in garbage)
            # 64 MiB allocated; one sample per 512 KiB: within 5%.
            self.assertAlmostEqual(estimate / (64 << 20), 1.0, delta=0.05)
            self.assertEqual(sum(s["outstanding_bytes"] for s in garbage), 0)
        finally:
            run.close()
            target.close()

    def test_obj_override_on_a_go_program_is_refused(self):
        target = Target("goleak")
        try:
            proc = subprocess.run([LEAKSNOOP, "-p", str(target.pid), "-O", prog("goleak")],
                                  capture_output=True, text=True, timeout=30)
            self.assertEqual(proc.returncode, 2)
            self.assertIn("Go program", proc.stderr)
        finally:
            target.close()


if __name__ == "__main__":
    unittest.main()
