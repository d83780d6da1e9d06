package state

import (
	"errors"
	"math"
	"testing"

	"github.com/flowrun/flowrun/udf"
)

func TestAppendKeyCanonical(t *testing.T) {
	same := [][2]udf.Value{
		{udf.Int(1), udf.Float(1)},
		{udf.Int(0), udf.Float(math.Copysign(0, -1))},
		{udf.Float(math.NaN()), udf.Float(-math.NaN())},
		{udf.Null, udf.Null},
	}
	for _, p := range same {
		if string(AppendKey(nil, p[0])) != string(AppendKey(nil, p[1])) {
			t.Errorf("%v and %v encode differently", p[0], p[1])
		}
	}
	vals := []udf.Value{udf.Null, udf.Int(1), udf.Float(1.5), udf.Str(""), udf.Str("1"), udf.Bool(true), udf.Bool(false),
		udf.Time(1), udf.Vec([]float64{1}), udf.Vec(nil), udf.Int(-1), udf.Str("a\x00")}
	seen := map[string]udf.Value{}
	for _, v := range vals {
		k := string(AppendKey(nil, v))
		if o, dup := seen[k]; dup {
			t.Errorf("%v and %v encode the same", v, o)
		}
		seen[k] = v
	}
	// Concatenations are unambiguous: ("a", "bc") != ("ab", "c").
	a := AppendKey(AppendKey(nil, udf.Str("a")), udf.Str("bc"))
	b := AppendKey(AppendKey(nil, udf.Str("ab")), udf.Str("c"))
	if string(a) == string(b) {
		t.Error("string keys are ambiguous")
	}
	if Hash(a) == Hash(b) || Hash(a) != HashString(string(a)) {
		t.Error("Hash")
	}
	// Stable across runs: a fixed value.
	if h := Hash([]byte("flowrun")); h != Hash([]byte("flowrun")) || h == 0 {
		t.Error("Hash not stable")
	}
}

func TestCodecRoundTrip(t *testing.T) {
	e := NewEncoder("test")
	row := udf.Row{udf.Null, udf.Int(-5), udf.Float(2.5), udf.Str("héllo"), udf.Bool(true), udf.Time(1234), udf.Vec([]float64{1, 2})}
	e.Row(row)
	e.Varint(-7)
	e.Uvarint(9)
	e.Bool(true)
	e.Blob([]byte{1, 2})
	d, err := NewDecoder(e.Bytes(), "test")
	if err != nil {
		t.Fatal(err)
	}
	got := d.Row()
	for i := range row {
		if !udf.Equal(got[i], row[i]) {
			t.Errorf("value %d: %v, want %v", i, got[i], row[i])
		}
	}
	if d.Varint() != -7 || d.Uvarint() != 9 || !d.Bool() || string(d.Blob()) != "\x01\x02" {
		t.Error("scalars")
	}
	if err := d.Done(); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDecoder(e.Bytes(), "other"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong kind: %v", err)
	}
	bad := append([]byte{}, e.Bytes()...)
	bad[3] = 99
	if _, err := NewDecoder(bad, "test"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("wrong version: %v", err)
	}
	// Every truncation fails cleanly.
	for n := 0; n < len(e.Bytes()); n++ {
		d, err := NewDecoder(e.Bytes()[:n], "test")
		if err != nil {
			continue
		}
		d.Row()
		d.Varint()
		d.Uvarint()
		d.Bool()
		d.Blob()
		if d.Done() == nil {
			t.Errorf("truncated at %d: no error", n)
		}
	}
}

func TestKeyedLimitsAndTTL(t *testing.T) {
	k := NewKeyed[int](Limits{MaxKeys: 2, TTL: 100})
	e, created, err := k.Upsert([]byte("a"), 0)
	if err != nil || !created {
		t.Fatal(err)
	}
	e.V = 1
	k.Upsert([]byte("b"), 50)
	if _, _, err := k.Upsert([]byte("c"), 60); !errors.Is(err, ErrLimit) {
		t.Fatalf("third key: %v", err)
	}
	if e, created, _ := k.Upsert([]byte("a"), 70); created || e.V != 1 || e.Last != 70 {
		t.Fatal("existing key")
	}
	// Watermark 160: b (last 50) is expired, a (last 70) is not.
	var swept []string
	k.Advance(160, func(e *Entry[int]) { swept = append(swept, e.Key) })
	if len(swept) != 1 || swept[0] != "b" || k.Len() != 1 {
		t.Fatalf("swept %v, len %d", swept, k.Len())
	}
	// Between sweeps an expired key is invisible on access.
	k.Advance(170, nil)
	if k.Get([]byte("a")) != nil {
		t.Fatal("a should be expired on access at watermark 170")
	}
	if _, created, err := k.Upsert([]byte("c"), 180); err != nil || !created {
		t.Fatal("room after expiry")
	}
}

func TestKeyedSnapshot(t *testing.T) {
	k := NewKeyed[int64](Limits{TTL: 1000})
	for i, key := range []string{"z", "a", "m"} {
		e, _, _ := k.Upsert([]byte(key), int64(i*10))
		e.V = int64(i)
	}
	k.Advance(5, nil)
	enc := func() []byte {
		e := NewEncoder("k")
		if err := k.Encode(e, func(e *Encoder, v *int64) error { e.Varint(*v); return nil }); err != nil {
			t.Fatal(err)
		}
		return e.Bytes()
	}
	b1, b2 := enc(), enc()
	if string(b1) != string(b2) {
		t.Fatal("encoding not deterministic")
	}
	r := NewKeyed[int64](Limits{TTL: 1000})
	d, _ := NewDecoder(b1, "k")
	if err := r.Decode(d, func(d *Decoder, v *int64) error { *v = d.Varint(); return d.Err() }); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 3 || r.Watermark() != 5 || r.GetString("m").V != 2 || r.GetString("m").Last != 20 {
		t.Fatal("restored state differs")
	}
}

func TestKeyedLookupDoesNotAllocate(t *testing.T) {
	k := NewKeyed[int](Limits{})
	k.Upsert([]byte("key-1"), 0)
	buf := []byte("key-1")
	if n := testing.AllocsPerRun(100, func() { k.Upsert(buf, 1) }); n != 0 {
		t.Errorf("Upsert of an existing key allocates %v", n)
	}
}
