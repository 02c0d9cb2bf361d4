#include <string.h>

#include "stats.h"

const char *const shard_stat_names[SHARD_STAT_MAX] = {
#define SHARD_STAT_NAME(name, help) [SHARD_STAT_##name] = #name,
	SHARD_STATS(SHARD_STAT_NAME)
#undef SHARD_STAT_NAME
};

const char *const shard_stat_help[SHARD_STAT_MAX] = {
#define SHARD_STAT_HELP(name, help) [SHARD_STAT_##name] = help,
	SHARD_STATS(SHARD_STAT_HELP)
#undef SHARD_STAT_HELP
};

int
shard_stat_index(const char *name)
{
	for (int i = 0; i < SHARD_STAT_MAX; i++)
		if (strcmp(shard_stat_names[i], name) == 0)
			return i;
	return -1;
}
