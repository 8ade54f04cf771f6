# SPDX-License-Identifier: MIT
"""Reports taken while the target is busy are consistent snapshots: a pool that
never holds more than 1024 blocks is never reported holding more."""
import unittest

from harness import LeaksnoopTest, Target, site

POOL = 1024
THREADS = 4
BLOCK = 64


class Snapshots(LeaksnoopTest):
    def test_a_busy_pool_is_never_reported_above_what_it_can_hold(self):
        target = Target("pool", "6")
        try:
            reports = self.trace_released_reports(target)
        finally:
            target.close()
        busy = [site(report, "pool_refill") for report in reports]
        busy = [found for found in busy if found]
        # Reports every second over 6 s of churn, each taken mid-churn.
        self.assertGreaterEqual(len(busy), 5, busy)
        for held, blocks, allocs in busy:
            # At every instant the pool holds 1024 - (frees not yet followed
            # by their malloc) blocks; a snapshot sees the same at most
            # THREADS fewer, for the mallocs not yet returned.
            self.assertLessEqual(blocks, POOL, busy)
            self.assertGreaterEqual(blocks, POOL - 2 * THREADS, busy)
            self.assertLessEqual(held, POOL * BLOCK, busy)
            self.assertGreaterEqual(held, (POOL - 2 * THREADS) * BLOCK, busy)
        # Busy indeed: hundreds of thousands of blocks went through the pool.
        self.assertGreater(busy[-1][2], 100 * POOL, busy)
        self.assertGreater(busy[-2][2], busy[0][2], busy)
        # Once the churn is over: exactly the pool.
        self.assertEqual(busy[-1][:2], (POOL * BLOCK, POOL))


if __name__ == "__main__":
    unittest.main()
