# SPDX-License-Identifier: MIT
"""The target's memory beside what leaksnoop tracks: a heap fragmented on purpose
(tests/progs/fragment.c) is resident memory the held blocks do not explain."""
import time

from harness import LeaksnoopTest, Run, Target, site

HELD = 20000 * 1000  # fragment_site's blocks left after it frees every other one


def rss_anon(pid):
    """RssAnon of pid in bytes, read here, independently of leaksnoop."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon")


class Memory(LeaksnoopTest):
    def trace_fragment(self, fmt):
        target = Target("fragment")
        run = Run(["-p", str(target.pid), "-o", "0", "-T", "100", "1"], fmt=fmt)
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.5)
            anon_here = rss_anon(target.pid)
            self.assertEqual(run.stop(), 0, run.stderr())
            return run.reports() if fmt == "json" else run.text(), anon_here
        finally:
            run.close()
            target.close()

    def test_a_fragmented_heap_is_resident_memory_the_held_blocks_do_not_explain(self):
        reports, anon_here = self.trace_fragment("json")
        final = reports[-1]
        self.assertEqual(site(final, "fragment_site"), (HELD, 20000, 40000))
        memory = final["memory"]
        # Held: every tracked block and region of the target, whatever its age.
        self.assertEqual(memory["held_bytes"],
                         sum(s["outstanding_bytes_all_ages"] for s in final["stacks"]))
        # The kernel's count, as read here a moment before the final report.
        self.assertLess(abs(memory["rss_anon_bytes"] - anon_here), 1 << 20)
        self.assertEqual(memory["unexplained_bytes"],
                         memory["rss_anon_bytes"] - memory["held_bytes"])
        # The freed half stays resident: at least 19 of its 20 MB are not explained.
        self.assertGreater(memory["unexplained_bytes"], 19000000)
        self.assertGreater(memory["rss_anon_growth_bytes"], 38000000)
        self.assertGreaterEqual(memory["rss_bytes"],
                                memory["rss_anon_bytes"] + memory["rss_file_bytes"])

    def test_the_text_says_the_growth_is_not_in_held_blocks(self):
        text, _ = self.trace_fragment("text")
        final = text[text.rindex("final report"):]
        self.assertRegex(final, r"memory: RSS [0-9.]+ MiB \(anonymous [0-9.]+ MiB, file .*\); "
                                r"held in tracked blocks and regions 19\.[0-9] MiB; anonymous "
                                r"memory they do not explain (19|2[0-9])\.[0-9] MiB")
        self.assertRegex(final, r"anonymous memory grew 3[89]\.[0-9] MiB since attach, of which "
                                r"tracked blocks 19\.[0-9] MiB: the rest of the growth is not in "
                                r"blocks allocated since attach \(fragmentation, allocator caches, "
                                r"memory from before attach, or memory not allocated through "
                                r"malloc\)")
