package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := Run(context.Background(), Env{Getenv: func(k string) string { return env[k] }, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out}, args)
	return code, out.String()
}

func TestExitCodes(t *testing.T) {
	t.Run("ErrBadSettingIs2", func(t *testing.T) {
		code, out := run(t, map[string]string{"SWITCHBOARD_LOG_FORMAT": "xml"}, "serve")
		if code != ExitUsage || out != "switchboard: SWITCHBOARD_LOG_FORMAT: must be text or json\n" {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("ErrUnknownFlagIs2", func(t *testing.T) {
		if code, out := run(t, nil, "export", "--outptu", "x"); code != ExitUsage || !strings.Contains(out, "-outptu") || !strings.Contains(out, "switchboard export --help") {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("ErrUnknownCommandIs2", func(t *testing.T) {
		if code, out := run(t, nil, "frobnicate"); code != ExitUsage || !strings.Contains(out, `"frobnicate"`) {
			t.Fatalf("exit %d, output %q", code, out)
		}
	})
	t.Run("HelpIs0", func(t *testing.T) {
		for _, args := range [][]string{{"help"}, {"--help"}, {"serve", "--help"}, {"help", "import"}, {"user", "--help"}} {
			if code, out := run(t, nil, args...); code != ExitOK || !strings.Contains(out, "Usage") && !strings.Contains(out, "usage") {
				t.Fatalf("%v: exit %d, output %q", args, code, out)
			}
		}
	})
	t.Run("EveryCommandHasItsOwnHelp", func(t *testing.T) {
		for _, c := range commands {
			code, out := run(t, nil, "help", c.name)
			if code != ExitOK || !strings.Contains(out, "switchboard "+c.name) {
				t.Errorf("help %s: exit %d, output %q", c.name, code, out)
			}
		}
	})
	t.Run("FlagsAfterArguments", func(t *testing.T) {
		// user erase EMAIL --force: the flag after the argument is a flag.
		f := newFlags(&Env{}, "user erase", "")
		force := f.Bool("force", "")
		args, err := f.parse([]string{"a@example.com", "--force", "--log-level", "warn"})
		if err != nil || !*force || len(args) != 1 || f.given["SWITCHBOARD_LOG_LEVEL"] != "warn" {
			t.Fatalf("args %v, force %v, given %v, err %v", args, *force, f.given, err)
		}
	})
	t.Run("ErrBusyPortIs2BeforeAnythingIsWritten", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		dir := filepath.Join(t.TempDir(), "data")
		code, out := run(t, map[string]string{"SWITCHBOARD_DATA_DIR": dir}, "serve", "--demo", "--addr", busy.Addr().String())
		if code != ExitUsage || !strings.Contains(out, "already in use") || !strings.Contains(out, "--addr") {
			t.Fatalf("exit %d, output %q", code, out)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("the data directory was created (%v): the port must be checked before migrating or seeding", err)
		}
	})
}
