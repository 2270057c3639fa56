package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/period"
)

// Counters reads what summaries are made of: the per-week counter hashes of a unit and audience
// (P{u:<unit>}:agg:<audience>:<week>) and the free text kept in the unit's streams
// (P{u:<unit>}:resp and P{u:<unit>}:fb). It implements report.Source.
//
// A summary costs one round trip per unit and period whatever the number of stored responses:
// counters are summed from one HGETALL per audience and week.
type Counters struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewCounters reads keys that start with prefix (e.g. "pl:").
func NewCounters(rdb redis.UniversalClient, prefix string) *Counters {
	return &Counters{rdb: rdb, prefix: prefix}
}

// ErrBadCounter is returned for a counter hash field that does not hold an integer.
var ErrBadCounter = errors.New("bad counter")

// Sum adds up the counters of unit over weeks for each audience, in one pipelined round trip
// (HGETALL per audience and week). Audiences with no counters are absent from the result.
func (c *Counters) Sum(ctx context.Context, unit string, audiences []string, weeks []period.Period) (map[string]map[string]int64, error) {
	per, err := c.Weekly(ctx, unit, audiences, weeks)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, w := range per {
		for a, h := range w {
			sum := out[a]
			if sum == nil {
				sum = make(map[string]int64, len(h))
				out[a] = sum
			}
			for f, n := range h {
				sum[f] += n
			}
		}
	}
	return out, nil
}

// Weekly reads the counters of unit for each of weeks (in their order) and audience, in one pipelined
// round trip (HGETALL per audience and week). Audiences with no counters in a week are absent from it.
func (c *Counters) Weekly(ctx context.Context, unit string, audiences []string, weeks []period.Period) ([]map[string]map[string]int64, error) {
	type get struct {
		week int
		aud  string
		cmd  *redis.MapStringStringCmd
	}
	gets := make([]get, 0, len(audiences)*len(weeks))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, a := range audiences {
			for i, w := range weeks {
				gets = append(gets, get{i, a, p.HGetAll(ctx, aggKey(c.prefix, unit, a, w.String()))})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read counters of %s: %w", unit, err)
	}
	out := make([]map[string]map[string]int64, len(weeks))
	for _, g := range gets {
		h := g.cmd.Val()
		if len(h) == 0 {
			continue
		}
		counts := make(map[string]int64, len(h))
		for f, v := range h {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: %s %s=%q", ErrBadCounter, g.cmd.Args()[1], f, v)
			}
			counts[f] = n
		}
		if out[g.week] == nil {
			out[g.week] = map[string]map[string]int64{}
		}
		out[g.week][g.aud] = counts
	}
	return out, nil
}

// Texts returns the entries of the unit's response stream (resp) and feedback stream (fb) whose
// "week" field is one of weeks, as field maps, in one pipelined round trip: one XRANGE per stream and
// week over the ids of that week's Monday 00:00 UTC (entry ids carry no finer time). At most perWeek
// entries are read per stream and week (perWeek <= 0: all), so reading stays bounded however much
// was written. An entry whose id fell in a later week (the engine keeps stream ids increasing) is
// still found when that week is part of the period.
func (c *Counters) Texts(ctx context.Context, unit string, weeks []period.Period, perWeek int) (resp, fb []map[string]string, err error) {
	in := make(map[string]bool, len(weeks))
	for _, w := range weeks {
		in[w.String()] = true
	}
	type rng struct {
		fb  bool
		cmd *redis.XMessageSliceCmd
	}
	var rs []rng
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, stream := range []string{"resp", "fb"} {
			key := unitKey(c.prefix, unit, stream)
			for _, w := range weeks {
				ms := strconv.FormatInt(w.Start().UnixMilli(), 10)
				var cmd *redis.XMessageSliceCmd
				if perWeek > 0 {
					cmd = p.XRangeN(ctx, key, ms, ms, int64(perWeek))
				} else {
					cmd = p.XRange(ctx, key, ms, ms)
				}
				rs = append(rs, rng{stream == "fb", cmd})
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("read texts of %s: %w", unit, err)
	}
	for _, r := range rs {
		for _, m := range r.cmd.Val() {
			f := make(map[string]string, len(m.Values))
			for k, v := range m.Values {
				if s, ok := v.(string); ok {
					f[k] = s
				}
			}
			if w, ok := f["week"]; ok && !in[w] {
				continue
			}
			if r.fb {
				fb = append(fb, f)
			} else {
				resp = append(resp, f)
			}
		}
	}
	return resp, fb, nil
}
