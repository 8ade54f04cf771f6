# SPDX-License-Identifier: MIT
"""OOM post-mortems: a program that leaks in a memory cgroup until the kernel's
OOM killer ends it (tests/progs/oom_leak.c) leaves a report of what it held
when it was chosen, checked against the count the program itself printed."""
import os
import shutil
import subprocess
import tempfile
import time

from harness import LeaksnoopTest, Run, prog, site

LIMIT = 64 << 20
LEAK_BYTES = 1 << 20
KEPT = (5000, 5)


def cgroup_mount(v1_controller=None):
    """Where the v1 hierarchy of a controller (or the v2 one) is mounted, or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields, _, tail = line.partition(" - ")
            fstype, _, options = tail.split()[:3]
            if v1_controller is None and fstype == "cgroup2":
                return fields.split()[4]
            if v1_controller and fstype == "cgroup" and v1_controller in options.split(","):
                return fields.split()[4]
    return None


class MemoryCgroup:
    """A memory cgroup limited to LIMIT without swap: v1's memory controller where
    it is mounted (a hybrid hierarchy), else v2's."""

    def __init__(self, name):
        root = cgroup_mount("memory")
        self.version = 1
        if root is None:
            root = cgroup_mount()
            self.version = 2
            with open(os.path.join(root, "cgroup.subtree_control"), "w") as f:
                f.write("+memory")
        self.path = "/" + name
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir, exist_ok=True)
        if self.version == 1:
            self.write("memory.limit_in_bytes", LIMIT)
            if os.path.exists(os.path.join(self.dir, "memory.memsw.limit_in_bytes")):
                self.write("memory.memsw.limit_in_bytes", LIMIT)
        else:
            self.write("memory.max", LIMIT)
            self.write("memory.swap.max", 0)

    def write(self, name, value):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(str(value))

    def enter_and_exec(self, *argv):
        """A shell's argv that moves itself into the cgroup, then execs argv."""
        return ["sh", "-c", "echo $$ > %s/cgroup.procs; exec %s" % (self.dir, " ".join(argv))]

    def command(self, *argv):
        """enter_and_exec as one command line (-c)."""
        return "%s %s '%s'" % tuple(self.enter_and_exec(*argv))

    def close(self):
        for _ in range(100):  # the killed process leaves it a moment later
            try:
                os.rmdir(self.dir)
                return
            except OSError:
                time.sleep(0.05)


def last_held(text):
    """The program's last "held N": the leak_site blocks malloc had returned."""
    held = [int(line.split()[1]) for line in text.splitlines() if line.startswith("held ")]
    return held[-1]


class OomKill(LeaksnoopTest):
    def setUp(self):
        super().setUp()
        self.cgroup = MemoryCgroup("leaksnoop-test-oom-%d" % os.getpid())
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        self.cgroup.close()
        shutil.rmtree(self.tmp)
        super().tearDown()

    def check_oom(self, report, pid, held):
        self.assertTrue(report["oom_killed"])
        self.assertEqual(report["pid"], pid)
        oom = report["oom"]
        self.assertEqual(oom["pid"], pid)
        self.assertEqual(oom["comm"], "oom_leak")
        self.assertEqual(oom["cgroup"], self.cgroup.path)
        self.assertEqual(oom["cgroup_version"], self.cgroup.version)
        self.assertEqual(oom["cgroup_limit_bytes"], LIMIT)
        self.assertEqual(oom["cgroup_limit_set_by"], self.cgroup.path)
        self.assertTrue(oom["cgroup_limit_reached"])
        # Its usage when the kernel chose, not after the reaper freed the victim's memory.
        self.assertGreaterEqual(oom["cgroup_usage_bytes"], LIMIT * 9 // 10)
        # The kernel's count when it chose: most of the limit, anonymous.
        self.assertGreater(oom["rss_anon_bytes"], LIMIT // 2)
        self.assertEqual(report["memory"]["rss_anon_bytes"], oom["rss_anon_bytes"])
        # What it held then, block for block as the program counted.
        self.assertEqual(site(report, "leak_site"), (held * LEAK_BYTES, held, held))
        self.assertEqual(site(report, "kept_site"), KEPT + (KEPT[1],))

    def test_a_command_killed_in_its_cgroup_leaves_its_final_report(self):
        out_path = os.path.join(self.tmp, "out")
        with open(out_path, "w") as out:
            run = Run(["-c", self.cgroup.command(prog("oom_leak")), "-T", "20", "5"],
                      stdout=out)
            try:
                status = run.wait(60)
                reports, stderr = run.reports(), run.stderr()
            finally:
                run.close()
        with open(out_path) as f:
            held = last_held(f.read())
        # The command's own status: killed by SIGKILL.
        self.assertEqual(status, 128 + 9, stderr)
        self.assertIn("the OOM killer chose pid", stderr)
        final = reports[-1]
        self.assertTrue(final["final"])
        self.assertTrue(final["target_exited"])
        self.assertGreater(held, 16)
        self.check_oom(final, final["pid"], held)
        self.assertEqual(sum(1 for r in reports if r.get("oom_killed")), 1)

    def test_a_process_traced_with_p_is_reported_in_words(self):
        text, _, output, pid = self.trace_p(fmt="text")
        held = last_held(output)
        final = text[text.rindex("final report"):]
        self.assertIn("(oom_leak, killed by the OOM killer)", final)
        self.assertRegex(final, r"OOM kill: the kernel's OOM killer chose pid %d \(oom_leak\) "
                                r"with [0-9.]+ MiB of anonymous memory resident; its memory "
                                r"cgroup %s used [0-9.]+ MiB of the 64\.0 MiB limit set by %s\. "
                                r"What it held then:" % (pid, self.cgroup.path, self.cgroup.path))
        self.assertRegex(final, r"#1 heap held: [0-9.]+ MiB \(%d bytes\) in %d allocations"
                         % (held * LEAK_BYTES, held))
        self.assertIn("leak_site", final.split("#2 heap")[0])

    def trace_p(self, *args, fmt="json"):
        """leaksnoop -p on oom_leak in the cgroup, released once tracing:
        (reports or text, stderr, the program's output, its pid)."""
        line = self.cgroup.enter_and_exec(prog("oom_leak"), "--wait")
        target = subprocess.Popen(line, stdout=subprocess.PIPE, text=True)
        pid = int(target.stdout.readline().split()[1])
        run = Run(["-p", str(pid), "-o", "0", "-T", "20", "-v"] + list(args) + ["1"], fmt=fmt)
        try:
            run.wait_tracing()
            os.kill(pid, 10)  # SIGUSR1: start leaking
            output = target.stdout.read()
            target.wait()
            self.assertEqual(run.wait(30), 0, run.stderr())
            return (run.reports() if fmt == "json" else run.text()), run.stderr(), output, pid
        finally:
            run.close()
            target.stdout.close()

    def test_a_report_when_the_cgroup_nears_its_limit_before_the_kill(self):
        reports, stderr, output, _ = self.trace_p()
        near = [r for r in reports if r.get("memory_pressure")]
        self.assertEqual(len(near), 1, stderr)
        pressure, final = near[0]["memory_pressure"], reports[-1]
        self.assertIn("in memory cgroup %s" % self.cgroup.path, stderr)
        self.assertEqual(pressure["cgroup"], self.cgroup.path)
        self.assertEqual(pressure["cgroup_limit_bytes"], LIMIT)
        if self.cgroup.version == 1:
            self.assertEqual(pressure["reason"], "usage reached 90% of the limit")
            self.assertGreaterEqual(pressure["cgroup_usage_bytes"], LIMIT * 9 // 10)
        else:
            self.assertRegex(pressure["reason"], r"memory\.max reached")
        self.assertFalse(near[0]["final"])
        self.assertTrue(final["oom_killed"])
        # Written before the kill: fewer blocks than the final report, most of the limit's.
        before = site(near[0], "leak_site")[1]
        self.assertGreater(before, 32)
        self.assertLess(before, site(final, "leak_site")[1])
        self.assertEqual(site(final, "leak_site")[1], last_held(output))

    def test_no_report_near_the_limit_when_turned_off(self):
        reports, stderr, _, _ = self.trace_p("--near-limit", "0")
        self.assertFalse([r for r in reports if r.get("memory_pressure")])
        self.assertTrue(reports[-1]["oom_killed"])

    def test_system_wide_each_killed_process_gets_its_own_report(self):
        run = Run(["-T", "400", "30"])
        try:
            run.wait_tracing()
            out = subprocess.run(self.cgroup.enter_and_exec(prog("oom_leak")),
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, -9)
            time.sleep(0.5)
            self.assertEqual(run.stop(), 0, run.stderr())
            reports, stderr = run.reports(), run.stderr()
        finally:
            run.close()
        killed = [r for r in reports if r.get("oom_killed")]
        self.assertEqual(len(killed), 1, stderr)
        report = killed[0]
        self.assertFalse(report["final"])  # the session goes on
        self.check_oom(report, report["oom"]["pid"], last_held(out.stdout))
        # Its stacks alone.
        self.assertEqual({s["pid"] for s in report["stacks"]}, {report["pid"]})
