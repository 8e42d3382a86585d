package graphdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net/url"
	"strings"
	"sync"
)

// Driver is the database/sql driver, registered as "graphdb". The data source name is a
// database path with open options as a query string:
//
//	db, err := sql.Open("graphdb", "/var/lib/app/graph?sync=normal&busy_timeout_ms=500")
//
// Every key of graphdb_options_set is accepted (":memory:" for an in-memory database
// shared by the pool). The database opens in sql.Open; each pooled connection is one Conn.
// Query arguments: sql.Named("id", 1) binds $id, a positional argument n binds $n ($1, $2,
// ...). Values: those of Conn.Query (lists, maps, Temporal, time.Time ...). Scan accepts
// *any, the Go types of Rows.Values (Node, []any, map[string]any, Temporal ...) and the
// usual database/sql conversions.
//
// Result.RowsAffected is nodes created + nodes deleted + relationships created +
// relationships deleted + properties set; LastInsertId is not supported (return ids from
// the query instead: CREATE (n) RETURN id(n)).
type Driver struct{}

func init() { sql.Register("graphdb", Driver{}) }

// Open opens a database for one connection; database/sql uses OpenConnector instead, which
// shares one database among the pool.
func (d Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	conn, err := c.Connect(context.Background())
	if err != nil {
		c.(*connector).Close()
		return nil, err
	}
	conn.(*sqlConn).ownsDB = c.(*connector)
	return conn, nil
}

// OpenConnector parses dsn and opens the database.
func (Driver) OpenConnector(dsn string) (driver.Connector, error) {
	path, opts, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := Open(path, opts...)
	if err != nil {
		return nil, err
	}
	return &connector{db: db}, nil
}

// ParseDSN splits "path?key=value&..." into the path and open options.
func ParseDSN(dsn string) (string, []Option, error) {
	path, query, _ := strings.Cut(dsn, "?")
	if path == "" {
		return "", nil, newError(StatusInvalidArgument, "the data source name has no path")
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, newError(StatusInvalidArgument, "bad options in the data source name: "+err.Error())
	}
	var opts []Option
	for key, vs := range values {
		for _, v := range vs {
			opts = append(opts, WithOption(key, v))
		}
	}
	return path, opts, nil
}

type connector struct {
	db   *DB
	once sync.Once
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := c.db.Conn()
	if err != nil {
		return nil, err
	}
	return &sqlConn{c: conn}, nil
}

func (c *connector) Driver() driver.Driver { return Driver{} }

// Close is called by sql.DB.Close: pooled connections still open keep the database alive
// until the pool closes them.
func (c *connector) Close() error {
	c.once.Do(func() { c.db.Close() })
	return nil
}
