package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
	"github.com/palaute/palaute/period"
)

// printer renders the parts of a summary in one language; md selects Slack mrkdwn.
type printer struct {
	s    *Summary
	lang string
	md   bool
	cat  *locales.Catalog
}

func newPrinter(s *Summary, lang string, md bool) printer {
	return printer{s: s, lang: locales.Lang(lang), md: md, cat: locales.Must()}
}

func (p printer) T(id string, d ...locales.Data) string { return p.cat.T(p.lang, "report."+id, d...) }

// esc makes text safe in Slack mrkdwn (& < > are control characters there; <!channel> pings).
func (p printer) esc(s string) string {
	if !p.md {
		return s
	}
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func (p printer) bold(s string) string {
	if p.md {
		return "*" + p.esc(s) + "*"
	}
	return s
}

// num writes v with the given decimals and the language's decimal separator (comma in fi and sv).
func (p printer) num(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if p.lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return strings.Replace(s, "-", "−", 1)
}

// delta is the trend marker with the previous period's figure: " ▲ 0,3 (loka 3,6)", " ▼ 5 (Oct 12)",
// " ± 0 (W46 7)"; an NPS change is in points: " ▲ 7 points (Oct 60)".
func (p printer) delta(t *Trend, decimals int, points bool) string {
	if t == nil {
		return ""
	}
	d := "± 0"
	switch {
	case t.Delta > 0:
		d = "▲ " + p.num(t.Delta, decimals)
	case t.Delta < 0:
		d = "▼ " + p.num(math.Abs(t.Delta), decimals)
	}
	if points {
		d = p.T("points", locales.Data{"D": d, "N": int(math.Abs(t.Delta))})
	}
	return " " + d + " (" + p.shortPeriod(p.s.p.Prev()) + " " + p.num(t.Prev, decimals) + ")"
}

// shortPeriod names a period briefly: "vk 46", "loka", "tammi–kesä".
func (p printer) shortPeriod(x period.Period) string {
	switch x.Kind {
	case period.Week:
		return p.T("short_week", locales.Data{"N": x.N})
	case period.Month:
		return p.T("short_month." + strconv.Itoa(x.N))
	}
	return p.T("short_half" + strconv.Itoa(x.N))
}

func (p printer) hidden(h Hidden) string {
	switch h {
	case Protected:
		return p.T("protected")
	case ProtectedPeriod:
		return p.T("protected_period")
	}
	return p.T("too_few", locales.Data{"K": p.s.MinResponses})
}

// breakdownNote says why a shown figure comes without its breakdown; "" when that is only its group's
// size (the intro says breakdowns need MinComments answers).
func (p printer) breakdownNote(h Hidden) string {
	switch h {
	case SmallCells:
		return p.T("breakdown_small_cells")
	case Protected, ProtectedPeriod:
		return p.T("breakdown_protected")
	}
	return ""
}

// barLine is one value of a distribution: its bar and share, or "< 3".
func (p printer) barLine(label string, b Bar) string {
	if b.Hidden != "" {
		return fmt.Sprintf("  %s %s", label, p.esc(p.T("small")))
	}
	return fmt.Sprintf("  %s %s %d %%", label, bar(b.Pct), b.Pct)
}

// count is a breakdown cell's count, or "< 3".
func (p printer) count(b Bar) string {
	if b.Hidden != "" {
		return p.esc(p.T("small"))
	}
	return strconv.Itoa(b.Count)
}

func (p printer) target(t *Target, decimals int) string {
	if t == nil {
		return ""
	}
	mark, word := "✓", p.T("target_met")
	if !t.Met {
		mark, word = "✗", p.T("target_missed")
	}
	return " · " + p.T("target", locales.Data{"Target": p.num(t.Target, decimals)}) + ": " + mark + " " + word
}

func (p printer) audience(a string) string { return p.T("aud." + a) }

// topic is a feedback topic's name in the language: from the coder's topics, else its id.
func (p printer) topic(b Bar) string {
	if n := b.Names.In(p.lang); n != "" {
		return n
	}
	return b.Value
}

// bar draws a share as ▇ blocks, one per 5 %, at least one for a share above zero.
func bar(pct int) string {
	n := (pct + 2) / 5
	if n == 0 && pct > 0 {
		n = 1
	}
	return strings.Repeat("▇", n)
}

func (p printer) label(q *Question, v string) string {
	switch q.Type {
	case flows.Scale:
		i, _ := strconv.Atoi(v)
		if i >= 1 && i <= len(flows.ScaleFaces) {
			return flows.ScaleFaces[i-1] + " " + v
		}
	case flows.YesNo:
		return p.T(v)
	case flows.Choice:
		for _, o := range q.options {
			if o.ID == v {
				return p.esc(o.Text.In(p.lang))
			}
		}
	}
	return p.esc(v)
}

// groupLines are the figures of a group, one per line, sub-lines indented.
func (p printer) groupLines(g *Group) []string {
	var out []string
	add := func(indent int, s string) { out = append(out, strings.Repeat("  ", indent)+s) }
	if r := g.Responses; r != nil {
		if !r.Shown() {
			add(0, p.T("responses")+": "+p.hidden(r.Hidden))
		} else {
			add(0, p.T("responses")+": "+p.bold(strconv.Itoa(r.N))+p.delta(g.Trend, 0, false)+p.target(g.Target, 0))
			for i := range g.Questions {
				out = append(out, p.questionLines(&g.Questions[i])...)
			}
		}
	}
	f := &g.Feedback
	if !f.Shown() {
		add(0, p.T("feedback")+": "+p.hidden(f.Hidden))
	} else {
		add(0, p.T("feedback")+": "+p.bold(strconv.Itoa(f.N))+p.delta(f.Trend, 0, false))
		var pol []string
		for _, b := range f.Polarity {
			pol = append(pol, p.T("pol."+b.Value)+" "+p.count(b))
		}
		if len(pol) > 0 {
			add(1, strings.Join(pol, " · "))
		}
		if note := p.breakdownNote(f.Breakdown); note != "" {
			add(1, note)
		}
		if len(f.Topics) > 0 {
			var ts []string
			for _, b := range f.Topics {
				ts = append(ts, p.esc(p.topic(b))+" "+strconv.Itoa(b.Count))
			}
			add(1, p.T("topics")+": "+strings.Join(ts, " · "))
		}
	}
	return out
}

func (p printer) questionLines(q *Question) []string {
	name := label(q.Text, p.lang)
	if q.Type == flows.NPS {
		name = p.T("nps")
	}
	head := p.esc(name) + ": "
	if !q.Shown() {
		return []string{head + p.hidden(q.Hidden)}
	}
	n := " (" + p.T("n", locales.Data{"N": q.N}) + ")"
	var out []string
	switch {
	case q.NPS != nil:
		out = append(out, head+p.bold(p.num(float64(q.NPS.Score), 0))+p.delta(q.Trend, 0, true)+p.target(q.Target, 0)+n)
		if sh := q.NPS.Shares; sh != nil {
			out = append(out, "  "+p.T("nps_shares", locales.Data{"P": sh.Promoters, "Pa": sh.Passives, "D": sh.Detractors}))
		}
	case q.Mean != nil:
		out = append(out, head+p.bold(p.num(*q.Mean, 1))+p.delta(q.Trend, 1, false)+p.target(q.Target, 1)+n)
	default:
		out = append(out, head+n[1:])
	}
	if note := p.breakdownNote(q.Breakdown); note != "" {
		out = append(out, "  "+note)
	}
	for _, b := range q.Dist {
		out = append(out, p.barLine(p.label(q, b.Value), b))
	}
	return out
}

// commentLines are the free texts of a group, or why they are not shown.
func (p printer) commentLines(g *Group) []string {
	c := g.Comments
	if c == nil {
		return nil
	}
	var out []string
	list := func(title string, xs []string, more int) {
		out = append(out, p.bold(title)+":")
		if len(xs) == 0 {
			out = append(out, "  "+p.T("no_comments"))
		}
		for _, x := range xs {
			x = strings.Join(strings.Fields(x), " ")
			out = append(out, "  • "+p.esc(x))
		}
		if more > 0 {
			out = append(out, "  ("+p.T("more", locales.Data{"N": more})+")")
		}
	}
	hidden := func(title string, h Hidden) {
		why := p.T("comments_hidden", locales.Data{"C": p.s.MinComments})
		if h == Protected || h == ProtectedPeriod {
			why = p.T("comments_protected")
		}
		out = append(out, p.bold(title)+": "+why)
	}
	switch {
	case c.Shown():
		list(p.T("comments"), c.Answers, c.More)
	case g.Responses != nil && g.Responses.Shown():
		hidden(p.T("comments"), c.Hidden)
	}
	switch {
	case c.FBShown:
		list(p.T("feedback_texts"), c.Texts, c.MoreFB)
	case g.Feedback.Shown():
		hidden(p.T("feedback_texts"), c.FBHidden)
	}
	return out
}

// allHidden reports whether nothing of the group is shown for one reason: it is then one line.
func (g *Group) allHidden() (Hidden, bool) {
	h := g.Feedback.Hidden
	if h == "" || (g.Responses != nil && g.Responses.Hidden != h) {
		return "", false
	}
	return h, true
}

func (p printer) title() string {
	per := p.periodName(p.s.p)
	if len(p.s.Units) == 1 && p.s.Total == nil {
		u := p.s.Units[0]
		return p.T("title_unit", locales.Data{"Period": per, "Unit": u.Name(p.lang)})
	}
	return p.T("title", locales.Data{"Period": per})
}

func (p printer) intro() string {
	return upperFirst(p.weeksRange(p.s.p)) + ". " + p.T("compared", locales.Data{"Period": p.periodName(p.s.p.Prev())}) + " " +
		p.T("nps_legend")
}

// footer explains the anonymity rules; it ends the summary.
func (p printer) footer() string {
	return p.T("rule", locales.Data{"K": p.s.MinResponses, "C": p.s.MinComments}) + " " + p.T("rule_comments")
}

// attention are the summary's first lines: the targets not met, and the share of young people who do
// not feel safe where they live (😞 or 🙁), where it is shown ("at least" when one of the two is "< 3").
// Counts of urgent alerts are not here: the aggregates do not count them (yet).
func (p printer) attention() []string {
	var out []string
	many := len(p.s.parts()) > 1
	for _, u := range p.s.parts() {
		prefix := ""
		if many {
			prefix = p.esc(p.unitName(u)) + " · "
		}
		for _, t := range u.Targets {
			if t.Met == nil || *t.Met {
				continue
			}
			name, decimals := p.targetName(t)
			out = append(out, "✗ "+prefix+p.audience(t.Audience)+" · "+name+": "+p.num(*t.Value, decimals)+
				" ("+p.T("target", locales.Data{"Target": p.num(t.Target, decimals)})+")")
		}
		for i := range u.Groups {
			g := &u.Groups[i]
			for j := range g.Questions {
				q := &g.Questions[j]
				if q.ID != "safe" || q.Type != flows.Scale || len(q.Dist) < 2 || q.N == 0 {
					continue
				}
				low, some := 0, false
				for _, b := range q.Dist[:2] {
					if b.Hidden != "" {
						some = true
					} else {
						low += b.Count
					}
				}
				if low == 0 {
					continue
				}
				id := "attention_unsafe"
				if some {
					id = "attention_unsafe_min"
				}
				out = append(out, "! "+prefix+p.audience(g.Audience)+": "+p.T(id, locales.Data{
					"P": int(roundDiv(100*int64(low), int64(q.N))), "Question": p.esc(label(q.Text, p.lang))}))
			}
		}
	}
	return out
}

// targetName is a target's figure in words, and its decimals.
func (p printer) targetName(t TargetRow) (string, int) {
	switch t.Key {
	case "responses":
		return p.T("responses"), 0
	case "nps":
		return p.T("nps"), 0
	}
	return p.esc(label(t.Text, p.lang)), 1
}

// periodName is the period in words: "viikko 47/2026", "marraskuu 2026", "heinä–joulukuu 2026".
func (p printer) periodName(x period.Period) string {
	switch x.Kind {
	case period.Week:
		return p.T("period_week", locales.Data{"N": x.N, "Year": x.Year})
	case period.Month:
		return p.T("month."+strconv.Itoa(x.N)) + " " + strconv.Itoa(x.Year)
	case period.Half:
		return p.T("period_half"+strconv.Itoa(x.N), locales.Data{"Year": x.Year})
	}
	return x.String()
}

// weeksRange says which days or ISO weeks the period is made of (a month and a half-year are whole
// ISO weeks: a week belongs to the month of its Thursday).
func (p printer) weeksRange(x period.Period) string {
	if x.Kind == period.Week {
		from, to := x.Start(), x.End().AddDate(0, 0, -1)
		return p.T("range_days", locales.Data{"From": p.date(from), "To": p.date(to)})
	}
	ws := x.Weeks()
	if len(ws) == 0 {
		return x.String()
	}
	a, b := ws[0], ws[len(ws)-1]
	from, to := strconv.Itoa(a.N), strconv.Itoa(b.N)
	if a.Year != b.Year {
		from, to = from+"/"+strconv.Itoa(a.Year), to+"/"+strconv.Itoa(b.Year)
	}
	return p.T("range_weeks", locales.Data{"From": from, "To": to})
}

func (p printer) date(t time.Time) string {
	return p.T("date", locales.Data{"D": t.Day(), "M": int(t.Month()), "Y": t.Year(), "ISO": t.Format("2006-01-02")})
}

// label is a question's text as a label: without its closing full stop ("I felt heard").
func label(t flows.Texts, lang string) string {
	return strings.TrimSuffix(strings.TrimSpace(t.In(lang)), ".")
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// targetLines are the unit's targets together: how many are met, then one line each.
func (p printer) targetLines(u *Unit) []string {
	if len(u.Targets) == 0 {
		return nil
	}
	met, evaluated := u.TargetsMet()
	head := p.T("targets_met", locales.Data{"Met": met, "N": evaluated})
	if evaluated == 0 {
		head = p.T("targets_none")
	}
	if p.s.p.Kind == period.Half {
		head = p.bold(p.T("targets_half")) + " " + head
	} else {
		head = p.bold(p.T("targets")) + " " + head
	}
	out := []string{head}
	for _, t := range u.Targets {
		name, decimals := p.targetName(t)
		what := p.audience(t.Audience) + " · " + name
		goal := p.T("target", locales.Data{"Target": p.num(t.Target, decimals)})
		switch {
		case t.Met == nil:
			out = append(out, "  – "+what+": "+p.T("target_unknown")+", "+p.hidden(t.Hidden))
		case *t.Met:
			out = append(out, "  ✓ "+what+": "+p.num(*t.Value, decimals)+" ("+goal+", "+p.T("target_met")+")")
		default:
			out = append(out, "  ✗ "+what+": "+p.num(*t.Value, decimals)+" ("+goal+", "+p.T("target_missed")+")")
		}
	}
	return out
}

// targetsByUnit is the total's overview: each unit's targets met of those evaluated.
func (p printer) targetsByUnit() string {
	var parts []string
	for i := range p.s.Units {
		u := &p.s.Units[i]
		if len(u.Targets) == 0 {
			continue
		}
		met, n := u.TargetsMet()
		v := strconv.Itoa(met) + "/" + strconv.Itoa(n)
		if n == 0 {
			v = "–"
		}
		parts = append(parts, p.esc(u.Name(p.lang))+" "+v)
	}
	if len(parts) == 0 {
		return ""
	}
	return p.bold(p.T("targets_by_unit")) + " " + strings.Join(parts, " · ")
}

// unitHead are the lines under a part's heading before its groups.
func (p printer) unitHead(u *Unit) []string {
	if u.ID == All {
		var out []string
		if u.SumOfShown {
			out = append(out, p.T("total_shown_only"))
		}
		if l := p.targetsByUnit(); l != "" {
			out = append(out, l)
		}
		return out
	}
	return p.targetLines(u)
}

// units are the parts in display order: the total first, then each unit.
func (s *Summary) parts() []*Unit {
	var out []*Unit
	if s.Total != nil {
		out = append(out, s.Total)
	}
	for i := range s.Units {
		out = append(out, &s.Units[i])
	}
	return out
}

func (p printer) unitName(u *Unit) string {
	if u.ID == All {
		return p.T("total")
	}
	return u.Name(p.lang)
}

// Text is the summary as plain text in lang (fi, sv or en).
func (s *Summary) Text(lang string) string {
	p := newPrinter(s, lang, false)
	var b strings.Builder
	b.WriteString(p.title() + "\n" + p.intro() + "\n")
	b.WriteString(p.attentionText())
	for _, u := range s.parts() {
		name := p.unitName(u)
		fmt.Fprintf(&b, "\n== %s ==\n", name)
		if head := p.unitHead(u); len(head) > 0 {
			b.WriteString("\n" + strings.Join(head, "\n") + "\n")
		}
		for i := range u.Groups {
			g := &u.Groups[i]
			if h, ok := g.allHidden(); ok {
				fmt.Fprintf(&b, "\n%s: %s\n", p.audience(g.Audience), p.hidden(h))
				continue
			}
			fmt.Fprintf(&b, "\n%s\n", p.audience(g.Audience))
			for _, l := range p.groupLines(g) {
				b.WriteString("  " + l + "\n")
			}
			for _, l := range p.commentLines(g) {
				b.WriteString("  " + l + "\n")
			}
		}
	}
	b.WriteString("\n" + p.footer() + "\n")
	return b.String()
}

// attentionText is the attention block as text, "" when nothing needs attention.
func (p printer) attentionText() string {
	lines := p.attention()
	if len(lines) == 0 {
		return ""
	}
	return "\n" + p.bold(p.T("attention")) + "\n" + indent(lines)
}
