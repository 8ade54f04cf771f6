# SPDX-License-Identifier: MIT
"""leaksnoop against programs whose leaks are exactly known (see tests/progs/)."""
import os
import signal
import subprocess
import time
import unittest

from harness import LeaksnoopTest, Run, Target, prog, site, frames_of

# function -> (bytes held, blocks held, blocks allocated), from tests/progs/leaky.c
LEAKY_TRUTH = {
    "leak_a": (10000, 10, 10),
    "leak_b": (1500, 5, 5),
    "churn": (0, 0, 1000),
    "realloc_chain": (5000, 1, 4),
    "realloc_to_zero": (0, 0, 1),
    "memalign_posix": (768, 3, 3),
    "memalign_aligned": (256, 2, 2),
    "__strdup": (48, 4, 4),
    "cross_thread": (0, 0, 20),
    "thread_leak": (2100, 7, 7),
    "lib_leak": (2664, 8, 8),
}
LEAKY_MMAP_TRUTH = {
    "mmap_leak": (131072, 2, 3),
    "mmap_unmapped": (0, 0, 4),
}


class HeapTruth(LeaksnoopTest):
    def assert_leaky_truth(self, report):
        for function, truth in LEAKY_TRUTH.items():
            self.assertEqual(site(report, function), truth, function)
        for function, truth in LEAKY_MMAP_TRUTH.items():
            self.assertEqual(site(report, function, kind="mmap"), truth, function)

    def test_command_mode_reports_exact_bytes_and_counts_per_site(self):
        run = Run(["-c", prog("leaky"), "-o", "0", "-T", "100", "30"])
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
            reports = run.reports()
            self.assertEqual(len(reports), 1)
            final = reports[-1]
            self.assertTrue(final["final"])
            self.assertTrue(final["target_exited"])
            self.assert_leaky_truth(final)
            self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
        finally:
            run.close()

    def test_pid_mode_on_a_process_started_before_attach(self):
        target = Target("leaky", "--linger")
        run = Run(["-p", str(target.pid), "-o", "0", "-T", "100", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            reports = run.reports()
            self.assertGreaterEqual(len(reports), 2)
            self.assertTrue(reports[-1]["final"])
            self.assertFalse(reports[-1]["target_exited"])
            self.assertTrue(all(not r["final"] for r in reports[:-1]))
            self.assert_leaky_truth(reports[-1])
            self.assertEqual(reports[-1]["pid"], target.pid)
            self.assertEqual(reports[-1]["comm"], "leaky")
        finally:
            run.close()
            target.close()

    def test_two_instances_on_one_target_each_see_the_exact_truth(self):
        target = Target("leaky", "--linger")
        first = Run(["-p", str(target.pid), "-o", "0", "-T", "100", "1"])
        second = Run(["-p", str(target.pid), "-o", "0", "-T", "100", "1"])
        try:
            first.wait_tracing()
            second.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.5)
            self.assertEqual(first.stop(signal.SIGINT), 0, first.stderr())
            # The target runs on under the second instance alone.
            self.assertIsNone(target.proc.poll())
            self.assertEqual(second.stop(signal.SIGINT), 0, second.stderr())
            for run in (first, second):
                self.assert_leaky_truth(run.reports()[-1])
                self.assertEqual(run.reports()[-1]["dropped"], {"events": 0, "stacks": 0})
            self.assertIsNone(target.proc.poll())
        finally:
            first.close()
            second.close()
            target.close()

    def test_two_thousand_threads_alive_at_once_keep_the_exact_truth(self):
        target = Target("many_threads")
        run = Run(["-p", str(target.pid), "-o", "0", "-T", "50", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            self.assertEqual(site(final, "thread_block"), (2000 * 100, 2000, 2000))
            self.assertEqual(site(final, "thread_churn"), (0, 0, 2000))
            self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
            # All joined: none live, none leaked.
            self.assertEqual((final["totals"]["threads_live"], final["totals"]["threads_leaked"]),
                             (0, 0))
            self.assertIsNone(target.proc.poll())
        finally:
            run.close()
            target.close()

    def test_repeated_pid_traces_each_process_exactly_under_its_pid(self):
        first, second = Target("leaky", "--linger"), Target("leaky", "--linger")
        run = Run(["-p", str(first.pid), "-p", str(second.pid), "-o", "0", "-T", "200", "1"])
        try:
            run.wait_tracing()
            for target in (first, second):
                target.release()
                target.wait_done()
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            for target in (first, second):
                mine = {"stacks": [s for s in final["stacks"] if s["pid"] == target.pid]}
                for function, truth in LEAKY_TRUTH.items():
                    self.assertEqual(site(mine, function), truth, (target.pid, function))
            self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
        finally:
            run.close()
            first.close()
            second.close()

    def test_repeated_pid_runs_until_the_last_process_exits(self):
        first, second = Target("leaky"), Target("leaky", "--linger")
        run = Run(["-p", str(first.pid), "-p", str(second.pid), "-o", "0", "1"])
        try:
            run.wait_tracing()
            first.release()
            first.wait_done()
            first.proc.wait(timeout=10)
            time.sleep(1.5)
            self.assertIsNone(run.proc.poll(), "stopped while a process was left")
            second.close()
            self.assertEqual(run.wait(timeout=15), 0, run.stderr())
            self.assertTrue(run.reports()[-1]["target_exited"])
        finally:
            run.close()
            first.close()
            second.close()

    def test_threads_sharing_a_call_slot_keep_the_exact_truth(self):
        # One call slot for every thread: the overlapping calls of 4 threads
        # must go to per-thread storage and lose nothing.
        env = dict(os.environ, LEAKSNOOP_CALL_SLOTS="1")
        run = Run(["-c", prog("many") + " 4", "-v", "-o", "0", "-T", "20", "30"], env=env)
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
            final = run.reports()[-1]
            self.assertEqual(site(final, "many_leaks"), (4 * 8000000, 4 * 80000, 4 * 80000))
            self.assertEqual(site(final, "many_churn"), (0, 0, 4 * 80000))
            self.assertEqual(site(final, "many_batch"), (0, 0, 4 * 20000))
            self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
            self.assertRegex(run.stderr(), r"[1-9]\d* allocator calls found their thread's "
                                           r"slot taken and used task storage")
        finally:
            run.close()

    def test_stacks_past_the_per_cpu_banks_keep_the_exact_truth(self):
        # Only the first 3 stacks in the banks: the others count in the shared
        # totals, and each report adds both.
        env = dict(os.environ, LEAKSNOOP_BANKED_STACKS="3")
        run = Run(["-c", prog("leaky"), "-o", "0", "-T", "100", "30"], env=env)
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
            final = run.reports()[-1]
            self.assert_leaky_truth(final)
            self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
        finally:
            run.close()

    def test_frames_carry_module_file_and_line(self):
        run = Run(["-c", prog("leaky"), "-o", "0", "-T", "100", "30"])
        try:
            self.assertEqual(run.wait(), 0)
            report = run.reports()[-1]
            stack = next(s for s in report["stacks"] if frames_of(s)[:1] == ["leak_a"])
            top = stack["frames"][0]
            self.assertEqual(top["module"], prog("leaky"))
            self.assertTrue(top["file"].endswith("leaky.c"), top)
            with open(os.path.join(os.path.dirname(__file__), "..", "progs", "leaky.c")) as f:
                lines = f.read().splitlines()
            self.assertIn("malloc(1000)", lines[top["line"] - 1])
            lib = next(s for s in report["stacks"] if frames_of(s)[:1] == ["lib_leak"])
            self.assertTrue(lib["frames"][0]["module"].endswith("libleakylib.so"))
            # Stack quality: walked to the root through frame pointers, or said why not.
            self.assertEqual(stack["stack_quality"], "complete")
            strdup = next(s for s in report["stacks"] if frames_of(s)[:1] == ["__strdup"])
            self.assertEqual(strdup["stack_quality"], "truncated")
            self.assertTrue(strdup["no_frame_pointers_in"].endswith("libc.so.6"))
        finally:
            run.close()

    def test_cxx_new_and_delete_go_through_malloc_and_free(self):
        run = Run(["-c", prog("leaky_cxx"), "-o", "0", "-T", "100", "30"])
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
            report = run.reports()[-1]
            from_main = sorted(
                (s["outstanding_bytes"], s["outstanding_allocs"], s["allocs"])
                for s in report["stacks"]
                if s["kind"] == "heap" and frames_of(s)[:2] == ["operator new(unsigned long)", "main"])
            self.assertEqual(from_main, [(0, 0, 100), (288, 6, 6), (600, 3, 3)])
        finally:
            run.close()

    def test_target_exit_ends_the_run_with_a_final_report(self):
        target = Target("leaky")
        run = Run(["-p", str(target.pid), "-T", "100", "60"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            target.proc.wait(timeout=10)
            self.assertEqual(run.wait(timeout=20), 0, run.stderr())
            final = run.reports()[-1]
            self.assertTrue(final["final"] and final["target_exited"])
            # After exit no age threshold applies: everything held is leaked.
            self.assertEqual(site(final, "leak_a"), (10000, 10, 10))
        finally:
            run.close()
            target.close()

    def test_age_threshold_hides_blocks_until_they_are_old_enough(self):
        target = Target("leaky", "--linger")
        run = Run(["-p", str(target.pid), "-o", "3000", "-T", "100", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            released = time.time()
            time.sleep(5.5)
            self.assertEqual(run.stop(), 0)
            reports = run.reports()
            young = [r for r in reports if r["elapsed_s"] < 2.0 and site(r, "leak_a")]
            old = reports[-1]
            for r in young:
                self.assertEqual(site(r, "leak_a")[:2], (0, 0), r["elapsed_s"])
            self.assertEqual(site(old, "leak_a"), (10000, 10, 10))
            self.assertGreaterEqual(time.time() - released, 5)
            self.assertGreaterEqual(site(old, "leak_a")[0], 0)
        finally:
            run.close()
            target.close()

    def test_count_reports_then_exits_with_the_last_marked_final(self):
        run = Run(["-c", prog("leaky") + " --linger", "1", "2"])
        try:
            self.assertEqual(run.wait(timeout=30), 0, run.stderr())
            reports = run.reports()
            self.assertEqual([r["seq"] for r in reports], [1, 2])
            self.assertEqual([r["final"] for r in reports], [False, True])
        finally:
            run.close()

    def test_sigterm_gives_the_final_report(self):
        target = Target("leaky", "--linger")
        run = Run(["-p", str(target.pid), "-o", "0", "-T", "100", "60"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            self.assertEqual(run.stop(signal.SIGTERM), 0)
            final = run.reports()[-1]
            self.assertTrue(final["final"])
            self.assertEqual(site(final, "leak_b"), (1500, 5, 5))
        finally:
            run.close()
            target.close()

    def test_size_filters_keep_only_the_requested_sizes(self):
        run = Run(["-c", prog("leaky"), "-o", "0", "-T", "100", "-z", "1000", "-Z", "1000",
                   "--no-mmap", "30"])
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
            report = run.reports()[-1]
            self.assertEqual(site(report, "leak_a"), (10000, 10, 10))
            self.assertIsNone(site(report, "leak_b"))
            self.assertIsNone(site(report, "churn"))
            self.assertTrue(all(s["kind"] == "heap" for s in report["stacks"]))
        finally:
            run.close()

    def test_full_block_map_is_counted_as_dropped_not_hidden(self):
        run = Run(["-c", prog("leaky"), "-o", "0", "-T", "100", "--max-allocs", "8", "30"])
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
            report = run.reports()[-1]
            self.assertGreater(report["dropped"]["events"], 0)
            # --max-allocs 8 gets 2 buckets of 8 slots (half again as many as asked, rounded up).
            heap = [s for s in report["stacks"] if s["kind"] == "heap"]
            self.assertLessEqual(sum(s["outstanding_allocs"] for s in heap), 16)
            self.assertGreater(sum(s["outstanding_allocs"] for s in heap), 8)
        finally:
            run.close()

    def test_text_report_names_sites_sizes_and_lines(self):
        run = Run(["-c", prog("leaky"), "-o", "0", "30"], fmt="text")
        try:
            self.assertEqual(run.wait(), 0)
            text = run.text()
            self.assertIn("final report", text)
            self.assertIn("(10000 bytes) in 10 allocations", text)
            self.assertIn("leak_a+0x", text)
            self.assertIn("leaky.c:", text)
        finally:
            run.close()


class OtherAllocators(LeaksnoopTest):
    """The allocator is found in the target's mappings (or the executable itself)."""
    COMMON = ("leak_a", "leak_b", "churn", "realloc_chain", "thread_leak", "lib_leak", "cross_thread")

    def check(self, program, allocator):
        run = Run(["-c", prog(program), "-o", "0", "-T", "100", "30"])
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
            report = run.reports()[-1]
            self.assertEqual(report["allocator"], allocator)
            for function in self.COMMON:
                self.assertEqual(site(report, function), LEAKY_TRUTH[function], function)
            return report
        finally:
            run.close()

    def test_jemalloc(self):
        self.check("leaky_jemalloc", "jemalloc")

    def test_tcmalloc(self):
        self.check("leaky_tcmalloc", "tcmalloc")

    def test_static_executable_probes_its_own_malloc(self):
        self.check("leaky_static", "static")

    def test_musl(self):
        report = self.check("leaky_musl", "musl")
        # musl's calloc calls malloc and its posix_memalign aligned_alloc: the
        # outer call is the one recorded, under its caller.
        self.assertEqual(site(report, "memalign_posix"), LEAKY_TRUTH["memalign_posix"])
        self.assertEqual(site(report, "memalign_aligned"), LEAKY_TRUTH["memalign_aligned"])
        self.assertEqual(site(report, "strdup"), (48, 4, 4))
        # musl's realloc(p, 0) frees p and returns a new zero-byte block.
        self.assertEqual(site(report, "realloc_to_zero"), (0, 1, 2))


if __name__ == "__main__":
    unittest.main()
