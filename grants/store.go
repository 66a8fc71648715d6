package grants

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"permd/ledger/store"
)

// Component is the schema component name for store.Migrate.
const Component = "grants"

// migrations: current grants keyed by (user, package, category code),
// and an append-only history of every change. Category, action and
// actor are integer codes; the grant itself is its JSON, which lets the
// model grow without a migration per option.
var migrations = []store.Migration{{Version: 1, SQL: `
CREATE TABLE grants (
	user     INTEGER NOT NULL,
	package  TEXT    NOT NULL,
	category INTEGER NOT NULL,
	uid      INTEGER NOT NULL,
	spec     TEXT    NOT NULL,
	version  INTEGER NOT NULL,
	PRIMARY KEY (user, package, category)
) STRICT;
CREATE TABLE grant_history (
	id       INTEGER PRIMARY KEY,
	at_ms    INTEGER NOT NULL,
	user     INTEGER NOT NULL,
	package  TEXT    NOT NULL,
	category INTEGER NOT NULL,
	action   INTEGER NOT NULL, -- 1 set, 2 revoke, 3 expire
	actor    INTEGER NOT NULL, -- 1 dialog, 2 settings, 3 shell, 4 policy, 5 expiry, 6 package_manager
	spec     TEXT              -- the grant after a set, NULL otherwise
) STRICT;
CREATE INDEX grant_history_key ON grant_history(user, package, category, id);
`}, {Version: 2, SQL: `
-- Each Android user's location-fudging secret (see fudge.go), kept so
-- that a restart does not draw an independent offset; replaced when
-- fudge_rotation has passed since created_ms.
CREATE TABLE fudge_secret (
	user       INTEGER PRIMARY KEY,
	seed       BLOB    NOT NULL CHECK (length(seed) = 32),
	created_ms INTEGER NOT NULL
) STRICT;
`}}

// Open refuses a database holding objects no registered step creates.
func init() { store.Register(Component, migrations) }

// Change actions.
const (
	ActionSet    = "set"
	ActionRevoke = "revoke"
	ActionExpire = "expire"
)

var actionCodes = map[string]int{ActionSet: 1, ActionRevoke: 2, ActionExpire: 3}
var actorCodes = map[string]int{ByDialog: 1, BySettings: 2, ByShell: 3, ByPolicy: 4, ByExpiry: 5, ByPackageManager: 6}

func codeName(m map[string]int, c int) string {
	for k, v := range m {
		if v == c {
			return k
		}
	}
	return fmt.Sprintf("code%d", c)
}

// HistoryEntry is one past change of a grant.
type HistoryEntry struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	By     string    `json:"by"`
	Grant  *Grant    `json:"grant,omitempty"`
}

// Store persists grants and their history in permd's SQLite database.
type Store struct {
	db  *sql.DB
	cat *Catalogue
}

// OpenStore migrates the grants schema in db.
func OpenStore(ctx context.Context, db *sql.DB, cat *Catalogue) (*Store, error) {
	if err := store.Migrate(ctx, db, Component, migrations); err != nil {
		return nil, err
	}
	return &Store{db: db, cat: cat}, nil
}

// load returns every current grant.
func (s *Store) load(ctx context.Context) ([]Grant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT spec FROM grants`)
	if err != nil {
		return nil, fmt.Errorf("load grants: %w", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var spec string
		if err := rows.Scan(&spec); err != nil {
			return nil, fmt.Errorf("load grants: %w", err)
		}
		var g Grant
		if err := json.Unmarshal([]byte(spec), &g); err != nil {
			return nil, fmt.Errorf("load grants: bad row: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// write applies one change (set with g, or revoke/expire of key) and its
// history row in one transaction.
func (s *Store) write(ctx context.Context, at time.Time, action, by string, key Grant, g *Grant) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write grant: %w", err)
	}
	defer tx.Rollback()
	if err := s.writeTx(ctx, tx, at, action, by, key, g); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("write grant: %w", err)
	}
	return nil
}

// writeTx is write inside tx, which the caller commits.
func (s *Store) writeTx(ctx context.Context, tx *sql.Tx, at time.Time, action, by string, key Grant, g *Grant) error {
	cat, ok := s.cat.Category(key.Category)
	if !ok {
		return fmt.Errorf("write grant: unknown category %q", key.Category)
	}
	var spec any
	if g != nil {
		b, err := json.Marshal(g)
		if err != nil {
			return fmt.Errorf("write grant: %w", err)
		}
		spec = string(b)
		if _, err := tx.ExecContext(ctx, `INSERT INTO grants(user, package, category, uid, spec, version) VALUES(?,?,?,?,?,?)
			ON CONFLICT(user, package, category) DO UPDATE SET uid=excluded.uid, spec=excluded.spec, version=excluded.version`,
			g.User, g.Package, cat.Code, g.UID, spec, g.Version); err != nil {
			return fmt.Errorf("write grant: %w", err)
		}
	} else if _, err := tx.ExecContext(ctx, `DELETE FROM grants WHERE user=? AND package=? AND category=?`, key.User, key.Package, cat.Code); err != nil {
		return fmt.Errorf("write grant: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO grant_history(at_ms, user, package, category, action, actor, spec) VALUES(?,?,?,?,?,?,?)`,
		at.UnixMilli(), key.User, key.Package, cat.Code, actionCodes[action], actorCodes[by], spec); err != nil {
		return fmt.Errorf("write grant history: %w", err)
	}
	return nil
}

// history returns the changes of one grant, oldest first, at most limit.
func (s *Store) history(ctx context.Context, user int, pkg, category string, limit int) ([]HistoryEntry, error) {
	cat, ok := s.cat.Category(category)
	if !ok {
		return nil, fmt.Errorf("grant history: unknown category %q", category)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT at_ms, action, actor, spec FROM (
		SELECT id, at_ms, action, actor, spec FROM grant_history WHERE user=? AND package=? AND category=? ORDER BY id DESC LIMIT ?
	) ORDER BY id`, user, pkg, cat.Code, limit)
	if err != nil {
		return nil, fmt.Errorf("grant history: %w", err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var at int64
		var action, actor int
		var spec sql.NullString
		if err := rows.Scan(&at, &action, &actor, &spec); err != nil {
			return nil, fmt.Errorf("grant history: %w", err)
		}
		h := HistoryEntry{At: time.UnixMilli(at).UTC(), Action: codeName(actionCodes, action), By: codeName(actorCodes, actor)}
		if spec.Valid {
			var g Grant
			if err := json.Unmarshal([]byte(spec.String), &g); err == nil {
				h.Grant = &g
			}
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// LoadSecret returns user's location-fudging secret, ok false if none.
func (s *Store) LoadSecret(ctx context.Context, user int) (seed [32]byte, created time.Time, ok bool, err error) {
	var b []byte
	var ms int64
	err = s.db.QueryRowContext(ctx, `SELECT seed, created_ms FROM fudge_secret WHERE user=?`, user).Scan(&b, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return seed, created, false, nil
	}
	if err != nil {
		return seed, created, false, fmt.Errorf("load location secret: %w", err)
	}
	if len(b) != len(seed) {
		return seed, created, false, fmt.Errorf("load location secret: %d bytes, want %d", len(b), len(seed))
	}
	copy(seed[:], b)
	return seed, time.UnixMilli(ms), true, nil
}

// SaveSecret stores (or replaces) user's location-fudging secret.
func (s *Store) SaveSecret(ctx context.Context, user int, seed [32]byte, created time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO fudge_secret(user, seed, created_ms) VALUES(?,?,?)
		ON CONFLICT(user) DO UPDATE SET seed=excluded.seed, created_ms=excluded.created_ms`, user, seed[:], created.UnixMilli()); err != nil {
		return fmt.Errorf("save location secret: %w", err)
	}
	return nil
}
