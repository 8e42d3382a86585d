package graphdb

import (
	"context"
	"math/rand"
	"time"
)

// TransactOption configures Conn.Transact.
type TransactOption func(*transactConfig)

type transactConfig struct {
	maxAttempts int
	tx          TxOptions
	onRetry     func(attempt int, err error)
	baseDelay   time.Duration
	maxDelay    time.Duration
}

// MaxAttempts caps the runs of the transaction, the first included (default 10; values
// below 1 count as 1).
func MaxAttempts(n int) TransactOption {
	return func(c *transactConfig) { c.maxAttempts = n }
}

// WithTxOptions sets the mode and isolation of each attempt's transaction.
func WithTxOptions(o TxOptions) TransactOption {
	return func(c *transactConfig) { c.tx = o }
}

// OnRetry is called after attempt number `attempt` (1-based) failed with the retryable
// error err, before the backoff and the next attempt.
func OnRetry(f func(attempt int, err error)) TransactOption {
	return func(c *transactConfig) { c.onRetry = f }
}

// Backoff sets the delay before the first retry and the cap of the doubling delays
// (defaults 1ms and 100ms). Each wait is a random duration in [d/2, d].
func Backoff(base, max time.Duration) TransactOption {
	return func(c *transactConfig) { c.baseDelay, c.maxDelay = base, max }
}

// Transact runs fn in a transaction and commits it, running the whole transaction again
// when fn or the commit fails with CONFLICT (see IsRetryable), after a jittered exponential
// backoff, up to MaxAttempts runs. Any other error from fn or the commit rolls back and is
// returned at once; a panic in fn rolls back and panics on. When ctx ends, Transact stops
// retrying and returns an error matching ctx.Err().
//
// fn may run more than once: keep its effects outside the database idempotent, and run its
// statements through tx.
func (c *Conn) Transact(ctx context.Context, fn func(tx *Tx) error, opts ...TransactOption) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := transactConfig{maxAttempts: 10, baseDelay: time.Millisecond, maxDelay: 100 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxAttempts < 1 {
		cfg.maxAttempts = 1
	}
	delay := cfg.baseDelay
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, fn, cfg.tx)
		if err == nil || !IsRetryable(err) || attempt >= cfg.maxAttempts {
			return err
		}
		if cfg.onRetry != nil {
			cfg.onRetry(attempt, err)
		}
		if err := sleepCtx(ctx, jitter(delay)); err != nil {
			return err
		}
		if delay *= 2; delay > cfg.maxDelay {
			delay = cfg.maxDelay
		}
	}
}

// attempt runs one transaction: begin, fn, commit; rolled back on any failure or panic.
func (c *Conn) attempt(ctx context.Context, fn func(tx *Tx) error, o TxOptions) (err error) {
	tx, err := c.Begin(ctx, o)
	if err != nil {
		return err
	}
	// Runs on a panic too; Rollback after Commit is a no-op.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + time.Duration(rand.Int63n(int64(d-half)+1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctxError(ctx)
	case <-t.C:
		return nil
	}
}
