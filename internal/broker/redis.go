package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultChannel is the Redis pub/sub channel the instances of one
// deployment share.
const DefaultChannel = "switchboard:notices"

// Backoff between failed receives. go-redis reconnects inside Receive, so
// without a pause a dead server would turn the loop into a busy spin of
// refused dials; the cap keeps recovery within a second of the server's
// return.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// Redis is the broker for several instances: notices travel as JSON over
// one Redis pub/sub channel, and each instance holds a single subscription
// to it.
type Redis struct {
	client  redis.UniversalClient
	channel string
	pubsub  *redis.PubSub
	ch      chan Notice

	cancel    context.CancelFunc
	done      chan struct{} // closed when the receive loop has returned
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// NewRedis subscribes to channel (DefaultChannel if empty) and returns once
// Redis has confirmed the subscription, so that an unreachable or
// misconfigured server is reported at start rather than discovered later
// as silence. ctx bounds that wait only; the subscription lives until
// Close. The client stays the caller's to close, after Close.
func NewRedis(ctx context.Context, client redis.UniversalClient, channel string) (*Redis, error) {
	if channel == "" {
		channel = DefaultChannel
	}
	// Subscribe swallows its own error: both the confirmation and the
	// failure to connect surface in the first Receive.
	pubsub := client.Subscribe(ctx, channel)
	for {
		msg, err := pubsub.Receive(ctx)
		if err != nil {
			_ = pubsub.Close()
			return nil, fmt.Errorf("broker: subscribe to Redis channel %q: %w", channel, err)
		}
		if _, ok := msg.(*redis.Subscription); ok {
			break
		}
	}

	loopCtx, cancel := context.WithCancel(context.Background())
	r := &Redis{
		client:  client,
		channel: channel,
		pubsub:  pubsub,
		ch:      make(chan Notice, NoticeBuffer),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	r.ch <- Notice{Kind: Resync}
	go r.receive(loopCtx)
	return r, nil
}

// receive is the one goroutine reading the subscription. It is the only
// sender on r.ch, so it closes it on the way out.
//
// Reconnection is go-redis's: after a read error PubSub drops the
// connection (and tries one immediate redial), and the next Receive dials
// again if needed and re-sends SUBSCRIBE for every channel it holds. The
// server's confirmation of that SUBSCRIBE comes back from Receive as a
// *redis.Subscription, exactly like the first one, which is how a
// reconnection turns into a Resync here.
func (r *Redis) receive(ctx context.Context) {
	defer close(r.done)
	defer close(r.ch)
	backoff := minBackoff
	for {
		msg, err := r.pubsub.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return // Close
			}
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		switch msg := msg.(type) {
		case *redis.Subscription:
			if msg.Kind == "subscribe" {
				r.deliver(Notice{Kind: Resync})
			}
		case *redis.Message:
			var n Notice
			// Resync is the broker's own word; one from the wire is
			// somebody else's mistake.
			if json.Unmarshal([]byte(msg.Payload), &n) != nil || n.Kind == Resync {
				continue
			}
			r.deliver(n)
		}
		// *redis.Pong and anything else: nothing to announce.
	}
}

// deliver hands n to the receiver without ever blocking the loop: a full
// buffer means the receiver is behind and will read the log anyway.
func (r *Redis) deliver(n Notice) {
	select {
	case r.ch <- n:
	default:
	}
}

// Publish sends n to every instance subscribed to the channel, this one
// included.
func (r *Redis) Publish(ctx context.Context, n Notice) error {
	if r.closed.Load() {
		return ErrClosed
	}
	payload, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("broker: encode notice: %w", err)
	}
	if err := r.client.Publish(ctx, r.channel, payload).Err(); err != nil {
		return fmt.Errorf("broker: publish to Redis channel %q: %w", r.channel, err)
	}
	return nil
}

// Notices is this instance's subscription.
func (r *Redis) Notices() <-chan Notice { return r.ch }

// Close ends the subscription and waits for the receive loop to return, so
// that Notices is closed when Close returns. Later calls do nothing.
func (r *Redis) Close() error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		// Cancel first so that the loop reads the error caused by closing
		// the connection as the end, not as a reason to reconnect.
		r.cancel()
		if err := r.pubsub.Close(); err != nil {
			r.closeErr = fmt.Errorf("broker: close Redis subscription: %w", err)
		}
		<-r.done
	})
	return r.closeErr
}

// ParseURL makes a Redis client from a URL, choosing the kind of client
// from its shape:
//
//   - redis://[user:password@]host:port[/db] or rediss://… (TLS): one
//     server (redis.ParseURL).
//   - several hosts, as redis://host1:port,host2:port or
//     redis://host1:port?addr=host2:port&addr=host3:port: a Redis Cluster
//     (redis.ParseClusterURL); the hosts are seed nodes.
//   - a master_name parameter, as
//     redis://sentinel1:26379?master_name=mymaster&addr=sentinel2:26379:
//     Redis Sentinel (redis.ParseFailoverURL); the hosts are the
//     sentinels, the user and password before @ are the sentinels'
//     credentials, and the master's go in username= and password=
//     parameters.
//
// Other query parameters are go-redis options in snake case
// (dial_timeout=3s, pool_size=20, …); unknown ones are an error.
func ParseURL(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only
		// the reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("broker: invalid Redis URL: %w", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("broker: invalid Redis URL: scheme %q, want redis:// or rediss://", u.Scheme)
	}
	q := u.Query()
	if hosts := strings.Split(u.Host, ","); len(hosts) > 1 {
		// go-redis knows extra hosts only as addr parameters.
		u.Host = hosts[0]
		for _, h := range hosts[1:] {
			q.Add("addr", h)
		}
		u.RawQuery = q.Encode()
	}
	switch {
	case q.Has("master_name"):
		opts, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("broker: invalid Redis Sentinel URL: %w", err)
		}
		return redis.NewFailoverClient(opts), nil
	case q.Has("addr"):
		opts, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("broker: invalid Redis Cluster URL: %w", err)
		}
		return redis.NewClusterClient(opts), nil
	default:
		opts, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("broker: invalid Redis URL: %w", err)
		}
		return redis.NewClient(opts), nil
	}
}
