package conformance

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"jtd/conformance/pb/hclspec"
)

// These tests pin the suite's own Nomad-side encoder to the bytes the
// real upstream code produced (protocol notes §5.3), so that a plugin
// failure elsewhere cannot be an encoder bug.  They need no binary.

func attr(name, ty string, required bool) *hclspec.Spec {
	return &hclspec.Spec{Block: &hclspec.Spec_Attr{Attr: &hclspec.Attr{
		Name: name, Type: ty, Required: required}}}
}

func object(kv map[string]*hclspec.Spec) *hclspec.Spec {
	return &hclspec.Spec{Block: &hclspec.Spec_Object{Object: &hclspec.Object{
		Attributes: kv}}}
}

func blockValue(name string, nested *hclspec.Spec) *hclspec.Spec {
	return &hclspec.Spec{Block: &hclspec.Spec_BlockValue{
		BlockValue: &hclspec.Block{Name: name, Nested: nested}}}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hexPrefixStr(s string) string {
	return hex.EncodeToString(append([]byte{byte(0xa0 + len(s))},
		s...))
}

const example1Hex = `83 a4 61 72 67 73 92 a2 2d 63 a1 78 a7 63 6f 6d 6d 61 6e 64
	a7 2f 62 69 6e 2f 73 68 a4 72 63 74 6c 81 a9 6d 65 6d 6f 72 79 75 73 65
	cd 03 e8`

func TestEncoderExample1MapAttr(t *testing.T) {
	spec := object(map[string]*hclspec.Spec{
		"command": attr("command", "string", true),
		"args":    attr("args", "list(string)", false),
		"rctl":    attr("rctl", "map(number)", false),
	})
	cfg := map[string]any{"command": "/bin/sh",
		"args": []any{"-c", "x"}, "rctl": map[string]any{"memoryuse": 1000}}

	got, err := EncodeTaskConfig(spec, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, example1Hex); !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}

	// Block syntax is refused for a map attribute.
	cfg["rctl"] = []any{map[string]any{"memoryuse": 1000}}
	if _, err := EncodeTaskConfig(spec, cfg, nil); err == nil {
		t.Fatal("block syntax accepted for Attr(map(number))")
	}
}

func TestEncoderExample2BlockValue(t *testing.T) {
	spec := object(map[string]*hclspec.Spec{
		"command": attr("command", "string", true),
		"args":    attr("args", "list(string)", false),
		"rctl": blockValue("rctl", object(map[string]*hclspec.Spec{
			"memoryuse": attr("memoryuse", "number", false)})),
	})
	want := mustHex(t, example1Hex)
	for _, rctl := range []any{
		map[string]any{"memoryuse": 1000},
		[]any{map[string]any{"memoryuse": 1000}},
	} {
		cfg := map[string]any{"command": "/bin/sh",
			"args": []any{"-c", "x"}, "rctl": rctl}
		got, err := EncodeTaskConfig(spec, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("rctl %v: got %x\nwant %x", rctl, got, want)
		}
	}
}

func TestEncoderExample3AnyKeepsConcreteType(t *testing.T) {
	spec := object(map[string]*hclspec.Spec{
		"command": attr("command", "string", true),
		"args":    attr("args", "list(string)", false),
		"rctl":    attr("rctl", "any", false),
	})
	cfg := map[string]any{"command": "/bin/sh",
		"args": []any{"-c", "x"}, "rctl": map[string]any{"memoryuse": 1000}}
	got, err := EncodeTaskConfig(spec, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, example1Hex); !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
}

func TestEncoderExample4AbsentValues(t *testing.T) {
	spec := object(map[string]*hclspec.Spec{
		"any":  attr("any", "any", false),
		"args": attr("args", "list(string)", false),
		"blk": blockValue("blk", object(map[string]*hclspec.Spec{
			"x": attr("x", "number", false)})),
		"bm": {Block: &hclspec.Spec_BlockMap{BlockMap: &hclspec.BlockMap{
			Name: "bm", Labels: []string{"key"},
			Nested: object(map[string]*hclspec.Spec{
				"x": attr("x", "number", false)})}}},
		"command": attr("command", "string", true),
		"debug": {Block: &hclspec.Spec_Default{Default: &hclspec.Default{
			Primary: attr("debug", "bool", false),
			Default: &hclspec.Spec{Block: &hclspec.Spec_Literal{
				Literal: &hclspec.Literal{Value: "false"}}}}}},
		"labels": {Block: &hclspec.Spec_BlockAttrs{BlockAttrs: &hclspec.BlockAttrs{
			Name: "labels", Type: "string"}}},
		"mounts": {Block: &hclspec.Spec_BlockList{BlockList: &hclspec.BlockList{
			Name: "mount", Nested: object(map[string]*hclspec.Spec{
				"src": attr("src", "string", false)})}}},
		"rctl": attr("rctl", "map(number)", false),
	})

	got, err := EncodeTaskConfig(spec,
		map[string]any{"command": "/bin/sh"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "89" + hexPrefixStr("any") + "c0" + hexPrefixStr("args") + "c0" +
		hexPrefixStr("blk") + "c0" + hexPrefixStr("bm") + "80" +
		hexPrefixStr("command") + hexPrefixStr("/bin/sh") +
		hexPrefixStr("debug") + "c2" + hexPrefixStr("labels") + "c0" +
		hexPrefixStr("mounts") + "90" + hexPrefixStr("rctl") + "c0"
	if hex.EncodeToString(got) != want || len(got) != 66 {
		t.Fatalf("got %x\nwant %s", got, want)
	}
}

func TestEncoderExample5Numbers(t *testing.T) {
	spec := object(map[string]*hclspec.Spec{
		"n": attr("n", "list(number)", false)})
	// json.Number keeps the literal text exactly as a job file has it.
	raw := `[0,127,128,255,256,65536,4294967296,-1,-32,-33,-129,1.5,0.1,` +
		`1e20,123456789012345678901234567890]`
	got, err := EncodeTaskConfig(spec,
		map[string]any{"n": jsonRaw(raw)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "81" + hexPrefixStr("n") + "9f" +
		"00 7f cc80 ccff cd0100 ce00010000 cf0000000100000000 ff e0 d0df" +
		"d1ff7f cb3ff8000000000000" + hexPrefixStr("0.1") +
		"b5" + hex.EncodeToString([]byte("100000000000000000000")) +
		"be" + hex.EncodeToString([]byte("123456789012345678901234567890"))
	if w := mustHex(t, want); !bytes.Equal(got, w) {
		t.Fatalf("got  %x\nwant %x", got, w)
	}
}

func TestEncoderRejectsLikeNomad(t *testing.T) {
	spec := object(map[string]*hclspec.Spec{
		"flag": attr("flag", "bool", false)})

	for _, cfg := range []map[string]any{
		{"flag": "maybe"},
		{"other": 1},
	} {
		_, err := EncodeTaskConfig(spec, cfg, nil)
		var de *DecodeError
		if !errors.As(err, &de) || de.Stage != "decode" {
			t.Fatalf("%v: want a decode error, got %v", cfg, err)
		}
	}

	// "true" converts to a bool, as HCL does.
	if _, err := EncodeTaskConfig(spec, map[string]any{"flag": "true"},
		nil); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []string{"", `"string"`, "String", "optional(string)"} {
		if _, diags := ParseTypeExpr(bad); !diags.HasErrors() {
			t.Errorf("type %q accepted; Nomad refuses it", bad)
		}
	}
	for _, good := range []string{"string", "any", "null", "list(map(number))",
		"object({a = string, b = number})", "tuple([string, bool])"} {
		if _, diags := ParseTypeExpr(good); diags.HasErrors() {
			t.Errorf("type %q refused: %v", good, diags)
		}
	}
}

func TestSeedHCLRendering(t *testing.T) {
	src, err := os.ReadFile("testdata/seed_example1.hcl")
	if err != nil {
		t.Fatal(err)
	}
	got, err := TaskConfigFromHCL(src, "seed_example1.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Path":              "/zroot/iocage/jails/myjail/root",
		"Allow_raw_sockets": true,
		"Allow_chflags":     true,
		"Ip4_addr":          "em1|192.168.1.102",
		"Exec_start":        "/usr/local/bin/http-echo -listen :9999 -text hello",
		"Rctl":              map[string]any{"Vmemoryuse": float64(1200000)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("example 1:\n got %#v\nwant %#v", got, want)
	}

	src, err = os.ReadFile("testdata/seed_example2.hcl")
	if err != nil {
		t.Fatal(err)
	}
	got, err = TaskConfigFromHCL(src, "seed_example2.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if g := got["Exec_prestart"]; g !=
		"/usr/share/examples/jails/jib addm loghost em1" {
		t.Errorf("Exec_prestart kept %q, want the later value", g)
	}
	if g := got["Exec_poststop"]; g !=
		"/usr/share/examples/jails/jib destroy loghost " {
		t.Errorf("Exec_poststop kept %q, want the later value", g)
	}
	if len(got) != 13 || got["Vnet"] != true ||
		got["Exec_consolelog"] != "/var/tmp/vnet-example" {
		t.Errorf("example 2 rendered as %#v", got)
	}

	// Block syntax becomes a list of objects.
	got, err = TaskConfigFromHCL([]byte(`config {
  Rctl {
    Vmemoryuse = 1
  }
}`), "block.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string]any{"Rctl": []any{
		map[string]any{"Vmemoryuse": float64(1)}}}) {
		t.Errorf("block syntax rendered as %#v", got)
	}
}

// jsonRaw passes JSON text through the config map unchanged, so number
// literals reach the HCL JSON parser exactly as written.
func jsonRaw(s string) json.RawMessage { return json.RawMessage(s) }
