// Package period names the periods summaries are made of: ISO weeks, and months and half-years built from
// whole ISO weeks (a week belongs to the month of its Thursday), so that no figure needs a finer time.
package period

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Kind is the length of a period.
type Kind string

const (
	Week  Kind = "week"
	Month Kind = "month"
	Half  Kind = "half"
)

// Period is a week ("2026-W47"), a month ("2026-11") or a half-year ("2026-H2").
type Period struct {
	Kind Kind
	Year int
	N    int // week 1-53, month 1-12, half 1-2
}

// ErrBad is returned for a period that cannot be parsed.
var ErrBad = errors.New("bad period")

var re = regexp.MustCompile(`^(?i)(\d{4})-(W(\d{2})|(\d{2})|H([12]))$`)

// Parse reads "2026-W47", "2026-11" or "2026-H2"; "2026-w47" and "2026-h2" too.
func Parse(s string) (Period, error) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return Period{}, fmt.Errorf("%w %q: use 2026-W47, 2026-11 or 2026-H2", ErrBad, s)
	}
	y, _ := strconv.Atoi(m[1])
	switch {
	case m[3] != "":
		w, _ := strconv.Atoi(m[3])
		if w < 1 || w > weeksIn(y) {
			return Period{}, fmt.Errorf("%w %q: %d has weeks 1-%d", ErrBad, s, y, weeksIn(y))
		}
		return Period{Week, y, w}, nil
	case m[4] != "":
		mo, _ := strconv.Atoi(m[4])
		if mo < 1 || mo > 12 {
			return Period{}, fmt.Errorf("%w %q: month must be 01-12", ErrBad, s)
		}
		return Period{Month, y, mo}, nil
	default:
		h, _ := strconv.Atoi(m[5])
		return Period{Half, y, h}, nil
	}
}

func (p Period) String() string {
	switch p.Kind {
	case Week:
		return fmt.Sprintf("%04d-W%02d", p.Year, p.N)
	case Month:
		return fmt.Sprintf("%04d-%02d", p.Year, p.N)
	}
	return fmt.Sprintf("%04d-H%d", p.Year, p.N)
}

// WeekOf returns the ISO week that t falls in.
func WeekOf(t time.Time) Period {
	y, w := t.ISOWeek()
	return Period{Week, y, w}
}

// Of returns the period of kind k that contains t (through t's ISO week).
func Of(k Kind, t time.Time) Period {
	w := WeekOf(t)
	if k == Week {
		return w
	}
	th := w.Start().AddDate(0, 0, 3)
	if k == Month {
		return Period{Month, th.Year(), int(th.Month())}
	}
	return Period{Half, th.Year(), 1 + (int(th.Month())-1)/6}
}

// LastComplete is the last period of kind k that ended by t: the one before the period of t's ISO
// week (on a Wednesday in November, the month is October; in week 47, the week is 46). It is what
// a summary is of when no period is asked for.
func LastComplete(k Kind, t time.Time) Period { return Of(k, t).Prev() }

func weeksIn(year int) int {
	_, w := time.Date(year, 12, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// weekStart is Monday 00:00 UTC of ISO week w of year y.
func weekStart(y, w int) time.Time {
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
	mon := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return mon.AddDate(0, 0, 7*(w-1))
}

// Start is Monday 00:00 UTC of the period's first week.
func (p Period) Start() time.Time {
	ws := p.Weeks()
	return weekStart(ws[0].Year, ws[0].N)
}

// End is Monday 00:00 UTC after the period's last week.
func (p Period) End() time.Time {
	ws := p.Weeks()
	last := ws[len(ws)-1]
	return weekStart(last.Year, last.N).AddDate(0, 0, 7)
}

// Weeks returns the ISO weeks of the period in order.
func (p Period) Weeks() []Period {
	if p.Kind == Week {
		return []Period{p}
	}
	var first, last time.Month
	if p.Kind == Month {
		first, last = time.Month(p.N), time.Month(p.N)
	} else {
		first, last = time.Month(6*p.N-5), time.Month(6*p.N)
	}
	var out []Period
	// Walk the Thursdays of the months.
	d := time.Date(p.Year, first, 1, 0, 0, 0, 0, time.UTC)
	for d.Weekday() != time.Thursday {
		d = d.AddDate(0, 0, 1)
	}
	for d.Year() == p.Year && d.Month() >= first && d.Month() <= last {
		out = append(out, WeekOf(d))
		d = d.AddDate(0, 0, 7)
	}
	return out
}

// Prev returns the period of the same kind before p.
func (p Period) Prev() Period {
	switch p.Kind {
	case Week:
		return WeekOf(p.Start().AddDate(0, 0, -7))
	case Month:
		if p.N == 1 {
			return Period{Month, p.Year - 1, 12}
		}
		return Period{Month, p.Year, p.N - 1}
	}
	if p.N == 1 {
		return Period{Half, p.Year - 1, 2}
	}
	return Period{Half, p.Year, 1}
}

// Contains reports whether week w is part of p.
func (p Period) Contains(w Period) bool {
	for _, x := range p.Weeks() {
		if x == w {
			return true
		}
	}
	return false
}
