package telegram

import (
	"math"
	"testing"
	"time"
)

// The global lanes' shares add up to the limit, and however their places fall, no one second holds more
// than the limit, with 30 ms to spare for a place used late.
func TestGlobalLanesKeepEverySecondWithinTheLimit(t *testing.T) {
	for perSecond := 1; perSecond <= 100; perSecond++ {
		rates, most := 0, 0
		for lane := range lanes(perSecond) {
			l := GlobalLimit(perSecond, lane)
			if l.Burst != 1 || l.Rate < 1 {
				t.Fatalf("%d/s, lane %d: %+v, want a rate and no burst", perSecond, lane, l)
			}
			rates += l.Rate
			// Places at least e apart (redis_rate's emission interval, in float seconds): a window of one
			// second, stretched by the time its first place may be late, holds those k*e into it, k < window/e.
			e := l.Period.Seconds() / float64(l.Rate)
			window := (time.Second + 30*time.Millisecond).Seconds()
			most += int(math.Ceil(window/e - 1e-9))
		}
		if rates != perSecond {
			t.Errorf("%d/s: the lanes' rates add up to %d", perSecond, rates)
		}
		if most > perSecond {
			t.Errorf("%d/s: one second can hold %d places", perSecond, most)
		}
	}
	if lanes(30) != Lanes || lanes(1) != 1 {
		t.Errorf("lanes(30) = %d, lanes(1) = %d; want %d and 1", lanes(30), lanes(1), Lanes)
	}
}
