package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/redis/go-redis/v9"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/flows"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
	"github.com/palaute/palaute/store"
)

var inviteLinkRe = regexp.MustCompile(`^https://t\.me/palaute_bot\?start=i-([A-Za-z0-9_-]{22})$`)

// decodeQRFile reads the QR code in a PNG file as a phone's scanner would.
func decodeQRFile(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("%s: no QR code could be read: %v", path, err)
	}
	return res.GetText()
}

// redisEnv is the environment of a command run against srv.
func redisEnv(srv *redistest.Server, more ...string) func(string) string {
	m := map[string]string{"REDIS_URL": "redis://" + srv.Addr, "PALAUTE_PSEUDONYM_SECRET": "0123456789abcdef0123"}
	for i := 0; i+1 < len(more); i += 2 {
		m[more[i]] = more[i+1]
	}
	return env(m)
}

func TestInviteCommandPrintsWorkingLinksAndQRImages(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	dir := filepath.Join(t.TempDir(), "qr")
	var out bytes.Buffer
	err := run(context.Background(), []string{"invite", "-config", "../../config.yaml", "-unit", "satama", "-audience", "relative",
		"-count", "3", "-uses", "2", "-expires", "48h", "-qr", dir}, redisEnv(srv), nil, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want one per invitation:\n%s", len(lines), out.String())
	}
	e := testenv.New(t, rdb) // the bot, on the same Redis, with the configuration's prefix
	seen := map[string]bool{}
	for i, line := range lines {
		link, file, ok := strings.Cut(line, "\t")
		m := inviteLinkRe.FindStringSubmatch(link)
		if !ok || m == nil {
			t.Fatalf("line %q is not a deep link and a file name", line)
		}
		if want := filepath.Join(dir, "satama-relative-0"+strconv.Itoa(i+1)+".png"); file != want {
			t.Errorf("QR file %q, want %q", file, want)
		}
		if got := decodeQRFile(t, file); got != link {
			t.Errorf("QR in %s reads %q, want the printed link %q", file, got, link)
		}
		if seen[link] {
			t.Fatalf("link %s printed twice", link)
		}
		seen[link] = true
		// Two people can answer through it (the relatives' survey of satama), a third cannot.
		for j, who := range []string{"a", "b"} {
			r := e.Chat(t, link+who, "en").Send("/start i-" + m[1])
			if !strings.Contains(testenv.Text(r), "What is your relation to the child") || !strings.Contains(testenv.Text(r), "Satama") {
				t.Fatalf("use %d of %s:\n%s", j+1, link, testenv.Dump(r))
			}
		}
		if r := e.Chat(t, link+"c", "en").Send("/start i-" + m[1]); !strings.Contains(testenv.Text(r), e.T("en", "invite_used")) {
			t.Fatalf("third use of a 2-use link:\n%s", testenv.Dump(r))
		}
	}
	// -expires 48h: good for 47 hours, expired after 48.
	links := mustInvite(t, srv, "-unit", "kotipesa", "-audience", "social_worker", "-expires", "2d")
	iv := store.NewInvitations(store.New(rdb, "pl:"), nil)
	tok := inviteLinkRe.FindStringSubmatch(links[0])[1]
	iv.Now = func() time.Time { return time.Now().Add(49 * time.Hour) }
	if _, err := iv.Redeem(context.Background(), tok, "late"); !errors.Is(err, bot.ErrInviteExpired) {
		t.Errorf("after 49 h: %v, want expired", err)
	}
	iv.Now = func() time.Time { return time.Now().Add(47 * time.Hour) }
	if inv, err := iv.Redeem(context.Background(), tok, "early"); err != nil || inv.Unit != "kotipesa" || inv.Audience != flows.SocialWorker || inv.Flow != "sosiaalityo" {
		t.Errorf("after 47 h: %+v %v", inv, err)
	}

	// A second run into the same directory numbers on: earlier images are never overwritten.
	before, _ := os.ReadFile(filepath.Join(dir, "satama-relative-01.png"))
	out.Reset()
	if err := run(context.Background(), []string{"invite", "-config", "../../config.yaml", "-unit", "satama", "-audience", "relative", "-qr", dir}, redisEnv(srv), nil, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(out.String()), "satama-relative-04.png") {
		t.Errorf("second run wrote %q", out.String())
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "satama-relative-01.png")); !bytes.Equal(before, after) {
		t.Error("a second run overwrote an earlier QR image")
	}
}

// mustInvite runs palaute invite with args against srv and returns the printed links.
func mustInvite(t *testing.T, srv *redistest.Server, args ...string) []string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"invite", "-config", "../../config.yaml"}, args...), redisEnv(srv), nil, &out); err != nil {
		t.Fatalf("invite %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(out.String()), "\n")
}

func TestInviteManyIsOneBatch(t *testing.T) {
	srv := redistest.Start(t)
	links := mustInvite(t, srv, "-unit", "kotipesa", "-audience", "relative", "-count", "500")
	if len(links) != 500 {
		t.Fatalf("%d links, want 500", len(links))
	}
	for _, l := range links {
		if !inviteLinkRe.MatchString(l) {
			t.Fatalf("bad link %q", l)
		}
	}
	if n := srv.Client(t).DBSize(context.Background()).Val(); n != 500 {
		t.Errorf("%d keys in Redis, want the 500 invitations", n)
	}
}

// With the embedded in-memory Redis the links would die with the command: palaute invite refuses, says why
// and what to set, and prints no link.
func TestInviteRefusesEmbeddedRedis(t *testing.T) {
	var out bytes.Buffer
	qr := filepath.Join(t.TempDir(), "qr")
	err := run(context.Background(), []string{"invite", "-config", "../../config.yaml", "-unit", "kotipesa", "-audience", "relative", "-qr", qr}, env(nil), nil, &out)
	if _, statErr := os.Stat(qr); statErr == nil {
		t.Error("the refused command made the -qr directory")
	}
	if !errors.Is(err, errEmbeddedRedis) {
		t.Fatalf("err = %v, want the embedded-Redis refusal", err)
	}
	for _, want := range []string{"redis.url", "REDIS_URL", "in-memory", "vanishes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not mention %q: %v", want, err)
		}
	}
	if strings.Contains(out.String(), "https://") {
		t.Errorf("links printed although they would not work:\n%s", out.String())
	}
}

func TestInviteBadFlags(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	qrFile := filepath.Join(t.TempDir(), "file")
	os.WriteFile(qrFile, []byte("x"), 0o600)
	tests := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"-audience", "relative"}, "-unit is required: one of kotipesa, satama"},
		{[]string{"-unit", "nosuch", "-audience", "relative"}, `no unit "nosuch" in the configuration (units: kotipesa, satama)`},
		{[]string{"-unit", "kotipesa"}, "-audience is required"},
		{[]string{"-unit", "kotipesa", "-audience", "parent"}, `-audience must be relative or social_worker, not "parent"`},
		{[]string{"-unit", "kotipesa", "-audience", "youth"}, "https://t.me/palaute_bot?start=u-kotipesa"},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "-count", "0"}, "-count must be 1-500, not 0"},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "-count", "501"}, "-count must be 1-500, not 501"},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "-count", "five"}, "invalid value"},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "-uses", "0"}, "-uses must be 1-10000, not 0"},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "-expires", "soon"}, `"soon" is not a duration like 720h or 30d`},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "-expires", "0h"}, "more than 0 and at most 366 days"},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "-expires", "-5h"}, "more than 0"},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "-expires", "400d"}, "at most 366 days"},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "-qr", qrFile}, "-qr"},
		{[]string{"-unit", "kotipesa", "-audience", "relative", "five"}, `unexpected argument "five"`},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"invite", "-config", "../../config.yaml"}, tt.args...), redisEnv(srv), nil, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want it to say %q", tt.args, err, tt.want)
		}
		if strings.Contains(out.String(), "start=i-") {
			t.Errorf("%v printed links", tt.args)
		}
	}
	if n := rdb.DBSize(context.Background()).Val(); n != 0 {
		t.Fatalf("refused commands made %d invitations", n)
	}
	// Unreachable Redis: a clear error, not a hang or a panic.
	err := run(context.Background(), []string{"invite", "-config", "../../config.yaml", "-unit", "kotipesa", "-audience", "relative"},
		env(map[string]string{"REDIS_URL": "redis://127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))}), nil, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "cannot reach Redis") {
		t.Errorf("unreachable Redis: %v", err)
	}
}

func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "720h", want: 720 * time.Hour},
		{in: "30d", want: 720 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "366d", want: 366 * 24 * time.Hour},
		{in: "8784h", want: 8784 * time.Hour},
		{in: "367d", bad: true},
		{in: "8785h", bad: true},
		{in: "1.5d", bad: true},
		{in: "d", bad: true},
		{in: "0d", bad: true},
		{in: "", bad: true},
		{in: "99999999999999999d", bad: true},
	}
	for _, tt := range tests {
		got, err := parseLifetime(tt.in)
		if tt.bad != (err != nil) || (!tt.bad && got != tt.want) {
			t.Errorf("parseLifetime(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// slackSign makes the headers of a request Slack signed at ts.
func slackSign(req *http.Request, secret, body string, ts time.Time) {
	s := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + s + ":" + body))
	req.Header.Set("X-Slack-Request-Timestamp", s)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
}

// postSlash posts `/palaute text` to the server at addr as Slack does: from the channel named channel
// (its id channelID), with responseURL for the answers that come later, signed with secret now.
func postSlash(addr, secret, channel, channelID, text, responseURL string) (*http.Response, error) {
	form := url.Values{"command": {"/palaute"}, "text": {text}, "channel_id": {channelID}, "channel_name": {channel},
		"team_id": {"T1"}, "user_id": {"U1"}, "response_url": {responseURL}, "trigger_id": {"1"}}
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/slack/commands", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	slackSign(req, secret, body, time.Now())
	return http.DefaultClient.Do(req)
}

// /palaute invite relative 5 in a unit's channel, through the real server: a signed request gets an
// ephemeral answer with 5 working single-use links for that channel's unit.
func TestSlackInviteCommand(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	const secret = "slack-signing-secret"
	_, addr, _ := mustServe(t, redisEnv(srv, "PALAUTE_HTTP_LISTEN", "127.0.0.1:0", "SLACK_SIGNING_SECRET", secret))

	slash := func(channel, text string) (int, map[string]string) {
		t.Helper()
		resp, err := postSlash(addr, secret, channel, "C"+channel, text, "https://hooks.slack.invalid/x")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ans map[string]string
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &ans)
		return resp.StatusCode, ans
	}

	code, ans := slash("palaute-kotipesa", "invite relative 5")
	if code != 200 || ans["response_type"] != "ephemeral" {
		t.Fatalf("answer %d %v: want an ephemeral answer", code, ans)
	}
	var links []string
	for _, l := range strings.Split(ans["text"], "\n") {
		if inviteLinkRe.MatchString(l) {
			links = append(links, l)
		}
	}
	if len(links) != 5 || !strings.Contains(ans["text"], "5 kutsulinkkiä") {
		t.Fatalf("want 5 links in the answer:\n%s", ans["text"])
	}
	e := testenv.New(t, rdb)
	for i, l := range links {
		tok := inviteLinkRe.FindStringSubmatch(l)[1]
		r := e.Chat(t, "rel"+strconv.Itoa(i), "fi").Send("/start i-" + tok)
		if !strings.Contains(testenv.Text(r), "Mikä on suhteesi") || !strings.Contains(testenv.Text(r), "Kotipesä") {
			t.Fatalf("link %d does not open the relatives' survey of kotipesa:\n%s", i, testenv.Dump(r))
		}
		if r := e.Chat(t, "again"+strconv.Itoa(i), "fi").Send("/start i-" + tok); !strings.Contains(testenv.Text(r), e.T("fi", "invite_used")) {
			t.Fatalf("link %d is not single-use:\n%s", i, testenv.Dump(r))
		}
	}
	if _, ans := slash("palaute-satama", "kutsu sosiaalityöntekijä 2"); strings.Count(ans["text"], "start=i-") != 2 {
		t.Fatalf("Finnish words in satama's channel:\n%s", ans["text"])
	}

	// Wrong channel, bad count, no audience: an explanation or the help, and no invitation made.
	keys := invitations(t, rdb)
	for _, tt := range []struct{ channel, text, want string }{
		{"random", "invite relative 5", "vain yksikön palautekanavalla"},
		{"palaute-kotipesa", "invite relative 99", "Anna määrä 1–50"},
		{"palaute-kotipesa", "invite relative -1", "Anna määrä 1–50"},
		{"palaute-kotipesa", "invite relative viisi", "Anna määrä 1–50"},
		{"palaute-kotipesa", "invite", "/palaute invite relative|social_worker"},
		{"palaute-kotipesa", "invite youth 2", "/palaute invite relative|social_worker"},
	} {
		code, ans := slash(tt.channel, tt.text)
		if code != 200 || !strings.Contains(ans["text"], tt.want) || strings.Contains(ans["text"], "start=i-") {
			t.Errorf("%s in #%s: %d %q, want it to say %q", tt.text, tt.channel, code, ans["text"], tt.want)
		}
	}
	if n := invitations(t, rdb); n != keys {
		t.Errorf("refused commands made invitations: %d, were %d", n, keys)
	}
	// An unsigned request is refused before anything is made.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/slack/commands", strings.NewReader("text=invite+relative+5&channel_name=palaute-kotipesa"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Errorf("unsigned request: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("unsigned request answered %d, want %d", resp.StatusCode, http.StatusUnauthorized)
		}
	}
	if n := invitations(t, rdb); n != keys {
		t.Errorf("an unsigned request made invitations")
	}
	// Signed commands count as messages in from Slack; the unsigned one does not.
	if n, err := scrapeMetric(addr, "palaute_messages_in_total", `channel="slack"`, `kind="command"`); err != nil || n != 8 {
		t.Errorf("palaute_messages_in_total{channel=\"slack\",kind=\"command\"} = %v (%v), want 8", n, err)
	}
}

// invitations counts the invitation keys in Redis.
func invitations(t *testing.T, rdb redis.UniversalClient) int {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), "pl:{i:*}").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}
