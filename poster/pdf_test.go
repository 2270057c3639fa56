package poster

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"io"
	"regexp"
	"strconv"
	"testing"
)

// pdfFile is the little a reader needs from a PDF to show the page.
type pdfFile struct {
	raw []byte
}

func (f pdfFile) objOffset(t *testing.T, n int) int {
	t.Helper()
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(f.raw)
	if m == nil {
		t.Fatal("no startxref and EOF marker at the end")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(f.raw[xref:], []byte("xref\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	// 20-byte entries after "xref\n0 N\n"; entry 0 is the free head.
	table := f.raw[xref:]
	start := bytes.Index(table, []byte("0000000000 65535 f \n"))
	entry := table[start+20*n : start+20*n+20]
	off, err := strconv.Atoi(string(entry[:10]))
	if err != nil {
		t.Fatalf("xref entry %d: %q", n, entry)
	}
	if want := fmt.Sprintf("%d 0 obj\n", n); !bytes.HasPrefix(f.raw[off:], []byte(want)) {
		t.Fatalf("xref says object %d is at %d, but there is %q", n, off, f.raw[off:off+10])
	}
	return off
}

func TestRenderPDF(t *testing.T) {
	p := finnish()
	var buf bytes.Buffer
	if err := RenderPDF(&buf, p); err != nil {
		t.Fatal(err)
	}
	f := pdfFile{buf.Bytes()}
	if !bytes.HasPrefix(f.raw, []byte("%PDF-1.")) {
		t.Fatalf("no PDF header: %q", f.raw[:8])
	}
	for n := 1; n <= 6; n++ {
		f.objOffset(t, n)
	}
	if !regexp.MustCompile(`/MediaBox \[0 0 595\.\d+ 841\.\d+\]`).Match(f.raw) {
		t.Error("page is not A4")
	}

	// The embedded image is the poster: same pixels as the PNG, QR readable.
	off := f.objOffset(t, 4)
	m := regexp.MustCompile(`/Width (\d+) /Height (\d+) .*/Length (\d+) >>\nstream\n`).FindSubmatchIndex(f.raw[off:])
	if m == nil {
		t.Fatal("object 4 is not the image XObject")
	}
	num := func(i int) int { v, _ := strconv.Atoi(string(f.raw[off+m[2*i] : off+m[2*i+1]])); return v }
	w, h, n := num(1), num(2), num(3)
	data := f.raw[off+m[1] : off+m[1]+n]
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	pix, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(pix) != w*h {
		t.Fatalf("image data %d bytes, want %dx%d", len(pix), w, h)
	}
	img := &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}
	if got := decodeQR(t, img).GetText(); got != p.Link {
		t.Errorf("QR in the PDF reads %q", got)
	}
	want := MustPNG(t, p)
	if want.Bounds() != img.Bounds() {
		t.Fatalf("PDF image %v, PNG %v", img.Bounds(), want.Bounds())
	}
	if inked(img, img.Rect) != inked(want, want.Bounds()) {
		t.Error("PDF page differs from the PNG poster")
	}
}

func TestPDFTextEscapesTitle(t *testing.T) {
	if got := pdfText("Kerro (ä)"); got != "<FEFF004B006500720072006F0020002800E40029>" {
		t.Errorf("pdfText = %s", got)
	}
}
