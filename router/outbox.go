package router

import (
	"context"
	"errors"

	"github.com/palaute/palaute/store"
)

// StoreOutbox is the Outbox of palaute serve: the durable Slack outbox in Redis, which the Slack sender
// posts from. Posts whose first key was enqueued before are not enqueued again, and that is no error.
type StoreOutbox struct{ Outbox *store.Outbox }

var _ Outbox = StoreOutbox{}

// Post enqueues ps together and in order, whole or not at all, once per the first one's key.
func (o StoreOutbox) Post(ctx context.Context, ps ...Post) error {
	if len(ps) == 0 {
		return nil
	}
	ms := make([]store.Msg, len(ps))
	for i, p := range ps {
		ms[i] = store.Msg{Key: p.Key, Channel: p.Channel, Text: p.Text, NotBefore: p.NotBefore}
	}
	err := o.Outbox.EnqueueBatch(ctx, ps[0].Key, ms...)
	if errors.Is(err, store.ErrDuplicate) {
		return nil
	}
	return err
}
