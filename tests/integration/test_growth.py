# SPDX-License-Identifier: MIT
"""--growth: new pages per stack from the page-fault tracepoint, no probe on any call."""
import time
import unittest

from harness import LeaksnoopTest, Run, Target, our_links, site


class Growth(LeaksnoopTest):
    def test_new_pages_are_charged_to_the_writing_stack_and_rewrites_are_free(self):
        target = Target("growth")
        run = Run(["-p", str(target.pid), "--growth", "1"])
        try:
            run.wait_tracing()
            # One tracepoint link, no uprobes.
            self.assertEqual(our_links() - self.links_before, 1)
            target.release()
            target.wait_done()
            time.sleep(1.2)
            self.assertEqual(run.stop(), 0, run.stderr())
            final = run.reports()[-1]
            self.assertEqual(final["mode"], "growth")
            grown = site(final, "touch_pages", kind="growth")
            self.assertEqual(grown, (0, 0, 2048))
            stack = next(s for s in final["stacks"] if s["kind"] == "growth")
            self.assertEqual(stack["alloc_bytes"], 2048 * 4096)
            self.assertIsNone(site(final, "rewrite", kind="growth"))
            self.assertEqual(final["totals"]["frees"], 0)
        finally:
            run.close()
            target.close()


if __name__ == "__main__":
    unittest.main()
