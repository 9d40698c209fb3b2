package cli

import (
	"strings"
	"testing"
	"time"
)

func TestHardening(t *testing.T) {
	t.Run("DevelopmentKeepsEverythingOn", func(t *testing.T) {
		c, _, err := load(nil, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.Production() || !c.Playground || !c.Introspection || !c.FieldSuggestions {
			t.Fatalf("development: %+v", c.Hardening)
		}
		if c.MaxBodyBytes != 1<<20 || c.MaxQueryDepth != 15 || c.MaxQueryAliases != 50 || c.OperationTimeout != 30*time.Second || c.ReadHeaderTimeout != 10*time.Second {
			t.Fatalf("limit defaults: %+v", c.Hardening)
		}
	})
	t.Run("ProductionTurnsDisclosureOff", func(t *testing.T) {
		c, _, err := load(nil, env(map[string]string{"SWITCHBOARD_ENV": "production"}))
		if err != nil {
			t.Fatal(err)
		}
		if !c.Production() || c.Playground || c.Introspection || c.FieldSuggestions {
			t.Fatalf("production: %+v", c.Hardening)
		}
	})
	t.Run("ExplicitSettingBeatsProduction", func(t *testing.T) {
		c, _, err := load([]string{"--introspection", "--playground=true"}, env(map[string]string{"SWITCHBOARD_ENV": "production", "SWITCHBOARD_FIELD_SUGGESTIONS": "true"}))
		if err != nil {
			t.Fatal(err)
		}
		if !c.Playground || !c.Introspection || !c.FieldSuggestions {
			t.Fatalf("explicit: %+v", c.Hardening)
		}
	})
	t.Run("ExplicitOffInDevelopment", func(t *testing.T) {
		c, _, err := load(nil, env(map[string]string{"SWITCHBOARD_INTROSPECTION": "false"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Introspection || !c.Playground {
			t.Fatalf("explicit off: %+v", c.Hardening)
		}
	})
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"ErrUnknownEnv":       {map[string]string{"SWITCHBOARD_ENV": "prod"}, "SWITCHBOARD_ENV"},
		"ErrZeroDepth":        {map[string]string{"SWITCHBOARD_MAX_QUERY_DEPTH": "0"}, "SWITCHBOARD_MAX_QUERY_DEPTH"},
		"ErrTinyBody":         {map[string]string{"SWITCHBOARD_MAX_BODY_BYTES": "10"}, "SWITCHBOARD_MAX_BODY_BYTES"},
		"ErrCertWithoutKey":   {map[string]string{"SWITCHBOARD_TLS_CERT": "/etc/hosts"}, "set both or neither"},
		"ErrMissingCertFile":  {map[string]string{"SWITCHBOARD_TLS_CERT": "/nonexistent.pem", "SWITCHBOARD_TLS_KEY": "/etc/hosts"}, "SWITCHBOARD_TLS_CERT"},
		"ErrNegativeDeadline": {map[string]string{"SWITCHBOARD_OPERATION_TIMEOUT": "-1s"}, "SWITCHBOARD_OPERATION_TIMEOUT"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := load(nil, env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %s", err, tc.want)
			}
		})
	}
}
