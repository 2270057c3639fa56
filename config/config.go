// Package config reads palaute's configuration: a YAML file with ${VAR} expansion, typed, with defaults
// and validation that names the file and line (or key path) of what is wrong. Secrets come from env only.
package config

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/palaute/palaute/flows"
)

// ErrInvalid is wrapped by every configuration error.
var ErrInvalid = errors.New("invalid configuration")

// Duration is a time.Duration written as "72h", "30s".
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 72h or 30s", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Config is the whole configuration.
type Config struct {
	Redis     Redis     `yaml:"redis"`
	Telegram  Telegram  `yaml:"telegram"`
	Slack     Slack     `yaml:"slack"`
	HTTP      HTTP      `yaml:"http"`
	Units     []Unit    `yaml:"units"`
	Anonymity Anonymity `yaml:"anonymity"`
	Privacy   Privacy   `yaml:"privacy"`
	Survey    Survey    `yaml:"survey"`
	Summaries Summaries `yaml:"summaries"`
	Help      Help      `yaml:"help"`
	Routing   Routing   `yaml:"routing"`
	Coding    Coding    `yaml:"coding"`
	Log       Log       `yaml:"log"`
	Shutdown  Duration  `yaml:"shutdown_timeout"`
	FlowsDir  string    `yaml:"flows_dir"` // empty: the embedded flows
}

type Redis struct {
	// URL: empty = embedded in-memory Redis (nothing kept); redis://host:port/db;
	// redis+sentinel://[:pass@]host1:port,host2:port/master; or several addresses a,b,c for a Cluster.
	URL    string `yaml:"url"`
	Prefix string `yaml:"prefix"`
	// SessionCache: how many people's sessions each process remembers, so that the next message of a
	// conversation needs one round trip, not two (0: none). Most under 1 KiB, none over 2 KiB.
	SessionCache int `yaml:"session_cache"`
}

type Telegram struct {
	Token      string `yaml:"-"` // env TELEGRAM_TOKEN only
	APIURL     string `yaml:"api_url"`
	Mode       string `yaml:"mode"`     // polling | webhook
	BotName    string `yaml:"bot_name"` // the bot's username without @, e.g. palaute_bot
	WebhookURL string `yaml:"webhook_url"`
	// WebhookPath is the path palaute serves the webhook on. It is usually webhook_url's path, but need
	// not be: a reverse proxy may rewrite it (https://host/palaute/hook proxied to
	// http://127.0.0.1:8080/telegram), so a difference is not an error.
	WebhookPath  string `yaml:"webhook_path"`
	SecretToken  string `yaml:"-"` // env TELEGRAM_WEBHOOK_SECRET only
	PerChatRate  int    `yaml:"per_chat_per_second"`
	GlobalRate   int    `yaml:"global_per_second"`
	MaxBodyBytes int64  `yaml:"max_body_bytes"`
}

type Slack struct {
	BotToken      string `yaml:"-"` // env SLACK_BOT_TOKEN only
	SigningSecret string `yaml:"-"` // env SLACK_SIGNING_SECRET only
	APIURL        string `yaml:"api_url"`
	AllChannel    string `yaml:"all_channel"` // management channel for the organisation-wide summary
	// SafeguardingChannel, when set, takes the crisis alerts that may be about violence or abuse at home
	// (and their contact requests) instead of the unit's channel, e.g. the placing social workers'.
	SafeguardingChannel string `yaml:"safeguarding_channel"`
	// Timeout bounds each Slack API request: a Slack that takes the request and never answers would
	// otherwise hold the outbox sender, and every alert behind it, for good.
	Timeout Duration `yaml:"timeout"`
}

type HTTP struct {
	Listen string `yaml:"listen"`
}

// StartLink is the deep link that opens the bot with /start payload: https://t.me/<bot_name>?start=<payload>.
func (t Telegram) StartLink(payload string) string {
	return "https://t.me/" + t.BotName + "?start=" + payload
}

// Unit is a place that gets feedback: a residential unit, a foster home group, a team.
type Unit struct {
	ID           string             `yaml:"id"`
	Code         string             `yaml:"code"` // public code in the youth deep link u-<code>; defaults to ID
	Names        flows.Texts        `yaml:"names"`
	SlackChannel string             `yaml:"slack_channel"`
	Targets      map[string]float64 `yaml:"targets"` // responses, nps or a scale question's id: nps: 30, help: 4.0 (mean), responses: 10
}

// Name returns the unit's name in lang.
func (u Unit) Name(lang string) string {
	if n := u.Names.In(lang); n != "" {
		return n
	}
	return u.ID
}

type Anonymity struct {
	MinResponses int `yaml:"min_responses"`
	MinComments  int `yaml:"min_comments"`
}

type Privacy struct {
	PseudonymSecret string   `yaml:"-"` // env PALAUTE_PSEUDONYM_SECRET
	RetentionDays   int      `yaml:"retention_days"`
	Names           []string `yaml:"names"` // names scrubbed from free text shown to staff
}

type Survey struct {
	SessionTTL Duration `yaml:"session_ttl"`
	CountOnce  string   `yaml:"count_once_per"` // week | month | half
}

type Summaries struct {
	Weekly   bool   `yaml:"weekly"`
	Monthly  bool   `yaml:"monthly"`
	HalfYear bool   `yaml:"half_year"`
	Lang     string `yaml:"lang"`
	Timezone string `yaml:"timezone"`
}

// Help is the list of help contacts shown first when a message suggests danger.
type Help struct {
	Contacts []Contact `yaml:"contacts"`
}

type Contact struct {
	Name  flows.Texts `yaml:"name"`
	Phone string      `yaml:"phone"`
	URL   string      `yaml:"url"`
	Note  flows.Texts `yaml:"note"`
}

// Routing says when spontaneous feedback texts go to the units' Slack channels (crisis alerts, which
// carry no text, go at once). A unit's corrective and other feedback is posted at most once a day, at
// BatchHour (summaries.timezone), and only when MinBatch messages wait; fewer are carried over. What
// waits is posted, whatever its number, at the first BatchHour at least MaxWait after the start of the
// ISO week it was written in, so the post tells no more than its week. The weekly thanks of a unit are
// posted when MinBatch wait too, else carried to the next week's digest for as many whole weeks as
// MaxWait holds (none under 7 days).
type Routing struct {
	BatchHour int      `yaml:"batch_hour"` // 0-23, local time of the daily post
	MinBatch  int      `yaml:"min_batch"`  // messages that must wait for a post; at least 1
	MaxWait   Duration `yaml:"max_wait"`   // at least 24h
}

// DefaultRouting is routing's default: 16:00, 3 messages, 7 days.
func DefaultRouting() Routing {
	return Routing{BatchHour: 16, MinBatch: 3, MaxWait: Duration(7 * 24 * time.Hour)}
}

// Coding configures the coding of spontaneous feedback and crisis detection.
type Coding struct {
	// RulesDir holds edited copies of polarity.yaml, topics.yaml and crisis.yaml, each replacing the
	// embedded default of the same name; "" uses the defaults. coding.Load checks it (file:line errors).
	RulesDir string `yaml:"rules_dir"`
}

type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // json | text
}

// Default returns a configuration that runs with no external service.
func Default() Config {
	return Config{
		Redis:     Redis{Prefix: "pl:", SessionCache: 4096},
		Telegram:  Telegram{Mode: "polling", APIURL: "https://api.telegram.org", BotName: "palaute_bot", WebhookPath: "/telegram", PerChatRate: 1, GlobalRate: 30, MaxBodyBytes: 1 << 20},
		Slack:     Slack{Timeout: Duration(30 * time.Second)},
		HTTP:      HTTP{Listen: "127.0.0.1:8080"},
		Anonymity: Anonymity{MinResponses: 5, MinComments: 10},
		Privacy:   Privacy{RetentionDays: 400},
		Survey:    Survey{SessionTTL: Duration(72 * time.Hour), CountOnce: "month"},
		Summaries: Summaries{Weekly: true, Monthly: true, HalfYear: true, Lang: "fi", Timezone: "Europe/Helsinki"},
		Help:      Help{Contacts: DefaultContacts()},
		Routing:   DefaultRouting(),
		Log:       Log{Level: "info", Format: "json"},
		Shutdown:  Duration(15 * time.Second),
	}
}

// DefaultContacts are the Finnish help contacts of DESIGN.md (check before release).
func DefaultContacts() []Contact {
	return []Contact{
		{Name: flows.Texts{"fi": "Hätänumero", "sv": "Nödnummer", "en": "Emergency number"}, Phone: "112",
			Note: flows.Texts{"fi": "jos olet vaarassa nyt", "sv": "om du är i fara nu", "en": "if you are in danger now"}},
		{Name: flows.Texts{"fi": "MLL:n Lasten ja nuorten puhelin", "sv": "MLL:s Barn- och ungdomstelefon", "en": "MLL Child and Youth Helpline"}, Phone: "116 111", URL: "https://www.nuortennetti.fi"},
		{Name: flows.Texts{"fi": "Sekasin-chat (12-29-vuotiaille)", "sv": "Sekasin-chatten (12-29 år)", "en": "Sekasin chat (ages 12-29)"}, URL: "https://sekasin247.fi"},
		{Name: flows.Texts{"fi": "MIELI ry:n kriisipuhelin (24/7)", "sv": "MIELI rf:s kristelefon", "en": "MIELI crisis helpline"},
			Phone: "09 2525 0111", Note: flows.Texts{"fi": "suomeksi", "sv": "på svenska 09 2525 0112", "en": "in English 09 2525 0113"}},
	}
}

var varRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Load reads a file, expands ${VAR} from env, applies defaults, reads secrets from env and validates.
// An empty path gives the defaults.
func Load(path string, env func(string) string) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		if err := Parse(&c, path, data, env); err != nil {
			return c, err
		}
	}
	c.secrets(env)
	if err := c.Validate(); err != nil {
		if path == "" {
			path = "config"
		}
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes YAML onto c (known keys only) after ${VAR} expansion.
func Parse(c *Config, file string, data []byte, env func(string) string) error {
	var missing []string
	expanded := varRe.ReplaceAllStringFunc(string(data), func(m string) string {
		name := varRe.FindStringSubmatch(m)[1]
		v := env(name)
		if v == "" {
			missing = append(missing, name)
		}
		return v
	})
	_ = missing // an unset variable expands to "" like a shell; Validate says what is then missing
	dec := yaml.NewDecoder(strings.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w: %w", file, fileLine(err), ErrInvalid)
	}
	return nil
}

var lineRe = regexp.MustCompile(`line (\d+): `)

// fileLine turns yaml's "yaml: unmarshal errors:\n  line 3: ..." into "3: ...".
func fileLine(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = strings.TrimSpace(msg)
	msg = lineRe.ReplaceAllString(msg, "$1: ")
	if msg == "EOF" {
		return nil
	}
	return errors.New(msg)
}

func (c *Config) secrets(env func(string) string) {
	set := func(dst *string, key string) {
		if v := env(key); v != "" {
			*dst = v
		}
	}
	set(&c.Telegram.Token, "TELEGRAM_TOKEN")
	set(&c.Telegram.SecretToken, "TELEGRAM_WEBHOOK_SECRET")
	set(&c.Slack.BotToken, "SLACK_BOT_TOKEN")
	set(&c.Slack.SigningSecret, "SLACK_SIGNING_SECRET")
	set(&c.Privacy.PseudonymSecret, "PALAUTE_PSEUDONYM_SECRET")
	set(&c.Redis.URL, "REDIS_URL")
	set(&c.HTTP.Listen, "PALAUTE_HTTP_LISTEN")
}

var unitIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Validate checks the configuration and names the key path of each problem.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %w", key, fmt.Sprintf(format, args...), ErrInvalid))
	}
	if c.Redis.Prefix == "" || strings.ContainsAny(c.Redis.Prefix, "{} ") {
		bad("redis.prefix", "must be non-empty without braces or spaces, like pl:")
	}
	if c.Redis.SessionCache < 0 {
		bad("redis.session_cache", "must be 0 (no cache) or more")
	}
	if !slices.Contains([]string{"polling", "webhook"}, c.Telegram.Mode) {
		bad("telegram.mode", "must be polling or webhook, not %q", c.Telegram.Mode)
	}
	if _, err := url.ParseRequestURI(c.Telegram.APIURL); err != nil {
		bad("telegram.api_url", "not a URL: %q", c.Telegram.APIURL)
	}
	if c.Telegram.Mode == "webhook" && c.Telegram.Token != "" {
		if c.Telegram.SecretToken == "" {
			bad("telegram", "webhook mode needs TELEGRAM_WEBHOOK_SECRET in the environment")
		}
		if !strings.HasPrefix(c.Telegram.WebhookURL, "https://") {
			bad("telegram.webhook_url", "webhook mode needs a public https:// URL")
		}
	}
	if c.Telegram.Mode == "webhook" {
		if msg := webhookPathProblem(c.Telegram.WebhookPath); msg != "" {
			bad("telegram.webhook_path", "%s", msg)
		}
	}
	if n := c.Telegram.BotName; strings.HasPrefix(n, "@") {
		bad("telegram.bot_name", "%q: write it without the @, like %s", n, n[1:])
	} else if !botNameRe.MatchString(n) || !strings.HasSuffix(strings.ToLower(n), "bot") {
		bad("telegram.bot_name", "%q must be the bot's Telegram username: 5-32 of A-Z a-z 0-9 _, ending in \"bot\"", n)
	}
	if c.Telegram.PerChatRate < 1 || c.Telegram.GlobalRate < 1 {
		bad("telegram", "per_chat_per_second and global_per_second must be at least 1")
	}
	if c.Slack.APIURL != "" {
		if _, err := url.ParseRequestURI(c.Slack.APIURL); err != nil {
			bad("slack.api_url", "not a URL: %q", c.Slack.APIURL)
		}
	}
	if c.Slack.Timeout.D() <= 0 {
		bad("slack.timeout", "must be above 0, like 30s")
	}
	if c.Anonymity.MinResponses < 3 {
		bad("anonymity.min_responses", "must be at least 3, not %d", c.Anonymity.MinResponses)
	}
	if c.Anonymity.MinComments < c.Anonymity.MinResponses {
		bad("anonymity.min_comments", "must be at least min_responses (%d)", c.Anonymity.MinResponses)
	}
	if c.Privacy.RetentionDays < 7 {
		bad("privacy.retention_days", "must be at least 7")
	}
	if c.Survey.SessionTTL.D() < time.Minute {
		bad("survey.session_ttl", "must be at least 1m")
	}
	if !slices.Contains([]string{"week", "month", "half"}, c.Survey.CountOnce) {
		bad("survey.count_once_per", "must be week, month or half, not %q", c.Survey.CountOnce)
	}
	if !slices.Contains(flows.Languages, c.Summaries.Lang) {
		bad("summaries.lang", "must be one of fi, sv, en")
	}
	if _, err := time.LoadLocation(c.Summaries.Timezone); err != nil {
		bad("summaries.timezone", "unknown time zone %q", c.Summaries.Timezone)
	}
	if len(c.Help.Contacts) == 0 {
		bad("help.contacts", "at least one help contact is needed")
	}
	for i, h := range c.Help.Contacts {
		if h.Name.In(flows.DefaultLang) == "" || (h.Phone == "" && h.URL == "") {
			bad(fmt.Sprintf("help.contacts[%d]", i), "needs a name in fi and a phone or url")
		}
	}
	if h := c.Routing.BatchHour; h < 0 || h > 23 {
		bad("routing.batch_hour", "must be an hour 0-23, not %d", h)
	}
	if c.Routing.MinBatch < 1 {
		bad("routing.min_batch", "must be at least 1, not %d", c.Routing.MinBatch)
	}
	if w := c.Routing.MaxWait.D(); w < 24*time.Hour {
		bad("routing.max_wait", "must be at least 24h, not %s", w)
	} else if keep := time.Duration(c.Privacy.RetentionDays) * 24 * time.Hour; c.Privacy.RetentionDays >= 7 && w+8*24*time.Hour > keep {
		bad("routing.max_wait", "%s and 8 days more must fit in privacy.retention_days (%d): feedback would be deleted before it is posted",
			w, c.Privacy.RetentionDays)
	}
	seen := map[string]bool{}
	var known []string // the target names, read from the flows when a unit has targets
	flowsRead := false
	for i, u := range c.Units {
		key := fmt.Sprintf("units[%d]", i)
		if !unitIDRe.MatchString(u.ID) {
			bad(key+".id", "%q must be 1-32 of a-z 0-9 _ -", u.ID)
		}
		if seen[u.ID] {
			bad(key+".id", "duplicate unit id %q", u.ID)
		}
		seen[u.ID] = true
		code := u.PublicCode()
		if !codeRe.MatchString(code) {
			bad(key+".code", "%q must be 1-40 of A-Z a-z 0-9 _ -", code)
		}
		if seen["code:"+code] {
			bad(key+".code", "duplicate unit code %q", code)
		}
		seen["code:"+code] = true
		if u.Names.In(flows.DefaultLang) == "" {
			bad(key+".names", "needs a name in fi")
		}
		if len(u.Targets) > 0 && !flowsRead {
			known, flowsRead = c.targetNames(), true
		}
		var unknown []string
		for _, name := range slices.Sorted(maps.Keys(u.Targets)) {
			if len(known) > 0 && !slices.Contains(known, name) {
				unknown = append(unknown, strconv.Quote(name))
			}
		}
		if len(unknown) > 0 {
			bad(key+".targets", "unknown target%s %s (known: %s)", plural(len(unknown)), strings.Join(unknown, ", "), strings.Join(known, ", "))
		}
	}
	if !slices.Contains(logLevels, strings.ToLower(c.Log.Level)) {
		bad("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	if !slices.Contains([]string{"json", "text"}, c.Log.Format) {
		bad("log.format", "must be json or text")
	}
	if c.Shutdown.D() <= 0 {
		bad("shutdown_timeout", "must be positive")
	}
	return errors.Join(errs...)
}

var codeRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// botNameRe is the shape of a Telegram bot username (which also ends in "bot", in any case).
var botNameRe = regexp.MustCompile(`^[A-Za-z0-9_]{5,32}$`)

// logLevels are the levels log.level takes (in any case, as slog reads them).
var logLevels = []string{"debug", "info", "warn", "error"}

// webhookPathProblem says why http.ServeMux cannot serve Telegram's webhook on p as a plain path
// (palaute serve registers "POST "+p, and a pattern it cannot parse panics there), or "".
func webhookPathProblem(p string) (problem string) {
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Sprintf("%q must start with /, like /telegram", p)
	case strings.ContainsAny(p, "{}?#%") || strings.IndexFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return fmt.Sprintf("%q must be a plain path, without spaces, control characters, braces, ?, # or %%", p)
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	switch {
	case clean != p:
		return fmt.Sprintf("%q must be a clean path (like %q): requests to it would be redirected", p, clean)
	case p == "/slack/commands":
		return fmt.Sprintf("%q is where Slack's slash commands are served", p)
	}
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Sprintf("%q is not a path palaute can serve: %v", p, r)
		}
	}()
	http.NewServeMux().Handle("POST "+p, http.NotFoundHandler())
	return ""
}

// targetNames are the names a unit's targets may have, as report reads them: responses, nps when a
// flow asks an NPS question, and the id of each scale question, in flow order. Nil when the flows do
// not load: their loader (palaute serve, right after the configuration) says what is wrong.
func (c *Config) targetNames() []string {
	set, err := flows.FromDir(c.FlowsDir)
	if err != nil {
		return nil
	}
	names := []string{"responses"}
	var scales []string
	for _, f := range set.All() {
		for _, q := range f.Questions {
			switch {
			case q.Type == flows.NPS && !slices.Contains(names, "nps"):
				names = append(names, "nps")
			case q.Type == flows.Scale && !slices.Contains(scales, q.ID):
				scales = append(scales, q.ID)
			}
		}
	}
	return append(names, scales...)
}

// PublicCode is the code in the unit's youth deep link.
func (u Unit) PublicCode() string {
	if u.Code != "" {
		return u.Code
	}
	return u.ID
}

// Unit returns the unit with an id.
func (c *Config) Unit(id string) (Unit, bool) {
	for _, u := range c.Units {
		if u.ID == id {
			return u, true
		}
	}
	return Unit{}, false
}

// UnitByCode returns the unit with a public code.
func (c *Config) UnitByCode(code string) (Unit, bool) {
	for _, u := range c.Units {
		if u.PublicCode() == code {
			return u, true
		}
	}
	return Unit{}, false
}
