package pii

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// baseFinders run in this order; an earlier finder wins an overlap. Names, when configured, run last.
var baseFinders = []finder{
	{kind: URL, need: hasAny(":."), find: findSchemeURLs},
	{kind: Email, need: mayHaveEmail, find: findEmails},
	{kind: IBAN, need: hasDigit, find: findIBANs},
	{kind: PersonalID, need: hasDigit, find: findPersonalIDs},
	{kind: Phone, need: hasDigit, find: findPhones},
	{kind: URL, need: hasDotLetter, find: findDomains},
	{kind: Handle, need: hasAny("@"), find: findHandles},
	{kind: Address, need: hasDigit, find: findAddresses},
}

func hasAny(chars string) func(string) bool {
	return func(text string) bool { return strings.ContainsAny(text, chars) }
}

func hasDigit(text string) bool { return strings.ContainsAny(text, "0123456789") }

// mayHaveEmail looks for "@" or an obfuscated "(at)", "[at]", "(a)", "(ät)".
func mayHaveEmail(text string) bool {
	return strings.Contains(text, "@") || strings.Contains(text, "t)") || strings.Contains(text, "T)") ||
		strings.Contains(text, "t]") || strings.Contains(text, "T]") || strings.Contains(text, "a)") ||
		strings.Contains(text, "A)")
}

// hasDotLetter looks for a dot followed by a letter, as in every domain name.
func hasDotLetter(text string) bool {
	for i := strings.IndexByte(text, '.'); i >= 0 && i+1 < len(text); {
		if c := text[i+1]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return true
		}
		j := strings.IndexByte(text[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// label is one DNS label; Unicode letters are allowed (IDN as people type them).
const label = `[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?`

var (
	reSchemeURL = regexp.MustCompile(`(?i)\b(?:(?:https?|ftp)://|www\d{0,3}\.)[^\s<>"]+`)

	// The leading (?:^|[^...]) lets the matcher give up at once inside a word instead of trying
	// every letter as a start (the address pattern was most of the run time without it).
	reEmail = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}._%+\-])((?:mailto:)?[\p{L}\p{N}._%+\-]+(?:@|\s?[(\[]\s?(?:at|a|ät)\s?[)\]]\s?)` +
		label + `(?:\.` + label + `)*\.\p{L}{2,24})`)

	reIBANStart = regexp.MustCompile(`[A-Za-z]{2}[0-9]{2}`)

	rePersonalID = regexp.MustCompile(`[0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}[0-9A-Za-z]`)

	// Phone candidates: group 1 international (+ or 00), group 2 domestic (0 and an area/operator code).
	rePhone = regexp.MustCompile(`(\(?(?:\+|00)[1-9][0-9]{0,3}\)?(?:` + phoneSep + `\(0\))?(?:` + phoneSep + `\(?[0-9]{1,5}\)?){1,7})` +
		`|(\(?0[0-9]{1,4}\)?(?:` + phoneSep + `[0-9]{1,5}){0,5})`)

	reDomain = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}.@\-_/:])((?:` + label + `\.)+(` + tldAlternation() + `))`)

	reHandle = regexp.MustCompile(`@[\p{L}\p{N}_](?:[\p{L}\p{N}_.]*[\p{L}\p{N}_])?`)

	// Finnish and Swedish street word + house number, anchored: it runs on a window that starts at the
	// street word. Group 1 is the address, group 2 the house number.
	reNordicAddress = regexp.MustCompile(`(?i)^(\p{L}[\p{L}\-]*\p{L}(?:(?:` + fiStreet + `)` + fiEnding + `|(?:` + svStreet + `))` +
		`\s+([1-9][0-9]{0,2}(?:\s?[-–]\s?[1-9][0-9]{0,2})?)` + flatPart + postcodePart + `)(?:[^\p{L}\p{N}]|$)`)

	// English: house number + capitalised words + street type. Group 1 is the address.
	reEnglishAddress = regexp.MustCompile(`((?:(?i:flat|apt\.?|apartment|unit)\s?[0-9]{1,4}[A-Za-z]?,?\s+)?` +
		`[1-9][0-9]{0,3}[A-Za-z]?\s+(?:\p{Lu}[\p{L}'’\-]*\s+){1,3}` +
		`(?i:street|st|road|rd|avenue|ave|lane|ln|way|drive|dr|close|court|ct|place|pl|terrace|crescent|cres|boulevard|blvd|gardens|grove|square|sq|row|hill|mews))` +
		`(?:[^\p{L}\p{N}]|$)`)
)

const (
	phoneSep = `(?:[ \x{00A0}]?[-‐–][ \x{00A0}]?|[ \x{00A0}])?`

	fiStreet = `katu|kadu|tie|kuja|polku|polu|v[äa]yl[äa]|rinne|rintee|kaari|kaare|kaar|tanhua|piha|ranta|ranna|aukio|` +
		`puistikko|puistiko|kierto|kierro|m[äa]ki|m[äa]ke|m[äa]e|raitti|raiti|tori|bulevardi|esplanadi`
	fiEnding = `(?:n|a|ä|ta|tä|tta|ttä|lla|llä|lle|lta|ltä|ssa|ssä|sta|stä|ksi|an|än|en|in|on|un|yn|hen|han|hin|ll?|lt|st|s)?`
	svStreet = `gatan|gata|vägen|väg|gränden|gränd|stigen|stig|allén|allé|allen|alle|torget|torg|backen|backe|kajen|kaj`

	flatPart = `(?:[a-g](?:\s?[0-9]{1,3})?|\s+[a-g](?:\s?[0-9]{1,3})?|\s+(?:as\.?|asunto|lgh\.?|lägenhet|bst|apt\.?)\s?[0-9]{1,4})?`

	postcodePart = `(?:,?\s+(?:[0-9]{5}|[0-9]{3}\s[0-9]{2})\s+\p{L}+)?`
)

// tlds are the top-level domains a bare domain may end in. ambiguousTLDs are also short words in
// Finnish, Swedish or English; they count only with a path or a sub-domain.
var (
	tlds = []string{
		"fi", "ax", "com", "net", "org", "info", "eu", "io", "ee", "ru", "uk", "dk", "fr", "nl", "pl", "ch",
		"lt", "lv", "au", "ca", "gov", "edu", "app", "dev", "xyz", "biz", "online", "site", "chat", "link",
		"page", "shop", "blog", "store", "ly", "co", "cc", "fm", "gl", "ws",
		"se", "no", "me", "to", "it", "is", "at", "be", "de", "in", "us", "nu", "tv", "ai", "gg", "la", "ma", "live",
	}
	ambiguousTLDs = map[string]bool{
		"se": true, "no": true, "me": true, "to": true, "it": true, "is": true, "at": true, "be": true, "de": true,
		"in": true, "us": true, "nu": true, "tv": true, "ai": true, "gg": true, "la": true, "ma": true, "live": true,
	}
)

func tldAlternation() string {
	s := slices.Clone(tlds)
	// Longest first: the alternation is leftmost-first, so "com" must be tried before "co".
	slices.SortStableFunc(s, func(a, b string) int { return len(b) - len(a) })
	return strings.Join(s, "|")
}

// scan runs re over seg, leftmost candidate first. check decides: it returns the accepted range, or
// ok=false and where to resume.
func scan(seg string, re *regexp.Regexp, check func(seg string, m []int) (start, end int, ok bool, resume int)) []span {
	var out []span
	for pos := 0; pos < len(seg); {
		m := re.FindStringSubmatchIndex(seg[pos:])
		if m == nil {
			break
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += pos
			}
		}
		start, end, ok, resume := check(seg, m)
		if ok && end > start {
			out = append(out, span{start: start, end: end})
			pos = end
			continue
		}
		pos = max(resume, nextRune(seg, m[0]))
	}
	return out
}

func nextRune(s string, i int) int {
	if i >= len(s) {
		return len(s) + 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return i + n
}

// before returns the rune before i, or -1 at the start of seg.
func before(s string, i int) rune {
	if i <= 0 {
		return -1
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

// at returns the rune at i, or -1 at the end of seg.
func at(s string, i int) rune {
	if i >= len(s) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

func isLetter(r rune) bool { return r >= 0 && (unicode.IsLetter(r) || unicode.Is(unicode.Mn, r)) }

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isWord(r rune) bool { return isLetter(r) || (r >= 0 && unicode.IsDigit(r)) }

// trimURL drops trailing punctuation that ends the sentence rather than the address.
func trimURL(u string) string {
	for len(u) > 0 {
		r, n := utf8.DecodeLastRuneInString(u)
		switch r {
		case '.', ',', ';', ':', '!', '?', '\'', '"', '»', '…', '”', '’':
		case ')':
			if strings.Count(u, "(") >= strings.Count(u, ")") {
				return u
			}
		case ']':
			if strings.Count(u, "[") >= strings.Count(u, "]") {
				return u
			}
		default:
			return u
		}
		u = u[:len(u)-n]
	}
	return u
}

func findSchemeURLs(seg string) []span {
	return scan(seg, reSchemeURL, func(seg string, m []int) (int, int, bool, int) {
		u := trimURL(seg[m[0]:m[1]])
		if strings.HasSuffix(strings.ToLower(u), "://") || strings.HasSuffix(u, ".") {
			return 0, 0, false, m[1]
		}
		return m[0], m[0] + len(u), true, 0
	})
}

func findEmails(seg string) []span {
	return scan(seg, reEmail, func(seg string, m []int) (int, int, bool, int) {
		start, end := m[2], m[3]
		for start < end && seg[start] == '.' {
			start++
		}
		if isWord(at(seg, end)) || isWord(before(seg, m[2])) {
			return 0, 0, false, end
		}
		return start, end, true, 0
	})
}

// ibanLengths is the length of an IBAN per country (SWIFT IBAN registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AX": 18, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
	"FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
	"IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21,
	"LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
	"NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24,
	"SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24,
	"XK": 20,
}

func findIBANs(seg string) []span {
	return scan(seg, reIBANStart, func(seg string, m []int) (int, int, bool, int) {
		start := m[0]
		if isWord(before(seg, start)) {
			return 0, 0, false, m[1]
		}
		want, ok := ibanLengths[strings.ToUpper(seg[start:start+2])]
		if !ok {
			return 0, 0, false, m[1]
		}
		buf := make([]byte, 0, 34)
		buf = append(buf, seg[start:start+4]...)
		i := start + 4
		for len(buf) < want && i < len(seg) {
			c := seg[i]
			if c == ' ' && i+1 < len(seg) && isASCIIAlnum(seg[i-1]) && isASCIIAlnum(seg[i+1]) {
				i++ // one space between groups
				continue
			}
			if !isASCIIAlnum(c) {
				break
			}
			buf = append(buf, c)
			i++
		}
		if len(buf) != want || isWord(at(seg, i)) || !validIBAN(buf) {
			return 0, 0, false, m[1]
		}
		return start, i, true, 0
	})
}

func isASCIIAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// validIBAN checks the mod-97 sum of an IBAN without spaces and that its account part is mostly digits.
func validIBAN(b []byte) bool {
	digits := 0
	for _, c := range b[4:] {
		if isDigit(rune(c)) {
			digits++
		}
	}
	if 2*digits < len(b)-4 {
		return false
	}
	mod := 0
	for i := range b {
		c := b[(i+4)%len(b)]
		switch {
		case c >= '0' && c <= '9':
			mod = (mod*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			mod = (mod*100 + int(c-'A') + 10) % 97
		case c >= 'a' && c <= 'z':
			mod = (mod*100 + int(c-'a') + 10) % 97
		}
	}
	return mod == 1
}

func findPersonalIDs(seg string) []span {
	return scan(seg, rePersonalID, func(seg string, m []int) (int, int, bool, int) {
		if isWord(before(seg, m[0])) || isWord(at(seg, m[1])) || !validPersonalID(seg[m[0]:m[1]]) {
			return 0, 0, false, 0
		}
		return m[0], m[1], true, 0
	})
}

const hetuCheck = "0123456789ABCDEFHJKLMNPRSTUVWXY"

// validPersonalID checks a Finnish henkilötunnus DDMMYYCNNNX: a real day and month and the mod-31
// check character.
func validPersonalID(s string) bool {
	if len(s) != 11 {
		return false
	}
	day := int(s[0]-'0')*10 + int(s[1]-'0')
	month := int(s[2]-'0')*10 + int(s[3]-'0')
	if day < 1 || day > 31 || month < 1 || month > 12 {
		return false
	}
	n := 0
	for _, c := range s[:6] + s[7:10] {
		n = n*10 + int(c-'0')
	}
	return hetuCheck[n%31] == byte(unicode.ToUpper(rune(s[10])))
}

// phoneMaxDigits is the longest plausible number (country code included) for common countries;
// others get the E.164 maximum of 15.
var phoneMaxDigits = map[string]int{
	"358": 13, "46": 12, "47": 10, "45": 10, "44": 12, "1": 11, "49": 14, "372": 11, "7": 11, "354": 10, "298": 9,
}

func findPhones(seg string) []span {
	return scan(seg, rePhone, func(seg string, m []int) (int, int, bool, int) {
		start, end := m[0], m[1]
		intl := m[2] >= 0
		prev := before(seg, start)
		if isDigit(prev) || prev == '+' {
			// Inside a longer number: no phone starts anywhere in this run of digits.
			skip := start
			for skip < len(seg) && (isDigit(rune(seg[skip])) || seg[skip] == '+' || seg[skip] == '(') {
				skip++
			}
			return 0, 0, false, skip
		}
		cand := seg[start:end]
		// Digit runs, with the Finnish trunk "(0)" after a country code left out of the count.
		type run struct{ a, b int }
		var runs []run
		digits := 0
		trunk := strings.Index(cand, "(0)")
		for i := 0; i < len(cand); {
			if !isDigit(rune(cand[i])) {
				i++
				continue
			}
			j := i
			for j < len(cand) && isDigit(rune(cand[j])) {
				j++
			}
			if !(intl && i == trunk+1 && j == trunk+2) {
				digits += j - i
			}
			runs = append(runs, run{i, j})
			i = j
		}
		minD, maxD := 7, 11
		if intl {
			all := strings.Map(func(r rune) rune {
				if isDigit(r) {
					return r
				}
				return -1
			}, cand)
			all = strings.TrimPrefix(all, "00")
			minD, maxD = 8, 15
			if strings.HasPrefix(cand, "00") || strings.HasPrefix(cand, "(00") {
				minD = 10
				digits -= 2
			}
			for _, cc := range []string{all[:min(3, len(all))], all[:min(2, len(all))], all[:1]} {
				if n, ok := phoneMaxDigits[cc]; ok {
					maxD = n
					break
				}
			}
		}
		for digits > maxD && len(runs) > 1 {
			last := runs[len(runs)-1]
			digits -= last.b - last.a
			runs = runs[:len(runs)-1]
		}
		// A short group after a complete number is a count: "040 123 4567 3 kertaa".
		complete := 9
		if intl {
			complete = 11
		}
		if k := len(runs) - 1; k > 0 && runs[k].b-runs[k].a <= 2 && cand[runs[k].a-1] == ' ' &&
			digits-(runs[k].b-runs[k].a) >= complete {
			digits -= runs[k].b - runs[k].a
			runs = runs[:k]
		}
		if digits > maxD || digits < minD {
			return 0, 0, false, 0
		}
		end = start + runs[len(runs)-1].b
		switch {
		case seg[start] == '(' && at(cand, runs[0].b) != ')':
			start++ // "(040 123 4567)": the bracket belongs to the sentence
		case strings.Count(seg[start:end], "(") > strings.Count(seg[start:end], ")") && at(seg, end) == ')':
			end++ // "+1 (555)"
		}
		// A decimal or a date continues: "0401234567.5", "01 02 2026,5".
		if r := at(seg, end); (r == '.' || r == ',' || r == '/') && isDigit(at(seg, end+1)) {
			return 0, 0, false, 0
		}
		return start, end, true, 0
	})
}

func findDomains(seg string) []span {
	return scan(seg, reDomain, func(seg string, m []int) (int, int, bool, int) {
		start, end := m[2], m[3]
		switch prev := before(seg, start); {
		case isWord(prev), strings.ContainsRune(".@-_/:", prev):
			// Nothing inside a run of domain characters can start a domain: skip it all.
			return 0, 0, false, end
		}
		if next := at(seg, end); isWord(next) || next == '-' || next == '_' || next == '@' {
			return 0, 0, false, end
		}
		tld := strings.ToLower(seg[m[4]:m[5]])
		host := seg[start:end]
		hasPath := false
		if r := at(seg, end); r == '/' || r == '?' || r == '#' || r == ':' && isDigit(at(seg, end+1)) {
			rest := seg[end:]
			if i := strings.IndexFunc(rest, unicode.IsSpace); i >= 0 {
				rest = rest[:i]
			}
			rest = trimURL(rest)
			if rest != "" && rest != "/" || r == '/' {
				hasPath = true
			}
			end += len(rest)
		}
		if ambiguousTLDs[tld] && !hasPath && strings.Count(host, ".") < 2 {
			return 0, 0, false, m[3]
		}
		return start, end, true, 0
	})
}

func findHandles(seg string) []span {
	return scan(seg, reHandle, func(seg string, m []int) (int, int, bool, int) {
		start, end := m[0], m[1]
		if prev := before(seg, start); isWord(prev) || prev == '_' || prev == '.' || prev == '@' {
			return 0, 0, false, end
		}
		h := seg[start+1 : end]
		if utf8.RuneCountInString(h) < 2 || !strings.ContainsFunc(h, func(r rune) bool { return isLetter(r) || r == '_' }) {
			return 0, 0, false, end
		}
		return start, end, true, 0
	})
}

func findAddresses(seg string) []span {
	out := findNordicAddresses(seg)
	if len(out) == 0 {
		return scan(seg, reEnglishAddress, checkEnglishAddress)
	}
	// Look for English addresses in the gaps, so that the two never overlap.
	var all []span
	prev := 0
	for i := 0; i <= len(out); i++ {
		end := len(seg)
		if i < len(out) {
			end = out[i].start
		}
		for _, sp := range scan(seg[prev:end], reEnglishAddress, checkEnglishAddress) {
			all = append(all, span{start: sp.start + prev, end: sp.end + prev})
		}
		if i < len(out) {
			all = append(all, out[i])
			prev = out[i].end
		}
	}
	return all
}

// addressWindow bounds the text after a house number that an address can take (staircase, flat,
// postcode and town).
const addressWindow = 64

// findNordicAddresses runs the street pattern only on small windows around "word <space> digit":
// running it over the whole text costs a scan of every word for every candidate.
func findNordicAddresses(seg string) []span {
	var out []span
	done := 0
	for i := 1; i < len(seg); i++ {
		if seg[i] < '1' || seg[i] > '9' || i < done {
			continue
		}
		r, n := utf8.DecodeLastRuneInString(seg[:i])
		if !unicode.IsSpace(r) {
			continue
		}
		ws := i - n // start of the street word: back over spaces, then letters and hyphens
		for ws > 0 {
			r, n := utf8.DecodeLastRuneInString(seg[:ws])
			if !unicode.IsSpace(r) {
				break
			}
			ws -= n
		}
		wordEnd := ws
		for ws > 0 && i-ws < addressWindow {
			r, n := utf8.DecodeLastRuneInString(seg[:ws])
			if !isLetter(r) && r != '-' {
				break
			}
			ws -= n
		}
		if ws == wordEnd || ws < done {
			continue
		}
		end := len(seg)
		if i+addressWindow < len(seg) {
			if k := strings.IndexFunc(seg[i+addressWindow:], unicode.IsSpace); k >= 0 {
				end = i + addressWindow + k
			}
		}
		m := reNordicAddress.FindStringSubmatchIndex(seg[ws:end])
		if m == nil {
			continue
		}
		for k := range m {
			if m[k] >= 0 {
				m[k] += ws
			}
		}
		if start, stop, ok, _ := checkNordicAddress(seg, m); ok {
			out = append(out, span{start: start, end: stop})
			done = stop
		}
	}
	return out
}

func checkNordicAddress(seg string, m []int) (int, int, bool, int) {
	start, end, numEnd := m[2], m[3], m[5]
	if isLetter(before(seg, start)) {
		return 0, 0, false, numEnd
	}
	// "torilla 12.30", "kotikadulla 7/10", "3,5 km": a time, score or decimal, not a house number.
	if r := at(seg, numEnd); (r == '.' || r == ',' || r == ':' || r == '/') && isDigit(at(seg, numEnd+1)) {
		return 0, 0, false, numEnd
	}
	if isQuantity(seg[numEnd:]) {
		return 0, 0, false, numEnd
	}
	return start, end, true, 0
}

func checkEnglishAddress(seg string, m []int) (int, int, bool, int) {
	start, end := m[2], m[3]
	if prev := before(seg, start); isWord(prev) || prev == '/' || prev == '.' || prev == ',' && isDigit(before(seg, start-1)) {
		return 0, 0, false, 0
	}
	return start, end, true, 0
}

// quantityWords follow a number that counts something rather than a house.
var quantityWords = map[string]bool{
	// fi
	"kertaa": true, "kerran": true, "kerta": true, "krt": true, "tuntia": true, "tunnin": true, "tunti": true, "h": true,
	"min": true, "minuuttia": true, "minuutin": true, "sek": true, "päivää": true, "päivän": true, "pv": true,
	"viikkoa": true, "viikon": true, "vk": true, "vko": true, "kuukautta": true, "kuukauden": true, "kk": true,
	"vuotta": true, "vuoden": true, "v": true, "vuotias": true, "vuotiaana": true, "euroa": true, "euron": true,
	"e": true, "eur": true, "km": true, "m": true, "kg": true, "kpl": true, "prosenttia": true, "astetta": true,
	"cm": true, "kertaan": true, "kaveria": true, "hlö": true, "henkeä": true, "lasta": true, "vuotiasta": true,
	// sv
	"gånger": true, "gång": true, "timmar": true, "timme": true, "minuter": true, "dagar": true, "dag": true,
	"veckor": true, "vecka": true, "månader": true, "månad": true, "år": true, "kronor": true, "kr": true, "st": true,
	"procent": true, "grader": true,
	// en
	"times": true, "time": true, "hours": true, "hour": true, "hrs": true, "mins": true, "minutes": true,
	"days": true, "day": true, "weeks": true, "week": true, "months": true, "month": true, "years": true,
	"year": true, "yrs": true, "pounds": true, "dollars": true, "miles": true, "percent": true, "pm": true, "am": true,
}

// notPartitive are common Finnish words that look like a partitive after a number but are not.
var notPartitive = map[string]bool{"mutta": true, "että": true, "jotta": true, "sitä": true, "tätä": true}

// isQuantity reports whether rest (the text after a number) starts with a unit or a counted noun:
// a listed word, %, €, or a lowercase Finnish partitive ("3 kaveria", "2 tuntia").
func isQuantity(rest string) bool {
	w := strings.TrimLeft(rest, " \t\u00a0")
	if strings.HasPrefix(w, "%") || strings.HasPrefix(w, "€") || strings.HasPrefix(w, "°") || strings.HasPrefix(w, "-vuot") {
		return true
	}
	if len(w) == len(rest) {
		// Right after the number: a staircase ("12a") or an ending ("5:ssä").
		return false
	}
	end := strings.IndexFunc(w, func(r rune) bool { return !isLetter(r) })
	if end < 0 {
		end = len(w)
	}
	word := w[:end]
	if word == "" {
		return false
	}
	lower := strings.ToLower(word)
	if quantityWords[lower] {
		return true
	}
	if word != lower || utf8.RuneCountInString(word) < 4 || notPartitive[lower] {
		return false
	}
	for _, suf := range []string{"ta", "tä", "aa", "ää", "ia", "iä", "oa", "öä", "ua", "yä", "ea", "eä"} {
		if strings.HasSuffix(lower, suf) {
			return true
		}
	}
	return false
}
