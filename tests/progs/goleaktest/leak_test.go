// SPDX-License-Identifier: MIT

// goleaktest: a Go test binary whose tests leave goroutines behind, as goleak
// would catch them, for leaksnoop -c ./pkg.test --error-exitcode.
//
//	TestLeaksWorkers   5 goroutines blocked forever on a channel receive
//	TestLeaksTicker    1 goroutine in a select on a ticker that never stops
//	TestClean          a goroutine that the test waits for: no leak
package goleaktest

import (
	"sync"
	"testing"
	"time"
)

var never = make(chan struct{})

func startWorkers(n int) {
	for i := 0; i < n; i++ {
		go func() {
			<-never
		}()
	}
}

func startTicker() {
	ticker := time.NewTicker(time.Hour)
	go func() {
		for {
			select {
			case <-ticker.C:
			case <-never:
				return
			}
		}
	}()
}

func TestLeaksWorkers(t *testing.T) {
	startWorkers(5)
	time.Sleep(50 * time.Millisecond) // they reach their receive
}

func TestLeaksTicker(t *testing.T) {
	startTicker()
}

func TestClean(t *testing.T) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
	}()
	wg.Wait()
}
