// Package schedule posts the scheduled summaries (weekly, monthly, half-yearly) and runs the feedback
// router, on one replica at a time (a Redis lock), through the outbox: each summary is enqueued once per
// unit, period and kind, however many replicas run and however often they tick.
package schedule

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/palaute/palaute/period"
	"github.com/palaute/palaute/store"
)

// Lock is held by one replica at a time.
type Lock interface {
	Acquire(ctx context.Context, ttl time.Duration) (bool, error)
	Release(ctx context.Context) error
}

var _ Lock = (*store.Lock)(nil)

// Enqueuer builds and enqueues the summary of unit (or "all") for a period; it must be idempotent
// (the outbox drops a key it has seen).
type Enqueuer interface {
	EnqueueSummary(ctx context.Context, unit string, p period.Period) error
}

// Scheduler decides which summaries are due.
type Scheduler struct {
	Lock     Lock
	Enqueue  Enqueuer
	Units    []string // unit ids; "all" is added for the organisation-wide summary
	Kinds    []period.Kind
	Location *time.Location
	Log      *slog.Logger
	Now      func() time.Time
	// Window is how long after a period ends its summary may still be posted (a replica that was down
	// catches up; a new deployment does not post years of history).
	Window time.Duration
	// Extra runs under the lock at each tick (the feedback router).
	Extra func(ctx context.Context) error
}

// Tick runs once: if this replica holds the lock, enqueue every due summary. It reports whether it held it.
func (s *Scheduler) Tick(ctx context.Context) (bool, error) {
	held, err := s.Lock.Acquire(ctx, 2*time.Minute)
	if err != nil || !held {
		return false, err
	}
	now := s.Now().In(s.Location)
	var errs []error
	for _, p := range Due(now, s.Kinds, s.Window) {
		for _, u := range append(append([]string{}, s.Units...), "all") {
			if err := s.Enqueue.EnqueueSummary(ctx, u, p); err != nil && !errors.Is(err, store.ErrDuplicate) {
				errs = append(errs, err)
			}
		}
	}
	if s.Extra != nil {
		if err := s.Extra(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return true, errors.Join(errs...)
}

// Due returns the periods of the given kinds that ended less than window ago, at local time now.
// A period is due from the Monday 06:00 after its last ISO week.
func Due(now time.Time, kinds []period.Kind, window time.Duration) []period.Period {
	var out []period.Period
	for _, k := range kinds {
		p := period.LastComplete(k, now)
		end := p.End() // Monday 00:00 UTC after the period
		due := time.Date(end.Year(), end.Month(), end.Day(), 6, 0, 0, 0, now.Location())
		if !now.Before(due) && now.Sub(due) < window {
			out = append(out, p)
		}
	}
	return out
}

// Run ticks every interval until ctx ends, then releases the lock.
func (s *Scheduler) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	defer s.Lock.Release(context.WithoutCancel(ctx))
	for {
		if _, err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("scheduler", slog.String("err", err.Error()))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
