package udf

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var errBadState = errors.New("udf: bad aggregate state encoding")

func checkCount(args []Type) (Type, error) {
	if len(args) > 1 {
		return TypeNull, fmt.Errorf("%w: COUNT takes one argument or *", ErrArgs)
	}
	return TypeBigint, nil
}

// countState counts non-NULL Adds; with star it counts every Add.
type countState struct {
	n    int64
	star bool
}

// CountStar returns the state of COUNT(*): it counts every Add, NULL or not.
func CountStar() AggState { return &countState{star: true} }

func (s *countState) Add(v Value, _ int64) {
	if s.star || v.K != TypeNull {
		s.n++
	}
}
func (s *countState) Merge(o AggState) { s.n += o.(*countState).n }
func (s *countState) Result() Value    { return Int(s.n) }
func (s *countState) MarshalBinary() ([]byte, error) {
	b := []byte{1, 0}
	if s.star {
		b[1] = 1
	}
	return binary.AppendVarint(b, s.n), nil
}
func (s *countState) UnmarshalBinary(b []byte) error {
	if len(b) < 3 || b[0] != 1 {
		return errBadState
	}
	s.star = b[1] == 1
	n, k := binary.Varint(b[2:])
	if k <= 0 {
		return errBadState
	}
	s.n = n
	return nil
}

var _ AggState = (*countState)(nil)
