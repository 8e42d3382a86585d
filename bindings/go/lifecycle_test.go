package graphdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// 10^12 rows: runs far longer than any test (range itself is capped at 2*10^7 elements).
const longQuery = "UNWIND range(1, 1000000) AS x UNWIND range(1, 1000000) AS y RETURN count(*)"

// Interrupt from another goroutine stops a long query with INTERRUPTED; the connection
// then runs the next statement normally.
func TestInterruptFromAnotherGoroutine(t *testing.T) {
	c := tempConn(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.Query(bg, longQuery, nil)
		done <- err
	}()
	var err error
	// An interrupt that lands before the query starts is dropped by the library, so keep
	// asking until the query returns.
	for finished := false; !finished; {
		select {
		case err = <-done:
			finished = true
		case <-time.After(10 * time.Millisecond):
			c.Interrupt()
		}
	}
	wantStatus(t, err, ErrInterrupted)
	if errors.Is(err, context.Canceled) {
		t.Fatal("an Interrupt without a context claims context.Canceled")
	}
	if got := one(t, c, "RETURN 1", nil); got != int64(1) {
		t.Fatalf("after the interrupt: %v", got)
	}
}

// A context that ends interrupts the query; the error matches both INTERRUPTED and the
// context's error.
func TestContextInterruptsQuery(t *testing.T) {
	c := tempConn(t)
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	_, err := c.Query(ctx, longQuery, nil)
	wantStatus(t, err, ErrInterrupted)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v does not match context.DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(bg)
	cancel()
	_, err = c.Exec(ctx, "CREATE (:N)", nil)
	wantStatus(t, err, ErrInterrupted)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v does not match context.Canceled", err)
	}
	if got := one(t, c, "MATCH (n:N) RETURN count(n)", nil); got != int64(0) {
		t.Fatal("a statement ran with a cancelled context")
	}
}

// Data survives close and reopen, after a checkpoint too; Check and Stats report.
func TestReopenPersistence(t *testing.T) {
	db, dir := openTemp(t)
	c := connect(t, db)
	mustExec(t, c, "CREATE (:P {name: 'kept', n: $n})", map[string]any{"n": int64(1) << 60})
	if err := db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "CREATE (:P {name: 'after checkpoint'})", nil)
	stats, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if commits, ok := stats["commits"].(int64); !ok || commits < 2 {
		t.Fatalf("stats commits = %#v", stats["commits"])
	}
	c.Close()
	db.Close()

	db2, err := Open(dir, Create(false))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.Check(); err != nil {
		t.Fatal(err)
	}
	c2 := connect(t, db2)
	rows, err := c2.Query(bg, "MATCH (p:P) RETURN p.name, p.n ORDER BY p.name", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		v, _ := rows.Values()
		got = append(got, v[0].(string))
		if v[0] == "kept" && v[1] != int64(1)<<60 {
			t.Fatalf("n = %v", v[1])
		}
	}
	if rows.Err() != nil || strings.Join(got, "|") != "after checkpoint|kept" {
		t.Fatalf("after reopen: %v %v", got, rows.Err())
	}
}

// Closed handles give clear errors; closing twice is fine; results outlive their Conn and
// Conns outlive their DB handle.
func TestUseAfterClose(t *testing.T) {
	db, _ := openTemp(t)
	c := connect(t, db)
	rows, err := c.Query(bg, "UNWIND [1, 2] AS x RETURN x", nil)
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := c.Prepare(bg, "RETURN 1")
	if err != nil {
		t.Fatal(err)
	}
	other := connect(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = db.Conn()
	e := wantStatus(t, err, ErrMisuse)
	if !strings.Contains(e.Message, "closed") {
		t.Fatalf("message %q", e.Message)
	}
	wantStatus(t, db.Checkpoint(), ErrMisuse)
	_, err = db.Stats()
	wantStatus(t, err, ErrMisuse)
	if got := one(t, other, "RETURN 2", nil); got != int64(2) {
		t.Fatal("a Conn stopped working when its DB handle closed")
	}

	c.Close()
	c.Close()
	_, err = c.Query(bg, "RETURN 1", nil)
	wantStatus(t, err, ErrMisuse)
	_, err = c.Begin(bg, TxOptions{})
	wantStatus(t, err, ErrMisuse)
	_, err = c.Prepare(bg, "RETURN 1")
	wantStatus(t, err, ErrMisuse)
	err = c.Transact(bg, func(*Tx) error { return nil })
	wantStatus(t, err, ErrMisuse)
	_, err = stmt.Query(bg, nil)
	wantStatus(t, err, ErrMisuse)
	stmt.Close()
	c.Interrupt() // a no-op, not a crash

	var sum int64
	for rows.Next() {
		var x int64
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		sum += x
	}
	if rows.Err() != nil || sum != 3 {
		t.Fatalf("rows after Conn.Close: sum %d, err %v", sum, rows.Err())
	}
	rows.Close()
	rows.Close()
	if rows.Next() {
		t.Fatal("Next after Close")
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); strings.Count(v, ".") != 2 {
		t.Fatalf("version %q", v)
	}
	if ABIVersion() != HeaderABIVersion {
		t.Fatalf("library ABI %d, header %d", ABIVersion(), HeaderABIVersion)
	}
}

// A Tx dropped without Commit or Rollback is rolled back once collected, which frees the
// connection for a new transaction.
func TestDroppedTxRollsBack(t *testing.T) {
	c := tempConn(t)
	func() {
		tx, err := c.Begin(bg, TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(bg, "CREATE (:Dropped)", nil); err != nil {
			t.Fatal(err)
		}
	}()
	var err error
	for i := 0; i < 100; i++ {
		runtime.GC()
		var tx *Tx
		if tx, err = c.Begin(bg, TxOptions{}); err == nil {
			tx.Rollback()
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("the dropped transaction was never rolled back: %v", err)
	}
	if got := one(t, c, "MATCH (n:Dropped) RETURN count(n)", nil); got != int64(0) {
		t.Fatal("the dropped transaction's write survived")
	}
}

// Import loads CSV files as one commit and reports its statistics.
func TestImport(t *testing.T) {
	db, _ := openTemp(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	users := write("users.csv", "id:ID,name,age:int\n1,ann,30\n2,bob,40\n")
	follows := write("follows.csv", ":START_ID,:END_ID\n1,2\n")
	spec := fmt.Sprintf(`{"nodes": [{"file": %q, "labels": ["User"]}], "relationships": [{"file": %q, "type": "FOLLOWS"}], "id_type": "int"}`, users, follows)
	stats, err := db.Import(spec)
	if err != nil {
		t.Fatal(err)
	}
	if stats["nodes"] != int64(2) || stats["relationships"] != int64(1) {
		t.Fatalf("stats %v", stats)
	}
	c := connect(t, db)
	if got := one(t, c, "MATCH (:User {name: 'ann'})-[:FOLLOWS]->(u) RETURN u.age", nil); got != int64(40) {
		t.Fatalf("imported graph: %v", got)
	}
	_, err = db.Import(`{"nodes": [{"file": "/nonexistent.csv", "labels": ["X"]}]}`)
	e := wantStatus(t, err, ErrInvalidArgument)
	if !strings.Contains(e.Message, "nonexistent") {
		t.Fatalf("message %q", e.Message)
	}
}
