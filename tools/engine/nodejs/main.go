// Command pulumi-language-nodejs is this repository's Node.js language host for the CLI that
// `make engine` builds.
//
// Why it exists: the official host, the Go module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, is not served by the module proxy
// this project can reach (403 for every version), while pkg/v3 and sdk/v3 are. This program is our
// own, written against the engine's LanguageRuntime protocol with the served modules' libraries:
//   - Run starts `node` on @pulumi/pulumi's own `cmd/run` script, resolved from the program's
//     node_modules, with the arguments and environment the official host passes (PULUMI_CONFIG in the
//     SDK's "ns:config:key" form, PULUMI_CONFIG_SECRET_KEYS, PULUMI_NODEJS_TYPESCRIPT for ts-node,
//     PULUMI_NODEJS_TSCONFIG_PATH, nodeargs), exit code 32 as "already shown", SIGINT then a kill
//     after 5 s on cancellation.
//   - GetRequiredPackages finds node_modules packages whose package.json says `"pulumi": {"resource": true}`.
//   - InstallDependencies, Link and GeneratePackage use sdk/v3/nodejs/npm and pkg/v3/codegen/nodejs, the
//     same code the official host calls, at the engine's own version: `pulumi package add` and a
//     `packages:` entry in Pulumi.yaml generate a TypeScript SDK through them.
//
// Left out (UNIMPLEMENTED): synchronous invokes (the SDK only uses them when given --sync), the
// debugger, bun, fnm, RunPlugin (Node.js plugins), Pack and program/project generation.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/shlex"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/pkg/v3/codegen/cgstrings"
	codegen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/fsutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/blang/semver"

	"fc-invocation.local/tools/engine/internal/gen"
)

const (
	defaultRunPath = "@pulumi/pulumi/cmd/run"
	// The SDK exits with this code after it has shown the user an actionable message.
	shownUserMessage = 32
	// How long a cancelled program has between SIGINT and the kill (the official host's WaitDelay).
	waitDelay = 5 * time.Second
)

func main() {
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint, passed on to the program")
	flag.String("runtime", "nodejs", "only nodejs is supported")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	engineAddress := flag.Arg(0)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancel := make(chan bool)
	go func() { <-ctx.Done(); close(cancel) }()
	if engineAddress != "" {
		// Exit when the engine goes away, as every plugin does.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, stop); err != nil {
			fmt.Fprintf(os.Stderr, "could not start the health check: %v\n", err)
			os.Exit(1)
		}
	}
	hostCtx, hostCancel := context.WithCancel(context.Background())
	host := &nodeHost{engineAddress: engineAddress, tracing: *tracing, cancelCtx: hostCtx, cancel: hostCancel}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "could not start the language host: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "language host stopped serving: %v\n", err)
		os.Exit(1)
	}
}

type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	tracing       string
	cancelCtx     context.Context // done after the Cancel RPC
	cancel        context.CancelFunc
}

// options are the `runtime.options` of a Node.js project, with the official host's defaults.
type options struct {
	typescript     bool
	tsconfig       string
	nodeargs       string
	packagemanager npm.PackageManagerType
	production     bool
}

func parseOptions(raw map[string]any) (options, error) {
	opts := options{typescript: true, packagemanager: npm.AutoPackageManager}
	for key, value := range raw {
		var ok bool
		switch key {
		case "typescript":
			opts.typescript, ok = value.(bool)
		case "production":
			opts.production, ok = value.(bool)
		case "tsconfig":
			opts.tsconfig, ok = value.(string)
		case "nodeargs":
			opts.nodeargs, ok = value.(string)
		case "packagemanager":
			var pm string
			pm, ok = value.(string)
			switch pm {
			case "auto", "npm", "yarn", "pnpm":
				opts.packagemanager = npm.PackageManagerType(pm)
			default:
				return opts, fmt.Errorf("runtime option packagemanager must be one of auto, npm, yarn or pnpm, got %q", value)
			}
		default:
			ok = true // options of other tools are not ours to refuse
		}
		if !ok {
			return opts, fmt.Errorf("runtime option %s has the wrong type: %v", key, value)
		}
	}
	return opts, nil
}

func programOptions(info *pulumirpc.ProgramInfo) (options, error) {
	if info == nil || info.Options == nil {
		return parseOptions(nil)
	}
	return parseOptions(info.Options.AsMap())
}

func (h *nodeHost) Handshake(ctx context.Context,
	req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.EngineAddress
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *nodeHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancel()
	return &emptypb.Empty{}, nil
}

func (h *nodeHost) GetRequiredPlugins(context.Context,
	*pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	// The engine asks GetRequiredPackages first; like the official host, this one is not served.
	return nil, status.Error(codes.Unimplemented, "method GetRequiredPlugins not implemented")
}

// packageJSON is what a node_modules package.json says about a Pulumi plugin.
type packageJSON struct {
	Name    string                  `json:"name"`
	Version string                  `json:"version"`
	Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
}

func (h *nodeHost) GetRequiredPackages(ctx context.Context,
	req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	var packages []*pulumirpc.PackageDependency
	seen := map[string]bool{}
	var walk func(dir string, inNodeModules bool)
	walk = func(dir string, inNodeModules bool) {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil || seen[real] {
			return
		}
		seen[real] = true
		entries, err := os.ReadDir(real)
		if err != nil {
			return
		}
		for _, entry := range entries {
			path := filepath.Join(real, entry.Name())
			isDir := entry.IsDir()
			if entry.Type()&fs.ModeSymlink != 0 {
				if fi, err := os.Stat(path); err == nil {
					isDir = fi.IsDir()
				}
			}
			if isDir {
				walk(path, inNodeModules || filepath.Base(real) == "node_modules")
				continue
			}
			if !inNodeModules || entry.Name() != "package.json" {
				continue
			}
			if dep := pluginOf(path); dep != nil {
				packages = append(packages, dep)
			}
		}
	}
	walk(req.GetInfo().GetProgramDirectory(), false)
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// pluginOf reads a package.json and returns the resource plugin it declares, if any.
func pluginOf(path string) *pulumirpc.PackageDependency {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var info packageJSON
	if json.Unmarshal(data, &info) != nil || !info.Pulumi.Resource {
		return nil
	}
	name := info.Pulumi.Name
	if name == "" {
		if !strings.HasPrefix(info.Name, "@pulumi/") {
			return nil // a third-party package must name its plugin; the official host reports it
		}
		name = strings.TrimPrefix(info.Name, "@pulumi/")
	}
	ver := info.Pulumi.Version
	if ver == "" {
		ver = info.Version
	}
	if ver != "" && !strings.HasPrefix(ver, "v") {
		ver = "v" + ver
	}
	dep := &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: ver, Server: info.Pulumi.Server}
	if p := info.Pulumi.Parameterization; p != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return dep
}

func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	opts, err := programOptions(info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH: " + err.Error()}, nil
	}
	runPath := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runPath == "" {
		runPath = defaultRunPath
	}
	runScript, err := resolveModule(node, runPath, info.GetProgramDirectory())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	config, secretKeys, err := configEnv(req)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	nodeArgs, err := shlex.Split(opts.nodeargs)
	if err != nil {
		return &pulumirpc.RunResponse{Error: "runtime option nodeargs: " + err.Error()}, nil
	}
	args := append(nodeArgs, runScript)
	flagArg := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", h.engineAddress)
	flagArg("organization", req.GetOrganization())
	flagArg("project", req.GetProject())
	flagArg("root-directory", info.GetRootDirectory())
	flagArg("stack", req.GetStack())
	flagArg("pwd", info.GetProgramDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flagArg("parallel", strconv.Itoa(int(req.GetParallel())))
	flagArg("tracing", h.tracing)
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	env := append(os.Environ(), "PULUMI_CONFIG="+config, "PULUMI_CONFIG_SECRET_KEYS="+secretKeys)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	// The program ends on the Cancel RPC or when the engine ends this call: SIGINT first.
	cmdCtx, cmdCancel := context.WithCancel(h.cancelCtx)
	defer cmdCancel()
	context.AfterFunc(ctx, cmdCancel)
	cmd := exec.CommandContext(cmdCtx, node, args...)
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = waitDelay
	cmd.Env = env
	cmd.Dir = info.GetProgramDirectory()
	// Node may set its stdio non-blocking; hand it pipes rather than our own descriptors.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	err = cmd.Run()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == shownUserMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	}
}

// resolveModule asks node where a module is, from the program's directory, as node itself will.
func resolveModule(node, module, dir string) (string, error) {
	script := fmt.Sprintf(`try { console.log(require.resolve(%q)); } catch (error) { `+
		`if (error.code === "MODULE_NOT_FOUND") { console.error("It looks like the Pulumi SDK has not been `+
		`installed. Have you run pulumi install?"); } else { console.error(error.message); } process.exit(1); }`,
		module)
	cmd := exec.Command(node, "-e", script)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return "", errors.New(strings.TrimSpace(string(exitErr.Stderr)))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// configEnv is PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS. The keys go in the older
// "<namespace>:config:<name>" form, which every @pulumi/pulumi release reads.
func configEnv(req *pulumirpc.RunRequest) (string, string, error) {
	values := make(map[string]string, len(req.GetConfig()))
	for k, v := range req.GetConfig() {
		key, err := config.ParseKey(k)
		if err != nil {
			return "", "", fmt.Errorf("config key %q: %w", k, err)
		}
		values[key.Namespace()+":config:"+key.Name()] = v
	}
	secret := req.GetConfigSecretKeys()
	if secret == nil {
		secret = []string{}
	}
	configJSON, err := json.Marshal(values)
	if err != nil {
		return "", "", err
	}
	secretJSON, err := json.Marshal(secret)
	if err != nil {
		return "", "", err
	}
	return string(configJSON), string(secretJSON), nil
}

func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.IsTerminal)
	if err != nil {
		return err
	}
	defer closer.Close()
	opts, err := programOptions(req.GetInfo())
	if err != nil {
		return err
	}
	root := req.GetInfo().GetProgramDirectory()
	if workspaceRoot, err := npm.FindWorkspaceRoot(root); err == nil {
		fmt.Fprintf(stdout, "Detected workspace root at %s\n", workspaceRoot)
		root = workspaceRoot
	} else if !errors.Is(err, npm.ErrNotInWorkspace) {
		return fmt.Errorf("looking for the workspace root: %w", err)
	}
	fmt.Fprintf(stdout, "Installing dependencies...\n\n")
	name, err := npm.Install(server.Context(), opts.packagemanager, root, opts.production, stdout, stderr)
	if err != nil {
		return fmt.Errorf("%s install failed: %w", name, err)
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}

func (h *nodeHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node: %w", err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return &pulumirpc.AboutResponse{Executable: node}, nil
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimSpace(string(out))}, nil
}

func (h *nodeHost) GetProgramDependencies(ctx context.Context,
	req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := programOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	pm, err := npm.ResolvePackageManager(opts.packagemanager, req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	listed, err := pm.ListPackages(ctx, req.GetInfo().GetProgramDirectory(), req.TransitiveDependencies)
	if err != nil {
		return nil, fmt.Errorf("listing the node dependencies: %w", err)
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(listed))
	for _, p := range listed {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// GeneratePackage writes a TypeScript SDK for a schema: `pulumi package add`, a `packages:` entry
// (both with Local set: the SDK compiles itself in its postinstall script) and `pulumi package gen-sdk`.
func (h *nodeHost) GeneratePackage(ctx context.Context,
	req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return gen.Package(req, func(req *pulumirpc.GeneratePackageRequest, pkg *schema.Package,
		loader schema.ReferenceLoader,
	) (map[string][]byte, error) {
		return codegen.GeneratePackage("pulumi-language-nodejs", pkg, req.ExtraFiles, req.LocalDependencies,
			req.Local, loader)
	})
}

// Link adds generated SDKs to the program's package.json (as `file:` dependencies) and says how to
// import them.
func (h *nodeHost) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	opts, err := programOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	loader, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	cached := schema.NewCachedLoader(loader)
	dir := req.GetInfo().GetProgramDirectory()
	pm, err := npm.ResolvePackageManager(opts.packagemanager, dir)
	if err != nil {
		return nil, err
	}
	typescript := opts.typescript || opts.tsconfig != ""
	if !typescript {
		if _, err := fsutil.Searchup(dir, "tsconfig.json"); err == nil {
			typescript = true
		}
	}
	var imports strings.Builder
	for _, dep := range req.Packages {
		desc := &schema.PackageDescriptor{Name: dep.Package.Name, DownloadURL: dep.Package.Server}
		if v, err := semver.New(dep.Package.Version); err == nil {
			desc.Version = v
		}
		if p := dep.Package.Parameterization; p != nil {
			desc.Parameterization = &schema.ParameterizationDescriptor{Name: p.Name, Value: p.Value}
			if v, err := semver.New(p.Version); err == nil {
				desc.Parameterization.Version = *v
			}
		}
		ref, err := schema.LoadPackageReferenceV2(ctx, cached, desc)
		if err != nil {
			return nil, err
		}
		pkg, err := ref.Definition()
		if err != nil {
			return nil, err
		}
		if err := pkg.ImportLanguages(map[string]schema.Language{"nodejs": codegen.Importer}); err != nil {
			return nil, err
		}
		name := npmName(pkg)
		if err := pm.Link(ctx, dir, name, dep.Path); err != nil {
			return nil, err
		}
		if typescript {
			fmt.Fprintf(&imports, "  import * as %s from \"%s\";\n", cgstrings.Camel(ref.Name()), name)
		} else {
			fmt.Fprintf(&imports, "  const %s = require(\"%s\");\n", cgstrings.Camel(ref.Name()), name)
		}
	}
	language := "JavaScript"
	if typescript {
		language = "TypeScript"
	}
	return &pulumirpc.LinkResponse{
		ImportInstructions: fmt.Sprintf("You can import the SDK in your %s code with:\n\n%s", language, imports.String()),
	}, nil
}

// npmName is the npm package name of a generated SDK, as the code generator names it.
func npmName(pkg *schema.Package) string {
	if info, ok := pkg.Language["nodejs"].(codegen.NodePackageInfo); ok && info.PackageName != "" {
		return info.PackageName
	}
	if pkg.Namespace != "" {
		return "@" + pkg.Namespace + "/" + pkg.Name
	}
	return "@pulumi/" + pkg.Name
}
