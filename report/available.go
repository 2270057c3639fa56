package report

import (
	"fmt"
	"strconv"
	"time"

	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
)

// NotEndedError refuses a summary of a period that has not ended. Its figures would change with every
// answer, so two summaries of it a response apart would show that person's answers.
type NotEndedError struct {
	Period  period.Period
	From    time.Time // when its summary can be had
	Started bool      // the period has started (it is running)
}

func (e *NotEndedError) Error() string {
	if !e.Started {
		return fmt.Sprintf("%s has not started yet: its summary is available from %s", e.Period, e.From.Format("Monday 2006-01-02 15:04 MST"))
	}
	return fmt.Sprintf("%s has not ended: its summary is available from %s", e.Period, e.From.Format("Monday 2006-01-02 15:04 MST"))
}

// Text says it in lang (fi, sv, en), with the day and time the summary can be had, in this process's
// time zone, named: on the Monday itself the hour matters.
func (e *NotEndedError) Text(lang string) string {
	p := newPrinter(&Summary{}, lang, false)
	from := e.From.In(time.Local)
	hm := fmt.Sprintf("%d.%02d", from.Hour(), from.Minute())
	if lang == "en" {
		hm = fmt.Sprintf("%02d:%02d", from.Hour(), from.Minute())
	}
	d := locales.Data{"D": from.Day(), "M": int(from.Month()), "Y": from.Year(), "HM": hm, "Zone": from.Format("MST"),
		"Month": p.T("month." + strconv.Itoa(int(from.Month())))}
	data := locales.Data{"Period": p.periodName(e.Period), "From": p.T("available_from", d)}
	if !e.Started {
		return p.T("not_started", data)
	}
	return p.T("not_ended", data)
}

// AvailableFrom is when a summary of p can be had: when its last ISO week has ended, Monday 00:00 UTC
// or Monday 00:00 of this process's local time if that is later (the engine files an answer in the
// week of its local clock, so a week of a zone behind UTC still takes answers after 00:00 UTC).
func AvailableFrom(p period.Period) time.Time {
	end := p.End()
	local := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.Local)
	if local.After(end) {
		return local
	}
	return end
}

// CheckEnded returns a *NotEndedError when p has not ended at now: a summary of a running period is
// refused, not only of one that has not started.
func CheckEnded(p period.Period, now time.Time) error {
	from := AvailableFrom(p)
	if now.Before(from) {
		return &NotEndedError{Period: p, From: from, Started: !now.Before(p.Start())}
	}
	return nil
}
