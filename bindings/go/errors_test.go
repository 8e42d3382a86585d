package graphdb

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Each kind of failure carries its status, the library's message and, for syntax errors,
// the position.
func TestErrorDetails(t *testing.T) {
	c := tempConn(t)

	_, err := c.Query(bg, "MATCH (n)\nRETURN (n", nil)
	e := wantStatus(t, err, ErrSyntax)
	if e.Line != 2 || e.Column < 1 {
		t.Fatalf("syntax error position %d:%d, want line 2: %v", e.Line, e.Column, e)
	}
	if !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("message lacks the position: %v", err)
	}

	_, err = c.Query(bg, "RETURN nosuchvar", nil)
	e = wantStatus(t, err, ErrSemantic)
	if !strings.Contains(e.Message, "nosuchvar") {
		t.Fatalf("semantic error: %+v", e)
	}

	_, err = c.Query(bg, "RETURN 1 + 'a' + $x", map[string]any{"x": true})
	wantStatus(t, err, ErrType)

	mustExec(t, c, "CREATE CONSTRAINT FOR (u:User) REQUIRE u.email IS UNIQUE", nil)
	mustExec(t, c, "CREATE (:User {email: 'a@x'})", nil)
	_, err = c.Exec(bg, "CREATE (:User {email: $e})", map[string]any{"e": "a@x"})
	wantStatus(t, err, ErrConstraintViolation)

	// After a failure the connection works on, and errors of one kind are not another.
	if got := one(t, c, "MATCH (u:User) RETURN count(u)", nil); got != int64(1) {
		t.Fatalf("count after the violation: %v", got)
	}
	if errors.Is(err, ErrConflict) || IsRetryable(err) {
		t.Fatal("a constraint violation matched CONFLICT")
	}
	if StatusOf(fmt.Errorf("wrapped: %w", err)) != StatusConstraintViolation {
		t.Fatal("StatusOf does not see through wrapping")
	}
}

// Writes are refused in a read-only transaction and on a read-only database.
func TestReadOnly(t *testing.T) {
	db, dir := openTemp(t)
	c := connect(t, db)
	mustExec(t, c, "CREATE (:N)", nil)
	tx, err := c.Begin(bg, TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(bg, "CREATE (:N)", nil)
	wantStatus(t, err, ErrReadOnly)
	tx.Rollback()
	c.Close()
	db.Close()

	ro, err := Open(dir, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	rc := connect(t, ro)
	if got := one(t, rc, "MATCH (n:N) RETURN count(n)", nil); got != int64(1) {
		t.Fatalf("count %v", got)
	}
	_, err = rc.Exec(bg, "CREATE (:N)", nil)
	wantStatus(t, err, ErrReadOnly)
	wantStatus(t, ro.Checkpoint(), ErrReadOnly)
}

// Bad input from Go is refused with INVALID_ARGUMENT (by this package or the library),
// never a crash.
func TestBadInput(t *testing.T) {
	c := tempConn(t)
	bad := []struct {
		name  string
		query string
		v     any
	}{
		{"nul in query", "RETURN 1\x00", nil},
		{"invalid utf8 query", "RETURN '\xff'", nil},
		{"invalid utf8 string", "RETURN $v", "\xff\xfe"},
		{"invalid utf8 nested", "RETURN $v", []string{"\xff"}},
		{"channel", "RETURN $v", make(chan int)},
		{"node", "RETURN $v", Node{ID: 1}},
		{"bytes", "RETURN $v", []byte("x")},
		{"uint64 overflow", "RETURN $v", uint64(1) << 63},
		{"int keyed map", "RETURN $v", map[int]int{1: 1}},
		{"bad temporal", "RETURN $v", Temporal{KindDate, "not a date"}},
		{"nested func", "RETURN $v", []any{func() {}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var params map[string]any
			if tc.v != nil {
				params = map[string]any{"v": tc.v}
			}
			_, err := c.Query(bg, tc.query, params)
			wantStatus(t, err, ErrInvalidArgument)
		})
	}
	_, err := c.Query(bg, "RETURN 1", map[string]any{"a\x00b": 1})
	wantStatus(t, err, ErrInvalidArgument)

	_, err = Open(t.TempDir()+"/x", WithOption("sync", "sometimes"))
	e := wantStatus(t, err, ErrInvalidArgument)
	if !strings.Contains(e.Message, "sync") {
		t.Fatalf("message does not name the option: %v", e)
	}
	_, err = Open(t.TempDir()+"/missing", Create(false))
	if err == nil {
		t.Fatal("opened a missing database with create=false")
	}
	_, err = Open("bad\x00path")
	wantStatus(t, err, ErrInvalidArgument)
}
