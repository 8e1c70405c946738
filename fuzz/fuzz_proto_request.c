/*
 * Every request message the plugin unpacks from the Nomad client, fed
 * the same arbitrary bytes: protobuf-c must reject or accept them without
 * reading out of bounds or leaking.  Accepted messages are packed again,
 * which walks every decoded field.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base.pb-c.h"
#include "driver.pb-c.h"
#include "goplugin.pb-c.h"
#include "health.pb-c.h"

#define D(x) hashicorp__nomad__plugins__drivers__proto__##x##__descriptor
#define B(x) hashicorp__nomad__plugins__base__proto__##x##__descriptor

static const ProtobufCMessageDescriptor *const requests[] = {
	&B(set_config_request),
	&D(start_task_request),
	&D(recover_task_request),
	&D(wait_task_request),
	&D(stop_task_request),
	&D(destroy_task_request),
	&D(inspect_task_request),
	&D(task_stats_request),
	&D(signal_task_request),
	&D(exec_task_request),
	&D(exec_task_streaming_request),
	&D(create_network_request),
	&D(destroy_network_request),
	&grpc__health__v1__health_check_request__descriptor,
	&plugin__conn_info__descriptor,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		ProtobufCMessage *m;
		uint8_t *out;
		size_t n;

		m = protobuf_c_message_unpack(requests[i], NULL, size, data);
		if (m == NULL)
			continue;
		n = protobuf_c_message_get_packed_size(m);
		out = malloc(n + 1);
		if (out != NULL)
			protobuf_c_message_pack(m, out);
		free(out);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return 0;
}
