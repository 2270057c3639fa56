package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/palaute/palaute/period"
)

// Sweep deletes stored responses and spontaneous feedback (and so their free text) older than retention
// from the streams of the given units. Counters, and the coded polarity and topics in them, stay.
// It returns how many entries were deleted.
func (s *Store) Sweep(ctx context.Context, units []string, retention time.Duration, now time.Time) (int64, error) {
	// Entry ids are week starts: keep every entry of the week that holds the cut-off.
	cut := period.WeekOf(now.Add(-retention)).Start().UnixMilli()
	minID := strconv.FormatInt(cut, 10) + "-0"
	var total int64
	var errs []error
	for _, u := range units {
		for _, stream := range []string{"resp", "fb"} {
			n, err := s.rdb.XTrimMinID(ctx, s.UnitKey(u, stream), minID).Result()
			if err != nil {
				errs = append(errs, fmt.Errorf("sweep %s/%s: %w", u, stream, err))
				continue
			}
			total += n
		}
	}
	return total, errors.Join(errs...)
}
