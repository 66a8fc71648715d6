package logd

import (
	"context"
	"testing"
	"time"
)

// streamBatch is how many entries one benchmark iteration streams, so
// that `-benchtime 1x` (make bench) still measures a real rate.
const streamBatch = 50000

// BenchmarkStreamDecode measures events/s through a real seqpacket
// socket: read, header, payload and AM event decoding.
func BenchmarkStreamDecode(b *testing.B) {
	f := startFakeLogd(b)
	pkt := entry(28, 1234, 1700000000, 1, LogEvents, 1000, procStartPayload(4321, 10113, "com.android.chrome", "activity", "com.android.chrome/com.google.android.apps.chrome.Main"))
	total := b.N * streamBatch
	pkts := make([][]byte, total)
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
		if n == total {
			close(done)
		}
	})
	<-done
	el := time.Since(start)
	b.ReportMetric(float64(total)/el.Seconds(), "events/s")
	b.ReportMetric(float64(el.Nanoseconds())/float64(total), "ns/event")
}
