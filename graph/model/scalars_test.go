package model

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

func TestMarshalTime(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", -(9*3600 + 30*60)), time.FixedZone("X", 14*3600)}
	times := []time.Time{
		time.Date(2026, 12, 4, 19, 30, 0, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		times = append(times, time.Unix(r.Int64N(1<<35)-1<<34, r.Int64N(1e9)).In(zones[r.IntN(len(zones))]))
	}
	t.Run("SameBytesAsGqlgen", func(t *testing.T) {
		for _, tm := range times {
			var want, got bytes.Buffer
			graphql.MarshalTime(tm).MarshalGQL(&want)
			// Behind what the buffer already holds, as in a response.
			got.WriteString(`{"a":`)
			MarshalTime(tm).MarshalGQL(&got)
			if got.String() != `{"a":`+want.String() {
				t.Fatalf("%v: wrote %s, gqlgen writes %s", tm, got.String(), want.String())
			}
		}
	})
	t.Run("AnyWriter", func(t *testing.T) {
		var want, got strings.Builder
		graphql.MarshalTime(times[1]).MarshalGQL(&want)
		MarshalTime(times[1]).MarshalGQL(&got)
		if got.String() != want.String() {
			t.Fatalf("wrote %s, gqlgen writes %s", got.String(), want.String())
		}
	})
	t.Run("ZeroIsNull", func(t *testing.T) {
		if MarshalTime(time.Time{}) != graphql.Null {
			t.Fatal("the zero time is not null")
		}
	})
}
