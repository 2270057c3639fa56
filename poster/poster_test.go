package poster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

var sample = flag.String("sample", "", "write a sample poster PNG to this path (to look at it)")

const botLink = "https://t.me/palaute_demo_bot?start=u-jarvenpaa01"

func finnish() Poster {
	return Poster{
		Title: "Kerro meille, miten sinua on kohdeltu",
		Unit:  "Nuorisokoti Järvenpää, Östersundom-yksikkö",
		Link:  botLink,
		Lines: []string{
			"Skannaa QR-koodi puhelimella. Botti kysyy muutaman lyhyen kysymyksen Telegramissa.",
			"Vastaat nimettömänä: työntekijät eivät näe, kuka vastasi. Voit ohittaa minkä tahansa kysymyksen.",
			"Jos sinulla on hätä, soita 112 tai Lasten ja nuorten puhelin 116 111.",
		},
		Footer: "Vastauksia säilytetään ilman nimeä tai puhelinnumeroa.",
	}
}

func swedish() Poster {
	return Poster{
		Title: "Berätta för oss hur du har blivit bemött",
		Unit:  "Familjehemmet Åkerö",
		Link:  "https://t.me/palaute_demo_bot?start=u-akero-02",
		Lines: []string{
			"Skanna QR-koden med telefonen. Boten ställer några korta frågor på Telegram.",
			"Du svarar anonymt. Du kan hoppa över vilken fråga som helst.",
		},
	}
}

// MustPNG renders p and decodes the PNG as a viewer would.
func MustPNG(tb testing.TB, p Poster) image.Image {
	tb.Helper()
	var buf bytes.Buffer
	if err := RenderPNG(&buf, p); err != nil {
		tb.Fatalf("RenderPNG: %v", err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		tb.Fatalf("output is not a PNG: %v", err)
	}
	return img
}

// decodeQR reads the QR code in img as a phone's scanner would.
func decodeQR(tb testing.TB, img image.Image) *gozxing.Result {
	tb.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatalf("bitmap: %v", err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		tb.Fatalf("no QR code could be read: %v", err)
	}
	return res
}

func dark(img image.Image, x, y int) bool {
	g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
	return g.Y < 128
}

// inked counts the dark pixels in r.
func inked(img image.Image, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if dark(img, x, y) {
				n++
			}
		}
	}
	return n
}

// finderEdge walks from the centre of a finder pattern in direction dx and
// returns the x of the last pixel of its outer black ring.
func finderEdge(img image.Image, x, y, dx int) int {
	want := false // after the centre comes white, then black, then white
	for flips := 0; flips < 3; x += dx {
		if dark(img, x, y) == want {
			flips++
			want = !want
		}
	}
	return x - 2*dx // the loop stops one step past the first white pixel
}

func TestRenderPNGScansToLink(t *testing.T) {
	long := "https://t.me/a_rather_long_bot_name_for_palaute_bot?start=" + strings.Repeat("x", 64)
	tests := []struct {
		name string
		p    Poster
	}{
		{"finnish", finnish()},
		{"swedish no footer", swedish()},
		{"title and link only", Poster{Title: "Tell us", Link: "https://t.me/b?start=u-1"}},
		{"longest telegram deep link", Poster{Title: "Kerro meille", Link: long, Lines: finnish().Lines}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := MustPNG(t, tt.p)
			b := img.Bounds()
			if b.Dx() != PageWidth || b.Dy() != PageHeight {
				t.Fatalf("size %v, want %dx%d", b.Size(), PageWidth, PageHeight)
			}
			if ratio := float64(b.Dy()) / float64(b.Dx()); math.Abs(ratio-297.0/210) > 0.002 {
				t.Errorf("aspect %.4f, want A4 %.4f", ratio, 297.0/210)
			}
			if dpi := float64(b.Dx()) / (210 / 25.4); dpi < 150 {
				t.Errorf("%.0f dpi on A4, want >= 150", dpi)
			}
			res := decodeQR(t, img)
			if got := res.GetText(); got != tt.p.Link {
				t.Fatalf("QR reads %q, want %q", got, tt.p.Link)
			}
			// Finder centres: bottom-left, top-left, top-right. Walk out of
			// them to the symbol's edges.
			pts := res.GetResultPoints()
			bl, tl, tr := pts[0], pts[1], pts[2]
			cols := transposed{img}
			left := finderEdge(img, int(tl.GetX()), int(tl.GetY()), -1)
			right := finderEdge(img, int(tr.GetX()), int(tr.GetY()), +1)
			top := finderEdge(cols, int(tl.GetY()), int(tl.GetX()), -1)
			bottom := finderEdge(cols, int(bl.GetY()), int(bl.GetX()), +1)
			if mmWide := float64(right-left+1) * 25.4 / DPI; mmWide < 80 || mmWide > 120 {
				t.Errorf("QR is %.1f mm wide on A4, want 80..120", mmWide)
			}
			// Quiet zone: nothing printed within 4 modules of the symbol.
			module := float64(finderEdge(img, int(tl.GetX()), int(tl.GetY()), +1)-left+1) / 7
			q := int(4 * module)
			symbol := image.Rect(left, top, right+1, bottom+1)
			zone := symbol.Inset(-q)
			if n := inked(img, zone) - inked(img, symbol); n != 0 {
				t.Errorf("%d dark pixels in the quiet zone %v around %v", n, zone, symbol)
			}
		})
	}
}

// transposed swaps x and y so finderEdge can walk columns.
type transposed struct{ image.Image }

func (t transposed) At(x, y int) color.Color { return t.Image.At(y, x) }

func TestRenderPNGRecordsDPI(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderPNG(&buf, finnish()); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte("pHYs"))
	if i < 0 {
		t.Fatal("no pHYs chunk: the PNG would not print at A4 size")
	}
	ppm := binary.BigEndian.Uint32(b[i+4:])
	if dpi := float64(ppm) * 0.0254; math.Abs(dpi-DPI) > 0.5 || b[i+12] != 1 {
		t.Errorf("pHYs says %.1f dpi (unit %d), want %d per inch", dpi, b[i+12], DPI)
	}
}

// titleBand is the top of the page, where the title is set.
var titleBand = image.Rect(0, 0, PageWidth, PageHeight/6)

func TestNordicLettersRender(t *testing.T) {
	base := Poster{Link: botLink}
	plain, nordic, decomposed := base, base, base
	plain.Title = "AOA aoa"
	nordic.Title = "ÄÖÅ äöå"
	decomposed.Title = "A\u0308O\u0308A\u030a a\u0308o\u0308a\u030a"

	pi, ni := MustPNG(t, plain), MustPNG(t, nordic)
	pInk, nInk := inked(pi, titleBand), inked(ni, titleBand)
	if nInk < 2000 {
		t.Fatalf("title region nearly blank: %d dark pixels", nInk)
	}
	// The dots and rings add ink above the letters.
	if nInk <= pInk {
		t.Errorf("ÄÖÅ title has %d dark pixels, plain AOA %d: the diacritics are missing", nInk, pInk)
	}
	// A decomposed ä (a + combining diaeresis) prints like a composed one.
	if di := MustPNG(t, decomposed); inked(di, titleBand) != nInk {
		t.Errorf("decomposed letters print differently from composed ones")
	}
}

// A hyphen in running text prints as a hyphen: visible, and shorter than a minus sign (the Go fonts draw
// '-' as a minus, which made "QR-koodi" look like "QR–koodi").
func TestHyphenPrintsAsHyphen(t *testing.T) {
	title := func(sep string) int {
		return inked(MustPNG(t, Poster{Title: "Telegram" + sep + "botti", Link: botLink}), titleBand)
	}
	space, hyphen, minus := title(" "), title("-"), title("\u2212")
	if hyphen <= space {
		t.Fatalf("the hyphen is not printed: %d dark pixels, %d with a space", hyphen, space)
	}
	if hyphen-space >= minus-space {
		t.Errorf("the hyphen (%d px of ink) is no shorter than a minus sign (%d)", hyphen-space, minus-space)
	}
	// The printed link keeps '-' (set in the monospaced face) and still scans.
	if got := decodeQR(t, MustPNG(t, Poster{Title: "Kerro", Link: botLink})).GetText(); got != botLink {
		t.Errorf("QR reads %q", got)
	}
}

func TestLongTextWrapsInsideMargins(t *testing.T) {
	para := strings.Repeat("Tämä on pitkä virke, joka ei mahdu yhdelle riville. ", 6)
	tests := []struct {
		name string
		p    Poster
	}{
		{"long paragraph", Poster{Title: "Kerro meille", Link: botLink, Lines: []string{para}}},
		{"long title", Poster{Title: strings.Repeat("Kerro meille miten sinua on kohdeltu ", 4), Link: botLink}},
		{"word wider than the page", Poster{Title: strings.Repeat("lastensuojeluyksikkö", 6), Link: botLink}},
		{"long unit and footer", Poster{Title: "Kerro", Unit: strings.Repeat("Yksikkö ", 14), Link: botLink, Footer: strings.Repeat("Pieni präntti. ", 18)}},
		{"shrinks to fit", Poster{Title: "Kerro meille", Link: botLink, Lines: []string{para, para, para}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := MustPNG(t, tt.p)
			// Nothing printed in the outer 10 mm: text was wrapped, not clipped.
			m := mm(10)
			for _, r := range []image.Rectangle{
				image.Rect(0, 0, m, PageHeight), image.Rect(PageWidth-m, 0, PageWidth, PageHeight),
				image.Rect(0, 0, PageWidth, m), image.Rect(0, PageHeight-m, PageWidth, PageHeight),
			} {
				if n := inked(img, r); n != 0 {
					t.Errorf("%d dark pixels in the margin %v", n, r)
				}
			}
			if got := decodeQR(t, img).GetText(); got != botLink {
				t.Errorf("QR reads %q", got)
			}
		})
	}
}

func TestWrapKeepsNumbersTogether(t *testing.T) {
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	face, err := newFace(fs.regular, bodyPt)
	if err != nil {
		t.Fatal(err)
	}
	text := "Jos sinulla on hätä, soita Lasten ja nuorten puhelin 116 111 tai MIELI 09 2525 0111."
	for width := 450; width <= contentW; width += 50 {
		lines := wrap(face, text, width)
		joined := strings.Join(lines, "\n")
		for _, num := range []string{"116\u00a0111", "09\u00a02525\u00a00111"} {
			if !strings.Contains(joined, num) {
				t.Fatalf("width %d: phone number split: %q", width, lines)
			}
		}
		for _, ln := range lines {
			if w := measure(face, ln); w > width {
				t.Errorf("width %d: line %q is %d px wide", width, ln, w)
			}
		}
	}
}

func TestRenderErrors(t *testing.T) {
	long := strings.Repeat("Tämä teksti on aivan liian pitkä julisteeseen. ", 8)
	tests := []struct {
		name string
		p    Poster
		want error
	}{
		{"empty link", Poster{Title: "T"}, ErrEmptyLink},
		{"blank link", Poster{Title: "T", Link: "  "}, ErrEmptyLink},
		{"link with space", Poster{Title: "T", Link: "https://t.me/b?start=a b"}, ErrInvalidLink},
		{"link without scheme", Poster{Title: "T", Link: "t.me/bot"}, ErrInvalidLink},
		{"link too long", Poster{Title: "T", Link: "https://t.me/b?start=" + strings.Repeat("x", MaxLinkBytes)}, ErrLinkTooLong},
		{"empty title", Poster{Title: " \n ", Link: botLink}, ErrEmptyTitle},
		{"emoji", Poster{Title: "Kerro meille 🙂", Link: botLink}, ErrUnsupportedChar},
		{"control char", Poster{Title: "T", Link: botLink, Lines: []string{"a\x07b"}}, ErrUnsupportedChar},
		{"title over limit", Poster{Title: strings.Repeat("a", MaxTitleRunes+1), Link: botLink}, ErrTooLong},
		{"too many lines", Poster{Title: "T", Link: botLink, Lines: make([]string, MaxLines+1)}, ErrTooLong},
		{"text taller than the page", Poster{Title: "T", Link: botLink, Lines: []string{
			long[:MaxLineRunes], long[:MaxLineRunes], long[:MaxLineRunes], long[:MaxLineRunes], long[:MaxLineRunes]}}, ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := RenderPNG(&buf, tt.p)
			if !errors.Is(err, tt.want) {
				t.Fatalf("RenderPNG error %v, want %v", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
			if err := RenderPDF(io.Discard, tt.p); !errors.Is(err, tt.want) {
				t.Errorf("RenderPDF error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTooTallErrorSaysHowMuch(t *testing.T) {
	line := strings.Repeat("sana ", MaxLineRunes/5)
	p := Poster{Title: "T", Link: botLink, Lines: []string{line, line, line, line, line, line}}
	err := RenderPNG(io.Discard, p)
	if !errors.Is(err, ErrTooLong) || !strings.Contains(err.Error(), "mm too tall") {
		t.Fatalf("got %v, want ErrTooLong saying how many mm too tall", err)
	}
}

func TestQRPNG(t *testing.T) {
	for _, size := range []int{120, 256, 333, 1000} {
		var buf bytes.Buffer
		if err := QRPNG(&buf, botLink, size); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("size %d: not a PNG: %v", size, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("size %d: image is %v", size, b.Size())
		}
		if got := decodeQR(t, img).GetText(); got != botLink {
			t.Errorf("size %d: QR reads %q, want %q", size, got, botLink)
		}
		// Whole-pixel modules: pure black and white, no blur.
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				if g := color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y; g != 0 && g != 255 {
					t.Fatalf("size %d: grey pixel %d at (%d,%d)", size, g, x, y)
				}
			}
		}
	}
}

func TestQRPNGErrors(t *testing.T) {
	tests := []struct {
		name string
		link string
		size int
		want error
	}{
		{"empty link", "", 256, ErrEmptyLink},
		{"not a URL", "hello", 256, ErrInvalidLink},
		{"too small", botLink, MinQRSize - 1, ErrSize},
		{"too large", botLink, MaxQRSize + 1, ErrSize},
		{"too small for the link", "https://t.me/b?start=" + strings.Repeat("x", 250), MinQRSize, ErrSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := QRPNG(io.Discard, tt.link, tt.size); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

type failWriter struct{}

var errDiskFull = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteErrorsAreReturned(t *testing.T) {
	for name, err := range map[string]error{
		"png": RenderPNG(failWriter{}, finnish()),
		"pdf": RenderPDF(failWriter{}, finnish()),
		"qr":  QRPNG(failWriter{}, botLink, 256),
	} {
		if !errors.Is(err, errDiskFull) {
			t.Errorf("%s: got %v, want the writer's error", name, err)
		}
	}
}

func TestWriteSample(t *testing.T) {
	if *sample == "" {
		t.Skip("use -sample=/tmp/poster-sample.png to write a poster to look at")
	}
	f, err := os.Create(*sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := RenderPNG(f, finnish()); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkRenderPNG(b *testing.B) {
	p := finnish()
	for b.Loop() {
		if err := RenderPNG(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderPDF(b *testing.B) {
	p := finnish()
	for b.Loop() {
		if err := RenderPDF(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQRPNG(b *testing.B) {
	for b.Loop() {
		if err := QRPNG(io.Discard, botLink, 512); err != nil {
			b.Fatal(err)
		}
	}
}
