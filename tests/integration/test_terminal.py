# SPDX-License-Identifier: MIT
"""On a terminal: colours (unless NO_COLOR) and --top-view; none of it into a pipe."""
import os
import pty
import select
import subprocess
import time
import unittest

from harness import LEAKSNOOP, LeaksnoopTest, prog


def run_on_terminal(args, env_extra=None, seconds=20):
    """Run leaksnoop with a pseudo-terminal as stdout; return all it printed there."""
    master, slave = pty.openpty()
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.update(env_extra or {})
    proc = subprocess.Popen([LEAKSNOOP] + args, stdout=slave, stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    output = b""
    deadline = time.time() + seconds
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(master)
    return proc.returncode, output.decode(errors="replace")


class Terminal(LeaksnoopTest):
    def test_top_view_redraws_a_table_with_the_leak_sites(self):
        code, out = run_on_terminal(["-c", prog("trends") + " 4", "--top-view", "1"])
        self.assertEqual(code, 0)
        self.assertGreaterEqual(out.count("\033[H\033[2J"), 3)
        self.assertIn("GROWTH/s", out)
        self.assertIn("steady_leak trends.c:", out)
        self.assertIn("(plateaued)", out)

    def test_colours_on_a_terminal_but_not_with_no_color_or_into_a_pipe(self):
        args = ["-c", prog("trends") + " 2", "1"]
        _, coloured = run_on_terminal(args)
        self.assertIn("\033[1m", coloured)
        _, plain = run_on_terminal(args, {"NO_COLOR": "1"})
        self.assertNotIn("\033[", plain)
        piped = subprocess.run([LEAKSNOOP] + args, capture_output=True, text=True, timeout=60)
        self.assertNotIn("\033[", piped.stdout)
        self.assertIn("KiB", piped.stdout)  # sizes for people, in text


if __name__ == "__main__":
    unittest.main()
