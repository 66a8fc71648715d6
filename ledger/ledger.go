package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"permd/ledger/store"
)

// Errors a producer may need to tell apart.
var (
	// ErrClosed means the ledger is shut down.
	ErrClosed = errors.New("ledger closed")
)

// Options configure a Ledger.
type Options struct {
	Rules *Rules
	// Packages resolves a uid to its packages at write time; nil, or a
	// nil result, stores no packages (never invented ones).
	Packages func(uid int) []string
	Now      func() time.Time
	Logger   *slog.Logger
	// QueueSize bounds the writer's queue in reports; default 4096.
	QueueSize int
	// MaxBatch bounds the records committed in one transaction; default
	// 8192. Larger commits amortise the index pages each commit rewrites
	// (one per app and category touched) and the fsync.
	MaxBatch int
	// SelfUID is the uid overload records are attributed to (the
	// recorder itself); default os.Getuid().
	SelfUID int
	// MaxOpenBytes bounds the writer's memory of open (coalescing, not
	// yet sealed) rows; default DefaultMaxOpenBytes. See sealEarly.
	MaxOpenBytes int64
}

// DefaultMaxOpenBytes is the default bound on the memory of open rows.
// A row of the usual shape costs about 600 bytes here, so this holds
// some 27,000 open rows: far more distinct events than a phone makes in
// a window, and few enough that a restart after a crash seals them all
// in about a second (BenchmarkSoak).
const DefaultMaxOpenBytes = 16 << 20

// Ledger is the writer side of the record (and embeds the reader). One
// goroutine owns all writes and group-commits what producers hand it.
type Ledger struct {
	*Reader
	opt   Options
	rules atomic.Pointer[Rules]
	queue chan *request
	wake  chan struct{} // see poke
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once

	mu     sync.RWMutex // guards closed against sends racing Close
	closed bool

	dropped   atomic.Int64 // not yet written to an overload row
	dropTotal atomic.Int64
	dropWhy   atomic.Value // string
	committed atomic.Int64 // events committed
	rows      atomic.Int64 // rows inserted
	commits   atomic.Int64
	openRows  atomic.Int64
	openBytes atomic.Int64
	early     atomic.Int64 // rows sealed before their window ended
	pruned    atomic.Int64
	lastErr   atomic.Value // string
	failing   failState    // whether commits fail now (disk full, I/O)
	pruneNow  chan chan error

	// Writer-owned state.
	// restartUsesPending: the uses a crash left in progress could not be
	// recorded at start (full disk); the next commit records them first.
	restartUsesPending bool
	w                  writerState
	conn               *sql.Conn // the writer's own connection, with a larger page cache
	// st are the writer's statements, prepared once (stmts.go).
	st stmts
}

type request struct {
	recs      []Record
	pre       []prep     // per record; computed by the reporter
	done      chan error // nil for Enqueue
	unchecked bool       // from Enqueue: validate on the writer
	// with, from AppendTx, writes other tables in the records' own
	// transaction (committed alone, not grouped with other requests).
	with func(context.Context, *sql.Tx) error
	// open and closed, from EnqueueUses: uses in progress (uses.go).
	open   []OpenUse
	closed []uint64
}

// Open migrates the schema, seals rows left open by a crash and starts
// the writer.
func Open(ctx context.Context, db *sql.DB, opt Options) (*Ledger, error) {
	if opt.Rules == nil {
		return nil, errors.New("open ledger: no rules")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.QueueSize <= 0 {
		opt.QueueSize = 4096
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 8192
	}
	if opt.SelfUID == 0 {
		opt.SelfUID = os.Getuid()
	}
	if opt.MaxOpenBytes <= 0 {
		opt.MaxOpenBytes = DefaultMaxOpenBytes
	}
	if err := Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	l := &Ledger{
		Reader:   NewReader(db),
		opt:      opt,
		queue:    make(chan *request, opt.QueueSize),
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		pruneNow: make(chan chan error),
	}
	if err := l.openWriter(ctx, db); err != nil {
		l.closeWriter()
		return nil, fmt.Errorf("open ledger: %w", err)
	}
	go l.run()
	return l, nil
}

// openWriter sets up the writer's connection and statements, loads its
// state and seals rows a crash left open.
func (l *Ledger) openWriter(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	l.conn = conn
	// The writer touches one index page per app and category in every
	// merge; a cache that holds them saves re-reading them each time.
	// synchronous=FULL on this very connection: every commit the writer
	// acknowledges (records, and the grant changes committed with them)
	// is fsync'd, whichever pooled connection the database's own setting
	// reached.
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -8192; PRAGMA wal_autocheckpoint = 4000; PRAGMA synchronous = FULL`); err != nil {
		return err
	}
	if err := l.st.prepare(ctx, db); err != nil {
		return err
	}
	l.rules.Store(l.opt.Rules)
	l.dropWhy.Store("")
	l.lastErr.Store("")
	if err := l.load(ctx); err != nil {
		return err
	}
	// Uses a crash left in progress are recorded as ended by it, and
	// rows left open by a crash hold committed content: seal them now so
	// that everything acknowledged before the crash verifies. On a full
	// disk the ledger starts anyway, degraded: the rows stay open, and
	// the writer records the uses and seals the rows with its first
	// commit once space returns.
	if err := l.closeRestartUses(ctx); err != nil {
		if !store.IsFull(err) {
			return fmt.Errorf("seal rows left open: %w", err)
		}
		l.failing.note(err, l.opt.Now())
		l.lastErr.Store(err.Error())
		l.opt.Logger.Error("ledger starts degraded: cannot seal rows left open", "err", err)
		if err := l.load(ctx); err != nil {
			return err
		}
		l.restartUsesPending = true
	}
	return nil
}

// closeWriter releases what openWriter set up.
func (l *Ledger) closeWriter() {
	l.st.close()
	if l.conn != nil {
		l.conn.Close()
	}
}

// SetRules applies new rules; records validated from now on use them and
// carry their version.
func (l *Ledger) SetRules(r *Rules) { l.rules.Store(r) }

// Rules returns the rules in force.
func (l *Ledger) Rules() *Rules { return l.rules.Load() }

// Stats is what sys.health shows about the writer.
type Stats struct {
	QueueDepth  int    `json:"queue_depth"`
	QueueCap    int    `json:"queue_capacity"`
	Dropped     int64  `json:"dropped"` // since start, each also written to an overload row
	Committed   int64  `json:"committed_events"`
	Rows        int64  `json:"rows_written"`
	Commits     int64  `json:"commits"`
	Open        int64  `json:"open_rows"`
	OpenBytes   int64  `json:"open_rows_bytes"` // estimated memory of the open rows
	SealedEarly int64  `json:"sealed_early"`    // rows sealed before their window ended, to bound memory
	Pruned      int64  `json:"pruned_rows"`
	Rules       int    `json:"rules_version"`
	LastError   string `json:"last_error,omitempty"`
}

// Stats reports the writer's counters.
func (l *Ledger) Stats() Stats {
	return Stats{
		QueueDepth: len(l.queue), QueueCap: cap(l.queue), Dropped: l.dropTotal.Load(),
		Committed: l.committed.Load(), Rows: l.rows.Load(), Commits: l.commits.Load(),
		Open: l.openRows.Load(), OpenBytes: l.openBytes.Load(), SealedEarly: l.early.Load(), Pruned: l.pruned.Load(), Rules: l.Rules().Version,
		LastError: l.lastErr.Load().(string),
	}
}

// Append validates recs as a whole, queues them (waiting while the queue
// is full: backpressure) and returns after they are committed.
func (l *Ledger) Append(ctx context.Context, recs ...Record) error {
	return l.AppendTx(ctx, nil, recs...)
}

// AppendTx is Append with with run in the same transaction as recs:
// another table's change and the records that tell of it commit together
// (fsync'd) or not at all. An error from with is returned as it is and
// nothing is written. with runs on the writer goroutine, so it must not
// call back into the ledger.
func (l *Ledger) AppendTx(ctx context.Context, with func(context.Context, *sql.Tx) error, recs ...Record) error {
	norm, err := l.Validate(recs)
	if err != nil {
		return err
	}
	return l.send(ctx, &request{recs: norm, pre: l.prepare(norm, map[int]appKey{}), done: make(chan error, 1), with: with})
}

// Flush returns once everything handed over before it (Enqueue's
// records too, which would otherwise wait up to commit_delay) is
// committed: a read after Flush sees every record acknowledged or
// enqueued before it.
func (l *Ledger) Flush(ctx context.Context) error {
	return l.send(ctx, &request{done: make(chan error, 1)})
}

// send queues a waiting request and waits for its commit.
func (l *Ledger) send(ctx context.Context, req *request) error {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return ErrClosed
	}
	select {
	case l.queue <- req:
		l.mu.RUnlock()
		l.poke()
	case <-ctx.Done():
		l.mu.RUnlock()
		return ctx.Err()
	case <-l.stop:
		l.mu.RUnlock()
		return ErrClosed
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// The records are queued and will be committed; the caller just
		// stopped waiting.
		return ctx.Err()
	}
}

// Enqueue hands records over without waiting: a copy and a channel send,
// cheap enough for the permission-check hot path. Validation happens on
// the writer. It never blocks: when the queue is full (or a record turns
// out invalid) the records are counted and an overload record saying how
// many and why is written with the next commit.
func (l *Ledger) Enqueue(recs ...Record) {
	if len(recs) == 0 {
		return
	}
	l.enqueue(nil, nil, recs)
}

// enqueue hands recs, and the uses that began and ended with them, to
// the writer without waiting (Enqueue, EnqueueUses). When the queue is
// full the records are counted as dropped; the uses' own records at their
// end are then written by restart closing, if it comes to that, or not at
// all: the overload row says how many were lost.
func (l *Ledger) enqueue(open []OpenUse, closed []uint64, recs []Record) {
	now := l.opt.Now()
	cp := make([]Record, len(recs))
	for i, r := range recs {
		if r.Time.IsZero() {
			r.Time = now
		}
		cp[i] = r
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.drop(len(recs), "ledger closed")
		return
	}
	select {
	case l.queue <- &request{recs: cp, unchecked: true, open: open, closed: closed}:
		if len(l.queue) >= l.pokeAt() {
			l.poke()
		}
	default:
		l.drop(len(recs), "queue full")
	}
}

func (l *Ledger) drop(n int, why string) {
	l.dropWhy.Store(why)
	l.dropped.Add(int64(n))
	l.dropTotal.Add(int64(n))
}

// Close commits what is queued, seals every open row and stops the
// writer.
func (l *Ledger) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.stop)
		<-l.done
	})
	return nil
}

// Prune runs retention now and returns when it has finished.
func (l *Ledger) Prune(ctx context.Context) error {
	ch := make(chan error, 1)
	select {
	case l.pruneNow <- ch:
	case <-l.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
