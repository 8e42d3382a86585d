package graphdb

/*
#include "graphdb.h"
*/
import "C"

import (
	"fmt"
	"runtime"
)

// Counters are a statement's change counters (graphdb_result_stat).
type Counters struct {
	NodesCreated         int64
	NodesDeleted         int64
	RelationshipsCreated int64
	RelationshipsDeleted int64
	PropertiesSet        int64
	LabelsAdded          int64
	LabelsRemoved        int64
}

// Rows is the result of one statement, read row by row:
//
//	for rows.Next() { err := rows.Scan(&a, &b) ... }
//	if err := rows.Err(); err != nil { ... }
//
// The library materializes the whole result, so Rows stay readable after their Conn moves
// on to other statements or is closed. Close frees them early; the last Next frees them too.
type Rows struct {
	c        *Conn
	h        *C.graphdb_result // guarded by c.mu; nil once closed
	cols     []string
	counters Counters
	onRow    bool
	err      error
}

// newRows wraps r (c.mu held).
func newRows(c *Conn, r *C.graphdb_result) *Rows {
	rows := &Rows{c: c, h: r}
	n := int(C.graphdb_result_column_count(r))
	rows.cols = make([]string, n)
	for i := range rows.cols {
		rows.cols[i] = C.GoString(C.graphdb_result_column_name(r, C.size_t(i)))
	}
	stat := func(which C.uint32_t) int64 { return int64(C.graphdb_result_stat(r, which)) }
	rows.counters = Counters{
		NodesCreated:         stat(C.GRAPHDB_STAT_NODES_CREATED),
		NodesDeleted:         stat(C.GRAPHDB_STAT_NODES_DELETED),
		RelationshipsCreated: stat(C.GRAPHDB_STAT_RELATIONSHIPS_CREATED),
		RelationshipsDeleted: stat(C.GRAPHDB_STAT_RELATIONSHIPS_DELETED),
		PropertiesSet:        stat(C.GRAPHDB_STAT_PROPERTIES_SET),
		LabelsAdded:          stat(C.GRAPHDB_STAT_LABELS_ADDED),
		LabelsRemoved:        stat(C.GRAPHDB_STAT_LABELS_REMOVED),
	}
	runtime.SetFinalizer(rows, (*Rows).Close)
	return rows
}

// Columns are the column names.
func (r *Rows) Columns() []string { return append([]string(nil), r.cols...) }

// Counters are the statement's change counters (readable after Close too).
func (r *Rows) Counters() Counters { return r.counters }

// Next moves to the next row; false at the end or on an error (see Err).
func (r *Rows) Next() bool {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.onRow = false
	if r.h == nil {
		return false
	}
	var has C.bool
	if st := Status(C.graphdb_result_next(r.h, &has)); st != StatusOK {
		r.err = r.c.lastError(st)
		r.closeLocked()
		return false
	}
	if !has {
		r.closeLocked()
		return false
	}
	r.onRow = true
	return true
}

// Err is the error that ended the iteration, if any.
func (r *Rows) Err() error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.err
}

// Close frees the result; closing twice is fine.
func (r *Rows) Close() error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.onRow = false
	r.closeLocked()
	return nil
}

func (r *Rows) closeLocked() {
	if r.h != nil {
		C.graphdb_result_free(r.h)
		r.h = nil
		runtime.SetFinalizer(r, nil)
	}
}

// current checks there is a row to read (c.mu held).
func (r *Rows) current() error {
	if !r.onRow || r.h == nil {
		return newError(StatusMisuse, "no current row: call Next first (and only while it returns true)")
	}
	return nil
}

// Values returns the current row: nil, bool, int64, float64, string, []any,
// map[string]any, Node, Relationship, Path or Temporal per column.
func (r *Rows) Values() ([]any, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if err := r.current(); err != nil {
		return nil, err
	}
	out := make([]any, len(r.cols))
	for i := range out {
		v, err := r.valueLocked(i)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (r *Rows) valueLocked(col int) (any, error) {
	var v *C.graphdb_value
	if st := Status(C.graphdb_result_get_value(r.h, C.size_t(col), &v)); st != StatusOK {
		return nil, r.c.lastError(st)
	}
	out, st := decodeView(v)
	if st != StatusOK {
		return nil, r.c.lastError(st)
	}
	return out, nil
}

// Scan copies the current row's columns into dest, one pointer per column:
// *int64, *int, *float64, *string and *bool use the library's typed getters, which do not
// convert (a FLOAT into *int64, or a null into any of them, is a TYPE_ERROR; a temporal
// value reads into *string as its Cypher string form); *any takes any value as Values
// gives it; *Node, *Relationship, *Path, *Temporal, *[]any and *map[string]any take values of
// that type (else TYPE_ERROR). A nil dest skips its column.
func (r *Rows) Scan(dest ...any) error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if err := r.current(); err != nil {
		return err
	}
	if len(dest) != len(r.cols) {
		return newError(StatusInvalidArgument, fmt.Sprintf("Scan got %d destinations for %d columns", len(dest), len(r.cols)))
	}
	for i, d := range dest {
		if err := r.scanOne(i, d); err != nil {
			return err
		}
	}
	return nil
}

func (r *Rows) scanOne(col int, dest any) error {
	h, c := r.h, C.size_t(col)
	fail := func(st C.graphdb_status) error {
		if st != C.GRAPHDB_OK {
			return r.c.lastError(Status(st))
		}
		return nil
	}
	switch d := dest.(type) {
	case nil:
		return nil
	case *int64:
		var v C.int64_t
		err := fail(C.graphdb_result_get_int64(h, c, &v))
		*d = int64(v)
		return err
	case *int:
		var v C.int64_t
		err := fail(C.graphdb_result_get_int64(h, c, &v))
		*d = int(v)
		return err
	case *float64:
		var v C.double
		err := fail(C.graphdb_result_get_double(h, c, &v))
		*d = float64(v)
		return err
	case *bool:
		var v C.bool
		err := fail(C.graphdb_result_get_bool(h, c, &v))
		*d = bool(v)
		return err
	case *string:
		var p *C.char
		var n C.size_t
		err := fail(C.graphdb_result_get_string(h, c, &p, &n))
		*d = goStringN(p, n)
		return err
	}
	v, err := r.valueLocked(col)
	if err != nil {
		return err
	}
	ok := true
	switch d := dest.(type) {
	case *any:
		*d = v
	case *Node:
		*d, ok = v.(Node)
	case *Relationship:
		*d, ok = v.(Relationship)
	case *Path:
		*d, ok = v.(Path)
	case *Temporal:
		*d, ok = v.(Temporal)
	case *[]any:
		*d, ok = v.([]any)
	case *map[string]any:
		*d, ok = v.(map[string]any)
	default:
		return newError(StatusInvalidArgument, fmt.Sprintf("column %d: cannot Scan into %T", col, dest))
	}
	if !ok {
		t := C.graphdb_result_type(h, c)
		return newError(StatusTypeError, fmt.Sprintf("column %d (%s) holds %s, not %T", col, r.cols[col], typeName(t), dest))
	}
	return nil
}
