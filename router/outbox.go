package router

import (
	"context"
	"errors"

	"github.com/palaute/palaute/store"
)

// StoreOutbox is the Outbox of palaute serve: the durable Slack outbox in Redis, which the Slack sender
// posts from. A post whose key was enqueued before is not enqueued again, and that is no error.
type StoreOutbox struct{ Outbox *store.Outbox }

var _ Outbox = StoreOutbox{}

// Post enqueues p once per key.
func (o StoreOutbox) Post(ctx context.Context, p Post) error {
	err := o.Outbox.Enqueue(ctx, store.Msg{Key: p.Key, Channel: p.Channel, Text: p.Text, NotBefore: p.NotBefore})
	if errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	return err
}
