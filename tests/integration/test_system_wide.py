# SPDX-License-Identifier: MIT
"""No -p/-c: every process that calls the allocator, reported per process."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

from harness import LeaksnoopTest, Run, free_port, prog, site
from test_heap import LEAKY_TRUTH, LEAKY_MMAP_TRUTH
from test_processes import wait_for


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


CGROUP_ROOT = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") \
    else "/sys/fs/cgroup"
CONTAINER_ID = "4f1a9c0b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
HOST_LIBC = "/usr/lib/x86_64-linux-gnu/libc.so.6"


class Containers(LeaksnoopTest):
    """Processes whose libc is another file than the host's, as in a container: each in a
    mount namespace of its own, with a copy of libc bound over the host's path (or an
    overlayfs lower layer, as docker's overlay2 stores an image)."""

    def setUp(self):
        super().setUp()
        self.dir = tempfile.TemporaryDirectory()
        self.image = os.path.join(self.dir.name, "image")
        os.mkdir(self.image)
        shutil.copy(HOST_LIBC, os.path.join(self.image, "libc.so.6"))
        self.programs = []
        self.cgroups = []

    def tearDown(self):
        for program in self.programs:
            end(program)
        for group in reversed(self.cgroups):
            os.rmdir(group)
        self.dir.cleanup()
        super().tearDown()

    def container(self, name, overlay=False, cgroup=None):
        """leaky --wait --linger in a mount namespace whose libc is the image's; ready."""
        libc = os.path.join(self.image, "libc.so.6")
        steps = []
        if cgroup:
            steps.append("echo $$ > %s/cgroup.procs" % cgroup)
        if overlay:
            layers = {part: os.path.join(self.dir.name, name, part)
                      for part in ("upper", "work", "merged")}
            for path in layers.values():
                os.makedirs(path)
            steps.append("mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s"
                         % (self.image, layers["upper"], layers["work"], layers["merged"]))
            libc = os.path.join(layers["merged"], "libc.so.6")
        steps.append("mount --bind %s %s" % (libc, HOST_LIBC))
        steps.append("exec %s --wait --linger" % prog("leaky"))
        program = subprocess.Popen(["unshare", "-m", "sh", "-c", " && ".join(steps)],
                                   stdout=subprocess.PIPE, text=True)
        self.programs.append(program)
        self.assertTrue(program.stdout.readline().startswith("ready"))
        return program

    def release(self, *programs):
        for program in programs:
            program.send_signal(signal.SIGUSR1)
        for program in programs:
            self.assertEqual(program.stdout.readline().strip(), "done")

    def assert_exact(self, final, program):
        mine = {"stacks": [s for s in final["stacks"] if s["pid"] == program.pid]}
        for function, truth in LEAKY_TRUTH.items():
            self.assertEqual(site(mine, function), truth, (program.pid, function))
        return mine["stacks"]

    def docker_cgroup(self):
        parent = os.path.join(CGROUP_ROOT, "leaksnoop-test-%d.slice" % os.getpid())
        group = os.path.join(parent, "docker-%s.scope" % CONTAINER_ID)
        for path in (parent, group):
            os.mkdir(path)
            self.cgroups.append(path)
        return group

    def test_a_container_started_after_attach_is_traced_with_its_cgroup(self):
        group = self.docker_cgroup()
        port = free_port()
        run = Run(["--comm", "leaky", "-v", "-o", "0", "-T", "400", "--listen",
                   "127.0.0.1:%d" % port, "1"])
        try:
            run.wait_tracing()
            program = self.container("c1", cgroup=group)
            with open("/proc/%d/maps" % program.pid) as maps:
                self.assertIn(HOST_LIBC, maps.read())  # the path is the host's; the file is not
            # Its libc is probed some milliseconds after its mapping: what it allocates then.
            wait_for(lambda: "PID %d mapped %s (glibc) after attach" % (program.pid, HOST_LIBC)
                     in run.stderr(), "the container's libc to be probed")
            self.release(program)
            time.sleep(1.5)
            base = "http://127.0.0.1:%d" % port
            with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
                metrics = response.read().decode()
            with urllib.request.urlopen(base + "/debug/pprof/heap", timeout=10) as response:
                profile = response.read()
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            mine = self.assert_exact(final, program)
            cgroup = group[len(CGROUP_ROOT):]
            self.assertEqual({(s.get("cgroup"), s.get("container_id")) for s in mine},
                             {(cgroup, CONTAINER_ID)})
            late = [a for a in final["late_allocators"] if a["pid"] == program.pid]
            self.assertEqual([(a["path"], a["allocator"]) for a in late], [(HOST_LIBC, "glibc")])
            self.assertRegex(metrics, r'site="leak_a",pid="%d",cgroup="%s",container_id="%s"\} '
                             r'10000\n' % (program.pid, re.escape(cgroup), CONTAINER_ID))
            with tempfile.NamedTemporaryFile(suffix=".pb.gz") as f:
                f.write(profile)
                f.flush()
                tags = subprocess.run(["go", "tool", "pprof", "-tags", f.name],
                                      capture_output=True, text=True, timeout=120,
                                      env=dict(os.environ, HOME=tempfile.gettempdir())).stdout
            self.assertIn(CONTAINER_ID, tags)
            self.assertIn(cgroup, tags)
        finally:
            run.close()

    def test_two_containers_of_one_image_share_its_probes_and_both_are_exact(self):
        """overlayfs: /proc/PID/maps shows each mount's own inode; the probes sit on the
        layer's file, one for both."""
        first = self.container("c1", overlay=True)
        run = Run(["-v", "-o", "0", "-T", "400", "1"])
        try:
            run.wait_tracing()
            second = self.container("c2", overlay=True)
            self.release(first, second)
            time.sleep(1.5)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            self.assert_exact(final, first)
            self.assert_exact(final, second)
            # Found at start in the first one's mappings; nothing new when the second mapped it.
            self.assertIn("also probing %s (glibc), mapped by PID %d" % (HOST_LIBC, first.pid),
                          run.stderr())
            self.assertFalse([a for a in final.get("late_allocators", [])
                              if a["pid"] == second.pid])
        finally:
            run.close()


if __name__ == "__main__":
    unittest.main()
