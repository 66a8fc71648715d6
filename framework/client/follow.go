package client

import (
	"context"
	"encoding/json"
)

// Follow subscribes with method (indicator.subscribe, say) and hands each
// state to each: first the subscribe call's result, then the params of
// every notification named note, in order, until ctx ends (nil) or the
// connection closes (ErrClosed, so a caller can reconnect). An error
// from each ends it and is returned.
func (c *Client) Follow(ctx context.Context, method, note string, each func(json.RawMessage) error) error {
	var first json.RawMessage
	if err := c.Call(ctx, method, nil, &first); err != nil {
		return err
	}
	if err := each(first); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case n, ok := <-c.Notifications():
			if !ok {
				return ErrClosed
			}
			if n.Method != note {
				continue
			}
			if err := each(n.Params); err != nil {
				return err
			}
		}
	}
}
