package main

import (
	"fmt"

	"permd/ledger"
	"permd/ledger/store"
)

// openPulled opens a database file pulled from a device, read-only. A
// permctl built with -tags nosqlite (the device build, see
// docs/performance.md) links no SQLite driver and says so.
func openPulled(path string) (ledgerSource, func(), error) {
	if store.Driver == store.NoDriver {
		return nil, nil, fmt.Errorf("--db: this permctl is built without SQLite (the device build); pull the file and run a host permctl: adb exec-out cat /data/misc/permd/%s > %s", store.FileName, store.FileName)
	}
	db, err := store.OpenReadOnly(path)
	if err != nil {
		return nil, nil, err
	}
	return ledger.NewReader(db), func() { db.Close() }, nil
}
