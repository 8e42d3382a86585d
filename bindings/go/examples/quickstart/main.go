// Quickstart: open a database, write in a transaction, read typed rows, retry a
// read-modify-write transaction, and use the database/sql driver.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	graphdb "github.com/libgraphdb/libgraphdb/bindings/go"
)

func main() {
	dir, err := os.MkdirTemp("", "graphdb-quickstart")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := graphdb.Open(filepath.Join(dir, "db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	n, err := conn.Exec(ctx, `CREATE (:Person {name: $a})-[:KNOWS {since: 2020}]->(:Person {name: $b})`,
		map[string]any{"a": "Ada", "b": "Grace"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("created %d nodes, %d relationships\n", n.NodesCreated, n.RelationshipsCreated)

	rows, err := conn.Query(ctx, `MATCH (a:Person)-[k:KNOWS]->(b) RETURN a.name, k.since, b`, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var since int64
		var b graphdb.Node
		if err := rows.Scan(&name, &since, &b); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s knows %s since %d\n", name, b.Properties["name"], since)
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}

	// Read-modify-write, rerun automatically on a CONFLICT.
	err = conn.Transact(ctx, func(tx *graphdb.Tx) error {
		_, err := tx.Exec(ctx, `MATCH (p:Person {name: 'Ada'}) SET p.visits = coalesce(p.visits, 0) + 1`, nil)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}

	_, err = conn.Query(ctx, "MATCH (n RETURN n", nil)
	var gerr *graphdb.Error
	if errors.As(err, &gerr) && errors.Is(err, graphdb.ErrSyntax) {
		fmt.Printf("syntax error at line %d, column %d\n", gerr.Line, gerr.Column)
	}

	// database/sql: the DSN is a path (here an in-memory database) plus ?key=value options.
	sdb, err := sql.Open("graphdb", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer sdb.Close()
	var sum int64
	if err := sdb.QueryRowContext(ctx, "RETURN $1 + $x", 40, sql.Named("x", 2)).Scan(&sum); err != nil {
		log.Fatal(err)
	}
	fmt.Println("database/sql says", sum)
}
