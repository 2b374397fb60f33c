/*
 * Times for people and scripts: one ISO 8601 form in UTC,
 * "2024-05-01T12:00:00Z", for the cache listing and certificate validity.
 */
#ifndef APITOKEN_TIMEFMT_H
#define APITOKEN_TIMEFMT_H

#include <time.h>

#define TIMEFMT_ISO_LEN 32

/*
 * t as "YYYY-MM-DDTHH:MM:SSZ" in UTC; as the plain number of seconds when
 * the C library cannot express it (a year past its range), so that the
 * output always says something true.
 */
void timefmt_iso(time_t t, char out[TIMEFMT_ISO_LEN]);

#endif
