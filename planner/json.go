package planner

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/flowrun/flowrun/udf"
)

// The JSON form of a Graph (`flowrun explain --physical -o json`): an Op is
// an object with an "op" member naming its type (Source, Filter, ...) and
// the op's fields; an Expr is its String(); an AggCall names its function.
// Reading it back gives ExprText expressions, which print the same but
// cannot be evaluated: the executor always plans from the job file.

var opTypes = map[string]reflect.Type{}

func init() {
	for _, op := range []Op{&SourceOp{}, &FilterOp{}, &ProjectOp{}, &ChainOp{}, &WindowAggOp{}, &GroupAggOp{},
		&JoinOp{}, &UnionOp{}, &CleanOp{}, &FeaturesOp{}, &TrainOp{}, &SinkOp{}} {
		opTypes[op.Name()] = reflect.TypeOf(op).Elem()
	}
}

var (
	exprType  = reflect.TypeOf((*Expr)(nil)).Elem()
	opType    = reflect.TypeOf((*Op)(nil)).Elem()
	exprsType = reflect.TypeOf([]Expr(nil))
	opsType   = reflect.TypeOf([]Op(nil))
)

// MarshalJSON writes a node with its op as {"op": Name, ...fields}.
func (n *Node) MarshalJSON() ([]byte, error) {
	type plain Node
	op, err := marshalOp(n.Op)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		*plain
		Op json.RawMessage `json:"op"`
	}{(*plain)(n), op})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (n *Node) UnmarshalJSON(b []byte) error {
	type plain Node
	var x struct {
		*plain
		Op json.RawMessage `json:"op"`
	}
	x.plain = (*plain)(n)
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	op, err := unmarshalOp(x.Op)
	if err != nil {
		return err
	}
	n.Op = op
	return nil
}

func marshalOp(op Op) (json.RawMessage, error) {
	if op == nil {
		return json.RawMessage("null"), nil
	}
	v := reflect.ValueOf(op)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	m := map[string]any{"op": op.Name()}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, omit := jsonField(f)
		if name == "" {
			continue
		}
		fv := v.Field(i)
		var out any
		switch {
		case f.Type == exprType:
			if fv.IsNil() {
				if omit {
					continue
				}
				out = nil
			} else {
				out = fv.Interface().(Expr).String()
			}
		case f.Type == exprsType:
			ss := []string{}
			for _, e := range fv.Interface().([]Expr) {
				ss = append(ss, e.String())
			}
			out = ss
		case f.Type == opsType:
			var raws []json.RawMessage
			for _, o := range fv.Interface().([]Op) {
				r, err := marshalOp(o)
				if err != nil {
					return nil, err
				}
				raws = append(raws, r)
			}
			out = raws
		default:
			if omit && fv.IsZero() {
				continue
			}
			out = fv.Interface()
		}
		m[name] = out
	}
	return json.Marshal(m)
}

func jsonField(f reflect.StructField) (name string, omit bool) {
	tag := f.Tag.Get("json")
	if tag == "-" || !f.IsExported() {
		return "", false
	}
	parts := strings.Split(tag, ",")
	name = parts[0]
	if name == "" {
		name = f.Name
	}
	for _, p := range parts[1:] {
		if p == "omitempty" {
			omit = true
		}
	}
	return name, omit
}

func unmarshalOp(b json.RawMessage) (Op, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var name string
	if err := json.Unmarshal(m["op"], &name); err != nil {
		return nil, fmt.Errorf("planner: op without a name: %w", err)
	}
	t, ok := opTypes[name]
	if !ok {
		return nil, fmt.Errorf("planner: unknown op %q", name)
	}
	v := reflect.New(t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fname, _ := jsonField(f)
		raw, ok := m[fname]
		if fname == "" || !ok {
			continue
		}
		fv := v.Elem().Field(i)
		switch {
		case f.Type == exprType:
			var s *string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, err
			}
			if s != nil {
				fv.Set(reflect.ValueOf(Expr(&ExprText{Text: *s, T: udf.TypeAny})))
			}
		case f.Type == exprsType:
			var ss []string
			if err := json.Unmarshal(raw, &ss); err != nil {
				return nil, err
			}
			es := make([]Expr, len(ss))
			for j, s := range ss {
				es[j] = &ExprText{Text: s, T: udf.TypeAny}
			}
			fv.Set(reflect.ValueOf(es))
		case f.Type == opsType:
			var raws []json.RawMessage
			if err := json.Unmarshal(raw, &raws); err != nil {
				return nil, err
			}
			var ops []Op
			for _, r := range raws {
				o, err := unmarshalOp(r)
				if err != nil {
					return nil, err
				}
				ops = append(ops, o)
			}
			fv.Set(reflect.ValueOf(ops))
		default:
			if err := json.Unmarshal(raw, fv.Addr().Interface()); err != nil {
				return nil, fmt.Errorf("planner: op %s field %s: %w", name, fname, err)
			}
		}
	}
	return v.Interface().(Op), nil
}

// MarshalJSON writes an aggregate call with its function by name and its
// arguments as text.
func (a AggCall) MarshalJSON() ([]byte, error) {
	name := ""
	if a.Func != nil {
		name = a.Func.Name
	}
	args := []string{}
	for _, e := range a.Args {
		args = append(args, e.String())
	}
	consts := []string{}
	for _, c := range a.Consts {
		consts = append(consts, literalString(c))
	}
	return json.Marshal(struct {
		Func     string   `json:"func"`
		Args     []string `json:"args"`
		Consts   []string `json:"consts"`
		Distinct bool     `json:"distinct,omitempty"`
		T        udf.Type `json:"type"`
		Text     string   `json:"text"`
	}{name, args, consts, a.Distinct, a.T, a.String()})
}

// UnmarshalJSON reads what MarshalJSON writes; constants come back as
// text in ExprText form inside Args' sibling Consts (as strings).
func (a *AggCall) UnmarshalJSON(b []byte) error {
	var x struct {
		Func     string   `json:"func"`
		Args     []string `json:"args"`
		Consts   []string `json:"consts"`
		Distinct bool     `json:"distinct"`
		T        udf.Type `json:"type"`
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*a = AggCall{Distinct: x.Distinct, T: x.T}
	if f, ok := udf.LookupAggregate(x.Func); ok {
		a.Func = f
	}
	for _, s := range x.Args {
		a.Args = append(a.Args, &ExprText{Text: s, T: udf.TypeAny})
	}
	for _, s := range x.Consts {
		a.Consts = append(a.Consts, constFromText(s))
	}
	return nil
}

// constFromText reads a literal printed by literalString (numbers and
// strings; anything else stays a string).
func constFromText(s string) udf.Value {
	var f float64
	if _, err := fmt.Sscan(s, &f); err == nil {
		if !strings.ContainsAny(s, ".eE") {
			return udf.Int(int64(f))
		}
		return udf.Float(f)
	}
	return udf.Str(strings.Trim(s, "'"))
}

var routingNames = [...]string{Forward: "forward", Hash: "hash", Broadcast: "broadcast"}

// MarshalText names a routing in JSON.
func (r Routing) MarshalText() ([]byte, error) {
	if int(r) < len(routingNames) {
		return []byte(routingNames[r]), nil
	}
	return nil, fmt.Errorf("planner: bad routing %d", r)
}

// UnmarshalText reads a routing name.
func (r *Routing) UnmarshalText(b []byte) error {
	for i, n := range routingNames {
		if n == string(b) {
			*r = Routing(i)
			return nil
		}
	}
	return fmt.Errorf("planner: unknown routing %q", b)
}

var windowKindNames = [...]string{Tumble: "tumble", Hop: "hop", Session: "session"}

// MarshalText names a window kind in JSON.
func (k WindowKind) MarshalText() ([]byte, error) {
	if int(k) < len(windowKindNames) {
		return []byte(windowKindNames[k]), nil
	}
	return nil, fmt.Errorf("planner: bad window kind %d", k)
}

// UnmarshalText reads a window kind name.
func (k *WindowKind) UnmarshalText(b []byte) error {
	for i, n := range windowKindNames {
		if n == string(b) {
			*k = WindowKind(i)
			return nil
		}
	}
	return fmt.Errorf("planner: unknown window kind %q", b)
}

// MarshalText names a join kind in JSON.
func (k JoinKind) MarshalText() ([]byte, error) {
	if int(k) < len(joinKindNames) {
		return []byte(joinKindNames[k]), nil
	}
	return nil, fmt.Errorf("planner: bad join kind %d", k)
}

// UnmarshalText reads a join kind name.
func (k *JoinKind) UnmarshalText(b []byte) error {
	for i, n := range joinKindNames {
		if n == string(b) {
			*k = JoinKind(i)
			return nil
		}
	}
	return fmt.Errorf("planner: unknown join kind %q", b)
}
