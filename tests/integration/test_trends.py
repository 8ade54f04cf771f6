# SPDX-License-Identifier: MIT
"""Leak trends: a steady leak outranks a bigger cache that stopped growing."""
import unittest

from harness import LeaksnoopTest, Run, frames_of, prog


class Trends(LeaksnoopTest):
    def test_sort_by_growth_puts_the_steady_leak_first_and_marks_the_plateau(self):
        run = Run(["-c", prog("trends") + " 7", "--sort", "growth", "-T", "20", "1"])
        try:
            self.assertEqual(run.wait(timeout=60), 0, run.stderr())
            reports = [r for r in run.reports() if not r["final"]]
            last = reports[-1]
            heap = [s for s in last["stacks"] if s["kind"] == "heap"]
            self.assertEqual(frames_of(heap[0])[0], "steady_leak")
            leak = heap[0]
            cache = next(s for s in heap if frames_of(s)[0] == "fill_cache")
            self.assertGreater(cache["outstanding_bytes"], leak["outstanding_bytes"])
            # About 10 KiB/s (1 KiB every 100 ms), measured over whole intervals.
            self.assertAlmostEqual(leak["leak_score"], 10240, delta=2048)
            self.assertGreaterEqual(leak["grew_intervals"], 3)
            self.assertFalse(leak["plateaued"])
            self.assertEqual(cache["leak_score"], 0)
            self.assertTrue(cache["plateaued"])
            self.assertEqual(cache["outstanding_bytes"], 10 * 20 * 1024)
        finally:
            run.close()


if __name__ == "__main__":
    unittest.main()
