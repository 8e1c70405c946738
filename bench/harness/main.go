// Command harness runs the jail-task-driver benchmarks.
//
// Subcommands:
//
//	harness plugin  -subject PATH -reference PATH [flags]
//	    plugin-process costs, subject against reference, in one run
//	harness answers -plugin PATH -out DIR
//	    save a plugin's responses for the reference plugin to serve
//	harness tasks -plugin PATH [flags]
//	    task start, exit and memory against crun, in one run
//	harness markdown RESULT.json
//	    print a saved result (plugin or tasks) as Markdown tables
//
// Every plugin process the harness starts is stopped before it exits,
// also on error and on SIGINT/SIGTERM, and plugins talk to it only over
// Unix sockets (or loopback TCP).
package main

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// cleanups run, last registered first, before the harness exits, also
// on SIGINT/SIGTERM: they undo what a subcommand set up beyond plugin
// processes (tasks, containers, directories).
var cleanups struct {
	sync.Mutex
	fns []func() []string
}

func atCleanup(f func() []string) {
	cleanups.Lock()
	cleanups.fns = append(cleanups.fns, f)
	cleanups.Unlock()
}

func runCleanups() {
	cleanups.Lock()
	fns := cleanups.fns
	cleanups.fns = nil
	cleanups.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: harness COMMAND [flags]

commands:
  plugin    measure a plugin process against a reference plugin
  answers   save a plugin's responses for the reference plugin
  tasks     measure task start, exit and memory against crun
  markdown  print a saved result as Markdown tables

run "harness COMMAND -h" for the flags of a command.
`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}

	dir, err := os.MkdirTemp("", "jtd-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
	sockDir = dir
	cleanup := func() {
		runCleanups()
		KillAll()
		os.RemoveAll(dir)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintf(os.Stderr, "harness: %v, stopping plugins\n", s)
		cleanup()
		os.Exit(130)
	}()

	var code int
	switch os.Args[1] {
	case "plugin":
		code = cmdPlugin(os.Args[2:])
	case "answers":
		code = cmdAnswers(os.Args[2:])
	case "tasks":
		code = cmdTasks(os.Args[2:])
	case "markdown":
		code = cmdMarkdown(os.Args[2:])
	case "-h", "-help", "--help", "help":
		usage()
	default:
		usage()
		code = 2
	}
	cleanup()
	os.Exit(code)
}
