package store

// SQLite primary result codes that mean the storage, not the request,
// is at fault.
const (
	codePerm     = 3
	codeReadOnly = 8
	codeIOErr    = 10
	codeCorrupt  = 11
	codeFull     = 13
	codeCantOpen = 14
	codeNotADB   = 26
)

// IsFull reports whether err is SQLite's "database or disk is full".
func IsFull(err error) bool { return err != nil && code(err) == codeFull }

// IsStorageFailure reports whether err comes from the storage itself (a
// full disk, an I/O error, a damaged or unwritable file) rather than
// from the statement: the caller should say storage is failing, not
// that the request was wrong.
func IsStorageFailure(err error) bool {
	if err == nil {
		return false
	}
	switch code(err) {
	case codePerm, codeReadOnly, codeIOErr, codeCorrupt, codeFull, codeCantOpen, codeNotADB:
		return true
	}
	return false
}
