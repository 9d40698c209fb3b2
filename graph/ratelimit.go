package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/switchboardhq/switchboard/internal/apierr"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
	"github.com/switchboardhq/switchboard/internal/viewer"
)

// CostUnit is how much GraphQL complexity one unit of rate limit buys: a
// request costs 1 + complexity/CostUnit units, so a page of 100 tickets
// with their fields weighs more than one ticket.
const CostUnit = 10

// RateLimit limits operations per user and per client address, weighted by
// their cost. Zero limits are off.
type RateLimit struct {
	Limiter ratelimit.Limiter
	User    ratelimit.Limit
	IP      ratelimit.Limit
	// FailOpen lets requests through when the limiter itself fails
	// (Redis down); otherwise they are refused with UNAVAILABLE.
	FailOpen bool
	Log      *slog.Logger
}

var (
	_ graphql.HandlerExtension     = RateLimit{}
	_ graphql.OperationInterceptor = RateLimit{}
)

// ExtensionName names the extension.
func (RateLimit) ExtensionName() string { return "RateLimit" }

// Validate checks the configuration.
func (r RateLimit) Validate(graphql.ExecutableSchema) error {
	if r.Limiter == nil {
		return fmt.Errorf("RateLimit needs a Limiter")
	}
	return nil
}

// Complexity measures every operation's complexity (without a limit of
// its own), for RateLimit to weigh.
func Complexity() *extension.ComplexityLimit {
	return &extension.ComplexityLimit{Func: func(context.Context, *graphql.OperationContext) int { return math.MaxInt }}
}

// InterceptOperation charges the operation to its user and address.
func (r RateLimit) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	cost := 1
	if stats := extension.GetComplexityStats(ctx); stats != nil {
		cost += stats.Complexity / CostUnit
	}
	type charge struct {
		key   string
		limit ratelimit.Limit
	}
	var charges []charge
	if v := viewer.FromContext(ctx); v != nil && r.User.Rate > 0 {
		charges = append(charges, charge{"user:" + string(v.UserID), r.User})
	}
	if ip := auth.ClientFromContext(ctx).IP; ip != "" && r.IP.Rate > 0 {
		charges = append(charges, charge{"ip:" + ip, r.IP})
	}
	for _, c := range charges {
		res, err := r.Limiter.Allow(ctx, c.key, c.limit, min(cost, c.limit.Burst))
		switch {
		case err != nil && r.FailOpen:
			r.Log.WarnContext(ctx, "rate limiter unavailable; letting the request through", "err", err)
		case err != nil:
			r.Log.ErrorContext(ctx, "rate limiter unavailable; refusing the request", "err", err)
			return graphql.OneShot(errorResponse(apierr.Wrap(apierr.Unavailable, err, "the service is busy; try again shortly")))
		case !res.Allowed:
			e := apierr.TooMany(res.RetryAfter, "too many requests")
			hintRetry(ctx, e)
			return graphql.OneShot(errorResponse(e))
		}
	}
	return next(ctx)
}

// WithRetryAfter wraps an error presenter so that, over HTTP, every
// RATE_LIMITED error answers with status 429 and Retry-After (a refused
// login, for one, is an error of its field, which gqlgen would answer with
// 200); extensions.retryAfter is NewError's.
func WithRetryAfter(present graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := present(ctx, err)
		var e *apierr.Error
		if errors.As(err, &e) && e.Code == apierr.RateLimited && gqlErr.Extensions["code"] == string(apierr.RateLimited) {
			hintRetry(ctx, e)
		}
		return gqlErr
	}
}

// hintRetry asks the HTTP response for e's status and Retry-After.
func hintRetry(ctx context.Context, e *apierr.Error) {
	if h := responseHintFrom(ctx); h != nil {
		h.set(apierr.HTTPStatus(e.Code), e.RetryAfter)
	}
}

// errorResponse is the response of an operation refused before it ran,
// outside the executor (whose errors the presenter shapes).
func errorResponse(e *apierr.Error) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{NewError(e)}}
}

// ResponseHint carries an HTTP status (and Retry-After) that an operation
// asks of the HTTP response, which gqlgen's transports write as 200.
type ResponseHint struct {
	mu         sync.Mutex
	status     int
	retryAfter time.Duration
}

type hintKey struct{}

// WithResponseHint returns ctx carrying a new hint for the HTTP layer.
func WithResponseHint(ctx context.Context) (context.Context, *ResponseHint) {
	h := &ResponseHint{}
	return context.WithValue(ctx, hintKey{}, h), h
}

func responseHintFrom(ctx context.Context) *ResponseHint {
	h, _ := ctx.Value(hintKey{}).(*ResponseHint)
	return h
}

// set asks for status, with a Retry-After of retryAfter if positive; of
// several waits asked for (aliased logins), the longest.
func (h *ResponseHint) set(status int, retryAfter time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.retryAfter = status, max(h.retryAfter, retryAfter)
}

// Status returns the status asked for (0: none) and the Retry-After value
// (empty: none).
func (h *ResponseHint) Status() (int, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.status == 0 {
		return 0, ""
	}
	if h.retryAfter <= 0 {
		return h.status, ""
	}
	return h.status, strconv.Itoa(apierr.RetrySeconds(h.retryAfter))
}
