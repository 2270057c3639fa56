package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/period"
)

// Sweep deletes stored responses and spontaneous feedback (and so their free text) older than retention
// from the streams of the given units and of every other unit that still has streams in Redis (a unit
// taken out of the configuration keeps nothing longer than the others), and Slack posts given up on (dead
// letters, which may quote feedback) older than retention. Counters, and the coded polarity and topics in
// them, stay. It returns how many entries were deleted.
func (s *Store) Sweep(ctx context.Context, units []string, retention time.Duration, now time.Time) (int64, error) {
	// Entry ids are week starts: keep every entry of the week that holds the cut-off.
	cut := period.WeekOf(now.Add(-retention)).Start().UnixMilli()
	minID := strconv.FormatInt(cut, 10) + "-0"
	var errs []error
	found, err := s.StreamUnits(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	all := slices.Clone(units)
	for _, u := range found {
		if !slices.Contains(all, u) {
			all = append(all, u)
		}
	}
	var total int64
	for _, u := range all {
		for _, stream := range []string{"resp", "fb"} {
			n, err := s.rdb.XTrimMinID(ctx, s.UnitKey(u, stream), minID).Result()
			if err != nil {
				errs = append(errs, fmt.Errorf("sweep %s/%s: %w", u, stream, err))
				continue
			}
			total += n
		}
	}
	n, err := NewOutbox(s.rdb, s.prefix).TrimDead(ctx, now.Add(-retention))
	if err != nil {
		errs = append(errs, fmt.Errorf("sweep: %w", err))
	}
	total += n
	return total, errors.Join(errs...)
}

// StreamUnits returns the units that have a response or feedback stream in Redis (on a Cluster, on any
// master).
func (s *Store) StreamUnits(ctx context.Context) ([]string, error) {
	match := s.unitKeyMatch()
	var mu sync.Mutex
	seen := map[string]bool{}
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.ScanType(ctx, 0, match, 1000, "stream").Iterator()
		for iter.Next(ctx) {
			unit, kind, ok := s.ParseUnitKey(iter.Val())
			if ok && (kind == "resp" || kind == "fb") {
				mu.Lock()
				seen[unit] = true
				mu.Unlock()
			}
		}
		return iter.Err()
	}
	var err error
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		return nil, fmt.Errorf("scan streams: %T is neither a client nor a cluster client", s.rdb)
	}
	if err != nil {
		return nil, fmt.Errorf("scan streams: %w", err)
	}
	out := make([]string, 0, len(seen))
	for u := range seen {
		out = append(out, u)
	}
	slices.Sort(out)
	return out, nil
}

// globEscape escapes the characters SCAN MATCH treats specially.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
