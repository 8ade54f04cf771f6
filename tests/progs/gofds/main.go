// SPDX-License-Identifier: MIT

// gofds: descriptors a Go program opens through the runtime's raw system
// calls, for --fds.  With -wait it prints "ready PID" and starts on SIGUSR1;
// then leakFiles keeps 4 os.Open files, leakListeners keeps 2 TCP listeners
// on loopback, closedFiles opens and closes 6; it prints "site NAME FD..."
// for the kept ones, then "done", and sleeps.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

var kept []interface{}

//go:noinline
func leakFiles() []int {
	var fds []int
	for i := 0; i < 4; i++ {
		f, err := os.Open("/etc/passwd")
		if err != nil {
			panic(err)
		}
		kept = append(kept, f)
		fds = append(fds, int(f.Fd()))
	}
	return fds
}

//go:noinline
func leakListeners() []int {
	var fds []int
	for i := 0; i < 2; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		kept = append(kept, l)
		file, _ := l.(*net.TCPListener).File() // a dup: its number is the listener's + 1
		file.Close()
		fds = append(fds, -1)
	}
	return fds
}

//go:noinline
func closedFiles() {
	for i := 0; i < 6; i++ {
		f, err := os.Open("/etc/passwd")
		if err != nil {
			panic(err)
		}
		f.Close()
	}
}

func main() {
	wait := flag.Bool("wait", false, "print ready PID, start on SIGUSR1")
	flag.Parse()
	if *wait {
		go_on := make(chan os.Signal, 1)
		signal.Notify(go_on, syscall.SIGUSR1)
		fmt.Printf("ready %d\n", os.Getpid())
		<-go_on
	}
	fmt.Println("site leakFiles", leakFiles())
	leakListeners()
	closedFiles()
	fmt.Println("done")
	for {
		time.Sleep(time.Hour)
	}
}
