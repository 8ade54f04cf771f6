# SPDX-License-Identifier: MIT
"""Every bad input: one clear line on stderr, a defined exit status, no probe left."""
import os
import subprocess
import unittest

from harness import LEAKSNOOP, LeaksnoopTest, Target, prog

USAGE, RUNTIME = 2, 1


def run(*args, user=None):
    cmd = [LEAKSNOOP] + list(args)
    if user:
        cmd = ["setpriv", "--reuid", user, "--regid", user, "--clear-groups",
               "--inh-caps=-all", "--bounding-set=-all"] + cmd
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return proc.returncode, proc.stderr


def free_pid():
    pid = 4000000
    while os.path.exists("/proc/%d" % pid):
        pid -= 1
    return pid


class BadInput(LeaksnoopTest):
    def assert_one_line(self, result, status, *words):
        code, err = result
        self.assertEqual(code, status, err)
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith("leaksnoop: "), err)
        for word in words:
            self.assertIn(word, lines[0])

    def test_unknown_option_is_a_usage_error(self):
        self.assert_one_line(run("--bogus", "-p", "1"), USAGE, "unknown option", "--bogus")

    def test_missing_option_value_is_a_usage_error(self):
        self.assert_one_line(run("-p"), USAGE, "needs a value")

    def test_non_numeric_pid_is_a_usage_error(self):
        self.assert_one_line(run("-p", "abc"), USAGE, "invalid PID")

    def test_growth_without_a_target_is_a_usage_error(self):
        # No target means system-wide, which growth mode and Go tracking do not do.
        self.assert_one_line(run("--growth"), USAGE, "-p PID")
        self.assert_one_line(run("--go"), USAGE, "-p PID")

    def test_pid_and_command_together_are_a_usage_error(self):
        self.assert_one_line(run("-p", "1", "-c", "true"), USAGE, "either")

    def test_zero_or_non_numeric_interval_and_count_are_usage_errors(self):
        self.assert_one_line(run("-p", "1", "0"), USAGE, "INTERVAL")
        self.assert_one_line(run("-p", "1", "-1"), USAGE)
        self.assert_one_line(run("-p", "1", "5", "0"), USAGE, "COUNT")
        self.assert_one_line(run("-p", "1", "5", "x"), USAGE, "COUNT")
        self.assert_one_line(run("-p", "1", "5", "3", "7"), USAGE, "unexpected")

    def test_unknown_format_is_a_usage_error(self):
        self.assert_one_line(run("-p", "1", "-f", "xml"), USAGE, "format")

    def test_missing_pid_is_a_runtime_error(self):
        pid = free_pid()
        self.assert_one_line(run("-p", str(pid)), RUNTIME, "PID %d not found" % pid)

    def test_kernel_thread_has_nothing_to_trace(self):
        self.assert_one_line(run("-p", "2"), RUNTIME, "no user memory")

    def test_missing_command_is_a_runtime_error(self):
        self.assert_one_line(run("-c", "/nonexistent/program"), RUNTIME, "cannot run")

    def test_obj_that_is_not_an_allocator_is_refused(self):
        self.assert_one_line(run("-c", "true", "-O", "/etc/passwd"), RUNTIME, "-O /etc/passwd")
        self.assert_one_line(run("-c", "true", "-O", "/nonexistent.so"), RUNTIME, "No such file")

    def test_unprivileged_user_is_told_which_capabilities_are_missing(self):
        target = Target("leaky", "--linger")
        try:
            self.assert_one_line(run("-p", str(target.pid), user="65534"), RUNTIME,
                                 "CAP_BPF", "CAP_PERFMON", "root")
        finally:
            target.close()

    def test_help_and_version_exit_zero(self):
        code, _ = run("--help")
        self.assertEqual(code, 0)
        proc = subprocess.run([LEAKSNOOP, "--version"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0)
        self.assertTrue(proc.stdout.startswith("leaksnoop "))


if __name__ == "__main__":
    unittest.main()
