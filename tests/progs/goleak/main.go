// SPDX-License-Identifier: MIT

// goleak: goroutines with an exactly known fate, for the integration tests.
// With -early N, leakEarly first starts N goroutines that sleep forever
// (before any tracer can attach).  With -wait it prints "ready PID" and
// starts on SIGUSR1; then:
//
//	leakOnChannel    30 goroutines blocked forever on a channel receive   live 30
//	leakOnSelect     20 goroutines blocked forever in a select            live 20
//	finishQuickly    50 goroutines that return at once                    live 0
//	allocGarbage     64 MiB in 1 KiB objects, all garbage (for allocation sampling)
//
// When the finishing ones have ended it writes its own goroutine profile
// (debug=2, as /debug/pprof/goroutine?debug=2 serves it) to the -stacks
// file if given, prints "done", then sleeps.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"
)

var never = make(chan int)

func leakOnChannel(n int) {
	for i := 0; i < n; i++ {
		go func() {
			<-never
		}()
	}
}

func leakOnSelect(n int) {
	stop := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			select {
			case <-never:
			case <-stop:
			}
		}()
	}
}

func finishQuickly(n int, wg *sync.WaitGroup) {
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			wg.Done()
		}()
	}
}

func leakEarly(n int) {
	for i := 0; i < n; i++ {
		go func() {
			time.Sleep(time.Hour)
		}()
	}
}

var sink []byte

//go:noinline
func allocGarbage(total int) {
	for i := 0; i < total/1024; i++ {
		sink = make([]byte, 1024)
	}
}

func main() {
	wait := flag.Bool("wait", false, "start on SIGUSR1")
	early := flag.Int("early", 0, "goroutines started before -wait")
	stacks := flag.String("stacks", "", "write the goroutine profile here when done")
	flag.Parse()
	leakEarly(*early)
	if *wait {
		start := make(chan os.Signal, 1)
		signal.Notify(start, syscall.SIGUSR1)
		fmt.Printf("ready %d\n", os.Getpid())
		<-start
	}
	var wg sync.WaitGroup
	leakOnChannel(30)
	leakOnSelect(20)
	finishQuickly(50, &wg)
	wg.Wait()
	allocGarbage(64 << 20)
	time.Sleep(200 * time.Millisecond) // the finished goroutines reach goexit
	if *stacks != "" {
		f, err := os.Create(*stacks)
		if err == nil {
			pprof.Lookup("goroutine").WriteTo(f, 2)
			f.Close()
		}
	}
	fmt.Println("done")
	select {}
}
