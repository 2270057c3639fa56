package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
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

// delta is the trend marker: ▲ 0,3 / ▼ 5 / =.
func (p printer) delta(t *Trend, decimals int) string {
	if t == nil {
		return ""
	}
	switch {
	case t.Delta > 0:
		return " ▲ " + p.num(t.Delta, decimals)
	case t.Delta < 0:
		return " ▼ " + p.num(math.Abs(t.Delta), decimals)
	}
	return " ="
}

func (p printer) hidden(h Hidden) string {
	if h == Protected {
		return p.T("protected")
	}
	return p.T("too_few", locales.Data{"K": p.s.MinResponses})
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
			add(0, p.T("responses")+": "+p.bold(strconv.Itoa(r.N))+p.delta(g.Trend, 0)+p.target(g.Target, 0))
			for i := range g.Questions {
				out = append(out, p.questionLines(&g.Questions[i])...)
			}
		}
	}
	f := &g.Feedback
	if !f.Shown() {
		add(0, p.T("feedback")+": "+p.hidden(f.Hidden))
	} else {
		add(0, p.T("feedback")+": "+p.bold(strconv.Itoa(f.N))+p.delta(f.Trend, 0))
		var pol []string
		for _, b := range f.Polarity {
			pol = append(pol, p.T("pol."+b.Value)+" "+strconv.Itoa(b.Count))
		}
		add(1, strings.Join(pol, " · "))
		if len(f.Topics) > 0 {
			var ts []string
			for _, b := range f.Topics {
				ts = append(ts, p.esc(b.Value)+" "+strconv.Itoa(b.Count))
			}
			add(1, p.T("topics")+": "+strings.Join(ts, " · "))
		}
	}
	return out
}

func (p printer) questionLines(q *Question) []string {
	name := q.Text.In(p.lang)
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
		out = append(out, head+p.bold(strconv.Itoa(q.NPS.Score))+p.delta(q.Trend, 0)+p.target(q.Target, 0)+n,
			"  "+p.T("nps_shares", locales.Data{"P": q.NPS.Promoters, "Pa": q.NPS.Passives, "D": q.NPS.Detractors}))
		return out
	case q.Mean != nil:
		out = append(out, head+p.bold(p.num(*q.Mean, 1))+p.delta(q.Trend, 1)+p.target(q.Target, 1)+n)
	default:
		out = append(out, head+n[1:])
	}
	for _, b := range q.Dist {
		out = append(out, fmt.Sprintf("  %s %s %d %%", p.label(q, b.Value), bar(b.Pct), b.Pct))
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
	hidden := func(title string) {
		out = append(out, p.bold(title)+": "+p.T("comments_hidden", locales.Data{"C": p.s.MinComments}))
	}
	switch {
	case c.Shown():
		list(p.T("comments"), c.Answers, c.More)
	case g.Responses != nil && g.Responses.Shown():
		hidden(p.T("comments"))
	}
	switch {
	case c.FBShown:
		list(p.T("feedback_texts"), c.Texts, c.MoreFB)
	case g.Feedback.Shown():
		hidden(p.T("feedback_texts"))
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
	if len(p.s.Units) == 1 && p.s.Total == nil {
		u := p.s.Units[0]
		return p.T("title_unit", locales.Data{"Period": p.s.Period, "Unit": u.Name(p.lang)})
	}
	return p.T("title", locales.Data{"Period": p.s.Period})
}

func (p printer) intro() string {
	return p.T("compared", locales.Data{"Period": p.s.Previous}) + ". " +
		p.T("rule", locales.Data{"K": p.s.MinResponses, "C": p.s.MinComments})
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
	for _, u := range s.parts() {
		name := p.unitName(u)
		fmt.Fprintf(&b, "\n== %s ==\n", name)
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
	return b.String()
}
