package store

// NoDriver is Driver's value in a binary built with -tags nosqlite, which
// links no SQLite driver at all.
const NoDriver = "none"
