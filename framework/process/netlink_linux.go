package process

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// Process connector constants (linux/connector.h, linux/cn_proc.h); not
// all are in x/sys.
const (
	cnIdxProc         = 0x1
	cnValProc         = 0x1
	procCnMcastListen = 1
	procCnMcastIgnore = 2

	procEventFork = 0x00000001
	procEventExec = 0x00000002
	procEventUID  = 0x00000004
	procEventComm = 0x00000200
	procEventExit = 0x80000000

	nlmsgHdrLen = 16
	cnMsgLen    = 20
)

// EventKind is what the kernel reported.
type EventKind int

// Kernel process events that matter to the table.
const (
	EvFork EventKind = iota + 1
	EvExec
	EvUID
	EvComm
	EvExit
	EvLost // the socket overflowed: events were lost, resync
)

// KernelEvent is one process connector event for a whole process (thread
// events are filtered out).
type KernelEvent struct {
	Kind EventKind
	PID  int
	PPID int // for EvFork
}

// Connector is a subscription to the kernel's process connector.
type Connector struct {
	f     *os.File
	close sync.Once
}

// ErrConnectorUnavailable wraps why the process connector cannot be used
// (no CAP_NET_ADMIN, a kernel without CONFIG_PROC_EVENTS, a sandbox).
var ErrConnectorUnavailable = errors.New("process connector unavailable")

// OpenConnector binds a NETLINK_CONNECTOR socket to the proc group and
// asks the kernel to multicast process events to it.
func OpenConnector() (*Connector, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, fmt.Errorf("%w: socket: %w", ErrConnectorUnavailable, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: bind: %w", ErrConnectorUnavailable, err)
	}
	// A burst of forks (a build, boot) must not overflow the queue
	// before we drain it; if it still does, we resync from /proc.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	if err := unix.Sendto(fd, listenMsg(procCnMcastListen), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: subscribe: %w", ErrConnectorUnavailable, err)
	}
	return &Connector{f: os.NewFile(uintptr(fd), "netlink-proc")}, nil
}

// listenMsg is nlmsghdr + cn_msg + the u32 op.
func listenMsg(op uint32) []byte {
	b := make([]byte, nlmsgHdrLen+cnMsgLen+4)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(len(b)))       // nlmsg_len
	le.PutUint16(b[4:], unix.NLMSG_DONE)      // nlmsg_type
	le.PutUint32(b[12:], uint32(os.Getpid())) // nlmsg_pid
	le.PutUint32(b[16:], cnIdxProc)           // cn_msg.id.idx
	le.PutUint32(b[20:], cnValProc)           // cn_msg.id.val
	le.PutUint16(b[32:], 4)                   // cn_msg.len
	le.PutUint32(b[36:], op)                  // payload
	return b
}

// Read blocks until events arrive (in the Go poller: no thread is held
// and no timer wakes) and returns them. It returns os.ErrClosed after
// Close.
func (c *Connector) Read(buf []byte, out []KernelEvent) ([]KernelEvent, error) {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return out, err
	}
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr = unix.Recvfrom(int(fd), buf, 0)
		return rerr != unix.EAGAIN
	})
	if err != nil {
		return out, err
	}
	if rerr == unix.ENOBUFS {
		return append(out, KernelEvent{Kind: EvLost}), nil
	}
	if rerr != nil {
		return out, rerr
	}
	return parseNetlink(buf[:n], out), nil
}

// parseNetlink decodes every message in a datagram.
func parseNetlink(b []byte, out []KernelEvent) []KernelEvent {
	le := binary.LittleEndian
	for len(b) >= nlmsgHdrLen {
		l := int(le.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return out
		}
		msg := b[nlmsgHdrLen:l]
		b = b[(l+3)&^3:]
		if len(msg) < cnMsgLen+16 {
			continue
		}
		if le.Uint32(msg[0:]) != cnIdxProc || le.Uint32(msg[4:]) != cnValProc {
			continue
		}
		ev := msg[cnMsgLen:] // proc_event: what, cpu, timestamp_ns, data
		what := le.Uint32(ev[0:])
		d := ev[16:]
		u32 := func(i int) int {
			if len(d) < 4*(i+1) {
				return -1
			}
			return int(le.Uint32(d[4*i:]))
		}
		switch what {
		case procEventFork: // parent_pid, parent_tgid, child_pid, child_tgid
			if u32(2) == u32(3) && u32(2) > 0 {
				out = append(out, KernelEvent{Kind: EvFork, PID: u32(3), PPID: u32(1)})
			}
		case procEventExec, procEventUID, procEventComm, procEventExit: // process_pid, process_tgid, ...
			if u32(0) != u32(1) || u32(0) <= 0 {
				continue // a thread
			}
			k := map[uint32]EventKind{procEventExec: EvExec, procEventUID: EvUID, procEventComm: EvComm, procEventExit: EvExit}[what]
			out = append(out, KernelEvent{Kind: k, PID: u32(0)})
		}
	}
	return out
}

// Close unsubscribes and closes the socket; a blocked Read returns.
func (c *Connector) Close() error {
	var err error
	c.close.Do(func() {
		if rc, e := c.f.SyscallConn(); e == nil {
			rc.Control(func(fd uintptr) {
				unix.Sendto(int(fd), listenMsg(procCnMcastIgnore), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
			})
		}
		err = c.f.Close()
	})
	return err
}
