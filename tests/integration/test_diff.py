# SPDX-License-Identifier: MIT
"""`leaksnoop diff A B` on JSON reports and on pprof profiles, within a run and across runs."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import LEAKSNOOP, LeaksnoopTest, prog


def trace(out, fmt, seconds):
    proc = subprocess.run([LEAKSNOOP, "-c", prog("trends") + " %d" % seconds, "-o", "0",
                           "-f", fmt, "-w", out, "1"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def diff(*args):
    proc = subprocess.run([LEAKSNOOP, "diff"] + list(args), capture_output=True, text=True,
                          timeout=30)
    return proc.returncode, proc.stdout, proc.stderr


def change_of(output, stack_start):
    for line in output.splitlines():
        fields = line.split(None, 3)
        if len(fields) == 4 and fields[3].startswith(stack_start):
            return int(fields[0]), int(fields[1]), int(fields[2])
    return None


def cache_bytes(report):
    """Bytes fill_cache holds in a JSON report (0 when it holds none)."""
    for stack in report["stacks"]:
        if stack["frames"] and stack["frames"][0].get("symbol") == "fill_cache":
            return stack["outstanding_bytes"]
    return 0


class Diff(LeaksnoopTest):
    def test_json_first_and_last_report_show_the_leak_growing_and_the_cache_flat(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "run.json")
            trace(path, "json", 4)
            with open(path) as f:
                lines = f.read().splitlines()
            # The cache fills in the program's first second, which the first
            # 1 s report may or may not see whole: compare from the first
            # report that does.
            full = [line for line in lines[:-1] if cache_bytes(json.loads(line)) == 200 * 1024]
            self.assertTrue(full, "no report before the last saw the whole cache")
            first = os.path.join(d, "first.json")
            with open(first, "w") as f:
                f.write(full[0] + "\n")
            code, out, err = diff(first, path)
            self.assertEqual(code, 0, err)
            change, base, new = change_of(out, "steady_leak < main")
            self.assertEqual(change, new - base)
            self.assertGreaterEqual(change, 10240)  # at least a second of the leak
            self.assertIsNone(change_of(out, "fill_cache"))  # unchanged: not listed
            code, out, _ = diff("--sample", "inuse_objects", first, path)
            self.assertGreaterEqual(change_of(out, "steady_leak")[0], 10)

    def test_pprof_profiles_of_two_runs_compare_by_function_not_address(self):
        with tempfile.TemporaryDirectory() as d:
            short, longer = os.path.join(d, "short.pb.gz"), os.path.join(d, "long.pb.gz")
            trace(short, "pprof", 2)
            trace(longer, "pprof", 4)
            last = lambda base: sorted(p for p in os.listdir(d) if p.startswith(base))[-1]
            code, out, err = diff(os.path.join(d, last("short")), os.path.join(d, last("long")))
            self.assertEqual(code, 0, err)
            change, base, new = change_of(out, "steady_leak < main")
            self.assertEqual(base, 20 * 1024)
            self.assertEqual(new, 40 * 1024)
            self.assertIsNone(change_of(out, "fill_cache"))

    def test_bad_inputs(self):
        self.assertEqual(diff("only-one")[0], 2)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as junk:
            junk.write("not json\n")
            junk.flush()
            code, _, err = diff(junk.name, junk.name)
            self.assertEqual(code, 1)
            self.assertIn("not a leaksnoop JSON report", err)


if __name__ == "__main__":
    unittest.main()
