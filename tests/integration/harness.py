# SPDX-License-Identifier: MIT
"""Helpers for the integration tests: run leaksnoop as a user would, read its
JSON reports, and sum what each leak site holds."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LEAKSNOOP = os.path.join(ROOT, "leaksnoop")
PROGS = os.path.join(ROOT, "build", "progs")


def prog(name):
    return os.path.join(PROGS, name)


# The kinds of link leaksnoop makes: uprobes and tracepoints, and BTF-typed tracepoints.
PROBE_LINKS = ("perf_event", "tracing", "raw_tracepoint")


def our_links():
    """Number of probe and tracepoint BPF links on the system."""
    out = subprocess.run(["bpftool", "-j", "link", "list"], capture_output=True,
                         text=True, check=True).stdout
    return sum(1 for link in json.loads(out or "[]") if link.get("type") in PROBE_LINKS)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_reports(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def frames_of(stack):
    return [f.get("symbol", "") for f in stack["frames"]]


def site(report, function, kind="heap"):
    """(bytes, blocks, allocs) over the stacks of `kind` whose frames include function."""
    held = blocks = allocs = 0
    found = False
    for stack in report["stacks"]:
        if stack["kind"] == kind and function in frames_of(stack):
            found = True
            held += stack["outstanding_bytes"]
            blocks += stack["outstanding_allocs"]
            allocs += stack["allocs"]
    return (held, blocks, allocs) if found else None


class Run:
    """leaksnoop in the background, its stderr collected, JSON to a file."""

    def __init__(self, args, fmt="json", env=None, wrapper=(), stdout=subprocess.DEVNULL):
        self.dir = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.dir.name, "report")
        self.stderr_path = os.path.join(self.dir.name, "stderr")
        self.stderr_file = open(self.stderr_path, "w")
        cmd = list(wrapper) + [LEAKSNOOP, "-f", fmt, "-w", self.out] + args
        self.proc = subprocess.Popen(cmd, stdout=stdout, stderr=self.stderr_file, env=env)

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def wait_tracing(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if "Tracing" in self.stderr():
                return
            if self.proc.poll() is not None:
                raise AssertionError("leaksnoop exited early: " + self.stderr())
            time.sleep(0.05)
        raise AssertionError("no Tracing line: " + self.stderr())

    def stop(self, sig=signal.SIGINT, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout=60):
        status = self.proc.wait(timeout=timeout)
        self.stderr_file.close()
        return status

    def reports(self):
        return read_reports(self.out)

    def text(self):
        with open(self.out) as f:
            return f.read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.dir.cleanup()


class Target:
    """A test program started before leaksnoop (for -p), released by SIGUSR1."""

    def __init__(self, name, *args):
        self.proc = subprocess.Popen([prog(name), "--wait"] + list(args),
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("ready"), line
        self.pid = self.proc.pid

    def release(self):
        os.kill(self.pid, signal.SIGUSR1)

    def wait_done(self, timeout=30):
        """Read the program's output up to "done" (kept in self.lines)."""
        deadline = time.time() + timeout
        self.lines = []
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            self.lines.append(line)
            if line.strip() == "done":
                return
            if not line and self.proc.poll() is not None:
                break
        raise AssertionError("target did not finish")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


class LeaksnoopTest(unittest.TestCase):
    def trace_released_reports(self, target, args=()):
        """leaksnoop -p on a Target, released once tracing, stopped after it is done:
        every report (one a second), the target still running."""
        run = Run(["-p", str(target.pid), "-o", "0", "-T", "100", "1"] + list(args))
        try:
            run.wait_tracing()
            target.release()
            target.wait_done()
            time.sleep(1.2)  # a report after the last allocation
            self.assertEqual(run.stop(signal.SIGINT), 0, run.stderr())
            self.assertIsNone(target.proc.poll())  # the target runs on
            return run.reports()
        finally:
            run.close()

    def trace_released(self, target, args=()):
        """trace_released_reports, the final report only."""
        return self.trace_released_reports(target, args)[-1]

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("integration tests load BPF programs: run them as root")
        self.links_before = our_links()

    def tearDown(self):
        self.assertEqual(our_links(), self.links_before, "a probe was left attached")
