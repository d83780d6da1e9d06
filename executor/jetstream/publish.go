package jetstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/nats-io/nats.go"
)

// InputSubject returns the subject to publish a source's input file to: the
// first subject of the source (or of the stream's default subjects) with
// wildcard tokens replaced by "input".
func InputSubject(stream string, subjects []string) string {
	subj := DefaultSubjects(stream)[0]
	if len(subjects) > 0 {
		subj = subjects[0]
	}
	toks := strings.Split(subj, ".")
	for i, t := range toks {
		if t == "*" || t == ">" {
			toks[i] = "input"
		}
	}
	return strings.Join(toks, ".")
}

// PublishLines publishes every non-empty line of r (JSONL or CSV records,
// without the line end and a trailing CR) as one message to subject. A
// line of blanks is a record too (a tab-delimited record of empty fields;
// in JSONL it is dead-lettered by the decoder), never dropped, asynchronously with flow
// control, then waits for all acks. skip lines are skipped first (a CSV
// header). It returns the number of messages published.
func (c *Conn) PublishLines(ctx context.Context, subject string, r io.Reader, skip int) (int, error) {
	const chunk = 4 << 20
	var (
		n     int
		carry []byte
		eof   bool
	)
	for !eof {
		buf := make([]byte, len(carry), len(carry)+chunk)
		copy(buf, carry)
		k, err := io.ReadFull(r, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+k]
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			eof = true
		default:
			return n, fmt.Errorf("jetstream: read input: %w", err)
		}
		end := bytes.LastIndexByte(buf, '\n')
		if eof {
			end = len(buf) - 1
		}
		if end < 0 { // one line longer than a chunk
			carry = buf
			continue
		}
		lines := buf[:end+1]
		carry = append([]byte(nil), buf[end+1:]...)
		for len(lines) > 0 {
			i := bytes.IndexByte(lines, '\n')
			var line []byte
			if i < 0 {
				line, lines = lines, nil
			} else {
				line, lines = lines[:i], lines[i+1:]
			}
			line = bytes.TrimRight(line, "\r")
			if len(line) == 0 {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			if err := c.PublishAsync(ctx, &nats.Msg{Subject: subject, Data: line[:len(line):len(line)]}); err != nil {
				return n, err
			}
			n++
		}
	}
	if err := c.Flush(ctx); err != nil {
		return n, err
	}
	return n, nil
}
