package graphdb

/*
#include "graphdb.h"
*/
import "C"

import (
	"fmt"
)

// Node is a node value: its id, labels and properties.
type Node struct {
	ID         int64
	Labels     []string
	Properties map[string]any
}

// Relationship is a relationship value; Start and End are node ids.
type Relationship struct {
	ID         int64
	Type       string
	Start      int64
	End        int64
	Properties map[string]any
}

// Path alternates nodes and relationships: len(Nodes) == len(Relationships)+1.
type Path struct {
	Nodes         []Node
	Relationships []Relationship
}

// TemporalKind names a temporal type, as the tag of its JSON form ("$date" ...).
type TemporalKind string

const (
	KindDate          TemporalKind = "date"
	KindLocalTime     TemporalKind = "localtime"
	KindTime          TemporalKind = "time"
	KindLocalDateTime TemporalKind = "localdatetime"
	KindDateTime      TemporalKind = "datetime"
	KindDuration      TemporalKind = "duration"
)

// Temporal is a date, time, date-time or duration in its Cypher string form, e.g.
// Temporal{KindDate, "2015-07-21"}; as a parameter any ISO 8601 form Cypher accepts.
// Read components in Cypher (d.year, dt.epochMillis) when you need numbers.
type Temporal struct {
	Kind TemporalKind
	Text string
}

func (t Temporal) String() string { return t.Text }

var temporalKinds = map[C.graphdb_value_type]TemporalKind{
	C.GRAPHDB_TYPE_DATE:           KindDate,
	C.GRAPHDB_TYPE_LOCAL_TIME:     KindLocalTime,
	C.GRAPHDB_TYPE_TIME:           KindTime,
	C.GRAPHDB_TYPE_LOCAL_DATETIME: KindLocalDateTime,
	C.GRAPHDB_TYPE_DATETIME:       KindDateTime,
	C.GRAPHDB_TYPE_DURATION:       KindDuration,
}

var typeNames = map[C.graphdb_value_type]string{
	C.GRAPHDB_TYPE_NULL: "NULL", C.GRAPHDB_TYPE_BOOL: "BOOLEAN", C.GRAPHDB_TYPE_INT64: "INTEGER",
	C.GRAPHDB_TYPE_DOUBLE: "FLOAT", C.GRAPHDB_TYPE_STRING: "STRING", C.GRAPHDB_TYPE_LIST: "LIST",
	C.GRAPHDB_TYPE_MAP: "MAP", C.GRAPHDB_TYPE_NODE: "NODE", C.GRAPHDB_TYPE_RELATIONSHIP: "RELATIONSHIP",
	C.GRAPHDB_TYPE_PATH: "PATH", C.GRAPHDB_TYPE_DATE: "DATE", C.GRAPHDB_TYPE_LOCAL_TIME: "LOCAL TIME",
	C.GRAPHDB_TYPE_TIME: "ZONED TIME", C.GRAPHDB_TYPE_LOCAL_DATETIME: "LOCAL DATETIME",
	C.GRAPHDB_TYPE_DATETIME: "ZONED DATETIME", C.GRAPHDB_TYPE_DURATION: "DURATION",
}

func typeName(t C.graphdb_value_type) string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type %d", int(t))
}

// viewError carries the status of a failed graphdb_value_* call out of the recursion;
// the caller turns it into an *Error with the connection's message.
type viewError Status

func check(st C.graphdb_status) {
	if st != C.GRAPHDB_OK {
		panic(viewError(st))
	}
}

// decodeView copies the borrowed value v (and everything inside it) into Go values. It
// returns the failing status of a value call, StatusOK otherwise.
func decodeView(v *C.graphdb_value) (out any, st Status) {
	defer func() {
		if r := recover(); r != nil {
			ve, ok := r.(viewError)
			if !ok {
				panic(r)
			}
			out, st = nil, Status(ve)
		}
	}()
	return decodeAny(v), StatusOK
}

func decodeAny(v *C.graphdb_value) any {
	t := C.graphdb_value_get_type(v)
	switch t {
	case C.GRAPHDB_TYPE_NULL:
		return nil
	case C.GRAPHDB_TYPE_BOOL:
		var b C.bool
		check(C.graphdb_value_get_bool(v, &b))
		return bool(b)
	case C.GRAPHDB_TYPE_INT64:
		var i C.int64_t
		check(C.graphdb_value_get_int64(v, &i))
		return int64(i)
	case C.GRAPHDB_TYPE_DOUBLE:
		var d C.double
		check(C.graphdb_value_get_double(v, &d))
		return float64(d)
	case C.GRAPHDB_TYPE_STRING:
		return viewString(v)
	case C.GRAPHDB_TYPE_LIST:
		var n C.size_t
		check(C.graphdb_value_list_size(v, &n))
		list := make([]any, int(n))
		for i := range list {
			var e *C.graphdb_value
			check(C.graphdb_value_list_get(v, C.size_t(i), &e))
			list[i] = decodeAny(e)
		}
		return list
	case C.GRAPHDB_TYPE_MAP:
		return decodeMap(v)
	case C.GRAPHDB_TYPE_NODE:
		return decodeNode(v)
	case C.GRAPHDB_TYPE_RELATIONSHIP:
		return decodeRel(v)
	case C.GRAPHDB_TYPE_PATH:
		var n C.size_t
		check(C.graphdb_value_path_length(v, &n))
		p := Path{Nodes: make([]Node, int(n)+1), Relationships: make([]Relationship, int(n))}
		for i := range p.Nodes {
			var e *C.graphdb_value
			check(C.graphdb_value_path_node(v, C.size_t(i), &e))
			p.Nodes[i] = decodeNode(e)
		}
		for i := range p.Relationships {
			var e *C.graphdb_value
			check(C.graphdb_value_path_relationship(v, C.size_t(i), &e))
			p.Relationships[i] = decodeRel(e)
		}
		return p
	}
	if k, ok := temporalKinds[t]; ok {
		return Temporal{Kind: k, Text: viewString(v)}
	}
	panic(viewError(StatusInternal))
}

func viewString(v *C.graphdb_value) string {
	var p *C.char
	var n C.size_t
	check(C.graphdb_value_get_string(v, &p, &n))
	return goStringN(p, n)
}

func decodeMap(v *C.graphdb_value) map[string]any {
	var n C.size_t
	check(C.graphdb_value_map_size(v, &n))
	m := make(map[string]any, int(n))
	for i := C.size_t(0); i < n; i++ {
		var k *C.char
		var kn C.size_t
		check(C.graphdb_value_map_key(v, i, &k, &kn))
		var e *C.graphdb_value
		check(C.graphdb_value_map_value(v, i, &e))
		m[goStringN(k, kn)] = decodeAny(e)
	}
	return m
}

func decodeNode(v *C.graphdb_value) Node {
	var id C.uint64_t
	check(C.graphdb_value_node_id(v, &id))
	var n C.size_t
	check(C.graphdb_value_node_label_count(v, &n))
	node := Node{ID: int64(id), Labels: make([]string, int(n))}
	for i := range node.Labels {
		var p *C.char
		var pn C.size_t
		check(C.graphdb_value_node_label(v, C.size_t(i), &p, &pn))
		node.Labels[i] = goStringN(p, pn)
	}
	var props *C.graphdb_value
	check(C.graphdb_value_node_properties(v, &props))
	node.Properties = decodeMap(props)
	return node
}

func decodeRel(v *C.graphdb_value) Relationship {
	var id, start, end C.uint64_t
	check(C.graphdb_value_relationship_id(v, &id))
	check(C.graphdb_value_relationship_start(v, &start))
	check(C.graphdb_value_relationship_end(v, &end))
	var p *C.char
	var pn C.size_t
	check(C.graphdb_value_relationship_type(v, &p, &pn))
	r := Relationship{ID: int64(id), Type: goStringN(p, pn), Start: int64(start), End: int64(end)}
	var props *C.graphdb_value
	check(C.graphdb_value_relationship_properties(v, &props))
	r.Properties = decodeMap(props)
	return r
}
