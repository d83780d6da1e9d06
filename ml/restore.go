package ml

import (
	"errors"
	"fmt"
)

// Consistency checks run by Unmarshal, so that a damaged or hand-edited
// document is refused instead of making Predict panic.

var errState = errors.New("inconsistent state")

func stateErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errState, fmt.Sprintf(format, args...))
}

func (m *ZScore) restore() error {
	if len(m.st.Sum) != len(m.st.SumSq) || len(m.st.Ring) > m.window || m.st.Pos < 0 || m.st.Pos >= m.window ||
		m.st.Count < 0 || m.st.Count > len(m.st.Ring) {
		return stateErr("zscore window")
	}
	for _, r := range m.st.Ring {
		if len(r) > len(m.st.Sum) {
			return stateErr("zscore ring row longer than sums")
		}
	}
	return nil
}

func (m *HalfSpaceTrees) restore() error {
	if m.st.Dim == nil {
		return nil
	}
	nodes := 1<<(m.height+1) - 1
	d := len(m.st.Lo)
	if len(m.st.Hi) != d || len(m.st.Dim) != m.nTrees || len(m.st.Split) != m.nTrees ||
		len(m.st.Ref) != m.nTrees || len(m.st.Latest) != m.nTrees {
		return stateErr("half-space trees: %d trees expected", m.nTrees)
	}
	for t := range m.nTrees {
		if len(m.st.Dim[t]) != nodes || len(m.st.Split[t]) != nodes || len(m.st.Ref[t]) != nodes || len(m.st.Latest[t]) != nodes {
			return stateErr("half-space tree %d: %d nodes expected", t, nodes)
		}
		for _, q := range m.st.Dim[t] {
			if q < 0 || int(q) >= max(d, 1) {
				return stateErr("half-space tree %d: split dimension %d out of range", t, q)
			}
		}
	}
	return nil
}

func (m *ADWIN) restore() error {
	var n, s float64
	for _, b := range m.st.Buckets {
		if b.N <= 0 {
			return stateErr("adwin bucket of size %v", b.N)
		}
		n += b.N
		s += b.Sum
	}
	if n != m.st.Width {
		return stateErr("adwin width %v, buckets hold %v", m.st.Width, n)
	}
	return nil
}

func (m *HoeffdingTree) restore() error {
	if len(m.st.Nodes) == 0 {
		return stateErr("hoeffding tree without nodes")
	}
	for i, n := range m.st.Nodes {
		if n.F >= 0 && (n.L <= i || n.R <= i || n.L >= len(m.st.Nodes) || n.R >= len(m.st.Nodes)) {
			return stateErr("hoeffding node %d: children %d, %d", i, n.L, n.R)
		}
		if len(n.Lo) != len(n.Stats) || len(n.Hi) != len(n.Stats) {
			return stateErr("hoeffding node %d: ranges and statistics differ", i)
		}
		if len(n.Counts) > m.st.Classes {
			return stateErr("hoeffding node %d: more classes than %d", i, m.st.Classes)
		}
	}
	return nil
}

func (m *DecisionTree) restore() error {
	for i, n := range m.st.Nodes {
		if n.F >= 0 && (n.L <= i || n.R <= i || n.L >= len(m.st.Nodes) || n.R >= len(m.st.Nodes)) {
			return stateErr("tree node %d: children %d, %d", i, n.L, n.R)
		}
		if n.F < 0 {
			want := max(m.st.Classes, 2)
			if m.regression {
				want = 1
			}
			if len(n.V) != want {
				return stateErr("tree leaf %d: %d values, want %d", i, len(n.V), want)
			}
		}
	}
	return nil
}

func (m *KMeans) restore() error {
	if len(m.st.Centers) != len(m.st.Counts) || len(m.st.Centers) > m.k {
		return stateErr("kmeans: %d centres, %d counts, k = %d", len(m.st.Centers), len(m.st.Counts), m.k)
	}
	return nil
}

func (m *NaiveBayes) restore() error {
	for i, c := range m.st.Classes {
		if len(c.Mean) != len(c.M2) {
			return stateErr("naive Bayes class %d: mean and m2 lengths differ", i)
		}
	}
	return nil
}

func (m *MatrixFactorization) restoreIDs() error {
	k := m.k
	if len(m.st.BU) != len(m.st.Users) || len(m.st.P) != k*len(m.st.Users) ||
		len(m.st.BI) != len(m.st.Items) || len(m.st.Q) != k*len(m.st.Items) {
		return stateErr("matrix factorization: ids, biases and factors differ in length")
	}
	return nil
}

func (m *Popularity) restoreIDs() error {
	if len(m.st.Score) != len(m.st.Items) || len(m.st.LastT) != len(m.st.Items) {
		return stateErr("popularity: items, scores and times differ in length")
	}
	return nil
}

// PageHinkley needs no check: its state is scalars.
