package jetstream

import "testing"

func TestSubjectCovers(t *testing.T) {
	for _, c := range []struct {
		have, sub string
		want      bool
	}{
		{"a.b", "a.b", true},
		{"a.b", "a.c", false},
		{"a.>", "a.b.c", true},
		{"a.>", "a", false},
		{"a.>", "a.>", true},
		{"a.*", "a.b", true},
		{"a.*", "a.*", true},
		{"a.*", "a.>", false},
		{"a.*", "a.b.c", false},
		{">", "x.y", true},
		{"a.b", "a.*", false},
		{"credit.decisions", "credit.rejects", false},
	} {
		if got := subjectCovers(c.have, c.sub); got != c.want {
			t.Errorf("subjectCovers(%q, %q) = %v, want %v", c.have, c.sub, got, c.want)
		}
	}
}
