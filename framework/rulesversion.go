package framework

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"permd/ledger"
)

// checkPublished refuses rules whose version was already published with
// other content: in force in this daemon, or stored in the database
// because a record was made under it. A published version is immutable,
// so rules.get {version: N} always serves what records of version N were
// made under, and a change of the rules always shows as a new version.
func (p *ledgerPart) checkPublished(s *Service, r *ledger.Rules) error {
	changed := func(where string) error {
		return &ConfigError{File: RulesFile, Field: "version", Problem: fmt.Sprintf(
			"version %d was already published %s with different content; a published version never changes: give the changed rules a new version", r.Version, where)}
	}
	if cur := p.rules.Load(); cur != nil && cur.Version == r.Version && !sameJSON(cur.Raw(), r.Raw()) {
		return changed("(it is in force now)")
	}
	if s.db == nil {
		return nil
	}
	ctx := context.Background()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_rules'`).Scan(&n); err != nil {
		return fmt.Errorf("read published rules: %w", err)
	}
	if n == 0 {
		return nil // a fresh database: nothing published yet
	}
	stored, err := ledger.NewReader(s.db).RulesVersion(ctx, r.Version)
	if err != nil {
		return fmt.Errorf("read published rules: %w", err)
	}
	if stored != nil && !sameJSON(stored, r.Raw()) {
		return changed("on this device (records were made under it)")
	}
	return nil
}

// sameJSON reports whether a and b are the same JSON text apart from
// insignificant white space.
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
