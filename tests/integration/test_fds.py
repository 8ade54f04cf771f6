# SPDX-License-Identifier: MIT
"""--fds: descriptors per opening stack (tests/progs/fds.c), each site checked
against the program's own /proc/self/fd, read by the program after its exec."""
import json
import os
import signal
import subprocess
import tempfile
import time

import urllib.request

from harness import LEAKSNOOP, LeaksnoopTest, Run, Target, free_port, frames_of, prog, site

KEPT = {"leak_files": "file", "leak_dups": "file", "dup2_site": "file",
        "leak_pipes": "pipe", "leak_eventfds": "eventfd", "leak_perf_events": "other"}
# Opened and closed, one by one, by close_range, by dup2 onto them, at exec.
CLOSED = {"closed_site": 10, "range_site": 7, "replace_site": 2, "cloexec_site": 3,
          "uring_site": 1}


def kind_of(target):
    """The type /proc/self/fd's link names, as leaksnoop names it."""
    if target.startswith("socket:"):
        return "socket"
    if target.startswith("pipe:"):
        return "pipe"
    if target.startswith("anon_inode:[eventfd]"):
        return "eventfd"
    if target.startswith("anon_inode:[perf_event]"):
        return "other"
    return "file"


class Program:
    """fds.c's output: its descriptors before, each site's, and after its exec."""

    def __init__(self, lines):
        self.pre = {int(l.split()[1]) for l in lines if l.startswith("pre ")}
        self.after = {int(l.split()[1]): l.split(None, 2)[2] for l in lines
                      if l.startswith("fd ")}
        self.sites = {l.split()[1]: [int(x) for x in l.split()[2:]] for l in lines
                      if l.startswith("site ")}


class Fds(LeaksnoopTest):
    def check(self, report, program):
        # What the program holds since attach, by its own /proc/self/fd.
        opened_here = {fd: t for fd, t in program.after.items() if fd not in program.pre}
        # A child it forked closed every copy it inherited: none of the parent's went.
        children = sum(s["outstanding_allocs"] for s in report["stacks"]
                       if s["kind"] == "fd" and s["pid"] != report["pid"])
        self.assertIn(children, (0, 2))  # its own two, until a report has shown its exit
        self.assertEqual(report["totals"]["fds_open"], len(opened_here) + children)
        for function, fds in program.sites.items():
            held = [fd for fd in fds if fd in program.after]
            self.assertEqual(len(held), len(fds), function)  # all still open after exec
            got = site(report, function, kind="fd")
            self.assertIsNotNone(got, function)
            self.assertEqual(got[:2], (0, len(held)), function)
        for function, kind in KEPT.items():
            stacks = [s for s in report["stacks"] if s["kind"] == "fd" and
                      function in [f.get("symbol") for f in s["frames"]]]
            types = {}
            for s in stacks:
                for name, count in s["fd_types"].items():
                    types[name] = types.get(name, 0) + count
            want = {}
            for fd in program.sites[function]:
                want[kind_of(program.after[fd])] = want.get(kind_of(program.after[fd]), 0) + 1
            self.assertEqual(types, want, function)
            self.assertEqual(set(want), {kind})
        sockets = [s for s in report["stacks"] if s["kind"] == "fd" and
                   "leak_sockets" in [f.get("symbol") for f in s["frames"]]]
        families = {}
        for s in sockets:
            for name, count in s["socket_families"].items():
                families[name] = families.get(name, 0) + count
        self.assertEqual(families, {"inet": 3, "unix": 2})
        for function, opened in CLOSED.items():
            self.assertEqual(site(report, function, kind="fd"), (0, 0, opened), function)
        # A dup2 onto itself made nothing: its descriptor is still leak_files'.
        self.assertIsNone(site(report, "self_dup2_site", kind="fd"))

    def test_each_site_equals_the_programs_own_view_under_p(self):
        proc = subprocess.Popen([prog("fds"), "--wait"], stdout=subprocess.PIPE, text=True)
        lines = []
        try:
            while not lines or not lines[-1].startswith("ready"):
                lines.append(proc.stdout.readline())
            pid = int(lines[-1].split()[1])
            run = Run(["-p", str(pid), "--fds", "-o", "0", "-T", "100", "1"])
            try:
                run.wait_tracing()
                os.kill(pid, signal.SIGUSR1)
                while lines[-1].strip() != "done":
                    lines.append(proc.stdout.readline())
                time.sleep(1.5)
                self.assertEqual(run.stop(), 0, run.stderr())
                report = run.reports()[-1]
            finally:
                run.close()
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
        self.check(report, Program(lines))
        self.assertEqual(report["totals"]["fds_preexisting"], len(Program(lines).pre))

    def test_a_command_that_exits_holding_descriptors_fails_error_exitcode(self):
        out = os.path.join(self.tmp(), "out")
        with open(out, "w") as f:
            run = Run(["--fds", "-T", "100", "--error-exitcode", "9", "-c",
                       prog("fds") + " --exit"], stdout=f)
            try:
                status = run.wait(60)
                report, stderr = run.reports()[-1], run.stderr()
            finally:
                run.close()
        with open(out) as f:
            program = Program(f.read().splitlines())
        self.assertEqual(status, 9, stderr)
        self.check(report, program)
        left = len([fd for fd in program.after if fd not in program.pre])
        self.assertIn("%d descriptors left open at exit" % left, stderr)
        # Without --fds nothing is said about them, and the status is the command's.
        run = Run(["-T", "100", "--error-exitcode", "9", "-c", prog("fds") + " --exit"])
        try:
            self.assertEqual(run.wait(60), 0, run.stderr())
            self.assertNotIn("descriptors", run.stderr())
        finally:
            run.close()

    def test_pprof_and_flame_graph_inputs_weigh_descriptors_apart(self):
        directory = self.tmp()
        for fmt, extra in (("pprof", []), ("folded", ["--sample", "fds"])):
            path = os.path.join(directory, fmt)
            out = subprocess.run(
                [LEAKSNOOP, "--fds", "-T", "200", "-f", fmt, "-w", path] + extra +
                ["-c", prog("fds") + " --exit"], capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
        profiles = sorted(p for p in os.listdir(directory) if p.startswith("pprof"))
        top = subprocess.run(["go", "tool", "pprof", "-top", "-sample_index=fds",
                              os.path.join(directory, profiles[-1])],
                             capture_output=True, text=True, env=dict(os.environ, HOME=directory))
        self.assertEqual(top.returncode, 0, top.stderr)
        # pprof's own sum: the 21 the command held at exit and the 2 its child did.
        self.assertRegex(top.stdout, r"Showing nodes accounting for 23, 100% of 23 total")
        heap = subprocess.run(["go", "tool", "pprof", "-top", "-sample_index=inuse_objects",
                               os.path.join(directory, profiles[-1])],
                              capture_output=True, text=True, env=dict(os.environ, HOME=directory))
        self.assertNotIn("leak_sockets", heap.stdout)  # descriptors are not heap objects
        with open(os.path.join(directory, "folded")) as f:
            lines = f.read().splitlines()
        by_site = {}
        for line in lines:
            stack, value = line.rsplit(" ", 1)
            for function in ("leak_sockets", "leak_files", "closed_site"):
                if ";%s;" % function in stack:
                    by_site[function] = by_site.get(function, 0) + int(value)
        self.assertEqual(by_site, {"leak_sockets": 5, "leak_files": 4})

    def test_a_go_programs_raw_system_calls(self):
        proc = subprocess.Popen([prog("gofds"), "-wait"], stdout=subprocess.PIPE, text=True)
        try:
            pid = int(proc.stdout.readline().split()[1])
            run = Run(["-p", str(pid), "--fds", "-o", "0", "-T", "100", "1"])
            try:
                run.wait_tracing()
                os.kill(pid, signal.SIGUSR1)
                lines = [proc.stdout.readline(), proc.stdout.readline()]
                self.assertEqual(lines[1].strip(), "done")
                time.sleep(1.5)
                # The program's descriptors as the kernel lists them, read here.
                links = {int(fd): os.readlink("/proc/%d/fd/%s" % (pid, fd))
                         for fd in os.listdir("/proc/%d/fd" % pid)}
                self.assertEqual(run.stop(), 0, run.stderr())
                report = run.reports()[-1]
            finally:
                run.close()
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
        files = [int(x) for x in lines[0].split("[")[1].rstrip("]\n").split()]
        self.assertTrue(all(links[fd] == "/etc/passwd" for fd in files))
        # The first os.Open starts the runtime's poller too: an epoll and its pipe.
        in_leak_files = [s for s in report["stacks"] if s["kind"] == "fd" and
                         "main.leakFiles" in [f.get("symbol") for f in s["frames"]]]
        types = {}
        for s in in_leak_files:
            for name, count in s["fd_types"].items():
                types[name] = types.get(name, 0) + count
        self.assertEqual(types, {"file": 4, "epoll": 1, "pipe": 2})
        self.assertEqual(sum(1 for t in links.values() if t == "/etc/passwd"), 4)
        self.assertEqual(site(report, "main.closedFiles", kind="fd"), (0, 0, 6))
        sockets = [s for s in report["stacks"] if s["kind"] == "fd" and
                   "main.leakListeners" in [f.get("symbol") for f in s["frames"]]]
        self.assertEqual(sum(s["fd_types"].get("socket", 0) for s in sockets), 2)
        self.assertEqual(sum(1 for t in links.values() if t.startswith("socket:")), 2)

    def tmp(self):
        import shutil
        import tempfile
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        return directory


def leaking(report):
    """fd_growth.c's descriptor stacks through leak_connection."""
    return [s for s in report["stacks"] if s["kind"] == "fd" and
            "leak_connection" in frames_of(s)]


class Growth(LeaksnoopTest):
    """-p --fds on a server that forgets to close its clients' connections while two
    threads race open+close for the same numbers (tests/progs/fd_growth.c)."""

    def test_the_leaking_connections_stack_its_count_and_growth_everywhere(self):
        target = Target("fd_growth")
        port = free_port()
        run = Run(["-p", str(target.pid), "--fds", "-o", "0", "-T", "100", "--listen",
                   "127.0.0.1:%d" % port, "1"])
        try:
            run.wait_tracing()
            target.release()
            time.sleep(3.5)
            os.kill(target.pid, signal.SIGUSR2)
            target.wait_done()
            time.sleep(1.5)  # a report after the program stopped
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
                metrics = r.read().decode()
            self.assertEqual(run.stop(), 0, run.stderr())
            reports = run.reports()
        finally:
            run.close()
            target.close()
        said = dict(line.split() for line in target.lines if len(line.split()) == 2)
        leaked, churned = int(said["leaked"]), int(said["churned"])
        self.assertGreater(leaked, 40)
        self.assertGreater(churned, 1000)
        final = reports[-1]
        # Exact, against the program's own counts: every connection it kept, every
        # racing open closed again, every accepted socket closed.
        self.assertEqual(site(final, "leak_connection", kind="fd"), (0, leaked, leaked))
        self.assertEqual(site(final, "churn_site", kind="fd"), (0, 0, churned))
        self.assertEqual(site(final, "accept_and_close", kind="fd"), (0, 0, leaked))
        self.assertEqual(final["totals"]["fds_open"], leaked)
        [stack] = leaking(final)
        self.assertEqual(stack["socket_families"], {"inet": leaked})
        # While it leaked (20 a second), the reports said how fast.
        rates = [s["growth_per_s"] for r in reports[1:-2] for s in leaking(r)]
        self.assertTrue(rates)
        self.assertTrue(all(5 < rate < 40 for rate in rates), rates)
        # /metrics, read after it stopped: the same count, per stack (named by its
        # frame #0, socket's wrapper) and per process.
        self.assertRegex(metrics, r'leaksnoop_stack_open_fds\{[^}]*kind="fd",site="__socket",'
                         r'pid="%d"[^}]*\} %d\n' % (target.pid, leaked))
        self.assertRegex(metrics, r'leaksnoop_fds_open\{pid="%d"[^}]*\} %d\n'
                         % (target.pid, leaked))
        # leaksnoop diff between the first report and the last: the connections kept since.
        with tempfile.TemporaryDirectory() as d:
            first, last = os.path.join(d, "first.json"), os.path.join(d, "last.json")
            for path, report in ((first, reports[0]), (last, final)):
                with open(path, "w") as f:
                    json.dump(report, f)
            out = subprocess.run([LEAKSNOOP, "diff", "--sample", "fds", first, last],
                                 capture_output=True, text=True, timeout=30)
            heap = subprocess.run([LEAKSNOOP, "diff", "--sample", "inuse_objects", first, last],
                                  capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        before = site(reports[0], "leak_connection", kind="fd")
        change = [line for line in out.stdout.splitlines() if "leak_connection" in line]
        self.assertTrue(change, out.stdout)
        self.assertEqual(int(change[0].split()[0]), leaked - (before[1] if before else 0),
                         out.stdout)
        self.assertNotIn("leak_connection", heap.stdout)  # descriptors are not heap objects
