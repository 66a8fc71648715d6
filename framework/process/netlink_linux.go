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
	// Threads come and go far more often than processes (every Go or
	// Java runtime starts dozens): drop their events in the kernel, so
	// the daemon is not woken for them.
	if err := attachThreadFilter(fd); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: attach filter: %w", ErrConnectorUnavailable, err)
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

// attachThreadFilter installs a classic BPF program that accepts only
// fork, exec, uid, comm and exit events of whole processes (pid ==
// tgid). Offsets: nlmsghdr 16 + cn_msg 20 = 36 for proc_event.what, data
// at 52; fork data is parent_pid, parent_tgid, child_pid, child_tgid,
// the others start with process_pid, process_tgid. BPF loads words in
// network byte order while the kernel writes host order: constants are
// swapped, and pid == tgid compares two loads made the same way.
func attachThreadFilter(fd int) error {
	be := func(v uint32) uint32 {
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], v)
		return binary.BigEndian.Uint32(b[:])
	}
	const (
		ldW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeqK = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jeqX = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_X
		st   = unix.BPF_ST
		ldxM = unix.BPF_LDX | unix.BPF_MEM
		retK = unix.BPF_RET | unix.BPF_K
	)
	prog := []unix.SockFilter{
		/* 0 */ {Code: ldW, K: 36},
		/* 1 */ {Code: jeqK, K: be(procEventFork), Jt: 5, Jf: 0}, // → 7
		/* 2 */ {Code: jeqK, K: be(procEventExec), Jt: 9, Jf: 0}, // → 12
		/* 3 */ {Code: jeqK, K: be(procEventUID), Jt: 8, Jf: 0}, // → 12
		/* 4 */ {Code: jeqK, K: be(procEventComm), Jt: 7, Jf: 0}, // → 12
		/* 5 */ {Code: jeqK, K: be(procEventExit), Jt: 6, Jf: 0}, // → 12
		/* 6 */ {Code: retK, K: 0},
		/* 7 */ {Code: ldW, K: 60}, // child_pid
		/* 8 */ {Code: st, K: 0},
		/* 9 */ {Code: ldxM, K: 0},
		/* 10 */ {Code: ldW, K: 64}, // child_tgid
		/* 11 */ {Code: jeqX, Jt: 6, Jf: 5}, // → 18 accept, 17 drop
		/* 12 */ {Code: ldW, K: 52}, // process_pid
		/* 13 */ {Code: st, K: 0},
		/* 14 */ {Code: ldxM, K: 0},
		/* 15 */ {Code: ldW, K: 56}, // process_tgid
		/* 16 */ {Code: jeqX, Jt: 1, Jf: 0}, // → 18 accept, 17 drop
		/* 17 */ {Code: retK, K: 0},
		/* 18 */ {Code: retK, K: 0xffff},
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]})
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
// and no timer wakes), then drains every datagram already queued, and
// returns their events. It returns os.ErrClosed after Close.
func (c *Connector) Read(buf []byte, out []KernelEvent) ([]KernelEvent, error) {
	rc, err := c.f.SyscallConn()
	if err != nil {
		return out, err
	}
	got := false
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			n, _, e := unix.Recvfrom(int(fd), buf, 0)
			switch {
			case e == unix.EAGAIN:
				return got // wait in the poller only if nothing came yet
			case e == unix.ENOBUFS:
				out = append(out, KernelEvent{Kind: EvLost})
			case e != nil:
				rerr = e
				return true
			default:
				out = parseNetlink(buf[:n], out)
			}
			got = true
		}
	})
	if err != nil {
		return out, err
	}
	return out, rerr
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
