# SPDX-License-Identifier: MIT
"""No -p/-c: every process that calls the allocator, reported per process."""
import os
import signal
import subprocess
import time
import unittest

from harness import LeaksnoopTest, Run, prog, site
from test_heap import LEAKY_TRUTH, LEAKY_MMAP_TRUTH


def end(program):
    """Kill a program started with stdout=PIPE and collect it."""
    program.kill()
    program.wait()
    program.stdout.close()


class SystemWide(LeaksnoopTest):
    def test_a_process_started_after_attach_is_reported_exactly_under_its_pid(self):
        run = Run(["-o", "0", "-T", "400", "1"])
        leaky = None
        try:
            run.wait_tracing()
            self.assertIn("Tracing every process", run.stderr())
            leaky = subprocess.Popen([prog("leaky"), "--linger"], stdout=subprocess.PIPE,
                                     text=True)
            self.assertEqual(leaky.stdout.readline().strip(), "done")
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            self.assertEqual(final["pid"], 0)
            mine = [s for s in final["stacks"] if s["pid"] == leaky.pid]
            self.assertTrue(mine)
            self.assertTrue(all(s.get("comm") == "leaky" for s in mine))
            for function, truth in LEAKY_TRUTH.items():
                self.assertEqual(site({"stacks": mine}, function), truth, function)
            for function, truth in LEAKY_MMAP_TRUTH.items():
                self.assertEqual(site({"stacks": mine}, function, kind="mmap"), truth, function)
            # leaksnoop does not trace itself.
            self.assertFalse([s for s in final["stacks"] if s["pid"] == run.proc.pid])
        finally:
            run.close()
            if leaky:
                end(leaky)

    def test_a_process_that_exits_is_shown_once_with_its_final_numbers(self):
        run = Run(["-o", "0", "-T", "400", "1"])
        leaky = None
        try:
            run.wait_tracing()
            # It allocates once (stdout's buffer) and waits: leaksnoop adopts it;
            # released, it runs its leaks and exits before the next report.
            leaky = subprocess.Popen([prog("leaky"), "--wait"], stdout=subprocess.PIPE,
                                     text=True)
            self.assertTrue(leaky.stdout.readline().startswith("ready"))
            time.sleep(0.3)
            leaky.send_signal(signal.SIGUSR1)
            self.assertEqual(leaky.wait(timeout=30), 0)
            time.sleep(3.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            shown = [r for r in run.reports() if any(s["pid"] == leaky.pid for s in r["stacks"])]
            self.assertEqual(len(shown), 1, "shown in exactly one report")
            mine = [s for s in shown[0]["stacks"] if s["pid"] == leaky.pid]
            self.assertTrue(all(s["process_exited"] and s["comm"] == "leaky" for s in mine))
            # Symbolized from its mappings as they were while it ran.
            for function, truth in LEAKY_TRUTH.items():
                self.assertEqual(site({"stacks": mine}, function), truth, function)
        finally:
            run.close()
            if leaky:
                end(leaky)

    def test_programs_on_jemalloc_and_tcmalloc_are_seen_too(self):
        run = Run(["-o", "0", "-T", "400", "1"])
        programs = []
        try:
            run.wait_tracing()
            for name in ("leaky_jemalloc", "leaky_tcmalloc"):
                programs.append(subprocess.Popen([prog(name), "--linger"],
                                                 stdout=subprocess.PIPE, text=True))
                self.assertEqual(programs[-1].stdout.readline().strip(), "done")
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            for program in programs:
                mine = {"stacks": [s for s in final["stacks"] if s["pid"] == program.pid]}
                for function in ("leak_a", "leak_b", "churn", "lib_leak"):
                    self.assertEqual(site(mine, function), LEAKY_TRUTH[function],
                                     (program.args[0], function))
        finally:
            run.close()
            for program in programs:
                end(program)

    def start_leaky_and_noise(self):
        """leaky, plus another program allocating at the same time (many)."""
        leaky = subprocess.Popen([prog("leaky"), "--linger"], stdout=subprocess.PIPE, text=True)
        noise = subprocess.run([prog("many")], capture_output=True, text=True, timeout=60)
        self.assertEqual(noise.returncode, 0)
        self.assertEqual(leaky.stdout.readline().strip(), "done")
        return leaky

    def assert_only_leaky(self, final, leaky):
        self.assertTrue(final["stacks"])
        self.assertEqual({s["pid"] for s in final["stacks"]}, {leaky.pid})
        for function, truth in LEAKY_TRUTH.items():
            self.assertEqual(site(final, function), truth, function)

    def test_comm_keeps_only_processes_of_that_name(self):
        run = Run(["--comm", "leaky", "-o", "0", "-T", "400", "1"])
        leaky = None
        try:
            run.wait_tracing()
            leaky = self.start_leaky_and_noise()
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            self.assert_only_leaky(run.reports()[-1], leaky)
        finally:
            run.close()
            if leaky:
                end(leaky)

    def test_cgroup_keeps_only_processes_in_that_subtree(self):
        root = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") \
            else "/sys/fs/cgroup"
        group = os.path.join(root, "leaksnoop-test-%d" % os.getpid())
        os.mkdir(group)
        run = None
        leaky = subprocess.Popen([prog("leaky"), "--wait", "--linger"], stdout=subprocess.PIPE,
                                 text=True)
        try:
            self.assertTrue(leaky.stdout.readline().startswith("ready"))
            with open(os.path.join(group, "cgroup.procs"), "w") as procs:
                procs.write(str(leaky.pid))
            run = Run(["--cgroup", group, "-o", "0", "-T", "400", "1"])
            run.wait_tracing()
            os.kill(leaky.pid, signal.SIGUSR1)
            subprocess.run([prog("many")], check=True, capture_output=True, timeout=60)
            self.assertEqual(leaky.stdout.readline().strip(), "done")
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            self.assert_only_leaky(run.reports()[-1], leaky)
        finally:
            if run:
                run.close()
            end(leaky)
            os.rmdir(group)


if __name__ == "__main__":
    unittest.main()
