// Command daprd is the Dapr sidecar runtime, built from the released
// github.com/dapr/dapr Go module for this project's tests and benchmarks.
//
// It mirrors what upstream's cmd/daprd/app.Run does (flags, --version,
// --build-info, --wait, loggers, security provider, runtime, SIGHUP restart),
// but it does not import github.com/dapr/dapr/cmd/daprd/components: without
// build tags that package's init panics, and with them it registers ~130
// components we do not want. Instead exactly one built-in component is
// registered: components-contrib's pubsub/mqtt3 as pub/sub type "mqtt3", so
// benchmarks can compare our pluggable bridge with Dapr's own MQTT component
// inside the same runtime. Pluggable component discovery
// (DAPR_COMPONENTS_SOCKETS_FOLDER) is unaffected: the component registries
// register their discovery hooks in their own init functions.
package main

import (
	"context"
	"fmt"
	"os"

	"go.opencensus.io/stats/view"
	"go.uber.org/automaxprocs/maxprocs"

	mqtt3 "github.com/dapr/components-contrib/pubsub/mqtt3"

	"github.com/dapr/dapr/cmd/daprd/options"
	"github.com/dapr/dapr/pkg/buildinfo"
	compbindings "github.com/dapr/dapr/pkg/components/bindings"
	compconfiguration "github.com/dapr/dapr/pkg/components/configuration"
	compconversation "github.com/dapr/dapr/pkg/components/conversation"
	compcrypto "github.com/dapr/dapr/pkg/components/crypto"
	complock "github.com/dapr/dapr/pkg/components/lock"
	comphttpmw "github.com/dapr/dapr/pkg/components/middleware/http"
	compnameresolution "github.com/dapr/dapr/pkg/components/nameresolution"
	comppubsub "github.com/dapr/dapr/pkg/components/pubsub"
	compsecretstores "github.com/dapr/dapr/pkg/components/secretstores"
	compstate "github.com/dapr/dapr/pkg/components/state"
	"github.com/dapr/dapr/pkg/healthz"
	"github.com/dapr/dapr/pkg/metrics"
	"github.com/dapr/dapr/pkg/modes"
	"github.com/dapr/dapr/pkg/runtime"
	"github.com/dapr/dapr/pkg/runtime/registry"
	"github.com/dapr/dapr/pkg/security"
	"github.com/dapr/kit/concurrency"
	"github.com/dapr/kit/logger"
	"github.com/dapr/kit/signals"
)

var (
	log        = logger.NewLogger("dapr.runtime")
	contribLog = logger.NewLogger("dapr.contrib")
)

func init() {
	// The single built-in component of this daprd.
	comppubsub.DefaultRegistry.RegisterComponent(mqtt3.NewMQTTPubSub, "mqtt3")
}

func main() {
	_, _ = maxprocs.Set()

	opts, err := options.New(os.Args[1:])
	if err != nil {
		log.Fatalf("Failed to parse flags: %v", err)
	}

	switch {
	case opts.RuntimeVersion:
		fmt.Println(buildinfo.Version()) //nolint:forbidigo
		os.Exit(0)
	case opts.BuildInfo:
		fmt.Printf("Version: %s\nGit Commit: %s\nGit Version: %s\n", //nolint:forbidigo
			buildinfo.Version(), buildinfo.Commit(), buildinfo.GitVersion())
		os.Exit(0)
	case opts.WaitCommand:
		runtime.WaitUntilDaprOutboundReady(opts.DaprHTTPPort)
		os.Exit(0)
	}

	opts.Logger.SetAppID(opts.AppID)
	if err := logger.ApplyOptionsToLoggers(&opts.Logger); err != nil {
		log.Fatal(err)
	}
	log.Infof("Starting Dapr Runtime -- version %s -- commit %s (project build: built-in components: pubsub.mqtt3 only)",
		buildinfo.Version(), buildinfo.Commit())
	log.Infof("Log level set to: %s", opts.Logger.OutputLevel)

	// Components log through the contrib logger; HTTP middleware through the
	// runtime logger, as upstream does.
	compsecretstores.DefaultRegistry.Logger = contribLog
	compstate.DefaultRegistry.Logger = contribLog
	compcrypto.DefaultRegistry.Logger = contribLog
	compconfiguration.DefaultRegistry.Logger = contribLog
	complock.DefaultRegistry.Logger = contribLog
	comppubsub.DefaultRegistry.Logger = contribLog
	compnameresolution.DefaultRegistry.Logger = contribLog
	compbindings.DefaultRegistry.Logger = contribLog
	compconversation.DefaultRegistry.Logger = contribLog
	comphttpmw.DefaultRegistry.Logger = log

	ctx := signals.Context()
	// OnHUP yields a fresh context for every (re)start; SIGHUP cancels the
	// current one and yields the next.
	runs := signals.OnHUP(ctx)

	defer log.Info("Daprd shutdown gracefully")
	for {
		var runCtx context.Context
		var ok bool
		select {
		case <-ctx.Done():
			return
		case runCtx, ok = <-runs:
			if !ok {
				return
			}
		}
		if err := runOnce(runCtx, opts); err != nil {
			log.Fatalf("Fatal error from runtime: %s", err)
		}
		// The runtime stopped by itself (e.g. shutdown API), not through a
		// signal: exit instead of waiting for another SIGHUP.
		if runCtx.Err() == nil {
			return
		}
	}
}

// runOnce starts the security provider and the runtime and blocks until both
// have stopped.
func runOnce(ctx context.Context, opts *options.Options) error {
	reg := registry.NewOptions().
		WithSecretStores(compsecretstores.DefaultRegistry).
		WithStateStores(compstate.DefaultRegistry).
		WithConfigurations(compconfiguration.DefaultRegistry).
		WithLocks(complock.DefaultRegistry).
		WithPubSubs(comppubsub.DefaultRegistry).
		WithNameResolutions(compnameresolution.DefaultRegistry).
		WithBindings(compbindings.DefaultRegistry).
		WithCryptoProviders(compcrypto.DefaultRegistry).
		WithHTTPMiddlewares(comphttpmw.DefaultRegistry).
		WithConversations(compconversation.DefaultRegistry)

	hz := healthz.New()
	sec, err := security.New(ctx, security.Options{
		SentryAddress:           opts.SentryAddress,
		ControlPlaneTrustDomain: opts.ControlPlaneTrustDomain,
		ControlPlaneNamespace:   opts.ControlPlaneNamespace,
		TrustAnchors:            opts.TrustAnchors,
		AppID:                   opts.AppID,
		MTLSEnabled:             opts.EnableMTLS,
		Mode:                    modes.DaprMode(opts.Mode),
		Healthz:                 hz,
		JwtAudiences:            opts.SentryRequestJwtAudiences,
	})
	if err != nil {
		return err
	}

	startRuntime := func(ctx context.Context) error {
		handler, err := sec.Handler(ctx)
		if err != nil {
			return err
		}
		rt, err := runtime.FromConfig(ctx, runtimeConfig(opts, reg, handler, hz))
		if err != nil {
			return err
		}
		return rt.Run(ctx)
	}

	return concurrency.NewRunnerManager(sec.Run, startRuntime).Run(ctx)
}

// runtimeConfig maps the parsed command-line options onto runtime.Config.
func runtimeConfig(opts *options.Options, reg *registry.Options, handler security.Handler, hz healthz.Healthz) *runtime.Config {
	return &runtime.Config{
		AppID:                         opts.AppID,
		ActorsService:                 opts.ActorsService,
		ActorsDisseminationTimeout:    opts.ActorsDisseminationTimeout,
		HotReloadReconcileInterval:    opts.HotReloadReconcileInterval,
		RemindersService:              opts.RemindersService,
		SchedulerAddress:              opts.SchedulerAddress,
		SchedulerStreams:              opts.SchedulerJobStreams,
		AllowedOrigins:                opts.AllowedOrigins,
		ResourcesPath:                 opts.ResourcesPath,
		ComponentsPath:                opts.ComponentsPath,
		ControlPlaneAddress:           opts.ControlPlaneAddress,
		AppProtocol:                   opts.AppProtocol,
		Mode:                          opts.Mode,
		DaprHTTPPort:                  opts.DaprHTTPPort,
		DaprInternalGRPCPort:          opts.DaprInternalGRPCPort,
		DaprInternalGRPCListenAddress: opts.DaprInternalGRPCListenAddress,
		DaprAPIGRPCPort:               opts.DaprAPIGRPCPort,
		DaprAPIListenAddresses:        opts.DaprAPIListenAddresses,
		DaprPublicPort:                opts.DaprPublicPort,
		DaprPublicListenAddress:       opts.DaprPublicListenAddress,
		ApplicationPort:               opts.AppPort,
		ProfilePort:                   opts.ProfilePort,
		EnableProfiling:               opts.EnableProfiling,
		AppMaxConcurrency:             opts.AppMaxConcurrency,
		EnableMTLS:                    opts.EnableMTLS,
		SentryAddress:                 opts.SentryAddress,
		MaxRequestSize:                opts.MaxRequestSize,
		ReadBufferSize:                opts.ReadBufferSize,
		UnixDomainSocket:              opts.UnixDomainSocket,
		DaprGracefulShutdownSeconds:   opts.DaprGracefulShutdownSeconds,
		DaprBlockShutdownDuration:     opts.DaprBlockShutdownDuration,
		DisableBuiltinK8sSecretStore:  opts.DisableBuiltinK8sSecretStore,
		EnableAppHealthCheck:          opts.EnableAppHealthCheck,
		AppHealthCheckPath:            opts.AppHealthCheckPath,
		AppHealthProbeInterval:        opts.AppHealthProbeInterval,
		AppHealthProbeTimeout:         opts.AppHealthProbeTimeout,
		AppHealthThreshold:            opts.AppHealthThreshold,
		AppChannelAddress:             opts.AppChannelAddress,
		EnableAPILogging:              opts.EnableAPILogging,
		Config:                        opts.Config,
		DisableInitEndpoints:          opts.DisableInitEndpoints,
		AppSSL:                        opts.AppSSL,
		Metrics: metrics.Options{
			Enabled:       opts.Metrics.Enabled(),
			Log:           log,
			Port:          opts.Metrics.Port(),
			Namespace:     metrics.DefaultMetricNamespace,
			Healthz:       hz,
			ListenAddress: opts.Metrics.ListenAddress(),
			Meter:         view.NewMeter(),
		},
		Registry: reg,
		Security: handler,
		Healthz:  hz,
	}
}
