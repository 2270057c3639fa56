package poster

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf16"
)

// A4 in PDF points (1/72 inch).
const (
	a4WidthPt  = 595.28
	a4HeightPt = 841.89
)

// RenderPDF writes the poster as a one-page A4 PDF with the rendered page
// embedded as a DPI grayscale image covering the whole page. The PDF is
// written directly (six objects); no PDF library is needed for that.
func RenderPDF(w io.Writer, p Poster) error {
	img, err := render(p)
	if err != nil {
		return err
	}
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	if err != nil {
		return fmt.Errorf("poster: pdf: %w", err)
	}
	// img.Stride == width for a fresh image.NewGray, so Pix is the raw raster.
	if _, err := zw.Write(img.Pix); err != nil {
		return fmt.Errorf("poster: pdf: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("poster: pdf: %w", err)
	}

	var b bytes.Buffer
	var offs []int
	obj := func(body string, stream []byte) {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\n", len(offs), body)
		if stream != nil {
			b.WriteString("stream\n")
			b.Write(stream)
			b.WriteString("\nendstream\n")
		}
		b.WriteString("endobj\n")
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", nil)
	obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] "+
		"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>", a4WidthPt, a4HeightPt), nil)
	obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "+
		"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>", img.Rect.Dx(), img.Rect.Dy(), z.Len()), z.Bytes())
	content := fmt.Sprintf("q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q", a4WidthPt, a4HeightPt)
	obj(fmt.Sprintf("<< /Length %d >>", len(content)), []byte(content))
	obj(fmt.Sprintf("<< /Title %s /Producer (palaute) >>", pdfText(p.Title)), nil)

	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n",
		len(offs)+1, len(offs), xref)
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("poster: write pdf: %w", err)
	}
	return nil
}

// pdfText encodes s as a PDF text string: UTF-16BE with a byte-order mark,
// in hex, which needs no escaping.
func pdfText(s string) string {
	var b bytes.Buffer
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// withPHYs returns the PNG png with a pHYs chunk recording dpi, placed right
// after IHDR as the PNG specification requires.
func withPHYs(png []byte, dpi int) []byte {
	const ihdrEnd = 8 + 4 + 4 + 13 + 4 // signature, IHDR length, type, data, CRC
	if len(png) < ihdrEnd {
		return png
	}
	ppm := uint32(float64(dpi)/0.0254 + 0.5)
	chunk := make([]byte, 4+4+9+4)
	binary.BigEndian.PutUint32(chunk[0:], 9)
	copy(chunk[4:], "pHYs")
	binary.BigEndian.PutUint32(chunk[8:], ppm)
	binary.BigEndian.PutUint32(chunk[12:], ppm)
	chunk[16] = 1 // unit: metre
	binary.BigEndian.PutUint32(chunk[17:], crc32.ChecksumIEEE(chunk[4:17]))
	out := make([]byte, 0, len(png)+len(chunk))
	out = append(out, png[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, png[ihdrEnd:]...)
}
