package jetstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrStoreInUse is returned when another process runs an embedded server
// on the same store.
var ErrStoreInUse = errors.New("jetstream: store in use")

// lockStore takes an exclusive lock on the embedded server's store
// directory: two embedded servers on one store would silently diverge (a
// promotion made by one is never seen by the other). The lock file names
// the holder and, when it accepts NATS clients, its URL.
// Connect takes it for the embedded server it starts.
func LockStore(dir, listen string) (unlock func(), err error) {
	if dir == "" {
		dir = DefaultStoreDir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("jetstream: store %s: %w", dir, err)
	}
	path := filepath.Join(dir, "flowrun.lock")
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("jetstream: store %s: %w", dir, err)
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(fh, 512))
		fh.Close()
		msg := fmt.Sprintf("store %s is in use by another flowrun process (%s)", dir, strings.TrimSpace(string(holder)))
		if i := bytes.Index(holder, []byte("nats=")); i >= 0 {
			url := strings.Fields(string(holder[i+5:]))[0]
			return nil, fmt.Errorf("%w: %s; connect to it with --nats %s", ErrStoreInUse, msg, url)
		}
		return nil, fmt.Errorf("%w: %s; stop it, or start it with --listen HOST:PORT and pass --nats nats://HOST:PORT here", ErrStoreInUse, msg)
	}
	info := fmt.Sprintf("pid=%d", os.Getpid())
	if listen != "" {
		info += " nats=nats://" + listen
	}
	fh.Truncate(0)
	fh.WriteAt([]byte(info+"\n"), 0)
	return func() {
		fh.Truncate(0)
		syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
		fh.Close()
	}, nil
}
