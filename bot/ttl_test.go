package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/palaute/palaute/bot"
	"github.com/palaute/palaute/internal/redistest"
	"github.com/palaute/palaute/internal/testenv"
)

// After all kinds of conversations, every key in Redis carries a TTL except the streams and the counters.
func TestEveryKeyHasTTLExceptStreamsAndCounters(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	e := testenv.New(t, rdb, func(o *bot.Options) { o.Coder = fakeCoder{} })
	ctx := context.Background()
	for _, u := range []string{"a", "b", "c"} {
		c := e.Chat(t, "ttl-"+u, "fi")
		c.Send("/start u-kotipesa")
		for i := 0; i < 5; i++ {
			c.Press("🙂")
		}
		c.Press("3")
		c.Send("HÄTÄ")
		c.Press("Kyllä")
		c.Send("ruoka on pahaa")
		c.Send("/start i-notavalidtoken")
	}
	tok, _ := e.Invites.Create(ctx, "satama", "relative", 2, 0)
	e.Chat(t, "ttl-rel", "sv").Send("/start i-" + tok)
	e.Chat(t, "ttl-gone", "en").Send("/forget")

	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 10 {
		t.Fatalf("only %d keys: the load did not run", len(keys))
	}
	for _, k := range keys {
		typ := rdb.Type(ctx, k).Val()
		if typ == "stream" || (typ == "hash" && strings.Contains(k, ":agg:")) {
			continue
		}
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %s (%s) has no TTL", k, typ)
		}
	}
}
