package main

//go:generate go run . gendocs cli -o ../../docs/cli.md

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() { register(gendocsCmd) }

// gendocsCmd is the hidden verb that writes docs/cli.md (make generate).
func gendocsCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:    "gendocs cli",
		Short:  "Write the command-line reference (docs/cli.md) as Markdown",
		Long:   `gendocs cli writes the reference of every verb, generated from the command tree, to stdout or -o FILE.`,
		Hidden: true,
		Example: `  flowrun gendocs cli -o docs/cli.md
  go generate ./cmd/flowrun`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] != "cli" {
				return usageError{fmt.Errorf("gendocs: want the one argument cli, got %q", args)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Flag defaults read from the environment (FLOWRUN_NATS) must
			// not leak into the reference.
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "FLOWRUN_") {
					os.Unsetenv(k)
				}
			}
			var b bytes.Buffer
			if err := writeCLIDoc(&b, rootCmd()); err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := cmd.OutOrStdout().Write(b.Bytes())
				return err
			}
			if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
				return userError{err}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of stdout")
	return c
}

// exitStatuses is the exit-status contract of every verb (DESIGN §7).
var exitStatuses = []struct {
	code    int
	meaning string
}{
	{exitOK, "success"},
	{exitUser, "user error: an invalid job file, a failed test case, unusable input, a refused request"},
	{exitUsage, "usage error: unknown verb or flag, wrong arguments"},
	{exitInternal, "internal fault of flowrun itself (a bug: please report it)"},
}

// writeCLIDoc writes the Markdown reference of root's command tree: the
// exit-status contract, an index, then one section per visible verb and
// sub-verb, depth first in help order, with its usage, description,
// examples and flags.
func writeCLIDoc(w io.Writer, root *cobra.Command) error {
	var b strings.Builder
	b.WriteString("# flowrun command line\n\n")
	b.WriteString("<!-- Generated from the command tree by `flowrun gendocs cli` (cmd/flowrun/gendocs.go). Do not edit: run `make generate`. -->\n\n")
	writeProse(&b, root.Long)
	b.WriteString("Every verb prints its help, with examples, for `--help`.\n\n")
	b.WriteString("## Exit status\n\n| status | meaning |\n|---|---|\n")
	for _, s := range exitStatuses {
		fmt.Fprintf(&b, "| %d | %s |\n", s.code, mdCell(s.meaning))
	}
	b.WriteString("\n## Verbs\n\n| verb | what it does |\n|---|---|\n")
	cmds := visibleCommands(root)
	for _, c := range cmds {
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s |\n", c.CommandPath(), anchor(c.CommandPath()), mdCell(c.Short))
	}
	b.WriteString("\n")
	for _, c := range cmds {
		writeCommandDoc(&b, c)
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}

// visibleCommands returns the verbs below c, depth first, in help order
// (cobra's, sorted by name), without hidden ones and cobra's own help and
// completion verbs.
func visibleCommands(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		out = append(out, sub)
		out = append(out, visibleCommands(sub)...)
	}
	return out
}

func writeCommandDoc(b *strings.Builder, c *cobra.Command) {
	fmt.Fprintf(b, "## %s\n\n", c.CommandPath())
	if c.Short != "" {
		b.WriteString(strings.TrimSpace(c.Short) + ".\n\n")
	}
	b.WriteString("```text\n" + c.UseLine() + "\n")
	if c.HasAvailableSubCommands() {
		b.WriteString(c.CommandPath() + " COMMAND\n")
	}
	b.WriteString("```\n\n")
	if len(c.Aliases) > 0 {
		fmt.Fprintf(b, "Aliases: `%s`.\n\n", strings.Join(c.Aliases, "`, `"))
	}
	if c.Long != "" {
		writeProse(b, c.Long)
	}
	if subs := c.Commands(); c.HasAvailableSubCommands() {
		b.WriteString("Sub-verbs:")
		sep := " "
		for _, s := range subs {
			if s.IsAvailableCommand() {
				fmt.Fprintf(b, "%s[`%s`](#%s)", sep, s.Name(), anchor(s.CommandPath()))
				sep = ", "
			}
		}
		b.WriteString(".\n\n")
	}
	if ex := strings.TrimRight(c.Example, " \n"); ex != "" {
		b.WriteString("Examples:\n\n```sh\n" + dedent(ex) + "\n```\n\n")
	}
	writeFlags(b, "Flags", c.NonInheritedFlags())
	writeFlags(b, "Inherited flags", c.InheritedFlags())
}

// writeFlags writes a table of the flags of fs, without cobra's --help.
func writeFlags(b *strings.Builder, title string, fs *pflag.FlagSet) {
	var rows []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		short, def := "", ""
		if f.Shorthand != "" {
			short = "`-" + f.Shorthand + "`"
		}
		if d := f.DefValue; d != "" && d != "[]" && !(f.Value.Type() == "bool" && d == "false") {
			def = "`" + d + "`"
		}
		name := "`--" + f.Name
		if t := flagArg(f); t != "" {
			name += " " + t
		}
		name += "`"
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s |", name, short, mdCell(def), mdCell(f.Usage)))
	})
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "%s:\n\n| flag | short | default | usage |\n|---|---|---|---|\n", title)
	b.WriteString(strings.Join(rows, "\n") + "\n\n")
}

// flagArg names a flag's argument as help does: pflag's back-quoted word in
// the usage, else its type; none for a bool.
func flagArg(f *pflag.Flag) string {
	name, _ := pflag.UnquoteUsage(f)
	switch name {
	case "", "bool":
		return ""
	case "stringArray", "stringSlice", "strings":
		return "string"
	}
	return name
}

// writeProse writes a Long text as Markdown: paragraphs as they are, blocks
// of lines indented by two spaces or more (examples, file snippets) as
// fenced text blocks.
func writeProse(b *strings.Builder, text string) {
	var para []string
	indented := func(l string) bool { return strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "\t") }
	flush := func() {
		if len(para) == 0 {
			return
		}
		allIndented := true
		for _, l := range para {
			allIndented = allIndented && indented(l)
		}
		if allIndented {
			b.WriteString("```text\n" + dedent(strings.Join(para, "\n")) + "\n```\n\n")
		} else {
			b.WriteString(strings.Join(para, "\n") + "\n\n")
		}
		para = para[:0]
	}
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		l = strings.TrimRight(l, " ")
		if l == "" {
			flush()
			continue
		}
		para = append(para, l)
	}
	flush()
}

// dedent removes the indentation all non-blank lines share.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			lines[i] = l[common:]
		} else {
			lines[i] = strings.TrimLeft(l, " \t")
		}
	}
	return strings.Join(lines, "\n")
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// anchor is GitHub's heading anchor of "flowrun models list".
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
