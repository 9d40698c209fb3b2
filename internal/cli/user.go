package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/switchboardhq/switchboard/ent/user"
	"github.com/switchboardhq/switchboard/internal/app"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

const userUsage = "usage: switchboard user create --email E --name N --role admin|agent|customer | user erase EMAIL [--force]"

func userCommand(ctx context.Context, env *Env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "create":
			return userCreate(ctx, env, args[1:])
		case "erase":
			return userErase(ctx, env, args[1:])
		case "-h", "--help":
			fmt.Fprintln(env.Stdout, userUsage)
			return flag.ErrHelp
		}
	}
	return usageErrorf(userUsage)
}

const userCreateUsage = `Usage: switchboard user create --email E --name N --role admin|agent|customer [settings]

Creates an account. The password is read from $SWITCHBOARD_PASSWORD, or
else from the first line of standard input.`

func userCreate(ctx context.Context, env *Env, args []string) error {
	f := newFlags(env, "user create", userCreateUsage)
	email := f.String("email", "the account's email address")
	name := f.String("name", "the person's name")
	role := f.String("role", "admin, agent or customer")
	args, err := f.parse(args)
	if err != nil {
		return err
	}
	if *email == "" || *name == "" || *role == "" {
		return usageErrorf("usage: switchboard user create --email E --name N --role admin|agent|customer")
	}
	if err := noArguments("user create", args); err != nil {
		return err
	}
	password := env.Getenv("SWITCHBOARD_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	return withData(ctx, env, f, func(d *app.Data) error {
		u, err := d.Auth.CreateUser(viewer.SystemContext(ctx), auth.NewUser{Email: *email, Name: *name, Password: password, Role: user.Role(strings.ToUpper(*role))})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "created %s %s (%s)\n", strings.ToLower(string(u.Role)), u.Email, u.ID)
		return nil
	})
}
