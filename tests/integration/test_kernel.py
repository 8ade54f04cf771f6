# SPDX-License-Identifier: MIT
"""--kernel: kernel allocations per kernel stack (tests/progs/kfds.c: 64 eventfds
kept open, 64 opened and closed)."""
import os
import signal
import time
import unittest

from harness import LeaksnoopTest, Run, Target, frames_of

EVENTFDS = 64


class KernelAllocations(LeaksnoopTest):
    def test_eventfds_kept_and_closed_give_the_exact_kernel_truth(self):
        target = Target("kfds")
        run = Run(["-p", str(target.pid), "--kernel", "-o", "0", "-T", "200", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.5)  # closed files are freed after an RCU grace period
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
            eventfd = [s for s in final["stacks"]
                       if s["kind"] == "kernel" and "do_eventfd" in frames_of(s)]
            # Each object an eventfd owns was allocated 128 times and is held 64 times;
            # the other stacks under do_eventfd are slab pages grown on the way and
            # the file table grown when the count of open files crosses a power of
            # two (how often depends on the files the target inherited).
            per_object = [s for s in eventfd
                          if not {"allocate_slab", "expand_files"} & set(frames_of(s))]
            self.assertGreaterEqual(len(per_object), 3, per_object)
            for stack in per_object:
                self.assertEqual((stack["outstanding_allocs"], stack["allocs"]),
                                 (EVENTFDS, 2 * EVENTFDS), frames_of(stack))
                self.assertEqual(stack["outstanding_bytes"] % EVENTFDS, 0)
            # The eventfd context itself: kmalloc called from do_eventfd.
            ctx = [s for s in per_object if frames_of(s)[1:2] == ["do_eventfd"]
                   and "kmalloc" in frames_of(s)[0]]
            self.assertEqual(len(ctx), 1, [frames_of(s) for s in per_object])
            top = ctx[0]["frames"][0]
            self.assertEqual(top["module"], "[kernel]")
            self.assertTrue(top["addr"].startswith("0xffff"), top)
            self.assertIsNone(target.proc.poll())
        finally:
            run.close()
            target.close()

    def test_a_forked_childs_kernel_allocations_are_its_own(self):
        target = Target("kfds", "--fork")
        run = Run(["-p", str(target.pid), "--kernel", "-o", "0", "-T", "200", "1"])
        try:
            run.wait_tracing()
            target.release()
            child = int(target.proc.stdout.readline().split()[1])
            target.wait_done()
            time.sleep(1.5)  # closed files are freed after an RCU grace period
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            final = run.reports()[-1]
            eventfd = [s for s in final["stacks"]
                       if s["kind"] == "kernel" and "do_eventfd" in frames_of(s)]
            self.assertTrue(eventfd)
            self.assertTrue(all(s["pid"] == child for s in eventfd))
            ctx = [s for s in eventfd if frames_of(s)[1:2] == ["do_eventfd"]
                   and "kmalloc" in frames_of(s)[0]]
            self.assertEqual([(s["outstanding_allocs"], s["allocs"]) for s in ctx],
                             [(EVENTFDS, 2 * EVENTFDS)])
        finally:
            run.close()
            target.close()
            if "child" in locals():
                os.kill(child, signal.SIGKILL)

    def test_without_kernel_no_kernel_stacks(self):
        target = Target("kfds")
        run = Run(["-p", str(target.pid), "-o", "0", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.2)
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            self.assertFalse([s for s in run.reports()[-1]["stacks"] if s["kind"] == "kernel"])
        finally:
            run.close()
            target.close()


if __name__ == "__main__":
    unittest.main()
