package graphdb

/*
#include <stdlib.h>
#include "graphdb.h"
*/
import "C"

import (
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Option sets one open option (see Open).
type Option func(*openConfig)

type openConfig struct {
	kv [][2]string
}

// WithOption sets any key of graphdb_options_set by name, e.g. WithOption("sync", "normal").
// An unknown key or value makes Open fail with INVALID_ARGUMENT.
func WithOption(key, value string) Option {
	return func(c *openConfig) { c.kv = append(c.kv, [2]string{key, value}) }
}

// ReadOnly opens the database with access_mode = read_only.
func ReadOnly() Option { return WithOption("access_mode", "read_only") }

// Create sets whether a missing database directory is created (default true).
func Create(create bool) Option { return WithOption("create", strconv.FormatBool(create)) }

// Sync sets the durability mode: "full" (default), "normal" or "off".
func Sync(mode string) Option { return WithOption("sync", mode) }

// BusyTimeout sets how long a call waits for a lock before BUSY.
func BusyTimeout(d time.Duration) Option {
	return WithOption("busy_timeout_ms", strconv.FormatInt(d.Milliseconds(), 10))
}

// QueryTimeout sets the longest a statement may run (0: no limit).
func QueryTimeout(d time.Duration) Option {
	return WithOption("query_timeout_ms", strconv.FormatInt(d.Milliseconds(), 10))
}

// DefaultIsolation sets the isolation of transactions that do not choose one.
func DefaultIsolation(level IsolationLevel) Option {
	if level == IsolationSnapshot {
		return WithOption("isolation", "snapshot")
	}
	return WithOption("isolation", "serializable")
}

// DB is an open database. It is safe for concurrent use; each goroutine that runs queries
// takes its own Conn (DB.Conn), or shares one Conn serially.
type DB struct {
	mu sync.RWMutex // write-held only by Close, so no call uses h while it is freed
	h  *C.graphdb_database
}

// Open opens the database directory at path (created unless Create(false)); ":memory:"
// opens a private in-memory database.
func Open(path string, opts ...Option) (*DB, error) {
	var cfg openConfig
	for _, o := range opts {
		o(&cfg)
	}
	cpath, err := cString(path, "path")
	if err != nil {
		return nil, err
	}
	defer freeC(cpath)

	var copts *C.graphdb_options
	if len(cfg.kv) > 0 {
		if st := Status(C.graphdb_options_new(&copts)); st != StatusOK {
			return nil, newError(st, "cannot create an option set")
		}
		defer C.graphdb_options_free(copts)
		for _, kv := range cfg.kv {
			if err := setOption(copts, kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
	}

	var h *C.graphdb_database
	var cmsg *C.char
	if st := Status(C.graphdb_open(cpath, copts, &h, &cmsg)); st != StatusOK {
		msg := "cannot open " + path
		if cmsg != nil {
			msg = C.GoString(cmsg)
			C.graphdb_string_free(cmsg)
		}
		return nil, newError(st, msg)
	}
	db := &DB{h: h}
	// A DB dropped without Close still releases its handle; Close is the normal way.
	runtime.SetFinalizer(db, (*DB).Close)
	return db, nil
}

func setOption(o *C.graphdb_options, key, value string) error {
	ck, err := cString(key, "option key")
	if err != nil {
		return err
	}
	defer freeC(ck)
	cv, err := cString(value, "option value")
	if err != nil {
		return err
	}
	defer freeC(cv)
	if st := Status(C.graphdb_options_set(o, ck, cv)); st != StatusOK {
		return newError(st, "invalid option "+strconv.Quote(key)+" = "+strconv.Quote(value))
	}
	return nil
}

// Close closes the database handle; Conns still open keep the database alive until they
// are closed. Closing twice is fine.
func (db *DB) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.h != nil {
		C.graphdb_close(db.h)
		db.h = nil
		runtime.SetFinalizer(db, nil)
	}
	return nil
}

// with runs f on the live handle, or fails if the DB is closed.
func (db *DB) with(f func(h *C.graphdb_database) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.h == nil {
		return errClosed("database")
	}
	return f(db.h)
}

// Conn opens a new connection. Many Conns may run at once on one DB.
func (db *DB) Conn() (*Conn, error) {
	var c *Conn
	err := db.with(func(h *C.graphdb_database) error {
		var ch *C.graphdb_connection
		if st := Status(C.graphdb_connect(h, &ch)); st != StatusOK {
			return newError(st, "cannot connect")
		}
		c = newConn(ch)
		return nil
	})
	return c, err
}

// Checkpoint writes a new base image holding every commit so far (READ_ONLY on a
// read-only database; nothing in memory).
func (db *DB) Checkpoint() error {
	return db.with(func(h *C.graphdb_database) error {
		return statusError(Status(C.graphdb_checkpoint(h)), "checkpoint failed")
	})
}

// Check verifies the whole base image (CORRUPT on damage). The Cypher statement CHECK on a
// Conn does the same and its error names the file and offset.
func (db *DB) Check() error {
	return db.with(func(h *C.graphdb_database) error {
		return statusError(Status(C.graphdb_check(h)), "the database is damaged")
	})
}

// Stats returns the transaction statistics (commits, rollbacks, conflicts, ...) as decoded
// JSON: integers as int64, other numbers as float64.
func (db *DB) Stats() (map[string]any, error) {
	var out map[string]any
	err := db.with(func(h *C.graphdb_database) error {
		var cjson *C.char
		if st := Status(C.graphdb_stats_json(h, &cjson)); st != StatusOK {
			return newError(st, "cannot read statistics")
		}
		text := C.GoString(cjson)
		C.graphdb_string_free(cjson)
		var err error
		out, err = decodeJSONObject(text)
		return err
	})
	return out, err
}

// Import bulk-loads CSV files described by specJSON (see docs/import.md) as one commit and
// returns its statistics (nodes, relationships, ...).
func (db *DB) Import(specJSON string) (map[string]any, error) {
	var out map[string]any
	err := db.with(func(h *C.graphdb_database) error {
		cspec, err := cString(specJSON, "import spec")
		if err != nil {
			return err
		}
		defer freeC(cspec)
		var cstats, cmsg *C.char
		st := Status(C.graphdb_import(h, cspec, &cstats, &cmsg))
		if st != StatusOK {
			msg := "import failed"
			if cmsg != nil {
				msg = C.GoString(cmsg)
				C.graphdb_string_free(cmsg)
			}
			return newError(st, msg)
		}
		text := C.GoString(cstats)
		C.graphdb_string_free(cstats)
		out, err = decodeJSONObject(text)
		return err
	})
	return out, err
}

// statusError turns a status of a call with no connection (so no message) into an error.
func statusError(st Status, msg string) error {
	if st == StatusOK {
		return nil
	}
	return newError(st, msg)
}
