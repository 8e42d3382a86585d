package graphdb

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func count(t *testing.T, c *Conn) int64 {
	t.Helper()
	return one(t, c, "MATCH (n:T) RETURN count(n)", nil).(int64)
}

// Commit makes changes visible to other connections; rollback, closing the Conn with the
// transaction open, and a failed Transact do not.
func TestTransactions(t *testing.T) {
	db, _ := openTemp(t)
	a, b := connect(t, db), connect(t, db)

	tx, err := a.Begin(bg, TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(bg, "CREATE (:T)", nil); err != nil {
		t.Fatal(err)
	}
	if count(t, a) != 1 || count(t, b) != 0 {
		t.Fatal("uncommitted write: wrong visibility")
	}
	_, err = a.Begin(bg, TxOptions{})
	wantStatus(t, err, ErrTransactionState)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if count(t, b) != 1 {
		t.Fatal("committed write not visible")
	}
	wantStatus(t, tx.Commit(), ErrTransactionState)
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback after Commit: %v", err)
	}
	_, err = tx.Exec(bg, "CREATE (:T)", nil)
	wantStatus(t, err, ErrTransactionState)

	tx, _ = a.Begin(bg, TxOptions{Isolation: IsolationSnapshot})
	tx.Exec(bg, "CREATE (:T)", nil)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if count(t, a) != 1 {
		t.Fatal("rolled-back write visible")
	}

	c := connect(t, db)
	tx, _ = c.Begin(bg, TxOptions{Isolation: IsolationSerializable})
	tx.Exec(bg, "CREATE (:T)", nil)
	c.Close()
	if count(t, a) != 1 {
		t.Fatal("closing the Conn did not roll back its transaction")
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback after Conn.Close: %v", err)
	}

	boom := errors.New("boom")
	err = a.Transact(bg, func(tx *Tx) error {
		tx.Exec(bg, "CREATE (:T)", nil)
		return boom
	})
	if !errors.Is(err, boom) || count(t, a) != 1 {
		t.Fatalf("failed Transact: err %v, count %d", err, count(t, a))
	}
	func() {
		defer func() {
			if recover() != "panic in fn" {
				t.Fatal("the panic was not passed on")
			}
		}()
		a.Transact(bg, func(tx *Tx) error {
			tx.Exec(bg, "CREATE (:T)", nil)
			panic("panic in fn")
		})
	}()
	if count(t, a) != 1 {
		t.Fatal("a panicking Transact left its write")
	}
	// The connection is free for a new transaction after all of the above.
	if err := a.Transact(bg, func(tx *Tx) error { _, err := tx.Exec(bg, "CREATE (:T)", nil); return err }); err != nil {
		t.Fatal(err)
	}
	if count(t, b) != 2 {
		t.Fatal("Transact did not commit")
	}
}

// A conflict on the first attempt is retried and the second attempt commits.
func TestTransactRetriesConflict(t *testing.T) {
	db, _ := openTemp(t)
	a, b := connect(t, db), connect(t, db)
	mustExec(t, a, "CREATE (:Counter {v: 0})", nil)
	runs, retries := 0, 0
	err := a.Transact(bg, func(tx *Tx) error {
		runs++
		v := readCounter(t, tx)
		if runs == 1 {
			// Another connection commits a change of the value this attempt read: under
			// SERIALIZABLE this attempt must fail with CONFLICT.
			mustExec(t, b, "MATCH (c:Counter) SET c.v = c.v + 10", nil)
		}
		_, err := tx.Exec(bg, "MATCH (c:Counter) SET c.v = $v", map[string]any{"v": v + 1})
		return err
	}, OnRetry(func(int, error) { retries++ }))
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 || retries != 1 {
		t.Fatalf("runs %d, retries %d", runs, retries)
	}
	if got := one(t, a, "MATCH (c:Counter) RETURN c.v", nil); got != int64(11) {
		t.Fatalf("counter %v, want 11", got)
	}

	// MaxAttempts(1): the conflict is returned, retryable.
	err = a.Transact(bg, func(tx *Tx) error {
		v := readCounter(t, tx)
		mustExec(t, b, "MATCH (c:Counter) SET c.v = c.v + 1", nil)
		_, err := tx.Exec(bg, "MATCH (c:Counter) SET c.v = $v", map[string]any{"v": v + 1})
		return err
	}, MaxAttempts(1))
	wantStatus(t, err, ErrConflict)
	if !IsRetryable(err) {
		t.Fatal("conflict not retryable")
	}

	// A done context stops the retries.
	ctx, cancel := context.WithCancel(bg)
	runs = 0
	err = a.Transact(ctx, func(tx *Tx) error {
		runs++
		v := readCounter(t, tx)
		mustExec(t, b, "MATCH (c:Counter) SET c.v = c.v + 1", nil)
		cancel()
		_, err := tx.Exec(bg, "MATCH (c:Counter) SET c.v = $v", map[string]any{"v": v + 1})
		return err
	}, MaxAttempts(100))
	if !errors.Is(err, context.Canceled) || runs != 1 {
		t.Fatalf("after cancel: err %v, runs %d", err, runs)
	}
}

func readCounter(t *testing.T, tx *Tx) int64 {
	t.Helper()
	rows, err := tx.Query(bg, "MATCH (c:Counter) RETURN c.v", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var v int64
	if !rows.Next() || rows.Scan(&v) != nil {
		t.Fatal("no counter", rows.Err())
	}
	return v
}

// Several goroutines increment one counter through Transact under SERIALIZABLE: no update
// is lost, and conflicts were really retried.
func TestTransactConcurrentIncrements(t *testing.T) {
	db, _ := openTemp(t, Sync("normal"))
	setup := connect(t, db)
	mustExec(t, setup, "CREATE (:Counter {v: 0})", nil)
	const workers, each = 4, 25
	var retries atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		c := connect(t, db)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := c.Transact(bg, func(tx *Tx) error {
					rows, err := tx.Query(bg, "MATCH (c:Counter) RETURN c.v", nil)
					if err != nil {
						return err
					}
					var v int64
					rows.Next()
					err = rows.Scan(&v)
					rows.Close()
					if err != nil {
						return err
					}
					// Widens the window between read and write, so that transactions overlap.
					time.Sleep(200 * time.Microsecond)
					_, err = tx.Exec(bg, "MATCH (c:Counter) SET c.v = $v", map[string]any{"v": v + 1})
					return err
				}, MaxAttempts(1000), OnRetry(func(int, error) { retries.Add(1) }))
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := one(t, setup, "MATCH (c:Counter) RETURN c.v", nil); got != int64(workers*each) {
		t.Fatalf("counter %v, want %d: lost updates", got, workers*each)
	}
	if retries.Load() == 0 {
		t.Fatal("no conflict was retried")
	}
	t.Logf("%d retries", retries.Load())
	stats, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats: %v", stats)
}

// One Conn shared by many goroutines: the mutex serialises them, so none gets MISUSE.
func TestConnSharedByGoroutines(t *testing.T) {
	c := tempConn(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				rows, err := c.Query(bg, "UNWIND range(1, 50) AS x RETURN x + $g", map[string]any{"g": g})
				if err != nil {
					errs <- err
					return
				}
				for rows.Next() {
					if _, err := rows.Values(); err != nil {
						errs <- err
					}
				}
				if err := rows.Err(); err != nil {
					errs <- err
				}
				rows.Close()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
