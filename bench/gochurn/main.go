// SPDX-License-Identifier: MIT

// gochurn: N goroutines started and finished, one at a time, for `make bench`.
// With -wait it starts on SIGUSR1; prints "ns_per_op X" per go statement + exit.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	n := flag.Int("n", 200000, "goroutines")
	wait := flag.Bool("wait", false, "start on SIGUSR1")
	flag.Parse()
	if *wait {
		start := make(chan os.Signal, 1)
		signal.Notify(start, syscall.SIGUSR1)
		fmt.Printf("ready %d\n", os.Getpid())
		<-start
	}
	done := make(chan struct{})
	begin := time.Now()
	for i := 0; i < *n; i++ {
		go func() { done <- struct{}{} }()
		<-done
	}
	fmt.Printf("ns_per_op %.1f\n", float64(time.Since(begin).Nanoseconds())/float64(*n))
}
