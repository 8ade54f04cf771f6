# SPDX-License-Identifier: MIT
"""-s N: estimates scaled back up, within the error the report states."""
import math
import unittest

from harness import LeaksnoopTest, Run, prog, site


class Sampling(LeaksnoopTest):
    def test_sampled_estimate_of_leaked_bytes_is_within_the_stated_error(self):
        rate = 16
        run = Run(["-c", prog("many"), "-o", "0", "-s", str(rate), "-T", "50", "30"])
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
            final = run.reports()[-1]
            self.assertEqual(final["mode"], "sampled")
            self.assertEqual(final["sample_rate"], rate)
            held, blocks, allocs = site(final, "many_leaks")
            recorded = blocks // rate
            # The report states ~2/sqrt(k) (two standard deviations); 4/sqrt(k) keeps
            # this test from failing by chance (1 in 15,000).
            bound = 4 / math.sqrt(recorded)
            self.assertLess(abs(held - 8000000) / 8000000, bound, (held, recorded))
            self.assertEqual(held, blocks * 100)
            churn = site(final, "many_churn")
            self.assertEqual(churn[:2], (0, 0))
            self.assertLess(abs(churn[2] - 80000) / 80000, bound)
            # Blocks held at many addresses, then all freed: every sampled one's free is found.
            batch = site(final, "many_batch")
            self.assertEqual(batch[:2], (0, 0))
            self.assertLess(abs(batch[2] - 20000) / 20000, 4 / math.sqrt(20000 // rate))
        finally:
            run.close()


if __name__ == "__main__":
    unittest.main()
