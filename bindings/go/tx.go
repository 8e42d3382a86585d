package graphdb

/*
#include "graphdb.h"
*/
import "C"

import (
	"context"
	"runtime"
)

// IsolationLevel chooses a transaction's isolation.
type IsolationLevel int

const (
	// IsolationDefault is the database's isolation option (serializable unless set).
	IsolationDefault IsolationLevel = iota
	IsolationSerializable
	IsolationSnapshot
)

// TxOptions are the options of Begin.
type TxOptions struct {
	ReadOnly  bool
	Isolation IsolationLevel
}

// Tx is an explicit transaction: statements run through it (or through its Conn) belong to
// it until Commit or Rollback. Use `defer tx.Rollback()` right after Begin: Rollback after
// Commit does nothing, so that is always safe. Closing the Conn rolls it back too.
type Tx struct {
	c *Conn
	h *C.graphdb_transaction // guarded by c.mu; nil once ended
}

// Begin starts an explicit transaction; TRANSACTION_STATE if one is already open on c.
func (c *Conn) Begin(ctx context.Context, opts TxOptions) (*Tx, error) {
	mode := C.uint32_t(C.GRAPHDB_TXN_READ_WRITE)
	if opts.ReadOnly {
		mode = C.GRAPHDB_TXN_READ_ONLY
	}
	var iso C.uint32_t
	switch opts.Isolation {
	case IsolationDefault:
		iso = C.GRAPHDB_ISOLATION_DEFAULT
	case IsolationSerializable:
		iso = C.GRAPHDB_ISOLATION_SERIALIZABLE
	case IsolationSnapshot:
		iso = C.GRAPHDB_ISOLATION_SNAPSHOT
	default:
		return nil, newError(StatusInvalidArgument, "unknown isolation level")
	}
	unlock, err := c.enter(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var h *C.graphdb_transaction
	if st := Status(C.graphdb_begin_with(c.h, mode, iso, &h)); st != StatusOK {
		return nil, c.lastError(st)
	}
	tx := &Tx{c: c, h: h}
	// A Tx dropped without Commit or Rollback is rolled back when collected (if still the
	// connection's open transaction); the explicit Rollback is the reliable way.
	runtime.SetFinalizer(tx, (*Tx).Rollback)
	return tx, nil
}

// endLocked forgets the handle after the library freed it (c.mu held).
func (tx *Tx) endLocked() {
	tx.h = nil
	runtime.SetFinalizer(tx, nil)
}

func (tx *Tx) open() error {
	if tx.h == nil {
		return newError(StatusTransactionState, "the transaction has already ended")
	}
	return nil
}

// Query runs a statement in the transaction.
func (tx *Tx) Query(ctx context.Context, cypher string, params map[string]any) (*Rows, error) {
	cq, err := cString(cypher, "query text")
	if err != nil {
		return nil, err
	}
	defer freeC(cq)
	return tx.c.runResult(ctx, params, tx.open, func(p *C.graphdb_params, out **C.graphdb_result) C.graphdb_status {
		return C.graphdb_query(tx.c.h, cq, p, out)
	})
}

// Exec runs a statement in the transaction for its effect.
func (tx *Tx) Exec(ctx context.Context, cypher string, params map[string]any) (Counters, error) {
	return countersOf(tx.Query(ctx, cypher, params))
}

// Commit commits the transaction. A CONFLICT error means it was rolled back and may be run
// again (IsRetryable); Conn.Transact does that for you.
func (tx *Tx) Commit() error {
	return tx.finish(true)
}

// Rollback undoes the transaction. After Commit or Rollback it does nothing and returns nil.
func (tx *Tx) Rollback() error {
	return tx.finish(false)
}

func (tx *Tx) finish(commit bool) error {
	c := tx.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if tx.h == nil {
		if commit {
			return tx.open()
		}
		return nil
	}
	var st Status
	if commit {
		st = Status(C.graphdb_commit(tx.h))
	} else {
		st = Status(C.graphdb_rollback(tx.h))
	}
	// Both calls free the handle whatever their outcome.
	tx.endLocked()
	if st == StatusOK || (!commit && st == StatusTransactionState) {
		// Rolling back a transaction a conflict or Cypher ROLLBACK already ended is no failure.
		return nil
	}
	return c.lastError(st)
}
