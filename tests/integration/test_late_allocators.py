# SPDX-License-Identifier: MIT
"""Allocators that appear after attach: a library dlopen'd (tests/progs/late_alloc.c) and the
image a process execs, probed when their mapping appears; the delay is reported."""
import os
import re
import signal
import subprocess
import tempfile
import time

from harness import LeaksnoopTest, Run, Target, prog, site
from test_processes import wait_for
from test_heap import LEAKY_TRUTH

LIB = "libtcmalloc_minimal.so.4"
LATE_TRUTH = {"late_leak": (738, 6, 6), "late_churn": (0, 0, 10)}


def read(path):
    with open(path) as f:
        return f.read()


class LateAllocators(LeaksnoopTest):
    def check_late(self, final, pid):
        for function, truth in LATE_TRUTH.items():
            self.assertEqual(site(final, function), truth, function)
        late = final["late_allocators"]
        self.assertEqual([(a["pid"], a["allocator"]) for a in late], [(pid, "tcmalloc")])
        self.assertEqual(late[0]["path"], os.path.realpath("/usr/lib/x86_64-linux-gnu/" + LIB))
        self.assertGreater(late[0]["probed_after_ms"], 0)

    def wait_probed(self, run, pid):
        """The -v line that says LIB is probed: what late_alloc calls from then on is seen."""
        wait_for(lambda: re.search(r"PID %d mapped \S+libtcmalloc_minimal\S+ \(tcmalloc\) after "
                                   r"attach: probed [0-9.]+ ms after its mmap" % pid,
                                   run.stderr()), "the library to be probed")

    def test_a_library_dlopened_after_attach_is_probed_and_exact(self):
        target = Target("late_alloc", LIB)
        run = Run(["-p", str(target.pid), "-v", "-o", "0", "-T", "100", "1"])
        try:
            run.wait_tracing()
            self.assertIsNone(site(run.reports()[-1] if run.reports() else {"stacks": []},
                                   "late_leak"))
            target.release()
            self.assertEqual(target.proc.stdout.readline().strip(), "loaded")
            self.wait_probed(run, target.pid)
            target.release()
            target.wait_done()
            time.sleep(1.2)
            self.assertEqual(run.stop(), 0, run.stderr())
            self.check_late(run.reports()[-1], target.pid)
        finally:
            run.close()
            target.close()

    def test_a_command_that_dlopens_its_allocator(self):
        with tempfile.NamedTemporaryFile("w+") as out:
            run = Run(["-v", "-o", "0", "-T", "100", "-c",
                       "%s --wait --exit %s" % (prog("late_alloc"), LIB)], stdout=out)
            try:
                run.wait_tracing()
                pid = int(re.search(r"Tracing command, PID (\d+)", run.stderr()).group(1))
                wait_for(lambda: "ready" in read(out.name), "late_alloc to be ready")
                os.kill(pid, signal.SIGUSR1)
                wait_for(lambda: "loaded" in read(out.name), "late_alloc to load " + LIB)
                self.wait_probed(run, pid)
                os.kill(pid, signal.SIGUSR1)
                self.assertEqual(run.wait(60), 0, run.stderr())
                final = run.reports()[-1]
                self.assertTrue(final["target_exited"])
                self.check_late(final, pid)
            finally:
                run.close()

    def test_an_image_exec_d_into_a_static_binary_is_probed(self):
        """sh on glibc execs a static program, whose malloc is in the executable."""
        with tempfile.NamedTemporaryFile("w+") as out:
            run = Run(["-v", "-o", "0", "-T", "100", "-c",
                       "sh -c 'exec %s --wait'" % prog("leaky_static")], stdout=out)
            try:
                run.wait_tracing()
                pid = int(re.search(r"Tracing command, PID (\d+)", run.stderr()).group(1))
                wait_for(lambda: "ready" in read(out.name), "leaky_static to be ready")
                wait_for(lambda: "PID %d mapped %s (static) after attach" % (pid, prog("leaky_static"))
                         in run.stderr(), "the new image to be probed")
                os.kill(pid, signal.SIGUSR1)
                self.assertEqual(run.wait(60), 0, run.stderr())
                final = run.reports()[-1]
                for function in ("leak_a", "leak_b", "churn", "realloc_chain"):
                    self.assertEqual(site(final, function), LEAKY_TRUTH[function], function)
                self.assertEqual([(a["pid"], a["allocator"]) for a in final["late_allocators"]],
                                 [(pid, "static")])
            finally:
                run.close()
