// SPDX-License-Identifier: MIT

// goheap: a Go heap with an exactly known profile, for the integration tests.
// With -wait it prints "ready PID" and starts on SIGUSR1; then:
//
//	keepLarge    500 objects of 8 KiB, kept
//	keepSmall   2000 objects of 64 B, kept
//	churn      20000 objects of 256 B, all garbage
//
// Two GCs publish the profile; then it prints "profile " and its own
// runtime.MemProfile as JSON (per record: the first frame outside the
// runtime, the four counts, the stack), writes its heap profile as
// /debug/pprof/heap would serve it to the -heapprofile file if given, prints
// "done", and sleeps.  With -rate N the runtime samples one allocation per N
// bytes (1: every one).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
)

var kept [][]byte

//go:noinline
func keepLarge(n int) {
	for i := 0; i < n; i++ {
		kept = append(kept, make([]byte, 8192))
	}
}

//go:noinline
func keepSmall(n int) {
	for i := 0; i < n; i++ {
		kept = append(kept, make([]byte, 64))
	}
}

var sink []byte

//go:noinline
func churn(n int) {
	for i := 0; i < n; i++ {
		sink = make([]byte, 256)
	}
}

type record struct {
	Site         string   `json:"site"`
	AllocObjects int64    `json:"alloc_objects"`
	AllocBytes   int64    `json:"alloc_bytes"`
	FreeObjects  int64    `json:"free_objects"`
	FreeBytes    int64    `json:"free_bytes"`
	Stack        []string `json:"stack"`
}

// The first function of a stack outside the runtime, as pprof shows it.
func site(stack []uintptr) string {
	for _, pc := range stack {
		if f := runtime.FuncForPC(pc - 1); f != nil && !strings.HasPrefix(f.Name(), "runtime.") {
			return f.Name()
		}
	}
	return "runtime"
}

func profile() []record {
	n, _ := runtime.MemProfile(nil, true)
	p := make([]runtime.MemProfileRecord, n+100)
	n, _ = runtime.MemProfile(p, true)
	out := make([]record, 0, n)
	for _, r := range p[:n] {
		rec := record{Site: site(r.Stack()), AllocObjects: r.AllocObjects,
			AllocBytes: r.AllocBytes, FreeObjects: r.FreeObjects, FreeBytes: r.FreeBytes}
		for _, pc := range r.Stack() {
			rec.Stack = append(rec.Stack, fmt.Sprintf("0x%x", pc))
		}
		out = append(out, rec)
	}
	return out
}

func main() {
	wait := flag.Bool("wait", false, "start on SIGUSR1")
	rate := flag.Int("rate", 512*1024, "runtime.MemProfileRate")
	heapProfile := flag.String("heapprofile", "", "write the heap profile here when done")
	flag.Parse()
	runtime.MemProfileRate = *rate
	if *wait {
		start := make(chan os.Signal, 1)
		signal.Notify(start, syscall.SIGUSR1)
		fmt.Printf("ready %d\n", os.Getpid())
		<-start
	}
	kept = make([][]byte, 0, 2500) // room for all: no slice growth in the sites
	keepLarge(500)
	keepSmall(2000)
	churn(20000)
	runtime.GC()
	runtime.GC()
	text, _ := json.Marshal(profile())
	fmt.Printf("profile %s\n", text)
	if *heapProfile != "" {
		f, err := os.Create(*heapProfile)
		if err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	fmt.Println("done")
	select {}
}
