package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// CSVHeader is the first row of CSV.
var CSVHeader = []string{"period", "unit", "audience", "item", "measure", "value", "hidden"}

// CSV writes the summary as an anonymised long table, one figure a row, with the same suppression as
// every other rendering: a hidden figure is one row with an empty value and the reason (too_few,
// protected, protected_period) and nothing below it; a shown figure whose breakdown is hidden has a row
// "breakdown" (or "feedback_breakdown") with the reason (too_few, small_cells, protected, ...); a
// breakdown cell of fewer than 3 answers has an empty value and the reason "small". Free text appears
// (measure "comment" or "feedback_text") only where the summary shows it. The unit "all" of a week or a
// month adds up the shown units only (see Unit.SumOfShown). Text cells that a spreadsheet would run as a
// formula are prefixed with an apostrophe.
func (s *Summary) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader)
	for _, u := range s.parts() {
		for i := range u.Groups {
			g := &u.Groups[i]
			row := func(item, measure, value string, h Hidden) {
				_ = cw.Write([]string{s.Period, u.ID, g.Audience, item, measure, value, string(h)})
			}
			if r := g.Responses; r != nil {
				writeCell(row, "", "responses", *r)
				if r.Shown() {
					writeTrend(row, "", "responses", g.Trend, 0)
					writeTarget(row, "", "responses", g.Target)
				}
				for j := range g.Questions {
					q := &g.Questions[j]
					writeCell(row, q.Key, "n", q.Cell)
					if !q.Shown() {
						continue
					}
					switch {
					case q.NPS != nil:
						row(q.Key, "nps", strconv.Itoa(q.NPS.Score), "")
						if sh := q.NPS.Shares; sh != nil {
							row(q.Key, "promoters_pct", strconv.Itoa(sh.Promoters), "")
							row(q.Key, "passives_pct", strconv.Itoa(sh.Passives), "")
							row(q.Key, "detractors_pct", strconv.Itoa(sh.Detractors), "")
						}
						writeTrend(row, q.Key, "nps", q.Trend, 0)
						writeTarget(row, q.Key, "nps", q.Target)
					case q.Mean != nil:
						row(q.Key, "mean", strconv.FormatFloat(*q.Mean, 'f', 1, 64), "")
						writeTrend(row, q.Key, "mean", q.Trend, 1)
						writeTarget(row, q.Key, "mean", q.Target)
					}
					if q.Breakdown != "" {
						row(q.Key, "breakdown", "", q.Breakdown)
					}
					for _, b := range q.Dist {
						writeBar(row, q.Key, "pct="+b.Value, b, b.Pct)
					}
				}
			}
			writeCell(row, "", "feedback", g.Feedback.Cell)
			if g.Feedback.Shown() {
				writeTrend(row, "", "feedback", g.Feedback.Trend, 0)
				if g.Feedback.Breakdown != "" {
					row("", "feedback_breakdown", "", g.Feedback.Breakdown)
				}
				for _, b := range g.Feedback.Polarity {
					writeBar(row, "", "polarity="+b.Value, b, b.Count)
				}
				for _, b := range g.Feedback.Topics {
					row("", "topic="+b.Value, strconv.Itoa(b.Count), "")
				}
			}
			if c := g.Comments; c != nil {
				if c.Shown() {
					for _, t := range c.Answers {
						row("", "comment", safeCell(t), "")
					}
				}
				if c.FBShown {
					for _, t := range c.Texts {
						row("", "feedback_text", safeCell(t), "")
					}
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

type rowFunc func(item, measure, value string, h Hidden)

func writeCell(row rowFunc, item, measure string, c Cell) {
	if !c.Shown() {
		row(item, measure, "", c.Hidden)
		return
	}
	row(item, measure, strconv.Itoa(c.N), "")
}

// writeBar writes a breakdown cell: v, or empty with the reason for a cell of fewer than MinCell answers.
func writeBar(row rowFunc, item, measure string, b Bar, v int) {
	if b.Hidden != "" {
		row(item, measure, "", b.Hidden)
		return
	}
	row(item, measure, strconv.Itoa(v), "")
}

func writeTrend(row rowFunc, item, measure string, t *Trend, decimals int) {
	if t != nil {
		row(item, measure+"_change", strconv.FormatFloat(t.Delta, 'f', decimals, 64), "")
	}
}

func writeTarget(row rowFunc, item, measure string, t *Target) {
	if t != nil {
		row(item, measure+"_target", strconv.FormatFloat(t.Target, 'f', -1, 64), "")
		row(item, measure+"_target_met", strconv.FormatBool(t.Met), "")
	}
}

// safeCell keeps a spreadsheet from reading free text as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
