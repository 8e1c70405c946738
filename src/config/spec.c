/*
 * The hclspec trees given to Nomad (TaskConfigSchema, ConfigSchema),
 * built from the parameter tables into static storage on first use.
 *
 * Task schema: one optional Attr per parameter, typed as precisely as
 * the accepted forms allow (string, bool, number, list(string), or any
 * where a string or a list are both fine), and Rctl as a block_value
 * whose object holds one Attr(any) per resource: that accepts both
 * `Rctl = { ... }` and `Rctl { ... }`, and lets each resource be a bare
 * amount or an { Amount, Action, Per } object.  `any` appears only under
 * object and block_value, never under block_map, which would make hcldec
 * panic in the Nomad client.
 *
 * Plugin schema: one default(Attr, literal) per option, so Nomad fills
 * in absent options.
 */
#include <assert.h>
#include <stddef.h>

#include "config/config.h"
#include "config/plugincfg.h"
#include "config/taskcfg.h"

typedef Hashicorp__Nomad__Plugins__Shared__Hclspec__Spec hs_spec;
typedef Hashicorp__Nomad__Plugins__Shared__Hclspec__Attr hs_attr;
typedef Hashicorp__Nomad__Plugins__Shared__Hclspec__Block hs_block;
typedef Hashicorp__Nomad__Plugins__Shared__Hclspec__Object hs_object;
typedef Hashicorp__Nomad__Plugins__Shared__Hclspec__Object__AttributesEntry
    hs_entry;
typedef Hashicorp__Nomad__Plugins__Shared__Hclspec__Default hs_default;
typedef Hashicorp__Nomad__Plugins__Shared__Hclspec__Literal hs_literal;

/* Room for every parameter and alias; checked when building. */
#define TASK_MAX	128
#define PLUGIN_MAX	16

static const hs_spec spec_init =
    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__SPEC__INIT;
static const hs_attr attr_init =
    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__ATTR__INIT;
static const hs_block block_init =
    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__BLOCK__INIT;
static const hs_object object_init =
    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__OBJECT__INIT;
static const hs_entry entry_init =
    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__OBJECT__ATTRIBUTES_ENTRY__INIT;
static const hs_default default_init =
    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__DEFAULT__INIT;
static const hs_literal literal_init =
    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__LITERAL__INIT;

/* One object entry: key -> spec. */
struct slot {
	hs_entry entry;
	hs_spec spec;
	hs_attr attr;
};

static void
set_attr(struct slot *s, const char *name, const char *type)
{
	s->attr = attr_init;
	s->attr.name = (char *)name;
	s->attr.type = (char *)type;
	s->spec = spec_init;
	s->spec.block_case =
	    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__SPEC__BLOCK_ATTR;
	s->spec.attr = &s->attr;
	s->entry = entry_init;
	s->entry.key = (char *)name;
	s->entry.value = &s->spec;
}

static void
set_object(hs_spec *spec, hs_object *obj, hs_entry **ptrs, size_t n)
{
	*obj = object_init;
	obj->n_attributes = n;
	obj->attributes = ptrs;
	*spec = spec_init;
	spec->block_case =
	    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__SPEC__BLOCK_OBJECT;
	spec->object = obj;
}

static const char *
alias_type(const char *canonical)
{
	const struct jtd_param *p = jtd_param_find(canonical);

	return p != NULL ? p->schema_type : "any";
}

/* Rctl: block_value "Rctl" { object { <Resource> = Attr(any) ... } }. */
static struct {
	struct slot res[JTD_RCTL__COUNT];
	hs_entry *ptrs[JTD_RCTL__COUNT];
	hs_object obj;
	hs_spec obj_spec;
	hs_block block;
} rctl;

static void
build_rctl(struct slot *s, const char *name)
{
	size_t i;

	for (i = 0; i < JTD_RCTL__COUNT; i++) {
		set_attr(&rctl.res[i], jtd_rctl_info[i].name, "any");
		rctl.ptrs[i] = &rctl.res[i].entry;
	}
	set_object(&rctl.obj_spec, &rctl.obj, rctl.ptrs, JTD_RCTL__COUNT);

	rctl.block = block_init;
	rctl.block.name = (char *)name;
	rctl.block.nested = &rctl.obj_spec;
	s->spec = spec_init;
	s->spec.block_case =
	    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__SPEC__BLOCK_BLOCK_VALUE;
	s->spec.block_value = &rctl.block;
	s->entry = entry_init;
	s->entry.key = (char *)name;
	s->entry.value = &s->spec;
}

static struct {
	bool built;
	struct slot slots[TASK_MAX];
	hs_entry *ptrs[TASK_MAX];
	hs_object obj;
	hs_spec root;
} task;

const hs_spec *
jtd_taskcfg_spec(void)
{
	size_t i, n = 0;

	if (task.built)
		return &task.root;
	assert(jtd_nparams + jtd_nparam_aliases <= TASK_MAX);

	for (i = 0; i < jtd_nparams; i++, n++) {
		const struct jtd_param *p = &jtd_params[i];

		if (p->type == JTD_PT_RCTL)
			build_rctl(&task.slots[n], p->name);
		else
			set_attr(&task.slots[n], p->name, p->schema_type);
		task.ptrs[n] = &task.slots[n].entry;
	}
	for (i = 0; i < jtd_nparam_aliases; i++, n++) {
		set_attr(&task.slots[n], jtd_param_aliases[i].name,
		    alias_type(jtd_param_aliases[i].canonical));
		task.ptrs[n] = &task.slots[n].entry;
	}
	set_object(&task.root, &task.obj, task.ptrs, n);
	task.built = true;
	return &task.root;
}

/* default { primary = Attr(name, type), default = literal(text) }. */
struct dslot {
	hs_entry entry;
	hs_spec spec;
	hs_default def;
	hs_spec primary;
	hs_attr attr;
	hs_spec lit_spec;
	hs_literal lit;
};

static void
set_default(struct dslot *s, const struct jtd_plugin_opt *o)
{
	s->attr = attr_init;
	s->attr.name = (char *)o->name;
	s->attr.type = (char *)o->type;
	s->primary = spec_init;
	s->primary.block_case =
	    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__SPEC__BLOCK_ATTR;
	s->primary.attr = &s->attr;

	s->lit = literal_init;
	s->lit.value = (char *)o->default_literal;
	s->lit_spec = spec_init;
	s->lit_spec.block_case =
	    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__SPEC__BLOCK_LITERAL;
	s->lit_spec.literal = &s->lit;

	s->def = default_init;
	s->def.primary = &s->primary;
	s->def.default_ = &s->lit_spec;
	s->spec = spec_init;
	s->spec.block_case =
	    HASHICORP__NOMAD__PLUGINS__SHARED__HCLSPEC__SPEC__BLOCK_DEFAULT;
	s->spec.default_ = &s->def;

	s->entry = entry_init;
	s->entry.key = (char *)o->name;
	s->entry.value = &s->spec;
}

static struct {
	bool built;
	struct dslot slots[PLUGIN_MAX];
	hs_entry *ptrs[PLUGIN_MAX];
	hs_object obj;
	hs_spec root;
} plugin;

const hs_spec *
jtd_plugincfg_spec(void)
{
	size_t i;

	if (plugin.built)
		return &plugin.root;
	assert(jtd_nplugin_opts <= PLUGIN_MAX);

	for (i = 0; i < jtd_nplugin_opts; i++) {
		set_default(&plugin.slots[i], &jtd_plugin_opts[i]);
		plugin.ptrs[i] = &plugin.slots[i].entry;
	}
	set_object(&plugin.root, &plugin.obj, plugin.ptrs, jtd_nplugin_opts);
	plugin.built = true;
	return &plugin.root;
}
