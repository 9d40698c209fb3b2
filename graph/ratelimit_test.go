package graph

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/switchboardhq/switchboard/internal/ratelimit"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

type brokenLimiter struct{}

func (brokenLimiter) Allow(context.Context, string, ratelimit.Limit, int) (ratelimit.Result, error) {
	return ratelimit.Result{}, errLimiterDown
}

var errLimiterDown = errors.New("redis: connection refused")

func TestRateLimitWhenTheLimiterFails(t *testing.T) {
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: "US1", Role: viewer.Agent})
	ctx = graphql.WithOperationContext(ctx, &graphql.OperationContext{})
	reached := false
	next := func(context.Context) graphql.ResponseHandler {
		reached = true
		return graphql.OneShot(&graphql.Response{Data: []byte(`{}`)})
	}
	limit := ratelimit.Limit{Rate: 10, Burst: 10, Period: time.Minute}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Run("FailOpenLetsRequestsThrough", func(t *testing.T) {
		reached = false
		r := RateLimit{Limiter: brokenLimiter{}, User: limit, FailOpen: true, Log: log}
		r.InterceptOperation(ctx, next)(ctx)
		if !reached {
			t.Fatal("the request was refused")
		}
	})
	t.Run("FailClosedRefusesWithUnavailable", func(t *testing.T) {
		reached = false
		r := RateLimit{Limiter: brokenLimiter{}, User: limit, FailOpen: false, Log: log}
		resp := r.InterceptOperation(ctx, next)(ctx)
		if reached || len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "UNAVAILABLE" {
			t.Fatalf("reached %v, response %+v", reached, resp)
		}
		if msg := resp.Errors[0].Message; strings.Contains(msg, "redis") || !errors.Is(resp.Errors[0], errLimiterDown) {
			t.Fatalf("message %q shows the cause, or the cause is lost", msg)
		}
	})
}
