package graphdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// normalize maps a Go parameter value to one of nil, bool, int64, float64, string, or
// leaves it for encodeJSON (lists, maps, temporal values); it refuses what has no Cypher
// form.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return v, nil
	case Temporal, time.Time, time.Duration:
		return v, nil
	case json.Number:
		return jsonNumber(x)
	case Node, *Node, Relationship, *Relationship, Path, *Path:
		return nil, fmt.Errorf("a %T cannot be a parameter (pass its id or properties)", v)
	case []byte:
		return nil, fmt.Errorf("[]byte has no Cypher type; convert it to a string or a list")
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return nil, fmt.Errorf("%d does not fit in a 64-bit signed integer", u)
		}
		return int64(u), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return normalize(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		return v, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map keys must be strings, not %s", rv.Type().Key())
		}
		return v, nil
	}
	return nil, fmt.Errorf("unsupported parameter type %T", v)
}

// maxDepth bounds nesting, so a self-referencing value fails instead of recursing forever.
const maxDepth = 512

// encodeJSON appends the JSON form of API.md of v to buf.
func encodeJSON(buf []byte, v any) ([]byte, error) {
	var b bytes.Buffer
	b.Write(buf)
	if err := writeJSON(&b, v, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("value nested deeper than %d levels", maxDepth)
	}
	v, err := normalize(v)
	if err != nil {
		return err
	}
	if t, ok := temporalOf(v); ok {
		b.WriteString(`{"$` + string(t.Kind) + `":`)
		if err := writeString(b, t.Text); err != nil {
			return err
		}
		b.WriteByte('}')
		return nil
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(x))
		return nil
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
		return nil
	case float64:
		writeFloat(b, x)
		return nil
	case string:
		return writeString(b, x)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	case reflect.Map:
		b.WriteByte('{')
		it := rv.MapRange()
		for first := true; it.Next(); first = false {
			if !first {
				b.WriteByte(',')
			}
			if err := writeString(b, it.Key().String()); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, it.Value().Interface(), depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	}
	return fmt.Errorf("unsupported parameter type %T", v)
}

// writeString refuses invalid UTF-8, which encoding/json would silently replace.
func writeString(b *bytes.Buffer, s string) error {
	if !utf8.ValidString(s) {
		return newError(StatusInvalidArgument, "string is not valid UTF-8")
	}
	text, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b.Write(text)
	return nil
}

// writeFloat keeps a float a float: always a fraction or an exponent, and the non-finite
// values in their tagged form.
func writeFloat(b *bytes.Buffer, f float64) {
	switch {
	case math.IsNaN(f):
		b.WriteString(`{"$float":"NaN"}`)
	case math.IsInf(f, 1):
		b.WriteString(`{"$float":"Infinity"}`)
	case math.IsInf(f, -1):
		b.WriteString(`{"$float":"-Infinity"}`)
	default:
		s := strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(s, ".e") {
			s += ".0"
		}
		b.WriteString(s)
	}
}

// decodeJSONObject decodes the library's JSON statistics: integers stay exact int64.
func decodeJSONObject(text string) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var raw map[string]any
	if err := d.Decode(&raw); err != nil {
		return nil, newError(StatusInternal, "the library returned bad JSON: "+err.Error())
	}
	out, err := fromJSON(raw)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func fromJSON(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return jsonNumber(x)
	case []any:
		for i, e := range x {
			var err error
			if x[i], err = fromJSON(e); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		for k, e := range x {
			var err error
			if x[k], err = fromJSON(e); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}
