# SPDX-License-Identifier: MIT
"""Binaries as production has them: deleted or replaced on disk since the
process started, and seen from another mount namespace (a container)."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import LeaksnoopTest, Target, frames_of, prog, site

# From tests/progs/leaky.c: sites in the executable, its library and a thread.
SITES = {
    "leak_a": (10000, 10, 10),
    "leak_b": (1500, 5, 5),
    "lib_leak": (2664, 8, 8),
    "thread_leak": (2100, 7, 7),
}


class Binaries(LeaksnoopTest):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        super().tearDown()

    def copy(self, *names):
        for name in names:
            shutil.copy2(prog(name), os.path.join(self.dir, name))

    def assert_sites(self, report):
        self.assertEqual(report["dropped"], {"events": 0, "stacks": 0})
        for function, truth in SITES.items():
            self.assertEqual(site(report, function), truth, function)

    def leak_a_frame(self, report):
        stack = [s for s in report["stacks"] if "leak_a" in frames_of(s)]
        self.assertEqual(len(stack), 1, [frames_of(s) for s in report["stacks"]])
        return stack[0]["frames"][0]

    def test_non_pie_executable(self):
        target = Target("leaky_nopie", "--linger")
        try:
            report = self.trace_released(target)
            self.assert_sites(report)
            frame = self.leak_a_frame(report)
            self.assertLess(int(frame["addr"], 16), 0x1000000)  # linked at 0x400000
            self.assertTrue(frame["file"].endswith("leaky.c"), frame)
        finally:
            target.close()

    def test_stripped_executable_is_named_from_dynsym(self):
        target = Target("leaky_dynsym", "--linger")
        try:
            report = self.trace_released(target)
            # Exported functions keep their names; the static thread_leak has none
            # left, but its stack (under start_thread) still holds exactly its blocks.
            for function in ("leak_a", "leak_b", "lib_leak"):
                self.assertEqual(site(report, function), SITES[function], function)
            self.assertIsNone(site(report, "thread_leak"))
            self.assertEqual(site(report, "start_thread"), SITES["thread_leak"])
            frame = self.leak_a_frame(report)
            self.assertNotIn("file", frame)  # no DWARF left to give a line
        finally:
            target.close()

    def test_stripped_executable_with_separate_debug_info(self):
        target = Target("leaky_debuglink", "--linger")
        try:
            report = self.trace_released(target)
            self.assert_sites(report)
            frame = self.leak_a_frame(report)
            self.assertTrue(frame["file"].endswith("leaky.c"), frame)
            self.assertGreater(frame["line"], 0)
        finally:
            target.close()

    def test_executable_and_library_deleted_and_replaced_since_start(self):
        self.copy("leaky", "libleakylib.so")
        exe = os.path.join(self.dir, "leaky")
        target = Target(exe, "--linger")
        try:
            # Another program at the same path now: only the mapping tells the truth.
            os.unlink(exe)
            shutil.copy2("/bin/true", exe)
            os.unlink(os.path.join(self.dir, "libleakylib.so"))
            report = self.trace_released(target)
            self.assert_sites(report)
            stack = [s for s in report["stacks"] if "leak_a" in frames_of(s)][0]
            self.assertTrue(stack["frames"][0]["module"].endswith("leaky (deleted)"),
                            stack["frames"][0])
            self.assertTrue(stack["frames"][0]["file"].endswith("leaky.c"), stack["frames"][0])
        finally:
            target.close()

    def test_deleted_static_executable_is_probed_through_its_mapping(self):
        self.copy("leaky_static")
        target = Target(os.path.join(self.dir, "leaky_static"), "--linger")
        try:
            os.unlink(os.path.join(self.dir, "leaky_static"))
            report = self.trace_released(target)
            self.assertEqual(report["allocator"], "static")
            self.assert_sites(report)
            # pthread_create is probed in the deleted file too: cross_thread's thread seen.
            created = [g for g in report["threads"] if "cross_thread" in frames_of(g)]
            self.assertEqual(sum(g["created"] for g in created), 1, report["threads"])
        finally:
            target.close()

    def test_process_in_another_mount_namespace(self):
        """The program lives on a tmpfs mounted only in its own mount namespace."""
        self.copy("leaky", "libleakylib.so")
        inner = os.path.join(self.dir, "inner")
        os.mkdir(inner)  # empty here; a tmpfs holding the program in the namespace
        script = ("mount -t tmpfs none {d} && cp {src}/leaky {src}/libleakylib.so {d}/ && "
                  "exec {d}/leaky --wait --linger").format(d=inner, src=self.dir)
        target = Target.__new__(Target)
        target.proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private",
                                        "sh", "-c", script], stdout=subprocess.PIPE, text=True)
        try:
            line = target.proc.stdout.readline()
            self.assertTrue(line.startswith("ready"), line)
            target.pid = target.proc.pid
            self.assertFalse(os.path.exists(os.path.join(inner, "leaky")))
            report = self.trace_released(target)
            self.assert_sites(report)
            stack = [s for s in report["stacks"] if "lib_leak" in frames_of(s)][0]
            self.assertEqual(stack["frames"][0]["module"], os.path.join(inner, "libleakylib.so"))
            self.assertTrue(stack["frames"][0]["file"].endswith("leakylib.c"))
        finally:
            target.close()


if __name__ == "__main__":
    unittest.main()
