package framework

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// AndroidSocketEnv is where init passes the listening socket of
// `socket permd stream ...` in permd.rc (Android names it
// ANDROID_SOCKET_<name>).
const AndroidSocketEnv = "ANDROID_SOCKET_permd"

// InheritedListener returns the socket init created, or nil when the
// environment names none.
func InheritedListener() (net.Listener, error) {
	v, ok := os.LookupEnv(AndroidSocketEnv)
	if !ok {
		return nil, nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 0 {
		return nil, fmt.Errorf("%s=%q: not a file descriptor number", AndroidSocketEnv, v)
	}
	// init does not pass +listen by default: the socket is bound but may
	// not be listening yet. listen(2) on a listening socket is harmless.
	if err := unix.Listen(fd, 128); err != nil {
		return nil, fmt.Errorf("listen on inherited socket fd %d: %w", fd, err)
	}
	unix.CloseOnExec(fd)
	f := os.NewFile(uintptr(fd), "/dev/socket/permd")
	ln, err := net.FileListener(f)
	f.Close() // FileListener dup'ed it
	if err != nil {
		return nil, fmt.Errorf("inherited socket fd %d: %w", fd, err)
	}
	return ln, nil
}

// ErrDaemonRunning means a live daemon answers on the socket path.
var ErrDaemonRunning = errors.New("another permd is already serving this socket")

// BindSocket binds path with mode 0660. It refuses to replace a socket a
// live daemon answers on, removes a stale one, and never leaves a moment
// when the path exists with a wider mode: the socket is bound under a
// temporary name with a tight umask, chmod'ed, then renamed into place.
// A lock file held for the daemon's lifetime makes two daemons starting
// at once take turns. The returned cleanup removes the socket and lock.
func BindSocket(path string) (net.Listener, func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, fmt.Errorf("bind %s: %w", path, err)
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("bind %s: %w", path, err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, nil, fmt.Errorf("bind %s: lock held by another process: %w", path, ErrDaemonRunning)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			lock.Close()
			return nil, nil, fmt.Errorf("bind %s: exists and is not a socket; refusing to remove it", path)
		}
		c, err := net.DialTimeout("unix", path, 500*time.Millisecond)
		if err == nil {
			c.Close()
			lock.Close()
			return nil, nil, fmt.Errorf("bind %s: %w", path, ErrDaemonRunning)
		}
		// Nobody answers: a daemon died without cleaning up.
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	os.Remove(tmp)
	old := syscall.Umask(0o117)
	ln, err := net.Listen("unix", tmp)
	syscall.Umask(old)
	if err != nil {
		lock.Close()
		return nil, nil, fmt.Errorf("bind %s: %w", path, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o660); err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		ln.Close()
		os.Remove(tmp)
		lock.Close()
		return nil, nil, fmt.Errorf("bind %s: %w", path, err)
	}
	cleanup := func() {
		os.Remove(path)
		lock.Close()
	}
	return ln, cleanup, nil
}
