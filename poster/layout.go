package poster

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// mm converts millimetres on paper to pixels at DPI.
func mm(v float64) int { return int(v*DPI/25.4 + 0.5) }

// Type sizes in points at scale 1. Title, unit, body text and link shrink in
// steps (scales) when the text would not fit; the footer keeps its size.
const (
	titlePt  = 44
	unitPt   = 26
	bodyPt   = 22
	linkPt   = 15
	footerPt = 12
)

// scales are tried in order; the smallest keeps body text at 14 pt, still
// readable from arm's length.
var scales = []float64{1, 0.9, 0.8, 0.7, 0.64}

var (
	margin   = mm(15)
	contentW = PageWidth - 2*margin
	qrTarget = mm(90) // QR symbol width aimed at
	qrMin    = mm(80) // and never less
)

type fonts struct{ regular, bold, mono *opentype.Font }

var loadFonts = sync.OnceValues(func() (fonts, error) {
	var fs fonts
	var err error
	if fs.regular, err = opentype.Parse(goregular.TTF); err != nil {
		return fs, fmt.Errorf("poster: parse goregular: %w", err)
	}
	if fs.bold, err = opentype.Parse(gobold.TTF); err != nil {
		return fs, fmt.Errorf("poster: parse gobold: %w", err)
	}
	if fs.mono, err = opentype.Parse(gomono.TTF); err != nil {
		return fs, fmt.Errorf("poster: parse gomono: %w", err)
	}
	return fs, nil
})

func newFace(f *opentype.Font, pt float64) (font.Face, error) {
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: pt, DPI: DPI, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("poster: font face: %w", err)
	}
	return face, nil
}

// block is a run of centred lines set in one face.
type block struct {
	lines   []string
	face    font.Face
	lineH   int // distance between baselines
	ascent  int
	shade   uint8 // gray level of the text
	gapPost int   // space below the block
}

func (b *block) height() int {
	if len(b.lines) == 0 {
		return 0
	}
	return len(b.lines) * b.lineH
}

func newBlock(face font.Face, lines []string, leading float64, shade uint8) *block {
	m := face.Metrics()
	size := (m.Ascent + m.Descent).Ceil()
	lh := int(float64(size)*leading + 0.5)
	return &block{
		lines:  lines,
		face:   face,
		lineH:  lh,
		ascent: (lh-size)/2 + m.Ascent.Ceil(),
		shade:  shade,
	}
}

func (b *block) draw(img *image.Gray, top int) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Gray{Y: b.shade}), Face: b.face}
	for i, ln := range b.lines {
		w := d.MeasureString(ln).Ceil()
		d.Dot = fixed.P((PageWidth-w)/2, top+i*b.lineH+b.ascent)
		d.DrawString(ln)
	}
}

// cleaned is the poster text after validation, before wrapping.
type cleaned struct {
	title, unit, link, footer string
	lines                     []string
}

func clean(p Poster, fs fonts) (cleaned, error) {
	var c cleaned
	// Glyph coverage is a property of the font, not the size; one face each.
	reg, err := newFace(fs.regular, bodyPt)
	if err != nil {
		return c, err
	}
	bold, err := newFace(fs.bold, titlePt)
	if err != nil {
		return c, err
	}
	mono, err := newFace(fs.mono, linkPt)
	if err != nil {
		return c, err
	}
	if c.title, err = cleanText("title", p.Title, MaxTitleRunes, bold); err != nil {
		return c, err
	}
	if c.title == "" {
		return c, ErrEmptyTitle
	}
	if c.unit, err = cleanText("unit", p.Unit, MaxUnitRunes, reg); err != nil {
		return c, err
	}
	if c.link, err = cleanText("link", p.Link, MaxLinkBytes, mono); err != nil {
		return c, err
	}
	if c.footer, err = cleanText("footer", p.Footer, MaxFooterRune, reg); err != nil {
		return c, err
	}
	if len(p.Lines) > MaxLines {
		return c, fmt.Errorf("%w: %d lines of text, at most %d", ErrTooLong, len(p.Lines), MaxLines)
	}
	for i, ln := range p.Lines {
		s, err := cleanText(fmt.Sprintf("line %d", i+1), ln, MaxLineRunes, reg)
		if err != nil {
			return c, err
		}
		if s != "" {
			c.lines = append(c.lines, textHyphens(s))
		}
	}
	c.title, c.unit, c.footer = textHyphens(c.title), textHyphens(c.unit), textHyphens(c.footer)
	return c, nil
}

// textHyphens swaps the hyphen-minus of running text for the glyph of U+00AD. The Go fonts are made for
// code: their '-' is a minus sign, wider than their en dash, so "QR-koodi" printed as "QR–koodi". Their
// soft-hyphen glyph is a true hyphen. (Input soft hyphens were dropped by cleanText; the link, set in the
// monospaced face, keeps its '-' so it can be typed.)
func textHyphens(s string) string { return strings.ReplaceAll(s, "-", "\u00ad") }

// render lays out and draws the poster.
func render(p Poster) (*image.Gray, error) {
	bm, err := qrBitmap(p.Link, qrcode.High)
	if err != nil {
		return nil, err
	}
	fs, err := loadFonts()
	if err != nil {
		return nil, err
	}
	c, err := clean(p, fs)
	if err != nil {
		return nil, err
	}

	// The QR symbol: whole pixels per module, about 9 cm, never under 8 cm.
	ppm := qrTarget / len(bm)
	if ppm*len(bm) < qrMin {
		ppm++
	}
	qrSide := (len(bm) + 2*quietModules) * ppm // with the quiet zone

	var footer *block
	if c.footer != "" {
		face, err := newFace(fs.regular, footerPt)
		if err != nil {
			return nil, err
		}
		footer = newBlock(face, wrap(face, c.footer, contentW), 1.3, 0x55)
	}

	var need int
	for _, s := range scales {
		title, unit, body, err := textBlocks(fs, c, s)
		if err != nil {
			return nil, err
		}
		// The printed link shrinks less: it must stay legible to type.
		mono, err := newFace(fs.mono, linkPt*max(s, 0.8))
		if err != nil {
			return nil, err
		}
		link := newBlock(mono, wrapLink(mono, c.link, contentW), 1.3, 0x33)
		// Fixed gaps; spare room is shared out below.
		title.gapPost = mm(3)
		var head []*block
		head = append(head, title)
		if unit != nil {
			head = append(head, unit)
		}
		// The quiet zone (4 modules, about 1 cm) spaces the QR from the text.
		fixedH := sumH(head) + title.gapPost + qrSide + link.height() + mm(8) + sumH(body)
		for _, b := range body[:max(len(body)-1, 0)] {
			fixedH += b.gapPost
		}
		if footer != nil {
			fixedH += mm(6) + footer.height()
		}
		avail := PageHeight - 2*margin
		if fixedH > avail {
			need = fixedH - avail
			continue
		}
		img := image.NewGray(image.Rect(0, 0, PageWidth, PageHeight))
		fill(img, img.Rect, color.Gray{Y: 0xff})
		spare := avail - fixedH
		y := margin + spare/6
		for _, b := range head {
			b.draw(img, y)
			y += b.height()
			if b == title {
				y += title.gapPost
			}
		}
		y += spare / 4
		drawModules(img, bm, (PageWidth-len(bm)*ppm)/2, y+quietModules*ppm, ppm)
		y += qrSide
		link.draw(img, y)
		y += link.height() + mm(8) + spare/4
		for _, b := range body {
			b.draw(img, y)
			y += b.height() + b.gapPost
		}
		if footer != nil {
			footer.draw(img, PageHeight-margin-footer.height())
		}
		return img, nil
	}
	return nil, fmt.Errorf("%w: even at the smallest type the text is %.0f mm too tall; shorten the title or the lines",
		ErrTooLong, float64(need)*25.4/DPI+0.5)
}

func sumH(bs []*block) int {
	var h int
	for _, b := range bs {
		h += b.height()
	}
	return h
}

// textBlocks sets the title, unit and body text at the given scale.
func textBlocks(fs fonts, c cleaned, scale float64) (title, unit *block, body []*block, err error) {
	tf, err := newFace(fs.bold, titlePt*scale)
	if err != nil {
		return nil, nil, nil, err
	}
	title = newBlock(tf, wrap(tf, c.title, contentW), 1.15, 0x00)
	if c.unit != "" {
		uf, err := newFace(fs.regular, unitPt*scale)
		if err != nil {
			return nil, nil, nil, err
		}
		unit = newBlock(uf, wrap(uf, c.unit, contentW), 1.25, 0x33)
	}
	bf, err := newFace(fs.regular, bodyPt*scale)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, ln := range c.lines {
		b := newBlock(bf, wrap(bf, ln, contentW), 1.3, 0x11)
		b.gapPost = b.lineH / 2
		body = append(body, b)
	}
	return title, unit, body, nil
}

// wrap breaks text into lines no wider than width, at spaces, and evens out
// the line lengths so centred text has no short last line. Explicit
// newlines are kept; no-break spaces and the spaces inside a group of
// numbers ("116 111", "09 2525 0111") are never broken; a word wider than
// the page is broken between letters rather than clipped.
func wrap(face font.Face, text string, width int) []string {
	var out []string
	for para := range strings.SplitSeq(text, "\n") {
		words := words(para)
		lines := greedy(face, words, width)
		if len(lines) > 1 {
			// The narrowest width that still needs no more lines.
			lo, hi := width/2, width
			for lo < hi {
				mid := (lo + hi) / 2
				if len(greedy(face, words, mid)) <= len(lines) {
					hi = mid
				} else {
					lo = mid + 1
				}
			}
			lines = greedy(face, words, hi)
		}
		out = append(out, lines...)
	}
	return out
}

// words splits a paragraph at plain spaces, joining digit groups with a
// no-break space.
func words(para string) []string {
	var ws []string
	for w := range strings.FieldsFuncSeq(para, func(r rune) bool { return r == ' ' }) {
		if n := len(ws); n > 0 && endsDigit(ws[n-1]) && startsDigit(w) {
			ws[n-1] += string(nbsp) + w
			continue
		}
		ws = append(ws, w)
	}
	return ws
}

func endsDigit(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsDigit(r)
}

func startsDigit(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsDigit(r)
}

// greedy fills each line with as many words as fit.
func greedy(face font.Face, words []string, width int) []string {
	var out []string
	var cur string
	for _, w := range words {
		try := w
		if cur != "" {
			try = cur + " " + w
		}
		if measure(face, try) <= width {
			cur = try
			continue
		}
		if cur != "" {
			out = append(out, cur)
			cur = ""
		}
		for measure(face, w) > width {
			n := fitRunes(face, w, width)
			out = append(out, w[:n])
			w = w[n:]
		}
		cur = w
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// wrapLink breaks a URL into lines no wider than width, preferring to break
// after '/', '?', '&' or '=' so each line reads as a piece of the address.
func wrapLink(face font.Face, link string, width int) []string {
	var out []string
	for measure(face, link) > width {
		n := fitRunes(face, link, width)
		if i := strings.LastIndexAny(link[:n], "/?&="); i >= n/2 {
			n = i + 1
		}
		out = append(out, link[:n])
		link = link[n:]
	}
	return append(out, link)
}

// fitRunes returns the byte length of the longest prefix of s (at least one
// rune) that is no wider than width.
func fitRunes(face font.Face, s string, width int) int {
	n := 0
	for i, r := range s {
		end := i + utf8.RuneLen(r)
		if n > 0 && measure(face, s[:end]) > width {
			break
		}
		n = end
	}
	return n
}

func measure(face font.Face, s string) int { return font.MeasureString(face, s).Ceil() }
