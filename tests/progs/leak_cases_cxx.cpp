// SPDX-License-Identifier: MIT
/*
 * C++ blocks that are reachable only through what valgrind's heuristics
 * accept, each from its own function (tests/integration/test_leak_check.py):
 *
 *   make_string      std::string's heap buffer (with the pre-C++11 ABI, as
 *                    leak_cases_cxx_cow is built, a pointer 24 bytes in:
 *                    valgrind's stdstring heuristic)
 *   make_vector      std::vector<long>'s array
 *   make_objects     new Obj[10] of objects with a destructor: the program
 *                    holds a pointer 8 bytes past the count (newarray)
 *   make_derived     new Derived held as its second base: a pointer to the
 *                    second vtable pointer inside it (multipleinheritance)
 *   make_lost        new long[16] whose pointer is dropped: definitely lost
 *
 * "--wait": print "ready", wait for SIGUSR1, allocate, print "done", sleep
 * until killed.  No argument: allocate and return from main.
 */
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

#define NOINLINE __attribute__((noinline))

struct Obj {
	~Obj() { value = 0; }
	long value = 1;
};

struct First {
	virtual ~First() {}
	long first = 1;
};

struct Second {
	virtual ~Second() {}
	long second = 2;
};

struct Derived : First, Second {
	long third = 3;
};

std::string *text;
std::vector<long> *numbers;
Obj *objects;
Second *derived;
long *volatile dropped_array;
static volatile sig_atomic_t go;

extern "C" {
NOINLINE void make_string() { text = new std::string(200, 'x'); }
NOINLINE void make_vector() { numbers = new std::vector<long>(50, 7); }
NOINLINE void make_objects() { objects = new Obj[10]; }
NOINLINE void make_derived() { derived = new Derived; }
NOINLINE void make_lost() { dropped_array = new long[16]; dropped_array = nullptr; }

NOINLINE void clobber_stack()
{
	volatile char scratch[16384];

	memset(const_cast<char *>(scratch), 0, sizeof(scratch));
}
}

static void on_usr1(int) { go = 1; }

int main(int argc, char **argv)
{
	bool wait_mode = argc > 1 && !strcmp(argv[1], "--wait");

	if (wait_mode) {
		sigset_t none, usr1;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, nullptr);
		signal(SIGUSR1, on_usr1);
		printf("ready\n");
		fflush(stdout);
		sigemptyset(&none);
		while (!go)
			sigsuspend(&none);
	}
	make_string();
	make_vector();
	make_objects();
	make_derived();
	make_lost();
	clobber_stack();
	if (wait_mode) {
		printf("done\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	return 0;
}
