package framework

import "golang.org/x/sys/unix"

// yieldCPU gives up the rest of this thread's time slice once. op.start
// calls it between writing the indicator notification and starting the
// use's commit: Linux wakes a subscriber's reader on the waker's CPU,
// and without a yield it waits there behind the commit's CPU work
// (tens of microseconds, then the fsync), which a bare round trip does
// not do after its reply. The yield costs one system call when nothing
// else is waiting to run, and the reply still waits for the commit.
func yieldCPU() {
	unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}
