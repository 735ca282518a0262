package gen

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/blang/semver"

	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// Spec reads a schema file for a standalone build and makes `language`'s SDK respect its `version`:
// the SDK then names the plugin at that version (package.json's `pulumi` block, pulumi-plugin.json,
// the Go module's PkgVersion), which is what `pulumi install` and every operation look for. Without it
// pkg/v3 writes the placeholders `${VERSION}` / 0.0.0 that a provider's release scripts replace.
func Spec(path, language string) (schema.PackageSpec, error) {
	var spec schema.PackageSpec
	data, err := os.ReadFile(path)
	if err != nil {
		return spec, err
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return spec, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	if spec.Version == "" {
		return spec, fmt.Errorf("%s has no version: the SDK would name no plugin version", path)
	}
	info := map[string]any{}
	if raw, ok := spec.Language[language]; ok {
		if err := json.Unmarshal(raw, &info); err != nil {
			return spec, fmt.Errorf("%s: language.%s: %w", path, language, err)
		}
	}
	info["respectSchemaVersion"] = true
	raw, err := json.Marshal(info)
	if err != nil {
		return spec, err
	}
	if spec.Language == nil {
		spec.Language = map[string]schema.RawMessage{}
	}
	spec.Language[language] = raw
	return spec, nil
}

// Bind binds a standalone schema, one that refers to no other package (NoDependencies).
func Bind(spec schema.PackageSpec) (*schema.Package, schema.ReferenceLoader, error) {
	loader := NoDependencies{}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{})
	if err != nil {
		return nil, nil, err
	}
	if diags.HasErrors() {
		return nil, nil, diags
	}
	return pkg, loader, nil
}

// NoDependencies is the loader of a standalone build: a schema that refers to another package needs
// the engine's loader (`pulumi package gen-sdk`), so every load is an error naming the package.
type NoDependencies struct{}

func (NoDependencies) refuse(name string) error {
	return fmt.Errorf("the schema refers to package %q: a standalone build takes a schema that refers to none "+
		"(use `pulumi package gen-sdk`)", name)
}

func (l NoDependencies) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, l.refuse(pkg)
}

func (l NoDependencies) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, l.refuse(d.Name)
}

func (l NoDependencies) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, l.refuse(pkg)
}

func (l NoDependencies) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, l.refuse(d.Name)
}
