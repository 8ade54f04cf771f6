// SPDX-License-Identifier: MIT

// goheap: a Go process with a big runtime profile for `make bench`: -buckets
// distinct allocation stacks (each a path through two mutually recursive
// functions) each keeping one object, and -goroutines goroutines parked on a
// channel.  It prints "ready PID"; then, at each SIGUSR1, it allocates -n
// 64-byte objects and prints "ns_per_op X" per allocation (what the target
// pays while leaksnoop reads its profile).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

const depth = 14 // 2^14 paths: room for 16384 distinct stacks

var kept [][]byte

//go:noinline
func left(path, level int) {
	if level == 0 {
		kept = append(kept, make([]byte, 64))
	} else if path&1 == 0 {
		left(path>>1, level-1)
	} else {
		right(path>>1, level-1)
	}
}

//go:noinline
func right(path, level int) {
	if level == 0 {
		kept = append(kept, make([]byte, 64))
	} else if path&1 == 0 {
		left(path>>1, level-1)
	} else {
		right(path>>1, level-1)
	}
}

var sink []byte

func main() {
	buckets := flag.Int("buckets", 10000, "distinct allocation stacks")
	goroutines := flag.Int("goroutines", 100000, "parked goroutines")
	n := flag.Int("n", 5000000, "allocations per SIGUSR1")
	flag.Parse()
	runtime.MemProfileRate = 1 // every one of the kept objects in the profile
	kept = make([][]byte, 0, *buckets)
	for i := 0; i < *buckets; i++ {
		left(i, depth)
	}
	runtime.MemProfileRate = 512 * 1024 // the default again for the timed loop
	never := make(chan struct{})
	for i := 0; i < *goroutines; i++ {
		go func() { <-never }()
	}
	runtime.GC()
	runtime.GC()
	start := make(chan os.Signal, 1)
	signal.Notify(start, syscall.SIGUSR1)
	fmt.Printf("ready %d\n", os.Getpid())
	for range start {
		begin := time.Now()
		for i := 0; i < *n; i++ {
			sink = make([]byte, 64)
		}
		fmt.Printf("ns_per_op %.2f\n", float64(time.Since(begin).Nanoseconds())/float64(*n))
	}
}
