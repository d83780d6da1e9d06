package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/flowrun/flowrun/server"
)

func init() {
	register(serveCmd)
}

func serveCmd() *cobra.Command {
	var rf regFlags
	var addr, token, natsListen string
	var maxBody int64
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve registered models over HTTP (KServe v1 predict API)",
		Long: `Answer prediction requests for the models of the registry:

  POST /v1/models/{name}:predict   {"instances": [{"amount": 120.5, "tx_count": 3}, ...]}
                                   → {"predictions": [0.07, ...], "model_version": 3}
  GET  /v1/models                  registered models and the versions serving
  GET  /v1/models/{name}           a model's versions, metrics and aliases
  GET  /livez  /readyz  /metrics   health and Prometheus metrics

Each model serves its champion (else its latest version); a promotion is picked
up within about a second, without a restart. Instances name their features as
recorded in the version's metadata, or list the values in that order.

serve listens on 127.0.0.1 by default. Any other address requires a token
(--token or FLOWRUN_TOKEN), sent by clients as "Authorization: Bearer TOKEN".
SIGINT or SIGTERM stops it gracefully.`,
		Example: `  flowrun serve
  flowrun serve --addr 127.0.0.1:9000 --store ./state
  FLOWRUN_TOKEN=s3cret flowrun serve --addr 0.0.0.0:8080 --nats nats://127.0.0.1:4222
  curl -s localhost:8080/v1/models/fraud:predict -d '{"instances": [{"amount": 120.5, "tx_count": 3}]}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if token == "" {
				token = os.Getenv("FLOWRUN_TOKEN")
			}
			if err := server.CheckAddr(addr, token); err != nil {
				return usageError{err}
			}
			if maxBody <= 0 {
				return usageError{fmt.Errorf("--max-body must be positive, got %d", maxBody)}
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			reg, conn, closeFn, err := rf.openRegistry(ctx, natsListen, log)
			if err != nil {
				return err
			}
			defer closeFn()
			ready := func() error {
				if s := conn.NC.Status(); s != nats.CONNECTED {
					return fmt.Errorf("NATS connection is %v", s)
				}
				return nil
			}
			api := server.NewModelAPI(reg, server.Config{Token: token, MaxBody: maxBody, Ready: ready, Logger: log})
			defer api.Close()

			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return userError{fmt.Errorf("listen on %s: %w", addr, err)}
			}
			hs := &http.Server{
				Handler:           api,
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       60 * time.Second,
				IdleTimeout:       120 * time.Second,
				MaxHeaderBytes:    64 << 10,
			}
			log.Info("serving models", "addr", "http://"+ln.Addr().String(), "auth", token != "", "registry", where(rf, natsListen))
			errc := make(chan error, 1)
			go func() { errc <- hs.Serve(ln) }()
			select {
			case err := <-errc:
				return fmt.Errorf("serve: %w", err)
			case <-ctx.Done():
			}
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("shutdown: %w", err)
			}
			return nil
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "HOST:PORT to listen on (non-loopback requires --token)")
	cmd.Flags().StringVar(&token, "token", "", "bearer token required on every request except /livez and /readyz (env FLOWRUN_TOKEN)")
	cmd.Flags().Int64Var(&maxBody, "max-body", server.DefaultMaxBody, "largest request body in bytes")
	cmd.Flags().StringVar(&natsListen, "nats-listen", "", "with the embedded server, also accept NATS clients on HOST:PORT (so that 'flowrun models promote --nats' can reach it)")
	return cmd
}

func where(rf regFlags, listen string) string {
	if rf.nats != "" {
		return rf.nats
	}
	if listen != "" {
		return "embedded " + rf.store + " (nats://" + listen + ")"
	}
	return "embedded " + rf.store
}
