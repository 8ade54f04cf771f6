# SPDX-License-Identifier: MIT
"""Probes never outlive leaksnoop, however it ends; the target keeps running."""
import signal
import time
import unittest

from harness import LeaksnoopTest, Run, Target, our_links


def wait_links(expected, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline and our_links() != expected:
        time.sleep(0.1)
    return our_links()


class Lifecycle(LeaksnoopTest):
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
