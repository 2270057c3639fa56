package report

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/locales"
)

// Chart sizes in points (PNG pixels are twice as many, at 144 dpi).
const (
	chartWidth = 720
	chartRow   = 250
	chartDPI   = 144
	chartTitle = 28 // the title strip above the rows
)

// scaleColors run from red (1) to green (5).
var scaleColors = []color.Color{
	color.RGBA{0xd7, 0x30, 0x27, 0xff},
	color.RGBA{0xfc, 0x8d, 0x59, 0xff},
	color.RGBA{0xdd, 0xdd, 0xaa, 0xff},
	color.RGBA{0x91, 0xcf, 0x60, 0xff},
	color.RGBA{0x1a, 0x98, 0x50, 0xff},
}

// ChartTitle names the chart: the uploaded file's title and its alt text.
func (s *Summary) ChartTitle(lang string) string {
	p := newPrinter(s, lang, false)
	return p.T("chart_title", locales.Data{"Title": p.title()})
}

// Chart draws a PNG of the summary's subject (the all-units total when there is one, else its
// unit): one row per audience with something to show, with the NPS over the history periods (gaps
// where a period is hidden, the unit's NPS target dashed) and the answer distributions of the scale
// questions as 100 % stacked bars. Only what the summary shows is drawn; with nothing to show the
// chart says so.
//
// gonum.org/v1/plot draws it: it is maintained by the gonum project, pure Go, embeds its fonts (so
// ä ö å render the same on every machine, no system fonts needed) and has stacked horizontal bar
// charts and tiled layouts, which is all this needs.
func (s *Summary) Chart(w io.Writer, lang string) error {
	pr := newPrinter(s, lang, false)
	parts := s.parts()
	if len(parts) == 0 {
		return fmt.Errorf("chart: empty summary")
	}
	u := parts[0]
	var rows [][]*plot.Plot
	for i := range u.Groups {
		g := &u.Groups[i]
		if g.Responses == nil || !g.Responses.Shown() {
			continue
		}
		npsPlot, ok1 := pr.npsPlot(g)
		distPlot, ok2 := pr.distPlot(g)
		if !ok1 && !ok2 {
			continue
		}
		rows = append(rows, []*plot.Plot{npsPlot, distPlot})
	}
	if len(rows) == 0 {
		p := plot.New()
		sans(p)
		p.Title.Text = pr.unitName(u) + "\n" + pr.T("chart_empty", locales.Data{"K": s.MinResponses})
		p.HideAxes()
		rows = [][]*plot.Plot{{p}}
	}
	height := vg.Length(chartRow*len(rows)) + chartTitle
	img := vgimg.NewWith(vgimg.UseWH(chartWidth, height), vgimg.UseDPI(chartDPI))
	full := draw.New(img)
	// The title names what the chart is of: the unit (or all units) and the period.
	head := plot.New()
	sans(head)
	head.Title.Text = pr.title()
	head.Title.TextStyle.Font.Size = vg.Points(13)
	head.HideAxes()
	head.Draw(draw.Crop(full, 0, 0, height-chartTitle, 0))
	dc := draw.Crop(full, 0, 0, 0, -chartTitle)
	cols := len(rows[0])
	t := draw.Tiles{Rows: len(rows), Cols: cols, PadX: vg.Points(12), PadY: vg.Points(12),
		PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
	for j, row := range rows {
		for i, p := range row {
			p.Draw(t.At(dc, i, j))
		}
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}

// sans sets the plot's text in Liberation Sans.
func sans(p *plot.Plot) {
	for _, st := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		st.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Tick.Label.Font.Size = vg.Points(8)
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
}

func (pr printer) npsPlot(g *Group) (*plot.Plot, bool) {
	p := plot.New()
	sans(p)
	p.Title.Text = pr.audience(g.Audience) + ": " + pr.T("chart_nps")
	p.Y.Min, p.Y.Max = -100, 100
	q := g.NPS()
	if q == nil {
		p.HideAxes()
		return p, false
	}
	labels := make([]string, len(q.History))
	any := false
	var run plotter.XYs
	var values plotter.XYLabels
	flush := func() {
		if len(run) == 0 {
			return
		}
		l, pts, err := plotter.NewLinePoints(run)
		if err == nil {
			l.Color = color.RGBA{0x21, 0x66, 0xac, 0xff}
			l.Width = vg.Points(1.5)
			pts.Color = l.Color
			p.Add(l, pts)
		}
		run = nil
	}
	for i, pt := range q.History {
		labels[i] = pt.Period
		if pt.Value == nil {
			flush()
			continue
		}
		any = true
		run = append(run, plotter.XY{X: float64(i), Y: *pt.Value})
		values.XYs = append(values.XYs, plotter.XY{X: float64(i), Y: *pt.Value})
		values.Labels = append(values.Labels, pr.num(*pt.Value, 0))
	}
	flush()
	if len(values.XYs) > 0 { // each shown score written above its point
		if ls, err := plotter.NewLabels(values); err == nil {
			for i := range ls.TextStyle {
				ls.TextStyle[i].Font.Variant = "Sans"
				ls.TextStyle[i].Font.Size = vg.Points(8)
				ls.TextStyle[i].XAlign = draw.XCenter
			}
			ls.Offset = vg.Point{Y: vg.Points(5)}
			p.Add(ls)
		}
	}
	zero, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: float64(len(labels) - 1), Y: 0}})
	zero.Color = color.Gray{0xaa}
	p.Add(zero)
	if q.Target != nil {
		tl, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: q.Target.Target}, {X: float64(len(labels) - 1), Y: q.Target.Target}})
		tl.Color = color.RGBA{0x1a, 0x98, 0x50, 0xff}
		tl.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(tl)
		p.Title.Text += " (- - " + pr.T("target", locales.Data{"Target": pr.num(q.Target.Target, 0)}) + ")"
	}
	p.NominalX(labels...)
	p.X.Min, p.X.Max = -0.3, float64(len(labels)-1)+0.3
	return p, any
}

func (pr printer) distPlot(g *Group) (*plot.Plot, bool) {
	p := plot.New()
	sans(p)
	p.Title.Text = pr.T("chart_dist")
	var qs []*Question
	for i := range g.Questions {
		q := &g.Questions[i]
		if q.Type == flows.Scale && q.Shown() && len(q.Dist) == 5 {
			qs = append(qs, q)
		}
	}
	if len(qs) == 0 {
		p.HideAxes()
		return p, false
	}
	names := make([]string, len(qs))
	for i, q := range qs {
		names[len(qs)-1-i] = clip(label(q.Text, pr.lang), 34) // the first question on top
	}
	var below *plotter.BarChart
	for v := range 5 {
		vals := make(plotter.Values, len(qs))
		for i, q := range qs {
			vals[len(qs)-1-i] = float64(q.Dist[v].Pct)
		}
		b, err := plotter.NewBarChart(vals, vg.Points(min(18, 150/float64(len(qs)))))
		if err != nil {
			return p, false
		}
		b.Horizontal = true
		b.Color = scaleColors[v]
		b.LineStyle.Width = 0
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		p.Legend.Add(fmt.Sprint(v+1), b)
	}
	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(4)
	p.X.Min, p.X.Max = 0, 118 // room on the right for the legend
	p.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0"}, {Value: 25}, {Value: 50, Label: "50"}, {Value: 75}, {Value: 100, Label: "100"}})
	p.NominalY(names...)
	return p, true
}
