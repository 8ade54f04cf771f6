# SPDX-License-Identifier: MIT
"""-f pprof, read back by the real consumer: `go tool pprof`."""
import os
import re
import socket
import time
import urllib.request
import subprocess
import tempfile
import unittest

from harness import LEAKSNOOP, LeaksnoopTest, prog


def pprof(*args):
    proc = subprocess.run(["go", "tool", "pprof"] + list(args), capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, HOME=tempfile.gettempdir()))
    if proc.returncode:
        raise AssertionError("go tool pprof failed: " + proc.stderr)
    return proc.stdout


def flat(top_output, function):
    """The flat value go tool pprof -top prints for function (with -unit=B or counts)."""
    for line in top_output.splitlines():
        fields = line.split()
        if fields and fields[-1] == function:
            return fields[0]
    return None


class Pprof(LeaksnoopTest):
    def test_go_tool_pprof_reads_the_four_sample_types_exactly(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "heap.pb.gz")
            proc = subprocess.run([LEAKSNOOP, "-c", prog("leaky") + " --linger", "-o", "0",
                                   "-f", "pprof", "-w", path, "1", "2"],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            # One profile per report, and with the final one its peak's.
            self.assertEqual(sorted(os.listdir(d)),
                             ["heap.pb.gz", "heap.pb.gz.1", "heap.pb.gz.peak"])
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            latest = path + ".1"
            inuse = pprof("-top", "-unit=B", "-sample_index=inuse_space", latest)
            self.assertIn("File: leaky", inuse)
            self.assertEqual(flat(inuse, "leak_a"), "10000B")
            self.assertEqual(flat(inuse, "leak_b"), "1500B")
            self.assertEqual(flat(inuse, "lib_leak"), "2664B")
            objects = pprof("-top", "-sample_index=inuse_objects", latest)
            self.assertEqual(flat(objects, "leak_a"), "10")
            allocated = pprof("-top", "-sample_index=alloc_objects", latest)
            self.assertEqual(flat(allocated, "churn"), "1000")
            space = pprof("-top", "-unit=B", "-sample_index=alloc_space", latest)
            self.assertEqual(flat(space, "churn"), "512000B")
            # -list finds the line of the leak in the source.
            listing = pprof("-list", "^leak_a$", latest)
            self.assertTrue(re.search(r"9\.77kB\s+9\.77kB\s+\d+:\s+hold\(malloc\(1000\)\);", listing),
                            listing)
            # -diff_base: the same leaks in both reports, so nothing changes.
            diff = pprof("-top", "-diff_base", path, latest)
            self.assertIn("Showing nodes accounting for 0, 0% of", diff)

    def test_go_tool_pprof_http_ui_serves_the_profile(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "heap.pb.gz")
            proc = subprocess.run([LEAKSNOOP, "-c", prog("leaky"), "-o", "0", "-f", "pprof",
                                   "-w", path, "30"], capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            ui = subprocess.Popen(["go", "tool", "pprof", "-no_browser",
                                   "-http=127.0.0.1:%d" % port, path],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=dict(os.environ, HOME=d))
            try:
                page = ""
                deadline = time.time() + 30
                while time.time() < deadline and "leak_a" not in page:
                    time.sleep(0.5)
                    try:
                        with urllib.request.urlopen("http://127.0.0.1:%d/ui/top" % port,
                                                    timeout=5) as r:
                            page = r.read().decode()
                    except OSError:
                        continue
                self.assertIn("leak_a", page)
            finally:
                ui.terminate()
                ui.wait()

    def test_pprof_needs_an_output_path(self):
        proc = subprocess.run([LEAKSNOOP, "-c", "true", "-f", "pprof"], capture_output=True,
                              text=True, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("-w PATH", proc.stderr)


if __name__ == "__main__":
    unittest.main()
