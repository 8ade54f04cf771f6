# SPDX-License-Identifier: MIT
"""--listen: /metrics read by Prometheus (promtool and a real scrape), /debug/pprof/heap by go tool pprof."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from harness import LEAKSNOOP, LeaksnoopTest, Run, Target, free_port


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


class Live(LeaksnoopTest):
    def setUp(self):
        super().setUp()
        self.target = Target("leaky", "--linger")
        self.port = free_port()
        self.run_ = Run(["-p", str(self.target.pid), "-o", "0", "--listen",
                         "127.0.0.1:%d" % self.port, "60"])
        self.run_.wait_tracing()
        self.target.release()
        self.target.wait_done()
        self.base = "http://127.0.0.1:%d" % self.port

    def tearDown(self):
        self.run_.stop()
        self.run_.close()
        self.target.close()
        super().tearDown()

    def test_metrics_are_valid_prometheus_text_with_per_stack_values(self):
        text = subprocess.run(["curl", "-sf", self.base + "/metrics"], capture_output=True,
                              text=True, check=True, timeout=30).stdout
        check = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                               text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn('leaksnoop_stack_outstanding_bytes{stack="', text)
        self.assertRegex(text, r'kind="heap",site="leak_a",pid="%d",cgroup="/[^"]*"\} 10000\n'
                         % self.target.pid)
        self.assertRegex(text, r'leaksnoop_dropped_events_total\{pid="%d",comm="leaky"\} 0\n'
                         % self.target.pid)

    def test_go_tool_pprof_reads_the_live_heap_profile(self):
        env = dict(os.environ, HOME=tempfile.gettempdir(), PPROF_TMPDIR=tempfile.gettempdir())
        top = subprocess.run(["go", "tool", "pprof", "-top", "-unit=B",
                              self.base + "/debug/pprof/heap"], capture_output=True, text=True,
                             timeout=60, env=env)
        self.assertEqual(top.returncode, 0, top.stderr)
        self.assertRegex(top.stdout, r"\n\s+10000B .* leak_a\n")

    def test_a_prometheus_server_scrapes_it(self):
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "prometheus.yml")
            with open(config, "w") as f:
                f.write("global:\n  scrape_interval: 1s\nscrape_configs:\n"
                        "  - job_name: leaksnoop\n    static_configs:\n"
                        "      - targets: ['127.0.0.1:%d']\n" % self.port)
            web = free_port()
            server = subprocess.Popen(["prometheus", "--config.file", config,
                                       "--storage.tsdb.path", os.path.join(d, "data"),
                                       "--web.listen-address", "127.0.0.1:%d" % web],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                query = ("http://127.0.0.1:%d/api/v1/query?query="
                         "leaksnoop_stack_outstanding_bytes%%7Bsite%%3D%%22leak_a%%22%%7D" % web)
                value = None
                deadline = time.time() + 40
                while time.time() < deadline and value is None:
                    time.sleep(1)
                    try:
                        result = json.loads(fetch(query))["data"]["result"]
                    except OSError:
                        continue
                    if result:
                        value = result[0]["value"][1]
                self.assertEqual(value, "10000")
            finally:
                server.terminate()
                server.wait()

    def test_unknown_paths_are_404(self):
        with self.assertRaises(urllib.error.HTTPError) as raised:
            fetch(self.base + "/nope")
        self.assertEqual(raised.exception.code, 404)


class ListenAddress(LeaksnoopTest):
    def test_a_public_address_needs_listen_public(self):
        proc = subprocess.run([LEAKSNOOP, "-c", "true", "--listen", "0.0.0.0:%d" % free_port()],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--listen-public", proc.stderr)
        proc = subprocess.run([LEAKSNOOP, "-c", "true", "--listen", "nonsense"],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 2)


if __name__ == "__main__":
    unittest.main()
