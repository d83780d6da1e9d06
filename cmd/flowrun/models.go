package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	fjs "github.com/flowrun/flowrun/executor/jetstream"
	"github.com/flowrun/flowrun/executor/registry"
)

// regFlags are the flags that say where the model registry is.
// TODO(dedup): the runtime verbs (run, worker) have the same --nats/--store
// pair; share one helper once both have settled.
type regFlags struct {
	nats  string
	store string
}

func (f *regFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.nats, "nats", os.Getenv("FLOWRUN_NATS"), "NATS server URL (default: an embedded JetStream server storing in --store; env FLOWRUN_NATS)")
	cmd.Flags().StringVar(&f.store, "store", fjs.DefaultStoreDir, "state directory of the embedded JetStream server (ignored with --nats)")
}

// connect connects to JetStream, starting the embedded server (which locks
// its store) when --nats is not given. closeFn releases both.
func (f *regFlags) connect(ctx context.Context, listen, name string, log *slog.Logger) (conn *fjs.Conn, closeFn func(), err error) {
	conn, err = fjs.Connect(ctx, fjs.Options{URL: f.nats, StoreDir: f.store, Listen: listen, Name: name, Logger: log})
	if err != nil {
		return nil, nil, userError{fmt.Errorf("connect to JetStream: %w", err)}
	}
	return conn, conn.Close, nil
}

// openRegistry connects to JetStream (starting the embedded server when
// --nats is not given) and opens the registry. close releases both.
func (f *regFlags) openRegistry(ctx context.Context, listen string, log *slog.Logger) (reg *registry.Registry, conn *fjs.Conn, closeFn func(), err error) {
	conn, closeConn, err := f.connect(ctx, listen, "flowrun-models", log)
	if err != nil {
		return nil, nil, nil, err
	}
	reg, err = registry.Open(ctx, conn.JS, registry.WithLogger(log))
	if err != nil {
		closeConn()
		return nil, nil, nil, err
	}
	return reg, conn, func() { reg.Close(); closeConn() }, nil
}

// registryError classifies registry errors for the exit status.
func registryError(err error) error {
	for _, e := range []error{registry.ErrNotFound, registry.ErrVersionNotFound, registry.ErrInvalidName,
		registry.ErrCorrupt, registry.ErrIncompatible, registry.ErrNoPrevious, registry.ErrTooLarge} {
		if errors.Is(err, e) {
			return userError{err}
		}
	}
	return err
}

// outputFlag is the -o flag of verbs that print data.
type outputFlag struct{ format string }

func (o *outputFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.format, "output", "o", "text", "output format: text, json or yaml")
}

func (o *outputFlag) check() error {
	switch o.format {
	case "text", "json", "yaml":
		return nil
	}
	return usageError{fmt.Errorf("-o %q: want text, json or yaml", o.format)}
}

// print writes v as JSON or YAML, or calls text for -o text.
func (o *outputFlag) print(w io.Writer, v any, text func(io.Writer)) error {
	switch o.format {
	case "text":
		text(w)
		return nil
	case "json":
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	y, err := yaml.JSONToYAML(b)
	if err != nil {
		return err
	}
	_, err = w.Write(y)
	return err
}

func parseVersion(s string) (int, error) {
	v, err := strconv.Atoi(strings.TrimPrefix(s, "v"))
	if err != nil || v < 1 {
		return 0, usageError{fmt.Errorf("version %q: want a positive number such as 3 or v3", s)}
	}
	return v, nil
}

// optVersion is parseVersion of a --version flag: "" means none (0).
func optVersion(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return parseVersion(s)
}

func init() {
	register(modelsCmd)
}

func modelsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List, inspect, export, import, promote and roll back registered models",
		Long: `The model registry keeps every version of every trained model in the JetStream
Object Store bucket flowrun-models and an index (versions, metrics, aliases) in
the KV bucket flowrun-model-index. The "champion" alias names the version that
pipelines and "flowrun serve" use; without one, the latest version serves.`,
		Example: `  flowrun models list
  flowrun models get fraud -o yaml
  flowrun models promote fraud 3
  flowrun models rollback fraud
  flowrun models export fraud --version 3 > fraud-v3.json
  flowrun models import fraud fraud-v3.json --features amount,tx_count`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(modelsListCmd(), modelsGetCmd(), modelsExportCmd(), modelsImportCmd(), modelsPromoteCmd(), modelsRollbackCmd())
	return cmd
}

// modelRow is one line of "models list".
type modelRow struct {
	Name      string    `json:"name"`
	Versions  int       `json:"versions"`
	Current   int       `json:"current_version,omitempty"`
	Champion  int       `json:"champion,omitempty"`
	Algorithm string    `json:"algorithm,omitempty"`
	Updated   time.Time `json:"updated,omitzero"`
}

func modelsListCmd() *cobra.Command {
	var rf regFlags
	var of outputFlag
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List registered models",
		Example: `  flowrun models list
  flowrun models list -o json --nats nats://127.0.0.1:4222`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := of.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			reg, _, closeFn, err := rf.openRegistry(ctx, "", regLogger())
			if err != nil {
				return err
			}
			defer closeFn()
			es, err := reg.List(ctx)
			if err != nil {
				return registryError(err)
			}
			rows := make([]modelRow, 0, len(es))
			for _, e := range es {
				r := modelRow{Name: e.Name, Versions: len(e.Ready()), Champion: e.Aliases[registry.Champion]}
				if c := e.Current(); c != nil {
					r.Current, r.Algorithm = c.Version, c.Algorithm
				}
				if l := e.Latest(); l != nil {
					r.Updated = l.Created
				}
				rows = append(rows, r)
			}
			return of.print(cmd.OutOrStdout(), rows, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tVERSIONS\tCURRENT\tCHAMPION\tALGORITHM\tUPDATED")
				for _, r := range rows {
					fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", r.Name, r.Versions, vstr(r.Current), vstr(r.Champion), r.Algorithm, r.Updated.Format(time.RFC3339))
				}
				tw.Flush()
			})
		},
	}
	rf.add(cmd)
	of.add(cmd)
	return cmd
}

func vstr(v int) string {
	if v == 0 {
		return "-"
	}
	return "v" + strconv.Itoa(v)
}

func modelsGetCmd() *cobra.Command {
	var rf regFlags
	var of outputFlag
	var version string
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a model's versions, metrics, aliases and promotion history",
		Long: `Show a model's index entry: every version with its creation time, author,
algorithm, features, class labels (classifiers: what PREDICT_LABEL returns),
metrics, hyper-parameters and training source; the aliases; and the promotion
history. With --version, show one version's metadata
(-o json gives a file that "models import --meta" reads).`,
		Example: `  flowrun models get fraud
  flowrun models get fraud -o json | jq '.versions[-1].metrics'
  flowrun models get fraud --version 3 -o json > meta.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := of.check(); err != nil {
				return err
			}
			only, err := optVersion(version)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			reg, _, closeFn, err := rf.openRegistry(ctx, "", regLogger())
			if err != nil {
				return err
			}
			defer closeFn()
			e, err := reg.Get(ctx, args[0])
			if err != nil {
				return registryError(err)
			}
			if only > 0 {
				v := e.Version(only)
				if v == nil {
					return userError{fmt.Errorf("%w: %q version %d", registry.ErrVersionNotFound, args[0], only)}
				}
				return of.print(cmd.OutOrStdout(), v, func(w io.Writer) { printVersion(w, v) })
			}
			view := struct {
				Name     string             `json:"name"`
				Current  int                `json:"current_version,omitempty"`
				Aliases  map[string]int     `json:"aliases,omitempty"`
				Versions []registry.Version `json:"versions"`
				Events   []registry.Event   `json:"events,omitempty"`
			}{Name: e.Name, Aliases: e.Aliases, Versions: e.Ready(), Events: e.Events}
			if c := e.Current(); c != nil {
				view.Current = c.Version
			}
			return of.print(cmd.OutOrStdout(), view, func(w io.Writer) { printEntry(w, e) })
		},
	}
	rf.add(cmd)
	of.add(cmd)
	cmd.Flags().StringVar(&version, "version", "", "show only this version's metadata")
	return cmd
}

func printVersion(w io.Writer, v *registry.Version) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, dash(v)) }
	row("Version", "v"+strconv.Itoa(v.Version))
	row("Created", v.Created.Format(time.RFC3339)+" by "+dash(v.CreatedBy))
	row("Algorithm", v.Algorithm)
	row("Object", fmt.Sprintf("%s (%d bytes, %s)", v.Object, v.Size, v.Digest))
	row("Features", strings.Join(v.Features, ", "))
	row("Label", v.Label)
	row("Labels", v.Labels.String())
	row("Metrics", metricsText(v.Metrics))
	keys := make([]string, 0, len(v.Params))
	for k := range v.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ps := make([]string, len(keys))
	for i, k := range keys {
		ps[i] = fmt.Sprintf("%s=%v", k, v.Params[k])
	}
	row("Params", strings.Join(ps, " "))
	row("Source", sourceText(v.Source))
	row("Job", v.Job)
	row("Description", v.Description)
	tw.Flush()
}

func printEntry(w io.Writer, e *registry.Entry) {
	cur := 0
	if c := e.Current(); c != nil {
		cur = c.Version
	}
	fmt.Fprintf(w, "Model:     %s\nServing:   %s", e.Name, vstr(cur))
	if _, ok := e.Aliases[registry.Champion]; ok {
		fmt.Fprintf(w, " (champion)\n")
	} else {
		fmt.Fprintf(w, " (latest; no champion)\n")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tCREATED\tBY\tALGORITHM\tFEATURES\tLABELS\tMETRICS\tSOURCE\tJOB")
	for _, v := range e.Ready() {
		mark := ""
		if v.Version == cur {
			mark = " *"
		}
		fmt.Fprintf(tw, "v%d%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", v.Version, mark, v.Created.Format(time.RFC3339), dash(v.CreatedBy),
			v.Algorithm, len(v.Features), dash(labelsText(v.Labels)), dash(metricsText(v.Metrics)), dash(sourceText(v.Source)), dash(v.Job))
	}
	tw.Flush()
	if len(e.Events) > 0 {
		fmt.Fprintln(w, "\nHistory:")
		for _, ev := range e.Events {
			fmt.Fprintf(w, "  %s  %-8s %s v%d (was %s) by %s\n", ev.At.Format(time.RFC3339), ev.Action, ev.Alias, ev.Version, vstr(ev.Previous), dash(ev.By))
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// labelsText is the short form of a version's class labels in the
// versions table: up to 4 values, comma separated, then how many more.
func labelsText(l *registry.Labels) string {
	if l == nil {
		return ""
	}
	const show = 4
	var parts []string
	for i, v := range l.Values {
		if i == show {
			parts = append(parts, fmt.Sprintf("+%d", len(l.Values)-show))
			break
		}
		s := []rune(fmt.Sprint(v))
		if len(s) > 16 {
			s = append(s[:15], '…')
		}
		parts = append(parts, string(s))
	}
	return strings.Join(parts, ",")
}

func metricsText(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.4g", k, m[k])
	}
	return strings.Join(parts, ",")
}

func sourceText(s *registry.Source) string {
	switch {
	case s == nil:
		return ""
	case s.Stream != "":
		return fmt.Sprintf("%s[%d..%d]", s.Stream, s.FirstSeq, s.LastSeq)
	}
	return s.File
}

func modelsExportCmd() *cobra.Command {
	var rf regFlags
	var version, file string
	cmd := &cobra.Command{
		Use:   "export NAME",
		Short: "Write a model version's JSON (the flowrun.model/v1 envelope)",
		Long: `Write the stored JSON of a model version, after validating it, to stdout or a
file. Without --version, the version that serves (champion, else latest) is
exported. The metadata (features, metrics) is shown by "models get -o json".`,
		Example: `  flowrun models export fraud > fraud.json
  flowrun models export fraud --version 2 -f fraud-v2.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := optVersion(version)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			reg, _, closeFn, err := rf.openRegistry(ctx, "", regLogger())
			if err != nil {
				return err
			}
			defer closeFn()
			var buf bytes.Buffer
			if err := reg.Export(ctx, args[0], v, &buf); err != nil {
				return registryError(err)
			}
			if file == "" || file == "-" {
				_, err = cmd.OutOrStdout().Write(buf.Bytes())
				return err
			}
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				return userError{err}
			}
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVar(&version, "version", "", "version to export (default: the one serving)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "write to this file instead of stdout")
	return cmd
}

func modelsImportCmd() *cobra.Command {
	var rf regFlags
	var features []string
	var metrics map[string]string
	var metaFile, job, desc string
	var promote bool
	cmd := &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Register a model JSON file as a new version",
		Long: `Validate a model document (as written by "models export" or ml.Marshal; FILE "-"
reads stdin) and register it as the next version of NAME. --features names the
model's inputs in order: the prediction API needs them. --meta reads the
metadata (features, metrics, source, job) from a JSON file such as one
version of "models get -o json"; flags override it.`,
		Example: `  flowrun models import fraud fraud-v3.json --features amount,tx_count,avg_amount,max_amount
  flowrun models import fraud model.json --meta meta.json --metric auc=0.93 --promote
  flowrun models export fraud | flowrun models import fraud-copy - --features amount,tx_count --nats nats://prod:4222`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var meta registry.VersionMeta
			if metaFile != "" {
				b, err := os.ReadFile(metaFile)
				if err != nil {
					return userError{err}
				}
				if err := json.Unmarshal(b, &meta); err != nil {
					return userError{fmt.Errorf("%s: %w", metaFile, err)}
				}
			}
			if cmd.Flags().Changed("features") {
				meta.Features = features
			}
			for k, s := range metrics {
				v, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return usageError{fmt.Errorf("--metric %s=%s: want a number", k, s)}
				}
				if meta.Metrics == nil {
					meta.Metrics = map[string]float64{}
				}
				meta.Metrics[k] = v
			}
			if job != "" {
				meta.Job = job
			}
			if desc != "" {
				meta.Description = desc
			}
			var in io.Reader = cmd.InOrStdin()
			if args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return userError{err}
				}
				defer f.Close()
				in = f
			}
			ctx := cmd.Context()
			reg, _, closeFn, err := rf.openRegistry(ctx, "", regLogger())
			if err != nil {
				return err
			}
			defer closeFn()
			v, err := reg.Import(ctx, args[0], in, meta)
			if err != nil {
				return registryError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s v%d\n", args[0], v)
			if promote {
				if err := reg.Promote(ctx, args[0], v); err != nil {
					return registryError(err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "promoted %s v%d to champion\n", args[0], v)
			}
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().StringSliceVar(&features, "features", nil, "feature names in the model's input order (comma separated)")
	cmd.Flags().StringToStringVar(&metrics, "metric", nil, "a metric of the version, NAME=VALUE (repeatable)")
	cmd.Flags().StringVar(&metaFile, "meta", "", "JSON file with the version metadata (features, metrics, source, job)")
	cmd.Flags().StringVar(&job, "job", "", "job the model was trained by")
	cmd.Flags().StringVar(&desc, "description", "", "free-text description")
	cmd.Flags().BoolVar(&promote, "promote", false, "make the imported version the champion")
	return cmd
}

func modelsPromoteCmd() *cobra.Command {
	var rf regFlags
	cmd := &cobra.Command{
		Use:   "promote NAME VERSION",
		Short: "Make a version the champion (served by pipelines and flowrun serve)",
		Long: `Set the champion alias of NAME to VERSION. Running pipelines and "flowrun serve"
swap to it within about a second, without a restart. The previous champion is
remembered for "models rollback"; who promoted and when is recorded.`,
		Example: `  flowrun models promote fraud 3
  flowrun models promote fraud v3 --nats nats://127.0.0.1:4222`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := parseVersion(args[1])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			reg, _, closeFn, err := rf.openRegistry(ctx, "", regLogger())
			if err != nil {
				return err
			}
			defer closeFn()
			if err := reg.Promote(ctx, args[0], v); err != nil {
				return registryError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: champion is now v%d\n", args[0], v)
			return nil
		},
	}
	rf.add(cmd)
	return cmd
}

func modelsRollbackCmd() *cobra.Command {
	var rf regFlags
	cmd := &cobra.Command{
		Use:   "rollback NAME",
		Short: "Make the previous champion the champion again",
		Long: `Restore the champion that was replaced by the last promotion. Repeated rollbacks
walk further back through earlier champions.`,
		Example: `  flowrun models rollback fraud`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			reg, _, closeFn, err := rf.openRegistry(ctx, "", regLogger())
			if err != nil {
				return err
			}
			defer closeFn()
			v, err := reg.Rollback(ctx, args[0])
			if err != nil {
				return registryError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: champion rolled back to v%d\n", args[0], v)
			return nil
		},
	}
	rf.add(cmd)
	return cmd
}

// regLogger logs warnings and errors of the registry verbs to stderr.
func regLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
