package report

import "github.com/palaute/palaute/report/pii"

var _ Scrubber = (*pii.Scrubber)(nil)

// defaultScrubber is the PII scrubber for the configured names.
func defaultScrubber(names []string) Scrubber { return pii.New(names) }
