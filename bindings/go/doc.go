// Package graphdb is the Go binding of libgraphdb, an embedded property-graph database
// queried in openCypher, over its C API (include/graphdb.h).
//
// Open a database, take a Conn per goroutine (or share one: it serialises its calls), run
// statements with Query/Exec, explicit transactions with Begin, and retried read-modify-
// write transactions with Transact. Errors are *Error values carrying the library's
// status; match them with errors.Is(err, graphdb.ErrConflict) and friends. A cancelled
// context interrupts the running statement.
//
// Importing the package also registers the database/sql driver "graphdb" (see Driver).
package graphdb
