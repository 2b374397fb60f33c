/* ISO 8601 times in UTC (see timefmt.h). */
#include <stdio.h>

#include "timefmt.h"

void timefmt_iso(time_t t, char out[TIMEFMT_ISO_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, TIMEFMT_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, TIMEFMT_ISO_LEN, "%lld", (long long)t);
}
