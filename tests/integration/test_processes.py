# SPDX-License-Identifier: MIT
"""Processes that change under -p: children forked after attach are traced and
reported by PID, an execve drops what the old image held (tests/progs/forker.c)."""
import os
import re
import select
import signal
import subprocess
import tempfile
import time
import unittest

from harness import LEAKSNOOP, LeaksnoopTest, Run, Target, frames_of, prog, site
from test_heap import LEAKY_TRUTH, LEAKY_MMAP_TRUTH


def stopped(pid):
    """The process is stopped (state T)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def stopped_in_group(pgid):
    """The stopped processes of process group pgid."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] == "T":
            found.append(int(name))
    return found


def held_child(parent):
    """A child of parent that is stopped, or None."""
    try:
        with open("/proc/%d/task/%d/children" % (parent, parent)) as f:
            pids = [int(p) for p in f.read().split()]
    except OSError:
        return None
    return next((pid for pid in pids if stopped(pid)), None)


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
            except (ProcessLookupError, PermissionError):
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


def uprobe_definitions():
    """This machine's tracefs uprobe events made by a leaksnoop instance."""
    with open("/sys/kernel/tracing/uprobe_events") as f:
        return [line for line in f if ":leaksnoop_" in line]


def children_of(output_lines):
    return [int(line.split()[1]) for line in output_lines if line.startswith("child ")]


class FromFirstInstruction(LeaksnoopTest):
    """tests/progs/prefork.c: children forked one after another allocate on the first line
    after fork(), and are traced exactly from it: their probes are inherited inside fork."""

    def setUp(self):
        super().setUp()
        self.pgids = []

    def tearDown(self):
        for pgid in self.pgids:  # prefork's children pause until killed
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        super().tearDown()

    def check_every_process(self, final, parent, children):
        by_pid = {}
        for stack in final["stacks"]:
            for function in frames_of(stack):
                if function.endswith(("_site", "_first_line")):
                    held = by_pid.setdefault((stack["pid"], function), [0, 0])
                    held[0] += stack["outstanding_bytes"]
                    held[1] += stack["outstanding_allocs"]
                    break
        self.assertEqual(by_pid.pop((parent, "parent_site")), [2000, 2])
        first = [by_pid.pop((pid, "child_first_line"), None) for pid in children]
        # Every child but the grandchild, the thread's child and the exec'd one.
        forked = [held for held in first if held is not None]
        self.assertEqual(forked, [[700, 7]] * (len(children) - 3))
        rest = sorted((function, held) for (_, function), held in by_pid.items())
        self.assertEqual(rest, [("grandchild_first_line", [150, 3]), ("leaf_site", [360, 9]),
                                ("thread_child_first_line", [1500, 5])])

    def test_a_hundred_children_each_exact_from_their_first_line(self):
        target = Target("prefork", "100")
        self.pgids.append(target.pid)
        run = Run(["-p", str(target.pid), "-o", "0", "-T", "1000", "1"])
        try:
            run.wait_tracing()
            self.assertTrue(uprobe_definitions(), "the probes are tracefs events")
            target.release()
            target.wait_done(60)
            time.sleep(1.5)
            self.assertEqual(run.stop(), 0, run.stderr())
            self.check_every_process(run.reports()[-1], target.pid,
                                     children_of(target.lines))
            # Nothing said about the children: nothing went wrong with them.
            self.assertEqual(run.stderr().count("\n"), 1, run.stderr())
        finally:
            run.close()
            target.close()
        # The definitions are removed once every event is closed.
        wait_for(lambda: not uprobe_definitions(), "the uprobe events to be removed", 60)

    def test_a_command_s_children_from_their_first_line(self):
        with tempfile.TemporaryFile("w+") as out:
            run = Run(["-o", "0", "-T", "1000", "3", "1", "-c",
                       prog("prefork") + " 20"], stdout=out)
            try:
                self.assertEqual(run.wait(60), 0, run.stderr())
                out.seek(0)
                lines = out.read().splitlines()
                final = run.reports()[-1]
                parent = final["pid"]
                self.pgids.append(parent)
                self.check_every_process(final, parent, children_of(lines))
            finally:
                run.close()

    def test_a_short_lived_child_is_no_error(self):
        # A shell's children exec and end within milliseconds of their fork.
        run = Run(["-c", "sh -c '/bin/true; /bin/true; /bin/true'", "1"])
        try:
            self.assertEqual(run.wait(30), 0, run.stderr())
            self.assertEqual(run.stderr().count("\n"), 1, run.stderr())
        finally:
            run.close()

    def test_definitions_of_a_killed_instance_are_removed(self):
        target = Target("prefork", "3")
        self.pgids.append(target.pid)
        run = Run(["-p", str(target.pid), "1"])
        try:
            run.wait_tracing()
            self.assertTrue(uprobe_definitions())
            run.proc.kill()  # SIGKILL: no teardown of its own
            run.wait()
            wait_for(lambda: not uprobe_definitions(), "the janitor to remove them", 60)
        finally:
            run.close()
            target.close()
        # One left by an instance gone for good (its janitor never ran) goes at the next start.
        events = os.open("/sys/kernel/tracing/uprobe_events", os.O_WRONLY | os.O_APPEND)
        try:
            os.write(events, b"p:leaksnoop_999999/p0 %s:0x1000\n" % prog("prefork").encode())
        finally:
            os.close(events)
        self.assertTrue(uprobe_definitions())
        target = Target("prefork", "3")
        self.pgids.append(target.pid)
        run = Run(["-p", str(target.pid), "1"])
        try:
            run.wait_tracing()
            self.assertFalse([line for line in uprobe_definitions() if "999999" in line])
            self.assertEqual(run.stop(), 0, run.stderr())
        finally:
            run.close()
            target.close()
        wait_for(lambda: not uprobe_definitions(), "the uprobe events to be removed", 60)

    READONLY_TRACEFS = ["unshare", "-m", "sh", "-c",
                        'mount -o remount,bind,ro /sys/kernel/tracing && exec "$0" "$@"']

    def test_without_a_writable_tracefs_children_are_held_at_fork_and_exact(self):
        # A mount namespace whose tracefs is read-only: the uprobe PMU, each child stopped
        # at fork until its probes are attached.
        with tempfile.TemporaryFile("w+") as out:
            run = Run(["-v", "-o", "0", "-T", "1000", "2", "1", "-c", prog("prefork") + " 5"],
                      wrapper=self.READONLY_TRACEFS, stdout=out)
            try:
                self.assertEqual(run.wait(60), 0, run.stderr())
                final = run.reports()[-1]
                self.pgids.append(final["pid"])
                self.assertIn("tracefs uprobe_events cannot be written (Read-only file system): "
                              "the target's children cannot inherit its probes", run.stderr())
                self.assertIn("a child the target forks is stopped before its first instruction "
                              "until its probes are attached", run.stderr())
                out.seek(0)
                self.check_every_process(final, final["pid"], children_of(out.readlines()))
                self.assertFalse(uprobe_definitions())
            finally:
                run.close()

    def test_children_held_when_leaksnoop_is_killed_are_continued_by_its_keeper(self):
        # LEAKSNOOP_KEEP_HELD: leaksnoop never continues a held child itself, as if it were
        # killed before it could; the keeper does it once leaksnoop is gone.
        target = Target("prefork", "3")
        self.pgids.append(target.pid)
        run = Run(["-p", str(target.pid), "-o", "0", "1"], wrapper=self.READONLY_TRACEFS,
                  env=dict(os.environ, LEAKSNOOP_KEEP_HELD="1"))
        try:
            run.wait_tracing()
            target.release()
            child = int(wait_for(lambda: held_child(target.pid), "a child held at fork"))
            time.sleep(0.5)
            self.assertTrue(stopped(child), "still held: leaksnoop does not continue it")
            run.proc.kill()
            run.wait()
            # prefork's processes (one group) all run on; then its children end their work.
            wait_for(lambda: not stopped_in_group(target.pid), "the held children to continue")
            target.wait_done(30)
            self.assertFalse(stopped_in_group(target.pid))
        finally:
            run.close()
            target.close()

    def test_nothing_left_running_holds_leaksnoop_s_output(self):
        # The janitor outlives the run until the events are closed: not with its output.
        proc = subprocess.Popen([LEAKSNOOP, "-c", "true", "1"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            self.assertEqual(proc.wait(60), 0)
            for pipe in (proc.stdout, proc.stderr):
                # End of file soon after the exit: no process it left holds the pipe (the
                # janitor lives seconds longer, until the events are closed).
                os.set_blocking(pipe.fileno(), False)
                deadline, ended = time.time() + 1.0, False
                while not ended and time.time() < deadline:
                    select.select([pipe], [], [], max(0.0, deadline - time.time()))
                    chunk = os.read(pipe.fileno(), 65536) if select.select(
                        [pipe], [], [], 0)[0] else None
                    ended = chunk == b""
                self.assertTrue(ended, "a process still holds leaksnoop's output")
        finally:
            proc.stdout.close()
            proc.stderr.close()
        wait_for(lambda: not uprobe_definitions(), "the uprobe events to be removed", 60)

    def test_processes_past_the_table_are_counted_as_dropped(self):
        # A table of 4 (the target and 3 more): prefork 6 makes 10 (6 children, the
        # grandchild, the thread's child, the exec'd child and its new image).
        env = dict(os.environ, LEAKSNOOP_MAX_PROCS="4")
        with tempfile.TemporaryFile("w+") as out:
            run = Run(["-o", "0", "-T", "1000", "2", "1", "-c", prog("prefork") + " 6"],
                      env=env, stdout=out)
            try:
                self.assertEqual(run.wait(60), 0, run.stderr())
                final = run.reports()[-1]
                self.pgids.append(final["pid"])
                self.assertEqual(final["dropped"]["processes"], 7)
                self.assertGreaterEqual(final["dropped"]["events"], 7)
                self.assertEqual(site_in(final, "parent_site", final["pid"]), (2000, 2, 2))
                self.assertLessEqual(len({s["pid"] for s in final["stacks"]}), 4)
            finally:
                run.close()
