package conformance

import (
	"sort"
	"testing"

	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/zclconf/go-cty/cty"

	"jtd/conformance/pb/drivers"
	"jtd/conformance/pb/hclspec"
)

// The task parameters of the seed documentation, with their casing: this
// is the interface users' job files are written against.
var seedTaskParams = []string{
	"Path", "Ip4", "Ip4_addr", "Allow_raw_sockets", "Allow_chflags",
	"Exec_start", "Rctl", "Host_hostname", "Exec_clean", "Exec_stop",
	"Mount_devfs", "Exec_prestart", "Exec_poststart", "Exec_prestop",
	"Exec_poststop", "Exec_consolelog", "Vnet", "Vnet_nic",
}

// Plus the generic command form.
var extraTaskParams = []string{"command", "args"}

// The 25 distinct RCTL resources of the seed documentation.
var rctlResources = []string{
	"Vmemoryuse", "Cputime", "Datasize", "Stacksize", "Coredumpsize",
	"Memoryuse", "Memorylocked", "Maxproc", "Openfiles", "Pseudoterminals",
	"Swapuse", "Nthr", "Msgqqueued", "Msgqsize", "Nmsgq", "Nsem",
	"Nsemop", "Nshm", "Shmsize", "Wallclock", "Pcpu", "Readbps",
	"Writebps", "Readiops", "Writeiops",
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// inputName is the name a user writes for a schema entry under object
// key k (Attr/Block names default to the key; Default looks through to
// its primary).
func inputName(k string, s *hclspec.Spec) string {
	switch b := s.GetBlock().(type) {
	case *hclspec.Spec_Attr:
		return pickName(b.Attr.GetName(), k)
	case *hclspec.Spec_BlockValue:
		return pickName(b.BlockValue.GetName(), k)
	case *hclspec.Spec_BlockAttrs:
		return pickName(b.BlockAttrs.GetName(), k)
	case *hclspec.Spec_BlockList:
		return pickName(b.BlockList.GetName(), k)
	case *hclspec.Spec_BlockSet:
		return pickName(b.BlockSet.GetName(), k)
	case *hclspec.Spec_BlockMap:
		return pickName(b.BlockMap.GetName(), k)
	case *hclspec.Spec_Default:
		// Nomad gives the primary no implied name.
		return inputName("", b.Default.GetPrimary())
	}
	return ""
}

// topLevelNames lists the input names of a root object spec.
func topLevelNames(s *hclspec.Spec) map[string]bool {
	out := map[string]bool{}
	for k, v := range s.GetObject().GetAttributes() {
		if n := inputName(k, v); n != "" {
			out[n] = true
		}
	}
	return out
}

// entryFor finds the schema entry users write as `name`.
func entryFor(s *hclspec.Spec, name string) *hclspec.Spec {
	for k, v := range s.GetObject().GetAttributes() {
		if inputName(k, v) == name {
			return v
		}
	}
	return nil
}

func (h *harness) taskSchema() *hclspec.Spec {
	resp, err := h.Driver.TaskConfigSchema(h.ctx(),
		&drivers.TaskConfigSchemaRequest{})
	if err != nil {
		h.t.Fatalf("TaskConfigSchema: %v", err)
	}
	if resp.GetSpec() == nil {
		h.t.Fatal("TaskConfigSchema returned no spec: Nomad fails " +
			"every task with \"nil spec given\"")
	}
	return resp.GetSpec()
}

func TestTaskConfigSchema(t *testing.T) {
	t.Parallel()
	h := launch(t)
	spec := h.taskSchema()

	dec, diags := SpecToHCLDec(spec)
	if len(diags) > 0 {
		t.Fatalf("TaskConfigSchema does not convert cleanly: %v", diags)
	}
	if _, ok := dec.(hcldec.ObjectSpec); !ok {
		t.Fatalf("root of TaskConfigSchema is %T, want an object", dec)
	}
	if ty := hcldec.ImpliedType(dec); !ty.IsObjectType() {
		t.Fatalf("implied type %#v is not an object", ty)
	}

	names := topLevelNames(spec)
	for _, p := range append(append([]string{}, seedTaskParams...),
		extraTaskParams...) {
		if !names[p] {
			t.Errorf("task parameter %q missing (exact casing); have %v",
				p, sortedKeys(names))
		}
	}

	// Nothing is required: every seed parameter is optional.
	for k, v := range dec.(hcldec.ObjectSpec) {
		if a, ok := v.(*hcldec.AttrSpec); ok && a.Required {
			t.Errorf("%s is required; the seed documents every "+
				"parameter as optional", k)
		}
	}

	checkRctlSchema(t, entryFor(spec, "Rctl"))
}

// checkRctlSchema checks the 25 resources where the schema spells them
// out.  A schema typing Rctl as a map or `any` leaves the names to the
// plugin's validation, which TestStartTaskValid covers.
func checkRctlSchema(t *testing.T, rctl *hclspec.Spec) {
	t.Helper()
	if rctl == nil {
		return
	}
	if d := rctl.GetDefault(); d != nil {
		rctl = d.GetPrimary()
	}

	var nested *hclspec.Spec
	switch b := rctl.GetBlock().(type) {
	case *hclspec.Spec_BlockValue:
		nested = b.BlockValue.GetNested()
	case *hclspec.Spec_BlockList:
		nested = b.BlockList.GetNested()
	case *hclspec.Spec_Attr:
		ty, diags := ParseTypeExpr(b.Attr.GetType())
		if diags.HasErrors() {
			t.Fatalf("Rctl type: %v", diags)
		}
		if ty.IsObjectType() {
			for _, r := range rctlResources {
				if !ty.HasAttribute(r) {
					t.Errorf("Rctl type lacks resource %q", r)
				}
			}
			return
		}
		if ty != cty.DynamicPseudoType && !ty.IsMapType() {
			t.Errorf("Rctl typed %s cannot hold both a number and "+
				"{Amount, Action, Per} per resource", ty.FriendlyName())
		}
		t.Logf("Rctl is Attr(%s); resource names are checked by the "+
			"plugin", b.Attr.GetType())
		return
	default:
		t.Errorf("Rctl has unexpected spec kind %T", b)
		return
	}

	have := topLevelNames(nested)
	for _, r := range rctlResources {
		if !have[r] {
			t.Errorf("Rctl resource %q missing; have %v", r,
				sortedKeys(have))
		}
	}
}
