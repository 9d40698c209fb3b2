package cli

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// load reads the settings as serve does from args and the environment,
// and returns serve's arguments.
func load(args []string, getenv func(string) string) (*config.Config, []string, error) {
	f := newFlags(&Env{Stdout: io.Discard}, "serve", serveUsage)
	rest, err := f.parse(args)
	if err != nil {
		return nil, nil, err
	}
	c, err := f.config(getenv)
	return c, rest, err
}

func TestLoad(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		c, rest, err := load(nil, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.Addr != ":8080" || c.DataDir != "./data" || c.DefaultPageSize != 20 || c.MaxPageSize != 100 ||
			!c.SignupEnabled || c.SessionIdleTimeout != 30*time.Minute || c.SessionAbsoluteTimeout != 12*time.Hour || len(rest) != 0 {
			t.Fatalf("defaults wrong: %+v %v", c, rest)
		}
	})
	t.Run("FlagBeatsEnvironment", func(t *testing.T) {
		c, _, err := load([]string{"--addr", ":9000"}, env(map[string]string{"SWITCHBOARD_ADDR": ":7000", "SWITCHBOARD_SIGNUP": "false"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Addr != ":9000" || c.SignupEnabled {
			t.Fatalf("got addr %q signup %v", c.Addr, c.SignupEnabled)
		}
	})
	t.Run("TrustedProxiesAcceptAddressesAndRanges", func(t *testing.T) {
		c, _, err := load(nil, env(map[string]string{"SWITCHBOARD_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1 ,::1"}))
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(c.TrustedProxies)
		if got != "[10.0.0.0/8 127.0.0.1/32 ::1/128]" {
			t.Fatalf("trusted proxies = %s", got)
		}
	})
	t.Run("BareBoolFlagMeansTrue", func(t *testing.T) {
		c, rest, err := load([]string{"--redis-optional", "--signup", "false"}, env(nil))
		if err != nil || !c.RedisOptional || c.SignupEnabled || len(rest) != 0 {
			t.Fatalf("redis optional %v, signup %v, rest %v, err %v", c.RedisOptional, c.SignupEnabled, rest, err)
		}
	})
	t.Run("LiveDefaults", func(t *testing.T) {
		c, _, err := load(nil, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.EventRetention != 24*time.Hour || c.WSOutboundQueue != 256 || c.MaxConnectionsPerUser != 50 || c.DBMaxConns != 20 || c.DBStatementTimeout != 30*time.Second {
			t.Fatalf("defaults wrong: %+v", c)
		}
	})
	t.Run("CacheDefaultsAndOff", func(t *testing.T) {
		c, _, err := load(nil, env(nil))
		if err != nil || c.CacheTTL != time.Minute || c.CacheSize != 10000 || c.CachePrefix != "switchboard:cache:" {
			t.Fatalf("cache defaults: ttl %v size %d prefix %q, err %v", c.CacheTTL, c.CacheSize, c.CachePrefix, err)
		}
		c, _, err = load(nil, env(map[string]string{"SWITCHBOARD_CACHE_TTL": "0"}))
		if err != nil || c.CacheTTL != 0 {
			t.Fatalf("SWITCHBOARD_CACHE_TTL=0: ttl %v, err %v", c.CacheTTL, err)
		}
		for name, bad := range map[string]map[string]string{
			"ErrNegativeCacheTTL": {"SWITCHBOARD_CACHE_TTL": "-1s"},
			"ErrZeroCacheSize":    {"SWITCHBOARD_CACHE_SIZE": "0"},
		} {
			t.Run(name, func(t *testing.T) {
				_, _, err := load(nil, env(bad))
				for k := range bad {
					if err == nil || !strings.Contains(err.Error(), k) {
						t.Fatalf("err = %v, want one mentioning %s", err, k)
					}
				}
			})
		}
	})
	t.Run("SearchDefaults", func(t *testing.T) {
		c, _, err := load([]string{"--search-language", "german"}, env(nil))
		if err != nil || c.SearchLanguage != "german" || c.SearchMaxQueryLength != 500 || c.SearchMaxCandidates != 500 {
			t.Fatalf("search settings %q %d %d, err %v", c.SearchLanguage, c.SearchMaxQueryLength, c.SearchMaxCandidates, err)
		}
	})
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"ErrBadDuration":     {env: map[string]string{"SWITCHBOARD_SESSION_IDLE_TIMEOUT": "soon"}, want: "SWITCHBOARD_SESSION_IDLE_TIMEOUT"},
		"ErrBadBool":         {env: map[string]string{"SWITCHBOARD_SIGNUP": "maybe"}, want: "SWITCHBOARD_SIGNUP"},
		"ErrMaxBelowDefault": {args: []string{"--max-page-size", "5"}, want: "SWITCHBOARD_MAX_PAGE_SIZE"},
		"ErrUnknownFlag":     {args: []string{"--no-such-flag"}, want: "no-such-flag"},
		"ErrNotPostgresURL":  {env: map[string]string{"DATABASE_URL": "mysql://x"}, want: "DATABASE_URL"},
		"ErrBadTrustedProxy": {env: map[string]string{"SWITCHBOARD_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, want: "SWITCHBOARD_TRUSTED_PROXIES"},
		"ErrNotRedisURL":     {env: map[string]string{"REDIS_URL": "http://x"}, want: "REDIS_URL"},
		"ErrZeroQueue":       {env: map[string]string{"SWITCHBOARD_WS_OUTBOUND_QUEUE": "0"}, want: "SWITCHBOARD_WS_OUTBOUND_QUEUE"},
		"ErrZeroPool":        {env: map[string]string{"SWITCHBOARD_DB_MAX_CONNS": "0"}, want: "SWITCHBOARD_DB_MAX_CONNS"},
		"ErrRandomPageCost":  {env: map[string]string{"SWITCHBOARD_DB_RANDOM_PAGE_COST": "cheap"}, want: "SWITCHBOARD_DB_RANDOM_PAGE_COST"},
		"ErrSearchLanguage":  {env: map[string]string{"SWITCHBOARD_SEARCH_LANGUAGE": "english'; DROP TABLE x"}, want: "SWITCHBOARD_SEARCH_LANGUAGE"},
		"ErrSearchQueryLen":  {env: map[string]string{"SWITCHBOARD_SEARCH_MAX_QUERY_LENGTH": "0"}, want: "SWITCHBOARD_SEARCH_MAX_QUERY_LENGTH"},
		"ErrSearchCands":     {args: []string{"--search-max-candidates", "-1"}, want: "SWITCHBOARD_SEARCH_MAX_CANDIDATES"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := load(tc.args, env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line mentioning %s", err, tc.want)
			}
		})
	}
}
