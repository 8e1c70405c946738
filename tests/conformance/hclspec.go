// Package conformance drives the built jail-task-driver binary the way a
// Nomad client does.  This file turns the hclspec tree a plugin returns
// (ConfigSchema, TaskConfigSchema) into an hcldec.Spec with the same
// rules Nomad's client applies (protocol notes §5.2), so that a schema
// Nomad would refuse is refused here too.
package conformance

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"jtd/conformance/pb/hclspec"
)

// SpecToHCLDec converts a plugin-provided spec.  A nil spec is an error:
// Nomad fails every task with "nil spec given" in that case.
func SpecToHCLDec(s *hclspec.Spec) (hcldec.Spec, hcl.Diagnostics) {
	if s == nil {
		return nil, diag("nil spec given",
			"the plugin returned no spec; Nomad fails every task")
	}
	return convertSpec(s, "", "spec")
}

func diag(summary, detail string) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
	}}
}

// convertSpec handles one node.  implied is the object key the node sits
// under (the default input name for attributes and blocks); where is a
// path for messages.
func convertSpec(s *hclspec.Spec, implied, where string) (hcldec.Spec,
	hcl.Diagnostics) {
	switch b := s.GetBlock().(type) {
	case *hclspec.Spec_Object:
		return convertObject(b.Object, where)
	case *hclspec.Spec_Array:
		return convertArray(b.Array, where)
	case *hclspec.Spec_Attr:
		return convertAttr(b.Attr, implied, where)
	case *hclspec.Spec_BlockValue:
		return convertBlock(b.BlockValue, implied, where)
	case *hclspec.Spec_BlockAttrs:
		return convertBlockAttrs(b.BlockAttrs, implied, where)
	case *hclspec.Spec_BlockList:
		return convertBlockList(b.BlockList, implied, where)
	case *hclspec.Spec_BlockSet:
		return convertBlockSet(b.BlockSet, implied, where)
	case *hclspec.Spec_BlockMap:
		return convertBlockMap(b.BlockMap, implied, where)
	case *hclspec.Spec_Default:
		return convertDefault(b.Default, where)
	case *hclspec.Spec_Literal:
		return convertLiteral(b.Literal, where)
	default:
		return nil, diag("Invalid spec block",
			fmt.Sprintf("%s: no member of the oneof is set", where))
	}
}

func convertObject(o *hclspec.Object, where string) (hcldec.Spec,
	hcl.Diagnostics) {
	var diags hcl.Diagnostics

	out := hcldec.ObjectSpec{}
	keys := make([]string, 0, len(o.GetAttributes()))
	for k := range o.GetAttributes() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		child, d := convertSpec(o.GetAttributes()[k], k, where+"."+k)
		diags = append(diags, d...)
		out[k] = child
	}
	return out, diags
}

func convertArray(a *hclspec.Array, where string) (hcldec.Spec,
	hcl.Diagnostics) {
	var diags hcl.Diagnostics

	out := hcldec.TupleSpec{}
	for i, v := range a.GetValues() {
		child, d := convertSpec(v, "", fmt.Sprintf("%s[%d]", where, i))
		diags = append(diags, d...)
		out = append(out, child)
	}
	return out, diags
}

func pickName(explicit, implied string) string {
	if explicit != "" {
		return explicit
	}
	return implied
}

func convertAttr(a *hclspec.Attr, implied, where string) (hcldec.Spec,
	hcl.Diagnostics) {
	ty, diags := ParseTypeExpr(a.GetType())
	if diags.HasErrors() {
		return nil, prefix(diags, where)
	}

	name := pickName(a.GetName(), implied)
	if name == "" {
		return nil, diag("Missing name in attribute spec", where)
	}
	return &hcldec.AttrSpec{Name: name, Type: ty,
		Required: a.GetRequired()}, nil
}

func convertBlock(b *hclspec.Block, implied, where string) (hcldec.Spec,
	hcl.Diagnostics) {
	nested, diags := convertNested(b.GetNested(), where)

	// Nomad leaves an empty block type name to hcldec, which then panics
	// or fails obscurely; report it plainly instead.
	name := pickName(b.GetName(), implied)
	if name == "" {
		diags = append(diags, diag("Missing name in block spec",
			where)...)
	}
	return &hcldec.BlockSpec{TypeName: name, Required: b.GetRequired(),
		Nested: nested}, diags
}

func convertBlockAttrs(b *hclspec.BlockAttrs, implied, where string) (
	hcldec.Spec, hcl.Diagnostics) {
	ty, diags := ParseTypeExpr(b.GetType())
	if diags.HasErrors() {
		return nil, prefix(diags, where)
	}

	name := pickName(b.GetName(), implied)
	if name == "" {
		return nil, diag("Missing name in block_attrs spec", where)
	}
	return &hcldec.BlockAttrsSpec{TypeName: name, ElementType: ty,
		Required: b.GetRequired()}, nil
}

func convertBlockList(b *hclspec.BlockList, implied, where string) (
	hcldec.Spec, hcl.Diagnostics) {
	nested, diags := convertNested(b.GetNested(), where)

	name := pickName(b.GetName(), implied)
	if name == "" {
		return nil, append(diags,
			diag("Missing name in block_list spec", where)...)
	}
	return &hcldec.BlockListSpec{TypeName: name, Nested: nested,
		MinItems: int(b.GetMinItems()),
		MaxItems: int(b.GetMaxItems())}, diags
}

func convertBlockSet(b *hclspec.BlockSet, implied, where string) (
	hcldec.Spec, hcl.Diagnostics) {
	nested, diags := convertNested(b.GetNested(), where)

	name := pickName(b.GetName(), implied)
	if name == "" {
		return nil, append(diags,
			diag("Missing name in block_set spec", where)...)
	}
	return &hcldec.BlockSetSpec{TypeName: name, Nested: nested,
		MinItems: int(b.GetMinItems()),
		MaxItems: int(b.GetMaxItems())}, diags
}

func convertBlockMap(b *hclspec.BlockMap, implied, where string) (
	hcldec.Spec, hcl.Diagnostics) {
	nested, diags := convertNested(b.GetNested(), where)

	name := pickName(b.GetName(), implied)
	if name == "" {
		return nil, append(diags,
			diag("Missing name in block_map spec", where)...)
	}
	if len(b.GetLabels()) == 0 {
		return nil, append(diags, diag("Invalid block label name list",
			where+": a block_map needs at least one label")...)
	}

	// hcldec panics (and with it the Nomad client) when a block_map's
	// nested type contains `any`; refuse such a schema up front.
	if nested != nil && hcldec.ImpliedType(nested).HasDynamicTypes() {
		return nil, append(diags, diag("block_map containing any",
			where+": Nomad's client panics decoding this")...)
	}
	return &hcldec.BlockMapSpec{TypeName: name, LabelNames: b.GetLabels(),
		Nested: nested}, diags
}

func convertNested(s *hclspec.Spec, where string) (hcldec.Spec,
	hcl.Diagnostics) {
	if s == nil {
		return nil, diag("Missing spec block",
			where+": a block spec needs a nested spec")
	}
	return convertSpec(s, "", where+"{}")
}

func convertDefault(d *hclspec.Default, where string) (hcldec.Spec,
	hcl.Diagnostics) {
	// Nomad converts primary and default without an implied name, so an
	// Attr inside a default must carry its own name.
	primary, diags := convertSpec(orEmpty(d.GetPrimary()), "",
		where+".primary")
	if diags.HasErrors() {
		return nil, diags
	}
	def, ddiags := convertSpec(orEmpty(d.GetDefault()), "",
		where+".default")
	diags = append(diags, ddiags...)
	if diags.HasErrors() {
		return nil, diags
	}
	return &hcldec.DefaultSpec{Primary: primary, Default: def}, diags
}

func orEmpty(s *hclspec.Spec) *hclspec.Spec {
	if s == nil {
		return &hclspec.Spec{}
	}
	return s
}

func convertLiteral(l *hclspec.Literal, where string) (hcldec.Spec,
	hcl.Diagnostics) {
	expr, diags := hclsyntax.ParseExpression([]byte(l.GetValue()),
		"literal", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, prefix(diags, where)
	}

	val, vdiags := expr.Value(&hcl.EvalContext{Functions: NomadFunctions()})
	if vdiags.HasErrors() {
		return nil, prefix(vdiags, where)
	}
	return &hcldec.LiteralSpec{Value: val}, nil
}

// ParseTypeExpr reads an Attr/BlockAttrs type the way Nomad does: an HCL
// expression over string, number, bool, any, list(), set(), map(),
// tuple([...]) and object({...}); the literal null also means any.
// Anything else (empty text, a quoted string, an unknown word,
// optional()) is an error, which in Nomad fails every task.
func ParseTypeExpr(text string) (cty.Type, hcl.Diagnostics) {
	expr, diags := hclsyntax.ParseExpression([]byte(text), "type",
		hcl.InitialPos)
	if diags.HasErrors() {
		return cty.DynamicPseudoType, diags
	}

	if lit, ok := expr.(*hclsyntax.LiteralValueExpr); ok &&
		lit.Val.IsNull() {
		return cty.DynamicPseudoType, nil
	}
	return typeexpr.TypeConstraint(expr)
}

func prefix(diags hcl.Diagnostics, where string) hcl.Diagnostics {
	for _, d := range diags {
		d.Detail = where + ": " + d.Detail
	}
	return diags
}
