package cli

import (
	"testing"
)

func TestObservabilitySettings(t *testing.T) {
	for name, tc := range map[string]struct {
		env      map[string]string
		wantJSON bool
	}{
		"TextLogsInDevelopment":          {env: nil, wantJSON: false},
		"JSONLogsInProductionByDefault":  {env: map[string]string{"SWITCHBOARD_ENV": "production"}, wantJSON: true},
		"LogFormatBeatsEnvironment":      {env: map[string]string{"SWITCHBOARD_ENV": "production", "SWITCHBOARD_LOG_FORMAT": "text"}, wantJSON: false},
		"JSONLogsWhenAskedInDevelopment": {env: map[string]string{"SWITCHBOARD_LOG_FORMAT": "json"}, wantJSON: true},
	} {
		t.Run(name, func(t *testing.T) {
			c, _, err := load(nil, env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.LogJSON() != tc.wantJSON {
				t.Fatalf("LogJSON() = %v", c.LogJSON())
			}
		})
	}
	t.Run("MetricsAndTracingDefaults", func(t *testing.T) {
		c, _, err := load(nil, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.MetricsAddr != "" || c.MetricsToken != "" || c.OTLPEndpoint != "" {
			t.Fatalf("metrics are not on the main listener, or tracing is on, by default: %+v", c)
		}
	})
	for name, tc := range map[string]struct{ env map[string]string }{
		"ErrUnknownEnvironment": {env: map[string]string{"SWITCHBOARD_ENV": "staging"}},
		"ErrOTLPEndpointNotURL": {env: map[string]string{"SWITCHBOARD_OTLP_ENDPOINT": "collector:4318"}},
		"ErrUnknownLogFormat":   {env: map[string]string{"SWITCHBOARD_LOG_FORMAT": "xml"}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := load(nil, env(tc.env)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
