package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"permd/framework/client"
	"permd/framework/frameworktest"
)

// TestFollowGivesStatesInOrderAndSaysWhenClosed: Follow hands over the
// subscribe result, then each change in order, and ends with ErrClosed
// when the daemon goes away.
func TestFollowGivesStatesInOrderAndSaysWhenClosed(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watch := d.Dial(t)
	fw := d.Dial(t)

	var seqs []uint64
	cameraOn := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- watch.Follow(ctx, "indicator.subscribe", "indicator.changed", func(raw json.RawMessage) error {
			var s struct {
				Seq       uint64 `json:"seq"`
				Resources []struct {
					Resource string `json:"resource"`
					On       bool   `json:"on"`
				} `json:"resources"`
			}
			if err := json.Unmarshal(raw, &s); err != nil {
				return err
			}
			seqs = append(seqs, s.Seq)
			for _, r := range s.Resources {
				if r.Resource == "camera" && r.On {
					select {
					case cameraOn <- struct{}{}:
					default:
					}
				}
			}
			return nil
		})
	}()
	// op.start until the watcher has subscribed and seen the camera on.
	var use struct {
		Use uint64 `json:"use"`
	}
	if err := fw.Call(ctx, "op.start", map[string]any{"resource": "camera", "uid": 10123, "package": "com.example.maps"}, &use); err != nil {
		t.Fatal(err)
	}
	select {
	case <-cameraOn:
	case <-ctx.Done():
		t.Fatal("Follow never handed over a state with the camera on")
	}
	d.Stop(t)
	select {
	case err := <-done:
		if !errors.Is(err, client.ErrClosed) {
			t.Fatalf("Follow after the daemon stopped: %v, want ErrClosed", err)
		}
	case <-ctx.Done():
		t.Fatal("Follow did not end when the daemon stopped")
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("states out of order: seqs %v", seqs)
		}
	}
}
