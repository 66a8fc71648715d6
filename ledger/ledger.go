package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"permd/ledger/store"
)

// Errors a producer may need to tell apart.
var (
	// ErrClosed means the ledger is shut down.
	ErrClosed = errors.New("ledger closed")
)

// ValidationError says which record and field of a report is wrong. A
// report with any invalid record is rejected whole: nothing is queued.
type ValidationError struct {
	Index   int    // index of the record in the report, -1 for the report
	Field   string // e.g. "category"
	Problem string
}

func (e *ValidationError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("invalid report: %s: %s", e.Field, e.Problem)
	}
	return fmt.Sprintf("invalid record %d: %s: %s", e.Index, e.Field, e.Problem)
}

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
	// The insert statements, prepared once: each commit would otherwise
	// parse a statement of insertRows*13 parameters again.
	insOne, insMany *sql.Stmt
	// The seal statements (writeSeals), prepared once too.
	sealOne, sealMany *sql.Stmt
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

type row struct {
	content
	appID, kindID, catID, opID, resID, stID int64
	inserted, dirty, sealed                 bool
	hash                                    []byte
	coalesce                                bool
	key                                     string
}

type chain struct {
	headSeq  int64
	headHash []byte
	open     []*row // in seq order
	changed  bool
}

type writerState struct {
	nextSeq int64
	codes   map[string]int64
	apps    map[string]int64 // uid + "\x00" + packages
	chains  map[int64]*chain // by kind id
	byKey   map[string]*row  // newest open coalescing row per key
	// dirty are open rows already in the database whose count changed
	// since the last commit: a commit touches those, not every open row.
	dirty []*row
	// open and openBytes are the open rows and their estimated memory
	// (rowBytes), kept below Options.MaxOpenBytes by sealEarly.
	open      int64
	openBytes int64
	h         hasher
	rulesV    int64 // rules version stored in ledger_rules
	staged    int64 // rows sealed into ledger_recent since the last merge
	// mergeFailed holds merges back until the next tick.
	mergeFailed bool
	// tipStale means ledger_tip has no digest yet (just migrated).
	tipStale bool
	// uses counts the rows of ledger_use (uses in progress); usesSeen is
	// when they were last noted as still in progress, ms.
	uses, usesSeen int64
	// open and closed are the uses to write with the next commit.
	openUses   []OpenUse
	closedUses []uint64
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
	if l.insOne, err = db.PrepareContext(ctx, insertSQL); err != nil {
		return err
	}
	if l.insMany, err = db.PrepareContext(ctx, insertManySQL); err != nil {
		return err
	}
	if l.sealOne, err = db.PrepareContext(ctx, sealOneSQL); err != nil {
		return err
	}
	if l.sealMany, err = db.PrepareContext(ctx, sealManySQL); err != nil {
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
	for _, st := range []*sql.Stmt{l.insOne, l.insMany, l.sealOne, l.sealMany} {
		if st != nil {
			st.Close()
		}
	}
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
	default:
		l.drop(len(recs), "queue full")
	}
}

func (l *Ledger) drop(n int, why string) {
	l.dropWhy.Store(why)
	l.dropped.Add(int64(n))
	l.dropTotal.Add(int64(n))
}

// Validate checks a whole report against the rules and returns the
// records normalised (time set, detail compacted). Nothing is queued.
func (l *Ledger) Validate(recs []Record) ([]Record, error) {
	r := l.Rules()
	if len(recs) == 0 {
		return nil, &ValidationError{Index: -1, Field: "records", Problem: "empty report"}
	}
	if len(recs) > r.MaxRecords {
		return nil, &ValidationError{Index: -1, Field: "records", Problem: fmt.Sprintf("%d records exceed the limit of %d per report", len(recs), r.MaxRecords)}
	}
	now := l.opt.Now()
	out := make([]Record, len(recs))
	for i, rec := range recs {
		bad := func(field, f string, a ...any) error {
			return &ValidationError{Index: i, Field: field, Problem: fmt.Sprintf(f, a...)}
		}
		k := r.Kind(rec.Kind)
		switch {
		case k == nil:
			return nil, bad("kind", "unknown kind %q (see rules.json)", rec.Kind)
		case rec.UID < 0:
			return nil, bad("uid", "negative uid %d", rec.UID)
		case !slices.Contains(k.Categories, rec.Category):
			if r.category(rec.Category) == nil {
				return nil, bad("category", "unknown category %q", rec.Category)
			}
			return nil, bad("category", "kind %q does not take category %q (takes %v)", rec.Kind, rec.Category, k.Categories)
		case !slices.Contains(k.Results, rec.Result):
			return nil, bad("result", "kind %q does not take result %q (takes %q)", rec.Kind, rec.Result, k.Results)
		case !r.hasState(rec.AppState):
			return nil, bad("app_state", "unknown app state %q", rec.AppState)
		case len(rec.Op) > 128 || !utf8.ValidString(rec.Op) || strings.ContainsAny(rec.Op, "\x00\n"):
			return nil, bad("op", "must be at most 128 bytes of text")
		}
		if rec.Time.IsZero() {
			rec.Time = now
		}
		if ms := rec.Time.UnixMilli(); ms < 946684800000 {
			return nil, bad("time", "%s is before 2000", rec.Time.UTC().Format(time.RFC3339))
		}
		if ahead := rec.Time.Sub(now); ahead > time.Duration(r.MaxTimeAhead) {
			return nil, bad("time", "%s is %s ahead of the device clock (%s); the rules allow at most %s (max_time_ahead)",
				rec.Time.UTC().Format(time.RFC3339Nano), ahead.Round(time.Millisecond), now.UTC().Format(time.RFC3339Nano), time.Duration(r.MaxTimeAhead))
		}
		if len(rec.Detail) > 0 && string(rec.Detail) != "null" {
			if len(rec.Detail) > 4*r.MaxDetailBytes {
				return nil, bad("detail", "%d bytes exceed the limit of %d", len(rec.Detail), r.MaxDetailBytes)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(rec.Detail, &m); err != nil {
				return nil, bad("detail", "must be a JSON object: %v", err)
			}
			for key := range m {
				if !slices.Contains(k.Detail, key) {
					return nil, bad("detail."+key, "kind %q does not record detail %q (records %v)", rec.Kind, key, k.Detail)
				}
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, rec.Detail); err != nil {
				return nil, bad("detail", "%v", err)
			}
			if buf.Len() > r.MaxDetailBytes {
				return nil, bad("detail", "%d bytes exceed the limit of %d", buf.Len(), r.MaxDetailBytes)
			}
			if len(m) == 0 {
				buf.Reset()
			}
			rec.Detail = buf.Bytes()
		} else {
			rec.Detail = nil
		}
		out[i] = rec
	}
	return out, nil
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

// run is the writer goroutine.
func (l *Ledger) run() {
	defer close(l.done)
	defer l.closeWriter()
	ctx := context.Background()
	sealTick := time.NewTicker(time.Second)
	defer sealTick.Stop()
	retention := time.NewTimer(time.Minute) // first run soon after boot
	defer retention.Stop()
	var pruning []chan error
	pruneMore := false
	for {
		var batch []*request
		n, ticked := 0, false
		take := func(r *request) { batch = append(batch, r); n += len(r.recs) }
		if pruneMore {
			select {
			case r := <-l.queue:
				take(r)
			case ch := <-l.pruneNow:
				pruning = append(pruning, ch)
			case <-l.stop:
				l.shutdown(ctx)
				for _, ch := range pruning {
					ch <- ErrClosed
				}
				return
			default:
			}
		} else {
			select {
			case r := <-l.queue:
				take(r)
			case <-sealTick.C:
				ticked = true
			case <-retention.C:
				pruneMore = true
				retention.Reset(time.Duration(l.Rules().RetentionEvery))
			case ch := <-l.pruneNow:
				pruning = append(pruning, ch)
				pruneMore = true
			case <-l.stop:
				l.shutdown(ctx)
				return
			}
		}
	drain:
		for n < l.opt.MaxBatch {
			select {
			case r := <-l.queue:
				take(r)
			default:
				break drain
			}
		}
		// Group commit: everything queued while the last commit ran
		// goes into this one. A reporter that waits for its answer is
		// never held back for more: reporters blocked on the last commit
		// cannot add to this one. Records handed over without waiting
		// (Enqueue, the permission-check hot path) are gathered for up
		// to commit_delay, so that a stream of checks costs tens of
		// commits a second rather than one per check.
		if len(batch) > 0 && !slices.ContainsFunc(batch, waits) && n < l.opt.MaxBatch {
			l.gather(take, func() bool { return n >= l.opt.MaxBatch })
		}
		if len(batch) > 0 || l.dropped.Load() > 0 || l.sealDue() || l.usesDue() {
			l.commitBatch(ctx, batch, false)
		} else if ticked {
			l.probeIfFailing(ctx)
		}
		if l.w.staged >= mergeRows && !l.w.mergeFailed || l.w.staged > 0 && (ticked || pruneMore) {
			l.mergeStaged(ctx)
		}
		if pruneMore && len(batch) == 0 {
			more, err := l.pruneStep(ctx)
			if err != nil || !more {
				pruneMore = false
				for _, ch := range pruning {
					ch <- err
				}
				pruning = nil
				if err != nil {
					l.opt.Logger.Error("ledger retention failed", "err", err)
				}
			}
		}
	}
}

func waits(r *request) bool { return r.done != nil }

// gather adds queued requests to the batch until one has a waiter, the
// batch is full, or commit_delay has passed.
func (l *Ledger) gather(take func(*request), full func() bool) {
	t := time.NewTimer(time.Duration(l.Rules().CommitDelay))
	defer t.Stop()
	for !full() {
		select {
		case r := <-l.queue:
			take(r)
			if waits(r) {
				return
			}
		case <-t.C:
			return
		}
	}
}

// mergeRows is how many sealed rows ledger_recent collects before the
// writer moves them into ledger_event (see fromRows for why).
const mergeRows = 32768

// mergeStaged moves the sealed rows of ledger_recent into ledger_event
// in one transaction. A failure leaves them where they are, still read
// and verified there, and is retried at the next tick.
func (l *Ledger) mergeStaged(ctx context.Context) {
	if err := l.merge(ctx); err != nil {
		l.lastErr.Store(err.Error())
		l.opt.Logger.Error("ledger merge failed", "err", err)
		l.w.mergeFailed = true
		return
	}
	l.w.staged, l.w.mergeFailed = 0, false
}

func (l *Ledger) merge(ctx context.Context) error {
	tx, err := l.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_event(`+eventCols+`) SELECT `+eventCols+` FROM ledger_recent WHERE hash IS NOT NULL ORDER BY seq`); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM ledger_recent WHERE hash IS NOT NULL`); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	return tx.Commit()
}

func (l *Ledger) shutdown(ctx context.Context) {
	var batch []*request
	for {
		select {
		case r := <-l.queue:
			batch = append(batch, r)
			continue
		default:
		}
		break
	}
	l.commitBatch(ctx, batch, true)
	l.mergeStaged(ctx)
}

// commitBatch commits the records of batch and answers the waiters.
// Requests that write other tables too (AppendTx) are committed after
// the rest, each in its own transaction, so that one failing cannot undo
// the others.
func (l *Ledger) commitBatch(ctx context.Context, batch []*request, force bool) {
	var with []*request
	if slices.ContainsFunc(batch, func(r *request) bool { return r.with != nil }) {
		plain := make([]*request, 0, len(batch))
		for _, r := range batch {
			if r.with != nil {
				with = append(with, r)
			} else {
				plain = append(plain, r)
			}
		}
		batch = plain
	}
	l.commitGroup(ctx, batch, force)
	for _, r := range with {
		err := l.commit(ctx, r.recs, r.pre, force, r.with)
		var he *withError
		switch {
		case errors.As(err, &he):
			err = he.err // nothing was changed: no reload needed
		case err != nil:
			l.lastErr.Store(err.Error())
			l.opt.Logger.Error("ledger commit failed", "err", err, "records", len(r.recs))
			if lerr := l.load(ctx); lerr != nil {
				l.opt.Logger.Error("ledger reload failed", "err", lerr)
			}
		}
		r.done <- err
	}
}

// withError is an error from an AppendTx function.
type withError struct{ err error }

func (e *withError) Error() string { return e.err.Error() }

// commitGroup commits the records of batch in one transaction and
// answers the waiters.
func (l *Ledger) commitGroup(ctx context.Context, batch []*request, force bool) {
	var recs []Record
	var pre []prep
	seen := map[int]appKey{} // uids resolved for this commit's hot-path records
	for _, r := range batch {
		l.w.openUses = append(l.w.openUses, r.open...)
		l.w.closedUses = append(l.w.closedUses, r.closed...)
		if r.unchecked {
			norm, err := l.Validate(r.recs)
			if err != nil {
				l.drop(len(r.recs), "invalid record: "+err.Error())
				continue
			}
			r.recs, r.pre = norm, l.prepare(norm, seen)
		}
		recs = append(recs, r.recs...)
		pre = append(pre, r.pre...)
	}
	d := l.dropped.Swap(0)
	if d > 0 {
		why, _ := l.dropWhy.Load().(string)
		detail, _ := json.Marshal(map[string]any{"dropped": d, "reason": why})
		over := []Record{{Time: l.opt.Now(), UID: l.opt.SelfUID, Kind: "overload", Category: "system", Detail: detail}}
		recs = append(recs, over...)
		pre = append(pre, l.prepare(over, seen)...)
	}
	var err error
	if l.restartUsesPending {
		// ledger_use still holds the uses of the run before a start on a
		// full disk: record them before this run's uses touch the table
		// (its heartbeat would otherwise stretch their bounds).
		if err = l.closeRestartUses(ctx); err == nil {
			l.restartUsesPending = false
		}
	}
	if err == nil {
		err = l.commit(ctx, recs, pre, force, nil)
	}
	l.failing.note(err, l.opt.Now())
	if err != nil {
		l.lastErr.Store(err.Error())
		l.opt.Logger.Error("ledger commit failed", "err", err, "records", len(recs))
		// The in-memory state may be ahead of the database: reload it,
		// keeping the uses still to be written into ledger_use.
		open, closed := l.w.openUses, l.w.closedUses
		if lerr := l.load(ctx); lerr != nil {
			l.opt.Logger.Error("ledger reload failed", "err", lerr)
		}
		l.w.openUses, l.w.closedUses = open, closed
		// Nobody waits for enqueued records: count them as dropped so
		// that the next overload row says so, never lose them silently.
		l.dropped.Add(d) // the overload row did not make it either
		lost := 0
		for _, r := range batch {
			if r.done == nil {
				lost += len(r.recs)
			}
		}
		if lost > 0 {
			l.drop(lost, "commit failed: "+err.Error())
		}
	}
	for _, r := range batch {
		if r.done != nil {
			r.done <- err
		}
	}
}

func (l *Ledger) sealDue() bool {
	now := l.opt.Now().UnixMilli()
	win := l.Rules().Window().Milliseconds()
	for _, c := range l.w.chains {
		if len(c.open) > 0 && (!c.open[0].coalesce || now >= c.open[0].First+win) {
			return true
		}
	}
	return false
}

// load reads the writer state from the database: next seq, codes, apps,
// chain heads, and rows still open.
func (l *Ledger) load(ctx context.Context) error {
	w := &l.w
	*w = writerState{codes: map[string]int64{}, apps: map[string]int64{}, chains: map[int64]*chain{}, byKey: map[string]*row{}}
	db := l.conn
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_use`).Scan(&w.uses); err != nil {
		return err
	}
	// The tip's last_seq counts too: a seq is never handed out twice,
	// even after the newest rows were removed, so the gap stays visible.
	var tipHeads []byte
	if err := db.QueryRowContext(ctx, `SELECT MAX(COALESCE((SELECT MAX(seq) FROM ledger_event), 0), COALESCE((SELECT MAX(seq) FROM ledger_recent), 0), COALESCE((SELECT MAX(MAX(anchor_seq, head_seq)) FROM ledger_chain), 0), COALESCE((SELECT last_seq FROM ledger_tip), 0)),
		(SELECT heads FROM ledger_tip)`).Scan(&w.nextSeq, &tipHeads); err != nil {
		return err
	}
	w.tipStale = tipHeads == nil
	w.nextSeq++
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_recent WHERE hash IS NOT NULL`).Scan(&w.staged); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, code FROM ledger_code`)
	if err != nil {
		return err
	}
	// The open rows below name their codes and app by id: resolve them
	// here rather than join ledger_code four times and ledger_app once
	// per row, which after a crash under load (tens of thousands of open
	// rows) was most of the time start-up spent reading them.
	codeOf := map[int64]string{}
	for rows.Next() {
		var id int64
		var c string
		rows.Scan(&id, &c)
		w.codes[c] = id
		codeOf[id] = c
	}
	rows.Close()
	rows, err = db.QueryContext(ctx, `SELECT id, uid, packages FROM ledger_app`)
	if err != nil {
		return err
	}
	type app struct {
		uid int64
		pk  string
	}
	appOf := map[int64]app{}
	for rows.Next() {
		var id, uid int64
		var p string
		rows.Scan(&id, &uid, &p)
		w.apps[strconv.FormatInt(uid, 10)+"\x00"+p] = id
		appOf[id] = app{uid, p}
	}
	rows.Close()
	minHead := int64(1 << 62)
	rows, err = db.QueryContext(ctx, `SELECT kind, head_seq, head_hash FROM ledger_chain`)
	if err != nil {
		return err
	}
	for rows.Next() {
		c := &chain{}
		var kind int64
		rows.Scan(&kind, &c.headSeq, &c.headHash)
		if c.headHash == nil {
			c.headHash = zeroHash
		}
		w.chains[kind] = c
		minHead = min(minHead, c.headSeq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(w.chains) == 0 {
		minHead = 0
	}
	// Open rows are those after their chain's head with no hash yet.
	rows, err = db.QueryContext(ctx, `SELECT seq, t, dur, n, app, kind, cat, op, res, st, rules, detail
		FROM ledger_recent WHERE seq > ? AND hash IS NULL ORDER BY seq`, minHead)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		rw := &row{inserted: true}
		var op, res, st sql.NullInt64
		var detail sql.NullString
		var dur int64
		if err := rows.Scan(&rw.Seq, &rw.First, &dur, &rw.Count, &rw.appID, &rw.kindID, &rw.catID,
			&op, &res, &st, &rw.Rules, &detail); err != nil {
			return err
		}
		a, okApp := appOf[rw.appID]
		kind, okKind := codeOf[rw.kindID]
		cat, okCat := codeOf[rw.catID]
		if !okApp || !okKind || !okCat {
			// The inner joins this replaces left such a row out too; say
			// so rather than skip it silently.
			l.opt.Logger.Error("ledger: open row names an app or code the database lacks; left unsealed", "seq", rw.Seq, "app", rw.appID, "kind", rw.kindID, "category", rw.catID)
			continue
		}
		rw.UID, rw.Packages, rw.Kind, rw.Category = a.uid, a.pk, kind, cat
		rw.Last = rw.First + dur
		rw.opID, rw.resID, rw.stID = op.Int64, res.Int64, st.Int64
		rw.Op, rw.Result, rw.AppState, rw.Detail = codeOf[rw.opID], codeOf[rw.resID], codeOf[rw.stID], detail.String
		c := w.chains[rw.kindID]
		if c == nil {
			c = &chain{headHash: zeroHash}
			w.chains[rw.kindID] = c
		}
		if rw.Seq <= c.headSeq {
			continue
		}
		if k := l.Rules().Kind(rw.Kind); k != nil && k.Coalesce {
			rw.coalesce = true
			rw.key = coalesceKey(strconv.FormatInt(rw.UID, 10)+"\x00"+rw.Packages, rw.Kind, rw.Category, rw.Op, rw.Result, rw.AppState, rw.Detail)
			w.byKey[rw.key] = rw
		}
		c.open = append(c.open, rw)
		w.open++
		w.openBytes += rowBytes(rw)
	}
	return rows.Err()
}

// seal hashes rw, the first open row of c, onto c's head and adds it to
// sealed.
func (l *Ledger) seal(c *chain, rw *row, sealed []*row) []*row {
	w := &l.w
	rw.hash = rowHash(&w.h, c.headHash, &rw.content)
	rw.sealed = true
	c.headSeq, c.headHash, c.changed = rw.Seq, rw.hash, true
	if rw.key != "" && w.byKey[rw.key] == rw {
		delete(w.byKey, rw.key)
	}
	w.open--
	w.openBytes -= rowBytes(rw)
	return append(sealed, rw)
}

// sealEarly seals the oldest open rows, across chains, until their
// memory is back to three quarters of Options.MaxOpenBytes, so that no
// load (say a flood of distinct reports, each opening a row) can grow
// the writer without bound. Nothing is lost: a sealed row keeps its
// exact count and times; an identical event later in the same window
// starts a new row instead of joining it, which costs space, not truth.
// Rows are sealed in seq order within each chain, as always.
func (l *Ledger) sealEarly(sealed []*row) []*row {
	w := &l.w
	target := l.opt.MaxOpenBytes * 3 / 4
	// Find the seq below which every open row must go: walk open rows
	// newest first (a merge of the chains' tails) until the budget is
	// spent.
	type cur struct {
		c *chain
		i int
	}
	var heads []cur
	for _, c := range w.chains {
		if len(c.open) > 0 {
			heads = append(heads, cur{c, len(c.open) - 1})
		}
	}
	var keep int64
	cut := int64(0)
	for len(heads) > 0 {
		best := 0
		for j := range heads {
			if heads[j].c.open[heads[j].i].Seq > heads[best].c.open[heads[best].i].Seq {
				best = j
			}
		}
		h := &heads[best]
		rw := h.c.open[h.i]
		if keep+rowBytes(rw) > target {
			cut = rw.Seq
			break
		}
		keep += rowBytes(rw)
		if h.i--; h.i < 0 {
			heads = slices.Delete(heads, best, best+1)
		}
	}
	n := 0
	for _, c := range w.chains {
		i := 0
		for ; i < len(c.open) && c.open[i].Seq <= cut; i++ {
			sealed = l.seal(c, c.open[i], sealed)
			n++
		}
		c.open = c.open[i:]
	}
	l.early.Add(int64(n))
	return sealed
}

// rowBytes estimates what an open row costs the writer: the row and its
// strings, the coalescing key (which repeats most of them) and the map
// and slice entries that point at it. Measured against the Go heap in
// TestOpenRowsBounded.
func rowBytes(rw *row) int64 {
	return int64(rowOverhead + len(rw.key) + len(rw.Kind) + len(rw.Category) + len(rw.Op) +
		len(rw.Result) + len(rw.AppState) + len(rw.Detail))
}

// rowOverhead is the fixed part of rowBytes.
const rowOverhead = 500

// prep is what the writer needs of a record beyond the record itself.
// Append computes it on the reporter's goroutine, so that the one
// writer goroutine, which every report waits for, does less.
type prep struct {
	t    int64  // first event, ms
	pk   string // the uid's packages, sorted, comma-joined
	akey string // uid + "\x00" + pk: the ledger_app key
	key  string // coalescing key
}

// appKey is a uid's packages and ledger_app key, resolved once per uid
// for all the records prepared together.
type appKey struct{ pk, akey string }

// prepare computes recs' prep, resolving each uid's packages once per
// seen map (one report, or one commit of hot-path records).
func (l *Ledger) prepare(recs []Record, seen map[int]appKey) []prep {
	out := make([]prep, len(recs))
	for i, rec := range recs {
		a, ok := seen[rec.UID]
		if !ok {
			if l.opt.Packages != nil {
				ps := slices.Clone(l.opt.Packages(rec.UID))
				slices.Sort(ps)
				a.pk = strings.Join(slices.Compact(ps), ",")
			}
			a.akey = strconv.Itoa(rec.UID) + "\x00" + a.pk
			seen[rec.UID] = a
		}
		out[i] = prep{t: rec.Time.UnixMilli(), pk: a.pk, akey: a.akey,
			key: coalesceKey(a.akey, rec.Kind, rec.Category, rec.Op, rec.Result, rec.AppState, string(rec.Detail))}
	}
	return out
}

const (
	insertSQL = `INSERT INTO ledger_recent(` + eventCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`
	// insertRows is how many rows one multi-row INSERT carries.
	insertRows = 32
)

var insertManySQL = `INSERT INTO ledger_recent(` + eventCols + `) VALUES ` +
	strings.TrimSuffix(strings.Repeat(`(?,?,?,?,?,?,?,?,?,?,?,?,?),`, insertRows), ",")

// sealRows is how many rows one multi-row seal UPDATE carries.
const sealRows = 32

// sealOneSQL and sealManySQL write sealed rows' final count, duration
// and hash. A restart after a crash under load seals tens of thousands
// of rows before it serves; one statement per row was half of that
// time, and sealRows rows per statement take less than half the CPU
// (docs/performance.md, "Start-up time"). The VALUES rows are the driving table (column1 = seq), so each finds its
// row by primary key.
const sealOneSQL = `UPDATE ledger_recent SET n = ?, dur = ?, hash = ? WHERE seq = ?`

var sealManySQL = `UPDATE ledger_recent SET n = v.column2, dur = v.column3, hash = v.column4 FROM (VALUES ` +
	strings.TrimSuffix(strings.Repeat(`(?,?,?,?),`, sealRows), ",") + `) AS v WHERE ledger_recent.seq = v.column1`

// writeSeals stores the count, duration and hash of the rows of sealed
// already in the database (rows inserted in this commit carry theirs).
func (l *Ledger) writeSeals(ctx context.Context, tx *sql.Tx, sealed []*row) error {
	var todo []*row
	for _, rw := range sealed {
		if rw.inserted {
			todo = append(todo, rw)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	args := make([]any, 0, 4*sealRows)
	bulk := len(todo) / sealRows * sealRows
	if bulk > 0 {
		st := tx.StmtContext(ctx, l.sealMany)
		defer st.Close()
		for i := 0; i < bulk; i += sealRows {
			args = args[:0]
			for _, rw := range todo[i : i+sealRows] {
				args = append(args, rw.Seq, rw.Count, rw.Last-rw.First, rw.hash)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("seal: %w", err)
			}
		}
	}
	if bulk < len(todo) {
		st := tx.StmtContext(ctx, l.sealOne)
		defer st.Close()
		for _, rw := range todo[bulk:] {
			if _, err := st.ExecContext(ctx, rw.Count, rw.Last-rw.First, rw.hash, rw.Seq); err != nil {
				return fmt.Errorf("seal: %w", err)
			}
		}
	}
	return nil
}

func coalesceKey(app, kind, cat, op, res, st, detail string) string {
	return app + "\x00" + kind + "\x00" + cat + "\x00" + op + "\x00" + res + "\x00" + st + "\x00" + detail
}

// commit adds recs to the ledger in one transaction: coalescing into open
// rows, inserting new rows, sealing rows whose window ended (all of them
// when force), and moving chain heads. with, if set, runs first in the
// same transaction; its error comes back as a *withError, before any
// writer state changed.
func (l *Ledger) commit(ctx context.Context, recs []Record, pre []prep, force bool, with func(context.Context, *sql.Tx) error) error {
	w := &l.w
	rules := l.Rules()
	win := rules.Window().Milliseconds()
	tx, err := l.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if with != nil {
		if err := with(ctx, tx); err != nil {
			return &withError{err}
		}
	}
	if len(w.openUses) > 0 || len(w.closedUses) > 0 || l.usesDue() {
		if err := l.applyUses(ctx, tx, w.openUses, w.closedUses); err != nil {
			return err
		}
	}
	var newCodes []string
	code := func(s string) (int64, error) {
		if s == "" {
			return 0, nil
		}
		if id, ok := w.codes[s]; ok {
			return id, nil
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO ledger_code(code) VALUES (?) ON CONFLICT(code) DO UPDATE SET code = excluded.code RETURNING id`, s).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("dictionary: %w", err)
		}
		w.codes[s] = id
		newCodes = append(newCodes, s)
		return id, nil
	}
	if len(recs) > 0 && w.rulesV != int64(rules.Version) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_rules(version, body) VALUES (?, ?) ON CONFLICT(version) DO NOTHING`, rules.Version, string(rules.Raw())); err != nil {
			return fmt.Errorf("rules version: %w", err)
		}
		w.rulesV = int64(rules.Version)
	}
	fresh := make([]*row, 0, len(recs))
	for i, rec := range recs {
		p := &pre[i]
		app, ok := w.apps[p.akey]
		if !ok {
			if err := tx.QueryRowContext(ctx, `INSERT INTO ledger_app(uid, packages) VALUES (?, ?) ON CONFLICT(uid, packages) DO UPDATE SET uid = excluded.uid RETURNING id`, rec.UID, p.pk).Scan(&app); err != nil {
				return fmt.Errorf("app: %w", err)
			}
			w.apps[p.akey] = app
			newCodes = append(newCodes, "")
		}
		t := p.t
		k := rules.Kind(rec.Kind)
		var key string
		if k.Coalesce {
			key = p.key
			if rw := w.byKey[key]; rw != nil && !rw.sealed && t >= rw.First && t < rw.First+win {
				rw.Count++
				rw.Last = max(rw.Last, t)
				// A row not yet inserted goes in with its final count.
				if rw.inserted && !rw.dirty {
					rw.dirty = true
					w.dirty = append(w.dirty, rw)
				}
				continue
			}
		}
		rw := &row{content: content{
			Seq: w.nextSeq, First: t, Last: t, Count: 1, UID: int64(rec.UID), Packages: p.pk,
			Kind: rec.Kind, Category: rec.Category, Op: rec.Op, Result: rec.Result, AppState: rec.AppState,
			Rules: int64(rules.Version), Detail: string(rec.Detail),
		}, appID: app, coalesce: k.Coalesce, key: key}
		w.nextSeq++
		var err error
		if rw.kindID, err = code(rec.Kind); err == nil {
			if rw.catID, err = code(rec.Category); err == nil {
				if rw.opID, err = code(rec.Op); err == nil {
					if rw.resID, err = code(rec.Result); err == nil {
						rw.stID, err = code(rec.AppState)
					}
				}
			}
		}
		if err != nil {
			return err
		}
		c := w.chains[rw.kindID]
		if c == nil {
			c = &chain{headHash: zeroHash}
			w.chains[rw.kindID] = c
			if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_chain(kind) VALUES (?) ON CONFLICT(kind) DO NOTHING`, rw.kindID); err != nil {
				return fmt.Errorf("chain: %w", err)
			}
		}
		c.open = append(c.open, rw)
		if key != "" {
			w.byKey[key] = rw
		}
		fresh = append(fresh, rw)
		w.open++
		w.openBytes += rowBytes(rw)
	}
	// Seal, per chain, the leading open rows whose window has ended.
	now := l.opt.Now().UnixMilli()
	var sealed []*row
	for _, c := range w.chains {
		i := 0
		for ; i < len(c.open); i++ {
			rw := c.open[i]
			if !force && rw.coalesce && now < rw.First+win {
				break
			}
			sealed = l.seal(c, rw, sealed)
		}
		c.open = c.open[i:]
	}
	if w.openBytes > l.opt.MaxOpenBytes {
		sealed = l.sealEarly(sealed)
	}
	nz := func(v int64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	ns := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	// New rows go into ledger_recent, which has no secondary index, with
	// insertRows rows per statement and single rows for the rest: with no
	// index to maintain, binding dominates, and fewer statement calls
	// measured about a third faster per row than one row per call.
	if len(fresh) > 0 {
		args := make([]any, 0, 13*insertRows)
		add := func(rw *row) {
			var h any
			if rw.sealed {
				h = rw.hash
			}
			args = append(args, rw.Seq, rw.First, rw.Last-rw.First, rw.Count, rw.appID, rw.kindID, rw.catID,
				nz(rw.opID), nz(rw.resID), nz(rw.stID), rw.Rules, ns(rw.Detail), h)
		}
		bulk := len(fresh) / insertRows * insertRows
		if bulk > 0 {
			ins := tx.StmtContext(ctx, l.insMany)
			defer ins.Close()
			for i := 0; i < bulk; i += insertRows {
				args = args[:0]
				for _, rw := range fresh[i : i+insertRows] {
					add(rw)
				}
				if _, err := ins.ExecContext(ctx, args...); err != nil {
					return fmt.Errorf("insert: %w", err)
				}
			}
		}
		if bulk < len(fresh) {
			ins := tx.StmtContext(ctx, l.insOne)
			defer ins.Close()
			for _, rw := range fresh[bulk:] {
				args = args[:0]
				add(rw)
				if _, err := ins.ExecContext(ctx, args...); err != nil {
					return fmt.Errorf("insert: %w", err)
				}
			}
		}
	}
	var upd *sql.Stmt
	for _, rw := range w.dirty {
		// A sealed row's count goes with its hash below.
		if rw.sealed {
			continue
		}
		if upd == nil {
			if upd, err = tx.PrepareContext(ctx, `UPDATE ledger_recent SET n = ?, dur = ? WHERE seq = ?`); err != nil {
				return err
			}
			defer upd.Close()
		}
		if _, err := upd.ExecContext(ctx, rw.Count, rw.Last-rw.First, rw.Seq); err != nil {
			return fmt.Errorf("update: %w", err)
		}
	}
	if len(sealed) > 0 {
		if err := l.writeSeals(ctx, tx, sealed); err != nil {
			return err
		}
		for kind, c := range w.chains {
			if c.changed {
				if _, err := tx.ExecContext(ctx, `UPDATE ledger_chain SET head_seq = ?, head_hash = ? WHERE kind = ?`, c.headSeq, c.headHash, kind); err != nil {
					return fmt.Errorf("chain head: %w", err)
				}
			}
		}
	}
	if len(fresh) > 0 || len(sealed) > 0 || w.tipStale {
		if err := writeTip(ctx, tx, w.nextSeq-1); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	w.tipStale = false
	w.openUses, w.closedUses = w.openUses[:0], w.closedUses[:0]
	for _, c := range w.chains {
		c.changed = false
	}
	for _, rw := range fresh {
		rw.inserted = true
	}
	for _, rw := range w.dirty {
		rw.dirty = false
	}
	w.dirty = w.dirty[:0]
	l.openRows.Store(w.open)
	l.openBytes.Store(w.openBytes)
	l.committed.Add(int64(len(recs)))
	l.rows.Add(int64(len(fresh)))
	w.staged += int64(len(sealed))
	if len(recs) > 0 || len(sealed) > 0 {
		l.commits.Add(1)
	}
	if len(newCodes) > 0 {
		l.Reader.invalidate()
	}
	return nil
}
