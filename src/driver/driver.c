/*
 * The BasePlugin and Driver services.
 *
 * Streams Nomad keeps open (Fingerprint, TaskEvents) are tracked in
 * lists so they can be fed and, at shutdown, ended.  Task-scoped RPCs
 * look the task up by id; until the lifecycle lands no task can exist,
 * so they answer NOT_FOUND, and StartTask validates the configuration and
 * then answers UNIMPLEMENTED.
 */
#include "driver/driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "backend/probe.h"
#include "config/config.h"
#include "config/plugincfg.h"
#include "config/taskcfg.h"
#include "core/log.h"
#include "driver/pb.h"
#include "driver/rpc.h"
#include "goplugin/goplugin.h"

struct stream {
	LIST_ENTRY(stream) link;
	struct grpc_call *call;
};
LIST_HEAD(stream_list, stream);

struct jtd_driver {
	uv_loop_t *loop;
	struct jtd_plugincfg *cfg;	/* from SetConfig, or defaults */
	char api_version[32];		/* as Nomad negotiated it */

	struct stream_list fp_streams;
	struct stream_list event_streams;
	uv_timer_t fp_timer;
	bool fp_timer_running;
	struct jtd_probe last_probe;
	uint64_t last_fp_sent;		/* uv_now() of the last send */
};

static struct jtd_driver *
driver_of(struct grpc_call *call)
{
	struct jtd_host *host = grpc_call_server_user(call);

	return host->driver;
}

/* Replace the plugin config; on error the old one stays. */
static int
driver_configure(struct jtd_driver *drv, const uint8_t *buf, size_t len,
    struct jtd_err **err)
{
	struct jtd_plugincfg *cfg;

	cfg = jtd_plugincfg_decode_msgpack(buf, len, err);
	if (cfg == NULL)
		return -1;
	jtd_plugincfg_free(drv->cfg);
	drv->cfg = cfg;
	return 0;
}

struct jtd_driver *
jtd_driver_new(uv_loop_t *loop, struct jtd_err **err)
{
	struct jtd_driver *drv = calloc(1, sizeof(*drv));

	if (drv == NULL) {
		jtd_err_set(err, JTD_EXHAUSTED, "out of memory");
		return NULL;
	}
	drv->loop = loop;
	LIST_INIT(&drv->fp_streams);
	LIST_INIT(&drv->event_streams);
	snprintf(drv->api_version, sizeof(drv->api_version), "%s",
	    JTD_PLUGIN_API_VERSION);
	/* Defaults apply until SetConfig (a reattached plugin gets none). */
	if (driver_configure(drv, NULL, 0, err) != 0) {
		free(drv);
		return NULL;
	}
	uv_timer_init(loop, &drv->fp_timer);
	drv->fp_timer.data = drv;
	return drv;
}

static void
streams_end(struct stream_list *list)
{
	struct stream *s;

	while ((s = LIST_FIRST(list)) != NULL) {
		LIST_REMOVE(s, link);
		grpc_call_set_data(s->call, NULL);
		grpc_call_finish(s->call, JTD_UNAVAILABLE,
		    "plugin is shutting down", NULL, 0);
		free(s);
	}
}

static void
free_after_close(uv_handle_t *h)
{
	free(h->data);
}

void
jtd_driver_free(struct jtd_driver *drv)
{
	if (drv == NULL)
		return;
	streams_end(&drv->fp_streams);
	streams_end(&drv->event_streams);
	jtd_plugincfg_free(drv->cfg);
	drv->cfg = NULL;
	uv_timer_stop(&drv->fp_timer);
	uv_close((uv_handle_t *)&drv->fp_timer, free_after_close);
}

static struct stream *
stream_track(struct stream_list *list, struct grpc_call *call)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->call = call;
	LIST_INSERT_HEAD(list, s, link);
	grpc_call_set_data(call, s);
	return s;
}

/* on_cancel for tracked streams: forget the call. */
static void
stream_cancelled(struct grpc_call *call)
{
	struct stream *s = grpc_call_data(call);

	if (s != NULL) {
		LIST_REMOVE(s, link);
		free(s);
	}
}

/* ---- BasePlugin ---------------------------------------------------- */

static void
plugin_info(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	BASE(PluginInfoResponse) resp = BASE_C(PLUGIN_INFO_RESPONSE__INIT);
	char *versions[] = { JTD_PLUGIN_API_VERSION };

	resp.type = BASE_C(PLUGIN_TYPE__DRIVER);
	resp.n_plugin_api_versions = 1;
	resp.plugin_api_versions = versions;
	resp.plugin_version = JTD_VERSION;
	resp.name = JTD_PLUGIN_NAME;
	jtd_rpc_reply(call, &resp.base);
}

static void
config_schema(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	BASE(ConfigSchemaResponse) resp =
	    BASE_C(CONFIG_SCHEMA_RESPONSE__INIT);

	resp.spec = (jtd_hclspec *)jtd_plugincfg_spec();
	jtd_rpc_reply(call, &resp.base);
}

static void
set_config(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	BASE(SetConfigRequest) *req;
	BASE(SetConfigResponse) resp = BASE_C(SET_CONFIG_RESPONSE__INIT);
	struct jtd_err *err = NULL;

	req = BASE_FN(set_config_request__unpack)(NULL, len, msg);
	if (req == NULL) {
		grpc_call_finish(call, JTD_INVALID,
		    "malformed SetConfigRequest", NULL, 0);
		return;
	}
	if (driver_configure(drv, req->msgpack_config.data,
	    req->msgpack_config.len, &err) != 0) {
		jtd_err_wrap(&err, "plugin \"%s\" config", JTD_PLUGIN_NAME);
		jtd_rpc_fail(call, &err, false);
	} else {
		if (req->plugin_api_version[0] != '\0')
			snprintf(drv->api_version, sizeof(drv->api_version),
			    "%s", req->plugin_api_version);
		jtd_rpc_reply(call, &resp.base);
	}
	BASE_FN(set_config_request__free_unpacked)(req, NULL);
}

/* ---- Driver: schema, capabilities, fingerprint, events ------------- */

/*
 * The schema never changes while the plugin runs, and Nomad asks for it
 * for every task runner: pack it once.
 */
static void
task_config_schema(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	static uint8_t *packed;
	static size_t packed_len;

	if (packed == NULL) {
		DRV(TaskConfigSchemaResponse) resp =
		    DRV_C(TASK_CONFIG_SCHEMA_RESPONSE__INIT);

		resp.spec = (jtd_hclspec *)jtd_taskcfg_spec();
		packed_len = protobuf_c_message_get_packed_size(&resp.base);
		packed = malloc(packed_len);
		if (packed == NULL) {
			grpc_call_finish(call, JTD_EXHAUSTED, "out of memory",
			    NULL, 0);
			return;
		}
		protobuf_c_message_pack(&resp.base, packed);
	}
	grpc_call_reply(call, packed, packed_len);
}

static void
capabilities(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	DRV(CapabilitiesResponse) resp = DRV_C(CAPABILITIES_RESPONSE__INIT);
	DRV(DriverCapabilities) caps = DRV_C(DRIVER_CAPABILITIES__INIT);
	DRV(NetworkIsolationSpec__NetworkIsolationMode) modes[] = {
		DRV_C(NETWORK_ISOLATION_SPEC__NETWORK_ISOLATION_MODE__HOST),
	};

	caps.send_signals = true;
	caps.exec = true;
	/*
	 * The jail root is the task's own filesystem: Nomad must not build
	 * a chroot, and it hands us /alloc, /local, /secrets style paths.
	 */
	caps.fs_isolation = DRV_C(DRIVER_CAPABILITIES__FSISOLATION__IMAGE);
	caps.n_network_isolation_modes = sizeof(modes) / sizeof(modes[0]);
	caps.network_isolation_modes = modes;
	caps.mount_configs = DRV_C(DRIVER_CAPABILITIES__MOUNT_CONFIGS__ANY_MOUNTS);
	resp.capabilities = &caps;
	jtd_rpc_reply(call, &resp.base);
}

/* Probe the host, folding in what the plugin config says. */
static void
driver_probe(struct jtd_driver *drv, struct jtd_probe *p)
{
	jtd_backend_probe(p);
	if (!jtd_plugincfg_enabled(drv->cfg)) {
		p->health = JTD_HEALTH_UNDETECTED;
		snprintf(p->reason, sizeof(p->reason),
		    "disabled by the plugin config (enabled = false)");
	}
}

static int
fingerprint_send(struct grpc_call *call, const struct jtd_probe *p)
{
	DRV(FingerprintResponse) resp = DRV_C(FINGERPRINT_RESPONSE__INIT);
	DRV(FingerprintResponse__AttributesEntry)
	    entries[JTD_PROBE_MAX_ATTRS + 1], *ptrs[JTD_PROBE_MAX_ATTRS + 1];
	SHR(Attribute) vals[JTD_PROBE_MAX_ATTRS + 1];
	char keys[JTD_PROBE_MAX_ATTRS + 1][96];
	size_t i, n = 0;

	for (i = 0; i <= p->n_attrs; i++) {
		DRV(FingerprintResponse__AttributesEntry) e =
		    DRV_C(FINGERPRINT_RESPONSE__ATTRIBUTES_ENTRY__INIT);
		SHR(Attribute) v = SHR_C(ATTRIBUTE__INIT);

		entries[n] = e;
		vals[n] = v;
		if (i == p->n_attrs) {
			snprintf(keys[n], sizeof(keys[n]), "%s.version",
			    JTD_ATTR_PREFIX);
			vals[n].value_case =
			    SHR_C(ATTRIBUTE__VALUE_STRING_VAL);
			vals[n].string_val = JTD_VERSION;
		} else {
			const struct jtd_attr *a = &p->attrs[i];

			snprintf(keys[n], sizeof(keys[n]), "%s.%s",
			    JTD_ATTR_PREFIX, a->key);
			switch (a->kind) {
			case JTD_ATTR_STRING:
				vals[n].value_case =
				    SHR_C(ATTRIBUTE__VALUE_STRING_VAL);
				vals[n].string_val = (char *)a->str;
				break;
			case JTD_ATTR_BOOL:
				vals[n].value_case =
				    SHR_C(ATTRIBUTE__VALUE_BOOL_VAL);
				vals[n].bool_val = a->b;
				break;
			case JTD_ATTR_INT:
				vals[n].value_case =
				    SHR_C(ATTRIBUTE__VALUE_INT_VAL);
				vals[n].int_val = a->i;
				break;
			}
		}
		entries[n].key = keys[n];
		entries[n].value = &vals[n];
		ptrs[n] = &entries[n];
		n++;
	}
	resp.n_attributes = n;
	resp.attributes = ptrs;
	switch (p->health) {
	case JTD_HEALTH_HEALTHY:
		resp.health =
		    DRV_C(FINGERPRINT_RESPONSE__HEALTH_STATE__HEALTHY);
		break;
	case JTD_HEALTH_UNHEALTHY:
		resp.health =
		    DRV_C(FINGERPRINT_RESPONSE__HEALTH_STATE__UNHEALTHY);
		break;
	case JTD_HEALTH_UNDETECTED:
		resp.health =
		    DRV_C(FINGERPRINT_RESPONSE__HEALTH_STATE__UNDETECTED);
		break;
	}
	resp.health_description = (char *)p->reason;
	return jtd_rpc_send(call, &resp.base);
}

static void
fingerprint_tick(uv_timer_t *t)
{
	struct jtd_driver *drv = t->data;
	struct jtd_probe p;
	struct stream *s;
	bool changed;

	if (LIST_EMPTY(&drv->fp_streams)) {
		uv_timer_stop(t);
		drv->fp_timer_running = false;
		return;
	}
	driver_probe(drv, &p);
	changed = !jtd_probe_equal(&p, &drv->last_probe);
	if (!changed && uv_now(drv->loop) - drv->last_fp_sent <
	    JTD_FINGERPRINT_RESEND_MS)
		return;
	if (changed && p.health != drv->last_probe.health)
		jtd_logkv(p.health == JTD_HEALTH_HEALTHY ? JTD_LOG_INFO :
		    JTD_LOG_WARN, NULL, "driver health changed: %s", p.reason);
	drv->last_probe = p;
	drv->last_fp_sent = uv_now(drv->loop);
	LIST_FOREACH(s, &drv->fp_streams, link)
		fingerprint_send(s->call, &p);
}

static void
fingerprint(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	struct jtd_probe p;

	if (stream_track(&drv->fp_streams, call) == NULL) {
		grpc_call_finish(call, JTD_EXHAUSTED, "out of memory", NULL, 0);
		return;
	}
	/* Nomad waits for the first fingerprint: send it at once. */
	driver_probe(drv, &p);
	if (p.health != JTD_HEALTH_HEALTHY &&
	    !jtd_probe_equal(&p, &drv->last_probe))
		jtd_warn("driver is not healthy: %s", p.reason);
	drv->last_probe = p;
	drv->last_fp_sent = uv_now(drv->loop);
	fingerprint_send(call, &p);
	if (!drv->fp_timer_running) {
		uv_timer_start(&drv->fp_timer, fingerprint_tick,
		    JTD_FINGERPRINT_PROBE_MS, JTD_FINGERPRINT_PROBE_MS);
		drv->fp_timer_running = true;
	}
}

static void
task_events(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);

	/* Held open: events are sent as tasks produce them. */
	if (stream_track(&drv->event_streams, call) == NULL)
		grpc_call_finish(call, JTD_EXHAUSTED, "out of memory", NULL, 0);
}

/* ---- Driver: tasks --------------------------------------------------- */

static void
start_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(StartTaskRequest) *req;
	DRV(TaskConfig) *tc;
	struct jtd_taskcfg *cfg;
	struct jtd_err *err = NULL;
	const char *kv[5] = { "task_id", NULL, "task", NULL, NULL };

	req = DRV_FN(start_task_request__unpack)(NULL, len, msg);
	if (req == NULL || req->task == NULL) {
		grpc_call_finish(call, JTD_INVALID,
		    "malformed StartTaskRequest: no task", NULL, 0);
		if (req != NULL)
			DRV_FN(start_task_request__free_unpacked)(req, NULL);
		return;
	}
	tc = req->task;
	kv[1] = tc->id;
	kv[3] = tc->name;

	cfg = jtd_taskcfg_decode_msgpack(tc->msgpack_driver_config.data,
	    tc->msgpack_driver_config.len, &err);
	if (cfg == NULL) {
		jtd_err_wrap(&err, "task %s: invalid config", tc->name);
		jtd_logkv(JTD_LOG_WARN, kv, "%s", err->msg);
		jtd_rpc_fail(call, &err, false);
	} else if (jtd_policy_check_alloc(drv->cfg, cfg, tc->alloc_dir, &err) != 0) {
		jtd_err_wrap(&err, "task %s", tc->name);
		jtd_logkv(JTD_LOG_WARN, kv, "%s", err->msg);
		jtd_rpc_fail(call, &err, false);
	} else {
		grpc_call_finish(call, JTD_UNIMPLEMENTED,
		    "task config is valid, but this build of "
		    "jail-task-driver cannot start tasks yet", NULL, 0);
	}
	jtd_taskcfg_free(cfg);
	DRV_FN(start_task_request__free_unpacked)(req, NULL);
}

/*
 * Find the task id of any task-scoped request through its descriptor, so
 * one handler serves every RPC whose request has a `task_id` field.
 */
static const ProtobufCMessageDescriptor *
request_descriptor(const char *path)
{
	static const struct {
		const char *method;
		const ProtobufCMessageDescriptor *desc;
	} table[] = {
		{ "WaitTask",
		    &DRV_FN(wait_task_request__descriptor) },
		{ "StopTask",
		    &DRV_FN(stop_task_request__descriptor) },
		{ "DestroyTask",
		    &DRV_FN(destroy_task_request__descriptor) },
		{ "InspectTask",
		    &DRV_FN(inspect_task_request__descriptor) },
		{ "TaskStats",
		    &DRV_FN(task_stats_request__descriptor) },
		{ "SignalTask",
		    &DRV_FN(signal_task_request__descriptor) },
		{ "ExecTask",
		    &DRV_FN(exec_task_request__descriptor) },
	};
	const char *m = strrchr(path, '/');
	size_t i;

	for (i = 0; m != NULL && i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(m + 1, table[i].method) == 0)
			return table[i].desc;
	return NULL;
}

static void
task_request(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	const ProtobufCMessageDescriptor *desc;
	const ProtobufCFieldDescriptor *f;
	ProtobufCMessage *req;
	const char *id;

	desc = request_descriptor(grpc_call_path(call));
	req = desc != NULL ? protobuf_c_message_unpack(desc, NULL, len, msg) :
	    NULL;
	if (req == NULL) {
		grpc_call_finish(call, JTD_INVALID, "malformed request",
		    NULL, 0);
		return;
	}
	f = protobuf_c_message_descriptor_get_field_by_name(desc, "task_id");
	id = *(const char *const *)((const char *)req + f->offset);
	if (id[0] == '\0')
		grpc_call_finish(call, JTD_INVALID, "task_id is empty",
		    NULL, 0);
	else {
		char text[320];

		snprintf(text, sizeof(text), "task %s not found", id);
		grpc_call_finish(call, JTD_NOT_FOUND, text, NULL, 0);
	}
	protobuf_c_message_free_unpacked(req, NULL);
}

static void
recover_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	DRV(RecoverTaskRequest) *req;
	char text[320];

	req = DRV_FN(recover_task_request__unpack)(NULL, len, msg);
	if (req == NULL) {
		grpc_call_finish(call, JTD_INVALID,
		    "malformed RecoverTaskRequest", NULL, 0);
		return;
	}
	if (req->handle == NULL || req->handle->config == NULL)
		grpc_call_finish(call, JTD_INVALID,
		    "cannot recover: the task handle has no task config",
		    NULL, 0);
	else {
		snprintf(text, sizeof(text),
		    "cannot recover task %s: no such task on this host",
		    req->handle->config->id);
		grpc_call_finish(call, JTD_NOT_FOUND, text, NULL, 0);
	}
	DRV_FN(recover_task_request__free_unpacked)(req, NULL);
}

static void
exec_streaming(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	DRV(ExecTaskStreamingRequest) *req;
	char text[320];

	/* Only the first message matters until exec lands. */
	if (grpc_call_data(call) != NULL)
		return;
	grpc_call_set_data(call, call);
	req = DRV_FN(exec_task_streaming_request__unpack)(NULL, len, msg);
	if (req == NULL || req->setup == NULL) {
		grpc_call_finish(call, JTD_INVALID,
		    "exec stream must start with a setup message", NULL, 0);
	} else {
		snprintf(text, sizeof(text), "task %s not found",
		    req->setup->task_id);
		grpc_call_finish(call, JTD_NOT_FOUND, text, NULL, 0);
	}
	if (req != NULL)
		DRV_FN(exec_task_streaming_request__free_unpacked)(req, NULL);
}

static void
no_networks(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	/* must_create_network is false, so Nomad never calls these. */
	grpc_call_finish(call, JTD_UNIMPLEMENTED,
	    "jail-task-driver does not create networks for Nomad", NULL, 0);
}

#define BASE_PATH "/hashicorp.nomad.plugins.base.proto.BasePlugin/"
#define DRV_PATH "/hashicorp.nomad.plugins.drivers.proto.Driver/"

const struct grpc_method jtd_driver_methods[] = {
	{ BASE_PATH "PluginInfo", GRPC_UNARY, plugin_info, NULL, NULL },
	{ BASE_PATH "ConfigSchema", GRPC_UNARY, config_schema, NULL, NULL },
	{ BASE_PATH "SetConfig", GRPC_UNARY, set_config, NULL, NULL },
	{ DRV_PATH "TaskConfigSchema", GRPC_UNARY, task_config_schema,
	    NULL, NULL },
	{ DRV_PATH "Capabilities", GRPC_UNARY, capabilities, NULL, NULL },
	{ DRV_PATH "Fingerprint", GRPC_SERVER_STREAM, fingerprint, NULL,
	    stream_cancelled },
	{ DRV_PATH "TaskEvents", GRPC_SERVER_STREAM, task_events, NULL,
	    stream_cancelled },
	{ DRV_PATH "StartTask", GRPC_UNARY, start_task, NULL, NULL },
	{ DRV_PATH "RecoverTask", GRPC_UNARY, recover_task, NULL, NULL },
	{ DRV_PATH "WaitTask", GRPC_UNARY, task_request, NULL, NULL },
	{ DRV_PATH "StopTask", GRPC_UNARY, task_request, NULL, NULL },
	{ DRV_PATH "DestroyTask", GRPC_UNARY, task_request, NULL, NULL },
	{ DRV_PATH "InspectTask", GRPC_UNARY, task_request, NULL, NULL },
	{ DRV_PATH "TaskStats", GRPC_SERVER_STREAM, task_request, NULL, NULL },
	{ DRV_PATH "SignalTask", GRPC_UNARY, task_request, NULL, NULL },
	{ DRV_PATH "ExecTask", GRPC_UNARY, task_request, NULL, NULL },
	{ DRV_PATH "ExecTaskStreaming", GRPC_BIDI, exec_streaming, NULL,
	    NULL },
	{ DRV_PATH "CreateNetwork", GRPC_UNARY, no_networks, NULL, NULL },
	{ DRV_PATH "DestroyNetwork", GRPC_UNARY, no_networks, NULL, NULL },
};

const size_t jtd_driver_n_methods =
    sizeof(jtd_driver_methods) / sizeof(jtd_driver_methods[0]);
