// SPDX-License-Identifier: MIT
/*
 * C++ variant of the bench workload: THREADS threads replace random slots of a
 * 1024-entry working set with `new`-allocated objects of random size, one in
 * 10000 leaked.  Usage: workload_cxx OPS THREADS [--wait] [--linger]; prints
 * "ns_per_op X".
 */
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <unistd.h>
#include <vector>

static volatile std::sig_atomic_t go;
char *volatile leaked_sink;

static void run(long ops, std::uint64_t seed)
{
	std::vector<char *> slots(1024, nullptr);

	for (long i = 0; i < ops; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		std::size_t slot = seed % slots.size(), size = std::size_t(16) << ((seed >> 12) % 9);
		if (i % 10000 == 9999) {
			leaked_sink = slots[slot];
			slots[slot] = nullptr;
		}
		delete[] slots[slot];
		slots[slot] = new char[size + (seed >> 32) % size];
	}
	for (char *p : slots)
		delete[] p;
}

int main(int argc, char **argv)
{
	long ops = argc > 1 ? std::atol(argv[1]) : 1000000;
	int threads = argc > 2 ? std::atoi(argv[2]) : 2;
	bool wait = false, linger = false;

	for (int i = 1; i < argc; i++) {
		wait |= !std::strcmp(argv[i], "--wait");
		linger |= !std::strcmp(argv[i], "--linger");
	}
	std::setvbuf(stdout, nullptr, _IONBF, 0);
	if (wait) {
		std::signal(SIGUSR1, [](int) { go = 1; });
		std::printf("ready %d\n", int(getpid()));
		while (!go)
			pause();
	}
	auto start = std::chrono::steady_clock::now();
	std::vector<std::thread> pool;
	for (int t = 0; t < threads; t++)
		pool.emplace_back(run, ops, 0x9e3779b97f4a7c15ULL + t);
	for (auto &t : pool)
		t.join();
	double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
	std::printf("ns_per_op %.3f\n", ns / double(ops * threads));
	while (linger)
		pause();
	return 0;
}
