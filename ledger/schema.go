package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"

	"permd/ledger/store"
)

// Component is the ledger's name in schema_version.
const Component = "ledger"

// rowColumns are the columns of a row, shared by ledger_event and
// ledger_recent: rows move between the two with INSERT … SELECT, so the
// tables must not drift apart.
const rowColumns = `(
	seq    INTEGER PRIMARY KEY,
	t      INTEGER NOT NULL,
	dur    INTEGER NOT NULL,
	n      INTEGER NOT NULL,
	app    INTEGER NOT NULL,
	kind   INTEGER NOT NULL,
	cat    INTEGER NOT NULL,
	op     INTEGER,
	res    INTEGER,
	st     INTEGER,
	rules  INTEGER NOT NULL,
	detail TEXT,
	hash   BLOB
) STRICT;`

// migrations is the ledger schema. It is designed for size, because the
// ledger lives on a phone's flash and is itself personal data: every
// repeated text (kinds, categories, results, ops, app states) is an
// integer into one dictionary, the app is one integer naming a (uid,
// package set) pair, the last time is stored as a delta from the first
// (0 for a single event, which SQLite stores in no bytes, as it does a
// count of 1), an empty code is NULL, and detail is compact JSON or NULL.
// The Android user id is uid/100000 and is derived, not stored.
//
// Indexes: (app, t) answers everything about one app (newest first,
// summaries, frequency counts); (cat, t, res, n) answers per-category
// timelines from the index alone (res and n add about two bytes a row:
// n = 1 is stored in no bytes); (t) answers unfiltered newest-first reads.
//
// Each kind is its own hash chain (ledger_chain holds the head and the
// anchor of the pruned prefix), so that kinds with different retention
// can each be pruned as a prefix and still verify.
var migrations = []store.Migration{{Version: 1, SQL: `
CREATE TABLE ledger_code (
	id   INTEGER PRIMARY KEY,
	code TEXT NOT NULL UNIQUE
) STRICT;
CREATE TABLE ledger_app (
	id       INTEGER PRIMARY KEY,
	uid      INTEGER NOT NULL,
	packages TEXT NOT NULL,
	UNIQUE (uid, packages)
) STRICT;
CREATE TABLE ledger_rules (
	version INTEGER PRIMARY KEY,
	body    TEXT NOT NULL
) STRICT;
CREATE TABLE ledger_chain (
	kind        INTEGER PRIMARY KEY,
	anchor_seq  INTEGER NOT NULL DEFAULT 0,
	anchor_hash BLOB,
	pruned      INTEGER NOT NULL DEFAULT 0,
	head_seq    INTEGER NOT NULL DEFAULT 0,
	head_hash   BLOB
) STRICT;
CREATE TABLE ledger_event ` + rowColumns + `
CREATE INDEX ledger_event_app ON ledger_event (app, t);
CREATE INDEX ledger_event_cat ON ledger_event (cat, t, res, n);
CREATE INDEX ledger_event_t ON ledger_event (t);
`}, {Version: 2, SQL: `
CREATE TABLE ledger_recent ` + rowColumns + `
INSERT INTO ledger_recent SELECT ` + eventCols + ` FROM ledger_event WHERE hash IS NULL;
DELETE FROM ledger_event WHERE hash IS NULL;
CREATE VIEW ledger_all AS
	SELECT ` + eventCols + ` FROM ledger_event
	UNION ALL SELECT ` + eventCols + ` FROM ledger_recent;
`}, {Version: 3, SQL: `
CREATE TABLE ledger_tip (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	last_seq INTEGER NOT NULL,
	heads    BLOB
) STRICT;
INSERT INTO ledger_tip(id, last_seq) SELECT 1, MAX(
	COALESCE((SELECT MAX(seq) FROM ledger_event), 0),
	COALESCE((SELECT MAX(seq) FROM ledger_recent), 0),
	COALESCE((SELECT MAX(MAX(anchor_seq, head_seq)) FROM ledger_chain), 0));
CREATE TABLE ledger_use (
	id       INTEGER PRIMARY KEY,
	start_ms INTEGER NOT NULL,
	seen_ms  INTEGER NOT NULL,
	recs     TEXT NOT NULL
) STRICT;
`}, {Version: 4, SQL: `
-- Rows sealed from now on store a tag (rowTag), not the full hash; rows
-- sealed before keep their full hash, and both verify. No table changes:
-- the version is what matters, because a permd that expects full hashes
-- in every row would report every tagged row as altered, and it refuses
-- a database from a newer schema.
SELECT 1;
`}}

// ledger_use (migration 3) holds the uses in progress (uses.go): one row
// per use, with the records to write if the daemon stops before the use
// ends, and when it was last known to be in progress.

// ledger_tip (migration 3) makes every deletion visible to Verify. Seq is
// one sequence over all kinds, allocated without gaps, so a missing seq
// is a removed row unless retention removed it; last_seq is the newest
// seq written, so removing the newest rows leaves a visible gap at the
// end; heads is a digest (headsDigest) over last_seq and every
// ledger_chain record, rewritten in the transaction that changes any of
// them, so removing or rewinding a chain record (a whole kind with its
// head, or the whole table) no longer matches. heads is NULL only until
// the first commit after the migration computes it (SQL has no SHA-256).

// Rows are written in two steps. A commit inserts new rows into
// ledger_recent, a table with no secondary index: appending there
// touches a handful of pages, so the fsync'd commit that acknowledges a
// report writes little. The writer later moves sealed rows into
// ledger_event in one transaction of thousands of rows (mergeRows, or
// once a second when fewer arrive), so each page of the per-app index is
// rewritten once for all of them instead of once per commit. Rows still
// open for coalescing stay in ledger_recent until sealed. Readers see
// both tables (fromRows, and the ledger_all view for `sqlite3` users);
// ledger_recent holds at most about a second's rows, so scanning it is
// cheap. A row has one seq wherever it lives, and the hash does not
// depend on the table, so moving it never breaks the chain.

// fromRows is a FROM source of cols over both tables for the rows
// matching where, with args repeated for the second table. The filter is
// applied inside each arm so that SQLite can answer the ledger_event arm
// from an index (covering, when cols allow).
func fromRows(cols, where string, args []any) (string, []any) {
	src := `(SELECT ` + cols + ` FROM ledger_event WHERE ` + where + ` UNION ALL SELECT ` + cols + ` FROM ledger_recent WHERE ` + where + `)`
	return src, append(slices.Clone(args), args...)
}

// Open refuses a database holding objects no registered step creates.
func init() { store.Register(Component, migrations) }

// Migrate brings the ledger schema up to date.
func Migrate(ctx context.Context, db *sql.DB) error {
	return store.Migrate(ctx, db, Component, migrations)
}

// zeroHash is the "previous hash" of the first row of a chain.
var zeroHash = make([]byte, sha256.Size)

// content is what a row's hash covers, in the order hashed.
type content struct {
	Seq, First, Last, Count int64
	UID                     int64
	Packages                string // comma-joined
	Kind, Category, Op      string
	Result, AppState        string
	Rules                   int64
	Detail                  string
}

// rowHash is SHA-256(prev || encoding of c), where integers are 8-byte
// big-endian and strings a 4-byte big-endian length then UTF-8 bytes, in
// the field order of content. It is documented in the rules so anyone
// can re-check an export. The encoding is built in h's buffer and hashed
// in one call: the writer hashes every row.
func rowHash(h *hasher, prev []byte, c *content) []byte {
	b := append(h.buf[:0], prev...)
	i64 := func(v int64) { b = binary.BigEndian.AppendUint64(b, uint64(v)) }
	str := func(s string) { b = binary.BigEndian.AppendUint32(b, uint32(len(s))); b = append(b, s...) }
	i64(c.Seq)
	i64(c.First)
	i64(c.Last)
	i64(c.Count)
	i64(c.UID)
	str(c.Packages)
	str(c.Kind)
	str(c.Category)
	str(c.Op)
	str(c.Result)
	str(c.AppState)
	i64(c.Rules)
	str(c.Detail)
	h.buf = b
	sum := sha256.Sum256(b)
	return sum[:]
}

// headsDigest is SHA-256 over lastSeq and every ledger_chain record in
// kind order (kind, anchor_seq, pruned, head_seq as 8-byte big-endian
// integers, anchor_hash and head_hash as a 4-byte length and bytes). q
// is the writer's transaction or Verify's snapshot.
func headsDigest(ctx context.Context, q querier, lastSeq int64) ([]byte, int, error) {
	rows, err := q.QueryContext(ctx, `SELECT kind, anchor_seq, anchor_hash, pruned, head_seq, head_hash FROM ledger_chain ORDER BY kind`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	h := sha256.New()
	b := binary.BigEndian.AppendUint64(nil, uint64(lastSeq))
	n := 0
	for rows.Next() {
		var kind, anchor, pruned, head int64
		var ah, hh []byte
		if err := rows.Scan(&kind, &anchor, &ah, &pruned, &head, &hh); err != nil {
			return nil, 0, err
		}
		b = appendChainRecord(b, kind, anchor, pruned, head, ah, hh)
		h.Write(b)
		b = b[:0]
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	h.Write(b)
	return h.Sum(nil), n, nil
}

// appendChainRecord is one chain record as the tip's digest covers it:
// headsDigest (from the table) and writerState.digest (from the writer's
// copy) must encode it byte for byte alike.
func appendChainRecord(b []byte, kind, anchor, pruned, head int64, anchorHash, headHash []byte) []byte {
	for _, v := range []int64{kind, anchor, pruned, head} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	for _, v := range [][]byte{anchorHash, headHash} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return b
}

// querier is what headsDigest reads through.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// writeTip records the newest seq handed out and the digest of the
// chain records, computed from the writer's copy of them (which equals
// the table in the writer's transaction; Verify recomputes it from the
// table with headsDigest).
func (l *Ledger) writeTip(ctx context.Context, ts *txStmts) error {
	last := l.w.nextSeq - 1
	if err := ts.exec(ctx, stTip, last, l.w.digest(last)); err != nil {
		return fmt.Errorf("tip: %w", err)
	}
	return nil
}

// digest is headsDigest over the writer's copy of the chain records.
func (w *writerState) digest(lastSeq int64) []byte {
	kinds := make([]int64, 0, len(w.chains))
	for k, c := range w.chains {
		// A chain whose record was removed from the table (Verify
		// reports it) is not in the table's digest either.
		if c.recorded {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	b := binary.BigEndian.AppendUint64(w.h.buf[:0], uint64(lastSeq))
	for _, k := range kinds {
		c := w.chains[k]
		var hh []byte
		if c.headStored {
			hh = c.headHash
		}
		b = appendChainRecord(b, k, c.anchorSeq, c.pruned, c.headSeq, c.anchorHash, hh)
	}
	w.h.buf = b
	sum := sha256.Sum256(b)
	return sum[:]
}

// tagBytes is how much of its hash a row sealed under schema 4 stores.
//
// What protects the record is the chain, not what each row stores:
// Verify recomputes every row's full SHA-256 from the kind's anchor,
// each from the one before, and the last must equal the chain's head
// hash, stored whole in ledger_chain and covered by the tip's digest. A
// row changed, inserted or removed changes every full hash after it and
// so the head: to pass, an attacker must rewrite the head and the tip,
// which is exactly what full per-row hashes also required (there is no
// secret on the device). The tag only says where the chain first goes
// wrong: the first row whose tag differs from its recomputed hash is
// named. A changed row keeps its own tag by chance with probability
// 2^-8; a later row of its kind is then named instead (the next one but
// with probability 2^-8), and the head check fails either way. One byte
// instead of 32 saves 31 bytes a row, about a quarter of the ledger
// (docs/ledger-storage.md).
const tagBytes = 1

// rowTag is what a sealed row stores of its full hash.
func rowTag(full []byte) []byte { return full[:tagBytes] }

// tagMatches says whether stored, a row's stored hash (the full hash of
// a row sealed before schema 4, a tag since), fits its recomputed full
// hash.
func tagMatches(stored, full []byte) bool {
	switch len(stored) {
	case len(full), tagBytes:
		return string(stored) == string(full[:len(stored)])
	}
	return false
}

// hasher holds rowHash's scratch buffer.
type hasher struct{ buf []byte }
