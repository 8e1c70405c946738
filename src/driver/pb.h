/*
 * Short spellings for the protobuf-c names generated from our protos,
 * which otherwise run past any reasonable line width.
 */
#ifndef JTD_DRIVER_PB_H
#define JTD_DRIVER_PB_H

#include "base.pb-c.h"
#include "driver.pb-c.h"
#include "hclspec.pb-c.h"
#include "structs.pb-c.h"

/* Types, functions and constants of hashicorp.nomad.plugins.drivers.proto */
#define DRV(x) Hashicorp__Nomad__Plugins__Drivers__Proto__##x
#define DRV_FN(x) hashicorp__nomad__plugins__drivers__proto__##x
#define DRV_C(x) HASHICORP__NOMAD__PLUGINS__DRIVERS__PROTO__##x

/* ... of hashicorp.nomad.plugins.base.proto */
#define BASE(x) Hashicorp__Nomad__Plugins__Base__Proto__##x
#define BASE_FN(x) hashicorp__nomad__plugins__base__proto__##x
#define BASE_C(x) HASHICORP__NOMAD__PLUGINS__BASE__PROTO__##x

/* ... of hashicorp.nomad.plugins.shared.structs */
#define SHR(x) Hashicorp__Nomad__Plugins__Shared__Structs__##x
#define SHR_C(x) HASHICORP__NOMAD__PLUGINS__SHARED__STRUCTS__##x

typedef Hashicorp__Nomad__Plugins__Shared__Hclspec__Spec jtd_hclspec;

#endif
