# SPDX-License-Identifier: MIT
"""Probes never outlive leaksnoop, however it ends; the target keeps running."""
import signal
import subprocess
import time
import unittest

from harness import LeaksnoopTest, Run, Target, our_links


def wait_links(expected, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline and our_links() != expected:
        time.sleep(0.1)
    return our_links()


def closing_children():
    """leaksnoop-close processes still closing a stopped run's probe events."""
    found = subprocess.run(["pgrep", "-x", "leaksnoop-close"], capture_output=True, text=True)
    return found.stdout.split()


def libc_text(pid):
    """(bytes of libc's executable mapping in pid, the same bytes of the file)."""
    with open("/proc/%d/maps" % pid) as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and "x" in fields[1] and "/libc.so" in fields[5]:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                offset, path = int(fields[2], 16), fields[5]
                break
        else:
            raise AssertionError("no libc text in PID %d" % pid)
    with open("/proc/%d/mem" % pid, "rb") as mem:
        mem.seek(start)
        live = mem.read(end - start)
    with open(path, "rb") as f:
        f.seek(offset)
        return live, f.read(end - start)


class Lifecycle(LeaksnoopTest):
    def test_stop_detaches_every_program_at_once_and_the_target_is_restored(self):
        target = Target("leaky", "--linger")
        run = Run(["-p", str(target.pid), "1"])
        try:
            run.wait_tracing()
            live, on_disk = libc_text(target.pid)
            self.assertNotEqual(live, on_disk, "the uprobes' breakpoints are in the target")
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            # No link outlives leaksnoop; the kernel's teardown of the events goes on in
            # a child, after which not one byte of the target's code differs from its file.
            self.assertEqual(our_links(), self.links_before)
            deadline = time.time() + 30
            while closing_children() and time.time() < deadline:
                time.sleep(0.1)
            self.assertEqual(closing_children(), [])
            live, on_disk = libc_text(target.pid)
            self.assertEqual(live, on_disk, "a breakpoint was left in the target")
            target.release()
            target.wait_done()
            self.assertIsNone(target.proc.poll())
        finally:
            run.close()
            target.close()

    def test_sigkill_of_leaksnoop_leaves_no_probe_and_the_target_runs_on(self):
        target = Target("leaky", "--linger")
        run = Run(["-p", str(target.pid), "1"])
        try:
            run.wait_tracing()
            self.assertGreater(our_links(), self.links_before)
            run.proc.kill()
            run.wait()
            self.assertEqual(wait_links(self.links_before), self.links_before)
            target.release()
            target.wait_done()  # the target finishes its work untraced
            self.assertIsNone(target.proc.poll())
        finally:
            run.close()
            target.close()

    def test_a_command_s_own_exit_status_is_leaksnoop_s(self):
        """-c exits as the command did (128+N for signal N), as INTERFACE.md says; a run
        that COUNT ends before the command exits still exits 0."""
        for command, status in (("sh -c 'exit 7'", 7), ("sh -c 'kill -TERM $$'", 128 + 15),
                                ("sh -c 'exit 0'", 0)):
            run = Run(["-c", command])
            try:
                self.assertEqual(run.wait(), status, command + ": " + run.stderr())
                self.assertTrue(run.reports()[-1]["final"])
            finally:
                run.close()
        run = Run(["-c", "sleep 30", "1", "1"])
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
        finally:
            run.close()
            subprocess.run(["pkill", "-x", "-f", "sleep 30"])

    def test_interrupt_during_attach_exits_cleanly(self):
        target = Target("leaky", "--linger")
        try:
            for delay in (0.03, 0.1, 0.3):  # after exec and dynamic loading
                run = Run(["-p", str(target.pid), "1"])
                time.sleep(delay)
                run.proc.send_signal(signal.SIGINT)
                self.assertEqual(run.wait(timeout=30), 0, run.stderr())
                run.close()
                self.assertEqual(wait_links(self.links_before), self.links_before)
            self.assertIsNone(target.proc.poll())
        finally:
            target.close()


if __name__ == "__main__":
    unittest.main()
