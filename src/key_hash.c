/*
 * key_hash - the seeded hash of a (map id, key) pair (see key_hash.h)
 */
#include "key_hash.h"

#define FNV_OFFSET	0xcbf29ce484222325ULL	/* FNV-1a 64-bit offset basis */
#define FNV_PRIME	0x100000001b3ULL	/* FNV-1a 64-bit prime */

/* key_hash - seeded FNV-1a over the map id and key, then mixed */
uint64_t key_hash(uint64_t seed, uint32_t map_id, const char *key, size_t len)
{
	uint64_t h = FNV_OFFSET ^ seed;
	size_t i;

	h = (h ^ map_id) * FNV_PRIME;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * FNV_PRIME;
	/* Final avalanche (splitmix64) so the low bits used for buckets mix. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}
