package report

// NPSOf exposes npsOf to the tests: the score and shares of counts of 0..10 answers.
func NPSOf(counts [11]int64) (NPS, bool) { return npsOf(counts) }
