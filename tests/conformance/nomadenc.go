package conformance

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hcldec"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"

	"jtd/conformance/pb/hclspec"
)

// DecodeError is a rejection that happens on the Nomad side, before the
// plugin sees anything: the spec could not be converted, or the config
// does not fit the spec (unknown key, wrong type, missing required key).
// Nomad turns these into a failed task ("TaskFailedValidation") or a
// refused agent start.
type DecodeError struct {
	Stage string // "spec", "parse" or "decode"
	Diags hcl.Diagnostics
}

func (e *DecodeError) Error() string {
	var parts []string
	for _, d := range e.Diags {
		parts = append(parts, fmt.Sprintf("%s: %s", d.Summary, d.Detail))
	}
	return e.Stage + ": " + strings.Join(parts, "; ")
}

// NomadFunctions is the function table Nomad's client offers inside task
// and plugin configs (protocol notes §4.4).
func NomadFunctions() map[string]function.Function {
	return map[string]function.Function{
		"abs":        stdlib.AbsoluteFunc,
		"coalesce":   stdlib.CoalesceFunc,
		"concat":     stdlib.ConcatFunc,
		"hasindex":   stdlib.HasIndexFunc,
		"int":        stdlib.IntFunc,
		"jsondecode": stdlib.JSONDecodeFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"length":     stdlib.LengthFunc,
		"lower":      stdlib.LowerFunc,
		"max":        stdlib.MaxFunc,
		"min":        stdlib.MinFunc,
		"reverse":    stdlib.ReverseFunc,
		"strlen":     stdlib.StrlenFunc,
		"substr":     stdlib.SubstrFunc,
		"upper":      stdlib.UpperFunc,
	}
}

// DecodeConfig runs the Nomad client's path from a stored config map to
// a cty value: JSON-encode the map, parse it with the HCL JSON parser,
// decode it against the converted spec with variables and functions.
func DecodeConfig(spec *hclspec.Spec, cfg map[string]any,
	vars map[string]cty.Value) (cty.Value, error) {
	dec, diags := SpecToHCLDec(spec)
	if diags.HasErrors() {
		return cty.NilVal, &DecodeError{Stage: "spec", Diags: diags}
	}

	if cfg == nil {
		cfg = map[string]any{}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return cty.NilVal, fmt.Errorf("encoding config as JSON: %w", err)
	}

	file, diags := hcljson.Parse(raw, "config.json")
	if diags.HasErrors() {
		return cty.NilVal, &DecodeError{Stage: "parse", Diags: diags}
	}

	ctx := &hcl.EvalContext{Variables: vars, Functions: NomadFunctions()}
	val, diags := hcldec.Decode(file.Body, dec, ctx)
	if diags.HasErrors() {
		return cty.NilVal, &DecodeError{Stage: "decode", Diags: diags}
	}
	return val, nil
}

// MarshalLikeNomad encodes a decoded value against its own type, as
// Nomad does (not against the spec's implied type; notes §4.4, §5.4).
func MarshalLikeNomad(val cty.Value) ([]byte, error) {
	return ctymsgpack.Marshal(val, val.Type())
}

// EncodeTaskConfig produces TaskConfig.msgpack_driver_config for a task
// `config {}` map, with the task environment as HCL variables.
func EncodeTaskConfig(spec *hclspec.Spec, cfg map[string]any,
	env map[string]string) ([]byte, error) {
	vars := map[string]cty.Value{}
	for k, v := range env {
		vars[k] = cty.StringVal(v)
	}

	val, err := DecodeConfig(spec, cfg, vars)
	if err != nil {
		return nil, err
	}
	return MarshalLikeNomad(val)
}

// EncodePluginConfig produces SetConfigRequest.msgpack_config for the
// agent's `plugin "<bin>" { config {} }` map: no variables; a missing
// block is an empty map so defaults still apply.
func EncodePluginConfig(spec *hclspec.Spec, cfg map[string]any) ([]byte,
	error) {
	val, err := DecodeConfig(spec, cfg, nil)
	if err != nil {
		return nil, err
	}
	return MarshalLikeNomad(val)
}
