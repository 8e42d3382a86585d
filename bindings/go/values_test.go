package graphdb

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Every parameter type goes in and comes back out with the same value and Go type.
func TestParamRoundTrip(t *testing.T) {
	c := tempConn(t)
	cases := []struct {
		name string
		in   any
		want any
	}{
		{"null", nil, nil},
		{"true", true, true},
		{"false", false, false},
		{"maxint", int64(math.MaxInt64), int64(math.MaxInt64)},
		{"minint", int64(math.MinInt64), int64(math.MinInt64)},
		{"int", 42, int64(42)},
		{"int32", int32(-7), int64(-7)},
		{"uint8", uint8(200), int64(200)},
		{"float", 1.5, 1.5},
		{"float32", float32(0.25), 0.25},
		{"wholefloat", 3.0, 3.0},
		{"inf", math.Inf(1), math.Inf(1)},
		{"neginf", math.Inf(-1), math.Inf(-1)},
		{"string", "héllo 世界", "héllo 世界"},
		{"nul", "a\x00b", "a\x00b"},
		{"empty", "", ""},
		{"list", []any{int64(1), "two", 3.0, nil, true}, []any{int64(1), "two", 3.0, nil, true}},
		{"strings", []string{"a", "b"}, []any{"a", "b"}},
		{"emptylist", []int{}, []any{}},
		{"nested", map[string]any{"a": []any{map[string]any{"b": int64(math.MinInt64)}}, "f": 2.0, "n": nil},
			map[string]any{"a": []any{map[string]any{"b": int64(math.MinInt64)}}, "f": 2.0, "n": nil}},
		{"typedmap", map[string]int{"x": 1}, map[string]any{"x": int64(1)}},
		{"floatsinlist", []float64{math.NaN(), math.Inf(-1), 1e300}, nil},
		{"date", Temporal{KindDate, "2015-07-21"}, Temporal{KindDate, "2015-07-21"}},
		{"localtime", Temporal{KindLocalTime, "12:31:14.645876123"}, Temporal{KindLocalTime, "12:31:14.645876123"}},
		{"time", Temporal{KindTime, "12:31:14+01:00"}, Temporal{KindTime, "12:31:14+01:00"}},
		{"localdatetime", Temporal{KindLocalDateTime, "2015-07-21T12:31:14.645"}, Temporal{KindLocalDateTime, "2015-07-21T12:31:14.645"}},
		{"datetime", Temporal{KindDateTime, "2015-07-21T12:31Z"}, Temporal{KindDateTime, "2015-07-21T12:31Z"}},
		{"duration", Temporal{KindDuration, "P1Y2M3DT4H5M6.5S"}, Temporal{KindDuration, "P1Y2M3DT4H5M6.5S"}},
		{"gotime", time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), Temporal{KindDateTime, "2020-01-02T03:04:05Z"}},
		{"goduration", -1500 * time.Millisecond, Temporal{KindDuration, "PT-1.5S"}},
		{"templist", []any{Temporal{KindDate, "2000-01-01"}}, []any{Temporal{KindDate, "2000-01-01"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := one(t, c, "RETURN $v AS v", map[string]any{"v": tc.in})
			if tc.name == "floatsinlist" {
				l, ok := got.([]any)
				if !ok || len(l) != 3 || !math.IsNaN(l[0].(float64)) || !math.IsInf(l[1].(float64), -1) || l[2] != 1e300 {
					t.Fatalf("got %#v", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v (%T), want %#v (%T)", got, got, tc.want, tc.want)
			}
		})
	}
	if got := one(t, c, "RETURN $v", map[string]any{"v": math.NaN()}).(float64); !math.IsNaN(got) {
		t.Fatalf("NaN came back as %v", got)
	}
}

// Values computed in Cypher decode to the right Go types, temporal ones included.
func TestQueryValues(t *testing.T) {
	c := tempConn(t)
	rows, err := c.Query(bg, `RETURN 1 AS i, 2.5 AS f, 'x' AS s, null AS n, [1, [2]] AS l, {k: {j: 'v'}} AS m,
		date('2015-07-21') AS d, duration('PT1H') AS dur, datetime('2015-07-21T12:31:14+01:00') AS dt`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if got := strings.Join(rows.Columns(), ","); got != "i,f,s,n,l,m,d,dur,dt" {
		t.Fatalf("columns %s", got)
	}
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	vals, err := rows.Values()
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(1), 2.5, "x", nil, []any{int64(1), []any{int64(2)}},
		map[string]any{"k": map[string]any{"j": "v"}}, Temporal{KindDate, "2015-07-21"},
		Temporal{KindDuration, "PT1H"}, Temporal{KindDateTime, "2015-07-21T12:31:14+01:00"}}
	if !reflect.DeepEqual(vals, want) {
		t.Fatalf("got  %#v\nwant %#v", vals, want)
	}
	var s string
	if err := rows.Scan(nil, nil, nil, nil, nil, nil, &s, nil, nil); err != nil || s != "2015-07-21" {
		t.Fatalf("date as string: %q %v", s, err)
	}
}

// Nodes, relationships and paths carry ids, labels, type, ends and properties.
func TestGraphValues(t *testing.T) {
	c := tempConn(t)
	mustExec(t, c, `CREATE (:Person:Admin {name: 'a', age: 30})-[:KNOWS {since: 2001}]->(:Person {name: 'b'})`, nil)
	rows, err := c.Query(bg, `MATCH p = (a {name: 'a'})-[r:KNOWS]->(b) RETURN a, r, b, p, id(a), id(b), id(r)`, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatal("no row", rows.Err())
	}
	var a, b Node
	var r Relationship
	var p Path
	var ida, idb, idr int64
	if err := rows.Scan(&a, &r, &b, &p, &ida, &idb, &idr); err != nil {
		t.Fatal(err)
	}
	wantA := Node{ID: ida, Labels: []string{"Admin", "Person"}, Properties: map[string]any{"name": "a", "age": int64(30)}}
	if a.ID != ida || !reflect.DeepEqual(a.Properties, wantA.Properties) || !sameSet(a.Labels, wantA.Labels) {
		t.Fatalf("node a = %#v", a)
	}
	if b.ID != idb || b.Properties["name"] != "b" {
		t.Fatalf("node b = %#v", b)
	}
	wantR := Relationship{ID: idr, Type: "KNOWS", Start: ida, End: idb, Properties: map[string]any{"since": int64(2001)}}
	if !reflect.DeepEqual(r, wantR) {
		t.Fatalf("relationship = %#v, want %#v", r, wantR)
	}
	if len(p.Nodes) != 2 || len(p.Relationships) != 1 || p.Nodes[0].ID != ida || p.Nodes[1].ID != idb ||
		!reflect.DeepEqual(p.Relationships[0], wantR) {
		t.Fatalf("path = %#v", p)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// The typed Scan destinations use the library's getters, which do not convert.
func TestScanTypes(t *testing.T) {
	c := tempConn(t)
	rows, err := c.Query(bg, "RETURN 7 AS i, 0.5 AS f, 's' AS s, true AS b, null AS n", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var i int64
	wantStatus(t, rows.Scan(&i, nil, nil, nil, nil), ErrMisuse) // before Next
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	var n int
	var f float64
	var s string
	var b bool
	var any1 any
	if err := rows.Scan(&n, &f, &s, &b, &any1); err != nil {
		t.Fatal(err)
	}
	if n != 7 || f != 0.5 || s != "s" || !b || any1 != nil {
		t.Fatalf("got %v %v %q %v %v", n, f, s, b, any1)
	}
	wantStatus(t, rows.Scan(&f, nil, nil, nil, nil), ErrType) // int into float: no conversion
	wantStatus(t, rows.Scan(nil, &i, nil, nil, nil), ErrType) // float into int
	wantStatus(t, rows.Scan(nil, nil, &b, nil, nil), ErrType) // string into bool
	wantStatus(t, rows.Scan(nil, nil, nil, nil, &i), ErrType) // null into int
	wantStatus(t, rows.Scan(nil, nil, nil, nil, &Node{}), ErrType)
	wantStatus(t, rows.Scan(&i), ErrInvalidArgument) // wrong count
	wantStatus(t, rows.Scan(new(chan int), nil, nil, nil, nil), ErrInvalidArgument)
	if rows.Next() {
		t.Fatal("a second row")
	}
	wantStatus(t, rows.Scan(&i, nil, nil, nil, nil), ErrMisuse) // after the end
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
}

// Exec reports the statement's change counters.
func TestCounters(t *testing.T) {
	c := tempConn(t)
	got := mustExec(t, c, "CREATE (a:A {x: 1, y: 2})-[:R]->(b:B:C) SET b.z = 3", nil)
	want := Counters{NodesCreated: 2, RelationshipsCreated: 1, PropertiesSet: 3, LabelsAdded: 3}
	if got != want {
		t.Fatalf("create: %+v, want %+v", got, want)
	}
	got = mustExec(t, c, "MATCH (n) DETACH DELETE n", nil)
	if got.NodesDeleted != 2 || got.RelationshipsDeleted != 1 {
		t.Fatalf("delete: %+v", got)
	}
}

// A prepared statement runs many times with different parameters.
func TestPrepared(t *testing.T) {
	c := tempConn(t)
	st, err := c.Prepare(bg, "CREATE (:N {v: $v})")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := st.Exec(bg, map[string]any{"v": i}); err != nil {
			t.Fatal(err)
		}
	}
	if got := one(t, c, "MATCH (n:N) RETURN sum(n.v)", nil); got != int64(10) {
		t.Fatalf("sum = %v", got)
	}
	q, err := c.Prepare(bg, "MATCH (n:N) WHERE n.v >= $min RETURN count(n)")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := q.Query(bg, map[string]any{"min": 3})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	if !rows.Next() || rows.Scan(&n) != nil || n != 2 {
		t.Fatalf("count = %d", n)
	}
	rows.Close()
	_, err = c.Prepare(bg, "MATCH (n RETURN n")
	wantStatus(t, err, ErrSyntax)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, err = st.Exec(bg, nil)
	wantStatus(t, err, ErrMisuse)
	c.Close()
	_, err = q.Query(bg, nil)
	wantStatus(t, err, ErrMisuse)
	q.Close()
}
