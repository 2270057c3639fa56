// Package poster renders printable A4 posters and plain QR images for the
// bot's deep links (https://t.me/<bot>?start=u-<code>) and invitation links.
//
// All text is supplied by the caller, already localized. Text is set in the
// Go fonts (which cover the Finnish and Swedish letters ä ö å), wrapped to the
// page width and centred; the QR code is printed at least 8 cm wide with a
// quiet zone around it so a phone camera reads it from across a room.
package poster

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/image/font"
	"golang.org/x/text/unicode/norm"
)

// Sentinel errors. Returned errors wrap one of these with details; test with
// errors.Is.
var (
	ErrEmptyLink       = errors.New("poster: link is empty")
	ErrInvalidLink     = errors.New("poster: link is not an absolute URL without spaces")
	ErrLinkTooLong     = errors.New("poster: link is too long for a QR code")
	ErrEmptyTitle      = errors.New("poster: title is empty")
	ErrTooLong         = errors.New("poster: text does not fit on the page")
	ErrUnsupportedChar = errors.New("poster: character cannot be printed")
	ErrSize            = errors.New("poster: QR image size out of range")
)

// Limits on the input. They keep the QR code coarse enough to scan from a
// distance and bound the work done on hostile input.
const (
	MaxLinkBytes  = 300 // a Telegram deep link is about 120
	MaxTitleRunes = 200
	MaxUnitRunes  = 120
	MaxLineRunes  = 400
	MaxFooterRune = 300
	MaxLines      = 8
	MinQRSize     = 64   // pixels, QRPNG
	MaxQRSize     = 4096 // pixels, QRPNG
)

// Page geometry: A4 portrait at DPI dots per inch.
const (
	DPI        = 200
	PageWidth  = 1654 // 210 mm
	PageHeight = 2339 // 297 mm
)

// Poster is the content of one poster. The caller localizes all text.
type Poster struct {
	Title  string   // large heading, e.g. "Kerro meille, miten sinua on kohdeltu"
	Unit   string   // unit's display name (optional)
	Link   string   // the deep link encoded in the QR and printed under it
	Lines  []string // 2-4 short paragraphs of plain-language text
	Footer string   // optional small print at the bottom of the page
}

// RenderPNG writes the poster as an A4 portrait PNG (PageWidth x PageHeight,
// DPI recorded in the file so it prints at the right size).
func RenderPNG(w io.Writer, p Poster) error {
	img, err := render(p)
	if err != nil {
		return err
	}
	return writePNG(w, img, DPI)
}

// QRPNG writes a plain QR code of link as a size x size PNG, black on white,
// with a quiet zone of at least four modules. Modules are whole pixels, so
// the code stays sharp; size must be in [MinQRSize, MaxQRSize] and large
// enough to give each module at least two pixels.
func QRPNG(w io.Writer, link string, size int) error {
	if size < MinQRSize || size > MaxQRSize {
		return fmt.Errorf("%w: %d px, want %d..%d", ErrSize, size, MinQRSize, MaxQRSize)
	}
	bm, err := qrBitmap(link, qrcode.Medium)
	if err != nil {
		return err
	}
	n := len(bm) + 2*quietModules
	ppm := size / n
	if ppm < 2 {
		return fmt.Errorf("%w: %d px is too small for this link, need at least %d", ErrSize, size, 2*n)
	}
	img := image.NewGray(image.Rect(0, 0, size, size))
	fill(img, img.Rect, color.Gray{Y: 0xff})
	off := (size - len(bm)*ppm) / 2
	drawModules(img, bm, off, off, ppm)
	return writePNG(w, img, 0)
}

// quietModules is the white margin around a QR symbol, in modules (the
// standard asks for four).
const quietModules = 4

// ValidateLink reports whether link can be put in a QR code.
func ValidateLink(link string) error {
	if strings.TrimSpace(link) == "" {
		return ErrEmptyLink
	}
	if len(link) > MaxLinkBytes {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrLinkTooLong, len(link), MaxLinkBytes)
	}
	for _, r := range link {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Errorf("%w: contains space or control character", ErrInvalidLink)
		}
	}
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidLink, err)
	}
	if u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
		return fmt.Errorf("%w: %q has no scheme or host", ErrInvalidLink, link)
	}
	return nil
}

// qrBitmap encodes link without border; true is a dark module.
func qrBitmap(link string, level qrcode.RecoveryLevel) ([][]bool, error) {
	if err := ValidateLink(link); err != nil {
		return nil, err
	}
	q, err := qrcode.New(link, level)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLinkTooLong, err)
	}
	q.DisableBorder = true
	return q.Bitmap(), nil
}

// drawModules paints the dark modules of bm with ppm x ppm black squares,
// the symbol's top-left corner at (x0, y0).
func drawModules(img *image.Gray, bm [][]bool, x0, y0, ppm int) {
	for y, row := range bm {
		for x, dark := range row {
			if dark {
				r := image.Rect(x0+x*ppm, y0+y*ppm, x0+(x+1)*ppm, y0+(y+1)*ppm)
				fill(img, r, color.Gray{})
			}
		}
	}
}

func fill(img *image.Gray, r image.Rectangle, c color.Gray) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := range row {
			row[i] = c.Y
		}
	}
}

// cleanText normalizes s to NFC (so a decomposed "a" + combining diaeresis
// prints as one ä), maps tabs and unusual spaces to the spaces the font has,
// and drops carriage returns, soft hyphens and zero-width characters. It
// rejects other control characters and runes that the font has no glyph for
// (emoji, for one), so a printed poster never shows empty boxes.
func cleanText(field, s string, maxRunes int, face font.Face) (string, error) {
	s = norm.NFC.String(s)
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return "", fmt.Errorf("%w: %s has %d characters, at most %d", ErrTooLong, field, n, maxRunes)
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == ' ' || r == nbsp:
		case r == '\r' || r == '\u00ad' || r == '\ufeff' || (r >= '\u200b' && r <= '\u200d'):
			continue
		case r == '\u202f' || r == '\u2007': // narrow and figure no-break spaces
			r = nbsp
		case r == '\u2011': // non-breaking hyphen; wrap never breaks at '-' anyway
			r = '-'
		case r == '\t' || unicode.Is(unicode.Zs, r):
			r = ' '
		case r == utf8.RuneError || unicode.IsControl(r):
			return "", fmt.Errorf("%w: %s contains %U", ErrUnsupportedChar, field, r)
		default:
			if _, ok := face.GlyphAdvance(r); !ok { // false for .notdef
				return "", fmt.Errorf("%w: %s contains %q (%U), which the font lacks", ErrUnsupportedChar, field, r, r)
			}
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String()), nil
}

// nbsp is the no-break space: wrap never breaks a line there.
const nbsp = '\u00a0'

// writePNG encodes img and, when dpi > 0, records the resolution in a pHYs
// chunk so that printing "at actual size" gives A4.
func writePNG(w io.Writer, img image.Image, dpi int) error {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return fmt.Errorf("poster: encode png: %w", err)
	}
	b := buf.Bytes()
	if dpi > 0 {
		b = withPHYs(b, dpi)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("poster: write png: %w", err)
	}
	return nil
}
