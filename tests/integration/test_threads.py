# SPDX-License-Identifier: MIT
"""Thread fates per creation site, against tests/progs/threads.c."""
import time
import unittest

from harness import LeaksnoopTest, Run, Target, frames_of


def thread_site(report, function):
    """{state: (count, stack_bytes)} plus created/gone, over groups created in function."""
    out = {"live": (0, 0), "leaked": (0, 0), "created": 0, "gone": 0}
    seen = set()
    for group in report["threads"]:
        if function not in frames_of(group)[:1]:
            continue
        count, stack = out[group["state"]]
        out[group["state"]] = (count + group["count"], stack + group["stack_bytes"])
        key = tuple(f["addr"] for f in group["frames"])
        if key not in seen:  # created/gone are per stack, repeated in each state's group
            seen.add(key)
            out["created"] += group["created"]
            out["gone"] += group["gone"]
    return out


class Threads(LeaksnoopTest):
    def test_each_site_reports_its_exact_thread_fates(self):
        target = Target("threads")
        run = Run(["-p", str(target.pid), "-T", "5", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.5)
            self.assertEqual(run.stop(), 0, run.stderr())
            reports = run.reports()
            final = reports[-1]
            self.assertEqual(thread_site(final, "joined_site"),
                             {"live": (0, 0), "leaked": (0, 0), "created": 3, "gone": 3})
            self.assertEqual(thread_site(final, "detach_call_site"),
                             {"live": (0, 0), "leaked": (0, 0), "created": 2, "gone": 2})
            self.assertEqual(thread_site(final, "detach_attr_site"),
                             {"live": (0, 0), "leaked": (0, 0), "created": 2, "gone": 2})
            self.assertEqual(thread_site(final, "leak_site"),
                             {"live": (0, 0), "leaked": (4, 4 * 262144), "created": 4, "gone": 0})
            blocked = thread_site(final, "blocked_site")
            self.assertEqual((blocked["live"][0], blocked["leaked"], blocked["created"]),
                             (2, (0, 0), 2))
            pool = thread_site(final, "pool_site")
            self.assertEqual((pool["live"][0], pool["created"], pool["gone"]), (10, 10, 0))
            self.assertEqual(final["totals"]["threads_live"], 12)
            self.assertEqual(final["totals"]["threads_leaked"], 4)
            self.assertEqual(final["totals"]["threads_preexisting"], 1)
            # While the pool grew, its live count grew between reports.
            growth = [g["growth_per_s"] for r in reports for g in r["threads"]
                      if g["state"] == "live" and frames_of(g)[:1] == ["pool_site"]]
            self.assertTrue(any(rate > 0 for rate in growth), growth)
        finally:
            run.close()
            target.close()

    def test_no_threads_option_tracks_none(self):
        target = Target("threads")
        run = Run(["-p", str(target.pid), "--no-threads", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            self.assertEqual(run.stop(), 0)
            final = run.reports()[-1]
            self.assertEqual(final["threads"], [])
            self.assertEqual(final["totals"]["threads_live"], 0)
        finally:
            run.close()
            target.close()


if __name__ == "__main__":
    unittest.main()
