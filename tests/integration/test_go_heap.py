# SPDX-License-Identifier: MIT
"""The Go heap (kind go_heap) read from outside with no probe: per site equal to the
program's own runtime.MemProfile (tests/progs/goheap), built as is and stripped, exact
(MemProfileRate 1) and sampled (scaled as pprof scales); its pprof profile equal, sample
by sample, to the one the program writes itself; and a real Go server nobody here wrote
(Debian's prometheus, stripped): leaksnoop's /debug/pprof/heap equal to the server's own."""
import collections
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

from go_profiles import goroutine_groups, pprof_samples, pprof_traces_by_root
from harness import LeaksnoopTest, Run, Target, free_port

SITES = ("main.keepLarge", "main.keepSmall", "main.churn")


def scale(count, size, rate):
    """runtime/pprof's scaleHeapSample."""
    if count == 0 or size == 0:
        return 0, 0
    if rate <= 1:
        return count, size
    factor = 1 / (1 - math.exp(-(size / count) / rate))
    return int(count * factor), int(size * factor)


def own_profile(target):
    """The program's runtime.MemProfile, as it printed it."""
    for line in target.lines:
        if line.startswith("profile "):
            return json.loads(line[len("profile "):])
    raise AssertionError("no profile printed")


def per_site(report):
    """(inuse_objects, inuse_space, alloc_objects, alloc_space) per first frame."""
    sites = collections.defaultdict(lambda: [0, 0, 0, 0])
    for stack in report["stacks"]:
        if stack["kind"] == "go_heap" and stack["frames"]:
            values = sites[stack["frames"][0]["symbol"]]
            for i, v in enumerate((stack["outstanding_allocs"], stack["outstanding_bytes"],
                                   stack["allocs"], stack["alloc_bytes"])):
                values[i] += v
    return sites


def own_per_site(records, rate):
    sites = collections.defaultdict(lambda: [0, 0, 0, 0])
    for r in records:
        inuse = scale(r["alloc_objects"] - r["free_objects"], r["alloc_bytes"] - r["free_bytes"],
                      rate)
        allocated = scale(r["alloc_objects"], r["alloc_bytes"], rate)
        values = sites[r["site"]]
        for i, v in enumerate(inuse + allocated):
            values[i] += v
    return sites


def fetch(url, path):
    with urllib.request.urlopen(url, timeout=20) as response, open(path, "wb") as f:
        f.write(response.read())


class GoHeap(LeaksnoopTest):
    def traced(self, program, rate, extra=()):
        """The final report of leaksnoop -p on goheap, and the program's own profile."""
        target = Target(program, "-rate", str(rate), *extra)
        run = Run(["-p", str(target.pid), "-T", "1000", "1"])
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.5)
            self.assertEqual(run.stop(), 0, run.stderr())
            return run.reports()[-1], own_profile(target)
        finally:
            run.close()
            target.close()

    def check_sites(self, program, rate):
        final, records = self.traced(program, rate)
        self.final = final
        ours, truth = per_site(final), own_per_site(records, rate)
        for site in SITES:
            self.assertEqual(ours[site], truth[site], site)
        heap = final["go_heap"]
        self.assertEqual(heap["memprofilerate"], rate)
        self.assertEqual(heap["inuse_bytes"], sum(v[1] for v in truth.values()))
        self.assertEqual(heap["alloc_objects"], sum(v[2] for v in truth.values()))
        return ours

    def test_every_allocation_profiled_equals_the_programs_own_profile(self):
        ours = self.check_sites("goheap", 1)
        # What the program keeps: 500 x 8 KiB and 2000 x 64 B; 20000 x 256 B churned.
        # (A GC that starts inside a site adds the runtime's own objects to it, as
        # the program's profile has them too: the buckets of those sizes are exact.)
        self.assertEqual(self.bucket("main.keepLarge", 8192), (500, 500 * 8192, 500))
        self.assertEqual(self.bucket("main.keepSmall", 64), (2000, 2000 * 64, 2000))
        self.assertEqual(self.bucket("main.churn", 256)[2], 20000)

    def bucket(self, site, size):
        """(inuse objects, inuse bytes, allocated objects) of site's bucket of size."""
        for stack in self.final["stacks"]:
            if stack["kind"] == "go_heap" and stack["frames"][0]["symbol"] == site and \
                    stack["alloc_bytes"] == size * stack["allocs"]:
                return stack["outstanding_allocs"], stack["outstanding_bytes"], stack["allocs"]
        return None

    def test_a_stripped_program_reads_the_same(self):
        self.check_sites("goheap_stripped", 1)

    def test_a_position_independent_stripped_program_reads_the_same(self):
        self.check_sites("goheap_pie", 1)
        self.assertEqual(self.bucket("main.keepLarge", 8192), (500, 500 * 8192, 500))

    def test_sampled_profile_is_scaled_as_pprof_scales_it(self):
        ours = self.check_sites("goheap_stripped", 512 * 1024)
        # About 4 MB kept by keepLarge, estimated from samples.
        self.assertGreater(ours["main.keepLarge"][1], 2 << 20)

    def test_go_tool_pprof_shows_what_the_programs_own_profile_shows(self):
        with tempfile.TemporaryDirectory() as tmp:
            own = os.path.join(tmp, "own.pb.gz")
            target = Target("goheap_stripped", "-heapprofile", own)
            run = Run(["-p", str(target.pid), "1"], fmt="pprof")
            try:
                run.wait_tracing()
                target.release()
                target.wait_done()
                time.sleep(1.5)
                self.assertEqual(run.stop(), 0, run.stderr())
                self.assertEqual(pprof_samples(run.out), pprof_samples(own))
            finally:
                run.close()
                target.close()


@unittest.skipUnless(shutil.which("prometheus"), "prometheus is installed by scripts/")
class RealGoServer(LeaksnoopTest):
    """Debian's prometheus: a stripped Go 1.19 server; its own pprof endpoints are the truth."""

    def setUp(self):
        super().setUp()
        self.dir = tempfile.TemporaryDirectory()
        config = os.path.join(self.dir.name, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1h\nscrape_configs: []\n")
        self.web = "http://127.0.0.1:%d" % free_port()
        self.server = subprocess.Popen(
            ["prometheus", "--config.file", config, "--storage.tsdb.path",
             os.path.join(self.dir.name, "data"), "--web.listen-address", self.web[7:]],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.web + "/-/ready", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        self.live = "http://127.0.0.1:%d" % free_port()
        self.run_ = Run(["-p", str(self.server.pid), "--listen", self.live[7:], "100"])
        self.run_.wait_tracing()

    def tearDown(self):
        self.run_.stop()
        self.run_.close()
        self.server.terminate()
        self.server.wait()
        self.dir.cleanup()
        super().tearDown()

    def consistent(self, path_of_server, path_of_ours, read):
        """Ours read between two reads of the server's own that agree (no GC between)."""
        for attempt in range(8):
            before = read(path_of_server, "before")
            ours = read(path_of_ours, "ours")
            after = read(path_of_server, "after")
            if before == after:
                return before, ours
            time.sleep(0.5)
        self.fail("the server's own profile never held still")

    def test_heap_profile_equals_the_servers_own(self):
        def read(url, name):
            path = os.path.join(self.dir.name, name + ".pb.gz")
            fetch(url, path)
            return pprof_samples(path)

        own, ours = self.consistent(self.web + "/debug/pprof/heap",
                                    self.live + "/debug/pprof/heap", read)
        self.assertGreater(len(own), 5)
        self.assertEqual(ours, own)
        self.assertNotIn("the Go heap is not shown", self.run_.stderr())
        # And its totals in /metrics, valid for Prometheus.
        path = os.path.join(self.dir.name, "metrics")
        fetch(self.live + "/metrics", path)
        with open(path) as f:
            text = f.read()
        self.assertRegex(text, r"leaksnoop_go_heap_inuse_bytes\{[^}]*\} \d+\n")
        self.assertRegex(text, r'kind="go_heap"')
        check = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_goroutine_groups_equal_the_servers_own(self):
        # Each request to the server is served by goroutines of its own: left out.
        def serving(creator):
            return creator.startswith("net/http.")

        def read(url, name):
            """{creator: (count, where most wait)}; a goroutine in a system call has no
            parked stack to walk (None)."""
            path = os.path.join(self.dir.name, name)
            fetch(url, path)
            if name == "ours":
                return {creator: (value, labels.get("waiting_in")) for creator, (value, labels)
                        in pprof_traces_by_root(path).items() if not serving(creator)}
            with open(path) as f:
                groups = goroutine_groups(f.read())
            return {creator: (g["count"], None if set(g["states"]) == {"syscall"} else
                              g["waiting"].most_common(1)[0][0])
                    for creator, g in groups.items() if not serving(creator)}

        own, ours = self.consistent(self.web + "/debug/pprof/goroutine?debug=2",
                                    self.live + "/debug/pprof/goroutine", read)
        self.assertGreater(sum(count for count, _ in own.values()), 10)
        # The server's profile leaves out the runtime's own goroutines; ours has them too.
        self.assertEqual({c: v for c, v in ours.items() if c in own}, own)
        self.assertFalse([c for c in ours if c not in own and not c.startswith("runtime.")])

if __name__ == "__main__":
    unittest.main()
