// Package process keeps a table of the running processes from procfs
// (updated by the kernel's process connector where available, by polling
// otherwise), tells each app's state from its oom_score_adj, and turns
// process starts seen by procfs, the logd event log and the framework
// into one classified record per start: user start, self-start or
// associated start.
package process
