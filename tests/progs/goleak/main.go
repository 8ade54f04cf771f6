// SPDX-License-Identifier: MIT

// goleak: goroutines with an exactly known fate, for the integration tests.
// With -wait it prints "ready PID" and starts on SIGUSR1; then:
//
//	leakOnChannel    30 goroutines blocked forever on a channel receive   live 30
//	leakOnSelect     20 goroutines blocked forever in a select            live 20
//	finishQuickly    50 goroutines that return at once                    live 0
//	allocGarbage     64 MiB in 1 KiB objects, all garbage (for allocation sampling)
//
// It prints "done" when the finishing ones have ended, then sleeps.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
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

var sink []byte

//go:noinline
func allocGarbage(total int) {
	for i := 0; i < total/1024; i++ {
		sink = make([]byte, 1024)
	}
}

func main() {
	wait := flag.Bool("wait", false, "start on SIGUSR1")
	flag.Parse()
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
	fmt.Println("done")
	select {}
}
