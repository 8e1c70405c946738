package main

// Nomad's client does not send a task's `config {}` block as it was
// written: it decodes it against the plugin's TaskConfigSchema with
// hcldec (every attribute of the schema present, null where unset) and
// sends the result as cty msgpack, typed by the decoded value itself.
// The benchmark does the same, so the plugin decodes exactly the bytes
// a Nomad client would send it; the plugin config for SetConfig goes
// the same way against ConfigSchema.

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"

	"jtd/bench/pb/hclspec"
)

// hclFuncs are the functions Nomad's client evaluates configs with.
var hclFuncs = map[string]function.Function{
	"abs": stdlib.AbsoluteFunc, "coalesce": stdlib.CoalesceFunc,
	"concat": stdlib.ConcatFunc, "hasindex": stdlib.HasIndexFunc,
	"int": stdlib.IntFunc, "jsondecode": stdlib.JSONDecodeFunc,
	"jsonencode": stdlib.JSONEncodeFunc, "length": stdlib.LengthFunc,
	"lower": stdlib.LowerFunc, "max": stdlib.MaxFunc,
	"min": stdlib.MinFunc, "reverse": stdlib.ReverseFunc,
	"strlen": stdlib.StrlenFunc, "substr": stdlib.SubstrFunc,
	"upper": stdlib.UpperFunc,
}

// decSpec turns one node of a plugin's hclspec tree into an hcldec spec;
// name is the object key the node sits under, the default attribute or
// block name.
func decSpec(s *hclspec.Spec, name string) (hcldec.Spec, error) {
	if s == nil {
		return nil, fmt.Errorf("%s: missing spec", name)
	}
	pick := func(n string) string {
		if n != "" {
			return n
		}
		return name
	}
	switch b := s.GetBlock().(type) {
	case *hclspec.Spec_Object:
		out := hcldec.ObjectSpec{}
		keys := make([]string, 0, len(b.Object.GetAttributes()))
		for k := range b.Object.GetAttributes() {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c, err := decSpec(b.Object.GetAttributes()[k], k)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case *hclspec.Spec_Array:
		out := hcldec.TupleSpec{}
		for _, v := range b.Array.GetValues() {
			c, err := decSpec(v, "")
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	case *hclspec.Spec_Attr:
		ty, err := decType(b.Attr.GetType())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &hcldec.AttrSpec{Name: pick(b.Attr.GetName()), Type: ty,
			Required: b.Attr.GetRequired()}, nil
	case *hclspec.Spec_BlockAttrs:
		ty, err := decType(b.BlockAttrs.GetType())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &hcldec.BlockAttrsSpec{
			TypeName: pick(b.BlockAttrs.GetName()), ElementType: ty,
			Required: b.BlockAttrs.GetRequired()}, nil
	case *hclspec.Spec_BlockValue:
		n, err := decSpec(b.BlockValue.GetNested(), "")
		if err != nil {
			return nil, err
		}
		return &hcldec.BlockSpec{TypeName: pick(b.BlockValue.GetName()),
			Required: b.BlockValue.GetRequired(), Nested: n}, nil
	case *hclspec.Spec_BlockList:
		n, err := decSpec(b.BlockList.GetNested(), "")
		if err != nil {
			return nil, err
		}
		return &hcldec.BlockListSpec{TypeName: pick(b.BlockList.GetName()),
			Nested: n, MinItems: int(b.BlockList.GetMinItems()),
			MaxItems: int(b.BlockList.GetMaxItems())}, nil
	case *hclspec.Spec_BlockSet:
		n, err := decSpec(b.BlockSet.GetNested(), "")
		if err != nil {
			return nil, err
		}
		return &hcldec.BlockSetSpec{TypeName: pick(b.BlockSet.GetName()),
			Nested: n, MinItems: int(b.BlockSet.GetMinItems()),
			MaxItems: int(b.BlockSet.GetMaxItems())}, nil
	case *hclspec.Spec_BlockMap:
		n, err := decSpec(b.BlockMap.GetNested(), "")
		if err != nil {
			return nil, err
		}
		return &hcldec.BlockMapSpec{TypeName: pick(b.BlockMap.GetName()),
			LabelNames: b.BlockMap.GetLabels(), Nested: n}, nil
	case *hclspec.Spec_Default:
		p, err := decSpec(b.Default.GetPrimary(), "")
		if err != nil {
			return nil, err
		}
		d, err := decSpec(b.Default.GetDefault(), "")
		if err != nil {
			return nil, err
		}
		return &hcldec.DefaultSpec{Primary: p, Default: d}, nil
	case *hclspec.Spec_Literal:
		expr, diags := hclsyntax.ParseExpression(
			[]byte(b.Literal.GetValue()), "literal", hcl.InitialPos)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s", name, diags.Error())
		}
		v, diags := expr.Value(&hcl.EvalContext{Functions: hclFuncs})
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s", name, diags.Error())
		}
		return &hcldec.LiteralSpec{Value: v}, nil
	}
	return nil, fmt.Errorf("%s: empty spec node", name)
}

// decType reads an attribute's type expression; `null` means any.
func decType(text string) (cty.Type, error) {
	expr, diags := hclsyntax.ParseExpression([]byte(text), "type",
		hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilType, fmt.Errorf("type %q: %s", text, diags.Error())
	}
	if lit, ok := expr.(*hclsyntax.LiteralValueExpr); ok &&
		lit.Val.IsNull() {
		return cty.DynamicPseudoType, nil
	}
	ty, diags := typeexpr.TypeConstraint(expr)
	if diags.HasErrors() {
		return cty.NilType, fmt.Errorf("type %q: %s", text, diags.Error())
	}
	return ty, nil
}

// encodeLikeNomad decodes cfg (a config map as Nomad stores it) against
// spec with env as HCL variables, and returns the cty msgpack Nomad
// would send.
func encodeLikeNomad(spec *hclspec.Spec, cfg map[string]any,
	env map[string]string) ([]byte, error) {
	dec, err := decSpec(spec, "")
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	file, diags := hcljson.Parse(raw, "config.json")
	if diags.HasErrors() {
		return nil, fmt.Errorf("config: %s", diags.Error())
	}
	vars := map[string]cty.Value{}
	for k, v := range env {
		vars[k] = cty.StringVal(v)
	}
	val, diags := hcldec.Decode(file.Body, dec,
		&hcl.EvalContext{Variables: vars, Functions: hclFuncs})
	if diags.HasErrors() {
		return nil, fmt.Errorf("config: %s", diags.Error())
	}
	return ctymsgpack.Marshal(val, val.Type())
}
