package framework

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
)

// server accepts connections and runs the JSON-RPC loop on each. It holds
// no capability logic: it looks methods up in the table, checks the role,
// and calls the handler. Its parts live in one file each:
//
//   - accept.go: the listener, the peer's identity and the connection limits
//   - conn.go: one connection's read loop and state
//   - connwrite.go: the connection's write side (replies, flushing, deadlines)
//   - notify.go: notifications to subscribers
//   - dispatch.go: from a request line to its reply (method lookup, role
//     check, inline or concurrent execution, deferred replies, panics)
//   - reply.go: the one reply encoder
type server struct {
	svc     *Service
	ln      net.Listener
	methods map[string]Method
	log     *slog.Logger

	mu       sync.Mutex
	conns    map[*conn]struct{}
	perUID   map[int]int
	closing  bool
	inflight sync.WaitGroup // every running handler and deferred reply

	stats *methodStats
}

func newServer(svc *Service, ln net.Listener, table []Method) (*server, error) {
	m := make(map[string]Method, len(table))
	for _, row := range table {
		if row.Name == "" || row.Handler == nil || len(row.Roles) == 0 {
			return nil, errors.New("method table: row " + row.Name + " lacks name, handler or roles")
		}
		if _, dup := m[row.Name]; dup {
			return nil, errors.New("method table: duplicate method " + row.Name)
		}
		m[row.Name] = row
	}
	return &server{
		svc: svc, ln: ln, methods: m, log: svc.log,
		conns: map[*conn]struct{}{}, perUID: map[int]int{},
		stats: newMethodStats(m),
	}, nil
}

func (sv *server) connCount() int {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return len(sv.conns)
}

// shutdown stops accepting, lets in-flight handlers finish until ctx
// ends, then closes every connection.
func (sv *server) shutdown(ctx context.Context) {
	sv.mu.Lock()
	sv.closing = true
	conns := make([]*conn, 0, len(sv.conns))
	for c := range sv.conns {
		conns = append(conns, c)
	}
	sv.mu.Unlock()
	sv.ln.Close()
	// Stop reading new requests; requests already read run to the end.
	for _, c := range conns {
		c.stopReading()
	}
	done := make(chan struct{})
	go func() { sv.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		sv.log.Warn("shutdown: in-flight requests did not finish in time")
	}
	for _, c := range conns {
		c.close()
	}
}
