/*
 * The BasePlugin and Driver services.
 *
 * Streams Nomad keeps open (Fingerprint, TaskEvents, TaskStats) are
 * tracked so they can be fed and, at shutdown, ended.  Task-scoped RPCs
 * adapt gRPC calls to the task lifecycle in tasks.c: a call that Nomad
 * cancels while its task operation is under way is detached from it
 * (the operation itself completes).
 */
#include "driver/driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/queue.h>
#include <time.h>

#include "backend/probe.h"
#include "config/config.h"
#include "config/plugincfg.h"
#include "config/taskcfg.h"
#include "core/log.h"
#include "driver/pb.h"
#include "driver/exec.h"
#include "driver/rpc.h"
#include "driver/tasks.h"
#include "backend/backend.h"
#include "goplugin/goplugin.h"
#include "google/protobuf/timestamp.pb-c.h"

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

	struct jtd_tasks *tasks;
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

static void task_event(void *arg, const struct jtd_task *t,
    const char *message);

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
	drv->tasks = jtd_tasks_new(loop, err);
	if (drv->tasks == NULL) {
		jtd_plugincfg_free(drv->cfg);
		free(drv);
		return NULL;
	}
	jtd_tasks_set_events(drv->tasks, task_event, drv);
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
	/* Tasks keep running under their supervisors; only forget them. */
	jtd_tasks_free(drv->tasks, NULL, NULL);
	drv->tasks = NULL;
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
	} else if (jtd_tasks_configure(drv->tasks, drv->cfg,
	    req->nomad_config != NULL, &err) != 0) {
		/*
		 * Only the long-lived instance (the one given nomad_config)
		 * sweeps leftovers; validation instances start no tasks.
		 */
		jtd_err_wrap(&err, "plugin \"%s\" config: state_dir",
		    JTD_PLUGIN_NAME);
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
	/*
	 * HOST: the jail's own Ip4/Vnet settings decide.  GROUP: Nomad
	 * made the allocation's network namespace (bridge, CNI) and the
	 * jail joins it.
	 */
	DRV(NetworkIsolationSpec__NetworkIsolationMode) modes[] = {
		DRV_C(NETWORK_ISOLATION_SPEC__NETWORK_ISOLATION_MODE__HOST),
		DRV_C(NETWORK_ISOLATION_SPEC__NETWORK_ISOLATION_MODE__GROUP),
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

/*
 * A gRPC call waiting on a task operation.  The call pointer is cleared
 * when Nomad cancels the call; the operation's callback then finds no one
 * to answer and only cleans up.
 */
struct pending {
	struct grpc_call *call;
	struct jtd_driver *drv;
	struct jtd_waiter *waiter;	/* WaitTask */
	char *task_id;
};

static struct pending *
pending_new(struct grpc_call *call, const char *task_id)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->call = call;
	p->drv = driver_of(call);
	if (task_id != NULL && (p->task_id = strdup(task_id)) == NULL) {
		free(p);
		return NULL;
	}
	grpc_call_set_data(call, p);
	return p;
}

static void
pending_free(struct pending *p)
{
	free(p->task_id);
	free(p);
}

/* on_cancel of calls answered later. */
static void
pending_cancelled(struct grpc_call *call)
{
	struct pending *p = grpc_call_data(call);

	if (p == NULL)
		return;
	p->call = NULL;
	if (p->waiter != NULL) {
		jtd_task_unwait(p->waiter);
		pending_free(p);
	}
}

/* Detach the call from p before answering it. */
static struct grpc_call *
pending_take(struct pending *p)
{
	struct grpc_call *call = p->call;

	if (call != NULL)
		grpc_call_set_data(call, NULL);
	p->call = NULL;
	return call;
}

/*
 * Decode a request (protobuf-c checks every length and type), or answer
 * INVALID_ARGUMENT and return NULL.
 */
static void *
unpack(struct grpc_call *call, const ProtobufCMessageDescriptor *desc,
    const uint8_t *msg, size_t len)
{
	void *req = protobuf_c_message_unpack(desc, NULL, len, msg);

	if (req == NULL)
		grpc_call_finish(call, JTD_INVALID, "malformed request",
		    NULL, 0);
	return req;
}

static void
fail_not_found(struct grpc_call *call, const char *id)
{
	char text[320];

	snprintf(text, sizeof(text), "task %s not found", id);
	grpc_call_finish(call, JTD_NOT_FOUND, text, NULL, 0);
}

static void
task_event(void *arg, const struct jtd_task *t, const char *message)
{
	struct jtd_driver *drv = arg;
	DRV(DriverTaskEvent) ev = DRV_C(DRIVER_TASK_EVENT__INIT);
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct timespec now;
	struct stream *s;

	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	ev.task_id = (char *)jtd_task_id(t);
	ev.alloc_id = (char *)jtd_task_alloc_id(t);
	ev.task_name = (char *)jtd_task_name(t);
	ev.timestamp = &ts;
	ev.message = (char *)message;
	LIST_FOREACH(s, &drv->event_streams, link)
		jtd_rpc_send(s->call, &ev.base);
}

/* The TaskHandle Nomad stores and hands back in RecoverTask. */
static void
fill_handle(DRV(TaskHandle) *h, const struct jtd_task *t)
{
	size_t len;
	const uint8_t *ds = jtd_task_driver_state(t, &len);

	h->version = 1;
	h->config = (DRV(TaskConfig) *)jtd_task_config(t);
	h->state = jtd_task_state(t) == JTD_TASK_EXITED ?
	    DRV_C(TASK_STATE__EXITED) : DRV_C(TASK_STATE__RUNNING);
	h->driver_state.data = (uint8_t *)ds;
	h->driver_state.len = len;
}

static void
start_done(void *arg, struct jtd_task *t, struct jtd_err *err,
    bool recoverable)
{
	struct pending *p = arg;
	struct grpc_call *call = pending_take(p);
	DRV(StartTaskResponse) resp = DRV_C(START_TASK_RESPONSE__INIT);
	DRV(TaskHandle) handle = DRV_C(TASK_HANDLE__INIT);

	if (err != NULL) {
		if (call != NULL)
			jtd_rpc_fail(call, &err, recoverable);
		jtd_err_clear(&err);
	} else if (call == NULL) {
		/*
		 * Nomad gave up on this start and will retry under a new id:
		 * a task it cannot know of must not linger.
		 */
		jtd_task_destroy(t, true, NULL, NULL);
	} else {
		fill_handle(&handle, t);
		resp.handle = &handle;
		jtd_rpc_reply(call, &resp.base);
	}
	pending_free(p);
}

static void
start_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(StartTaskRequest) *req;
	DRV(TaskConfig) *tc;
	struct jtd_taskcfg *cfg;
	struct jtd_err *err = NULL;
	struct pending *p;
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

	if (!jtd_plugincfg_enabled(drv->cfg)) {
		grpc_call_finish(call, JTD_PRECONDITION, "jail-task-driver is "
		    "disabled by its plugin config (enabled = false)", NULL, 0);
		goto out;
	}
	cfg = jtd_taskcfg_decode_msgpack(tc->msgpack_driver_config.data,
	    tc->msgpack_driver_config.len, &err);
	if (cfg == NULL) {
		jtd_err_wrap(&err, "task %s: invalid config", tc->name);
		jtd_logkv(JTD_LOG_WARN, kv, "%s", err->msg);
		jtd_rpc_fail(call, &err, false);
		goto out;
	}
	if (jtd_policy_check_alloc(drv->cfg, cfg, tc->alloc_dir, &err) != 0) {
		jtd_err_wrap(&err, "task %s", tc->name);
		jtd_logkv(JTD_LOG_WARN, kv, "%s", err->msg);
		jtd_rpc_fail(call, &err, false);
		jtd_taskcfg_free(cfg);
		goto out;
	}
	p = pending_new(call, tc->id);
	if (p == NULL) {
		jtd_taskcfg_free(cfg);
		grpc_call_finish(call, JTD_EXHAUSTED, "out of memory", NULL, 0);
		goto out;
	}
	if (jtd_task_start(drv->tasks, tc, cfg, start_done, p, &err) != 0) {
		pending_take(p);
		pending_free(p);
		jtd_err_wrap(&err, "task %s", tc->name);
		jtd_logkv(JTD_LOG_WARN, kv, "%s", err->msg);
		jtd_rpc_fail(call, &err, err->code != JTD_INVALID &&
		    err->code != JTD_DENIED);
	}
out:
	DRV_FN(start_task_request__free_unpacked)(req, NULL);
}

static void
wait_done(void *arg, const struct jtd_exit *e)
{
	struct pending *p = arg;
	struct grpc_call *call = pending_take(p);
	DRV(WaitTaskResponse) resp = DRV_C(WAIT_TASK_RESPONSE__INIT);
	DRV(ExitResult) result = DRV_C(EXIT_RESULT__INIT);

	result.exit_code = e->exit_code;
	result.signal = e->signal;
	result.oom_killed = e->oom_killed;
	resp.result = &result;
	resp.err = (char *)e->err;
	if (call != NULL)
		jtd_rpc_reply(call, &resp.base);
	pending_free(p);
}

static void
wait_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(WaitTaskRequest) *req;
	struct jtd_task *t;
	struct pending *p;

	req = unpack(call, &DRV_FN(wait_task_request__descriptor), msg, len);
	if (req == NULL)
		return;
	t = jtd_tasks_find(drv->tasks, req->task_id);
	if (t == NULL) {
		fail_not_found(call, req->task_id);
	} else if ((p = pending_new(call, NULL)) == NULL) {
		grpc_call_finish(call, JTD_EXHAUSTED, "out of memory", NULL, 0);
	} else {
		struct jtd_waiter *w = jtd_task_wait(t, wait_done, p);

		/* NULL: the task had exited, wait_done ran and freed p. */
		if (w != NULL)
			p->waiter = w;
	}
	DRV_FN(wait_task_request__free_unpacked)(req, NULL);
}

/* Completion of StopTask and DestroyTask. */
static void
empty_done(void *arg, struct jtd_err *err)
{
	struct pending *p = arg;
	struct grpc_call *call = pending_take(p);

	if (call != NULL) {
		if (err != NULL)
			jtd_rpc_fail(call, &err, false);
		else
			grpc_call_reply(call, NULL, 0);
	}
	jtd_err_clear(&err);
	pending_free(p);
}

static void
stop_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(StopTaskRequest) *req;
	struct jtd_task *t;
	struct pending *p;
	uint64_t timeout_ms = 5000;
	int sig = SIGINT;

	req = unpack(call, &DRV_FN(stop_task_request__descriptor), msg, len);
	if (req == NULL)
		return;
	if (req->timeout != NULL && req->timeout->seconds >= 0)
		timeout_ms = (uint64_t)req->timeout->seconds * 1000 +
		    (uint64_t)(req->timeout->nanos > 0 ?
		    req->timeout->nanos / 1000000 : 0);
	/* No kill_signal in the job: SIGINT, as every Go driver does. */
	if (req->signal[0] != '\0' &&
	    (sig = jtd_signal_number(req->signal)) < 0) {
		char text[128];

		snprintf(text, sizeof(text), "kill_signal: unknown signal "
		    "\"%.40s\" (use a name such as SIGTERM or SIGINT)",
		    req->signal);
		grpc_call_finish(call, JTD_INVALID, text, NULL, 0);
	} else if ((t = jtd_tasks_find(drv->tasks, req->task_id)) == NULL) {
		fail_not_found(call, req->task_id);
	} else if ((p = pending_new(call, NULL)) == NULL) {
		grpc_call_finish(call, JTD_EXHAUSTED, "out of memory", NULL, 0);
	} else {
		jtd_task_stop(t, sig, timeout_ms, empty_done, p);
	}
	DRV_FN(stop_task_request__free_unpacked)(req, NULL);
}

static void
destroy_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(DestroyTaskRequest) *req;
	struct jtd_task *t;
	struct pending *p;

	req = unpack(call, &DRV_FN(destroy_task_request__descriptor), msg, len);
	if (req == NULL)
		return;
	t = jtd_tasks_find(drv->tasks, req->task_id);
	if (t == NULL) {
		/* Destroying twice is harmless: the task is gone either way. */
		grpc_call_reply(call, NULL, 0);
	} else if ((p = pending_new(call, NULL)) == NULL) {
		grpc_call_finish(call, JTD_EXHAUSTED, "out of memory", NULL, 0);
	} else {
		jtd_task_destroy(t, req->force, empty_done, p);
	}
	DRV_FN(destroy_task_request__free_unpacked)(req, NULL);
}

static void
set_timestamp(Google__Protobuf__Timestamp *ts, int64_t ns)
{
	ts->seconds = ns / 1000000000;
	ts->nanos = (int32_t)(ns % 1000000000);
}

static void
inspect_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(InspectTaskRequest) *req;
	DRV(InspectTaskResponse) resp = DRV_C(INSPECT_TASK_RESPONSE__INIT);
	DRV(TaskStatus) st = DRV_C(TASK_STATUS__INIT);
	DRV(ExitResult) result = DRV_C(EXIT_RESULT__INIT);
	DRV(TaskDriverStatus) ds = DRV_C(TASK_DRIVER_STATUS__INIT);
	DRV(TaskDriverStatus__AttributesEntry) attr =
	    DRV_C(TASK_DRIVER_STATUS__ATTRIBUTES_ENTRY__INIT), *attrs[1];
	Google__Protobuf__Timestamp started = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	Google__Protobuf__Timestamp ended = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	const struct jtd_exit *e;
	struct jtd_task *t;

	req = unpack(call, &DRV_FN(inspect_task_request__descriptor), msg, len);
	if (req == NULL)
		return;
	t = jtd_tasks_find(drv->tasks, req->task_id);
	if (t == NULL) {
		fail_not_found(call, req->task_id);
		goto out;
	}
	st.id = (char *)jtd_task_id(t);
	st.name = (char *)jtd_task_name(t);
	set_timestamp(&started, jtd_task_started_ns(t));
	st.started_at = &started;
	/* Nomad dereferences all three, even for a running task. */
	st.completed_at = &ended;
	st.result = &result;
	e = jtd_task_exit(t);
	st.state = e != NULL ? DRV_C(TASK_STATE__EXITED) :
	    jtd_task_state(t) == JTD_TASK_RUNNING ?
	    DRV_C(TASK_STATE__RUNNING) : DRV_C(TASK_STATE__UNKNOWN);
	if (e != NULL) {
		set_timestamp(&ended, e->ended_ns);
		result.exit_code = e->exit_code;
		result.signal = e->signal;
		result.oom_killed = e->oom_killed;
	}
	attr.key = "jail";
	attr.value = (char *)jtd_task_jail_name(t);
	attrs[0] = &attr;
	ds.n_attributes = 1;
	ds.attributes = attrs;
	resp.task = &st;
	resp.driver = &ds;
	jtd_rpc_reply(call, &resp.base);
out:
	DRV_FN(inspect_task_request__free_unpacked)(req, NULL);
}

static void
signal_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(SignalTaskRequest) *req;
	struct jtd_err *err = NULL;
	struct jtd_task *t;
	int sig;

	req = unpack(call, &DRV_FN(signal_task_request__descriptor), msg, len);
	if (req == NULL)
		return;
	if ((t = jtd_tasks_find(drv->tasks, req->task_id)) == NULL) {
		fail_not_found(call, req->task_id);
	} else if ((sig = jtd_signal_number(req->signal)) < 0) {
		char text[128];

		snprintf(text, sizeof(text), "signal: unknown signal "
		    "\"%.40s\" (use a name such as SIGHUP or SIGUSR1)",
		    req->signal);
		grpc_call_finish(call, JTD_INVALID, text, NULL, 0);
	} else if (jtd_task_signal(t, sig, &err) != 0) {
		jtd_rpc_fail(call, &err, false);
	} else {
		grpc_call_reply(call, NULL, 0);
	}
	DRV_FN(signal_task_request__free_unpacked)(req, NULL);
}

static void
recover_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(RecoverTaskRequest) *req;
	struct jtd_err *err = NULL;

	req = DRV_FN(recover_task_request__unpack)(NULL, len, msg);
	if (req == NULL) {
		grpc_call_finish(call, JTD_INVALID,
		    "malformed RecoverTaskRequest", NULL, 0);
		return;
	}
	if (req->handle == NULL || req->handle->config == NULL) {
		grpc_call_finish(call, JTD_INVALID,
		    "cannot recover: the task handle has no task config",
		    NULL, 0);
	} else if (jtd_task_recover(drv->tasks, req->handle->config,
	    req->handle->driver_state.data, req->handle->driver_state.len,
	    &err) != 0) {
		jtd_rpc_fail(call, &err, false);
	} else {
		DRV(RecoverTaskResponse) resp =
		    DRV_C(RECOVER_TASK_RESPONSE__INIT);

		jtd_rpc_reply(call, &resp.base);
	}
	DRV_FN(recover_task_request__free_unpacked)(req, NULL);
}

/* One TaskStats stream: a sample per collection interval. */
struct stats_stream {
	struct grpc_call *call;
	struct jtd_driver *drv;
	char *task_id;
	uv_timer_t timer;
	uint64_t last_cpu_ns, last_wall_ns;
};

static void
stats_closed(uv_handle_t *h)
{
	struct stats_stream *s = h->data;

	free(s->task_id);
	free(s);
}

static void
stats_end(struct stats_stream *s, int code, const char *text)
{
	uv_timer_stop(&s->timer);
	if (s->call != NULL) {
		grpc_call_set_data(s->call, NULL);
		grpc_call_finish(s->call, code, text, NULL, 0);
		s->call = NULL;
	}
	uv_close((uv_handle_t *)&s->timer, stats_closed);
}

static void
stats_cancelled(struct grpc_call *call)
{
	struct stats_stream *s = grpc_call_data(call);

	if (s == NULL)
		return;
	s->call = NULL;
	stats_end(s, 0, NULL);
}

static void
stats_tick(uv_timer_t *timer)
{
	struct stats_stream *s = timer->data;
	struct jtd_task *t = jtd_tasks_find(s->drv->tasks, s->task_id);
	DRV(TaskStatsResponse) resp = DRV_C(TASK_STATS_RESPONSE__INIT);
	DRV(TaskStats) st = DRV_C(TASK_STATS__INIT);
	DRV(TaskResourceUsage) usage = DRV_C(TASK_RESOURCE_USAGE__INIT);
	DRV(CPUUsage) cpu = DRV_C(CPUUSAGE__INIT);
	DRV(MemoryUsage) mem = DRV_C(MEMORY_USAGE__INIT);
	DRV(CPUUsage__Fields) cf[6];
	DRV(MemoryUsage__Fields) mf[6];
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct jtd_stats js;
	struct jtd_err *err = NULL;
	struct timespec now;
	uint64_t wall;

	if (t == NULL || jtd_task_state(t) == JTD_TASK_EXITED) {
		/* The task is gone: the stream ends, Nomad stops asking. */
		stats_end(s, 0, NULL);
		return;
	}
	memset(&js, 0, sizeof(js));
	if (jtd_backend_stats(jtd_task_jail(t), &js, &err) != 0)
		jtd_err_clear(&err);
	clock_gettime(CLOCK_REALTIME, &now);
	wall = (uint64_t)now.tv_sec * 1000000000 + (uint64_t)now.tv_nsec;
	set_timestamp(&ts, (int64_t)wall);
	if (js.measured & JTD_STAT_RSS) {
		mem.rss = js.rss;
		mf[mem.n_measured_fields++] = DRV_C(MEMORY_USAGE__FIELDS__RSS);
	}
	if (js.measured & JTD_STAT_CACHE) {
		mem.cache = js.cache;
		mf[mem.n_measured_fields++] = DRV_C(MEMORY_USAGE__FIELDS__CACHE);
	}
	if (js.measured & JTD_STAT_SWAP) {
		mem.swap = js.swap;
		mf[mem.n_measured_fields++] = DRV_C(MEMORY_USAGE__FIELDS__SWAP);
	}
	if (js.measured & JTD_STAT_USAGE) {
		mem.usage = js.usage;
		mf[mem.n_measured_fields++] = DRV_C(MEMORY_USAGE__FIELDS__USAGE);
	}
	if (js.measured & JTD_STAT_MAX_USAGE) {
		mem.max_usage = js.max_usage;
		mf[mem.n_measured_fields++] =
		    DRV_C(MEMORY_USAGE__FIELDS__MAX_USAGE);
	}
	mem.measured_fields = mf;
	if (js.measured & JTD_STAT_CPU_USER) {
		cpu.user_mode = (double)js.cpu_user_ns / 1e6;
		cf[cpu.n_measured_fields++] = DRV_C(CPUUSAGE__FIELDS__USER_MODE);
	}
	if (js.measured & JTD_STAT_CPU_SYSTEM) {
		cpu.system_mode = (double)js.cpu_system_ns / 1e6;
		cf[cpu.n_measured_fields++] =
		    DRV_C(CPUUSAGE__FIELDS__SYSTEM_MODE);
	}
	if (js.measured & JTD_STAT_CPU_TOTAL) {
		/* Percent of one core since the previous sample. */
		if (s->last_wall_ns != 0 && wall > s->last_wall_ns &&
		    js.cpu_total_ns >= s->last_cpu_ns)
			cpu.percent = 100.0 *
			    (double)(js.cpu_total_ns - s->last_cpu_ns) /
			    (double)(wall - s->last_wall_ns);
		s->last_cpu_ns = js.cpu_total_ns;
		s->last_wall_ns = wall;
		cf[cpu.n_measured_fields++] = DRV_C(CPUUSAGE__FIELDS__PERCENT);
	}
	if (js.measured & JTD_STAT_THROTTLE) {
		cpu.throttled_periods = js.throttled_periods;
		cpu.throttled_time = js.throttled_ns;
		cf[cpu.n_measured_fields++] =
		    DRV_C(CPUUSAGE__FIELDS__THROTTLED_PERIODS);
		cf[cpu.n_measured_fields++] =
		    DRV_C(CPUUSAGE__FIELDS__THROTTLED_TIME);
	}
	cpu.measured_fields = cf;
	usage.cpu = &cpu;
	usage.memory = &mem;
	st.id = s->task_id;
	st.timestamp = &ts;
	st.agg_resource_usage = &usage;
	resp.stats = &st;
	jtd_rpc_send(s->call, &resp.base);
}

static void
task_stats(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(TaskStatsRequest) *req;
	struct stats_stream *s;
	uint64_t interval = 1000;

	req = unpack(call, &DRV_FN(task_stats_request__descriptor), msg, len);
	if (req == NULL)
		return;
	if (jtd_tasks_find(drv->tasks, req->task_id) == NULL) {
		fail_not_found(call, req->task_id);
		goto out;
	}
	if (req->collection_interval != NULL) {
		interval = (uint64_t)req->collection_interval->seconds * 1000 +
		    (uint64_t)(req->collection_interval->nanos / 1000000);
		if (interval < 100)
			interval = 100;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->task_id = strdup(req->task_id)) == NULL) {
		free(s);
		grpc_call_finish(call, JTD_EXHAUSTED, "out of memory", NULL, 0);
		goto out;
	}
	s->call = call;
	s->drv = drv;
	grpc_call_set_data(call, s);
	uv_timer_init(drv->loop, &s->timer);
	s->timer.data = s;
	uv_timer_start(&s->timer, stats_tick, 0, interval);
out:
	DRV_FN(task_stats_request__free_unpacked)(req, NULL);
}

static void
exec_task(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(ExecTaskRequest) *req;
	struct jtd_task *t;

	req = unpack(call, &DRV_FN(exec_task_request__descriptor), msg, len);
	if (req == NULL)
		return;
	t = jtd_tasks_find(drv->tasks, req->task_id);
	if (t == NULL)
		fail_not_found(call, req->task_id);
	else if (jtd_task_state(t) != JTD_TASK_RUNNING)
		grpc_call_finish(call, JTD_PRECONDITION, "task is not running",
		    NULL, 0);
	else
		jtd_exec_task(call, drv->loop, jtd_task_jail(t),
		    jtd_task_dir(t), req);
	DRV_FN(exec_task_request__free_unpacked)(req, NULL);
}

static void
exec_streaming(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	struct jtd_driver *drv = driver_of(call);
	DRV(ExecTaskStreamingRequest) *req;

	/* Only the first message matters until exec lands. */
	if (grpc_call_data(call) != NULL)
		return;
	grpc_call_set_data(call, call);
	req = DRV_FN(exec_task_streaming_request__unpack)(NULL, len, msg);
	if (req == NULL || req->setup == NULL) {
		grpc_call_finish(call, JTD_INVALID,
		    "exec stream must start with a setup message", NULL, 0);
	} else if (jtd_tasks_find(drv->tasks, req->setup->task_id) == NULL) {
		fail_not_found(call, req->setup->task_id);
	} else {
		grpc_call_finish(call, JTD_UNIMPLEMENTED, "interactive exec "
		    "into a task is not available in this build", NULL, 0);
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
	{ DRV_PATH "StartTask", GRPC_UNARY, start_task, NULL,
	    pending_cancelled },
	{ DRV_PATH "RecoverTask", GRPC_UNARY, recover_task, NULL, NULL },
	{ DRV_PATH "WaitTask", GRPC_UNARY, wait_task, NULL,
	    pending_cancelled },
	{ DRV_PATH "StopTask", GRPC_UNARY, stop_task, NULL,
	    pending_cancelled },
	{ DRV_PATH "DestroyTask", GRPC_UNARY, destroy_task, NULL,
	    pending_cancelled },
	{ DRV_PATH "InspectTask", GRPC_UNARY, inspect_task, NULL, NULL },
	{ DRV_PATH "TaskStats", GRPC_SERVER_STREAM, task_stats, NULL,
	    stats_cancelled },
	{ DRV_PATH "SignalTask", GRPC_UNARY, signal_task, NULL, NULL },
	{ DRV_PATH "ExecTask", GRPC_UNARY, exec_task, NULL,
	    jtd_exec_cancelled },
	{ DRV_PATH "ExecTaskStreaming", GRPC_BIDI, exec_streaming, NULL,
	    NULL },
	{ DRV_PATH "CreateNetwork", GRPC_UNARY, no_networks, NULL, NULL },
	{ DRV_PATH "DestroyNetwork", GRPC_UNARY, no_networks, NULL, NULL },
};

const size_t jtd_driver_n_methods =
    sizeof(jtd_driver_methods) / sizeof(jtd_driver_methods[0]);
