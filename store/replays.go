package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Replays remembers the signatures of Slack requests for as long as Slack's timestamp window, so
// that a captured request cannot be sent again (the signature check alone accepts it for 5 minutes).
type Replays struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewReplays keeps its keys under prefix.
func NewReplays(rdb redis.UniversalClient, prefix string) *Replays {
	return &Replays{rdb: rdb, prefix: prefix}
}

// First reports whether id is seen for the first time within ttl (SET NX PX).
func (r *Replays) First(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	ok, err := r.rdb.SetNX(ctx, r.prefix+"slack:seen:"+id, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("replay check: %w", err)
	}
	return ok, nil
}
