package conformance

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// TaskConfigFromHCL renders the `config {}` block of the first `task`
// block in src (or a top-level `config` block) into the map Nomad's
// server stores for it: attributes become their values (`x = {…}` an
// object), nested blocks a list of objects.
//
// An attribute set twice keeps its later value, as HCL1 (Nomad before
// 1.0) did and as the seed documentation's users saw; HCL2 would refuse
// the job ("Attribute redefined").
func TaskConfigFromHCL(src []byte, filename string) (map[string]any,
	error) {
	for range 64 {
		body, redefined, err := parseBody(src, filename)
		if err != nil {
			return nil, err
		}
		if redefined == nil {
			cfg := findConfig(body)
			if cfg == nil {
				return nil, fmt.Errorf("%s: no config block",
					filename)
			}
			return bodyToMap(cfg)
		}

		// Blank out the earlier definition and parse again.
		src = blank(src, redefined.SrcRange)
	}
	return nil, fmt.Errorf("%s: too many redefined attributes", filename)
}

// parseBody parses src; on "Attribute redefined" it returns the earlier
// attribute of the first such pair.
func parseBody(src []byte, filename string) (*hclsyntax.Body,
	*hclsyntax.Attribute, error) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	var fatal hcl.Diagnostics
	var dupAt *hcl.Range
	for _, d := range diags {
		if d.Summary == "Attribute redefined" {
			if dupAt == nil {
				dupAt = d.Subject
			}
			continue
		}
		if d.Severity == hcl.DiagError {
			fatal = append(fatal, d)
		}
	}
	if fatal.HasErrors() {
		return nil, nil, fatal
	}

	body := file.Body.(*hclsyntax.Body)
	if dupAt == nil {
		return body, nil, nil
	}
	name := string(src[dupAt.Start.Byte:dupAt.End.Byte])
	first := findAttrDefinedBefore(body, name, dupAt)
	if first == nil {
		return nil, nil, fmt.Errorf("%s: cannot locate the first "+
			"definition of a redefined attribute", filename)
	}
	return body, first, nil
}

// findAttrDefinedBefore finds, in whichever body holds the later
// definition at `later`, the earlier attribute of the same name (the one
// the parser kept).
func findAttrDefinedBefore(body *hclsyntax.Body, name string,
	later *hcl.Range) *hclsyntax.Attribute {
	if !containsRange(body.SrcRange, later) {
		return nil
	}
	for _, b := range body.Blocks {
		if a := findAttrDefinedBefore(b.Body, name, later); a != nil {
			return a
		}
	}
	for _, a := range body.Attributes {
		if a.NameRange.Start.Byte < later.Start.Byte &&
			a.Name == name {
			return a
		}
	}
	return nil
}

func containsRange(outer hcl.Range, inner *hcl.Range) bool {
	return inner.Start.Byte >= outer.Start.Byte &&
		inner.End.Byte <= outer.End.Byte
}

func blank(src []byte, r hcl.Range) []byte {
	out := append([]byte(nil), src...)
	for i := r.Start.Byte; i < r.End.Byte && i < len(out); i++ {
		if out[i] != '\n' {
			out[i] = ' '
		}
	}
	return out
}

func findConfig(body *hclsyntax.Body) *hclsyntax.Body {
	for _, b := range body.Blocks {
		if b.Type == "config" {
			return b.Body
		}
	}
	for _, b := range body.Blocks {
		if c := findConfig(b.Body); c != nil {
			return c
		}
	}
	return nil
}

func bodyToMap(body *hclsyntax.Body) (map[string]any, error) {
	out := map[string]any{}
	for name, a := range body.Attributes {
		val, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, diags
		}
		raw, err := ctyjson.Marshal(val, val.Type())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, err
		}
		out[name] = v
	}
	for _, b := range body.Blocks {
		m, err := bodyToMap(b.Body)
		if err != nil {
			return nil, err
		}
		list, _ := out[b.Type].([]any)
		out[b.Type] = append(list, m)
	}
	return out, nil
}
