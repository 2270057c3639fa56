// Package console is a terminal channel for `palaute demo`: choices are numbered and answered by number
// or by their text; commands work as in Telegram. It reads one line per message, so it can be scripted.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/palaute/palaute/bot"
)

// Handler is the engine as the console sees it.
type Handler interface {
	Handle(ctx context.Context, in bot.Input) ([]bot.Reply, error)
}

var _ Handler = (*bot.Engine)(nil)

// Chat runs a conversation of one user over r and w.
type Chat struct {
	H      Handler
	User   string
	Lang   string
	Prompt string // shown before each line when interactive
	// After is called after each handled line (the demo prints the stored response there).
	After func(ctx context.Context) error

	keys  map[string]string // what can be typed for each choice now on screen -> its data
	next  int               // the number the next numbered choice gets
	event int
	msg   int
}

// Run reads lines until EOF or ctx ends. It first sends the opening command (e.g. "/start u-kotipesa").
func (c *Chat) Run(ctx context.Context, r io.Reader, w io.Writer, opening string) error {
	if opening != "" {
		if err := c.send(ctx, w, opening); err != nil {
			return err
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for {
		if c.Prompt != "" {
			fmt.Fprint(w, c.Prompt)
		}
		if !sc.Scan() {
			return sc.Err()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := c.send(ctx, w, line); err != nil {
			return err
		}
	}
}

func (c *Chat) send(ctx context.Context, w io.Writer, line string) error {
	c.event++
	c.msg++
	in := bot.Input{Channel: "console", User: c.User, Chat: c.User, EventID: strconv.Itoa(c.event), Kind: bot.KindText, Text: line, Lang: c.Lang, MsgID: c.msg}
	if d, ok := c.choice(line); ok {
		in.Kind, in.Data, in.Text = bot.KindChoice, d, ""
	}
	replies, err := c.H.Handle(ctx, in)
	c.render(w, replies)
	if err != nil {
		fmt.Fprintf(w, "(%v)\n", err)
	}
	if c.After != nil {
		return c.After(ctx)
	}
	return nil
}

// choice maps a choice's number or its text to the button's data.
func (c *Chat) choice(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "/") {
		return "", false
	}
	d, ok := c.keys[strings.ToLower(t)]
	return d, ok
}

func (c *Chat) render(w io.Writer, replies []bot.Reply) {
	fresh := true // numbering starts again with the first keyboard of a turn and runs through its replies
	for _, r := range replies {
		if len(r.Buttons) > 0 && fresh {
			c.keys, c.next, fresh = map[string]string{}, 1, false
		}
		c.msg++
		switch r.Kind {
		case bot.Help:
			fmt.Fprintf(w, "\n!!! %s\n", strings.ReplaceAll(r.Text, "\n", "\n!!! "))
		case bot.Answer:
			fmt.Fprintf(w, "(%s)\n", r.Text)
		case bot.Delete:
			fmt.Fprintf(w, "(messages %d-%d deleted)\n", r.From, r.To)
			c.keys = nil
		case bot.EditAsked:
			fmt.Fprintf(w, "✓ %s\n", strings.ReplaceAll(r.Text, "\n", " "))
			if len(r.Buttons) > 0 {
				c.show(w, r.Buttons)
			}
		default:
			fmt.Fprintf(w, "\n%s\n", r.Text)
			if len(r.Buttons) > 0 {
				c.show(w, r.Buttons)
			}
		}
	}
}

// show prints a keyboard. A choice whose label is a number (NPS 0-10) is typed as that number and shown
// as [n]; the other choices are numbered after the highest such label, so "9" always means 9.
func (c *Chat) show(w io.Writer, rows [][]bot.Button) {
	for _, row := range rows {
		for _, b := range row {
			if n, err := strconv.Atoi(b.Label); err == nil && n >= c.next {
				c.next = n + 1
			}
		}
	}
	for _, row := range rows {
		var parts []string
		for _, b := range row {
			label := strings.TrimPrefix(b.Label, "✓ ")
			if _, err := strconv.Atoi(b.Label); err == nil {
				c.keys[b.Label] = b.Data
				parts = append(parts, "["+b.Label+"]")
				continue
			}
			n := strconv.Itoa(c.next)
			c.next++
			c.keys[n] = b.Data
			if _, taken := c.keys[strings.ToLower(label)]; !taken {
				c.keys[strings.ToLower(label)] = b.Data
			}
			parts = append(parts, n+") "+b.Label)
		}
		fmt.Fprintf(w, "  %s\n", strings.Join(parts, "   "))
	}
}
