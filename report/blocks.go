package report

import (
	"strings"
	"unicode/utf16"

	"github.com/slack-go/slack"

	"github.com/palaute/palaute/locales"
)

// Slack Block Kit limits.
const (
	MaxBlocks      = 50   // blocks per message
	MaxSectionText = 3000 // characters of a section's text
	MaxHeaderText  = 150  // characters of a header's plain text
	MaxContextText = 2000 // characters of a context element's text (well under Slack's limit)
	// MaxFallbackText bounds a message's plain-text fallback (Slack truncates text over 40 000
	// characters; notifications show only its start, the title).
	MaxFallbackText = 12000
)

// Message is one Slack message of a summary: its blocks and the plain-text fallback Slack shows in
// notifications and where blocks cannot be shown.
type Message struct {
	Text   string
	Blocks []slack.Block
}

// Blocks is the summary as Block Kit messages within Slack's limits (see Messages).
func (s *Summary) Blocks(lang string) [][]slack.Block {
	ms := s.Messages(lang)
	out := make([][]slack.Block, len(ms))
	for i, m := range ms {
		out[i] = m.Blocks
	}
	return out
}

// Messages renders the summary as one or more Slack messages of at most MaxBlocks blocks, each
// section text at most MaxSectionText characters. Messages after the first start with a context
// block naming the summary and the part; a unit's heading is never left alone at the end of one.
// Each message's Text is its plain-text fallback (notifications, screen readers, clients without
// blocks): the title, then the same figures as its blocks, at most MaxFallbackText characters.
func (s *Summary) Messages(lang string) []Message {
	p := newPrinter(s, lang, true)
	pt := newPrinter(s, lang, false)
	title := p.title()
	type atom struct {
		blocks []slack.Block // go in one message when they fit
		text   string        // their plain text
	}
	atoms := []atom{{blocks: []slack.Block{
		slack.NewHeaderBlock(plain(clip(title, MaxHeaderText))),
		slack.NewContextBlock("", mrkdwn(clip(p.esc(p.intro()), MaxContextText))),
	}}}
	if text := p.attentionText(); text != "" { // what needs attention comes first
		atoms = append(atoms, atom{sections(strings.TrimPrefix(text, "\n")), pt.attentionText()})
	}
	single := len(s.Units) == 1 && s.Total == nil // the title names the unit already
	for _, u := range s.parts() {
		var head []slack.Block
		headText := ""
		if !single {
			head = []slack.Block{slack.NewDividerBlock(), slack.NewHeaderBlock(plain(clip(p.unitName(u), MaxHeaderText)))}
			headText = "\n== " + pt.unitName(u) + " ==\n"
		}
		if lines := p.unitHead(u); len(lines) > 0 {
			head = append(head, sections(strings.Join(lines, "\n"))...)
			headText += "\n" + strings.Join(pt.unitHead(u), "\n") + "\n"
		}
		for i := range u.Groups {
			g := &u.Groups[i]
			text := p.bold(p.audience(g.Audience)) + "\n" + strings.Join(p.groupLines(g), "\n")
			plainText := "\n" + pt.audience(g.Audience) + "\n" + indent(pt.groupLines(g))
			if h, ok := g.allHidden(); ok {
				text = p.bold(p.audience(g.Audience)) + ": " + p.hidden(h)
				plainText = "\n" + pt.audience(g.Audience) + ": " + pt.hidden(h) + "\n"
			}
			blocks := sections(text)
			if cl := p.commentLines(g); len(cl) > 0 {
				blocks = append(blocks, sections(strings.Join(cl, "\n"))...)
				plainText += indent(pt.commentLines(g))
			}
			if i == 0 { // keep the unit's heading with its first group
				blocks = append(head, blocks...)
				plainText = headText + plainText
			}
			atoms = append(atoms, atom{blocks, plainText})
		}
	}
	// The anonymity rules end the summary.
	atoms = append(atoms, atom{[]slack.Block{slack.NewContextBlock("", mrkdwn(clip(p.esc(p.footer()), MaxContextText)))},
		"\n" + pt.footer() + "\n"})
	type msg struct {
		blocks []slack.Block
		text   strings.Builder
	}
	var msgs []*msg
	cur := &msg{}
	room := func() int {
		if len(msgs) == 0 {
			return MaxBlocks
		}
		return MaxBlocks - 1 // the part context block
	}
	for _, a := range atoms {
		bl := a.blocks
		for len(bl) > 0 {
			if len(cur.blocks)+len(bl) <= room() {
				cur.blocks = append(cur.blocks, bl...)
				cur.text.WriteString(a.text)
				a.text = ""
				break
			}
			if len(cur.blocks) > 0 { // start a new message rather than split the atom
				msgs = append(msgs, cur)
				cur = &msg{}
				continue
			}
			n := room() // an atom larger than a whole message is split
			cur.blocks = bl[:n]
			cur.text.WriteString(a.text)
			a.text = ""
			msgs = append(msgs, cur)
			cur = &msg{}
			bl = bl[n:]
		}
	}
	if len(cur.blocks) > 0 {
		msgs = append(msgs, cur)
	}
	out := make([]Message, len(msgs))
	for i, m := range msgs {
		head := title
		blocks := m.blocks
		if len(msgs) > 1 {
			head += " (" + p.T("part", locales.Data{"I": i + 1, "N": len(msgs)}) + ")"
			if i > 0 {
				blocks = append([]slack.Block{slack.NewContextBlock("", mrkdwn(clip(p.esc(head), MaxContextText)))}, blocks...)
			}
		}
		text := head
		if i == 0 {
			text += "\n" + pt.intro()
		}
		if body := strings.TrimSpace(m.text.String()); body != "" {
			text += "\n\n" + body
		}
		out[i] = Message{Text: clip(text, MaxFallbackText), Blocks: blocks}
	}
	return out
}

// indent indents lines by two spaces, one a line.
func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// sections puts mrkdwn text into as many sections as its length needs, breaking between lines
// (a longer line is cut between characters).
func sections(text string) []slack.Block {
	var out []slack.Block
	for _, c := range chunks(text, MaxSectionText) {
		out = append(out, slack.NewSectionBlock(mrkdwn(c), nil, nil))
	}
	return out
}

// chunks splits text at line breaks into pieces of at most max characters, counted as Slack counts
// them (UTF-16 code units: an emoji is two); a longer line is cut between characters.
func chunks(text string, max int) []string {
	var out []string
	var cur strings.Builder
	n := 0
	flush := func() {
		if n > 0 {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
	}
	for _, line := range strings.Split(text, "\n") {
		for width(line) > max {
			flush()
			head := cut(line, max)
			out = append(out, head)
			line = line[len(head):]
		}
		l := width(line)
		if n > 0 && n+1+l > max {
			flush()
		}
		if n > 0 {
			cur.WriteByte('\n')
			n++
		}
		cur.WriteString(line)
		n += l
	}
	flush()
	return out
}

// width is the length of s in UTF-16 code units.
func width(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// cut returns the longest prefix of s of at most max UTF-16 code units.
func cut(s string, max int) string {
	n := 0
	for i, r := range s {
		if n+utf16.RuneLen(r) > max {
			return s[:i]
		}
		n += utf16.RuneLen(r)
	}
	return s
}

// clip cuts s to at most max characters, ending with … when cut.
func clip(s string, max int) string {
	if width(s) <= max {
		return s
	}
	return cut(s, max-1) + "…"
}
