// Command flowrun runs declarative real-time ML pipelines over NATS JetStream.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Exit codes of the CLI contract (DESIGN §7).
const (
	exitOK       = 0
	exitUser     = 1 // invalid job, failed test
	exitUsage    = 2 // bad flags or arguments
	exitInternal = 3 // a fault of flowrun itself
)

// userError marks an error the user caused (exit status 1).
type userError struct{ err error }

func (e userError) Error() string { return e.err.Error() }
func (e userError) Unwrap() error { return e.err }

// usageError marks bad flags or arguments (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errSilent is returned by a command that already printed what went wrong.
var errSilent = errors.New("flowrun: reported")

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := rootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ue userError
	var us usageError
	switch {
	case errors.As(err, &ue):
		if !errors.Is(err, errSilent) {
			fmt.Fprintln(os.Stderr, "flowrun:", ue.err)
		}
		return exitUser
	case errors.As(err, &us):
		fmt.Fprintln(os.Stderr, "flowrun:", us.err)
		return exitUsage
	case errors.Is(err, errSilent):
		return exitUser
	case isCobraUsage(err):
		fmt.Fprintln(os.Stderr, "flowrun:", err)
		return exitUsage
	default:
		fmt.Fprintln(os.Stderr, "flowrun:", err)
		return exitInternal
	}
}

// isCobraUsage reports whether err is one of cobra's argument errors, which
// it returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}
