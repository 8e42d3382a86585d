package graphdb

/*
#include <stdlib.h>
#include "graphdb.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Conn is a session on a database. The library lets one thread at a time into a
// connection; Conn enforces that with a mutex, so it is safe for concurrent use but runs
// its calls one after another. For parallelism take one Conn per goroutine (DB.Conn hands
// out any number) or use the database/sql driver's pool.
//
// Rows, Stmt and Tx made from a Conn go through the same mutex.
type Conn struct {
	// mu is held across every library call on h or on a handle made from it. Close holds it
	// too, so h is never freed under a running call.
	mu sync.Mutex
	// hmu guards h for Interrupt, which must not wait for mu (the call it stops holds mu).
	hmu sync.Mutex
	h   *C.graphdb_connection
	// broken is set once a call failed with INTERNAL: the library then refuses every
	// further call, so the database/sql pool drops the connection.
	broken bool
}

func newConn(h *C.graphdb_connection) *Conn {
	c := &Conn{h: h}
	runtime.SetFinalizer(c, (*Conn).Close)
	return c
}

// Close rolls back an open transaction and releases the connection; Rows already returned
// stay readable. It waits for a call in progress. Closing twice is fine.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.h == nil {
		return nil
	}
	// graphdb_disconnect rolls back an open transaction; its Tx keeps a valid handle that
	// its Rollback (or finalizer) frees.
	c.hmu.Lock()
	C.graphdb_disconnect(c.h)
	c.h = nil
	c.hmu.Unlock()
	runtime.SetFinalizer(c, nil)
	return nil
}

// Interrupt asks the statement running on c, if any, to stop; it then fails with
// INTERRUPTED. Safe from any goroutine. Cancelling the statement's context does the same.
func (c *Conn) Interrupt() {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	if c.h != nil {
		C.graphdb_interrupt(c.h)
	}
}

// lastError describes the failure st of the call just made on c (c.mu held).
func (c *Conn) lastError(st Status) *Error {
	if st == StatusInternal {
		c.broken = true
	}
	if c.h == nil {
		return newError(st, "the call failed after its connection was closed")
	}
	e := &Error{Code: st, Message: C.GoString(C.graphdb_connection_error_message(c.h))}
	var line, col C.size_t
	if C.graphdb_connection_error_position(c.h, &line, &col) == C.GRAPHDB_OK {
		e.Line, e.Column = int(line), int(col)
	}
	return e
}

// callError is lastError, also wrapping ctx.Err() when the call was interrupted because
// ctx ended, so errors.Is(err, context.Canceled) holds.
func (c *Conn) callError(ctx context.Context, st Status) *Error {
	e := c.lastError(st)
	if st == StatusInterrupted {
		e.cause = ctx.Err()
	}
	return e
}

func ctxError(ctx context.Context) *Error {
	return &Error{Code: StatusInterrupted, Message: "the context ended before the call", cause: ctx.Err()}
}

// watch interrupts the statement running on h once ctx is done, until the returned stop is
// called; stop returns only after the watcher has exited, so no interrupt outlives the call.
func watch(ctx context.Context, h *C.graphdb_connection) (stop func()) {
	done := ctx.Done()
	if done == nil {
		return func() {}
	}
	stopCh := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-stopCh:
			return
		case <-done:
		}
		// The library clears the interrupt flag when a statement starts, so one raised
		// just before graphdb_query got going would be lost: repeat until the call ends.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			C.graphdb_interrupt(h)
			select {
			case <-stopCh:
				return
			case <-tick.C:
			}
		}
	}()
	return func() {
		close(stopCh)
		<-exited
	}
}

// enter locks c.mu for a call on c, then checks, in this order, that c is open, that pre
// (may be nil) holds, and that ctx (may be nil) has not ended. On success it returns with
// c.mu held, for the caller to release with unlock (typically deferred); on error, or if
// pre panics, c.mu is already released.
func (c *Conn) enter(ctx context.Context, pre func() error) (unlock func(), err error) {
	c.mu.Lock()
	held := false
	defer func() {
		if !held {
			c.mu.Unlock()
		}
	}()
	if c.h == nil {
		return nil, errClosed("connection")
	}
	if pre != nil {
		if err = pre(); err != nil {
			return nil, err
		}
	}
	if ctx != nil && ctx.Err() != nil {
		return nil, ctxError(ctx)
	}
	held = true
	return c.mu.Unlock, nil
}

// runResult runs one statement-producing call under c.mu with ctx watched. pre (may be
// nil) checks the state the call needs, with c.mu held.
func (c *Conn) runResult(ctx context.Context, params map[string]any, pre func() error,
	call func(p *C.graphdb_params, out **C.graphdb_result) C.graphdb_status) (*Rows, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	p, err := buildParams(params)
	if err != nil {
		return nil, err
	}
	defer C.graphdb_params_free(p)

	unlock, err := c.enter(ctx, pre)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var r *C.graphdb_result
	stop := watch(ctx, c.h)
	st := Status(call(p, &r))
	stop()
	if st != StatusOK {
		return nil, c.callError(ctx, st)
	}
	return newRows(c, r), nil
}

// Query runs one statement (in the open transaction if Begin started one, else in its own)
// and returns its rows. params maps names ($name in the query) to values; nil for none.
// When ctx ends first the statement is interrupted and the error matches both
// ErrInterrupted and ctx.Err().
func (c *Conn) Query(ctx context.Context, cypher string, params map[string]any) (*Rows, error) {
	cq, err := cString(cypher, "query text")
	if err != nil {
		return nil, err
	}
	defer freeC(cq)
	return c.runResult(ctx, params, nil, func(p *C.graphdb_params, out **C.graphdb_result) C.graphdb_status {
		return C.graphdb_query(c.h, cq, p, out)
	})
}

// Exec runs one statement for its effect and returns its change counters.
func (c *Conn) Exec(ctx context.Context, cypher string, params map[string]any) (Counters, error) {
	return countersOf(c.Query(ctx, cypher, params))
}

func countersOf(rows *Rows, err error) (Counters, error) {
	if err != nil {
		return Counters{}, err
	}
	defer rows.Close()
	return rows.Counters(), nil
}

// Prepare parses cypher once, to run many times with Stmt.Query / Stmt.Exec.
func (c *Conn) Prepare(ctx context.Context, cypher string) (*Stmt, error) {
	cq, err := cString(cypher, "query text")
	if err != nil {
		return nil, err
	}
	defer freeC(cq)
	unlock, err := c.enter(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var h *C.graphdb_statement
	if st := Status(C.graphdb_prepare(c.h, cq, &h)); st != StatusOK {
		return nil, c.lastError(st)
	}
	s := &Stmt{c: c, h: h}
	runtime.SetFinalizer(s, (*Stmt).Close)
	return s, nil
}

// Stmt is a prepared statement of one Conn; it stops working when its Conn is closed.
type Stmt struct {
	c *Conn
	h *C.graphdb_statement // guarded by c.mu
}

// Query runs the statement with params.
func (s *Stmt) Query(ctx context.Context, params map[string]any) (*Rows, error) {
	pre := func() error {
		if s.h == nil {
			return errClosed("statement")
		}
		return nil
	}
	return s.c.runResult(ctx, params, pre, func(p *C.graphdb_params, out **C.graphdb_result) C.graphdb_status {
		return C.graphdb_execute(s.h, p, out)
	})
}

// Exec runs the statement for its effect and returns its change counters.
func (s *Stmt) Exec(ctx context.Context, params map[string]any) (Counters, error) {
	return countersOf(s.Query(ctx, params))
}

// Close frees the statement; closing twice is fine.
func (s *Stmt) Close() error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.h != nil {
		C.graphdb_statement_free(s.h)
		s.h = nil
		runtime.SetFinalizer(s, nil)
	}
	return nil
}
