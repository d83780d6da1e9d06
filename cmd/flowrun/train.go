package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/executor/mlops"
)

func init() { register(trainCmd) }

type trainFlags struct {
	reg       regFlags
	out       outputFlag
	model     string
	inputs    []string
	pipeline  string
	noPromote bool
}

func trainCmd() *cobra.Command {
	f := &trainFlags{}
	cmd := &cobra.Command{
		Use:   "train JOB --model NAME --input SRC=FILE...",
		Short: "Train a model in batch with the job's tuning settings and register the best",
		Long: `train fits one model of a job on a bounded replay of its from: relation: the
records of --input go through the job's decoder and its clean, features and
stateless SQL stages, exactly as in "flowrun run". With tuning: in the model,
every configuration of the grid or random search is tried with k-fold or
holdout validation, and each trial is printed. The winner is measured on a
holdout, fitted on every row, published to the model registry (--store or
--nats) and promoted to champion, so that a later "flowrun run" with the same
registry scores with it.

Exit status: 0 ok, 1 invalid job, input or model, 2 bad usage, 3 internal fault.`,
		Example: `  flowrun train credit.yaml --model default_risk --input clients=clients.csv
  flowrun train credit.yaml --model default_risk --input clients=clients.csv --store .flowrun -o json
  flowrun run credit.yaml --input clients=new.csv --output scored=- --bounded   # scores with it`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.out.check(); err != nil {
				return err
			}
			return trainJob(cmd.Context(), args[0], f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.model, "model", "", "name of the model to train (required)")
	fl.StringArrayVar(&f.inputs, "input", nil, "SRC=FILE: records of source SRC (JSONL or CSV as the source says; .gz ok), repeatable")
	fl.StringVar(&f.pipeline, "pipeline", "", "pipeline name when the file holds several")
	fl.BoolVar(&f.noPromote, "no-promote", false, "register the version without making it the champion")
	f.reg.add(cmd)
	f.out.add(cmd)
	_ = cmd.MarkFlagRequired("model")
	return cmd
}

// trainJob is flowrun train.
func trainJob(ctx context.Context, path string, f *trainFlags, stdout, stderr io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p, _, err := planJob(stderr, path, f.pipeline, 0)
	if err != nil {
		return err
	}
	inputs := map[string]string{}
	for _, s := range f.inputs {
		name, file, err := splitAssign("input", s)
		if err != nil {
			return err
		}
		inputs[name] = file
	}
	reg, _, closeReg, err := f.reg.openRegistry(ctx, "", regLogger())
	if err != nil {
		return err
	}
	defer closeReg()
	res, err := mlops.TrainBatch(ctx, p, f.model, mlops.BatchOptions{Inputs: inputs, Registry: reg, Funcs: userFuncs(p), NoPromote: f.noPromote})
	if err != nil {
		for _, e := range []error{mlops.ErrNoModel, mlops.ErrNoInput, mlops.ErrBatchPath, mlops.ErrNoRows} {
			if errors.Is(err, e) {
				return userError{err}
			}
		}
		return registryError(err)
	}
	return f.out.print(stdout, res, func(w io.Writer) { printTrain(w, res) })
}

func printTrain(w io.Writer, r *mlops.BatchResult) {
	fmt.Fprintf(w, "model %s (%s): %d rows, %d skipped\n", r.Model, r.Algorithm, r.Rows, r.Skipped)
	if len(r.Trials) > 0 {
		fmt.Fprintf(w, "\ntuning: %d trials, %s by %s\n", len(r.Trials), r.Metric, r.Validation)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "  TRIAL\tPARAMS\t%s\tFOLDS\n", strings.ToUpper(r.Metric))
		for i, t := range r.Trials {
			mark := " "
			if i == r.Best {
				mark = "*"
			}
			score := fmt.Sprintf("%.4f", t.Score)
			if t.Err != "" {
				score = "error: " + t.Err
			}
			var folds []string
			for _, s := range t.FoldScores {
				folds = append(folds, fmt.Sprintf("%.4f", s))
			}
			fmt.Fprintf(tw, "%s %d\t%s\t%s\t%s\n", mark, i+1, paramsText(t.Params), score, strings.Join(folds, " "))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nwinner: %s\n", paramsText(r.Params))
	fmt.Fprintf(w, "validation: %s\n", metricsText(r.Metrics))
	switch {
	case r.Version > 0 && r.Promoted:
		fmt.Fprintf(w, "registered: %s version %d (champion)\n", r.Model, r.Version)
	case r.Version > 0:
		fmt.Fprintf(w, "registered: %s version %d\n", r.Model, r.Version)
	}
}

func paramsText(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, p[k])
	}
	return strings.Join(parts, " ")
}
