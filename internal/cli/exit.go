package cli

import (
	"errors"
	"flag"
	"fmt"

	"github.com/switchboardhq/switchboard/internal/config"
)

// The exit statuses. `go run` prints a failing program's status and
// exits with 1 itself; the built binary exits with these.
const (
	ExitOK = 0
	// ExitError: the command ran and failed (a database error, a refused
	// input, a failed migration).
	ExitError = 1
	// ExitUsage: the command could not start: a bad setting, flag or
	// argument, or a busy port.
	ExitUsage = 2
)

// exitCode is the one table from what went wrong to the exit status.
func exitCode(err error) int {
	var bad *config.Error
	var usage *usageError
	switch {
	case err == nil, isHelp(err):
		return ExitOK
	case errors.As(err, &bad), errors.As(err, &usage):
		return ExitUsage
	default:
		return ExitError
	}
}

// usageError is a command line the command cannot run: a missing or
// unknown flag or argument.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// isHelp tells whether err is the request for a command's help, which is
// printed and is no failure.
func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }
