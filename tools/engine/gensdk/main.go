// Command fc-invocation-gensdk generates Pulumi SDKs with pkg/v3's code generators at the CLI's own
// version, the ones the official language hosts call:
//
//	fc-invocation-gensdk python < GeneratePackageRequest > GeneratePackageResponse
//	    for tools/engine/language_host.py, our Python language host, which has no code generator of its
//	    own: the host hands the engine's GeneratePackageRequest over on stdin (protobuf) and gets the
//	    GeneratePackageResponse back on stdout.
//	fc-invocation-gensdk sdk nodejs|python|go SCHEMA DIR
//	    the SDK of a standalone schema file into DIR, naming the plugin at the schema's version: what
//	    `make sdks` (tools/sdks/build.sh) builds and publishes.
//
// C# is not here: its generator lives with the .NET language host (pulumi/pulumi-dotnet), not in pkg/v3.
package main

import (
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/proto"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	nodejs "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	python "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"fc-invocation.local/tools/engine/internal/gen"
)

const usage = "usage: fc-invocation-gensdk python < GeneratePackageRequest > GeneratePackageResponse\n" +
	"       fc-invocation-gensdk sdk nodejs|python|go SCHEMA DIR"

const tool = "fc-invocation-gensdk"

func main() {
	switch {
	case len(os.Args) == 2 && os.Args[1] == "python":
		hostPython()
	case len(os.Args) == 5 && os.Args[1] == "sdk":
		if err := standalone(os.Args[2], os.Args[3], os.Args[4]); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("%s", usage))
	}
}

// standalone writes one language's SDK of the schema file into dir.
func standalone(language, schemaPath, dir string) error {
	generators := map[string]func(*schema.Package, schema.ReferenceLoader) (map[string][]byte, error){
		"nodejs": func(pkg *schema.Package, loader schema.ReferenceLoader) (map[string][]byte, error) {
			return nodejs.GeneratePackage(tool, pkg, nil, nil, false, loader)
		},
		"python": func(pkg *schema.Package, loader schema.ReferenceLoader) (map[string][]byte, error) {
			return python.GeneratePackage(tool, pkg, nil, loader)
		},
		"go": func(pkg *schema.Package, _ schema.ReferenceLoader) (map[string][]byte, error) {
			return gogen.GeneratePackage(tool, pkg, nil)
		},
	}
	generate, ok := generators[language]
	if !ok {
		if language == "dotnet" || language == "csharp" {
			return fmt.Errorf("no C# generator: it lives with the .NET language host (pulumi/pulumi-dotnet), not in pkg/v3")
		}
		return fmt.Errorf("unknown language %q: nodejs, python or go\n%s", language, usage)
	}
	spec, err := gen.Spec(schemaPath, language)
	if err != nil {
		return err
	}
	pkg, loader, err := gen.Bind(spec)
	if err != nil {
		return fmt.Errorf("binding %s: %w", schemaPath, err)
	}
	files, err := generate(pkg, loader)
	if err != nil {
		return err
	}
	return gen.Write(dir, files)
}

// hostPython answers our Python host's GeneratePackage (stdin/stdout protobuf).
func hostPython() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var req pulumirpc.GeneratePackageRequest
	if err := proto.Unmarshal(input, &req); err != nil {
		fail(fmt.Errorf("reading the GeneratePackageRequest: %w", err))
	}
	resp, err := gen.Package(&req, func(req *pulumirpc.GeneratePackageRequest, pkg *schema.Package,
		loader schema.ReferenceLoader,
	) (map[string][]byte, error) {
		return python.GeneratePackage("pulumi-language-python", pkg, req.ExtraFiles, loader)
	})
	if err != nil {
		fail(err)
	}
	output, err := proto.Marshal(resp)
	if err != nil {
		fail(err)
	}
	if _, err := os.Stdout.Write(output); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
