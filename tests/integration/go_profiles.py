# SPDX-License-Identifier: MIT
"""A Go program's own profiles, as the tests' truth: its goroutine profile
(debug=2 text, as runtime/pprof and /debug/pprof/goroutine?debug=2 write it)
grouped by creation site, and any pprof profile's samples through
`go tool pprof -raw`."""
import collections
import re
import subprocess

HEADER = re.compile(r"^goroutine \d+ \[([^\]]+)\]:$")


def goroutine_groups(text):
    """{creator function: {"count", "states", "waiting", "file", "line"}} from a debug=2
    profile.  The state drops the ", N minutes" and ", locked to thread" parts; "waiting"
    counts each goroutine's first frame (the runtime's own are not printed)."""
    groups = {}
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        match = HEADER.match(lines[0]) if lines else None
        if not match:
            continue
        creator = next((i for i, line in enumerate(lines) if line.startswith("created by ")), None)
        if creator is None:
            continue  # the main goroutine
        function = lines[creator][len("created by "):].split(" in goroutine")[0]
        where = lines[creator + 1].strip().split(" ")[0]
        file, line = where.rsplit(":", 1)
        group = groups.setdefault(function, {"count": 0, "states": collections.Counter(),
                                             "waiting": collections.Counter(),
                                             "file": file, "line": int(line)})
        group["count"] += 1
        group["states"][match.group(1).split(",")[0]] += 1
        group["waiting"][lines[1].rsplit("(", 1)[0]] += 1
    return groups


def pprof_samples(path, sample_values=4):
    """The multiset of a profile's sample values (a tuple per sample), as
    `go tool pprof -raw` decodes them."""
    out = subprocess.run(["go", "tool", "pprof", "-raw", path], capture_output=True,
                         text=True, check=True).stdout
    samples = collections.Counter()
    pattern = re.compile(r"^\s+" + r"\s+".join([r"(-?\d+)"] * sample_values) + r":")
    for line in out.splitlines():
        match = pattern.match(line)
        if match:
            samples[tuple(int(v) for v in match.groups())] += 1
    return samples


def leaksnoop_groups(report):
    """The same view of a leaksnoop report: its goroutine groups by creator."""
    groups = {}
    for group in report["goroutines"]:
        if group["count"] and group["frames"]:
            groups[group["frames"][0]["symbol"]] = group
    return groups


def pprof_traces_by_root(path):
    """{first function of each sample: (value, labels)} from `go tool pprof -traces`
    (a goroutine profile by creation site: the first function is the creator)."""
    out = subprocess.run(["go", "tool", "pprof", "-traces", path], capture_output=True,
                         text=True, check=True).stdout
    samples = {}
    for block in out.split("-----------+-------------------------------------------------------"):
        labels, value, root = {}, None, None
        for line in block.splitlines():
            if re.match(r"^\s*\w+:\s", line) and value is None:
                key, _, rest = line.strip().partition(":")
                labels[key] = rest.strip()
                continue
            match = re.match(r"^\s+(\d+)\s+(\S.*)$", line)
            if match and value is None:
                value, root = int(match.group(1)), match.group(2).strip()
        if root is not None:
            count, _ = samples.get(root, (0, {}))
            samples[root] = (count + value, labels)
    return samples
