# SPDX-License-Identifier: MIT
"""-f svg in a real headless Chromium: drawn, hoverable, clickable (zoom), searchable."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import LEAKSNOOP, LeaksnoopTest, ROOT, prog

PLAYWRIGHT = os.path.join(ROOT, "build", "node", "node_modules")


class FlameGraph(LeaksnoopTest):
    def test_flame_graph_opens_in_chromium_and_the_leak_site_zooms_on_click(self):
        with tempfile.TemporaryDirectory() as d:
            svg = os.path.join(d, "flame.svg")
            proc = subprocess.run([LEAKSNOOP, "-c", prog("leaky"), "-o", "0", "-f", "svg",
                                   "-w", svg, "30"], capture_output=True, text=True, timeout=60)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(svg) as f:
                text = f.read()
            self.assertNotIn("http://", text.replace("http://www.w3.org/2000/svg", ""))
            shot = os.path.join(ROOT, "build", "flamegraph.png")
            check = subprocess.run(["node", os.path.join(os.path.dirname(__file__), "svg_check.js"),
                                    svg, "leak_a", shot], capture_output=True, text=True,
                                   timeout=120, env=dict(os.environ, PLAYWRIGHT_PATH=PLAYWRIGHT))
            self.assertEqual(check.returncode, 0, check.stderr)
            seen = json.loads(check.stdout)
            self.assertEqual(seen["errors"], [])
            self.assertGreater(seen["frames"], 10)
            self.assertEqual(seen["label"], "leak_a")
            self.assertIn("leak_a: 9.8 KiB", seen["details"])
            self.assertIn("10 objects", seen["tooltip"])
            self.assertLess(seen["widthBefore"], 200)
            self.assertAlmostEqual(seen["widthAfter"], 1200, delta=1)  # zoomed to full width
            self.assertAlmostEqual(seen["widthReset"], seen["widthBefore"], delta=0.01)
            self.assertTrue(seen["matchedClass"])
            self.assertTrue(seen["matched"].startswith("Matched: "))
            self.assertGreater(os.path.getsize(shot), 10000)


if __name__ == "__main__":
    unittest.main()
