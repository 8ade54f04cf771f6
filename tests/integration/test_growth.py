# SPDX-License-Identifier: MIT
"""--growth: new pages per stack from the page-fault tracepoint, no probe on any call."""
import os
import signal
import subprocess
import time
import unittest

from harness import LeaksnoopTest, Run, Target, our_links, prog, site


class Growth(LeaksnoopTest):
    def test_new_pages_are_charged_to_the_writing_stack_and_rewrites_are_free(self):
        target = Target("growth")
        run = Run(["-p", str(target.pid), "--growth", "1"])
        try:
            run.wait_tracing()
            # Two tracepoint links (page faults, OOM kills), no uprobes.
            self.assertEqual(our_links() - self.links_before, 2)
            target.release()
            target.wait_done()
            time.sleep(1.2)
            self.assertEqual(run.stop(), 0, run.stderr())
            final = run.reports()[-1]
            self.assertEqual(final["mode"], "growth")
            grown = site(final, "touch_pages", kind="growth")
            self.assertEqual(grown, (0, 0, 2048))
            stack = next(s for s in final["stacks"] if s["kind"] == "growth")
            self.assertEqual(stack["alloc_bytes"], 2048 * 4096)
            self.assertIsNone(site(final, "rewrite", kind="growth"))
            self.assertEqual(final["totals"]["frees"], 0)
        finally:
            run.close()
            target.close()


class Escalation(LeaksnoopTest):
    """--escalate on tests/progs/trends.c: steady_leak() leaks 1 KiB every 100 ms;
    fill_cache() allocates 20 KiB blocks in the first second only."""

    def escalate(self, *args):
        target = subprocess.Popen([prog("trends"), "9", "--wait"], stdout=subprocess.PIPE,
                                  text=True)
        pid = int(target.stdout.readline().split()[1])
        run = Run(["-p", str(pid), "--growth", "--escalate", "--escalate-after", "2",
                   "--escalate-for", "3", "1"] + list(args))
        try:
            run.wait_tracing()
            links = our_links() - self.links_before
            os.kill(pid, signal.SIGUSR1)
            target.wait(30)
            self.assertEqual(run.wait(30), 0, run.stderr())
            return run.reports(), run.stderr(), links
        finally:
            run.close()
            target.stdout.close()

    def test_a_growing_target_is_traced_exactly_for_a_while_without_a_restart(self):
        reports, stderr, links = self.escalate("--escalate-bytes", "4K")
        self.assertEqual(links, 2)  # growth mode: the page-fault and OOM tracepoints alone
        modes = [("escalated" if r.get("escalated") else r["mode"]) for r in reports]
        first = modes.index("escalated")
        # Two growth reports that grew, then three seconds of exact reports, then growth.
        self.assertGreaterEqual(first, 2)
        self.assertEqual(set(modes[:first]), {"growth"})
        window = [r for r in reports if r.get("escalated")]
        self.assertTrue(all(r["mode"] == "exact" for r in window))
        self.assertIn("growth", modes[first:])
        self.assertIn("tracing its allocations exactly for 3 s (glibc)", stderr)
        self.assertIn("exact tracing ended, back to growth mode", stderr)
        for report in window:
            held = site(report, "steady_leak")
            self.assertIsNotNone(held, report)
            bytes_held, blocks, allocs = held
            # Exact: 1 KiB blocks, every one since the exact probes came.
            self.assertEqual(bytes_held, 1024 * blocks)
            self.assertGreaterEqual(allocs, blocks)
            # The cache was filled before: exact tracing never saw it.
            self.assertIsNone(site(report, "fill_cache"))
        # The last report of a window: about 3 s at ten blocks a second.
        last = max((r for r in window), key=lambda r: site(r, "steady_leak")[2])
        self.assertGreaterEqual(site(last, "steady_leak")[2], 20)
        self.assertLessEqual(site(last, "steady_leak")[2], 42)

    def test_with_leak_check_each_escalation_has_its_verdicts(self):
        reports, stderr, _ = self.escalate("--escalate-bytes", "4K", "--leak-check", "-o", "0")
        window = [r for r in reports if r.get("escalated")]
        self.assertTrue(window, stderr)
        checked = [r for r in window if r.get("leak_check", {}).get("skipped") is None and
                   "leak_check" in r]
        self.assertTrue(checked, stderr)
        for report in checked:
            stack = next(s for s in report["stacks"] if s["kind"] == "heap" and
                         "steady_leak" in [f.get("symbol") for f in s["frames"]])
            reach = stack["reachability"]
            # trends.c keeps every block in a global array: reachable, none lost.
            self.assertEqual(reach["reachable"]["bytes"], stack["outstanding_bytes"])
            self.assertEqual(reach["definitely_lost"]["bytes"], 0)
        # Growth reports are not checked.
        self.assertTrue(all("leak_check" not in r for r in reports if r["mode"] == "growth"))

    def test_growth_below_the_threshold_is_not_escalated(self):
        reports, stderr, _ = self.escalate("--escalate-bytes", "1G")
        self.assertEqual({r["mode"] for r in reports}, {"growth"})
        self.assertNotIn("exactly", stderr)


if __name__ == "__main__":
    unittest.main()
