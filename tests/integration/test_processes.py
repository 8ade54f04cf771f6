# SPDX-License-Identifier: MIT
"""Processes that change under -p: children forked after attach are traced and
reported by PID, an execve drops what the old image held (tests/progs/forker.c)."""
import os
import re
import signal
import time
import unittest

from harness import LeaksnoopTest, Run, Target, frames_of, prog, site
from test_heap import LEAKY_TRUTH, LEAKY_MMAP_TRUTH


def wait_for(predicate, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def site_in(report, function, pid):
    """site() over the stacks of one process."""
    return site({"stacks": [s for s in report["stacks"] if s["pid"] == pid]}, function)


class FollowProcesses(LeaksnoopTest):
    def start_forker(self, run_args):
        target = Target("forker")
        run = Run(["-p", str(target.pid), "-v", "-o", "0", "-T", "50"] + run_args)
        run.wait_tracing()
        target.release()
        child = int(target.proc.stdout.readline().split()[1])
        self.assertEqual(target.proc.stdout.readline().strip(), "done")
        # The child allocates only once leaksnoop follows it.
        wait_for(lambda: re.search(r"following child PID %d\b" % child, run.stderr()),
                 "the child to be followed")
        os.kill(child, signal.SIGUSR2)
        self.assertEqual(target.proc.stdout.readline().split()[:2], ["child", "done"])
        return target, run, child

    def test_a_forked_child_is_traced_and_reported_by_its_pid(self):
        target, run, child = self.start_forker(["1"])
        try:
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            parent = target.pid
            self.assertEqual(site_in(final, "parent_leak", parent), (300, 3, 3))
            # The child freed its copy of the parent's block: the parent still holds its own.
            self.assertEqual(site_in(final, "inherited", parent), (50, 1, 1))
            self.assertEqual(site_in(final, "child_leak", child), (1000, 5, 5))
            self.assertEqual(site_in(final, "child_churn", child), (0, 0, 10))
            self.assertIsNone(site_in(final, "child_leak", parent))
            self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
        finally:
            run.close()
            target.close()
            os.kill(child, signal.SIGKILL)

    def test_threads_of_a_forked_child_are_tracked_under_its_pid(self):
        target, run, child = self.start_forker(["1"])
        try:
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            threads = run.reports()[-1]["threads"]
            mine = [g for g in threads if "child_threads" in frames_of(g)]
            self.assertTrue(all(g["pid"] == child for g in mine), mine)
            leaked = [g for g in mine if g["state"] == "leaked"]
            # The compiler may unroll the loop into two call sites: sum them.
            self.assertEqual((sum(g["count"] for g in leaked), sum(g["created"] for g in leaked),
                              sum(g["gone"] for g in leaked)), (2, 2, 0))
            joined = [g for g in mine if g["gone"]]
            self.assertEqual([(g["count"], g["created"], g["gone"]) for g in joined], [(0, 1, 1)])
            self.assertFalse([g for g in threads if g["pid"] == target.pid and g["count"]])
        finally:
            run.close()
            target.close()
            os.kill(child, signal.SIGKILL)

    def test_with_dwarf_unwinding_the_child_is_walked_through_its_parents_tables(self):
        target, run, child = self.start_forker(["--unwind", "dwarf", "1"])
        try:
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            self.assertEqual(site_in(final, "parent_leak", target.pid), (300, 3, 3))
            self.assertEqual(site_in(final, "child_leak", child), (1000, 5, 5))
            self.assertEqual(site_in(final, "child_churn", child), (0, 0, 10))
            for stack in final["stacks"]:
                if stack["pid"] == child and "child_leak" in frames_of(stack):
                    self.assertEqual(frames_of(stack)[-3:],
                                     ["__libc_start_call_main", "__libc_start_main", "_start"])
                    self.assertEqual(stack["stack_quality"], "complete")
        finally:
            run.close()
            target.close()
            os.kill(child, signal.SIGKILL)

    def test_an_exited_child_is_shown_once_then_dropped(self):
        target, run, child = self.start_forker(["1"])
        try:
            time.sleep(1.5)
            os.kill(child, signal.SIGKILL)  # a zombie: forker never reaps it
            time.sleep(3)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            reports = run.reports()
            shown = [r for r in reports if any(s["pid"] == child and s.get("process_exited")
                                               for s in r["stacks"])]
            self.assertEqual(len(shown), 1, "the exit is shown in exactly one report")
            self.assertEqual(site_in(shown[0], "child_leak", child), (1000, 5, 5))
            self.assertIsNone(site_in(reports[-1], "child_leak", child))
            self.assertEqual(site_in(reports[-1], "parent_leak", target.pid), (300, 3, 3))
        finally:
            run.close()
            target.close()
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def test_execve_drops_the_old_image_and_traces_the_new_one(self):
        target = Target("forker", "exec", prog("leaky"), "--linger")
        run = Run(["-p", str(target.pid), "-v", "-o", "0", "-T", "100", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()  # leaky's "done", after the exec
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            self.assertIsNone(site(final, "before_exec"))
            for function, truth in LEAKY_TRUTH.items():
                self.assertEqual(site(final, function), truth, function)
            for function, truth in LEAKY_MMAP_TRUTH.items():
                self.assertEqual(site(final, function, kind="mmap"), truth, function)
            self.assertIn("ran execve", run.stderr())
        finally:
            run.close()
            target.close()


if __name__ == "__main__":
    unittest.main()
