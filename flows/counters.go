package flows

// The counter values that stand for a skipped question and for a written answer (a text itself is
// never a counter's name).
const (
	SkipValue = "_skip"
	TextValue = "_text"
)

// CounterKey names the counter of answer value to q in flow flowID, a field of a unit's counters
// hash: "<flow>.<question>=<value>", e.g. "nuoret.help=4", "nuoret.why=_text". The engine bumps it,
// summaries read it: both build the name here.
func (q *Question) CounterKey(flowID, value string) string { return flowID + "." + q.ID + "=" + value }
