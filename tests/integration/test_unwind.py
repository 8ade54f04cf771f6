# SPDX-License-Identifier: MIT
"""--unwind dwarf: stacks through code built without frame pointers
(tests/progs/nofp.c, -O2 -fomit-frame-pointer), exact per site."""
import unittest

from harness import LeaksnoopTest, Run, Target, frames_of, prog, site

MAIN_ROOT = ["main", "__libc_start_call_main", "__libc_start_main", "_start"]


def stacks_with(report, function, kind="heap"):
    return [s for s in report["stacks"] if s["kind"] == kind and function in frames_of(s)]


class Unwind(LeaksnoopTest):
    def trace_nofp(self, *args):
        target = Target("nofp")
        try:
            return self.trace_released(target, args)
        finally:
            target.close()

    def test_dwarf_walks_whole_stacks_through_code_without_frame_pointers(self):
        final = self.trace_nofp("--unwind", "dwarf")
        self.assertEqual(final["dropped"], {"events": 0, "stacks": 0})
        self.assertEqual(final["unwind"], "dwarf")

        chain = stacks_with(final, "chain_leaf")
        self.assertEqual(len(chain), 1, [frames_of(s) for s in chain])
        self.assertEqual(frames_of(chain[0]),
                         ["chain_leaf", "chain_middle", "chain_outer"] + MAIN_ROOT)
        self.assertEqual((chain[0]["outstanding_bytes"], chain[0]["outstanding_allocs"]),
                         (1000, 10))
        self.assertEqual(chain[0]["stack_quality"], "complete")

        # Through libc's strdup, itself built without frame pointers.
        dup = stacks_with(final, "dup_site")
        self.assertEqual(len(dup), 1)
        self.assertEqual(frames_of(dup[0])[1:], ["dup_site"] + MAIN_ROOT)
        self.assertIn("strdup", frames_of(dup[0])[0])
        self.assertEqual((dup[0]["outstanding_bytes"], dup[0]["outstanding_allocs"]), (160, 5))

        self.assertEqual(site(final, "churn_site"), (0, 0, 20))

        # A thread's stack ends at its root, start_thread's caller.
        thread = stacks_with(final, "thread_leaf")
        self.assertEqual(len(thread), 1)
        self.assertEqual(frames_of(thread[0])[:3], ["thread_leaf", "thread_main", "start_thread"])
        self.assertEqual(thread[0]["stack_quality"], "complete")
        self.assertEqual(site(final, "thread_leaf"), (192, 4, 4))

        # An mmap: the walk starts in the libc wrapper, at the system call.
        region = stacks_with(final, "map_site", kind="mmap")
        self.assertEqual(len(region), 1)
        self.assertEqual(frames_of(region[0])[1:], ["map_site"] + MAIN_ROOT)
        self.assertEqual(region[0]["outstanding_bytes"], 65536)

        # pthread_create has a return probe pending (thread tracking): the
        # trampoline's address on the stack is put back to the real caller.
        tls = [s for s in stacks_with(final, "pthread_create")]
        self.assertTrue(tls)
        for stack in tls:
            self.assertEqual(frames_of(stack)[-5:], ["pthread_create"] + MAIN_ROOT)

        # libleakylib.so, dlopen()ed after attach: its first call is walked
        # before its rows are loaded (the walk stops in it), the 8 calls
        # 300 ms later through it to main.
        lib = stacks_with(final, "lib_leak")
        whole = [s for s in lib if frames_of(s) == ["lib_leak", "leak_from_library"] + MAIN_ROOT]
        self.assertEqual(len(whole), 1, [frames_of(s) for s in lib])
        self.assertEqual(whole[0]["outstanding_allocs"], 8)
        self.assertEqual(site(final, "lib_leak"), (9 * 72, 9, 9))

        complete = sum(1 for s in final["stacks"] if s["stack_quality"] == "complete")
        self.assertGreaterEqual(complete, len(final["stacks"]) - 1)  # all but lib_leak's first

    def test_frame_pointers_alone_lose_the_callers_and_say_so(self):
        final = self.trace_nofp()
        self.assertEqual(final["unwind"], "fp")
        chain = stacks_with(final, "chain_leaf")
        self.assertEqual(len(chain), 1)
        # The site itself is right and exact; its callers are not found.
        self.assertEqual(frames_of(chain[0])[0], "chain_leaf")
        self.assertNotIn("chain_middle", frames_of(chain[0]))
        self.assertEqual(chain[0]["stack_quality"], "truncated")
        self.assertEqual(site(final, "chain_leaf"), (1000, 10, 10))


class UnwindCommand(LeaksnoopTest):
    def test_a_command_is_walked_whole_from_its_first_allocation(self):
        """-c: the libraries' rows are read at the entry point, before main runs."""
        run = Run(["-c", prog("demo") + " 2", "--unwind", "dwarf", "-o", "0", "-T", "100", "30"])
        try:
            self.assertEqual(run.wait(), 0, run.stderr())
            final = run.reports()[-1]
            for function in ("leak_request_buffer", "leak_session_name", "churn_parse"):
                stacks = stacks_with(final, function)
                # One stack per site: none cut short while libc's rows were missing.
                self.assertEqual([frames_of(s) for s in stacks],
                                 [[function] + MAIN_ROOT], function)
        finally:
            run.close()


if __name__ == "__main__":
    unittest.main()
