package main

// Reading a task's output, identically for both runtimes: one thread
// per descriptor in a blocking read(2), the arrival time of every chunk
// taken right after read returns. Our task writes into a FIFO opened
// the way Nomad's logmon opens it (a blocking open for reading made
// before the task starts, reopened after each writer went away); crun's
// container writes into a pipe that is `crun run`'s stdout.

import (
	"bytes"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// outReader collects what arrives on one descriptor and when.
type outReader struct {
	mu    sync.Mutex
	cond  *sync.Cond
	buf   bytes.Buffer
	at    []time.Time // arrival of each chunk
	ends  []int       // buf length after each chunk
	eof   time.Time   // first end of file (every writer gone)
	stop  bool
	fd    int // the descriptor being read, -1 between opens
	fifo  string
	done  chan struct{}
	fails error
}

func newOutReader() *outReader {
	r := &outReader{fd: -1, done: make(chan struct{})}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// readPipe reads fd (owned from now on) until end of file.
func readPipe(fd int) *outReader {
	r := newOutReader()
	r.fd = fd
	go func() {
		defer close(r.done)
		r.drain(fd)
		syscall.Close(fd)
		r.mu.Lock()
		r.fd = -1
		r.mu.Unlock()
	}()
	return r
}

// readFIFO creates the FIFO at path and reads it like logmon.
func readFIFO(path string) (*outReader, error) {
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return nil, fmt.Errorf("mkfifo %s: %w", path, err)
	}
	r := newOutReader()
	r.fifo = path
	go func() {
		defer close(r.done)
		for {
			var fd int
			var err error
			for {
				fd, err = syscall.Open(path,
					syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
				if err != syscall.EINTR {
					break
				}
			}
			r.mu.Lock()
			if err != nil {
				r.fails = err
				r.mu.Unlock()
				return
			}
			if r.stop {
				r.mu.Unlock()
				syscall.Close(fd)
				return
			}
			r.fd = fd
			r.mu.Unlock()

			r.drain(fd)

			r.mu.Lock()
			r.fd = -1
			stop := r.stop
			r.mu.Unlock()
			syscall.Close(fd)
			if stop {
				return
			}
		}
	}()
	return r, nil
}

// drain reads fd until end of file or error.
func (r *outReader) drain(fd int) {
	chunk := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, chunk)
		now := time.Now()
		if err == syscall.EINTR {
			continue
		}
		r.mu.Lock()
		if n > 0 {
			r.buf.Write(chunk[:n])
			r.at = append(r.at, now)
			r.ends = append(r.ends, r.buf.Len())
		} else if r.eof.IsZero() {
			r.eof = now
		}
		r.cond.Broadcast()
		r.mu.Unlock()
		if n <= 0 || err != nil {
			return
		}
	}
}

// waitUntil waits (at most limit) until cond holds; cond runs with r.mu
// held.
func (r *outReader) waitUntil(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	t := time.AfterFunc(limit, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer t.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for !cond() {
		if !time.Now().Before(deadline) {
			return false
		}
		r.cond.Wait()
	}
	return true
}

// firstByte returns the arrival time of the first byte.
func (r *outReader) firstByte(limit time.Duration) (time.Time, bool) {
	var t time.Time
	ok := r.waitUntil(limit, func() bool {
		if len(r.at) > 0 {
			t = r.at[0]
			return true
		}
		return false
	})
	return t, ok
}

// arrival returns when the output first contained s: the arrival time
// of the chunk that completed it.
func (r *outReader) arrival(s string, limit time.Duration) (time.Time,
	bool) {
	var t time.Time
	ok := r.waitUntil(limit, func() bool {
		i := bytes.Index(r.buf.Bytes(), []byte(s))
		if i < 0 {
			return false
		}
		end := i + len(s)
		for k, e := range r.ends {
			if e >= end {
				t = r.at[k]
				return true
			}
		}
		return false
	})
	return t, ok
}

// eofAt waits for the first end of file.
func (r *outReader) eofAt(limit time.Duration) (time.Time, bool) {
	var t time.Time
	ok := r.waitUntil(limit, func() bool {
		t = r.eof
		return !t.IsZero()
	})
	return t, ok
}

func (r *outReader) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// close ends a FIFO reader: a reader blocked in open is released by an
// open for writing, one blocked in read sees end of file once the
// task's writers are gone (DestroyTask made sure of that). It waits at
// most a second; a reader still blocked then is left to the process
// exit.
func (r *outReader) close() {
	deadline := time.Now().Add(time.Second)
	for {
		r.mu.Lock()
		r.stop = true
		r.mu.Unlock()
		if r.fifo != "" {
			if fd, err := syscall.Open(r.fifo, syscall.O_WRONLY|
				syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0); err == nil {
				syscall.Close(fd)
			}
		}
		select {
		case <-r.done:
			return
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return
		}
	}
}
