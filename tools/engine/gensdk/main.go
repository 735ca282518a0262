// Command fc-invocation-gensdk generates a Python SDK for tools/engine/language_host.py, our Python
// language host, which has no code generator of its own: the host hands the engine's
// GeneratePackageRequest over on stdin (protobuf) and gets the GeneratePackageResponse back on stdout.
// The generator is pkg/v3/codegen/python at the CLI's own version, the one the official host calls.
package main

import (
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/proto"

	python "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"fc-invocation.local/tools/engine/internal/gen"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] != "python" {
		fail(fmt.Errorf("usage: fc-invocation-gensdk python < GeneratePackageRequest > GeneratePackageResponse"))
	}
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
