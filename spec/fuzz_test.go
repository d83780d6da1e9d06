package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse decodes and validates arbitrary job files: it must never
// panic, and every diagnostic must carry a position.
func FuzzParse(f *testing.F) {
	files, _ := Files("../pipelines")
	more, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, more...)
	more, _ = filepath.Glob("testdata/check/*.yaml")
	files = append(files, more...)
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(billionLaughs()))
	f.Add([]byte("spec:\n  stages:\n    - name: a\n      sql: >-\n        SELECT\n\n          x FROM\n        a\n"))
	f.Add([]byte("a: ${X:-1}\nb: \"\\u00e9${Y}\\\n  z\"\n"))
	env := func(k string) (string, bool) {
		if k == "SET" {
			return "v\nw", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		ps, ds := Parse("f.yaml", src, WithEnv(env), WithMaxFileSize(1<<16))
		for _, d := range ds {
			if d.Pos.Line <= 0 || d.Pos.Col <= 0 {
				t.Fatalf("diagnostic without a position: %#v", d)
			}
		}
		for _, p := range ps {
			for _, s := range p.Spec.Stages {
				if s.SQL != nil {
					for i := 0; i <= len(s.SQL.Value); i++ {
						if pos := s.SQL.PosAt(i); pos.Line <= 0 {
							t.Fatalf("PosAt(%d) = %v", i, pos)
						}
					}
				}
			}
		}
	})
}
