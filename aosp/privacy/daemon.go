package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"permd/framework/client"
	"permd/framework/protocol"
)

// Daemon is a Source that forwards calls to a running permd over its
// socket, as the process running it (so with that process's role).
type Daemon struct {
	Socket string

	mu   sync.Mutex
	conn *client.Client
}

// client returns the shared connection, dialling again after the daemon
// closed the previous one (a restart must not need a new `permctl ui`).
func (d *Daemon) client(ctx context.Context) (*client.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		select {
		case <-d.conn.Done():
			d.conn = nil
		default:
			return d.conn, nil
		}
	}
	c, err := client.Dial(ctx, d.Socket)
	if err != nil {
		return nil, fmt.Errorf("connect to permd at %s: %w", d.Socket, err)
	}
	d.conn = c
	return c, nil
}

// Call forwards one call.
func (d *Daemon) Call(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	c, err := d.client(ctx)
	if err != nil {
		return nil, err
	}
	var p any
	if len(params) > 0 {
		p = params
	}
	var res json.RawMessage
	if err := c.Call(ctx, method, p, &res); err != nil {
		return nil, err
	}
	return res, nil
}

// SubscribeIndicator opens its own connection (a subscription lasts as
// long as its connection) and streams indicator snapshots.
func (d *Daemon) SubscribeIndicator(ctx context.Context, send func(json.RawMessage) error) error {
	c, err := client.Dial(ctx, d.Socket)
	if err != nil {
		return fmt.Errorf("connect to permd at %s: %w", d.Socket, err)
	}
	defer c.Close()
	err = c.Follow(ctx, protocol.MethodIndicatorSubscribe, protocol.NoteIndicatorChanged, send)
	if errors.Is(err, client.ErrClosed) {
		return errors.New("permd closed the subscription")
	}
	return err
}

// Close closes the shared connection.
func (d *Daemon) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		return d.conn.Close()
	}
	return nil
}
