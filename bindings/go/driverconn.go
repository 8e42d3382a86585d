package graphdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strconv"
)

// sqlConn is one pooled database/sql connection. database/sql uses it from one goroutine
// at a time, so its own state needs no lock; the Conn serialises the library calls.
type sqlConn struct {
	c      *Conn
	ownsDB *connector // set by Driver.Open, which made a database for this connection alone
}

var (
	_ driver.Conn               = (*sqlConn)(nil)
	_ driver.ConnBeginTx        = (*sqlConn)(nil)
	_ driver.ConnPrepareContext = (*sqlConn)(nil)
	_ driver.QueryerContext     = (*sqlConn)(nil)
	_ driver.ExecerContext      = (*sqlConn)(nil)
	_ driver.NamedValueChecker  = (*sqlConn)(nil)
	_ driver.SessionResetter    = (*sqlConn)(nil)
	_ driver.Validator          = (*sqlConn)(nil)
)

func (s *sqlConn) Close() error {
	err := s.c.Close()
	if s.ownsDB != nil {
		s.ownsDB.Close()
	}
	return err
}

// IsValid keeps a connection the library declared broken (INTERNAL) out of the pool.
func (s *sqlConn) IsValid() bool { return !s.broken() }

func (s *sqlConn) ResetSession(context.Context) error {
	if s.broken() {
		return driver.ErrBadConn
	}
	return nil
}

func (s *sqlConn) broken() bool {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.c.h == nil || s.c.broken
}

// CheckNamedValue accepts every value Conn.Query accepts, so Node-free Go values (lists,
// maps, Temporal, time.Time ...) pass through untouched.
func (s *sqlConn) CheckNamedValue(nv *driver.NamedValue) error {
	_, err := encodeJSON(nil, nv.Value)
	if err != nil {
		return paramError(paramName(*nv), err)
	}
	return nil
}

func paramName(nv driver.NamedValue) string {
	if nv.Name != "" {
		return nv.Name
	}
	return strconv.Itoa(nv.Ordinal)
}

func namedParams(args []driver.NamedValue) map[string]any {
	if len(args) == 0 {
		return nil
	}
	m := make(map[string]any, len(args))
	for _, a := range args {
		m[paramName(a)] = a.Value
	}
	return m
}

func (s *sqlConn) Prepare(query string) (driver.Stmt, error) {
	return s.PrepareContext(context.Background(), query)
}

func (s *sqlConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := s.c.Prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	return &sqlStmt{s: st}, nil
}

func (s *sqlConn) Begin() (driver.Tx, error) {
	return s.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx maps sql.LevelDefault, LevelSerializable and LevelSnapshot; other levels are
// refused rather than silently strengthened.
func (s *sqlConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	o := TxOptions{ReadOnly: opts.ReadOnly}
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault:
	case sql.LevelSerializable:
		o.Isolation = IsolationSerializable
	case sql.LevelSnapshot:
		o.Isolation = IsolationSnapshot
	default:
		return nil, newError(StatusInvalidArgument, "unsupported isolation level "+
			sql.IsolationLevel(opts.Isolation).String()+" (use serializable or snapshot)")
	}
	tx, err := s.c.Begin(ctx, o)
	if err != nil {
		return nil, err
	}
	return tx, nil
}

func (s *sqlConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := s.c.Query(ctx, query, namedParams(args))
	if err != nil {
		return nil, err
	}
	return &sqlRows{r: rows}, nil
}

func (s *sqlConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	n, err := s.c.Exec(ctx, query, namedParams(args))
	if err != nil {
		return nil, err
	}
	return sqlResult(n), nil
}

type sqlStmt struct{ s *Stmt }

func (st *sqlStmt) Close() error  { return st.s.Close() }
func (st *sqlStmt) NumInput() int { return -1 }

func (st *sqlStmt) Exec(args []driver.Value) (driver.Result, error) {
	return st.ExecContext(context.Background(), valuesToNamed(args))
}

func (st *sqlStmt) Query(args []driver.Value) (driver.Rows, error) {
	return st.QueryContext(context.Background(), valuesToNamed(args))
}

func (st *sqlStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	n, err := st.s.Exec(ctx, namedParams(args))
	if err != nil {
		return nil, err
	}
	return sqlResult(n), nil
}

func (st *sqlStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := st.s.Query(ctx, namedParams(args))
	if err != nil {
		return nil, err
	}
	return &sqlRows{r: rows}, nil
}

func valuesToNamed(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

// sqlResult is the Counters of an Exec.
type sqlResult Counters

func (r sqlResult) LastInsertId() (int64, error) {
	return 0, errors.New("graphdb: LastInsertId is not supported; RETURN id(n) from the query instead")
}

// RowsAffected sums the entities created and deleted and the properties set.
func (r sqlResult) RowsAffected() (int64, error) {
	return r.NodesCreated + r.NodesDeleted + r.RelationshipsCreated + r.RelationshipsDeleted + r.PropertiesSet, nil
}

type sqlRows struct{ r *Rows }

func (r *sqlRows) Columns() []string { return r.r.Columns() }
func (r *sqlRows) Close() error      { return r.r.Close() }

// Next hands database/sql the decoded values as they are (Node, []any ...): Scan into *any
// or a pointer of the same type receives them unchanged.
func (r *sqlRows) Next(dest []driver.Value) error {
	if !r.r.Next() {
		if err := r.r.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	vals, err := r.r.Values()
	if err != nil {
		return err
	}
	for i, v := range vals {
		dest[i] = v
	}
	return nil
}
