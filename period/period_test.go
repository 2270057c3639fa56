package period

import (
	"strings"
	"testing"
	"time"
)

func TestParseAndWeeks(t *testing.T) {
	tests := []struct {
		in         string
		weeks      int
		first, end string
	}{
		{"2026-W47", 1, "2026-W47", "2026-11-23"},
		{"2026-11", 4, "2026-W45", "2026-11-30"},  // Thursdays 5,12,19,26 Nov
		{"2026-10", 5, "2026-W40", "2026-11-02"},  // Thursdays 1..29 Oct
		{"2026-H2", 27, "2026-W27", "2027-01-04"}, // 2026 has 53 weeks
		{"2026-H1", 26, "2026-W01", "2026-06-29"},
		{"2020-H2", 27, "2020-W27", "2021-01-04"}, // 2020 has 53 weeks
		{"2021-01", 4, "2021-W01", "2021-02-01"},  // 1 Jan 2021 is a Friday: week 53 of 2020 belongs to December
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.in, err)
		}
		if p.String() != tt.in {
			t.Errorf("String() = %q, want %q", p.String(), tt.in)
		}
		ws := p.Weeks()
		if len(ws) != tt.weeks || ws[0].String() != tt.first {
			t.Errorf("%s: %d weeks from %v, want %d from %s", tt.in, len(ws), ws[0], tt.weeks, tt.first)
		}
		if got := p.End().Format("2006-01-02"); got != tt.end {
			t.Errorf("%s: End = %s, want %s", tt.in, got, tt.end)
		}
	}
}

func TestEveryWeekInExactlyOneMonth(t *testing.T) {
	seen := map[Period]int{}
	for y := 2019; y <= 2031; y++ {
		for m := 1; m <= 12; m++ {
			for _, w := range (Period{Month, y, m}).Weeks() {
				seen[w]++
			}
		}
	}
	for d := time.Date(2019, 1, 10, 0, 0, 0, 0, time.UTC); d.Year() < 2031; d = d.AddDate(0, 0, 7) {
		if w := WeekOf(d); seen[w] != 1 {
			t.Fatalf("week %v is in %d months", w, seen[w])
		}
	}
}

func TestParseBad(t *testing.T) {
	for _, s := range []string{"", "2026", "2026-W54", "2026-W00", "2026-13", "2026-H3", "26-11", "2026-W7", "last week"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}

func TestPrevAndOf(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) // Sunday of W47
	for k, want := range map[Kind]string{Week: "2026-W47", Month: "2026-11", Half: "2026-H2"} {
		if got := Of(k, at).String(); got != want {
			t.Errorf("Of(%s) = %s, want %s", k, got, want)
		}
	}
	for in, want := range map[string]string{"2026-W01": "2025-W52", "2026-01": "2025-12", "2026-H1": "2025-H2", "2021-W01": "2020-W53"} {
		p, _ := Parse(in)
		if got := p.Prev().String(); got != want {
			t.Errorf("Prev(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestParseAnyCase(t *testing.T) {
	for in, want := range map[string]string{"2026-w47": "2026-W47", "2026-W47": "2026-W47", "2026-h2": "2026-H2", "2026-11": "2026-11"} {
		if p, err := Parse(in); err != nil || p.String() != want {
			t.Errorf("Parse(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	if _, err := Parse("2026-x47"); err == nil || !strings.Contains(err.Error(), `"2026-x47"`) {
		t.Errorf("Parse(2026-x47): %v, want it refused as written", err)
	}
}

func TestLastComplete(t *testing.T) {
	for _, tt := range []struct {
		at   time.Time
		k    Kind
		want string
	}{
		{time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC), Month, "2026-10"},
		{time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC), Week, "2026-W46"},
		{time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC), Half, "2026-H1"},
		{time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC), Month, "2025-12"},   // 2 Jan 2026 is in week 1, whose Thursday is 1 Jan
		{time.Date(2021, 1, 2, 12, 0, 0, 0, time.UTC), Month, "2020-11"},   // 2 Jan 2021 is in week 53 of 2020, which belongs to December
		{time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), Half, "2026-H1"},    // week 27, the first of H2
		{time.Date(2026, 6, 29, 0, 0, 0, 0, time.UTC), Month, "2026-06"},   // Monday of week 27, whose Thursday is in July
		{time.Date(2026, 6, 28, 23, 59, 0, 0, time.UTC), Month, "2026-05"}, // Sunday of week 26: June is not over
		{time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), Week, "2026-W52"}, // 2026 has 53 weeks
	} {
		got := LastComplete(tt.k, tt.at)
		if got.String() != tt.want {
			t.Errorf("LastComplete(%s, %s) = %s, want %s", tt.k, tt.at, got, tt.want)
		}
		if got.End().After(tt.at) {
			t.Errorf("LastComplete(%s, %s) = %s has not ended (%s)", tt.k, tt.at, got, got.End())
		}
	}
}
