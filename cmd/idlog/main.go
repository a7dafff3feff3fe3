// Command idlog stores Okta System Log events and answers Okta's filter
// language over them. Each subcommand lives in its own file and registers
// itself in commands; main prints one line on error and exits non-zero.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand. run gets the arguments after the subcommand name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand may touch of the process, so tests can run
// subcommands in-process with their own streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("idlog: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// exitError carries an exit code other than 1 (for example 2 for a filter
// that does not parse) and a message that has already been printed, if any.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// errUsage is returned after a FlagSet has printed its own usage.
var errUsage = &exitError{code: 2}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				fmt.Fprintf(e.stderr, "idlog: unknown command %q (run 'idlog help' for the list)\n", args[1])
				return 2
			}
			return exitCode(e, c.run(ctx, e, []string{"-h"}))
		}
		usage(e.stdout)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "idlog: unknown command %q (run 'idlog help' for the list)\n", args[0])
		return 2
	}
	return exitCode(e, c.run(ctx, e, args[1:]))
}

func exitCode(e *env, err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(e.stderr, "idlog: "+ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(e.stderr, "idlog: "+err.Error())
	return 1
}

func usage(w io.Writer) {
	fmt.Fprint(w, `idlog keeps Okta System Log events and answers Okta's filter language over them.

Usage: idlog <command> [flags]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Run 'idlog <command> -h' for a command's flags and examples.
Start here: 'idlog serve --demo' runs the server on a month of generated events.
`)
}
