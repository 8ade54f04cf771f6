# SPDX-License-Identifier: MIT
"""Goroutines per `go` statement, from outside a running Go program (tests/progs/goleak)."""
import subprocess
import time
import unittest

from harness import LEAKSNOOP, LeaksnoopTest, Run, Target, frames_of, prog


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
            # The runtime starts goroutines of its own (GC workers): totals add up the sites.
            self.assertEqual(final["totals"]["goroutines_live"],
                             sum(g["count"] for g in final["goroutines"]))
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
