package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Parse decodes the job file src (named name in positions) and, unless
// WithoutValidation is given, validates each pipeline. It returns every
// pipeline that could be decoded, even when there are errors, and all
// diagnostics sorted by position.
func Parse(name string, src []byte, opts ...Option) ([]*Pipeline, Diagnostics) {
	o := newOptions(opts)
	ps, ds := parseFile(name, src, o)
	if !o.noValidate {
		for _, p := range ps {
			ds = append(ds, validate(p, o, true)...)
		}
	}
	ds.Sort()
	return ps, ds
}

// LoadFile reads and parses one job file (see Parse). A file that cannot
// be read is one diagnostic of kind ErrIO.
func LoadFile(path string, opts ...Option) ([]*Pipeline, Diagnostics) {
	o := newOptions(opts)
	f, err := os.Open(path)
	if err != nil {
		return nil, Diagnostics{diagf(ErrIO, Pos{File: path}, "%s", cleanIOError(err))}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, Diagnostics{diagf(ErrIO, Pos{File: path}, "%s", cleanIOError(err))}
	}
	if st.IsDir() {
		return nil, Diagnostics{diagf(ErrIO, Pos{File: path}, "%s is a directory (use Load)", path)}
	}
	if st.Size() > o.maxFileSize {
		return nil, Diagnostics{diagf(ErrLimit, Pos{File: path, Line: 1, Col: 1},
			"file is %d bytes, over the limit of %d bytes (max file size)", st.Size(), o.maxFileSize).
			withHint(fmt.Sprintf("raise it with --max-file-size=%d (spec.WithMaxFileSize)", nextLimit(st.Size())))}
	}
	buf := make([]byte, st.Size())
	n, err := readFull(f, buf)
	if err != nil {
		return nil, Diagnostics{diagf(ErrIO, Pos{File: path}, "%s", cleanIOError(err))}
	}
	return Parse(path, buf[:n], opts...)
}

func readFull(f *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			if n == len(buf) || err.Error() == "EOF" {
				return n, nil
			}
			return n, err
		}
		if m == 0 {
			break
		}
	}
	return n, nil
}

func cleanIOError(err error) string {
	if pe, ok := err.(*fs.PathError); ok {
		return fmt.Sprintf("cannot read %s: %v", pe.Path, pe.Err)
	}
	return err.Error()
}

// Files expands paths into the job files they name: a file is taken as
// is; a directory is walked recursively for *.yaml and *.yml files,
// skipping directories named tests, testdata and those starting with a
// dot. The result is sorted within each directory argument and free of
// duplicates. A path that does not exist is a diagnostic.
func Files(paths ...string) ([]string, Diagnostics) {
	var out []string
	var ds Diagnostics
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, root := range paths {
		st, err := os.Stat(root)
		if err != nil {
			ds = append(ds, diagf(ErrIO, Pos{File: root}, "%s", cleanIOError(err)))
			continue
		}
		if !st.IsDir() {
			add(root)
			continue
		}
		var found []string
		err = filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				ds = append(ds, diagf(ErrIO, Pos{File: p}, "%s", cleanIOError(err)))
				return nil
			}
			if e.IsDir() {
				name := e.Name()
				if p != root && (name == "tests" || name == "testdata" || strings.HasPrefix(name, ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(p); ext == ".yaml" || ext == ".yml" {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			ds = append(ds, diagf(ErrIO, Pos{File: root}, "%s", cleanIOError(err)))
		}
		sort.Strings(found)
		if len(found) == 0 {
			ds = append(ds, warnf(ErrIO, Pos{File: root}, "no *.yaml or *.yml files in %s", root))
		}
		for _, f := range found {
			add(f)
		}
	}
	return out, ds
}

// Load loads every job file named by paths (files, and directories walked
// as Files does) and returns all pipelines in file order and all
// diagnostics. Names of pipelines must be unique across the files.
func Load(paths ...string) ([]*Pipeline, Diagnostics) {
	return LoadWith(paths, nil)
}

// LoadWith is Load with options.
func LoadWith(paths []string, opts []Option) ([]*Pipeline, Diagnostics) {
	files, ds := Files(paths...)
	var out []*Pipeline
	names := map[string]*Pipeline{}
	for _, f := range files {
		ps, fds := LoadFile(f, opts...)
		ds = append(ds, fds...)
		for _, p := range ps {
			if q, dup := names[p.Metadata.Name]; dup && p.Metadata.Name != "" {
				ds = append(ds, diagf(ErrDuplicate, p.PosOf("metadata.name"),
					"pipeline %q is already defined at %s", p.Metadata.Name, q.PosOf("metadata.name")))
			} else {
				names[p.Metadata.Name] = p
			}
			out = append(out, p)
		}
	}
	ds.Sort()
	return out, ds
}

// PosOf returns the position of the value at path, a dotted path of YAML
// keys and list indexes such as "spec.sources[0].eventTime.column". It
// returns the position of the closest enclosing value that was written
// when path itself was not, and p.Pos when none was.
func (p *Pipeline) PosOf(path string) Pos {
	for path != "" {
		if ps, ok := p.pos[path]; ok {
			return ps
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	if p.Pos.Line > 0 {
		return p.Pos
	}
	return Pos{File: p.Pos.File, Line: 1, Col: 1}
}

// File returns the name of the file p came from.
func (p *Pipeline) File() string {
	if p.src != nil {
		return p.src.file
	}
	return p.Pos.File
}
