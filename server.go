// Command switchboard is a self-hosted helpdesk backend: a GraphQL API for
// tickets, conversations and the people who handle them. Commands are in
// internal/cli; what they build and run is in internal/app.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchboardhq/switchboard/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, cli.Env{Getenv: os.Getenv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}
