# SPDX-License-Identifier: MIT
"""`make install` and what it installs for operations: the man page (mandoc's lint,
man -l, every option of --help in it), the systemd unit (systemd-analyze verify)
and the Prometheus alerting rules, tested with `promtool test rules` on series
that leaksnoop's own /metrics served while tracing programs of known behaviour."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from harness import LEAKSNOOP, ROOT, LeaksnoopTest, Run, Target, free_port, prog

PREFIX = "/usr/local"
RULES = os.path.join(ROOT, "scripts", "ops", "leaksnoop.rules.yml")


class Install(LeaksnoopTest):
    def setUp(self):
        super().setUp()
        self.dest = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dest)
        out = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + self.dest],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)

    def installed(self, *parts):
        return os.path.join(self.dest, PREFIX.lstrip("/"), *parts)

    def test_the_binary_man_page_unit_and_rules_are_installed(self):
        for parts, mode in ((("sbin", "leaksnoop"), 0o755),
                            (("share", "man", "man8", "leaksnoop.8"), 0o644),
                            (("lib", "systemd", "system", "leaksnoop@.service"), 0o644),
                            (("share", "leaksnoop", "leaksnoop.rules.yml"), 0o644)):
            path = self.installed(*parts)
            self.assertTrue(os.path.isfile(path), path)
            self.assertEqual(os.stat(path).st_mode & 0o777, mode, path)

    def test_the_man_page_is_clean_and_has_every_option(self):
        page = self.installed("share", "man", "man8", "leaksnoop.8")
        lint = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", page],
                              capture_output=True, text=True)
        self.assertEqual((lint.returncode, lint.stdout + lint.stderr), (0, ""))
        shown = subprocess.run(["man", "--warnings", "-l", page], capture_output=True,
                               text=True, env=dict(os.environ, MANWIDTH="80"))
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertEqual(shown.stderr, "")
        self.assertIn("leaksnoop — call stacks holding memory", shown.stdout)
        helped = subprocess.run([LEAKSNOOP, "--help"], capture_output=True, text=True).stdout
        options = set(re.findall(r"--([a-z][a-z-]+)", helped))
        self.assertGreater(len(options), 30)
        with open(page) as f:
            source = f.read()
        missing = sorted(o for o in options if "Fl \\-%s" % o not in source)
        self.assertEqual(missing, [])

    def test_systemd_verifies_the_unit(self):
        units = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, units)
        unit = self.installed("lib", "systemd", "system", "leaksnoop@.service")
        shutil.copy(unit, units)
        with open(os.path.join(units, "demo.service"), "w") as f:
            f.write("[Unit]\nDescription=a service to watch\n[Service]\nExecStart=/bin/sleep 1\n")
        with open(unit) as f:
            text = f.read()
        self.assertIn("exec %s/sbin/leaksnoop -p " % PREFIX, text)
        self.assertIn("--growth --escalate --listen", text)
        self.assertIn("Restart=on-failure", text)
        out = subprocess.run(["systemd-analyze", "verify", "--man=no",
                              "./leaksnoop@demo.service"], cwd=units, capture_output=True,
                             text=True)
        self.assertEqual((out.returncode, out.stdout + out.stderr), (0, ""))


def scrape(port):
    """One /metrics read: {'name{labels}': value}."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    series = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            series[name] = float(value)
    return series


def scrape_every_second(port, count):
    samples = []
    for _ in range(count):
        samples.append(scrape(port))
        time.sleep(1)
    return samples


def annotations(alert, labels):
    """The rules file's summary and description of alert, its templates filled from labels."""
    with open(RULES) as f:
        block = f.read().split("- alert: %s\n" % alert)[1].split("- alert:")[0]
    fill = lambda m: labels[m.group(1)]
    return {key: re.sub(r"\{\{ \$labels\.(\w+) \}\}", fill,
                        re.search(r'%s: "(.*)"' % key, block).group(1))
            for key in ("summary", "description")}


def labels_of(series):
    return dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', series))


class AlertRules(LeaksnoopTest):
    """Each scrape becomes one sample, five minutes apart: 13 scrapes are an hour."""

    def served(self, target, args, scrapes, warm_up):
        port = free_port()
        run = Run(["-p", str(target.pid), "-o", "0", "-T", "100", "--listen",
                   "127.0.0.1:%d" % port, "1"] + args)
        try:
            run.wait_tracing()
            target.release()
            time.sleep(warm_up)
            samples = scrape_every_second(port, scrapes)
            self.assertEqual(run.stop(), 0, run.stderr())
            return samples
        finally:
            run.close()

    def promtool(self, samples, expected):
        """promtool test rules: at 60 minutes, the alerts `expected` names and no others."""
        names = sorted(set().union(*samples))
        lines = ["rule_files:", "  - %s" % RULES, "evaluation_interval: 1m", "tests:",
                 "  - interval: 5m", "    input_series:"]
        for name in names:
            values = " ".join("%r" % s[name] if name in s else "_" for s in samples)
            lines += ["      - series: '%s'" % name, "        values: '%s'" % values]
        lines.append("    alert_rule_test:")
        for alert in ("LeaksnoopStackGrowingForAnHour", "LeaksnoopNewMemoryForAnHour",
                      "LeaksnoopLostBytes", "LeaksnoopDroppedEvents"):
            lines += ["      - eval_time: %dm" % (5 * (len(samples) - 1)),
                      "        alertname: %s" % alert, "        exp_alerts:"]
            for labels in expected.get(alert, []):
                lines.append("          - exp_labels:")
                for key, value in sorted(labels.items()):
                    lines.append("              %s: '%s'" % (key, value))
                lines.append("            exp_annotations:")
                for key, value in sorted(annotations(alert, labels).items()):
                    lines.append("              %s: '%s'" % (key, value))
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory)
        path = os.path.join(directory, "test.yml")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        out = subprocess.run(["promtool", "test", "rules", path], capture_output=True,
                             text=True)
        return out.returncode, out.stdout + out.stderr

    def served_trends(self, seconds, args, scrapes):
        """served() on tests/progs/trends.c (SECONDS, then --wait: not Target's order)."""
        proc = subprocess.Popen([prog("trends"), str(seconds), "--wait"],
                                stdout=subprocess.PIPE, text=True)
        try:
            pid = int(proc.stdout.readline().split()[1])
            return self.served(Released(pid), args, scrapes, 3.5)
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()

    def test_a_stack_growing_for_an_hour_alerts_and_a_cache_does_not(self):
        samples = self.served_trends(40, [], 13)
        growing = [labels_of(n) for n in samples[-1]
                   if n.startswith("leaksnoop_stack_leak_score") and 'site="steady_leak"' in n]
        caches = [n for n in samples[-1] if 'site="fill_cache"' in n]
        self.assertEqual(len(growing), 1)
        self.assertTrue(caches)  # served, and must not alert
        status, output = self.promtool(samples, {
            "LeaksnoopStackGrowingForAnHour": [dict(growing[0], severity="warning")]})
        self.assertEqual(status, 0, output)
        self.assertIn("SUCCESS", output)

    def test_lost_blocks_and_dropped_events_alert(self):
        target = Target("leak_cases")
        try:
            samples = self.served(target, ["--leak-check"], 4, 2.5)
        finally:
            target.close()
        lost_sites = {"dropped", "list_head", "list_node", "cycle_node"}
        lost = [dict(labels_of(n), severity="warning") for n in samples[-1]
                if n.startswith("leaksnoop_stack_lost_bytes") and
                labels_of(n)["site"] in lost_sites]
        self.assertEqual({l["site"] for l in lost}, lost_sites)
        status, output = self.promtool(samples, {"LeaksnoopLostBytes": lost})
        self.assertEqual(status, 0, output)

        samples = self.served_trends(20, ["--max-allocs", "8"], 4)
        dropped = [n for n in samples[-1] if n.startswith("leaksnoop_dropped_events_total")]
        self.assertEqual(len(dropped), 1)
        self.assertGreater(samples[-1][dropped[0]], samples[0][dropped[0]])
        status, output = self.promtool(samples, {
            "LeaksnoopDroppedEvents": [dict(labels_of(dropped[0]), severity="info")]})
        self.assertEqual(status, 0, output)


class Released:
    """A program started here with --wait: released by SIGUSR1, as Target is."""

    def __init__(self, pid):
        self.pid = pid

    def release(self):
        os.kill(self.pid, signal.SIGUSR1)
