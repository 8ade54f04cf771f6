# SPDX-License-Identifier: MIT
"""The peak: the most held since attach and the stacks then, on the final report
in every format, and `leaksnoop diff` from it to the end (tests/progs/peak.c:
burst_site holds 1,000,000 bytes for 2.5 s, then 100,000; kept_site 5,000)."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

from harness import LEAKSNOOP, LeaksnoopTest, Run, Target, site

PEAK = {"burst_site": (1000000, 100), "kept_site": (5000, 5)}
END = {"burst_site": (100000, 10), "kept_site": (5000, 5)}


def held(stacks, function):
    return site({"stacks": stacks}, function)[:2]


class Peak(LeaksnoopTest):
    def trace(self, fmt):
        target = Target("peak")
        run = Run(["-p", str(target.pid), "-o", "0", "-T", "50", "1"], fmt=fmt)
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.5)
            self.assertEqual(run.stop(), 0, run.stderr())
            outputs = {os.path.basename(p): p for p in glob.glob(run.out + "*")}
            contents = {}
            for name, path in outputs.items():
                with open(path, "rb") as f:
                    contents[name] = f.read()
            return contents
        finally:
            run.close()
            target.close()

    def test_the_final_json_report_keeps_the_peak_and_its_stacks(self):
        files = self.trace("json")
        reports = [json.loads(line) for line in files["report"].splitlines()]
        final = reports[-1]
        peak = final["peak"]
        self.assertEqual(peak["held_bytes"], 1005000)
        self.assertEqual(peak["held_allocs"], 105)
        for function, want in PEAK.items():
            self.assertEqual(held(peak["stacks"], function), want)
        for function, want in END.items():
            self.assertEqual(held(final["stacks"], function), want)
        # The first report that held it, and only the final report carries it.
        first = next(r for r in reports if r["totals"]["outstanding_bytes"] == 1005000)
        self.assertEqual(peak["seq"], first["seq"])
        self.assertEqual(peak["time"], first["time"])
        self.assertTrue(all("peak" not in r for r in reports[:-1]))

    def test_diff_compares_the_peak_with_the_end(self):
        files = self.trace("json")
        path = os.path.join(self.tmp(), "report.json")
        with open(path, "wb") as f:
            f.write(files["report"])
        out = subprocess.run([LEAKSNOOP, "diff", "--peak", path], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("the peak, at report", out.stdout)
        self.assertIn("inuse_space: 1005000 -> 105000 (-900000)", out.stdout)
        self.assertRegex(out.stdout, r"-900000 +1000000 +100000  burst_site < main")

    def test_profiles_get_the_peak_as_a_file_of_its_own(self):
        files = self.trace("pprof")
        last = max((n for n in files if n.startswith("report.") and n[7:].isdigit()),
                   key=lambda n: int(n[7:]))
        directory = self.tmp()
        for name in ("report.peak", last):
            with open(os.path.join(directory, name), "wb") as f:
                f.write(files[name])
        out = subprocess.run([LEAKSNOOP, "diff", os.path.join(directory, "report.peak"),
                              os.path.join(directory, last)], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"-900000 +1000000 +100000  burst_site < main")

    def test_folded_and_text(self):
        files = self.trace("folded")
        peak = files["report.peak"].decode()
        self.assertRegex(peak, r"(?m);burst_site 1000000$")
        self.assertRegex(peak, r"(?m);kept_site 5000$")
        files = self.trace("text")
        text = files["report"].decode()
        final = text[text.rindex("final report"):]
        self.assertRegex(final, r"peak: 981\.4 KiB held in 105 allocations at [0-9:]+ \(report "
                                r"#[0-9]+, [0-9.]+ s after attach\); its top stacks then:\n"
                                r"    #1 heap 976\.6 KiB in 100 allocations at burst_site "
                                r"tests/progs/peak\.c:[0-9]+\n"
                                r"    #2 heap 4\.9 KiB in 5 allocations at kept_site")

    def tmp(self):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        return directory
