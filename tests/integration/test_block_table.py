# SPDX-License-Identifier: MIT
"""The block table fills before it drops: no block lost below 90% of
--max-allocs on a real program's addresses (Debian's jq, its allocation and
free counts checked against valgrind's) and on blocks at the regular strides
of every size class; beyond capacity every lost block is counted."""
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import LeaksnoopTest, Run, prog, site

# --max-allocs for tests/progs/strides.c, which holds blocks from hold_class.
STRIDES_TABLE = 65536


def write_json_document(path, items):
    """A 5 MB document for jq (seeded: the same blocks at every run)."""
    rng = random.Random(1)
    data = [{"id": i, "name": "item%d" % i, "tags": ["a%d" % (i % 7), "b%d" % (i % 13)],
             "value": rng.random(), "nested": {"x": i, "y": [i, i + 1, i + 2]}}
            for i in range(items)]
    with open(path, "w") as f:
        json.dump(data, f)


def valgrind_heap_usage(argv):
    """(allocs, frees) from valgrind's "total heap usage" line, its exit-time frees off."""
    out = subprocess.run(["valgrind", "--run-libc-freeres=no", "--run-cxx-freeres=no"] + argv,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    found = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees", out)
    if not found:
        raise AssertionError("no heap usage from valgrind: " + out[-500:])
    return tuple(int(n.replace(",", "")) for n in found.groups())


class BlockTable(LeaksnoopTest):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.document = os.path.join(cls.dir, "doc.json")
        write_json_document(cls.document, 40000)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def trace_jq(self, *options):
        run = Run(["-o", "0"] + list(options) + ["-c", "jq . %s" % self.document])
        try:
            self.assertEqual(run.wait(120), 0, run.stderr())
            return run.reports()[-1]
        finally:
            run.close()

    def test_jq_loses_no_block_and_sees_every_free_valgrind_sees(self):
        if not shutil.which("jq") or not shutil.which("valgrind"):
            self.fail("jq and valgrind are test dependencies (scripts/install-deps.sh)")
        allocs, frees = valgrind_heap_usage(["jq", ".", self.document])
        final = self.trace_jq()
        totals = final["totals"]
        self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
        self.assertEqual(totals["frees_untracked"], 0)
        self.assertEqual(totals["frees"], frees)
        # What jq still holds at exit are the blocks valgrind's start-up never sees.
        self.assertEqual(totals["allocs"] - totals["outstanding_allocs"], allocs)
        self.assertGreater(frees, 500000)

    def test_jq_at_90_percent_of_the_table_loses_no_block(self):
        # jq holds at most ~553,500 blocks of this document at once: 90% of 614,400.
        final = self.trace_jq("--max-allocs", "614400")
        self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
        self.assertEqual(final["totals"]["frees_untracked"], 0)
        self.assertEqual(final["totals"]["allocs"] - final["totals"]["frees"],
                         final["totals"]["outstanding_allocs"])

    def hold_strides(self, blocks):
        run = Run(["-o", "0", "-T", "100", "--max-allocs", str(STRIDES_TABLE),
                   "-c", "%s %d" % (prog("strides"), blocks)])
        try:
            self.assertEqual(run.wait(60), 0, run.stderr())
            final = run.reports()[-1]
            held = site(final, "hold_class")
            return (held[1] if held else 0), final["dropped"]["events"]
        finally:
            run.close()

    def test_strides_of_every_size_class_fill_the_whole_table(self):
        for share in (0.9, 1.0):
            blocks = int(STRIDES_TABLE * share)
            self.assertEqual(self.hold_strides(blocks), (blocks, 0), "at %d%%" % (share * 100))

    def test_past_capacity_every_lost_block_is_counted(self):
        blocks = int(STRIDES_TABLE * 1.5)
        held, dropped = self.hold_strides(blocks)
        self.assertGreater(dropped, 0)
        self.assertGreater(held, STRIDES_TABLE)
        # Each block is held or counted; the program's own printf buffer may be lost too.
        self.assertGreaterEqual(held + dropped, blocks)
        self.assertLessEqual(held + dropped, blocks + 2)


if __name__ == "__main__":
    unittest.main()
