package graphdb

import (
	"context"
	"errors"
	"testing"
)

var bg = context.Background()

// openTemp opens a fresh database in a temporary directory, closed at the end of the test.
func openTemp(t *testing.T, opts ...Option) (*DB, string) {
	t.Helper()
	dir := t.TempDir() + "/db"
	db, err := Open(dir, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dir
}

func connect(t *testing.T, db *DB) *Conn {
	t.Helper()
	c, err := db.Conn()
	if err != nil {
		t.Fatalf("Conn: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func tempConn(t *testing.T, opts ...Option) *Conn {
	t.Helper()
	db, _ := openTemp(t, opts...)
	return connect(t, db)
}

// one runs a query expected to return exactly one row of one column.
func one(t *testing.T, c *Conn, cypher string, params map[string]any) any {
	t.Helper()
	rows, err := c.Query(bg, cypher, params)
	if err != nil {
		t.Fatalf("Query %q: %v", cypher, err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("Query %q: no row (err %v)", cypher, rows.Err())
	}
	vals, err := rows.Values()
	if err != nil {
		t.Fatalf("Values: %v", err)
	}
	if len(vals) != 1 {
		t.Fatalf("Query %q: %d columns", cypher, len(vals))
	}
	if rows.Next() {
		t.Fatalf("Query %q: more than one row", cypher)
	}
	return vals[0]
}

func mustExec(t *testing.T, c *Conn, cypher string, params map[string]any) Counters {
	t.Helper()
	n, err := c.Exec(bg, cypher, params)
	if err != nil {
		t.Fatalf("Exec %q: %v", cypher, err)
	}
	return n
}

// wantStatus checks err is an *Error with status want, and returns it.
func wantStatus(t *testing.T, err error, want *Error) *Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want.Code)
	}
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want status %v", err, want.Code)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%v is not an *Error", err)
	}
	if e.Message == "" {
		t.Fatalf("error %v has no message", err)
	}
	return e
}
