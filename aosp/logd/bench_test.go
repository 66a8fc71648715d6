package logd

import (
	"context"
	"testing"
	"time"
)

// BenchmarkStreamDecode measures events/s through a real seqpacket
// socket: read, header, payload and AM event decoding.
func BenchmarkStreamDecode(b *testing.B) {
	f := startFakeLogd(b)
	pkt := entry(28, 1234, 1700000000, 1, LogEvents, 1000, procStartPayload(4321, 10113, "com.android.chrome", "activity", "com.android.chrome/com.google.android.apps.chrome.Main"))
	pkts := make([][]byte, b.N)
	for i := range pkts {
		pkts[i] = pkt
	}
	f.scripts <- script{hold: true, packets: pkts}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &Reader{Path: f.path, Log: quiet()}
	n := 0
	done := make(chan struct{})
	b.ResetTimer()
	start := time.Now()
	go r.Run(ctx, func(ev Event) {
		if _, err := Decode(ev); err != nil {
			b.Error(err)
		}
		n++
		if n == b.N {
			close(done)
		}
	})
	<-done
	el := time.Since(start)
	b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
}
