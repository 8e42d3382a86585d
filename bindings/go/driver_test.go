package graphdb

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

func openSQL(t *testing.T, query string) *sql.DB {
	t.Helper()
	db, err := sql.Open("graphdb", t.TempDir()+"/db"+query)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The pool serves several goroutines; named and positional arguments bind; Exec reports
// RowsAffected and refuses LastInsertId.
func TestSQLPool(t *testing.T) {
	db := openSQL(t, "?sync=normal&busy_timeout_ms=2000")
	db.SetMaxOpenConns(4)
	res, err := db.Exec("CREATE (:Item {n: $n, tags: $tags})", sql.Named("n", 0), sql.Named("tags", []string{"a", "b"}))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 3 { // 1 node + 2 properties
		t.Fatalf("RowsAffected %d %v", n, err)
	}
	if _, err := res.LastInsertId(); err == nil {
		t.Fatal("LastInsertId did not fail")
	}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 1; g <= 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if _, err := db.ExecContext(bg, "CREATE (:Item {n: $1, g: $2})", i, g); err != nil {
					errs <- err
					return
				}
				var n int64
				if err := db.QueryRowContext(bg, "MATCH (x:Item) WHERE x.g = $g RETURN count(x)", sql.Named("g", g)).Scan(&n); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var total int64
	if err := db.QueryRow("MATCH (x:Item) RETURN count(x)").Scan(&total); err != nil || total != 81 {
		t.Fatalf("total %d %v", total, err)
	}
	// A transaction holds its pooled connection; the pool serves other queries meanwhile
	// (and they do not see its write).
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("CREATE (:Item)"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("MATCH (x:Item) RETURN count(x)").Scan(&total); err != nil || total != 81 {
		t.Fatalf("beside the tx: %d %v", total, err)
	}
	if open := db.Stats().OpenConnections; open < 2 {
		t.Fatalf("the pool has %d connection(s) open", open)
	}
	tx.Rollback()

	// Rich values come back through Scan unchanged.
	var tags []any
	var node Node
	var anyv any
	err = db.QueryRow("MATCH (x:Item {n: 0}) WHERE x.g IS NULL RETURN x.tags, x, {k: 1}").Scan(&tags, &node, &anyv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tags, []any{"a", "b"}) || node.Properties["n"] != int64(0) ||
		!reflect.DeepEqual(anyv, map[string]any{"k": int64(1)}) {
		t.Fatalf("got %#v %#v %#v", tags, node, anyv)
	}
	var s string
	var f float64
	if err := db.QueryRow("RETURN 'x', 2.5").Scan(&s, &f); err != nil || s != "x" || f != 2.5 {
		t.Fatalf("%q %v %v", s, f, err)
	}

	// Prepared statements through the pool.
	st, err := db.Prepare("RETURN $1 + $2")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var sum int64
	if err := st.QueryRow(40, 2).Scan(&sum); err != nil || sum != 42 {
		t.Fatalf("sum %d %v", sum, err)
	}

	// Errors keep their status through database/sql.
	_, err = db.Exec("CREATE (:Item {n: $1})", make(chan int))
	wantStatus(t, err, ErrInvalidArgument)
	_, err = db.Query("RETURN (")
	wantStatus(t, err, ErrSyntax)
}

// sql.Tx commit and rollback, isolation mapping, read-only transactions.
func TestSQLTx(t *testing.T) {
	db := openSQL(t, "")
	ctx := bg
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("CREATE (:T {v: 1})"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err = db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSnapshot})
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec("CREATE (:T {v: 2})")
	var inside int64
	if err := tx.QueryRow("MATCH (t:T) RETURN count(t)").Scan(&inside); err != nil || inside != 2 {
		t.Fatalf("inside the tx: %d %v", inside, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := db.QueryRow("MATCH (t:T) RETURN count(t)").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after commit+rollback: %d %v", n, err)
	}

	tx, err = db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec("CREATE (:T)")
	wantStatus(t, err, ErrReadOnly)
	tx.Rollback()

	_, err = db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	wantStatus(t, err, ErrInvalidArgument)
}

// QueryRowContext honours a context cancelled before the call and one that ends during it.
func TestSQLContext(t *testing.T) {
	db := openSQL(t, "")
	ctx, cancel := context.WithCancel(bg)
	cancel()
	var n int64
	err := db.QueryRowContext(ctx, "RETURN 1").Scan(&n)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	ctx, cancel = context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	err = db.QueryRowContext(ctx, longQuery).Scan(&n)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("deadline: %v", err)
	}
	if err := db.QueryRow("RETURN 7").Scan(&n); err != nil || n != 7 {
		t.Fatalf("after the interrupt: %d %v", n, err)
	}
}

func TestSQLBadDSN(t *testing.T) {
	if _, err := sql.Open("graphdb", t.TempDir()+"/db?sync=sometimes"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad option: %v", err)
	}
	if _, err := sql.Open("graphdb", "?sync=off"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("no path: %v", err)
	}
}
