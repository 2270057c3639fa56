package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/palaute/palaute/period"
)

// TestAuditSmallTables checks the suppression pattern by brute force on small tables: units × the weeks
// of two "months" of two weeks in a "half-year". Every shown cell (a unit's or the all-units total's week,
// month, half-year) is a linear equation over the unit-weeks; no set of hidden unit-weeks may have its sum
// determined by them and be 1 to k-1 answers. (With true all-units totals of weeks and months, about
// 7 % of these tables leaked such a sum, mostly of different units' weeks.)
func TestAuditSmallTables(t *testing.T) {
	const k = 5
	r := rand.New(rand.NewPCG(1, 2))
	leaks := map[string]int{}
	trials := 2000
	if testing.Short() {
		trials = 500
	}
	var example string
	for trial := range trials {
		units := []string{"a", "b", "c"}
		if trial%2 == 1 {
			units = append(units, "d")
		}
		weeks := 4
		counts := make([][]int64, len(units))
		for i := range counts {
			counts[i] = make([]int64, weeks)
			for w := range counts[i] {
				switch x := r.IntN(10); {
				case x < 3:
				case x < 8:
					counts[i][w] = int64(1 + r.IntN(4))
				default:
					counts[i][w] = int64(5 + r.IntN(8))
				}
			}
		}
		root := auditTree(units, counts)
		m := &model{metrics: map[string][]metric{"youth": {{key: "n"}}}}
		root.suppress(m, units, k, 1000)
		if what := audit(root, units, counts, k); what != "" {
			kind := what[:strings.Index(what, ":")]
			leaks[kind]++
			if example == "" && (os.Getenv("AUDIT_KIND") == "" || os.Getenv("AUDIT_KIND") == kind) {
				example = fmt.Sprintf("counts %v: %s\n%s", counts, what, dumpPattern(root, units))
			}
		}
	}
	if len(leaks) > 0 {
		t.Errorf("leaks in %v of %d tables; first:\n%s", leaks, trials, example)
	}
}

// auditTree is a "half-year" of two "months" of two "weeks" each, filled with counts[unit][week].
func auditTree(units []string, counts [][]int64) *node {
	leaf := func(w int) *node {
		n := &node{g: newGrid(period.Period{Kind: period.Week, Year: 2026, N: w + 1})}
		for i, u := range units {
			addCounters(n.g.raw, u, "youth", map[string]int64{"n": counts[i][w]})
		}
		return n
	}
	month := func(a, b int) *node {
		return &node{g: newGrid(period.Period{Kind: period.Month, Year: 2026, N: a/2 + 1}), kids: []*node{leaf(a), leaf(b)}}
	}
	root := &node{g: newGrid(period.Period{Kind: period.Half, Year: 2026, N: 1}), kids: []*node{month(0, 1), month(2, 3)}}
	root.sum(units)
	return root
}

func dumpPattern(n *node, units []string) string {
	var b strings.Builder
	var walk func(n *node, depth int)
	walk = func(n *node, depth int) {
		fmt.Fprintf(&b, "%s%s:", strings.Repeat("  ", depth), n.g.p)
		for _, u := range append(append([]string{}, units...), total) {
			s := n.g.fig[cellKey{u, "youth", "n"}]
			name := u
			if u == total {
				name = "all"
			}
			fmt.Fprintf(&b, " %s=%d%s", name, n.g.raw[u]["youth"]["n"], map[Hidden]string{"": "", TooFew: "(h)", Protected: "(p)", ProtectedPeriod: "(t)"}[s.hidden])
		}
		b.WriteString("\n")
		for _, k := range n.kids {
			walk(k, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

// audit returns "" or what leaks: a set of hidden unit-weeks whose sum the shown cells determine.
func audit(root *node, units []string, counts [][]int64, k int) string {
	nw := len(counts[0])
	na := len(units) * nw
	atom := func(u, w int) int { return u*nw + w }
	var rows [][]float64
	hiddenAtom := make([]bool, na)
	var walk func(n *node, from, to int)
	walk = func(n *node, from, to int) {
		for ui, u := range append(append([]string{}, units...), total) {
			s := n.g.fig[cellKey{u, "youth", "n"}]
			leafCell := len(n.kids) == 0 && u != total
			if s.hidden != "" {
				if leafCell {
					hiddenAtom[atom(ui, from)] = true
				}
				continue
			}
			row := make([]float64, na)
			for w := from; w < to; w++ {
				if u != total {
					row[atom(ui, w)] = 1
					continue
				}
				for x, xu := range units { // a week's or month's total adds up the shown units only
					if !n.g.shownOnly || n.g.fig[cellKey{xu, "youth", "n"}].hidden == "" {
						row[atom(x, w)] = 1
					}
				}
			}
			rows = append(rows, row)
		}
		w := from
		for _, kid := range n.kids {
			size := len(kid.leaves())
			walk(kid, w, w+size)
			w += size
		}
	}
	walk(root, 0, nw)
	basis := rref(rows)
	var hidden []int
	for i, h := range hiddenAtom {
		if h {
			hidden = append(hidden, i)
		}
	}
	for set := 1; set < 1<<len(hidden); set++ {
		v := make([]float64, na)
		var sum int64
		for j, a := range hidden {
			if set&(1<<j) != 0 {
				v[a] = 1
				sum += counts[a/nw][a%nw]
			}
		}
		if sum < 1 || sum >= int64(k) || !inSpan(basis, v) {
			continue
		}
		var names []string
		for j, a := range hidden {
			if set&(1<<j) != 0 {
				names = append(names, fmt.Sprintf("%s/w%d", units[a/nw], a%nw+1))
			}
		}
		kind := "cross"
		if one := strings.Split(names[0], "/")[0]; !strings.Contains(strings.Join(names, " "), "/") || allUnit(names, one) {
			kind = "unit-time"
		}
		return fmt.Sprintf("%s: %v hold %d, determined", kind, names, sum)
	}
	return ""
}

func allUnit(names []string, u string) bool {
	for _, n := range names {
		if !strings.HasPrefix(n, u+"/") {
			return false
		}
	}
	return true
}

// rref returns a row-reduced basis of rows.
func rref(rows [][]float64) [][]float64 {
	var basis [][]float64
	for _, r := range rows {
		v := append([]float64(nil), r...)
		reduce(basis, v)
		if p := pivot(v); p >= 0 {
			f := v[p]
			for i := range v {
				v[i] /= f
			}
			for _, b := range basis {
				if x := b[p]; x != 0 {
					for i := range b {
						b[i] -= x * v[i]
					}
				}
			}
			basis = append(basis, v)
		}
	}
	return basis
}

func pivot(v []float64) int {
	for i, x := range v {
		if math.Abs(x) > 1e-9 {
			return i
		}
	}
	return -1
}

// reduce subtracts the basis (each row's pivot 1, zero in the others' pivots) from v.
func reduce(basis [][]float64, v []float64) {
	for _, b := range basis {
		p := pivot(b)
		if x := v[p]; math.Abs(x) > 1e-9 {
			for i := range v {
				v[i] -= x * b[i]
			}
		}
	}
}

func inSpan(basis [][]float64, v []float64) bool {
	w := append([]float64(nil), v...)
	reduce(basis, w)
	return pivot(w) < 0
}
