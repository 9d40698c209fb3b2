package presence

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboardhq/switchboard/internal/globalid"
)

// DefaultPrefix starts every key Switchboard writes to Redis.
const DefaultPrefix = "switchboard:"

// Members are the user id with the typing flag appended, so that one
// sorted set holds the whole entry (one key per ticket, hence one hash slot
// in a Redis Cluster, and one MULTI per call). Touch removes the other
// variant in the same transaction, so a user has at most one member.
const (
	viewingSuffix = "|v"
	typingSuffix  = "|t"
)

// Redis is the Store shared by all instances: one sorted set per ticket,
// scored by expiry in Unix milliseconds, so expired entries are one
// ZREMRANGEBYSCORE away.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns a store whose keys are <prefix>presence:<ticketID>.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

func (r *Redis) key(ticketID globalid.ID) string {
	return r.prefix + "presence:" + string(ticketID)
}

// Touch records a heartbeat in one round trip. The key's own TTL is reset
// to ttl so that a ticket everybody left vanishes instead of lingering
// with dead members. That TTL is the key's, not the entry's: a Touch with
// a shorter ttl than an earlier one cuts the earlier entries short. The
// Hub uses a single TTL, for which this never happens; mixing TTLs would
// need PEXPIRE … GT (Redis 7).
func (r *Redis) Touch(ctx context.Context, ticketID, userID globalid.ID, typing bool, ttl time.Duration) error {
	key := r.key(ticketID)
	member, other := string(userID)+viewingSuffix, string(userID)+typingSuffix
	if typing {
		member, other = other, member
	}
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, key, other)
		if ttl <= 0 {
			// Already expired, as in Memory; PEXPIRE 0 would delete the
			// other users' entries too.
			p.ZRem(ctx, key, member)
			return nil
		}
		p.ZAdd(ctx, key, redis.Z{Score: float64(time.Now().Add(ttl).UnixMilli()), Member: member})
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("presence: touch %s: %w", ticketID, err)
	}
	return nil
}

// List drops the expired entries and returns the others, in one round
// trip.
func (r *Redis) List(ctx context.Context, ticketID globalid.ID) ([]Entry, error) {
	key := r.key(ticketID)
	var members *redis.ZSliceCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		// Inclusive bound: an entry expiring now is gone, as in Memory.
		p.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatInt(time.Now().UnixMilli(), 10))
		members = p.ZRangeWithScores(ctx, key, 0, -1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("presence: list %s: %w", ticketID, err)
	}
	var out []Entry
	for _, z := range members.Val() {
		m, _ := z.Member.(string)
		id, typing := strings.CutSuffix(m, typingSuffix)
		if !typing {
			var ok bool
			if id, ok = strings.CutSuffix(m, viewingSuffix); !ok {
				continue // not ours
			}
		}
		out = append(out, Entry{
			UserID:    globalid.ID(id),
			Typing:    typing,
			ExpiresAt: time.UnixMilli(int64(z.Score)),
		})
	}
	Sort(out)
	return out, nil
}
