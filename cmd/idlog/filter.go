package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/idlog/idlog/internal/filter"
)

func init() {
	register(&command{name: "filter", summary: "check a System Log filter and print its normal form", run: runFilter})
}

func filterUsage(e *env) {
	fmt.Fprint(e.stderr, `Usage:
  idlog filter parse EXPR     print EXPR in normal form, or say where it is wrong
  idlog filter parse -        read the filter from standard input

EXPR is Okta's System Log filter language, exactly as typed in Okta's search
box or sent as ?filter= to /api/v1/logs; queries may span several lines. The
normal form has lower-case operators, single spaces and only the parentheses
precedence needs. A filter that does not parse prints the error and the
offending line with carets under the problem, and exits with status 2.

Examples:
  idlog filter parse 'eventType eq "user.session.start" and outcome.result eq "FAILURE"'
  idlog scenarios show signin-okta --user 00u1abcd | idlog filter parse -
`)
}

func runFilter(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		filterUsage(e)
		return errUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		filterUsage(e)
		return nil
	}
	if args[0] != "parse" {
		fmt.Fprintf(e.stderr, "idlog filter: unknown subcommand %q (want parse)\n", args[0])
		return errUsage
	}
	fs := flag.NewFlagSet("filter parse", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { filterUsage(e) }
	if err := parseQuiet(fs, e, args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "idlog filter parse: want exactly one EXPR (quote it, or use - for standard input)")
		return errUsage
	}
	src := fs.Arg(0)
	if src == "-" {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return fmt.Errorf("filter parse: reading standard input: %w", err)
		}
		src = string(b)
	}
	expr, err := filter.Parse(src)
	if err != nil {
		fmt.Fprint(e.stderr, describeFilterError(err))
		return &exitError{code: 2}
	}
	fmt.Fprintln(e.stdout, expr.String())
	return nil
}

// describeFilterError writes a filter error for a terminal: where it is
// (line and column, counted from 1, and the byte offset Okta reports), what
// is wrong, and the line with carets under it.
func describeFilterError(err error) string {
	var fe *filter.Error
	if !errors.As(err, &fe) {
		return "idlog filter parse: " + err.Error() + "\n"
	}
	pos := min(max(int(fe.Pos), 0), len(fe.Src))
	line := strings.Count(fe.Src[:pos], "\n") + 1
	col := utf8.RuneCountInString(fe.Src[strings.LastIndexByte(fe.Src[:pos], "\n"[0])+1:pos]) + 1
	var b strings.Builder
	fmt.Fprintf(&b, "idlog filter parse: line %d, column %d (position %d): %s", line, col, pos, fe.Msg)
	if fe.Expected != "" {
		fmt.Fprintf(&b, ". Expected: %s", fe.Expected)
	}
	if fe.Code != "" {
		fmt.Fprintf(&b, " [%s]", fe.Code)
	}
	b.WriteString("\n")
	b.WriteString(fe.Caret())
	b.WriteString("\n")
	return b.String()
}
